"""The clauses of a period with memory (draws, year to date, clawbacks): KPI660.

They are kept by the ledger (kpidsl/ledger/), which closes months, so each must make sense
for a month: a draw is so much a month, `paid monthly` is for a scheme whose period is
longer, and `carry negative balance` says what a year-to-date month below the one before
does, so it needs `paid monthly`.
"""

from __future__ import annotations

from .. import ast
from ..diagnostics import Diagnostic, error
from ..source import SourceFile
from .fold import fold
from .model import Variant


def check_memory(header: ast.Header, base: Variant, source: SourceFile) -> list[Diagnostic]:
    memory = header.memory
    if memory is None:
        return []
    found: list[Diagnostic] = []
    period = header.period or "month"
    if memory.paid_every and period == "month":
        found.append(error("KPI660", "'paid monthly' in a scheme whose period is a month: "
                           "every period is paid already", source, memory.span,
                           hint="write 'period year' and 'paid monthly' for an annual plan "
                                "paid each month"))
    if memory.carry_negative and not memory.paid_every:
        found.append(error("KPI660", "'carry negative balance' is about a year-to-date month "
                           "below the one before; the scheme is not paid year to date",
                           source, memory.span, hint="add 'period year' and 'paid monthly', "
                           "or remove the clause"))
    draw = memory.draw
    if draw is not None:
        paid_per = "month" if memory.paid_every else period
        if draw.period != paid_per:
            found.append(error("KPI660", f"a draw of so much a {draw.period} in a scheme paid "
                               f"per {paid_per}", source, draw.span,
                               hint=f"write: draw ... a {paid_per}"))
        for what, expr in (("the draw", draw.amount),
                           ("the most recovered a period", draw.recovered_at_most)):
            if expr is None:
                continue
            value = fold(expr, base.constant_values)
            currency = expr.currency if isinstance(expr, ast.Literal) else ""
            if value is None or value <= 0:
                found.append(error("KPI660", f"{what} must be a positive constant amount",
                                   source, expr.span, hint="e.g. draw 5_000 RUB a month"))
            elif currency and currency != (header.currency or "RUB"):
                found.append(error("KPI660", f"{what} is in {currency}, the scheme pays in "
                                   f"{header.currency or 'RUB'}", source, expr.span))
    clawback = memory.clawback
    if clawback is not None and clawback.within_days is not None and clawback.within_days < 1:
        found.append(error("KPI660", "a clawback window of no days takes nothing back",
                           source, clawback.span, hint="within 90 days"))
    return found
