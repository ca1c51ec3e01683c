"""The command line as a process: what it loads to start, what `serve` says, how it refuses.

Each test runs `hampshire` (as `python -m bot.cli`) in a fresh interpreter, since only there does
`sys.modules` show what a command loads. No test times anything: `bench/startup.py` does.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store.db import make_engine, upgrade

#: Runs the command line on argv, then writes the top-level modules it loaded as stderr's last line.
_LOADED = (
    "import json, sys\n"
    "from bot.cli import main\n"
    "try:\n"
    "    status = main(sys.argv[1:])\n"
    "except SystemExit as stop:\n"
    "    status = stop.code or 0\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    "sys.exit(status)\n"
)
#: What neither `--help` nor the console's first prompt may load.
CHANNEL_SDKS = {"slack_bolt", "slack_sdk", "botbuilder", "botframework", "microsoft_agents", "msrest"}
SERVING = {"aiohttp", "apscheduler"}
MIGRATIONS = {"alembic", "mako"}
#: The directory index's arrays: loaded by the first search, not before.
SEARCH = {"numpy"}
#: Reports' charts, pages and images: loaded by a report, not before.
REPORTS = {"matplotlib", "jinja2", "PIL"}
#: What `--help` has no use for either: the database, the pack's models and its YAML.
DATA = {"sqlalchemy", "pydantic", "yaml", "dateparser", "holidays"}
CHANNEL_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_TEAM_ID",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "MICROSOFT_APP_TENANT_ID",
    "HAMPSHIRE_ALLOW_UNAUTHENTICATED",
    "HAMPSHIRE_PACK",
    "HAMPSHIRE_LOG_FORMAT",
)
ROOT = Path(__file__).resolve().parents[2]


def _environment(**extra: str) -> dict[str, str]:
    """This environment without any channel configured, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARIABLES}
    return {**env, **extra}


def _loaded(*argv: str, stdin: str = "", **env: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _LOADED, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=_environment(**env),
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    *said, modules = done.stderr.splitlines()
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout, "\n".join(said)), set(
        json.loads(modules)
    )


def test_help_loads_no_sdk_no_database_and_no_pack_code() -> None:
    done, modules = _loaded("--help")
    assert done.returncode == 0 and "usage: hampshire" in done.stdout
    assert modules & (CHANNEL_SDKS | SERVING | MIGRATIONS | SEARCH | DATA | REPORTS) == set()


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine: Engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


def test_the_consoles_first_prompt_needs_no_channel_sdk_and_no_migrations_at_head(migrated: str) -> None:
    done, modules = _loaded("chat", "--as", "pc.amy.hart@example.police.uk", "--db", migrated)
    assert done.returncode == 0, done.stderr
    assert "[1] " in done.stdout
    assert modules & (CHANNEL_SDKS | SERVING | MIGRATIONS | SEARCH | REPORTS) == set()


def test_a_database_behind_head_is_migrated_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    done, modules = _loaded("chat", "--as", "pc.amy.hart@example.police.uk", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "alembic" in modules and "[1] " in done.stdout


def _run(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`hampshire ARGV` as a process, in this environment without channels, plus `env`."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        env=_environment(**env),
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def test_a_command_that_cannot_start_prints_one_line_and_no_traceback() -> None:
    done = _run("directory", "search", "federation", "--db", "not a url")
    assert done.returncode == 2
    assert done.stdout == ""
    assert (
        done.stderr == "hampshire: --db is not a database URL (e.g. postgresql+psycopg://bot@db/hampshire, "
        "sqlite:////var/lib/hampshire/bot.db)\n"
    )


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """`hampshire pack check --mermaid | head -1`: no BrokenPipeError traceback, as a shell would show."""
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m bot.cli pack check --mermaid | head -1"],
        capture_output=True,
        text=True,
        env=_environment(),
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.stdout.startswith("%% ") and done.stdout.count("\n") == 1
    assert done.stderr == ""
    assert done.returncode in (0, 141)  # 0 when every line fitted in the pipe before head left


def test_writing_to_a_pipe_whose_reader_has_gone_is_status_141_and_no_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "pack", "check", "--mermaid"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=_environment(),
            cwd=ROOT,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


# --- serve -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _post(url: str) -> tuple[int, object]:
    request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_logs_json_its_address_and_each_channels_state_and_off_channels_answer_503(
    migrated: str,
) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            migrated,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(HAMPSHIRE_LOG_FORMAT="json"),
        cwd=ROOT,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert server.stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stderr or ()], daemon=True)
    reader.start()
    said: list[str] = []
    try:
        # The "listening" line is written once the socket is bound (a handshake, not a delay).
        while not any("listening on" in line for line in said):
            said.append(lines.get(timeout=120))
        assert _post(f"http://127.0.0.1:{port}/slack/events") == (
            503,
            {"error": "Slack is off on this server: SLACK_BOT_TOKEN is not set"},
        )
        assert _post(f"http://127.0.0.1:{port}/api/messages") == (
            503,
            {"error": "Microsoft Teams is off on this server: MICROSOFT_APP_ID is not set"},
        )
    finally:
        server.terminate()
        stopped = server.wait(timeout=60)
    assert stopped == 0  # SIGTERM is a clean stop
    reader.join(timeout=60)
    while not lines.empty():
        said.append(lines.get())
    records = [json.loads(line) for line in said]
    assert all(set(record) >= {"time", "level", "logger", "message"} for record in records)
    messages = [record["message"] for record in records]
    assert (
        f"listening on http://127.0.0.1:{port}: POST /slack/events, POST /api/messages, GET /healthz"
        in messages
    )
    assert any(m.startswith("Slack is off: SLACK_BOT_TOKEN is not set") for m in messages)
    assert any(m.startswith("Microsoft Teams is off: MICROSOFT_APP_ID is not set") for m in messages)
    assert [r for r in records if r["logger"].startswith("apscheduler") and r["level"] == "INFO"] == []


def test_a_second_instance_on_one_sqlite_file_refuses_until_the_first_is_killed(migrated: str) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--db", migrated],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
        cwd=ROOT,
    )
    try:
        assert server.stderr is not None
        # The "listening" line comes once the lock is held and the socket bound (a handshake).
        while "listening on" not in (line := server.stderr.readline()):
            assert line, "serve ended before listening"
        for command in (["serve", "--host", "127.0.0.1", "--port", "0"], ["nudge", "run-once"]):
            refused = _run(*command, "--db", migrated)
            assert refused.returncode == 2 and refused.stdout == ""
            assert (
                refused.stderr.startswith("hampshire: another instance") and refused.stderr.count("\n") == 1
            )
            assert "SQLite serves one instance" in refused.stderr
        os.kill(server.pid, 9)
        assert server.wait(timeout=60) == -9
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=60)
    again = _run("nudge", "run-once", "--db", migrated)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("sweep: 0 points due")


def test_teams_without_authentication_refuses_a_database_server() -> None:
    refused = _run(
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--db",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        HAMPSHIRE_ALLOW_UNAUTHENTICATED="1",
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("hampshire: not starting: HAMPSHIRE_ALLOW_UNAUTHENTICATED serves Teams")
    assert "only with a local SQLite database (not postgresql)" in refused.stderr


def test_a_report_loads_its_charts_and_templates_when_it_runs(migrated: str, tmp_path: Path) -> None:
    done, modules = _loaded("report", "compliance", "--db", migrated, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert {"matplotlib", "jinja2"} <= modules
    assert modules & (CHANNEL_SDKS | SERVING) == set()


def test_slack_socket_serves_a_conversation_as_a_process_and_stops_on_interrupt(migrated: str) -> None:
    """`hampshire slack-socket` as a process, with Slack's Web API and Socket Mode endpoint mocked
    on loopback: a DM is acknowledged and answered; ^C ends it cleanly (tests/bot/test_cli.py: the
    loop it runs on)."""
    from tests.slack_mock import APP_TOKEN, BOT_TOKEN, TEAM, LoopThread, MockSlack, reply_keys

    sergeant = "U0SGTKAUR"
    loop = LoopThread()
    mock = MockSlack()
    mock.add_user(sergeant, "sgt.ravi.kaur@example.police.uk")
    url = loop.run(mock.start())
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "slack-socket", "--db", migrated],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_TEAM_ID=TEAM, SLACK_API_URL=url
        ),
        cwd=ROOT,
    )
    try:
        event = {
            "type": "message",
            "text": "report assault",
            "user": sergeant,
            "ts": "1795000000.000001",
            "team": TEAM,
            "channel": f"D{sergeant}",
            "event_ts": "1795000000.000001",
            "channel_type": "im",
        }
        envelope = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev0SOCKET1", "event": event}
        # The process opens its Socket Mode connection once it has started (a handshake).
        loop.run(asyncio.wait_for(mock.socket_ready.wait(), 120), timeout=130)
        envelope_id = loop.run(mock.push(envelope))

        def answered() -> bool:
            acknowledged = {"envelope_id": envelope_id} in mock.socket_acks
            return acknowledged and bool(mock.calls_to("chat.postMessage"))

        loop.run(mock.until(answered, guard=60), timeout=90)
        [reply] = [call.args for call in mock.calls_to("chat.postMessage")]
        assert reply["channel"] == sergeant
        assert reply_keys(reply["blocks"]) == ["strings.report_intro", "strings.ask_victim_email"]
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=60)
        loop.run(mock.stop())
        loop.close()
