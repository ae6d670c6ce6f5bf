"""A Result explained line by line, the way a person checks a payslip by hand, in en or ru.

    Выручка: 110 % > 100 %, коэффициент 1,2: 20 000 × 1,1 × 1,2 = 26 400
    ...
    Итого: 60 000 + 58 000 + 1 800 = 119 800

The numbers shown are the evaluator's: the Result's amounts, and every intermediate value
from the evaluator's trace (`Result.trace()`, kpidsl/trace.py): the constants of the
result's month, the facts with the defaults used, each KPI's exact value and attainment,
each curve's value in the band that applied and before its cap or floor, each line's
amount before its gates, each formula payment's exact value before rounding. The formulas
in front of them are written from the checked scheme with those values substituted. Where
the exact value differs from the rounded one shown the line says "≈". Labels come from the
scheme; the explanation's own words (attainment, coefficient, pool, total...) come from
WORDS in the chosen language.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from . import ast, numbers
from .checks.fold import fold
from .checks.walk import nodes
from .exprtext import Prec, Printer, describe_expr
from .i18n import LANGUAGES, section
from .labels import label_in
from .lower import written_at
from .runtime import CONTEXT
from .trace import Trace, shown
from .units import Unit

if TYPE_CHECKING:
    from .api import Ruleset
    from .checks import Variant
    from .results import Line, Result

# the words of an explanation, by language (kpidsl/i18n, section EXPLAIN)
WORDS: dict[str, dict[str, str]] = {lang: section("EXPLAIN", lang) for lang in LANGUAGES}

# a comparison that did not hold, said the other way round: `x >= 100%` → 'x is below 100%'
_NEGATED = {">=": "below", ">": "at_most", "<=": "above", "<": "at_least", "=": "is_not",
            "!=": "is"}
_COMPARE = {">=": "≥", "<=": "≤", "!=": "≠", "=": "=", ">": ">", "<": "<"}


@dataclass(frozen=True)
class ExplainLine:
    """One line of an explanation; `depth` is its indentation level, `kind` its role."""

    depth: int
    text: str
    kind: str  # title | heading | kpi | line | component | total | note


def explain(ruleset: Ruleset, result: Result, lang: str = "en", *,
            nbsp: bool = False) -> list[str]:
    """The calculation as text lines (two spaces per level of indentation).

    Numbers are formatted for `lang`; Russian thousands are separated by plain spaces unless
    `nbsp` is set (documents want no-break spaces, terminals and tests plain ones).
    """
    return ["  " * line.depth + line.text
            for line in explain_lines(ruleset, result, lang, nbsp=nbsp)]


def explain_lines(ruleset: Ruleset, result: Result, lang: str = "en", *,
                  nbsp: bool = False) -> list[ExplainLine]:
    """The calculation as structured lines, for documents that lay it out themselves."""
    if lang not in WORDS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(WORDS)}")
    with decimal.localcontext(CONTEXT):
        lines = _Explainer(ruleset, result, lang).run()
    if nbsp:
        return lines
    return [ExplainLine(x.depth, x.text.replace("\u00a0", " ").replace("\u202f", " "), x.kind)
            for x in lines]


class _Explainer:
    def __init__(self, ruleset: Ruleset, result: Result, lang: str) -> None:
        self.ruleset = ruleset
        self.result = result
        self.lang = lang
        self.words = WORDS[lang]
        self.variant: Variant = ruleset.checked.variants[result.grade]
        self.trace: Trace = result.trace()
        # the constants as the evaluator used them (a seasonal one is the result's month's)
        self.constants = {name: value for name, exact in self.trace.lets.items()
                          if (value := shown(exact)) is not None}
        self.out: list[ExplainLine] = []
        self.approximate = False  # did a number shown on the current line lose digits?

    # ---- numbers
    def num(self, value: Decimal) -> str:
        """A number with the digits it has, at most four decimals (the line then says ≈)."""
        if value == value.to_integral_value():
            value = value.normalize()
        elif isinstance(exp := value.normalize().as_tuple().exponent, int) and exp < -4:
            value = value.quantize(Decimal("0.0001")).normalize()
            self.approximate = True
        text = numbers.number(value, self.lang)
        return text.replace("-", "−")

    def amount(self, value: Decimal) -> str:
        return numbers.amount(value, self.lang).replace("-", "−")

    def pct(self, fraction: Decimal) -> str:
        """A fraction as a percentage with the digits it has (at most four decimals)."""
        scaled = _shown_percent(fraction)
        text = numbers.number(scaled, self.lang)
        text = f"{text}\u00a0%" if self.lang == "ru" else f"{text}%"
        return text.replace("-", "−")

    def value(self, value: Decimal, unit: Unit) -> str:
        if unit in (Unit.PERCENT, Unit.RATIO):
            return self.pct(value)
        if unit is Unit.MONEY:
            return self.amount(value)
        return self.num(value)

    def add(self, depth: int, text: str, kind: str) -> None:
        self.out.append(ExplainLine(depth, text, kind))

    # ---- the explanation
    def run(self) -> list[ExplainLine]:
        r, w = self.result, self.words
        title = w["title"].format(employee=r.employee or "—")
        details = [label_in(self.ruleset.checked.header, self.lang)]
        if r.grade != "base":
            grade = self.ruleset.checked.variants[r.grade]
            section = next((g for g in self.ruleset.checked.ruleset.grades
                            if g.name == r.grade), None)
            details.append(f"{w['grade']} "
                           f"{label_in(section, self.lang) if section else grade.name}")
        if r.team:
            details.append(f"{w['team']} {r.team}")
        self.add(0, f"{title} ({', '.join(details)})", "title")
        self.attainments()
        lines_by_pay: dict[str, list[Line]] = {}
        for line in r.lines:
            lines_by_pay.setdefault(line.payment, []).append(line)
        for name, amount in r.components.items():
            pay = self.variant.pays[name]
            if pay.items:
                self.pool(pay, lines_by_pay.get(name, []), amount)
            else:
                self.formula_pay(pay, amount)
        said = {note for _budget, _cap, note in self._budgets()}  # said with the payment
        for note in r.notes:
            if note not in said:
                self.add(0, note, "note")
        parts = [self.amount(a) for a in r.components.values()]
        total = self.amount(r.total)
        sum_text = " + ".join(parts) + f" = {total}" if len(parts) > 1 else total
        self.add(0, f"{w['total']}: {sum_text}", "total")
        return self.out

    def attainments(self) -> None:
        kpis = [self.result.kpis[n] for n in self.variant.kpis if n in self.result.kpis]
        if not kpis:
            return
        self.add(0, f"{self.words['attainment']}:", "heading")
        for k in kpis:
            decl = self.variant.kpis[k.name]
            parts = []
            value = self.value(k.value, k.unit)
            traced = self.trace.kpis[k.name]
            if decl.formula is not None and not isinstance(decl.formula, ast.Ref):
                text = self.sub(decl.formula)
                parts.append(f"{self.formula(decl.formula)} = {self.functions(text)} "
                             f"{self.eq(shown(traced.value), k.value)} "
                             f"{value}")
            # before `round attainment`, as the evaluator had it, to the digits shown (34)
            exact = shown(traced.unrounded)
            if k.attainment is None:
                parts.append(value if not parts else self.words["no_attainment"])
            elif decl.attainment is not None:
                text = self.sub(decl.attainment)
                parts.append(f"{text} {self.eq_pct(exact, k.attainment)} {self.pct(k.attainment)}")
            elif k.plan is not None:
                plan = self.value(k.plan, k.unit)
                if k.direction == "lower":
                    # the text shows 2 − value ÷ plan, before "at least 0": '≈' when that
                    # clamp (or a rounding) changed it
                    if traced.unclamped is not None:
                        exact = shown(traced.unclamped)
                    parts.append(f"2 − {value} / {plan} {self.eq_pct(exact, k.attainment)} "
                                 f"{self.pct(k.attainment)} ({self.words['lower']})")
                else:
                    parts.append(f"{value} / {plan} {self.eq_pct(exact, k.attainment)} "
                                 f"{self.pct(k.attainment)}")
            self.add(1, f"{label_in(decl, self.lang)}: {'; '.join(parts)}", "kpi")
            self.curve_calls(f"kpi:{k.name}", decl.formula, 2)

    def eq(self, exact: Decimal | Fraction | None, shown: Decimal | None) -> str:
        """'=' when the arithmetic shown gives exactly the amount shown, else '≈'."""
        approximate, self.approximate = self.approximate, False
        if approximate:
            return "≈"
        return "=" if exact is None or shown is None or exact == shown else "≈"

    def eq_pct(self, exact: Decimal | Fraction | None, shown: Decimal | None) -> str:
        """'≈' also when the percentage shown is rounded (2/3 → 66.6667 %)."""
        if shown is not None and _shown_percent(shown) != shown * 100:
            self.approximate = False
            return "≈"
        return self.eq(exact, shown)

    # ---- pools
    def pool(self, pay: ast.Pay, lines: list[Line], amount: Decimal) -> None:
        label = label_in(pay, self.lang)
        traced = self.trace.payments.get(pay.name)
        pool_value = shown(traced.pool) if traced is not None else None
        heading = f"{label} ({self.words['pool']} {self.amount(pool_value)})" \
            if pool_value is not None else label
        self.add(0, f"{heading}:", "heading")
        items = {item.kpi: item for item in pay.items}
        for line in lines:
            self.add(1, self.pool_line(line, items.get(line.kpi)), "line")
        # the lines' sum as the evaluator had it, before the payment's own gates; lines a
        # budget scaled add up to the amount paid (Result.scale_component)
        total = traced.rounded if traced is not None and traced.rounded is not None and \
            not any(line.gate == "scaled" for line in lines) else amount
        sum_text = " + ".join(self.amount(line.amount) for line in lines)
        text = f"{label}: {sum_text} = {self.amount(total)}" if len(lines) > 1 else \
            f"{label}: {self.amount(total)}"
        if total != amount:
            text += f"; {self.gate_words(pay, amount)}: {self.amount(amount)}"
        self.add(1, text, "component")

    def pool_line(self, line: Line, item: ast.PoolItem | None) -> str:
        curve = self.variant.curves.get(line.curve)
        x = line.attainment
        head = label_in(self.variant.kpis[line.kpi], self.lang)
        if x is None or curve is None:
            return f"{head}: {self.amount(line.share)} × {self.num(line.factor)} = " \
                   f"{self.amount(line.amount)}"
        traced = self.trace.lines[(line.payment, line.kpi)]
        factor_text = self.factor(curve, line, x)
        coefficient = self.coefficient(curve, line)
        head = f"{head}: {self.band_words(curve, line, x)}"
        if coefficient is not None:
            head += f", {self.words['coefficient']} {self.num(coefficient)}"
        share = self.amount(line.share)
        steps = f"{share} × {factor_text}"
        applied = traced.curve
        if curve.kind.explains_limit and line.band and applied is not None and \
                applied.value is not None and applied.value != applied.raw:
            # the band's value, then the curve's own cap or floor, as the evaluator had them
            raw, limit = shown(applied.raw), shown(applied.value)
            assert raw is not None and limit is not None
            words = self.words["curve_cap" if limit < raw else "curve_floor"]
            steps += f" = {share} × {self.num(raw)}, " \
                     f"{words.format(limit=self.limit(limit))}: {share} × {self.num(limit)}"
        if line.gate:
            gate_text = self.item_gate(line, item)
            rounded = traced.rounded_before_gates
            text = self.amount(rounded) if rounded is not None else "?"
            return f"{head}: {steps} {self.eq(traced.before_gates, rounded)} {text}; " \
                   f"{gate_text}: {self.amount(line.amount)}"
        return f"{head}: {steps} {self.eq(traced.before_gates, line.amount)} " \
               f"{self.amount(line.amount)}"

    def limit(self, value: Decimal) -> str:
        return self.pct(value)

    def band_words(self, curve: ast.Curve, line: Line, x: Decimal) -> str:
        """Where the attainment sits, with it: '110 % > 100 %', '80 % ≤ 95 % ≤ 100 %'."""
        if not line.band:
            return f"{self.pct(x)}, {self.words['outside']}"
        return curve.kind.explain_band(self, curve, line, x)

    def factor(self, curve: ast.Curve, line: Line, x: Decimal) -> str:
        """The band's `pays` with the attainment substituted (its value is the trace's)."""
        said = curve.kind.explain_factor(self, curve, line, x) if line.band else None
        return self.num(line.factor) if said is None else said

    def coefficient(self, curve: ast.Curve, line: Line) -> Decimal | None:
        return curve.kind.explain_coefficient(self, curve, line) if line.band else None

    def item_gate(self, line: Line, item: ast.PoolItem | None) -> str:
        """The gate the evaluator applied last to the line (its trace says which), in words."""
        kind = {"withheld": "only_if", "capped": "cap", "floored": "floor"}.get(line.gate, "")
        if not kind:  # a budget scaled it: said with the payment
            return line.gate
        pay = self.variant.pays[line.payment]
        # the line's gates as the evaluator has them: the payment's `only if` first
        gates = [g for g in pay.gates if g.kind == "only_if"] + list(item.gates if item else ())
        traced = self.trace.lines[(line.payment, line.kpi)]
        applied = [i for i in traced.gates if i < len(gates) and gates[i].kind == kind]
        if not applied:
            return self.gate_text(None, line.gate)
        return self.gate_text(gates[applied[-1]], line.gate, traced.limits.get(applied[-1]))

    def gate_words(self, pay: ast.Pay, amount: Decimal) -> str:
        traced = self.trace.payments.get(pay.name)
        own = [g for g in pay.gates if not (pay.items and g.kind == "only_if")]
        if traced is not None and traced.gates and traced.gates[-1] < len(own):
            index = traced.gates[-1]
            gate = own[index]  # the last the evaluator applied
            return self.gate_text(gate, {"only_if": "withheld", "cap": "capped"}.get(
                gate.kind, "floored"), traced.limits.get(index))
        for gate in pay.gates:
            if gate.kind == "only_if" and amount == 0:
                return self.gate_text(gate, "withheld")
            if gate.kind in ("cap", "floor"):
                return self.gate_text(gate, "capped" if gate.kind == "cap" else "floored")
        return ""

    def gate_text(self, gate: ast.Gate | None, what: str,
                  traced: Fraction | None = None) -> str:
        """A gate in words, with the limit the evaluator applied (`traced`, its trace's);
        without it, the limit's formula with the employee's numbers in it."""
        if gate is None:
            return what
        if what == "withheld":
            return self.words["withheld"].format(cond=describe_expr(gate.value))
        value = shown(traced)
        limit = self.sub(gate.value) if value is None else (
            self.pct(value) if self._is_ratio(gate.value) else self.amount(value))
        said = self.words["capped" if what == "capped" else "floored"].format(limit=limit)
        if gate.unless is not None:  # why it applied: its `unless` did not hold
            said += f" ({self.not_holding(gate.unless)})"
        return said

    def not_holding(self, condition: ast.Expr) -> str:
        """A condition that did not hold, with the employee's numbers: 'Revenue attainment
        96% is below 100%'."""
        if isinstance(condition, ast.Compare) and str(condition.op) in _NEGATED:
            left, right = self.sub(condition.left), self.sub(condition.right)
            kpi = self.variant.kpis.get(getattr(condition.left, "name", ""))
            name = self.words["attainment_of"].format(kpi=label_in(kpi, self.lang)) \
                if isinstance(condition.left, ast.AttainmentOf) and kpi is not None \
                else self.formula(condition.left)
            if name != left:
                left = f"{name} {left}"
            return f"{left} {self.words[_NEGATED[str(condition.op)]]} {right}"
        return self.words["not_met"].format(cond=self.sub(condition))

    def _is_ratio(self, expr: ast.Expr) -> bool:
        return isinstance(expr, ast.Literal) and expr.unit is Unit.PERCENT

    def formula(self, expr: ast.Expr) -> str:
        """A formula as the reader says it: in Russian with the scheme's labels."""
        if self.lang == "en":
            return describe_expr(expr)
        from .docs.text import Say

        return Say(self.lang, self.ruleset.currency, self.variant).expr(expr)

    def functions(self, text: str) -> str:
        """min/max/abs in the reader's words (the numbers between them stay as they are)."""
        if self.lang == "en":
            return text
        names = {"min": "мин", "max": "макс", "abs": "модуль"}
        return re.sub(r"\b(min|max|abs)\(", lambda m: names[m.group(1)] + "(", text)

    # ---- formula payments
    def formula_pay(self, pay: ast.Pay, amount: Decimal) -> None:
        label = label_in(pay, self.lang)
        formula = pay.formula
        if formula is None:
            self.add(0, f"{label}: {self.amount(amount)}", "component")
            return
        text = self.sub(formula)
        # the exact value the evaluator rounded, and what it rounded it to (its trace)
        traced = self.trace.payments.get(pay.name)
        exact = traced.exact if traced is not None else None
        rounded = traced.rounded if traced is not None else None
        if isinstance(formula, ast.Literal) or text == describe_expr(formula):
            self.add(0, f"{label}: {self.amount(amount if rounded is None else rounded)}"
                     + self._gated(pay, rounded, amount), "component")
            self.curve_calls(f"pay:{pay.name}", formula, 1)
            return
        self.add(0, f"{label}: {self.formula(formula)}", "component")
        self.curve_calls(f"pay:{pay.name}", formula, 1)
        shown = rounded if rounded is not None else amount
        self.add(1, f"= {self.functions(text)} {self.eq(exact, shown)} {self.amount(shown)}"
                 + self._gated(pay, rounded, amount), "component")

    def curve_calls(self, context: str, formula: ast.Expr | None, depth: int) -> None:
        """Each curve the formula called, with the value it gave (the trace's): the band, or
        a marginal curve's slices (100,000 × 5% = 5,000; 25,000 × 6% = 1,500)."""
        calls = [(name, call) for name, where, call in self.trace.calls if where == context]
        if not calls or formula is None:
            return
        from .checks.types import UnitChecker

        units = UnitChecker(self.variant, self.ruleset.checked.source, self.ruleset.currency)
        args = {n.curve: n.arg for n in nodes(formula) if isinstance(n, ast.CurveCall)}
        for name, call in calls:
            curve = self.variant.curves[name]
            arg = args.get(name)
            unit = units.infer(arg) if arg is not None else Unit.NUMBER
            x, value = shown(call.curve_input), shown(call.paid)
            assert x is not None and value is not None
            head = f"{label_in(curve, self.lang)} ({self.value(x, unit)})"
            if call.slices:
                parts = [f"{self.value(shown(s.high - s.low), unit)} × {self.pct(s.rate)} = "  # type: ignore[arg-type]
                         f"{self.value(shown(s.pays), unit)}" for s in call.slices]  # type: ignore[arg-type]
                total = f"; {self.words['in_all']} {self.value(value, unit)}" \
                    if len(parts) > 1 else ""
                self.add(depth, f"{head}: {'; '.join(parts)}{total}", "line")
            else:
                band = f"{self.words['band']} {call.band}" if call.band else \
                    self.words["outside"]
                self.add(depth, f"{head}: {band} → {self.num(value)}", "line")

    def _budgets(self) -> list[tuple[ast.Budget, Decimal, str]]:
        """The budgets that scaled one of this result's payments: (budget, cap, note)."""
        from .evaluate import budget_note

        out = []
        for budget in self.ruleset.checked.base.budgets.values():
            cap = fold(budget.cap, self.ruleset.checked.base.constant_values)
            if cap is not None and budget_note(budget, cap) in self.result.notes:
                out.append((budget, cap, budget_note(budget, cap)))
        return out

    def _gated(self, pay: ast.Pay, computed: Decimal | None, amount: Decimal) -> str:
        for budget, cap, _note in self._budgets():
            if budget.component == pay.name:
                words = self.words["scaled"].format(fund=label_in(budget, self.lang),
                                                    cap=self.amount(cap))
                return f"; {words}: {self.amount(amount)}"
        if computed is None or computed == amount:
            return ""
        return f"; {self.gate_words(pay, amount)}: {self.amount(amount)}"

    # ---- expressions with the employee's numbers in them
    def sub(self, expr: ast.Expr | None, curve_input: Decimal | None = None,
            top: Prec = Prec.CONDITIONAL, scope: tuple[str, ...] | None = None) -> str:
        """`expr` with the evaluator's values in it (`scope`: the line a curve's band is
        written for); parenthesised where it stands in a place binding at `top`."""
        if expr is None:
            return ""
        return _Substitute(self, curve_input, scope).operand(expr, top)


def _shown_percent(fraction: Decimal) -> Decimal:
    scaled = (fraction * 100).normalize()
    exponent = scaled.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        scaled = scaled.quantize(Decimal("0.0001")).normalize()
    return scaled


class _Substitute(Printer):
    """An expression written with the evaluator's values in place of names: the trace's
    facts (with the defaults used), constants (the month's) and KPIs; an `if` as the branch
    the evaluator took, a division as its `otherwise` when that was taken (the trace's
    `branches`). It computes nothing: where the trace holds no choice (a branch the
    evaluator never reached), the whole `if` is written. Structure, precedence and
    parentheses are the one printer's (kpidsl/exprtext.py)."""

    def __init__(self, owner: _Explainer, curve_input: Decimal | None,
                 scope: tuple[str, ...] | None) -> None:
        super().__init__()
        self.o = owner
        self.x = curve_input
        self.scope = scope  # a curve's band: the line whose curve it is
        self.kpis = owner.result.kpis
        self.facts = owner.trace.facts  # with the defaults the evaluator used
        self.units = owner.variant.units
        self.constants = owner.constants

    def taken(self, at: tuple[int, int] | None) -> bool | None:
        """The way the evaluator went at the choice written at `at` (None: not traced)."""
        return None if at is None else self.o.trace.branches.get((self.scope, at))

    def branch(self, e: ast.Expr) -> ast.Expr:
        """An `if` the evaluator decided stands for the branch it took (nested too)."""
        while isinstance(e, ast.IfThenElse):
            taken = self.taken(written_at(e))
            if taken is None:
                return e
            e = e.then if taken else e.otherwise
        return e

    def operand(self, e: ast.Expr, place: Prec) -> str:
        return super().operand(self.branch(e), place)

    # ---- words
    def literal(self, e: ast.Literal) -> str:
        if e.unit is Unit.PERCENT:
            return self.o.pct(e.value)
        return self.o.amount(e.value) if e.unit is Unit.MONEY else self.o.num(e.value)

    def name(self, name: str) -> str:
        o = self.o
        if name in self.constants:
            return o.value(self.constants[name], self.units.get(name, Unit.NUMBER))
        if name in self.kpis:
            k = self.kpis[name]
            return o.value(k.value, k.unit)
        if name in self.facts:
            return o.value(self.facts[name], self.units.get(name, Unit.NUMBER))
        return name

    def sign(self, op: ast.UnaryOp | ast.BinaryOp | ast.CompareOp) -> str:
        return _COMPARE.get(op) or super().sign(op)

    def rounding(self, e: ast.Round, value: str) -> str:
        return f"round({value}, {describe_expr(e.step)})"

    # ---- the kinds whose text is a value, a choice, or the reader's words
    def visit_CurveInput(self, e: ast.CurveInput) -> str:
        return "attainment" if self.x is None else self.o.num(self.x)

    def visit_PlanOf(self, e: ast.PlanOf) -> str:
        k = self.kpis.get(e.name)
        if k is None or k.plan is None:
            return describe_expr(e)
        return self.o.value(k.plan, k.unit)

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> str:
        k = self.kpis.get(e.name)
        if k is None or k.attainment is None:
            return describe_expr(e)
        return self.o.pct(k.attainment)

    def visit_Division(self, e: ast.Division) -> str:
        left = self.operand(e.left, Prec.PRODUCT)
        right = self.operand(e.right, Prec.SIGNED)
        if e.otherwise is not None and self.taken(written_at(e)) is False:
            return f"{left} / {right} → {self.operand(e.otherwise, Prec.SIGNED)}"
        return f"{left} / {right}"

    def visit_IfThenElse(self, e: ast.IfThenElse) -> str:
        chosen = self.branch(e)
        if chosen is not e:
            return self.visit(chosen)
        return super().visit_IfThenElse(e)

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> str:
        return self.o.formula(e)  # team figures: in the reader's words

    def visit_TeamSize(self, e: ast.TeamSize) -> str:
        return self.o.formula(e)

    def visit_CurveCall(self, e: ast.CurveCall) -> str:
        return self.o.formula(e)  # its value is said on a line of its own (`curve_calls`)
