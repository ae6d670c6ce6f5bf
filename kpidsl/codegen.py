"""Checked scheme → readable Python source, with a line map back to the .kpi file.

Nothing written in a scheme reaches the generated code except through `repr()` (labels, and
the text of every number, which becomes `Decimal('...')`) or as a mangled identifier built
from a fixed prefix and a position (`k3`, with the scheme's own name only in comments when it
is plain ASCII). The code imports only `decimal` and `kpidsl.runtime`.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from . import ast
from .checks import CheckedRuleset, Variant
from .checks.curves import band_bounds
from .checks.fold import fold
from .checks.walk import nodes
from .evaluator import Layout
from .runtime import CONTEXT, ROUNDING_MODES, is_fraction_step, round_to
from .units import Unit

# A curve with more bands than this is written as flat `if` statements, not an `elif` chain
# (which nests one level per band: Python's compiler fails at a few thousand).
FLAT_BANDS = 64

# Folding while compiling: a value that is not an exact decimal (1/3) is left to the
# evaluator, which keeps it as a fraction.
EXACT = CONTEXT.copy()
EXACT.traps[decimal.Inexact] = True
EXACT.traps[decimal.Rounded] = True

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
        self.values: dict[str, Decimal] = {}

    def get(self, value: Decimal) -> str:
        text = str(value)
        if text not in self.names:
            self.names[text] = f"D{len(self.names)}"
            self.values[self.names[text]] = value
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
        self.quotients: dict[str, Q] = {}  # named values kept as exact fractions
        self.temps = 0
        self.line_columns: dict[str, dict[str, str]] = {}  # line → column → code

    def ident(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self.ids:
            self.ids[key] = f"{kind}{len(self.ids)}"
        return self.ids[key]

    def named(self, ident: str) -> Q:
        """A named value as the expressions that read it see it: a fraction or itself."""
        return self.quotients.get(ident) or Q(ident)

    def lit(self, value: Decimal) -> str:
        return self.literals.get(value)

    def literal_value(self, name: str) -> Decimal:
        return self.literals.values[name]

    # ---- values known when compiling: computed once here, not for every employee
    def static(self, expr: ast.Expr | None) -> Decimal | None:
        """The exact value of an expression of literals and month-independent constants.

        None when the value needs facts, a month or a team, when it is not a finite decimal
        (1/3: the evaluator keeps it as a fraction) or when computing it fails (the evaluator
        then reports the failure as it always does).
        """
        if expr is None:
            return None
        with decimal.localcontext(EXACT):
            return fold(expr, self.statics)

    def static_product(self, left: ast.Expr | None, right: ast.Expr | None) -> Decimal | None:
        a, b = self.static(left), self.static(right)
        if a is None or b is None:
            return None
        try:
            with decimal.localcontext(EXACT):
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
        self.temps += 1
        return self.temps

    def assign(self, ident: str, q: Q) -> None:
        """`ident = value`; a fraction is kept as ident_n, ident_d (shown by Results)."""
        w = self.w
        if q.d is None:
            w.line(f"{ident} = {q.n}")
            return
        w.line(f"{ident}_n, {ident}_d = {q.n}, {q.d}")
        self.quotients[ident] = Q(f"{ident}_n", f"{ident}_d", q.dv)

    def output(self, ident: str) -> str:
        """A named value as the evaluator returns it: a Decimal, or the numerator of a
        fraction whose denominator follows the total (`denominator`); Results divide them in
        the caller's context when shown."""
        q = self.quotients.get(ident)
        return ident if q is None else q.n

    def denominator(self, ident: str) -> str:
        q = self.quotients.get(ident)
        return "None" if q is None else str(q.d)

    # ---- the variant's functions
    def write(self, function: str) -> Layout:
        w, v = self.w, self.variant
        self.statics: dict[str, Decimal] = {}
        curve_functions = {name: self.write_curve(curve) for name, curve in v.curves.items()}
        self.curve_functions = curve_functions
        w.current = 0
        w.line(f"def {function}(facts, team, month):")
        w.indent += 1
        w.line(f"# grade {label_comment(v.name)}")
        for name in v.constant_order:
            const = v.constants[name]
            w.at(const)
            w.comment(f"constant {label_comment(name)}")
            ident = self.ident("c", name)
            self.assign(ident, self.monthly(const.value, const.by_month))
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
            # A formula may read its own plan (`kpi x = plan of x`): then the plan comes first,
            # or the generated code would read it before assigning it.
            own_plan = kpi.formula is not None and any(
                isinstance(n, ast.PlanOf) and n.name == name for n in nodes(kpi.formula))
            if own_plan:
                self.write_plan(name, kpi)
            w.at(kpi)
            formula = self.value(kpi.formula) if kpi.formula is not None else \
                Q(self.ident("f", name))
            self.assign(self.ident("k", name), formula)
            if not own_plan:
                self.write_plan(name, kpi)
            w.at(kpi.attainment or kpi)
            self.write_attainment(kpi)
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
                w.line(f"{target} = {' + '.join(p + '_amount' for p in parts)}")
            else:
                code = self.round_q(self.value(pay.formula),  # type: ignore[arg-type]
                                    self.checked.payout_step,
                                    self.checked.payout_mode)
                value = self.static_round(self.static(pay.formula))
                w.line(code if value is None else f"{self.lit(value)}  # = {code}, computed once",
                       prefix=f"{target} = ")
            for gate in pay.gates:
                if not (pay.items and gate.kind == "only_if"):
                    self.write_gate(gate, target, money=True)
            pays.append(pay.name)
        w.current = 0
        w.line("return rt.output((")
        w.indent += 1
        w.line(f"({''.join(self.output(self.ident('k', k)) + ', ' for k in kpis)}),  # KPI values")
        w.line(f"({''.join(self.output(self.ident('p', k)) + ', ' for k in kpis)}),  # plans")
        w.line(f"({''.join(self.output(self.ident('a', k)) + ', ' for k in kpis)}),  "
               "# attainments")
        dens = [self.denominator(self.ident(kind, k)) for kind in "kpa" for k in kpis]
        line_ids = [self.ident("line", f"{p}\x00{k}") for p, k in lines]
        for column, suffix in (("shares", "_share"), ("factors", "_factor"),
                               ("factor denominators", "_factor_d"), ("bands", "_band"),
                               ("amounts", "_amount"), ("gates", "_gate")):
            values = [self.line_columns[i][suffix] for i in line_ids]
            w.line(f"({''.join(v + ', ' for v in values)}),  # lines: {column}")
        w.line(f"({''.join(self.ident('pay', p) + ', ' for p in pays)}),  # payments")
        total = " + ".join(self.ident("pay", p) for p in pays) or "rt.ZERO"
        w.line(f"{total},  # total")
        if any(d != "None" for d in dens):  # the values above that are numerators
            w.line(f"({''.join(d + ', ' for d in dens)}),  # denominators")
        else:
            w.line("None,  # denominators: every value above is exact")
        w.indent -= 1
        w.line("))")
        w.indent -= 1
        w.line("")
        return Layout(kpis, lines, pays, dict(curve_functions))

    def monthly(self, expr: ast.Expr, by_month: tuple[ast.MonthValue, ...]) -> Q:
        default = self.value(expr)
        if not by_month:
            return default
        months = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                  "dec")
        values = [(months.index(mv.month) + 1, self.value(mv.value)) for mv in by_month]
        table = ", ".join(f"{month}: {q.n}" for month, q in values)
        if default.d is None and all(q.d is None for _month, q in values):
            return Q(f"{{{table}}}.get(month, {default.n})")
        dens = ", ".join(f"{month}: {q.den}" for month, q in values)
        return Q(f"{{{table}}}.get(month, {default.n})", f"{{{dens}}}.get(month, {default.den})",
                 stable=False)

    def write_plan(self, name: str, kpi: ast.Kpi) -> None:
        plan = self.ident("p", name)
        if kpi.plan is not None:
            self.w.at(kpi.plan)
            self.assign(plan, self.monthly(kpi.plan, kpi.plan_by_month))
        else:
            self.w.line(f"{plan} = None")

    def write_attainment(self, kpi: ast.Kpi) -> None:
        """Value ÷ plan kept as a fraction (shown by Results): nothing to compute at all when
        the plan is a positive number written in the scheme."""
        w = self.w
        target = self.ident("a", kpi.name)
        value, plan = self.named(self.ident("k", kpi.name)), self.named(self.ident("p", kpi.name))
        writer = _ExprWriter(self)
        if kpi.attainment is not None:
            q = self.value(kpi.attainment)
        elif kpi.plan is None:
            w.line(f"{target} = None")
            return
        elif (kpi.direction or "higher") == "lower":
            q = Q(f"{target}_n", f"{target}_d")
            w.line(f"{target}_n, {target}_d = rt.lower_is_better_q({value.n}, {value.den}, "
                   f"{plan.n}, {plan.den})")
        else:
            static = self.static(kpi.plan) if not kpi.plan_by_month else None
            if value.d is None and static is not None and static > 0:
                q = Q(value.n, plan.n, static)
            else:
                q = Q(f"{target}_n", f"{target}_d")  # a zero plan fails here, as `/` does
                w.line(f"{target}_n, {target}_d = {writer.quotient(value, plan.n, plan)}")
        step = self.checked.attainment_step
        if step is not None:
            w.line(f"{target} = {self.round_q(q, step, self.checked.attainment_mode)}")
        elif q.d is not None and q.stable:
            self.quotients[target] = q
        else:
            self.assign(target, q)

    def round_q(self, q: Q, step: Decimal, mode: str) -> str:
        """The exact value of q rounded to `step` once."""
        if q.d is None:
            return self.round_with(q.n, step, mode)
        if is_fraction_step(step):  # evaluators run in rt.ODD: the quotient is odd
            return (f"({q.n} / {q.d}).quantize({self.lit(step.normalize())}, "
                    f"{ROUNDING_MODES[mode]!r})")
        return f"rt.round_ratio({q.n}, {q.d}, {self.lit(step)}, {mode!r})"

    def round_with(self, text: str, step: Decimal, mode: str) -> str:
        if is_fraction_step(step):
            # `+ rt.ZERO`: a negative amount rounding to zero is 0.00, never -0.00 (exact: the
            # sum keeps the step's exponent)
            return (f"(({text}).quantize({self.lit(step.normalize())}, "
                    f"{ROUNDING_MODES[mode]!r}) + rt.ZERO)")
        return f"rt.round_to({text}, {self.lit(step)}, {mode!r})"

    def round_payout(self, text: str) -> str:
        return self.round_with(text, self.checked.payout_step, self.checked.payout_mode)

    def payout(self, q: Q) -> str:
        return self.round_q(q, self.checked.payout_step, self.checked.payout_mode)

    def write_item(self, pay: ast.Pay, item: ast.PoolItem) -> str:
        w = self.w
        w.at(item)
        line = self.ident("line", f"{pay.name}\x00{item.kpi}")
        if item.weight is not None and not self._pool_written(pay):
            w.at(pay.pool)
            self.assign(f"{self.ident('pay', pay.name)}_pool",
                        self.value(pay.pool))  # type: ignore[arg-type]
            w.at(item)
        share_q = self.value(item.amount) if item.amount is not None else \
            _ExprWriter(self).product(self.value(item.weight),  # type: ignore[arg-type]
                                      self.named(f"{self.ident('pay', pay.name)}_pool"))
        curve = self.curve_functions[item.curve]  # type: ignore[index]
        w.comment(f"line {label_comment(pay.name)} for {label_comment(item.kpi)}")
        value = self.static(item.amount) if item.amount is not None else \
            self.static_product(item.weight, pay.pool)
        share_id = f"{line}_share"
        if value is not None:
            share_code = _ExprWriter(self).shown(share_q)
            w.line(f"{share_id} = {self.lit(value)}  # = {share_code}, computed once")
            share = Q(share_id)
        else:
            self.assign(share_id, share_q)
            share = self.named(share_id)
        curve_ast = self.variant.curves[item.curve]  # type: ignore[index]
        x = self.named(self.ident("a", item.kpi))
        factor_id = f"{line}_factor"
        if self.inlinable(curve_ast):
            comment = f"  # curve {label_comment(curve_ast.name)}, as {curve} computes it"
            if x.d is not None and not (x.stable and x.d.isidentifier()):
                w.line(f"x, x_d = {x.n}, {x.d}{comment}")
                x = Q("x", "x_d", x.dv)
            else:
                w.line(f"x = {x.n}{comment}")
                x = Q("x", x.d, x.dv)
            factor = self.write_bands(curve_ast, factor_id, f"{line}_band", x)
            self.write_cap_floor(curve_ast, factor_id, factor)
            w.at(item)
        else:
            w.line(f"{factor_id}, {factor_id}_d, {line}_band = {curve}_q({x.n}, {x.den})")
            factor = Q(factor_id, f"{factor_id}_d")
        w.line(f"{line}_gate = ''")
        for gate in item.gates:
            factor = self.write_item_gate(gate, line, factor)
        w.at(item)
        shown_share = share.n if share.d is None else f"({share.n}, {share.d})"  # rare
        amount = self.payout(_ExprWriter(self).product(share, factor))
        factor_d = str(factor.d)
        if factor.d is not None and (factor.d in ("x", "x_d") or not factor.d.isidentifier()):
            # read again when the evaluator returns, after later lines reuse x and x_d
            w.line(f"{line}_factor_d = {factor.d}")
            factor_d = f"{line}_factor_d"
        w.line(f"{line}_amount = {amount}")
        self.line_columns[line] = {"_share": shown_share, "_factor": factor.n,
                                   "_factor_d": factor_d, "_band": f"{line}_band",
                                   "_amount": f"{line}_amount", "_gate": f"{line}_gate"}
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

    def write_item_gate(self, gate: ast.Gate, line: str, factor: Q) -> Q:
        """A gate on a line's factor; returns the factor as the code after it reads it."""
        w = self.w
        w.at(gate)
        factor_id = f"{line}_factor"
        if gate.kind == "only_if":
            w.line(f"if not ({self.expr(gate.value)}):")
            w.line(f"    {factor_id}, {line}_gate = rt.ZERO, 'withheld'")
            return factor
        if self._is_money(gate.value):
            return factor  # applied to the amount once it is computed
        limit = self.value(gate.value)
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare, word = (">", "capped") if gate.kind == "cap" else ("<", "floored")
        writer = _ExprWriter(self)
        if factor.d is not None and factor.d != f"{factor_id}_d":
            # the factor's denominator becomes a variable the gate may replace
            w.line(f"{factor_id}_d = {factor.d}")
            factor = Q(factor_id, f"{factor_id}_d")
        w.line(f"if {writer.compare(factor, compare, limit)}{unless}:")
        if factor.d is None and limit.d is None:
            w.line(f"    {factor_id}, {line}_gate = {limit.n}, {word!r}")
            return factor
        if factor.d is None:
            w.line(f"    {factor_id}_d = rt.ONE")
            factor = Q(factor_id, f"{factor_id}_d")
        w.line(f"    {factor_id}, {factor_id}_d, {line}_gate = {limit.n}, {limit.den}, {word!r}")
        return factor

    def write_money_gate_on_line(self, gate: ast.Gate, line: str) -> None:
        w = self.w
        w.at(gate)
        limit = self.payout(self.value(gate.value))
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare, word = (">", "capped") if gate.kind == "cap" else ("<", "floored")
        w.line(f"if {line}_amount {compare} {limit}{unless}:")
        w.line(f"    {line}_amount, {line}_gate = {limit}, {word!r}")

    def write_gate(self, gate: ast.Gate, target: str, money: bool) -> None:
        w = self.w
        w.at(gate)
        if gate.kind == "only_if":
            w.line(f"if not ({self.expr(gate.value)}):")
            w.line(f"    {target} = {self.round_payout('rt.ZERO')}")
            return
        limit = self.payout(self.value(gate.value))
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare = ">" if gate.kind == "cap" else "<"
        w.line(f"if {target} {compare} {limit}{unless}:")
        w.line(f"    {target} = {limit}")

    # ---- curves
    def write_curve(self, curve: ast.Curve) -> str:
        """`name_q(x, x_d)`: the factor of the attainment x ÷ x_d as (numerator, positive
        denominator, band); `name = rt.shown_curve(name_q)` for charts and tables."""
        w = self.w
        name = f"{self.prefix}curve{len([k for k in self.ids if k[0] == 'curve'])}"
        self.ids[("curve", curve.name)] = name
        constants = self.variant.constant_values
        w.at(curve)
        w.comment(f"curve {label_comment(curve.name)}")
        w.line(f"def {name}_q(x, x_d):")
        w.indent += 1
        if curve.kind == "linear":
            points = ", ".join(
                f"({self.lit(_const(p.at, constants))}, {self.lit(_const(p.pays, constants))})"
                for p in curve.points)
            w.line(f"value, value_d, band = rt.linear_q(x, x_d, ({points},))")
            factor = Q("value", "value_d")
        elif curve.kind == "marginal":
            tiers = []
            for band in curve.bands:
                lower, upper = band_bounds(band, constants)
                tiers.append(f"({self._bound(lower)}, {self._bound(upper)}, "
                             f"{self.lit(_const(band.pays, constants))})")
            w.line(f"value, value_d, band = rt.tiers_marginal_q(x, x_d, ({', '.join(tiers)},))")
            factor = Q("value", "value_d")
        elif curve.kind == "whole":
            tiers = []
            for band in curve.bands:
                lower, upper = band_bounds(band, constants)
                tiers.append(f"({self._bound(lower)}, {band.lower_inclusive}, "
                             f"{self._bound(upper)}, {band.upper_inclusive}, "
                             f"{self.lit(_const(band.pays, constants))})")
            w.line(f"value, value_d, band = rt.tiers_whole_q(x, x_d, ({', '.join(tiers)},))")
            factor = Q("value", "value_d")
        else:
            factor = self.write_bands(curve, "value", "band", Q("x", "x_d"), function=True)
        factor = self.write_cap_floor(curve, "value", factor)
        w.line(f"return value, {factor.den}, band")
        w.indent -= 1
        w.line(f"{name} = rt.shown_curve({name}_q)")
        w.line("")
        return name

    def inlinable(self, curve: ast.Curve) -> bool:
        """A curve of bands paying only numbers and the attainment is written out where a pay
        line uses it (no call, no tuple per line); anything else is called."""
        if curve.kind in ("linear", "marginal", "whole"):
            return False
        allowed = (ast.Literal, ast.CurveInput, ast.Unary, ast.Binary)
        return all(isinstance(n, allowed) for band in curve.bands for n in nodes(band.pays))

    def write_bands(self, curve: ast.Curve, value: str, band_var: str, x: Q,
                    function: bool = False) -> Q:
        """The if/elif chain of a curve's bands over `x`, setting `value` and `band_var`;
        returns the value as a fraction (its denominator the same in every band, or
        `value_d`)."""
        w = self.w
        constants = self.variant.constant_values
        writer = _ExprWriter(self, x)
        pays = [writer.value(band.pays) for band in curve.bands]
        dens = {q.d for q in pays if q.d is not None}
        common: Q | None = None
        if not dens:
            common = Q(value)
        elif dens == {x.d} and x.stable:
            common = Q(value, x.d, x.dv)
        den_var = f"{value}_d"
        # (bound, inclusive): every x below (or at) it took an earlier branch, so a band
        # starting right there needs no lower test ("elif x <= 1.00" after "if x < 0.80").
        handled: tuple[Decimal, bool] | None = None
        covered_all = False

        def assign(q: Q, index: int) -> str:
            if common is None:
                return f"{value}, {den_var}, {band_var} = {q.n}, {q.den}, {index}"
            n = q.n if q.d is not None or common.d is None else writer.scaled(q, common)
            return f"{value}, {band_var} = {n}, {index}"

        if len(curve.bands) > FLAT_BANDS:
            self.write_flat_bands(curve, x, band_var, assign, writer)
            return common if common is not None else Q(value, den_var)
        for index, band in enumerate(curve.bands, start=1):
            w.at(band)
            lower, upper = band_bounds(band, constants)
            tests = []
            lower_open = lower is None or not lower.is_finite()
            follows = handled is not None and lower is not None and \
                handled[0] == lower and handled[1] != band.lower_inclusive
            if lower is not None and not lower_open and not follows:
                op = ">=" if band.lower_inclusive else ">"
                tests.append(writer.compare(x, op, Q(self.lit(lower)))[1:-1])
            if upper is not None and upper.is_finite():
                op = "<=" if band.upper_inclusive else "<"
                tests.append(writer.compare(x, op, Q(self.lit(upper)))[1:-1])
            contiguous = lower_open or follows
            handled = (upper, band.upper_inclusive) if contiguous and upper is not None \
                and upper.is_finite() else None
            code = assign(pays[index - 1], index)
            if index > 1 and not tests:  # the remaining x all fall in this band
                w.line(f"else:  # band {index}")
                w.line(f"    {code}")
                covered_all = True
                break
            condition = " and ".join(tests) or "True"
            w.line(f"{'if' if index == 1 else 'elif'} {condition}:  # band {index}")
            w.line(f"    {code}")
        if not covered_all:
            w.line("else:  # outside every band")
            w.line(f"    {assign(Q('rt.ZERO'), 0)}")
        return common if common is not None else Q(value, den_var)

    def write_flat_bands(self, curve: ast.Curve, x: Q, band_var: str,
                         assign: Callable[[Q, int], str], writer: _ExprWriter) -> None:
        """Many bands: one flat `if` per band, each taken only while no band has been (an
        `elif` chain nests one level per band, and Python's compiler fails on a few
        thousand levels)."""
        w = self.w
        constants = self.variant.constant_values
        w.line(f"{assign(Q('rt.ZERO'), 0)}  # outside every band, unless one below holds")
        for index, band in enumerate(curve.bands, start=1):
            w.at(band)
            lower, upper = band_bounds(band, constants)
            tests = [f"not {band_var}"]
            if lower is not None and lower.is_finite():
                op = ">=" if band.lower_inclusive else ">"
                tests.append(writer.compare(x, op, Q(self.lit(lower)))[1:-1])
            if upper is not None and upper.is_finite():
                op = "<=" if band.upper_inclusive else "<"
                tests.append(writer.compare(x, op, Q(self.lit(upper)))[1:-1])
            w.line(f"if {' and '.join(tests)}:  # band {index}")
            w.line(f"    {assign(writer.value(band.pays), index)}")

    def write_cap_floor(self, curve: ast.Curve, value: str, factor: Q) -> Q:
        w = self.w
        constants = self.variant.constant_values
        writer = _ExprWriter(self)
        w.at(curve)
        for limit, op in ((curve.cap, ">"), (curve.floor, "<")):
            if limit is None:
                continue
            bound = Q(self.lit(_const(limit, constants)))
            w.line(f"if {writer.compare(factor, op, bound)[1:-1]}:")
            w.line(f"    {value} = {writer.scaled(bound, factor) if factor.d else bound.n}")
        return factor

    def _bound(self, value: Decimal | None) -> str:
        return "None" if value is None or not value.is_finite() else self.lit(value)

    # ---- expressions
    def value(self, e: ast.Expr) -> Q:
        return _ExprWriter(self).value(e)

    def expr(self, e: ast.Expr | None, curve_input: str = "") -> str:
        if e is None:
            return "None"
        return _ExprWriter(self).write(e)


@dataclass(frozen=True)
class Q:
    """An expression's code as an exact fraction: numerator code and positive denominator.

    `d` is None when the value is exact as it stands (no division reached it), which is most
    values: they are written as before. `dv` is the denominator's value when known while
    compiling (a plan written in the scheme), so a comparison with a literal folds into one
    literal. A `stable` denominator is code that reads only names bound before the
    expression, so it may be evaluated in any order; otherwise it reads a temporary the
    numerator binds, and the numerator must be evaluated first.
    """

    n: str
    d: str | None = None
    dv: Decimal | None = None
    stable: bool = True

    @property
    def den(self) -> str:
        return self.d or "rt.ONE"


class _ExprWriter:
    def __init__(self, owner: _VariantWriter, curve_input: Q | None = None) -> None:
        self.owner = owner
        self.curve_input = curve_input or Q("x")

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

    def temp(self) -> str:
        return f"_d{self.owner.next_temp()}"

    def write(self, e: ast.Expr) -> str:
        """The value as one Decimal: exact, or a quotient divided in the context (shown)."""
        return self.shown(self.value(e))

    def shown(self, q: Q) -> str:
        return q.n if q.d is None else f"({q.n} / {q.d})"

    def pair_call(self, code: str) -> Q:
        temp = self.temp()
        return Q(f"({temp} := {code})[0]", f"{temp}[1]", stable=False)

    def times(self, code: str, factor: Q) -> str:
        """code × factor's denominator (code is a literal name when both are known)."""
        if factor.d is None:
            return code
        return f"{code} * {factor.d}"

    def value(self, e: ast.Expr) -> Q:  # one branch per node kind
        o = self.owner
        v = o.variant
        if isinstance(e, ast.Literal):
            return Q(o.lit(e.value))
        if isinstance(e, ast.Ref):
            if e.name in v.constants:
                return o.named(o.ident("c", e.name))
            if e.name in v.kpis:
                return o.named(o.ident("k", e.name))
            return Q(o.ident("f", e.name))
        if isinstance(e, ast.PlanOf):
            return o.named(o.ident("p", e.name))
        if isinstance(e, ast.AttainmentOf):
            return o.named(o.ident("a", e.name))
        if isinstance(e, ast.CurveInput):
            return self.curve_input
        if isinstance(e, ast.TeamAggregate):
            if e.kind == "average":
                return self.pair_call(f"rt.team_average(team, {e.name!r})")
            return Q(f"team[{(e.kind + ':' + e.name)!r}]")
        if isinstance(e, ast.TeamSize):
            return Q("team['size']")
        if isinstance(e, ast.Unary):
            operand = self.value(e.operand)
            if e.op == "+":  # the value itself, exactly (not rounded to the context)
                return operand
            return Q(f"(-{operand.n})", operand.d, operand.dv, operand.stable)
        if isinstance(e, ast.Binary):
            left, right = self.value(e.left), self.value(e.right)
            if e.op == "*":
                return self.product(left, right)
            return self.sum(left, e.op, right)
        if isinstance(e, ast.Division):
            return self.division(e)
        if isinstance(e, ast.Compare):
            op = "==" if e.op == "=" else e.op
            return Q(self.compare(self.value(e.left), op, self.value(e.right)))
        if isinstance(e, ast.Logical):
            return Q(f"({self.write(e.left)} {e.op} {self.write(e.right)})")
        if isinstance(e, ast.Not):
            return Q(f"(not {self.write(e.operand)})")
        if isinstance(e, ast.IfThenElse):
            condition = self.write(e.condition)
            then, otherwise = self.value(e.then), self.value(e.otherwise)
            if then.d is None and otherwise.d is None:
                return Q(f"({then.n} if {condition} else {otherwise.n})")
            temp = self.temp()
            return Q(f"({then.n} if ({temp} := {condition}) else {otherwise.n})",
                     f"({then.den} if {temp} else {otherwise.den})", stable=False)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Round):
            step = _const(e.step, v.constant_values)
            return Q(o.round_q(self.value(e.value), step, e.mode))
        if isinstance(e, ast.CurveCall):
            arg = self.value(e.arg)
            function = o.ids[("curve", e.curve)]
            return self.pair_call(f"{function}_q({arg.n}, {arg.den})")
        raise TypeError(type(e).__name__)

    def product(self, a: Q, b: Q) -> Q:
        n = f"({a.n} * {b.n})"
        if a.d is None and b.d is None:
            return Q(n)
        if b.d is None:
            return Q(n, a.d, a.dv, a.stable)
        if a.d is None:
            return Q(n, b.d, b.dv, b.stable)
        dv = a.dv * b.dv if a.dv is not None and b.dv is not None else None
        return Q(n, f"({a.d} * {b.d})", dv, a.stable and b.stable)

    def sum(self, a: Q, op: str, b: Q) -> Q:
        if a.d is None and b.d is None:
            return Q(f"({a.n} {op} {b.n})")
        if a.d is not None and a.d == b.d and a.stable:
            return Q(f"({a.n} {op} {b.n})", a.d, a.dv)
        if b.d is None and a.stable:  # order: a.n, b.n, then a.d
            return Q(f"({a.n} {op} {self.scaled(b, a)})", a.d, a.dv)
        if a.d is None and b.stable:
            return Q(f"({self.scaled(a, b)} {op} {b.n})", b.d, b.dv)
        helper = "rt.plus" if op == "+" else "rt.minus"
        return self.pair_call(f"{helper}({a.n}, {a.den}, {b.n}, {b.den})")

    def scaled(self, exact: Q, over: Q) -> str:
        """An exact value written over another value's denominator: exact × denominator."""
        if exact.n.startswith("D") and exact.n[1:].isdigit() and \
                self.owner.literal_value(exact.n).is_zero():
            return exact.n  # 0 over any denominator is 0
        if over.dv is not None and exact.n.startswith("D") and exact.n[1:].isdigit():
            value = self.owner.literal_value(exact.n)
            try:
                with decimal.localcontext(EXACT):
                    return self.owner.lit(value * over.dv)
            except ArithmeticError:
                pass
        return f"{exact.n} * {over.d}"

    def compare(self, a: Q, op: str, b: Q) -> str:
        """a op b, exactly: cross-multiplied by the (positive) denominators."""
        if a.d is None and b.d is None:
            return f"({a.n} {op} {b.n})"
        if b.d is None and a.stable:
            return f"({a.n} {op} {self.scaled(b, a)})"
        if a.d is None and b.stable:
            return f"({self.scaled(a, b)} {op} {b.n})"
        if a.stable and b.stable:
            return f"({a.n} * {b.den} {op} {b.n} * {a.den})"
        return f"(rt.compare({a.n}, {a.den}, {b.n}, {b.den}) {op} rt.ZERO)"

    def division(self, e: ast.Division) -> Q:
        o = self.owner
        left, right = self.value(e.left), self.value(e.right)
        static = o.static(e.right)
        if e.otherwise is None and static is not None and static > 0 and right.d is None:
            # a positive divisor known when compiling: no sign to normalise, nothing to fail
            den = right.n if left.d is None else f"({left.d} * {right.n})"
            dv = static if left.d is None else (left.dv * static if left.dv is not None else None)
            return Q(left.n, den, dv, left.stable)
        if e.otherwise is None:
            return self.pair_call(self.quotient(left, right.n, right))
        otherwise = self.value(e.otherwise)
        zero = self.temp()
        temp = self.temp()
        return Q(f"({temp} := ({self.quotient(left, zero, right)} "
                 f"if ({zero} := {right.n}) else ({otherwise.n}, {otherwise.den})))[0]",
                 f"{temp}[1]", stable=False)

    def quotient(self, left: Q, right_n: str, right: Q) -> str:
        """The runtime call giving left ÷ right as (numerator, positive denominator); no
        operand is multiplied by one (a 50-digit projected fact stays as it is)."""
        if left.d is None and right.d is None:
            return f"rt.quotient({left.n}, {right_n})"
        if right.d is None:
            return f"rt.quotient({left.n}, {left.d} * {right_n})" if left.stable else \
                f"rt.divide({left.n}, {left.d}, {right_n}, rt.ONE)"
        if left.d is None and right.stable:
            return f"rt.quotient({left.n} * {right.d}, {right_n})"
        return f"rt.divide({left.n}, {left.den}, {right_n}, {right.den})"

    def call(self, e: ast.Call) -> Q:
        o = self.owner
        values = [self.value(a) for a in e.args]
        if e.function == "abs":
            (arg,) = values
            return Q(f"abs({arg.n})", arg.d, arg.dv, arg.stable)
        if all(q.d is None for q in values):
            if len(values) == 2 and self.never_none(e.args):
                # max(a, b) written out: b when b > a, else a, as the builtin decides, with
                # a and b evaluated once and in order; no call, ~5 % of an evaluation
                first, second = f"_d{o.next_temp()}", f"_d{o.next_temp()}"  # temporaries
                compare = "<" if e.function == "max" else ">"
                return Q(f"({second} if ({first} := {values[0].n}) {compare} "
                         f"({second} := {values[1].n}) else {first})")
            return Q(f"{e.function}({', '.join(q.n for q in values)})")
        helper = "rt.smallest" if e.function == "min" else "rt.largest"
        flat = ", ".join(f"{q.n}, {q.den}" for q in values)
        return self.pair_call(f"{helper}({flat})")


def _no_plan(kpi: ast.Kpi | None) -> bool:
    return kpi is None or kpi.plan is None


def _const(expr: ast.Expr | None, constants: dict[str, Decimal]) -> Decimal:
    from .checks.fold import fold

    value = fold(expr, constants)
    if value is None:  # the checker refuses non-constant bounds before code is generated
        raise ValueError("expected a constant")
    return value
