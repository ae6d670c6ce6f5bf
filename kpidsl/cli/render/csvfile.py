"""CSV: plain (comma, point decimals, exact digits) for machines and later imports."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from ...results import plain_text
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


def write_rows(stream: IO[str], columns: list[Column], rows: Iterable[list[str]]) -> None:
    """The header of `columns`, then rows already made cells (`flat_cells`)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    writer.writerows(rows)


def flat_cells(ruleset: Ruleset, columns: list[Column]) -> Callable[[Evaluated], list[str]]:
    """Each result as the cells of `columns` (flat_columns, detailed), the text `write_csv`
    writes for `flat_row`: read from the result's figures, without the row dictionary and a
    KpiResult per KPI (on a million rows of the reference scheme, ~9 µs a row fewer)."""
    at = {c.key: i for i, c in enumerate(columns)}
    width = len(columns)
    employee_at, grade_at, team_at, total_at = at["employee"], at["grade"], at["team"], at["total"]
    layouts: dict[str, tuple[list[tuple[int, int, int] | None], list[int | None]]] = {}

    def layout(info: Any) -> tuple[list[tuple[int, int, int] | None], list[int | None]]:
        found = layouts.get(info.name)
        if found is None:
            kpis = [(at[f"kpi:{k}"], at[f"att:{k}"], at[f"pay:{k}"]) if f"kpi:{k}" in at
                    else None for k in info.layout.kpis]
            pays = [at.get(f"component:{name}") for name in info.layout.pays]
            found = layouts[info.name] = (kpis, pays)
        return found

    def cells(item: Evaluated) -> list[str]:
        result = item.result
        row = [""] * width
        row[employee_at] = result.employee
        for key, text in item.extra.items():
            row[at[f"extra:{key}"]] = text
        row[grade_at] = result.grade
        row[team_at] = result.team or ""
        kpis, pays = layout(result.info)
        values, _plans, attainments, payouts = result.kpi_figures()
        for where, value, attainment, payout in zip(kpis, values, attainments, payouts,
                                                    strict=True):
            if where is not None:  # _text written out (str where it has no exponent)
                for at_cell, number in zip(where, (value, attainment, payout)):  # noqa: B905
                    if type(number) is Decimal:
                        text = str(number)
                        row[at_cell] = format(number, "f") if "E" in text or "e" in text \
                            else text
                    else:
                        row[at_cell] = _text(number)
        for at_pay, amount in zip(pays, result.component_amounts(), strict=True):
            if at_pay is not None:
                row[at_pay] = _text(amount)
        row[total_at] = _text(result.total)
        return row

    return cells


def _text(value: object) -> str:
    """write_csv's cell: '' for None, a Decimal in plain digits, anything else as str."""
    if type(value) is Decimal:
        return plain_text(value)  # type: ignore[return-value]
    if value is None:
        return ""
    return cell_text(value)


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
            if getattr(items, "native", None) is not None:  # DuckDB writes the lines
                from ...sql.formats import write_excel

                if write_excel(self.out.text.write, ruleset, items, self.lang):
                    return
            extra, rows = rows_with_every_column(items, lambda i: people_row(i, self.lang))
            write_excel_csv(self.out.text, people_columns(ruleset, extra, self.lang), rows,
                            self.lang)
            return
        if getattr(items, "native", None) is not None:  # DuckDB writes the lines
            from ...sql.lines import write_lines

            if write_lines(self.out.text.write, ruleset, items):
                return
        fused = getattr(items, "fused", None)
        if fused is not None:  # one CSV file: read, evaluated and written in one loop
            from ...fused import write_results

            write_results(fused, "csv", self.out.text)
            return
        if getattr(items, "uniform_extra", False):  # every row has the first row's columns
            items = iter(items)
            first = next(items, None)
            columns = flat_columns(ruleset, list(first.extra) if first is not None else [],
                                   detailed=True)
            write_rows(self.out.text, columns, () if first is None else
                       map(flat_cells(ruleset, columns), itertools.chain([first], items)))
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
