"""Closing a scheme with team KPIs: the team bonus of every member is recorded, a month
follows the team's total, a draw guarantees each member's pay, and a correction of one
member's facts reopens the team bonus of every member of the team.

The bundled hunter scheme pays every member 10 000 (a lead 15 000) when the team's new-client
revenue reaches 2 000 000 a head; here with a recoverable draw of 100 000 a month.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from click.testing import CliRunner, Result

from kpidsl.cli import main
from kpidsl.cli.common import FINDINGS, OK
from kpidsl.ledger import Ledger
from kpidsl.ledger.report import statements

ROOT = Path(__file__).resolve().parent.parent
HUNTER = ROOT / "rulesets" / "hunter.kpi"
FACTS = ROOT / "rulesets" / "hunter.facts.csv"
DRAW = Fraction(100_000)


def run(args: list[object], code: int) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def rows_with(changes: dict[str, int]) -> list[dict[str, str]]:
    with FACTS.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        if row["employee"] in changes:
            row["new_revenue"] = str(changes[row["employee"]])
    return rows


def write_facts(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def team_bonus(rows: list[dict[str, str]]) -> dict[str, Fraction]:
    """The plan's words: the whole team's new-client revenue against 2 000 000 a head."""
    teams: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        teams.setdefault(row["team"], []).append(row)
    out = {}
    for members in teams.values():
        made = sum(Fraction(m["new_revenue"]) for m in members) >= 2_000_000 * len(members)
        for m in members:
            out[m["employee"]] = Fraction(15_000 if m["grade"] == "lead" else 10_000) \
                if made else Fraction(0)
    return out


def test_a_scheme_with_team_kpis_closes_month_by_month(tmp_path: Path) -> None:
    scheme = tmp_path / "hunter.kpi"
    scheme.write_text(HUNTER.read_text(encoding="utf-8").replace(
        "  period month\n", "  period month\n  draw 100_000 RUB a month recoverable\n"),
        encoding="utf-8")
    db = tmp_path / "pay.db"
    # July: the North team makes its plan (12 260 000 ≥ 12 000 000), the South does not;
    # August: one member of the North falls short and takes the team under it, the South
    # makes it
    months = {"2025-07": rows_with({}),
              "2025-08": rows_with({"belova": 300_000, "guseva": 2_400_000})}
    owed: dict[str, Fraction] = {}
    for period, rows in months.items():
        run(["close", scheme, write_facts(tmp_path / f"{period}.csv", rows), "--period",
             period, "--ledger", db], OK)
        with Ledger(db) as ledger:
            closed = statements(ledger, period)
        expected = team_bonus(rows)
        assert set(closed) == {row["employee"] for row in rows}
        for employee, statement in closed.items():
            line = next(x for x in statement.lines if x.name == "team_bonus")
            assert Fraction(line.amount) == expected[employee], (period, employee)
            # the draw on each member's whole pay, as a draw is stated
            earned = Fraction(statement.earned)
            before = owed.get(employee, Fraction(0))
            if earned < DRAW:
                paid, owed[employee] = DRAW, before + DRAW - earned
            else:
                recovered = min(earned - DRAW, before)
                paid, owed[employee] = earned - recovered, before - recovered
            assert Fraction(statement.paid) == paid, (period, employee)
            carried = statement.balances["draw"]
            assert (Fraction(carried[0]), Fraction(carried[1])) == (before, owed[employee]), \
                (period, employee)
    assert {e for e, b in team_bonus(months["2025-08"]).items() if b} == {
        "morozov", "lebedeva", "kozlov", "pavlova", "fedorov", "guseva"}
    # belova's August revenue was mistyped: corrected, the whole North team's bonus changes
    fixed = write_facts(tmp_path / "2025-08-fixed.csv",
                        rows_with({"belova": 610_000, "guseva": 2_400_000}))
    out = run(["close", scheme, fixed, "--period", "2025-08", "--ledger", db], FINDINGS).stdout
    north = {"volkov", "orlova", "nikitin", "sokolova", "zaitsev", "belova"}
    changed = {line.split()[0] for line in out.splitlines() if "team_bonus" in line}
    assert changed == north
    run(["close", scheme, fixed, "--period", "2025-08", "--ledger", db, "--reopen", "--reason",
         "belova's revenue was mistyped"], OK)
    with Ledger(db) as ledger:
        corrected = statements(ledger, "2025-08")
    expected = team_bonus(rows_with({"belova": 610_000, "guseva": 2_400_000}))
    for employee, statement in corrected.items():
        line = next(x for x in statement.lines if x.name == "team_bonus")
        assert Fraction(line.amount) == expected[employee], employee
        assert [r[0] for r in line.revisions] == ([1] if employee in north else []), employee


def test_a_scheme_paid_per_team_closes_one_statement_a_team(tmp_path: Path) -> None:
    scheme = ROOT / "rulesets" / "head_of_sales.kpi"
    facts = ROOT / "rulesets" / "head_of_sales.facts.csv"
    db = tmp_path / "pay.db"
    run(["close", scheme, facts, "--period", "2025-07", "--ledger", db], OK)
    evaluated = run(["eval", scheme, facts, "--format", "json"], OK).stdout
    import json

    totals = {r["employee"]: Decimal(r["total"]) for r in json.loads(evaluated)}
    with Ledger(db) as ledger:
        closed = statements(ledger, "2025-07")
    assert {team: s.paid for team, s in closed.items()} == totals
    assert set(totals) == {"Москва", "Санкт-Петербург"}
