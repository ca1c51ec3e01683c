"""The Teams app package: `manifest.json` and its two icons, zipped, with the ids of this force.

The manifest in the repository carries placeholder ids (all zeros) so it can be checked against
Microsoft's schema; the package gets the real ones from the environment:

- MICROSOFT_APP_ID (required): the bot's Entra ID app id, also the Teams app id by default;
- TEAMS_APP_ID (optional): a separate Teams app id;
- HAMPSHIRE_PUBLIC_HOST (optional): the host the bot is served on, the manifest's valid domain.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from bot.settings import Settings

__all__ = ["PACKAGE_FILES", "ManifestError", "teams_manifest", "write_teams_package"]

#: Where manifest.json and the icons live: an installed wheel carries them in `app/` beside this
#: module (pyproject.toml copies them there from the repository root, where they are edited); a
#: source checkout, an editable install included, reads them at the repository root.
_PACKAGED = Path(__file__).resolve().with_name("app")
SOURCE = _PACKAGED if (_PACKAGED / "manifest.json").is_file() else Path(__file__).resolve().parents[3]
PACKAGE_FILES = ("manifest.json", "color.png", "outline.png")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
#: A fixed time for every file in the zip, so the same inputs give the same package.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class ManifestError(ValueError):
    """The environment does not give what the package needs."""


def _guid(value: str | None, name: str, default: str | None = None) -> str:
    value = value or default
    if not value:
        raise ManifestError(f"{name} is not set (the bot's Microsoft app id, a GUID)")
    if not _GUID.match(value):
        raise ManifestError(f"{name} is not a GUID")
    return value.lower()


def teams_manifest(settings: Settings, *, source: Path = SOURCE) -> dict[str, Any]:
    """The repository's manifest with this force's ids filled in from the settings."""
    manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    bot_id = _guid(settings.microsoft_app_id, "MICROSOFT_APP_ID")
    manifest["id"] = _guid(settings.teams_app_id, "TEAMS_APP_ID", default=bot_id)
    for bot in manifest.get("bots", []):
        bot["botId"] = bot_id
    host = settings.public_host
    if host:
        if not _HOST.match(host):
            raise ManifestError("HAMPSHIRE_PUBLIC_HOST must be a host name, without https:// or a path")
        manifest["validDomains"] = [host]
    return manifest


def write_teams_package(out: Path, settings: Settings, *, source: Path = SOURCE) -> Path:
    """Write the app package (manifest and icons) to `out`, ready to upload to Teams."""
    manifest = teams_manifest(settings, source=source)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name in PACKAGE_FILES:
            data = (
                json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                if name == "manifest.json"
                else (source / name).read_bytes()
            )
            package.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out
