"""The lowered form: what a checked scheme computes, with its pay semantics decided once.

`lower(checked)` turns each checked variant into a `Program` of plain, typed, frozen
records that every backend reads (kpidsl/backends/python.py and kpidsl/sql/generate.py):
no names left to resolve, every constant bound folded into an exact Decimal, units on every
expression node (and the .kpi `line` and `span` on nodes and records, for comments and
diagnostics), and the rules that used to be decided while printing Python decided here,
once:

- a payment-level `only if` is copied into each of its lines (`Gate.origin` says so), so
  the lines still add up to the payment;
- a gate on a line applies to the factor (a number or percent) or to the rounded amount
  (money): `Gate.target`;
- a KPI's attainment is spelled out: value ÷ plan, 2 − value ÷ plan for lower-is-better, or
  the scheme's own formula, and whether it is rounded (`Rounding`);
- a curve's kind is an object (`kpidsl.curvekinds`, one module per kind) that knows its
  thresholds, how its bands read ("from 80% through 100%") and how it pays.

Semantics a backend must keep (docs/language.md, "Exact arithmetic"): every value is the
exact rational result of the scheme's arithmetic; a `Rounding` is applied once, to the exact
value; comparisons compare exact values; a `Division` by zero fails unless it has an
`otherwise`. Expressions are trees of `Expr` nodes; `children(node)` gives a node's operands
from its dataclass fields, so a walk never forgets a kind (`walk`). This module decides no
arithmetic of its own and imports nothing from any backend. docs/architecture.md shows the
stages and this form.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from . import ast
from .ast import Aggregate, BinaryOp, CompareOp, Function, LogicOp, RoundingMode
from .checks import CheckedRuleset, Variant
from .checks.curves import band_bounds
from .checks.fold import fold
from .curvekinds import CurveKind
from .exprtext import band_range_text
from .source import Span
from .units import Unit

# ---------------------------------------------------------------- expressions


# The operators and fixed words are ast.py's enums (BinaryOp, CompareOp, LogicOp, Function,
# Aggregate, RoundingMode), one set for the tree, the lowered form and every backend. They
# are `str` enums: a member equals, hashes and prints as its text (`BinaryOp.ADD == "+"`),
# so a backend may key a dict by either; `is` compares them as before. Backends read them
# only while compiling: the generated evaluators hold none of them (their speed is the
# same, tests/golden/codegen byte-identical).


@dataclass(frozen=True)
class Rounding:
    """Round to a multiple of `step` (0.01, 0.05, 1 000) with `mode`, once, exactly."""

    step: Decimal
    mode: RoundingMode


@dataclass(frozen=True)
class Expr:
    """An expression node; `unit` is what the checker inferred for it."""

    unit: Unit = field(default=Unit.ANY, kw_only=True)
    line: int = field(default=0, kw_only=True, compare=False)  # the .kpi line
    # where the scheme writes it (a diagnostic's caret); None for a node the lowering made
    span: Span | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Number(Expr):
    value: Decimal


@dataclass(frozen=True)
class FactValue(Expr):
    """A fact of the employee (its default, if any, is on `FactInput`)."""

    name: str


@dataclass(frozen=True)
class ConstantValue(Expr):
    name: str


@dataclass(frozen=True)
class KpiValue(Expr):
    name: str


@dataclass(frozen=True)
class PlanValue(Expr):
    """The KPI's plan; none when the KPI has no plan (a backend fails as on a missing value)."""

    name: str


@dataclass(frozen=True)
class AttainmentValue(Expr):
    name: str


@dataclass(frozen=True)
class CurveInput(Expr):
    """Inside a band: the value the curve is applied to."""


@dataclass(frozen=True)
class TeamValue(Expr):
    aggregate: Aggregate
    fact: str


@dataclass(frozen=True)
class TeamSize(Expr):
    pass


@dataclass(frozen=True)
class Negate(Expr):
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Division(Expr):
    left: Expr
    right: Expr
    otherwise: Expr | None = None  # the value when `right` is zero; None: zero fails
    # where the scheme writes it (start and end offsets): a trace records by it whether
    # `otherwise` was taken (None: a division the lowering made, or a node with no span)
    at: tuple[int, int] | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Logic(Expr):
    op: LogicOp
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class Choose(Expr):
    """if condition then then else otherwise (only the branch taken is computed)."""

    condition: Expr
    then: Expr
    otherwise: Expr
    # where the scheme writes it: a trace records by it which branch was taken
    at: tuple[int, int] | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Call(Expr):
    function: Function
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Rounded(Expr):
    value: Expr
    rounding: Rounding


@dataclass(frozen=True)
class CurveValue(Expr):
    """The factor a curve pays for `arg` (its band is not used)."""

    curve: str
    arg: Expr


def written_at(e: ast.Expr) -> tuple[int, int] | None:
    """Where an expression is written (start and end offsets in the scheme's text), the key
    under which a trace records the choice it made there; None for a node with no span."""
    return (e.span.start, e.span.end) if e.span.end > e.span.start else None


def children(node: Expr) -> tuple[Expr, ...]:
    """A node's operands, in order, read from its dataclass fields (so no kind is forgotten)."""
    out: list[Expr] = []
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Expr):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, Expr))
    return tuple(out)


def walk(expr: Expr | None) -> Iterator[Expr]:
    """Every node, parents before children, without recursion."""
    stack = [expr] if expr is not None else []
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


# ---------------------------------------------------------------- curves


@dataclass(frozen=True)
class Band:
    """lower/upper: None is open; the band pays `pays` (bands) or is charged `pays` as a rate
    (tiers)."""

    lower: Decimal | None
    lower_inclusive: bool
    upper: Decimal | None
    upper_inclusive: bool
    pays: Expr
    text: str  # as the scheme writes it: "from 80% through 100%"
    line: int = field(default=0, compare=False)
    span: Span | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Point:
    at: Decimal
    pays: Decimal


@dataclass(frozen=True)
class Curve:
    name: str
    # the kind (kpidsl/curvekinds) knows its thresholds, how its bands read and how it pays
    kind: CurveKind = field(compare=False)
    bands: tuple[Band, ...] = ()
    points: tuple[Point, ...] = ()
    cap: Decimal | None = None  # the factor is at most this
    floor: Decimal | None = None  # and at least this
    line: int = field(default=0, compare=False)
    # what a kind keeps beyond bands and points (a record its module defines), else None
    spec: object = None
    span: Span | None = field(default=None, kw_only=True, compare=False)


# ---------------------------------------------------------------- the variant


@dataclass(frozen=True)
class Monthly:
    """A value that may differ by month: `by_month` (month 1–12 → value) wins over `value`."""

    value: Expr
    by_month: tuple[tuple[int, Expr], ...] = ()


@dataclass(frozen=True)
class FactInput:
    name: str
    unit: Unit
    default: Expr | None = None  # the value when the fact is missing; None: required
    line: int = field(default=0, compare=False)
    span: Span | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Let:
    """A constant of the scheme, computed once per employee and month."""

    name: str
    value: Monthly
    unit: Unit
    line: int = field(default=0, compare=False)
    span: Span | None = field(default=None, kw_only=True, compare=False)


class AttainmentRule(enum.Enum):
    RATIO = "value ÷ plan"
    LOWER_IS_BETTER = "2 − value ÷ plan, at least 0"
    FORMULA = "the scheme's formula"
    NONE = "no plan, no attainment"


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: Unit
    value: Expr
    plan: Monthly | None
    attainment_rule: AttainmentRule
    attainment: Expr | None  # the whole computation, per the rule; None for NONE
    rounding: Rounding | None  # `round attainment ...`, applied to `attainment`
    line: int = field(default=0, compare=False)
    span: Span | None = field(default=None, kw_only=True, compare=False)


class GateKind(enum.Enum):
    ONLY_IF = "only if"  # pays 0 unless the condition holds
    CAP = "cap"  # at most the limit
    FLOOR = "floor"  # at least the limit


class GateTarget(enum.Enum):
    FACTOR = "factor"  # a line's curve factor, before the amount is computed
    AMOUNT = "amount"  # a line's rounded amount (the limit rounded to the payout step)
    PAYMENT = "payment"  # a whole payment's rounded amount
    LINE = "line"  # `only if` on a line: the factor becomes 0, the gate reads 'withheld'


class GateOrigin(enum.Enum):
    LINE = "line"
    PAYMENT = "payment"  # a payment's `only if`, copied into each of its lines


@dataclass(frozen=True)
class Gate:
    kind: GateKind
    target: GateTarget
    value: Expr  # the condition (ONLY_IF) or the limit
    unless: Expr | None = None  # the gate does not apply when this holds
    origin: GateOrigin = GateOrigin.LINE
    line: int = field(default=0, compare=False)
    span: Span | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class PayLine:
    """A KPI's line of a pool: amount = round(share × factor), gates applied in order."""

    payment: str
    kpi: str
    share: Expr
    curve: str
    gates: tuple[Gate, ...]
    line: int = field(default=0, compare=False)
    weight: Expr | None = None  # the line's weight when `share` is weight × the pool
    span: Span | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Payment:
    """A formula payment (round(formula)) or a pool (the sum of its rounded lines), then its
    own gates (`target` PAYMENT) in order."""

    name: str
    formula: Expr | None
    lines: tuple[PayLine, ...]
    gates: tuple[Gate, ...]
    line: int = field(default=0, compare=False)
    pool: Expr | None = None  # a pool's amount (a line's share is its weight × this)
    span: Span | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True)
class Budget:
    """Awards of `component` scaled pro rata so that their sum (per team, or over everyone)
    is at most `cap`."""

    name: str
    component: str
    cap: Decimal | None
    per_team: bool


@dataclass(frozen=True)
class VariantProgram:
    """One grade (or the base scheme): inputs, lets, KPIs in dependency order, curves,
    payments in order. The total is the sum of the payments."""

    name: str
    facts: tuple[FactInput, ...]
    lets: tuple[Let, ...]
    kpis: tuple[Kpi, ...]
    curves: dict[str, Curve]
    payments: tuple[Payment, ...]


@dataclass(frozen=True)
class Program:
    scheme: str
    currency: str
    payout: Rounding  # every line and formula payment
    variants: dict[str, VariantProgram]
    budgets: tuple[Budget, ...]
    per_team: bool  # `paid per team`: one result per team, facts only through aggregates


# ---------------------------------------------------------------- lowering

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def lower(checked: CheckedRuleset) -> Program:
    """The lowered form of every variant of a checked (error-free) scheme."""
    payout = Rounding(checked.payout_step, RoundingMode(checked.payout_mode))
    variants = {name: _Lowering(checked, variant).variant()
                for name, variant in checked.variants.items()}
    constants = checked.base.constant_values
    budgets = tuple(Budget(b.name, b.component, fold(b.cap, constants), b.per_team)
                    for b in checked.base.budgets.values())
    return Program(checked.header.name, checked.currency, payout, variants, budgets,
                   checked.header.per_team)


class _Lowering:
    def __init__(self, checked: CheckedRuleset, variant: Variant) -> None:
        from .checks.types import UnitChecker

        self.checked = checked
        self.v = variant
        self.units = UnitChecker(variant, checked.source, checked.currency)
        self.constants = variant.constant_values

    def variant(self) -> VariantProgram:
        v = self.v
        facts = tuple(FactInput(f.name, f.unit, self.expr(f.if_missing)
                                if f.if_missing is not None else None, f.span.line, span=f.span)
                      for f in v.facts.values())
        lets = tuple(Let(name, self.monthly(v.constants[name].value, v.constants[name].by_month),
                         v.units.get(name, Unit.ANY), v.constants[name].span.line,
                         span=v.constants[name].span)
                     for name in v.constant_order)
        kpis = tuple(self.kpi(v.kpis[name]) for name in v.kpi_order)
        curves = {name: self.curve(curve) for name, curve in v.curves.items()}
        payments = tuple(self.payment(pay) for pay in v.pays.values())
        return VariantProgram(v.name, facts, lets, kpis, curves, payments)

    # -- expressions (the checker's unit for each node)
    def expr(self, e: ast.Expr) -> Expr:
        lowered = self._expr(e)
        return dataclasses.replace(lowered, unit=self.units.infer(e), line=e.span.line,
                                   span=e.span)

    def _expr(self, e: ast.Expr) -> Expr:  # one branch per kind of the checked tree
        x = self.expr
        match e:
            case ast.Literal():
                return Number(e.value)
            case ast.Ref() if e.name in self.v.constants:
                return ConstantValue(e.name)
            case ast.Ref() if e.name in self.v.kpis:
                return KpiValue(e.name)
            case ast.Ref():
                return FactValue(e.name)
            case ast.PlanOf():
                return PlanValue(e.name)
            case ast.AttainmentOf():
                return AttainmentValue(e.name)
            case ast.CurveInput():
                return CurveInput()
            case ast.TeamAggregate():
                return TeamValue(Aggregate(e.kind), e.name)
            case ast.TeamSize():
                return TeamSize()
            case ast.Unary():
                return x(e.operand) if e.op == "+" else Negate(x(e.operand))
            case ast.Binary():
                return Binary(BinaryOp(e.op), x(e.left), x(e.right))
            case ast.Division():
                return Division(x(e.left), x(e.right),
                                x(e.otherwise) if e.otherwise is not None else None,
                                at=written_at(e))
            case ast.Compare():
                return Compare(CompareOp(e.op), x(e.left), x(e.right))
            case ast.Logical():
                return Logic(LogicOp(e.op), x(e.left), x(e.right))
            case ast.Not():
                return Not(x(e.operand))
            case ast.IfThenElse():
                return Choose(x(e.condition), x(e.then), x(e.otherwise), at=written_at(e))
            case ast.Call():
                return Call(Function(e.function), tuple(x(a) for a in e.args))
            case ast.Round():
                return Rounded(x(e.value), Rounding(self.const(e.step), RoundingMode(e.mode)))
            case ast.CurveCall():
                return CurveValue(e.curve, x(e.arg))
        raise TypeError(f"no lowering for {type(e).__name__}")

    def const(self, e: ast.Expr | None) -> Decimal:
        value = fold(e, self.constants)
        if value is None:  # the checker refuses non-constant steps and bounds
            raise ValueError("expected a constant")
        return value

    def monthly(self, e: ast.Expr, by_month: tuple[ast.MonthValue, ...]) -> Monthly:
        return Monthly(self.expr(e), tuple((_MONTHS.index(m.month) + 1, self.expr(m.value))
                                           for m in by_month))

    # -- KPIs
    def kpi(self, k: ast.Kpi) -> Kpi:
        unit = self.v.units.get(k.name, Unit.NUMBER)
        value = self.expr(k.formula) if k.formula is not None else \
            FactValue(k.name, unit=unit, line=k.span.line)
        plan = self.monthly(k.plan, k.plan_by_month) if k.plan is not None else None
        own = KpiValue(k.name, unit=unit)
        of_plan = PlanValue(k.name, unit=unit)
        if k.attainment is not None:
            rule, attainment = AttainmentRule.FORMULA, self.expr(k.attainment)
        elif plan is None:
            rule, attainment = AttainmentRule.NONE, None
        elif (k.direction or "higher") == "lower":
            ratio = Division(own, of_plan, unit=Unit.PERCENT)
            rule = AttainmentRule.LOWER_IS_BETTER
            attainment = Call(Function.MAX, (
                Binary(BinaryOp.SUB, Number(Decimal(2), unit=Unit.PERCENT), ratio,
                       unit=Unit.PERCENT),
                Number(Decimal(0), unit=Unit.PERCENT)), unit=Unit.PERCENT)
        else:
            rule, attainment = AttainmentRule.RATIO, Division(own, of_plan, unit=Unit.PERCENT)
        step = self.checked.attainment_step
        rounding = Rounding(step, RoundingMode(self.checked.attainment_mode)) \
            if step is not None and attainment is not None else None
        return Kpi(k.name, unit, value, plan, rule, attainment, rounding, k.span.line,
                   span=k.span)

    # -- curves
    def curve(self, c: ast.Curve) -> Curve:
        return dataclasses.replace(c.kind.lower(self, c), span=c.span)

    def bands(self, c: ast.Curve) -> tuple[Band, ...]:
        """A curve's bands with their bounds folded to Decimals (None: open)."""
        bands = []
        for band in c.bands:
            lower, upper = band_bounds(band, self.constants)
            bands.append(Band(None if lower is None or not lower.is_finite() else lower,
                              band.lower_inclusive,
                              None if upper is None or not upper.is_finite() else upper,
                              band.upper_inclusive, self.expr(band.pays),
                              band_range_text(band), band.span.line, span=band.span))
        return tuple(bands)

    def limits(self, c: ast.Curve) -> tuple[Decimal | None, Decimal | None]:
        """A curve's cap and floor, folded."""
        cap = self.const(c.cap) if c.cap is not None else None
        floor = self.const(c.floor) if c.floor is not None else None
        return cap, floor

    # -- payments: where the pay semantics are decided
    def gate(self, g: ast.Gate, on_line: bool, origin: GateOrigin = GateOrigin.LINE) -> Gate:
        kind = GateKind(g.kind.replace("_", " "))
        if kind is GateKind.ONLY_IF:
            target = GateTarget.LINE if on_line else GateTarget.PAYMENT
        elif not on_line:
            target = GateTarget.PAYMENT
        else:
            target = GateTarget.AMOUNT if self.units.infer(g.value) is Unit.MONEY \
                else GateTarget.FACTOR
        unless = self.expr(g.unless) if g.unless is not None else None
        return Gate(kind, target, self.expr(g.value), unless, origin, g.span.line, span=g.span)

    def payment(self, pay: ast.Pay) -> Payment:
        if not pay.items:
            assert pay.formula is not None
            gates = tuple(self.gate(g, on_line=False) for g in pay.gates)
            return Payment(pay.name, self.expr(pay.formula), (), gates, pay.span.line,
                           span=pay.span)
        # a payment's 'only if' withholds every line, so the lines still add up to it
        conditions = tuple(self.gate(g, on_line=True, origin=GateOrigin.PAYMENT)
                           for g in pay.gates if g.kind == "only_if")
        lines = []
        for item in pay.items:
            if item.amount is not None:
                share = self.expr(item.amount)
            else:
                assert item.weight is not None and pay.pool is not None
                share = Binary(BinaryOp.MUL, self.expr(item.weight), self.expr(pay.pool),
                               unit=Unit.MONEY, line=item.span.line)
            gates = conditions + tuple(self.gate(g, on_line=True) for g in item.gates)
            lines.append(PayLine(pay.name, item.kpi, share, item.curve or "", gates,
                                 item.span.line, self.expr(item.weight)
                                 if item.weight is not None else None, span=item.span))
        own = tuple(self.gate(g, on_line=False) for g in pay.gates if g.kind != "only_if")
        return Payment(pay.name, None, tuple(lines), own, pay.span.line,
                       self.expr(pay.pool) if pay.pool is not None else None, span=pay.span)


# ---------------------------------------------------------------- a readable dump


def dump(program: Program) -> str:
    """The lowered form as text, one record a line (golden files; `kpidsl compile --lowered`
    may print it)."""
    out = [f"program {program.scheme} in {program.currency}, payout "
           f"{program.payout.step} {program.payout.mode.value}"
           + (", paid per team" if program.per_team else "")]
    for variant in program.variants.values():
        out.append(f"variant {variant.name}")
        for fact in variant.facts:
            default = f" default {_text(fact.default)}" if fact.default else ""
            out.append(f"  fact {fact.name}: {fact.unit.value}{default}")
        for let in variant.lets:
            out.append(f"  let {let.name}: {let.unit.value} = {_monthly(let.value)}")
        for curve in variant.curves.values():
            limits = "".join(f" {w} {v}" for w, v in (("cap", curve.cap), ("floor", curve.floor))
                             if v is not None)
            out.append(f"  curve {curve.name}: {curve.kind.name}{limits}")
            out += curve.kind.lowered_lines(curve)
        for kpi in variant.kpis:
            plan = f", plan {_monthly(kpi.plan)}" if kpi.plan else ""
            rounded = f", rounded to {kpi.rounding.step} {kpi.rounding.mode.value}" \
                if kpi.rounding else ""
            out.append(f"  kpi {kpi.name}: {kpi.unit.value} = {_text(kpi.value)}{plan}; "
                       f"attainment {kpi.attainment_rule.value}"
                       f"{': ' + _text(kpi.attainment) if kpi.attainment else ''}{rounded}")
        for payment in variant.payments:
            what = _text(payment.formula) if payment.formula is not None else "pool"
            out.append(f"  pay {payment.name} = {what}")
            for line in payment.lines:
                out.append(f"    line {line.kpi}: share {_text(line.share)}, curve {line.curve}")
                out.extend(f"      {_gate(g)}" for g in line.gates)
            out.extend(f"    {_gate(g)}" for g in payment.gates)
    for budget in program.budgets:
        out.append(f"budget {budget.name}: {budget.component} at most {budget.cap}"
                   + (" per team" if budget.per_team else ""))
    return "\n".join(out) + "\n"


def _gate(g: Gate) -> str:
    unless = f" unless {_text(g.unless)}" if g.unless is not None else ""
    origin = " (from the payment)" if g.origin is GateOrigin.PAYMENT else ""
    return f"gate {g.kind.value} on {g.target.value}: {_text(g.value)}{unless}{origin}"


def _monthly(m: Monthly) -> str:
    months = "".join(f", month {n}: {_text(v)}" for n, v in m.by_month)
    return _text(m.value) + months


_PRECEDENCE = {Logic: 1, Not: 2, Compare: 3}


def _text(e: Expr | None) -> str:
    """A compact, fully parenthesised rendering (not the scheme's own syntax)."""
    match e:
        case None:
            return "-"
        case Number():
            return str(e.value)
        case FactValue() | ConstantValue() | KpiValue():
            return e.name
        case PlanValue():
            return f"plan({e.name})"
        case AttainmentValue():
            return f"attainment({e.name})"
        case CurveInput():
            return "x"
        case TeamValue():
            return f"team {e.aggregate.value}({e.fact})"
        case TeamSize():
            return "team size"
        case Negate():
            return f"-{_text(e.operand)}"
        case Binary() | Compare() | Logic():
            return f"({_text(e.left)} {e.op.value} {_text(e.right)})"
        case Division():
            otherwise = f" otherwise {_text(e.otherwise)}" if e.otherwise is not None else ""
            return f"({_text(e.left)} / {_text(e.right)}{otherwise})"
        case Not():
            return f"not {_text(e.operand)}"
        case Choose():
            return f"(if {_text(e.condition)} then {_text(e.then)} else {_text(e.otherwise)})"
        case Call():
            return f"{e.function.value}({', '.join(_text(a) for a in e.args)})"
        case Rounded():
            return f"round({_text(e.value)}, {e.rounding.step}, {e.rounding.mode.value})"
        case CurveValue():
            return f"{e.curve}({_text(e.arg)})"
    raise TypeError(type(e).__name__)
