"""Explanations show what was paid (issue: a seasonal constant `by month`, a fact defaulting to
a seasonal constant and unary `+x` were explained or paid wrongly)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.explain import explain
from kpidsl.facts import read_facts

SEASONAL = """scheme s "Seasonal"
  currency RUB
  period month
fact revenue money "Revenue"
fact bonus_rate percent "Bonus rate" if missing push
constant push "Push" = 1% by month jan 3%, sep 2%
kpi revenue "Revenue"
  plan 1_000_000 RUB
pay commission "Commission" = revenue × push
pay extra "Extra" = +revenue × bonus_rate
"""


def test_a_seasonal_constant_is_paid_and_explained_for_the_month() -> None:
    scheme = kpidsl.loads(SEASONAL)
    january = scheme.evaluate({"revenue": "1000000", "bonus_rate": "0.5%"}, month=1)
    assert january.components["commission"] == Decimal("30000.00")
    lines = explain(scheme, january)
    assert "  = 1,000,000 × 3% = 30,000" in lines, lines
    march = scheme.evaluate({"revenue": "1000000", "bonus_rate": "0.5%"}, month=3)
    assert march.components["commission"] == Decimal("10000.00")


def test_a_fact_defaulting_to_a_seasonal_constant_takes_the_months_value() -> None:
    scheme = kpidsl.loads(SEASONAL)
    september = scheme.evaluate({"revenue": "1000000"}, month=9)
    assert september.facts["bonus_rate"] == Decimal("0.02")
    assert september.components["extra"] == Decimal("20000.00")
    assert scheme.evaluate({"revenue": "1000000"}, month=5).components["extra"] == \
        Decimal("10000.00")


def test_a_facts_file_leaves_a_seasonal_default_to_the_month(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scheme = kpidsl.loads(SEASONAL)
    path = tmp_path / "facts.csv"
    path.write_text("employee,revenue,bonus_rate\nivanov,1000000,\n", encoding="utf-8")
    rows = list(read_facts(path, scheme.fact_specs))
    [result] = list(scheme.evaluate_many(rows, month=1))
    assert result.components["extra"] == Decimal("30000.00")


def test_unary_plus_is_the_value_itself_when_paid_and_explained() -> None:
    scheme = kpidsl.loads(SEASONAL)
    result = scheme.evaluate({"revenue": "1000000", "bonus_rate": "1%"}, month=5)
    assert result.components["extra"] == Decimal("10000.00")
    lines = explain(scheme, result)
    assert "  = +1,000,000 × 0.01 = 10,000" in lines, lines  # was "−1,000,000"


_MISSING = object()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([_MISSING, None, "", "0.5%", Decimal("0.004")]),
                          st.sampled_from([_MISSING, Decimal("1000000"), Decimal("-3.5")])),
                min_size=1, max_size=40),
       st.sampled_from([None, 1, 5, 9]), st.sampled_from(["list", "iter", "ahead"]))
def test_a_row_leaving_out_a_defaulted_fact_is_paid_as_one_evaluated_alone(
        cells: list[tuple[object, object]], month: int | None, kind: str) -> None:
    """A row without a fact that has a default (the month's, for a seasonal one) is paid on
    the evaluation's quick path as `evaluate` pays it alone; a row without a required fact
    is reported (KPI502) between the results around it."""
    from kpidsl.diagnostics import KpiError
    from kpidsl.evaluate import ReadAhead

    scheme = kpidsl.loads(SEASONAL)
    rows = []
    for i, (rate, revenue) in enumerate(cells):
        row: dict[str, object] = {"employee": f"e{i}"}
        if rate is not _MISSING:
            row["bonus_rate"] = rate
        if revenue is not _MISSING:
            row["revenue"] = revenue
        rows.append(row)
    alone: list[tuple[str, object]] = []
    for row in rows:
        try:
            alone.append((str(row["employee"]), scheme.evaluate(row, month=month).to_dict()))
        except KpiError as exc:
            alone.append((str(row["employee"]), exc.diagnostics[0].code))
    given_rows: object = {"list": rows, "iter": iter(rows), "ahead": ReadAhead(rows)}[kind]
    events: list[tuple[str, object]] = []
    for result in scheme.evaluate_many(given_rows, month=month,  # type: ignore[arg-type]
                                       on_error=lambda e, _r, d: events.append((e, d[0].code))):
        events.append((result.employee, result.to_dict()))
    assert events == alone
