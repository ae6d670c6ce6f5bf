"""The typed syntax tree of a scheme: frozen dataclasses, no behaviour, every node has a Span."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import MISSING, Field, dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from .source import NO_SPAN, SourceFile, Span
from .units import Unit

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
# What dataclasses itself marks a field and a default made by a factory with (the sentinel
# shows as `<factory>` in a signature, as in the generated `__init__`'s).
_FIELD: Any = getattr(dataclasses, "_FIELD", None)
_FACTORY: Any = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", MISSING)


def _params() -> Any:
    """`__dataclass_params__` of `@dataclass(frozen=True, eq=False, repr=False)` (the
    methods dataclasses would write for eq and repr are shared ones here)."""
    wanted = {"init": True, "repr": False, "eq": False, "order": False, "unsafe_hash": False,
              "frozen": True, "match_args": True, "kw_only": False, "slots": False,
              "weakref_slot": False}
    kind: Any = getattr(dataclasses, "_DataclassParams", None)
    try:
        return kind(**{name: wanted[name] for name in kind.__slots__})
    except (AttributeError, KeyError, TypeError):  # another layout: ask dataclasses once
        probe: Any = dataclass(frozen=True, eq=False, repr=False)(type("_Probe", (), {}))
        return probe.__dataclass_params__


def _node(cls: _T) -> _T:
    """`@dataclass(frozen=True)` for the tree's classes, without writing code per class.

    dataclasses writes each generated method as source and `exec`s it (six per frozen
    class): for these 50 classes that was 40 ms of `kpidsl check`'s start-up (cProfile:
    150 `exec`s, 0.28 ms each). Here the fields are collected as dataclasses collects them
    (the same `Field` objects in `__dataclass_fields__`, so `fields`, `replace`, `asdict`
    and subclasses made by `@dataclass` work as before) and the methods are shared by every
    class: `__init__` fills the instance's fields in order from the arguments, the defaults
    and the factories; `__setattr__`/`__delattr__` refuse as a frozen dataclass's do;
    `__eq__`, `__hash__` and `__repr__` give the generated ones' results (equal fields
    compared as one tuple, the hash of that tuple, `Name(field=value, ...)`); a class
    without a docstring is given its fields as one. tests/test_ast.py compares every class
    with the same class made by dataclasses.
    """
    own = cls.__dict__
    every: dict[str, Field[Any]] = {}
    for base in cls.__mro__[-1:0:-1]:
        every.update(getattr(base, "__dataclass_fields__", None) or {})
    for name, written in own.get("__annotations__", {}).items():
        default = own.get(name, MISSING)
        made: Any = default if isinstance(default, Field) else field(default=default)
        made.name, made.type, made._field_type = name, written, _FIELD
        if made.kw_only is MISSING:
            made.kw_only = False
        every[name] = made
        if isinstance(default, Field):  # the class keeps the default, not the Field
            if made.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, made.default)
    listed = tuple(every.values())
    made_cls: Any = cls
    made_cls.__dataclass_fields__ = every
    made_cls.__dataclass_params__ = _PARAMS
    made_cls._positional = tuple(f.name for f in listed if f.init and not f.kw_only)
    made_cls.__match_args__ = made_cls._positional  # type: ignore[misc]
    made_cls._keywords = frozenset(f.name for f in listed if f.init)
    made_cls._defaults = {f.name: _FACTORY if f.default is MISSING else f.default
                          for f in listed}
    made_cls._factories = tuple((f.name, f.default_factory) for f in listed
                                if f.default_factory is not MISSING)
    made_cls.__init__ = _init
    made_cls.__setattr__, made_cls.__delattr__ = _frozen_setattr, _frozen_delattr
    made_cls.__signature__ = _SIGNATURE
    if cls.__doc__ is None:
        made_cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in listed)})"
    made_cls._compared = staticmethod(_values(tuple(f.name for f in listed if f.compare)))
    made_cls._hashed = staticmethod(_values(tuple(f.name for f in listed
                                                  if (f.compare if f.hash is None else f.hash))))
    made_cls._shown = tuple(f.name for f in listed if f.repr)
    made_cls.__eq__, made_cls.__hash__, made_cls.__repr__ = _eq, _hash, _repr
    return cls


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    """A node's `__init__`: what the one dataclasses generates does, for any node class."""
    positional = self._positional
    if len(args) > len(positional):
        raise TypeError(f"{self.__class__.__qualname__}.__init__() takes from 1 to "
                        f"{len(positional) + 1} positional arguments but {len(args) + 1} "
                        "were given")
    state = self.__dict__
    state.update(self._defaults)  # every field, in order (as the generated one sets them)
    state.update(zip(positional, args, strict=False))  # the rest keep their defaults
    if kwargs:
        for name in kwargs:
            if name not in self._keywords:
                raise TypeError(f"{self.__class__.__qualname__}.__init__() got an unexpected "
                                f"keyword argument {name!r}")
            if name in positional[:len(args)]:
                raise TypeError(f"{self.__class__.__qualname__}.__init__() got multiple "
                                f"values for argument {name!r}")
        state.update(kwargs)
    for name, factory in self._factories:
        if state[name] is _FACTORY:
            state[name] = factory()


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


class _Signature:
    """`inspect.signature(NodeClass)`: the generated `__init__`'s, made when asked for."""

    def __get__(self, instance: Any, owner: type) -> Any:
        import inspect

        every = dataclasses.fields(owner)
        return inspect.Signature([
            inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY if f.kw_only
                              else inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=_FACTORY if f.default is MISSING else f.default,
                              annotation=f.type)
            for f in sorted(every, key=lambda f: bool(f.kw_only))], return_annotation=None)


_SIGNATURE = _Signature()
_PARAMS = _params()


if TYPE_CHECKING:  # what the tree's classes are, for the type checker: frozen dataclasses
    from dataclasses import dataclass as _declared
else:
    def _declared(*, frozen: bool) -> Any:
        """`@dataclass(frozen=True)` in this module: `_node` (above)."""
        assert frozen
        return _node


def _values(names: tuple[str, ...]) -> Any:
    """A function giving a node's fields `names` as one tuple (as the generated methods
    compare and hash them)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda node: (one(node),)
    return lambda node: ()


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        values = self._compared
        return values(self) == values(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self._hashed(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
    return f"{self.__class__.__qualname__}({shown})"


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
