"""Walking expressions without recursion (deep formulas must never overflow the stack)."""

from __future__ import annotations

from collections.abc import Iterator

from .. import ast


def children(expr: ast.Expr) -> tuple[ast.Expr, ...]:
    if isinstance(expr, ast.Unary | ast.Not):
        return (expr.operand,)
    if isinstance(expr, ast.Binary | ast.Compare | ast.Logical):
        return (expr.left, expr.right)
    if isinstance(expr, ast.Division):
        return (expr.left, expr.right) + ((expr.otherwise,) if expr.otherwise else ())
    if isinstance(expr, ast.IfThenElse):
        return (expr.condition, expr.then, expr.otherwise)
    if isinstance(expr, ast.Call):
        return expr.args
    if isinstance(expr, ast.Round):
        return (expr.value, expr.step)
    if isinstance(expr, ast.CurveCall):
        return (expr.arg,)
    return ()


def nodes(expr: ast.Expr | None) -> Iterator[ast.Expr]:
    """Every node of an expression, parents before children."""
    if expr is None:
        return
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def references(expr: ast.Expr | None) -> Iterator[tuple[str, str, ast.Expr]]:
    """(kind, name, node) for each name an expression uses: value, plan, attainment, curve, team."""
    for node in nodes(expr):
        if isinstance(node, ast.Ref):
            yield "value", node.name, node
        elif isinstance(node, ast.PlanOf):
            yield "plan", node.name, node
        elif isinstance(node, ast.AttainmentOf):
            yield "attainment", node.name, node
        elif isinstance(node, ast.CurveCall):
            yield "curve", node.curve, node
        elif isinstance(node, ast.TeamAggregate):
            yield "team", node.name, node
