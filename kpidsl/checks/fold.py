"""Constant folding: the value of an expression that uses only literals and constants."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .. import ast
from ..visitor import ExprVisitor


def fold(expr: ast.Expr | None, constants: dict[str, Decimal],
         attainment: Decimal | None = None) -> Decimal | None:
    """The exact value, or None when it depends on facts (or cannot be computed)."""
    if expr is None:
        return None
    try:
        return _Fold(constants, attainment).visit(expr)
    except (InvalidOperation, ZeroDivisionError, ArithmeticError):
        return None


class _Fold(ExprVisitor["Decimal | None"]):
    """Literals, constants, the curve's input when given, and + − × / min max abs of them;
    anything read from an employee, and conditions, have no value here."""

    def __init__(self, constants: dict[str, Decimal], x: Decimal | None) -> None:
        self.constants = constants
        self.x = x

    def visit_Literal(self, e: ast.Literal) -> Decimal | None:
        return e.value

    def visit_Ref(self, e: ast.Ref) -> Decimal | None:
        return self.constants.get(e.name)

    def visit_PlanOf(self, e: ast.PlanOf) -> Decimal | None:
        return None

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> Decimal | None:
        return None

    def visit_CurveInput(self, e: ast.CurveInput) -> Decimal | None:
        return self.x

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> Decimal | None:
        return None

    def visit_TeamSize(self, e: ast.TeamSize) -> Decimal | None:
        return None

    def visit_Unary(self, e: ast.Unary) -> Decimal | None:
        v = self.visit(e.operand)
        return None if v is None else (-v if e.op == ast.UnaryOp.MINUS else v)

    def visit_Binary(self, e: ast.Binary) -> Decimal | None:
        a, b = self.visit(e.left), self.visit(e.right)
        if a is None or b is None:
            return None
        op = e.op
        return a + b if op == ast.BinaryOp.ADD else a - b if op == ast.BinaryOp.SUB else a * b

    def visit_Division(self, e: ast.Division) -> Decimal | None:
        a, b = self.visit(e.left), self.visit(e.right)
        if b == 0 and e.otherwise is not None:
            return self.visit(e.otherwise)
        return None if a is None or b is None or b == 0 else a / b

    def visit_Compare(self, e: ast.Compare) -> Decimal | None:
        return None

    def visit_Logical(self, e: ast.Logical) -> Decimal | None:
        return None

    def visit_Not(self, e: ast.Not) -> Decimal | None:
        return None

    def visit_IfThenElse(self, e: ast.IfThenElse) -> Decimal | None:
        return None

    def visit_Call(self, e: ast.Call) -> Decimal | None:
        values = [self.visit(a) for a in e.args]
        if any(v is None for v in values):
            return None
        if e.function == ast.Function.ABS:
            return abs(values[0])  # type: ignore[arg-type]
        return (min if e.function == ast.Function.MIN else max)(values)  # type: ignore[type-var]

    def visit_Round(self, e: ast.Round) -> Decimal | None:
        return None

    def visit_CurveCall(self, e: ast.CurveCall) -> Decimal | None:
        return None
