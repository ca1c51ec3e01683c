"""The Teams app manifest and package: valid against Microsoft's 1.30 schema, icons the right size."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from bot.channels.teams.manifest import PACKAGE_FILES, ManifestError, teams_manifest
from bot.cli import main
from bot.settings import Settings
from dialogs.loader import load_pack
from tests.fake_teams import SCHEMAS, new_guid

ROOT = Path(__file__).parents[4]
COMMANDS = ["report", "next", "contacts", "cases", "help"]


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / "teams-manifest-1.30.schema.json").read_text(encoding="utf-8-sig"))
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    if manifest.get("manifestVersion") != "1.30":  # draft-04 has no `const`: check it here
        errors.append("manifestVersion is not 1.30")
    return errors


def png_header(path: Path) -> tuple[int, int, int]:
    """Width, height and colour type of a PNG (from its IHDR chunk)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path.name} is not a PNG"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_the_manifest_is_valid_against_the_1_30_schema() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    assert manifest_errors(manifest) == []


def test_the_bot_is_personal_only_with_the_five_commands() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    [bot] = manifest["bots"]
    assert bot["scopes"] == ["personal"]
    [commands] = bot["commandLists"]
    assert commands["scopes"] == ["personal"]
    assert [c["title"] for c in commands["commands"]] == COMMANDS
    # Each command of the menu but help starts the flow the pack names for it.
    assert set(COMMANDS) - {"help"} == set(load_pack().meta.app_commands)
    assert manifest["validDomains"]
    assert {manifest["icons"]["color"], manifest["icons"]["outline"]} == {"color.png", "outline.png"}


def test_the_icons_are_the_sizes_teams_requires() -> None:
    assert png_header(ROOT / "color.png")[:2] == (192, 192)
    width, height, colour = png_header(ROOT / "outline.png")
    assert (width, height) == (32, 32)
    assert colour in (4, 6), "the outline icon needs an alpha channel (transparent background)"


def test_hampshire_manifest_teams_writes_a_package_with_ids_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot_id = new_guid().upper()
    monkeypatch.setenv("MICROSOFT_APP_ID", bot_id)
    monkeypatch.setenv("HAMPSHIRE_PUBLIC_HOST", "bot.force.example.police.uk")
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)
    out = tmp_path / "package" / "teams.zip"
    assert main(["manifest", "teams", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    with zipfile.ZipFile(out) as package:
        assert package.namelist() == list(PACKAGE_FILES)
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("color.png") == (ROOT / "color.png").read_bytes()
        assert package.read("outline.png") == (ROOT / "outline.png").read_bytes()
    assert manifest["id"] == manifest["bots"][0]["botId"] == bot_id.lower()
    assert manifest["validDomains"] == ["bot.force.example.police.uk"]
    assert manifest_errors(manifest) == []


def test_a_separate_teams_app_id_is_used_when_given() -> None:
    bot_id, app_id = new_guid(), new_guid()
    manifest = teams_manifest(Settings.from_env({"MICROSOFT_APP_ID": bot_id, "TEAMS_APP_ID": app_id}))
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app_id, bot_id)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"MICROSOFT_APP_ID": "not-a-guid"},
        {"MICROSOFT_APP_ID": new_guid(), "TEAMS_APP_ID": "nope"},
        {"MICROSOFT_APP_ID": new_guid(), "HAMPSHIRE_PUBLIC_HOST": "https://bot.example.police.uk/api"},
    ],
)
def test_missing_or_malformed_ids_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ManifestError):
        teams_manifest(Settings.from_env(env))


def test_the_command_line_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    assert main(["manifest", "teams", "--out", str(tmp_path / "teams.zip")]) == 2
    assert "MICROSOFT_APP_ID" in capsys.readouterr().err
    assert not (tmp_path / "teams.zip").exists()
