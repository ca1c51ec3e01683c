"""The package as a newcomer installs it: a wheel, built from the sdist, in a fresh virtual environment.

The wheel is built offline (pip with the test tools' hatchling, no build isolation) and installed
without its dependencies into a new venv whose only other path is a `.pth` naming this venv's
site-packages, so nothing is downloaded. The repository is not importable there: every command runs
the installed `hampshire` script from a temporary folder, so a file the wheel leaves out fails here.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "store")
#: The Teams app package's files: edited at the repository root, carried inside the wheel.
TEAMS_FILES = ("manifest.json", "color.png", "outline.png")
TEAMS_IN_WHEEL = "bot/channels/teams/app"
BOT_APP_ID = "11111111-2222-3333-4444-555555555555"
#: Each step runs a fresh interpreter that imports the bot; generous for a busy 2-core machine.
TIMEOUT = 300


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel installed, and a folder outside the repository to run it in."""

    sdist: Path
    wheel: Path
    bin: Path
    site_packages: Path
    cwd: Path
    env: dict[str, str]
    data_home: Path

    def run(self, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None) -> str:
        """Run the installed `hampshire` with `args`; its output, after checking it succeeded."""
        done = subprocess.run(
            [str(self.bin / "hampshire"), *args],
            cwd=self.cwd, env={**self.env, **(extra_env or {})}, input=stdin,
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        assert done.returncode == 0, f"hampshire {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout


def _run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build(dist: Path) -> tuple[Path, Path]:
    """The sdist (through the build backend's PEP 517 hook) and the wheel pip builds from it."""
    hook = "import sys; from hatchling.build import build_sdist; print(build_sdist(sys.argv[1]))"
    sdist = dist / _run(sys.executable, "-c", hook, dist, cwd=ROOT).strip().splitlines()[-1]
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", dist, sdist, cwd=dist,
    )  # fmt: skip
    [wheel] = dist.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the sdist and wheel, and install the wheel into a new venv."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    dist.mkdir()
    sdist, wheel = _build(dist)
    fresh = base / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=base
    )
    site_packages = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base).strip()
    )
    # The dependencies are this venv's; a .pth adds a folder but runs none of the .pth files in it,
    # so this venv's editable install of the repository stays out of the fresh one.
    (site_packages / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    cwd = base / "elsewhere"
    cwd.mkdir()
    data_home = base / "data"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HAMPSHIRE_", "SLACK_", "MICROSOFT_", "TEAMS_", "PYTHON", "VIRTUAL_ENV"))
    }
    # The default database lives in the user's data folder: here, the test's own.
    env.update(HOME=str(base), XDG_DATA_HOME=str(data_home), PATH=f"{fresh / 'bin'}{os.pathsep}{env['PATH']}")
    return Installed(sdist, wheel, fresh / "bin", site_packages, cwd, env, data_home)


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_the_wheel_carries_every_file_the_packages_read(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
        for name in TEAMS_FILES:
            # The repository's file itself, not a second copy kept by hand.
            assert archive.read(f"{TEAMS_IN_WHEEL}/{name}") == (ROOT / name).read_bytes()
    source = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert source <= names, sorted(source - names)
    assert {"dialogs/packs/west-midlands/pack.yaml", "store/migrations/script.py.mako"} <= names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_sdist_carries_what_the_wheel_is_built_from(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as archive:
        top = {"/".join(member.name.split("/")[1:]) for member in archive.getmembers()}
    assert {*TEAMS_FILES, "LICENSE", "README.md", "pyproject.toml", "slack-manifest.json"} <= top


def test_the_metadata_names_the_licence_urls_and_classifiers(installed: Installed) -> None:
    metadata = _metadata(installed.wheel)
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "Programming Language :: Python :: 3.13" in metadata.get_all("Classifier", [])
    assert any(url.startswith("Source, https://") for url in metadata.get_all("Project-URL", []))
    requires = metadata.get_all("Requires-Dist", [])
    assert any(r.startswith("psycopg") and "extra == 'postgres'" in r for r in requires)
    assert not any(r.startswith("psycopg") and "extra" not in r for r in requires)
    with zipfile.ZipFile(installed.wheel) as archive:
        [licence] = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()


def test_the_installed_package_not_the_repository_is_what_runs(installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.bin / "python"), "-c", "import bot, dialogs, store; print(bot.__file__)"],
        cwd=installed.cwd, env=installed.env, capture_output=True, text=True, check=True, timeout=TIMEOUT,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(installed.site_packages)


def test_help(installed: Installed) -> None:
    out = installed.run("--help")
    for command in (
        "chat",
        "serve",
        "manifest",
        "nudge",
        "people",
        "slack-socket",
        "db",
        "pack",
        "directory",
    ):
        assert command in out
    # The two long-running commands are only started to parse their options.
    installed.run("serve", "--help")
    installed.run("slack-socket", "--help")


def test_manifest_teams(installed: Installed) -> None:
    installed.run("manifest", "teams", "--out", "teams.zip", extra_env={"MICROSOFT_APP_ID": BOT_APP_ID})
    with zipfile.ZipFile(installed.cwd / "teams.zip") as package:
        assert sorted(package.namelist()) == sorted(TEAMS_FILES)
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == BOT_APP_ID
        assert package.read("color.png") == (ROOT / "color.png").read_bytes()


def test_manifest_slack(installed: Installed) -> None:
    committed = json.loads((ROOT / "slack-manifest.json").read_text(encoding="utf-8"))
    assert json.loads(installed.run("manifest", "slack")) == committed


def test_pack_commands(installed: Installed) -> None:
    installed.run("pack", "check")
    plan = yaml.safe_load((ROOT / "dialogs/packs/west-midlands/plan.yaml").read_text(encoding="utf-8"))
    explained = installed.run("pack", "explain")
    assert all(f"[{point['code']}]" in explained for point in plan["points"])
    assert json.loads(installed.run("pack", "schema"))["title"] == "Pack"


def test_database_people_directory_nudge_and_chat(installed: Installed, tmp_path: Path) -> None:
    # One database for the whole sequence: the default one, in the user's data folder.
    installed.run("db", "upgrade")
    assert (installed.data_home / "op-hampshire-bot" / "hampshire.db").is_file()
    explicit = tmp_path / "explicit.db"
    installed.run("db", "upgrade", "--db", f"sqlite:///{explicit}")
    assert explicit.is_file()

    installed.run(
        "people", "add", "supt.lou.grant@example.police.uk", "--role", "slt", "--area", "coventry",
        "--name", "Lou Grant",
    )  # fmt: skip
    assert "supt.lou.grant@example.police.uk" in installed.run("people", "list")

    assert (
        installed.run("directory", "search", "federation")
        .splitlines()[0]
        .startswith("West Midlands Police Federation")
    )
    assert "victim_support" in installed.run("directory", "check")
    exported = yaml.safe_load(installed.run("directory", "export"))["entries"]
    more = tmp_path / "more.yaml"
    peer = {
        "key": "peer_support", "name": "Peer support network", "category": "wellbeing",
        "description": "Trained colleagues who have been through it.", "phone": "0121 496 0000",
        "for_whom": "Everyone", "synonyms": ["peer"], "source": "Force intranet",
    }  # fmt: skip
    more.write_text(yaml.safe_dump({"entries": [peer]}))
    installed.run("directory", "import", str(more))
    after = yaml.safe_load(installed.run("directory", "export"))["entries"]
    assert {e["key"] for e in after} == {e["key"] for e in exported} | {"peer_support"}

    installed.run("nudge", "run-once", "--now", "2026-12-01T10:00:00+00:00")

    chat = installed.run("chat", "--as", "pc.ben.ward@example.police.uk", stdin="federation\n")
    assert "0121 700 1200" in chat  # the Federation's number, from the bundled directory
