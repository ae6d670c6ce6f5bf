"""Constant folding: the value of an expression that uses only literals and constants."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .. import ast


def fold(expr: ast.Expr | None, constants: dict[str, Decimal],
         attainment: Decimal | None = None) -> Decimal | None:
    """The exact value, or None when it depends on facts (or cannot be computed)."""
    if expr is None:
        return None
    try:
        return _fold(expr, constants, attainment)
    except (InvalidOperation, ZeroDivisionError, ArithmeticError):
        return None


def _fold(expr: ast.Expr, constants: dict[str, Decimal], x: Decimal | None) -> Decimal | None:
    if isinstance(expr, ast.Literal):
        return expr.value
    if isinstance(expr, ast.Ref):
        return constants.get(expr.name)
    if isinstance(expr, ast.CurveInput):
        return x
    if isinstance(expr, ast.Unary):
        v = _fold(expr.operand, constants, x)
        return None if v is None else (-v if expr.op == "-" else v)
    if isinstance(expr, ast.Binary):
        a, b = _fold(expr.left, constants, x), _fold(expr.right, constants, x)
        if a is None or b is None:
            return None
        return a + b if expr.op == "+" else a - b if expr.op == "-" else a * b
    if isinstance(expr, ast.Division):
        a, b = _fold(expr.left, constants, x), _fold(expr.right, constants, x)
        if b == 0 and expr.otherwise is not None:
            return _fold(expr.otherwise, constants, x)
        return None if a is None or b is None or b == 0 else a / b
    if isinstance(expr, ast.Call):
        values = [_fold(a, constants, x) for a in expr.args]
        if any(v is None for v in values):
            return None
        if expr.function == "abs":
            return abs(values[0])  # type: ignore[arg-type]
        return (min if expr.function == "min" else max)(values)  # type: ignore[type-var]
    if isinstance(expr, ast.IfThenElse):
        return None
    return None
