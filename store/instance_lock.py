"""One serving instance per SQLite file: a lock file beside the database, held while it runs.

SQLite has no row locks (`FOR UPDATE SKIP LOCKED` is a no-op there), so two instances on one file
would both sweep and both deliver; several instances need PostgreSQL. `serve`, `slack-socket` and
`nudge run-once` hold this lock; a second one refuses to start. The lock is an OS file lock
(`filelock`: `flock` on POSIX, `LockFileEx` on Windows), so the operating system releases it when
its holder exits however it ends, `kill -9` included: a dead holder's lock is free, and the file
left behind holds nothing.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy.engine import URL, make_url

__all__ = ["InstanceLocked", "instance_lock", "lock_path"]


class InstanceLocked(RuntimeError):
    """Another instance holds the database's lock."""


def lock_path(url: str | URL) -> Path | None:
    """The lock file of a SQLite database file (`<file>.lock`); None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(f"{parsed.database}.lock")


def instance_lock(url: str | URL) -> FileLock | None:
    """Take the database's instance lock, held until `release()` or the process ends.

    None when there is nothing to lock: not a SQLite file, or its folder does not exist (opening
    the database will say so).

    Raises:
        InstanceLocked: another process holds it.
    """
    path = lock_path(url)
    if path is None or not path.parent.is_dir():
        return None
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InstanceLocked(
            f"another instance (hampshire serve, slack-socket or nudge run-once) is using the SQLite "
            f"database {make_url(url).database}: SQLite serves one instance (lock file {path}); stop the "
            "other, or use PostgreSQL for several"
        ) from None
    return lock
