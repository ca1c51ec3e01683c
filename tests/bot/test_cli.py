"""The `hampshire` command line: pack, directory and database commands, help, and refusing to start."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.cli import build_parser, main
from dialogs import directory
from dialogs.directory import rank
from dialogs.loader import bundled_pack_dir, load_pack
from dialogs.schema import Pack
from store import replies
from store.db import make_engine, upgrade
from store.models import QueuedReply


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HAMPSHIRE_DATABASE_URL", url)
    return url


def test_pack_check_passes_on_the_bundled_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "check"]) == 0
    assert "no problems" in capsys.readouterr().out


def test_pack_check_fails_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    for name in ("pack", "strings", "plan", "directory"):
        (folder / f"{name}.yaml").write_text((bundled_pack_dir() / f"{name}.yaml").read_text())
    (folder / "flows").mkdir()
    (folder / "flows" / "x.yaml").write_text(
        "id: report_assault\ntitle: strings.menu\nsteps:\n  - id: a\n    say: strings.nope\n"
    )
    assert main(["pack", "check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "pack/flows/x.yaml:5: unknown string key 'strings.nope'" in out


def test_pack_check_draws_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "check", "--mermaid"]) == 0
    assert capsys.readouterr().out.count("flowchart TD") == len(load_pack().flows)


def test_pack_schema_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Pack"


def test_db_upgrade(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_directory_search_and_check(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["directory", "search", "fed"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("West Midlands Police Federation")
    assert main(["directory", "check"]) == 0
    out = capsys.readouterr().out
    for key in ("enable_network", "sikh_association", "victim_support", "chaplaincy"):
        assert f"{key}:" in out
    assert "4 of 17 entries have unverified contacts" in out


def test_directory_search_takes_the_bots_search_path(
    database: str, pack: Pack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    categories = {c.id: [c.label, *c.synonyms] for c in pack.directory.categories}
    names = {e.key: e.name for e in pack.directory.entries}
    queries = ["polce federaton", "talk to someone", "trade union", "hospital payment"]
    expected = {q: [names[r.key] for r in rank(q, iter(pack.directory.entries), categories)] for q in queries}

    def one_at_a_time(*args: object) -> None:
        raise AssertionError("the CLI scored the entries one at a time")

    monkeypatch.setattr(directory, "score", one_at_a_time)
    for query in queries:
        assert main(["directory", "search", *query.split()]) == 0
        printed = [
            line.split("  [")[0] for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")
        ]
        assert printed == expected[query] and printed, query


def test_directory_import_and_export_round_trip(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "more.yaml"
    new.write_text(
        yaml.safe_dump(
            {
                "entries": [
                    {
                        "key": "peer_support",
                        "name": "Peer support network",
                        "category": "wellbeing",
                        "description": "Trained colleagues who have been through it.",
                        "email": "peers @example.police.uk",
                        "phone": "0121 496 0000",
                        "for_whom": "Everyone",
                        "synonyms": ["peer"],
                        "source": "Force intranet",
                    }
                ]
            }
        )
    )
    assert main(["directory", "import", str(new)]) == 0
    assert "imported 1 entries" in capsys.readouterr().out
    assert main(["directory", "export"]) == 0
    exported = yaml.safe_load(capsys.readouterr().out)["entries"]
    peer = next(e for e in exported if e["key"] == "peer_support")
    assert peer["email"] == "peers @example.police.uk" and "email" in peer["flags"]
    assert main(["directory", "search", "peer"]) == 0
    assert "NOT VERIFIED" in capsys.readouterr().out


def test_directory_import_rejects_bad_entries(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            [
                {
                    "key": "x",
                    "name": "X",
                    "category": "nowhere",
                    "description": "d",
                    "for_whom": "all",
                    "source": "s",
                },
                {"name": "no key"},
            ]
        )
    )
    assert main(["directory", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown category 'nowhere'" in err and "entry 1: key" in err


def test_nudge_run_once_at_a_given_time(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nudge", "run-once", "--now", "2026-11-24T09:00:00+00:00"]) == 0
    assert "sweep: 0 points due" in capsys.readouterr().out
    assert main(["nudge", "run-once", "--now", "tomorrow"]) == 2
    assert main(["nudge", "run-once", "--now", "2026-11-24T09:00:00"]) == 2
    assert "time zone" in capsys.readouterr().err


def test_people_roles(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["people", "add", "supt.lou.grant@example.police.uk", "--role", "slt", "--area", "coventry"])
        == 0
    )
    assert main(["people", "add", "insp.op.lead@example.police.uk", "--role", "spoc"]) == 0
    assert main(["people", "add", "someone@gmail.com", "--role", "slt"]) == 2
    assert (
        main(["people", "add", "insp.kim.doyle@example.police.uk", "--role", "welfare", "--area", "walsall"])
        == 0
    )
    assert main(["people", "add", "insp.ola.fim@example.police.uk", "--role", "fim"]) == 0
    capsys.readouterr()
    assert main(["people", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "slt: supt.lou.grant@example.police.uk (coventry)",
        "spoc: insp.op.lead@example.police.uk (force-wide)",
        "welfare: insp.kim.doyle@example.police.uk (walsall)",
        "fim: insp.ola.fim@example.police.uk (force-wide)",
    ]


SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed documents are not at {SEEDS}")
def test_pack_check_with_the_seeds_checks_the_citations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "check", "--seeds", str(SEEDS)]) == 0
    assert "no problems" in capsys.readouterr().out
    assert main(["pack", "check", "--seeds", str(SEEDS.parent / "nowhere")]) == 1


def test_pack_explain_prints_every_point_with_citation_owner_due_and_default(
    pack: Pack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "explain"]) == 0
    out = capsys.readouterr().out
    plan, visits = out.split("\n\nOPCC visits to victims (seed 004)")
    blocks = plan.split("\n\n")[2:]
    assert visits.count("   Owner: ") == len(pack.visits.steps if pack.visits else {})
    assert [block.splitlines()[0].rsplit("[", 1)[1].rstrip("]") for block in blocks] == [
        p.code for p in pack.plan.points
    ]
    for point, block in zip(pack.plan.points, blocks, strict=True):
        assert block.count("   Cites: seed ") == len(point.cite) > 0
        assert all(citation.quote in block for citation in point.cite)
        assert f"   Owner: {point.owner} (" in block
        assert "   Falls due: " in block and "   Applies to: " in block and "   Reminders: " in block
        assert ("Rule: DEFAULT of the pack: " in block) == (point.default_note is not None)
    senior = blocks[[p.code for p in pack.plan.points].index("senior_review")]
    assert "Falls due: 14 days after the report" in senior


def test_pack_explain_follows_the_pack_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    plan = folder / "plan.yaml"
    plan.write_text(plan.read_text().replace("    due: {days: 14}\n", "    due: {days: 21}\n", 1))
    assert main(["pack", "explain", str(folder), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# West Midlands Police: the plan")
    assert "## Case reviewed by local senior managers (`senior_review`)" in out
    assert "- **Falls due:** 21 days after the report" in out


def test_pack_explain_refuses_a_broken_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "explain", str(tmp_path)]) == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "missing: a pack needs plan.yaml" in shown.err


def test_an_unusable_setting_is_one_line_naming_the_variable(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_ALLOW_UNAUTHENTICATED", "perhaps")
    assert main(["directory", "search", "fed"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HAMPSHIRE_ALLOW_UNAUTHENTICATED" in err and "perhaps" not in err


# --- conventions -----------------------------------------------------------------------------------


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("hampshire",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under `parser` with its command words, checking each command has a help line."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            lines = {choice.dest: choice.help for choice in action._choices_actions}
            for name, command in action.choices.items():
                assert lines.get(name), f"{' '.join(path)} {name} has no help line"
                yield from _parsers(command, (*path, name))


def test_every_command_and_option_has_a_help_line_and_shows_its_default() -> None:
    parsers = dict(_parsers(build_parser()))
    assert ("hampshire", "people", "add") in parsers and ("hampshire", "nudge", "run-once") in parsers
    for path, parser in parsers.items():
        shown = " ".join(parser.format_help().split())
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{' '.join(path)}: {action.option_strings or action.dest} has no help"
            if action.default not in (None, False, argparse.SUPPRESS):
                assert f"(default: {action.default})" in shown, (path, action.dest)
    assert "(default: 3978)" in " ".join(parsers[("hampshire", "serve")].format_help().split())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"hampshire {version('op-hampshire-bot')}\n"


LEADER = "supt.lou.grant@example.police.uk"


def test_people_add_checks_the_area_against_the_packs_areas(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["people", "add", LEADER, "--role", "slt", "--area", "narnia"]) == 2
    shown = capsys.readouterr()
    assert shown.out == "" and shown.err.count("\n") == 1
    assert "'narnia' is not one of the pack's areas: birmingham_east, " in shown.err
    assert shown.err.rstrip().endswith("wolverhampton, force_wide")
    assert main(["people", "list"]) == 0
    assert capsys.readouterr().out == ""

    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    flow = folder / "flows" / "report_assault.yaml"
    walsall = "      - {value: walsall, label: strings.area_walsall}\n"
    flow.write_text(
        flow.read_text().replace(walsall, walsall + walsall.replace("value: walsall", "value: kenilworth"))
    )
    monkeypatch.setenv("HAMPSHIRE_PACK", str(folder))
    assert main(["people", "add", LEADER, "--role", "slt", "--area", "kenilworth"]) == 0
    assert capsys.readouterr().out == f"{LEADER}: slt (kenilworth)\n"


# --- refusing to start: one line on standard error, status 2 ----------------------------------------

UNUSABLE_DATABASES = {
    "not a URL": ("not a database url", "--db is not a database URL"),
    "unknown kind": ("nosuchdb://host/db", "--db names a kind of database SQLAlchemy does not know"),
    "missing driver": (
        "postgresql+pg8000://postgres@127.0.0.1:5432/test",
        "the database driver pg8000 for postgresql+pg8000 URLs is not installed",
    ),
    "unreachable server": (
        "postgresql+psycopg://postgres:not-shown@127.0.0.1:1/test",
        "cannot open the database at postgresql+psycopg://postgres:***@127.0.0.1:1/test: ",
    ),
    "missing folder": ("sqlite:////nowhere/at/all/bot.db", "cannot open the database at sqlite:////nowhere"),
}
COMMANDS = {
    "chat": ["chat", "--as", "pc.amy.hart@example.police.uk"],
    "db upgrade": ["db", "upgrade"],
    "directory search": ["directory", "search", "federation"],
    "nudge run-once": ["nudge", "run-once"],
    "serve": ["serve", "--host", "127.0.0.1", "--port", "0"],
}


def _refused(shown: pytest.CaptureResult[str]) -> str:
    """The one line a command that could not start printed (and nothing else)."""
    assert shown.out == ""
    assert shown.err.startswith("hampshire: ") and shown.err.count("\n") == 1, shown.err
    return shown.err


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize(("url", "says"), UNUSABLE_DATABASES.values(), ids=UNUSABLE_DATABASES.keys())
def test_an_unusable_database_is_one_line_and_status_2(
    command: list[str], url: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--db", url]) == 2
    said = _refused(capsys.readouterr())
    assert says in said
    assert "not-shown" not in said


def test_the_database_url_from_the_environment_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_DATABASE_URL", "not a database url")
    assert main(["people", "list"]) == 2
    assert "HAMPSHIRE_DATABASE_URL is not a database URL" in _refused(capsys.readouterr())


#: The commands that read the pack (`db upgrade` does not).
PACK_COMMANDS = {
    **{k: v for k, v in COMMANDS.items() if k != "db upgrade"},
    "manifest slack": ["manifest", "slack"],
}


@pytest.mark.parametrize("command", PACK_COMMANDS.values(), ids=PACK_COMMANDS.keys())
def test_a_missing_pack_is_one_line_and_status_2(
    command: list[str],
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HAMPSHIRE_PACK", str(tmp_path / "nowhere"))
    assert main(command) == 2
    assert f"cannot use the content pack: {tmp_path / 'nowhere'}:1: not a folder" in _refused(
        capsys.readouterr()
    )


def test_a_broken_pack_says_its_first_problem_and_how_to_see_the_rest(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    (folder / "flows" / "x.yaml").write_text(
        "id: x\ntitle: strings.menu\nsteps:\n"
        "  - id: a\n    say: strings.nope\n"
        "  - id: b\n    say: strings.nor\n"
    )
    monkeypatch.setenv("HAMPSHIRE_PACK", str(folder))
    assert main(["directory", "search", "federation"]) == 2
    said = _refused(capsys.readouterr())
    assert "cannot use the content pack: pack/flows/x.yaml:5: unknown string key 'strings.nope' (and " in said
    assert f"run `hampshire pack check {folder}`" in said


def test_an_unknown_log_format_is_one_line_and_status_2(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_LOG_FORMAT", "xml")
    assert main(["people", "list"]) == 2
    assert "HAMPSHIRE_LOG_FORMAT must be one of text, json" in _refused(capsys.readouterr())


def test_pack_check_of_a_file_it_cannot_read_is_one_line_with_file_and_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dir(), folder)
    strings = folder / "strings.yaml"
    lines = strings.read_text().count("\n")
    strings.write_text(strings.read_text() + "? [a, b]\n: 1\n")
    (folder / "plan.yaml").write_text("deep: " + "[" * 40 + "]" * 40 + "\n")
    assert main(["pack", "check", str(folder)]) == 2
    said = _refused(capsys.readouterr())
    assert f"cannot use the content pack: pack/strings.yaml:{lines + 1}: a key must be a word" in said
    assert f"(and 1 more problem(s): run `hampshire pack check {folder}`)" in said


def test_directory_import_refuses_a_100_mb_name_and_50000_entries_and_imports_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["directory", "export"]) == 0
    before = capsys.readouterr().out
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as out:
        out.write("- key: huge\n  category: wellbeing\n  name: ")
        for _ in range(100):
            out.write("n" * 1_000_000)
        out.write("\n")
    many = tmp_path / "many.json"
    many.write_text(json.dumps([f"e{i}" for i in range(50_000)]))
    for file, says in ((huge, "huge.yaml:1: larger than 4,000,000 bytes"), (many, "50,000 entries")):
        assert main(["directory", "import", str(file)]) == 1
        shown = capsys.readouterr()
        assert shown.out == "" and says in shown.err and shown.err.count("\n") == 2, shown.err
    assert main(["directory", "export"]) == 0
    assert capsys.readouterr().out == before


def test_directory_import_shows_the_first_problems_of_many(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"key": f"e{i}"} for i in range(30)]))
    assert main(["directory", "import", str(bad)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 22 and lines[-2].startswith("… and ") and lines[-1].startswith("nothing imported")


def test_db_prune_dry_run_counts_and_deletes_nothing(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(database)
    upgrade(engine)
    with Session(engine) as session, session.begin():  # a reply sent long ago (the CLI's clock is real)
        row_id = replies.queue(
            session=session,
            key="Ev-old",
            channel="slack",
            payload={"text": "x"},
            now=datetime(2020, 1, 1, tzinfo=UTC),
        ).id
        session.execute(update(QueuedReply).where(QueuedReply.id == row_id).values(status="sent"))
    engine.dispose()
    assert main(["db", "prune", "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        "conversations untouched for 30 days: would delete 0\n"
        "event ids older than 2 days: would delete 0\n"
        "replies sent over 7 days ago: would delete 1\n"
        "reminders finished over 30 days ago: would delete 0\n"
        "cases closed over 730 days ago: would delete 0\n"
    )
    assert main(["db", "prune"]) == 0
    out = capsys.readouterr().out
    assert (
        "replies sent over 7 days ago: deleted 1" in out
        and "cases closed over 730 days ago: deleted 0" in out
    )
    assert main(["db", "prune", "--dry-run"]) == 0
    assert "replies sent over 7 days ago: would delete 0" in capsys.readouterr().out


def test_pack_check_of_a_missing_pack_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "check", str(tmp_path / "nowhere")]) == 2
    assert f"cannot use the content pack: {tmp_path / 'nowhere'}:1: not a folder" in _refused(
        capsys.readouterr()
    )


def test_people_add_gives_the_opcc_visits_roles(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    for email, role in (
        ("pcc.sam.ward@example.police.uk", "commissioner"),
        ("ce.jo.bright@example.police.uk", "opcc_chief_executive"),
        ("apcc.lee.moss@example.police.uk", "opcc_visitor"),
        ("insp.kim.shah@example.police.uk", "opcc_liaison"),
    ):
        assert main(["people", "add", email, "--role", role]) == 0
    with pytest.raises(SystemExit) as refused:
        main(["people", "add", "someone@example.police.uk", "--role", "opcc_nobody"])
    assert refused.value.code == 2
    capsys.readouterr()
    assert main(["people", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "commissioner: pcc.sam.ward@example.police.uk (force-wide)",
        "opcc_chief_executive: ce.jo.bright@example.police.uk (force-wide)",
        "opcc_visitor: apcc.lee.moss@example.police.uk (force-wide)",
        "opcc_liaison: insp.kim.shah@example.police.uk (force-wide)",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_serve_freezes_its_start_up_heap_as_it_starts_and_runs_on_uvloop(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hampshire serve` sets its start-up heap aside from the garbage collector as it starts
    (tests/bot/test_app.py: what freezing does); applications built in-process do not. It serves on
    `new_event_loop`'s loop (uvloop's)."""
    import asyncio
    import socket

    import uvloop
    from aiohttp import web

    from bot.app import freeze_startup_heap

    served: list[web.Application] = []
    loops: list[asyncio.AbstractEventLoop] = []

    def run_app(
        app: web.Application,
        *,
        sock: socket.socket,
        backlog: int,
        print: object,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        served.append(app)
        loops.append(loop)
        sock.close()
        loop.close()

    monkeypatch.setattr(web, "run_app", run_app)
    root = logging.getLogger()
    level = root.level
    try:
        assert main(["serve", "--host", "127.0.0.1", "--port", "0"]) == 0
    finally:
        root.setLevel(level)  # serve logs at INFO; the other tests expect what they set
    assert freeze_startup_heap in served[0].on_startup
    assert isinstance(loops[0], uvloop.Loop)


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not run on Windows")
def test_slack_socket_serves_on_uvloop(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hampshire slack-socket` runs on `new_event_loop`'s loop too (tests/bot/test_cli_startup.py
    runs it as a process against a mock Slack)."""
    import asyncio

    import uvloop

    from bot.channels.slack import adapter

    loops: list[asyncio.AbstractEventLoop] = []

    async def run_socket_mode(*args: object, **kwargs: object) -> None:
        loops.append(asyncio.get_running_loop())

    monkeypatch.setattr(adapter, "run_socket_mode", run_socket_mode)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-bot-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test-app-token")
    monkeypatch.setenv("SLACK_TEAM_ID", "T0HAMPSHIRE")
    root = logging.getLogger()
    level = root.level
    try:
        assert main(["slack-socket"]) == 0
    finally:
        root.setLevel(level)
    assert isinstance(loops[0], uvloop.Loop)
