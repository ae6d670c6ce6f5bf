"""`curve NAME linear at A pays P ...`: straight lines between points; below the first point
the factor is 0, above the last it holds the last point's value."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import ast
from ..exprtext import describe_expr
from .base import CurveKind

if TYPE_CHECKING:
    from lark import Tree

    from .. import lower as lo
    from ..backends.python import Q, _VariantWriter
    from ..checks.model import Variant
    from ..diagnostics import Diagnostic
    from ..docs.text import Say
    from ..explain import _Explainer
    from ..formatter import Row
    from ..parser import _Builder
    from ..results import Line
    from ..source import SourceFile
    from ..sql.generate import Int, Num, VariantQuery


class LinearKind(CurveKind):
    name = "linear"
    description = ("straight lines between points; below the first point 0, above the last "
                   "the last point's value")

    def parse(self, builder: _Builder, body: Tree) -> dict[str, Any]:
        return {"points": tuple(
            ast.Point(builder.span(p), builder.expr(p.children[0]), builder.expr(p.children[1]))
            for p in body.children)}

    def expressions(self, curve: ast.Curve) -> Any:
        for point in curve.points:
            yield point.at, "constant"
            yield point.pays, "constant"

    def bounds(self, curve: ast.Curve) -> Any:
        return (p.at for p in curve.points)

    def factors(self, curve: ast.Curve) -> Any:
        return (p.pays for p in curve.points)

    def check(self, curve: ast.Curve, variant: Variant, source: SourceFile,
              currency: str) -> list[Diagnostic]:
        from ..checks.curves import check_points
        return check_points(curve, variant.constant_values, source)

    def thresholds(self, curve: ast.Curve, constants: dict[str, Decimal]) -> dict[Decimal, int]:
        from ..checks.fold import fold
        found: dict[Decimal, int] = {}
        for point in curve.points:
            value = fold(point.at, constants)
            if value is not None:
                found.setdefault(value, point.span.line)
        return found

    def band_texts(self, curve: ast.Curve, constants: dict[str, Decimal]) -> dict[int, str]:
        last = len(curve.points)
        return {i: "between points" if i < last else "above the last point"
                for i in range(1, last + 1)}

    def held_above(self, curve: ast.Curve, band: int) -> bool:
        return band == len(curve.points)

    def band_words(self, say: Say, curve: ast.Curve, band: int, percent_like: bool) -> str:
        points = curve.points
        if band >= len(points):
            return say.w("point_at", x=say.bound(points[-1].at, True)) + " +"
        low, high = say.bound(points[band - 1].at, True), say.bound(points[band].at, True)
        return f"{low} – {high}"

    def document_rows(self, say: Say, curve: ast.Curve, constants: dict[str, Decimal],
                      percent_like: bool, factor: Any) -> tuple[str, list[dict[str, str]]]:
        return say.w("linear_intro"), [
            {"band": say.w("point_at", x=say.bound(p.at, percent_like)), "pays": factor(p.pays)}
            for p in curve.points]

    def summary(self, curve: ast.Curve) -> str:
        return "; ".join(f"at {describe_expr(p.at)} pays {describe_expr(p.pays)}"
                         for p in curve.points)

    def explain_band(self, ex: _Explainer, curve: ast.Curve, line: Line, x: Decimal) -> str:
        """'80 % ≤ 95 % ≤ 100 %', or '130 % ≥ 120 %' above the last point."""
        from ..checks.fold import fold
        at = ex.pct(x)
        bounds = ex.variant.constant_values  # as compiled (see bands.py)
        points = curve.points
        if line.band >= len(points):
            last = fold(points[-1].at, bounds)
            return at if last is None else f"{at} ≥ {ex.pct(last)}"
        a = fold(points[line.band - 1].at, bounds)
        b = fold(points[line.band].at, bounds)
        if a is None or b is None:
            return at
        return f"{ex.pct(a)} ≤ {at} ≤ {ex.pct(b)}"

    def lower(self, lowering: Any, curve: ast.Curve) -> lo.Curve:
        from .. import lower as lo
        points = tuple(lo.Point(lowering.const(p.at), lowering.const(p.pays))
                       for p in curve.points)
        cap, floor = lowering.limits(curve)
        return lo.Curve(curve.name, self, points=points, cap=cap, floor=floor,
                        line=curve.span.line)

    def write_python(self, out: _VariantWriter, curve: lo.Curve) -> Q:
        from ..backends.python import Q
        points = ", ".join(f"({out.lit(p.at)}, {out.lit(p.pays)})" for p in curve.points)
        out.w.line(f"value, value_d, band = rt.linear_q(x, x_d, ({points},))")
        return Q("value", "value_d")

    def write_sql(self, query: VariantQuery, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """0 below the first point, the line between two points, the last point's value above."""
        from fractions import Fraction

        points = [(Fraction(p.at), Fraction(p.pays)) for p in curve.points]
        branches = [(query.compare("<", x, query.const(points[0][0])), query.const(Fraction(0)),
                     0)]
        for index in range(1, len(points)):
            (a0, p0), (a1, p1) = points[index - 1], points[index]
            slope = (p1 - p0) / (a1 - a0)
            value = query.plus(query.const(p0), query.times(
                query.plus(x, query.const(a0), -1), query.const(slope)))
            branches.append((query.compare("<=", x, query.const(a1)), value, index))
        return query.branches(branches, query.const(points[-1][1]), len(points))

    def format_rows(self, curve: ast.Curve, indent: int, first: int) -> list[Row]:
        from ..formatter import Row, write_expr
        return [Row(indent, first, first, text="linear"),  # the word has no span
                *(Row(indent + 2, p.span.line, p.span.end_line, "",
                      [f"at {write_expr(p.at)}", f"pays {write_expr(p.pays)}"])
                  for p in curve.points)]


KIND = LinearKind()
