"""`curve NAME tiers whole`: the rate of the tier the input reaches applies to the whole
input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import TiersKind

if TYPE_CHECKING:
    from .. import lower as lo
    from ..backends.python import Q, _VariantWriter
    from ..sql.generate import Int, Num, VariantQuery


class WholeKind(TiersKind):
    name = "whole"
    description = "the rate of the tier the input reaches applies to the whole input"

    def write_python(self, out: _VariantWriter, curve: lo.Curve) -> Q:
        from ..backends.python import Q
        tiers = [f"({out.bound(b.lower)}, {b.lower_inclusive}, "
                 f"{out.bound(b.upper)}, {b.upper_inclusive}, "
                 f"{out.lit(out.rate(b.pays))})" for b in curve.bands]
        out.w.line(f"value, value_d, band = rt.tiers_whole_q(x, x_d, ({', '.join(tiers)},))")
        return Q("value", "value_d")

    def write_sql(self, query: VariantQuery, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """x × the rate of the first tier whose range holds x."""
        branches = [(query.in_band(band, x), query.times(x, query.const(query.rate(band.pays))),
                     index) for index, band in enumerate(curve.bands, start=1)]
        return query.branches(branches)


KIND = WholeKind()
