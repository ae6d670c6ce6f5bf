"""What every kind of curve answers, and the defaults the band-shaped kinds share.

A kind is one object (`CurveKind`), the value of `ast.Curve.kind` and of the lowered
`Curve.kind`: the stages ask it instead of comparing the scheme's word. Each kind lives in
its own module of this package (bands, linear, marginal, whole, steps); `kpidsl.curvekinds`
finds them. What a kind decides:

- parsing: which `curve_body` of the grammar it is (`matches`) and the parts it keeps (`parse`);
- the checker: what its expressions are (`expressions`), its per-kind rules (`check`), the unit
  a call returns (`rates`), whether per-deal payments may split it (`slices`);
- thresholds and band text: `thresholds`, `band_texts`, `band_words` (documents, English and
  Russian), `document_rows`, `explain_band` (explanations);
- pay semantics: `lower` (the lowered form); from it `write_python` (the compiled
  evaluator) and `write_sql` (the SQL generator), which read only the lowered curve;
- `fmt`: `format_rows`.

The methods take the stage's own object (the parser, the formatter, the Python writer, the SQL
generator, the explainer) so this package imports no stage at load time: a stage imports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import ast
from ..exprtext import band_range_text, describe_expr

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


class CurveKind:
    """One kind of curve. Subclasses override what differs; instances are singletons (compared
    by identity, pickled by name)."""

    name = ""  # the scheme's word, as in golden files and messages: "bands"
    description = ""  # how it pays, one sentence (docs/architecture.md, the lowered dump)
    # its bands carry rates applied to the input ("rate"): a call returns an amount in the
    # input's unit; otherwise a band pays a factor ("pays")
    rates = False
    # each slice of the input pays its own tier's rate: what a per-deal payment needs
    slices = False
    # a pay line may write the curve out in place, not call it (a plain chain of bands)
    inlinable = False
    # a trace of this kind shows the band's value before the curve's cap or floor
    explains_limit = False
    # the kind's own words of documents and explanations, by language (`kpidsl.i18n`'s
    # languages, the same keys and placeholders in each: tests/test_curvekinds.py)
    words: dict[str, dict[str, str]] = {}  # noqa: RUF012 (read only)
    # helpers the generated evaluator may call as `rt.NAME` (kpidsl/runtime.py exports them)
    runtime: dict[str, Any] = {}  # noqa: RUF012 (read only)
    # its diagnostics in other languages: {"ru": {CODE: ((English, Russian), ...)}}, the
    # form of kpidsl/i18n/ru_diagnostics.MESSAGES
    messages: dict[str, dict[str, tuple[tuple[str, Any], ...]]] = {}  # noqa: RUF012

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<curve kind {self.name}>"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        from . import kind
        return kind, (self.name,)

    @property
    def verb(self) -> str:
        """The word before what a band gives: 'rate' or 'pays'."""
        return "rate" if self.rates else "pays"

    # ---- parsing
    def matches(self, body: Tree) -> bool:
        """Whether a `curve_body` parse tree is this kind."""
        return bool(body.data == self.name)

    def parse(self, builder: _Builder, body: Tree) -> dict[str, Any]:
        """The `ast.Curve` fields this kind fills from its `curve_body`."""
        return {"bands": tuple(builder.band(b) for b in body.children)}

    # ---- the checker
    def expressions(self, curve: ast.Curve) -> Iterator[tuple[ast.Expr | None, str]]:
        """(expression, scope) for each expression the curve holds: a 'constant' must be one,
        a 'curve' expression may also use the curve's input (a band's pays)."""
        for band in curve.bands:
            yield band.lower, "constant"
            yield band.upper, "constant"
            yield band.pays, "curve"

    def bounds(self, curve: ast.Curve) -> Iterator[ast.Expr]:
        """The expressions written on the curve's input axis (thresholds and points)."""
        for band in curve.bands:
            yield from (b for b in (band.lower, band.upper) if b is not None)

    def factors(self, curve: ast.Curve) -> Iterator[ast.Expr]:
        """The expressions that give the curve's value (what bands pay)."""
        for band in curve.bands:
            yield band.pays

    def check(self, curve: ast.Curve, variant: Variant, source: SourceFile,
              currency: str) -> list[Diagnostic]:
        """This kind's own rules (the cap, floor and `uncapped` are checked for every kind)."""
        from ..checks.curves import check_bands
        return check_bands(curve, variant, source, currency, constant_pays=self.rates,
                           shape=False)

    # ---- thresholds and band text
    def thresholds(self, curve: ast.Curve, constants: dict[str, Decimal]) -> dict[Decimal, int]:
        """The inputs at which the factor may change its formula or jump, each with the
        source line that first writes it (charts, goal seeking, test coverage)."""
        from ..checks.curves import band_bounds
        found: dict[Decimal, int] = {}
        for band in curve.bands:
            for bound in band_bounds(band, constants):
                if bound is not None and bound.is_finite():
                    found.setdefault(bound, band.span.line)
        return found

    def band_texts(self, curve: ast.Curve,
                   constants: dict[str, Decimal]) -> Mapping[int, str]:
        """Band number → the band as the scheme writes it ('from 80% through 100%'): what a
        result line shows for the band the evaluator reported."""
        return {i: band_range_text(band) for i, band in enumerate(curve.bands, start=1)}

    def held_above(self, curve: ast.Curve, band: int) -> bool:
        """Whether `band` is where the curve holds its last value however high the input."""
        return False

    def band_words(self, say: Say, curve: ast.Curve, band: int, percent_like: bool) -> str:
        """The band a line fell into, in the document's language (band ≥ 1)."""
        return say.band(curve.bands[band - 1], percent_like)

    def document_rows(self, say: Say, curve: ast.Curve, constants: dict[str, Decimal],
                      percent_like: bool, factor: Any) -> tuple[str, list[dict[str, str]]]:
        """The document's table of the curve: (an introduction, rows of band and pays);
        `factor(expr)` writes a constant factor or rate."""
        from ..checks.fold import fold
        rows = [{"band": self.band_words(say, curve, i, percent_like),
                 "pays": factor(band.pays) if self.rates or
                 fold(band.pays, constants) is not None else say.expr(band.pays)}
                for i, band in enumerate(curve.bands, start=1)]
        return "", rows

    def summary(self, curve: ast.Curve) -> str:
        """The curve in one line, as the scheme writes it (the editor's hover)."""
        return "; ".join(f"{band_range_text(b)} {self.verb} {describe_expr(b.pays)}"
                         for b in curve.bands)

    def explain_band(self, ex: _Explainer, curve: ast.Curve, line: Line, x: Decimal) -> str:
        """Where the attainment sits in the band the line fell into (band ≥ 1)."""
        at = ex.pct(x)
        return f"{at}, {ex.words['tier']} {line.band} ({line.band_text})"

    def explain_factor(self, ex: _Explainer, curve: ast.Curve, line: Line,
                       x: Decimal) -> str | None:
        """The factor as a formula with the attainment put in, or None: its value."""
        return None

    def explain_coefficient(self, ex: _Explainer, curve: ast.Curve,
                            line: Line) -> Decimal | None:
        """The accelerator a band multiplies the attainment by, when it is one."""
        return None

    # ---- pay semantics
    def lower(self, lowering: Any, curve: ast.Curve) -> lo.Curve:
        """The lowered curve: bounds folded to Decimals, pays lowered (`lowering` is the
        lower stage's variant lowering)."""
        from .. import lower as lo
        cap, floor = lowering.limits(curve)
        return lo.Curve(curve.name, self, lowering.bands(curve), cap=cap, floor=floor,
                        line=curve.span.line)

    def lowered_lines(self, curve: lo.Curve) -> list[str]:
        """The lowered curve's body in the lowered form's text dump."""
        from .. import lower as lo
        return [f"    {band.text}: {lo._text(band.pays)}" for band in curve.bands] + \
            [f"    at {point.at} pays {point.pays}" for point in curve.points]

    def write_python(self, out: _VariantWriter, curve: lo.Curve) -> Q:
        """Write the body of `name_q(x, x_d)` up to the value before cap and floor: it sets
        `value` (and `value_d` unless the returned Q says otherwise) and `band`."""
        from ..backends.python import Q
        return out.write_bands(curve, "value", "band", Q("x", "x_d"))

    def write_sql(self, query: VariantQuery, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """The lowered curve's value (before its cap and floor) and band over the input `x`
        as SQL expressions, built with the generator's exact arithmetic (`query.compare`,
        `query.branches`, `query.in_band`, ...)."""
        raise NotImplementedError(self.name)

    # ---- fmt
    def format_rows(self, curve: ast.Curve, indent: int, first: int) -> list[Row]:
        """The body's lines as `kpidsl fmt` writes them; rows with cells are aligned as one
        table by the caller."""
        from ..formatter import Row, write_expr
        return [Row(indent, b.span.line, b.span.end_line, "",
                    [band_range_text(b, write_expr), f"{self.verb} {write_expr(b.pays)}"])
                for b in curve.bands]


class TiersKind(CurveKind):
    """`tiers marginal` and `tiers whole`: bands of constant rates applied to the input."""

    rates = True

    def matches(self, body: Tree) -> bool:
        return bool(body.data == "tiers" and str(body.children[0]) == self.name)

    def parse(self, builder: _Builder, body: Tree) -> dict[str, Any]:
        return {"bands": tuple(builder.band(b) for b in body.children[1:])}

    def format_rows(self, curve: ast.Curve, indent: int, first: int) -> list[Row]:
        from ..formatter import Row
        return [Row(indent, first, first, text=f"tiers {self.name}"),
                *super().format_rows(curve, indent + 2, first)]

    def document_rows(self, say: Say, curve: ast.Curve, constants: dict[str, Decimal],
                      percent_like: bool, factor: Any) -> tuple[str, list[dict[str, str]]]:
        return say.w(f"{self.name}_intro"), super().document_rows(
            say, curve, constants, percent_like, factor)[1]
