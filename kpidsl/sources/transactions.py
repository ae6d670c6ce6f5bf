"""Per-deal pay on running attainment: each deal paid at the tier its running total is in.

Deals are taken in a total, deterministic order (date, then key, then file and row); each
moves the employee's running credit from `before` to `after`, and every tier the move passes
through pays its rate on the part of the deal inside it, so one deal can straddle two tiers.
A reversal (a negative credit) walks back down through the same slices. A line's amount is
the exact sum of its slices, rounded once, as the scheme rounds payouts.

Tiers 1 % / 2 % / 3 % / 4 % at 0 / 80 / 100 / 150 % of a 100 000 plan: 60 000 pays 600.00,
then 30 000 pays 20 000 × 1 % + 10 000 × 2 % = 400.00.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal

from ..runtime import CONTEXT
from .plan import PayPlan

# Wide enough that a credit (≤ 10^20, 20 decimals) times a bound or a rate (28 digits) is
# exact: an inexact step would raise rather than round.
EXACT = decimal.Context(prec=120, traps=[decimal.Inexact, decimal.InvalidOperation,
                                         decimal.DivisionByZero, decimal.Overflow])
MODES = {"half up": decimal.ROUND_HALF_UP, "half even": decimal.ROUND_HALF_EVEN,
         "half down": decimal.ROUND_HALF_DOWN, "up": decimal.ROUND_UP,
         "down": decimal.ROUND_DOWN, "ceiling": decimal.ROUND_CEILING,
         "floor": decimal.ROUND_FLOOR}


@dataclass(frozen=True)
class Slice:
    """The part of a deal's credit inside one tier, and what it pays there."""

    tier: int  # 1-based, as the curve lists its tiers
    tier_text: str  # "from 80% to 100%"
    credit: Decimal  # signed: negative when a reversal walks back down
    rate: Decimal
    amount: Decimal  # credit × rate, exact


@dataclass(frozen=True)
class DealLine:
    """One deal of one employee's per-deal payment: a line of the statement.

    `credit` is the employee's credit from the deal (its share when the deal is split);
    `before` and `after` the running total around it (money), `attainment_before/after` the
    same over the plan (None on a running total); `exact` the sum of the slices and `amount`
    that sum rounded once as the scheme rounds payouts. `file` and `row` name the source row.
    """

    payment: str
    employee: str
    source: str
    key: str
    date: dt.datetime
    file: str
    row: int
    credit: Decimal
    share: Decimal | None
    before: Decimal
    after: Decimal
    attainment_before: Decimal | None
    attainment_after: Decimal | None
    slices: tuple[Slice, ...]
    exact: Decimal
    amount: Decimal
    # what `with a minimum of` added: the line pays the minimum, its slices pay `exact`
    lifted: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, object]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {
            "payment": self.payment, "source": self.source, "key": self.key,
            "date": self.date.isoformat(sep=" "), "file": self.file, "row": self.row,
            "credit": text(self.credit), "share": text(self.share),
            "before": text(self.before), "after": text(self.after),
            "attainment_before": text(self.attainment_before),
            "attainment_after": text(self.attainment_after),
            "slices": [{"tier": s.tier, "tier_text": s.tier_text, "credit": text(s.credit),
                        "rate": text(s.rate), "amount": text(s.amount)} for s in self.slices],
            "amount": text(self.amount),
        } | ({"minimum_added": text(self.lifted)} if self.lifted else {})


@dataclass(frozen=True)
class Deal:
    """A deal as the walk needs it; `order` is its place in the total order."""

    order: tuple[object, ...]
    key: str
    date: dt.datetime
    file: str
    row: int
    credit: Decimal
    share: Decimal | None


_KEY_STEP = Decimal("1e-10")


def key_number(key: str) -> Decimal | None:
    """A key that is a plain number (at most 10 decimals, under 10^27: what DECIMAL(38, 10)
    holds) orders by value; any other key by its text, after the numbers."""
    if not key or not (key[0].isdigit() or key[0] in "+-."):
        return None
    try:
        number = Decimal(key)
    except ArithmeticError:
        return None
    if not number.is_finite() or "e" in key.lower() or abs(number) >= 10 ** 27 or \
            number != number.quantize(_KEY_STEP):
        return None
    return number


def order_key(date: dt.datetime, key: str, file_index: int, row: int) -> tuple[object, ...]:
    """Date, then key (numbers by value, then as written, before other text), then where the
    row is: a total order, the same as DuckDB's ORDER BY date, number NULLS LAST, key, file,
    row (kpidsl/sources/duck.py)."""
    number = key_number(key)
    return (date, (0, number, key) if number is not None else (1, key), file_index, row)


def walk(plan: PayPlan, employee: str, deals: list[Deal], plan_value: Decimal | None,
         step: Decimal, mode: str) -> list[DealLine]:
    """The employee's deals in order, each split across the tiers its credit passes."""
    bounds = []
    with decimal.localcontext(EXACT):
        scale = plan_value if plan.running == "attainment" else None
        for tier in plan.tiers:
            lower = None if tier.lower is None else tier.lower * scale if scale is not None \
                else tier.lower
            upper = None if tier.upper is None else tier.upper * scale if scale is not None \
                else tier.upper
            bounds.append((lower, upper, tier))
        lines = []
        running = Decimal(0)
        lifts: dict[str, list[Decimal]] = {}  # key → [credit so far, minimum added so far]
        for deal in sorted(deals, key=lambda d: d.order):
            before, after = running, running + deal.credit
            low, high = min(before, after), max(before, after)
            sign = 1 if deal.credit >= 0 else -1
            slices = []
            for index, (lower, upper, tier) in enumerate(bounds, start=1):
                start = low if lower is None else max(low, lower)
                end = high if upper is None else min(high, upper)
                if end > start:
                    part = (end - start) * sign
                    slices.append(Slice(index, tier.text, part, tier.rate, part * tier.rate))
            if sign < 0:
                slices.reverse()  # walking back down: the highest tier first
            exact = sum((s.amount for s in slices), Decimal(0))
            running = after
            attained = (None, None) if scale is None or not scale else \
                _attainments(before, after, scale)
            amount = exact.quantize(step, rounding=MODES[mode], context=CONTEXT) + 0
            lifted = Decimal(0)
            if plan.minimum is not None:
                seen = lifts.setdefault(deal.key, [Decimal(0), Decimal(0)])
                seen[0] += deal.credit
                if deal.credit > 0 and amount < plan.minimum:
                    lifted = plan.minimum - amount
                elif deal.credit < 0 and seen[0] <= 0 and seen[1]:
                    lifted = -seen[1]  # the deal reversed in full: its minimum goes too
                seen[1] += lifted
                amount += lifted
            lines.append(DealLine(plan.payment, employee, plan.source, deal.key, deal.date,
                                  deal.file, deal.row, deal.credit, deal.share, before, after,
                                  attained[0], attained[1], tuple(slices), exact, amount,
                                  lifted))
    return lines


def as_one_deal(plan: PayPlan, credit: Decimal, plan_value: Decimal | None, step: Decimal,
                mode: str) -> Decimal:
    """What a period's whole credit pays when it comes as one deal (earnings tables)."""
    day = dt.datetime(2000, 1, 1)
    deal = Deal(order_key(day, "1", 0, 0), "1", day, "", 0, credit, None)
    return walk(plan, "", [deal], plan_value, step, mode)[0].amount


def _attainments(before: Decimal, after: Decimal, plan: Decimal) -> tuple[Decimal, Decimal]:
    """Shown values: 34 significant digits (the quotient is exact when it terminates)."""
    with decimal.localcontext(CONTEXT):
        return before / plan, after / plan
