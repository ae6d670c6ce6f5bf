"""`kpidsl close` and `kpidsl ledger`: periods recorded in a ledger, and what it holds.

The work is in `kpidsl.ledger`; here are the options, the exit codes and the output.
"""

from __future__ import annotations

import json
import re
import sys

import click

from .common import (
    FINDINGS,
    OK,
    USAGE,
    FactsOptions,
    facts_options,
    handle_errors,
    lang_option,
    load_scheme,
    print_counts,
    report_failure,
    report_warning,
)
from .options import PlanOptions


def _echo(lines: list[str]) -> None:
    from ..escape import visible

    click.echo("\n".join(visible(line) for line in lines))


@click.command("close")
@click.argument("ruleset", type=click.Path())  # a scheme, or a directory of versions
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--period", required=True, metavar="PERIOD",
              help="The period to close, as the scheme is paid: 2025-07 (a month), 2025-Q3 "
                   "(a quarter), 2025 (a year).")
@click.option("--ledger", "ledger_path", required=True, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="The ledger (an SQLite file; created by the first close).")
@click.option("--reopen", is_flag=True,
              help="Record the differences with the closed period as corrections (new "
                   "lines; nothing recorded is changed). Needs --reason.")
@click.option("--reason", default="", metavar="TEXT", help="Why the period is reopened.")
@click.option("--deals", "deal_files", multiple=True, type=click.Path(dir_okay=False),
              metavar="FILE", help="Deals paid this period, one line each (CSV: employee, "
              "deal, date, credit, rate, paid); repeatable.")
@click.option("--reversals", "reversal_files", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Deals reversed this period (CSV: deal, date, optional employee and "
                   "period); clawed back as the scheme says. Repeatable.")
@facts_options
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True, help="How the outcome is written.")
@lang_option
@handle_errors
def close_command(ruleset: str, facts_paths: tuple[str, ...], period: str, ledger_path: str,
                  reopen: bool, reason: str, deal_files: tuple[str, ...],
                  reversal_files: tuple[str, ...], facts: FactsOptions, output_format: str,
                  lang: str) -> None:
    """Close a period: record every employee's statement in the ledger.

    A period already closed is computed again and compared (exit 1 when an amount differs;
    nothing is written); --reopen --reason records the differences as corrections. Draws,
    year-to-date pay and clawbacks read the balances earlier periods carried out. A bad
    facts row closes nothing (exit 1); another close writing the same ledger is refused
    (exit 2).

    \b
    Example:
      kpidsl close scheme.kpi july.csv --period 2025-07 --ledger pay.db
      kpidsl close scheme.kpi july.csv --period 2025-07 --ledger pay.db \\
          --reopen --reason "late refund of deal D-17"
      kpidsl close scheme.kpi aug.csv --period 2025-08 --ledger pay.db \\
          --deals aug-deals.csv --reversals aug-reversals.csv
    """
    from ..ledger import close_period
    from ..ledger.close import first_month
    from ..ledger.report import outcome_dict, outcome_text

    # a quarter or a year picks the version in force at its start
    start = first_month(period) if re.fullmatch(r"\d{4}(-Q[1-4])?", period) else period
    scheme, month = load_scheme(ruleset, PlanOptions(period=start), None)
    outcome = close_period(ledger_path, scheme, list(facts_paths), facts, period, month=month,
                           reopen=reopen, reason=reason, deal_files=list(deal_files),
                           reversal_files=list(reversal_files), on_failure=report_failure,
                           on_warning=report_warning)
    if output_format == "json":
        click.echo(json.dumps(outcome_dict(outcome), ensure_ascii=False, indent=2))
    else:
        _echo(outcome_text(outcome, ledger_path, lang, scheme.currency))
    if outcome.status == "failed":
        from ..run import Counts

        print_counts(Counts(len(facts_paths), len(outcome.failures), 0, len(outcome.failures)))
    sys.exit(FINDINGS if outcome.status in ("different", "failed") else OK)


@click.command("ledger")
@click.argument("ledger_path", metavar="LEDGER", type=click.Path(dir_okay=False))
@click.option("--employee", "-e", default=None, metavar="ID",
              help="One employee's history: every period's statement with its corrections "
                   "and the balances carried in and out.")
@click.option("--period", default=None, metavar="YYYY-MM", help="Only this period.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True, help="How the ledger is written.")
@lang_option
@handle_errors
def ledger_command(ledger_path: str, employee: str | None, period: str | None,
                   output_format: str, lang: str) -> None:
    """List a ledger: periods, totals, corrections, balances and differences to resolve.

    Exit 1 when a period carried in a balance that the period before no longer carries out
    (it was closed late or reopened since): run that period again and reopen it.

    \b
    Example:
      kpidsl ledger pay.db
      kpidsl ledger pay.db --employee ivanov --lang ru
      kpidsl ledger pay.db --format json > ledger.json
    """
    from ..i18n import Words
    from ..ledger import Ledger
    from ..ledger.report import history_text, ledger_dict, ledger_text, stale

    with Ledger(ledger_path) as ledger:
        if output_format == "json":
            click.echo(json.dumps(ledger_dict(ledger, employee, period), ensure_ascii=False,
                                  indent=2))
        elif employee is not None:
            lines = history_text(ledger, employee, lang, period)
            if lines is None:
                click.echo("error: " + Words(lang, "LEDGER")("no_employee", employee=employee,
                                                             ledger=ledger_path), err=True)
                sys.exit(USAGE)
            _echo(lines)
        else:
            _echo(ledger_text(ledger, lang))
        sys.exit(FINDINGS if stale(ledger) else OK)


COMMANDS = [close_command, ledger_command]
