"""The typed syntax tree of a scheme: frozen dataclasses, no behaviour, every node has a Span."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field  # noqa: F401 (dataclass: tests/test_ast.py swaps it in)
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from .source import NO_SPAN, SourceFile, Span
from .units import Unit
from .valueclass import valueclass

if TYPE_CHECKING:
    from .curvekinds import CurveKind

# ---------------------------------------------------------------- fixed words


class Word(str, enum.Enum):
    """A fixed word or sign of the language (an operator, a mode, a kind).

    It is its text: it compares, hashes, formats and reprs as the string the scheme means
    (`BinaryOp.ADD == "+"`, `repr(RoundingMode.HALF_UP) == "'half up'"`), so code that
    prints these into generated source or golden files writes what it wrote before.
    """

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(self, spec)

    def __repr__(self) -> str:
        return str.__repr__(self)


class UnaryOp(Word):
    PLUS = "+"
    MINUS = "-"


class BinaryOp(Word):
    ADD = "+"
    SUB = "-"
    MUL = "*"


class CompareOp(Word):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class LogicOp(Word):
    AND = "and"
    OR = "or"


class Aggregate(Word):
    TOTAL = "total"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"


class Function(Word):
    MIN = "min"
    MAX = "max"
    ABS = "abs"


class RoundingMode(Word):
    HALF_UP = "half up"
    HALF_EVEN = "half even"
    HALF_DOWN = "half down"
    UP = "up"
    DOWN = "down"
    CEILING = "ceiling"
    FLOOR = "floor"


class GateKind(Word):
    ONLY_IF = "only_if"
    CAP = "cap"
    FLOOR = "floor"


# ---------------------------------------------------------------- nodes

_T = TypeVar("_T", bound=type)


def _node(cls: _T) -> _T:
    """`@dataclass(frozen=True)` for the tree's classes, without writing code per class
    (kpidsl/valueclass.py: for these 50 classes dataclasses' 150 `exec`s were 40 ms of
    `kpidsl check`'s start-up). tests/test_ast.py compares every class with the same class
    made by dataclasses."""
    made: Any = valueclass(frozen=True)(cls)
    return made


if TYPE_CHECKING:  # what the tree's classes are, for the type checker: frozen dataclasses
    from dataclasses import dataclass as _declared
else:
    def _declared(*, frozen: bool) -> Any:
        """`@dataclass(frozen=True)` in this module: `_node` (above)."""
        assert frozen
        return _node


# ---------------------------------------------------------------- expressions


@_declared(frozen=True)
class Expr:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_declared(frozen=True)
class Literal(Expr):
    """`80%`, `3_000_000`, `150_000 RUB`: the value is exact; `text` is what was written."""

    value: Decimal = Decimal(0)
    unit: Unit = Unit.ANY
    text: str = ""
    currency: str = ""


@_declared(frozen=True)
class Ref(Expr):
    """A fact, constant or KPI by name."""

    name: str = ""


@_declared(frozen=True)
class PlanOf(Expr):
    name: str = ""


@_declared(frozen=True)
class AttainmentOf(Expr):
    name: str = ""


@_declared(frozen=True)
class CurveInput(Expr):
    """`attainment` inside a curve band: the value the curve is applied to."""


@_declared(frozen=True)
class TeamAggregate(Expr):
    """`team total of calls`: computed once per team over its members' facts."""

    kind: Aggregate = Aggregate.TOTAL
    name: str = ""


@_declared(frozen=True)
class TeamSize(Expr):
    pass


@_declared(frozen=True)
class Unary(Expr):
    op: UnaryOp = UnaryOp.MINUS
    operand: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Binary(Expr):
    """+ − × (division has its own node because it must say what a zero denominator gives)."""

    op: BinaryOp = BinaryOp.ADD
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Division(Expr):
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)
    otherwise: Expr | None = None


@_declared(frozen=True)
class Compare(Expr):
    op: CompareOp = CompareOp.EQ
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Logical(Expr):
    op: LogicOp = LogicOp.AND
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Not(Expr):
    operand: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class IfThenElse(Expr):
    condition: Expr = field(default_factory=Expr)
    then: Expr = field(default_factory=Expr)
    otherwise: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Call(Expr):
    """min, max, abs."""

    function: Function = Function.MIN
    args: tuple[Expr, ...] = ()


@_declared(frozen=True)
class Round(Expr):
    value: Expr = field(default_factory=Expr)
    step: Expr = field(default_factory=Expr)
    mode: RoundingMode = RoundingMode.HALF_UP


@_declared(frozen=True)
class CurveCall(Expr):
    curve: str = ""
    arg: Expr = field(default_factory=Expr)


# ---------------------------------------------------------------- declarations


@_declared(frozen=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_declared(frozen=True)
class RoundingRule(Node):
    target: str = "payouts"  # payouts | attainment
    step: Expr = field(default_factory=Expr)
    mode: RoundingMode = RoundingMode.HALF_UP


@_declared(frozen=True)
class Draw(Node):
    """`draw 5_000 RUB a month recoverable, recovered at most 2_000 RUB a month`."""

    amount: Expr = field(default_factory=Expr)
    period: str = "month"
    recoverable: bool = True
    recovered_at_most: Expr | None = None  # the most recovered in one period; None: no limit


@_declared(frozen=True)
class Clawback(Node):
    """`clawback at original rate within 90 days` / `clawback amount paid`."""

    basis: str = "rate"  # rate | paid
    within_days: int | None = None


@_declared(frozen=True)
class Memory(Node):
    """What a period owes to earlier ones; the ledger (kpidsl/ledger/) keeps the balances."""

    paid_every: str = ""  # `period year paid monthly`: each month pays year to date − paid
    carry_negative: bool = False  # `carry negative balance`: a lower month is owed, not forgiven
    draw: Draw | None = None
    clawback: Clawback | None = None


@_declared(frozen=True)
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


@_declared(frozen=True)
class Decl(Node):
    name: str = ""
    label: str = ""
    # the label in other languages: (("ru", "Выручка"),)
    translations: tuple[tuple[str, str], ...] = field(default=(), kw_only=True)
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_declared(frozen=True)
class Fact(Decl):
    unit: Unit = Unit.NUMBER
    if_missing: Expr | None = None
    column: str = ""  # `from column "Бюджет, руб."`: the export's name of the fact's column
    percent: str | None = None  # `percent points` / `percent fraction`: how the cells write it
    # `= total of deals.amount where ...`: computed from a source's rows (kpidsl/sources/)
    aggregate: SourceAggregate | None = None


# ---------------------------------------------------------------- sources (deal exports)


@_declared(frozen=True)
class SourceField(Node):
    """`field amount money column "Бюджет, руб."`: kind is a unit's name, 'text' or 'date'."""

    name: str = ""
    kind: str = "text"
    column: str = ""  # the export's title; the field's name when not written
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_declared(frozen=True)
class Source(Decl):
    """An export of one row per deal, call or lead; facts are aggregates over its rows."""

    employee_column: str = ""
    date_column: str = ""
    key_column: str = ""
    share_column: str = ""  # a deal credited to several employees: each row's share
    fields: tuple[SourceField, ...] = ()


@_declared(frozen=True)
class Condition(Node):
    pass


@_declared(frozen=True)
class FieldTest(Condition):
    """`stage is "Won"`, `stage is not "Lost"`, `stage is one of "A", "B"`, `amount >= 100 RUB`."""

    name: str = ""  # the field tested
    op: str = "is"  # is | is not | one of | = | != | < | <= | > | >=
    values: tuple[Expr | str, ...] = ()  # a str is a text or a date ("2025-07-01")


@_declared(frozen=True)
class BothOrEither(Condition):
    op: str = "and"  # and | or
    left: Condition = field(default_factory=Condition)
    right: Condition = field(default_factory=Condition)


@_declared(frozen=True)
class NotCondition(Condition):
    operand: Condition = field(default_factory=Condition)


@_declared(frozen=True)
class SourceAggregate(Node):
    """`total of deals.amount where stage is "Won"`; `field` is "" for `count of deals`."""

    kind: str = "total"  # total | count | count distinct | average | median | min | max | pay
    source: str = ""
    of: str = ""  # the field
    where: Condition | None = None
    source_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    field_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_declared(frozen=True)
class EachDeal(Node):
    """`for each deal in deals where ... in order of date, key pays TIERS on the running
    attainment of revenue`: a line per deal, paid at the tier the running total is in."""

    noun: str = "deal"
    source: str = ""
    where: Condition | None = None
    order: tuple[str, ...] = ()  # () = date, then key
    curve: str = ""
    running: str = "attainment"  # attainment | total
    kpi: str = ""
    source_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    curve_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    kpi_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    minimum: Expr | None = None  # `with a minimum of 10 RUB`: the least a deal pays


@_declared(frozen=True)
class MonthValue(Node):
    month: str = ""
    value: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Constant(Decl):
    value: Expr = field(default_factory=Expr)
    by_month: tuple[MonthValue, ...] = ()


@_declared(frozen=True)
class Band(Node):
    """One band of a curve: lower/upper bounds (None = open) and what it pays (or its rate)."""

    lower: Expr | None = None
    lower_inclusive: bool = True
    upper: Expr | None = None
    upper_inclusive: bool = False
    pays: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Point(Node):
    at: Expr = field(default_factory=Expr)
    pays: Expr = field(default_factory=Expr)


def _plain_bands() -> CurveKind:
    from .curvekinds import BANDS
    return BANDS


@_declared(frozen=True)
class Curve(Decl):
    # what kind of curve it is: an object that knows how the kind parses, checks, reads and
    # pays (kpidsl/curvekinds); prints as the scheme's word ("bands", "linear", ...)
    kind: CurveKind = field(default_factory=_plain_bands)
    bands: tuple[Band, ...] = ()
    points: tuple[Point, ...] = ()
    # what a kind keeps beyond bands and points (a node its module defines), else None
    spec: Node | None = None
    cap: Expr | None = None
    floor: Expr | None = None
    # `uncapped`: no cap, on purpose (the method lets accelerators exceed the pool); where written
    uncapped: Span | None = field(default=None, compare=False, repr=False)


@_declared(frozen=True)
class Kpi(Decl):
    """A KPI. Fields left None were not written (a grade's override changes only those)."""

    formula: Expr | None = None
    plan: Expr | None = None
    plan_by_month: tuple[MonthValue, ...] = ()
    direction: str | None = None  # higher | lower
    attainment: Expr | None = None
    group: str | None = None  # activity | efficiency | result


@_declared(frozen=True)
class Gate(Node):
    kind: GateKind = GateKind.ONLY_IF
    value: Expr = field(default_factory=Expr)
    unless: Expr | None = None


@_declared(frozen=True)
class PoolItem(Node):
    kpi: str = ""
    weight: Expr | None = None
    amount: Expr | None = None
    curve: str | None = None
    gates: tuple[Gate, ...] = ()
    curve_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@_declared(frozen=True)
class Pay(Decl):
    formula: Expr | None = None
    pool: Expr | None = None
    gates: tuple[Gate, ...] = ()
    items: tuple[PoolItem, ...] = ()
    each: EachDeal | None = None  # paid per deal (kpidsl/sources/transactions.py)


@_declared(frozen=True)
class Budget(Decl):
    cap: Expr = field(default_factory=Expr)
    component: str = ""
    per_team: bool = False


@_declared(frozen=True)
class Assignment(Node):
    name: str = ""
    value: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Expectation(Node):
    target: str = "total"  # total | name | line | attainment | plan
    name: str = ""
    item: str = ""
    value: Expr = field(default_factory=Expr)


@_declared(frozen=True)
class Example(Decl):
    grade: str | None = None
    team: str | None = None
    given: tuple[Assignment, ...] = ()
    expect: tuple[Expectation, ...] = ()


@_declared(frozen=True)
class Drop(Decl):
    pass


Statement = Fact | Constant | Curve | Kpi | Pay | Budget | Example | Drop | Source


@_declared(frozen=True)
class GradeSection(Decl):
    based_on: str | None = None
    statements: tuple[Statement, ...] = ()


@_declared(frozen=True)
class Ruleset(Node):
    header: Header = field(default_factory=Header)
    statements: tuple[Statement, ...] = ()
    grades: tuple[GradeSection, ...] = ()
    source: SourceFile | None = field(default=None, compare=False, repr=False)
    comments: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)
