"""The ledger's part of an employee statement (`kpidsl statement ... --ledger pay.db`).

The scheme's calculation says what a month earned; a period with memory pays something
else: what the year to date owes, minus draws recovered and deals clawed back, plus a
draw's top-up. The statement document shows that part as the ledger closed it: each line
in words, each clawback beside the line it reverses (the period it was paid in, the deal,
what that line paid, the credit and rate of its calculation, what is taken back), and the
balances carried in and out (draw owed, counted as paid this year, the year's balance).

The period must be closed in the ledger, and the facts must earn what the ledger
recorded: a statement that shows one amount computed and another paid would say two
things (the `close` command compares them; `--reopen` corrects the ledger).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, KpiError, Severity
from ..i18n import MONTH_KEYS, Words
from ..numbers import money, percent
from .memory import CLAWBACK, CLAWBACK_OUTSIDE, COMPONENT, DEAL_LINE, ZERO
from .report import Statement, line_text, statements
from .store import Ledger


def _refused(code: str, message: str, path: str, hint: str = "") -> KpiError:
    return KpiError([Diagnostic(code, Severity.ERROR, message, path, hint=hint)])


def recorded_statement(ledger_path: str | os.PathLike[str], employee: str, period: str,
                       lang: str) -> tuple[Statement, list[Any]]:
    """The employee's statement for a closed period, and the period's revisions."""
    w = Words(lang, "LEDGER")
    name = os.fspath(ledger_path)
    with Ledger(ledger_path) as ledger:
        closings = ledger.closings(period)
        if not closings:
            raise _refused("KPI661", w("doc_not_closed", period=period, ledger=name), name,
                           w("doc_not_closed_hint", period=period, ledger=name))
        found = statements(ledger, period).get(employee)
    if found is None:
        raise _refused("KPI661", w("doc_not_in", ledger=name, employee=employee,
                                   period=period), name)
    return found, closings


def ledger_context(ledger_path: str | os.PathLike[str], components: dict[str, Decimal],
                   employee: str, month: str, currency: str, lang: str,
                   kind: str = "month") -> dict[str, Any]:
    """What the statement templates show under `ledger` for the period closed (a month, or
    the quarter or year the month YYYY-MM falls in, as the scheme is paid); KpiError
    (KPI661) when the period is not closed, the employee is not in it, or the facts earn
    other amounts than the ledger recorded."""
    from .close import label_of

    w = Words(lang, "LEDGER")
    name = os.fspath(ledger_path)
    period = label_of(month, kind)
    statement, closings = recorded_statement(ledger_path, employee, period, lang)
    recorded = {line.name: line.amount for line in statement.lines if line.kind == COMPONENT}
    for key in sorted(set(recorded) | set(components)):
        now, then = components.get(key, ZERO), recorded.get(key, ZERO)
        if now != then:
            raise _refused("KPI661", w("doc_differs", name=key, now=format(now, "f"),
                                       period=period, ledger=name,
                                       recorded=format(then, "f")), name,
                           w("doc_differs_hint", period=period))

    def cash(value: Decimal) -> str:
        return money(value, currency, lang)

    rows = [[w("doc_earned"), cash(statement.earned)]]
    for line in statement.lines:
        if line.kind in (COMPONENT, DEAL_LINE):
            continue  # the scheme's calculation and its deal table show them
        text = line_text(line, w)
        for revision, change, reason in line.revisions:
            text += "; " + w("revision_line", revision=revision, amount=cash(change),
                             reason=reason)
        rows.append([text, cash(line.amount)])
    clawbacks = []
    for line in statement.lines:
        if line.kind not in (CLAWBACK, CLAWBACK_OUTSIDE):
            continue
        d = line.detail
        taken = cash(-line.amount) if line.kind == CLAWBACK else \
            w("doc_outside", window=d.get("window_days", ""))
        clawbacks.append([d["original_period"], line.name, cash(Decimal(d["original_paid"])),
                          cash(Decimal(d["credit"])), percent(Decimal(d["rate"]), lang),
                          taken])
    balances = [[w("balance_" + key), cash(carried_in), cash(carried_out)]
                for key, (carried_in, carried_out) in sorted(statement.balances.items())]
    notes = []
    if statement.paid < 0:
        notes.append(w("note_negative", employee=employee, paid=cash(statement.paid),
                       period=period))
    last = closings[-1]
    revisions = w("doc_revisions", count=last.revision, reason=last.reason) \
        if last.revision else ""
    shown = f"{Words(lang).month(MONTH_KEYS[int(month[5:7]) - 1])} {month[:4]}" \
        if kind == "month" else period
    return {
        "title": w("doc_title", period=shown),
        "titles": [w("doc_line"), w("doc_amount")],
        "rows": rows,
        "paid_label": w("doc_paid"),
        "paid": cash(statement.paid),
        "clawbacks": {"title": w("doc_clawbacks"),
                      "titles": w("doc_clawback_columns").split("|"),
                      "rows": clawbacks} if clawbacks else None,
        "balances": {"title": w("doc_balances"),
                     "titles": w("doc_balance_columns").split("|"),
                     "rows": balances} if balances else None,
        "notes": notes,
        "source": w("doc_source", ledger=os.path.basename(name), period=period,
                    date=closings[0].closed_at[:10], revisions=revisions),
    }


__all__ = ["ledger_context", "recorded_statement"]
