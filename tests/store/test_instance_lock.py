"""One serving instance per SQLite file: the second is refused; a holder killed with -9 frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from store.instance_lock import InstanceLocked, instance_lock, lock_path

#: Takes the lock on argv[1], says so, then waits (bounded) to be killed.
_HOLDER = (
    "import sys, time\n"
    "from store.instance_lock import instance_lock\n"
    "lock = instance_lock(sys.argv[1])\n"
    "print('held' if lock else 'none', flush=True)\n"
    "sys.stdin.read()\n"  # until the test closes it, or kills this process
)
ROOT = Path(__file__).resolve().parents[2]


def test_only_a_sqlite_file_has_a_lock(tmp_path: Path) -> None:
    assert lock_path(f"sqlite:///{tmp_path / 'bot.db'}") == tmp_path / "bot.db.lock"
    assert lock_path("sqlite://") is None
    assert lock_path("sqlite:///:memory:") is None
    assert lock_path("postgresql+psycopg://bot@127.0.0.1/hampshire") is None
    assert instance_lock("postgresql+psycopg://bot@127.0.0.1/hampshire") is None
    assert instance_lock("sqlite:////nowhere/at/all/bot.db") is None  # opening it will say why


def test_a_second_holder_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = instance_lock(url)
    assert first is not None
    with pytest.raises(InstanceLocked, match="SQLite serves one instance"):
        instance_lock(url)
    first.release()
    second = instance_lock(url)
    assert second is not None
    second.release()


def test_a_holder_killed_with_sigkill_leaves_the_lock_free(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"  # a handshake: the lock is taken
        with pytest.raises(InstanceLocked):
            instance_lock(url)
        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(timeout=60) == -signal.SIGKILL
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=60)
    assert (tmp_path / "bot.db.lock").exists()  # left behind, and holding nothing
    lock = instance_lock(url)
    assert lock is not None
    lock.release()
