"""Expressions back to text: canonical for `fmt` and provenance, with the scheme's own words."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from . import ast
from .units import Unit

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6,
               "unary": 7}
_SYMBOL = {"*": "×", "-": "−", "/": "/"}


def literal_text(value: Decimal, unit: Unit, currency: str = "") -> str:
    """A value written as the language writes it: 3_000_000 RUB, 2.1%, 950."""
    text = _plain(value.scaleb(2)) + "%" if unit is Unit.PERCENT else _group(_plain(value))
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


def describe_expr(expr: ast.Expr, literal: Callable[[ast.Literal], str] | None = None, *,
                  short_round: bool = False) -> str:
    """An expression in the language's canonical words and signs.

    `literal` writes numbers another way (the formatter keeps them as the author wrote
    them); `short_round` leaves out the default rounding mode ("half up").
    """
    return _Writer(literal or _normal_literal, short_round).text(expr, 0)


def band_range_text(band: ast.Band, write: Callable[[ast.Expr], str] = describe_expr) -> str:
    """A band's range as the scheme writes it: 'below 80%', 'from 80% through 100%'."""
    low = write(band.lower) if band.lower is not None else ""
    high = write(band.upper) if band.upper is not None else ""
    if band.lower is None:
        return f"{'at most' if band.upper_inclusive else 'below'} {high}"
    start = f"{'from' if band.lower_inclusive else 'above'} {low}"
    if band.upper is None:
        return start
    return f"{start} {'through' if band.upper_inclusive else 'to'} {high}"


def _normal_literal(expr: ast.Literal) -> str:
    if expr.unit is Unit.ANY:
        return _group(expr.text.replace("_", "")) if expr.text else literal_text(
            expr.value, Unit.NUMBER)
    return literal_text(expr.value, expr.unit, expr.currency)


def _wrap(text: str, own: int, context: int) -> str:
    return f"({text})" if own < context else text


class _Writer:
    """Writes expressions with the fewest parentheses that keep their meaning."""

    def __init__(self, literal: Callable[[ast.Literal], str], short_round: bool) -> None:
        self.literal = literal
        self.short_round = short_round

    def text(self, e: ast.Expr, context: int) -> str:
        if isinstance(e, ast.Literal):
            return self.literal(e)
        if isinstance(e, ast.Ref):
            return e.name
        if isinstance(e, ast.PlanOf):
            return f"plan of {e.name}"
        if isinstance(e, ast.AttainmentOf):
            return f"attainment of {e.name}"
        if isinstance(e, ast.CurveInput):
            return "attainment"
        if isinstance(e, ast.TeamAggregate):
            return f"team {e.kind} of {e.name}"
        if isinstance(e, ast.TeamSize):
            return "team size"
        if isinstance(e, ast.Unary):
            return _wrap(f"{_SYMBOL.get(e.op, e.op)}{self.text(e.operand, 7)}", 7, context)
        if isinstance(e, ast.Binary):
            own = _PRECEDENCE[e.op]
            sign = _SYMBOL.get(e.op, e.op)
            return _wrap(f"{self.text(e.left, own)} {sign} {self.text(e.right, own + 1)}", own,
                         context)
        if isinstance(e, ast.Division):
            text = f"{self.text(e.left, 6)} / {self.text(e.right, 7)}"
            if e.otherwise is not None:
                text += f" otherwise {self.text(e.otherwise, 7)}"
            return _wrap(text, 6, context)
        if isinstance(e, ast.Compare):
            return _wrap(f"{self.text(e.left, 5)} {e.op} {self.text(e.right, 5)}", 4, context)
        if isinstance(e, ast.Logical):
            own = _PRECEDENCE[e.op]
            return _wrap(f"{self.text(e.left, own)} {e.op} {self.text(e.right, own + 1)}", own,
                         context)
        if isinstance(e, ast.Not):
            return _wrap(f"not {self.text(e.operand, 3)}", 3, context)
        if isinstance(e, ast.IfThenElse):
            text = (f"if {self.text(e.condition, 0)} then {self.text(e.then, 0)} "
                    f"else {self.text(e.otherwise, 0)}")
            return text if context == 0 else f"({text})"
        if isinstance(e, ast.Call):
            return f"{e.function}({', '.join(self.text(a, 0) for a in e.args)})"
        if isinstance(e, ast.Round):
            mode = "" if self.short_round and e.mode == "half up" else f", {e.mode}"
            return f"round({self.text(e.value, 0)}, {self.text(e.step, 0)}{mode})"
        if isinstance(e, ast.CurveCall):
            return f"{e.curve}({self.text(e.arg, 0)})"
        raise TypeError(f"cannot write {type(e).__name__}")
