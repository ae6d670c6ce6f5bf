"""Scheme generators for fuzzing: Hypothesis strategies over the grammar, and text mutation.

Three sources of inputs, from most to least structured:
- `coherent_schemes()`: schemes built the way a consultant writes them (facts, a curve, KPIs
  with plans, a pool whose weights add up, examples, grades), with hostile names, labels and
  numbers mixed in; most compile and are evaluated.
- `grammar_schemes()`: any sequence of statements the grammar describes, every part drawn at
  random (unknown names, wrong units, odd curves), so the checker meets every mistake.
- `mutate(text, rnd)`: the bundled rulesets with characters, tokens and lines deleted,
  duplicated, swapped or replaced, so the parser meets every kind of broken text.
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from kpidsl.parser import RESERVED_WORDS

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- words

PLAIN_NAMES = ("revenue", "calls", "deals", "margin", "conversion", "avg_check", "meetings",
               "nps", "refunds", "leads", "x", "k1", "y2")
HOSTILE_NAMES = (
    "__import__", "__class__", "__builtins__", "__init__", "_", "eval", "exec", "open", "rt",
    "Decimal", "facts", "team", "month", "D0", "k0", "v0_curve0", "SCHEME", "EVALUATORS",
    "None", "True", "print", "os", "sys", "lambda", "class", "import", "def", "return",
    "выручка", "звонки", "ümsatz", "ＡＢＣ", "ǅ", "µ", "名前", "x\u0301", "a\u200db",
)
VALID_HOSTILE_NAMES = tuple(n for n in HOSTILE_NAMES
                            if re.fullmatch(r"[^\W\d]\w*", n) and n not in RESERVED_WORDS)
RESERVED = ("plan", "total", "team", "attainment", "pay", "kpi", "min", "round", "if", "month")
NAMES = PLAIN_NAMES + HOSTILE_NAMES

HOSTILE_TEXT = (
    '\\"', "\\\\", "\\n", "'", "''' ", '"""', "\u202e", "\u2066", "\u200b", "\u2028", "\r",
    "\t", "__import__('os').system('id')", "'); import os #", "{0}", "%s", "${x}",
    "<script>", "\\x00", "\x00", "\ufeff", "😀", "ы", "# not a comment", "\\u202e",
    "None", "Traceback", "KeyError", "\x7f", "\x1b[31m",
)

UNITS = ("money", "count", "percent", "ratio", "number", "minutes", "hours", "days")
CURRENCIES = ("RUB", "USD", "EUR", "₽", "€")
MODES = ("half up", "half even", "half down", "up", "down", "ceiling", "floor")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
COMPARE = (">=", "<=", "!=", "≥", "≤", "≠", "=", "<", ">")
ARITH = ("+", "-", "−", "*", "×", "/", "÷")

# ---------------------------------------------------------------- leaves


def digits(draw_int: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return draw_int.flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))


sane_numbers = st.one_of(
    st.integers(0, 200).map(str),
    st.integers(0, 10**9).map(lambda n: f"{n:_}"),
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**4)).map(lambda t: f"{t[0]}.{t[1]}"),
    digits(st.integers(1, 20)),  # literals stay below 10^20 (kpidsl.numbers.bound_error)
    st.sampled_from(("0", "00", "007", "1_", "1__0", "0.00000000000000000001",
                     "9" * 19, "3_000_000", "1.5")),
)
numbers = st.one_of(sane_numbers, digits(st.integers(21, 80)),
                    st.sampled_from(("9" * 59, "0.0000000000000000000000000000000001")),
                    st.sampled_from(("9" * 61, "1" + "0" * 10_000)))
sane_percents = st.one_of(
    sane_numbers.map(lambda n: n + "%"),
    st.sampled_from(("80%", "100%", "120%", "0%", "2.1%", "33.333%", "80 %")),
)
percents = st.one_of(sane_percents, numbers.map(lambda n: n + "%"), st.just("1e2%"))
money = st.tuples(numbers, st.sampled_from(CURRENCIES)).map(lambda t: f"{t[0]} {t[1]}")
sane_money = st.tuples(sane_numbers, st.sampled_from(("RUB", "RUB", "₽"))).map(
    lambda t: f"{t[0]} {t[1]}")


def quote(text: str) -> str:
    """A label as the language writes it: backslash and quote escaped, no raw newline."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\x00", "") + '"'


@cache
def labels(valid: bool = False) -> st.SearchStrategy[str]:
    """A quoted label: plain, Russian, or full of quotes, backslashes and control characters.
    With `valid`, every label is well-formed (the hostile text escaped as a scheme author
    would); without, some break the string and the statement around it."""
    body = st.one_of(
        st.sampled_from(("Revenue", "Выручка", "Average check", "")),
        st.lists(st.sampled_from(HOSTILE_TEXT), min_size=1, max_size=4).map("".join),
        st.text(max_size=12),
    )
    if valid:
        return body.map(quote)
    return body.map(lambda b: '"' + b.replace("\n", "\\n") + '"')


@cache
def names(pool: tuple[str, ...] = NAMES) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(pool), st.sampled_from(RESERVED),
                     st.from_regex(r"[a-zа-я_][a-z0-9_]{0,8}", fullmatch=True))


# ---------------------------------------------------------------- expressions


def expressions(refs: st.SearchStrategy[str], max_leaves: int = 10,
                sane: bool = False) -> st.SearchStrategy[str]:
    """Any expression of the grammar. With `sane`, numbers stay short and operators numeric,
    so most results check (conditions and unit mistakes still occur, less often)."""
    if sane:
        return st.recursive(
            st.one_of(sane_numbers, sane_percents, refs, refs, refs.map(lambda n: f"plan of {n}"),
                      refs.map(lambda n: f"attainment of {n}")),
            lambda inner: st.one_of(
                st.tuples(inner, st.sampled_from(("+", "-", "*", "×", "−")), inner)
                .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
                st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} / {t[1]} otherwise {t[2]})"),
                st.tuples(st.sampled_from(("min", "max")), inner, inner)
                .map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
                inner.map(lambda e: f"abs({e})"),
                st.tuples(inner, inner, inner, inner)
                .map(lambda t: f"(if {t[0]} >= {t[1]} then {t[2]} else {t[3]})"),
                st.tuples(inner, st.sampled_from(("1", "0.01", "100", "5"))).map(
                    lambda t: f"round({t[0]}, {t[1]})"),
                inner.map(lambda e: f"standard({e})"),
            ),
            max_leaves=max_leaves,
        )
    atoms = st.one_of(
        numbers, percents, money, refs, refs,
        refs.map(lambda n: f"plan of {n}"), refs.map(lambda n: f"attainment of {n}"),
        st.just("attainment"), st.just("team size"),
        st.tuples(st.sampled_from(("total", "average", "min", "max")), refs)
        .map(lambda t: f"team {t[0]} of {t[1]}"),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(inner, inner)
        return st.one_of(
            st.tuples(inner, st.sampled_from(ARITH), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            pair.map(lambda t: f"({t[0]} / {t[1]} otherwise 0)"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} / {t[1]} otherwise {t[2]}"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(inner, st.sampled_from(COMPARE), inner)
            .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
            st.tuples(inner, st.sampled_from(("and", "or")), inner)
            .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            inner.map(lambda e: f"not {e}"),
            st.tuples(st.sampled_from(("min", "max", "abs")), st.lists(inner, min_size=1,
                                                                       max_size=3))
            .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, inner, st.none() | st.sampled_from(MODES))
            .map(lambda t: f"round({t[0]}, {t[1]}{', ' + t[2] if t[2] else ''})"),
            st.tuples(refs, inner).map(lambda t: f"{t[0]}({t[1]})"),
        )

    return st.recursive(atoms, extend, max_leaves=max_leaves)


# Built once: Hypothesis validates a strategy on first use, which costs more than drawing.
ANY_EXPR = expressions(names())
CURVE_EXPR = expressions(st.sampled_from(("attainment", "x", "rate_c")))
_SLOTS = tuple(f"⟨{i}⟩" for i in range(5))
SANE_EXPR = expressions(st.sampled_from(_SLOTS), max_leaves=6, sane=True)


def _fill(expr: str, fact_names: list[str]) -> str:
    """Put the scheme's own fact names into the slots of a pre-built expression."""
    for index, slot in enumerate(_SLOTS):
        expr = expr.replace(slot, fact_names[index % len(fact_names)])
    return expr


# ---------------------------------------------------------------- statements


@st.composite
def header(draw: st.DrawFn, valid: bool = False) -> str:
    parts = [f"scheme {draw(st.sampled_from(PLAIN_NAMES) if valid else names())}"]
    if draw(st.booleans()):
        parts.append(draw(labels(valid)))
    clauses = draw(st.lists(st.sampled_from((
        "currency RUB", "period month", "period quarter", "version \"1\"",
        "effective from 2025-01", "effective from 2025-01-01 to 2025-12",
        "round payouts to 0.01", "round payouts to 1 down", "round attainment to 0.001 half even",
        "round payouts to 5", "round payouts to 1 floor",
        *(() if valid else ("currency USD", "paid per team", "round payouts to 0")),
    )), max_size=4, unique=True))
    return "\n  ".join([" ".join(parts), *clauses])


def _weights(count: int) -> st.SearchStrategy[list[str]]:
    if count == 0:
        return st.just([])
    exact = {1: ["100%"], 2: ["50%", "50%"], 3: ["33.33%", "33.33%", "33.34%"],
             4: ["40%", "20%", "20%", "20%"]}
    fair = exact.get(count, [f"{100 // count}%"] * count)
    return st.one_of(st.just(fair), st.just(fair), st.just(fair),
                     st.lists(sane_percents, min_size=count, max_size=count))


@st.composite
def curve(draw: st.DrawFn, name: str, valid: bool = False) -> str:
    kind = draw(st.sampled_from(("standard", "standard", "standard", "linear") if valid else
                                ("standard", "bands", "linear", "marginal", "whole")))
    label = draw(labels(valid)) if draw(st.booleans()) else ""
    head = f"curve {name} {label}".rstrip()
    if kind == "standard":
        body = ["below 80% pays 0", "from 80% through 100% pays attainment",
                "above 100% pays attainment × 1.2"]
    elif kind == "bands":
        ranges = draw(st.lists(st.sampled_from((
            "below 80%", "at most 50%", "from 80%", "above 100%", "from 80% to 100%",
            "from 0% through 100%", "above 100% to 150%", "above 50% through 80%",
        )), min_size=1, max_size=4))
        body = [f"{r} pays {draw(CURVE_EXPR)}"
                for r in ranges]
    elif kind == "linear":
        points = draw(st.lists(st.tuples(percents, percents), min_size=1, max_size=4))
        if valid:
            points = [("0%", "0%"), ("80%", "50%"), ("100%", "100%"), ("150%", "200%")]
        body = ["linear", *(f"at {a} pays {b}" for a, b in points)]
    else:
        tiers = draw(st.lists(st.tuples(st.sampled_from((
            "below 100_000 RUB", "from 0 to 100_000", "from 100_000 RUB to 500_000 RUB",
            "from 500_000 RUB", "above 1_000_000 RUB", "from 0%",
        )), percents), min_size=1, max_size=3))
        body = [f"tiers {kind}", *(f"{r} rate {p}" for r, p in tiers)]
    limits = draw(st.lists(st.sampled_from(("cap 200%", "floor 0", "cap 150%") if valid else
                                           ("cap 200%", "floor 0", "cap 150%", "cap x")),
                           max_size=2, unique=True))
    return "\n  ".join([head, *body, *limits])


@st.composite
def coherent_schemes(draw: st.DrawFn) -> str:
    """A scheme written the usual way; hostile words appear as names, labels and numbers."""
    pool = draw(st.sampled_from((PLAIN_NAMES, PLAIN_NAMES + VALID_HOSTILE_NAMES)))
    fact_names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=5, unique=True))
    units = [draw(st.sampled_from(("money", "count", "percent", "number"))) for _ in fact_names]
    out = [draw(header(valid=True))]
    for name, unit in zip(fact_names, units, strict=True):
        zero = {"money": "0 RUB", "percent": "0%"}.get(unit, "0")
        missing = f" if missing {zero}" if draw(st.integers(0, 4)) == 0 else ""
        label = draw(labels(valid=True)) if draw(st.booleans()) else ""
        out.append(f"fact {name} {unit} {label}{missing}")
    if draw(st.booleans()):
        out.append(f"constant rate_c {draw(labels(valid=True))} = {draw(sane_percents)}"
                   + (f" by month {draw(st.sampled_from(MONTHS))} {draw(sane_percents)}"
                      if draw(st.booleans()) else ""))
    out.append(draw(curve("standard", valid=True)))
    kpis = []
    for name, unit in zip(fact_names, units, strict=True):
        plan = draw({"money": sane_money, "count": sane_numbers, "percent": sane_percents,
                     "number": sane_numbers}[unit])
        extra = draw(st.sampled_from(("", " lower is better", " group result",
                                      " group activity", " by month jan 1", "")))
        out.append(f"kpi {name} {draw(labels(valid=True))} plan {plan}{extra}")
        kpis.append(name)
    if draw(st.booleans()):
        formula = _fill(draw(SANE_EXPR), fact_names)
        out.append(f"kpi derived = {formula} plan {draw(sane_numbers)}")
    out.append(f"pay salary {draw(labels(valid=True))} = {draw(sane_money)}")
    paid = draw(st.lists(st.sampled_from(kpis), min_size=1, max_size=4, unique=True))
    weights = draw(_weights(len(paid)))
    out.append(f"pay bonus pool {draw(sane_money)}")
    for kpi, weight in zip(paid, weights, strict=True):
        gate = draw(st.sampled_from(("", "", " cap 100%", " floor 1000 RUB",
                                     f" only if attainment of {kpi} >= 50%",
                                     f" cap 100% unless attainment of {kpi} >= 120%")))
        out.append(f"  for {kpi} weight {weight} curve standard{gate}")
    money_facts = [n for n, u in zip(fact_names, units, strict=True) if u == "money"]
    if money_facts and draw(st.booleans()):
        fact = draw(st.sampled_from(money_facts))
        out.append(f"pay commission = max({fact} − plan of {fact}, 0) × {draw(sane_percents)}")
    elif draw(st.booleans()):
        formula = _fill(draw(SANE_EXPR), fact_names)
        out.append(f"pay commission = {formula}")
    if draw(st.booleans()):
        out.append(f"budget fund cap {draw(sane_money)} for bonus")
    for index in range(draw(st.integers(0, 2))):
        given = ", ".join(f"{n} = {draw(st.one_of(sane_numbers, sane_money, sane_percents))}"
                          for n in fact_names)
        out.append(f"example ex{index} {draw(labels(valid=True))}\n  given {given}\n"
                   f"  expect total = {draw(sane_money)}")
    if draw(st.booleans()):
        out.append(f"grade junior \"Junior\"\n  kpi {kpis[0]} plan {draw(sane_numbers)}")
        if len(kpis) > 1 and draw(st.booleans()):
            out.append(f"  drop {kpis[-1]}")
    return "\n".join(out) + "\n"


@st.composite
def statements(draw: st.DrawFn) -> str:
    """Any one statement of the grammar, every part drawn at random."""
    refs, expr = names(), ANY_EXPR
    kind = draw(st.sampled_from(("fact", "constant", "curve", "kpi", "pay", "pool", "budget",
                                 "example", "drop", "grade")))
    name = draw(refs)
    label = draw(labels()) if draw(st.booleans()) else ""
    if kind == "fact":
        missing = f" if missing {draw(expr)}" if draw(st.booleans()) else ""
        return f"fact {name} {draw(st.sampled_from(UNITS))} {label}{missing}"
    if kind == "constant":
        return f"constant {name} {label} = {draw(expr)}"
    if kind == "curve":
        return draw(curve(name))
    if kind == "kpi":
        clauses = draw(st.lists(st.one_of(
            expr.map(lambda e: f"= {e}"), expr.map(lambda e: f"plan {e}"),
            st.sampled_from(("lower is better", "higher is better", "group result")),
            expr.map(lambda e: f"attainment = {e}"),
        ), max_size=3))
        return " ".join([f"kpi {name} {label}", *clauses])
    if kind == "pay":
        return f"pay {name} {label} = {draw(expr)}"
    if kind == "pool":
        items = draw(st.lists(st.tuples(refs, expr, refs), max_size=4))
        lines = [f"  for {k} weight {w} curve {c}" for k, w, c in items]
        return "\n".join([f"pay {name} {label} pool {draw(expr)}", *lines])
    if kind == "budget":
        return f"budget {name} {label} cap {draw(expr)} for {draw(refs)}" + \
            draw(st.sampled_from(("", " per team")))
    if kind == "example":
        given = ", ".join(f"{n} = {v}" for n, v in draw(st.lists(st.tuples(refs, expr),
                                                                 max_size=3)))
        return (f"example {name} {label}\n  given {given}\n  expect total = {draw(expr)}, "
                f"{draw(refs)} for {draw(refs)} = {draw(expr)}")
    if kind == "drop":
        return f"drop {name}"
    based = f" based on {draw(refs)}" if draw(st.booleans()) else ""
    return f"grade {name} {label}{based}"


@st.composite
def grammar_schemes(draw: st.DrawFn) -> str:
    body = draw(st.lists(statements(), max_size=8))
    separator = draw(st.sampled_from(("\n", "\n\n", "\n  ", " ", "\r\n")))
    return separator.join([draw(header()), *body]) + draw(st.sampled_from(("\n", "", "# end")))


# ---------------------------------------------------------------- mutation


def bundled_rulesets() -> list[str]:
    """The real schemes and the checker's fixtures: the seeds that mutation starts from."""
    paths = sorted((ROOT / "rulesets").rglob("*.kpi")) + \
        sorted((ROOT / "tests" / "fixtures").rglob("*.kpi"))
    return [p.read_text(encoding="utf-8") for p in paths]


TOKENS = (
    "scheme", "fact", "constant", "curve", "kpi", "pay", "budget", "example", "grade", "drop",
    "plan", "of", "attainment", "team", "total", "for", "weight", "amount", "pool", "curve",
    "cap", "floor", "only if", "unless", "below", "above", "from", "to", "through", "pays",
    "linear", "at", "tiers marginal", "rate", "if", "then", "else", "and", "or", "not",
    "otherwise", "round(", "min(", "max(", "abs(", "(", ")", ",", "=", "+", "-", "×", "/", "%",
    ">=", "<", "RUB", "₽", '"', '"label"', "\n", " ", "#", "0", "100%", "9" * 70,
    "1" + "0" * 10_000, "(" * 150, ")" * 150, "if 1 > 0 then " * 120, "1 + " * 150,
    "\x00", "\ufeff", "\u202e", "'", ";", ":", "\\", "by month jan", "based on", "given",
    "expect", "per team", "paid per team", "lower is better", "group result",
    *HOSTILE_NAMES[:12],
)


def mutate(text: str, rnd: random.Random, count: int | None = None) -> str:
    """Apply 1–6 random edits: characters, tokens, lines, numbers, splices."""
    for _ in range(count if count is not None else rnd.randint(1, 6)):
        text = _MUTATIONS[rnd.randrange(len(_MUTATIONS))](text, rnd)
    return text


def _span(text: str, rnd: random.Random, longest: int = 12) -> tuple[int, int]:
    start = rnd.randrange(len(text) + 1)
    return start, min(len(text), start + rnd.randint(0, longest))


def _delete(text: str, rnd: random.Random) -> str:
    start, end = _span(text, rnd)
    return text[:start] + text[end:]


def _insert_token(text: str, rnd: random.Random) -> str:
    at = rnd.randrange(len(text) + 1)
    return text[:at] + rnd.choice((" ", "")) + rnd.choice(TOKENS) + " " + text[at:]


def _insert_char(text: str, rnd: random.Random) -> str:
    at = rnd.randrange(len(text) + 1)
    char = chr(rnd.choice((rnd.randrange(32, 127), rnd.randrange(0, 32),
                           rnd.randrange(0x80, 0x3000), 0x202E, 0x2028, 0xFEFF, 0x0301)))
    return text[:at] + char + text[at:]


def _duplicate(text: str, rnd: random.Random) -> str:
    start, end = _span(text, rnd, 200)
    at = rnd.randrange(len(text) + 1)
    return text[:at] + text[start:end] + text[at:]


def _lines(text: str, rnd: random.Random) -> str:
    lines = text.split("\n")
    i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
    action = rnd.randrange(3)
    if action == 0:
        lines[i], lines[j] = lines[j], lines[i]
    elif action == 1:
        lines.insert(j, lines[i])
    else:
        del lines[i]
    return "\n".join(lines)


def _number(text: str, rnd: random.Random) -> str:
    import re

    found = [m.span() for m in re.finditer(r"\d[\d_]*(?:\.\d+)?", text)]
    if not found:
        return text
    start, end = rnd.choice(found)
    new = rnd.choice(("0", "0.0", "1", "-1", "99999999999999999999999999999999999", "9" * 61,
                      "0.000000000000000000000000000001", "1_000_000_000_000", "00", "3.",
                      str(rnd.randrange(10**6))))
    return text[:start] + new + text[end:]


def _word(text: str, rnd: random.Random) -> str:
    import re

    found = [m.span() for m in re.finditer(r"[^\W\d]\w*", text)]
    if not found:
        return text
    start, end = rnd.choice(found)
    return text[:start] + rnd.choice(TOKENS + NAMES + RESERVED) + text[end:]


def _truncate(text: str, rnd: random.Random) -> str:
    return text[: rnd.randrange(len(text) + 1)]


def _splice(text: str, rnd: random.Random) -> str:
    other = rnd.choice(_SEEDS or [text])
    at, start = rnd.randrange(len(text) + 1), rnd.randrange(len(other) + 1)
    return text[:at] + other[start : start + rnd.randint(1, 400)] + text[at:]


_MUTATIONS = (_delete, _insert_token, _insert_char, _duplicate, _lines, _number, _word,
              _truncate, _splice, _delete, _insert_token, _word, _number)
_SEEDS: list[str] = []


def mutated_schemes(seed: int) -> str:
    """The `seed`-th mutated ruleset (reproducible: the long run reports failing seeds)."""
    if not _SEEDS:
        _SEEDS.extend(bundled_rulesets())
    rnd = random.Random(seed)
    return mutate(rnd.choice(_SEEDS), rnd)


# ---------------------------------------------------------------- exact-money schemes
#
# Schemes whose lines land on half a kopeck: plans divisible by 3, 7 and 9, weights like
# 18 %, accelerators of 4/3, divisions in formulas, every rounding mode. `tie_case(seed)`
# gives a scheme and facts (random ones and ones built to hit a tie exactly); the evaluator
# must pay what tests/fuzz/oracle.py's fraction oracle pays, to the kopeck.

TIE_PLANS = (3_000_000, 2_100_000, 1_890_000, 630_000, 900_000, 1_260_000, 999_999, 2_520_000,
             3_150_000, 1_800_000, 441_000, 7_000_000)
TIE_COUNT_PLANS = (21, 90, 63, 300, 700, 9, 1_050)
TIE_POOLS = (50_000, 70_000, 45_000, 33_333, 90_000, 100_000, 30_000)
TIE_WEIGHTS = ((18, 82), (30, 70), (60, 40), (45, 55), (70, 30), (90, 10), (33, 67))
TIE_STEPS = ("0.01", "0.01", "0.01", "1", "0.05", "100", "0.1")
ACCELERATORS = ("attainment × 4 / 3", "attainment × 1.2", "(attainment − 1) / 3 + 1",
                "attainment × 7 / 6", "attainment / 3 × 4", "attainment × 1.15")


def tie_curve(rnd: random.Random, name: str) -> str:
    kind = rnd.choice(("bands", "bands", "bands", "linear", "marginal", "whole"))
    if kind == "linear":
        return (f"curve {name} \"Linear\"\n  linear\n    at 70% pays 0%\n    at 100% pays 100%\n"
                f"    at 130% pays {rnd.choice(('140%', '160%', '133.3%'))}\n")
    if kind in ("marginal", "whole"):
        rate = rnd.choice(("150%", "125%", "133%", "175%"))
        return (f"curve {name} \"Tiers\"\n  tiers {kind}\n    from 0% to 100% rate 100%\n"
                f"    from 100% rate {rate}\n")
    cut = rnd.choice(("80%", "70%", "90%", "85%"))
    cap = rnd.choice(("  cap 200%\n", "  cap 150%\n", ""))
    return (f"curve {name} \"Bands\"\n  below {cut} pays 0\n"
            f"  from {cut} through 100% pays attainment\n"
            f"  above 100% pays {rnd.choice(ACCELERATORS)}\n{cap}")


def tie_scheme(rnd: random.Random) -> tuple[str, dict[str, int]]:
    """A scheme and its plans (revenue, calls)."""
    plan = rnd.choice(TIE_PLANS)
    calls_plan = rnd.choice(TIE_COUNT_PLANS)
    pool = rnd.choice(TIE_POOLS)
    w1, w2 = rnd.choice(TIE_WEIGHTS)
    step = rnd.choice(TIE_STEPS)
    mode = rnd.choice(MODES)
    attainment_rule = "  round attainment to 0.1% half up\n" if rnd.random() < 0.1 else ""
    direction = "  lower is better\n" if rnd.random() < 0.1 else ""
    commission = rnd.choice((
        "revenue × 2% / 3",
        "max(revenue − plan of revenue, 0) × 18% / 7",
        "revenue / 9 × 1%",
        "round(revenue / 7, 0.01, half up) × 1%",
        "if attainment of revenue >= 100% then revenue × 1% / 3 else 0 RUB",
        "min(revenue × 1% / 3, 10_000 RUB)",
        "revenue / calls otherwise 0 RUB",
    ))
    text = (
        f"scheme ties \"Ties\"\n  currency RUB\n  period month\n"
        f"  round payouts to {step} {mode}\n{attainment_rule}\n"
        f"fact revenue money \"Revenue\"\nfact calls count \"Calls\"\n\n"
        f"{tie_curve(rnd, 'first')}\n{tie_curve(rnd, 'second')}\n"
        f"kpi revenue \"Revenue\"\n  plan {plan:_} RUB\n"
        f"kpi calls \"Calls\"\n  plan {calls_plan:_}\n{direction}\n"
        f"pay bonus \"Bonus\" pool {pool:_} RUB\n"
        f"  for revenue weight {w1}% curve first\n"
        f"  for calls weight {w2}% curve second\n\n"
        f"pay commission \"Commission\" = {commission}\n"
    )
    return text, {"revenue": plan, "calls": calls_plan, "pool": pool, "weight": w1}


def tie_facts(rnd: random.Random, plans: dict[str, int], count: int) -> list[dict[str, str]]:
    """Random facts around plan, and revenues built so that weight × pool × revenue ÷ plan
    (the line on 'pays attainment') is exactly an odd number of half kopecks."""
    from fractions import Fraction

    out = []
    plan, share = plans["revenue"], Fraction(plans["weight"] * plans["pool"], 100)
    for index in range(count):
        calls = rnd.randint(plans["calls"] // 2, plans["calls"] * 3 // 2 + 1)
        if index % 2:
            revenue = Fraction(rnd.randint(plan * 6, plan * 14), 10) + \
                Fraction(rnd.randint(0, 99), 100)
        else:
            target = share * Fraction(rnd.randint(85, 99), 100)
            revenue = Fraction(0)
            for _ in range(40):  # a half kopeck whose revenue is a whole number of kopecks
                half = Fraction(2 * int(target * 100) + 1 + 2 * rnd.randint(0, 3000), 200)
                candidate = half * plan / share
                if (candidate * 100).denominator == 1:
                    revenue = candidate
                    break
                target += Fraction(rnd.randint(1, 50), 100)
            if revenue == 0:
                revenue = Fraction(plan)
        out.append({"revenue": _fraction_text(revenue), "calls": str(calls)})
    return out


def _fraction_text(value: object) -> str:
    from decimal import Decimal
    from fractions import Fraction

    assert isinstance(value, Fraction)
    return str(Decimal(value.numerator) / Decimal(value.denominator))


def tie_case(seed: int, count: int = 40) -> tuple[str, list[dict[str, str]]]:
    rnd = random.Random(seed)
    text, plans = tie_scheme(rnd)
    return text, tie_facts(rnd, plans, count)
