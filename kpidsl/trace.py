"""The evaluator's trace: every intermediate value it computed for one employee and month.

A tracing evaluator (kpidsl/backends/python.py with `trace=True`, compiled only when a
trace is asked for) calls `Trace.record(kind, key, *values)` as it computes. Explanations
render these values and compute none of their own, so what they show is what was paid
(a seasonal constant is the month's, a default is the one used, a curve's value is the
band's). Values are exact: quotients arrive as numerator and denominator and are kept as
`Fraction`s; `shown` gives the Decimal a person reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

Exact = Fraction


def exact(n: Any, d: Any) -> Fraction | None:
    """numerator ÷ denominator as an exact fraction (None when the value is None)."""
    if n is None:
        return None
    if isinstance(n, tuple):  # a share kept as (numerator, denominator)
        n, d = n
    return Fraction(n) / Fraction(d)


@dataclass
class Slice:
    """One tier of a marginal curve: the part of the input in it, its rate, what it pays."""

    low: Fraction
    high: Fraction
    rate: Decimal
    pays: Fraction


@dataclass
class CurveTrace:
    """A curve applied: its input, the band that applied and its value before the curve's
    own cap and floor."""

    curve_input: Fraction
    band: int
    raw: Fraction
    slices: tuple[Slice, ...] = ()
    value: Fraction | None = None  # after the curve's cap and floor (None: `raw`)

    @property
    def paid(self) -> Fraction:
        """The factor the curve gave (after its own cap and floor)."""
        return self.raw if self.value is None else self.value


@dataclass
class LineTrace:
    payment: str
    kpi: str
    share: Fraction | None = None
    attainment: Fraction | None = None
    curve: CurveTrace | None = None
    factor: Fraction | None = None  # after the curve's cap and floor, before the gates
    before_gates: Fraction | None = None  # share × factor, exact, before the gates
    rounded_before_gates: Decimal | None = None
    gated_factor: Fraction | None = None  # after the gates on the factor
    band: int = 0
    amount: Decimal | None = None  # rounded, before the gates on the amount
    gates: list[int] = field(default_factory=list)  # the line's gates that applied, by index
    limits: dict[int, Fraction] = field(default_factory=dict)  # gate index → its limit


@dataclass
class PaymentTrace:
    name: str
    exact: Fraction | None = None  # a formula's exact value before rounding; a pool's sum
    rounded: Decimal | None = None  # a formula rounded, a pool's sum; before the gates
    gates: list[int] = field(default_factory=list)
    limits: dict[int, Fraction] = field(default_factory=dict)  # gate index → its limit
    pool: Fraction | None = None  # a pool's amount (its lines' shares are weight × pool)


@dataclass
class KpiTrace:
    value: Fraction | None
    plan: Fraction | None
    attainment: Fraction | None  # as paid (after `round attainment`)
    unrounded: Fraction | None = None  # before `round attainment`
    unclamped: Fraction | None = None  # lower is better: 2 − value ÷ plan, before "at least 0"


@dataclass
class Trace:
    lets: dict[str, Fraction | None] = field(default_factory=dict)
    facts: dict[str, Decimal] = field(default_factory=dict)
    kpis: dict[str, KpiTrace] = field(default_factory=dict)
    lines: dict[tuple[str, str], LineTrace] = field(default_factory=dict)
    payments: dict[str, PaymentTrace] = field(default_factory=dict)
    # curve(x) in formulas, in the order computed: (curve, "kpi:name" or "pay:name", value)
    calls: list[tuple[str, str, CurveTrace]] = field(default_factory=list)
    # each choice made, under (scope, where the scheme writes it): True when an `if` took
    # `then` or a division with `otherwise` divided, False when it took the other way;
    # scope is None, or inside a curve the line's (payment, kpi) or ("call", curve, where)
    branches: dict[tuple[Any, tuple[int, int]], bool] = field(default_factory=dict)
    _pending: dict[Any, Any] = field(default_factory=dict, repr=False)  # until its record ends

    def record(self, kind: str, key: Any, *values: Any) -> None:
        """What a tracing evaluator calls; one branch per kind of record it writes."""
        if kind == "let":
            self.lets[key] = exact(*values)
        elif kind == "fact":
            self.facts[key] = values[0]
        elif kind == "branch":
            self.branches[key] = bool(values[0])
        elif kind in ("attainment", "unclamped"):
            self._pending[(kind, key)] = exact(*values)
        elif kind == "kpi":
            v, vd, p, pd, a, ad = values
            unrounded = self._pending.pop(("attainment", key), None)
            self.kpis[key] = KpiTrace(exact(v, vd), exact(p, pd), exact(a, ad),
                                      unrounded, self._pending.pop(("unclamped", key), None))
        elif kind == "slices":
            self._pending[key] = [Slice(Fraction(lo), Fraction(hi), rate, Fraction(pays))
                                  for lo, hi, rate, pays in values[0]]
        elif kind == "curve":
            x, x_d, value, value_d, band = values
            slices = tuple(Slice(s.low / Fraction(x_d), s.high / Fraction(x_d), s.rate,
                                 s.pays / Fraction(x_d)) for s in self._pending.pop(key, []))
            traced = CurveTrace(Fraction(x) / Fraction(x_d), band,
                                Fraction(value) / Fraction(value_d), slices)
            if isinstance(key, tuple) and key and key[0] == "call":
                self.calls.append((key[1], key[2], traced))
            else:
                self.line(key).curve = traced
        elif kind == "limited":
            curve = self.calls[-1][2] if isinstance(key, tuple) and key and \
                key[0] == "call" else self.line(key).curve
            if curve is not None:
                curve.value = exact(*values)
        elif kind == "factor":
            f, f_d, n, d, rounded = values
            line = self.line(key)
            line.factor, line.before_gates = exact(f, f_d), exact(n, d)
            line.rounded_before_gates = rounded
        elif kind == "line":
            share, share_d, x, x_d, f, f_d, band, amount = values
            line = self.line(key)
            line.share, line.attainment = exact(share, share_d), exact(x, x_d)
            line.gated_factor, line.band, line.amount = exact(f, f_d), band, amount
        elif kind == "gate":
            applied: LineTrace | PaymentTrace = \
                self.line(key) if isinstance(key, tuple) else self.payment(key)
            applied.gates.append(values[0])
            if len(values) == 3:  # a cap or floor: the limit it applied
                applied.limits[values[0]] = exact(values[1], values[2])  # type: ignore[assignment]
        elif kind == "pool":
            self.payment(key).pool = exact(*values)
        elif kind == "pay":
            n, d, rounded = values
            payment = self.payment(key)
            payment.exact, payment.rounded = exact(n, d), rounded
        else:
            raise ValueError(f"unknown trace record {kind!r}")

    __call__ = record

    def line(self, key: tuple[str, str]) -> LineTrace:
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = LineTrace(*key)
        return line

    def payment(self, name: str) -> PaymentTrace:
        payment = self.payments.get(name)
        if payment is None:
            payment = self.payments[name] = PaymentTrace(name)
        return payment


def shown(value: Fraction | None) -> Decimal | None:
    """An exact value as a person reads it: divided to 34 digits (kpidsl's context)."""
    if value is None:
        return None
    from .runtime import SHOWN

    return SHOWN.divide(Decimal(value.numerator), Decimal(value.denominator))
