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


# Slice, DealLine and Deal are frozen dataclasses whose __init__ sets the attributes as one
# dict: a frozen dataclass's own __init__ sets each through object.__setattr__, which took
# 5.6 µs a DealLine (half the walk of a deal); this takes 1.4 µs. Equality, hashing, repr
# and dataclasses.replace are the dataclass's.
_SET = object.__setattr__


@dataclass(frozen=True, init=False)
class Slice:
    """The part of a deal's credit inside one tier, and what it pays there."""

    tier: int  # 1-based, as the curve lists its tiers
    tier_text: str  # "from 80% to 100%"
    credit: Decimal  # signed: negative when a reversal walks back down
    rate: Decimal
    amount: Decimal  # credit × rate, exact

    def __init__(self, tier: int, tier_text: str, credit: Decimal, rate: Decimal,
                 amount: Decimal) -> None:
        _SET(self, "__dict__", {"tier": tier, "tier_text": tier_text, "credit": credit,
                                "rate": rate, "amount": amount})


@dataclass(frozen=True, init=False)
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

    def __init__(self, payment: str, employee: str, source: str, key: str, date: dt.datetime,
                 file: str, row: int, credit: Decimal, share: Decimal | None, before: Decimal,
                 after: Decimal, attainment_before: Decimal | None,
                 attainment_after: Decimal | None, slices: tuple[Slice, ...], exact: Decimal,
                 amount: Decimal, lifted: Decimal = Decimal(0)) -> None:
        _SET(self, "__dict__", {
            "payment": payment, "employee": employee, "source": source, "key": key,
            "date": date, "file": file, "row": row, "credit": credit, "share": share,
            "before": before, "after": after, "attainment_before": attainment_before,
            "attainment_after": attainment_after, "slices": slices, "exact": exact,
            "amount": amount, "lifted": lifted})

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


@dataclass(frozen=True, init=False)
class Deal:
    """A deal as the walk needs it; `order` is its place in the total order."""

    order: tuple[object, ...]
    key: str
    date: dt.datetime
    file: str
    row: int
    credit: Decimal
    share: Decimal | None

    def __init__(self, order: tuple[object, ...], key: str, date: dt.datetime, file: str,
                 row: int, credit: Decimal, share: Decimal | None) -> None:
        _SET(self, "__dict__", {"order": order, "key": key, "date": date, "file": file,
                                "row": row, "credit": credit, "share": share})


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
    # a key of digits alone (most CRMs' ids) is its value: the same order, without parsing
    number: object = int(key) if key.isdigit() and key.isascii() and len(key) <= 27 \
        else key_number(key)
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
        rounding, minimum = MODES[mode], plan.minimum
        shown = CONTEXT.copy()  # attainments as shown: 34 significant digits
        attained = scale is not None and bool(scale)
        # a deal's attainment before is the one after the deal before it: one division a deal
        reached = shown.divide(running, scale) if attained else None  # type: ignore[arg-type]
        numbered = tuple(enumerate(bounds, start=1))
        for deal in sorted(deals, key=lambda d: d.order):
            credit = deal.credit
            before, after = running, running + credit
            if credit >= 0:
                low, high, sign = before, after, 1
            else:
                low, high, sign = after, before, -1
            slices = []
            exact = Decimal(0)
            for index, (lower, upper, tier) in numbered:
                start = low if lower is None or low >= lower else lower
                end = high if upper is None or high <= upper else upper
                if end > start:
                    part = end - start if sign > 0 else start - end
                    slices.append(Slice(index, tier.text, part, tier.rate, part * tier.rate))
            if sign < 0:
                slices.reverse()  # walking back down: the highest tier first
            for piece in slices:
                exact += piece.amount
            running = after
            attained_before = reached
            if attained:
                reached = shown.divide(after, scale)  # type: ignore[arg-type]
            amount = exact.quantize(step, rounding=rounding, context=CONTEXT) + 0
            lifted = Decimal(0)
            if minimum is not None:
                seen = lifts.setdefault(deal.key, [Decimal(0), Decimal(0)])
                seen[0] += credit
                if credit > 0 and amount < minimum:
                    lifted = minimum - amount
                elif credit < 0 and seen[0] <= 0 and seen[1]:
                    lifted = -seen[1]  # the deal reversed in full: its minimum goes too
                seen[1] += lifted
                amount += lifted
            lines.append(DealLine(plan.payment, employee, plan.source, deal.key, deal.date,
                                  deal.file, deal.row, credit, deal.share, before, after,
                                  attained_before, reached, tuple(slices), exact, amount,
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
