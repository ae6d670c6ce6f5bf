"""`kpidsl explain`: one employee's calculation, line by line, in English or Russian."""

from __future__ import annotations

import sys

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
    from ..explain import explain as explain_result

    scheme = load_ruleset(ruleset)
    check_grade(scheme, facts.grade)
    run = run_facts(scheme, facts_paths, facts, month=month, only=employee, period=period)
    found = list(run)
    if run.failures:
        sys.exit(FINDINGS)
    if not found:
        _not_found(scheme, facts_paths, facts, employee)
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


def _not_found(scheme, paths, facts: FactsOptions, employee: str) -> None:  # type: ignore[no-untyped-def]
    """Exit 2 saying why no result has that id: a member of a team a `paid per team` scheme
    pays as one (name the team to explain), or an id the files lack (the nearest ids)."""
    from ..diagnostics import did_you_mean
    from ..escape import visible

    # ids and teams are CRM text: escaped, so they cannot add or hide lines on the terminal
    members = {visible(k): visible(v) if v else v for k, v in
               _members(scheme, paths, facts).items()}
    employee = visible(employee)
    files = ", ".join(paths)
    if scheme.checked.header.per_team:
        team = members.get(employee)
        if team:
            fail(f"{scheme.name} pays per team, and '{employee}' is a member of team '{team}': "
                 "give the team's name with -e")
        ids = list(dict.fromkeys(t for t in members.values() if t))
    else:
        ids = list(members)
    hint = did_you_mean(employee, ids)
    if hint:
        fail(f"no employee '{employee}' in {files} ({hint})")
    listed = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
    fail(f"no employee '{employee}' in {files}; employees: {listed or 'none'}")


def _members(scheme, paths, facts: FactsOptions) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    """Each id in the files with its team (read again only on this error path)."""
    members: dict[str, str | None] = {}
    for path in paths:
        for item in facts.reader(path, scheme.fact_specs):
            if item.employee:
                members.setdefault(item.employee, getattr(item, "team", None))
    return members


COMMANDS = [explain]
