"""The `steps of` curve ("15 % plus 5 % for each full 1 % over 90 %"): exact amounts against a
Fraction oracle, the same kopecks in DuckDB, fmt, checks, documents and explanations."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from functools import cache
from math import floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl import curvekinds
from kpidsl.docs.render import render_plan, render_statement
from kpidsl.explain import explain
from kpidsl.formatter import format_source as format_text
from kpidsl.i18n.diagnostics import translate
from kpidsl.lower import dump, lower
from kpidsl.lsp.completion import keywords
from kpidsl.parser import parse
from kpidsl.source import SourceFile

SCHEME = """\
scheme steps_demo "Steps"
  currency RUB
  period month

fact revenue money "Revenue"

curve extra "15 % plus 5 % for each full 1 % over 90 %"
  steps of 1% from 90% pays 15% plus 5% per step
  cap 40%

kpi revenue plan 1_000_000 RUB

pay bonus "Bonus" pool 100_000 RUB
  for revenue  weight 100%  curve extra
"""

POOL = Fraction(100_000)
PLAN = Fraction(1_000_000)


def oracle(revenue: Fraction) -> Fraction:
    """The scheme's bonus in exact fractions: 0 below 90 %; 15 % + 5 % per full 1 % above it,
    at most 40 %; times the pool, rounded half up to the kopeck."""
    attainment = revenue / PLAN
    if attainment < Fraction(9, 10):
        factor = Fraction(0)
    else:
        steps = floor((attainment - Fraction(9, 10)) / Fraction(1, 100))
        factor = min(Fraction(15, 100) + Fraction(5, 100) * steps, Fraction(40, 100))
    amount = POOL * factor * 100
    kopecks = floor(amount + Fraction(1, 2))
    return Fraction(kopecks, 100)


@cache
def loaded() -> kpidsl.Ruleset:
    return kpidsl.loads(SCHEME, "steps.kpi")


@pytest.fixture
def ruleset() -> kpidsl.Ruleset:
    return loaded()


@pytest.mark.parametrize(("attainment", "paid"), [
    ("0.8999", "0.00"),  # 89.99 %: below the start
    ("0.90", "15000.00"),  # 90 %: the first value, no full step
    ("0.925", "25000.00"),  # 92.5 %: two full steps
    ("0.93", "30000.00"),  # 93 %: three
    ("0.9399999", "30000.00"),  # just under the fourth
    ("0.95", "40000.00"),  # five steps reach the cap exactly
    ("1.20", "40000.00"),  # capped
    ("0", "0.00"),
])
def test_exact_amounts(ruleset: kpidsl.Ruleset, attainment: str, paid: str) -> None:
    revenue = Decimal(attainment) * 1_000_000
    result = ruleset.evaluate({"employee": "a", "revenue": revenue})
    assert result.total == Decimal(paid)
    assert Fraction(result.total) == oracle(Fraction(revenue))


@settings(max_examples=150, deadline=None)
@given(st.fractions(min_value=0, max_value=2_000_000, max_denominator=1000))
def test_any_revenue_pays_what_the_oracle_pays(revenue: Fraction) -> None:
    ruleset = loaded()
    value = Decimal(revenue.numerator) / Decimal(revenue.denominator)
    exact = Fraction(value)  # the facts value as the evaluator reads it
    result = ruleset.evaluate({"employee": "a", "revenue": value})
    assert Fraction(result.total) == oracle(exact)


def test_result_lines_count_the_steps(ruleset: kpidsl.Ruleset) -> None:
    result = ruleset.evaluate({"employee": "a", "revenue": Decimal(925_000)})
    [line] = result.lines
    assert (line.band, line.band_text) == (3, "from 92% to under 93% (2 steps of 1% above 90%)")
    below = ruleset.evaluate({"employee": "b", "revenue": Decimal(899_999)})
    assert (below.lines[0].band, below.lines[0].band_text) == (0, "outside every band")


def test_duckdb_pays_the_same_kopecks(ruleset: kpidsl.Ruleset) -> None:
    rows = [{"employee": f"e{i}", "revenue": Decimal(v)} for i, v in enumerate(
        [0, 899_900, 899_999.99, 900_000, 909_999.99, 910_000, 925_000, 930_000, 949_999,
         950_000, 1_200_000, 2_000_000, 123_456.78, 987_654.32])]
    python = [(r.employee, r.components, r.total) for r in ruleset.evaluate_many(rows)]
    duck = [(r.employee, r.components, r.total)
            for r in ruleset.evaluate_many(rows, engine="duckdb")]
    assert duck == python
    assert [t for _e, _c, t in python][:7] == [Decimal(v) for v in (
        "0.00", "0.00", "0.00", "15000.00", "15000.00", "20000.00", "25000.00")]


def test_curve_called_in_a_formula_pays_the_same_in_duckdb() -> None:
    text = SCHEME.replace('pay bonus "Bonus" pool 100_000 RUB\n  for revenue  weight 100%  '
                          'curve extra\n',
                          'pay bonus "Bonus" = 100_000 RUB * extra(attainment of revenue)\n')
    ruleset = kpidsl.loads(text, "steps.kpi")
    rows = [{"employee": f"e{i}", "revenue": Decimal(v)}
            for i, v in enumerate([0, 900_000, 915_500, 933_333.33, 1_000_000])]
    python = [r.total for r in ruleset.evaluate_many(rows)]
    assert python == [Decimal(v) for v in ("0.00", "15000.00", "20000.00", "30000.00",
                                           "40000.00")]
    assert [r.total for r in ruleset.evaluate_many(rows, engine="duckdb")] == python


def test_fmt_round_trips() -> None:
    assert format_text(SCHEME) == SCHEME
    loose = SCHEME.replace("  steps of 1% from 90% pays 15% plus 5% per step\n",
                           "  steps   of 1 %  from 90%\n      pays 15%   plus 5%\n  per step\n")
    assert format_text(loose) == SCHEME
    first, _ = parse(SourceFile("a", SCHEME))
    again, _ = parse(SourceFile("b", format_text(loose)))
    assert first.statements == again.statements


def test_the_kind_is_an_object_of_its_own_module(ruleset: kpidsl.Ruleset) -> None:
    curve = ruleset.checked.variants["base"].curves["extra"]
    assert curve.kind is curvekinds.kind("steps")
    assert type(curve.kind).__module__ == "kpidsl.curvekinds.steps"
    assert str(curve.spec) == "steps of 1% from 90% pays 15% plus 5% per step"
    assert "  curve extra: steps cap 0.40\n    steps of 0.01 from 0.90 pays 0.15 plus 0.05 " \
           "per step\n" in dump(lower(ruleset.checked)) + "\n"
    assert "rt.steps_q(x, x_d, " in ruleset.python_source


def codes(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in kpidsl.check(text)]


def test_checks() -> None:
    zero = SCHEME.replace("steps of 1%", "steps of 0%")
    assert codes(zero) == [("KPI412", "curve 'extra' steps of 0%: a step must be above zero")]
    negative = SCHEME.replace("steps of 1%", "steps of -1%")
    assert codes(negative) == [
        ("KPI412", "curve 'extra' steps of -1%: a step must be above zero")]
    falling = SCHEME.replace("plus 5%", "plus -5%")
    assert codes(falling) == [("KPI404", "curve 'extra' pays less at 91% than at 90%")]
    uncapped = SCHEME.replace("  cap 40%\n", "")
    assert codes(uncapped) == [("KPI405", "curve 'extra' accelerates above 90% with no cap")]
    assert codes(uncapped.replace("per step\n", "per step\n  uncapped\n")) == []
    from_fact = SCHEME.replace("from 90%", "from revenue")
    assert ("KPI406", "a steps curve's step, start and what it pays must be constants") in \
        codes(from_fact)
    constant = SCHEME.replace("curve extra", "constant start = 90%\n\ncurve extra", 1) \
        .replace("from 90%", "from start")
    assert codes(constant) == []


def test_checks_speak_russian() -> None:
    [diagnostic] = kpidsl.check(SCHEME.replace("steps of 1%", "steps of 0%"))
    assert translate(diagnostic.message, "ru", "KPI412") == \
        "шкала 'extra' шагами по 0%: шаг должен быть больше нуля"
    assert translate(diagnostic.hint, "ru", "KPI412") == \
        "укажите размер одного шага, например steps of 1%"


def test_explain_shows_the_steps_counted(ruleset: kpidsl.Ruleset) -> None:
    result = ruleset.evaluate({"employee": "a", "revenue": Decimal(925_000)})
    text = "\n".join(explain(ruleset, result))
    assert "revenue: 92.5% ≥ 90%: 2 full steps of 1%: 100,000 × (15% + 2 × 5%) = 25,000" in text
    capped = ruleset.evaluate({"employee": "b", "revenue": Decimal(1_200_000)})
    ru = "\n".join(explain(ruleset, capped, "ru"))
    assert "revenue: 120 % ≥ 90 %: 30 полных шагов по 1 %: 100 000 × (15 % + 30 × 5 %) = " \
           "100 000 × 1,65, потолок шкалы 40 %: 100 000 × 0,4 = 40 000" in ru
    one = ruleset.evaluate({"employee": "c", "revenue": Decimal(910_000)})
    ru_one = "\n".join(explain(ruleset, one, "ru"))
    assert "91 % ≥ 90 %: 1 полный шаг по 1 %" in ru_one


def _curve_section(document: str) -> str:
    """The curve's section of a plan document, its chart left out (tests/test_docs_charts.py)."""
    match = re.search(r"^### 15 % plus 5 %.*\n(?:(?!## ).*\n)*", document, re.M)
    assert match is not None
    return "\n".join(line for line in match.group(0).splitlines()
                     if not line.lstrip().startswith("<")).rstrip()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_document_reads_the_steps(ruleset: kpidsl.Ruleset, lang: str, golden) -> None:
    """The plan document's table of the curve, and a statement's line with the band the
    employee reached, in both languages."""
    document = render_plan(ruleset, lang=lang)
    result = ruleset.evaluate({"employee": "a", "revenue": Decimal(925_000)})
    statement = [line for line in render_statement(ruleset, result, lang=lang).splitlines()
                 if line.startswith("| Bonus |")]
    golden.check(f"docs/steps_curve_{lang}",
                 _curve_section(document) + "\n\n" + "\n".join(statement) + "\n")


def test_the_editor_completes_the_word() -> None:
    assert {"steps", "step", "plus"} <= keywords()
