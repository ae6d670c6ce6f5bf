"""`kpidsl eval --engine duckdb --format csv`: every line of the CSV written by the query.

The Python engine writes each KPI's value and attainment as the evaluator's Decimal shows
it: a value read from a cell keeps the cell's digits ('3300000.50', '0.021' for '2.1%'), and
an attainment is value ÷ plan divided in SHOWN (34 significant digits, half even), whose
text depends on the operands' exponents: exact quotients keep the ideal exponent
(3 300 000.00 ÷ 3 000 000 = '1.10', 3 300 000 ÷ 3 000 000 = '1.1'), others show 34 digits.
Here the query reproduces that text from exact integers:

- a value read from a fact: its count of 10**-6 and the cell's decimals (two more for a
  percent read as points), so '2.1%' is '0.021' and '5.00' is '5.00';
- value ÷ plan (a constant plan): the exact fraction a ÷ b of integers, divided by long
  division in chunks that stay within 128 bits (the first 51 decimals and whether any
  remainder is left), then the first 34 significant digits rounded half even by the
  remainder, or, when the quotient is exact, its trailing zeros removed down to the ideal
  exponent (the fact's exponent minus the plan's), as the decimal module does;
- amounts (pay lines summed per KPI, payments, the total): counts of the payout step,
  written with the step's decimals.

Every decision is exact integer or text arithmetic; nothing is approximated. What the
query cannot show exactly (a quotient smaller than 10**-16, a blank fact whose default
the reader supplies, a line whose amount could be a negative zero, a team or name cell
the CSV writer might treat otherwise) sends that row to the Python evaluator, in file
order. A KPI whose value is a quotient of two facts (revenue ÷ deals otherwise 0) or whose
attainment is lower is better is shown the same way from the generated query's exact
fraction and an ideal exponent kpidsl/sql/formula.py models (and holds to the evaluator);
the divisor is then a column of the row. A scheme whose KPIs are computed otherwise (a
longer formula, a rounded attainment, a plan that is not a constant) is written the
previous way, row by row with the Python evaluator, and `plan` says why.
tests/test_sql_lines.py compares the output with the Python engine's byte for byte.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .. import lower as lo
from . import formula
from .formula import DIVISOR_LIMIT

if TYPE_CHECKING:
    from ..api import Ruleset
    from .native import NativeRun

PRECISION = 34  # SHOWN's digits (kpidsl/runtime.py)
# decimals of a quotient the query computes: 34 significant digits and the next one from
# 0.01 up (a quotient below is written by the Python evaluator). Each chunk of decimals is a
# division and a cast to text: at 51 decimals in 128 bits the CSV of 200 000 rows of the
# reference scheme took 9.2 s of CPU, the Python engine 8.4 s
DIGITS = 36
HUGE = 1 << 126  # what a HUGEINT holds with room to spare (2**127 - 1 is the limit)
BIG = 1 << 62  # and a BIGINT: its division is a machine instruction, HUGEINT's a long one


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plain_field_unquoted() -> bool:
    """Whether the writer leaves printable ASCII without , " \\n \\r as it is (spaces at
    either end included)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([" a ", "b\tc", "x"])
    return out.getvalue() == " a ,b\tc,x\n"


@dataclass
class Figure:
    """A value shown in a column: the SQL of its text and what sends a row to Python."""

    text: str
    flags: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """The query's CSV line: columns appended to the scheme's query, the layers that
    compute texts from them, the line, and the rows the Python evaluator writes."""

    appended: list[tuple[str, str]]
    layers: list[list[str]]
    line: str
    python: str
    end: str = "chr(10)"  # SQL: what follows each line ('' for none)


class _Builder:
    def __init__(self, native: NativeRun) -> None:
        self.native = native
        self.appended: list[tuple[str, str]] = []
        self.layers: list[list[str]] = [[] for _ in range(10)]
        self.flags: list[str] = []
        self.n = 0

    def append(self, sql: str) -> str:
        name = f"_c{len(self.appended)}"
        self.appended.append((name, sql))
        return _q(name)

    def name(self) -> str:
        self.n += 1
        return f"_z{self.n}"

    def put(self, layer: int, sql: str) -> str:
        name = self.name()
        while len(self.layers) <= layer:
            self.layers.append([])
        self.layers[layer].append(f"{sql} AS {name}")
        return name


def joined(b: _Builder, parts: Sequence[str], flags: list[str]) -> str:
    """SQL: the parts (literals or SQL texts) as one text, by one concat(): a chain of `||`
    copies the line so far at each step (80 parts of a JSON item: 1.33 s per 100 000 rows
    against 0.09 s, measured). concat() skips a NULL where `||` gives NULL: every part
    that is not a literal is computed in a layer of its own, and a row with a NULL part is
    flagged (`flags`) to the Python evaluator instead of losing the part."""
    layer = len(b.layers)
    args = []
    for part in parts:
        if len(part) > 1 and part[0] == part[-1] == "'" and \
                "'" not in part[1:-1].replace("''", ""):  # a literal
            args.append(part)
            continue
        name = b.put(layer, part)
        flags.append(f"{name} IS NULL")
        args.append(name)
    return f"concat({', '.join(args)})"


def money_text(units: str, scale: int, bound: int | None = None) -> str:
    """SQL: an amount given as a count of 10**-scale, as plain_text writes it ('-12.30').
    Below 2**62 in magnitude (`bound`) in BIGINT: HUGEINT's // and % are long divisions."""
    if bound is not None and bound < BIG:
        units = f"CAST({units} AS BIGINT)"
    if scale == 0:
        return f"CAST({units} AS VARCHAR)"
    one = 10 ** scale
    # the decimals: 100 + 7 → '107' → '07' (integer division, no padding of text)
    return (f"(CASE WHEN {units} < 0 THEN '-' ELSE '' END || CAST(abs({units}) // {one} AS "
            f"VARCHAR) || '.' || substr(CAST(abs({units}) % {one} + {one} AS VARCHAR), 2))")


def fact_text(units: str, decimals: str) -> str:
    """SQL: a fact given as a count of 10**-6 with `decimals` (at most 6) decimals shown."""
    whole = f"CAST(abs({units}) // 1000000 AS VARCHAR)"
    part = f"lpad(CAST(abs({units}) % 1000000 AS VARCHAR), 6, '0')"
    return (f"(CASE WHEN {units} < 0 THEN '-' ELSE '' END || {whole} || CASE WHEN "
            f"{decimals} > 0 THEN '.' || left({part}, {decimals}) ELSE '' END)")


def quotient_text(b: _Builder, a: str, d: int | str, ideal: str, bound: int = HUGE,
                  dbound: int | None = None) -> Figure | None:
    """SQL: the text of Decimal ÷ Decimal in SHOWN whose exact value is a ÷ d (d > 0, a
    constant or a column of the row at most `dbound`, |a| ≤ bound) and whose ideal exponent
    is `ideal`; a flag where it is below 0.01 (and where a column d is past DIVISOR_LIMIT).
    None when a constant d leaves too little room in 128 bits for chunks of 4 digits. In 64
    bits where a and the chunks fit.

    The usual quotient (0.1 to 10) is decided in integers: its 34 digits as two of 17, the
    next digit and whether anything follows (per million quotients 0.8 s of CPU, against
    2.8 s by text: string functions cost rpad to 80 characters 1.4 s, rtrim 0.5 s, a cast
    of 34 digits to HUGEINT 0.7 s); the others by the digits' text, each step in a CASE so
    that it is computed only where taken."""
    flags = []
    if isinstance(d, int):
        most = d
    else:
        assert dbound is not None
        most = min(dbound, DIVISOR_LIMIT)
        if dbound > most:
            flags.append(b.put(0, f"({d}) > {most}"))
    small = bound < BIG and most * 10**3 < BIG and (isinstance(d, int) or dbound == most)
    limit = BIG if small else HUGE
    if most * 10**4 >= HUGE:
        return None
    chunk = 1
    while most * 10 ** (chunk + 1) < limit and chunk < 18:
        chunk += 1
    chunks = -(-DIGITS // chunk)
    power = 10 ** chunk
    magnitude = b.put(0, f"abs(CAST({a} AS {'BIGINT' if small else 'HUGEINT'}))")
    if not isinstance(d, int):  # a column: in the type of a; 1 past the limit (flagged)
        d = b.put(0, f"CAST(CASE WHEN ({d}) > {most} THEN 1 ELSE {d} END AS "
                     f"{'BIGINT' if small else 'HUGEINT'})")
    negative = b.put(0, f"({a}) < 0")
    exponent = b.put(0, f"CAST({ideal} AS INTEGER)")
    whole = b.put(1, f"{magnitude} // {d}")
    rest = b.put(1, f"{magnitude} % {d}")
    parts = []
    for layer in range(2, 2 + chunks):
        parts.append(b.put(layer, f"({rest} * {power}) // {d}"))
        rest = b.put(layer, f"({rest} * {power}) % {d}")
    last = 2 + chunks

    def frac(first: int, end: int) -> str:
        """SQL: the decimals first..end (1-based, at most 18) as an integer."""
        terms = []
        for c, part in enumerate(parts):
            s, e = c * chunk + 1, (c + 1) * chunk
            lo, hi = max(first, s), min(end, e)
            if lo > hi:
                continue
            piece = part if e == hi else f"({part} // {10 ** (e - hi)})"
            if hi - lo + 1 < chunk:
                piece = f"({piece} % {10 ** (hi - lo + 1)})"
            if end > hi:
                piece = f"{piece} * {10 ** (end - hi)}"
            terms.append(piece)
        return "(" + " + ".join(terms) + ")"

    # the usual quotient, 0.1 to 10 and not exact: 34 digits as two integers of 17, the
    # next digit and whether anything follows, rounded half even in integers
    one = f"{whole} BETWEEN 1 AND 9"
    hi = b.put(last, f"CASE WHEN {one} THEN {whole} * {10 ** 16} + {frac(1, 16)} ELSE "
                     f"{frac(1, 17)} END")
    lo = b.put(last, f"CASE WHEN {one} THEN {frac(17, 33)} ELSE {frac(18, 34)} END")
    guard = b.put(last, f"CASE WHEN {one} THEN {frac(34, 34)} ELSE {frac(35, 35)} END")
    after = b.put(last, f"({rest} <> 0 OR CASE WHEN {one} THEN {frac(35, 36)} ELSE "
                        f"{frac(36, 36)} END <> 0)")
    common = b.put(last, f"({one} OR ({whole} = 0 AND {parts[0]} >= {10 ** (chunk - 1)}))")
    up = b.put(last + 1, f"CASE WHEN {guard} > 5 OR ({guard} = 5 AND ({after} OR {lo} % 2 = 1))"
                         f" THEN 1 ELSE 0 END")
    fast = b.put(last + 1, f"({common} AND NOT ({up} = 1 AND {hi} = {10 ** 17 - 1} AND {lo} = "
                           f"{10 ** 17 - 1}))")
    exact_fast = b.put(last + 1, f"({guard} = 0 AND NOT {after})")
    carried = b.put(last + 2, f"CASE WHEN {fast} THEN {hi} + ({lo} + {up}) // {10 ** 17} END")
    low = b.put(last + 2, f"CASE WHEN {fast} THEN ({lo} + {up}) % {10 ** 17} END")
    fast_text = (f"CASE WHEN {one} THEN CAST({carried} // {10 ** 16} AS VARCHAR) || '.' || "
                 f"lpad(CAST({carried} % {10 ** 16} AS VARCHAR), 16, '0') ELSE '0.' || "
                 f"lpad(CAST({carried} AS VARCHAR), 17, '0') END || "
                 f"lpad(CAST({low} AS VARCHAR), 17, '0')")
    fast_column = b.put(last + 3, f"CASE WHEN {fast} THEN {fast_text} END")
    # exact: the trailing zeros go down to the ideal exponent (and no further)
    trimmed = b.put(last + 4, f"CASE WHEN {fast} AND {exact_fast} THEN rtrim({fast_column}, '0')"
                              f" END")
    places = f"(length({trimmed}) - strpos({trimmed}, '.'))"
    wanted = f"greatest(-{exponent}, {places})"
    exact_text = (f"CASE WHEN {wanted} = 0 THEN left({trimmed}, length({trimmed}) - 1) ELSE "
                  f"{trimmed} || repeat('0', CAST({wanted} - {places} AS INTEGER)) END")
    # the others by their text, computed only where taken
    slow = f"NOT {fast}"
    base = last + 5

    def put(layer: int, sql: str) -> str:
        return b.put(base + layer, f"CASE WHEN {slow} THEN {sql} END")

    whole_text = put(0, f"CAST({whole} AS VARCHAR)")
    digits = put(0, f"CAST({whole} AS VARCHAR) || " + " || ".join(
        f"lpad(CAST({p} AS VARCHAR), {chunk}, '0')" for p in parts))
    left_over = b.put(base, f"{rest} <> 0")
    sig = put(1, f"ltrim({digits}, '0')")
    zeros = "'" + "0" * (PRECISION + 1) + "'"
    adjusted = put(2, f"length({whole_text}) - (length({digits}) - length({sig})) - 1")
    keep = put(2, f"left({sig} || {zeros}, {PRECISION})")
    sguard = put(2, f"substr({sig} || {zeros}, {PRECISION + 1}, 1)")
    sticky = put(2, f"({left_over} OR ltrim(substr({sig}, {PRECISION + 2}), '0') <> '')")
    zero = put(2, f"({sig} = '' AND NOT {left_over})")
    unsure = b.put(base + 2, f"coalesce({slow} AND {left_over} AND length({sig}) < "
                             f"{PRECISION + 1}, false)")
    e0 = f"({adjusted} - {PRECISION - 1})"
    sup = put(3, f"({sguard} > '5' OR ({sguard} = '5' AND ({sticky} OR "
                 f"right({keep}, 1) IN ('1', '3', '5', '7', '9'))))")
    exact = put(3, f"({sguard} = '0' AND NOT {sticky})")
    strip = (f"CAST(least({PRECISION} - length(rtrim({keep}, '0')), greatest(0, {exponent} - "
             f"{e0})) AS INTEGER)")
    nines = "'" + "9" * PRECISION + "'"
    tail = f"(length({keep}) - length(rtrim({keep}, '9')))"
    increment = (f"left({keep}, {PRECISION - 1} - {tail}) || CAST(CAST(substr({keep}, "
                 f"{PRECISION} - {tail}, 1) AS INTEGER) + 1 AS VARCHAR) || repeat('0', "
                 f"CAST({tail} AS INTEGER))")
    coefficient = put(4, f"CASE WHEN {zero} THEN '0' WHEN {exact} THEN left({keep}, "
                         f"{PRECISION} - {strip}) WHEN NOT {sup} THEN {keep} WHEN "
                         f"{keep} = {nines} THEN '1' || repeat('0', {PRECISION - 1}) "
                         f"ELSE {increment} END")
    power_of = put(4, f"CAST(CASE WHEN {zero} THEN {exponent} WHEN {exact} THEN {e0} + "
                      f"{strip} WHEN {sup} AND {keep} = {nines} THEN {e0} + 1 "
                      f"ELSE {e0} END AS INTEGER)")
    c, e = coefficient, power_of
    fixed = (f"CASE WHEN {e} >= 0 THEN {c} || repeat('0', {e}) WHEN length({c}) > -{e} THEN "
             f"left({c}, length({c}) + {e}) || '.' || right({c}, -{e}) ELSE '0.' || "
             f"lpad({c}, -{e}, '0') END")
    slow_text = (f"CASE WHEN {zero} THEN '0' || CASE WHEN {e} < 0 THEN '.' || "
                 f"repeat('0', -{e}) ELSE '' END ELSE {fixed} END")
    text = b.put(base + 5, f"CASE WHEN {negative} THEN '-' ELSE '' END || CASE WHEN {fast} "
                           f"AND {exact_fast} THEN {exact_text} WHEN {fast} THEN {fast_column} "
                           f"ELSE {slow_text} END")
    return Figure(text, [unsure, *flags])


def _probe(native: NativeRun) -> tuple[dict[int, tuple[str, Decimal | None]], str | None]:
    """Each KPI whose value is a fact passed through as it is and whose attainment is that
    fact ÷ a constant: position → (fact, the constant as the evaluator holds it, None when
    the KPI has no attainment). Decided from the evaluator itself, on two sets of facts of
    different exponents: the value must be the fact's own Decimal object. The other KPIs
    are left out (kpidsl/sql/formula.py models them)."""
    import decimal

    from ..runtime import ODD

    info = native.info
    n = len(info.layout.kpis)
    found: dict[int, tuple[str, Decimal | None]] = {}
    outputs = []
    probes = []
    for seed in ((Decimal("1.5"), Decimal("0.25")), (Decimal("7"), Decimal("1.125000"))):
        facts = {name: Decimal(seed[i % 2]) + i for i, name in enumerate(info.facts)}
        facts = {name: Decimal(str(v)) for name, v in facts.items()}
        try:
            with decimal.localcontext(ODD):
                outputs.append(info.function(facts, None, native.month))
        except Exception:
            return {}, "the evaluator fails on the probe facts"
        probes.append(facts)
    for i in range(n):
        shapes = []
        for facts, out in zip(probes, outputs, strict=True):
            dens = out.denominators or (None,) * (3 * n)
            value = out.kpis[i]
            fact = next((f for f, v in facts.items() if v is value), None)
            if fact is None or dens[i] is not None:
                break
            attainment = out.attainments[i]
            if attainment is None:
                shapes.append((fact, None))
                continue
            if attainment is not value or dens[2 * n + i] is None:
                break
            shapes.append((fact, dens[2 * n + i]))
        if len(shapes) < 2:
            continue
        (f0, d0), (f1, d1) = shapes
        if f0 != f1 or (d0 is None) != (d1 is None) or (
                d0 is not None and (d0 != d1 or d0.as_tuple() != d1.as_tuple())):  # type: ignore[union-attr]
            continue
        found[i] = (f0, d0)
    return found, None


def fact_decimals(b: _Builder, fact: str) -> str:
    """SQL (a column): the decimals a fact's cell shows, two more for a percent read as
    points; the row is the Python evaluator's where the cell is blank."""
    text_col, shift_col = _q("_t_" + fact), _q("_s_" + fact)
    b.flags.append(f"{text_col} IS NULL")
    return b.append(f"CAST(CASE WHEN strpos({text_col}, '.') > 0 THEN length({text_col}) "
                    f"- strpos({text_col}, '.') ELSE 0 END + CASE WHEN {shift_col} "
                    f"THEN 2 ELSE 0 END AS INTEGER)")


# an attainment as the query divides it: (a, d, ideal exponent, bound of |a|), its exact
# value a ÷ d (d > 0: a constant, or a column of the row when the value is a formula)
Quotient = tuple[str, int | str, str, int]


@dataclass
class KpiFigure:
    """How the query shows one KPI: its fact as a count of 10**-6 (`units`, SQL) with the
    cell's decimals (`decimals`, SQL), or the quotient `value_q` when its value is a
    formula; its attainment as the exact fraction a ÷ d with the ideal exponent `ideal`
    (SQL), None without one; `modelled` when kpidsl/sql/formula.py decided them (a formula
    or an attainment other than fact ÷ plan)."""

    name: str
    fact: str | None  # None: a formula
    units: str
    decimals: str
    plan: Decimal | None  # the plan as the evaluator divides by it
    quotient: Quotient | None
    lines: int  # how many pay lines pay on it
    value_q: formula.Exact | None = None
    modelled: bool = False
    model: formula.KpiModel | None = None


def _plans(native: NativeRun) -> list[Decimal | None] | str:
    """Each KPI's plan as the evaluator holds it (one evaluation: the plans the query
    models are constants, which formula.build checks)."""
    import decimal

    from ..runtime import ODD

    info = native.info
    facts = {name: Decimal(i + 1) for i, name in enumerate(info.facts)}
    try:
        with decimal.localcontext(ODD):
            out = info.function(facts, None, native.month)
    except Exception:
        return "the evaluator fails on the probe facts"
    return [p if isinstance(p, Decimal) else None for p in out.plans]


@dataclass
class Shown:
    """Every figure the query shows exactly: by the keys of flat_columns (detailed), with the
    rows they send to the Python evaluator (`b.flags`)."""

    b: _Builder
    figures: dict[str, Figure]
    kpis: list[KpiFigure]
    scale: int  # the payout step's decimals


def shown_figures(native: NativeRun) -> Shown | str:
    """The figures the query shows for this scheme, or why it cannot show them exactly."""
    from ..runtime import is_fraction_step

    ruleset: Ruleset = native.ruleset
    if not native.fraction or native.exponent > 0 or not is_fraction_step(native.step):
        return "a payout step that is not 1, 0.1, 0.01, …"
    info = native.info
    variant = next(iter(lo.lower(ruleset.checked).variants.values()))
    kpis = {k.name: k for k in variant.kpis}
    shapes, why = _probe(native)
    if why is not None:
        return why
    out = native.full_query.output
    dialect = native.full_query.dialect.sqlglot
    b = _Builder(native)
    scale = -native.exponent
    figures: dict[str, Figure] = {}
    found: list[KpiFigure] = []
    models: dict[int, formula.KpiModel] = {}
    plans = _plans(native)
    for i, name in enumerate(info.layout.kpis):
        kpi = kpis.get(name)
        if kpi is None or kpi.rounding is not None:
            return f"KPI {name}: a rounded attainment"
        entry = next(e for e in out.kpis if e[0] == name)
        _name, value, plan_num, attainment = entry
        if i not in shapes:  # a formula, or an attainment other than value ÷ plan
            if isinstance(plans, str):
                return plans
            model = formula.build(native, kpi, kpis, value, plan_num, attainment, plans[i],
                                  lambda fact: fact_decimals(b, fact), b.append, dialect)
            if isinstance(model, str):
                return model
            models[i] = model
            fact = kpi.value.name if isinstance(kpi.value, lo.FactValue) else None
            plan_den = plans[i] if model.attainment is not None else None
        else:
            fact, plan_den = shapes[i]
            if not isinstance(kpi.value, lo.FactValue) or kpi.value.name != fact:
                return f"KPI {name}: its value is not a fact"
        units = decimals = ""
        value_q = models[i].value if i in models else None
        if value_q is None:
            assert fact is not None
            if fact not in native.facts:
                return f"KPI {name}: fact {fact} is not in the file"
            if value.dyn is not None or value.k != 10 ** 6:
                return f"KPI {name}: its value is not a count of 10**-6"
            units = b.append(value.num.e.sql(dialect=dialect))
            decimals = fact_decimals(b, fact)
            figures[f"kpi:{name}"] = Figure(fact_text(units, decimals))
        else:
            shown_value = quotient_text(b, value_q.num, value_q.den, value_q.ideal,
                                        value_q.bound, value_q.dbound)
            if shown_value is None:
                return f"KPI {name}: a value too long to divide in 38 digits"
            figures[f"kpi:{name}"] = shown_value
        quotient: Quotient | None = None
        if i in models:
            exact = models[i].attainment
            if exact is None:
                figures[f"att:{name}"] = Figure("''")
            else:
                figure = quotient_text(b, exact.num, exact.den, exact.ideal, exact.bound,
                                       exact.dbound)
                if figure is None:
                    return f"KPI {name}: an attainment too long to divide in 38 digits"
                figures[f"att:{name}"] = figure
                quotient = (exact.num, exact.den, exact.ideal, exact.bound)
        elif plan_den is None:
            if attainment is not None:
                return f"KPI {name}: an attainment the evaluator does not show"
            figures[f"att:{name}"] = Figure("''")
        else:
            static = plan_num.static if plan_num is not None else None
            if kpi.attainment_rule is not lo.AttainmentRule.RATIO or static is None or \
                    static != Fraction(plan_den):
                return f"KPI {name}: its attainment is not value ÷ a constant plan"
            ratio = Fraction(1, 10 ** 6) / static
            a = units if ratio.numerator == 1 else f"({units} * {ratio.numerator})"
            exponent = plan_den.as_tuple().exponent
            assert isinstance(exponent, int)
            ideal = f"(-{decimals} - ({exponent}))"
            bound = value.num.bound * abs(ratio.numerator)
            figure = quotient_text(b, a, ratio.denominator, ideal, bound)
            if figure is None:
                return f"KPI {name}: a plan too long to divide by in 38 digits"
            figures[f"att:{name}"] = figure
            quotient = (a, ratio.denominator, ideal, bound)
        lines = [line for line in out.lines if line[1] == name]
        found.append(KpiFigure(name, fact, units, decimals, plan_den, quotient, len(lines),
                               value_q, i in models, models.get(i)))
        if not lines:
            figures[f"pay:{name}"] = Figure("''")
            continue
        total = " + ".join(f"CAST({b.append(line[5].e.sql(dialect=dialect))} AS HUGEINT)"
                           for line in lines)
        figures[f"pay:{name}"] = Figure(money_text(f"({total})", scale,
                                                   sum(line[5].bound for line in lines)))
    if models:
        why = formula.probe(native, models)
        if why is not None:
            return why
    for pay, units_int in out.pays:
        column = b.append(units_int.e.sql(dialect=dialect))
        figures[f"component:{pay}"] = Figure(money_text(column, scale, units_int.bound))
    figures["total"] = Figure(money_text(b.append('"total_units"'), scale, native.bound))
    # a line whose amount rounds to 0 from below is -0.00 in Python (a pool of such
    # lines too): those rows are written by the Python evaluator
    for _pay, _kpi, share, factor, _band, units_int, gate in out.lines:
        sign = (f"sign({share.num.e.sql(dialect=dialect)}) * "
                f"sign({factor.num.e.sql(dialect=dialect)})")
        b.flags.append(b.append(f"({units_int.e.sql(dialect=dialect)} = 0 AND ({sign} < 0 OR "
                                f"{gate.e.sql(dialect=dialect)} <> 0))"))
    return Shown(b, figures, found, scale)


def quote_set(delimiter: str = ",", terminator: str = "\n") -> tuple[str, ...]:
    """The characters that make this Python's csv.writer quote a field with this delimiter
    and line terminator (QUOTE_MINIMAL): probed, so the query quotes exactly as it does."""
    found = []
    for char in (delimiter, ",", ";", '"', "\n", "\r"):
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerow(
            ["a" + char + "b", "c"])
        if out.getvalue().startswith('"') and char not in found:
            found.append(char)
    return tuple(found)


def csv_field(text: str, quoting: Sequence[str]) -> str:
    """SQL: a text cell as the CSV writer writes it (quoted where one of `quoting` is in it)."""
    tests = " OR ".join(f"strpos({text}, {_lit(c)}) > 0" for c in quoting) or "false"
    return (f"CASE WHEN {tests} THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE "
            f"{text} END")


def plan(native: NativeRun, keys: Sequence[str]) -> Plan | str:
    """The query's CSV line for the columns `keys` (flat_columns, detailed), or why the
    query cannot write it (the rows are then written with the Python evaluator)."""
    if not _plain_field_unquoted():
        return "this Python's CSV writer quotes more than , \" and line ends"
    quoting = quote_set()
    shown = shown_figures(native)
    if isinstance(shown, str):
        return shown
    b, figures, info = shown.b, shown.figures, native.info

    def field_of(text: str) -> str:
        return csv_field(text, quoting)

    cells: list[str] = []
    for key in keys:
        if key == "employee":
            cells.append(field_of('"_employee"'))
        elif key.startswith("extra:"):
            found = next((c for c in native.native.columns if c.role == "extra"
                          and c.key == key[6:]), None)
            if found is None:
                return f"a descriptive column {key[6:]} the file does not have"
            cells.append(field_of(_q("_x_" + found.sql)))
        elif key == "grade":
            grade = io.StringIO()
            csv.writer(grade, lineterminator="\n").writerow([info.name, ""])
            cells.append(_lit(grade.getvalue()[:-2]))
        elif key == "team":
            team = b.append("trim(coalesce(\"_team_text\", ''))")
            # the Python engine strips every kind of space: printable ASCII only here
            b.flags.append("NOT regexp_full_match(coalesce(\"_team_text\", ''), '[ -~]*')")
            cells.append(field_of(team))
        elif key in figures:
            cells.append(figures[key].text)
        else:
            return f"a column {key} the query does not write"
    flags = [*b.flags, *(f for fig in figures.values() for f in fig.flags)]
    parts = [cells[0]]
    for cell in cells[1:]:
        parts += ["','", cell]
    line = joined(b, parts, flags)
    layers = [layer for layer in b.layers if layer]
    return Plan(b.appended, layers, line, " OR ".join(flags) if flags else "false")


def write_lines(write: Callable[[str], object], ruleset: Ruleset, run: Any) -> bool:
    """`eval --format csv` of a run DuckDB reads: the header, then every row as the query
    writes it (rows it sends to Python through the renderer's own cells). False when the
    query cannot write this CSV: the renderer then writes it all."""
    from ..cli.render.csvfile import flat_cells
    from ..cli.render.model import flat_columns

    native: NativeRun = run.native
    columns = flat_columns(ruleset, native.extras, detailed=True)
    found = plan(native, [c.key for c in columns])
    native.csv_reason = found if isinstance(found, str) else None
    if isinstance(found, str):
        return False
    header = io.StringIO()
    writer = csv.writer(header, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    write(header.getvalue())
    cells = flat_cells(ruleset, columns)

    def row_text(item: Any) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(cells(item))
        return out.getvalue()

    write_query(write, run, found, row_text)
    return True


def write_query(write: Callable[[str], object], run: Any, found: Plan,
                row_text: Callable[[Any], str]) -> None:
    """Every row of the run from the query's line (`found`), in file order; a row the query
    flags through `row_text` of its Evaluated (the Python evaluator's figures)."""
    from ..run import Evaluated

    native: NativeRun = run.native
    sql = select(native, found)
    hooks = native.hooks
    base = len(native.carry)
    for batch in native.flagged_batches(sql, write):
        out: list[str] = []
        for record in (tuple(r.values()) for r in batch.to_pylist()):
            native.consumed += 1
            if not record[base]:
                out.append(record[-1])
                hooks.evaluated(1)
                continue
            result, extra = native.evaluate(record, native.consumed + 1)
            if result is None:
                continue
            hooks.evaluated(1)
            out.append(row_text(Evaluated(result, extra)))
        write("".join(out))
    for _item in run.items:  # the run is over: nothing is left, its meter closes
        pass


def select(native: NativeRun, found: Plan) -> str:
    """The query with the CSV line: the scheme's query with the appended columns, the
    layers over it, the raw cells only where the Python evaluator writes the row."""
    tree = native.full_query.tree.copy()
    import sqlglot

    dialect = native.full_query.dialect.sqlglot
    for name, sql in found.appended:
        tree.select(sqlglot.parse_one(sql, read=dialect).as_(name, quoted=True), append=True,
                    copy=False)
    inner = f"SELECT * FROM ({tree.sql(dialect=dialect)}) AS q"
    for layer in found.layers:
        inner = f"SELECT *, {', '.join(layer)} FROM ({inner}) AS q"
    python = f"coalesce(fails OR ({found.python}), true)"
    columns = [f"CASE WHEN {python} THEN {_q(c)} END AS {_q(c)}" for c in native.carry]
    columns += [f"{python} AS fails"]
    columns += [f'CASE WHEN {python} THEN CAST("{p}_units" AS VARCHAR) END' for p in native.pays]
    line = f"{found.line} || {found.end}" if found.end else found.line
    columns += [f"CASE WHEN NOT {python} THEN {line} END AS _line"]
    tail = f" OFFSET {native.consumed}" if native.consumed else ""
    return (f"WITH facts AS ({native.native.facts_view()}) SELECT {', '.join(columns)} FROM "
            f"({inner}) AS q{tail}")
