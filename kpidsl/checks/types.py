"""Units: money is never added to a percent, never multiplied by money, never paid as a percent;
and a division that can meet a zero says what it gives then."""

from __future__ import annotations

from .. import ast, units
from ..diagnostics import Diagnostic, error
from ..exprtext import describe_expr
from ..source import SourceFile
from ..units import DIMENSIONLESS, Unit
from ..visitor import ExprVisitor
from .fold import fold
from .model import Variant


class UnitChecker(ExprVisitor[Unit]):
    """Infers the unit of every expression of a variant, reporting what does not make sense."""

    def __init__(self, variant: Variant, source: SourceFile, currency: str) -> None:
        self.variant = variant
        self.source = source
        self.currency = currency
        self.out: list[Diagnostic] = []

    def problem(self, code: str, message: str, node: ast.Expr | ast.Node, hint: str = "") -> None:
        self.out.append(error(code, message, self.source, node.span, hint=hint))

    def describe(self, unit: Unit) -> str:
        return units.describe(unit, self.currency)

    # ---- names
    def unit_of_name(self, name: str) -> Unit:
        v = self.variant
        if name in v.units:
            return v.units[name]
        if name in v.facts:
            return v.facts[name].unit
        return Unit.ANY

    def infer(self, expr: ast.Expr | None) -> Unit:
        """The unit of an expression (ANY where unknown; problems are recorded once)."""
        if expr is None:
            return Unit.ANY
        return self.visit(expr)

    def visit_Literal(self, e: ast.Literal) -> Unit:
        if e.unit is Unit.MONEY and e.currency and e.currency != self.currency:
            self.problem("KPI206", f"{e.currency} amount in a scheme paid in {self.currency}", e,
                         hint=f"write amounts in {self.currency}")
        return e.unit

    def visit_Ref(self, e: ast.Ref) -> Unit:
        return self.unit_of_name(e.name)

    def visit_PlanOf(self, e: ast.PlanOf) -> Unit:
        return self.unit_of_name(e.name)

    def visit_AttainmentOf(self, e: ast.AttainmentOf) -> Unit:
        return Unit.PERCENT

    def visit_CurveInput(self, e: ast.CurveInput) -> Unit:
        return Unit.ANY

    def visit_TeamAggregate(self, e: ast.TeamAggregate) -> Unit:
        return self.unit_of_name(e.name)

    def visit_TeamSize(self, e: ast.TeamSize) -> Unit:
        return Unit.COUNT

    def visit_Unary(self, e: ast.Unary) -> Unit:
        return self.number(e.operand)

    def number(self, e: ast.Expr) -> Unit:
        unit = self.infer(e)
        if unit is Unit.BOOLEAN:
            self.problem("KPI203", "a yes/no condition is used as a number", e,
                         hint="conditions belong after 'if' or 'only if'")
            return Unit.ANY
        return unit

    def visit_Binary(self, e: ast.Binary) -> Unit:
        a, b = self.number(e.left), self.number(e.right)
        if e.op in (ast.BinaryOp.ADD, ast.BinaryOp.SUB):
            result = units.add(a, b)
            if result is None:
                word = "add" if e.op == ast.BinaryOp.ADD else "subtract"
                self.problem("KPI201", f"cannot {word} {self.describe(a)} and {self.describe(b)}",
                             e, hint="both sides of + and − must be in the same unit")
                return Unit.ANY
            return result
        result = units.multiply(a, b)
        if result is None:
            self.problem("KPI202", f"cannot multiply {self.describe(a)} by {self.describe(b)}", e,
                         hint="an amount is multiplied by a percentage, a rate or a count")
            return Unit.ANY
        return result

    def visit_Division(self, e: ast.Division) -> Unit:
        a, b = self.number(e.left), self.number(e.right)
        result = units.divide(a, b)
        if result is None:
            self.problem("KPI202", f"cannot divide {self.describe(a)} by {self.describe(b)}", e)
            result = Unit.ANY
        if e.otherwise is not None:
            other = self.number(e.otherwise)
            if not units.same_dimension(other, result):
                self.problem("KPI205", f"'otherwise' gives {self.describe(other)} where the "
                             f"division gives {self.describe(result)}", e.otherwise)
        elif self.can_be_zero(e.right):
            left, right = describe_expr(e.left), describe_expr(e.right)
            self.problem("KPI210", f"'{right}' can be zero; say what the division gives then",
                         e.right, hint=f"write: {left} / {right} otherwise 0")
        return result

    def can_be_zero(self, e: ast.Expr) -> bool:
        value = fold(e, self.variant.constant_values)
        if value is not None:
            return value == 0
        match e:
            case ast.PlanOf(name=name) if name in self.variant.kpis:
                plan = fold(self.variant.kpis[name].plan, self.variant.constant_values)
                return plan is None or plan == 0
            case ast.TeamSize():
                return False  # a team has at least the one being paid
        return True

    def visit_Compare(self, e: ast.Compare) -> Unit:
        a, b = self.number(e.left), self.number(e.right)
        if not units.same_dimension(a, b):
            self.problem("KPI201", f"cannot compare {self.describe(a)} with {self.describe(b)}", e)
        return Unit.BOOLEAN

    def condition(self, e: ast.Expr | None) -> None:
        if e is not None and self.infer(e) not in (Unit.BOOLEAN,):
            self.problem("KPI204", "a condition is expected here (e.g. attainment of revenue >= "
                         "100%)", e)

    def visit_Logical(self, e: ast.Logical) -> Unit:
        self.condition(e.left)
        self.condition(e.right)
        return Unit.BOOLEAN

    def visit_Not(self, e: ast.Not) -> Unit:
        self.condition(e.operand)
        return Unit.BOOLEAN

    def visit_IfThenElse(self, e: ast.IfThenElse) -> Unit:
        self.condition(e.condition)
        a, b = self.number(e.then), self.number(e.otherwise)
        result = units.add(a, b)
        if result is None:
            self.problem("KPI201", f"'then' gives {self.describe(a)} but 'else' gives "
                         f"{self.describe(b)}", e)
            return Unit.ANY
        return result

    def visit_Call(self, e: ast.Call) -> Unit:
        if e.function == ast.Function.ABS and len(e.args) != 1:
            self.problem("KPI207", "abs takes exactly one value", e)
        if e.function in (ast.Function.MIN, ast.Function.MAX) and len(e.args) < 2:
            self.problem("KPI207", f"{e.function} needs at least two values", e)
        result = Unit.ANY
        for arg in e.args:
            unit = self.number(arg)
            combined = units.add(result, unit)
            if combined is None:
                self.problem("KPI201", f"{e.function} mixes {self.describe(result)} and "
                             f"{self.describe(unit)}", arg)
                return Unit.ANY
            result = combined
        return result

    def visit_Round(self, e: ast.Round) -> Unit:
        unit = self.number(e.value)
        step = fold(e.step, self.variant.constant_values)
        if step is None or step <= 0:
            self.problem("KPI208", "the rounding step must be a positive constant (e.g. 0.01, 100)",
                         e.step)
        self.number(e.step)
        return unit

    def visit_CurveCall(self, e: ast.CurveCall) -> Unit:
        arg = self.number(e.arg)
        curve = self.variant.curves.get(e.curve)
        if curve is not None and curve.kind.rates:
            return arg if arg not in DIMENSIONLESS else Unit.NUMBER
        return Unit.NUMBER

    # ---- declarations
    def expect(self, expr: ast.Expr | None, wanted: Unit, what: str) -> None:
        if expr is None:
            return
        unit = self.number(expr)
        if not units.same_dimension(unit, wanted):
            hint = "multiply the rate by an amount, e.g. revenue × 5%" if \
                wanted is Unit.MONEY and unit in DIMENSIONLESS else ""
            self.problem("KPI204", f"{what} must be {self.describe(wanted)}, not "
                         f"{self.describe(unit)}", expr, hint=hint)


def check_units(variant: Variant, source: SourceFile, currency: str,
                order: list[tuple[str, str]]) -> list[Diagnostic]:
    checker = UnitChecker(variant, source, currency)
    for kind, name in order:
        if kind == "constant":
            const = variant.constants[name]
            variant.units[name] = checker.number(const.value)
            value = fold(const.value, variant.constant_values)
            if value is not None:
                variant.constant_values[name] = value
            for mv in const.by_month:
                checker.expect(mv.value, variant.units[name], f"constant {name} in {mv.month}")
        elif kind == "value":
            kpi = variant.kpis[name]
            variant.units[name] = checker.number(kpi.formula) if kpi.formula is not None else \
                checker.unit_of_name(name)
        elif kind == "plan":
            kpi = variant.kpis[name]
            unit = variant.units.get(name, Unit.ANY)
            checker.expect(kpi.plan, unit, f"the plan of {name}")
            for mv in kpi.plan_by_month:
                checker.expect(mv.value, unit, f"the plan of {name} in {mv.month}")
        elif kind == "attainment":
            kpi = variant.kpis[name]
            if kpi.attainment is not None:
                checker.expect(kpi.attainment, Unit.PERCENT, f"the attainment of {name}")
    for fact in variant.facts.values():
        checker.expect(fact.if_missing, fact.unit, f"the value of {fact.name} when missing")
    for curve in variant.curves.values():
        for band in curve.bands:
            checker.number(band.pays)
    for pay in variant.pays.values():
        checker.expect(pay.formula, Unit.MONEY, f"payment {pay.name}")
        checker.expect(pay.pool, Unit.MONEY, f"the pool of {pay.name}")
        gates = list(pay.gates)
        for item in pay.items:
            checker.expect(item.weight, Unit.PERCENT, f"the weight of {item.kpi}")
            checker.expect(item.amount, Unit.MONEY, f"the amount for {item.kpi}")
            gates += item.gates
        for gate in gates:
            if gate.kind == ast.GateKind.ONLY_IF:
                checker.condition(gate.value)
            else:
                unit = checker.number(gate.value)
                if unit not in (Unit.MONEY, Unit.PERCENT, Unit.ANY):
                    checker.problem("KPI204", f"a {gate.kind} is an amount or a percentage of the "
                                    f"share, not {checker.describe(unit)}", gate.value)
            checker.condition(gate.unless)
    for budget in variant.budgets.values():
        checker.expect(budget.cap, Unit.MONEY, f"budget {budget.name}")
    return checker.out

