"""Log formats: plain lines or one JSON object a line, never with what a person typed."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging, log_format, make_formatter
from bot.runtime import Runtime
from tests.bot.helpers import report


def test_the_format_comes_from_the_environment_value() -> None:
    assert log_format(None) == log_format("") == log_format("text") == "text"
    assert log_format(" JSON ") == "json"
    with pytest.raises(ValueError, match=r"HAMPSHIRE_LOG_FORMAT must be one of text, json"):
        log_format("xml")


@contextlib.contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger with no handlers (as in a fresh process, not pytest's), restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET}
    root.handlers = []
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = handlers, level
        for name, level_before in quiet.items():
            logging.getLogger(name).setLevel(level_before)


#: Loggers with INFO lines every turn or minute under `serve`, none of them an operator's business.
QUIET = ("apscheduler", "microsoft_agents", "msal")


def test_json_is_one_object_a_line_and_apscheduler_is_quiet() -> None:
    stream = io.StringIO()
    with bare_root():
        configure_logging("json", level=logging.INFO, stream=stream)
        logging.getLogger("bot.test").info("case %s reminded", 42)
        logging.getLogger("apscheduler.executors.default").info('Running job "tick"')
        logging.getLogger("microsoft_agents.hosting.core.app").info("turn processed")
        logging.getLogger("msal.application").info("token acquired")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bot.test").exception("tick failed")
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in records] == [
        ("INFO", "bot.test", "case 42 reminded"),
        ("ERROR", "bot.test", "tick failed"),
    ]
    assert records[0]["time"].endswith("+00:00")
    assert "RuntimeError: boom" in records[1]["exc_info"]


def test_text_is_the_default() -> None:
    stream = io.StringIO()
    with bare_root():
        configure_logging(stream=stream)
        logging.getLogger("bot.test").warning("sweep: nobody to send escalation %s", 7)
        logging.getLogger("bot.test").info("not shown below WARNING")
    [line] = stream.getvalue().splitlines()
    assert line.endswith(" WARNING bot.test: sweep: nobody to send escalation 7")


def test_json_logs_of_a_whole_report_hold_nothing_the_supervisor_typed(sqlite_runtime: Runtime) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("json"))
    root, statements = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    levels = root.level, statements.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # At INFO SQLAlchemy logs every statement, whose parameters are the typed answers.
    statements.setLevel(logging.INFO)
    try:
        report(sqlite_runtime, hospital=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        statements.setLevel(levels[1])
    lines = stream.getvalue().splitlines()
    assert len(lines) > 10
    assert all(json.loads(line)["message"] is not None for line in lines)
    for typed in ("Broad Street", "Bruised ribs", "pc.amy.hart"):
        assert not [line for line in lines if typed in line]
