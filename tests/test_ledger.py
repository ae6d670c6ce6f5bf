"""The ledger: close, compare, reopen; draws, year to date, clawbacks; locks and crashes.

Every balance is checked against a computation written here independently, in exact
fractions, from the rules as a compensation plan states them.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kpidsl.cli import main
from kpidsl.cli.common import FINDINGS, OK, USAGE
from kpidsl.ledger import Ledger
from kpidsl.ledger.report import Statement, statements

ROOT = Path(__file__).resolve().parent.parent

DRAW = """\
scheme rep "Sales rep on a draw"
  currency RUB
  period month
  draw 5_000 RUB a month {kind}
fact revenue money "Revenue"
pay commission "Commission" = revenue × 10%
"""

YTD = """\
scheme annual "Annual plan paid monthly"
  currency RUB
  period year
  paid monthly
  {carry}
fact revenue money "Revenue, year to date"
pay commission "Commission" = revenue × 2%
"""

PER_DEAL = """\
scheme per_deal "Commission per deal"
  currency RUB
  period month
  clawback {basis} within 90 days
pay salary "Salary" = 1_000 RUB
"""


def run(args: list[object], code: int) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def facts(tmp: Path, name: str, rows: dict[str, object]) -> Path:
    lines = ["employee,revenue", *(f"{e},{v}" for e, v in rows.items())]
    return write(tmp / name, "\n".join(lines) + "\n")


def cents(value: Fraction) -> Decimal:
    """Half up to the kopeck, from an exact fraction."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP) if value.denominator != 1 else \
        Decimal(value.numerator).quantize(Decimal("0.01"))


def current(db: Path, period: str) -> dict[str, Statement]:
    with Ledger(db) as ledger:
        return statements(ledger, period)


def balance(db: Path, period: str, employee: str, name: str) -> tuple[Decimal, Decimal]:
    return current(db, period)[employee].balances[name]


def dump(db: Path) -> list[str]:
    connection = sqlite3.connect(db)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


# ---------------------------------------------------------------- draws


def test_recoverable_draw_reference(tmp_path: Path) -> None:
    """Draw 5 000; month 1 earns 4 000 → draw +1 000, owed 1 000; month 2 earns 6 000 →
    recovery −1 000, owed 0, paid 5 000."""
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    run(["close", scheme, facts(tmp_path, "m1.csv", {"ivanov": 40000}), "--period", "2025-07",
         "--ledger", db], OK)
    july = current(db, "2025-07")["ivanov"]
    assert [(line.kind, line.amount) for line in july.lines] == [
        ("component", Decimal("4000.00")), ("draw", Decimal("1000.00"))]
    assert july.paid == Decimal("5000.00")
    assert july.balances["draw"] == (Decimal(0), Decimal("1000.00"))
    out = run(["close", scheme, facts(tmp_path, "m2.csv", {"ivanov": 60000}), "--period",
               "2025-08", "--ledger", db], OK).stdout
    assert out.splitlines()[0] == "closed 2025-08 in " + str(db) + \
        " (employees: 1), paid 5,000.00 RUB"
    august = current(db, "2025-08")["ivanov"]
    assert [(line.kind, line.amount) for line in august.lines] == [
        ("component", Decimal("6000.00")), ("recovery", Decimal("-1000.00"))]
    assert august.paid == Decimal("5000.00")
    assert august.balances["draw"] == (Decimal("1000.00"), Decimal("0.00"))


def test_non_recoverable_draw_reference(tmp_path: Path) -> None:
    """Earns 3 200 → top-up 1 800, not owed back: the next month pays its earnings whole."""
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="non-recoverable"))
    db = tmp_path / "pay.db"
    run(["close", scheme, facts(tmp_path, "m1.csv", {"petrova": 32000}), "--period",
         "2025-07", "--ledger", db], OK)
    july = current(db, "2025-07")["petrova"]
    assert [(line.kind, line.amount) for line in july.lines] == [
        ("component", Decimal("3200.00")), ("draw", Decimal("1800.00"))]
    assert july.lines[1].detail["recoverable"] is False
    assert "draw" not in july.balances  # nothing is owed
    run(["close", scheme, facts(tmp_path, "m2.csv", {"petrova": 70000}), "--period",
         "2025-08", "--ledger", db], OK)
    assert current(db, "2025-08")["petrova"].paid == Decimal("7000.00")


def test_recovery_is_capped_per_period(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(
        kind="recoverable recovered at most 600 RUB a month"))
    db = tmp_path / "pay.db"
    for period, revenue in (("2025-01", 20000), ("2025-02", 90000), ("2025-03", 90000),
                            ("2025-04", 90000)):
        run(["close", scheme, facts(tmp_path, f"{period}.csv", {"ivanov": revenue}),
             "--period", period, "--ledger", db], OK)
    # owed 3 000 after January, then 600 a month although 4 000 a month is above the draw
    assert [balance(db, p, "ivanov", "draw")[1] for p in ("2025-01", "2025-02", "2025-03",
                                                         "2025-04")] == [
        Decimal("3000.00"), Decimal("2400.00"), Decimal("1800.00"), Decimal("1200.00")]
    assert current(db, "2025-02")["ivanov"].paid == Decimal("8400.00")


# ---------------------------------------------------------------- twelve months


def _draw_model(revenues: list[int], recoverable: bool) -> list[tuple[Decimal, Decimal]]:
    """(paid, owed) month by month, as the plan states the draw."""
    owed, out = Fraction(0), []
    for revenue in revenues:
        earned = Fraction(cents(Fraction(revenue) / 10))
        if earned < 5000:
            paid = Fraction(5000)
            if recoverable:
                owed += 5000 - earned
        else:
            recovered = min(earned - 5000, owed) if recoverable else Fraction(0)
            owed -= recovered
            paid = earned - recovered
        out.append((cents(paid), cents(owed)))
    return out


def _ytd_model(revenues: list[int], carry: bool) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(paid, year balance, counted as paid this year) month by month: year to date minus
    what counts as paid."""
    counted, out = Fraction(0), []
    for revenue in revenues:
        earned = Fraction(cents(Fraction(revenue) * 2 / 100))
        due = earned - counted
        if due >= 0:
            paid, counted = due, earned
        else:
            paid = Fraction(0)
            counted = counted if carry else earned
        out.append((cents(paid), cents(earned - counted), cents(counted)))
    return out


def statement_ledger(scheme: Path, facts_file: Path, db: Path, period: str,
                     lang: str = "en") -> tuple[Decimal, dict[str, tuple[Decimal, Decimal]]]:
    """What the statement document (kpidsl statement --ledger, Markdown) says is paid, and
    each balance it shows carried in and out, read back from its text."""
    text = run(["statement", scheme, facts_file, "-e", "ivanov", "--period", period,
                "--ledger", db, "--lang", lang], OK).stdout

    def amount(cell: str) -> Decimal:
        cell = cell.strip(" |*").replace("RUB", "").replace("\xa0", "").replace(",", "")
        return Decimal(cell.replace(" ", ""))

    part = text.split("as closed in the ledger:")[1]
    paid_row = next(line for line in part.splitlines() if line.startswith("| **Paid"))
    balances: dict[str, tuple[Decimal, Decimal]] = {}
    if "\nBalances:\n" in part:
        for line in part.split("\nBalances:\n")[1].splitlines()[3:]:
            if not line.startswith("| "):
                break
            name, carried_in, carried_out = line.strip("| ").split(" | ")
            balances[name] = (amount(carried_in), amount(carried_out))
    return amount(paid_row.split(" | ")[1]), balances


REVENUES = [41_234, 60_001, 99_999, 12_345, 50_000, 77_777, 48_888, 123_456, 0, 51_005,
            49_995, 88_888]
YTD_REVENUES = [100_000, 250_000, 200_000, 310_000, 310_000, 455_555, 400_000, 380_000,
                620_000, 700_001, 650_000, 999_999]


@pytest.mark.parametrize("kind", ["recoverable", "non-recoverable"])
def test_twelve_months_of_draws_against_the_plan(tmp_path: Path, kind: str) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind=kind))
    db = tmp_path / "pay.db"
    expected = _draw_model(REVENUES, kind == "recoverable")
    for month, revenue in enumerate(REVENUES, start=1):
        period = f"2025-{month:02d}"
        run(["close", scheme, facts(tmp_path, f"{period}.csv", {"ivanov": revenue}),
             "--period", period, "--ledger", db], OK)
    owed_before = Decimal("0.00")
    for month, (paid, owed) in enumerate(expected, start=1):
        statement = current(db, f"2025-{month:02d}")["ivanov"]
        assert statement.paid == paid, month
        assert statement.balances.get("draw", (Decimal(0), Decimal(0)))[1] == owed, month
        # the statement document shows the same: paid, and the draw owed carried in and out
        shown_paid, shown = statement_ledger(scheme, tmp_path / f"2025-{month:02d}.csv", db,
                                             f"2025-{month:02d}")
        assert shown_paid == paid, month
        assert shown == ({"draw owed": (owed_before, owed)} if kind == "recoverable"
                         else {}), month
        owed_before = owed
        if month > 1:  # what a month carries in is what the month before carried out
            before = current(db, f"2025-{month - 1:02d}")["ivanov"].balances
            assert statement.balances.get("draw", (0, 0))[0] == \
                before.get("draw", (0, Decimal(0)))[1]


@pytest.mark.parametrize("carry", [True, False])
def test_twelve_months_year_to_date_against_the_plan(tmp_path: Path, carry: bool) -> None:
    scheme = write(tmp_path / "s.kpi", YTD.format(carry="carry negative balance" if carry
                                                  else ""))
    db = tmp_path / "pay.db"
    for month, revenue in enumerate(YTD_REVENUES, start=1):
        period = f"2025-{month:02d}"
        run(["close", scheme, facts(tmp_path, f"{period}.csv", {"ivanov": revenue}),
             "--period", period, "--ledger", db], OK)
    expected = _ytd_model(YTD_REVENUES, carry)
    total = Decimal(0)
    before = (Decimal("0.00"), Decimal("0.00"))  # year balance, counted as paid
    for month, (paid, year_balance, counted) in enumerate(expected, start=1):
        statement = current(db, f"2025-{month:02d}")["ivanov"]
        assert statement.paid == paid, month
        assert statement.balances["year"][1] == year_balance, month
        total += statement.paid
        # the statement document shows what was paid so far this year and the year's
        # balance (negative: paid ahead of the year to date), carried in and out
        shown_paid, shown = statement_ledger(scheme, tmp_path / f"2025-{month:02d}.csv", db,
                                             f"2025-{month:02d}")
        assert shown_paid == paid, month
        assert shown == {"counted as paid this year": (before[1], counted),
                         "year to date earned − paid": (before[0], year_balance)}, month
        before = (year_balance, counted)
    final = cents(Fraction(YTD_REVENUES[-1]) * 2 / 100)
    if carry:  # what the year paid is what it earned: lower months were netted later
        assert total == final
    else:  # a lower month's shortfall is forgiven: the year pays more than it earned
        assert total > final
    # a new year starts from nothing paid
    run(["close", scheme, facts(tmp_path, "2026-01.csv", {"ivanov": 50_000}), "--period",
         "2026-01", "--ledger", db], OK)
    assert current(db, "2026-01")["ivanov"].paid == Decimal("1000.00")


# ---------------------------------------------------------------- clawbacks


@pytest.mark.parametrize(("basis", "taken"), [("at original rate", "-5.00"),
                                              ("amount paid", "-10.00")])
def test_clawback_reference(tmp_path: Path, basis: str, taken: str) -> None:
    """5 % commission with a 10.00 minimum on a 100 credit paid 10.00: the reversal takes
    back 5.00 at the original rate, 10.00 at the amount paid."""
    scheme = write(tmp_path / "s.kpi", PER_DEAL.format(basis=basis))
    db = tmp_path / "pay.db"
    people = write(tmp_path / "f.csv", "employee\nivanov\n")
    deals = write(tmp_path / "deals.csv", "employee,deal,date,credit,rate,paid\n"
                  "ivanov,D-17,2025-07-14,100.00,5%,10.00\n")
    run(["close", scheme, people, "--period", "2025-07", "--ledger", db, "--deals", deals], OK)
    assert current(db, "2025-07")["ivanov"].paid == Decimal("1010.00")
    reversals = write(tmp_path / "rev.csv", "deal,date\nD-17,2025-08-20\n")
    run(["close", scheme, people, "--period", "2025-08", "--ledger", db, "--reversals",
         reversals], OK)
    august = current(db, "2025-08")["ivanov"]
    claw = [line for line in august.lines if line.kind == "clawback"]
    assert [(c.name, c.amount) for c in claw] == [("D-17", Decimal(taken))]
    with Ledger(db) as ledger:
        original = ledger.lines(period="2025-07", kind="deal")[0]
    assert claw[0].detail["original_line"] == original.id
    assert claw[0].detail["original_period"] == "2025-07"
    shown = run(["ledger", db, "--employee", "ivanov", "--period", "2025-08"], OK).stdout
    assert f"paid in 2025-07 (line {original.id}, 10.00)" in shown
    # a second reversal of the same deal is refused
    run(["close", scheme, people, "--period", "2025-09", "--ledger", db, "--reversals",
         write(tmp_path / "rev9.csv", "deal,date\nD-17,2025-09-02\n")], USAGE)


def test_clawback_outside_the_window_takes_nothing(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", PER_DEAL.format(basis="at original rate"))
    db = tmp_path / "pay.db"
    people = write(tmp_path / "f.csv", "employee\nivanov\n")
    deals = write(tmp_path / "deals.csv", "employee;deal;date;credit;rate;paid\n"
                  "ivanov;D-18;2025-07-15;1000,00;5%;50,00\n")
    run(["close", scheme, people, "--period", "2025-07", "--ledger", db, "--deals", deals], OK)
    run(["close", scheme, people, "--period", "2025-10", "--ledger", db, "--reversals",
         write(tmp_path / "r.csv", "deal,date\nD-18,2025-10-20\n")], OK)
    october = current(db, "2025-10")["ivanov"]
    assert [(line.kind, line.amount, line.detail["days"]) for line in october.lines
            if line.kind.startswith("clawback")] == [("clawback_outside", Decimal(0), 97)]
    assert october.paid == Decimal("1000.00")


def test_clawback_refusals(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", PER_DEAL.format(basis="amount paid"))
    db = tmp_path / "pay.db"
    people = write(tmp_path / "f.csv", "employee\nivanov\n")
    run(["close", scheme, people, "--period", "2025-07", "--ledger", db], OK)
    err = run(["close", scheme, people, "--period", "2025-08", "--ledger", db,
               "--reversals", write(tmp_path / "r.csv", "deal,date\nD-99,2025-08-01\n")],
              USAGE).stderr
    assert "r.csv:2:0: error KPI664: deal 'D-99' is in no closed period of the ledger" in err
    err = run(["close", scheme, people, "--period", "2025-08", "--ledger", db, "--deals",
               write(tmp_path / "d.csv", "employee,deal,date,credit,rate,paid\n"
                     "ivanov,D-1,2025-08-01,1OO,5%,5\n")], USAGE).stderr
    assert "d.csv:2:0: error KPI663: column 'credit': '1OO' is not a number" in err
    assert current(db, "2025-08") == {}  # nothing was written


# ---------------------------------------------------------------- close, compare, reopen


def test_rerun_compares_and_reopen_records_corrections(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    right = facts(tmp_path, "right.csv", {"ivanov": 60000, "petrova": 70000})
    wrong = facts(tmp_path, "wrong.csv", {"ivanov": 40000, "petrova": 70000})
    run(["close", scheme, wrong, "--period", "2025-07", "--ledger", db], OK)
    before = dump(db)
    assert "is closed in" in run(["close", scheme, wrong, "--period", "2025-07", "--ledger",
                                  db], OK).stdout
    out = run(["close", scheme, right, "--period", "2025-07", "--ledger", db], FINDINGS).stdout
    assert "3 amounts differ" in out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert "ivanov commission 4,000.00 6,000.00 +2,000.00" in rows
    assert "ivanov draw owed (carried out) 1,000.00 0.00 −1,000.00" in rows
    assert "ivanov fact revenue 40000 60000" in rows
    assert dump(db) == before  # comparing writes nothing
    run(["close", scheme, right, "--period", "2025-07", "--ledger", db, "--reopen"], USAGE)
    out = run(["close", scheme, right, "--period", "2025-07", "--ledger", db, "--reopen",
               "--reason", "the CRM export was of June"], OK).stdout
    assert "revision 1, reason: the CRM export was of June" in out
    after = dump(db)
    assert before == [line for line in after if line in before]  # nothing changed or lost
    with Ledger(db) as ledger:
        corrections = [(line.employee, line.kind, line.amount)
                       for line in ledger.lines(period="2025-07") if line.revision == 1]
    assert corrections == [("ivanov", "component", Decimal("2000.00")),
                           ("ivanov", "draw", Decimal("-1000.00"))]
    ivanov = current(db, "2025-07")["ivanov"]
    assert ivanov.paid == Decimal("6000.00") and ivanov.balances["draw"][1] == Decimal(0)
    assert "nothing to correct" in run(["close", scheme, right, "--period", "2025-07",
                                        "--ledger", db, "--reopen", "--reason", "again"],
                                       OK).stdout


def test_the_database_refuses_changes_in_place(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    run(["close", scheme, facts(tmp_path, "m.csv", {"ivanov": 1}), "--period", "2025-07",
         "--ledger", db], OK)
    connection = sqlite3.connect(db)
    for statement in ("UPDATE lines SET amount = '0'", "DELETE FROM lines",
                      "DELETE FROM closings", "UPDATE balances SET carried_out = '0'"):
        with pytest.raises(sqlite3.IntegrityError, match="never changed in place"):
            connection.execute(statement)
    with pytest.raises(sqlite3.IntegrityError):  # amounts are text, never floats
        connection.execute("INSERT INTO lines (closing, employee, seq, kind, name, amount, "
                           "detail) VALUES (1, 'x', 9, 'component', 'c', 1.5, '{}')")
    connection.close()


def test_a_ledger_belongs_to_one_scheme_and_is_a_ledger(tmp_path: Path) -> None:
    db = tmp_path / "pay.db"
    one = write(tmp_path / "a.kpi", DRAW.format(kind="recoverable"))
    other = write(tmp_path / "b.kpi", PER_DEAL.format(basis="amount paid"))
    people = facts(tmp_path, "m.csv", {"ivanov": 1})
    run(["close", one, people, "--period", "2025-07", "--ledger", db], OK)
    err = run(["close", other, people, "--period", "2025-08", "--ledger", db], USAGE).stderr
    assert "error KPI661: is the ledger of scheme 'rep', not 'per_deal'" in err
    err = run(["close", one, people, "--period", "2025-08", "--ledger", people], USAGE).stderr
    assert "error KPI661: is not a kpidsl ledger (not an SQLite database)" in err
    assert people.read_text() == "employee,revenue\nivanov,1\n"
    err = run(["ledger", tmp_path / "none.db"], USAGE).stderr
    assert "none.db: error KPI661: no such ledger" in err
    assert not (tmp_path / "none.db").exists()
    err = run(["close", one, people, "--period", "2025-13", "--ledger", db], USAGE).stderr
    assert "KPI623" in err


def test_a_bad_facts_row_closes_nothing(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    bad = write(tmp_path / "bad.csv", "employee,revenue\nivanov,100\npetrova,lots\n")
    result = run(["close", scheme, bad, "--period", "2025-07", "--ledger", db], FINDINGS)
    assert "2025-07 was not closed: 1 facts rows could not be evaluated" in result.stdout
    assert "bad.csv:3" in result.stderr
    assert not db.exists()


def test_a_second_writer_is_refused_cleanly(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    people = facts(tmp_path, "m.csv", {"ivanov": 1})
    run(["close", scheme, people, "--period", "2025-07", "--ledger", db], OK)
    before = dump(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another close, in the middle of writing
    try:
        err = run(["close", scheme, people, "--period", "2025-08", "--ledger", db],
                  USAGE).stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "error KPI662: another process is writing this ledger (a close in progress); " \
           "nothing was written" in err
    assert dump(db) == before
    run(["ledger", db], OK)  # reading is never blocked for long


KILLER = textwrap.dedent("""
    import os, signal, sys
    from kpidsl.ledger import store
    written = 0
    original = store.Writer.line
    def line(self, *args, **kwargs):
        global written
        original(self, *args, **kwargs)
        written += 1
        if written == int(os.environ["KILL_AFTER"]):
            os.kill(os.getpid(), signal.SIGKILL)
    store.Writer.line = line
    from kpidsl.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.parametrize("after", [1, 7])
def test_a_close_killed_midway_leaves_the_ledger_as_it_was(tmp_path: Path,
                                                          after: int) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    run(["close", scheme, facts(tmp_path, "m1.csv", {f"e{i}": 1000 * i for i in range(6)}),
         "--period", "2025-07", "--ledger", db], OK)
    before = dump(db)
    august = facts(tmp_path, "m2.csv", {f"e{i}": 9000 * i for i in range(6)})
    env = dict(os.environ, PYTHONPATH=str(ROOT), KILL_AFTER=str(after))
    killed = subprocess.run([sys.executable, "-c", KILLER, "close", str(scheme), str(august),
                             "--period", "2025-08", "--ledger", str(db)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run(["ledger", db], OK)  # a reader right after the crash sees the ledger as it was
    assert dump(db) == before
    with Ledger(db) as ledger:
        assert ledger.periods() == ["2025-07"]
    run(["close", scheme, august, "--period", "2025-08", "--ledger", db], OK)
    assert len(current(db, "2025-08")) == 6


def test_late_close_of_an_earlier_period_is_a_difference_to_resolve(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    run(["close", scheme, facts(tmp_path, "m2.csv", {"ivanov": 60000}), "--period", "2025-08",
         "--ledger", db], OK)
    out = run(["close", scheme, facts(tmp_path, "m1.csv", {"ivanov": 40000}), "--period",
               "2025-07", "--ledger", db], OK).stdout
    assert "note: later periods are closed already (2025-08)" in out
    out = run(["ledger", db], FINDINGS).stdout
    assert "2025-08, ivanov: carried in draw owed 0.00, but 2025-07 now carries out " \
           "1,000.00; run 2025-08 again and reopen it" in out
    run(["close", scheme, tmp_path / "m2.csv", "--period", "2025-08", "--ledger", db,
         "--reopen", "--reason", "July was closed late"], OK)
    assert "Differences to resolve: none" in run(["ledger", db], OK).stdout
    assert current(db, "2025-08")["ivanov"].paid == Decimal("5000.00")


def test_ledger_json_and_russian(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    run(["close", scheme, facts(tmp_path, "m1.csv", {"ivanov": 40000}), "--period", "2025-07",
         "--ledger", db], OK)
    data = json.loads(run(["ledger", db, "--format", "json"], OK).stdout)
    period = data["periods"][0]
    assert (period["period"], period["paid"], period["draws"]) == \
        ("2025-07", "5000.00", "1000.00")
    # a total of no lines is an amount like the others, with its kopecks
    assert (period["recovered"], period["clawed_back"]) == ("0.00", "0.00")
    revision = period["revisions"][0]
    assert revision["scheme_sha256"] == __import__("hashlib").sha256(
        scheme.read_bytes()).hexdigest()
    assert revision["inputs"][0]["role"] == "facts"
    statement = period["statements"][0]
    assert statement["balances"] == {"draw": {"carried_in": "0.00", "carried_out": "1000.00"}}
    assert statement["facts"] == {"revenue": "40000"}
    ru = run(["ledger", db, "--employee", "ivanov", "--lang", "ru"], OK).stdout.replace(
        "\u00a0", " ")
    assert "гарантированная выплата: доплата до 5 000,00, подлежит возврату  1 000,00" in ru
    assert "долг по гарантии: входящее 0,00 → исходящее 1 000,00" in ru
    assert "error: no employee 'nobody'" in run(["ledger", db, "-e", "nobody"], USAGE).stderr


def test_memory_clauses_round_trip_through_fmt() -> None:
    from kpidsl.formatter import format_source

    text = ("scheme s \"S\"\n  currency RUB\n  period year\n  paid monthly\n"
            "  carry negative balance\n"
            "  draw 5_000 RUB a month recoverable recovered at most 1_000 RUB a month\n"
            "  clawback at original rate within 90 days\n\nfact revenue money\n\n"
            "pay c \"C\" = revenue × 10%\n")
    assert format_source(text) == text


def test_explain_walks_the_history(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    july = facts(tmp_path, "m1.csv", {"ivanov": 40000})
    august = facts(tmp_path, "m2.csv", {"ivanov": 60000})
    run(["close", scheme, july, "--period", "2025-07", "--ledger", db], OK)
    run(["close", scheme, august, "--period", "2025-08", "--ledger", db], OK)
    out = run(["explain", scheme, august, "-e", "ivanov", "--ledger", db], OK).stdout
    calculation, history = out.split("\n\nivanov: the history in ")
    assert calculation.splitlines()[-1] == "Total: 6,000"
    assert [" ".join(line.split()) for line in history.splitlines()[-5:]] == [
        "Commission 6,000.00", "draw recovered (owed 1,000.00 before) −1,000.00",
        "────────────────────────────────────────────────", "paid 5,000.00",
        "draw owed: carried in 1,000.00 → carried out 0.00"]


SOURCES = (ROOT / "tests" / "fixtures" / "sources" / "per_deal.kpi").read_text(
    encoding="utf-8").replace("  period month\n",
                              "  period month\n  clawback {basis} within 90 days\n")


@pytest.mark.parametrize(("basis", "taken"), [("at original rate", "-400.00"),
                                              ("amount paid", "-400.00")])
def test_deals_the_scheme_paid_are_clawed_back(tmp_path: Path, basis: str, taken: str) -> None:
    """Per-deal lines computed by the scheme from a deals export (kpidsl/sources/) are
    recorded; a later reversal takes the deal back as the scheme says."""
    scheme = write(tmp_path / "s.kpi", SOURCES.format(basis=basis))
    db = tmp_path / "pay.db"
    deals = write(tmp_path / "deals.csv", "ID;Manager;Closed;Amount;Stage\n"
                  "1;ivanov;2025-07-03;60 000;won\n2;ivanov;2025-07-10;30 000;won\n"
                  "3;ivanov;2025-08-04;10 000;won\n")
    run(["close", scheme, deals, "--period", "2025-07", "--ledger", db], OK)
    july = current(db, "2025-07")["ivanov"]
    assert [(line.kind, line.name, line.amount) for line in july.lines] == [
        ("component", "commission", Decimal("1000.00")),
        ("deal_line", "1", Decimal("600.00")), ("deal_line", "2", Decimal("400.00"))]
    assert july.paid == Decimal("1000.00")  # a deal's line is a detail of its payment
    run(["close", scheme, deals, "--period", "2025-08", "--ledger", db, "--reversals",
         write(tmp_path / "r.csv", "deal,date\n2,2025-08-20\n")], OK)
    august = current(db, "2025-08")["ivanov"]
    assert [(line.kind, line.name, line.amount) for line in august.lines] == [
        ("component", "commission", Decimal("100.00")),
        ("deal_line", "3", Decimal("100.00")), ("clawback", "2", Decimal(taken))]
    assert august.paid == Decimal("100.00") + Decimal(taken)
    assert august.lines[2].detail["original_period"] == "2025-07"


@pytest.mark.slow
def test_a_large_close_killed_after_sqlite_spilled_pages_is_rolled_back(tmp_path: Path) -> None:
    """20 000 employees write more than SQLite's page cache holds, so pages reach the file
    before the commit; the journal restores them."""
    scheme = write(tmp_path / "s.kpi", DRAW.format(kind="recoverable"))
    db = tmp_path / "pay.db"
    people = {f"employee{i:05d}": 137 * i % 90_000 for i in range(20_000)}
    run(["close", scheme, facts(tmp_path, "m1.csv", people), "--period", "2025-07",
         "--ledger", db], OK)
    before, raw = dump(db), db.read_bytes()
    august = facts(tmp_path, "m2.csv", {e: v + 5000 for e, v in people.items()})
    env = dict(os.environ, PYTHONPATH=str(ROOT), KILL_AFTER="25000")
    killed = subprocess.run([sys.executable, "-c", KILLER, "close", str(scheme), str(august),
                             "--period", "2025-08", "--ledger", str(db)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert db.read_bytes() != raw  # the file itself was half written
    run(["ledger", db], OK)
    assert dump(db) == before



def test_versions_of_a_scheme_share_its_ledger(tmp_path: Path) -> None:
    versions = ROOT / "rulesets" / "versions"
    facts_file = versions / "b2b_seasonal.facts.csv"
    db = tmp_path / "pay.db"
    run(["close", versions, facts_file, "--period", "2025-06", "--ledger", db], OK)
    run(["close", versions, facts_file, "--period", "2025-07", "--ledger", db], OK)
    with Ledger(db) as ledger:
        used = [(c.period, Path(c.scheme_file).name, c.scheme_version)
                for c in ledger.closings()]
    assert used == [("2025-06", "2025-h1.kpi", "2025.1"), ("2025-07", "2025-h2.kpi", "2025.2")]
    # June computed again by the July version differs, and says the scheme is another
    out = run(["close", versions / "2025-h2.kpi", facts_file, "--period", "2025-06",
               "--ledger", db], USAGE).stderr
    assert "KPI622" in out  # a single file must be in force in the period closed
