"""Debian's Chromium, headless, for the test that looks at a report's HTML as a reader would.

Where Chromium is missing the test is skipped and the run says so loudly at the start and the end;
with HAMPSHIRE_REQUIRE_CHROMIUM=1 (as CI sets) it fails instead. `.ci/run` installs it
(`apt-get install chromium`) where it is missing.
"""

from __future__ import annotations

import os
import shutil
from functools import cache

import pytest

REQUIRE_CHROMIUM = os.environ.get("HAMPSHIRE_REQUIRE_CHROMIUM") == "1"
_NAMES = ("chromium", "chromium-browser")


@cache
def chromium() -> str | None:
    """The path of the Chromium program, or None."""
    return next((path for name in _NAMES if (path := shutil.which(name))), None)


def chromium_banner() -> str | None:
    """A banner to print when the browser test cannot run, else None."""
    if chromium() is not None:
        return None
    line = "!" * 78
    return (
        f"{line}\n!!  CHROMIUM NOT FOUND (looked for {', '.join(_NAMES)} on PATH)\n"
        f"!!  The report's headless-browser test is SKIPPED. Install it: apt-get install chromium\n{line}"
    )


def require_chromium() -> str:
    """The path of Chromium, or skip (fail with HAMPSHIRE_REQUIRE_CHROMIUM=1) when it is missing."""
    path = chromium()
    if path is None:
        if REQUIRE_CHROMIUM:
            pytest.fail("Chromium is required (HAMPSHIRE_REQUIRE_CHROMIUM=1) but not found on PATH")
        pytest.skip("Chromium not found: apt-get install chromium")
    return path
