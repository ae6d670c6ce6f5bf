"""The optimiser: what a variant's lowered form lets a backend compute once, while compiling.

It reads the lowered form (kpidsl/lower.py) and decides nothing about pay; it finds the
values that do not depend on the employee:

- folding: `value(expr)` is the exact value of an expression of numbers and constants
  (`+ − × / min max abs`), or None when it needs facts, a month or a team, when it is not
  a finite decimal (1/3: the evaluator keeps it as a fraction) or when computing it fails
  (the evaluator then reports the failure where it always does);
- constants: `lets` holds each constant that is the same every month, in order, so
  folding reads through them;
- trivial lets: `inlined` holds the constants that are a number written in the scheme and
  the same every month; a backend writes the number where the constant is read and never
  assigns it (measured with bench/throughput.py: ~0.1 µs an employee on b2b_manager).

A backend asks it instead of folding on its own, so every backend computes the same values
once.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from .lower import (
    Binary,
    BinaryOp,
    Call,
    ConstantValue,
    Division,
    Expr,
    Function,
    Negate,
    Number,
    VariantProgram,
)
from .runtime import CONTEXT

# Folding while compiling: a value that is not an exact decimal (1/3) is left to the
# evaluator, which keeps it as a fraction.
EXACT = CONTEXT.copy()
EXACT.traps[decimal.Inexact] = True
EXACT.traps[decimal.Rounded] = True


@dataclass
class Optimised:
    """A variant with what is known about it before any employee is seen."""

    variant: VariantProgram
    lets: dict[str, Decimal] = field(default_factory=dict)  # month-independent constants
    inlined: dict[str, Decimal] = field(default_factory=dict)  # constants written as numbers

    def value(self, expr: Expr | None) -> Decimal | None:
        """The exact value of `expr` when it is known while compiling, else None."""
        if expr is None:
            return None
        try:
            with decimal.localcontext(EXACT):
                return _fold(expr, self.lets)
        except ArithmeticError:
            return None


def optimise(variant: VariantProgram, inline: bool = True) -> Optimised:
    """Fold the variant's constants in order; note the trivial ones (`inline`) to inline."""
    out = Optimised(variant)
    for let in variant.lets:
        if let.value.by_month:
            continue
        value = out.value(let.value.value)
        if value is not None:
            out.lets[let.name] = value
            if inline and isinstance(let.value.value, Number):
                out.inlined[let.name] = let.value.value.value
    return out


def _fold(e: Expr, lets: dict[str, Decimal]) -> Decimal | None:
    """Numbers, constants and + − × / min max abs of them; anything read from an employee,
    conditions and roundings have no value here (as checks.fold on the checked tree)."""
    match e:
        case Number():
            return e.value
        case ConstantValue():
            return lets.get(e.name)
        case Negate():
            v = _fold(e.operand, lets)
            return None if v is None else -v
        case Binary():
            a, b = _fold(e.left, lets), _fold(e.right, lets)
            if a is None or b is None:
                return None
            return a + b if e.op is BinaryOp.ADD else a - b if e.op is BinaryOp.SUB else a * b
        case Division():
            a, b = _fold(e.left, lets), _fold(e.right, lets)
            if b == 0 and e.otherwise is not None:
                return _fold(e.otherwise, lets)
            return None if a is None or b is None or b == 0 else a / b
        case Call():
            values = [_fold(a, lets) for a in e.args]
            if any(v is None for v in values):
                return None
            if e.function is Function.ABS:
                return abs(values[0])  # type: ignore[arg-type]
            return (min if e.function is Function.MIN else max)(values)  # type: ignore[type-var]
    return None  # facts, KPIs, plans, attainments, teams, conditions, roundings, curves
