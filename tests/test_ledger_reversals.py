"""A reversal row in a deals export (a negative credit for a deal paid in an earlier closed
period) is the deal's clawback: taken back once, as the scheme's clause values it, and
every reading that could go two ways is refused with both readings (KPI664).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from test_ledger import run, write

from kpidsl.cli.common import OK, USAGE
from kpidsl.ledger import Ledger
from kpidsl.ledger.report import Statement, statements

ROOT = Path(__file__).resolve().parent.parent
MINIMUM = (ROOT / "tests" / "fixtures" / "ledger" / "minimum.kpi").read_text(encoding="utf-8")
HEADER = "ID;Manager;Closed;Amount;Stage\n"
JULY = "17;ivanov;2025-07-14;100;won\n18;petrov;2025-07-15;300;won\n"


def august(db: Path) -> dict[str, Statement]:
    with Ledger(db) as ledger:
        return statements(ledger, "2025-08")


def cents(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), ROUND_HALF_UP)


def deal_pay(credit: Fraction) -> Fraction:
    """5 % of the deal, at least 10.00 (a deal of positive credit)."""
    return max(credit * Fraction(5, 100), Fraction(10))


def closed_july(tmp: Path, basis: str | None, rows: str) -> tuple[Path, Path, Path]:
    text = MINIMUM if basis is None else MINIMUM.replace("clawback at original rate",
                                                         f"clawback {basis}")
    if basis is None:
        text = text.replace("  clawback at original rate within 90 days\n", "")
    scheme = write(tmp / "s.kpi", text)
    deals = write(tmp / "deals.csv", HEADER + JULY + rows)
    db = tmp / "pay.db"
    run(["close", scheme, deals, "--period", "2025-07", "--ledger", db], OK)
    return scheme, deals, db


@pytest.mark.parametrize(("basis", "taken"), [("at original rate", Fraction(5)),
                                              ("amount paid", Fraction(10))])
@pytest.mark.parametrize("first", [False, True])
def test_a_reversal_row_is_taken_back_once_as_the_clause_says(tmp_path: Path, basis: str,
                                                              taken: Fraction,
                                                              first: bool) -> None:
    """The row after August's deal walks back 5.00; the row first in the month walks the
    running total below the tier and the next deal pays 5.00 less: either way the deal is
    taken back once, 5.00 at the original rate or 10.00 as paid."""
    day = "01" if first else "20"
    scheme, deals, db = closed_july(tmp_path, basis, f"17;ivanov;2025-08-{day};-100;won\n"
                                    "20;ivanov;2025-08-10;1000;won\n")
    run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], OK)
    ivanov = august(db)["ivanov"]
    assert ivanov.paid == cents(deal_pay(Fraction(1000)) - taken)
    kinds = {(line.kind, line.name): line.amount for line in ivanov.lines}
    assert kinds[("clawback", "17")] == -cents(taken)
    # what the walk took (its own line and the hole it left) is given back, not taken twice
    walked = kinds[("deal_line", "17")] + kinds[("deal_line", "20")] - Decimal("50.00")
    assert kinds[("reversal_row", "17")] == -walked == Decimal("5.00")
    claw = next(line for line in ivanov.lines if line.kind == "clawback")
    assert (claw.detail["original_period"], claw.detail["original_paid"],
            claw.detail["credit"], claw.detail["rate"]) == ("2025-07", "10.00", "100", "0.05")
    # closing August again finds it as recorded
    run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], OK)


def test_two_reversal_rows_of_one_payment_each_give_back_what_they_walked(
        tmp_path: Path) -> None:
    """Each row's walk-back is measured with the rows before it already left out: two rows
    ahead of August's only deal leave the running total at -400, so the deal of 500 pays
    5.00 lifted to the 10.00 minimum; without row 17 it would pay the same 10.00 (17 walked
    nothing), without both 25.00 (19 walked 15.00)."""
    scheme, deals, db = closed_july(tmp_path, "at original rate",
                                    "19;ivanov;2025-07-16;300;won\n"
                                    "17;ivanov;2025-08-01;-100;won\n"
                                    "19;ivanov;2025-08-02;-300;won\n"
                                    "20;ivanov;2025-08-10;500;won\n")
    run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], OK)
    ivanov = august(db)["ivanov"]
    kinds = {(line.kind, line.name): line.amount for line in ivanov.lines}
    assert (kinds[("reversal_row", "17")], kinds[("reversal_row", "19")]) == \
        (Decimal("0.00"), Decimal("15.00"))
    assert (kinds[("clawback", "17")], kinds[("clawback", "19")]) == \
        (-cents(Fraction(5)), -cents(Fraction(15)))
    assert ivanov.paid == Decimal("10.00") + Decimal("15.00") - Decimal("20.00")


def test_without_a_clawback_clause_the_row_is_refused_with_both_readings(
        tmp_path: Path) -> None:
    scheme, deals, db = closed_july(tmp_path, None, "20;ivanov;2025-08-10;1000;won\n"
                                    "17;ivanov;2025-08-20;-100;won\n")
    err = run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], USAGE).stderr
    assert err.splitlines()[0] == (
        f"{deals}:5:0: error KPI664: the row of deal '17' (credit -100) reverses a deal paid "
        "in 2025-07: read as the scheme's per-deal pay it takes back 5.00 (walked back on "
        "2025-08's running total); read as a clawback of the line paid in 2025-07 (10.00) it "
        "takes back 5.00 at the original rate or 10.00 as paid")
    assert august(db) == {}


def test_a_reversal_in_the_export_and_in_reversals_is_refused(tmp_path: Path) -> None:
    scheme, deals, db = closed_july(tmp_path, "amount paid", "20;ivanov;2025-08-10;1000;won\n"
                                    "17;ivanov;2025-08-20;-100;won\n")
    reversals = write(tmp_path / "r.csv", "deal,date\n17,2025-08-20\n")
    err = run(["close", scheme, deals, "--period", "2025-08", "--ledger", db, "--reversals",
               reversals], USAGE).stderr
    assert err.splitlines()[0] == (
        f"{deals}:5:0: error KPI664: the row of deal '17' (credit -100) reverses a deal paid "
        "in 2025-07, and --reversals reverses it too: taken back once it is 10.00; as both, "
        "the payment's walk-back and the clawback, 15.00")


def test_a_partial_reversal_and_a_deal_of_someone_else_are_refused(tmp_path: Path) -> None:
    scheme, deals, db = closed_july(tmp_path, "at original rate",
                                    "20;ivanov;2025-08-10;1000;won\n"
                                    "17;ivanov;2025-08-20;-60;won\n")
    err = run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], USAGE).stderr
    assert err.splitlines()[0] == (
        f"{deals}:5:0: error KPI664: the row of deal '17' (credit -60) takes back part of a "
        "deal paid in 2025-07 on a credit of 100: read as the deal's reversal the clawback "
        "takes back 5.00; read as a partial refund the scheme's per-deal pay takes back 3.00")
    write(deals, HEADER + JULY + "20;ivanov;2025-08-10;1000;won\n"
          "18;ivanov;2025-08-20;-300;won\n")
    err = run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], USAGE).stderr
    assert err.splitlines()[0] == (
        f"{deals}:5:0: error KPI664: the row of deal '18' (credit -300) is credited to "
        "'ivanov', but the deal was paid to 'petrov' in 2025-07: read as its reversal it is "
        "taken back from 'petrov'; read as a deal of 'ivanov' it pays -15.00")


def test_a_deal_reversed_already_is_not_taken_back_again(tmp_path: Path) -> None:
    scheme, deals, db = closed_july(tmp_path, "amount paid", "17;ivanov;2025-08-20;-100;won\n")
    out = run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], OK).stdout
    # a month of nothing but the clawback pays less than nothing, and says so
    assert august(db)["ivanov"].paid == Decimal("-10.00")
    assert out.splitlines()[-1] == ("note: ivanov is paid -10.00 for 2025-08: the clawbacks "
                                    "take back more than the month pays; the difference is "
                                    "owed by the employee")
    for lang, warning in (("en", "**ivanov is paid -RUB 10.00 for 2025-08: the clawbacks take "
                                 "back more than the month pays; the difference is owed by the "
                                 "employee**"),
                          ("ru", "**ivanov: к выплате за 2025-08 -10,00 ₽ — сторно удерживает "
                                 "больше, чем начислено за месяц; разница — долг "
                                 "сотрудника**")):
        text = run(["statement", scheme, deals, "-e", "ivanov", "--period", "2025-08",
                    "--ledger", db, "--lang", lang], OK).stdout.replace("\xa0", " ")
        assert warning in text.splitlines(), lang
    write(deals, HEADER + JULY + "17;ivanov;2025-08-20;-100;won\n"
          "17;ivanov;2025-09-03;-100;won\n")
    err = run(["close", scheme, deals, "--period", "2025-09", "--ledger", db], USAGE).stderr
    assert err.splitlines()[0] == (
        f"{deals}:5:0: error KPI664: the row of deal '17' (credit -100) reverses a deal of "
        "'ivanov' reversed already, in 2025-08")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_deal_paid_in_july_and_exported_again_in_august_is_refused(tmp_path: Path,
                                                                     lang: str) -> None:
    """Deal 17 paid 10.00 in July comes back in August's export with its credit: the same
    deal exported twice, or a second payment on it? Neither is guessed (KPI666)."""
    scheme, deals, db = closed_july(tmp_path, "at original rate",
                                    "17;ivanov;2025-08-05;100;won\n")
    err = run(["close", scheme, deals, "--period", "2025-08", "--ledger", db, "--lang",
               lang], USAGE).stderr.splitlines()
    assert err[0] == {
        "en": f"{deals}:4:0: error KPI666: deal '17' (credit 100) is paid to 'ivanov' again: "
              "it was paid in 2025-07 (10.00); read as the same deal exported again it is paid "
              "twice; read as a new payment on the deal it pays 10.00 more",
        "ru": f"{deals}:4:0: ошибка KPI666: сделка '17' (зачёт 100) снова выплачивается "
              "сотруднику 'ivanov': она выплачена в 2025-07 (10.00); если это та же сделка, "
              "выгруженная ещё раз, она оплачивается дважды; если это новый платёж по сделке, "
              "он добавляет 10.00"}[lang]
    assert august(db) == {}


def test_a_deal_clawed_back_may_be_paid_again(tmp_path: Path) -> None:
    """Reversed in August (taken back), won again in September: a new payment, not a
    repeat."""
    scheme, deals, db = closed_july(tmp_path, "at original rate",
                                    "17;ivanov;2025-08-20;-100;won\n"
                                    "17;ivanov;2025-09-03;100;won\n")
    run(["close", scheme, deals, "--period", "2025-08", "--ledger", db], OK)
    run(["close", scheme, deals, "--period", "2025-09", "--ledger", db], OK)
    with Ledger(db) as ledger:
        september = statements(ledger, "2025-09")["ivanov"]
    assert [(x.kind, x.name, x.amount) for x in september.lines if x.name == "17"] == \
        [("deal_line", "17", Decimal("10.00"))]
