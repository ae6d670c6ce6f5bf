"""Curves: bands in order with no gaps or overlaps, constant bounds, sensible shapes."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from .. import ast
from ..diagnostics import Diagnostic, error, warning
from ..exprtext import band_range_text, literal_text
from ..source import SourceFile
from ..units import Unit, describe, same_dimension
from .fold import fold
from .model import Variant
from .names import expressions
from .types import UnitChecker  # the unit inference the checker already ran
from .walk import nodes

INFINITY = Decimal("Infinity")


def band_bounds(band: ast.Band, constants: dict[str, Decimal]) -> tuple[Decimal | None,
                                                                       Decimal | None]:
    lower = -INFINITY if band.lower is None else fold(band.lower, constants)
    upper = INFINITY if band.upper is None else fold(band.upper, constants)
    return lower, upper


def _pct(value: Decimal) -> str:
    return literal_text(value, Unit.PERCENT) if value.is_finite() else "∞"


def check_curves(variant: Variant, source: SourceFile, currency: str = "RUB") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    constants = variant.constant_values
    for curve in variant.curves.values():
        if curve.uncapped is not None and curve.cap is not None:
            out.append(error("KPI411", f"curve '{curve.name}' has a cap and is declared "
                             "'uncapped'", source, curve.uncapped,
                             hint="keep the cap, or drop it and keep 'uncapped'"))
        for limit in (curve.cap, curve.floor):
            if limit is not None and fold(limit, constants) is None:
                out.append(error("KPI406", "a curve's cap or floor must be a constant", source,
                                 limit.span))
        out += curve.kind.check(curve, variant, source, currency)  # the kind's own rules
    return out


def check_bands(curve: ast.Curve, variant: Variant, source: SourceFile, currency: str,
                constant_pays: bool, shape: bool) -> list[Diagnostic]:
    """Bands in order with no gaps or overlaps and constant bounds; with `constant_pays`,
    what each pays (a tier's rate) is a constant; with `shape`, the curve never pays less
    for more and is capped if it accelerates."""
    out: list[Diagnostic] = []
    constants = variant.constant_values
    previous: tuple[ast.Band, Decimal, Decimal] | None = None
    samples: list[tuple[Decimal, Decimal]] = []
    for band in curve.bands:
        lower, upper = band_bounds(band, constants)
        bad = [b for b, v in ((band.lower, lower), (band.upper, upper)) if v is None]
        for bound in bad:
            out.append(error("KPI406", "band bounds must be constants (e.g. 80%)", source,
                             bound.span))  # type: ignore[union-attr]
        if bad:
            previous = None
            continue
        assert lower is not None and upper is not None
        if constant_pays and fold(band.pays, constants) is None:
            out.append(error("KPI406", "a tier's rate must be a constant", source,
                             band.pays.span))
        if lower > upper or (lower == upper and not (band.lower_inclusive and
                                                     band.upper_inclusive)):
            out.append(error("KPI401", f"band {_pct(lower)} – {_pct(upper)} is empty: its "
                             "start is not below its end", source, band.span))
        if previous is not None:
            out += _check_join(previous, band, lower, source)
        previous = (band, lower, upper)
        if shape:
            for x in _sample_points(lower, upper):
                value = fold(band.pays, constants, x)
                if value is not None:
                    samples.append((x, value))
    if shape:
        out += _check_shape(curve, samples, source, constants)
    out += _check_top(curve, constants, source, variant, currency)
    return out


def _check_top(curve: ast.Curve, constants: dict[str, Decimal], source: SourceFile,
               variant: Variant, currency: str) -> list[Diagnostic]:
    """A closed top band (`from 105% through 110%`) pays 0 above its end: warn (KPI410) unless
    it pays 0 there anyway, or the curve's floor keeps the pay."""
    if not curve.bands or curve.bands[-1].upper is None:
        return []
    top = curve.bands[-1]
    upper = fold(top.upper, constants)
    lowers = [band_bounds(b, constants)[0] for b in curve.bands]
    if upper is None or any(v is None for v in lowers) or lowers != sorted(lowers):  # type: ignore[type-var]
        return []  # bounds that are not constants, or out of order: reported as errors
    pays = fold(top.pays, constants, upper)
    if pays is not None and pays == 0:
        return []
    floor = fold(curve.floor, constants) if curve.floor is not None else None
    if floor is not None and pays is not None and floor >= pays:
        return []
    unit = bounds_unit(curve, variant, currency)
    at = literal_text(upper, unit or Unit.PERCENT, currency)
    where = f"above {at}" if top.upper_inclusive else f"from {at} up"
    start = "above" if top.upper_inclusive else "from"
    what = "attainment" if unit in (None, Unit.PERCENT) else "a value"
    word = curve.kind.verb
    return [warning("KPI410", f"curve '{curve.name}' pays 0 {where}: its top band "
                    f"({band_range_text(top)}) is closed, so {what} {where} "
                    "falls in no band", source, top.span,
                    hint=f"add a band for what lies beyond ({start} {at} {word} ...), or "
                    "leave the top band open")]


def _check_join(previous: tuple[ast.Band, Decimal, Decimal], band: ast.Band, lower: Decimal,
                source: SourceFile) -> list[Diagnostic]:
    prev_band, _prev_lower, prev_upper = previous
    if lower < _prev_lower:
        return [error("KPI401", "bands are out of order: list them from the lowest "
                      "attainment up", source, band.span)]
    if lower < prev_upper or (lower == prev_upper and prev_band.upper_inclusive and
                              band.lower_inclusive):
        return [error("KPI403", f"this band overlaps the previous one at {_pct(lower)}", source,
                      band.span, hint="use 'through' on one side and 'above' on the other, or "
                      "'to' and 'from'")]
    if lower > prev_upper or (not prev_band.upper_inclusive and not band.lower_inclusive):
        gap = f"between {_pct(prev_upper)} and {_pct(lower)}" if lower > prev_upper else \
            f"at exactly {_pct(lower)}"
        return [error("KPI402", f"no band covers attainment {gap}", source, band.span,
                      hint="start each band where the previous one ends")]
    return []


def _sample_points(lower: Decimal, upper: Decimal) -> list[Decimal]:
    lo = lower if lower.is_finite() else (upper - 1 if upper.is_finite() else Decimal(0))
    hi = upper if upper.is_finite() else lo + 2
    lo, hi = max(lo, Decimal(0)), max(hi, Decimal(0))
    return [lo, (lo + hi) / 2, hi]


def _check_shape(curve: ast.Curve, samples: list[tuple[Decimal, Decimal]], source: SourceFile,
                 constants: dict[str, Decimal]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    samples.sort()
    for (x1, y1), (x2, y2) in pairwise(samples):
        if x2 > x1 and y2 < y1:
            out.append(warning("KPI404", f"curve '{curve.name}' pays less at {_pct(x2)} than at "
                               f"{_pct(x1)}", source, curve.name_span,
                               hint="a higher attainment should never pay less"))
            break
    if curve.cap is None and curve.uncapped is None and curve.bands:
        last = curve.bands[-1]
        if last.upper is None:
            start = fold(last.lower, constants) or Decimal(1)
            probe = max(start, Decimal(1)) * 2
            value = fold(last.pays, constants, probe)
            if value is not None and value > probe:
                out.append(warning("KPI405", f"curve '{curve.name}' accelerates above "
                                   f"{_pct(start)} with no cap", source, curve.name_span,
                                   hint="add e.g. 'cap 200%' so one month cannot break the "
                                   "budget, or write 'uncapped' if the scheme means it"))
    return out


def check_points(curve: ast.Curve, constants: dict[str, Decimal],
                 source: SourceFile) -> list[Diagnostic]:
    """A linear curve's points: constants, in order, at least two, never paying less."""
    out: list[Diagnostic] = []
    previous: tuple[Decimal, Decimal] | None = None
    for point in curve.points:
        at, pays = fold(point.at, constants), fold(point.pays, constants)
        if at is None or pays is None:
            out.append(error("KPI406", "points of a linear curve must be constants", source,
                             point.span))
            continue
        if previous is not None:
            if at <= previous[0]:
                out.append(error("KPI401", "points are out of order: list them from the lowest "
                                 "attainment up", source, point.span))
            elif pays < previous[1]:
                out.append(warning("KPI404", f"curve '{curve.name}' pays less at {_pct(at)} than "
                                   f"at {_pct(previous[0])}", source, point.span))
        previous = (at, pays)
    if len(curve.points) < 2:
        out.append(error("KPI408", "a linear curve needs at least two points", source,
                         curve.name_span))
    return out


# ---------------------------------------------------------------- units of bounds


def bounds_unit(curve: ast.Curve, variant: Variant, currency: str = "RUB") -> Unit | None:
    """The unit a curve's bounds are written in (None: plain numbers only, or mixed units)."""
    found = _bound_units(curve, variant, currency)
    return found[0][0] if len({u.dimension for u, _e in found}) == 1 else None


def _bound_units(curve: ast.Curve, variant: Variant,
                 currency: str) -> list[tuple[Unit, ast.Expr]]:
    checker = UnitChecker(variant, SourceFile("", ""), currency)
    bounds = list(curve.kind.bounds(curve))
    out: list[tuple[Unit, ast.Expr]] = []
    for bound in bounds:
        unit = checker.infer(bound)
        if unit not in (Unit.ANY, Unit.BOOLEAN):
            out.append((unit, bound))
    return out


def check_curve_units(variant: Variant, source: SourceFile, currency: str) -> list[Diagnostic]:
    """A curve is applied to what its bounds are written in (KPI409): bands in percent to an
    attainment, tiers in money to an amount. Tiers in roubles applied to an attainment of
    110 % read it as 1.10 roubles and pay the lowest tier's rate on it."""
    out: list[Diagnostic] = []
    units: dict[str, Unit | None] = {}
    for curve in variant.curves.values():
        found = _bound_units(curve, variant, currency)
        dimensions = {u.dimension for u, _e in found}
        if len(dimensions) > 1:
            first = found[0][0]
            odd = next(e for u, e in found if u.dimension != first.dimension)
            out.append(error("KPI409", f"curve '{curve.name}' has bounds in "
                             f"{describe(first, currency)} and in "
                             f"{describe(checker_unit(found, odd), currency)}", source, odd.span,
                             hint="write every bound of a curve in one unit"))
        units[curve.name] = found[0][0] if len(dimensions) == 1 else None
    for pay, item in variant.pooled_kpis():
        unit = units.get(item.curve or "")
        if unit is not None and not same_dimension(unit, Unit.PERCENT):
            out.append(error("KPI409", f"curve '{item.curve}' is bounded in "
                             f"{describe(unit, currency)}, but '{item.kpi}' in '{pay.name}' "
                             "applies it to an attainment (a percentage of plan)", source,
                             item.curve_span or item.span,
                             hint=f"bound it in percent of plan (from 100%), or pay the amount "
                             f"through a formula: pay ... = {item.curve}({item.kpi})"))
    checker = UnitChecker(variant, SourceFile("", ""), currency)
    for where, expr, scope in expressions(variant):
        if scope != "employee":
            continue
        for node in nodes(expr):
            if not isinstance(node, ast.CurveCall):
                continue
            unit = units.get(node.curve)
            arg = checker.infer(node.arg)
            if unit is None or arg in (Unit.ANY, Unit.BOOLEAN) or same_dimension(unit, arg):
                continue
            hint = (f"apply it to an attainment: {node.curve}(attainment of ...)"
                    if unit is Unit.PERCENT else
                    f"bound it in {describe(arg, currency)}, or apply it to a value in "
                    f"{describe(unit, currency)}")
            out.append(error("KPI409", f"curve '{node.curve}' is bounded in "
                             f"{describe(unit, currency)}, but {where} applies it to "
                             f"{describe(arg, currency)}", source, node.span, hint=hint))
    return out


def checker_unit(found: list[tuple[Unit, ast.Expr]], expr: ast.Expr) -> Unit:
    return next(u for u, e in found if e is expr)
