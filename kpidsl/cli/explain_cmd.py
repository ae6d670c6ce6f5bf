"""`kpidsl explain`: one employee's calculation, line by line, in English or Russian."""

from __future__ import annotations

import sys

import click

from .common import (
    FINDINGS,
    OK,
    USAGE,
    FactsOptions,
    check_grade,
    facts_options,
    handle_errors,
    lang_option,
    load_ruleset,
    run_facts,
)
from .options import month_option


@click.command()
@click.argument("ruleset", type=click.Path(dir_okay=False))
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--employee", "-e", required=True, metavar="ID",
              help="The employee to explain, as written in the id column.")
@click.option("--ledger", "ledger_path", default=None, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Then walk the employee's history in this ledger: every closed period's "
                   "statement, its corrections and the balances carried in and out.")
@facts_options
@month_option
@click.option("--period", default=None, metavar="YYYY-MM",
              help="The period whose rows of the scheme's sources (deal and call exports) "
                   "are counted: 2025-07.")
@lang_option
@handle_errors
def explain(ruleset: str, facts_paths: tuple[str, ...], employee: str, facts: FactsOptions,
            month: int | None, lang: str, period: str | None = None,
            ledger_path: str | None = None) -> None:
    """Explain one employee's pay: every KPI, band, coefficient, component and the total.

    Exit 1 when that employee's row is bad (the problem is printed), 2 when no row has
    that id.

    \b
    Example:
      kpidsl explain rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv -e ivanov
      kpidsl explain scheme.kpi march.csv --employee ivanov --lang ru
      kpidsl explain scheme.kpi march.csv --employee ivanov --ledger pay.db
    """
    from ..diagnostics import did_you_mean
    from ..explain import explain as explain_result

    scheme = load_ruleset(ruleset)
    check_grade(scheme, facts.grade)
    run = run_facts(scheme, facts_paths, facts, month=month, only=employee, period=period)
    found = list(run)
    if run.failures:
        sys.exit(FINDINGS)
    if not found:
        ids = _employees(scheme, facts_paths, facts)
        hint = did_you_mean(employee, ids)
        listed = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
        from ..escape import visible

        click.echo(visible(f"error: no employee '{employee}' in {', '.join(facts_paths)}"
                           + (f"; {hint}" if hint else f"; employees: {listed or 'none'}")),
                   err=True)
        sys.exit(USAGE)
    for item in found:
        from ..escape import visible

        # each line one line: an id or name from the CRM cannot add or hide lines
        click.echo("\n".join(visible(line) for line in explain_result(scheme, item.result,
                                                                       lang)))
        if item.result.deals:  # per-deal payments: each deal, its running total, its tiers
            from ..sources.explain import explain_deals

            click.echo("\n".join(visible(line) for line in explain_deals(
                scheme, item.result, lang)))
    if ledger_path is not None:
        _history(ledger_path, found[0].result.employee, lang)
    sys.exit(OK)


def _history(ledger_path: str, employee: str, lang: str) -> None:
    """The employee's closed periods in the ledger, after this period's calculation."""
    from ..escape import visible
    from ..ledger import Ledger
    from ..ledger.report import history_text

    with Ledger(ledger_path) as ledger:
        lines = history_text(ledger, employee, lang)
    if lines is not None:
        click.echo("\n" + "\n".join(visible(line) for line in lines))


def _employees(scheme, paths, facts: FactsOptions) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids in the files, for a did-you-mean (read again only on this error path)."""
    ids: list[str] = []
    for path in paths:
        for item in facts.reader(path, scheme.fact_specs):
            if item.employee:
                ids.append(item.employee)
    return ids


COMMANDS = [explain]
