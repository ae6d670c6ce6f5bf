"""`kpidsl eval`: facts files through a scheme into a table, CSV, JSON, JSON Lines or XLSX."""

from __future__ import annotations

import itertools
import sys
from contextlib import ExitStack
from typing import IO

import click

from .common import (
    FINDINGS,
    OK,
    FactsOptions,
    evaluate_rows,
    facts_options,
    fail,
    handle_errors,
    lang_option,
    print_summary,
)
from .plans import PlanOptions, forecast_options, load_scheme, write_forecast
from .render import ResultsFormat

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def month_number(value: str | None) -> int | None:
    """'jan'..'dec' or 1..12 → 1..12 (plans and constants may differ by month)."""
    if value is None:
        return None
    text = value.strip().lower()[:3]
    if text in MONTHS:
        return MONTHS.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    raise click.BadParameter(f"expected a month (jan..dec or 1..12), got {value!r}")


def month_option(function):  # type: ignore[no-untyped-def]
    return click.option("--month", default=None, metavar="MONTH",
                        callback=lambda _c, _p, v: month_number(v),
                        help="The month evaluated (jan..dec or 1..12), for plans that differ "
                             "by month.")(function)


def check_grade(ruleset, grade: str | None) -> None:  # type: ignore[no-untyped-def]
    if grade is not None and grade not in ruleset.checked.variants:
        from ..diagnostics import did_you_mean

        hint = did_you_mean(grade, ruleset.grades)
        known = ", ".join(ruleset.grades) or "none"
        fail(f"unknown grade '{grade}'; known grades: {known}" + (f" ({hint})" if hint else ""))


@click.command("eval")
@click.argument("ruleset", type=click.Path())  # a scheme, or a directory of versions (--period)
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@facts_options
@click.option("--format", "output_format", type=click.Choice([f.value for f in ResultsFormat]),
              default="table", show_default=True, help="How results are written.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of stdout (required for xlsx).")
@click.option("--rank", "rank_by", default=None, metavar="BY",
              help="A leaderboard instead: BY is 'total' or a KPI name (by its attainment).")
@click.option("--engine", type=click.Choice(["python", "duckdb", "auto"]), default="python",
              show_default=True, help="Compute payments in Python or in embedded DuckDB "
              "(same results; docs/sql.md); auto: DuckDB for large files.")
@month_option
@forecast_options
@lang_option
@handle_errors
def eval_command(ruleset: str, facts_paths: tuple[str, ...], facts: FactsOptions,
                 output_format: str, output: str | None, rank_by: str | None,
                 engine: str, month: int | None, plan: PlanOptions, lang: str) -> None:
    """Evaluate facts files (CSV, JSON, JSON Lines, XLSX) and print every employee's pay.

    CSV is read as spreadsheets export it: the delimiter is detected, decimal commas, spaces
    or no-break spaces in thousands, % signs and UTF-8, UTF-8 with BOM or cp1251 are all
    understood. A bad cell is reported on stderr with its file, row and column; every other
    row is still evaluated and written, and the exit code is 1.

    \b
    Example:
      kpidsl eval rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv
      kpidsl eval scheme.kpi export.csv --map "Выручка=revenue" --id "Сотрудник" --format json
      kpidsl eval scheme.kpi march.xlsx --sheet March --rank total
    """
    from . import render

    scheme, month = load_scheme(ruleset, plan, month)
    check_grade(scheme, facts.grade)
    pace = plan.pace()  # None unless a forecast is asked for
    if rank_by is not None and rank_by != "total" and rank_by not in render.kpi_names(scheme):
        from ..diagnostics import did_you_mean

        hint = did_you_mean(rank_by, ["total", *render.kpi_names(scheme)])
        fail(f"--rank: '{rank_by}' is neither 'total' nor a KPI of {scheme.name}"
             + (f" ({hint})" if hint else ""))
    if output_format == ResultsFormat.XLSX and output is None:
        fail("--format xlsx writes a workbook: give the file with -o FILE")
    items, failures, summary = evaluate_rows(
        scheme, facts_paths, mapping=facts.mapping, id_column=facts.id_column,
        sheet=facts.sheet, grade=facts.grade, month=month, progress=True, engine=engine)
    with ExitStack() as stack:
        stream: IO[str] = sys.stdout
        if output is not None and output_format != ResultsFormat.XLSX:
            stream = stack.enter_context(open(output, "w", encoding="utf-8", newline=""))
        if pace is not None:
            write_forecast(scheme, items, pace, plan, month, output_format, stream, lang,
                           facts_paths=facts_paths, facts=facts)
        elif rank_by is not None:
            _leaderboard(scheme, list(items), rank_by, output_format, stream, output, lang)
        elif output_format == ResultsFormat.TABLE:
            stream.write(render.results_table(scheme, list(items), lang) + "\n")
        elif output_format in (ResultsFormat.JSON, ResultsFormat.JSONL):
            write = render.write_json if output_format == ResultsFormat.JSON else \
                render.write_jsonl
            write(stream, (render.result_dict(i) for i in items))
        else:
            first = list(itertools.islice(items, 1))
            extra = list(first[0].extra) if first else []
            columns = render.flat_columns(scheme, extra, detailed=True)
            rows = render.rows_iter(itertools.chain(first, items))
            if output_format == ResultsFormat.CSV:
                render.write_csv(stream, columns, rows)
            else:
                assert output is not None
                render.write_xlsx(output, columns, rows, scheme.name)  # type: ignore[arg-type]
    if output is not None:
        click.echo(f"wrote {output}", err=True)
    print_summary(summary)
    sys.exit(FINDINGS if failures else OK)


def _leaderboard(scheme, items, by, output_format, stream, output, lang):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from . import render

    rows = render.leaderboard_rows(items, by)
    if output_format == ResultsFormat.TABLE:
        stream.write(render.leaderboard_table(scheme, rows, by, lang) + "\n")
        return
    columns = render.leaderboard_columns(scheme, by, any("name" in r for r in rows))
    if output_format == ResultsFormat.CSV:
        render.write_csv(stream, columns, rows)
    elif output_format == ResultsFormat.XLSX:
        render.write_xlsx(Path(output), columns, rows, "leaderboard")
    else:
        ready = (render.json_ready(r, columns) for r in rows)
        (render.write_json if output_format == ResultsFormat.JSON else render.write_jsonl)(
            stream, ready)


COMMANDS = [eval_command]
