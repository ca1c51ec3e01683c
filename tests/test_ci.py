"""What CI runs (`.ci/run`): the README's test commands, the whole suite on one Python and the fast
subset on each other one installed (`make test-pythons`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readmes_test_commands_and_nothing_less() -> None:
    [line] = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    readme = (ROOT / "README.md").read_text()
    targets = line.split()[1:]
    assert targets == ["test", "test-pythons"]
    assert all(f"make {target}" in readme for target in targets)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_python_that_is_not_installed_is_skipped_loudly() -> None:
    shown = subprocess.run(
        ["make", "--no-print-directory", "test-pythons", "OTHER_PYTHONS=3.99"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "!!! Python 3.99 NOT FOUND" in shown.stdout
    assert shown.stdout.count("!!! NOT TESTED on Python 3.99") == 2  # at the start and the end


def test_ci_installs_chromium_where_missing_and_requires_it() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y --no-install-recommends chromium" in script
    assert "HAMPSHIRE_REQUIRE_CHROMIUM=1" in script
    assert script.index("apt-get install") < script.index("make test test-pythons")
