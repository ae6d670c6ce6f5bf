"""Expressions back to text: canonical for `fmt` and provenance, with the scheme's own words."""

from __future__ import annotations

from decimal import Decimal

from . import ast
from .units import Unit

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6,
               "unary": 7}
_SYMBOL = {"*": "×", "-": "−", "/": "/"}


def literal_text(value: Decimal, unit: Unit, currency: str = "") -> str:
    """A value written as the language writes it: 3_000_000 RUB, 2.1%, 950."""
    if unit is Unit.PERCENT:
        text = _plain(value.scaleb(2)) + "%"
    else:
        text = _group(_plain(value))
    return f"{text} {currency}" if unit is Unit.MONEY and currency else text


def _plain(value: Decimal) -> str:
    text = format(value.normalize() if value == value.to_integral_value() else value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _group(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("-")
    whole, _, fraction = digits.partition(".")
    if len(whole) > 4:
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = "_".join([whole, *groups])
    return sign + whole + ("." + fraction if fraction else "")


def describe_expr(expr: ast.Expr) -> str:
    return _text(expr, 0)


def _wrap(text: str, own: int, context: int) -> str:
    return f"({text})" if own < context else text


def _text(expr: ast.Expr, context: int) -> str:  # noqa: PLR0911 - one branch per node kind
    if isinstance(expr, ast.Literal):
        if expr.unit is Unit.ANY:
            return _group(expr.text.replace("_", "")) if expr.text else literal_text(
                expr.value, Unit.NUMBER)
        return literal_text(expr.value, expr.unit, expr.currency)
    if isinstance(expr, ast.Ref):
        return expr.name
    if isinstance(expr, ast.PlanOf):
        return f"plan of {expr.name}"
    if isinstance(expr, ast.AttainmentOf):
        return f"attainment of {expr.name}"
    if isinstance(expr, ast.CurveInput):
        return "attainment"
    if isinstance(expr, ast.TeamAggregate):
        return f"team {expr.kind} of {expr.name}"
    if isinstance(expr, ast.TeamSize):
        return "team size"
    if isinstance(expr, ast.Unary):
        return _wrap(f"{_SYMBOL.get(expr.op, expr.op)}{_text(expr.operand, 7)}", 7, context)
    if isinstance(expr, ast.Binary):
        own = _PRECEDENCE[expr.op]
        text = f"{_text(expr.left, own)} {_SYMBOL.get(expr.op, expr.op)} {_text(expr.right, own + 1)}"
        return _wrap(text, own, context)
    if isinstance(expr, ast.Division):
        text = f"{_text(expr.left, 6)} / {_text(expr.right, 7)}"
        if expr.otherwise is not None:
            text += f" otherwise {_text(expr.otherwise, 7)}"
        return _wrap(text, 6, context)
    if isinstance(expr, ast.Compare):
        return _wrap(f"{_text(expr.left, 5)} {expr.op} {_text(expr.right, 5)}", 4, context)
    if isinstance(expr, ast.Logical):
        own = _PRECEDENCE[expr.op]
        return _wrap(f"{_text(expr.left, own)} {expr.op} {_text(expr.right, own + 1)}", own,
                     context)
    if isinstance(expr, ast.Not):
        return _wrap(f"not {_text(expr.operand, 3)}", 3, context)
    if isinstance(expr, ast.IfThenElse):
        text = (f"if {_text(expr.condition, 0)} then {_text(expr.then, 0)} "
                f"else {_text(expr.otherwise, 0)}")
        return _wrap(text, 0, context if context == 0 else 99)
    if isinstance(expr, ast.Call):
        return f"{expr.function}({', '.join(_text(a, 0) for a in expr.args)})"
    if isinstance(expr, ast.Round):
        return f"round({_text(expr.value, 0)}, {_text(expr.step, 0)}, {expr.mode})"
    if isinstance(expr, ast.CurveCall):
        return f"{expr.curve}({_text(expr.arg, 0)})"
    raise TypeError(f"cannot write {type(expr).__name__}")
