"""The Slack app manifest: generated from what the code uses, committed, valid against Slack's schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels.slack.manifest import BOT_EVENTS, BOT_SCOPES, COMMAND, REPORT_SHORTCUT, slack_manifest
from bot.cli import main
from dialogs.schema import Pack
from tests.slack_block_kit import schema_validator

ROOT = Path(__file__).resolve().parents[4]


def _errors(manifest: dict[str, object]) -> list[str]:
    validator = schema_validator("slack-manifest-1.0.0.schema.json")
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


def test_committed_manifest_is_the_generated_one(pack: Pack) -> None:
    committed = json.loads((ROOT / "slack-manifest.json").read_text(encoding="utf-8"))
    assert committed == slack_manifest(pack)
    assert _errors(committed) == []
    assert (ROOT / "manifest.json").exists()  # the Teams manifest sits beside it


def test_manifest_declares_what_the_code_uses(pack: Pack) -> None:
    manifest = slack_manifest(pack)
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert {"chat:write", "users:read.email", "im:history", "app_mentions:read", "commands"} <= set(
        BOT_SCOPES
    )
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == sorted(BOT_EVENTS)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert [(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]] == [
        ("global", REPORT_SHORTCUT)
    ]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]


def test_http_mode_manifest_points_at_the_events_endpoint(pack: Pack) -> None:
    manifest = slack_manifest(pack, public_url="https://bot.example.police.uk/")
    url = "https://bot.example.police.uk/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0]["url"] == url
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert _errors(manifest) == []


def test_the_schema_rejects_a_broken_manifest(pack: Pack) -> None:
    manifest = slack_manifest(pack)
    manifest["features"]["shortcuts"][0]["name"] = "x" * 25  # Slack allows 24
    assert _errors(manifest)


def test_cli_prints_the_manifest(
    pack: Pack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HAMPSHIRE_PUBLIC_URL", "https://bot.example.police.uk")
    assert main(["manifest", "slack"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == slack_manifest(pack, public_url="https://bot.example.police.uk")
