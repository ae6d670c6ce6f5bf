"""`curve NAME` with bands: the first band whose range holds the input pays its formula of the
input (`from 80% through 100% pays attainment`); outside every band the factor is 0."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .. import ast
from .base import CurveKind

if TYPE_CHECKING:
    from .. import lower as lo
    from ..checks.model import Variant
    from ..diagnostics import Diagnostic
    from ..explain import _Explainer
    from ..results import Line
    from ..source import SourceFile
    from ..sql.generate import Int, Num, VariantQuery


class BandsKind(CurveKind):
    name = "bands"
    description = ("the first band whose range holds the input pays its formula of the "
                   "input; outside every band the factor is 0")
    inlinable = True
    explains_limit = True

    def check(self, curve: ast.Curve, variant: Variant, source: SourceFile,
              currency: str) -> list[Diagnostic]:
        from ..checks.curves import check_bands
        return check_bands(curve, variant, source, currency, constant_pays=False, shape=True)

    def explain_band(self, ex: _Explainer, curve: ast.Curve, line: Line, x: Decimal) -> str:
        """'110 % > 100 %', '80 % ≤ 95 % ≤ 100 %'."""
        from ..checks.fold import fold
        at = ex.pct(x)
        # the bounds the evaluator was compiled with (kpidsl/lower.py folds them with the
        # scheme's constants once, not with the month's): a seasonal constant as a bound is
        # its default in every month
        bounds = ex.variant.constant_values
        band = curve.bands[line.band - 1]
        low = fold(band.lower, bounds) if band.lower is not None else None
        high = fold(band.upper, bounds) if band.upper is not None else None
        left = "≤" if band.lower_inclusive else "<"
        right = "≤" if band.upper_inclusive else "<"
        if low is not None and high is not None:
            return f"{ex.pct(low)} {left} {at} {right} {ex.pct(high)}"
        if low is not None:
            return f"{at} {'≥' if band.lower_inclusive else '>'} {ex.pct(low)}"
        if high is not None:
            return f"{at} {right} {ex.pct(high)}"
        return at

    def explain_factor(self, ex: _Explainer, curve: ast.Curve, line: Line,
                       x: Decimal) -> str | None:
        """The band's `pays` with the attainment substituted (its value is the trace's)."""
        from ..exprtext import Prec
        band = curve.bands[line.band - 1]
        return ex.sub(band.pays, curve_input=x, top=Prec.PRODUCT, scope=(line.payment, line.kpi))

    def explain_coefficient(self, ex: _Explainer, curve: ast.Curve,
                            line: Line) -> Decimal | None:
        pays = curve.bands[line.band - 1].pays
        if isinstance(pays, ast.Binary) and pays.op == "*":
            for side, other in ((pays.left, pays.right), (pays.right, pays.left)):
                if isinstance(side, ast.CurveInput):
                    # a number written in the band, or a constant as the evaluator read it
                    # (the month's); anything else is said by the band's formula itself
                    k = other.value if isinstance(other, ast.Literal) else \
                        ex.constants.get(other.name) if isinstance(other, ast.Ref) else None
                    if k is not None and k != 1:
                        return k
        return None

    def write_sql(self, query: VariantQuery, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """CASE over the bands in order: the first whose range holds x pays its formula of x."""
        branches = []
        saved = query.x
        query.x = x
        try:
            for index, band in enumerate(curve.bands, start=1):
                condition = query.in_band(band, x)
                query.node = band.pays
                branches.append((condition, query.expr(band.pays), index))
        finally:
            query.x = saved
        return query.branches(branches)


KIND = BandsKind()
