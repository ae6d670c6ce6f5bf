"""A per-deal minimum (`with a minimum of 10 RUB`) and the two ways a clawback values it.

The reference: a 5 % commission with a 10.00 minimum on a credit of 100 pays 10.00; its
reversal takes back 5.00 at the rate of the original calculation, or 10.00 as the amount
paid. The scheme computes the deals itself from a deals export (kpidsl/sources/).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from test_ledger import run, write

from kpidsl import check
from kpidsl.cli.common import OK
from kpidsl.ledger import Ledger
from kpidsl.ledger.report import statements

ROOT = Path(__file__).resolve().parent.parent
MINIMUM = (ROOT / "tests" / "fixtures" / "ledger" / "minimum.kpi").read_text(encoding="utf-8")


def scheme(tmp: Path, basis: str) -> Path:
    return write(tmp / "s.kpi", MINIMUM.replace("clawback at original rate",
                                                f"clawback {basis}"))


def paid(credit: Fraction, rate: Fraction, minimum: Fraction) -> Fraction:
    """The plan's own words: the rate of the deal, and at least the minimum."""
    return max(credit * rate, minimum)


def test_a_deal_below_the_minimum_pays_the_minimum(tmp_path: Path) -> None:
    import json

    credits = {"17": "100", "18": "1000", "19": "150", "21": "199.99"}
    deals = write(tmp_path / "d.csv", "ID;Manager;Closed;Amount;Stage\n" + "".join(
        f"{key};ivanov;2025-07-{10 + i};{credit.replace('.', ',')};won\n"
        for i, (key, credit) in enumerate(credits.items())))
    out = run(["eval", scheme(tmp_path, "at original rate"), deals, "--format", "json"], OK)
    result = json.loads(out.stdout)[0]
    by_key = {d["key"]: d for d in result["deals"]}
    expected = {key: paid(Fraction(credit), Fraction(5, 100), Fraction(10))
                for key, credit in credits.items()}
    # 199.99 × 5 % = 9.9995 rounds to 10.00 first: nothing is added
    assert {k: Fraction(Decimal(d["amount"])) for k, d in by_key.items()} == {
        "17": Fraction(10), "18": Fraction(50), "19": Fraction(10), "21": Fraction(10)}
    assert {k: round(v, 2) for k, v in expected.items()} == {
        "17": 10, "18": 50, "19": 10, "21": Fraction(99995, 10000).__round__(2)}
    assert {k: d.get("minimum_added") for k, d in by_key.items()} == {
        "17": "5.00", "18": None, "19": "2.50", "21": None}
    assert Decimal(result["total"]) == Decimal("80.00")


@pytest.mark.parametrize(("basis", "taken"), [("at original rate", "5.00"),
                                              ("amount paid", "10.00")])
def test_the_clawback_reference_with_the_minimum_in_the_language(tmp_path: Path, basis: str,
                                                                 taken: str) -> None:
    s = scheme(tmp_path, basis)
    db = tmp_path / "pay.db"
    deals = write(tmp_path / "d.csv", "ID;Manager;Closed;Amount;Stage\n"
                  "17;ivanov;2025-07-14;100;won\n20;ivanov;2025-08-02;1000;won\n")
    run(["close", s, deals, "--period", "2025-07", "--ledger", db], OK)
    with Ledger(db) as ledger:
        july = statements(ledger, "2025-07")["ivanov"]
    assert july.paid == Decimal("10.00")
    line = next(x for x in july.lines if x.kind == "deal_line")
    assert (line.amount, line.detail["credit"], line.detail["rate"], line.detail["exact"]) == (
        Decimal("10.00"), "100", "0.05", "5.00")
    run(["close", s, deals, "--period", "2025-08", "--ledger", db, "--reversals",
         write(tmp_path / "r.csv", "deal,date\n17,2025-08-20\n")], OK)
    with Ledger(db) as ledger:
        august = statements(ledger, "2025-08")["ivanov"]
    claws = [(x.name, x.amount) for x in august.lines if x.kind == "clawback"]
    assert claws == [("17", -Decimal(taken))]
    assert august.paid == Decimal("50.00") - Decimal(taken)


def test_a_deal_reversed_in_its_own_month_takes_its_minimum_with_it(tmp_path: Path) -> None:
    deals = write(tmp_path / "d.csv", "ID;Manager;Closed;Amount;Stage\n"
                  "17;ivanov;2025-07-14;100;won\n18;ivanov;2025-07-15;1000;won\n"
                  "17;ivanov;2025-07-20;-100;won\n")
    out = run(["explain", scheme(tmp_path, "amount paid"), deals, "-e", "ivanov"], OK).stdout
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in out.splitlines()]
    # 10.00 paid, then walked back: 5.00 of rate (1 100 → 1 000) and the 5.00 lifted
    assert lines[-4:] == ["-RUB 100.00 from RUB 0 × 5% = -RUB 5.00",
                          "-RUB 5.00: the minimum paid on the deal, taken back with it",
                          "= -RUB 10.00", "Commission: RUB 50.00 for 3 deals"]


@pytest.mark.parametrize(("minimum", "message"), [
    ("-10 RUB", "the minimum a deal pays must be a constant amount, not negative"),
    ("10 USD", "the minimum a deal pays is money in RUB"),
    ("10%", "the minimum a deal pays is money in RUB"),
    ("revenue", "the minimum a deal pays must be a constant amount, not negative")])
def test_a_minimum_is_a_constant_amount_of_money(minimum: str, message: str) -> None:
    text = MINIMUM.replace("with a minimum of 10 RUB", f"with a minimum of {minimum}")
    found = [d for d in check(text) if d.code == "KPI645"]
    assert found and found[0].message == f"payment 'commission': {message}"


def test_the_minimum_round_trips_through_fmt() -> None:
    from kpidsl.formatter import format_source

    assert format_source(MINIMUM) == MINIMUM
