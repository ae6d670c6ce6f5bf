"""Grades: variants that extend a base scheme, what each changes (provenance), the mistakes
the checker names, and how an employee's grade is chosen at evaluation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.api import check_source
from kpidsl.checks.provenance import provenance_text
from kpidsl.diagnostics import render_all
from kpidsl.source import SourceFile

BASE = """scheme s "Sales"
  currency RUB
  period month

fact revenue money "Revenue"
fact calls count "Calls"
curve standard "Standard"
  below 80% pays 0
  from 80% through 100% pays attainment
  above 100% pays attainment × 1.2
  cap 200%
kpi revenue "Revenue" plan 3_000_000 RUB group result
kpi calls "Calls" plan 1000 group activity
pay salary "Salary" = 60_000 RUB
pay bonus "Bonus" pool 50_000 RUB
  for revenue weight 60% curve standard
  for calls weight 40% curve standard
"""

FACTS = {"revenue": "3000000", "calls": 1000}


def checked(text: str):  # type: ignore[no-untyped-def]
    result, diagnostics = check_source(SourceFile("s.kpi", text))
    assert result is not None
    return result, diagnostics


def changes(text: str, grade: str) -> list[str]:
    result, diagnostics = checked(text)
    assert not any(d.is_error for d in diagnostics), render_all(diagnostics)
    return [c.describe() for c in result.variants[grade].changes]


def lines(diagnostics) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    return [(d.code, d.line, d.message) for d in diagnostics]


# ---------------------------------------------------------------- provenance


def test_a_grade_lists_exactly_what_it_changes() -> None:
    text = BASE + """
grade junior "Junior"
  kpi calls plan 1200
  pay salary = 40_000 RUB
  pay bonus pool 40_000 RUB
    for revenue weight 30%
    for calls weight 70%
"""
    assert changes(text, "junior") == [
        "plan of KPI calls: 1000 → 1200",
        "payment salary: 60_000 RUB → 40_000 RUB",
        "pool of payment bonus: 50_000 RUB → 40_000 RUB",
        "weight of revenue in payment bonus: 60% → 30%",
        "weight of calls in payment bonus: 40% → 70%",
    ]
    assert changes(text, "base") == []


def test_changes_are_structured_for_documents() -> None:
    text = BASE + "grade junior\n  kpi calls plan 1200\n  pay bonus\n    for calls weight 40% " \
        "curve standard cap 100%\n"
    result, _ = checked(text)
    found = [(c.section, c.name, c.item, c.attribute, c.before, c.after, c.span.line)
             for c in result.variants["junior"].changes]
    assert found == [
        ("KPI", "calls", "", "plan", "1000", "1200", 19),
        ("payment", "bonus", "calls", "gates", "", "cap 100%", 21),
    ]


def test_additions_and_drops_say_what_was_added() -> None:
    text = BASE + """
grade senior "Senior"
  fact margin money "Margin"
  kpi margin "Margin" plan 900_000 RUB group result
  drop calls
  pay bonus
    for revenue weight 50%
    for margin weight 50% curve standard
"""
    assert changes(text, "senior") == [
        'adds fact margin: label "Margin", unit money',
        'adds KPI margin: label "Margin", plan 900_000 RUB, group result',
        "drops KPI calls",
        "weight of revenue in payment bonus: 60% → 50%",
        "adds line for margin in payment bonus: weight 50%, curve standard",
    ]


def test_a_redefined_curve_is_a_change_not_a_repeat() -> None:
    # bands used to be compared by their class name only, so a new curve looked unchanged
    text = BASE + """
grade junior
  curve standard "Standard"
    below 70% pays 0
    from 70% through 100% pays attainment
    above 100% pays attainment × 1.2
    cap 200%
"""
    assert changes(text, "junior") == [
        "bands of curve standard: below 80% pays 0; from 80% through 100% pays attainment; "
        "above 100% pays attainment × 1.2 → below 70% pays 0; from 70% through 100% pays "
        "attainment; above 100% pays attainment × 1.2"
    ]


def test_a_new_label_is_a_change() -> None:
    text = BASE + 'grade junior\n  kpi calls "Successful calls"\n'
    assert changes(text, "junior") == ['label of KPI calls: "Calls" → "Successful calls"']


def test_three_levels_each_list_their_own_changes() -> None:
    text = BASE + """
grade senior "Senior"
  kpi revenue plan 4_000_000 RUB
grade lead "Lead" based on senior
  kpi revenue plan 2_000_000 RUB
  pay salary = 90_000 RUB
"""
    result, _ = checked(text)
    lead = result.variants["lead"]
    assert lead.parent == "senior" and result.variants["senior"].parent == "base"
    assert [c.describe() for c in lead.changes] == [
        "plan of KPI revenue: 4_000_000 RUB → 2_000_000 RUB",
        "payment salary: 60_000 RUB → 90_000 RUB",
    ]
    scheme = kpidsl.loads(text)
    # 3 000 000 is 75 % of the senior's plan (nothing) and 150 % of the lead's (× 1.2)
    assert scheme.evaluate(FACTS, "senior").components["bonus"] == Decimal("20000.00")
    lead_result = scheme.evaluate(FACTS, "lead")
    assert lead_result.kpis["revenue"].attainment == Decimal("1.5")
    assert lead_result.components == {"salary": Decimal("90000.00"),
                                      "bonus": Decimal("74000.00")}


def test_provenance_text_of_the_hunter_scheme(golden) -> None:
    path = "rulesets/hunter.kpi"
    text = (Path(__file__).parent.parent / path).read_text(encoding="utf-8")
    result, diagnostics = check_source(SourceFile(path, text))
    assert diagnostics == [] and result is not None
    golden.check("roles/hunter_provenance", provenance_text(result.variants))


# ---------------------------------------------------------------- mistakes


def test_the_checker_names_every_grade_mistake(golden) -> None:
    text = BASE + """
grade junior "Junior" based on senoir
  kpi calls plan 1200
grade middle "Middle"
  kpi cals plan 900
  drop cals
  kpi revenue plan 3_000_000 RUB
  budget fund cap 100_000 RUB for bonus
grade a based on b
grade b based on a
"""
    _, diagnostics = checked(text)
    golden.check("roles/grade_mistakes", render_all(diagnostics) + "\n")
    assert [d.code for d in diagnostics] == [
        "KPI603", "KPI604", "KPI605", "KPI701", "KPI608", "KPI602"]


def test_an_override_to_the_same_value_is_reported_field_by_field() -> None:
    text = BASE + """
grade junior
  kpi calls plan 1200 group activity
  pay bonus
    for calls weight 40% curve standard
"""
    _, diagnostics = checked(text)
    assert lines(diagnostics) == [
        ("KPI701", 20, "grade 'junior' sets the group of KPI calls to what it already is "
                       "(activity)"),
        ("KPI701", 21, "grade 'junior' sets payment 'bonus' to what it already is"),
    ]
    assert diagnostics[0].hint == "leave it out: the grade inherits it"


def test_a_redefined_constant_with_the_same_value_changes_nothing() -> None:
    text = BASE.replace("curve standard", 'constant share "Share" = 2%\ncurve standard', 1) + \
        'pay extra = revenue × share\ngrade junior\n  constant share "Share" = 2%\n'
    _, diagnostics = checked(text)
    assert lines(diagnostics) == [
        ("KPI701", 21, "grade 'junior' sets constant 'share' to what it already is")]


def test_weights_are_checked_in_every_grade_at_the_grade_line() -> None:
    text = BASE + """
grade junior
  pay bonus
    for calls weight 50%
grade senior
  drop calls
"""
    _, diagnostics = checked(text)
    assert lines(diagnostics) == [
        ("KPI301", 20, "the weights in 'bonus' in grade 'junior' add up to 110%, not 100%"),
        ("KPI301", 23, "the weights in 'bonus' in grade 'senior' add up to 60%, not 100%"),
    ]


def test_a_grade_that_drops_a_kpi_leaves_its_fact_unused_without_a_warning() -> None:
    text = BASE + """
grade senior
  drop calls
  pay bonus
    for revenue weight 100%
"""
    _, diagnostics = checked(text)
    assert diagnostics == []


def test_a_fact_a_grade_declares_and_never_uses_is_reported() -> None:
    text = BASE + 'grade senior\n  fact margin money "Margin"\n'
    _, diagnostics = checked(text)
    assert lines(diagnostics) == [("KPI703", 19, "fact 'margin' is never used")]


# ---------------------------------------------------------------- choosing the grade


GRADED = BASE + """
grade junior "Junior"
  kpi calls plan 1200
grade senior "Senior"
  kpi revenue plan 4_000_000 RUB
"""


def test_the_grade_comes_from_the_argument_or_the_facts() -> None:
    scheme = kpidsl.loads(GRADED)
    assert scheme.grades == ["junior", "senior"]
    assert scheme.evaluate(FACTS).grade == "base"
    assert scheme.evaluate(FACTS, "junior").kpis["calls"].plan == 1200
    assert scheme.evaluate({**FACTS, "grade": "senior"}).kpis["revenue"].plan == 4_000_000
    rows = [{"employee": "a", "grade": "junior", **FACTS}, {"employee": "b", **FACTS},
            {"employee": "c", "grade": "senior", **FACTS}]
    assert [r.grade for r in scheme.evaluate_many(rows)] == ["junior", "base", "senior"]
    # the argument wins over the column: "evaluate everyone as a junior"
    assert [r.grade for r in scheme.evaluate_many(rows, "junior")] == ["junior"] * 3


@pytest.mark.parametrize("how", ["argument", "facts"])
def test_an_unknown_grade_names_the_known_ones(how: str) -> None:
    scheme = kpidsl.loads(GRADED)
    with pytest.raises(kpidsl.KpiError) as raised:
        if how == "argument":
            scheme.evaluate(FACTS, "midle")
        else:
            list(scheme.evaluate_many([{"employee": "a", "grade": "midle", **FACTS}]))
    [d] = raised.value.diagnostics
    assert (d.code, d.message) == ("KPI606", "unknown grade 'midle'; known grades: junior, senior")


def test_a_bad_grade_in_a_batch_is_reported_and_the_rest_evaluated() -> None:
    scheme = kpidsl.loads(GRADED)
    bad: list[tuple[str, str]] = []
    rows = [{"employee": "a", "grade": "midle", **FACTS}, {"employee": "b", **FACTS}]
    results = list(scheme.evaluate_many(
        rows, on_error=lambda who, row, ds: bad.append((who, ds[0].code))))
    assert [r.employee for r in results] == ["b"] and bad == [("a", "KPI606")]


@pytest.mark.parametrize("statement", ["pay bonsu pool 40_000 RUB",
                                       "pay bonsu\n    for calls weight 50%"])
def test_changing_a_payment_the_parent_does_not_have_names_nothing(statement: str) -> None:
    [d] = kpidsl.check(BASE + f"grade junior\n  {statement}\n")
    assert (d.code, d.line, d.message, d.hint) == (
        "KPI604", 19, "grade changes payment 'bonsu', which the scheme it is based on does not "
        "have", "did you mean 'bonus'?")


def test_a_grade_may_add_a_complete_payment() -> None:
    text = BASE + 'grade junior\n  pay mentoring "Mentoring" = 5_000 RUB\n'
    assert kpidsl.check(text) == []
    assert kpidsl.loads(text).evaluate(FACTS, "junior").components["mentoring"] == 5000
