"""Mid-period forecast: the dashboard of domain.md §3, pace, calendars, output of `eval`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main
from kpidsl.diagnostics import KpiError
from kpidsl.forecast import (
    Calendar,
    Pace,
    daily_norm,
    forecast,
    forecast_many,
    make_pace,
    parse_holidays,
    projected_facts,
)
from kpidsl.units import Unit

SCHEME = RULESETS / "b2b_manager.kpi"
MID_MONTH = {"revenue": "1200000", "avg_check": "150000", "conversion": "1.8%", "calls": 550}
MID_CSV = "employee,revenue,avg_check,conversion,calls\nivanov,1200000,150000,1.8%,550\n"


@pytest.fixture(scope="module")
def scheme() -> kpidsl.Ruleset:
    return kpidsl.load(SCHEME)


def test_the_dashboard_of_domain_section_3(scheme: kpidsl.Ruleset) -> None:
    result = forecast(scheme, MID_MONTH, make_pace(10, 20), employee="ivanov")
    got = {k.name: (k.plan, k.fact, k.fulfilment, k.forecast, k.status, k.paced)
           for k in result.kpis.values()}
    assert got["calls"] == (Decimal(1000), Decimal(550), Decimal("0.55"), Decimal(1100),
                            "ahead", True)
    assert got["conversion"] == (Decimal("0.02"), Decimal("0.018"), Decimal("0.9"),
                                 Decimal("0.018"), "behind", False)
    assert got["revenue"] == (Decimal(3000000), Decimal(1200000), Decimal("0.4"),
                              Decimal(2400000), "behind", True)
    # the average check is a CRM average (an efficiency KPI), not a running sum
    assert got["avg_check"][3] == Decimal(150000) and not got["avg_check"][5]
    # the projected payout: calls 110 % → 13 200, conversion 90 % → 9 000,
    # revenue 80 % → 16 000, average check 100 % → 10 000
    assert result.at_end.components == {"salary": Decimal("60000.00"),
                                        "bonus": Decimal("48200.00"),
                                        "commission": Decimal("0.00")}
    assert result.total == Decimal("108200.00")
    assert result.so_far.total == Decimal("79000.00")


def test_json_of_a_forecast_carries_fact_fulfilment_forecast(scheme: kpidsl.Ruleset) -> None:
    data = forecast(scheme, MID_MONTH, make_pace(10, 20), employee="ivanov").to_dict()
    assert data["kpis"]["calls"] == {
        "plan": "1000", "fact": "550", "fulfilment": "0.55", "forecast": "1100",
        "forecast_attainment": "1.1", "daily_norm": "50", "extrapolated": True,
        "status": "ahead"}
    assert data["kpis"]["conversion"]["forecast"] == "0.018"
    assert data["kpis"]["conversion"]["daily_norm"] is None
    assert data["kpis"]["revenue"]["forecast"] == "2400000"
    assert data["forecast_total"] == "108200.00"
    assert data["projected_facts"] == ["calls", "revenue"]


def test_daily_norm_is_plan_over_working_days() -> None:
    assert daily_norm(Decimal(800), Pace(10, 20), Unit.COUNT) == Decimal(40)
    assert str(daily_norm(Decimal(1000), Pace(5, 21), Unit.COUNT)) == "47.62"
    assert str(daily_norm(Decimal(3000000), Pace(5, 20), Unit.MONEY)) == "150000.00"
    assert daily_norm(None, Pace(5, 20), Unit.COUNT) is None


def test_computed_ratios_stay_exactly_as_they_are_at_any_pace() -> None:
    raw = kpidsl.load(RULESETS / "b2b_manager_raw.kpi")
    facts = {"revenue": "1200000", "deals": 8, "meetings": 11, "calls": 550}
    result = forecast(raw, facts, make_pace(7, 20), employee="x")
    assert result.projected == {"revenue", "deals", "meetings", "calls"}
    avg = result.kpis["avg_check"]
    assert avg.forecast == Decimal(150000) and avg.forecast_attainment == 1
    assert avg.status == "on plan" and not avg.paced
    assert result.kpis["conversion"].forecast == Decimal("0.02")
    # 550 × 2.857142857142857 (20 ÷ 7 to 16 digits, the same factor for every fact)
    assert str(result.kpis["calls"].forecast) == "1571.428571428571350"
    assert result.to_dict()["kpis"]["calls"]["forecast"] == "1571.42857142857135"
    assert result.total == Decimal("128857.14")


def test_held_facts_are_not_projected(scheme: kpidsl.Ruleset) -> None:
    assert projected_facts(scheme.checked.base) == {"revenue", "calls"}
    assert projected_facts(scheme.checked.base, hold=["calls"]) == {"revenue"}
    result = forecast(scheme, MID_MONTH, make_pace(10, 20), hold=["calls"])
    assert result.kpis["calls"].forecast == Decimal(550) and not result.kpis["calls"].paced


def test_the_last_day_forecast_is_the_month_itself(scheme: kpidsl.Ruleset) -> None:
    result = forecast(scheme, MID_MONTH, make_pace(20, 20))
    assert result.total == result.so_far.total


def test_a_batch_keeps_order_and_evaluates_the_projection(scheme: kpidsl.Ruleset) -> None:
    rows = [{"employee": "a", **MID_MONTH}, {"employee": "b", **MID_MONTH, "calls": 400}]
    got = [(f.employee, f.total) for f in forecast_many(scheme, rows, make_pace(10, 20))]
    assert got == [("a", Decimal("108200.00")), ("b", Decimal("103000.00"))]


@pytest.mark.parametrize(("elapsed", "total", "message"), [
    (0, 20, "--elapsed: error KPI625: must be between 1 and --total-days (20), not 0"),
    (21, 20, "--elapsed: error KPI625: must be between 1 and --total-days (20), not 21"),
    (1, 0, "--total-days: error KPI625: must be positive, not 0"),
])
def test_days_that_are_no_part_of_a_period(elapsed: int, total: int, message: str) -> None:
    with pytest.raises(KpiError) as caught:
        make_pace(elapsed, total)
    assert caught.value.diagnostics[0].render().splitlines()[0] == message


def test_working_days_of_a_calendar() -> None:
    plain = Calendar()
    assert len(plain.month_days(2025, 3)) == 21
    assert plain.pace(dt.date(2025, 3, 14)) == Pace(10, 21, dt.date(2025, 3, 14))
    assert plain.pace(dt.date(2025, 3, 16)).elapsed == 10  # a Sunday counts the week behind
    may = parse_holidays("# Russia, May 2025\n2025-05-01\n2025-05-02\n\n2025-05-08\n"
                         "2025-05-09  # Victory Day\n")
    assert len(may.month_days(2025, 5)) == 18
    assert may.pace(dt.date(2025, 5, 12)) == Pace(4, 18, dt.date(2025, 5, 12), holidays=4)
    november = parse_holidays("2025-11-01 working\n2025-11-03\n2025-11-04\n")
    assert november.pace(dt.date(2025, 11, 1)) == Pace(1, 19, dt.date(2025, 11, 1), 2)


def test_no_working_day_behind_yet() -> None:
    with pytest.raises(KpiError) as caught:
        Calendar().pace(dt.date(2025, 3, 1))  # a Saturday, the 1st
    assert caught.value.diagnostics[0].render() == (
        "--as-of: error KPI625: no working day of 2025-03 has passed by 2025-03-01\n"
        "  hint: a forecast needs at least one working day of facts")


def test_a_bad_holiday_line_points_at_its_line() -> None:
    with pytest.raises(KpiError) as caught:
        parse_holidays("2025-05-01\n  2025-05-32\n2025-05-09 holiday\n", "may.txt")
    assert "\n\n".join(d.render() for d in caught.value.diagnostics) == (
        "may.txt:2:3: error KPI626: bad holiday line: '2025-05-32' is not a date like "
        "2025-03-14\n"
        " 2 |   2025-05-32\n"
        "   |   ^^^^^^^^^^\n"
        "  hint: write one date per line, e.g. 2025-05-01 (or 2025-11-01 working)\n\n"
        "may.txt:3:1: error KPI626: bad holiday line: '2025-05-09 holiday' is not a date, "
        "optionally followed by 'working'\n"
        " 3 | 2025-05-09 holiday\n"
        "   | ^^^^^^^^^^^^^^^^^^\n"
        "  hint: write one date per line, e.g. 2025-05-01 (or 2025-11-01 working)")


# ---------------------------------------------------------------- the command line


def run(*args: str) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def mid_csv(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "mid.csv"
    path.write_text(MID_CSV, encoding="utf-8")
    return path


def test_eval_with_a_forecast_table(mid_csv, golden) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", SCHEME, mid_csv, "--elapsed", "10", "--total-days", "20")
    assert result.exit_code == 0, result.output
    golden.check("plans/forecast_table", result.stdout)


def test_eval_with_a_forecast_in_russian_as_of_a_date(mid_csv, tmp_path, golden) -> None:  # type: ignore[no-untyped-def]
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("2025-03-10\n", encoding="utf-8")
    result = run("eval", SCHEME, mid_csv, "--as-of", "2025-03-14", "--holidays", holidays,
                 "--lang", "ru")
    assert result.exit_code == 0, result.output
    assert "день 9 из 20 рабочих (на 2025-03-14)" in result.stdout
    golden.check("plans/forecast_table_ru", result.stdout)


def test_eval_with_a_forecast_as_json(mid_csv) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", SCHEME, mid_csv, "--elapsed", "10", "--total-days", "20",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert {k: row["kpis"]["revenue"][k] for k in ("fact", "fulfilment", "forecast")} == \
        {"fact": "1200000", "fulfilment": "0.4", "forecast": "2400000"}
    assert row["kpis"]["calls"]["daily_norm"] == "50"
    assert (row["total"], row["forecast_total"]) == ("79000.00", "108200.00")
    assert (row["elapsed_days"], row["total_days"]) == (10, 20)


def test_eval_with_a_forecast_as_csv(mid_csv) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", SCHEME, mid_csv, "--elapsed", "10", "--total-days", "20",
                 "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "employee,kpi,plan,daily_norm,fact,fulfilment,forecast,forecast_attainment,status",
        "ivanov,revenue,3000000,150000,1200000,0.4,2400000,0.8,behind",
        "ivanov,avg_check,150000,,150000,1,150000,1,on plan",
        "ivanov,conversion,0.02,,0.018,0.9,0.018,0.9,behind",
        "ivanov,calls,1000,50,550,0.55,1100,1.1,ahead",
        "ivanov,(total),,,79000.00,,108200.00,,",
    ]


@pytest.mark.parametrize(("args", "message"), [
    (["--elapsed", "10"], "error: a forecast needs both --elapsed and --total-days "
                          "(or --as-of DATE)"),
    (["--as-of", "2025-03-14", "--elapsed", "3"], "error: give either --as-of or "
                                                  "--elapsed/--total-days, not both"),
    (["--holidays", "x.txt"], "error: --holidays needs --as-of (the calendar counts the days "
                              "up to that date)"),
    (["--elapsed", "30", "--total-days", "20"], "--elapsed: error KPI625: must be between 1 "
                                                "and --total-days (20), not 30"),
    (["--as-of", "2025-02-30"], "'2025-02-30' is not a date like 2025-03-14"),
    (["--elapsed", "1", "--total-days", "2", "--hold", "calls_typo"],
     "error: --hold: 'calls_typo' is not a fact of b2b_manager"),
])
def test_forecast_option_mistakes(mid_csv, args, message) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", SCHEME, mid_csv, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_the_bundled_russian_calendar_of_2025() -> None:
    from kpidsl.forecast import read_holidays

    calendar = read_holidays(RULESETS / "versions" / "holidays-ru-2025.txt")
    days = [len(calendar.month_days(2025, month)) for month in range(1, 13)]
    assert days == [17, 20, 21, 22, 18, 19, 23, 21, 22, 23, 19, 22]  # 247, the official count
    assert calendar.pace(dt.date(2025, 7, 15)) == Pace(11, 23, dt.date(2025, 7, 15))


def test_mid_july_with_the_version_in_force(golden) -> None:  # type: ignore[no-untyped-def]
    versions = RULESETS / "versions"
    result = run("eval", versions, versions / "mid-july.csv", "--period", "2025-07",
                 "--as-of", "2025-07-15", "--holidays", versions / "holidays-ru-2025.txt")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("using b2b_seasonal 2025.2 (2025-h2.kpi)")
    golden.check("plans/forecast_mid_july", result.stdout)


def test_the_documented_russian_dashboard_is_the_real_one(mid_csv) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", SCHEME, mid_csv, "--elapsed", "10", "--total-days", "20",
                 "--lang", "ru")
    doc = (RULESETS.parent / "docs" / "real-life.md").read_text(encoding="utf-8")
    assert result.stdout.rstrip("\n") in doc


DEPARTMENT = """scheme dept "Department"
  currency RUB
  paid per team

fact revenue money
fact conversion percent

curve straight
  from 0% pays attainment

kpi dept_revenue = team total of revenue plan 1_000 RUB
kpi dept_conversion = team average of conversion plan 2%

pay bonus pool 1_000 RUB
  for dept_revenue weight 50% curve straight
  for dept_conversion weight 50% curve straight
"""
MEMBERS = ("employee,team,revenue,conversion\n"
           "a,north,100,2%\nb,north,200,1%\nc,south,500,3%\n")


def test_a_scheme_paid_per_team_is_projected_member_by_member() -> None:
    from kpidsl.facts import read_facts_text

    dept = kpidsl.loads(DEPARTMENT, "dept.kpi")
    rows = list(read_facts_text(MEMBERS, dept.fact_specs))
    got = {f.employee: (f.kpis["dept_revenue"].forecast, f.kpis["dept_revenue"].daily_norm,
                        f.kpis["dept_conversion"].forecast, f.total)
           for f in forecast_many(dept, rows, make_pace(5, 10))}
    # the average conversion of north stays (2 % + 1 %) ÷ 2, not the sum of its members
    assert got == {"north": (Decimal(600), Decimal("100.00"), Decimal("0.015"),
                             Decimal("675.00")),
                   "south": (Decimal(1000), Decimal("100.00"), Decimal("0.03"),
                             Decimal("1250.00"))}


def test_eval_forecast_of_a_scheme_paid_per_team(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "dept.kpi").write_text(DEPARTMENT, encoding="utf-8")
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    result = run("eval", tmp_path / "dept.kpi", tmp_path / "members.csv", "--elapsed", "5",
                 "--total-days", "10", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "north,dept_conversion,0.02,,0.015,0.75,0.015,0.75,behind" in result.stdout
    assert "north,(total),,,525.00,,675.00,," in result.stdout
