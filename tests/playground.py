"""The Microsoft 365 Agents Playground, a local Teams client, for the end-to-end Teams test.

It is the npm package `@microsoft/m365agentsplayground` that `make test` installs with `npm ci`.
Where Node or the package is missing the run says so loudly at the start and the end and skips the
test; with HAMPSHIRE_REQUIRE_NODE=1 (as CI sets) it fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLAYGROUND = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
REQUIRE_NODE = os.environ.get("HAMPSHIRE_REQUIRE_NODE") == "1"
MIN_NODE = 18


@cache
def node_problem() -> str | None:
    """Why the Playground cannot run here, or None when it can."""
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    try:
        answer = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
        version = answer.stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return "node --version did not answer"
    if major < MIN_NODE:
        return f"node {version} is too old (the Playground needs {MIN_NODE} or newer)"
    if not PLAYGROUND.exists():
        return f"{PLAYGROUND.relative_to(ROOT)} is missing: run `make test` (it runs `npm ci`)"
    return None


def node_banner() -> str | None:
    """A banner to print when the Playground test cannot run, else None."""
    problem = node_problem()
    if problem is None:
        return None
    line = "!" * 78
    return (
        f"{line}\n!!  MICROSOFT 365 AGENTS PLAYGROUND NOT AVAILABLE: {problem}\n"
        f"!!  The Teams end-to-end test is SKIPPED. Install Node 20 and npm, then run `make test`.\n{line}"
    )


def require_playground() -> str:
    """The path of node, or skip (fail with HAMPSHIRE_REQUIRE_NODE=1) when the Playground cannot run."""
    problem = node_problem()
    if problem is not None:
        if REQUIRE_NODE:
            pytest.fail(f"the Agents Playground is required (HAMPSHIRE_REQUIRE_NODE=1) but {problem}")
        pytest.skip(f"Agents Playground not available: {problem}")
    node = shutil.which("node")
    assert node is not None
    return node
