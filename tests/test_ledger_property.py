"""Random periods closed in random order, compared and reopened: the ledger's statements
are always those last recorded for each period, its totals are their sums, and no row
already written ever changes or disappears."""

from __future__ import annotations

import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.ledger import Ledger, close_period
from kpidsl.ledger.memory import PAID_KINDS, Settlement
from kpidsl.ledger.report import statements, summary

SCHEME = kpidsl.loads("""\
scheme rep "Sales rep on a draw"
  currency RUB
  period month
  draw 5_000 RUB a month recoverable recovered at most 1_500 RUB a month
fact revenue money "Revenue"
pay commission "Commission" = revenue × 7%
pay salary "Salary" = 10_000 RUB
""", "rep.kpi")

PEOPLE = ("ivanov", "petrova", "sidorov")
TABLES = ("closings", "employees", "lines", "balances", "facts")

operation = st.tuples(
    st.integers(1, 6),  # the month
    st.lists(st.integers(0, 150_000), min_size=1, max_size=3),  # revenues of the first people
    st.booleans(),  # reopen
)


def rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    if not db.exists():
        return {table: [] for table in TABLES}
    connection = sqlite3.connect(db)
    try:
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'lines'").fetchone():
            return {table: [] for table in TABLES}
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
                for table in TABLES}
    finally:
        connection.close()


def expected_lines(settlement: Settlement) -> dict[tuple[str, str], Decimal]:
    return {(e.kind, e.name): e.amount for e in settlement.entries}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=8))
def test_random_closes_reopenings_and_comparisons(operations: list[tuple[int, list[int],
                                                                         bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        db = tmp / "pay.db"
        recorded: dict[str, list[Settlement]] = {}  # period → statements last written
        for step, (month, revenues, reopen) in enumerate(operations):
            period = f"2025-{month:02d}"
            facts = tmp / f"{step}.csv"
            facts.write_text("employee,revenue\n" + "".join(
                f"{who},{revenue}\n" for who, revenue in zip(PEOPLE, revenues, strict=False)))
            before = rows(db)
            outcome = close_period(db, SCHEME, [str(facts)], None, period, reopen=reopen,
                                   reason="correction" if reopen else "")
            after = rows(db)
            for table in TABLES:  # appended to, never changed: what was there is a prefix
                assert after[table][:len(before[table])] == before[table], table
            if period not in recorded:
                assert outcome.status == "closed"
            elif reopen:
                assert outcome.status in ("reopened", "unchanged")
            else:
                assert outcome.status in ("same", "different")
                assert after == before  # comparing writes nothing
            if outcome.status in ("closed", "reopened"):
                recorded[period] = outcome.settlements
                assert any(len(after[t]) > len(before[t]) for t in TABLES)
            elif outcome.status == "unchanged":
                assert after == before
            with Ledger(db) as ledger:
                assert ledger.periods() == sorted(recorded)
                for view in summary(ledger):
                    want = {s.employee: s for s in recorded[view.period]}
                    have = statements(ledger, view.period)
                    assert set(have) == set(want)
                    for employee, settlement in want.items():
                        summed = {(line.kind, line.name): line.amount
                                  for line in have[employee].lines}
                        expected = expected_lines(settlement)
                        for key in set(summed) | set(expected):
                            assert summed.get(key, Decimal(0)) == \
                                expected.get(key, Decimal(0)), (view.period, employee, key)
                        assert have[employee].balances == settlement.balances
                    # the ledger's totals are the sums of the statements
                    assert view.total(PAID_KINDS) == sum(s.paid for s in want.values())
                    raw = sum((line.amount for line in ledger.lines(period=view.period)
                               if line.kind in PAID_KINDS), Decimal(0))
                    assert raw == view.total(PAID_KINDS)
