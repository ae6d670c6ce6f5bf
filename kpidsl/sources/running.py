"""Per-deal payments of `--engine duckdb`, vectorised over the deals DuckDB has put in order.

DuckDB filters a payment's deals and sorts them by employee, date, key, file and row; the
running total, every tier's slice, the rounding, the per-deal minimum and each employee's sum
are then whole-array integer operations (numpy) over those columns, never a Python loop over
deals. Measured at 900 000 deals on the shared two-core machine: DuckDB's
`SUM(c) OVER (PARTITION BY employee ORDER BY …)` took 0.5–1.6 s where its ORDER BY of the
same columns took 0.13 s, and the tier slices and rounding as SQL expressions 0.5–0.85 s
more; the same arithmetic here takes a few hundredths of a second.

Every value is an integer number of units: credits and tier bounds of 10^-K (K the decimals
they need), rates of 10^-R, a deal's exact amount of 10^-(K+R), rounded to the payout step
as `Decimal.quantize` rounds (`rounding_units`, held to it by a property test). The caller
checks the magnitudes fit in 64 bits (`fits`) and otherwise uses the SQL query
(kpidsl/sources/native.py), so no sum can wrap. The Python walk
(kpidsl/sources/transactions.py) is the oracle; the lines shown are still its own, and must
sum to these totals (KPI904).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LIMIT = 2 ** 62  # every intermediate stays below this in magnitude (`fits`)


@dataclass(frozen=True)
class Tiers:
    """Tier bounds in units (None: open), one row of bounds per employee ordinal when the
    plans differ (`per_employee`), else one row for all; rates in units."""

    bounds: Any  # numpy int64 array (employees or 1) × (2 × tiers); `open_` marks None
    open_: list[tuple[bool, bool]]  # per tier: (lower open, upper open), the same for all
    rates: list[int]


def fits(max_credit: int, max_run: int, max_bound: int, rate_sum: int, shift: int,
         minimum: int, deals: int) -> bool:
    """Whether every intermediate of `payment_totals` stays below 2^62: running totals and
    bounds (and their differences), a deal's exact amount, an employee's sum."""
    scale = 10 ** max(0, -shift)
    biggest = max(max_run, max_bound, max_credit)
    # the paid-to-date function F (`payment_totals`) is at most 2 × biggest × the rates
    return (4 * biggest < LIMIT and max_run * max(rate_sum, 1) * scale < LIMIT
            and 2 * biggest * max(rate_sum, 1) < LIMIT
            and (minimum + 1) * (deals + 1) * 4 < LIMIT)


class Buffers:
    """Arrays reused from one batch of deals to the next. A new numpy array of a million
    deals takes its pages afresh: a min and a max into new arrays took 3.8 ms, into reused
    ones 0.6; `payment_totals` over a million deals took 43 ms (half even) and 23 (half up)
    with new arrays, 18 and 13 with these (measured)."""

    def __init__(self) -> None:
        self._held: dict[str, Any] = {}

    def get(self, np: Any, name: str, n: int, dtype: Any = None) -> Any:
        """`name`'s array, of at least `n` items, cut to `n` (its values are whatever the
        last batch left there)."""
        dtype = np.dtype(dtype or np.int64)
        found = self._held.get(name)
        if found is None or len(found) < n or found.dtype != dtype:
            found = self._held[name] = np.empty(n, dtype=dtype)
        return found[:n]


def rounding_units(np: Any, x: Any, shift: int, mode: str, buffers: Buffers | None = None,
                   ) -> Any:
    """Integers `x` of units 10^-shift times the step's, rounded to whole steps as
    Decimal.quantize rounds (kpidsl/sources/native.py's rounding_sql, in arrays). With
    `buffers`, the result is one of theirs, valid until their next use."""
    if shift <= 0:
        return x * (10 ** -shift)
    m = 10 ** shift
    work = buffers or Buffers()
    units = work.get(np, "units", len(x))
    np.abs(x, out=units)
    if mode in ("half up", "half down"):
        # m is even: half up is ⌊(|x| + m/2) / m⌋, half down ⌊(|x| + m/2 − 1) / m⌋ — three
        # array operations where the quotient, remainder and test below take seven
        np.add(units, m // 2 if mode == "half up" else m // 2 - 1, out=units)
        np.floor_divide(units, m, out=units)
    else:
        rest = work.get(np, "rest", len(x))
        np.divmod(units, m, out=(units, rest))
        half = m // 2
        if mode == "half even":
            np.add(units, (rest > half) | ((rest == half) & (units % 2 == 1)), out=units)
        elif mode == "up":
            np.add(units, rest > 0, out=units)
        elif mode == "ceiling":
            np.add(units, (x > 0) & (rest > 0), out=units)
        elif mode == "floor":
            np.add(units, (x < 0) & (rest > 0), out=units)
        # "down": the quotient as it is
    sign = work.get(np, "sign", len(x))
    np.sign(x, out=sign)
    np.multiply(units, sign, out=units)
    return units


def payment_totals(ordinal: Any, credit: Any, tiers: Tiers, shift: int, mode: str,
                   minimum: int | None = None, keys: Any = None, lift_shift: int = 0,
                   buffers: Buffers | None = None) -> tuple[Any, Any, Any, Any]:
    """Each employee's payment over its deals in order.

    `ordinal` (employee, sorted ascending) and `credit` (units) are the deals in the
    payment's order; `keys` a key number per deal (deals of one key share it) when there is
    a `minimum` (in units of the step × 10^-lift_shift). Returns (employee ordinals, their
    totals in those units, their deal counts, whether any deal of theirs was lifted to the
    minimum or had its minimum taken back). `buffers` are reused by each batch's call."""
    import numpy as np

    n = len(credit)
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool)
    work = buffers or Buffers()
    change = work.get(np, "change", n, bool)
    change[0] = True
    np.not_equal(ordinal[1:], ordinal[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, n))
    # the running total within each employee: one cumulative sum, less what the employees
    # before had, spread over their deals by a cumulative sum of its steps (two's
    # complement: the difference is exact though the global sum is not bounded, since
    # every employee's own total is — `fits`)
    after, before = work.get(np, "after", n), work.get(np, "before", n)
    with np.errstate(over="ignore"):
        np.cumsum(credit, out=after)
        before_each = after[starts] - credit[starts]
        before.fill(0)
        before[starts] = np.diff(before_each, prepend=0)
        np.cumsum(before, out=before)
        np.subtract(after, before, out=after)
    # a deal's exact amount, the sum of its slices between the running totals before and
    # after it signed as its credit, is F(after) − F(before) with F the paid-to-date
    # function (`_paid_to_date`): F once a deal, on `after` only; F(before) is the previous
    # deal's F(after), or F(0) at an employee's first deal. Half the array operations of
    # slicing each tier between `before` and `after`
    paid = _paid_to_date(np, after, ordinal, tiers, work.get(np, "paid", n),
                         work.get(np, "part", n))
    exact = before  # done with: the amounts go there
    np.subtract(paid[1:], paid[:-1], out=exact[1:])
    exact[starts] = paid[starts] - _paid_to_date(
        np, np.zeros(len(starts), dtype=np.int64), ordinal[starts], tiers)
    amount = rounding_units(np, exact, shift, mode, work)
    if minimum is None:
        return ordinal[starts], np.add.reduceat(amount, starts), counts, \
            np.zeros(len(starts), dtype=bool)
    amount = amount * (10 ** lift_shift)
    lift = _lifts(np, ordinal, keys, credit, amount, minimum)
    amount = amount + lift
    return ordinal[starts], np.add.reduceat(amount, starts), counts, \
        np.logical_or.reduceat(lift != 0, starts)


def _paid_to_date(np: Any, x: Any, ordinal: Any, tiers: Tiers, paid: Any = None,
                  part: Any = None) -> Any:
    """Σ rate × G(x) over the tiers, G(x) the running total's progress through the tier:
    the length of [lower, upper] ∩ [low, high] is G(high) − G(low) for low ≤ high. Each
    tier's part is written into `part` and added into `paid` in place."""
    per_employee = tiers.bounds.shape[0] > 1
    paid = np.zeros(len(x), dtype=np.int64) if paid is None else paid
    paid.fill(0)
    part = np.empty(len(x), dtype=np.int64) if part is None else part
    for i, ((open_low, open_high), rate) in enumerate(zip(tiers.open_, tiers.rates,
                                                          strict=True)):
        if not rate:
            continue
        lower = tiers.bounds[ordinal, 2 * i] if per_employee else tiers.bounds[0, 2 * i]
        upper = tiers.bounds[ordinal, 2 * i + 1] if per_employee else tiers.bounds[0, 2 * i + 1]
        if open_low and open_high:
            np.copyto(part, x)
        elif open_low:
            np.minimum(x, upper, out=part)
        elif open_high:
            np.maximum(x, lower, out=part)
        else:  # min(max(x, lower), upper); an empty tier (upper below lower) gives a
            # constant: its slices are 0
            np.clip(x, lower, upper, out=part)
        if not open_low:  # the part above the lower bound
            np.subtract(part, lower, out=part)
        if rate != 1:
            np.multiply(part, rate, out=part)
        np.add(paid, part, out=paid)
    return paid


def _lifts(np: Any, ordinal: Any, keys: Any, credit: Any, amount: Any, minimum: int) -> Any:
    """What `with a minimum of` adds to each deal, as the walk adds it: a deal of positive
    credit paying less than the minimum is lifted to it; a reversal that brings its key's
    credit to zero or below takes back every lift of that key since the last such reversal
    (transactions.walk's `lifts`). Deals of one employee and key keep their order."""
    n = len(credit)
    order = np.lexsort((keys, ordinal))  # stable: the payment's order within each key
    o_ord, o_key, o_credit = ordinal[order], keys[order], credit[order]
    o_amount = amount[order]
    new_key = np.empty(n, dtype=bool)
    new_key[0] = True
    new_key[1:] = (o_ord[1:] != o_ord[:-1]) | (o_key[1:] != o_key[:-1])
    key_starts = np.flatnonzero(new_key)
    with np.errstate(over="ignore"):
        total = np.cumsum(o_credit)
        so_far = total - np.repeat(total[key_starts] - o_credit[key_starts],
                                   np.diff(np.append(key_starts, n)))
    up = np.where((o_credit > 0) & (o_amount < minimum), minimum - o_amount, 0)
    reset = (o_credit < 0) & (so_far <= 0)
    # a group: from a key's first deal, or the deal after a reset, to the next reset
    group_start = new_key.copy()
    group_start[1:] |= reset[:-1]
    starts = np.flatnonzero(group_start)
    group = np.cumsum(group_start) - 1
    # a reset row's own `up` is 0 (its credit is negative): the group's sum is what it takes
    taken = np.add.reduceat(up, starts)[group]
    lift = np.where(reset, -taken, up)
    out = np.empty(n, dtype=np.int64)
    out[order] = lift
    return out


__all__ = ["LIMIT", "Tiers", "fits", "payment_totals", "rounding_units"]
