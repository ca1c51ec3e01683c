"""The layers depend one way (bot -> store -> dialogs), and each SDK stays in its channel's package.

Read from the source with `ast`, so an import inside a function counts as much as one at the top;
and, for the channels, by importing each module in a fresh interpreter, so what it loads through
other modules counts too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "dialogs", "store")
#: Each SDK and the one package (or, for Teams' two SDKs, the one module) allowed to import it.
SDK_HOMES = {
    "slack_bolt": "bot/channels/slack/",
    "slack_sdk": "bot/channels/slack/",
    "botbuilder": "bot/channels/teams/botbuilder.py",
    "botframework": "bot/channels/teams/botbuilder.py",
    "msrest": "bot/channels/teams/botbuilder.py",
    "microsoft_agents": "bot/channels/teams/agents.py",
    "aiosmtplib": "bot/channels/email/adapter.py",
}
#: Libraries that do I/O: the dialog engine is pure, so none of them belongs in dialogs/.
IO_LIBRARIES = ("sqlalchemy", "alembic", "aiohttp", "requests", "urllib3", "apscheduler", "psycopg")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module, names) for every import in the tree, wherever it is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, tuple(alias.name for alias in node.names)


MODULES = dict(_modules())
IMPORTS = {path: list(_imports(tree)) for path, tree in MODULES.items()}


def _importers(wanted: str) -> dict[str, list[str]]:
    return {
        path: [module for module, _ in found if module == wanted or module.startswith(f"{wanted}.")]
        for path, found in IMPORTS.items()
        if any(module == wanted or module.startswith(f"{wanted}.") for module, _ in found)
    }


def test_the_modules_were_found() -> None:
    assert {"dialogs/engine.py", "store/models.py", "bot/router.py", "bot/people/identity.py"} <= set(MODULES)


@pytest.mark.parametrize(("lower", "higher"), [("dialogs", "store"), ("dialogs", "bot"), ("store", "bot")])
def test_a_lower_layer_never_imports_a_higher_one(lower: str, higher: str) -> None:
    assert {path: found for path, found in _importers(higher).items() if path.startswith(f"{lower}/")} == {}


@pytest.mark.parametrize("library", IO_LIBRARIES)
def test_the_dialog_engine_does_no_io(library: str) -> None:
    assert [path for path in _importers(library) if path.startswith("dialogs/")] == []


@pytest.mark.parametrize(("sdk", "home"), sorted(SDK_HOMES.items()))
def test_each_sdk_is_imported_only_in_its_channel_package(sdk: str, home: str) -> None:
    assert [path for path in _importers(sdk) if not path.startswith(home)] == []


def test_a_channel_package_does_not_import_another_channel() -> None:
    channels = ("slack", "teams", "console")
    crossing = {
        path: module
        for path, found in IMPORTS.items()
        for module, _ in found
        for own in channels
        for other in channels
        if own != other
        and path.startswith(f"bot/channels/{own}/")
        and module.startswith(f"bot.channels.{other}")
    }
    assert crossing == {}


#: What holds database sessions: a channel reaches the bot only through `bot.channels.port.Port`.
SESSION_HOLDERS = ("store", "sqlalchemy", "bot.runtime", "bot.router", "bot.inbox", "bot.conversation")


@pytest.mark.parametrize("module", SESSION_HOLDERS)
def test_channels_talk_to_the_port_not_the_database(module: str) -> None:
    assert [path for path in _importers(module) if path.startswith("bot/channels/")] == []


CHANNEL_MODULES = sorted(
    path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    for path in MODULES
    if path.startswith("bot/channels/")
)
_LOADED = (
    "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted(sys.modules)))"
)


def test_the_channel_modules_were_found() -> None:
    assert {"bot.channels", "bot.channels.port", "bot.channels.slack.adapter"} <= set(CHANNEL_MODULES)


@pytest.mark.parametrize("channel_module", CHANNEL_MODULES)
def test_a_channel_module_loads_nothing_that_holds_database_sessions(channel_module: str) -> None:
    """Not even through the modules it imports: the port is narrow all the way down."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED, channel_module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(result.stdout)
    holders = [
        name for name in loaded for held in SESSION_HOLDERS if name == held or name.startswith(f"{held}.")
    ]
    assert holders == []


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("dialogs.expect", {"is_work_email", "normalise_email"}),
        ("store.people", {"identify", "find_identity", "ensure_identity"}),
    ],
)
def test_who_a_person_is_is_decided_only_in_bot_people(module: str, names: set[str]) -> None:
    """One identity and work-email policy for every channel: the rest of bot/ asks bot.people."""
    users = sorted(
        path
        for path, found in IMPORTS.items()
        if path.startswith("bot/") and not path.startswith("bot/people/")
        for imported, imported_names in found
        if imported == module and names & set(imported_names)
    )
    assert users == []
