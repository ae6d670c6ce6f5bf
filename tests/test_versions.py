"""Versions by period: effective dates, overlaps and gaps, the version in force, seasonal plans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main
from kpidsl.diagnostics import KpiError, render_all
from kpidsl.versions import load_versions, parse_period, resolve

VERSIONS = RULESETS / "versions"
SEASONAL_FACTS = VERSIONS / "b2b_seasonal.facts.csv"
IVANOV = {"revenue": "3300000", "retention": "90%", "calls": 950}


def scheme(effective: str, name: str = "seasonal", version: str = "1") -> str:
    clause = f"\n  effective {effective}" if effective else ""
    return f"""scheme {name} "Seasonal"
  currency RUB
  version "{version}"{clause}

fact revenue money
kpi revenue plan 1_000 RUB
pay salary = 100 RUB
"""


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.kpi").write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize(("text", "end", "day"), [
    ("2025-07", False, dt.date(2025, 7, 1)),
    ("2025-07", True, dt.date(2025, 7, 31)),
    ("2024-02", True, dt.date(2024, 2, 29)),
    ("2025-07-15", True, dt.date(2025, 7, 15)),
])
def test_periods(text: str, end: bool, day: dt.date) -> None:
    assert parse_period(text, end=end) == day


@pytest.mark.parametrize(("text", "message"), [
    ("2025-13", "'2025-13': there is no month 13"),
    ("2025-02-30", "'2025-02-30': 2025-02 has no day 30"),
    ("2025-7", "'2025-7' is not a month like 2025-07 or a date like 2025-07-15"),
    ("July", "'July' is not a month like 2025-07 or a date like 2025-07-15"),
])
def test_not_periods(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(") + "$"):
        parse_period(text)


def test_the_bundled_versions_form_a_year() -> None:
    versions = load_versions(VERSIONS)
    assert versions.diagnostics == []
    assert [(v.path.name, v.start, v.end) for v in versions.of("b2b_seasonal")] == [
        ("2025-h1.kpi", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("2025-h2.kpi", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
    ]
    assert versions.pick("2025-06").path.name == "2025-h1.kpi"
    assert versions.pick("2025-07").describe() == \
        "b2b_seasonal 2025.2 (2025-h2.kpi), in force from 2025-07-01 to 2025-12-31"
    assert versions.pick(dt.date(2025, 12, 31)).header.version == "2025.2"


def test_no_version_in_force() -> None:
    with pytest.raises(KpiError) as caught:
        load_versions(VERSIONS).pick("2026-01")
    assert caught.value.diagnostics[0].render() == (
        f"{VERSIONS}: error KPI622: no version of scheme 'b2b_seasonal' is in force on "
        "2026-01-01\n"
        "  hint: versions: 2025-h1.kpi from 2025-01-01 to 2025-06-30; "
        "2025-h2.kpi from 2025-07-01 to 2025-12-31")


def test_overlapping_versions(tmp_path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    directory = write(tmp_path / "v", a=scheme("from 2025-01 to 2025-06"),
                      b=scheme("from 2025-06-15", version="2"))
    versions = load_versions(directory)
    text = render_all(versions.diagnostics).replace(str(tmp_path), "<tmp>")
    golden.check("plans/versions_overlap", text + "\n")
    with pytest.raises(KpiError):
        versions.pick("2025-03")  # a set with errors picks nothing


def test_an_open_ended_version_overlaps_everything_after_it(tmp_path: Path) -> None:
    directory = write(tmp_path / "v", a=scheme("from 2025-01"), b=scheme("from 2025-07"))
    [overlap] = load_versions(directory).diagnostics
    assert (overlap.code, overlap.line) == ("KPI620", 4)
    assert overlap.message == (
        "versions of scheme 'seasonal' overlap: b.kpi starts on 2025-07-01 while a.kpi is in "
        "force from 2025-01-01 on (both from 2025-07-01 on)")
    assert overlap.hint == "end a.kpi with 'to 2025-06', or start this version later"


def test_a_gap_between_versions_is_a_warning(tmp_path: Path) -> None:
    directory = write(tmp_path / "v", a=scheme("from 2025-01 to 2025-05"),
                      b=scheme("from 2025-07"))
    versions = load_versions(directory)
    [gap] = versions.diagnostics
    assert (gap.code, gap.severity.value) == ("KPI621", "warning")
    assert gap.message == ("no version of scheme 'seasonal' is in force from 2025-06-01 to "
                           "2025-06-30 (between a.kpi and b.kpi)")
    assert versions.pick("2025-08").path.name == "b.kpi"
    with pytest.raises(KpiError, match="KPI622"):
        versions.pick("2025-06")


def test_versions_need_dates_one_scheme_and_files(tmp_path: Path) -> None:
    undated = load_versions(write(tmp_path / "u", a=scheme("from 2025-01"), b=scheme("")))
    assert [(d.code, d.message) for d in undated.diagnostics] == [
        ("KPI624", "b.kpi has no 'effective from' date, so it cannot be placed among the "
                   "versions")]
    bad = load_versions(write(tmp_path / "d", a=scheme("from 2025-13"),
                              b=scheme("from 2025-06 to 2025-01")))
    assert [d.message for d in bad.diagnostics] == [
        "effective date '2025-13': there is no month 13",
        "this version ends (2025-01-31) before it starts (2025-06-01)"]
    mixed = load_versions(write(tmp_path / "m", a=scheme("from 2025-01"),
                                b=scheme("from 2025-01", name="other")))
    with pytest.raises(KpiError, match="KPI629"):
        mixed.pick("2025-02")
    assert mixed.pick("2025-02", scheme="other").path.name == "b.kpi"
    with pytest.raises(KpiError, match="KPI629"):
        load_versions(tmp_path / "m" / "nothing")


def test_resolve_a_single_file_checks_its_own_period() -> None:
    resolved = resolve(RULESETS / "b2b_manager.kpi", "2025-03")
    assert (resolved.month, resolved.note()) == (3, "using b2b_manager 2025.1 "
                                                    "(b2b_manager.kpi), in force from "
                                                    "2025-01-01 on")
    with pytest.raises(KpiError) as caught:
        resolve(RULESETS / "b2b_manager.kpi", "2024-12")
    assert caught.value.diagnostics[0].render().splitlines()[0].endswith(
        "error KPI622: b2b_manager.kpi is not in force on 2024-12-01: it is in force from "
        "2025-01-01 on")
    assert resolve(RULESETS / "b2b_manager.kpi").month is None


# ---------------------------------------------------------------- seasonal plans


@pytest.mark.parametrize(("period", "file", "plans", "shares", "total"), [
    # January is aggressive: revenue 3.6 M (91.67 %), calls 1 200 (79.2 %: below the cut-off)
    ("2025-01", "2025-h1.kpi", ("3600000", "0.85", "1200"), ("25000.00", "15000.00", "10000.00"),
     "101975.49"),
    ("2025-03", "2025-h1.kpi", ("3000000", "0.85", "1000"), ("25000.00", "15000.00", "10000.00"),
     "121558.82"),
    # July is the retention month: a lower revenue plan, retention weighs half
    ("2025-07", "2025-h2.kpi", ("2400000", "0.90", "1000"), ("15000.00", "25000.00", "10000.00"),
     "119250.00"),
    # September is aggressive again
    ("2025-09", "2025-h2.kpi", ("3600000", "0.85", "1000"), ("25000.00", "15000.00", "10000.00"),
     "111475.49"),
])
def test_seasonal_plans_by_month(period, file, plans, shares, total) -> None:  # type: ignore[no-untyped-def]
    resolved = resolve(VERSIONS, period)
    assert resolved.version is not None and resolved.version.path.name == file
    result = resolved.ruleset.evaluate(IVANOV, month=resolved.month)
    assert tuple(str(k.plan) for k in result.kpis.values()) == plans
    assert tuple(str(line.share) for line in result.lines) == shares
    assert result.total == Decimal(total)


def test_every_version_passes_its_examples() -> None:
    from kpidsl.testing import run_examples

    for path in sorted(VERSIONS.glob("*.kpi")):
        assert all(o.passed for o in run_examples(kpidsl.load(path))), path.name


# ---------------------------------------------------------------- the command line


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_eval_picks_the_version_in_force_and_says_which() -> None:
    result = run("eval", VERSIONS, SEASONAL_FACTS, "--period", "2025-07", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == \
        "using b2b_seasonal 2025.2 (2025-h2.kpi), in force from 2025-07-01 to 2025-12-31"
    assert "ivanov" in result.stdout and "119250.00" in result.stdout


def test_eval_of_a_directory_needs_a_period() -> None:
    result = run("eval", VERSIONS, SEASONAL_FACTS)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{VERSIONS}: error KPI622: a directory of versions: say "
                                    "which period to evaluate")


def test_eval_with_a_period_outside_every_version() -> None:
    result = run("eval", VERSIONS, SEASONAL_FACTS, "--period", "2024-12")
    assert result.exit_code == 2
    assert "error KPI622: no version of scheme 'b2b_seasonal' is in force on 2024-12-01" in \
        result.stderr


def test_eval_forecast_within_a_version() -> None:
    result = run("eval", VERSIONS, SEASONAL_FACTS, "--period", "2025-07", "--elapsed", "11",
                 "--total-days", "23", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"forecast_total"' in result.stdout


def test_compare_the_version_in_force_with_a_pilot_not_yet_in_force() -> None:
    result = run("compare", VERSIONS, VERSIONS / "2025-h1.kpi", SEASONAL_FACTS, "--period",
                 "2025-07", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:4] == [
        "ivanov,base,119250.00,121558.82,2308.82,gains,plan of revenue; plan of retention; "
        "bonus for revenue; bonus for retention; bonus",
        "petrova,base,121916.67,112617.65,-9299.02,loses,plan of revenue; plan of retention; "
        "bonus for revenue; bonus for retention; bonus",
        "sidorov,base,123622.22,124517.65,895.43,gains,plan of revenue; plan of retention; "
        "bonus for revenue; bonus for retention; bonus"]
    assert "2025-h2.kpi" in run("compare", VERSIONS, VERSIONS / "2025-h1.kpi", SEASONAL_FACTS,
                                "--period", "2025-07").stdout.splitlines()[0]


def test_target_in_the_retention_month() -> None:
    result = run("target", VERSIONS, SEASONAL_FACTS, "--employee", "ivanov", "--earn", "125000",
                 "--vary", "retention", "--period", "2025-07", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"value": "0.922500"' in result.stdout  # a 90 % plan in July: 102.5 % pays 30 750
