"""Role schemes in rulesets/: every one checks clean under --strict and passes its own
examples; the role schemes' examples sit at, just below and just above every curve
threshold; and the methodology lints fire where the method says they should."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import kpidsl
from kpidsl.checks import BASE
from kpidsl.cli import main
from kpidsl.diagnostics import render_all
from kpidsl.testing import boundary_coverage, coverage_percent, run_examples

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted((ROOT / "rulesets").rglob("*.kpi"))
ROLES = ["hunter", "farmer", "long_cycle_b2b", "infobiz_manager", "head_of_sales"]


def load(name: str) -> kpidsl.Ruleset:
    return kpidsl.load(ROOT / "rulesets" / f"{name}.kpi")


@pytest.mark.parametrize("path", RULESETS, ids=[p.stem for p in RULESETS])
def test_every_ruleset_is_clean_and_passes_its_examples(path: Path) -> None:
    diagnostics = kpidsl.check(path.read_text(encoding="utf-8"), str(path))
    assert diagnostics == [], render_all(diagnostics)  # no warnings either: --strict clean
    outcomes = run_examples(kpidsl.load(path))
    failures = [(o.example.name, [(m.what, str(m.expected), str(m.actual)) for m in o.mismatches],
                 [d.message for d in o.errors]) for o in outcomes if not o.passed]
    assert failures == []


@pytest.mark.parametrize("name", ROLES)
def test_role_examples_cover_every_curve_boundary(name: str) -> None:
    scheme = load(name)
    outcomes = run_examples(scheme)
    assert len(outcomes) >= 5
    boundaries = boundary_coverage(scheme, outcomes)
    missing = [(b.curve, str(b.threshold), b.at, b.below, b.above) for b in boundaries
               if b.covered < 3]
    assert missing == [] and coverage_percent(boundaries) == Decimal(100)


@pytest.mark.parametrize("index", range(5))
def test_documented_role_syntax_parses(index: int) -> None:
    text = (ROOT / "docs" / "language-roles.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```kpi\n(.*?)```", text, re.S)
    assert len(blocks) == 5
    block = blocks[index]
    source = block if block.startswith("scheme") else 'scheme doc "Doc"\n' + block
    assert [d.render() for d in kpidsl.check(source) if d.code < "KPI100"] == []


def test_check_strict_over_the_rulesets_directory() -> None:
    result = CliRunner().invoke(main, ["check", "--strict", str(ROOT / "rulesets")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.endswith("no problems\n")


@pytest.mark.parametrize("name", ROLES)
def test_role_facts_files_describe_a_realistic_team(name: str) -> None:
    lines = (ROOT / "rulesets" / f"{name}.facts.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["employee", "name"]
    assert 8 <= len(lines) - 1 <= 20


# ---------------------------------------------------------------- what each role is paid for


def weights(scheme: kpidsl.Ruleset, grade: str) -> dict[str, Decimal]:
    """Share of the bonus pool per KPI group, in percent."""
    variant = scheme.checked.variants[grade]
    out: dict[str, Decimal] = {}
    for item in variant.pays["bonus"].items:
        group = variant.kpis[item.kpi].group or ""
        out[group] = out.get(group, Decimal(0)) + item.weight.value * 100  # type: ignore[union-attr]
    return out


def test_hunter_levels_are_grades_not_copies() -> None:
    scheme = load("hunter")
    variants = scheme.checked.variants
    assert scheme.grades == ["junior", "middle", "senior", "lead"]
    assert [variants["lead"].parent, variants["senior"].parent] == ["senior", BASE]
    assert variants["middle"].changes == []
    assert weights(scheme, "junior") == {"activity": 60, "result": 40}
    assert weights(scheme, "middle") == {"activity": 35, "result": 65}
    assert weights(scheme, "senior") == {"activity": 10, "result": 90}
    senior = variants["senior"]
    assert "cold_contacts" not in senior.kpis and {"new_margin", "large_deals"} <= set(senior.kpis)
    # a lead changes four things and inherits the rest of the senior's scheme
    assert len(variants["lead"].changes) == 4 and variants["lead"].kpis.keys() == senior.kpis.keys()


def test_farmer_pays_for_the_existing_base() -> None:
    variant = load("farmer").checked.base
    assert list(variant.kpis) == ["retention", "repeat_sales", "avg_check", "ltv", "nps"]
    assert variant.budgets["upsell_fund"].per_team


def test_long_cycle_pays_per_milestone_with_caps() -> None:
    scheme = load("long_cycle_b2b")
    pays = scheme.checked.base.pays
    assert [(p, [g.kind for g in pays[p].gates]) for p in
            ("review_bonus", "pilot_bonus", "contract_bonus")] == [
        ("review_bonus", ["cap"]), ("pilot_bonus", ["cap"]), ("contract_bonus", ["cap"])]
    assert scheme.checked.base.kpi_direction("cycle_days") == "lower"


def test_infobiz_counts_no_activity_and_two_kpis_are_lower_is_better() -> None:
    scheme = load("infobiz_manager")
    variant = scheme.checked.base
    assert scheme.checked.header.sector == "infobusiness"
    assert [k for k, kpi in variant.kpis.items() if kpi.group == "activity"] == []
    assert [k for k in variant.kpis if variant.kpi_direction(k) == "lower"] == [
        "response_time", "refund_rate"]


def test_head_of_sales_is_paid_per_team_on_department_totals() -> None:
    scheme = load("head_of_sales")
    assert scheme.checked.header.per_team
    result = scheme.evaluate({"revenue": "15000000", "calls": 10_000, "meetings": 250,
                              "new_clients": 50, "costs": "1400000"}, employee="Москва")
    assert {k: v.value for k, v in result.kpis.items()} == {
        "dept_revenue": Decimal(15_000_000), "dept_conversion": Decimal("0.025"),
        "cac": Decimal(28_000)}


# ---------------------------------------------------------------- methodology lints


LINTED = """scheme lints "Lints"
  currency RUB
  period month
  sector infobusiness
fact calls count "Calls"
fact messages count "Messages"
fact revenue money "Revenue"
curve standard
  from 0% pays attainment
  cap 200%
kpi calls "Calls" plan 1000 group activity
kpi messages "Messages" plan 500 group activity
kpi revenue "Revenue" plan 1_000_000 RUB group result
pay bonus "Bonus" pool 50_000 RUB
  for calls weight 50% curve standard
  for messages weight 50% curve standard
pay result_bonus "Result bonus" pool 50_000 RUB
  for revenue weight 100% curve standard
pay team_bonus "Team bonus" = 30_000 RUB only if team total of revenue >= 5_000_000 RUB
"""


def test_methodology_lints(golden) -> None:
    diagnostics = kpidsl.check(LINTED, "lints.kpi")
    golden.check("roles/lints", render_all(diagnostics) + "\n")
    assert [(d.code, d.line) for d in diagnostics] == [
        ("KPI707", 11), ("KPI707", 12), ("KPI705", 14), ("KPI706", 19)]
    assert all(not d.is_error for d in diagnostics)


def test_activity_counts_are_fine_outside_info_business() -> None:
    codes = [d.code for d in kpidsl.check(LINTED.replace("  sector infobusiness\n", ""))]
    assert "KPI707" not in codes


@pytest.mark.parametrize(("amount", "warned"), [
    ("11_111 RUB", True),    # 11 111 / 111 111 = 9.99 %
    ("11_112 RUB", False),   # 10.0 %
    ("25_000 RUB", False),   # 25 000 / 125 000 = 20 %
    ("25_001 RUB", True),    # 20.0008 %
])
def test_team_share_must_stay_between_ten_and_twenty_percent(amount: str, warned: bool) -> None:
    text = LINTED.replace("30_000 RUB only if", f"{amount} only if")
    assert ("KPI706" in [d.code for d in kpidsl.check(text)]) is warned


def test_more_than_seven_kpis_for_one_employee() -> None:
    facts = "".join(f"fact f{i} count\n" for i in range(8))
    kpis = "".join(f"kpi f{i} plan 10 group result\n" for i in range(8))
    pays = "".join(f"pay p{i} pool 1_000 RUB\n  for f{i} weight 100% curve standard\n"
                   for i in range(8))
    text = 'scheme many "Many"\n  currency RUB\n  period month\n' + facts + \
        "curve standard\n  from 0% pays attainment\n" + kpis + pays
    [d] = kpidsl.check(text)
    assert (d.code, d.message) == ("KPI704", "an employee is paid on 8 KPIs; the method advises "
                                   "at most 7")
    graded = text.replace("pay p7 pool 1_000 RUB\n  for f7 weight 100% curve standard\n", "") + \
        "grade senior\n  pay p7 pool 1_000 RUB\n    for f7 weight 100% curve standard\n"
    [d] = kpidsl.check(graded)
    assert d.message == "an employee of grade 'senior' is paid on 8 KPIs; the method advises " \
        "at most 7"


def test_strict_turns_lints_into_failures(tmp_path: Path) -> None:
    path = tmp_path / "lints.kpi"
    path.write_text(LINTED, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(path)]).exit_code == 0
    assert runner.invoke(main, ["check", "--strict", str(path)]).exit_code == 1


def test_check_lists_what_each_grade_changes() -> None:
    result = CliRunner().invoke(main, ["check", "--grades", str(ROOT / "rulesets" / "hunter.kpi")],
                                catch_exceptions=False)
    assert result.exit_code == 0
    listed = (ROOT / "tests" / "golden" / "roles" / "hunter_provenance.txt").read_text("utf-8")
    assert result.stdout.endswith(f"hunter.kpi:\n{listed}\n1 file checked: no problems\n")
