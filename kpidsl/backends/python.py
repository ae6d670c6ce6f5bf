"""The Python backend: the lowered form → readable Python source, with a line map to the .kpi.

Stages (docs/architecture.md): `lower` decides the pay semantics (kpidsl/lower.py), the
optimiser finds what is known while compiling (kpidsl/optimise.py), and this module only
prints: it decides no semantics and folds nothing on its own.

Nothing written in a scheme reaches the generated code except through `repr()` (the text
of every number, which becomes `Decimal('...')`, and fact names as dictionary keys) or as a
mangled identifier built from a fixed prefix and a position (`k3`, with the scheme's own
name only in comments when it is plain ASCII). The code imports only `decimal` and
`kpidsl.runtime`.

Exactness (docs/language.md, "Exact arithmetic"): a quotient is carried as numerator and
positive denominator (`Q`), and divided once, rounded to odd (the evaluators run in
`runtime.ODD`), where the scheme rounds or compares it.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from .. import lower as lo
from ..checks import CheckedRuleset
from ..evaluator import Layout
from ..optimise import EXACT, Optimised, optimise
from ..runtime import CONTEXT, ROUNDING_MODES, is_fraction_step, round_to

# A curve with more bands than this is written as flat `if` statements, not an `elif` chain
# (which nests one level per band: Python's compiler fails at a few thousand).
FLAT_BANDS = 64

_SAFE_COMMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_LITERAL = re.compile(r"D[0-9]+")  # a hoisted Decimal literal's name


@dataclass
class Writer:
    """Accumulates lines and records, for each, the .kpi line it came from."""

    lines: list[str] = field(default_factory=list)
    line_map: dict[int, int] = field(default_factory=dict)  # python line → kpi line
    indent: int = 0
    current: int = 0

    def at(self, line: int) -> None:
        if line:
            self.current = line

    def comment(self, text: str) -> None:
        self.line(f"# {text} (line {self.current})" if self.current else f"# {text}")

    def line(self, text: str = "", prefix: str = "") -> None:
        text = prefix + text
        self.lines.append(("    " * self.indent + text) if text else "")
        if self.current:
            self.line_map[len(self.lines)] = self.current

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class Body:
    """A variant's evaluator between its facts and its return, for the loop over a batch of
    rows that kpidsl.batch prints around it: the lines (at the function's indentation, the
    reading of each fact left out), the facts' names in the code in the order of the
    variant's facts, and the expressions of the payments and of the total."""

    lines: tuple[str, ...]
    facts: tuple[str, ...]
    pays: tuple[str, ...]
    total: str


@dataclass
class Generated:
    source: str
    line_map: dict[int, int]
    functions: dict[str, str]  # variant → function name
    layouts: dict[str, Layout]
    bodies: dict[str, Body] = field(default_factory=dict)  # variant → body (not traced)


def label_comment(name: str) -> str:
    # fullmatch: with match, '$' also accepts a trailing newline, which would end the comment
    return name if _SAFE_COMMENT.fullmatch(name) else "(non-ASCII name)"


class _Literals:
    """Decimal literals hoisted to module level: built once, shared by every evaluation."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Decimal] = {}
        self.tuples: dict[str, str] = {}  # "(D1, D2, )" → T0

    def tuple_of(self, codes: list[str]) -> str:
        """A tuple of literals, built once at module level (an evaluation returns it as it
        is instead of building it: measured, ~0.1 µs an employee on b2b_manager)."""
        code = f"({''.join(c + ', ' for c in codes)})"
        if code not in self.tuples:
            self.tuples[code] = f"T{len(self.tuples)}"
        return self.tuples[code]

    def get(self, value: Decimal) -> str:
        text = str(value)
        if text not in self.names:
            self.names[text] = f"D{len(self.names)}"
            self.values[self.names[text]] = value
        return self.names[text]


def generate(checked: CheckedRuleset, trace: bool = False) -> Generated:
    """Lower, optimise and print a checked (error-free) scheme."""
    return print_program(lo.lower(checked), checked.source.name, trace)


def print_program(program: lo.Program, source_name: str = "", trace: bool = False
                  ) -> Generated:
    """The module of a lowered program: one evaluator function per variant.

    With `trace`, each function takes a fourth argument, `trace(kind, key, *values)`, and
    calls it with every intermediate value it computes (kpidsl/trace.py reads them). That
    is a module of its own, compiled only when a trace is asked for: the evaluators every
    run uses are printed without a single trace call, so tracing costs them nothing.
    """
    w = Writer()
    literals = _Literals()
    body = Writer()
    functions: dict[str, str] = {}
    layouts: dict[str, Layout] = {}
    bodies: dict[str, Body] = {}
    for index, (name, variant) in enumerate(program.variants.items()):
        function = f"evaluate_{index}"
        functions[name] = function
        writer = _VariantWriter(program, optimise(variant), body, literals, index, trace)
        layouts[name] = writer.write(function)
        if not trace and writer.body is not None:
            bodies[name] = writer.body
    w.line(f"# Evaluator for scheme {label_comment(program.scheme)} "
           f"(generated from {label_comment(_basename(source_name))})"
           + (", recording a trace." if trace else "."))
    w.line("# Generated code: review it, do not edit it. "
           "Comments give the .kpi line of each block.")
    w.line("from decimal import Decimal")
    w.line("")
    w.line("from kpidsl import runtime as rt")
    w.line("")
    w.line(f"SCHEME = {program.scheme!r}")
    w.line(f"CURRENCY = {program.currency!r}")
    for text, ident in literals.names.items():
        w.line(f"{ident} = Decimal({text!r})")
    for code, ident in literals.tuples.items():
        w.line(f"{ident} = {code}")
    w.line("")
    offset = len(w.lines)
    w.lines.extend(body.lines)
    for py_line, kpi_line in body.line_map.items():
        w.line_map[py_line + offset] = kpi_line
    w.line("")
    w.line(f"EVALUATORS = {{{', '.join(f'{k!r}: {v}' for k, v in functions.items())}}}")
    return Generated(w.source(), w.line_map, functions, layouts, bodies)


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


class _VariantWriter:
    def __init__(self, program: lo.Program, optimised: Optimised, w: Writer,
                 literals: _Literals, index: int, trace: bool = False) -> None:
        self.trace = trace
        self.body: Body | None = None  # set by `write`
        self.context = ""  # what a traced curve call is part of: "kpi:name", "pay:name"
        # what a traced choice is recorded under, besides where it is written: None in the
        # variant's function, the caller's key inside a curve (one curve serves many lines)
        self.scope = "None"
        self.pools_traced: set[str] = set()
        self.program = program
        self.optimised = optimised
        self.variant = optimised.variant
        self.kpis = {k.name: k for k in self.variant.kpis}
        self.payout = program.payout
        self.w = w
        self.literals = literals
        self.prefix = f"v{index}_"
        self.ids: dict[tuple[str, str], str] = {}
        self.quotients: dict[str, Q] = {}  # named values kept as exact fractions
        self.temps = 0
        self.line_columns: dict[str, dict[str, str]] = {}  # line → column → code
        self.known: dict[str, str] = {}  # a name assigned a literal once → the literal

    def record(self, kind: str, key: object, *codes: str) -> None:
        """In a tracing module: `trace(kind, key, values...)` (nothing otherwise)."""
        if self.trace:
            self.w.line(f"trace({kind!r}, {key!r}{''.join(', ' + c for c in codes)})")

    def record_q(self, ident: str) -> tuple[str, str]:
        q = self.named(ident)
        return q.n, q.den

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

    # ---- values known when compiling (the optimiser's): computed once, not per employee
    def static(self, expr: lo.Expr | None) -> Decimal | None:
        return self.optimised.value(expr)

    def static_round(self, value: Decimal | None) -> Decimal | None:
        """A payout rounded as `round_payout` code rounds it (rt.round_to is that rounding)."""
        if value is None:
            return None
        try:
            with decimal.localcontext(CONTEXT):
                return round_to(value, self.payout.step, self.payout.mode.value)
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
            if _LITERAL.fullmatch(q.n):
                self.known[ident] = q.n
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
        curve_functions = {name: self.write_curve(curve) for name, curve in v.curves.items()}
        self.curve_functions = curve_functions
        w.current = 0
        w.line(f"def {function}(facts, team, month{', trace' if self.trace else ''}):")
        w.indent += 1
        start = len(w.lines)
        reads: set[int] = set()  # the lines reading a fact: a batch's loop reads them at once
        w.line(f"# grade {label_comment(v.name)}")
        for let in v.lets:
            self.context = f"let:{let.name}"
            w.at(let.line)
            ident = self.ident("c", let.name)
            inlined = self.optimised.inlined.get(let.name)
            if inlined is not None:  # a number: written where it is read (the optimiser's)
                w.comment(f"constant {label_comment(let.name)} = {self.lit(inlined)}, "
                          "written where it is read")
                self.record("let", let.name, self.lit(inlined), "rt.ONE")
                continue
            w.comment(f"constant {label_comment(let.name)}")
            self.assign(ident, self.monthly(let.value))
            self.record("let", let.name, *self.record_q(ident))
        for fact in v.facts:
            w.at(fact.line)
            reads.add(len(w.lines))
            w.line(f"{self.ident('f', fact.name)} = facts[{fact.name!r}]")
            self.record("fact", fact.name, self.ident("f", fact.name))
        for kpi in v.kpis:
            self.context = f"kpi:{kpi.name}"
            w.at(kpi.line)
            w.comment(f"kpi {label_comment(kpi.name)}")
            # A formula may read its own plan (`kpi x = plan of x`): then the plan comes first,
            # or the generated code would read it before assigning it.
            own_plan = any(isinstance(n, lo.PlanValue) and n.name == kpi.name
                           for n in lo.walk(kpi.value))
            if own_plan:
                self.write_plan(kpi)
            w.at(kpi.line)
            self.assign(self.ident("k", kpi.name), self.value(kpi.value))
            if not own_plan:
                self.write_plan(kpi)
            w.at(kpi.attainment.line if kpi.attainment_rule is lo.AttainmentRule.FORMULA
                 and kpi.attainment is not None else kpi.line)
            self.write_attainment(kpi)
            self.record("kpi", kpi.name, *self.record_q(self.ident("k", kpi.name)),
                        *self.record_q(self.ident("p", kpi.name)),
                        *self.record_q(self.ident("a", kpi.name)))
        lines: list[tuple[str, str]] = []
        pays: list[str] = []
        for pay in v.payments:
            self.context = f"pay:{pay.name}"
            w.at(pay.line)
            w.comment(f"pay {label_comment(pay.name)}")
            target = self.ident("pay", pay.name)
            if pay.formula is None:
                parts = []
                for item in pay.lines:
                    parts.append(self.write_item(pay, item))
                    lines.append((pay.name, item.kpi))
                w.at(pay.line)
                w.line(f"{target} = {' + '.join(p + '_amount' for p in parts)}")
                self.record("pay", pay.name, target, "rt.ONE", target)  # before its gates
            else:
                formula = self.value(pay.formula)
                if self.trace:  # the exact value before rounding, computed once
                    w.line(f"{target}_n, {target}_d = {formula.n}, {formula.den}")
                    formula = Q(f"{target}_n", f"{target}_d")
                code = self.round_q(formula, self.payout)
                value = self.static_round(self.static(pay.formula))
                w.line(code if value is None else f"{self.lit(value)}  # = {code}, computed once",
                       prefix=f"{target} = ")
                self.record("pay", pay.name, formula.n, formula.den, target)
            for index, gate in enumerate(pay.gates):
                self.write_gate(gate, target, index, pay.name)
            pays.append(pay.name)
        w.current = 0
        names = [k.name for k in v.kpis]
        total = " + ".join(self.ident("pay", p) for p in pays) or "rt.ZERO"
        self.body = Body(tuple(line for at, line in enumerate(w.lines[start:], start)
                               if at not in reads),
                         tuple(self.ident("f", fact.name) for fact in v.facts),
                         tuple(self.ident("pay", p) for p in pays), total)
        w.line("return rt.output((")
        w.indent += 1
        w.line(self.tuple_code([self.output(self.ident("k", k)) for k in names], "KPI values"))
        w.line(self.tuple_code([self.output(self.ident("p", k)) for k in names], "plans"))
        w.line(self.tuple_code([self.output(self.ident("a", k)) for k in names],
                               "attainments"))
        dens = [self.denominator(self.ident(kind, k)) for kind in "kpa" for k in names]
        line_ids = [self.ident("line", f"{p}\x00{k}") for p, k in lines]
        for column, suffix in (("shares", "_share"), ("factors", "_factor"),
                               ("factor denominators", "_factor_d"), ("bands", "_band"),
                               ("amounts", "_amount"), ("gates", "_gate")):
            values = [self.line_columns[i][suffix] for i in line_ids]
            w.line(self.tuple_code(values, f"lines: {column}"))
        w.line(self.tuple_code([self.ident("pay", p) for p in pays], "payments"))
        w.line(f"{total},  # total")
        if any(d != "None" for d in dens):  # the values above that are numerators
            w.line(self.tuple_code(dens, "denominators"))
        else:
            w.line("None,  # denominators: every value above is exact")
        w.indent -= 1
        w.line("))")
        w.indent -= 1
        w.line("")
        return Layout(names, lines, pays, dict(curve_functions))

    def tuple_code(self, codes: list[str], what: str) -> str:
        """`(a, b, ),  # what`; a tuple whose every item is known while compiling is built
        once at module level (`T0,  # what: (D1, D2, ), known while compiling`)."""
        known = [c if c == "None" else self.known.get(c, "") for c in codes]
        if codes and all(known):
            items = ''.join(c + ', ' for c in codes)
            return f"{self.literals.tuple_of(known)},  # {what}: ({items}), known while compiling"
        return f"({''.join(c + ', ' for c in codes)}),  # {what}"

    def monthly(self, monthly: lo.Monthly) -> Q:
        default = self.value(monthly.value)
        if not monthly.by_month:
            return default
        values = [(month, self.value(value)) for month, value in monthly.by_month]
        table = ", ".join(f"{month}: {q.n}" for month, q in values)
        if default.d is None and all(q.d is None for _month, q in values):
            return Q(f"{{{table}}}.get(month, {default.n})")
        dens = ", ".join(f"{month}: {q.den}" for month, q in values)
        return Q(f"{{{table}}}.get(month, {default.n})", f"{{{dens}}}.get(month, {default.den})",
                 stable=False)

    def write_plan(self, kpi: lo.Kpi) -> None:
        plan = self.ident("p", kpi.name)
        if kpi.plan is not None:
            self.w.at(kpi.plan.value.line)
            self.assign(plan, self.monthly(kpi.plan))
        else:
            self.w.line(f"{plan} = None")
            self.known[plan] = "None"

    def write_attainment(self, kpi: lo.Kpi) -> None:
        """Value ÷ plan kept as a fraction (shown by Results): nothing to compute at all when
        the plan is a positive number written in the scheme."""
        w = self.w
        target = self.ident("a", kpi.name)
        value, plan = self.named(self.ident("k", kpi.name)), self.named(self.ident("p", kpi.name))
        writer = _ExprWriter(self)
        rule = kpi.attainment_rule
        if rule is lo.AttainmentRule.FORMULA:
            q = self.value(kpi.attainment)  # type: ignore[arg-type]
        elif rule is lo.AttainmentRule.NONE:
            w.line(f"{target} = None")
            return
        elif rule is lo.AttainmentRule.LOWER_IS_BETTER:
            q = Q(f"{target}_n", f"{target}_d")
            w.line(f"{target}_n, {target}_d = rt.lower_is_better_q({value.n}, {value.den}, "
                   f"{plan.n}, {plan.den})")
            if self.trace:  # 2 − value ÷ plan before "at least 0", as (numerator, denominator)
                self.record("unclamped", kpi.name,
                            f"{self.lit(Decimal(2))} * {value.den} * {plan.n} - {value.n} * "
                            f"{plan.den}", f"{value.den} * {plan.n}")
        else:
            assert kpi.plan is not None
            static = self.static(kpi.plan.value) if not kpi.plan.by_month else None
            if value.d is None and static is not None and static > 0:
                q = Q(value.n, plan.n, static)
            else:
                q = Q(f"{target}_n", f"{target}_d")  # a zero plan fails here, as `/` does
                w.line(f"{target}_n, {target}_d = {writer.quotient(value, plan.n, plan)}")
        if self.trace:  # before `round attainment`
            self.record("attainment", kpi.name, q.n, q.den)
        if kpi.rounding is not None:
            w.line(f"{target} = {self.round_q(q, kpi.rounding)}")
        elif q.d is not None and q.stable:
            self.quotients[target] = q
        else:
            self.assign(target, q)

    def round_q(self, q: Q, rounding: lo.Rounding) -> str:
        """The exact value of q rounded to `step` once."""
        step, mode = rounding.step, rounding.mode.value
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
        return self.round_with(text, self.payout.step, self.payout.mode.value)

    def write_item(self, pay: lo.Payment, item: lo.PayLine) -> str:
        w = self.w
        w.at(item.line)
        line = self.ident("line", f"{pay.name}\x00{item.kpi}")
        pool = f"{self.ident('pay', pay.name)}_pool"
        if item.weight is not None and not self._pool_written(pay) and \
                not isinstance(pay.pool, lo.Number):  # a number is written where it is read
            assert pay.pool is not None
            w.at(pay.pool.line)
            self.assign(pool, self.value(pay.pool))
            w.at(item.line)
        pool_q = self.value(pay.pool) if isinstance(pay.pool, lo.Number) else self.named(pool)
        share_q = self.value(item.share) if item.weight is None else \
            _ExprWriter(self).product(self.value(item.weight), pool_q)
        if self.trace and item.weight is not None and pay.name not in self.pools_traced:
            self.pools_traced.add(pay.name)
            self.record("pool", pay.name, pool_q.n, pool_q.den)
        curve = self.curve_functions[item.curve]
        w.comment(f"line {label_comment(pay.name)} for {label_comment(item.kpi)}")
        value = self.static(item.share)
        share_id = f"{line}_share"
        if value is not None:
            share_code = _ExprWriter(self).shown(share_q)
            w.line(f"{share_id} = {self.lit(value)}  # = {share_code}, computed once")
            self.known[share_id] = self.lit(value)
            share = Q(share_id)
        else:
            self.assign(share_id, share_q)
            share = self.named(share_id)
        curve_form = self.variant.curves[item.curve]
        x = self.named(self.ident("a", item.kpi))
        factor_id = f"{line}_factor"
        if self.inlinable(curve_form):
            comment = f"  # curve {label_comment(curve_form.name)}, as {curve} computes it"
            if x.d is not None and not (x.stable and x.d.isidentifier()):
                w.line(f"x, x_d = {x.n}, {x.d}{comment}")
                x = Q("x", "x_d", x.dv)
            else:
                w.line(f"x = {x.n}{comment}")
                x = Q("x", x.d, x.dv)
            factor = self.write_bands(curve_form, factor_id, f"{line}_band", x)
            self.write_cap_floor(curve_form, factor_id, factor)
            w.at(item.line)
        else:
            traced = f", trace, {(pay.name, item.kpi)!r}" if self.trace else ""
            w.line(f"{factor_id}, {factor_id}_d, {line}_band = "
                   f"{curve}_q({x.n}, {x.den}{traced})")
            factor = Q(factor_id, f"{factor_id}_d")
        key = (pay.name, item.kpi)
        if self.trace:  # the factor and the amount before the line's gates
            product = _ExprWriter(self).product(share, factor)
            self.record("factor", key, factor.n, factor.den, product.n, product.den,
                        self.round_q(product, self.payout))
        if item.gates:
            w.line(f"{line}_gate = ''")
        for index, gate in enumerate(item.gates):
            factor = self.write_item_gate(gate, line, factor, key, index)
        w.at(item.line)
        shown_share = share.n if share.d is None else f"({share.n}, {share.d})"  # rare
        amount = self.round_q(_ExprWriter(self).product(share, factor), self.payout)
        factor_d = str(factor.d)
        if factor.d is not None and (factor.d in ("x", "x_d") or not factor.d.isidentifier()):
            # read again when the evaluator returns, after later lines reuse x and x_d
            w.line(f"{line}_factor_d = {factor.d}")
            factor_d = f"{line}_factor_d"
        w.line(f"{line}_amount = {amount}")
        if self.trace:
            self.record("line", key, share.n, share.den, x.n, x.den, factor.n, factor.den,
                        f"{line}_band", f"{line}_amount")
        self.line_columns[line] = {"_share": shown_share, "_factor": factor.n,
                                   "_factor_d": factor_d, "_band": f"{line}_band",
                                   "_amount": f"{line}_amount",
                                   "_gate": f"{line}_gate" if item.gates else "''"}
        for index, gate in enumerate(item.gates):
            if gate.target is lo.GateTarget.AMOUNT:
                self.write_money_gate_on_line(gate, line, key, index)
        return line

    def _pool_written(self, pay: lo.Payment) -> bool:
        key = ("pool", pay.name)
        if key in self.ids:
            return True
        self.ids[key] = "written"
        return False

    def gate_applied(self, key: object, index: int, *limit: str) -> None:
        """Inside a gate's `if`: the trace says which gate applied, and at what limit (the
        limit's numerator and denominator; a money limit rounded to the payout step)."""
        if self.trace:
            self.w.indent += 1
            self.record("gate", key, str(index), *limit)
            self.w.indent -= 1

    def write_item_gate(self, gate: lo.Gate, line: str, factor: Q, key: object = None,
                        index: int = 0) -> Q:
        """A gate on a line's factor; returns the factor as the code after it reads it."""
        w = self.w
        w.at(gate.line)
        factor_id = f"{line}_factor"
        if gate.target is lo.GateTarget.LINE:
            w.line(f"if not ({self.expr(gate.value)}):")
            w.line(f"    {factor_id}, {line}_gate = rt.ZERO, 'withheld'")
            self.gate_applied(key, index)
            return factor
        if gate.target is lo.GateTarget.AMOUNT:
            return factor  # applied to the amount once it is computed
        limit = self.value(gate.value)
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare, word = (">", "capped") if gate.kind is lo.GateKind.CAP else ("<", "floored")
        writer = _ExprWriter(self)
        if factor.d is not None and factor.d != f"{factor_id}_d":
            # the factor's denominator becomes a variable the gate may replace
            w.line(f"{factor_id}_d = {factor.d}")
            factor = Q(factor_id, f"{factor_id}_d")
        w.line(f"if {writer.compare(factor, compare, limit)}{unless}:")
        self.gate_applied(key, index, limit.n, limit.den)
        if factor.d is None and limit.d is None:
            w.line(f"    {factor_id}, {line}_gate = {limit.n}, {word!r}")
            return factor
        if factor.d is None:
            w.line(f"    {factor_id}_d = rt.ONE")
            factor = Q(factor_id, f"{factor_id}_d")
        w.line(f"    {factor_id}, {factor_id}_d, {line}_gate = {limit.n}, {limit.den}, {word!r}")
        return factor

    def write_money_gate_on_line(self, gate: lo.Gate, line: str, key: object = None,
                                 index: int = 0) -> None:
        w = self.w
        w.at(gate.line)
        limit = self.round_q(self.value(gate.value), self.payout)
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare, word = (">", "capped") if gate.kind is lo.GateKind.CAP else ("<", "floored")
        w.line(f"if {line}_amount {compare} {limit}{unless}:")
        self.gate_applied(key, index, limit, "rt.ONE")
        w.line(f"    {line}_amount, {line}_gate = {limit}, {word!r}")

    def write_gate(self, gate: lo.Gate, target: str, index: int = 0, key: str = "") -> None:
        w = self.w
        w.at(gate.line)
        if gate.kind is lo.GateKind.ONLY_IF:
            w.line(f"if not ({self.expr(gate.value)}):")
            self.gate_applied(key, index)
            w.line(f"    {target} = {self.round_payout('rt.ZERO')}")
            return
        limit = self.round_q(self.value(gate.value), self.payout)
        unless = f" and not ({self.expr(gate.unless)})" if gate.unless is not None else ""
        compare = ">" if gate.kind is lo.GateKind.CAP else "<"
        w.line(f"if {target} {compare} {limit}{unless}:")
        self.gate_applied(key, index, limit, "rt.ONE")
        w.line(f"    {target} = {limit}")

    # ---- curves
    def write_curve(self, curve: lo.Curve) -> str:
        """`name_q(x, x_d)`: the factor of the attainment x ÷ x_d as (numerator, positive
        denominator, band); `name = rt.shown_curve(name_q)` for charts and tables."""
        w = self.w
        name = f"{self.prefix}curve{len([k for k in self.ids if k[0] == 'curve'])}"
        self.ids[("curve", curve.name)] = name
        w.at(curve.line)
        w.comment(f"curve {label_comment(curve.name)}")
        w.line(f"def {name}_q(x, x_d{', trace=None, key=None' if self.trace else ''}):")
        w.indent += 1
        self.scope = "key"
        factor = curve.kind.write_python(self, curve)  # the kind's own code (kpidsl/curvekinds)
        if self.trace:
            w.line("if trace is not None:")
            w.line(f"    trace('curve', key, x, x_d, value, {factor.den}, band)")
        factor = self.write_cap_floor(curve, "value", factor)
        if self.trace and (curve.cap is not None or curve.floor is not None):
            w.line("if trace is not None:")
            w.line(f"    trace('limited', key, value, {factor.den})")
        w.line(f"return value, {factor.den}, band")
        self.scope = "None"
        w.indent -= 1
        w.line(f"{name} = rt.shown_curve({name}_q)")
        w.line("")
        return name

    def rate(self, expr: lo.Expr) -> Decimal:
        value = self.static(expr)
        if value is None:  # the checker refuses non-constant rates before code is generated
            raise ValueError("expected a constant")
        return value

    def inlinable(self, curve: lo.Curve) -> bool:
        """A curve of bands paying only numbers and the attainment is written out where a pay
        line uses it (no call, no tuple per line); anything else is called."""
        if not curve.kind.inlinable or self.trace:  # a trace has the curve call record it
            return False
        allowed = (lo.Number, lo.CurveInput, lo.Negate, lo.Binary)
        return all(isinstance(n, allowed) for band in curve.bands for n in lo.walk(band.pays))

    def write_bands(self, curve: lo.Curve, value: str, band_var: str, x: Q) -> Q:
        """The if/elif chain of a curve's bands over `x`, setting `value` and `band_var`;
        returns the value as a fraction (its denominator the same in every band, or
        `value_d`)."""
        w = self.w
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
            w.at(band.line)
            lower, upper = band.lower, band.upper
            tests = []
            follows = handled is not None and lower is not None and \
                handled[0] == lower and handled[1] != band.lower_inclusive
            if lower is not None and not follows:
                op = ">=" if band.lower_inclusive else ">"
                tests.append(writer.compare(x, op, Q(self.lit(lower)))[1:-1])
            if upper is not None:
                op = "<=" if band.upper_inclusive else "<"
                tests.append(writer.compare(x, op, Q(self.lit(upper)))[1:-1])
            contiguous = lower is None or follows
            handled = (upper, band.upper_inclusive) if contiguous and upper is not None \
                else None
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

    def write_flat_bands(self, curve: lo.Curve, x: Q, band_var: str,
                         assign: Callable[[Q, int], str], writer: _ExprWriter) -> None:
        """Many bands: one flat `if` per band, each taken only while no band has been (an
        `elif` chain nests one level per band, and Python's compiler fails on a few
        thousand levels)."""
        w = self.w
        w.line(f"{assign(Q('rt.ZERO'), 0)}  # outside every band, unless one below holds")
        for index, band in enumerate(curve.bands, start=1):
            w.at(band.line)
            tests = [f"not {band_var}"]
            if band.lower is not None:
                op = ">=" if band.lower_inclusive else ">"
                tests.append(writer.compare(x, op, Q(self.lit(band.lower)))[1:-1])
            if band.upper is not None:
                op = "<=" if band.upper_inclusive else "<"
                tests.append(writer.compare(x, op, Q(self.lit(band.upper)))[1:-1])
            w.line(f"if {' and '.join(tests)}:  # band {index}")
            w.line(f"    {assign(writer.value(band.pays), index)}")

    def write_cap_floor(self, curve: lo.Curve, value: str, factor: Q) -> Q:
        w = self.w
        writer = _ExprWriter(self)
        w.at(curve.line)
        for limit, op in ((curve.cap, ">"), (curve.floor, "<")):
            if limit is None:
                continue
            bound = Q(self.lit(limit))
            w.line(f"if {writer.compare(factor, op, bound)[1:-1]}:")
            w.line(f"    {value} = {writer.scaled(bound, factor) if factor.d else bound.n}")
        return factor

    def bound(self, value: Decimal | None) -> str:
        return "None" if value is None else self.lit(value)

    # ---- expressions
    def value(self, e: lo.Expr) -> Q:
        return _ExprWriter(self).value(e)

    def expr(self, e: lo.Expr | None) -> str:
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

    def never_none(self, args: tuple[lo.Expr, ...]) -> bool:
        """No operand can be None (the plan or attainment of a KPI without a plan), so a
        comparison fails, if ever, exactly as the builtin's would."""
        kpis = self.owner.kpis
        for node in (n for a in args for n in lo.walk(a)):
            if isinstance(node, lo.PlanValue) and _no_plan(kpis.get(node.name)):
                return False
            if isinstance(node, lo.AttainmentValue) and _no_plan(kpis.get(node.name)) and \
                    getattr(kpis.get(node.name), "attainment", None) is None:
                return False
        return True

    def temp(self) -> str:
        return f"_d{self.owner.next_temp()}"

    def write(self, e: lo.Expr) -> str:
        """The value as one Decimal: exact, or a quotient divided in the context (shown)."""
        return self.shown(self.value(e))

    def shown(self, q: Q) -> str:
        return q.n if q.d is None else f"({q.n} / {q.d})"

    def chosen(self, at: tuple[int, int] | None, test: str) -> str:
        """A choice's test; in a tracing module it also records which way the choice went
        (`trace('branch', (scope, at), value)`: true took `then`, or divided)."""
        o = self.owner
        if not o.trace or at is None:
            return test
        temp = self.temp()
        call = f"trace('branch', ({o.scope}, {at!r}), {temp})"
        if o.scope != "None":  # a curve is also called without a trace (charts, tables)
            call = f"trace is not None and {call}"
        return f"(({temp} := {test}), {call})[0]"

    def pair_call(self, code: str) -> Q:
        temp = self.temp()
        return Q(f"({temp} := {code})[0]", f"{temp}[1]", stable=False)

    def value(self, e: lo.Expr) -> Q:  # one branch per kind of the lowered form
        o = self.owner
        match e:
            case lo.Number():
                return Q(o.lit(e.value))
            case lo.ConstantValue():
                inlined = o.optimised.inlined.get(e.name)
                if inlined is not None:
                    return Q(o.lit(inlined))
                return o.named(o.ident("c", e.name))
            case lo.KpiValue():
                return o.named(o.ident("k", e.name))
            case lo.FactValue():
                return Q(o.ident("f", e.name))
            case lo.PlanValue():
                return o.named(o.ident("p", e.name))
            case lo.AttainmentValue():
                return o.named(o.ident("a", e.name))
            case lo.CurveInput():
                return self.curve_input
            case lo.TeamValue():
                if e.aggregate is lo.Aggregate.AVERAGE:
                    return self.pair_call(f"rt.team_average(team, {e.fact!r})")
                return Q(f"team[{(e.aggregate.value + ':' + e.fact)!r}]")
            case lo.TeamSize():
                return Q("team['size']")
            case lo.Negate():
                operand = self.value(e.operand)
                return Q(f"(-{operand.n})", operand.d, operand.dv, operand.stable)
            case lo.Binary():
                left, right = self.value(e.left), self.value(e.right)
                if e.op is lo.BinaryOp.MUL:
                    return self.product(left, right)
                return self.sum(left, e.op.value, right)
            case lo.Division():
                return self.division(e)
            case lo.Compare():
                op = "==" if e.op is lo.CompareOp.EQ else e.op.value
                return Q(self.compare(self.value(e.left), op, self.value(e.right)))
            case lo.Logic():
                return Q(f"({self.write(e.left)} {e.op.value} {self.write(e.right)})")
            case lo.Not():
                return Q(f"(not {self.write(e.operand)})")
            case lo.Choose():
                condition = self.chosen(e.at, self.write(e.condition))
                then, otherwise = self.value(e.then), self.value(e.otherwise)
                if then.d is None and otherwise.d is None:
                    return Q(f"({then.n} if {condition} else {otherwise.n})")
                temp = self.temp()
                return Q(f"({then.n} if ({temp} := {condition}) else {otherwise.n})",
                         f"({then.den} if {temp} else {otherwise.den})", stable=False)
            case lo.Call():
                return self.call(e)
            case lo.Rounded():
                return Q(o.round_q(self.value(e.value), e.rounding))
            case lo.CurveValue():
                arg = self.value(e.arg)
                function = o.ids[("curve", e.curve)]
                traced = f", trace, {('call', e.curve, o.context)!r}" if o.trace else ""
                return self.pair_call(f"{function}_q({arg.n}, {arg.den}{traced})")
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

    def division(self, e: lo.Division) -> Q:
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
        test = self.chosen(e.at, f"({zero} := {right.n})")
        return Q(f"({temp} := ({self.quotient(left, zero, right)} "
                 f"if {test} else ({otherwise.n}, {otherwise.den})))[0]",
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

    def call(self, e: lo.Call) -> Q:
        o = self.owner
        values = [self.value(a) for a in e.args]
        if e.function is lo.Function.ABS:
            (arg,) = values
            return Q(f"abs({arg.n})", arg.d, arg.dv, arg.stable)
        if all(q.d is None for q in values):
            if len(values) == 2 and self.never_none(e.args):
                # max(a, b) written out: b when b > a, else a, as the builtin decides, with
                # a and b evaluated once and in order; no call, ~5 % of an evaluation
                first, second = f"_d{o.next_temp()}", f"_d{o.next_temp()}"  # temporaries
                compare = "<" if e.function is lo.Function.MAX else ">"
                return Q(f"({second} if ({first} := {values[0].n}) {compare} "
                         f"({second} := {values[1].n}) else {first})")
            return Q(f"{e.function.value}({', '.join(q.n for q in values)})")
        helper = "rt.smallest" if e.function is lo.Function.MIN else "rt.largest"
        flat = ", ".join(f"{q.n}, {q.den}" for q in values)
        return self.pair_call(f"{helper}({flat})")


def _no_plan(kpi: lo.Kpi | None) -> bool:
    return kpi is None or kpi.plan is None
