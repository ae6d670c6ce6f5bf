"""The lowered form (kpidsl/lower.py) → one SQL query per variant (a sqlglot tree), exact to the
kopeck in every dialect.

It reads the same lowered program the Python backend prints (kpidsl/backends/python.py) and
nothing of the checked tree: `lower.py` decides the pay semantics once (gates and their
targets, a payment's `only if` copied into its lines, attainment rules, roundings, curve
bounds folded), and this module decides only how SQL engines compute them exactly.

Every number is a fraction num ÷ (dyn × k) of integers: `k` is a positive constant known when
compiling (10**6 for a fact, 3 000 000 for a plan), `dyn` a positive integer column or
expression present only after a division by something the facts decide. Nothing is divided
until a pay line (or a declared `round`) rounds: the quotient is then taken once, as integer
division, and the scheme's rounding mode is applied from the remainder. Comparisons are
cross-multiplied. Each integer's largest possible magnitude is tracked while generating; a
scheme whose intermediates could exceed 38 digits is refused, naming the expression, instead
of being left to overflow in the engine.

The query reads a facts table whose columns are the facts (DECIMAL(18, 6) or integers, NULL
when missing), `employee`, `team` and `grade`; it is a chain of CTEs named after the scheme's
KPIs and payments, each with a comment giving its .kpi line, where steps that do not read
each other share a CTE (`levels`: the chain is as deep as the longest path of reads).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import gcd

from sqlglot import exp

from .. import lower as lo
from ..diagnostics import Diagnostic, error
from ..optimise import optimise
from ..runtime import CONTEXT
from ..source import SourceFile
from .dialects import FACT_DIGITS, FACT_SCALE, LIMIT, Dialect

BASE = "base"  # the base scheme's variant (kpidsl.checks.model.BASE)

#: The column of the facts table giving each row's place in the facts (its file's row): a
#: budget's leftover steps go to the largest remainders, ties to the earlier row.
ORDER = "row"

#: A sum or an "any of" of up to this many terms is written as a chain; past it, as a
#: balanced tree of chains. DuckDB refuses an expression nested deeper than 1 000 (its
#: max_expression_depth), and sqlglot renders each level by recursion: the chained total of
#: 1 000 payments was 2 000 levels deep. Every bundled scheme keeps the SQL that reads as a
#: chain (and its golden files).
CHAIN = 32

GATE_WORDS = {"": 0, "withheld": 1, "capped": 2, "floored": 3}
# a gate's word in CTE names and comments, as the scheme writes it
GATE_NAMES = {lo.GateKind.ONLY_IF: "only_if", lo.GateKind.CAP: "cap", lo.GateKind.FLOOR: "floor"}

# what a refusal points at and a CTE's comment names the line of: an expression or a record
Located = (lo.Expr | lo.Kpi | lo.FactInput | lo.Curve | lo.Band | lo.Gate | lo.PayLine
           | lo.Payment)


class Refused(Exception):
    """The scheme cannot be computed exactly in SQL; carries the diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class Int:
    """An integer-valued SQL expression and the largest magnitude it can take."""

    e: exp.Expr
    bound: int
    value: int | None = None  # known when compiling


@dataclass(frozen=True)
class Num:
    """num ÷ (dyn × k); `err` is true where computing it raises in the Python evaluator."""

    num: Int
    dyn: Int | None
    k: int
    err: exp.Expr | None = None

    @property
    def static(self) -> Fraction | None:
        if self.dyn is None and self.num.value is not None:
            return Fraction(self.num.value, self.k)
        return None


@dataclass(frozen=True)
class Cond:
    e: exp.Expr
    err: exp.Expr | None = None


def _text(e: exp.Expr) -> str:
    """An expression's text, to tell equal ones apart: rendered without the copy `sql()`
    makes first (the copies were two thirds of the generator's time, measured)."""
    return e.sql(copy=False)


def _or(*parts: exp.Expr | None) -> exp.Expr | None:
    """Any of the failure flags (each once). A flag may be raised by a branch that is not
    taken: the row then goes to the Python evaluator, which decides; never the reverse."""
    kept: list[exp.Expr] = []
    seen: set[str] = set()
    for part in parts:
        if part is None or (isinstance(part, exp.Boolean) and not part.this):
            continue
        text = _text(part)
        if text in seen:
            continue
        seen.add(text)
        kept.append(part)
    return _any(kept) if kept else None


def _any(parts: Sequence[exp.Expr]) -> exp.Expr:
    """`a OR b OR …`: a chain up to CHAIN parts, a balanced tree of parenthesised halves
    past it (see CHAIN)."""
    if len(parts) <= CHAIN:
        out = parts[0]
        for part in parts[1:]:
            out = exp.Or(this=out, expression=part)
        return out
    middle = len(parts) // 2
    return exp.Or(this=exp.Paren(this=_any(parts[:middle])),
                  expression=exp.Paren(this=_any(parts[middle:])))


def _and(a: exp.Expr, b: exp.Expr | None) -> exp.Expr | None:
    return None if b is None else exp.And(this=exp.Paren(this=a), expression=exp.Paren(this=b))


def _p(e: exp.Expr) -> exp.Expr:
    return e if isinstance(e, exp.Column | exp.Literal | exp.Paren | exp.Cast | exp.Anonymous) \
        else exp.Paren(this=e)


@dataclass
class Column:
    """A materialised value: its columns in the CTE chain."""

    name: str
    value: Num


@dataclass
class Step:
    name: str
    comment: str
    columns: list[tuple[str, exp.Expr]] = field(default_factory=list)
    # a step grouping its rows (a scheme paid per team: one row a team) selects only its
    # columns, not the previous step's `*`
    group_by: list[exp.Expr] | None = None


@dataclass
class Output:
    """Where each part of a Result is in the query's columns (for the engine)."""

    kpis: list[tuple[str, Num, Num | None, Num | None]] = field(default_factory=list)
    lines: list[tuple[str, str, Num, Num, Int, Int, Int]] = field(default_factory=list)
    pays: list[tuple[str, Int]] = field(default_factory=list)
    # each budget's award before its cap (the engine notes the rows a cap scaled)
    budgets: list[tuple[str, Int]] = field(default_factory=list)


class VariantQuery:
    """Builds the query of one variant (a grade or the base scheme) from its lowered form."""

    def __init__(self, program: lo.Program, variant: lo.VariantProgram, dialect: Dialect,
                 source: SourceFile | None = None, table: str = "facts",
                 month: int | None = None, carry: tuple[str, ...] = (),
                 budgets: bool = True, order: str = ORDER) -> None:
        self.carry = carry  # input columns passed through to the result (the engine's row ids)
        self.budgets = program.budgets if budgets else ()
        self.order = order  # the column giving the facts' order (a budget's ties)
        self.team_failing = False  # a member's failure fails the team's users (team_step)
        # grades sharing a result (a team's figures, a budget): each grade's query evaluates
        # every row by its own grade too, and returns its grade's rows (`grades`)
        self.shared = len(program.variants) > 1 and not program.per_team and (
            bool(self.budgets) or any(_team_nodes(v) for v in program.variants.values()))
        self.program = program
        self.v = variant
        self.source = source  # the scheme's text: what a refusal quotes
        self.d = dialect
        self.table = table
        self.month = month
        self.lets = {let.name: let for let in variant.lets}
        # the constants known while compiling, the same every month (the optimiser's: a
        # quotient that is not a finite decimal, 1/3, is left to the query, exact)
        self.known = optimise(variant, inline=False).lets
        self.steps: list[Step] = []
        self.current: Step | None = None
        self.node: Located | None = None
        self.scope: dict[tuple[str, str], Num] = {}
        self.x: Num | None = None
        self.names: set[str] = set()
        # each column's expression → its name: an expression met again (the same fact scaled,
        # the same team total in every grade's evaluation) reads the column made first
        self.made: dict[str, str] = {}
        self.flags: list[str] = []  # the columns flagging where this variant's row fails

    # ---------------------------------------------------------------- integers
    def refuse(self, what: str) -> Refused:
        span = self.node.span if self.node is not None else None
        return Refused(error(
            "KPI950", f"{what}: this expression could need more than 38 digits in SQL",
            self.source, span,
            hint="the SQL engines compute with 38-digit integers; simplify the expression "
                 "or evaluate with the Python engine (--engine python)"))

    def lit(self, value: int) -> Int:
        return Int(self.d.literal(value), abs(value), value)

    def check(self, bound: int) -> int:
        if bound > LIMIT:
            raise self.refuse(f"'{self.text()}'")
        return bound

    def text(self) -> str:
        span = self.node.span if self.node is not None else None
        if span is None or not span.line or self.source is None:
            return "an expression"
        line = self.source.line_text(span.line)
        if span.end_line == span.line:
            return line[span.column - 1:span.end_column - 1].strip() or line.strip()
        return line.strip()

    def mul(self, a: Int, b: Int) -> Int:
        if a.value is not None and b.value is not None:
            return self.lit(a.value * b.value)
        if a.value == 1:
            return b
        if b.value == 1:
            return a
        if a.value == 0 or b.value == 0:
            return self.lit(0)
        return Int(exp.Mul(this=_p(a.e), expression=_p(b.e)), self.check(a.bound * b.bound))

    def add(self, a: Int, b: Int, sign: int = 1) -> Int:
        if a.value is not None and b.value is not None:
            return self.lit(a.value + sign * b.value)
        if b.value == 0:
            return a
        if a.value == 0 and sign == 1:
            return b
        node = exp.Add if sign == 1 else exp.Sub
        return Int(node(this=_p(a.e), expression=_p(b.e)), self.check(a.bound + b.bound))

    def add_all(self, terms: Sequence[Int]) -> Int:
        """The sum of the terms: a chain up to CHAIN terms, a balanced tree past it (integer
        sums are exact in any order; each partial sum is bounded by the whole's bound)."""
        if len(terms) <= CHAIN:
            total = terms[0]
            for term in terms[1:]:
                total = self.add(total, term)
            return total
        middle = len(terms) // 2
        return self.add(self.add_all(terms[:middle]), self.add_all(terms[middle:]))

    def neg(self, a: Int) -> Int:
        if a.value is not None:
            return self.lit(-a.value)
        return Int(exp.Neg(this=_p(a.e)), a.bound)

    def case(self, branches: Sequence[tuple[exp.Expr, Int]], default: Int) -> Int:
        if all(b.value is not None and b.value == default.value for _c, b in branches):
            return default
        # built whole, not with `when`, which copies the CASE so far and both its operands
        # (two thirds of the generator's time on a 1 000-KPI scheme, measured); an operand
        # may then appear twice in the tree, which rendering copies into a tree first
        node = exp.Case(ifs=[exp.If(this=condition, true=value.e) for condition, value in branches],
                        default=default.e)
        return Int(node, max([default.bound, *(b.bound for _c, b in branches)]))

    def scale(self, a: Int, factor: int) -> Int:
        return self.mul(a, self.lit(factor)) if factor != 1 else a

    # ---------------------------------------------------------------- fractions
    def const(self, value: Fraction | Decimal) -> Num:
        f = Fraction(value)
        return Num(self.lit(f.numerator), None, f.denominator)

    def den(self, a: Num) -> Int:
        k = self.lit(a.k)
        return k if a.dyn is None else self.mul(a.dyn, k)

    def same_dyn(self, a: Num, b: Num) -> bool:
        if a.dyn is None or b.dyn is None:
            return a.dyn is None and b.dyn is None
        return _text(a.dyn.e) == _text(b.dyn.e)

    def common(self, a: Num, b: Num) -> tuple[Int, Int, Int | None, int]:
        """a and b over one denominator: (a's numerator, b's, dyn, k)."""
        if self.same_dyn(a, b):
            k = a.k * b.k // gcd(a.k, b.k)
            return self.scale(a.num, k // a.k), self.scale(b.num, k // b.k), a.dyn, k
        g = gcd(a.k, b.k)
        an = self.scale(a.num, b.k // g)
        bn = self.scale(b.num, a.k // g)
        if a.dyn is not None:
            bn = self.mul(bn, a.dyn)
        if b.dyn is not None:
            an = self.mul(an, b.dyn)
        dyn = a.dyn if b.dyn is None else b.dyn if a.dyn is None else self.mul(a.dyn, b.dyn)
        return an, bn, dyn, a.k * b.k // g

    def plus(self, a: Num, b: Num, sign: int = 1) -> Num:
        an, bn, dyn, k = self.common(a, b)
        return Num(self.add(an, bn, sign), dyn, k, _or(a.err, b.err))

    def times(self, a: Num, b: Num) -> Num:
        # cancel the constant parts first, so digits grow no more than they must
        an, bn, ak, bk = a.num, b.num, a.k, b.k
        if an.value is not None:
            g = gcd(an.value, bk)
            an, bk = self.lit(an.value // g), bk // g
        if bn.value is not None:
            g = gcd(bn.value, ak)
            bn, ak = self.lit(bn.value // g), ak // g
        dyn = a.dyn if b.dyn is None else b.dyn if a.dyn is None else self.mul(a.dyn, b.dyn)
        return Num(self.mul(an, bn), dyn, ak * bk, _or(a.err, b.err))

    def negate(self, a: Num) -> Num:
        return Num(self.neg(a.num), a.dyn, a.k, a.err)

    def zero(self, a: Num) -> exp.Expr | None:
        """True where a is zero; None when it cannot be."""
        if a.num.value is not None:
            return exp.true() if a.num.value == 0 else None
        return exp.EQ(this=_p(a.num.e), expression=exp.Literal.number(0))

    def divide(self, a: Num, b: Num) -> Num:
        """a ÷ b with b ≠ 0 (the caller decides what b = 0 gives)."""
        s = b.static
        if s is not None:
            if s == 0:
                return Num(self.lit(0), None, 1, exp.true())
            return self.times(a, self.const(1 / s))
        # a ÷ (bn / (bdyn·bk)) = a·bdyn·bk / bn; the sign of bn moves to the numerator
        g = gcd(a.k, b.k)
        num = self.scale(a.num, b.k // g)
        if b.dyn is not None:
            num = self.mul(num, b.dyn)
        negative = exp.LT(this=_p(b.num.e), expression=exp.Literal.number(0))
        num = self.case([(negative, self.neg(num))], num)
        magnitude = Int(exp.Abs(this=b.num.e), b.num.bound)
        dyn = magnitude if a.dyn is None else self.mul(a.dyn, magnitude)
        return Num(num, dyn, a.k // g, _or(a.err, b.err))

    def compare(self, op: str, a: Num, b: Num) -> Cond:
        an, bn, _dyn, _k = self.common(a, b)  # the same positive denominator: compare numerators
        nodes = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT,
                 ">=": exp.GTE}
        return Cond(nodes[op](this=_p(an.e), expression=_p(bn.e)), _or(a.err, b.err))

    def choose(self, branches: list[tuple[Cond, Num]], default: Num) -> Num:
        """CASE WHEN c1 THEN v1 … ELSE default, the branches over one denominator."""
        values = [v for _c, v in branches] + [default]
        k = 1
        for v in values:
            k = k * v.k // gcd(k, v.k)
        same = all(self.same_dyn(v, values[0]) for v in values)
        nums, dyns = [], []
        for v in values:
            nums.append(self.scale(v.num, k // v.k))
            dyns.append(v.dyn if v.dyn is not None else self.lit(1))
        conditions = [c.e for c, _v in branches]
        num = self.case(list(zip(conditions, nums[:-1], strict=True)), nums[-1])
        dyn = values[0].dyn if same else \
            self.case(list(zip(conditions, dyns[:-1], strict=True)), dyns[-1])
        return Num(num, dyn, k, _or(*(c.err for c, _v in branches), *(v.err for v in values)))

    def round_units(self, a: Num, step: Fraction, mode: str, name: str = "rounded") -> Int:
        """round(a ÷ step) to an integer with the scheme's mode, from integer division.

        n and d go to columns, then the floor of n ÷ d (from the engine's truncated, or for
        some engines rounded, quotient corrected by the remainder), then the mode's step up.
        """
        n = self.scale(a.num, step.denominator)
        d = self.scale(self.den(a), step.numerator)
        if n.value is not None and d.value is not None:
            return self.lit(_round_fraction(Fraction(n.value, d.value), mode))
        self.check(2 * d.bound + n.bound)
        n = self.column(f"{name}__n", n)
        # one division of |n| where |n| with what the mode adds stays within 38 digits
        halves = mode in ("half up", "half down")
        if d.value is not None and self.d.exact_division and \
                (2 if halves else 1) * n.bound + d.value <= LIMIT:
            return self.round_by_constant(n, d.value, mode, name)
        if d.value is None:  # zero only on a row that fails anyway (÷0): never divide by it
            d = Int(exp.Case().when(exp.EQ(this=_p(d.e), expression=exp.Literal.number(0)),
                                    exp.Literal.number(1)).else_(d.e), d.bound)
        d = self.column(f"{name}__d", d)
        self.begin(f"{name}_quotient", self.node, f"{name}: the quotient")
        q0 = self.column(f"{name}__q", Int(self.d.truncating_division(n.e, d.e), n.bound))
        self.begin(f"{name}_floor", self.node, f"{name}: the floor")
        # |q·d| ≤ |n| + d: the product of a quotient and its divisor stays near the dividend
        near = self.check(n.bound + d.bound)
        r0 = self.add(n, Int(exp.Mul(this=_p(q0.e), expression=_p(d.e)), near), -1)
        below = exp.LT(this=_p(r0.e), expression=exp.Literal.number(0))
        one = self.lit(1)
        branches: list[tuple[exp.Expr, Int]] = [(below, one)]
        if not self.d.exact_division:
            branches.append((exp.GTE(this=_p(r0.e.copy()), expression=_p(d.e)), self.neg(one)))
        floor = self.column(f"{name}__floor",
                            self.add(q0, self.case(branches, self.lit(0)), -1))
        self.begin(f"{name}_mode", self.node, f"{name}: rounded {mode}")
        rem = self.column(f"{name}__rem", self.add(
            n, Int(exp.Mul(this=_p(floor.e), expression=_p(d.e)), near), -1))  # 0 ≤ rem < d
        self.begin(f"{name}_units", self.node, f"{name}: rounded {mode}")
        twice = exp.Mul(this=exp.Literal.number(2), expression=_p(rem.e))
        positive = exp.GT(this=_p(rem.e), expression=exp.Literal.number(0))
        tie = exp.EQ(this=twice, expression=_p(d.e))
        over = exp.GT(this=twice.copy(), expression=_p(d.e))
        n_neg = exp.LT(this=_p(n.e), expression=exp.Literal.number(0))
        n_pos = exp.GT(this=_p(n.e), expression=exp.Literal.number(0))
        odd = exp.NEQ(this=self.d.remainder(floor.e, exp.Literal.number(2)),
                      expression=exp.Literal.number(0))
        up: exp.Expr | None
        if mode == "half up":
            up = exp.or_(over, exp.and_(tie, exp.not_(n_neg)))
        elif mode == "half down":
            up = exp.or_(over, exp.and_(tie, n_neg))
        elif mode == "half even":
            up = exp.or_(over, exp.and_(tie, odd))
        elif mode == "up":
            up = exp.and_(positive, n_pos)
        elif mode == "down":
            up = exp.and_(positive, n_neg)
        elif mode == "ceiling":
            up = positive
        else:
            up = None
        if up is None:
            return floor
        return self.add(floor, self.case([(up, one)], self.lit(0)))

    def round_by_constant(self, n: Int, d: int, mode: str, name: str) -> Int:
        """round(n ÷ d) for a constant d > 0 with one integer division of |n|.

        The mode decides what is added to |n| before dividing by d (or 2d): half up rounds
        |n| ÷ d as ⌊(2|n| + d) ÷ 2d⌋, half down ⌊(2|n| + d − 1) ÷ 2d⌋, away from zero
        ⌊(|n| + d − 1) ÷ d⌋, toward zero ⌊|n| ÷ d⌋; the sign of n goes back on afterwards.
        Half even looks at the remainder. The floor-and-remainder chain of the general case
        cost three 128-bit multiplications and a division more a line (measured: the
        divisions were half of the b2b_manager query's time at 1 M rows)."""
        self.begin(f"{name}_magnitude", self.node, f"{name}: rounded {mode}")
        magnitude = Int(exp.Abs(this=n.e.copy()), n.bound)
        negative = exp.LT(this=_p(n.e), expression=exp.Literal.number(0))
        positive = exp.GT(this=_p(n.e), expression=exp.Literal.number(0))
        lifted = self.add(magnitude, self.lit(d - 1))
        if mode in ("half up", "half down"):
            m = self.add(self.mul(self.lit(2), magnitude),
                         self.lit(d if mode == "half up" else d - 1))
            divisor = 2 * d
        elif mode == "up":
            m, divisor = lifted, d
        elif mode in ("ceiling", "floor"):
            away = positive if mode == "ceiling" else negative
            m, divisor = self.case([(away, lifted)], magnitude), d
        else:  # down, half even
            m, divisor = magnitude, d
        self.check(m.bound)
        m = self.column(f"{name}__m", m)
        self.begin(f"{name}_quotient", self.node, f"{name}: rounded {mode}")
        q = self.column(f"{name}__q", Int(self.d.divide_by_constant(m.e, m.bound, divisor),
                                          m.bound // divisor + 1))
        if mode == "half even":
            self.begin(f"{name}_even", self.node, f"{name}: rounded {mode}")
            rem = self.add(m, self.mul(q, self.lit(d)), -1)  # 0 ≤ rem < d
            twice = exp.Mul(this=exp.Literal.number(2), expression=_p(rem.e))
            odd = exp.NEQ(this=self.d.remainder(q.e, exp.Literal.number(2)),
                          expression=exp.Literal.number(0))
            up = exp.or_(exp.GT(this=twice, expression=_p(self.lit(d).e)),
                         exp.and_(exp.EQ(this=twice.copy(), expression=_p(self.lit(d).e)), odd))
            q = self.column(f"{name}__even", self.add(q, self.case([(up, self.lit(1))],
                                                                   self.lit(0))))
        self.begin(f"{name}_sign", self.node, f"{name}: rounded {mode}")
        return self.case([(negative.copy(), self.neg(q))], q)

    def rounded(self, a: Num, rounding: lo.Rounding, name: str = "rounded") -> Num:
        f = Fraction(rounding.step)
        units = self.round_units(a, f, rounding.mode.value, name)
        return Num(self.mul(units, self.lit(f.numerator)), None, f.denominator, a.err)

    # ---------------------------------------------------------------- the CTE chain
    def ident(self, name: str) -> str:
        base = name
        n = 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    def begin(self, name: str, node: Located | None, what: str) -> None:
        line = node.line if node is not None and node.line else 0
        comment = f" {what} (line {line}) " if line else f" {what} "
        self.current = Step(self.ident("cte:" + name)[4:], comment)
        self.steps.append(self.current)

    def keep(self, name: str, value: Num) -> Num:
        """Materialise a value as columns of the current step; later steps read the columns."""
        assert self.current is not None
        num = self.column(name, value.num)
        dyn = None if value.dyn is None else self.column(name + "__den", value.dyn)
        err = None if value.err is None else self.flag(name + "__fails", value.err)
        return Num(num, dyn, value.k, err)

    def named(self, name: str, value: exp.Expr) -> str:
        """The column holding `value`: the one made first for an equal expression, else a
        new column of the current step."""
        assert self.current is not None
        key = _text(value)
        alias = self.made.get(key)
        if alias is None:
            alias = self.made[key] = self.ident(name)
            self.current.columns.append((alias, value))
        return alias

    def flag(self, name: str, value: exp.Expr) -> exp.Column:
        """A column flagging where the row fails (what `failing` adds up)."""
        alias = self.named(name, value)
        if alias not in self.flags:
            self.flags.append(alias)
        return exp.column(alias, quoted=True)

    def column(self, name: str, value: Int) -> Int:
        if value.value is not None or isinstance(value.e, exp.Column):
            return value
        return Int(exp.column(self.named(name, value.e), quoted=True), value.bound)

    # ---------------------------------------------------------------- the variant
    def build(self) -> tuple[exp.Select, Output]:
        out = Output()
        failing = self.chain(out)
        awards = dict(out.pays)
        if self.shared:
            failing, awards = self.grades(failing, awards)
        budgets = [b for b in self.budgets if b.component in dict(out.pays)]
        if budgets or self.team_failing:
            failing = self.shared_failures(failing, budgets)
        for budget in budgets:
            self.write_budget(budget, out, awards[budget.component])
        return self.select(out, failing), out

    def grade_is(self, name: str) -> exp.Expr:
        """The row's grade is `name` (the base scheme: no grade, or 'base')."""
        grade = exp.column("grade", quoted=True)
        if name == BASE:
            return exp.In(this=exp.Coalesce(this=grade, expressions=[exp.Literal.string("")]),
                          expressions=[exp.Literal.string(""), exp.Literal.string(BASE)])
        return exp.EQ(this=grade, expression=exp.Literal.string(name))

    def unprepared(self) -> exp.Expr:
        """Where the Python engine cannot prepare the row by its own grade: a fact that grade
        requires is missing, or the grade is unknown (KPI606)."""
        node = exp.Case()
        for name, variant in self.program.variants.items():
            missing = _or(*(exp.Is(this=exp.column(f.name, quoted=True), expression=exp.null())
                            for f in variant.facts if f.default is None))
            node = node.when(self.grade_is(name), exp.Paren(this=missing or exp.false()))
        return exp.Paren(this=node.else_(exp.true()))

    def grades(self, failing: exp.Expr | None, awards: dict[str, Int]
               ) -> tuple[exp.Expr, dict[str, Int]]:
        """Every other grade's evaluation of every row, in the same chain: a row fails, and
        is paid, by its own grade (the failures a team or a budget shares, the awards a
        budget scales)."""
        failures: list[tuple[exp.Expr, exp.Expr]] = [
            (self.grade_is(self.v.name), exp.Paren(this=failing or exp.false()))]
        paid: dict[str, list[tuple[exp.Expr, Int]]] = {
            name: [(self.grade_is(self.v.name), units)] for name, units in awards.items()}
        for name, variant in self.program.variants.items():
            if name == self.v.name:
                continue
            other = VariantQuery(self.program, variant, self.d, self.source, self.table,
                                 self.month, self.carry, bool(self.budgets), self.order)
            other.steps, other.names, other.made = self.steps, self.names, self.made
            theirs = Output()
            their_failing = other.chain(theirs)
            failures.append((self.grade_is(name),
                             exp.Paren(this=their_failing or exp.false())))
            for pay, units in theirs.pays:
                if pay in paid:
                    paid[pay].append((self.grade_is(name), units))
        node = exp.Case(ifs=[exp.If(this=c, true=f) for c, f in failures], default=exp.true())
        shared = {name: Int(exp.Case(ifs=[exp.If(this=c, true=u.e) for c, u in branches],
                                     default=exp.null()), max(u.bound for _c, u in branches))
                  for name, branches in paid.items()}
        return node, shared

    def chain(self, out: Output) -> exp.Expr | None:
        """The variant's steps, from the facts to its payments; where the row fails."""
        v = self.v
        self.begin("facts_scaled", None, "facts as integers of 10**-6")
        limit = 10**FACT_DIGITS - 1
        missing: list[exp.Expr] = []
        for fact in v.facts:
            self.node = fact
            column = exp.column(fact.name, quoted=True)
            scaled = Int(self.d.fact(column), limit)
            if fact.default is not None:
                default = self.expr(fact.default)
                if default.static is None or (default.static * 10**FACT_SCALE).denominator != 1:
                    raise self.refuse(f"the default of fact '{fact.name}'")
                value = int(default.static * 10**FACT_SCALE)
                scaled = Int(exp.Coalesce(this=scaled.e, expressions=[self.d.literal(value)]),
                             max(limit, abs(value)))
            else:
                missing.append(exp.Is(this=column.copy(), expression=exp.null()))
            self.scope[("fact", fact.name)] = self.keep(f"fact_{fact.name}",
                                                        Num(scaled, None, 10**FACT_SCALE))
        fails = _or(*missing)
        self.fails: exp.Expr | None = fails
        if self.program.per_team:
            self.group_step()
        else:
            self.team_step()
        for kpi in v.kpis:
            self.write_kpi(kpi, out)
        for pay in v.payments:
            self.write_pay(pay, out)
        return self.failing(out)

    def partition(self) -> exp.Expr:
        """A row's team, as the Python engine groups rows: no team is the team ''."""
        return exp.Coalesce(this=exp.column("team", quoted=True),
                            expressions=[exp.Literal.string("")])

    def group_step(self) -> None:
        """A scheme paid per team: the members' rows become one row a team (named by the
        team, in the `employee` column), holding each fact's team total (what the Python
        engine evaluates the scheme on) and the team aggregates the scheme reads. A member
        missing a required fact fails the team, as in the Python engine."""
        self.begin("team_key", None, "each member's team ('' for none)")
        # grouped by a column of its own: ClickHouse would read the key's alias `team` in
        # GROUP BY COALESCE("team", '') as the key itself
        key = self.column("team_key", Int(self.partition(), 0)).e
        self.begin("teams", None, "one row a team: its members' totals and aggregates")
        self.made.clear()  # the columns before are not read past the grouping
        assert self.current is not None
        step = self.current
        step.group_by = [key.copy()]
        step.columns += [("employee", key.copy()), ("team", key.copy())]
        for name in dict.fromkeys(self.carry + ((self.order,) if self.budgets else ())):
            step.columns.append((name, exp.Min(this=exp.column(name, quoted=True))))
        missing = self.fails
        if missing is not None:
            step.columns.append(("members_failing", exp.Max(this=exp.Case().when(
                exp.Paren(this=missing), exp.Literal.number(1)).else_(exp.Literal.number(0)))))
            self.fails = exp.EQ(this=exp.column("members_failing", quoted=True),
                                expression=exp.Literal.number(1))
        members = 10**9
        facts = {f.name: self.scope[("fact", f.name)] for f in self.v.facts}
        for name, fact in facts.items():  # the Python engine's facts of a team: the totals
            self.scope[("fact", name)] = Num(self.team_total(exp.Sum(this=fact.num.e.copy()),
                                                             f"fact_{name}"), None, fact.k)
        size = self.column("team_size", Int(self.d.to_integer(exp.Count(this=exp.Star())),
                                            members))
        self.scope[("team", "size")] = Num(size, None, 1)
        for kind, name in sorted(self.team_needs()[0]):
            member = facts.get(name)
            if member is None:
                raise self.refuse(f"team {kind} of {name}")
            key_name = f"{kind}:{name}"
            if kind == "total":
                self.scope[("team", key_name)] = self.scope[("fact", name)]
            elif kind == "average":  # every member has the fact (or the team fails)
                self.scope[("team", key_name)] = Num(self.scope[("fact", name)].num, size,
                                                     member.k)
            else:
                function = exp.Min if kind == "min" else exp.Max
                self.scope[("team", key_name)] = Num(self.column(
                    f"team_{kind}_{name}", Int(function(this=member.num.e.copy()),
                                               member.num.bound)), None, member.k)

    def team_total(self, aggregate: exp.Expr, name: str) -> Int:
        """A sum over a team's members, bounded as a fact is (12 integer digits): a team
        whose total is larger fails (the Python engine evaluates it), so a scheme's digits
        do not grow with the size a team could have. The sum itself (of at most 10**9
        members' facts, 27 digits) cannot overflow."""
        assert self.current is not None
        limit = 10**FACT_DIGITS - 1
        total = self.d.to_integer(aggregate)
        beyond = exp.GT(this=exp.Abs(this=total.copy()), expression=self.lit(limit).e)
        self.flag(name + "__fails", beyond)
        return self.column(name, Int(exp.Case().when(beyond.copy(), exp.Literal.number(0))
                                     .else_(total.copy()), limit))

    def failing(self, out: Output) -> exp.Expr | None:
        """Where the row fails in the Python evaluator: a missing fact, a flag of any step."""
        failing = _or(self.fails, *(n.err for _k, n, _p2, _a in out.kpis),
                      *(a.err for _k, _n, _p2, a in out.kpis if a is not None),
                      *(p.err for _k, _n, p, _a in out.kpis if p is not None),
                      *(s.err for *_x, s, f, _b, _u, _g in out.lines),
                      *(f.err for *_x, f, _b, _u, _g in out.lines))
        # every flag column, each added to what is there unless it is all that is there (as
        # `_or` would, without rendering the growing condition again for each: that was
        # quadratic, most of the time of a 10 000-KPI scheme)
        flags = [exp.column(name, quoted=True) for name in self.flags]
        if failing is None and flags:
            failing, flags = flags[0], flags[1:]
        if failing is not None and flags:
            if flags[0].sql() == failing.sql():  # that flag alone: kept once, as `_or` would
                flags = flags[1:]
            failing = _any([failing, *flags]) if flags else failing
        return failing

    def shared_failures(self, failing: exp.Expr | None, budgets: list[lo.Budget]
                        ) -> exp.Expr:
        """A row fails with the rows it shares a result with, as in the Python engine
        (KPI905): a team's users with any member of their team, a budget's awards with any
        award of its group (the team, or everyone). Where one fails, the others' results
        would rest on a partial team."""
        self.begin("failures", None, "the rows the Python evaluator would refuse")
        own = exp.Case().when(exp.Paren(this=failing or exp.false()), exp.Literal.number(1)) \
            .else_(exp.Literal.number(0))
        mine = exp.column(self.column("row_failing", Int(own, 1)).e.name, quoted=True)
        groups: dict[str, list[exp.Expr]] = {}
        if self.team_failing:
            groups["team_failing"] = [self.partition()]
        for budget in budgets:
            name = "team_failing" if budget.per_team else "everyone_failing"
            groups[name] = [self.partition()] if budget.per_team else []
        self.begin("shared_failures", None, "the rows failing with a member of their group")
        tests: list[exp.Expr] = [exp.EQ(this=mine, expression=exp.Literal.number(1))]
        for name, partition in groups.items():
            window = exp.Window(this=exp.Max(this=mine.copy()), partition_by=partition)
            column = self.column(name, Int(window, 1))
            tests.append(exp.EQ(this=column.e, expression=exp.Literal.number(1)))
        return _any(tests)

    def write_budget(self, budget: lo.Budget, out: Output, award: Int) -> None:
        """A budget cap: where the positive awards of its group (a team, or everyone) add up
        to more than the cap, each becomes ⌊award × cap ÷ sum⌋ steps and the steps left over go
        one each to the largest remainders, ties to the earlier row (`ORDER`); clawbacks are
        kept whole (kpidsl.allocation.fit_budget). All in integers of the payout step."""
        index = next(i for i, (name, _u) in enumerate(out.pays) if name == budget.component)
        own = out.pays[index][1]
        step = Fraction(self.program.payout.step)
        cap = max(Fraction(budget.cap or 0), Fraction(0))
        cap_units = (cap / step).numerator // (cap / step).denominator
        partition = [self.partition()] if budget.per_team else []
        name = f"budget_{budget.name}"
        what = f"budget {budget.name}: {budget.component} at most {budget.cap}" + \
            (" a team" if budget.per_team else "")
        members = 10**9

        def window(function: exp.Expr, order: list[exp.Expr] | None = None) -> exp.Expr:
            return exp.Window(this=function, partition_by=[p.copy() for p in partition],
                              order=exp.Order(expressions=order) if order else None)

        def budget_check(bound: int) -> int:
            if bound > LIMIT:
                raise Refused(error(
                    "KPI950", f"budget {budget.name}, the sum of its awards: this expression "
                    "could need more than 38 digits in SQL", self.source, None,
                    hint="the SQL engines compute with 38-digit integers; simplify the "
                    "expression or evaluate with the Python engine (--engine python)"))
            return bound

        self.begin(name, None, what)
        award = self.column(f"{name}__award", award)  # NULL: a grade without the payment
        own = self.column(f"{name}__own", own)
        out.budgets.append((budget.name, own))
        positive = Int(exp.Case().when(exp.GT(this=_p(award.e), expression=exp.Literal.number(0)),
                                       award.e.copy()).else_(exp.Literal.number(0)), award.bound)
        positive = self.column(f"{name}__positive", positive)
        self.begin(f"{name}_sum", None, f"{what}: the sum of the positive awards")
        total = self.column(f"{name}__sum", Int(self.d.to_integer(window(exp.Sum(
            this=positive.e.copy()))), budget_check(positive.bound * members)))
        # the share of each positive award in steps, award × cap ÷ sum, as ⌊·⌋ and remainder
        n = self.column(f"{name}__share", Int(exp.Mul(this=_p(positive.e), expression=_p(
            self.lit(cap_units).e)), budget_check(positive.bound * max(cap_units, 1))))
        self.begin(f"{name}_divisor", None, f"{what}: the divisor")
        divisor = Int(exp.Case().when(exp.EQ(this=_p(total.e), expression=exp.Literal.number(0)),
                                      exp.Literal.number(1)).else_(total.e.copy()), total.bound)
        divisor = self.column(f"{name}__divisor", divisor)
        whole, rest = self.floor_division(n, divisor, name, what)
        self.begin(f"{name}_rank", None, f"{what}: the largest remainders first, then the "
                   "earlier row")
        rank = self.column(f"{name}__rank", Int(window(exp.RowNumber(), [
            exp.Ordered(this=rest.e.copy(), desc=True),
            exp.Ordered(this=exp.column(self.order, quoted=True), desc=False)]), members))
        given = self.column(f"{name}__given", Int(self.d.to_integer(window(exp.Sum(
            this=whole.e.copy()))), budget_check(cap_units + members)))
        self.begin(f"{name}_scaled", None, f"{what}: the awards scaled")
        left = exp.Sub(this=self.lit(cap_units).e, expression=_p(given.e))
        extra = exp.Case().when(exp.LTE(this=_p(rank.e), expression=exp.Paren(this=left)),
                                exp.Literal.number(1)).else_(exp.Literal.number(0))
        over = exp.and_(exp.GT(this=_p(total.e), expression=_p(self.lit(cap_units).e)),
                        exp.GT(this=_p(own.e), expression=exp.Literal.number(0)))
        scaled = Int(exp.Case().when(over, exp.Add(this=_p(whole.e), expression=extra))
                     .else_(own.e.copy()), own.bound)
        out.pays[index] = (budget.component, self.column(f"{name}__paid", scaled))

    def floor_division(self, n: Int, d: Int, name: str, what: str) -> tuple[Int, Int]:
        """⌊n ÷ d⌋ and the remainder for n ≥ 0 and d > 0: the engine's quotient (exact where
        integer division truncates, else within one of it) corrected by the remainder."""
        self.begin(f"{name}_quotient", None, f"{what}: the quotient")
        q0 = self.column(f"{name}__q", Int(self.d.truncating_division(n.e, d.e), n.bound))
        if not self.d.exact_division:
            self.begin(f"{name}_floor", None, f"{what}: the floor")
            near = self.check(n.bound + d.bound)
            r0 = self.add(n, Int(exp.Mul(this=_p(q0.e), expression=_p(d.e)), near), -1)
            fix = self.case([(exp.LT(this=_p(r0.e), expression=exp.Literal.number(0)),
                              self.lit(-1)),
                             (exp.GTE(this=_p(r0.e.copy()), expression=_p(d.e)), self.lit(1))],
                            self.lit(0))
            q0 = self.column(f"{name}__whole", self.add(q0, fix))
        self.begin(f"{name}_remainder", None, f"{what}: the remainder")
        rest = self.column(f"{name}__rest", self.add(n, Int(exp.Mul(this=_p(q0.e),
                                                                   expression=_p(d.e)),
                                                           n.bound), -1))
        return q0, rest

    def team_needs(self) -> tuple[set[tuple[str, str]], bool]:
        """The team aggregates the variant reads, and whether it reads the team's size."""
        needs: set[tuple[str, str]] = set()
        size = False
        for e in _expressions(self.v):
            for node in lo.walk(e):
                if isinstance(node, lo.TeamValue):
                    needs.add((node.aggregate.value, node.fact))
                elif isinstance(node, lo.TeamSize):
                    size = True
        return needs, size

    def declared(self, fact: str) -> exp.Expr:
        """The row's own grade has `fact`, with this grade's default (the member's value in
        a team aggregate is its own grade's); KPI952 where grades read it differently."""
        mine = next(f for f in self.v.facts if f.name == fact)
        holding = []
        for name, variant in self.program.variants.items():
            theirs = next((f for f in variant.facts if f.name == fact), None)
            if theirs is None:
                continue
            if theirs.default != mine.default:
                raise Refused(error(
                    "KPI952", f"fact '{fact}' has a different 'if missing' in grade '{name}' "
                    f"than in grade '{self.v.name}', and a team aggregate reads it over every "
                    "grade: not compiled to SQL", self.source, theirs.span or mine.span,
                    hint="evaluate it with the Python engine (--engine python)"))
            holding.append(self.grade_is(name))
        return exp.Paren(this=_any(holding))

    def team_step(self) -> None:
        needs, size = self.team_needs()
        if not needs and not size:
            return
        self.team_failing = True
        member: exp.Expr = exp.not_(exp.Paren(this=self.fails)) if self.fails is not None \
            else exp.true()
        if self.shared:  # a member of any grade, prepared by its own grade
            member = exp.not_(self.unprepared())
        if self.fails is not None or self.shared:  # a column, not a test in every aggregate
            member = self.column("team_member", Int(member, 1)).e
        self.begin("team", None, "team aggregates over the members whose facts are complete")
        partition = exp.Coalesce(this=exp.column("team", quoted=True),
                                 expressions=[exp.Literal.string("")])

        def window(function: exp.Expr) -> exp.Expr:
            return exp.Window(this=function, partition_by=[partition.copy()])

        count = Int(window(exp.Sum(this=exp.Case().when(member.copy(), exp.Literal.number(1))
                                   .else_(exp.Literal.number(0)))), 10**9)
        count = self.column("team_size", count)
        self.scope[("team", "size")] = Num(count, None, 1)
        for kind, name in sorted(needs):
            fact = self.scope.get(("fact", name))
            if fact is None:
                raise self.refuse(f"team {kind} of {name}")
            holds: exp.Expr = member.copy()
            if self.shared:
                holds = exp.and_(holds, self.declared(name))
            value = exp.Case().when(holds, fact.num.e).else_(exp.null())
            if kind in ("total", "average"):
                total = self.team_total(exp.Coalesce(this=window(exp.Sum(this=value)),
                                                     expressions=[exp.Literal.number(0)]),
                                        f"team_{kind}_{name}")
                if kind == "total":
                    self.scope[("team", f"{kind}:{name}")] = Num(total, None, fact.k)
                else:
                    members = Int(self.d.to_integer(window(exp.Count(this=value.copy()))), 10**9)
                    members = self.column(f"team_members_{name}", members)
                    # no member has the fact: 0, as the Python evaluator's empty team
                    nonzero = Int(exp.Case().when(exp.EQ(this=members.e, expression=exp.Literal
                                                         .number(0)), exp.Literal.number(1))
                                  .else_(members.e), members.bound)
                    self.scope[("team", f"{kind}:{name}")] = Num(total, nonzero, fact.k)
            else:
                function = exp.Min if kind == "min" else exp.Max
                agg = Int(exp.Coalesce(this=window(function(this=value)),
                                       expressions=[exp.Literal.number(0)]), fact.num.bound)
                self.scope[("team", f"{kind}:{name}")] = Num(
                    self.column(f"team_{kind}_{name}", agg), None, fact.k)

    def write_kpi(self, kpi: lo.Kpi, out: Output) -> None:
        name = kpi.name
        self.begin(f"kpi_{name}", kpi, f"KPI {name}")
        self.node = _located(kpi.value, kpi)
        value = self.keep(f"kpi_{name}", self.expr(kpi.value))
        self.scope[("kpi", name)] = value
        plan = None
        if kpi.plan is not None:
            self.node = _located(kpi.plan.value, kpi)
            plan = self.keep(f"plan_{name}", self.monthly(kpi.plan))
            self.scope[("plan", name)] = plan
        attainment: Num | None = None
        if kpi.attainment is not None:
            rule = kpi.attainment_rule
            where = kpi.attainment if rule is lo.AttainmentRule.FORMULA else kpi
            self.begin(f"kpi_{name}_attainment", where, f"attainment of {name}")
            self.node = where
            if rule is lo.AttainmentRule.FORMULA:
                attainment = self.expr(kpi.attainment)
            else:  # value ÷ plan, divided once where it is rounded or compared
                assert plan is not None
                ratio = self.divide(value, plan)
                ratio = Num(ratio.num, ratio.dyn, ratio.k, _or(ratio.err, self.zero(plan)))
                if rule is lo.AttainmentRule.LOWER_IS_BETTER:  # max(2 − value ÷ plan, 0)
                    worse = self.plus(self.const(Fraction(2)), ratio, -1)
                    positive = self.compare(">", worse, self.const(Fraction(0)))
                    ratio = self.choose([(positive, worse)], self.const(Fraction(0)))
                attainment = ratio
            if kpi.rounding is not None:
                attainment = self.rounded(attainment, kpi.rounding, f"attainment_{name}")
            attainment = self.keep(f"attainment_{name}", attainment)
            self.scope[("attainment", name)] = attainment
        out.kpis.append((name, value, plan, attainment))

    def monthly(self, value: lo.Monthly) -> Num:
        """The month's value (`by_month`), else the value of every month."""
        for month, e in value.by_month:
            if self.month is not None and month == self.month:
                return self.expr(e)
        return self.expr(value.value)

    def payout(self, value: Num, name: str = "payout") -> Num:
        return self.rounded(value, self.program.payout, name)

    def write_pay(self, pay: lo.Payment, out: Output) -> None:
        self.begin(f"pay_{pay.name}", pay, f"payment {pay.name}")
        self.node = pay
        step = Fraction(self.program.payout.step)
        if pay.formula is None:  # a pool: the sum of its rounded lines
            amounts: list[Int] = []
            errs: list[exp.Expr | None] = []
            for line in pay.lines:
                amount, err = self.write_line(pay, line, out)
                amounts.append(amount)
                errs.append(err)
            self.begin(f"pay_{pay.name}_total", pay, f"payment {pay.name}: the sum of its lines")
            total = self.add_all(amounts)
            value = Num(self.mul(total, self.lit(step.numerator)), None, step.denominator,
                        _or(*errs))
        else:
            self.node = pay.formula
            value = self.payout(self.expr(pay.formula), f"pay_{pay.name}")
        value = self.keep(f"pay_{pay.name}", value)
        for gate in pay.gates:  # the payment's own (`target` PAYMENT)
            word = GATE_NAMES[gate.kind]
            self.begin(f"pay_{pay.name}_{word}", gate, f"payment {pay.name}: {word}")
            self.node = gate
            if gate.kind is lo.GateKind.ONLY_IF:
                test = self.cond(gate.value)
                zero = self.payout(self.const(Fraction(0)))
                value = self.choose([(Cond(exp.not_(exp.Paren(this=test.e)), test.err), zero)],
                                    value)
            else:
                limit = self.payout(self.expr(gate.value))
                value = self.choose([(self.hit(gate, value, limit), limit)], value)
            value = self.keep(f"pay_{pay.name}", value)
        self.scope[("pay", pay.name)] = value
        out.pays.append((pay.name, self.units(value, step)))

    def hit(self, gate: lo.Gate, value: Num, limit: Num) -> Cond:
        """Where a cap or floor applies: beyond its limit, unless its `unless` holds."""
        hit = self.compare(">" if gate.kind is lo.GateKind.CAP else "<", value, limit)
        if gate.unless is not None:
            unless = self.cond(gate.unless)
            hit = Cond(exp.and_(exp.Paren(this=hit.e), exp.not_(exp.Paren(this=unless.e))),
                       _or(hit.err, unless.err))
        return hit

    def units(self, value: Num, step: Fraction) -> Int:
        """A rounded amount as a count of steps (its denominator divides step's)."""
        assert value.dyn is None
        if value.num.value is not None:
            return self.lit(int(Fraction(value.num.value, value.k) / step))
        factor = Fraction(1, value.k) / step  # an integer or its inverse, by construction
        if factor.denominator == 1:
            return self.scale(value.num, factor.numerator)
        return Int(self.d.truncating_division(value.num.e, self.d.literal(factor.denominator)),
                   value.num.bound)

    def write_line(self, pay: lo.Payment, line: lo.PayLine, out: Output
                   ) -> tuple[Int, exp.Expr | None]:
        """A pool's line: round(share × factor), the factor after the curve's cap and floor
        and the `LINE`/`FACTOR` gates, then the `AMOUNT` gates on the rounded amount."""
        self.node = line
        key = f"line_{pay.name}_{line.kpi}"
        self.begin(f"{key}_curve", line, f"line {pay.name} for {line.kpi}: its share and the "
                   "curve")
        share = self.keep(f"{key}_share", self.expr(line.share))
        attainment = self.scope.get(("attainment", line.kpi))
        if attainment is None:
            raise self.refuse(f"attainment of {line.kpi}")
        curve = self.v.curves[line.curve]
        raw, band = self.curve(curve, attainment)
        raw = self.keep(f"{key}_curve", raw)
        band = self.column(f"{key}_band", band)
        self.begin(f"line_{pay.name}_{line.kpi}_factor", line,
                   f"line {pay.name} for {line.kpi}: the curve's cap and floor, the gates")
        factor = self.cap_floor(curve, raw)
        gate = self.lit(0)
        for g in line.gates:
            word = GATE_NAMES[g.kind]
            factor = self.keep(f"{key}_factor", factor)
            gate = self.column(f"{key}_gate", gate)
            self.begin(f"line_{pay.name}_{line.kpi}_{word}", g,
                       f"line {pay.name} for {line.kpi}: {g.kind.value}")
            self.node = g
            if g.target is lo.GateTarget.LINE:  # only if: the factor becomes 0, 'withheld'
                test = self.cond(g.value)
                withheld = Cond(exp.not_(exp.Paren(this=test.e)), test.err)
                factor = self.choose([(withheld, self.const(Fraction(0)))], factor)
                gate = self.case([(withheld.e.copy(), self.lit(GATE_WORDS["withheld"]))], gate)
            elif g.target is lo.GateTarget.FACTOR:
                limit = self.expr(g.value)
                hit = self.hit(g, factor, limit)
                factor = self.choose([(hit, limit)], factor)
                gate = self.case([(hit.e.copy(), self.lit(GATE_WORDS[
                    "capped" if g.kind is lo.GateKind.CAP else "floored"]))], gate)
        self.node = line
        factor = self.keep(f"{key}_factor", factor)
        gate = self.column(f"{key}_gate", gate)
        self.begin(f"line_{pay.name}_{line.kpi}", line, f"line {pay.name} for {line.kpi}")
        amount = self.payout(self.times(share, factor), key)
        for g in line.gates:
            if g.target is lo.GateTarget.AMOUNT:  # a money limit on the rounded amount
                word = GATE_NAMES[g.kind]
                amount = self.keep(f"{key}_amount", amount)
                self.begin(f"line_{pay.name}_{line.kpi}_{word}_amount", g,
                           f"line {pay.name} for {line.kpi}: {word}")
                self.node = g
                limit = self.payout(self.expr(g.value))
                hit = self.hit(g, amount, limit)
                amount = self.choose([(hit, limit)], amount)
                gate = self.column(f"{key}_gate", self.case([(hit.e.copy(), self.lit(GATE_WORDS[
                    "capped" if g.kind is lo.GateKind.CAP else "floored"]))], gate))
        amount = self.keep(f"{key}_amount", amount)
        self.begin(f"line_{pay.name}_{line.kpi}_amount", line,
                   f"line {pay.name} for {line.kpi}: the amount in steps of the payout rounding")
        units = self.column(f"{key}_units",
                            self.units(amount, Fraction(self.program.payout.step)))
        out.lines.append((pay.name, line.kpi, share, factor, band, units, gate))
        return units, amount.err

    # ---------------------------------------------------------------- curves
    def curve(self, curve: lo.Curve, x: Num) -> tuple[Num, Int]:
        """The curve's value and band over `x`: its kind writes them (kpidsl/curvekinds)."""
        self.node = curve
        return curve.kind.write_sql(self, curve, x)

    def branches(self, branches: list[tuple[Cond, Num, int]], default: Num | None = None,
                 default_band: int = 0) -> tuple[Num, Int]:
        """The first branch whose condition holds gives the value and band; else `default`
        (0) and `default_band`."""
        value = self.choose([(cond, v) for cond, v, _i in branches],
                            default if default is not None else self.const(Fraction(0)))
        band_int = self.case([(cond.e.copy(), self.lit(i)) for cond, _v, i in branches],
                             self.lit(default_band))
        return value, band_int

    def in_band(self, band: lo.Band, x: Num) -> Cond:
        """The test that `x` lies in `band` (its bounds folded by the lowering; None: open)."""
        tests: list[exp.Expr] = []
        if band.lower is not None:
            tests.append(self.compare(">=" if band.lower_inclusive else ">", x,
                                      self.const(band.lower)).e)
        if band.upper is not None:
            tests.append(self.compare("<=" if band.upper_inclusive else "<", x,
                                      self.const(band.upper)).e)
        return Cond(exp.and_(*tests) if tests else exp.true())

    def rate(self, e: lo.Expr) -> Fraction:
        """A tier's rate, a constant: its exact value (1/3 stays 1/3)."""
        value = self.expr(e).static
        if value is None:  # the checker refuses rates that are not constants
            raise self.refuse("a rate that is not a constant")
        return value

    def cap_floor(self, curve: lo.Curve, value: Num) -> Num:
        for limit, op in ((curve.cap, ">"), (curve.floor, "<")):
            if limit is not None:
                b = self.const(Fraction(limit))
                value = self.choose([(self.compare(op, value, b), b)], value)
        return value

    # ---------------------------------------------------------------- expressions
    def expr(self, e: lo.Expr | None) -> Num:
        if e is None:
            raise self.refuse("a missing value")
        saved = self.node
        if e.span is not None:  # a node the lowering made is named by what holds it
            self.node = e
        try:
            return self._expr(e)
        finally:
            self.node = saved

    def _expr(self, e: lo.Expr) -> Num:  # one branch per kind of the lowered form
        match e:
            case lo.Number():
                return self.const(Fraction(e.value))
            case lo.ConstantValue():
                let = self.lets[e.name]
                if let.value.by_month:
                    return self.monthly(let.value)
                if e.name in self.known:
                    return self.const(Fraction(self.known[e.name]))
                return self.expr(let.value.value)
            case lo.KpiValue() | lo.FactValue():
                found = self.scope.get(("kpi", e.name)) or self.scope.get(("fact", e.name))
                if found is None:
                    raise self.refuse(f"'{e.name}'")
                return found
            case lo.PlanValue() | lo.AttainmentValue():
                kind = "plan" if isinstance(e, lo.PlanValue) else "attainment"
                found = self.scope.get((kind, e.name))
                if found is None:
                    raise self.refuse(f"{kind} of {e.name}")
                return found
            case lo.CurveInput():
                if self.x is None:
                    raise self.refuse("attainment outside a curve")
                return self.x
            case lo.TeamValue() | lo.TeamSize():
                key = f"{e.aggregate.value}:{e.fact}" if isinstance(e, lo.TeamValue) else "size"
                found = self.scope.get(("team", key))
                if found is None:
                    raise self.refuse("a team aggregate")
                return found
            case lo.Negate():
                return self.negate(self.expr(e.operand))
            case lo.Binary():
                left, right = self.expr(e.left), self.expr(e.right)
                if e.op is lo.BinaryOp.MUL:
                    return self.times(left, right)
                return self.plus(left, right, 1 if e.op is lo.BinaryOp.ADD else -1)
            case lo.Division():
                right = self.expr(e.right)
                left = self.expr(e.left)
                zero = self.zero(right)
                quotient = self.divide(left, right)
                if e.otherwise is None:  # ÷0 fails the row, as in the Python evaluator
                    return Num(quotient.num, quotient.dyn, quotient.k, _or(quotient.err, zero))
                if right.static is not None and right.static != 0:
                    return quotient
                otherwise = self.expr(e.otherwise)
                assert zero is not None
                return self.choose([(Cond(zero, right.err), otherwise)],
                                   Num(quotient.num, quotient.dyn, quotient.k, left.err))
            case lo.Choose():
                condition = self.cond(e.condition)
                return self.choose([(condition, self.expr(e.then))], self.expr(e.otherwise))
            case lo.Call():
                args = [self.expr(a) for a in e.args]
                if e.function is lo.Function.ABS:
                    value = args[0]
                    negative = exp.LT(this=_p(value.num.e), expression=exp.Literal.number(0))
                    return Num(self.case([(negative, self.neg(value.num))], value.num),
                               value.dyn, value.k, value.err)
                best = args[0]
                op = "<" if e.function is lo.Function.MIN else ">"
                for arg in args[1:]:  # as the builtin: the later one only when strictly better
                    best = self.choose([(self.compare(op, arg, best), arg)], best)
                return best
            case lo.Rounded():
                return self.rounded(self.expr(e.value), e.rounding)
            case lo.CurveValue():
                curve = self.v.curves[e.curve]
                value, _band = self.curve(curve, self.expr(e.arg))
                return self.cap_floor(curve, value)
            case lo.Compare() | lo.Logic() | lo.Not():
                raise self.refuse("a condition used as a number")
        raise self.refuse(type(e).__name__)

    def cond(self, e: lo.Expr) -> Cond:
        saved = self.node
        if e.span is not None:
            self.node = e
        try:
            match e:
                case lo.Compare():
                    return self.compare(e.op.value, self.expr(e.left), self.expr(e.right))
                case lo.Logic():
                    left, right = self.cond(e.left), self.cond(e.right)
                    node = exp.And if e.op is lo.LogicOp.AND else exp.Or
                    # Python stops early: the right side's failure counts only when reached
                    reached = left.e if e.op is lo.LogicOp.AND else \
                        exp.not_(exp.Paren(this=left.e))
                    return Cond(node(this=exp.Paren(this=left.e),
                                     expression=exp.Paren(this=right.e)),
                                _or(left.err, _and(reached, right.err)))
                case lo.Not():
                    inner = self.cond(e.operand)
                    return Cond(exp.not_(exp.Paren(this=inner.e)), inner.err)
                case lo.Choose():
                    test, then, other = self.cond(e.condition), self.cond(e.then), \
                        self.cond(e.otherwise)
                    chosen = exp.Case().when(test.e, then.e).else_(other.e)
                    return Cond(chosen, _or(test.err, then.err, other.err))
            value = self.expr(e)  # a number as a condition: true unless zero
            return Cond(exp.NEQ(this=_p(value.num.e), expression=exp.Literal.number(0)),
                        value.err)
        finally:
            self.node = saved

    # ---------------------------------------------------------------- the query
    def levels(self) -> list[list[Step]]:
        """The steps as CTEs: each step in the first CTE after every step whose columns it
        reads, so steps that do not read each other (a scheme's KPIs, its pay lines, the
        grades of a shared team) share one CTE. The chain is then as deep as the longest
        path of reads, not as long as the list of steps: Spark's analyzer resolves a chain
        of CTEs one CTE an iteration over the whole plan, and hunter's 201 steps a statement
        did not finish in 20 minutes; ClickHouse nests each CTE a subquery deeper. A step
        grouping its rows (one row a team) stands alone: what follows reads only it."""
        levels: list[list[Step]] = []
        at: dict[str, int] = {}  # a column → the level defining it
        floor = 0  # the first level after the last grouping step
        for step in self.steps:
            if not step.columns:
                continue
            if step.group_by is not None:
                levels.append([step])
                floor = len(levels)
                at = {name: floor - 1 for name, _e in step.columns}
                continue
            level = floor
            for _name, e in step.columns:
                for column in e.find_all(exp.Column):
                    found = at.get(column.name)
                    if found is not None and found >= level:
                        level = found + 1
            if level == len(levels):
                levels.append([])
            levels[level].append(step)
            for name, _e in step.columns:
                at[name] = level
        return levels

    def select(self, out: Output, failing: exp.Expr | None) -> exp.Select:
        previous = self.table
        ctes = []
        taken: set[str] = set()
        for level in self.levels():
            # copy=False: the builders' copies of each column were half the time of the
            # query's assembly (measured); rendering copies the tree once anyway
            grouped = level[0].group_by
            star = [] if grouped is not None else [exp.Star()]
            selected: list[exp.Expr] = []
            for step in level:
                for i, (name, e) in enumerate(step.columns):
                    column = exp.alias_(e, name, quoted=True, copy=False)
                    if i == 0 and len(level) > 1:  # each step's first column says what it is
                        column.args["alias"].add_comments([step.comment])
                    selected.append(column)
            body = exp.select(*star, *selected).from_(
                exp.to_table(previous, quoted=True) if previous == self.table else
                exp.to_identifier(previous, quoted=True), copy=False)
            if grouped is not None:
                body = body.group_by(*grouped, copy=False)
            name = level[0].name if len(level) == 1 else \
                f"{level[0].name}_and_{len(level) - 1}_more"
            while name in taken:
                name += "_"
            taken.add(name)
            cte = exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name,
                                                                                 quoted=True)))
            cte.add_comments([level[0].comment if len(level) == 1 else
                              " " + ", ".join(step.name for step in level) + " "])
            ctes.append(cte)
            previous = name
        columns: list[exp.Expr] = [exp.column(c, quoted=True)
                                         for c in (self.carry or ("employee",))]
        for name, units in out.pays:
            columns.append(exp.alias_(units.e, f"{name}_units", quoted=True))
        total = self.add_all([units for _name, units in out.pays]) if out.pays \
            else self.lit(0)
        columns.append(exp.alias_(total.e, "total_units", quoted=True))
        columns.append(exp.alias_(exp.Coalesce(this=exp.Paren(this=failing or exp.false()),
                                               expressions=[exp.false()]),
                                  "fails", quoted=True))
        query = exp.select(*columns).from_(exp.to_identifier(previous, quoted=True)
                                           if previous != self.table
                                           else exp.to_table(previous, quoted=True))
        if self.shared:  # the other grades' rows are there for their teams and budgets
            query = query.where(self.grade_is(self.v.name), copy=False)
        if ctes:
            query.set("with_", exp.With(expressions=ctes))
        self.d.finish(query, len(ctes))
        return query


def _round_fraction(value: Fraction, mode: str) -> int:
    """Python's own rounding of an exact fraction, for values known when compiling."""
    with decimal.localcontext(CONTEXT) as ctx:
        ctx.prec = 200
        modes = {"half up": decimal.ROUND_HALF_UP, "half even": decimal.ROUND_HALF_EVEN,
                 "half down": decimal.ROUND_HALF_DOWN, "up": decimal.ROUND_UP,
                 "down": decimal.ROUND_DOWN, "ceiling": decimal.ROUND_CEILING,
                 "floor": decimal.ROUND_FLOOR}
        floor = value.numerator // value.denominator
        rem = value - floor
        if rem == 0:
            return floor
        q = (Decimal(floor) + Decimal(rem.numerator) / Decimal(rem.denominator))
        return int(q.quantize(Decimal(1), rounding=modes[mode]))


def _located(e: lo.Expr, holder: Located) -> Located:
    """What a refusal names while `e` is computed: `e`, or what holds a node the lowering made
    (a KPI's value read from its fact)."""
    return e if e.span is not None else holder


def _team_nodes(v: lo.VariantProgram) -> bool:
    """Does the variant read a team aggregate or the team's size?"""
    return any(isinstance(node, lo.TeamValue | lo.TeamSize)
               for e in _expressions(v) for node in lo.walk(e))


def _expressions(v: lo.VariantProgram) -> Iterator[lo.Expr | None]:
    """Every expression of a variant's lowered form (team aggregates are found in them)."""
    for fact in v.facts:
        yield fact.default
    for let in v.lets:
        yield let.value.value
        yield from (e for _m, e in let.value.by_month)
    for curve in v.curves.values():
        yield from (band.pays for band in curve.bands)
    for kpi in v.kpis:
        yield kpi.value
        if kpi.plan is not None:
            yield kpi.plan.value
            yield from (e for _m, e in kpi.plan.by_month)
        yield kpi.attainment
    for pay in v.payments:
        yield pay.formula
        yield pay.pool
        for line in pay.lines:
            yield line.share
            for gate in line.gates:
                yield gate.value
                yield gate.unless
        for gate in pay.gates:
            yield gate.value
            yield gate.unless
