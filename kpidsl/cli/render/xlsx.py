"""An Excel workbook, streamed (write-only): amounts are numbers with two decimals."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import Renderer
from .model import Column, flat_columns, leaderboard_columns, leaderboard_rows, rows_iter

if TYPE_CHECKING:
    from ...api import Ruleset
    from ...run import Evaluated


def write_xlsx(path: Path, columns: list[Column], rows: Iterable[dict[str, Any]],
               title: str = "results") -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "results")
    bold = Font(bold=True)

    def header(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    sheet.append([header(c.header) for c in columns])
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            cell = WriteOnlyCell(sheet, value=value if value is not None else None)
            if isinstance(value, str):
                cell.data_type = "s"  # CRM text ('=1+2', '=HYPERLINK(…)') is never a formula
            if c.kind == "amount":
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


class XlsxRenderer(Renderer):
    name = "xlsx"

    @property
    def path(self) -> Path:
        assert self.out.path is not None, "a workbook is written to a file"
        return self.out.path

    def results(self, ruleset: Ruleset, items: Iterable[Evaluated]) -> None:
        items = iter(items)
        first = list(itertools.islice(items, 1))
        extra = list(first[0].extra) if first else []
        columns = flat_columns(ruleset, extra, detailed=True)
        write_xlsx(self.path, columns, rows_iter(itertools.chain(first, items)), ruleset.name)

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        rows = leaderboard_rows(items, by)
        columns = leaderboard_columns(ruleset, by, any("name" in r for r in rows))
        write_xlsx(self.path, columns, rows, "leaderboard")
