"""The README's two commands as written: what `make chat` and `make test` install and run."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUN_LOCK = ROOT / "requirements" / "run.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"
BENCH_LOCK = ROOT / "requirements" / "bench.txt"
TEST_TOOLS = {"ruff", "mypy", "pytest", "hatchling", "jsonschema"}

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> list[str]:
    """The lines `make` would run (a dry run: nothing is installed or run)."""
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return shown.stdout.splitlines()


def chat_command(*args: str) -> str:
    """The line `make chat` would run to start the bot."""
    [line] = [line for line in dry_run("chat", *args) if "hampshire chat" in line]
    return line


def installs(target: str, tmp_path: Path) -> list[str]:
    """The pip installs `make TARGET` runs on a fresh machine (a virtual environment not yet made)."""
    return [line for line in dry_run(target, f"VENV={tmp_path / 'venv'}") if " -m pip install " in line]


def pins(lock: Path) -> dict[NormalizedName, Requirement]:
    """Each package a lock file pins, by name."""
    lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if line and line[0].isalnum()]
    return {canonicalize_name(req.name): req for req in map(Requirement, lines)}


def project_requirements(*extras: str) -> list[Requirement]:
    """What pyproject.toml asks for: the dependencies, and those of `extras`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [
        *project["dependencies"],
        *(line for e in extras for line in project["optional-dependencies"][e]),
    ]
    return [Requirement(line) for line in lines]


@needs_make
def test_make_chat_alone_asks_for_the_email_rather_than_using_makes_own_as() -> None:
    assert chat_command().split("hampshire chat")[1].strip() == ""


@needs_make
def test_make_chat_with_as_signs_in_as_that_person() -> None:
    line = chat_command("AS=sgt.ravi.kaur@example.police.uk")
    assert line.endswith("hampshire chat --as sgt.ravi.kaur@example.police.uk")


@needs_make
def test_make_chat_installs_only_what_the_bot_needs_at_the_locked_versions(tmp_path: Path) -> None:
    [upgrade_pip, bot] = installs("chat", tmp_path)
    assert "--constraint requirements/run.txt" in bot and bot.endswith("--editable .")
    for line in (upgrade_pip, bot):
        assert "--quiet" not in line and " -q" not in line


@needs_make
def test_make_test_installs_the_test_tools_and_the_postgresql_driver(tmp_path: Path) -> None:
    [_, everything] = installs("test", tmp_path)
    assert "--constraint requirements/test.txt" in everything
    assert everything.endswith("--editable '.[postgres,test]'")
    assert "--quiet" not in everything


@pytest.mark.parametrize(
    ("lock", "extras"),
    [
        (RUN_LOCK, ("postgres",)),
        (TEST_LOCK, ("postgres", "test")),
        (BENCH_LOCK, ("postgres", "test", "bench")),
    ],
)
def test_each_lock_pins_everything_pyproject_asks_for(lock: Path, extras: tuple[str, ...]) -> None:
    locked = pins(lock)
    stale = [
        str(wanted)
        for wanted in project_requirements(*extras)
        if canonicalize_name(wanted.name) not in locked
        or not wanted.specifier.contains(next(iter(locked[canonicalize_name(wanted.name)].specifier)).version)
    ]
    assert stale == [], f"{lock.name} is stale for {stale}: run `make lock`"
    assert all(str(req.specifier).startswith("==") for req in locked.values())


def test_the_run_lock_has_no_test_tools() -> None:
    assert not TEST_TOOLS & set(pins(RUN_LOCK))
    assert set(pins(TEST_LOCK)) >= TEST_TOOLS


def test_the_bench_lock_keeps_every_test_pin() -> None:
    """make bench-load adds Locust to the test environment without moving what the tests run on."""
    test, bench = pins(TEST_LOCK), pins(BENCH_LOCK)
    assert {name: test[name].specifier for name in test} == {name: bench[name].specifier for name in test}
    assert "locust" in bench and "locust" not in test


def test_the_two_locks_agree_on_every_package_they_share() -> None:
    run, test = pins(RUN_LOCK), pins(TEST_LOCK)
    assert {name: str(run[name]) for name in run} == {name: str(test[name]) for name in run}
