"""Sources: deal rows per second through the Python stage and through DuckDB.

    python bench/sources.py                  # 200 000 deals, 2 000 employees
    python bench/sources.py --rows 10000000 --employees 100000 --only duckdb

The same random deals (a tenth lost, a twentieth reversed) are written once as CSV (`;`,
decimal commas: the Python path reads it with the facts files' rules) and once as Parquet
(typed DECIMAL and TIMESTAMP: DuckDB reads it itself). Each path computes the scheme's
revenue, won deals, average check and the per-deal commission of every deal:

- *Python*: `kpidsl.sources` (read, fold, walk), the oracle, one pass in memory that grows
  with the employees and the deals held for ordering, not with the file; its baseline is the
  `csv` module splitting the same file into cells, nothing else.
- *DuckDB*: the generated queries (GROUP BY with FILTERs; SUM OVER PARTITION BY employee
  ORDER BY date, key) over `read_parquet`; its baseline is `SELECT count(*)` of the file.

Before timing, on the first 20 000 deals, both paths' facts and every deal's exact amount
are checked equal. Times are best of N, interleaved; ratios are to the baseline of the same
path in the same run.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kpidsl
from kpidsl.sources.duck import deals_query, facts_query
from kpidsl.sources.plan import plan_of

SCHEME = '''scheme bench_sources "Bench"
source deals "Deals"
  employee column "Manager"  date column "Closed"  key column "ID"
  field amount money column "Amount"
  field stage text column "Stage"
fact revenue money = total of deals.amount where stage is "won" if missing 0
fact won count = count of deals where stage is "won" if missing 0
fact mean money = average of deals.amount where stage is "won" if missing 0
curve rates "Tiers"
  tiers marginal
    from 0% to 80%     rate 1%
    from 80% to 100%   rate 2%
    from 100% to 150%  rate 3%
    from 150%          rate 4%
kpi revenue plan 100_000 RUB
pay commission "Commission"
  for each deal in deals where stage is "won"
  pays rates on the running attainment of revenue
'''


def write(folder: Path, rows: int, employees: int) -> tuple[Path, Path]:
    import duckdb

    select = f"""SELECT 'e' || (i % {employees}) AS employee,
        TIMESTAMP '2025-07-01' + TO_SECONDS(((i * 7919) % 2678400)::BIGINT) AS date,
        CAST(i AS VARCHAR) AS key, CAST(i AS DECIMAL(38, 10)) AS knum, 0::BIGINT AS file,
        'deals' AS path, (i + 2)::BIGINT AS row,
        CAST(((i * 104729) % 9000000) / 100 * (CASE WHEN i % 20 = 7 THEN -1 ELSE 1 END)
             AS DECIMAL(38, 10)) AS f_amount,
        CASE WHEN i % 10 = 3 THEN 'lost' ELSE 'won' END AS f_stage
        FROM range({rows}) t(i)"""
    parquet, text = folder / "deals.parquet", folder / "deals.csv"
    con = duckdb.connect()
    con.execute(f"COPY ({select}) TO '{parquet}' (FORMAT parquet)")
    con.execute(f"""COPY (SELECT key AS "ID", employee AS "Manager",
        strftime(date, '%Y-%m-%d %H:%M:%S') AS "Closed",
        replace(CAST(CAST(f_amount AS DECIMAL(18, 2)) AS VARCHAR), '.', ',') AS "Amount",
        f_stage AS "Stage" FROM read_parquet('{parquet}')) TO '{text}'
        (HEADER, DELIMITER ';')""")
    return text, parquet


def python_path(ruleset: kpidsl.Ruleset, text: Path) -> dict[str, tuple[object, ...]]:
    from kpidsl.run import FactsOptions, evaluate_files

    run = evaluate_files(ruleset, [text], FactsOptions(locale="ru"), period="2025-07")
    return {r.employee: (r.facts["revenue"], r.facts["won"], r.total) for r in run.results()}


def csv_baseline(text: Path) -> int:
    with open(text, encoding="utf-8", newline="") as stream:
        return sum(1 for _ in csv.reader(stream, delimiter=";"))


def duckdb_path(plan: object, parquet: Path) -> tuple[list[tuple[object, ...]], list[object]]:
    import duckdb

    con = duckdb.connect()
    table = f"read_parquet('{parquet}')"
    query, _facts = facts_query(plan, "deals", table, None)  # type: ignore[arg-type]
    facts = con.execute(query).fetchall()
    plans = "(SELECT DISTINCT employee, CAST(100000 AS DECIMAL(38, 10)) AS s FROM " + table + ")"
    pay = plan.pays["commission"]  # type: ignore[attr-defined]
    deals = con.execute(f"SELECT employee, SUM(ROUND(amount, 2)) FROM "
                        f"({deals_query(plan, pay, table, None, plans)}) GROUP BY employee"
                        ).fetchall()  # type: ignore[arg-type]
    return facts, deals


def duckdb_baseline(parquet: Path) -> int:
    import duckdb

    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{parquet}')"
                                    ).fetchone()[0]  # type: ignore[index]


def best(run: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def check(ruleset: kpidsl.Ruleset, folder: Path) -> None:
    """Python and DuckDB agree on 20 000 deals: every fact and total, every deal."""
    from kpidsl.run import FactsOptions, evaluate_files

    sub = folder / "check"
    sub.mkdir()
    text, _parquet = write(sub, 20_000, 200)
    runs = {e: {r.employee: (r.facts, r.total, [d.amount for d in r.deals]) for r in
                evaluate_files(ruleset, [text], FactsOptions(locale="ru"), period="2025-07",
                               engine=e).results()} for e in ("python", "duckdb")}
    assert runs["python"] == runs["duckdb"], "DuckDB and Python disagree"
    print(f"checked: {len(runs['python'])} employees, the same facts, totals and deals in "
          "both engines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["python", "duckdb"], default=None)
    args = parser.parse_args()
    ruleset = kpidsl.loads(SCHEME)
    plan = plan_of(ruleset.checked)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        check(ruleset, folder)
        text, parquet = write(folder, args.rows, args.employees)
        print(f"\n{args.rows:,} deals of {args.employees:,} employees\n")
        print("| path | time | rows/s | × its baseline |\n|---|---:|---:|---:|")
        if args.only != "duckdb":
            base = best(lambda: csv_baseline(text), args.rounds)
            took = best(lambda: python_path(ruleset, text), max(1, args.rounds - 2))
            print(f"| csv module, cells only (baseline) | {base:.2f} s | "
                  f"{args.rows / base:,.0f} | 1.00× |")
            print(f"| kpidsl sources, Python | {took:.2f} s | {args.rows / took:,.0f} | "
                  f"{took / base:.2f}× |")
            tracemalloc.start()
            python_path(ruleset, text)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"| (Python peak traced memory) | {peak / 2**20:.1f} MiB | "
                  f"{peak / args.rows:.0f} B/deal | |")
        if args.only != "python":
            base = best(lambda: duckdb_baseline(parquet), args.rounds)
            took = best(lambda: duckdb_path(plan, parquet), args.rounds)
            print(f"| DuckDB count(*) of the Parquet (baseline) | {base:.2f} s | "
                  f"{args.rows / base:,.0f} | 1.00× |")
            print(f"| kpidsl sources, DuckDB | {took:.2f} s | {args.rows / took:,.0f} | "
                  f"{took / base:.2f}× |")


if __name__ == "__main__":
    main()
