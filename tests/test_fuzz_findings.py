"""Regressions for what the command fuzz run found (docs/reliability.md): each failed with a
Python traceback or an internal error before its fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

import kpidsl
from kpidsl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_a_json_number_beyond_decimal_range_fails_its_row(tmp_path: Path) -> None:
    facts = tmp_path / "huge.json"
    facts.write_text('[{"employee": "a", "revenue": 1e9999999999999999999, "avg_check": 1,'
                     ' "conversion": 0.02, "calls": 1}]', encoding="utf-8")
    run = CliRunner().invoke(main, ["eval", str(ROOT / "rulesets" / "b2b_manager.kpi"),
                                    str(facts)])
    assert run.exit_code == 1, run.output
    assert "Traceback" not in run.output
    assert ("row 1, column 'revenue': '1e9999999999999999999' is in scientific notation"
            in run.output)
    assert "facts: 1 row read, 0 evaluated, 1 failed" in run.output


def test_a_kpi_computed_from_its_own_plan_reads_the_plan_first() -> None:
    scheme = kpidsl.loads('scheme s "S"\nfact sales money "Sales"\n'
                          'kpi sales "Sales" plan 100 RUB\n'
                          'kpi quota "Quota" = plan of quota\n'
                          'pay p "P" = sales\n')
    result = scheme.evaluate({"sales": "5"}, employee="a")
    assert result.total == Decimal("5.00")
    assert result.kpis["quota"].value is None  # no plan: nothing to read, and no crash


def test_a_payslip_chart_far_past_the_last_threshold_has_few_grid_lines(tmp_path: Path) -> None:
    """An attainment of 11 000 000 % drew a grid line every 10 %: 1.1 million lines, 110 s."""
    facts = tmp_path / "f.csv"
    facts.write_text("employee,revenue,avg_check,conversion,calls\n"
                     "ivanov,330000000000,142500,2.1%,950\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["statement", str(ROOT / "rulesets" / "b2b_manager.kpi"),
                                    str(facts), "-e", "ivanov", "--format", "html"])
    assert run.exit_code == 0, run.output
    assert "<svg" in run.output
    assert run.output.count("<line") < 300
