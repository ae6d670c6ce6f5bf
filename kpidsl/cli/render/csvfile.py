"""CSV: plain (comma, point decimals, exact digits) for machines and later imports."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from . import cell_text
from .base import Renderer
from .model import (
    FORECAST_COLUMNS,
    Column,
    excel_number,
    flat_columns,
    flat_row,
    forecast_rows,
    leaderboard_columns,
    leaderboard_rows,
    people_columns,
    people_row,
)
from .spool import rows_with_every_column

if TYPE_CHECKING:
    from ...api import Ruleset
    from ...compare import Comparison
    from ...forecast import Forecast, Pace
    from ...run import Evaluated


def write_csv(stream: IO[str], columns: list[Column], rows: Iterable[dict[str, Any]]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.key) is None else cell_text(row.get(c.key))
                         for c in columns])


def write_excel_csv(stream: IO[str], columns: list[Column], rows: Iterable[dict[str, Any]],
                    lang: str) -> None:
    """A CSV a spreadsheet opens as columns: a BOM (Excel then reads UTF-8), ';' and decimal
    commas in Russian (the list separator of a Russian Windows), ',' and points in English;
    amounts to the kopeck, percents rounded for display. JSON keeps the exact values."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";" if lang == "ru" else ",", lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([excel_number(row.get(c.key), c.kind, row.get(f"unit:{c.key[4:]}"), lang)
                         for c in columns])


class CsvRenderer(Renderer):
    name = "csv"

    def results(self, ruleset: Ruleset, items: Iterable[Evaluated]) -> None:
        # a descriptive column may first appear in a later row: the union, in bounded memory
        if self.options.excel:
            extra, rows = rows_with_every_column(items, lambda i: people_row(i, self.lang))
            write_excel_csv(self.out.text, people_columns(ruleset, extra, self.lang), rows,
                            self.lang)
            return
        extra, rows = rows_with_every_column(items, flat_row)
        write_csv(self.out.text, flat_columns(ruleset, extra, detailed=True), rows)

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        rows = leaderboard_rows(items, by)
        columns = leaderboard_columns(ruleset, by, any("name" in r for r in rows))
        write_csv(self.out.text, columns, rows)

    def forecast(self, ruleset: Ruleset, items: list[Evaluated], forecasts: list[Forecast],
                 pace: Pace) -> None:
        writer = csv.writer(self.out.text, lineterminator="\n")
        writer.writerow(FORECAST_COLUMNS)
        writer.writerows(forecast_rows(forecasts))

    def comparison(self, comparison: Comparison, old: Ruleset, new: Ruleset) -> None:
        writer = csv.writer(self.out.text, lineterminator="\n")
        writer.writerow(["employee", "grade", "old_total", "new_total", "delta", "verdict",
                         "changed"])
        for r in comparison.rows:
            writer.writerow([r.employee, r.grade, r.old_total, r.new_total, r.delta, r.verdict,
                             "; ".join(c.what for c in r.changes)])
        writer.writerow(["(fund)", "", comparison.old_fund, comparison.new_fund,
                         comparison.new_fund - comparison.old_fund, "", ""])
