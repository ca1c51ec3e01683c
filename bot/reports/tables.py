"""The neutral result of a report: tables of labelled cells, and the rule for small numbers.

A report for an audience beyond the senior leadership team (`panel`) shows no count from 1 to 4
(the pack's "fewer than 5" instead), no share or median worked out from fewer than 5, and no
column or table that names a person. Charts and files are made from the suppressed tables, so
nothing hidden in a table can show in a chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = ["SMALL", "Audience", "Cell", "Column", "Report", "Table", "for_audience"]

#: Counts below this are hidden from a panel audience (zero discloses nobody and is shown).
SMALL = 5

Audience = Literal["internal", "panel"]
Cell = str | int | float | None
ColumnKind = Literal["label", "count", "share", "hours", "number", "person", "when"]
ChartKind = Literal["line", "bar", "barh", "heatmap"]


@dataclass(frozen=True)
class Column:
    """A column: its id (CSV/JSON key), its heading, what its cells are.

    `base` names the count column a share or median was worked out from: when that count is small,
    the figure is hidden from a panel audience with it.
    """

    id: str
    title: str
    kind: ColumnKind = "count"
    base: str | None = None


@dataclass(frozen=True)
class Table:
    """One table of a report, with how it is charted (`chart`: None for none)."""

    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart: ChartKind | None = None
    note: str = ""
    per_person: bool = False

    def column(self, column_id: str) -> list[Cell]:
        """Every cell of one column, top to bottom."""
        index = [c.id for c in self.columns].index(column_id)
        return [row[index] for row in self.rows]

    def as_records(self) -> list[dict[str, Cell]]:
        """The rows as mappings of column id to cell (for JSON)."""
        return [dict(zip((c.id for c in self.columns), row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    """A whole report: what it is, what it covers, its headline figures and its tables."""

    kind: str
    title: str
    covering: str
    audience: Audience
    tables: tuple[Table, ...]
    headline: tuple[tuple[str, Cell], ...] = field(default=())
    main_chart: str | None = None
    generated: str = ""

    def table(self, table_id: str) -> Table:
        """The table with this id."""
        return next(t for t in self.tables if t.id == table_id)


def _small(value: Cell) -> bool:
    return isinstance(value, int) and 0 < value < SMALL


def _suppress(table: Table, hidden: str) -> Table:
    kept = [i for i, c in enumerate(table.columns) if c.kind != "person"]
    index = {c.id: i for i, c in enumerate(table.columns)}
    rows = []
    for row in table.rows:
        cells: list[Cell] = []
        for i in kept:
            column, value = table.columns[i], row[i]
            if column.kind == "count" and _small(value):
                value = hidden
            elif column.base is not None and _small(row[index[column.base]]):
                value = hidden
            cells.append(value)
        rows.append(tuple(cells))
    return replace(table, columns=tuple(table.columns[i] for i in kept), rows=tuple(rows))


def for_audience(tables: Sequence[Table], audience: Audience, *, hidden: str) -> tuple[Table, ...]:
    """The tables as `audience` may see them; `hidden` is the pack's "fewer than 5"."""
    if audience == "internal":
        return tuple(tables)
    return tuple(_suppress(t, hidden) for t in tables if not t.per_person)
