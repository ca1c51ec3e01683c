"""The `hampshire` command line (DESIGN section 6 is the contract for these names).

Building the parser imports nothing beyond the standard library, and each command imports what it
needs when it runs: `hampshire --help` loads no SDK, database or pack code, and `hampshire chat`
none of Slack's, Teams', aiohttp or (with the database at head) Alembic
(tests/bot/test_cli_startup.py holds both; `bench/startup.py` times them).
A command that cannot start (a bad database URL, an unreachable server, a missing driver, an
unusable pack) says why in one line on standard error and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.clock import Clock
    from bot.runtime import Runtime
    from bot.settings import Settings
    from dialogs.schema import Pack

__all__ = ["build_parser", "main"]

#: The distribution whose version `--version` prints.
DISTRIBUTION = "op-hampshire-bot"
#: Exit status of a command that cannot start (argparse uses it for usage errors too).
REFUSED = 2
#: Exit status when standard output's reader went away, as a shell reports a process SIGPIPE ended.
READER_GONE = 128 + 13


class _Refused(Exception):
    """A command cannot start; the message is the one line `main` prints."""


def _fail(message: str, status: int = REFUSED) -> int:
    """Say why on one line of standard error (a driver's or parser's message may span several)."""
    print(f"hampshire: {' '.join(message.split())}", file=sys.stderr)
    return status


def _settings() -> Settings:
    from bot.settings import ConfigurationError, Settings

    try:
        return Settings.from_env()
    except ConfigurationError as error:
        raise _Refused(str(error)) from None


def _database_url(args: argparse.Namespace, settings: Settings) -> tuple[str, str]:
    """The database URL a command uses, and where it came from (for messages)."""
    if getattr(args, "db", None):
        return args.db, "--db"
    if settings.database_url:
        return settings.database_url, "HAMPSHIRE_DATABASE_URL"
    from store.db import default_database_url

    return default_database_url(), "the default database"


def _open_database(args: argparse.Namespace, settings: Settings) -> Engine:
    """The command's database, reached once, so that a failure to open it is told in one line.

    Never shows the URL's password. Later failures (a migration's, a query's) are not this
    function's: they keep their tracebacks.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from bot.settings import revealed
    from store.crypto import DataKeyError
    from store.db import make_engine

    url, source = _database_url(args, settings)
    try:
        engine = make_engine(url, data_key=revealed(settings.data_key))
        with engine.connect():
            pass
    except DataKeyError as error:
        raise _Refused(str(error)) from None
    except NoSuchModuleError:
        raise _Refused(f"{source} names a kind of database SQLAlchemy does not know") from None
    except ArgumentError:
        raise _Refused(
            f"{source} is not a database URL (e.g. postgresql+psycopg://bot@db/hampshire, "
            "sqlite:////var/lib/hampshire/bot.db)"
        ) from None
    except ImportError as error:
        # SQLAlchemy imports a URL's driver when it makes the engine.
        raise _Refused(
            f"the database driver {error.name or ''} for {make_url(url).drivername} URLs is not installed "
            "in this environment"
        ) from None
    except DBAPIError as error:
        where = make_url(url).render_as_string(hide_password=True)
        reason = str(error.orig).strip() or type(error.orig).__name__
        raise _Refused(f"cannot open the database at {where}: {reason}") from None
    return engine


def _pack_refusal(problems: Sequence[object], folder: Path | str | None) -> str:
    """One line for a pack that cannot be used: its first problem, and how to see the rest."""
    where = str(folder) if folder else ""
    more = len(problems) - 1
    first = str(problems[0]) if problems else "no pack"
    return f"cannot use the content pack: {first}" + (
        f" (and {more} more problem(s): run `hampshire pack check {where}`)" if more > 0 else ""
    )


def _load_pack(settings: Settings) -> Pack:
    """The settings' content pack; one line saying why when it cannot be used."""
    from dialogs.loader import PackError, load_pack

    try:
        return load_pack(settings.pack_dir)
    except PackError as error:
        raise _Refused(_pack_refusal(error.problems, settings.pack_dir)) from None


@contextlib.contextmanager
def _only_instance(args: argparse.Namespace, settings: Settings) -> Iterator[None]:
    """Hold the SQLite database's instance lock while the block runs (PostgreSQL needs none)."""
    from sqlalchemy.exc import ArgumentError

    from store.instance_lock import InstanceLocked, instance_lock

    url, _ = _database_url(args, settings)
    try:
        lock = instance_lock(url)
    except InstanceLocked as error:
        raise _Refused(str(error)) from None
    except ArgumentError:
        lock = None  # not a URL: opening the database says so, in its words
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _runtime(
    args: argparse.Namespace,
    *,
    settings: Settings | None = None,
    pack: Pack | None = None,
    clock: Clock | None = None,
) -> Runtime:
    """The running bot for a command: pack loaded, database opened and migrated."""
    from bot.clock import system_clock
    from bot.runtime import build_runtime
    from store.crypto import DataKeyError

    settings = settings or _settings()
    pack = pack or _load_pack(settings)
    engine = _open_database(args, settings)
    try:
        return build_runtime(settings, clock=clock or system_clock, engine=engine, pack=pack)
    except DataKeyError as error:
        raise _Refused(str(error)) from None


# --- chat ------------------------------------------------------------------------------------------


def _chat(args: argparse.Namespace) -> int:
    from bot.channels.console.adapter import Console
    from bot.conversation import RuntimePort
    from bot.people.policy import work_email
    from store.db import database_location

    settings = _settings()
    pack = _load_pack(settings)
    email = args.as_email
    if not email:
        if not sys.stdin.isatty():
            return _fail("give your work email with --as EMAIL when piping answers in")
        email = input("Your work email: ").strip()
    normalised = work_email(email, pack=pack)
    if normalised is None:
        return _fail(f"{email!r} is not a work email ({', '.join(pack.meta.work_email_domains)})")
    runtime = _runtime(args, settings=settings, pack=pack)
    print(f"Your database: {database_location(runtime.engine.url)}", file=sys.stderr)
    return Console(RuntimePort(runtime), email=normalised, stdin=sys.stdin, stdout=sys.stdout).run()


# --- serve -----------------------------------------------------------------------------------------


def _channel_problem(settings: Settings, database_url: str) -> str | None:
    """Why a channel that is on cannot be served safely (checked before the database is touched)."""
    from bot.channels.configured import slack_off_reason, teams_off_reason

    if slack_off_reason(settings) is None:
        from bot.channels.slack.adapter import configuration_problem

        problem = configuration_problem(settings)
        if problem:
            return problem
    if teams_off_reason(settings) is None:
        from bot.channels.teams.sdk import check_sdk
        from bot.channels.teams.security import TeamsConfigError, local_database_problem, teams_mode

        try:
            mode = teams_mode(settings)
            check_sdk(settings)
        except TeamsConfigError as error:
            return str(error)
        if mode == "local":
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                return local_database_problem(make_url(database_url).get_backend_name())
            except ArgumentError:
                return None  # not a URL: opening the database says so
    return None


def _serve(args: argparse.Namespace) -> int:
    settings = _settings()
    problem = _channel_problem(settings, _database_url(args, settings)[0])
    if problem:
        return _fail(f"not starting: {problem}")
    with _only_instance(args, settings):
        return _serve_app(args, settings)


def _serve_app(args: argparse.Namespace, settings: Settings) -> int:
    import socket

    from aiohttp import web

    from bot import messages
    from bot.app import LISTEN_BACKLOG, create_app, freeze_startup_heap, new_event_loop

    logging.getLogger().setLevel(logging.INFO)
    log = logging.getLogger(__name__)
    runtime = _runtime(args, settings=settings)
    host = args.host
    if settings.allow_unauthenticated:
        from bot.channels.teams.security import LOOPBACK_HOSTS

        if host not in LOOPBACK_HOSTS:
            log.warning(messages.serve_loopback_only(host))
            host = "127.0.0.1"
    app = create_app(runtime, schedule=True)
    app.on_startup.append(freeze_startup_heap)
    # Bound here so that `--port 0` (the system picks a free port) can say which port it got.
    sock = socket.create_server((host, args.port), backlog=LISTEN_BACKLOG)
    port = int(sock.getsockname()[1])

    def listening(*banner: object) -> None:
        # run_app calls this once it serves: the log line is the moment requests work.
        log.info(messages.serve_listening(host, port))

    # run_app listens again on the socket, with its own backlog unless given this one.
    web.run_app(app, sock=sock, backlog=LISTEN_BACKLOG, print=listening, loop=new_event_loop())
    return 0


# --- nudges ----------------------------------------------------------------------------------------


def _nudge_run_once(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import datetime

    from bot.channels.configured import push_channels
    from bot.reminders.scheduler import PlanKeeper

    clock: Clock | None = None
    if args.now:
        try:
            fixed = datetime.fromisoformat(args.now)
        except ValueError:
            return _fail(f"--now must be an ISO 8601 time, e.g. 2026-11-24T09:00:00+00:00 (got {args.now!r})")
        if fixed.tzinfo is None:
            return _fail("--now needs a time zone, e.g. 2026-11-24T09:00:00+00:00 or …Z")

        def clock() -> datetime:
            return fixed

    settings = _settings()
    with _only_instance(args, settings):
        runtime = _runtime(args, settings=settings, clock=clock)
        tick = asyncio.run(
            PlanKeeper(
                runtime, push_channels(runtime.settings, pack=runtime.pack, clock=runtime.clock)
            ).tick()
        )
    sweep, delivery = tick.sweep, tick.delivery
    print(
        f"sweep: {sweep.points} points due, {sweep.queued} messages queued, {sweep.escalated} escalated, "
        f"{sweep.digests} digests"
    )
    print(
        f"delivery: {delivery.sent} sent, {delivery.retrying} to retry, {delivery.failed} failed, "
        f"{delivery.held} waiting for the person to use the bot, {delivery.reconciled} reconciled, "
        f"{delivery.unconfirmed} unconfirmed, {delivery.withdrawn} withdrawn (their points had closed)"
    )
    if tick.visits.steps:
        print(
            f"OPCC visits: {tick.visits.steps} steps due, {tick.visits.reminded} reminders queued, "
            f"{tick.visits.escalated} escalated"
        )
    return 0


# --- people ----------------------------------------------------------------------------------------


def _pack_areas(pack: Pack) -> list[str]:
    """The areas a case can be in: the choices of every flow step that asks for the `area` slot."""
    from dialogs.schema import AskStep

    areas: dict[str, None] = {}
    for flow in pack.flows:
        for step in flow.steps:
            if isinstance(step, AskStep) and step.slot == "area":
                areas.update((choice.value, None) for choice in step.choices)
    return list(areas)


#: The roles `people add --role` gives: the plan's, then the OPCC visits protocol's.
ROLES = [
    "slt",
    "spoc",
    "welfare",
    "fim",
    "commissioner",
    "opcc_chief_executive",
    "opcc_visitor",
    "opcc_liaison",
]


def _people_add(args: argparse.Namespace) -> int:
    from bot.people.identity import person_by_work_email
    from store.people import add_role

    settings = _settings()
    pack = _load_pack(settings)
    if args.area is not None:
        areas = _pack_areas(pack)
        if args.area not in areas:
            return _fail(f"--area {args.area!r} is not one of the pack's areas: {', '.join(areas)}")
    runtime = _runtime(args, settings=settings, pack=pack)
    with runtime.sessions.begin() as session:
        person = person_by_work_email(
            session=session, email=args.email, pack=runtime.pack, now=runtime.clock(), display_name=args.name
        )
        if person is None:
            return _fail(f"{args.email!r} is not a work email")
        email = person.email
        for role in args.role or []:
            add_role(session=session, person=person, role=role, area=args.area)
        roles = ", ".join(f"{r.role}{f' ({r.area})' if r.area else ''}" for r in person.roles) or "no roles"
    print(f"{email}: {roles}")
    return 0


def _people_list(args: argparse.Namespace) -> int:
    from store.people import people_with_role

    runtime = _runtime(args)
    with runtime.sessions.begin() as session:
        for role in ROLES:
            for person in people_with_role(session=session, role=role):
                areas = sorted(r.area or "force-wide" for r in person.roles if r.role == role)
                print(f"{role}: {person.email} ({', '.join(areas)})")
    return 0


def _slack_socket(args: argparse.Namespace) -> int:
    from bot.channels.slack.adapter import configuration_problem

    settings = _settings()
    problem = configuration_problem(settings, socket_mode=True)
    if problem:
        return _fail(f"not starting: {problem}")
    with _only_instance(args, settings):
        return _socket_mode(args, settings)


def _socket_mode(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.app import new_event_loop
    from bot.channels.configured import push_channels
    from bot.channels.slack.adapter import run_socket_mode
    from bot.conversation import RuntimePort
    from bot.reminders.scheduler import PlanKeeper, start_scheduler

    logging.getLogger().setLevel(logging.INFO)
    runtime = _runtime(args, settings=settings)

    async def serve() -> None:
        # Without `serve`, this process is the one that keeps the plan: reminders, escalations.
        channels = push_channels(runtime.settings, pack=runtime.pack, clock=runtime.clock)
        scheduler = start_scheduler(PlanKeeper(runtime, channels))
        try:
            await run_socket_mode(RuntimePort(runtime), runtime.settings, clock=runtime.clock)
        finally:
            scheduler.shutdown(wait=False)

    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(serve())
    return 0


# --- manifest --------------------------------------------------------------------------------------


def _manifest_slack(args: argparse.Namespace) -> int:
    import json

    from bot.channels.slack.manifest import slack_manifest

    settings = _settings()
    pack = _load_pack(settings)
    print(json.dumps(slack_manifest(pack, public_url=settings.public_url), indent=2))
    return 0


# --- db --------------------------------------------------------------------------------------------


def _keyed_database(args: argparse.Namespace, settings: Settings) -> Engine:
    """The command's database, with a data key that opens it (migrated first if it must be)."""
    from store.crypto import DataKeyError, keyring_of
    from store.data_key import check_data_key
    from store.db import upgrade
    from store.revisions import is_at_head

    engine = _open_database(args, settings)
    try:
        keyring_of(engine)
        if not is_at_head(engine):
            upgrade(engine)
        check_data_key(engine)
    except DataKeyError as error:
        raise _Refused(str(error)) from None
    return engine


def _db_upgrade(args: argparse.Namespace) -> int:
    _keyed_database(args, _settings())
    print("database is up to date")
    return 0


def _db_new_key(args: argparse.Namespace) -> int:
    from store.crypto import new_key

    print(new_key())
    return 0


def _db_rotate_key(args: argparse.Namespace) -> int:
    from store.crypto import DataKeyError
    from store.data_key import rotate_key
    from store.db import key_file

    settings = _settings()
    engine = _keyed_database(args, settings)
    # Without HAMPSHIRE_DATA_KEY the engine's key came from the SQLite key file (else it has none).
    file = None if settings.data_key else key_file(engine.url)
    try:
        count = rotate_key(engine, key_file=file)
    except DataKeyError as error:
        raise _Refused(str(error)) from None
    if file is not None:
        print(f"re-encrypted {count} values; the key file {file} now holds the new key alone")
    else:
        print(f"re-encrypted {count} values under the first key of HAMPSHIRE_DATA_KEY; remove the others")
    return 0


# --- audit -----------------------------------------------------------------------------------------


def _audit_verify(args: argparse.Namespace) -> int:
    from store.audit import verify_chain
    from store.db import make_sessions
    from store.revisions import is_at_head

    engine = _open_database(args, _settings())
    if not is_at_head(engine):
        raise _Refused("the database is not migrated: run `hampshire db upgrade` first")
    with make_sessions(engine)() as session:
        checked, broken = verify_chain(session=session)
    if broken is None:
        print(f"audit trail OK: {checked} rows, each chained to the one before")
        return 0
    print(
        f"audit trail BROKEN at row {broken.id} (sequence {broken.seq}): {broken.reason}; "
        f"the {checked} rows before it are intact"
    )
    return 1


# --- export ----------------------------------------------------------------------------------------


def _export_person(args: argparse.Namespace) -> int:
    import json

    from bot.clock import system_clock
    from store.db import make_sessions
    from store.subject_access import export_person

    engine = _keyed_database(args, _settings())
    with make_sessions(engine).begin() as session:
        export = export_person(session=session, email=args.email, surface="cli", now=system_clock())
        if export is None:
            raise _Refused(f"nobody with the work email {args.email} is known to the bot")
        text = json.dumps(export, indent=2, ensure_ascii=False) + "\n"
        if args.out:
            from bot.reports.output import write_private

            out = Path(args.out)
            try:
                write_private(out, text)
            except OSError as error:
                raise _Refused(f"cannot write {out}: {error.strerror}") from None
        else:
            sys.stdout.write(text)
    if args.out:
        print(f"wrote everything held about {args.email} to {args.out}", file=sys.stderr)
    return 0


def _db_prune(args: argparse.Namespace) -> int:
    from bot.retention import prune_expired

    runtime = _runtime(args)
    periods = runtime.pack.meta.retention
    pruned = prune_expired(runtime.pack, sessions=runtime.sessions, now=runtime.clock(), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"conversations untouched for {periods.conversation_days} days: {verb} {pruned.conversations}")
    print(f"event ids older than {periods.processed_event_days} days: {verb} {pruned.processed_events}")
    print(f"replies sent over {periods.sent_reply_days} days ago: {verb} {pruned.replies}")
    print(f"reminders finished over {periods.sent_reminder_days} days ago: {verb} {pruned.reminders}")
    print(f"cases closed over {periods.closed_case_days} days ago: {verb} {pruned.closed_cases}")
    return 0


# --- pack ------------------------------------------------------------------------------------------


def _pack_check(args: argparse.Namespace) -> int:
    from dialogs.loader import check_pack
    from dialogs.mermaid import flow_diagram

    pack, problems = check_pack(args.dir, seeds=args.seeds)
    unreadable = [p for p in problems if p.unreadable]
    if unreadable:
        # Nothing else could be checked: the file to fix first, on one line.
        raise _Refused(_pack_refusal(unreadable, args.dir))
    for problem in problems:
        print(problem)
    if pack is None or problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    if args.mermaid:
        for flow in pack.flows:
            print(flow_diagram(pack, flow), end="\n\n")
    else:
        print(
            f"pack {pack.meta.id} {pack.version}: {len(pack.flows)} flows, "
            f"{len(pack.plan.points)} plan points, {len(pack.directory.entries)} directory entries: "
            "no problems"
        )
    return 0


def _pack_explain(args: argparse.Namespace) -> int:
    from dialogs.explain import explanation_markdown, explanation_text
    from dialogs.loader import check_pack

    pack, problems = check_pack(args.dir)
    if pack is None or problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return _fail("the pack has problems: run `hampshire pack check` first")
    print(explanation_markdown(pack) if args.format == "markdown" else explanation_text(pack), end="")
    return 0


def _pack_schema(args: argparse.Namespace) -> int:
    import json

    from dialogs.schema import Pack

    print(json.dumps(Pack.model_json_schema(), indent=2))
    return 0


# --- directory -------------------------------------------------------------------------------------


def _directory_search(args: argparse.Namespace) -> int:
    from store.directory import entries_by_key, search_index

    runtime = _runtime(args)
    categories = {c.id: [c.label, *c.synonyms] for c in runtime.pack.directory.categories}
    # The bot's search path: the stored directory's index, then only the entries found.
    with runtime.sessions.begin() as session:
        found = search_index(session=session, categories=categories).search(" ".join(args.text))
        entries = entries_by_key(session=session, keys=(match.key for match in found))
        for match in found:
            entry = entries[match.key]
            print(f"{entry.name}  [{entry.category}, score {match.score:.0f}]")
            for field in ("phone", "email", "web", "hours"):
                value = getattr(entry, field)
                if value:
                    flag = entry.flags.get(field)
                    print(f"    {field}: {value}" + (f"  (NOT VERIFIED: {flag})" if flag else ""))
    if not found:
        print("no matches")
    return 0


def _directory_check(args: argparse.Namespace) -> int:
    from store.directory import all_entries

    runtime = _runtime(args)
    with runtime.sessions.begin() as session:
        unverified = [e for e in all_entries(session=session) if not e.verified]
        for entry in unverified:
            print(f"{entry.key}: {entry.name}")
            for field, why in sorted(entry.flags.items()):
                print(f"    {field}: {getattr(entry, field)!r}: {why}")
        total = len(all_entries(session=session))
    print(f"{len(unverified)} of {total} entries have unverified contacts")
    return 0


#: Problems of an import file printed before "and N more".
_IMPORT_PROBLEMS_SHOWN = 20


def _directory_import(args: argparse.Namespace) -> int:
    from dialogs.directory import entry_record
    from dialogs.directory_import import read_directory_import
    from store.directory import upsert_entries

    runtime = _runtime(args)
    categories = {c.id for c in runtime.pack.directory.categories}
    try:
        read = read_directory_import(Path(args.file), categories=categories)
    except OSError as error:
        return _fail(f"cannot read {args.file}: {error.strerror or error}", 1)
    if read.problems:
        shown = read.problems[:_IMPORT_PROBLEMS_SHOWN]
        more = len(read.problems) - len(shown)
        print("\n".join(shown + ([f"… and {more} more problem(s)"] if more else [])), file=sys.stderr)
        print(f"nothing imported: {len(read.problems)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    records = [entry_record(spec) for spec in read.entries]
    with runtime.sessions.begin() as session:
        written = upsert_entries(session=session, entries=records, origin="import", now=runtime.clock())
    print(f"imported {written} entries ({len(records) - written} unchanged)")
    return 0


def _directory_export(args: argparse.Namespace) -> int:
    import yaml

    from store.directory import ENTRY_FIELDS, all_entries

    runtime = _runtime(args)
    with runtime.sessions.begin() as session:
        entries = [
            {field: getattr(e, field) for field in ENTRY_FIELDS if getattr(e, field) not in (None, [], {})}
            for e in all_entries(session=session)
        ]
    yaml.safe_dump({"entries": entries}, sys.stdout, sort_keys=False, allow_unicode=True, width=100)
    return 0


# --- manifest --------------------------------------------------------------------------------------


def _manifest_teams(args: argparse.Namespace) -> int:
    from bot.channels.teams.manifest import ManifestError, write_teams_package

    try:
        path = write_teams_package(Path(args.out), _settings())
    except (ManifestError, OSError) as error:
        return _fail(str(error))
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


# --- reports ---------------------------------------------------------------------------------------


def _day(value: str | None, option: str) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Refused(f"{option} must be a date, e.g. 2026-01-31 (got {value!r})") from None


def _report(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from bot.reports.compliance import compliance
    from bot.reports.labels import AUDIENCE_NOTES, html_lang
    from bot.reports.output import write_report
    from bot.reports.patterns import patterns
    from bot.reports.scope import Scope
    from bot.reports.timeline import case_timeline

    settings = _settings()
    pack = _load_pack(settings)
    first, last = _day(getattr(args, "first", None), "--from"), _day(getattr(args, "last", None), "--to")
    if first and last and first > last:
        return _fail("--from must not be after --to")
    area = getattr(args, "area", None)
    if area is not None and area not in _pack_areas(pack):
        return _fail(f"--area {area!r} is not one of the pack's areas: {', '.join(_pack_areas(pack))}")
    runtime = _runtime(args, settings=settings, pack=pack)
    scope = Scope(first=first, last=last, area=area, tz=ZoneInfo(pack.meta.timezone), audience=args.audience)
    now = runtime.clock()
    from sqlalchemy.orm import Session

    from store.db import READ_ONLY

    # Patterns and compliance only read; a case's timeline writes its audit row.
    reading = args.report_command != "case"
    bind = runtime.engine.execution_options(**{READ_ONLY: True}) if reading else runtime.engine
    with Session(bind) as session, session.begin():
        if args.report_command == "patterns":
            report = patterns(pack, session=session, scope=scope, now=now)
        elif args.report_command == "compliance":
            report = compliance(pack, session=session, scope=scope, now=now)
        else:
            found = case_timeline(pack, session=session, reference=args.reference, scope=scope, now=now)
            if found is None:
                return _fail(f"no case {args.reference!r}", 1)
            report = found
    if reading:
        # A report is an export of what the bot holds: audited (not one case), before it leaves.
        from store.audit import record_access

        detail = (
            f"{args.report_command} report as {args.format}, from {first or 'the start'} to {last or 'now'},"
            f" area {area or 'all'}, audience {args.audience}"
        )
        with Session(runtime.engine) as session, session.begin():
            record_access(
                session=session, person=None, case=None, surface="cli", action="report", purpose="export",
                now=now, detail=detail,
            )  # fmt: skip
    try:
        written = write_report(
            report, Path(args.out), args.format, audience_note=pack.text(AUDIENCE_NOTES[args.audience]),
            lang=html_lang(pack),
        )  # fmt: skip
    except OSError as error:
        return _fail(f"cannot write the report into {args.out}: {error.strerror}", 1)
    for path in written:
        print(path)
    return 0


def _demo_seed(args: argparse.Namespace) -> int:
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from bot.reports.demo import DemoRefused, seed_demo

    if args.cases < 1:
        return _fail("--cases must be at least 1")
    settings = _settings()
    pack = _load_pack(settings)
    since = _day(args.since, "--since")
    runtime = _runtime(args, settings=settings, pack=pack)
    now = runtime.clock()
    start = (
        datetime.combine(since, time(), ZoneInfo(pack.meta.timezone)) if since else now - timedelta(days=730)
    )
    if start >= now:
        return _fail("--since must be in the past")
    try:
        with runtime.sessions.begin() as session:
            result = seed_demo(pack, session=session, cases=args.cases, since=start, now=now, seed=args.seed)
    except DemoRefused as error:
        return _fail(f"not seeding: {error}; the demo only fills a database without real cases")
    print(
        f"seeded {result.cases} invented cases ({result.points} plan points) from "
        f"{result.first:%Y-%m-%d} to {result.last:%Y-%m-%d}: try `hampshire report patterns`"
    )
    return 0


# --- the parser ------------------------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help line, except where there is none (the help says what
    happens then) or it is an off switch."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import version

        print(f"{parser.prog} {version(DISTRIBUTION)}")
        parser.exit()


def _commands(
    parser: argparse.ArgumentParser, dest: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The subcommands of `parser`, one of which must be given."""
    return parser.add_subparsers(dest=dest, required=True, metavar="COMMAND", title="commands")


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str
) -> argparse.ArgumentParser:
    """A subcommand whose summary is both its line in the parent's help and its own description."""
    return commands.add_parser(name, help=summary, description=summary, formatter_class=_HelpFormatter)


def _db_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: HAMPSHIRE_DATABASE_URL, else a SQLite file in your "
        "user data folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The `hampshire` parser: every command and option, with its help line and default."""
    parser = argparse.ArgumentParser(
        prog="hampshire",
        description="Op Hampshire bot: the plan for assaults on officers and staff, in chat.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = _commands(parser, "command")

    chat = _command(commands, "chat", "converse with the bot in the terminal")
    chat.add_argument(
        "--as", dest="as_email", metavar="EMAIL", help="your work email (asked for when not given)"
    )
    _db_option(chat)
    chat.set_defaults(run=_chat)

    serve = _command(commands, "serve", "serve Slack and Teams over HTTP, and run the scheduler")
    serve.add_argument("--host", default="0.0.0.0", help="the address to listen on")
    serve.add_argument("--port", type=int, default=3978, help="the port to listen on (0: any free port)")
    _db_option(serve)
    serve.set_defaults(run=_serve)

    nudge = _commands(_command(commands, "nudge", "the plan's reminders"), "nudge_command")
    once = _command(nudge, "run-once", "one sweep and delivery of reminders (for cron and tests)")
    once.add_argument(
        "--now", metavar="ISO8601", help="act as if it were this time, e.g. 2026-11-24T09:00Z (default: now)"
    )
    _db_option(once)
    once.set_defaults(run=_nudge_run_once)

    people = _commands(
        _command(commands, "people", "roles: senior leadership teams and the Op Hampshire SPOC"),
        "people_command",
    )
    add = _command(people, "add", "add a person or give them roles")
    add.add_argument("email", help="their work email")
    add.add_argument("--name", help="their name as colleagues know it")
    add.add_argument(
        "--role",
        action="append",
        choices=ROLES,
        help="slt: senior leadership; spoc: the force's Op Hampshire single point of contact "
        "(escalations when an area has no SLT); welfare: reads the welfare records of the area's "
        "cases; fim: the Force Incident Manager, told at once when a victim is in hospital; "
        "for OPCC visits (seed 004): commissioner, "
        "opcc_chief_executive, opcc_visitor (assistant commissioners, board members, OPCC staff, "
        "volunteers, contractors) and opcc_liaison (the force's contact who gives its guidance); "
        "repeat for several",
    )
    add.add_argument(
        "--area",
        help="the area an slt or welfare role covers, one of the pack's areas (omit for force-wide)",
    )
    add.set_defaults(run=_people_add)
    listing = _command(people, "list", "list the people with roles")
    listing.set_defaults(run=_people_list)
    for command in (add, listing):
        _db_option(command)

    socket = _command(commands, "slack-socket", "serve Slack over Socket Mode (no public URL needed)")
    _db_option(socket)
    socket.set_defaults(run=_slack_socket)

    db = _commands(_command(commands, "db", "database maintenance"), "db_command")
    db_up = _command(db, "upgrade", "apply the database migrations (chat and serve do it too)")
    _db_option(db_up)
    db_up.set_defaults(run=_db_upgrade)
    rotate = _command(
        db,
        "rotate-key",
        "re-encrypt the case detail under a new data key (HAMPSHIRE_DATA_KEY=NEW,OLD, or a new key "
        "file for the embedded SQLite database)",
    )
    _db_option(rotate)
    rotate.set_defaults(run=_db_rotate_key)
    new_key = _command(db, "new-key", "print a fresh data key for HAMPSHIRE_DATA_KEY")
    new_key.set_defaults(run=_db_new_key)

    audit = _commands(_command(commands, "audit", "the access audit"), "audit_command")
    verify = _command(audit, "verify", "check the audit trail's hash chain (exit 1 when broken)")
    _db_option(verify)
    verify.set_defaults(run=_audit_verify)

    exports = _commands(_command(commands, "export", "exports of what the bot holds"), "export_command")
    person = _command(exports, "person", "everything held about a person, as JSON (subject access)")
    person.add_argument("email", help="their work email")
    person.add_argument(
        "--out", metavar="FILE", help="write it to FILE (mode 0600) instead of standard output"
    )
    _db_option(person)
    person.set_defaults(run=_export_person)
    db_prune = _command(
        db, "prune", "delete what the pack's retention periods say has expired (serve does it daily)"
    )
    db_prune.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    _db_option(db_prune)
    db_prune.set_defaults(run=_db_prune)

    pack = _commands(_command(commands, "pack", "content packs"), "pack_command")
    check = _command(pack, "check", "validate a pack and report every problem with file and line")
    check.add_argument("dir", nargs="?", help="the pack folder (default: the bundled pack)")
    check.add_argument("--mermaid", action="store_true", help="print a Mermaid diagram of each flow")
    check.add_argument("--seeds", metavar="DIR", help="also check the plan's citations against these seeds")
    check.set_defaults(run=_pack_check)
    explain = _command(
        pack, "explain", "every plan point: citation, owner, when due, when it applies, defaults"
    )
    explain.add_argument("dir", nargs="?", help="the pack folder (default: the bundled pack)")
    explain.add_argument("--format", choices=("text", "markdown"), default="text", help="how to print it")
    explain.set_defaults(run=_pack_explain)
    schema = _command(pack, "schema", "print the pack's JSON Schema (for editor completion)")
    schema.set_defaults(run=_pack_schema)

    directory = _commands(
        _command(commands, "directory", "the support-services directory"), "directory_command"
    )
    search = _command(directory, "search", "search the directory")
    search.add_argument("text", nargs="+", help="what to look for, e.g. federation")
    search.set_defaults(run=_directory_search)
    dcheck = _command(directory, "check", "list entries whose contacts are not verified")
    dcheck.set_defaults(run=_directory_check)
    dimport = _command(directory, "import", "add or update entries from a YAML or JSON file")
    dimport.add_argument("file", help="a list of entries, or a mapping with `entries:`")
    dimport.set_defaults(run=_directory_import)
    export = _command(directory, "export", "print every entry as YAML")
    export.set_defaults(run=_directory_export)
    for command in (search, dcheck, dimport, export):
        _db_option(command)

    reports = _commands(_command(commands, "report", "pattern and compliance reports"), "report_command")
    for name, summary in (
        (
            "patterns",
            "cases over time, by kind, strand, area, role and injury; when; repeat victims; outcomes",
        ),
        ("compliance", "each plan point done on time, by point and area; Victims' Code clocks; reminders"),
        ("case", "one case's timeline and plan points"),
    ):
        command = _command(reports, name, summary)
        if name == "case":
            command.add_argument("reference", help="the case reference, e.g. OH-2026-0042")
        else:
            command.add_argument(
                "--from", dest="first", metavar="DATE", help="first day counted (default: the start)"
            )
            command.add_argument(
                "--to", dest="last", metavar="DATE", help="last day counted (default: today)"
            )
            command.add_argument("--area", help="one of the pack's areas (default: the whole force)")
        command.add_argument("--out", default="reports", metavar="DIR", help="folder to write the files into")
        command.add_argument(
            "--format", choices=("html", "csv", "json"), default="html",
            help="html: one page with the charts, and a PNG per chart; csv: a file per table; json",
        )  # fmt: skip
        command.add_argument(
            "--audience", choices=("internal", "panel"), default="internal",
            help="panel: for readers beyond the SLT (counts under 5 hidden, nobody named)",
        )  # fmt: skip
        _db_option(command)
        command.set_defaults(run=_report)

    demo = _commands(_command(commands, "demo", "an invented history to try the reports on"), "demo_command")
    seed = _command(demo, "seed", "fill a database without real cases with invented ones")
    seed.add_argument("--cases", type=int, default=300, metavar="N", help="how many cases")
    seed.add_argument("--since", metavar="DATE", help="the first day of the history (default: two years ago)")
    seed.add_argument("--seed", type=int, default=1, help="the random seed (the same seed, the same history)")
    _db_option(seed)
    seed.set_defaults(run=_demo_seed)

    manifests = _commands(
        _command(commands, "manifest", "app manifests with ids from the environment"), "manifest_command"
    )
    teams = _command(manifests, "teams", "write the Teams app package (manifest and icons, zipped)")
    teams.add_argument("--out", default="hampshire-teams.zip", metavar="FILE", help="where to write it")
    teams.set_defaults(run=_manifest_teams)
    slack = _command(
        manifests,
        "slack",
        "print the Slack app manifest (HTTP mode with HAMPSHIRE_PUBLIC_URL, else Socket Mode)",
    )
    slack.set_defaults(run=_manifest_slack)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from bot.logs import LOG_FORMAT_VARIABLE, configure_logging, log_format

    args = build_parser().parse_args(argv)
    try:
        configure_logging(log_format(os.environ.get(LOG_FORMAT_VARIABLE)))
    except ValueError as error:
        return _fail(str(error))
    try:
        status: int = args.run(args)
        # Flushed here, not at exit, so that a reader that went away is seen below.
        sys.stdout.flush()
    except _Refused as error:
        return _fail(str(error))
    except BrokenPipeError:
        # The reader stopped reading (`… | head -1`): that is its choice, not an error to report.
        # Standard output goes to nowhere so that Python's own flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return READER_GONE
    return status


if __name__ == "__main__":
    sys.exit(main())
