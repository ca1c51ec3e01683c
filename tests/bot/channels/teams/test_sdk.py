"""Choosing the SDK that carries Teams, and loading only the one chosen."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.sdk import chosen_sdk, make_binding
from bot.channels.teams.security import TeamsConfigError
from bot.cli import main
from bot.clock import system_clock
from bot.settings import ConfigurationError, Settings
from tests.playground import ROOT


@pytest.mark.parametrize(
    ("environ", "sdk"),
    [
        ({}, "botbuilder"),
        ({"HAMPSHIRE_TEAMS_SDK": "agents"}, "agents"),
        ({"HAMPSHIRE_TEAMS_SDK": " agents "}, "agents"),
        ({"HAMPSHIRE_TEAMS_SDK": "botbuilder"}, "botbuilder"),
        ({"HAMPSHIRE_TEAMS_SDK": ""}, "botbuilder"),
    ],
)
def test_the_sdk_is_chosen_by_hampshire_teams_sdk(environ: dict[str, str], sdk: str) -> None:
    assert chosen_sdk(Settings.from_env(environ)) == sdk


def test_an_unknown_sdk_stops_start_up() -> None:
    with pytest.raises(ConfigurationError, match="HAMPSHIRE_TEAMS_SDK"):
        Settings.from_env({"HAMPSHIRE_TEAMS_SDK": "teams-ai"})


_LOADED = (
    "import sys, json; from bot.app import create_app; from bot.runtime import build_runtime; "
    "from bot.settings import Settings; from store.db import make_engine; "
    "create_app(build_runtime(Settings.from_env(), engine=make_engine('sqlite://'))); "
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
)


@pytest.mark.parametrize(
    ("chosen", "unused"),
    [("agents", ("botbuilder", "botframework", "msrest")), ("botbuilder", ("microsoft_agents",))],
)
def test_only_the_chosen_sdk_is_imported(chosen: str, unused: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _LOADED],
        cwd=ROOT,
        env={"PATH": "", "HAMPSHIRE_ALLOW_UNAUTHENTICATED": "1", "HAMPSHIRE_TEAMS_SDK": chosen},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert {"botbuilder", "microsoft_agents"} & loaded == {
        chosen if chosen == "botbuilder" else "microsoft_agents"
    }
    assert loaded.isdisjoint(unused)


class _ValidatorWithoutTheSeam:
    """What a later Agents SDK's JwtTokenValidator might be: no `_jwk_client_manager` to replace."""

    def __init__(self, configuration: object) -> None:
        self.configuration = configuration


def test_an_agents_sdk_without_the_replaced_seam_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.channels.teams import agents

    monkeypatch.setattr(agents, "JwtTokenValidator", _ValidatorWithoutTheSeam)
    settings = Settings(allow_unauthenticated=True, teams_sdk="agents")
    with pytest.raises(TeamsConfigError, match="_jwk_client_manager"):
        make_binding(settings, "local", TeamsOptions(), system_clock, sdk="agents")

    for name in ("SLACK_BOT_TOKEN", "MICROSOFT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HAMPSHIRE_ALLOW_UNAUTHENTICATED", "1")
    monkeypatch.setenv("HAMPSHIRE_TEAMS_SDK", "agents")
    assert main(["serve", "--db", "sqlite://"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("hampshire: not starting:") and "microsoft-agents 1.9" in line


def test_the_installed_agents_sdk_has_the_replaced_seam() -> None:
    from bot.channels.teams.agents import check_sdk

    check_sdk()  # raises TeamsConfigError otherwise
