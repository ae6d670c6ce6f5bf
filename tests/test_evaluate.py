"""Evaluation: the reference case to the kopeck, every curve boundary, an independent
Decimal reference on random facts, and run-time failures named by .kpi line and employee."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.allocation import pro_rata
from kpidsl.diagnostics import KpiError

ROOT = Path(__file__).resolve().parent.parent
B2B = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
IVANOV = {"revenue": "3300000", "avg_check": "142500", "conversion": "2.1%", "calls": 950}


def test_ivanov_earns_119_800_line_by_line() -> None:
    result = B2B.evaluate(IVANOV, employee="ivanov")
    assert [(line.kpi, line.amount) for line in result.lines] == [
        ("revenue", Decimal("26400.00")),
        ("avg_check", Decimal("9500.00")),
        ("conversion", Decimal("12600.00")),
        ("calls", Decimal("9500.00")),
    ]
    assert result.components == {
        "salary": Decimal("60000.00"),
        "bonus": Decimal("58000.00"),
        "commission": Decimal("1800.00"),
    }
    assert str(result.total) == "119800.00"
    revenue = result.kpis["revenue"]
    assert (revenue.value, revenue.plan, revenue.attainment, revenue.payout) == (
        Decimal(3_300_000), Decimal(3_000_000), Decimal("1.1"), Decimal("26400.00"))
    assert [line.band_text for line in result.lines] == [
        "above 100%", "from 80% through 100%", "above 100%", "from 80% through 100%"]


def test_accelerator_product_is_exact() -> None:
    # 1.1 × 1.2 × 20 000 is 26 400.00, not 26400.000000000004
    result = B2B.evaluate(IVANOV)
    assert result.lines[0].factor == Decimal("1.32")
    assert str(result.lines[0].amount) == "26400.00"


def facts_at(revenue: str) -> dict[str, object]:
    return {"revenue": revenue, "avg_check": "150000", "conversion": "2%", "calls": 1000}


@pytest.mark.parametrize(("revenue", "line"), [
    ("2400000", "16000.00"),    # exactly 80 % pays 80 %
    ("2397000", "0.00"),        # 79.9 % pays nothing
    ("2399999.99", "0.00"),     # a kopeck under the cut-off pays nothing
    ("3000000", "20000.00"),    # exactly 100 % pays 100 %, no accelerator
    ("3000300", "24002.40"),    # just above 100 % the accelerator applies
    ("6000000", "48000.00"),    # 200 %: 2 × 1.2 = 2.4, no cap (the method sets none)
    ("0", "0.00"),
])
def test_standard_curve_boundaries(revenue: str, line: str) -> None:
    result = B2B.evaluate(facts_at(revenue))
    assert str(result.lines[0].amount) == line


def test_percent_facts_accept_fraction_or_sign() -> None:
    as_fraction = B2B.evaluate({**IVANOV, "conversion": "0.021"})
    as_decimal = B2B.evaluate({**IVANOV, "conversion": Decimal("0.021")})
    assert as_fraction.total == as_decimal.total == Decimal("119800.00")


def test_floats_never_touch_an_amount() -> None:
    with pytest.raises(TypeError, match="pass a Decimal, an int or text"):
        B2B.evaluate({**IVANOV, "revenue": 3300000.0})


def test_missing_required_fact_is_a_clear_error() -> None:
    with pytest.raises(KpiError) as caught:
        B2B.evaluate({"revenue": "1", "avg_check": "1", "conversion": "1%"}, employee="petrov")
    [d] = caught.value.diagnostics
    assert (d.code, d.message) == ("KPI502", "employee 'petrov': missing required fact 'calls'")


def test_unknown_grade_names_the_known_ones() -> None:
    with pytest.raises(KpiError, match="unknown grade 'lead'; known grades: none"):
        B2B.evaluate(IVANOV, grade="lead")


def test_runtime_failure_names_the_kpi_line_and_employee() -> None:
    text = ('scheme s "S"\n  currency RUB\nfact revenue money\nfact target money\n'
            "kpi revenue plan target\n"
            'curve c\n  from 0% pays attainment\n  cap 150%\n'
            'pay bonus "Bonus" pool 100 RUB\n  for revenue weight 100% curve c\n')
    scheme = kpidsl.loads(text, "s.kpi")
    with pytest.raises(KpiError) as caught:
        scheme.evaluate({"revenue": "10", "target": "0"}, employee="sidorov")
    [d] = caught.value.diagnostics
    assert d.code == "KPI901"
    assert d.message == "division by zero while computing employee 'sidorov'"
    assert (d.file, d.line) == ("s.kpi", 5)


def test_evaluate_many_reports_bad_rows_and_keeps_the_rest() -> None:
    rows = [{"employee": "a", **IVANOV}, {"employee": "b", **IVANOV, "calls": "many"},
            {"employee": "c", **IVANOV}]
    failures: list[tuple[str, int, list]] = []
    results = list(B2B.evaluate_many(rows, on_error=lambda e, r, d: failures.append((e, r, d))))
    assert [r.employee for r in results] == ["a", "c"]
    assert [(e, d[0].code) for e, _r, d in failures] == [("b", "KPI501")]


DECIMAL_FACTS = {"revenue": Decimal("3300000"), "avg_check": Decimal("142500"),
                 "conversion": Decimal("0.021"), "calls": Decimal(950)}


def _events(rows: object) -> list[tuple[str, str]]:
    """Results and failures in the order the caller sees them."""
    events: list[tuple[str, str]] = []
    for result in B2B.evaluate_many(rows, on_error=lambda e, _r, d: events.append(  # type: ignore[arg-type]
            (e, d[0].code))):
        events.append((result.employee, str(result.to_dict())))
    return events


def _ahead(rows: list[dict[str, object]]) -> object:
    from kpidsl.evaluate import ReadAhead

    return ReadAhead(iter(rows))


@pytest.mark.parametrize("kind", [list, tuple, iter, _ahead])
def test_each_bad_row_is_reported_between_the_results_around_it(kind: type) -> None:
    """A list is computed in batches; a row that fails or is read by every rule (text, a
    missing fact) ends a batch, so on_error is called after the results of the rows before
    it and before those after it: the same events, in the same order, as row by row."""
    odd = {3: {"revenue": Decimal("NaN")}, 17: {"calls": 950.0}, 18: {"calls": "950"},
           19: {"calls": None}, 20: {"revenue": Decimal("3300000.5")},
           39: {"revenue": Decimal("Infinity")}, 40: {"grade": "senior"}}
    rows = [{"employee": f"e{i}", **DECIMAL_FACTS, **odd.get(i, {})} for i in range(60)]
    del rows[25]["calls"]
    one_by_one = [event for row in rows for event in _events([row])]
    assert _events(kind(rows)) == one_by_one
    codes = {e: text for e, text in one_by_one if text.startswith("KPI")}
    assert codes == {"e3": "KPI501", "e17": "KPI501", "e19": "KPI502", "e25": "KPI502",
                     "e39": "KPI501", "e40": "KPI606"}


@pytest.mark.parametrize("ahead", [False, True])
def test_rows_are_read_ahead_only_when_the_caller_allows_it(ahead: bool) -> None:
    """A generator's rows are read one per result (its side effects keep pace with the
    results); wrapped in ReadAhead, up to a batch of them ahead of the results handed over."""
    from kpidsl.evaluate import _BATCH, ReadAhead

    pulled: list[int] = []

    def rows() -> Iterator[dict[str, object]]:
        for i in range(40):
            pulled.append(i)
            yield {"employee": f"e{i}", **DECIMAL_FACTS}

    ahead_of = []
    for seen, result in enumerate(B2B.evaluate_many(ReadAhead(rows()) if ahead else rows()),
                                  start=1):
        assert result.total == Decimal("119800.00")
        ahead_of.append(len(pulled) - seen)
    assert max(ahead_of) == (_BATCH - 1 if ahead else 0) and len(ahead_of) == 40


def test_a_batch_gives_the_caller_its_context_between_results() -> None:
    import decimal

    rows = [{"employee": f"e{i}", **DECIMAL_FACTS} for i in range(50)]
    with decimal.localcontext() as caller:
        caller.prec = 5
        for result in B2B.evaluate_many(rows):
            assert decimal.getcontext() is caller
            assert result.total == Decimal("119800.00")


def test_a_result_keeps_the_facts_it_was_computed_from() -> None:
    """A dict row's facts are read once: changing the row afterwards changes no result, and
    a result's facts are the scheme's facts only."""
    rows = [{"employee": f"e{i}", "name": "x", **DECIMAL_FACTS} for i in range(20)]
    results = list(B2B.evaluate_many(rows))
    before = [r.to_dict() for r in results]
    for row in rows:
        row["revenue"] = Decimal(0)
    assert [r.to_dict() for r in results] == before
    assert results[0].facts == DECIMAL_FACTS
    assert results[0].kpis["revenue"].value == Decimal("3300000")


def test_kept_results_are_one_tracked_object_each() -> None:
    """What the cyclic collector traverses at each collection: a result, not its figures
    (tuples of Decimals and text, untracked at the first collection)."""
    import gc

    rows = [{"employee": f"e{i}", **DECIMAL_FACTS} for i in range(3000)]
    gc.collect()
    before = len(gc.get_objects())
    kept = list(B2B.evaluate_many(rows))
    gc.collect()
    assert len(gc.get_objects()) - before <= len(kept) + 100


def test_pro_rata_adds_up_exactly() -> None:
    assert pro_rata([Decimal(900), Decimal(450)], Decimal(900)) == [Decimal(600), Decimal(300)]
    scaled = pro_rata([Decimal(500)] * 3, Decimal("1000.00"))
    assert scaled == [Decimal("333.34"), Decimal("333.33"), Decimal("333.33")]
    assert sum(scaled) == Decimal("1000.00")


# ---------------------------------------------------------------- independent reference

CENT = Decimal("0.01")


def reference_income(revenue: Decimal, avg_check: Decimal, conversion: Decimal,
                     calls: Decimal) -> Decimal:
    """domain.md §2 written out by hand, with the scheme's rounding of each line."""
    def factor(attainment: Decimal) -> Decimal:
        if attainment < Decimal("0.8"):
            return Decimal(0)
        if attainment <= 1:
            return attainment
        return attainment * Decimal("1.2")  # uncapped, as the method says

    shares = [(revenue / 3_000_000, 20_000), (avg_check / 150_000, 10_000),
              (conversion / Decimal("0.02"), 10_000), (calls / 1000, 10_000)]
    bonus = sum(((share * factor(a)).quantize(CENT, ROUND_HALF_UP) for a, share in shares),
                Decimal(0))
    commission = (max(revenue - 3_000_000, Decimal(0)) * Decimal("0.3") * Decimal("0.02")
                  ).quantize(CENT, ROUND_HALF_UP)
    return Decimal(60_000) + bonus + commission


money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False,
                    allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(money, money, st.decimals(min_value=0, max_value=Decimal("0.1"), places=5),
       st.integers(min_value=0, max_value=3000))
def test_evaluator_equals_independent_reference(revenue: Decimal, avg_check: Decimal,
                                                conversion: Decimal, calls: int) -> None:
    result = B2B.evaluate({"revenue": revenue, "avg_check": avg_check,
                           "conversion": conversion, "calls": calls})
    expected = reference_income(revenue, avg_check, conversion, Decimal(calls))
    assert result.total == expected
    assert result.total == sum(result.components.values())
    assert result.components["bonus"] == sum(line.amount for line in result.lines)


def test_a_budget_over_a_pool_scales_its_lines_so_they_still_add_up() -> None:
    scheme = kpidsl.loads('''scheme t "T"
  currency RUB
fact revenue money
fact calls count
curve c
  from 0% pays attainment
  cap 300%
kpi revenue plan 100 RUB
kpi calls plan 10
pay bonus "Bonus" pool 300 RUB
  for revenue weight 50% curve c
  for calls weight 50% curve c
budget fund "Fund" cap 700 RUB for bonus
''')
    rows = [{"employee": "a", "revenue": "200", "calls": "10"},   # 300 + 150 = 450
            {"employee": "b", "revenue": "100", "calls": "20"},   # 150 + 300 = 450
            {"employee": "c", "revenue": "100", "calls": "10"}]   # 150 + 150 = 300
    results = list(scheme.evaluate_many(rows))
    bonuses = [r.components["bonus"] for r in results]
    assert bonuses == [Decimal("262.50"), Decimal("262.50"), Decimal("175.00")]
    assert sum(bonuses) == Decimal("700.00")
    for result in results:
        assert sum(line.amount for line in result.lines) == result.components["bonus"]
        assert {line.gate for line in result.lines} == {"scaled"}
        assert sum(k.payout for k in result.kpis.values()) == result.components["bonus"]
    assert [line.amount for line in results[0].lines] == [Decimal("175.00"), Decimal("87.50")]
