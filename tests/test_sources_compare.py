"""`kpidsl compare` on deal exports: each scheme computes its facts from the exports, its
per-deal payment walked by its own tiers."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from deal_schemes import tiered_deals

from kpidsl.cli import main

SCHEME = tiered_deals("per_deal", "Per deal", won=False)


def test_compare_walks_each_schemes_tiers_over_the_deals(tmp_path: Path) -> None:
    old, new = tmp_path / "old.kpi", tmp_path / "new.kpi"
    old.write_text(SCHEME, encoding="utf-8")
    new.write_text(SCHEME.replace("from 0% to 80%     rate 1%", "from 0% to 80%     rate 2%"),
                   encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage\n1;a;2025-07-03;60000;won\n"
                     "2;a;2025-07-10;30000;won\n3;b;2025-07-11;x;won\n4;c;2025-07-12;10;won\n",
                     encoding="utf-8")
    out = CliRunner().invoke(main, ["compare", str(old), str(new), str(deals), "--period",
                                    "2025-07", "--format", "json"])
    assert out.exit_code == 1, out.output  # b's deal cannot be read: a finding
    shown = json.loads(out.stdout)
    rows = {r["employee"]: r for r in shown["rows"]}
    # old: 60 000 × 1 % + 20 000 × 1 % + 10 000 × 2 % = 1 000.00; new: 80 000 × 2 % +
    # 10 000 × 2 % = 1 800.00
    assert (rows["a"]["old_total"], rows["a"]["new_total"]) == ("1000.00", "1800.00")
    assert set(rows) == {"a", "c"}
    assert out.stderr.count("KPI540: employee 'b'") == 1  # reported once, not per scheme


def test_target_starts_from_the_facts_the_exports_give() -> None:
    root = Path(__file__).resolve().parent.parent / "rulesets" / "exports"
    args = ["target", str(root / "b2b_deals.kpi"), str(root / "b2b_deals.deals.csv"),
            str(root / "b2b_deals.calls.csv"), "--period", "2025-07", "--employee",
            "Петрова Анна", "--earn", "120000", "--vary", "revenue", "--format", "json"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    # 16 won deals of 2 611 200, as `eval` reads them, paying 106 634.21
    assert (answer["current"], answer["current_total"]) == ("2611200.00", "106634.21")
    assert (answer["outcome"], answer["value"]) == ("reached", "3254199.17")


def test_target_refuses_to_vary_what_a_per_deal_payment_walks_on(tmp_path: Path) -> None:
    scheme = tmp_path / "s.kpi"
    scheme.write_text(SCHEME, encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage\n1;a;2025-07-03;60000;won\n",
                     encoding="utf-8")
    out = CliRunner().invoke(main, ["target", str(scheme), str(deals), "--period", "2025-07",
                                    "--employee", "a", "--earn", "5000", "--vary", "revenue"])
    assert out.exit_code == 2, out.output
    assert "KPI627" in out.output and "paid deal by deal (payment 'commission')" in out.output


def test_compare_reports_an_employee_only_one_scheme_has_facts_for(tmp_path: Path) -> None:
    """The new scheme credits the deal's owner, not its manager: 'b' has facts only under
    the current scheme and 'd' only under the new one. Neither drops out silently: both
    are reported with both readings and left out of both payroll funds."""
    old, new = tmp_path / "old.kpi", tmp_path / "new.kpi"
    old.write_text(SCHEME, encoding="utf-8")
    new.write_text(SCHEME.replace('employee column "Manager"', 'employee column "Owner"'),
                   encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Owner;Closed;Amount;Stage\n1;a;a;2025-07-03;60000;won\n"
                     "2;b;d;2025-07-04;100;won\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["compare", str(old), str(new), str(deals), "--period",
                                    "2025-07", "--format", "csv"])
    assert out.exit_code == 1, out.output
    assert out.stdout.splitlines() == [
        "employee,grade,old_total,new_total,delta,verdict,changed",
        "a,base,600.00,600.00,0.00,same,", "(fund),,600.00,600.00,0.00,,"]
    assert out.stderr.splitlines() == [
        f"{deals}:3: error KPI545: employee 'b' has facts under the current scheme but none "
        "under the new one: is nothing due under the new scheme, or do its sources miss the "
        "employee's rows?",
        "  hint: compare on files that both schemes read for every employee; this employee "
        "is left out of both payroll funds",
        f"{deals}:3: error KPI545: employee 'd' has facts under the new scheme but none "
        "under the current one: was nothing due under the current scheme, or do its sources "
        "miss the employee's rows?",
        "  hint: compare on files that both schemes read for every employee; this employee "
        "is left out of both payroll funds"]
    ru = CliRunner().invoke(main, ["compare", str(old), str(new), str(deals), "--period",
                                   "2025-07", "--format", "csv", "--lang", "ru"])
    assert "ошибка KPI545: у сотрудника 'd' есть факты по новой схеме, а по действующей нет" \
        in ru.stderr
