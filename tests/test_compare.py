"""Pilot comparison: two versions of a scheme on the same facts, person by person."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main
from kpidsl.cli.render import ResultsFormat
from kpidsl.cli.render.base import Output
from kpidsl.compare import Change, compare
from kpidsl.facts import read_facts

CURRENT = RULESETS / "b2b_manager.kpi"
FACTS = RULESETS / "b2b_manager.facts.csv"


def pilot_text(old: str = "attainment × 1.2", new: str = "attainment × 1.5") -> str:
    text = CURRENT.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


@pytest.fixture(scope="module")
def pilot_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pilot") / "pilot.kpi"
    path.write_text(pilot_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def comparison():  # type: ignore[no-untyped-def]
    old = kpidsl.load(CURRENT)
    new = kpidsl.loads(pilot_text(), "pilot.kpi")
    return compare(old, new, read_facts(FACTS, old.fact_specs))


def test_ivanov_with_an_accelerator_of_1_5(comparison) -> None:  # type: ignore[no-untyped-def]
    ivanov = comparison.rows[0]
    assert (ivanov.employee, ivanov.old_total, ivanov.new_total, ivanov.delta) == \
        ("ivanov", Decimal("119800.00"), Decimal("129550.00"), Decimal("9750.00"))
    # revenue 20 000 × 1.1 × 1.5 = 33 000; conversion 10 000 × 1.05 × 1.5 = 15 750
    assert ivanov.changes == [
        Change("bonus for revenue", Decimal("26400.00"), Decimal("33000.00")),
        Change("bonus for conversion", Decimal("12600.00"), Decimal("15750.00")),
        Change("bonus", Decimal("58000.00"), Decimal("67750.00")),
    ]
    assert ivanov.verdict == "gains"


def test_the_payroll_fund_and_who_gains(comparison) -> None:  # type: ignore[no-untyped-def]
    # the curve is uncapped: Volkov's revenue line pays 20 000 × 4 100 000 / 3 000 000 × 1.5
    # = 41 000 (40 000 + 1 000 over what a 200 % cap would have let through)
    assert (comparison.old_fund, comparison.new_fund) == \
        (Decimal("850406.67"), Decimal("903466.67"))
    assert [(r.employee, r.delta) for r in comparison.gainers] == [
        ("volkov", Decimal("19600.00")), ("smirnov", Decimal("17550.00")),
        ("ivanov", Decimal("9750.00")), ("popova", Decimal("6160.00"))]
    assert comparison.losers == []
    assert [r.employee for r in comparison.unchanged] == \
        ["petrova", "sidorov", "kuznetsova", "morozova"]


def test_json_rows_carry_exact_decimal_strings(comparison) -> None:  # type: ignore[no-untyped-def]
    data = comparison.to_dict()
    assert data["rows"][0] == {
        "employee": "ivanov", "grade": "base", "old_total": "119800.00",
        "new_total": "129550.00", "delta": "9750.00", "verdict": "gains",
        "changed": [
            {"line": "bonus for revenue", "old": "26400.00", "new": "33000.00",
             "delta": "6600.00"},
            {"line": "bonus for conversion", "old": "12600.00", "new": "15750.00",
             "delta": "3150.00"},
            {"line": "bonus", "old": "58000.00", "new": "67750.00", "delta": "9750.00"},
        ]}
    assert data["fund"] == {"old_total": "850406.67", "new_total": "903466.67",
                            "delta": "53060.00"}
    assert data["gainers"] == ["volkov", "smirnov", "ivanov", "popova"]


def test_csv_has_one_row_per_employee_and_the_fund(comparison) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    scheme = kpidsl.load(CURRENT)
    ResultsFormat.CSV.renderer(Output(out)).comparison(comparison, scheme, scheme)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["employee", "grade", "old_total", "new_total", "delta", "verdict",
                       "changed"]
    assert rows[1] == ["ivanov", "base", "119800.00", "129550.00", "9750.00", "gains",
                       "bonus for revenue; bonus for conversion; bonus"]
    assert rows[-1] == ["(fund)", "", "850406.67", "903466.67", "53060.00", "", ""]


def test_a_stricter_cut_off_makes_people_lose() -> None:
    old = kpidsl.load(CURRENT)
    new = kpidsl.loads(pilot_text("below 80%               pays 0\n"
                                  "  from 80% through 100%",
                                  "below 90%               pays 0\n"
                                  "  from 90% through 100%"), "strict.kpi")
    result = compare(old, new, read_facts(FACTS, old.fact_specs))
    assert [(r.employee, r.old_total, r.new_total) for r in result.losers] == [
        ("sidorov", Decimal("100000.00"), Decimal("60000.00")),
        ("morozova", Decimal("68666.67"), Decimal("60000.00"))]
    sidorov = result.losers[0]
    assert [c.what for c in sidorov.changes] == [
        "bonus for revenue", "bonus for avg_check", "bonus for conversion", "bonus for calls",
        "bonus"]


def test_lines_present_in_one_version_only() -> None:
    old = kpidsl.load(CURRENT)
    new = kpidsl.loads(pilot_text("  = max(revenue − plan of revenue, 0) × margin_rate × "
                                  "commission_rate",
                                  "  = 0 RUB\npay retention_fee \"Retention\" = 500 RUB"),
                       "new.kpi")
    result = compare(old, new, [{"employee": "ivanov", "revenue": "3300000",
                                 "avg_check": "142500", "conversion": "2.1%", "calls": 950}])
    assert result.rows[0].changes == [
        Change("commission", Decimal("1800.00"), Decimal("0.00")),
        Change("retention_fee", None, Decimal("500.00")),
    ]
    assert result.rows[0].changes[1].to_dict() == {"line": "retention_fee", "old": None,
                                                   "new": "500.00", "delta": None}


# ---------------------------------------------------------------- the command line


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_compare_table(pilot_path, golden) -> None:  # type: ignore[no-untyped-def]
    result = run("compare", CURRENT, pilot_path, FACTS)
    assert result.exit_code == 0, result.output
    golden.check("plans/compare_table", result.stdout)


def test_compare_table_in_russian(pilot_path, golden) -> None:  # type: ignore[no-untyped-def]
    result = run("compare", CURRENT, pilot_path, FACTS, "--lang", "ru")
    assert result.exit_code == 0, result.output
    golden.check("plans/compare_table_ru", result.stdout)


def test_compare_json_and_csv(pilot_path) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(run("compare", CURRENT, pilot_path, FACTS, "--format", "json").stdout)
    assert (data["old"], data["new"]) == ("b2b_manager.kpi", "pilot.kpi")
    first = data["rows"][0]
    assert {k: first[k] for k in ("employee", "old_total", "new_total", "delta")} == \
        {"employee": "ivanov", "old_total": "119800.00", "new_total": "129550.00",
         "delta": "9750.00"}
    lines = run("compare", CURRENT, pilot_path, FACTS, "--format", "csv").stdout.splitlines()
    assert lines[1] == "ivanov,base,119800.00,129550.00,9750.00,gains," \
                       "bonus for revenue; bonus for conversion; bonus"


def test_bad_rows_are_reported_and_the_rest_compared(pilot_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    facts = tmp_path / "march.csv"
    facts.write_text("employee,revenue,avg_check,conversion,calls\n"
                     "ivanov,3300000,142500,2.1%,950\n"
                     "petrova,3 000 000,150000,2%,много\n", encoding="utf-8")
    result = run("compare", CURRENT, pilot_path, facts)
    assert result.exit_code == 1
    assert "ivanov" in result.stdout and "petrova" not in result.stdout
    assert "KPI501" in result.stderr and "много" in result.stderr


def test_compare_needs_readable_schemes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run("compare", CURRENT, tmp_path / "missing.kpi", FACTS)
    assert result.exit_code == 2
    assert "KPI006" in result.stderr
