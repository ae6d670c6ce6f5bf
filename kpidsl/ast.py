"""The typed syntax tree of a scheme: frozen dataclasses, no behaviour, every node has a Span."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .source import NO_SPAN, SourceFile, Span
from .units import Unit

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Literal(Expr):
    """`80%`, `3_000_000`, `150_000 RUB`: the value is exact; `text` is what was written."""

    value: Decimal = Decimal(0)
    unit: Unit = Unit.ANY
    text: str = ""
    currency: str = ""


@dataclass(frozen=True)
class Ref(Expr):
    """A fact, constant or KPI by name."""

    name: str = ""


@dataclass(frozen=True)
class PlanOf(Expr):
    name: str = ""


@dataclass(frozen=True)
class AttainmentOf(Expr):
    name: str = ""


@dataclass(frozen=True)
class CurveInput(Expr):
    """`attainment` inside a curve band: the value the curve is applied to."""


@dataclass(frozen=True)
class TeamAggregate(Expr):
    """`team total of calls`: computed once per team over its members' facts."""

    kind: str = "total"  # total | average | min | max
    name: str = ""


@dataclass(frozen=True)
class TeamSize(Expr):
    pass


@dataclass(frozen=True)
class Unary(Expr):
    op: str = "-"
    operand: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Binary(Expr):
    """+ − × (division has its own node because it must say what a zero denominator gives)."""

    op: str = "+"
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Division(Expr):
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)
    otherwise: Expr | None = None


@dataclass(frozen=True)
class Compare(Expr):
    op: str = "="
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Logical(Expr):
    op: str = "and"  # and | or
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class IfThenElse(Expr):
    condition: Expr = field(default_factory=Expr)
    then: Expr = field(default_factory=Expr)
    otherwise: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Call(Expr):
    """min, max, abs."""

    function: str = "min"
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Round(Expr):
    value: Expr = field(default_factory=Expr)
    step: Expr = field(default_factory=Expr)
    mode: str = "half up"


@dataclass(frozen=True)
class CurveCall(Expr):
    curve: str = ""
    arg: Expr = field(default_factory=Expr)


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class RoundingRule(Node):
    target: str = "payouts"  # payouts | attainment
    step: Expr = field(default_factory=Expr)
    mode: str = "half up"


@dataclass(frozen=True)
class Draw(Node):
    """`draw 5_000 RUB a month recoverable, recovered at most 2_000 RUB a month`."""

    amount: Expr = field(default_factory=Expr)
    period: str = "month"
    recoverable: bool = True
    recovered_at_most: Expr | None = None  # the most recovered in one period; None: no limit


@dataclass(frozen=True)
class Clawback(Node):
    """`clawback at original rate within 90 days` / `clawback amount paid`."""

    basis: str = "rate"  # rate | paid
    within_days: int | None = None


@dataclass(frozen=True)
class Memory(Node):
    """What a period owes to earlier ones; the ledger (kpidsl/ledger/) keeps the balances."""

    paid_every: str = ""  # `period year paid monthly`: each month pays year to date − paid
    carry_negative: bool = False  # `carry negative balance`: a lower month is owed, not forgiven
    draw: Draw | None = None
    clawback: Clawback | None = None


@dataclass(frozen=True)
class Header(Node):
    name: str = ""
    label: str = ""
    translations: tuple[tuple[str, str], ...] = field(default=(), kw_only=True)
    currency: str = ""
    period: str = ""
    effective_from: str = ""
    effective_to: str = ""
    version: str = ""
    rounding: tuple[RoundingRule, ...] = ()
    per_team: bool = False
    sector: str = ""  # b2b | b2c | infobusiness ("" = not stated); infobusiness has its own lints
    memory: Memory | None = None  # draws, year to date, clawbacks: kept by kpidsl/ledger/
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Decl(Node):
    name: str = ""
    label: str = ""
    # the label in other languages: (("ru", "Выручка"),)
    translations: tuple[tuple[str, str], ...] = field(default=(), kw_only=True)
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Fact(Decl):
    unit: Unit = Unit.NUMBER
    if_missing: Expr | None = None
    column: str = ""  # `from column "Бюджет, руб."`: the export's name of the fact's column
    percent: str | None = None  # `percent points` / `percent fraction`: how the cells write it


@dataclass(frozen=True)
class MonthValue(Node):
    month: str = ""
    value: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Constant(Decl):
    value: Expr = field(default_factory=Expr)
    by_month: tuple[MonthValue, ...] = ()


@dataclass(frozen=True)
class Band(Node):
    """One band of a curve: lower/upper bounds (None = open) and what it pays (or its rate)."""

    lower: Expr | None = None
    lower_inclusive: bool = True
    upper: Expr | None = None
    upper_inclusive: bool = False
    pays: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Point(Node):
    at: Expr = field(default_factory=Expr)
    pays: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Curve(Decl):
    kind: str = "bands"  # bands | linear | marginal | whole
    bands: tuple[Band, ...] = ()
    points: tuple[Point, ...] = ()
    cap: Expr | None = None
    floor: Expr | None = None
    # `uncapped`: no cap, on purpose (the method lets accelerators exceed the pool); where written
    uncapped: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Kpi(Decl):
    """A KPI. Fields left None were not written (a grade's override changes only those)."""

    formula: Expr | None = None
    plan: Expr | None = None
    plan_by_month: tuple[MonthValue, ...] = ()
    direction: str | None = None  # higher | lower
    attainment: Expr | None = None
    group: str | None = None  # activity | efficiency | result


@dataclass(frozen=True)
class Gate(Node):
    kind: str = "only_if"  # only_if | cap | floor
    value: Expr = field(default_factory=Expr)
    unless: Expr | None = None


@dataclass(frozen=True)
class PoolItem(Node):
    kpi: str = ""
    weight: Expr | None = None
    amount: Expr | None = None
    curve: str | None = None
    gates: tuple[Gate, ...] = ()
    curve_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Pay(Decl):
    formula: Expr | None = None
    pool: Expr | None = None
    gates: tuple[Gate, ...] = ()
    items: tuple[PoolItem, ...] = ()


@dataclass(frozen=True)
class Budget(Decl):
    cap: Expr = field(default_factory=Expr)
    component: str = ""
    per_team: bool = False


@dataclass(frozen=True)
class Assignment(Node):
    name: str = ""
    value: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Expectation(Node):
    target: str = "total"  # total | name | line | attainment | plan
    name: str = ""
    item: str = ""
    value: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Example(Decl):
    grade: str | None = None
    team: str | None = None
    given: tuple[Assignment, ...] = ()
    expect: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class Drop(Decl):
    pass


Statement = Fact | Constant | Curve | Kpi | Pay | Budget | Example | Drop


@dataclass(frozen=True)
class GradeSection(Decl):
    based_on: str | None = None
    statements: tuple[Statement, ...] = ()


@dataclass(frozen=True)
class Ruleset(Node):
    header: Header = field(default_factory=Header)
    statements: tuple[Statement, ...] = ()
    grades: tuple[GradeSection, ...] = ()
    source: SourceFile | None = field(default=None, compare=False, repr=False)
    comments: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)
