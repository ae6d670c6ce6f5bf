"""The oracle: what "kpidsl never crashes and never leaks an internal error" means, on one input.

`run_one(text)` puts a scheme through `kpidsl.check`, `kpidsl.loads`, the generated code's
token check and, when it compiles, evaluation on its own examples and on synthetic facts. It
returns the problems found (an empty list is a pass) and the furthest stage reached.

An *internal error reported as a user diagnostic* is any diagnostic that
- has a code outside the catalogue in docs/diagnostics.md, or a run-time code (KPI9xx) from
  checking, or KPI903/KPI904 (a missing value or "any other failure": a bug, never the
  user's input) from evaluating;
- or whose message or hint contains, in text the input did not supply itself: a Python
  exception name (`KeyError`, `InvalidOperation` ...), `Traceback`, the word `None`, a
  Python repr (`<class ...>`, `<function ...>`, `object at 0x...`), or a dunder name;
- or that cannot be rendered, is empty, or points outside the file.
"""

from __future__ import annotations

import decimal
import io
import json
import keyword
import re
import time
import token
import tokenize
import traceback
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import kpidsl
from kpidsl import ast as kast
from kpidsl import runtime
from kpidsl.checks import CheckedRuleset, Variant
from kpidsl.diagnostics import Diagnostic, KpiError, render_all
from kpidsl.testing import run_examples

ROOT = Path(__file__).resolve().parents[2]

_INTERNAL = (
    re.compile(r"Traceback"),
    re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b"),
    re.compile(r"\b(?:InvalidOperation|DivisionByZero|DivisionUndefined|Overflow|Underflow|"
               r"Inexact|ConversionSyntax|StopIteration|KeyboardInterrupt)\b"),
    re.compile(r"\bNone\b"),
    re.compile(r"<(?:class|function|built-in|module|bound method|lambda)\b|object at 0x"
               r"|<[A-Za-z_][\w.]*>"),
    re.compile(r"\b__\w+__\b"),
)
# Codes that evaluation may report for a scheme the checker accepted, given odd facts.
# KPI905: a team result refused because another member's row failed (kpidsl/teams.py).
RUNTIME_CODES = frozenset({"KPI501", "KPI502", "KPI503", "KPI901", "KPI902", "KPI905"})

# Names the generated evaluator may contain: Python keywords, the runtime's exports, the
# module's own fixed names, and identifiers built from a fixed prefix and a number.
ALLOWED_NAMES = frozenset({
    "Decimal", "decimal", "kpidsl", "runtime", "rt", "SCHEME", "CURRENCY", "EVALUATORS",
    "facts", "team", "month", "x", "x_d", "value", "value_d", "band", "min", "max", "abs",
    "quantize", "get",
    *runtime.exported,
})
GENERATED_NAME = re.compile(
    r"(?:D|T|c|f|k|p|a|pay|line|t|g|b)\d+(?:_[a-z]+)*|v\d+_curve\d+(?:_q)?|evaluate_\d+|_d\d+")


@cache
def catalogue() -> frozenset[str]:
    """The documented codes (docs/diagnostics.md, one table row per code)."""
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\| (KPI\d{3}) \|", text, flags=re.M))


def diagnostic_problems(d: Diagnostic, text: str, *, stage: str) -> list[str]:
    """Why `d` looks like an internal error rather than a message meant for a person."""
    out: list[str] = []
    where = f"{stage}: {d.code} {d.message!r}"
    if d.code not in catalogue():
        out.append(f"{where}: code not in docs/diagnostics.md")
    if stage in ("check", "loads") and d.code.startswith("KPI9"):
        out.append(f"{where}: a run-time code from checking")
    if stage == "evaluate" and d.code not in RUNTIME_CODES:
        out.append(f"{where}: not an expected run-time code")
    if not d.message.strip():
        out.append(f"{where}: empty message")
    if str(d.severity) not in ("error", "warning"):
        out.append(f"{where}: severity {d.severity!r}")
    lines = text.count("\n") + 2
    if d.line < 0 or d.line > lines or d.column < 0:
        out.append(f"{where}: position {d.line}:{d.column} outside the file")
    for part in (d.message, d.hint):
        for pattern in _INTERNAL:
            for match in pattern.finditer(part):
                if match.group() not in text:
                    out.append(f"{where}: internal text {match.group()!r}")
    try:
        rendered = d.render()
        json.dumps(d.to_dict())
    except Exception as exc:
        out.append(f"{where}: cannot render: {type(exc).__name__}: {exc}")
    else:
        if not isinstance(rendered, str) or d.code not in rendered:
            out.append(f"{where}: rendering lost the code")
    return out


def foreign_names(source: str) -> list[str]:
    """Problems in generated code: names outside the allow-list, strings that are not repr()
    of their value, comments that are not plain ASCII, numbers that are not small indices."""
    import ast as python_ast

    out: list[str] = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for tok in tokens:
        text = tok.string
        if tok.type == token.NAME:
            if not (keyword.iskeyword(text) or text in ALLOWED_NAMES or
                    GENERATED_NAME.fullmatch(text)):
                out.append(f"line {tok.start[0]}: name {text!r}")
        elif tok.type == token.STRING:
            value = python_ast.literal_eval(text)
            if not isinstance(value, str) or repr(value) != text:
                out.append(f"line {tok.start[0]}: string {text!r} is not repr() of its value")
        elif tok.type == token.COMMENT:
            if not (text.isascii() and text.isprintable()):
                out.append(f"line {tok.start[0]}: comment {text!r} is not plain ASCII")
        elif tok.type == token.NUMBER:
            if not re.fullmatch(r"\d{1,6}", text):
                out.append(f"line {tok.start[0]}: number {text!r} outside a Decimal literal")
        elif tok.type == token.ERRORTOKEN:
            out.append(f"line {tok.start[0]}: error token {text!r}")
    return out


FACT_SETS: tuple[Decimal, ...] = (
    Decimal(0), Decimal(1), Decimal(950), Decimal("3300000"), Decimal("0.021"),
    Decimal("-5"), Decimal("1E+50"), Decimal("1E-30"),
)


@dataclass
class Outcome:
    """The problems found on one input and the furthest stage it reached."""

    problems: list[str] = field(default_factory=list)
    stage: str = "syntax"  # syntax | checked | compiled | evaluated
    seconds: float = 0.0
    evaluations: int = 0


def run_one(text: str, *, evaluate: bool = True) -> Outcome:
    started = time.perf_counter()
    outcome = Outcome()
    try:
        _run(text, outcome, evaluate)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        outcome.problems.append(f"oracle: {type(exc).__name__}: {exc}\n"
                                f"{''.join(traceback.format_exc(limit=-6))}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _crash(stage: str, exc: BaseException) -> str:
    return (f"{stage} raised {type(exc).__name__}: {str(exc)[:300]}\n"
            f"{''.join(traceback.format_exception(exc, limit=-8))}")


def _run(text: str, outcome: Outcome, evaluate: bool) -> None:
    problems = outcome.problems
    try:
        diagnostics = kpidsl.check(text)
    except Exception as exc:
        problems.append(_crash("check", exc))
        return
    for d in diagnostics:
        problems += diagnostic_problems(d, text, stage="check")
    try:
        render_all(diagnostics)
    except Exception as exc:
        problems.append(_crash("render_all", exc))
    has_errors = any(d.is_error for d in diagnostics)
    if has_errors and not any(d.code.startswith("KPI0") for d in diagnostics):
        outcome.stage = "checked"
    try:
        ruleset = kpidsl.loads(text)
    except KpiError as exc:
        if not has_errors:
            problems.append("loads raised KpiError for a scheme check accepted")
        if exc.diagnostics != diagnostics:
            problems.append("loads and check report different diagnostics")
        for d in exc.diagnostics:
            problems += diagnostic_problems(d, text, stage="loads")
        return
    except Exception as exc:
        problems.append(_crash("loads", exc))
        return
    outcome.stage = "compiled"
    if has_errors:
        problems.append("loads accepted a scheme check reported errors in")
    problems += [f"generated code: {p}" for p in foreign_names(ruleset.python_source)]
    if evaluate:
        _evaluate(ruleset, text, outcome)


def _evaluate(ruleset: kpidsl.Ruleset, text: str, outcome: Outcome) -> None:
    problems = outcome.problems
    try:
        for example in run_examples(ruleset):
            outcome.evaluations += 1
            for d in example.errors:
                problems += diagnostic_problems(d, text, stage="evaluate")
    except Exception as exc:
        problems.append(_crash("run_examples", exc))
    for grade in [None, *ruleset.grades]:
        _evaluate_grade(ruleset, grade, text, outcome)
    if problems:
        return
    outcome.stage = "evaluated"


def _evaluate_grade(ruleset: kpidsl.Ruleset, grade: str | None, text: str,
                    outcome: Outcome) -> None:
    """Synthetic rows through evaluate_many: every row gives a result or a reported error."""
    problems = outcome.problems
    rows = [{"employee": f"e{i}", **dict.fromkeys(ruleset.fact_specs, value)}
            for i, value in enumerate(FACT_SETS)]
    failed: list[Diagnostic] = []
    errored: set[str] = set()

    def on_error(employee: str, _row: int, found: list[Diagnostic]) -> None:
        errored.add(employee)
        failed.extend(found)

    try:
        results = list(ruleset.evaluate_many(rows, grade, on_error=on_error))
    except KpiError as exc:  # only a budget too large for the context refuses a whole batch
        if not all(d.code == "KPI902" and d.message.startswith("budget ")
                   for d in exc.diagnostics):
            problems.append(_crash(f"evaluate_many (grade {grade})", exc))
        for d in exc.diagnostics:
            problems += diagnostic_problems(d, text, stage="evaluate")
        return
    except Exception as exc:
        problems.append(_crash(f"evaluate_many (grade {grade})", exc))
        return
    outcome.evaluations += len(rows)
    expected, lost = len(rows), len(rows) - len(results) - len(errored)
    if ruleset.checked.header.per_team:  # one result for the one team (no team column)
        expected, lost = (0 if errored else 1), (0 if errored else 1) - len(results)
    if lost or len(results) > expected or errored & {r.employee for r in results}:
        problems.append(f"grade {grade}: {len(rows)} rows, {len(results)} results, "
                        f"{len(errored)} failed: the counts do not add up")
    for d in failed:
        problems += diagnostic_problems(d, text, stage="evaluate")
    for result in results:
        try:
            json.dumps(result.to_dict())
            with decimal.localcontext(runtime.CONTEXT):
                components = sum(result.components.values(), Decimal(0))
            if not result.notes and result.total != components:
                problems.append(f"grade {grade}: total is not the sum of the components")
        except Exception as exc:
            problems.append(_crash("Result.to_dict", exc))


# ---------------------------------------------------------------- the exact oracle
#
# A second, independent reading of a scheme's semantics over fractions.Fraction: every value
# exact, each declared rounding applied once. The evaluator must agree with it to the kopeck
# on every pay line, every payment and the total (tests/test_exact.py).


MONTH_NUMBERS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def round_exact(value: Fraction, step: Fraction, mode: str) -> Fraction:
    """`value` rounded to a multiple of `step` with a named mode, in exact arithmetic."""
    units = value / step
    low = units.numerator // units.denominator  # floor
    rest = units - low
    if rest == 0:
        return low * step
    away = low + 1 if units > 0 else low  # away from zero
    toward = low if units > 0 else low + 1
    if mode == "floor":
        chosen = low
    elif mode == "ceiling":
        chosen = low + 1
    elif mode == "up":
        chosen = away
    elif mode == "down":
        chosen = toward
    elif rest != Fraction(1, 2):
        chosen = low if rest < Fraction(1, 2) else low + 1
    elif mode == "half up":
        chosen = away
    elif mode == "half down":
        chosen = toward
    else:  # half even
        chosen = low if low % 2 == 0 else low + 1
    return chosen * step


@dataclass
class ExactPay:
    lines: dict[tuple[str, str], Fraction]
    components: dict[str, Fraction]
    total: Fraction


class ExactOracle:
    """One variant of a checked scheme, evaluated over fractions for one employee's facts."""

    def __init__(self, checked: CheckedRuleset, variant: Variant, facts: dict[str, Fraction],
                 month: int | None = None) -> None:
        self.checked, self.v, self.month = checked, variant, month
        self.values: dict[str, Any] = {}
        self.facts = facts

    # -- names
    def constant(self, name: str) -> Fraction:
        key = "c:" + name
        if key not in self.values:
            const = self.v.constants[name]
            self.values[key] = self.monthly(const.value, const.by_month)
        return self.values[key]

    def monthly(self, expr: kast.Expr, by_month: tuple[kast.MonthValue, ...]) -> Fraction:
        for mv in by_month:
            if MONTH_NUMBERS[mv.month] == self.month:
                return self.expr(mv.value)
        return self.expr(expr)

    def fact(self, name: str) -> Fraction:
        if name in self.facts:
            return self.facts[name]
        default = self.v.facts[name].if_missing
        assert default is not None, name
        return self.expr(default)

    def kpi(self, name: str) -> tuple[Fraction, Fraction | None, Fraction | None]:
        key = "k:" + name
        if key not in self.values:
            kpi = self.v.kpis[name]
            value = self.expr(kpi.formula) if kpi.formula is not None else self.fact(name)
            plan = self.monthly(kpi.plan, kpi.plan_by_month) if kpi.plan is not None else None
            self.values[key] = (value, plan, None)
            if kpi.attainment is not None:
                att: Fraction | None = self.expr(kpi.attainment)
            elif plan is None:
                att = None
            elif (kpi.direction or "higher") == "lower":
                att = max(2 - value / plan, Fraction(0))
            else:
                att = value / plan
            step = self.checked.attainment_step
            if att is not None and step is not None:
                att = round_exact(att, Fraction(step), self.checked.attainment_mode)
            self.values[key] = (value, plan, att)
        return self.values[key]

    # -- expressions
    def expr(self, e: kast.Expr, x: Fraction | None = None) -> Any:
        ex = self.expr
        if isinstance(e, kast.Literal):
            return Fraction(e.value)
        if isinstance(e, kast.Ref):
            if e.name in self.v.constants:
                return self.constant(e.name)
            if e.name in self.v.kpis:
                return self.kpi(e.name)[0]
            return self.fact(e.name)
        if isinstance(e, kast.PlanOf):
            return self.kpi(e.name)[1]
        if isinstance(e, kast.AttainmentOf):
            return self.kpi(e.name)[2]
        if isinstance(e, kast.CurveInput):
            return x
        if isinstance(e, kast.Unary):
            value = ex(e.operand, x)
            return -value if e.op == "-" else value
        if isinstance(e, kast.Binary):
            a, b = ex(e.left, x), ex(e.right, x)
            return a + b if e.op == "+" else a - b if e.op == "-" else a * b
        if isinstance(e, kast.Division):
            b = ex(e.right, x)
            if b == 0 and e.otherwise is not None:
                return ex(e.otherwise, x)
            return ex(e.left, x) / b
        if isinstance(e, kast.Compare):
            a, b = ex(e.left, x), ex(e.right, x)
            return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                    ">=": a >= b}[e.op]
        if isinstance(e, kast.Logical):
            left = ex(e.left, x)
            if e.op == "and":
                return left and ex(e.right, x)
            return left or ex(e.right, x)
        if isinstance(e, kast.Not):
            return not ex(e.operand, x)
        if isinstance(e, kast.IfThenElse):
            return ex(e.then, x) if ex(e.condition, x) else ex(e.otherwise, x)
        if isinstance(e, kast.Call):
            args = [ex(a, x) for a in e.args]
            return abs(args[0]) if e.function == "abs" else \
                (min if e.function == "min" else max)(args)
        if isinstance(e, kast.Round):
            return round_exact(ex(e.value, x), ex(e.step, x), e.mode)
        if isinstance(e, kast.CurveCall):
            return self.curve(self.v.curves[e.curve], ex(e.arg, x))[0]
        raise TypeError(type(e).__name__)

    def curve(self, curve: kast.Curve, x: Fraction) -> tuple[Fraction, int]:
        ex = self.expr
        value, band = Fraction(0), 0
        if str(curve.kind) == "linear":
            points = [(ex(p.at), ex(p.pays)) for p in curve.points]
            if x < points[0][0]:
                value, band = Fraction(0), 0
            else:
                value, band = points[-1][1], len(points)
                for i in range(1, len(points)):
                    (a0, p0), (a1, p1) = points[i - 1], points[i]
                    if x <= a1:
                        value, band = p0 + (p1 - p0) * (x - a0) / (a1 - a0), i
                        break
        elif str(curve.kind) == "marginal":
            total = Fraction(0)
            for i, b in enumerate(curve.bands, 1):
                low = Fraction(0) if b.lower is None else ex(b.lower)
                if x <= low and not (b.lower is None and x < 0):
                    break
                high = x if b.upper is None or x < ex(b.upper) else ex(b.upper)
                total += (high - low) * ex(b.pays)
                band = i
            value = total
        else:
            for i, b in enumerate(curve.bands, 1):
                above = b.lower is None or x > ex(b.lower) or \
                    (b.lower_inclusive and x == ex(b.lower))
                below = b.upper is None or x < ex(b.upper) or \
                    (b.upper_inclusive and x == ex(b.upper))
                if above and below:
                    value = x * ex(b.pays) if str(curve.kind) == "whole" else ex(b.pays, x)
                    band = i
                    break
        if curve.cap is not None and value > ex(curve.cap):
            value = ex(curve.cap)
        if curve.floor is not None and value < ex(curve.floor):
            value = ex(curve.floor)
        return value, band

    # -- payments
    def payout(self, value: Fraction) -> Fraction:
        return round_exact(value, Fraction(self.checked.payout_step), self.checked.payout_mode)

    def is_money(self, expr: kast.Expr) -> bool:
        from kpidsl.checks.types import UnitChecker
        from kpidsl.units import Unit

        checker = UnitChecker(self.v, self.checked.source, self.checked.currency)
        return checker.infer(expr) is Unit.MONEY

    def pay(self) -> ExactPay:
        ex = self.expr
        lines: dict[tuple[str, str], Fraction] = {}
        components: dict[str, Fraction] = {}
        for pay in self.v.pays.values():
            if pay.items:
                conditions = tuple(g for g in pay.gates if g.kind == "only_if")
                amount_sum = Fraction(0)
                for item in pay.items:
                    share = ex(item.amount) if item.amount is not None else \
                        ex(item.weight) * ex(pay.pool)
                    factor = self.curve(self.v.curves[item.curve], self.kpi(item.kpi)[2])[0]
                    gates = conditions + item.gates
                    for gate in gates:
                        unless = gate.unless is not None and ex(gate.unless)
                        if gate.kind == "only_if":
                            if not ex(gate.value):
                                factor = Fraction(0)
                        elif not self.is_money(gate.value):
                            limit = ex(gate.value)
                            if (factor > limit if gate.kind == "cap" else factor < limit) and \
                                    not unless:
                                factor = limit
                    amount = self.payout(share * factor)
                    for gate in gates:
                        if gate.kind != "only_if" and self.is_money(gate.value):
                            limit = self.payout(ex(gate.value))
                            unless = gate.unless is not None and ex(gate.unless)
                            if (amount > limit if gate.kind == "cap" else amount < limit) and \
                                    not unless:
                                amount = limit
                    lines[(pay.name, item.kpi)] = amount
                    amount_sum += amount
                value = amount_sum
            else:
                value = self.payout(ex(pay.formula))
            for gate in pay.gates:
                if pay.items and gate.kind == "only_if":
                    continue
                if gate.kind == "only_if":
                    if not ex(gate.value):
                        value = self.payout(Fraction(0))
                    continue
                limit = self.payout(ex(gate.value))
                unless = gate.unless is not None and ex(gate.unless)
                if (value > limit if gate.kind == "cap" else value < limit) and not unless:
                    value = limit
            components[pay.name] = value
        return ExactPay(lines, components, sum(components.values(), Fraction(0)))


def exact_pay(ruleset: kpidsl.Ruleset, facts: dict[str, Decimal], grade: str | None = None,
              month: int | None = None) -> ExactPay:
    """What the scheme pays for `facts`, computed over fractions and rounded once."""
    checked = ruleset.checked
    variant = checked.variants[grade or "base"]
    return ExactOracle(checked, variant, {k: Fraction(v) for k, v in facts.items()},
                       month).pay()
