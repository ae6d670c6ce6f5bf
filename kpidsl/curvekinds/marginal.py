"""`curve NAME tiers marginal`: each slice of the input pays its own tier's rate (like tax
brackets); the only kind a per-deal payment may split deals across."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from .. import ast
from .base import TiersKind

if TYPE_CHECKING:
    from .. import lower as lo
    from ..backends.python import Q, _VariantWriter
    from ..sql.generate import Int, Num, VariantQuery


class MarginalKind(TiersKind):
    name = "marginal"
    description = "each slice of the input pays its own tier's rate (like tax brackets)"
    slices = True

    def write_python(self, out: _VariantWriter, curve: lo.Curve) -> Q:
        from ..backends.python import Q
        w = out.w
        tiers = [f"({out.bound(b.lower)}, {out.bound(b.upper)}, "
                 f"{out.lit(out.rate(b.pays))})" for b in curve.bands]
        w.line(f"value, value_d, band = rt.tiers_marginal_q(x, x_d, ({', '.join(tiers)},))")
        if out.trace:
            w.line("if trace is not None:")
            w.line(f"    trace('slices', key, rt.tier_slices(x, x_d, ({', '.join(tiers)},)))")
        return Q("value", "value_d")

    def write_sql(self, query: VariantQuery, curve: ast.Curve, x: Num) -> tuple[Num, Int]:
        from sqlglot import exp

        from ..checks.curves import band_bounds
        from ..checks.fold import fold
        from ..sql.generate import Cond
        constants = query.variant.constant_values
        total = query.const(Fraction(0))
        reached: list[tuple[exp.Expr, int]] = []
        going: exp.Expr = exp.true()
        for index, band in enumerate(curve.bands, start=1):
            lower, upper = band_bounds(band, constants)
            low = Fraction(0) if lower is None or not lower.is_finite() else Fraction(lower)
            open_lower = lower is None or not lower.is_finite()
            stop = query.compare("<=", x, query.const(low)).e
            if open_lower:
                stop = exp.and_(stop, exp.not_(query.compare("<", x, query.const(Fraction(0))).e))
            going = exp.and_(going, exp.not_(exp.Paren(this=stop)))
            if upper is None or not upper.is_finite():
                high = x
            else:
                top = Fraction(upper)
                high = query.choose([(query.compare("<", x, query.const(top)), x)],
                                    query.const(top))
            rate = fold(band.pays, constants)
            assert rate is not None
            slice_ = query.times(query.plus(high, query.const(low), -1),
                                 query.const(Fraction(rate)))
            total = query.plus(total, query.choose([(Cond(going.copy()), slice_)],
                                                   query.const(Fraction(0))))
            reached.append((going.copy(), index))
        band_int = query.case([(cond, query.lit(i)) for cond, i in reversed(reached)],
                              query.lit(0))
        return total, band_int


KIND = MarginalKind()
