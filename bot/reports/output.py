"""A report's files: one self-contained HTML page (charts inline, prints to A4), a PNG per chart,
and the numbers as CSV (a file per table) or JSON.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from pathlib import Path
from typing import Literal

from bot.reports.charts import report_charts
from bot.reports.tables import Cell, Report

__all__ = ["Format", "format_cell", "render_html", "write_private", "write_report"]

Format = Literal["html", "csv", "json"]


def format_cell(cell: Cell, kind: str) -> str:
    """A cell as the HTML page and chat show it: shares as percentages, blanks as a dash."""
    if cell is None:
        return "—"
    if kind == "share" and isinstance(cell, float):
        return f"{cell * 100:.1f}%"
    if isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)


def _headline_cell(cell: Cell) -> str:
    return format_cell(cell, "share" if isinstance(cell, float) else "count")


def render_html(
    report: Report, *, audience_note: str, lang: str, charts: dict[str, bytes] | None = None
) -> str:
    """The report as one HTML page that needs nothing else: styles and charts are inside it."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("bot.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["cell"] = format_cell
    environment.filters["headline_cell"] = _headline_cell
    pngs = report_charts(report) if charts is None else charts
    return environment.get_template("report.html.j2").render(
        report=report,
        audience=audience_note,
        lang=lang,
        charts={key: base64.b64encode(png).decode("ascii") for key, png in pngs.items()},
    )


def _json(report: Report) -> str:
    document = {
        "report": report.kind,
        "title": report.title,
        "covering": report.covering,
        "audience": report.audience,
        "headline": [{"label": label, "value": value} for label, value in report.headline],
        "tables": {
            t.id: {"title": t.title, "columns": [c.id for c in t.columns], "rows": t.as_records()}
            for t in report.tables
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _csv(columns: list[str], rows: list[tuple[Cell, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()


def write_private(path: Path, data: str | bytes) -> None:
    """Write `path` readable by its owner only (0600) from the moment it exists.

    The mode is given to `os.open`, not set after writing, so nobody can open it in between; a
    file already there is narrowed to 0600 before anything is written into it.
    """
    content = data if isinstance(data, bytes) else data.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(content)


def write_report(report: Report, out: Path, fmt: Format, *, audience_note: str, lang: str) -> list[Path]:
    """Write the report's files into `out` (made 0700 if missing); returns what was written.

    `html` writes the page and a PNG per chart; `csv` a file per table; `json` one file; each 0600:
    a report holds figures about assaults on colleagues, for those it was produced for.
    """
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, data: str | bytes) -> None:
        path = out / name
        write_private(path, data)
        written.append(path)

    if fmt == "html":
        charts = report_charts(report)
        write(
            f"{report.kind}.html", render_html(report, audience_note=audience_note, lang=lang, charts=charts)
        )
        for table_id, png in charts.items():
            write(f"{report.kind}-{table_id}.png", png)
    elif fmt == "csv":
        for table in report.tables:
            write(f"{report.kind}-{table.id}.csv", _csv([c.id for c in table.columns], list(table.rows)))
    else:
        write(f"{report.kind}.json", _json(report))
    return written
