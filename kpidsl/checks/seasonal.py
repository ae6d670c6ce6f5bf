"""Seasonal constants inside curves: a curve is one function for every month.

A curve's bounds, points, rates, cap and floor are folded once when the scheme is compiled,
and its band formulas run outside the employee's month, so a constant written `by month`
would take its default value there (December's cut-off of 95 % paid as the usual 80 %) or
fail every row. The checker refuses it and points to the places where a month's value
works: the plan by month, the pool's amount, or the payment's formula.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

from .. import ast
from ..diagnostics import Diagnostic, error
from ..source import SourceFile
from .model import Variant
from .walk import references


def seasonal_constants(variant: Variant) -> set[str]:
    """Constants written `by month`, and constants computed from them."""
    seasonal = {name for name, c in variant.constants.items() if c.by_month}
    changed = True
    while changed:  # a chain of n constants settles in n rounds; schemes have dozens
        changed = False
        for name, constant in variant.constants.items():
            if name not in seasonal and any(kind == "value" and used in seasonal
                                            for kind, used, _ in references(constant.value)):
                seasonal.add(name)
                changed = True
    return seasonal


def _curve_expressions(curve: ast.Curve) -> Iterator[ast.Expr]:
    for band in curve.bands:
        yield from (e for e in (band.lower, band.upper, band.pays) if e is not None)
    for point in curve.points:
        yield from (point.at, point.pays)
    yield from (e for e in (curve.cap, curve.floor) if e is not None)
    if curve.spec is not None:  # what a kind keeps beyond bands and points (steps' numbers)
        values = (getattr(curve.spec, f.name) for f in fields(curve.spec))
        yield from (v for v in values if isinstance(v, ast.Expr))


def check_seasonal_curves(variant: Variant, source: SourceFile) -> list[Diagnostic]:
    seasonal = seasonal_constants(variant)
    if not seasonal:
        return []
    out: list[Diagnostic] = []
    for curve in variant.curves.values():
        for expr in _curve_expressions(curve):
            for kind, name, node in references(expr):
                if kind == "value" and name in seasonal:
                    out.append(error(
                        "KPI413", f"curve '{curve.name}' uses '{name}', a constant that "
                        "changes by month; a curve is the same in every month", source,
                        node.span,
                        hint="give the month's value to the plan ('plan … by month'), the "
                        "pool's amount or the payment's formula instead"))
    return out
