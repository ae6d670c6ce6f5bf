"""The names an expression uses, found over every node without recursion.

Operands come from `kpidsl.visitor.children` (read from the dataclass fields), and which
names a node uses from `_Uses`, a visitor with a method for every kind: a new kind of
expression cannot escape name resolution or cycle detection by being forgotten here.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import ast
from ..visitor import ExprVisitor, children, nodes

__all__ = ["children", "nodes", "references"]

Use = tuple[str, str]  # (kind, name): ("value", "revenue"), ("curve", "standard")


class _Uses(ExprVisitor["Use | None"]):
    """The name a node itself uses (its operands are visited on their own)."""

    def visit_Literal(self, e: ast.Literal) -> Use | None:
        return None

    def visit_Ref(self, e: ast.Ref) -> Use | None:
        return "value", e.name

    def visit_PlanOf(self, e: ast.PlanOf) -> Use | None:
        return "plan", e.name

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> Use | None:
        return "attainment", e.name

    def visit_CurveInput(self, e: ast.CurveInput) -> Use | None:
        return None  # the curve's input: checks/names.py allows it only in a band

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> Use | None:
        return "team", e.name

    def visit_TeamSize(self, e: ast.TeamSize) -> Use | None:
        return None

    def visit_Unary(self, e: ast.Unary) -> Use | None:
        return None

    def visit_Binary(self, e: ast.Binary) -> Use | None:
        return None

    def visit_Division(self, e: ast.Division) -> Use | None:
        return None

    def visit_Compare(self, e: ast.Compare) -> Use | None:
        return None

    def visit_Logical(self, e: ast.Logical) -> Use | None:
        return None

    def visit_Not(self, e: ast.Not) -> Use | None:
        return None

    def visit_IfThenElse(self, e: ast.IfThenElse) -> Use | None:
        return None

    def visit_Call(self, e: ast.Call) -> Use | None:
        return None  # min, max and abs are words of the language, not names

    def visit_Round(self, e: ast.Round) -> Use | None:
        return None

    def visit_CurveCall(self, e: ast.CurveCall) -> Use | None:
        return "curve", e.curve


_USES = _Uses()


def references(expr: ast.Expr | None) -> Iterator[tuple[str, str, ast.Expr]]:
    """(kind, name, node) for each name an expression uses: value, plan, attainment, curve, team."""
    uses = _USES.visit
    for node in nodes(expr):
        use = uses(node)
        if use is not None:
            yield use[0], use[1], node
