"""Checked scheme → readable Python source, with a line map back to the .kpi file.

Nothing written in a scheme reaches the generated code except through `repr()` (labels, and
the text of every number, which becomes `Decimal('...')`) or as a mangled identifier built
from a fixed prefix and a position (`k3`, with the scheme's own name only in comments when it
is plain ASCII). The code imports only `decimal` and `kpidsl.runtime`.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from . import ast
from .checks import CheckedRuleset, Variant
from .checks.curves import band_bounds
from .checks.fold import fold
from .checks.walk import nodes
from .runtime import CONTEXT, ROUNDING_MODES, is_fraction_step, round_to
from .units import Unit

_SAFE_COMMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass
class Writer:
    """Accumulates lines and records, for each, the .kpi line it came from."""

    lines: list[str] = field(default_factory=list)
    line_map: dict[int, int] = field(default_factory=dict)  # python line → kpi line
    indent: int = 0
    current: int = 0

    def at(self, node: ast.Node | ast.Expr | None) -> None:
        if node is not None and node.span.line:
            self.current = node.span.line

    def comment(self, text: str) -> None:
        self.line(f"# {text} (line {self.current})" if self.current else f"# {text}")

    def line(self, text: str = "", prefix: str = "") -> None:
        text = prefix + text
        self.lines.append(("    " * self.indent + text) if text else "")
        if self.current:
            self.line_map[len(self.lines)] = self.current

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class Layout:
    """What a variant's evaluator returns, position by position, for building Results."""

    kpis: list[str]
    lines: list[tuple[str, str]]  # (payment, kpi)
    pays: list[str]
    curves: dict[str, str] = field(default_factory=dict)  # curve → function (charts, tables)


@dataclass
class Generated:
    source: str
    line_map: dict[int, int]
    functions: dict[str, str]  # variant → function name
    layouts: dict[str, Layout]


def label_comment(name: str) -> str:
    # fullmatch: with match, '$' also accepts a trailing newline, which would end the comment
    return name if _SAFE_COMMENT.fullmatch(name) else "(non-ASCII name)"


class _Literals:
    """Decimal literals hoisted to module level: built once, shared by every evaluation."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def get(self, value: Decimal) -> str:
        text = str(value)
        if text not in self.names:
            self.names[text] = f"D{len(self.names)}"
        return self.names[text]


def generate(checked: CheckedRuleset) -> Generated:
    w = Writer()
    literals = _Literals()
    body = Writer()
    functions: dict[str, str] = {}
    layouts: dict[str, Layout] = {}
    for index, (name, variant) in enumerate(checked.variants.items()):
        function = f"evaluate_{index}"
        functions[name] = function
        layouts[name] = _VariantWriter(checked, variant, body, literals, index).write(function)
    header = checked.header
    w.line(f"# Evaluator for scheme {label_comment(header.name)} "
           f"(generated from {label_comment(_basename(checked.source.name))}).")
    w.line("# Generated code: review it, do not edit it. "
           "Comments give the .kpi line of each block.")
    w.line("from decimal import Decimal")
    w.line("")
    w.line("from kpidsl import runtime as rt")
    w.line("")
    w.line(f"SCHEME = {header.name!r}")
    w.line(f"CURRENCY = {checked.currency!r}")
    for text, ident in literals.names.items():
        w.line(f"{ident} = Decimal({text!r})")
    w.line("")
    offset = len(w.lines)
    w.lines.extend(body.lines)
    for py_line, kpi_line in body.line_map.items():
        w.line_map[py_line + offset] = kpi_line
    w.line("")
    w.line(f"EVALUATORS = {{{', '.join(f'{k!r}: {v}' for k, v in functions.items())}}}")
    return Generated(w.source(), w.line_map, functions, layouts)


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


class _VariantWriter:
    def __init__(self, checked: CheckedRuleset, variant: Variant, w: Writer, literals: _Literals,
                 index: int) -> None:
        self.checked = checked
        self.variant = variant
        self.w = w
        self.literals = literals
        self.prefix = f"v{index}_"
        self.ids: dict[tuple[str, str], str] = {}

    def ident(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self.ids:
            self.ids[key] = f"{kind}{len(self.ids)}"
        return self.ids[key]

    def lit(self, value: Decimal) -> str:
        return self.literals.get(value)

    # ---- values known when compiling: computed once here, not for every employee
    def static(self, expr: ast.Expr | None) -> Decimal | None:
        """The value of an expression of literals and month-independent constants.

        Computed with the evaluator's operations in its context, so the literal written in
        its place is the very Decimal every evaluation would have computed; None when the
        value needs facts, a month or a team, or when computing it fails (the evaluator then
        reports the failure as it always does).
        """
        if expr is None or any(isinstance(n, ast.Unary) and n.op == "+" for n in nodes(expr)):
            return None  # fold() leaves a unary plus unrounded; the evaluator rounds it
        with decimal.localcontext(CONTEXT):
            return fold(expr, self.statics)

    def static_product(self, left: ast.Expr | None, right: ast.Expr | None) -> Decimal | None:
        a, b = self.static(left), self.static(right)
        if a is None or b is None:
            return None
        try:
            with decimal.localcontext(CONTEXT):
                return a * b
        except ArithmeticError:
            return None

    def static_round(self, value: Decimal | None) -> Decimal | None:
        """A payout rounded as `round_payout` code rounds it (rt.round_to is that rounding)."""
        if value is None:
            return None
        try:
            with decimal.localcontext(CONTEXT):
                return round_to(value, self.checked.payout_step, self.checked.payout_mode)
        except ArithmeticError:
            return None

    def next_temp(self) -> int:
        self.temps = getattr(self, "temps", 0) + 1
        return self.temps

    # ---- the variant's functions
    def write(self, function: str) -> Layout:
        w, v = self.w, self.variant
        curve_functions = {name: self.write_curve(curve) for name, curve in v.curves.items()}
        self.curve_functions = curve_functions
        w.current = 0
        w.line(f"def {function}(facts, team, month):")
        w.indent += 1
        w.line(f"# grade {label_comment(v.name)}")
        self.statics: dict[str, Decimal] = {}
        for name in v.constant_order:
            const = v.constants[name]
            w.at(const)
            w.comment(f"constant {label_comment(name)}")
            w.line(f"{self.ident('c', name)} = {self.monthly(const.value, const.by_month)}")
            value = None if const.by_month else self.static(const.value)
            if value is not None:
                self.statics[name] = value
        for name, fact in v.facts.items():
            w.at(fact)
            w.line(f"{self.ident('f', name)} = facts[{name!r}]")
        kpis = [k for k in v.kpi_order]
        for name in kpis:
            kpi = v.kpis[name]
            w.at(kpi)
            w.comment(f"kpi {label_comment(name)}")
            value_id = self.ident("k", name)
            formula = self.expr(kpi.formula) if kpi.formula is not None else self.ident("f", name)
            w.line(f"{value_id} = {formula}")
            plan = self.ident("p", name)
            if kpi.plan is not None:
                w.at(kpi.plan)
                w.line(f"{plan} = {self.monthly(kpi.plan, kpi.plan_by_month)}")
            else:
                w.line(f"{plan} = None")
            w.at(kpi.attainment or kpi)
            w.line(f"{self.ident('a', name)} = {self.attainment(kpi)}")
        lines: list[tuple[str, str]] = []
        pays: list[str] = []
        for pay in v.pays.values():
            w.at(pay)
            w.comment(f"pay {label_comment(pay.name)}")
            target = self.ident("pay", pay.name)
            if pay.items:
                parts = []
                # A payment-level 'only if' withholds every line, so the lines still add up.
                conditions = tuple(g for g in pay.gates if g.kind == "only_if")
                for item in pay.items:
                    item = replace(item, gates=conditions + item.gates)
                    parts.append(self.write_item(pay, item))
                    lines.append((pay.name, item.kpi))
                w.at(pay)
                w.line(f"{target} = {' + '.join(p + '[3]' for p in parts)}")
            else:
                code = self.round_payout(self.expr(pay.formula))
                value = self.static_round(self.static(pay.formula))
                w.line(code if value is None else f"{self.lit(value)}  # = {code}, computed once",
                       prefix=f"{target} = ")
            for gate in pay.gates:
                if not (pay.items and gate.kind == "only_if"):
                    self.write_gate(gate, target, money=True)
            pays.append(pay.name)
        w.current = 0
        w.line("return (")
        w.indent += 1
        w.line(f"({''.join(self.ident('k', k) + ', ' for k in kpis)}),")
        w.line(f"({''.join(self.ident('p', k) + ', ' for k in kpis)}),")
        w.line(f"({''.join(self.ident('a', k) + ', ' for k in kpis)}),")
        line_ids = [self.ident("line", f"{p}\x00{k}") for p, k in lines]
        w.line(f"({''.join(i + ', ' for i in line_ids)}),")
        w.line(f"({''.join(self.ident('pay', p) + ', ' for p in pays)}),")
        total = " + ".join(self.ident("pay", p) for p in pays) or "rt.ZERO"
        w.line(f"{total},")
        w.indent -= 1
        w.line(")")
        w.indent -= 1
        w.line("")
        return Layout(kpis, lines, pays, dict(curve_functions))

    def monthly(self, expr: ast.Expr, by_month: tuple[ast.MonthValue, ...]) -> str:
        default = self.expr(expr)
        if not by_month:
            return default
        months = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                  "dec")
        table = ", ".join(f"{months.index(mv.month) + 1}: {self.expr(mv.value)}" for mv in by_month)
        return f"{{{table}}}.get(month, {default})"

    def attainment(self, kpi: ast.Kpi) -> str:
        value, plan = self.ident("k", kpi.name), self.ident("p", kpi.name)
        if kpi.attainment is not None:
            text = self.expr(kpi.attainment)
        elif kpi.plan is None:
            return "None"
        elif (kpi.direction or "higher") == "lower":
            text = f"rt.lower_is_better({value}, {plan})"
        else:
            text = f"{value} / {plan}"
        step = self.checked.attainment_step
        if step is not None:
            text = self.round_with(text, step, self.checked.attainment_mode)
        return text

    def round_with(self, text: str, step: Decimal, mode: str) -> str:
        if is_fraction_step(step):
            # `+ rt.ZERO`: a negative amount rounding to zero is 0.00, never -0.00 (exact: the
            # sum keeps the step's exponent)
            return (f"(({text}).quantize({self.lit(step.normalize())}, "
                    f"{ROUNDING_MODES[mode]!r}) + rt.ZERO)")
        return f"rt.round_to({text}, {self.lit(step)}, {mode!r})"

    def round_payout(self, text: str) -> str:
        return self.round_with(text, self.checked.payout_step, self.checked.payout_mode)

    def write_item(self, pay: ast.Pay, item: ast.PoolItem) -> str:
        w = self.w
        w.at(item)
        line = self.ident("line", f"{pay.name}\x00{item.kpi}")
        share = self.expr(item.amount) if item.amount is not None else \
            f"{self.expr(item.weight)} * {self.ident('pay', pay.name)}_pool"  # type: ignore[arg-type]
        if item.weight is not None and not self._pool_written(pay):
            w.at(pay.pool)
            w.line(f"{self.ident('pay', pay.name)}_pool = {self.expr(pay.pool)}")  # type: ignore[arg-type]
            w.at(item)
        curve = self.curve_functions[item.curve]  # type: ignore[index]
        w.comment(f"line {label_comment(pay.name)} for {label_comment(item.kpi)}")
        value = self.static(item.amount) if item.amount is not None else \
            self.static_product(item.weight, pay.pool)
        w.line(share if value is None else f"{self.lit(value)}  # = {share}, computed once",
               prefix=f"{line}_share = ")
        curve_ast = self.variant.curves[item.curve]  # type: ignore[index]
        if self.inlinable(curve_ast):
            w.line(f"x = {self.ident('a', item.kpi)}  # curve {label_comment(curve_ast.name)}, "
                   f"as {curve} computes it")
            self.write_bands(curve_ast, f"{line}_factor", f"{line}_band")
            self.write_cap_floor(curve_ast, f"{line}_factor")
            w.at(item)
        else:
            w.line(f"{line}_factor, {line}_band = {curve}({self.ident('a', item.kpi)})")
        w.line(f"{line}_gate = ''")
        for gate in item.gates:
            self.write_item_gate(gate, line)
        w.at(item)
        w.line(f"{line} = ({line}_share, {line}_factor, {line}_band, "
               f"{self.round_payout(f'{line}_share * {line}_factor')}, {line}_gate)")
        for gate in item.gates:
            if gate.kind != "only_if" and self._is_money(gate.value):
                self.write_money_gate_on_line(gate, line)
        return line

    def _pool_written(self, pay: ast.Pay) -> bool:
        key = ("pool", pay.name)
        if key in self.ids:
            return True
        self.ids[key] = "written"
        return False

    def _is_money(self, expr: ast.Expr) -> bool:
        from .checks.types import UnitChecker

        checker = UnitChecker(self.variant, self.checked.source, self.checked.currency)
        return checker.infer(expr) is Unit.MONEY

    def write_item_gate(self, gate: ast.Gate, line: str) -> None:
        w = self.w
        w.at(gate)
        if gate.kind == "only_if":
            w.line(f"if not ({self.expr(gate.value)}):")
            w.line(f"    {line}_factor, {line}_gate = rt.ZERO, 'withheld'")
            return
        if self._is_money(gate.value):
            return  # applied to the amount once it is computed
        limit = self.expr(gate.value)
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        if gate.kind == "cap":
            w.line(f"if {line}_factor > {limit}{unless}:")
            w.line(f"    {line}_factor, {line}_gate = {limit}, 'capped'")
        else:
            w.line(f"if {line}_factor < {limit}{unless}:")
            w.line(f"    {line}_factor, {line}_gate = {limit}, 'floored'")

    def write_money_gate_on_line(self, gate: ast.Gate, line: str) -> None:
        w = self.w
        w.at(gate)
        limit = self.round_payout(self.expr(gate.value))
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare, word = (">", "capped") if gate.kind == "cap" else ("<", "floored")
        w.line(f"if {line}[3] {compare} {limit}{unless}:")
        w.line(f"    {line} = ({line}[0], {line}[1], {line}[2], {limit}, {word!r})")

    def write_gate(self, gate: ast.Gate, target: str, money: bool) -> None:
        w = self.w
        w.at(gate)
        if gate.kind == "only_if":
            w.line(f"if not ({self.expr(gate.value)}):")
            w.line(f"    {target} = {self.round_payout('rt.ZERO')}")
            return
        limit = self.round_payout(self.expr(gate.value))
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare = ">" if gate.kind == "cap" else "<"
        w.line(f"if {target} {compare} {limit}{unless}:")
        w.line(f"    {target} = {limit}")

    # ---- curves
    def write_curve(self, curve: ast.Curve) -> str:
        w = self.w
        name = f"{self.prefix}curve{len([k for k in self.ids if k[0] == 'curve'])}"
        self.ids[("curve", curve.name)] = name
        constants = self.variant.constant_values
        w.at(curve)
        w.comment(f"curve {label_comment(curve.name)}")
        w.line(f"def {name}(x):")
        w.indent += 1
        if curve.kind == "linear":
            points = ", ".join(
                f"({self.lit(_const(p.at, constants))}, {self.lit(_const(p.pays, constants))})"
                for p in curve.points)
            w.line(f"value, band = rt.linear(x, ({points},))")
        elif curve.kind == "marginal":
            tiers = []
            for band in curve.bands:
                lower, upper = band_bounds(band, constants)
                tiers.append(f"({self._bound(lower)}, {self._bound(upper)}, "
                             f"{self.lit(_const(band.pays, constants))})")
            w.line(f"value, band = rt.tiers_marginal(x, ({', '.join(tiers)},))")
        elif curve.kind == "whole":
            tiers = []
            for band in curve.bands:
                lower, upper = band_bounds(band, constants)
                tiers.append(f"({self._bound(lower)}, {band.lower_inclusive}, "
                             f"{self._bound(upper)}, {band.upper_inclusive}, "
                             f"{self.lit(_const(band.pays, constants))})")
            w.line(f"value, band = rt.tiers_whole(x, ({', '.join(tiers)},))")
        else:
            self.write_bands(curve, "value", "band")
        self.write_cap_floor(curve, "value")
        w.line("return value, band")
        w.indent -= 1
        w.line("")
        return name

    def inlinable(self, curve: ast.Curve) -> bool:
        """A curve of bands paying only numbers and the attainment is written out where a pay
        line uses it (no call, no tuple per line); anything else is called."""
        if curve.kind in ("linear", "marginal", "whole"):
            return False
        allowed = (ast.Literal, ast.CurveInput, ast.Unary, ast.Binary)
        return all(isinstance(n, allowed) for band in curve.bands for n in nodes(band.pays))

    def write_bands(self, curve: ast.Curve, value: str, band_var: str) -> None:
        """The if/elif chain of a curve's bands over `x`, setting `value` and `band_var`."""
        w = self.w
        constants = self.variant.constant_values
        # (bound, inclusive): every x below (or at) it took an earlier branch, so a band
        # starting right there needs no lower test ("elif x <= 1.00" after "if x < 0.80").
        handled: tuple[Decimal, bool] | None = None
        covered_all = False
        for index, band in enumerate(curve.bands, start=1):
            w.at(band)
            lower, upper = band_bounds(band, constants)
            tests = []
            lower_open = lower is None or not lower.is_finite()
            follows = handled is not None and lower is not None and \
                handled[0] == lower and handled[1] != band.lower_inclusive
            if lower is not None and not lower_open and not follows:
                tests.append(f"x {'>=' if band.lower_inclusive else '>'} {self.lit(lower)}")
            if upper is not None and upper.is_finite():
                tests.append(f"x {'<=' if band.upper_inclusive else '<'} {self.lit(upper)}")
            contiguous = lower_open or follows
            handled = (upper, band.upper_inclusive) if contiguous and upper is not None \
                and upper.is_finite() else None
            pays = f"{value}, {band_var} = {self.expr(band.pays, curve_input='x')}, {index}"
            if index > 1 and not tests:  # the remaining x all fall in this band
                w.line(f"else:  # band {index}")
                w.line(f"    {pays}")
                covered_all = True
                break
            condition = " and ".join(tests) or "True"
            w.line(f"{'if' if index == 1 else 'elif'} {condition}:  # band {index}")
            w.line(f"    {pays}")
        if not covered_all:
            w.line("else:  # outside every band")
            w.line(f"    {value}, {band_var} = rt.ZERO, 0")

    def write_cap_floor(self, curve: ast.Curve, value: str) -> None:
        w = self.w
        constants = self.variant.constant_values
        w.at(curve)
        if curve.cap is not None:
            w.line(f"if {value} > {self.lit(_const(curve.cap, constants))}:")
            w.line(f"    {value} = {self.lit(_const(curve.cap, constants))}")
        if curve.floor is not None:
            w.line(f"if {value} < {self.lit(_const(curve.floor, constants))}:")
            w.line(f"    {value} = {self.lit(_const(curve.floor, constants))}")

    def _bound(self, value: Decimal | None) -> str:
        return "None" if value is None or not value.is_finite() else self.lit(value)

    # ---- expressions
    def expr(self, e: ast.Expr | None, curve_input: str = "") -> str:
        if e is None:
            return "None"
        return _ExprWriter(self, curve_input).write(e)


class _ExprWriter:
    def __init__(self, owner: _VariantWriter, curve_input: str) -> None:
        self.owner = owner
        self.curve_input = curve_input

    def never_none(self, args: tuple[ast.Expr, ...]) -> bool:
        """No operand can be None (the plan or attainment of a KPI without a plan), so a
        comparison fails, if ever, exactly as the builtin's would."""
        kpis = self.owner.variant.kpis
        for node in (n for a in args for n in nodes(a)):
            if isinstance(node, ast.PlanOf) and _no_plan(kpis.get(node.name)):
                return False
            if isinstance(node, ast.AttainmentOf) and _no_plan(kpis.get(node.name)) and \
                    getattr(kpis.get(node.name), "attainment", None) is None:
                return False
        return True

    def write(self, e: ast.Expr) -> str:  # one branch per node kind
        o = self.owner
        v = o.variant
        if isinstance(e, ast.Literal):
            return o.lit(e.value)
        if isinstance(e, ast.Ref):
            if e.name in v.constants:
                return o.ident("c", e.name)
            if e.name in v.kpis:
                return o.ident("k", e.name)
            return o.ident("f", e.name)
        if isinstance(e, ast.PlanOf):
            return o.ident("p", e.name)
        if isinstance(e, ast.AttainmentOf):
            return o.ident("a", e.name)
        if isinstance(e, ast.CurveInput):
            return self.curve_input or "x"
        if isinstance(e, ast.TeamAggregate):
            return f"team[{(e.kind + ':' + e.name)!r}]"
        if isinstance(e, ast.TeamSize):
            return "team['size']"
        if isinstance(e, ast.Unary):
            return f"({e.op}{self.write(e.operand)})"
        if isinstance(e, ast.Binary):
            return f"({self.write(e.left)} {e.op} {self.write(e.right)})"
        if isinstance(e, ast.Division):
            left, right = self.write(e.left), self.write(e.right)
            if e.otherwise is None:
                return f"({left} / {right})"
            temp = f"_d{o.next_temp()}"
            return f"({left} / {temp} if ({temp} := {right}) else {self.write(e.otherwise)})"
        if isinstance(e, ast.Compare):
            op = "==" if e.op == "=" else e.op
            return f"({self.write(e.left)} {op} {self.write(e.right)})"
        if isinstance(e, ast.Logical):
            return f"({self.write(e.left)} {e.op} {self.write(e.right)})"
        if isinstance(e, ast.Not):
            return f"(not {self.write(e.operand)})"
        if isinstance(e, ast.IfThenElse):
            return (f"({self.write(e.then)} if {self.write(e.condition)} "
                    f"else {self.write(e.otherwise)})")
        if isinstance(e, ast.Call):
            if e.function in ("min", "max") and len(e.args) == 2 and self.never_none(e.args):
                # max(a, b) written out: b when b > a, else a, as the builtin decides, with
                # a and b evaluated once and in order; no call, ~5 % of an evaluation
                left, right = self.write(e.args[0]), self.write(e.args[1])
                first, second = f"_d{o.next_temp()}", f"_d{o.next_temp()}"  # temporaries
                compare = "<" if e.function == "max" else ">"
                return f"({second} if ({first} := {left}) {compare} ({second} := {right}) " \
                       f"else {first})"
            args = ", ".join(self.write(a) for a in e.args)
            return f"{e.function}({args})"
        if isinstance(e, ast.Round):
            step = _const(e.step, v.constant_values)
            return o.round_with(self.write(e.value), step, e.mode)
        if isinstance(e, ast.CurveCall):
            return f"{o.ids[('curve', e.curve)]}({self.write(e.arg)})[0]"
        raise TypeError(type(e).__name__)


def _no_plan(kpi: ast.Kpi | None) -> bool:
    return kpi is None or kpi.plan is None


def _const(expr: ast.Expr | None, constants: dict[str, Decimal]) -> Decimal:
    from .checks.fold import fold

    value = fold(expr, constants)
    if value is None:  # the checker refuses non-constant bounds before code is generated
        raise ValueError("expected a constant")
    return value
