"""`steps of STEP from START pays BASE plus EACH per step`: a fixed factor and the same step up
for every full step above a threshold. "15 % plus 5 % for each full 1 % over 90 %":

    curve extra "15 % plus 5 % for each full 1 % over 90 %"
      steps of 1% from 90% pays 15% plus 5% per step
      cap 40%

Below START it pays 0 (band 0, outside); from START it pays BASE + EACH × n, n the full
steps of STEP the input is above START (89.99 % → 0, 90 % → 15 %, 92.5 % → 25 %, 93 % →
30 %), in band n + 1, so a result's band says how many steps were counted. The four numbers
are constants; the curve's cap and floor apply as to any curve.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import ast
from ..diagnostics import error, warning
from ..exprtext import describe_expr, literal_text
from ..units import Unit
from ..valueclass import valueclass
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

# A band text is made for any band asked for; listing them (len, iteration) stops where the
# cap binds, or after this many steps for a curve without one.
LISTED_STEPS = 100

ZERO = Decimal(0)
ONE = Decimal(1)


@ast._declared(frozen=True)  # a node of the tree, made as the tree's are (kpidsl/ast.py)
class Steps(ast.Node):
    """What `steps of 1% from 90% pays 15% plus 5% per step` writes (`ast.Curve.spec`)."""

    step: ast.Expr = field(default_factory=ast.Expr)
    start: ast.Expr = field(default_factory=ast.Expr)
    base: ast.Expr = field(default_factory=ast.Expr)
    each: ast.Expr = field(default_factory=ast.Expr)

    def __str__(self) -> str:  # how a grade's change to it reads (checks/provenance.py)
        return (f"steps of {describe_expr(self.step)} from {describe_expr(self.start)} pays "
                f"{describe_expr(self.base)} plus {describe_expr(self.each)} per step")


@valueclass(frozen=True)  # a frozen dataclass made without `exec` (kpidsl/valueclass.py)
class LoweredSteps:
    """The lowered curve's `spec`: the four numbers, exact."""

    step: Decimal
    start: Decimal
    base: Decimal
    each: Decimal


def steps_q(x: Decimal, x_d: Decimal, start: Decimal, step: Decimal, base: Decimal,
            each: Decimal) -> tuple[Decimal, Decimal, int]:
    """The factor over the input x ÷ x_d (x_d > 0): (numerator, denominator, band). Below
    `start` 0 in band 0; else base + each × n in band n + 1, n the full steps above start.
    `//` is Decimal's exact integer part, the floor here since neither side is negative."""
    over = x - start * x_d
    if over < ZERO:
        return ZERO, ONE, 0
    n = over // (step * x_d)
    return base + each * n, ONE, int(n) + 1


# Words of documents and explanations, by language (every language of kpidsl.i18n; the
# same keys and placeholders in each: tests/test_curvekinds.py).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Below the threshold the curve pays 0; from the threshold it pays the first "
                 "value, and the same again for each full step of attainment above it.",
        "below": "below {start}",
        "from": "from {start}",
        "each": "each full step of {step} above {start}",
        "band": "from {low} to under {high} ({n} {steps} of {step} above {start})",
        "counted": "{n} {full} of {step}",
    },
    "ru": {
        "intro": "Ниже порога шкала платит 0; с порога — первое значение и ещё столько же за "
                 "каждый полный шаг выполнения сверх порога.",
        "below": "менее {start}",
        "from": "от {start} и выше",
        "each": "за каждый полный шаг {step} сверх {start}",
        "band": "от {low} до {high}, не включая {high} ({n} {steps} по {step} сверх {start})",
        "counted": "{n} {full} по {step}",
    },
}
# 'steps' and 'full steps' after a number, by the language's plural rule (CLDR forms)
PLURALS: dict[str, dict[str, dict[str, str]]] = {
    "en": {"steps": {"one": "step", "other": "steps"},
           "full": {"one": "full step", "other": "full steps"}},
    "ru": {"steps": {"one": "шаг", "few": "шага", "many": "шагов", "other": "шага"},
           "full": {"one": "полный шаг", "few": "полных шага", "many": "полных шагов",
                    "other": "полного шага"}},
}


def plural(lang: str, word: str, n: int) -> str:
    """`word` ('steps', 'full') after the number n: 1 step, 2 steps; 1 шаг, 2 шага, 5 шагов."""
    from babel import Locale  # not at import: `kpidsl check` loads no Babel (test_cli.py)

    forms = PLURALS[lang][word]
    return forms.get(Locale.parse(lang).plural_form(n), forms["other"])


class StepsKind(CurveKind):
    name = "steps"
    description = ("0 below the start; from it the first value plus the same step more for "
                   "each full step of the input above it")
    explains_limit = True
    words = WORDS
    runtime = {"steps_q": steps_q}  # noqa: RUF012 (read only)
    messages = {"ru": {  # noqa: RUF012 (read only)
        "KPI412": (
            ("curve '{curve}' steps of {step}: a step must be above zero",
             "шкала '{curve}' шагами по {step}: шаг должен быть больше нуля"),
            ("write the size of one step, e.g. steps of 1%",
             "укажите размер одного шага, например steps of 1%"),
        ),
        "KPI406": (
            ("a steps curve's step, start and what it pays must be constants",
             "шаг, порог и выплаты шкалы с шагами должны быть константами"),
        ),
    }}

    def parse(self, builder: _Builder, body: Tree) -> dict[str, Any]:
        step, start, base, each = (builder.expr(c) for c in body.children)
        return {"spec": Steps(builder.span(body), step, start, base, each)}

    @staticmethod
    def spec(curve: ast.Curve) -> Steps:
        assert isinstance(curve.spec, Steps)
        return curve.spec

    @staticmethod
    def numbers(curve: ast.Curve, constants: dict[str, Decimal]
                ) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
        """(step, start, base, each) when all four are constants."""
        from ..checks.fold import fold
        s = StepsKind.spec(curve)
        values = [fold(e, constants) for e in (s.step, s.start, s.base, s.each)]
        if any(v is None or not v.is_finite() for v in values):
            return None
        step, start, base, each = values
        assert step is not None and start is not None and base is not None and each is not None
        return step, start, base, each

    # ---- the checker
    def expressions(self, curve: ast.Curve) -> Iterator[tuple[ast.Expr | None, str]]:
        s = self.spec(curve)
        for expr in (s.step, s.start, s.base, s.each):
            yield expr, "constant"

    def bounds(self, curve: ast.Curve) -> Iterator[ast.Expr]:
        s = self.spec(curve)
        yield s.start
        yield s.step

    def factors(self, curve: ast.Curve) -> Iterator[ast.Expr]:
        s = self.spec(curve)
        yield s.base
        yield s.each

    def check(self, curve: ast.Curve, variant: Variant, source: SourceFile,
              currency: str) -> list[Diagnostic]:
        from ..checks.types import UnitChecker
        out: list[Diagnostic] = []
        s = self.spec(curve)
        units = UnitChecker(variant, source, currency)
        for expr in (s.base, s.each):
            units.number(expr)
        out += units.out
        numbers = self.numbers(curve, variant.constant_values)
        if numbers is None:
            out.append(error("KPI406", "a steps curve's step, start and what it pays must be "
                             "constants", source, s.span))
            return out
        step, start, _base, each = numbers
        unit = _unit(s.start)
        if step <= 0:
            out.append(error("KPI412", f"curve '{curve.name}' steps of "
                             f"{literal_text(step, _unit(s.step))}: a step must be above zero",
                             source, s.step.span,
                             hint="write the size of one step, e.g. steps of 1%"))
            return out
        if each < 0:
            out.append(warning("KPI404", f"curve '{curve.name}' pays less at "
                               f"{literal_text(start + step, unit)} than at "
                               f"{literal_text(start, unit)}", source, s.each.span,
                               hint="a higher attainment should never pay less"))
        elif each > 0 and curve.cap is None and curve.uncapped is None:
            out.append(warning("KPI405", f"curve '{curve.name}' accelerates above "
                               f"{literal_text(start, unit)} with no cap", source,
                               curve.name_span,
                               hint="add e.g. 'cap 200%' so one month cannot break the "
                               "budget, or write 'uncapped' if the scheme means it"))
        return out

    # ---- thresholds and band text
    def _listed(self, curve: ast.Curve, constants: dict[str, Decimal]) -> int:
        """How many steps band texts and thresholds list: to where the cap binds, at most
        LISTED_STEPS."""
        from ..checks.fold import fold
        numbers = self.numbers(curve, constants)
        if numbers is None or numbers[0] <= 0:
            return 0
        _step, _start, base, each = numbers
        cap = fold(curve.cap, constants) if curve.cap is not None else None
        if cap is not None and each > 0:
            needed = (cap - base) / each
            whole = int(needed.to_integral_value(rounding="ROUND_CEILING"))
            return max(0, min(whole, LISTED_STEPS))
        return LISTED_STEPS

    def thresholds(self, curve: ast.Curve, constants: dict[str, Decimal]) -> dict[Decimal, int]:
        numbers = self.numbers(curve, constants)
        if numbers is None or numbers[0] <= 0:
            return {}
        step, start, _base, _each = numbers
        line = self.spec(curve).span.line
        return {start + step * n: line for n in range(self._listed(curve, constants) + 1)}

    def band_texts(self, curve: ast.Curve, constants: dict[str, Decimal]) -> Mapping[int, str]:
        return _BandTexts(curve, constants, self._listed(curve, constants) + 1)

    def band_words(self, say: Say, curve: ast.Curve, band: int, percent_like: bool) -> str:
        numbers = self.numbers(curve, say.variant.constant_values if say.variant else {})
        s = self.spec(curve)
        if numbers is None:
            return say.expr(s.start)
        step, start, _base, _each = numbers
        n = band - 1

        def at(value: Decimal) -> str:
            return say.percent_exact(value) if percent_like else say.number(value)

        steps = plural(say.lang, "steps", n)
        return WORDS[say.lang]["band"].format(
            low=at(start + step * n), high=at(start + step * (n + 1)), n=n, steps=steps,
            step=at(step), start=at(start))

    def document_rows(self, say: Say, curve: ast.Curve, constants: dict[str, Decimal],
                      percent_like: bool, factor: Any) -> tuple[str, list[dict[str, str]]]:
        s = self.spec(curve)
        words = WORDS[say.lang]
        start, step = say.bound(s.start, percent_like), say.bound(s.step, percent_like)
        return words["intro"], [
            {"band": words["below"].format(start=start), "pays": factor(ast.Literal())},
            {"band": words["from"].format(start=start), "pays": factor(s.base)},
            {"band": words["each"].format(step=step, start=start),
             "pays": "+" + factor(s.each)},
        ]

    def summary(self, curve: ast.Curve) -> str:
        return str(self.spec(curve))

    def explain_band(self, ex: _Explainer, curve: ast.Curve, line: Line, x: Decimal) -> str:
        """'92.5% ≥ 90%: 2 full steps of 1%' — the steps the evaluator counted (the band)."""
        numbers = self.numbers(curve, ex.variant.constant_values)
        if numbers is None:
            return ex.pct(x)
        step, start, _base, _each = numbers
        n = line.band - 1
        counted = WORDS[ex.lang]["counted"].format(n=n, full=plural(ex.lang, "full", n),
                                                   step=ex.pct(step))
        return f"{ex.pct(x)} ≥ {ex.pct(start)}: {counted}"

    def explain_factor(self, ex: _Explainer, curve: ast.Curve, line: Line,
                       x: Decimal) -> str | None:
        """'(15% + 2 × 5%)': the first value and the steps counted."""
        numbers = self.numbers(curve, ex.variant.constant_values)
        if numbers is None:
            return None
        _step, _start, base, each = numbers
        return f"({ex.pct(base)} + {line.band - 1} × {ex.pct(each)})"

    # ---- pay semantics
    def lower(self, lowering: Any, curve: ast.Curve) -> lo.Curve:
        from .. import lower as lo
        s = self.spec(curve)
        cap, floor = lowering.limits(curve)
        spec = LoweredSteps(*(lowering.const(e) for e in (s.step, s.start, s.base, s.each)))
        return lo.Curve(curve.name, self, cap=cap, floor=floor, line=curve.span.line, spec=spec)

    def lowered_lines(self, curve: lo.Curve) -> list[str]:
        s = curve.spec
        assert isinstance(s, LoweredSteps)
        return [f"    steps of {s.step} from {s.start} pays {s.base} plus {s.each} per step"]

    def write_python(self, out: _VariantWriter, curve: lo.Curve) -> Q:
        from ..backends.python import Q
        s = curve.spec
        assert isinstance(s, LoweredSteps)
        args = ", ".join(out.lit(v) for v in (s.start, s.step, s.base, s.each))
        out.w.line(f"value, value_d, band = rt.steps_q(x, x_d, {args})")
        return Q("value", "value_d")

    def write_sql(self, query: VariantQuery, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """CASE WHEN x < start THEN 0 ELSE base + each × floor((x − start) ÷ step) END, the
        floor from the generator's exact integer division."""
        from fractions import Fraction

        from ..sql.generate import Num
        s = curve.spec
        assert isinstance(s, LoweredSteps)
        step, start, base, each = (Fraction(v) for v in (s.step, s.start, s.base, s.each))
        below = query.compare("<", x, query.const(start))
        n = query.round_units(query.plus(x, query.const(start), -1), step, "floor",
                              f"{curve.name}_steps")
        counted = Num(n, None, 1)
        value = query.plus(query.const(base), query.times(query.const(each), counted))
        zero = query.const(Fraction(0))
        band = query.case([(below.e.copy(), query.lit(0))], query.add(n, query.lit(1)))
        return query.choose([(below, zero)], value), band

    # ---- fmt
    def format_rows(self, curve: ast.Curve, indent: int, first: int) -> list[Row]:
        from ..formatter import Row, write_expr
        s = self.spec(curve)
        line = s.span.line or first
        return [Row(indent, line, s.span.end_line or line,
                    text=f"steps of {write_expr(s.step)} from {write_expr(s.start)} pays "
                         f"{write_expr(s.base)} plus {write_expr(s.each)} per step")]


def _unit(expr: ast.Expr) -> Unit:
    return expr.unit if isinstance(expr, ast.Literal) and expr.unit is not None else \
        Unit.PERCENT


class _BandTexts(Mapping[int, str]):
    """Band → its text, for any band (a steps curve has as many as the input reaches);
    iterating lists the first `listed`."""

    def __init__(self, curve: ast.Curve, constants: dict[str, Decimal], listed: int) -> None:
        self.numbers = StepsKind.numbers(curve, constants)
        self.unit = _unit(StepsKind.spec(curve).start)
        self.listed = listed if self.numbers is not None else 0

    def __getitem__(self, band: int) -> str:
        if self.numbers is None or band < 1:
            raise KeyError(band)
        step, start, _base, _each = self.numbers
        n = band - 1

        def text(value: Decimal) -> str:
            return literal_text(value, self.unit)

        return WORDS["en"]["band"].format(low=text(start + step * n),
                                          high=text(start + step * (n + 1)), n=n,
                                          steps=plural("en", "steps", n), step=text(step),
                                          start=text(start))

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, self.listed + 1))

    def __len__(self) -> int:
        return self.listed


KIND = StepsKind()
