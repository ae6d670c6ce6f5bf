"""The one expression printer and the one precedence table.

`Printer` writes an expression with the fewest parentheses that keep its meaning, using
`precedence` (how tightly each kind binds, as grammars/kpi.lark nests them). Its words are
methods a subclass changes: `fmt` keeps numbers as the author wrote them
(`formatter.write_expr`), diagnostics and provenance use the canonical words
(`describe_expr`), documents and explanations write labels and the reader's language
(`docs.text.Say`). Structure, precedence and parentheses live here only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from decimal import Decimal

from . import ast
from .units import Unit
from .visitor import ExprVisitor


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


def _normal_literal(expr: ast.Literal) -> str:
    if expr.unit is Unit.ANY:
        return _group(expr.text.replace("_", "")) if expr.text else literal_text(
            expr.value, Unit.NUMBER)
    return literal_text(expr.value, expr.unit, expr.currency)


# ---------------------------------------------------------------- precedence


class Prec(enum.IntEnum):
    """How tightly a kind of expression binds: the grammar's levels, loosest first."""

    CONDITIONAL = 0  # if … then … else …
    OR = 1
    AND = 2
    NOT = 3
    COMPARISON = 4  # = != < <= > >=: both sides are sums
    SUM = 5  # + −
    PRODUCT = 6  # × and /, a division with `otherwise` too (its fallback is signed)
    SIGNED = 7  # unary + and −
    ATOM = 9  # numbers, names, calls, plan of, (…)


OPERATORS: dict[ast.BinaryOp | ast.LogicOp, Prec] = {
    ast.BinaryOp.ADD: Prec.SUM, ast.BinaryOp.SUB: Prec.SUM, ast.BinaryOp.MUL: Prec.PRODUCT,
    ast.LogicOp.AND: Prec.AND, ast.LogicOp.OR: Prec.OR,
}


class _Precedence(ExprVisitor[Prec]):
    def visit_Literal(self, e: ast.Literal) -> Prec:
        return Prec.ATOM

    def visit_Ref(self, e: ast.Ref) -> Prec:
        return Prec.ATOM

    def visit_PlanOf(self, e: ast.PlanOf) -> Prec:
        return Prec.ATOM

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> Prec:
        return Prec.ATOM

    def visit_CurveInput(self, e: ast.CurveInput) -> Prec:
        return Prec.ATOM

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> Prec:
        return Prec.ATOM

    def visit_TeamSize(self, e: ast.TeamSize) -> Prec:
        return Prec.ATOM

    def visit_Unary(self, e: ast.Unary) -> Prec:
        return Prec.SIGNED

    def visit_Binary(self, e: ast.Binary) -> Prec:
        return OPERATORS[e.op]

    def visit_Division(self, e: ast.Division) -> Prec:
        return Prec.PRODUCT

    def visit_Compare(self, e: ast.Compare) -> Prec:
        return Prec.COMPARISON

    def visit_Logical(self, e: ast.Logical) -> Prec:
        return OPERATORS[e.op]

    def visit_Not(self, e: ast.Not) -> Prec:
        return Prec.NOT

    def visit_IfThenElse(self, e: ast.IfThenElse) -> Prec:
        return Prec.CONDITIONAL

    def visit_Call(self, e: ast.Call) -> Prec:
        return Prec.ATOM

    def visit_Round(self, e: ast.Round) -> Prec:
        return Prec.ATOM

    def visit_CurveCall(self, e: ast.CurveCall) -> Prec:
        return Prec.ATOM


precedence: Callable[[ast.Expr], Prec] = _Precedence().visit
"""The level an expression binds at; an operand looser than its place is parenthesised."""


# ---------------------------------------------------------------- the printer

_SIGNS = {"-": "−", "*": "×"}


class Printer(ExprVisitor[str]):
    """Writes expressions with the fewest parentheses that keep their meaning.

    Subclasses change the words (`literal`, `name`, `sign`, `division`, `conditional` …),
    never the structure: where an operand needs parentheses is decided here, by `precedence`.
    """

    def __init__(self, literal: Callable[[ast.Literal], str] | None = None, *,
                 short_round: bool = False) -> None:
        self.write_literal = literal or _normal_literal
        self.short_round = short_round

    def text(self, e: ast.Expr) -> str:
        return self.visit(e)

    def operand(self, e: ast.Expr, place: Prec) -> str:
        """`e` written where an expression binding at least as tightly as `place` stands."""
        text = self.visit(e)
        return f"({text})" if precedence(e) < place else text

    # ---- words (what subclasses change)
    def literal(self, e: ast.Literal) -> str:
        return self.write_literal(e)

    def name(self, name: str) -> str:
        return name

    def sign(self, op: ast.UnaryOp | ast.BinaryOp | ast.CompareOp) -> str:
        return _SIGNS.get(op, op)

    def logic(self, op: ast.LogicOp) -> str:
        return str(op)

    def negation(self, operand: str) -> str:
        return f"not {operand}"

    def division(self, left: str, right: str, otherwise: str | None) -> str:
        text = f"{left} / {right}"
        return text if otherwise is None else f"{text} otherwise {otherwise}"

    def conditional(self, condition: str, then: str, otherwise: str) -> str:
        return f"if {condition} then {then} else {otherwise}"

    def call(self, function: ast.Function, args: list[str]) -> str:
        return f"{function}({', '.join(args)})"

    def rounding(self, e: ast.Round, value: str) -> str:
        mode = "" if self.short_round and e.mode == ast.RoundingMode.HALF_UP else f", {e.mode}"
        return f"round({value}, {self.text(e.step)}{mode})"

    def curve_call(self, curve: str, arg: str) -> str:
        return f"{curve}({arg})"

    # ---- the kinds
    def visit_Literal(self, e: ast.Literal) -> str:
        return self.literal(e)

    def visit_Ref(self, e: ast.Ref) -> str:
        return self.name(e.name)

    def visit_PlanOf(self, e: ast.PlanOf) -> str:
        return f"plan of {e.name}"

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> str:
        return f"attainment of {e.name}"

    def visit_CurveInput(self, e: ast.CurveInput) -> str:
        return "attainment"

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> str:
        return f"team {e.kind} of {e.name}"

    def visit_TeamSize(self, e: ast.TeamSize) -> str:
        return "team size"

    def visit_Unary(self, e: ast.Unary) -> str:
        return f"{self.sign(e.op)}{self.operand(e.operand, Prec.SIGNED)}"

    def visit_Binary(self, e: ast.Binary) -> str:
        own = OPERATORS[e.op]
        return (f"{self.operand(e.left, own)} {self.sign(e.op)} "
                f"{self.operand(e.right, Prec(own + 1))}")

    def visit_Division(self, e: ast.Division) -> str:
        otherwise = self.operand(e.otherwise, Prec.SIGNED) if e.otherwise is not None else None
        return self.division(self.operand(e.left, Prec.PRODUCT),
                             self.operand(e.right, Prec.SIGNED), otherwise)

    def visit_Compare(self, e: ast.Compare) -> str:
        return (f"{self.operand(e.left, Prec.SUM)} {self.sign(e.op)} "
                f"{self.operand(e.right, Prec.SUM)}")

    def visit_Logical(self, e: ast.Logical) -> str:
        own = OPERATORS[e.op]
        return (f"{self.operand(e.left, own)} {self.logic(e.op)} "
                f"{self.operand(e.right, Prec(own + 1))}")

    def visit_Not(self, e: ast.Not) -> str:
        return self.negation(self.operand(e.operand, Prec.NOT))

    def visit_IfThenElse(self, e: ast.IfThenElse) -> str:
        return self.conditional(self.text(e.condition), self.text(e.then),
                                self.text(e.otherwise))

    def visit_Call(self, e: ast.Call) -> str:
        return self.call(e.function, [self.text(a) for a in e.args])

    def visit_Round(self, e: ast.Round) -> str:
        return self.rounding(e, self.text(e.value))

    def visit_CurveCall(self, e: ast.CurveCall) -> str:
        return self.curve_call(e.curve, self.text(e.arg))


_CANONICAL = Printer()


def describe_expr(expr: ast.Expr, literal: Callable[[ast.Literal], str] | None = None, *,
                  short_round: bool = False) -> str:
    """An expression in the language's canonical words and signs.

    `literal` writes numbers another way (the formatter keeps them as the author wrote
    them); `short_round` leaves out the default rounding mode ("half up").
    """
    if literal is None and not short_round:
        return _CANONICAL.text(expr)
    return Printer(literal, short_round=short_round).text(expr)


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
