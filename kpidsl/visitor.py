"""One visitor over the kinds of expression, and each node's operands read from its fields.

Every pass that treats each kind of expression its own way (units, folding, the printer,
the names an expression uses) subclasses `ExprVisitor`, which has one abstract
`visit_<Kind>` method per class in `EXPR_KINDS`. A kind added to `kpidsl/ast.py` without
its method here stops `import kpidsl` with a TypeError naming it; once the method is
declared here, every visitor that does not implement it cannot be instantiated (mypy says
so before the tests do). Passes that only look for a few shapes (a comparison with an
attainment on one side) use `match` and say what the other kinds mean.

`children(node)` gives a node's operands from its dataclass fields (any field holding an
expression, an optional one or a tuple of them), so no walk can forget a kind or an
operand; `nodes(expr)` walks a tree without recursion (deep formulas never overflow the
stack).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

from . import ast

T = TypeVar("T")


def _concrete_kinds() -> tuple[type[ast.Expr], ...]:
    found: list[type[ast.Expr]] = []
    stack = list(reversed(ast.Expr.__subclasses__()))
    while stack:
        kind = stack.pop()
        found.append(kind)
        stack.extend(reversed(kind.__subclasses__()))
    return tuple(found)


EXPR_KINDS: tuple[type[ast.Expr], ...] = _concrete_kinds()
"""Every kind of expression node, in the order ast.py declares them."""


# ---------------------------------------------------------------- operands


def _operand_fields(kind: type[ast.Expr]) -> tuple[tuple[str, bool], ...]:
    """(field name, holds a tuple) for each field of `kind` that holds expressions.

    Read from the annotations as written ("Expr | None", "tuple[Expr, ...]"), base class
    first, not through typing.get_type_hints: evaluating them cost `kpidsl check` about
    10 ms of start-up.
    """
    out: list[tuple[str, bool]] = []
    for klass in reversed(kind.__mro__):
        for name, hint in vars(klass).get("__annotations__", {}).items():
            text = hint if isinstance(hint, str) else repr(hint)
            if _EXPR.search(text) and name not in (n for n, _ in out):
                out.append((name, text.startswith(("tuple[", "Tuple[", "typing.Tuple["))))
    return tuple(out)


_EXPR = re.compile(r"\bExpr\b")


def _getter(kind: type[ast.Expr]) -> Callable[[Any], tuple[ast.Expr, ...]]:
    """The fastest reader of a kind's operands (a walk calls it once per node)."""
    fields = _operand_fields(kind)
    if not fields:
        return lambda e: ()
    if len(fields) == 1 and fields[0][1]:  # a tuple of operands: min(a, b, c)
        name = fields[0][0]
        return lambda e: getattr(e, name)

    def read(e: Any) -> tuple[ast.Expr, ...]:
        out: list[ast.Expr] = []
        for name, many in fields:
            value = getattr(e, name)
            if many:
                out.extend(value)
            elif value is not None:
                out.append(value)
        return tuple(out)

    return read


_OPERANDS: dict[type, Callable[[Any], tuple[ast.Expr, ...]]] = {}


def children(expr: ast.Expr) -> tuple[ast.Expr, ...]:
    """A node's operands, in the order its fields declare them."""
    getter = _OPERANDS.get(type(expr))
    if getter is None:
        if type(expr) not in EXPR_KINDS:
            raise TypeError(f"{type(expr).__name__} is not a kind of expression")
        getter = _OPERANDS[type(expr)] = _getter(type(expr))
    return getter(expr)


def nodes(expr: ast.Expr | None) -> Iterator[ast.Expr]:
    """Every node of an expression, parents before children, left to right."""
    if expr is None:
        return
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


# ---------------------------------------------------------------- the visitor


class ExprVisitor(abc.ABC, Generic[T]):
    """A pass with one method per kind of expression; `visit(e)` calls the one for `e`."""

    _methods: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [k.__name__ for k in EXPR_KINDS if not hasattr(cls, f"visit_{k.__name__}")]
        if missing:
            raise TypeError(f"ExprVisitor has no method for {', '.join(missing)}: declare "
                            f"visit_{missing[0]} in kpidsl/visitor.py")
        cls._methods = {k: getattr(cls, f"visit_{k.__name__}") for k in EXPR_KINDS}

    def visit(self, e: ast.Expr) -> T:
        method = self._methods.get(type(e))
        if method is None:
            raise TypeError(f"{type(self).__name__} cannot visit {type(e).__name__}")
        result: T = method(self, e)
        return result

    @abc.abstractmethod
    def visit_Literal(self, e: ast.Literal) -> T: ...

    @abc.abstractmethod
    def visit_Ref(self, e: ast.Ref) -> T: ...

    @abc.abstractmethod
    def visit_PlanOf(self, e: ast.PlanOf) -> T: ...

    @abc.abstractmethod
    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> T: ...

    @abc.abstractmethod
    def visit_CurveInput(self, e: ast.CurveInput) -> T: ...

    @abc.abstractmethod
    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> T: ...

    @abc.abstractmethod
    def visit_TeamSize(self, e: ast.TeamSize) -> T: ...

    @abc.abstractmethod
    def visit_Unary(self, e: ast.Unary) -> T: ...

    @abc.abstractmethod
    def visit_Binary(self, e: ast.Binary) -> T: ...

    @abc.abstractmethod
    def visit_Division(self, e: ast.Division) -> T: ...

    @abc.abstractmethod
    def visit_Compare(self, e: ast.Compare) -> T: ...

    @abc.abstractmethod
    def visit_Logical(self, e: ast.Logical) -> T: ...

    @abc.abstractmethod
    def visit_Not(self, e: ast.Not) -> T: ...

    @abc.abstractmethod
    def visit_IfThenElse(self, e: ast.IfThenElse) -> T: ...

    @abc.abstractmethod
    def visit_Call(self, e: ast.Call) -> T: ...

    @abc.abstractmethod
    def visit_Round(self, e: ast.Round) -> T: ...

    @abc.abstractmethod
    def visit_CurveCall(self, e: ast.CurveCall) -> T: ...
