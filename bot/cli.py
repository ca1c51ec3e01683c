"""The `hampshire` command line (DESIGN section 6 is the contract for these names)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.clock import system_clock
from bot.people.identity import person_by_work_email, work_email
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from dialogs.directory import entry_record, rank
from dialogs.explain import explanation_markdown, explanation_text
from dialogs.loader import check_pack, load_pack
from dialogs.mermaid import flow_diagram
from dialogs.schema import DirectoryEntrySpec, Pack
from store.db import default_database_url, make_engine, upgrade
from store.directory import ENTRY_FIELDS, all_entries, upsert_entries
from store.people import add_role, people_with_role

__all__ = ["main"]


def _runtime(args: argparse.Namespace) -> Runtime:
    return build_runtime(Settings.from_env(), database_url=getattr(args, "db", None))


def _fail(message: str, status: int = 2) -> int:
    print(f"hampshire: {message}", file=sys.stderr)
    return status


# --- chat ------------------------------------------------------------------------------------------


def _chat(args: argparse.Namespace) -> int:
    from bot.channels.console.adapter import Console

    settings = Settings.from_env()
    pack = load_pack(settings.pack_dir)
    email = args.as_email
    if not email:
        if not sys.stdin.isatty():
            return _fail("give your work email with --as EMAIL when piping answers in")
        email = input("Your work email: ").strip()
    normalised = work_email(email, pack=pack)
    if normalised is None:
        return _fail(f"{email!r} is not a work email ({', '.join(pack.meta.work_email_domains)})")
    from bot.conversation import RuntimePort

    runtime = build_runtime(settings, database_url=args.db)
    return Console(RuntimePort(runtime), email=normalised, stdin=sys.stdin, stdout=sys.stdout).run()


# --- serve -----------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot import messages
    from bot.app import create_app
    from bot.channels.slack.adapter import configuration_problem
    from bot.channels.teams.security import LOOPBACK_HOSTS, TeamsConfigError

    problem = configuration_problem(Settings.from_env())
    if problem:
        return _fail(f"not starting: {problem}")
    logging.getLogger().setLevel(logging.INFO)
    runtime = _runtime(args)
    host = args.host
    if runtime.settings.allow_unauthenticated and host not in LOOPBACK_HOSTS:
        logging.getLogger(__name__).warning(messages.serve_loopback_only(host))
        host = "127.0.0.1"
    try:
        app = create_app(runtime, schedule=True)
    except TeamsConfigError as error:
        return _fail(str(error))
    web.run_app(app, host=host, port=args.port, print=None)
    return 0


# --- nudges ----------------------------------------------------------------------------------------


def _nudge_run_once(args: argparse.Namespace) -> int:
    from bot.channels.configured import push_channels
    from bot.reminders.scheduler import PlanKeeper

    settings = Settings.from_env()
    clock = system_clock
    if args.now:
        try:
            fixed = datetime.fromisoformat(args.now)
        except ValueError:
            return _fail(f"--now must be an ISO 8601 time, e.g. 2026-11-24T09:00:00+00:00 (got {args.now!r})")
        if fixed.tzinfo is None:
            return _fail("--now needs a time zone, e.g. 2026-11-24T09:00:00+00:00 or …Z")

        def clock() -> datetime:
            return fixed

    runtime = build_runtime(settings, clock=clock, database_url=args.db)
    tick = asyncio.run(
        PlanKeeper(runtime, push_channels(settings, pack=runtime.pack, clock=runtime.clock)).tick()
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
    return 0


# --- people ----------------------------------------------------------------------------------------


def _people_add(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
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
    runtime = _runtime(args)
    with runtime.sessions.begin() as session:
        for role in ("slt", "spoc"):
            for person in people_with_role(session=session, role=role):
                areas = sorted(r.area or "force-wide" for r in person.roles if r.role == role)
                print(f"{role}: {person.email} ({', '.join(areas)})")
    return 0


def _slack_socket(args: argparse.Namespace) -> int:
    from bot.channels.configured import push_channels
    from bot.channels.slack.adapter import configuration_problem, run_socket_mode
    from bot.conversation import RuntimePort
    from bot.reminders.scheduler import PlanKeeper, start_scheduler

    problem = configuration_problem(Settings.from_env(), socket_mode=True)
    if problem:
        return _fail(f"not starting: {problem}")
    logging.getLogger().setLevel(logging.INFO)
    runtime = _runtime(args)

    async def serve() -> None:
        # Without `serve`, this process is the one that keeps the plan: reminders, escalations.
        channels = push_channels(runtime.settings, pack=runtime.pack, clock=runtime.clock)
        scheduler = start_scheduler(PlanKeeper(runtime, channels))
        try:
            await run_socket_mode(RuntimePort(runtime), runtime.settings, clock=runtime.clock)
        finally:
            scheduler.shutdown(wait=False)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


# --- manifest --------------------------------------------------------------------------------------


def _manifest_slack(args: argparse.Namespace) -> int:
    from bot.channels.slack.manifest import slack_manifest

    pack = load_pack(Settings.from_env().pack_dir)
    print(json.dumps(slack_manifest(pack, public_url=os.environ.get("HAMPSHIRE_PUBLIC_URL")), indent=2))
    return 0


# --- db --------------------------------------------------------------------------------------------


def _db_upgrade(args: argparse.Namespace) -> int:
    url = args.db or Settings.from_env().database_url or default_database_url()
    upgrade(make_engine(url))
    print("database is up to date")
    return 0


# --- pack ------------------------------------------------------------------------------------------


def _pack_check(args: argparse.Namespace) -> int:
    pack, problems = check_pack(args.dir, seeds=args.seeds)
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
    pack, problems = check_pack(args.dir)
    if pack is None or problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return _fail("the pack has problems: run `hampshire pack check` first")
    print(explanation_markdown(pack) if args.format == "markdown" else explanation_text(pack), end="")
    return 0


def _pack_schema(args: argparse.Namespace) -> int:
    print(json.dumps(Pack.model_json_schema(), indent=2))
    return 0


# --- directory -------------------------------------------------------------------------------------


def _directory_search(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    with runtime.sessions.begin() as session:
        entries = {e.key: e for e in all_entries(session=session)}
    categories = {c.id: [c.label, *c.synonyms] for c in runtime.pack.directory.categories}
    found = rank(" ".join(args.text), entries.values(), categories)
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


def _load_entries(file: Path) -> list[Any]:
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        raise ValueError("expected a list of entries (or a mapping with `entries:`)")
    return data


def _directory_import(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    try:
        raw = _load_entries(Path(args.file))
    except (OSError, ValueError, yaml.YAMLError) as error:
        return _fail(f"cannot read {args.file}: {error}", 1)
    categories = {c.id for c in runtime.pack.directory.categories}
    records, problems = [], []
    for index, item in enumerate(raw):
        try:
            spec = DirectoryEntrySpec.model_validate(item)
        except ValidationError as error:
            problems += [f"entry {index}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
            continue
        if spec.category not in categories:
            problems.append(f"entry {index} ({spec.key}): unknown category {spec.category!r}")
            continue
        records.append(entry_record(spec))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    with runtime.sessions.begin() as session:
        written = upsert_entries(session=session, entries=records, origin="import", now=runtime.clock())
    print(f"imported {written} entries ({len(records) - written} unchanged)")
    return 0


def _directory_export(args: argparse.Namespace) -> int:
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
        path = write_teams_package(Path(args.out), os.environ)
    except (ManifestError, OSError) as error:
        return _fail(str(error))
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


# --- the parser ------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hampshire",
        description="Op Hampshire bot: the plan for assaults on officers and staff, in chat.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--db",
            metavar="URL",
            help="SQLAlchemy database URL (default: HAMPSHIRE_DATABASE_URL "
            "or a SQLite file in your data folder)",
        )

    chat = commands.add_parser("chat", help="converse with the bot in the terminal")
    chat.add_argument("--as", dest="as_email", metavar="EMAIL", help="your work email")
    db_option(chat)
    chat.set_defaults(run=_chat)

    serve = commands.add_parser("serve", help="serve Slack and Teams over HTTP and run the scheduler")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3978)
    db_option(serve)
    serve.set_defaults(run=_serve)

    nudge = commands.add_parser("nudge", help="the plan's reminders").add_subparsers(
        dest="nudge_command", required=True
    )
    once = nudge.add_parser("run-once", help="one sweep and delivery (for cron and tests)")
    once.add_argument("--now", metavar="ISO8601", help="act as if it were this time (e.g. 2026-11-24T09:00Z)")
    db_option(once)
    once.set_defaults(run=_nudge_run_once)

    people = commands.add_parser("people", help="roles: senior leadership teams and the Op Hampshire SPOC")
    people_commands = people.add_subparsers(dest="people_command", required=True)
    add = people_commands.add_parser("add", help="add a person or give them roles")
    add.add_argument("email")
    add.add_argument("--name", help="their name as colleagues know it")
    add.add_argument(
        "--role",
        action="append",
        choices=["slt", "spoc"],
        help="slt: senior leadership; spoc: "
        "the force's Op Hampshire single point of contact (escalations when an area has no SLT)",
    )
    add.add_argument("--area", help="the area an slt role covers (omit for force-wide)")
    add.set_defaults(run=_people_add)
    listing = people_commands.add_parser("list", help="list people with roles")
    listing.set_defaults(run=_people_list)
    for command in (add, listing):
        db_option(command)

    socket = commands.add_parser("slack-socket", help="serve Slack over Socket Mode (no public URL needed)")
    db_option(socket)
    socket.set_defaults(run=_slack_socket)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db_up = db.add_parser("upgrade", help="apply migrations")
    db_option(db_up)
    db_up.set_defaults(run=_db_upgrade)

    pack = commands.add_parser("pack", help="content packs").add_subparsers(
        dest="pack_command", required=True
    )
    check = pack.add_parser("check", help="validate a pack and report every problem")
    check.add_argument("dir", nargs="?", help="the pack folder (default: the bundled pack)")
    check.add_argument("--mermaid", action="store_true", help="print a Mermaid diagram of each flow")
    check.add_argument("--seeds", metavar="DIR", help="also check the plan's citations against these seeds")
    check.set_defaults(run=_pack_check)
    explain = pack.add_parser(
        "explain", help="every plan point: citation, owner, when due, when it applies, defaults"
    )
    explain.add_argument("dir", nargs="?", help="the pack folder (default: the bundled pack)")
    explain.add_argument("--format", choices=("text", "markdown"), default="text")
    explain.set_defaults(run=_pack_explain)
    schema = pack.add_parser("schema", help="print the pack's JSON Schema (for editor completion)")
    schema.set_defaults(run=_pack_schema)

    directory = commands.add_parser("directory", help="the support-services directory").add_subparsers(
        dest="directory_command", required=True
    )
    search = directory.add_parser("search", help="search the directory")
    search.add_argument("text", nargs="+")
    search.set_defaults(run=_directory_search)
    dcheck = directory.add_parser("check", help="list entries whose contacts are not verified")
    dcheck.set_defaults(run=_directory_check)
    dimport = directory.add_parser("import", help="add or update entries from a YAML or JSON file")
    dimport.add_argument("file")
    dimport.set_defaults(run=_directory_import)
    export = directory.add_parser("export", help="print every entry as YAML")
    export.set_defaults(run=_directory_export)
    for command in (search, dcheck, dimport, export):
        db_option(command)

    manifest = commands.add_parser("manifest", help="app manifests with ids from the environment")
    manifests = manifest.add_subparsers(dest="manifest_command", required=True)
    teams = manifests.add_parser("teams", help="write the Teams app package (manifest and icons, zipped)")
    teams.add_argument("--out", default="hampshire-teams.zip", metavar="FILE", help="default: %(default)s")
    teams.set_defaults(run=_manifest_teams)
    slack = manifests.add_parser(
        "slack", help="print the Slack app manifest (HTTP mode with HAMPSHIRE_PUBLIC_URL, else Socket Mode)"
    )
    slack.set_defaults(run=_manifest_slack)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
