"""The Python sources path's short cuts give exactly what the general path gives: the short
reading of common cells, and the held values spilled to disk and read back."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.numbers import bound_error
from kpidsl.run import FactsOptions, evaluate_files
from kpidsl.sources.dates import parse_date
from kpidsl.sources.evaluate import Stage, check_bounds, mean
from kpidsl.sources.read import _PLAIN, fast_date
from kpidsl.units import Unit
from kpidsl.values import FactValueError, Reading, parse_value

READINGS = [Reading(), Reading(locale="ru"), Reading(locale="en"),
            Reading(grouped={",": "'1,000,000' on row 2"}),
            Reading(grouped={".": "'1.000.000' on row 2"}), Reading(currency="RUB")]


@settings(max_examples=1000, deadline=None)
@given(st.text("0123456789,.- ", min_size=1, max_size=14))
def test_a_plain_amount_reads_as_the_general_path_reads_it(text: str) -> None:
    if not _PLAIN.fullmatch(text):
        return
    value = Decimal(text.replace(",", ".", 1))
    short = value if value else abs(value)
    for reading in READINGS:
        for unit in (Unit.MONEY, Unit.NUMBER):
            general = parse_value(text, unit, reading)
            assert (short, str(short)) == (general, str(general)), (text, reading, unit)


@settings(max_examples=1000, deadline=None)
@given(st.text("0123456789-: T.", min_size=8, max_size=20) | st.builds(
    "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format, st.integers(0, 9999),
    st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
    st.integers(0, 61)) | st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999),
                                    st.integers(0, 13), st.integers(0, 32)))
def test_a_short_date_reads_as_parse_date_reads_it(text: str) -> None:
    short = fast_date(text)
    if short is None:
        return
    assert short == parse_date(text)


def test_the_short_paths_refuse_what_they_cannot_read() -> None:
    assert not _PLAIN.fullmatch("142,500")  # thousands or a decimal: the general path says
    assert not _PLAIN.fullmatch("007")
    assert not _PLAIN.fullmatch("1 047,20")
    assert fast_date("2025-02-30") is None
    with pytest.raises(FactValueError):
        parse_date("2025-02-30")


SCHEME = '''scheme spill "Spill"
source deals "Deals"
  employee column "Manager"  date column "Closed"  key column "ID"
  field amount money column "Amount"
  field stage text column "Stage"
  field signed date column "Signed"
fact revenue  money  = total of deals.amount where stage is one of "won", "paid" if missing 0
fact clients  count  = count distinct of deals.stage if missing 0
fact amounts  count  = count distinct of deals.amount if missing 0
fact signings count  = count distinct of deals.signed if missing 0
fact middle   money  = median of deals.amount if missing 0
fact mean     money  = average of deals.amount if missing 0
curve rates "Tiers"
  tiers marginal
    from 0% to 80%     rate 1%
    from 80% to 100%   rate 2.5%
    from 100% to 150%  rate 3%
    from 150%          rate 4.125%
kpi revenue "Revenue" plan 100_000 RUB
pay commission "Commission"
  for each deal in deals where stage is one of "won", "paid" in order of date, key
  pays rates on the running attainment of revenue
'''

row = st.tuples(
    st.sampled_from(["a", "b", "c", "Дарья", "e", ""]),
    st.sampled_from(["2025-07-01", "2025-07-02", "15.07.2025 10:30", "2025-07-31 23:59",
                     "2025-07-31 23:59:59", "2025-06-30", "2025-08-01", "2025-07-32"]),
    st.sampled_from(["1", "2", "10", "A-7", "007", "3.5"]),
    st.integers(-20_000_00, 90_000_00) | st.sampled_from([0, 100, -100]),
    st.sampled_from(["won", "WON ", "paid", "lost", "open"]),
    st.sampled_from(["", ",", ".", "x"]))


def _run(path: Path, spill: int | None) -> str:
    Stage.SPILL, Stage.FLUSH, before = spill, 2, (Stage.SPILL, Stage.FLUSH)
    try:
        run = evaluate_files(kpidsl.loads(SCHEME), [path], FactsOptions(), period="2025-07")
        shown = [r.to_dict() for r in run.results()]
        return json.dumps({"results": shown, "counts": repr(run.counts),
                           "failures": [repr(f) for f in run.failures]}, default=str)
    finally:
        Stage.SPILL, Stage.FLUSH = before


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=60))
def test_spilled_to_disk_the_results_are_the_same(tmp_path: Path, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    def amount(cents: int, how: str) -> str:
        text = f"{Decimal(cents) / 100:f}"
        return {"": text, ",": text.replace(".", ","), ".": text, "x": text + "x"}[how]

    text = "ID;Manager;Closed;Amount;Stage;Signed\n" + "".join(
        f"{key};{who};{when};{amount(cents, how)};{stage};2025-06-{cents % 3 + 1:02d}\n"
        for who, when, key, cents, stage, how in rows)
    deals = tmp_path / "deals.csv"
    deals.write_text(text, encoding="utf-8")
    assert _run(deals, 1) == _run(deals, None)


def test_a_run_past_the_limit_spills_and_reads_back_every_deal(tmp_path: Path) -> None:
    lines = ["ID;Manager;Closed;Amount;Stage;Signed"]
    for i in range(400):
        lines.append(f"{i};m{i % 7};2025-07-{i % 28 + 1:02d} 10:00;{(i * 7919) % 90000},"
                     f"{i % 100:02d};{'lost' if i % 10 == 3 else 'won'};2025-06-0{i % 5 + 1}")
    deals = tmp_path / "deals.csv"
    deals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spilled = json.loads(_run(deals, 50))
    assert spilled == json.loads(_run(deals, None))
    assert sum(len(r.get("deals", [])) for r in spilled["results"]) == 360


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(-10**14, 10**14), min_size=1, max_size=40), st.integers(0, 20))
def test_an_average_is_the_exact_quotient_rounded_once(units: list[int], places: int) -> None:
    values = [Decimal(u).scaleb(-places) for u in units]
    total = sum(values, Decimal(0))
    got = mean(total, len(values))
    assert bound_error(got) is None  # an average check never fails its employee
    exact = Fraction(total) / len(values)
    exponent = max(-20, got.adjusted() - 27) if got else -20
    assert abs(Fraction(got) - exact) <= Fraction(10) ** exponent / 2
    scaled = exact * 10 ** 20
    if scaled.denominator == 1 and len(str(abs(scaled.numerator)).strip("0")) <= 28:
        assert Fraction(got) == exact  # a quotient that fits is exact


@pytest.mark.parametrize(("total", "count", "average"), [
    ("1E-20", 2, "0"),  # half of the last decimal: half even, down to 0
    ("3E-20", 2, "2E-20"),  # 1.5 of it: up to the even 2
    ("-3E-20", 2, "-2E-20"),
    ("100", 3, "33.33333333333333333333"),  # 20 decimals
    ("-100", 3, "-33.33333333333333333333"),
    ("200", 3, "66.66666666666666666667"),
    ("9999999", 7, "1428571.28571428571428571429"),  # 28 digits would be 21 decimals: 20
    # a tie at the 21st decimal rounds up to 10^7, past the integers' quick path
    ("19999999.99999999999999999999", 2, "10000000"),
    ("123456789012.5", 7, "17636684144.64285714285714286"),  # 28 digits, 17 decimals
])
def test_an_average_is_rounded_once_half_even_at_its_last_place(
        total: str, count: int, average: str) -> None:
    assert str(mean(Decimal(total), count)) == average


@settings(max_examples=800, deadline=None)
@given(st.one_of(st.integers(-10**32, 10**32).flatmap(
    lambda units: st.integers(-26, 6).map(lambda exponent: Decimal(units).scaleb(exponent))),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
                     Decimal("1E+20"), Decimal("99999999999999999999.99999999"),
                     Decimal("0.00000000000000000001"), Decimal("1E-21")])))
def test_a_total_is_refused_by_the_quick_test_exactly_when_by_the_bound_rule(
        value: Decimal) -> None:
    refused = check_bounds({"revenue": value})
    assert (refused is None) == (bound_error(value) is None)
    if refused is not None:
        assert refused.startswith("'revenue' (")
