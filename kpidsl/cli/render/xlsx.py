"""An Excel workbook for people: headers in the reader's language (the scheme's labels),
money and percent number formats, a totals row, a frozen header, widths that fit, one sheet
per grade or team on request, and a sheet saying where the figures came from.

Written in openpyxl's write-only mode: rows stream to disk as they are evaluated, so memory
stays flat however many employees there are (only the running totals are kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ...escape import visible, xlsx_text
from ...i18n import section
from .base import Renderer
from .model import (
    Column,
    leaderboard_columns,
    leaderboard_rows,
    people_columns,
    people_row,
    sha256_of,
    title,
)
from .spool import rows_with_every_column

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from ...api import Ruleset
    from ...run import Evaluated

MONEY = "#,##0.00"
PERCENT = "0.0%"
COUNT = "#,##0"
RATIO = "0.0000"
WIDEST = 40  # characters: a long label wraps the header instead of widening the column


def _unit_format(unit: Any) -> str | None:
    from ...units import Unit

    return {Unit.MONEY: MONEY, Unit.PERCENT: PERCENT, Unit.COUNT: COUNT,
            Unit.RATIO: RATIO}.get(unit)


class _Sheet:
    """One sheet being written: its header, running totals, and the cell styles."""

    def __init__(self, book: Any, name: str, columns: list[Column], total_label: str) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        self.cell = WriteOnlyCell
        self.sheet: WriteOnlyWorksheet = book.create_sheet(_sheet_name(name, book))
        self.columns = columns
        self.total_label = total_label
        self.sums: dict[str, Decimal] = {}
        self.count = 0
        self.bold = Font(bold=True)
        for index, c in enumerate(columns, start=1):
            width = min(max(len(c.header) + 2, 12 if c.kind != "text" else 10), WIDEST)
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "B2"  # the header and the employee stay in view
        wrap = Alignment(wrap_text=True, vertical="top")
        header = []
        for c in columns:
            cell = self.cell(self.sheet, value=xlsx_text(c.header))
            cell.data_type = "s"  # a CRM column named '=HYPERLINK(…)' is a header, not a formula
            cell.font = self.bold
            cell.alignment = wrap
            header.append(cell)
        self.sheet.append(header)

    def add(self, row: dict[str, Any]) -> None:
        self.count += 1
        cells = []
        for c in self.columns:
            value = row.get(c.key)
            if isinstance(value, str):
                value = xlsx_text(value)  # a control character would lose the workbook
            cell = self.cell(self.sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # CRM text ('=1+2', '=HYPERLINK(…)') is never a formula
            elif c.kind == "amount":
                cell.number_format = MONEY
                if value is not None:
                    self.sums[c.key] = self.sums.get(c.key, Decimal(0)) + value
            elif c.kind == "percent":
                cell.number_format = PERCENT
            elif c.kind == "value":
                fmt = _unit_format(row.get(f"unit:{c.key[4:]}"))
                if fmt:
                    cell.number_format = fmt
            cells.append(cell)
        self.sheet.append(cells)

    def close(self) -> None:
        cells = []
        for index, c in enumerate(self.columns):
            if index == 0:
                value: Any = f"{self.total_label} ({self.count})"
            else:
                value = self.sums.get(c.key) if c.kind == "amount" else None
            cell = self.cell(self.sheet, value=value)
            cell.font = self.bold
            if c.kind == "amount":
                cell.number_format = MONEY
            cells.append(cell)
        self.sheet.append(cells)


def _sheet_name(name: str, book: Any) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the book."""
    text = "".join("_" if ch in "[]:*?/\\" else ch for ch in visible(name)).strip("'") or "-"
    text = text[:31]
    taken = {s.title.lower() for s in book.worksheets}
    candidate, n = text, 1
    while candidate.lower() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = text[:31 - len(suffix)] + suffix
    return candidate


class XlsxRenderer(Renderer):
    name = "xlsx"

    @property
    def path(self) -> Path | IO[bytes]:
        assert self.out.path is not None, "a workbook is written to a file"
        return self.out.path

    def results(self, ruleset: Ruleset, items: Iterable[Evaluated]) -> None:
        from openpyxl import Workbook

        words = section("TABLE", self.lang)
        extra, rows = rows_with_every_column(items, lambda i: people_row(i, self.lang))
        columns = people_columns(ruleset, extra, self.lang)
        book = Workbook(write_only=True)
        by = self.options.sheets
        sheets: dict[str, _Sheet] = {}
        if by is None:
            sheets[""] = _Sheet(book, words["sheet_results"], columns, words["total"])
        for row in rows:
            key = "" if by is None else str(row[by] or "")
            if key not in sheets:
                empty = words["no_grade" if by == "grade" else "no_team"]
                sheets[key] = _Sheet(book, key or empty, columns, words["total"])
            sheets[key].add(row)
        if not sheets:
            sheets[""] = _Sheet(book, words["sheet_results"], columns, words["total"])
        for sheet in sheets.values():
            sheet.close()
        self._inputs(book, ruleset)
        book.save(self.path)

    def _inputs(self, book: Any, ruleset: Ruleset) -> None:
        """The provenance sheet: scheme, version, files with their SHA-256, row counts."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        from ... import __version__

        words = section("TABLE", self.lang)
        sheet = book.create_sheet(_sheet_name(words["sheet_inputs"], book))
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 70
        options = self.options
        header = ruleset.checked.header
        rows: list[tuple[str, Any]] = [(words["in_scheme"], title(ruleset, self.lang))]
        if header.version:
            rows.append((words["in_version"], header.version))
        rows.append((words["in_currency"], ruleset.currency))
        if options.month:
            from ...i18n import MONTHS

            rows.append((words["in_month"], MONTHS[self.lang][options.month - 1]))
        if options.scheme_file:
            rows += [(words["in_file"], options.scheme_file),
                     (words["in_sha"], _digest(options.scheme_file))]
        for path in options.facts_files:
            rows += [(words["in_facts"], path), (words["in_sha"], _digest(path))]
        if options.counts is not None:
            counts = options.counts
            rows += [(words["in_rows"], counts.rows_read),
                     (words["in_evaluated"], counts.evaluated),
                     (words["in_failed"], counts.failed)]
        rows.append((words["in_program"], f"kpidsl {__version__}"))
        bold = Font(bold=True)
        for key, value in rows:
            label = WriteOnlyCell(sheet, value=key)
            label.font = bold
            cell = WriteOnlyCell(sheet, value=xlsx_text(value) if isinstance(value, str)
                                 else value)
            if isinstance(value, str):
                cell.data_type = "s"
            sheet.append([label, cell])

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        from openpyxl import Workbook

        words = section("TABLE", self.lang)
        rows = leaderboard_rows(items, by)
        columns = leaderboard_columns(ruleset, by, any("name" in r for r in rows))
        headers = {"rank": words["rank"], "employee": words["employee"],
                   "name": words["name"], "grade": words["grade"], "total": words["total"],
                   "value": words["attainment"]}
        columns = [Column(c.key, headers.get(c.key, c.header), c.kind) for c in columns]
        book = Workbook(write_only=True)
        sheet = _Sheet(book, words["by_total"] if by == "total" else words["by_kpi"],
                       columns, words["total"])
        for row in rows:
            sheet.add(row)
        sheet.close()
        self._inputs(book, ruleset)
        book.save(self.path)


def _digest(path: str) -> str:
    try:
        return sha256_of(path)
    except OSError:
        return "—"
