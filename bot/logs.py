"""Where and how the bot's log records are written: plain lines, or JSON for a force's log platform.

`HAMPSHIRE_LOG_FORMAT=json` writes one JSON object a line (python-json-logger) with the same
content as a plain line: time, level, logger, message and any exception. Either way a record holds
only what its call site put in it, and the bot's call sites log ids and kinds, never what anyone
typed (the texts are in `bot.messages`).
"""

from __future__ import annotations

import logging
from typing import Literal, TextIO, cast, get_args

__all__ = ["LOG_FORMAT_VARIABLE", "LogFormat", "configure_logging", "log_format", "make_formatter"]

LogFormat = Literal["text", "json"]
#: The environment variable that chooses the format.
LOG_FORMAT_VARIABLE = "HAMPSHIRE_LOG_FORMAT"
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Loggers whose INFO lines say nothing an operator needs: APScheduler's "Running job" and
#: "executed successfully" every minute would bury the lines that matter.
_QUIET = ("apscheduler", "microsoft_agents", "msal")


def log_format(value: str | None) -> LogFormat:
    """The format an environment value names (unset or empty: text).

    Raises:
        ValueError: a value that names no format, with the ones there are.
    """
    chosen = (value or "").strip().lower() or "text"
    if chosen not in get_args(LogFormat):
        raise ValueError(f"{LOG_FORMAT_VARIABLE} must be one of {', '.join(get_args(LogFormat))}")
    return cast(LogFormat, chosen)


def make_formatter(kind: LogFormat) -> logging.Formatter:
    """A formatter writing records as plain lines or as one JSON object each."""
    if kind == "json":
        # Imported only here: most runs write plain lines.
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    return logging.Formatter(_TEXT)


def configure_logging(
    kind: LogFormat = "text", *, level: int = logging.WARNING, stream: TextIO | None = None
) -> None:
    """Send the root logger's records to `stream` (standard error by default) in `kind`'s format.

    Leaves a root logger that already has handlers (a test runner's, an embedding application's)
    as it is, apart from its level.
    """
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter(kind))
    logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger().setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
