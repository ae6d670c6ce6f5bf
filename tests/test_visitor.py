"""The expression visitor, the walk and the one printer cover every kind of expression.

A kind added to kpidsl/ast.py without a visitor method, a walk that misses one of its
operands, or a printer that writes it so that it parses back differently fails here.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl import ast
from kpidsl.checks.fold import _Fold
from kpidsl.checks.types import UnitChecker
from kpidsl.checks.walk import _Uses, children, nodes, references
from kpidsl.docs.text import Say, _ReaderPrinter
from kpidsl.exprtext import Prec, Printer, _Precedence, describe_expr, precedence
from kpidsl.formatter import write_expr
from kpidsl.parser import parse
from kpidsl.source import SourceFile
from kpidsl.visitor import EXPR_KINDS, ExprVisitor

VISITORS = [_Fold, UnitChecker, _Uses, _Precedence, Printer, _ReaderPrinter]


def all_kinds() -> list[type[ast.Expr]]:
    """Every subclass of ast.Expr there is now (not the list the visitor module took)."""
    found, stack = [], [ast.Expr]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def build(kind: type[ast.Expr]) -> tuple[ast.Expr, list[ast.Expr]]:
    """An instance of `kind` whose every operand is a distinct leaf; and those leaves."""
    hints = typing.get_type_hints(kind, vars(ast))
    leaves: list[ast.Expr] = []

    def leaf() -> ast.Expr:
        leaves.append(ast.Ref(name=f"x{len(leaves)}"))
        return leaves[-1]

    values: dict[str, object] = {}
    for f in dataclasses.fields(kind):
        hint = hints[f.name]
        args = typing.get_args(hint)
        if hint is ast.Expr or (ast.Expr in args and typing.get_origin(hint) is not tuple):
            values[f.name] = leaf()
        elif typing.get_origin(hint) is tuple and ast.Expr in args:
            values[f.name] = (leaf(), leaf())
        elif isinstance(hint, type) and issubclass(hint, enum.Enum):
            values[f.name] = next(iter(hint))
        elif f.name in ("name", "curve"):
            values[f.name] = "named"
    return kind(**values), leaves  # type: ignore[arg-type]


def test_every_kind_has_its_visitor_method() -> None:
    kinds = all_kinds()
    assert len(kinds) == 17
    assert set(kinds) == set(EXPR_KINDS)
    assert ExprVisitor.__abstractmethods__ == {f"visit_{k.__name__}" for k in kinds}


@pytest.mark.parametrize("visitor", VISITORS, ids=lambda v: v.__name__)
def test_every_visitor_handles_every_kind(visitor: type[ExprVisitor[typing.Any]]) -> None:
    assert not visitor.__abstractmethods__, visitor.__abstractmethods__
    assert set(visitor._methods) == set(all_kinds())


def test_every_visitor_in_the_package_is_complete() -> None:
    """Visitors written anywhere in kpidsl (not only the ones listed above) handle every kind."""
    import importlib
    import pkgutil

    import kpidsl

    for module in pkgutil.walk_packages(kpidsl.__path__, "kpidsl."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, stack = [], list(ExprVisitor.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("kpidsl."):
            found.append(cls)
    assert set(VISITORS) <= set(found)
    incomplete = {c.__qualname__: sorted(c.__abstractmethods__) for c in found
                  if c.__abstractmethods__}
    assert incomplete == {}


def test_a_visitor_without_a_kind_cannot_be_made() -> None:
    class Partial(ExprVisitor[int]):
        def visit_Literal(self, e: ast.Literal) -> int:
            return 1

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]


@pytest.mark.parametrize("kind", all_kinds(), ids=lambda k: k.__name__)
def test_walk_visits_every_operand(kind: type[ast.Expr]) -> None:
    node, leaves = build(kind)
    assert list(children(node)) == leaves
    walked = list(nodes(node))
    assert walked[0] is node
    assert [id(n) for n in walked[1:]] == [id(leaf) for leaf in leaves]
    assert [name for _, name, _ in references(node) if name.startswith("x")] == \
        [f"x{i}" for i in range(len(leaves))]


@pytest.mark.parametrize("kind", all_kinds(), ids=lambda k: k.__name__)
def test_every_printer_writes_every_kind_with_its_operands(kind: type[ast.Expr]) -> None:
    node, leaves = build(kind)
    for text in (describe_expr(node), write_expr(node), Say("en", "RUB").expr(node),
                 Say("ru", "RUB").expr(node)):
        for i in range(len(leaves)):
            assert f"x{i}" in text, text
    assert isinstance(precedence(node), Prec)


def test_names_a_node_uses() -> None:
    expr = _parse_expr("plan of a + attainment of b + team total of c + k(d) + team size")
    assert [(kind, name) for kind, name, _ in references(expr)] == [
        ("plan", "a"), ("attainment", "b"), ("team", "c"), ("curve", "k"), ("value", "d")]


# ---------------------------------------------------------------- the printer round-trips


def _parse_expr(text: str) -> ast.Expr:
    ruleset, problems = parse(SourceFile("x.kpi", f"scheme s\nconstant c = {text}\n"))
    assert not problems, (text, [p.message for p in problems])
    assert ruleset is not None
    value = ruleset.statements[0].value  # type: ignore[union-attr]
    assert isinstance(value, ast.Expr)
    return value


LEAVES = st.sampled_from([
    _parse_expr("7"), _parse_expr("2.5%"), _parse_expr("100 RUB"), _parse_expr("a"),
    _parse_expr("plan of a"), _parse_expr("attainment of b"), _parse_expr("attainment"),
    _parse_expr("team average of c"), _parse_expr("team size"),
])


def _compound(inner: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        st.builds(ast.Unary, op=st.sampled_from(ast.UnaryOp), operand=inner),
        st.builds(ast.Binary, op=st.sampled_from(ast.BinaryOp), left=inner, right=inner),
        st.builds(ast.Division, left=inner, right=inner,
                  otherwise=st.one_of(st.none(), inner)),
        st.builds(ast.Compare, op=st.sampled_from(ast.CompareOp), left=inner, right=inner),
        st.builds(ast.Logical, op=st.sampled_from(ast.LogicOp), left=inner, right=inner),
        st.builds(ast.Not, operand=inner),
        st.builds(ast.IfThenElse, condition=inner, then=inner, otherwise=inner),
        st.builds(ast.Call, function=st.sampled_from(ast.Function),
                  args=st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(ast.Round, value=inner, step=inner, mode=st.sampled_from(ast.RoundingMode)),
        st.builds(ast.CurveCall, curve=st.just("tiers"), arg=inner),
    )


EXPRESSIONS = st.recursive(LEAVES, _compound, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_fmt_writes_what_parses_back_to_the_same_tree(expr: ast.Expr) -> None:
    """The precedence table is the grammar's: the fewest parentheses, the same tree."""
    assert _parse_expr(write_expr(expr)) == expr


@pytest.mark.parametrize(("text", "written"), [
    ("(a + b) * c", "(a + b) × c"),
    ("a - (b - c)", "a − (b − c)"),
    ("a - b - c", "a − b − c"),
    ("a / b otherwise 0 * c", "a / b otherwise 0 × c"),
    ("c * (a / b otherwise 0)", "c × (a / b otherwise 0)"),
    ("-(a * b)", "−(a × b)"),
    ("--a", "−−a"),
    ("not (a and b) or c", "not (a and b) or c"),
    ("a or b and c", "a or b and c"),
    ("(a or b) and c", "(a or b) and c"),
    ("(if a > 1 then b else c) * 2", "(if a > 1 then b else c) × 2"),
    ("round(a * 1.5, 0.01, half even)", "round(a × 1.5, 0.01, half even)"),
    ("round(a, 1, half up)", "round(a, 1)"),
])
def test_fmt_parentheses(text: str, written: str) -> None:
    assert write_expr(_parse_expr(text)) == written


def test_documents_share_the_structure() -> None:
    say = Say("en", "RUB")
    assert say.expr(_parse_expr("(a + b) * c / d otherwise 0")) == \
        "(a + b) × c ÷ d (or 0 when d is 0)"
    assert Say("ru", "RUB").expr(_parse_expr("not (a > 1 and b < 2)")) == "не (a > 1 и b < 2)"
    assert say.expr(_parse_expr("abs(a - b) >= 5%")) == "|a − b| ≥ 5%"


def test_folding_is_a_visitor() -> None:
    from kpidsl.checks.fold import fold

    assert fold(_parse_expr("min(3, 2) * -(4 / 2) + k"), {"k": Decimal(1)}) == Decimal(-3)
    assert fold(_parse_expr("1 / (k - 1) otherwise 7"), {"k": Decimal(1)}) == Decimal(7)
    assert fold(_parse_expr("a + 1"), {}) is None
