"""The report's HTML in a real headless browser: it renders, charts and all, offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.reports.output import write_report
from bot.reports.patterns import patterns
from dialogs.schema import Pack
from tests.bot.reports.history import NOW, scope, seed
from tests.browser import require_chromium


def test_chromium_renders_the_report_and_the_screenshot_is_not_blank(
    pack: Pack, sqlite_engine: Engine, tmp_path: Path
) -> None:
    browser = require_chromium()
    with Session(sqlite_engine) as session, session.begin():
        seed(pack, session, cases=15)
        report = patterns(pack, session=session, scope=scope(), now=NOW)
    write_report(report, tmp_path, "html", audience_note="Internal", lang="en-GB")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400",
            f"--screenshot={shot}", (tmp_path / "patterns.html").as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 1400)
    colours = image.getcolors(maxcolors=1 << 20) or []
    painted = sum(n for n, rgb in colours if rgb != (255, 255, 255))
    # A blank page is one colour; the report has text, its headline boxes and the first chart.
    assert len(colours) > 50
    assert painted > image.size[0] * image.size[1] // 50
    # The chart's blue is on screen: the inline PNG was decoded, not a broken image.
    assert any(rgb == (0x1F, 0x5F, 0x8B) for _, rgb in colours)
