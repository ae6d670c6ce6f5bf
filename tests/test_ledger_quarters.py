"""A scheme paid per quarter is closed per quarter (`--period 2025-Q3`): its draw is so much
a quarter, its balances carry from quarter to quarter, a reversal is taken in the quarter
it falls in; a year scheme is closed per year (`--period 2025`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from test_ledger import run, write

from kpidsl.cli.common import OK, USAGE
from kpidsl.ledger import Ledger
from kpidsl.ledger.report import statements

QUARTERLY = """\
scheme rep_q "Sales rep paid per quarter"
  currency RUB
  period quarter
  draw 15_000 RUB a quarter recoverable
  clawback amount paid
fact revenue money "Revenue"
pay commission "Commission" = revenue × 10%
"""


def cents(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP)


def test_a_quarterly_scheme_closes_quarters(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", QUARTERLY)
    db = tmp_path / "pay.db"
    revenues = {"2025-Q1": 120_000, "2025-Q2": 180_005, "2025-Q3": 90_000, "2025-Q4": 300_000}
    owed = Fraction(0)
    for quarter, revenue in revenues.items():
        facts = write(tmp_path / f"{quarter}.csv", f"employee,revenue\nivanov,{revenue}\n")
        extra: list[object] = []
        if quarter == "2025-Q1":
            extra = ["--deals", write(tmp_path / "d.csv", "employee,deal,date,credit,rate,paid\n"
                                      "ivanov,D-1,2025-02-10,1000,5%,50\n")]
        if quarter == "2025-Q3":
            extra = ["--reversals", write(tmp_path / "r.csv", "deal,date\nD-1,2025-08-20\n")]
        run(["close", scheme, facts, "--period", quarter, "--ledger", db, *extra], OK)
        # the plan's words: 10 % of revenue, the D-1 line of Q1, its clawback in Q3, and a
        # draw of 15 000 a quarter recovered from later quarters' excess
        net = Fraction(revenue) / 10 + {"2025-Q1": 50, "2025-Q3": -50}.get(quarter, 0)
        before = owed
        if net < 15_000:
            paid, owed = Fraction(15_000), owed + 15_000 - net
        else:
            recovered = min(net - 15_000, owed)
            paid, owed = net - recovered, owed - recovered
        with Ledger(db) as ledger:
            statement = statements(ledger, quarter)["ivanov"]
        assert statement.paid == cents(paid), quarter
        assert statement.balances["draw"] == (cents(before), cents(owed)), quarter
    with Ledger(db) as ledger:
        assert ledger.periods() == list(revenues)
    # the statement document of a month shows the quarter it falls in
    text = run(["statement", scheme, tmp_path / "2025-Q3.csv", "-e", "ivanov", "--period",
                "2025-08", "--ledger", db], OK).stdout
    assert "Paid for 2025-Q3, as closed in the ledger:" in text
    assert "| 2025-Q1 | D-1 | RUB\xa050.00 | RUB\xa01,000.00 | 5% | RUB\xa050.00 |" in text


def test_a_period_must_be_what_the_scheme_pays(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", QUARTERLY)
    facts = write(tmp_path / "f.csv", "employee,revenue\nivanov,1\n")
    err = run(["close", scheme, facts, "--period", "2025-07", "--ledger", tmp_path / "p.db"],
              USAGE).stderr
    assert "--period: error KPI623: '2025-07' is no quarter" in err
    assert "hint: the scheme is paid per quarter: --period 2025-Q3" in err
    err = run(["close", scheme, facts, "--period", "2025-Q3", "--ledger", tmp_path / "p.db",
               "--reversals", write(tmp_path / "r.csv", "deal,date\nD-9,2025-10-01\n")],
              USAGE).stderr
    assert "deal 'D-9' was reversed on 2025-10-01, not in 2025-Q3" in err
    yearly = write(tmp_path / "y.kpi", QUARTERLY.replace("period quarter", "period year")
                   .replace("a quarter", "a year"))
    run(["close", yearly, facts, "--period", "2025", "--ledger", tmp_path / "y.db"], OK)
    with Ledger(tmp_path / "y.db") as ledger:
        assert statements(ledger, "2025")["ivanov"].paid == Decimal("15000.00")
