"""`kpidsl eval`: facts files through a scheme into a table, CSV, JSON, JSON Lines or XLSX."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import IO

import click

from .common import (
    FINDINGS,
    OK,
    FactsOptions,
    check_grade,
    facts_options,
    fail,
    handle_errors,
    lang_option,
    load_scheme,
    print_counts,
    run_facts,
)
from .options import PlanOptions, forecast_options, month_option
from .render import ResultsFormat, wrote_text


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
@click.option("--excel", is_flag=True,
              help="CSV for a spreadsheet: BOM, headers in --lang, amounts to the kopeck, "
                   "rounded percents (implied by --lang ru).")
@click.option("--sheets", type=click.Choice(["grade", "team"]), default=None,
              help="XLSX: one sheet per grade or per team.")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Table: the top N and bottom N by total only, saying how many are left "
                   "out.")
@click.option("--engine", type=click.Choice(["python", "duckdb", "auto"]), default="auto",
              show_default=True, help="Compute payments in Python or in embedded DuckDB "
              "(the same output, byte for byte; docs/sql.md); auto: DuckDB for a results "
              "table, csv, json or jsonl of a large CSV or Parquet file (each above its "
              "measured crossover), Python otherwise.")
@month_option
@forecast_options
@lang_option
@handle_errors
def eval_command(ruleset: str, facts_paths: tuple[str, ...], facts: FactsOptions,
                 output_format: str, output: str | None, rank_by: str | None,
                 excel: bool, sheets: str | None, limit: int | None, engine: str,
                 month: int | None, plan: PlanOptions, lang: str) -> None:
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
    from .render.base import Output, RenderOptions, Unsupported
    from .render.model import kpi_names

    fmt = ResultsFormat(output_format)
    scheme, month = load_scheme(ruleset, plan, month)
    check_grade(scheme, facts.grade)
    pace = plan.pace()  # None unless a forecast is asked for
    if rank_by is not None and rank_by != "total" and rank_by not in kpi_names(scheme):
        from ..diagnostics import did_you_mean

        hint = did_you_mean(rank_by, ["total", *kpi_names(scheme)])
        fail(f"--rank: '{rank_by}' is neither 'total' nor a KPI of {scheme.name}"
             + (f" ({hint})" if hint else ""))
    if fmt.to_file and output is None:
        fail(f"--format {fmt.value} writes a workbook: give the file with -o FILE")
    # a streamed table on the terminal is its own progress; a bar would break its lines
    streams_to_terminal = fmt is ResultsFormat.TABLE and limit is None and output is None \
        and rank_by is None and pace is None and sys.stdout.isatty()
    with ExitStack() as stack:
        stream: IO[str] | None = None
        workbook: IO[bytes] | None = None
        if output is not None:  # checked and opened before any row is read
            from ..outfile import output as open_output

            sink = stack.enter_context(open_output(output, binary=fmt.to_file, inputs=[
                ruleset, *facts_paths, *([plan.holidays] if plan.holidays else []),
                *([facts.mapping_file] if facts.mapping_file else [])]))
            if fmt.to_file:
                workbook = sink
            else:
                stream = sink
        plain = limit is None and rank_by is None and pace is None
        if engine == "auto" and not (fmt is ResultsFormat.TABLE and plain):
            # details of every KPI, leaderboards, forecasts: the Python engine computes them
            # anyway, and faster alone (docs/sql.md, `--engine auto`); csv, json and jsonl
            # that the query writes itself go to DuckDB above their own crossover
            lines = plain and fmt.value in ("csv", "json", "jsonl") and not (
                fmt.value == "csv" and (excel or lang == "ru"))
            if not lines:
                engine = "python"
            else:
                from ..sql.engine import choose_engine

                if choose_engine(scheme, facts_paths, fmt.value) != "duckdb":
                    engine = "python"
        run = run_facts(scheme, facts_paths, facts, month=month,
                        progress=not streams_to_terminal, engine=engine, period=plan.period)
        options = RenderOptions(excel=excel or lang == "ru", sheets=sheets, limit=limit,
                                scheme_file=scheme.checked.source.name,
                                facts_files=tuple(facts_paths), month=month,
                                counts=run.counts)
        renderer = fmt.renderer(Output(stream, workbook), lang,
                                options)
        try:
            if pace is not None:
                from .forecasts import forecast

                forecast(renderer, scheme, list(run), pace, plan, month, facts_paths, facts)
            elif rank_by is not None:
                renderer.leaderboard(scheme, list(run), rank_by)
            else:
                renderer.results(scheme, run)
        except Unsupported as exc:
            fail(str(exc))
    if output is not None:
        click.echo(wrote_text(output), err=True)
    print_counts(run.counts)
    sys.exit(FINDINGS if run.failures else OK)


COMMANDS = [eval_command]
