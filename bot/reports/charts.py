"""Charts of a report's tables as PNG images (matplotlib, drawn off-screen with its Agg backend).

matplotlib is imported only when a chart is drawn, so the command line and the bot start without
it. A cell hidden from the audience ("fewer than 5") is left out of the chart, never drawn.
"""

from __future__ import annotations

import io
import math
from typing import Any

from bot.reports.tables import Cell, Column, Report, Table
from dialogs.types import Chart

__all__ = ["chart_image", "chart_png", "report_charts"]

#: The colours of the charts (a colour-blind-safe pair and a sequential map for the heat map).
_BAR = "#1f5f8b"
_TREND = "#d55e00"
_HEAT = "Blues"
_WIDTH_IN, _DPI = 7.5, 110


def _number(cell: Cell) -> float:
    return float(cell) if isinstance(cell, int | float) and not isinstance(cell, bool) else math.nan


def _value_column(table: Table) -> int:
    """Which column a bar chart draws: a share if there is one, else the cases, else the first count."""
    kinds = [c.kind for c in table.columns]
    if "share" in kinds:
        return kinds.index("share")
    ids = [c.id for c in table.columns]
    if "cases" in ids:
        return ids.index("cases")
    return kinds.index("count")


def _figure(height: float, width: float = _WIDTH_IN, dpi: int = _DPI) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(width, height), dpi=dpi)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _line(table: Table, axes: Any) -> None:
    labels = [str(row[0]) for row in table.rows]
    index = _value_column(table)
    axes.plot(
        labels,
        [_number(row[index]) for row in table.rows],
        marker="o",
        color=_BAR,
        label=table.columns[index].title,
    )
    ids = [c.id for c in table.columns]
    if "trend" in ids:
        trend = ids.index("trend")
        axes.plot(
            labels,
            [_number(row[trend]) for row in table.rows],
            linestyle="--",
            color=_TREND,
            label=table.columns[trend].title,
        )
        axes.legend(frameon=False)
    step = max(1, len(labels) // 12)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    axes.set_ylim(bottom=0)


def _bars(table: Table, axes: Any, horizontal: bool) -> None:
    index = _value_column(table)
    share = table.columns[index].kind == "share"
    labels = [str(row[0]) for row in table.rows]
    values = [_number(row[index]) * (100 if share else 1) for row in table.rows]
    if horizontal:
        axes.barh(labels[::-1], values[::-1], color=_BAR)
        axes.set_xlabel(table.columns[index].title + (" (%)" if share else ""))
        if share:
            axes.set_xlim(0, 100)
    else:
        axes.bar(labels, values, color=_BAR)
        axes.set_ylabel(table.columns[index].title + (" (%)" if share else ""))
        if share:
            axes.set_ylim(0, 100)


def _heatmap(table: Table, axes: Any) -> None:
    import numpy as np

    grid = np.array([[_number(cell) for cell in row[1:]] for row in table.rows])
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=_HEAT, aspect="auto")
    axes.set_yticks(range(len(table.rows)), [str(row[0]) for row in table.rows])
    axes.set_xticks(range(0, 24, 2), [c.title for c in table.columns[1::2]])
    axes.figure.colorbar(image, ax=axes, fraction=0.03)


def chart_png(table: Table, *, compact: bool = False) -> bytes | None:
    """The table's chart as PNG bytes; None for a table without a chart or without rows.

    `compact` draws it small enough for a chat message (a Teams card holds about 28 KB in all).
    """
    if table.chart is None or not table.rows:
        return None
    rows = len(table.rows)
    height = {"line": 3.2, "bar": 3.0, "heatmap": 3.0}.get(table.chart, max(2.4, 0.32 * rows + 0.8))
    figure, axes = _figure(2.8, 5.6, 72) if compact else _figure(height)
    try:
        if table.chart == "line":
            _line(table, axes)
        elif table.chart == "heatmap":
            _heatmap(table, axes)
        else:
            _bars(table, axes, horizontal=table.chart == "barh")
        axes.set_title(table.title, loc="left", fontsize=11)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return _palette(buffer.getvalue()) if compact else buffer.getvalue()
    finally:
        from matplotlib import pyplot as plt

        plt.close(figure)


def _palette(png: bytes) -> bytes:
    """The PNG with a palette of 64 colours: a quarter of the size, which a Teams card needs."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def chart_image(chart: Chart) -> bytes:
    """A chat reply's chart as a compact PNG (the line, and its trend when there is one)."""
    trend = chart.trend if len(chart.trend) == len(chart.labels) else ()
    columns = (
        Column("label", "", "label"),
        Column("cases", chart.value_name),
        *((Column("trend", chart.trend_name, "number"),) if trend else ()),
    )
    rows = tuple((label, value, *((trend[i],) if trend else ())) for i, (label, value) in
                 enumerate(zip(chart.labels, chart.values, strict=True)))  # fmt: skip
    png = chart_png(
        Table(id="chart", title=chart.title, columns=columns, rows=rows, chart="line"), compact=True
    )
    assert png is not None  # a line with its rows always draws
    return png


def report_charts(report: Report) -> dict[str, bytes]:
    """Every chart of the report, by table id."""
    charts = {}
    for table in report.tables:
        png = chart_png(table)
        if png is not None:
            charts[table.id] = png
    return charts
