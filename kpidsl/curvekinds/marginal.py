"""`curve NAME tiers marginal`: each slice of the input pays its own tier's rate (like tax
brackets); the only kind a per-deal payment may split deals across."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

    def write_sql(self, query: VariantQuery, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """The sum over the tiers x reaches of (the part of x in the tier) × its rate; the band
        is the last tier reached."""
        from fractions import Fraction

        from sqlglot import exp

        from ..sql.generate import Cond
        total = query.const(Fraction(0))
        reached: list[tuple[exp.Expr, int]] = []
        going: exp.Expr = exp.true()
        for index, band in enumerate(curve.bands, start=1):
            low = Fraction(0) if band.lower is None else Fraction(band.lower)
            stop = query.compare("<=", x, query.const(low)).e
            if band.lower is None:
                stop = exp.and_(stop, exp.not_(query.compare("<", x, query.const(Fraction(0))).e))
            going = exp.and_(going, exp.not_(exp.Paren(this=stop)))
            if band.upper is None:
                high = x
            else:
                top = Fraction(band.upper)
                high = query.choose([(query.compare("<", x, query.const(top)), x)],
                                    query.const(top))
            rate = query.rate(band.pays)
            slice_ = query.times(query.plus(high, query.const(low), -1), query.const(rate))
            total = query.plus(total, query.choose([(Cond(going.copy()), slice_)],
                                                   query.const(Fraction(0))))
            reached.append((going.copy(), index))
        band_int = query.case([(cond, query.lit(i)) for cond, i in reversed(reached)],
                              query.lit(0))
        return total, band_int


KIND = MarginalKind()
