"""A real amoCRM deals export and a telephony calls export, evaluated as they come, equal
the pivot a consultant builds by hand in Excel."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import kpidsl
from kpidsl.run import FactsOptions, evaluate_files

RULESETS = Path(__file__).resolve().parent.parent / "rulesets" / "exports"
EXPORTS = [RULESETS / "b2b_deals.deals.csv", RULESETS / "b2b_deals.calls.csv"]

# The pivot by hand, July 2025: won deals closed in July (stage «Успешно реализовано»; the
# open deals have no close date, June's are left out), calls of 30 s or more, calls whose
# result is «Встреча назначена».
PIVOT = {
    "Иванов Иван": (Decimal("2135200"), 13, 19, 777),
    "Петрова Анна": (Decimal("2611200"), 16, 19, 705),
    "Сидоров Олег": (Decimal("1102400"), 8, 10, 528),
}
# What the scheme pays on that pivot, worked out line by line: revenue under 80 % pays
# nothing; average check 2 135 200 / 13 / 150 000 = 109.5 % → 10 000 × 1.095 × 1.2 =
# 13 139.69; conversion 19 / 777 / 2 % = 122.3 % → 14 671.81; calls 777 / 1 000 under 80 %.
PAYS = {
    "Иванов Иван": (Decimal("27811.50"), Decimal("87811.50")),
    "Петрова Анна": (Decimal("46634.21"), Decimal("106634.21")),
    "Сидоров Олег": (Decimal("18656.37"), Decimal("78656.37")),
}


def test_the_exports_give_the_hand_made_pivot_and_its_pay() -> None:
    scheme = kpidsl.load(RULESETS / "b2b_deals.kpi")
    run = evaluate_files(scheme, EXPORTS, FactsOptions(), period="2025-07")
    results = {r.employee: r for r in run.results()}
    assert {e: (r.facts["revenue"], r.facts["deals"], r.facts["meetings"], r.facts["calls"])
            for e, r in results.items()} == PIVOT
    assert {e: (r.components["bonus"], r.total) for e, r in results.items()} == PAYS
    ivanov = results["Иванов Иван"]
    assert ivanov.kpis["avg_check"].value == Decimal("164246.1538461538461538461538461538")
    assert [line.amount for line in ivanov.lines] == [
        Decimal("0.00"), Decimal("13139.69"), Decimal("14671.81"), Decimal("0.00")]
    assert run.failures == []
    counts = run.counts
    assert counts.rows_read == counts.evaluated == 2814  # 74 deals and 2 740 calls


def test_the_same_in_duckdb() -> None:
    scheme = kpidsl.load(RULESETS / "b2b_deals.kpi")
    run = evaluate_files(scheme, EXPORTS, FactsOptions(), period="2025-07", engine="duckdb")
    assert {r.employee: r.total for r in run.results()} == {e: t for e, (_b, t) in PAYS.items()}


def test_the_cli_in_russian(run_cli=None) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from kpidsl.cli import main

    result = CliRunner().invoke(main, [
        "explain", str(RULESETS / "b2b_deals.kpi"), *map(str, EXPORTS), "--period", "2025-07",
        "--employee", "Петрова Анна", "--lang", "ru"])
    assert result.exit_code == 0, result.output
    assert "Выручка" in result.output and "106 634,21" in result.output
