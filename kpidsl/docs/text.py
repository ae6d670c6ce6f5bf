"""Values and formulas in a reader's words: locale-formatted numbers, labels instead of names.

`Say` is bound to one language, currency and variant: `say.expr(ast)` turns
`revenue / deals otherwise 0 RUB` into "Revenue ÷ Deals closed (or RUB 0 when Deals closed
is 0)"; `say.value(Decimal, unit)` formats a value as the unit reads ("2.1%", "RUB 3,300,000").
Every number goes through kpidsl.numbers (Babel), so documents and statements agree.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from .. import ast, numbers
from ..checks import Variant
from ..checks.fold import fold
from ..exprtext import Printer
from ..labels import label_in
from ..units import Unit
from .words import Words

_COMPARE = {">=": "≥", "<=": "≤", "!=": "≠"}


class Say:
    """Formats values and expressions for one document (language, currency, variant)."""

    def __init__(self, lang: str, currency: str, variant: Variant | None = None) -> None:
        self.lang = lang
        self.currency = currency
        self.variant = variant
        self.w = Words(lang)
        self._printer = _ReaderPrinter(self)

    # ---------------------------------------------------------------- values
    def money(self, value: Decimal) -> str:
        """A computed amount, always with kopecks: '119 800,00 ₽' / 'RUB 119,800.00'."""
        return _keep_together(numbers.money(value, self.currency, self.lang))

    def money_written(self, value: Decimal) -> str:
        """An amount the scheme writes: kopecks only when it has them ('60 000 ₽')."""
        whole = value == value.to_integral_value()
        return _keep_together(numbers.money(value, self.currency, self.lang,
                                            decimals=0 if whole else 2))

    def percent(self, fraction: Decimal) -> str:
        return numbers.percent(fraction, self.lang)

    def attainment(self, fraction: Decimal) -> str:
        """An attainment or factor to 0.01 %; "≈" marks a value cut there (never rounded up
        across a threshold: 99.996 % shows as ≈ 99.99 %, not 100 %)."""
        scaled = fraction.scaleb(2)
        shown = scaled.quantize(Decimal("0.01"), rounding=decimal.ROUND_DOWN)
        text = self.percent(shown.scaleb(-2))
        return text if shown == scaled else f"≈\u00a0{text}"

    def percent_exact(self, fraction: Decimal) -> str:
        """A fact or plan in percent with every digit it has: 1.598 %, not 1.6 %."""
        text = self.number(fraction.scaleb(2))
        return f"{text}\u00a0%" if self.lang == "ru" else f"{text}%"

    def number(self, value: Decimal) -> str:
        return numbers.number(_trim(value), self.lang)

    def value(self, value: Decimal | None, unit: Unit) -> str:
        """A fact, plan or KPI value as its unit reads."""
        if value is None:
            return "—"
        places = 2 if unit is Unit.MONEY else 6 if unit in (Unit.PERCENT, Unit.RATIO) else 4
        shown = value.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)
        if shown != value:  # a value no one can type (15 ÷ 0.7 minutes): say it is rounded
            return "≈\u00a0" + self.value(shown, unit)
        if unit is Unit.MONEY:
            return self.money_written(_trim(value))
        if unit in (Unit.PERCENT, Unit.RATIO):
            return self.percent_exact(value)
        if unit in (Unit.MINUTES, Unit.HOURS, Unit.DAYS):
            return f"{self.number(value)}\u00a0{self.w('suffix_' + unit.value)}"
        return self.number(value)

    def unit(self, unit: Unit) -> str:
        return self.w(f"unit_{unit.value}", currency=self.currency)

    # ---------------------------------------------------------------- names
    def label(self, name: str) -> str:
        """The scheme's label for a fact, constant, KPI, payment or curve (its name if none)."""
        v = self.variant
        if v is not None:
            for table in (v.kpis, v.facts, v.constants, v.pays, v.curves):
                decl = table.get(name)
                if decl is not None and (decl.label or decl.translations):
                    return label_in(decl, self.lang)
        return name

    def of(self, node: ast.Decl | ast.Header) -> str:
        """A declaration's label in this language ("Revenue" ru "Выручка" → Выручка)."""
        return label_in(node, self.lang)

    # ---------------------------------------------------------------- expressions
    def expr(self, expr: ast.Expr) -> str:
        """A formula in the reader's words: labels, localized signs and phrases."""
        return self._printer.text(expr)

    def _literal(self, e: ast.Literal) -> str:
        if e.unit is Unit.PERCENT:
            return self.percent_exact(e.value)
        if e.unit is Unit.MONEY:
            return self.money_written(e.value)
        return self.number(e.value)

    def _constants(self) -> dict[str, Decimal]:
        return self.variant.constant_values if self.variant is not None else {}

    # ---------------------------------------------------------------- curves
    def bound(self, expr: ast.Expr, percent_like: bool) -> str:
        value = fold(expr, self._constants())
        if value is None:
            return self.expr(expr)
        if isinstance(expr, ast.Literal) and expr.unit is Unit.MONEY:
            return self.money_written(value)
        if isinstance(expr, ast.Ref) and self.variant is not None and \
                self.variant.units.get(expr.name) is Unit.MONEY:
            return self.money_written(value)
        return self.percent_exact(value) if percent_like else self.number(value)

    def band(self, band: ast.Band, percent_like: bool = True) -> str:
        """A band in words: 'from 80 % through 100 %' / 'от 80 % до 100 % включительно'."""
        lo = self.bound(band.lower, percent_like) if band.lower is not None else ""
        hi = self.bound(band.upper, percent_like) if band.upper is not None else ""
        ru = self.lang == "ru"
        if band.lower is None and band.upper is None:
            return "—"
        if band.lower is None:
            if band.upper_inclusive:
                return f"не более {hi}" if ru else f"at most {hi}"
            return f"менее {hi}" if ru else f"below {hi}"
        if band.upper is None:
            if band.lower_inclusive:
                return f"от {lo} и выше" if ru else f"from {lo}"
            return f"свыше {lo}" if ru else f"above {lo}"
        if band.lower_inclusive and band.upper_inclusive:
            return f"от {lo} до {hi} включительно" if ru else f"from {lo} through {hi}"
        if band.lower_inclusive:
            return f"от {lo} до {hi}, не включая {hi}" if ru else f"from {lo} to under {hi}"
        if band.upper_inclusive:
            return f"свыше {lo} до {hi} включительно" if ru else f"above {lo} through {hi}"
        return f"свыше {lo}, но менее {hi}" if ru else f"above {lo}, below {hi}"


class _ReaderPrinter(Printer):
    """The printer with a document's words: labels for names, ÷ ≥ ≤ ≠, the language's
    phrases for conditions, divisions by zero, functions and rounding; the structure and
    parentheses are the printer's."""

    def __init__(self, say: Say) -> None:
        super().__init__()
        self.say = say
        self.w = say.w

    def literal(self, e: ast.Literal) -> str:
        return self.say._literal(e)

    def name(self, name: str) -> str:
        return self.say.label(name)

    def sign(self, op: ast.UnaryOp | ast.BinaryOp | ast.CompareOp) -> str:
        return _COMPARE.get(op) or super().sign(op)

    def logic(self, op: ast.LogicOp) -> str:
        return self.w(f"x_{op}")

    def negation(self, operand: str) -> str:
        return f"{self.w('x_not')} {operand}"

    def division(self, left: str, right: str, otherwise: str | None) -> str:
        text = f"{left} ÷ {right}"
        if otherwise is None:
            return text
        return self.w("x_otherwise", division=text, otherwise=otherwise, denominator=right)

    def conditional(self, condition: str, then: str, otherwise: str) -> str:
        return self.w("x_if", condition=condition, then=then, otherwise=otherwise)

    def call(self, function: ast.Function, args: list[str]) -> str:
        joined = self.w("x_separator").join(args)
        if function == ast.Function.ABS:
            return f"|{joined}|"
        return f"{self.w(f'x_{function}')}({joined})"

    def rounding(self, e: ast.Round, value: str) -> str:
        step = fold(e.step, self.say._constants())
        return self.w("x_round", value=value,
                      step=self.say.number(step) if step is not None else self.text(e.step),
                      mode=self.w(f"mode_{e.mode}"))

    def curve_call(self, curve: str, arg: str) -> str:
        return f"{self.say.label(curve)}({arg})"

    def visit_PlanOf(self, e: ast.PlanOf) -> str:
        return self.w("x_plan_of", name=self.say.label(e.name))

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> str:
        return self.w("x_attainment_of", name=self.say.label(e.name))

    def visit_CurveInput(self, e: ast.CurveInput) -> str:
        return self.w("x_attainment")

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> str:
        return self.w(f"x_team_{e.kind}", name=self.say.label(e.name))

    def visit_TeamSize(self, e: ast.TeamSize) -> str:
        return self.w("x_team_size")


def _keep_together(text: str) -> str:
    """An amount never breaks across lines between its digits and its currency."""
    return text.replace(" ", "\u00a0")


def _trim(value: Decimal) -> Decimal:
    """3300000.00 → 3300000 and 2.10 → 2.1 for display (the value itself is unchanged)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
