"""Curves: bands in order with no gaps or overlaps, constant bounds, sensible shapes."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from .. import ast
from ..diagnostics import Diagnostic, error, warning
from ..exprtext import literal_text
from ..source import SourceFile
from ..units import Unit
from .fold import fold
from .model import Variant

INFINITY = Decimal("Infinity")


def band_bounds(band: ast.Band, constants: dict[str, Decimal]) -> tuple[Decimal | None,
                                                                       Decimal | None]:
    lower = -INFINITY if band.lower is None else fold(band.lower, constants)
    upper = INFINITY if band.upper is None else fold(band.upper, constants)
    return lower, upper


def _pct(value: Decimal) -> str:
    return literal_text(value, Unit.PERCENT) if value.is_finite() else "∞"


def check_curves(variant: Variant, source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    constants = variant.constant_values
    for curve in variant.curves.values():
        for limit in (curve.cap, curve.floor):
            if limit is not None and fold(limit, constants) is None:
                out.append(error("KPI406", "a curve's cap or floor must be a constant", source,
                                 limit.span))
        if curve.kind == "linear":
            out += _check_points(curve, constants, source)
            continue
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
            if curve.kind in ("marginal", "whole") and fold(band.pays, constants) is None:
                out.append(error("KPI406", "a tier's rate must be a constant", source,
                                 band.pays.span))
            if lower > upper or (lower == upper and not (band.lower_inclusive and
                                                         band.upper_inclusive)):
                out.append(error("KPI401", f"band {_pct(lower)} – {_pct(upper)} is empty: its "
                                 "start is not below its end", source, band.span))
            if previous is not None:
                out += _check_join(previous, band, lower, source)
            previous = (band, lower, upper)
            if curve.kind == "bands":
                for x in _sample_points(lower, upper):
                    value = fold(band.pays, constants, x)
                    if value is not None:
                        samples.append((x, value))
        if curve.kind == "bands":
            out += _check_shape(curve, samples, source, constants)
    return out


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
    if curve.cap is None and curve.bands:
        last = curve.bands[-1]
        if last.upper is None:
            start = fold(last.lower, constants) or Decimal(1)
            probe = max(start, Decimal(1)) * 2
            value = fold(last.pays, constants, probe)
            if value is not None and value > probe:
                out.append(warning("KPI405", f"curve '{curve.name}' accelerates above "
                                   f"{_pct(start)} with no cap", source, curve.name_span,
                                   hint="add e.g. 'cap 200%' so one month cannot break the budget"))
    return out


def _check_points(curve: ast.Curve, constants: dict[str, Decimal],
                  source: SourceFile) -> list[Diagnostic]:
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
