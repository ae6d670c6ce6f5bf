"""A period that remembers earlier ones: year to date, clawbacks and draws, in that order.

Pure arithmetic on exact decimals: what the scheme earned this period (its components),
the balances carried in from the ledger, the period's per-deal lines and reversals → the
statement's lines and the balances carried out. Nothing here reads files or the database
(kpidsl/ledger/close.py does), so every rule is tested on its own numbers.

The order, and why:

1. **Year to date** (`period year paid monthly`): the scheme computes the year's pay on
   year-to-date facts; the month pays that minus what the ledger counts as paid this year.
   A lower month would pay a negative amount: it pays 0 and the difference is either
   forgiven (the default) or, with `carry negative balance`, carried and netted from later
   months (the year-to-date arithmetic does it: what counts as paid does not move).
2. **Per-deal lines and clawbacks**: a deal reversed in this period takes back what its
   original line paid, at the original rate (credit × rate, rounded as the scheme rounds
   pay lines) or the amount paid, unless the reversal comes after the window.
3. **The draw**, last, on what is left: it guarantees the amount; a recoverable draw's
   top-ups are owed and recovered from the excess of later periods (at most so much a
   period when the scheme says so).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import ast
from ..runtime import round_to

ZERO = Decimal(0)

# line kinds, in statement order; `PAID_KINDS` add up to what is paid
COMPONENT, DEAL, YTD_PRIOR, YTD_DEFERRED, YTD_FORGIVEN = (
    "component", "deal", "ytd_prior", "ytd_deferred", "ytd_forgiven")
# a deal the scheme paid itself (`pay ... for each deal`): a detail of its payment's line,
# recorded so that a later reversal finds it; not added again to what is paid
DEAL_LINE = "deal_line"
CLAWBACK, CLAWBACK_OUTSIDE, DRAW, RECOVERY = "clawback", "clawback_outside", "draw", "recovery"
# a negative row of a deals export that reverses a deal paid in an earlier period: what the
# payment's walk took back for it is given back here, and the deal's clawback takes it back
# once, as the scheme's clause values it
REVERSAL_ROW = "reversal_row"
PAID_KINDS = (COMPONENT, DEAL, YTD_PRIOR, YTD_DEFERRED, YTD_FORGIVEN, REVERSAL_ROW, CLAWBACK,
              DRAW, RECOVERY)
KINDS = (COMPONENT, DEAL_LINE, YTD_PRIOR, YTD_DEFERRED, YTD_FORGIVEN, DEAL, REVERSAL_ROW,
         CLAWBACK, CLAWBACK_OUTSIDE, DRAW, RECOVERY)

# balances carried from period to period
DRAW_BALANCE = "draw"  # recoverable draws not yet recovered: owed by the employee
PAID_THIS_YEAR = "paid_this_year"  # what year to date counts as paid (minus forgiven)
YEAR_BALANCE = "year"  # earned this year − paid this year (negative: paid ahead)


@dataclass(frozen=True)
class Entry:
    """One line of a statement: what kind, which payment or deal, the amount."""

    kind: str
    name: str
    amount: Decimal
    detail: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class DealLine:
    """A deal paid this period: its credit, the rate of its calculation, the amount paid."""

    employee: str
    deal: str
    date: dt.date
    credit: Decimal
    rate: Decimal
    paid: Decimal
    where: str = ""  # file:row, for messages


@dataclass(frozen=True)
class Reversal:
    """A deal reversed (cancelled, refunded) in this period."""

    deal: str
    date: dt.date
    employee: str = ""
    period: str = ""  # the period it was paid in, when the file says so
    where: str = ""


@dataclass(frozen=True)
class Original:
    """A deal's line as the ledger holds it (all its revisions summed)."""

    employee: str
    deal: str
    period: str
    line: int  # the id of the line in the ledger
    date: dt.date
    credit: Decimal
    rate: Decimal
    paid: Decimal
    exact: Decimal | None = None  # a deal the scheme paid: its exact amount before rounding


@dataclass
class Carried:
    """Balances carried in from the ledger for one employee."""

    draw: Decimal = ZERO
    paid_this_year: Decimal = ZERO
    year: Decimal = ZERO


@dataclass
class Settlement:
    """One employee's period: the lines, what is paid, and the balances carried out."""

    employee: str
    entries: list[Entry]
    balances: dict[str, tuple[Decimal, Decimal]]  # name → (carried in, carried out)

    @property
    def earned(self) -> Decimal:
        return sum((e.amount for e in self.entries if e.kind == COMPONENT), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((e.amount for e in self.entries if e.kind in PAID_KINDS), ZERO)


def clawback_value(original: Original, basis: str, step: Decimal, mode: str) -> Decimal:
    """What a clawback takes back (positive): at the original rate (the exact amount of the
    deal's calculation, rounded as pay lines are) or the amount paid."""
    if basis == "rate":
        exact = original.exact if original.exact is not None else \
            original.credit * original.rate
        return round_to(exact, step, mode)
    return original.paid


def settle(employee: str, components: dict[str, Decimal], memory: ast.Memory | None,
           draw: tuple[Decimal, Decimal | None] | None, carried: Carried,
           deals: list[DealLine], clawbacks: list[tuple[Reversal, Original]],
           step: Decimal, mode: str, paid_by_scheme: list[Entry] | None = None,
           reversal_rows: list[Entry] | None = None) -> Settlement:
    """The period's statement for one employee (see the module's docstring for the order).

    `draw` is (amount, most recovered a period) folded from the scheme; `clawbacks` pairs
    each reversal with the original line it reverses; `reversal_rows` give back what the
    scheme's own per-deal pay took for a reversal that a clawback takes instead."""
    entries = [Entry(COMPONENT, name, amount) for name, amount in components.items()]
    entries += paid_by_scheme or []
    earned = sum(components.values(), ZERO)
    balances: dict[str, tuple[Decimal, Decimal]] = {}
    net = earned
    if memory is not None and memory.paid_every:
        base = carried.paid_this_year
        entries.append(Entry(YTD_PRIOR, "", -base, {"earned_to_date": str(earned)}))
        due = earned - base
        base_out = earned
        if due < 0:
            if memory.carry_negative:
                entries.append(Entry(YTD_DEFERRED, "", -due))
                base_out = base
            else:
                entries.append(Entry(YTD_FORGIVEN, "", -due))
        net = max(due, ZERO)
        balances[PAID_THIS_YEAR] = (base, base_out)
        balances[YEAR_BALANCE] = (carried.year, earned - base_out)
    for deal in deals:
        entries.append(Entry(DEAL, deal.deal, deal.paid, {
            "date": deal.date.isoformat(), "credit": str(deal.credit), "rate": str(deal.rate)}))
        net += deal.paid
    for row in reversal_rows or []:
        entries.append(row)
        net += row.amount
    for reversal, original in clawbacks:
        basis = memory.clawback if memory is not None and memory.clawback else None
        days = (reversal.date - original.date).days
        detail: dict[str, Any] = {
            "reversed_on": reversal.date.isoformat(), "original_period": original.period,
            "original_line": original.line, "original_paid": str(original.paid),
            "credit": str(original.credit), "rate": str(original.rate), "days": days,
            "basis": basis.basis if basis else "paid"}
        window = basis.within_days if basis else None
        if window is not None and days > window:
            detail["window_days"] = window
            entries.append(Entry(CLAWBACK_OUTSIDE, original.deal, ZERO, detail))
            continue
        amount = clawback_value(original, basis.basis if basis else "paid", step, mode)
        if window is not None:
            detail["window_days"] = window
        entries.append(Entry(CLAWBACK, original.deal, -amount, detail))
        net -= amount
    if draw is not None:
        amount, at_most = draw
        recoverable = memory is not None and memory.draw is not None and \
            memory.draw.recoverable
        owed = carried.draw
        if net < amount:
            top_up = amount - net
            entries.append(Entry(DRAW, "", top_up, {"guaranteed": str(amount),
                                                    "recoverable": recoverable}))
            if recoverable:
                owed += top_up
        elif recoverable and owed > 0:
            recovered = min(net - amount, owed, *([at_most] if at_most is not None else []))
            if recovered > 0:
                entries.append(Entry(RECOVERY, "", -recovered, {"owed": str(owed)}))
                owed -= recovered
        if recoverable or carried.draw:
            balances[DRAW_BALANCE] = (carried.draw, owed)
    return Settlement(employee, entries, balances)
