"""Schemes in real life on the command line: `compare` and `target`.

`kpidsl compare OLD.kpi NEW.kpi FACTS` runs a pilot scheme next to the current one;
`kpidsl target RULESET FACTS --employee ID --earn 130000 --vary revenue` finds the smallest
value of one fact that brings the income. Both read facts through `kpidsl.run` (so a
repeated employee is refused as in `eval`) and write through the renderers.
"""

from __future__ import annotations

import dataclasses
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

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
    report_failure,
)
from .options import PlanOptions, month_and_period, month_number
from .render import ResultsFormat, wrote_text

if TYPE_CHECKING:
    from ..api import Ruleset


def _union_specs(*rulesets: Ruleset) -> dict[str, Any]:
    """Facts either scheme reads; required when either requires it."""
    specs: dict[str, Any] = {}
    for ruleset in rulesets:
        for name, spec in ruleset.fact_specs.items():
            known = specs.get(name)
            specs[name] = spec if known is None else \
                dataclasses.replace(known, required=known.required or spec.required)
    return specs


@click.command("compare")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@facts_options
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]),
              default="table", show_default=True, help="How the comparison is written.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of stdout.")
@month_and_period
@lang_option
@handle_errors
def compare_command(old: str, new: str, facts_paths: tuple[str, ...], facts: FactsOptions,
                    output_format: str, output: str | None, month: str | None,
                    period: str | None, lang: str) -> None:
    """Run a new scheme next to the current one on the same facts (a pilot month).

    For every employee: the old total, the new total, the difference and the lines that
    changed; the payroll fund under each; who gains and who loses. Amounts are exact.

    \b
    Example:
      kpidsl compare rulesets/b2b_manager.kpi pilot.kpi rulesets/b2b_manager.facts.csv
      kpidsl compare current.kpi pilot.kpi march.csv --format csv > pilot.csv
      kpidsl compare rulesets/versions pilot.kpi july.csv --period 2025-07
    """
    with ExitStack() as stack:
        stream = None
        if output is not None:  # checked and opened before any row is read
            from ..outfile import output as open_output

            stream = stack.enter_context(open_output(output, inputs=[
                old, new, *facts_paths, *([facts.mapping_file] if facts.mapping_file else [])]))
        failures = _compare(old, new, facts_paths, facts, output_format, month, period, lang,
                            stream)
    if output is not None:
        click.echo(wrote_text(output), err=True)
    sys.exit(FINDINGS if failures else OK)


def _compare(old: str, new: str, facts_paths: tuple[str, ...], facts: FactsOptions,
             output_format: str, month: str | None, period: str | None, lang: str,
             stream: IO[str] | None) -> list[Any]:
    from ..compare import compare
    from ..run import RowFailure, read_rows
    from .render.base import Output

    when = PlanOptions(period=period)
    before, chosen = load_scheme(old, when, month_number(month), strict=False)
    after, _month = load_scheme(new, when, month_number(month), strict=False)
    check_grade(before, facts.grade)
    check_grade(after, facts.grade)
    from ..sources.run import has_sources

    failures: list[RowFailure] = []
    new_rows = None
    if has_sources(before) or has_sources(after):  # each scheme reads the exports its way
        rows = _scheme_rows(before, facts_paths, facts, chosen, period, failures)
        new_rows = _scheme_rows(after, facts_paths, facts, chosen, period, failures)
    else:
        rows = read_rows(_union_specs(before, after), facts_paths, facts, failures=failures,
                         on_failure=report_failure)
    files = {(r.row, r.employee): r.file for r in [*rows, *(new_rows or [])]}
    comparison = compare(before, after, rows, grade=facts.grade, month=chosen,
                         new_rows=new_rows)
    comparison.old_name = Path(before.checked.source.name).name  # the version picked, if any
    comparison.new_name = Path(after.checked.source.name).name
    for employee, row, diagnostics in comparison.problems:
        failure = RowFailure(files.get((row, employee), ""), row, employee, "", "",
                             tuple(diagnostics))
        failures.append(failure)
        report_failure(failure)
    ResultsFormat(output_format).renderer(Output(stream), lang).comparison(comparison, before,
                                                                          after)
    return failures


def _scheme_rows(scheme: Any, paths: tuple[str, ...], facts: FactsOptions, month: int | None,
                 period: str | None, failures: list[Any]) -> list[Any]:
    """One scheme's facts of every employee: from its sources (kpidsl eval's reading, its
    per-deal payments walked by its own tiers), else from the facts files; a problem both
    schemes meet is reported once."""
    from ..run import Counts, read_rows
    from ..sources.run import has_sources, source_items
    from .render import diagnostics_text

    seen = {(f.file, f.row, f.diagnostics[0].message if f.diagnostics else "")
            for f in failures}

    def once(failure: Any) -> None:
        key = (failure.file, failure.row,
               failure.diagnostics[0].message if failure.diagnostics else "")
        if key not in seen:
            seen.add(key)
            report_failure(failure)

    mine: list[Any] = []
    if not has_sources(scheme):
        rows = read_rows(scheme.fact_specs, paths, facts, failures=mine, on_failure=once)
    else:
        if month is None and period:
            month = int(period.split("-")[1])
        rows = [item.row for item in source_items(
            scheme, [Path(p) for p in paths], facts, month=month, only=None, period=period,
            failures=mine, on_failure=once,
            warn=lambda found: click.echo(diagnostics_text(found), err=True),
            counts=Counts())]
    failures += [f for f in mine if f not in failures]
    return rows


def _target_rows(scheme: Any, paths: tuple[str, ...], facts: FactsOptions, vary: str,
                 month: int | None, period: str | None) -> list[Any]:
    """The facts `target` starts from: the facts files, or for a scheme with sources what
    `kpidsl eval` computes from the exports. A fact a per-deal payment is walked on cannot
    vary: its deals, and so the payment, would stay as they are (KPI627)."""
    from ..diagnostics import KpiError, error
    from ..run import read_rows
    from ..sources.run import has_sources, source_plan

    if not has_sources(scheme):
        return read_rows(scheme.fact_specs, paths, facts, on_failure=report_failure)
    for pay in source_plan(scheme).pays.values():
        if vary in (pay.kpi, pay.fact):
            raise KpiError([error(
                "KPI627", f"'{vary}' is computed from the exports and paid deal by deal "
                f"(payment '{pay.payment}'): a new value of it would leave the deals, and so "
                "the payment, as they are", hint="vary another fact, or evaluate an export "
                "with the deals in mind")])
    return _scheme_rows(scheme, paths, facts, month, period, [])


@click.command("target")
@click.argument("ruleset", type=click.Path())
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--employee", required=True, metavar="ID", help="The employee (as in the facts).")
@click.option("--earn", required=True, metavar="AMOUNT",
              help="The income to reach, e.g. 130000 or '130 000'.")
@click.option("--vary", required=True, metavar="FACT", help="The one fact that may change.")
@facts_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True, help="How the answer is written.")
@month_and_period
@lang_option
@handle_errors
def target_command(ruleset: str, facts_paths: tuple[str, ...], employee: str, earn: str,
                   vary: str, facts: FactsOptions, output_format: str, month: str | None,
                   period: str | None, lang: str) -> None:
    """The smallest value of one fact that brings an employee to an income.

    The other facts stay as they are. The search is exact on the scheme's curves: it
    evaluates at every threshold, then bisects down to the fact's resolution (1 for counts,
    a kopeck for money, 0.0001 percentage points for percents) and proves that one step
    less falls short. Exit code 1 when the income cannot be reached (a cap forbids it).

    \b
    Example:
      kpidsl target rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv \\
          --employee ivanov --earn 130000 --vary revenue
    """
    from ..diagnostics import KpiError, did_you_mean, error
    from ..facts import FactValueError, parse_value
    from ..goalseek import seek
    from ..source import SourceFile
    from ..units import Unit
    from .render.base import Output

    scheme, chosen = load_scheme(ruleset, PlanOptions(period=period), month_number(month))
    check_grade(scheme, facts.grade)
    try:
        amount = parse_value(earn, Unit.MONEY)
    except FactValueError as exc:
        fail(f"--earn: {exc}")
    rows = _target_rows(scheme, facts_paths, facts, vary, chosen, period)
    found = [r for r in rows if r.employee == employee]
    if not found:
        hint = did_you_mean(employee, [r.employee for r in rows])
        raise KpiError([error("KPI628", f"employee '{employee}' is not in the facts "
                              f"({len(rows)} rows read)", SourceFile("--employee", ""),
                              hint=hint)])
    row = found[0]
    teammates: list[Any] = [r.values for r in rows
                            if r is not row and (r.team or "") == (row.team or "")]
    answer = seek(scheme, row.values, vary, amount, grade=facts.grade or row.grade,
                  employee=employee, month=chosen, teammates=teammates)
    fmt = ResultsFormat.JSON if output_format == "json" else ResultsFormat.TABLE
    fmt.renderer(Output(), lang).target(answer, scheme)
    sys.exit(OK if answer.reached else FINDINGS)


COMMANDS = [compare_command, target_command]
