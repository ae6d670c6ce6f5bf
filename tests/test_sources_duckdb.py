"""DuckDB's sources stage (GROUP BY, SUM OVER) agrees with Python's to the kopeck."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.run import FactsOptions, evaluate_files

SCHEME = '''scheme random_sources "Random sources"
source deals "Deals"
  employee column "Manager"  date column "Closed"  key column "ID"
  field amount money column "Amount"
  field stage text column "Stage"
  field calls count column "Calls"
fact revenue  money  = total of deals.amount where stage is one of "won", "paid" if missing 0
fact won      count  = count of deals where stage is "won" or (stage is "paid" and amount > 0)
                       if missing 0
fact lost     count  = count of deals where not stage is one of "won", "paid" if missing 0
fact clients  count  = count distinct of deals.stage if missing 0
fact mean     money  = average of deals.amount if missing 0
fact middle   money  = median of deals.amount if missing 0
fact low      money  = min of deals.amount where amount >= -100 RUB if missing 0
fact high     money  = max of deals.amount if missing 0
fact reached  number = average of deals.calls if missing 0
curve rates "Tiers"
  tiers marginal
    from 0% to 80%     rate 1%
    from 80% to 100%   rate 2.5%
    from 100% to 150%  rate 3%
    from 150%          rate 4.125%
kpi revenue "Revenue" plan 100_000 RUB
pay commission "Commission"
  for each deal in deals where stage is one of "won", "paid" in order of date, key
  pays rates on the running attainment of revenue
'''
RULESET = kpidsl.loads(SCHEME)

row = st.tuples(
    st.sampled_from(["a", "b", "c", "Дарья"]),
    st.sampled_from(["2025-07-01", "2025-07-02", "15.07.2025 10:30", "2025-07-31 23:59",
                     "2025-06-30", "2025-08-01"]),
    st.integers(1, 40),
    st.integers(-20_000_00, 90_000_00),
    st.sampled_from(["won", "WON ", "paid", "lost", "open"]),
    st.integers(0, 30))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=40))
def test_duckdb_agrees_with_python(tmp_path: Path, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    text = "ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        f"{key};{who};{when};{Decimal(cents) / 100:f};{stage};{calls}\n"
        for who, when, key, cents, stage, calls in rows)
    deals = tmp_path / "deals.csv"
    deals.write_text(text, encoding="utf-8")
    runs = {engine: evaluate_files(RULESET, [deals], FactsOptions(locale="en"),
                                   period="2025-07", engine=engine)
            for engine in ("python", "duckdb")}
    seen = {engine: {r.employee: (r.facts, r.total, [(d.key, d.amount) for d in r.deals])
                     for r in run.results()} for engine, run in runs.items()}
    assert seen["duckdb"] == seen["python"]
    assert runs["duckdb"].counts == runs["python"].counts


def test_the_reference_case_in_duckdb(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n1;a;2025-07-03;60000;won;1\n"
                     "2;a;2025-07-10;30000;won;1\n3;a;2025-07-11;-30000;won;1\n",
                     encoding="utf-8")
    scheme = SCHEME.replace("2.5%", "2%").replace("4.125%", "4%")
    run = evaluate_files(kpidsl.loads(scheme), [deals], FactsOptions(), period="2025-07",
                         engine="duckdb")
    (result,) = run.results()
    assert [d.amount for d in result.deals] == [Decimal("600.00"), Decimal("400.00"),
                                               Decimal("-400.00")]
