"""Sources: deal rows per second, end to end, through the Python engine and through DuckDB.

    python bench/sources.py                  # 200 000 deals, 2 000 employees
    python bench/sources.py --rows 10000000 --employees 100000 --every-deal  # the 10 M check
    python bench/sources.py --rows 1000000 --only duckdb

The same random deals (a tenth lost, a twentieth reversed) are written under the system's
temporary directory once as CSV (`;`, decimal commas, `2025-07-01 02:11:59`) and once as
Parquet (DECIMAL(18, 2), TIMESTAMP, BIGINT keys). Each run is `kpidsl.evaluate_files` to the
last result (revenue, won deals, average check and the per-deal commission of every deal,
summed per employee), in the same process:

- *Python*: `--engine python` over the CSV (read with the facts files' rules, fold, walk),
  the oracle; its baseline is the `csv` module splitting the same file into cells.
- *DuckDB*: `--engine duckdb` over the CSV and over the Parquet: DuckDB reads the file itself
  (kpidsl/sources/native.py), GROUP BY with FILTERs, SUM OVER PARTITION BY employee ORDER BY
  date, key, integer slices per tier; its baseline is DuckDB's `SELECT count(*)` of the
  same file.

When both engines run, every employee's facts and total are checked equal (Python and
DuckDB over the CSV, DuckDB over the Parquet), to the kopeck, before the table is printed;
the per-deal lines of the first 200 employees are compared too. Times are best of N,
interleaved; ratios are to the baseline of the same reader in the same run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kpidsl

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

    select = f"""SELECT i AS "ID", 'e' || (i % {employees}) AS "Manager",
        TIMESTAMP '2025-07-01' + TO_SECONDS(((i * 7919) % 2678400)::BIGINT) AS "Closed",
        CAST(((i * 104729) % 9000000) / 100 * (CASE WHEN i % 20 = 7 THEN -1 ELSE 1 END)
             AS DECIMAL(18, 2)) AS "Amount",
        CASE WHEN i % 10 = 3 THEN 'lost' ELSE 'won' END AS "Stage"
        FROM range({rows}) t(i)"""
    parquet, text = folder / "deals.parquet", folder / "deals.csv"
    con = duckdb.connect()
    con.execute(f"COPY ({select}) TO '{parquet}' (FORMAT parquet)")
    con.execute(f"""COPY (SELECT "ID", "Manager", strftime("Closed", '%Y-%m-%d %H:%M:%S')
        AS "Closed", replace(CAST("Amount" AS VARCHAR), '.', ',') AS "Amount", "Stage"
        FROM read_parquet('{parquet}')) TO '{text}' (HEADER, DELIMITER ';')""")
    return text, parquet


def engine_run(ruleset: kpidsl.Ruleset, path: Path, engine: str,
               deals: int = 0, every: bool = False) -> dict[str, tuple[object, ...]]:
    """Every employee's facts and total (and the per-deal amounts of the first `deals`;
    with `every`, a digest of every employee's per-deal lines: key, credit, running total
    before and after, exact amount and amount, in order)."""
    from kpidsl.run import FactsOptions, evaluate_files

    run = evaluate_files(ruleset, [path], FactsOptions(locale="ru"), period="2025-07",
                         engine=engine)
    out: dict[str, tuple[object, ...]] = {}
    for i, r in enumerate(run.results()):
        digest = None
        if every:
            lines = "".join(f"{d.key};{d.credit};{d.before};{d.after};{d.exact};{d.amount}\n"
                            for d in r.deals)
            digest = (len(r.deals), hashlib.sha256(lines.encode()).hexdigest())
        out[r.employee] = (dict(r.facts), r.total,
                           [d.amount for d in r.deals] if i < deals else None, digest)
    assert run.counts.rows_read == run.counts.evaluated + run.counts.failed
    return out


def csv_baseline(text: Path) -> int:
    with open(text, encoding="utf-8", newline="") as stream:
        return sum(1 for _ in csv.reader(stream, delimiter=";"))


def duckdb_count(path: Path) -> int:
    import duckdb

    scan = f"read_parquet('{path}')" if path.suffix == ".parquet" else \
        f"read_csv('{path}', delim = ';', header = true, all_varchar = true)"
    return duckdb.connect().execute(f"SELECT count(*) FROM {scan}").fetchone()[0]  # type: ignore[index]


def timed(candidates: dict[str, object], rounds: int) -> dict[str, float]:
    """Best of `rounds`, the candidates interleaved."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()  # type: ignore[operator]
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def native_used(ruleset: kpidsl.Ruleset, path: Path) -> bool:
    """Whether DuckDB reads the file itself (else the Python reader reads it for DuckDB)."""
    from kpidsl.run import FactsOptions
    from kpidsl.sources import native
    from kpidsl.sources.run import bind, source_plan
    from kpidsl.sql.native import Unusual

    readers, _ = bind(source_plan(ruleset), [path], {}, FactsOptions(locale="ru"), "RUB")
    try:
        native.evaluate_sources_native(ruleset, readers, period="2025-07")
    except Unusual:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["python", "duckdb"], default=None)
    parser.add_argument("--every-deal", action="store_true",
                        help="check every employee's per-deal lines, not the first 200's, "
                        "and time the checking runs themselves (the 10 M-deal agreement)")
    args = parser.parse_args()
    ruleset = kpidsl.loads(SCHEME)
    with tempfile.TemporaryDirectory() as tmp:
        text, parquet = write(Path(tmp), args.rows, args.employees)
        assert native_used(ruleset, text) and native_used(ruleset, parquet)
        if args.every_deal:  # every employee's facts, total and per-deal lines, timed once
            took: dict[str, float] = {}
            start = time.perf_counter()
            python = engine_run(ruleset, text, "python", 0, True)
            took["Python engine, CSV"] = time.perf_counter() - start
            for name, path in (("DuckDB engine, CSV", text), ("DuckDB engine, Parquet", parquet)):
                start = time.perf_counter()
                mine = engine_run(ruleset, path, "duckdb", 0, True)
                took[name] = time.perf_counter() - start
                differ = [e for e in python if mine.get(e) != python[e]]
                assert not differ and len(mine) == len(python), (name, differ[:5])
            lines = sum(d[3][0] for d in python.values())  # type: ignore[index]
            print(f"checked: {len(python):,} employees, {lines:,} per-deal lines: every "
                  "employee's facts, total and per-deal lines (key, credit, running totals, "
                  "exact amount, amount) equal in both engines, CSV and Parquet\n")
            print("| run | time | rows/s |\n|---|---:|---:|")
            for name, seconds in took.items():
                print(f"| {name} | {seconds:.0f} s | {args.rows / seconds:,.0f} |")
            return
        if args.only is None:  # the same facts, totals and first deals, to the kopeck
            python = engine_run(ruleset, text, "python", 200)
            for path in (text, parquet):
                assert engine_run(ruleset, path, "duckdb", 200) == python, path
            print(f"checked: {len(python):,} employees, the same facts and totals in both "
                  "engines (CSV and Parquet), and every deal of the first 200")
        candidates: dict[str, object] = {}
        if args.only != "duckdb":
            candidates["csv module, cells only"] = lambda: csv_baseline(text)
            candidates["Python engine, CSV"] = lambda: engine_run(ruleset, text, "python")
        if args.only != "python":
            candidates["DuckDB count(*), CSV"] = lambda: duckdb_count(text)
            candidates["DuckDB engine, CSV"] = lambda: engine_run(ruleset, text, "duckdb")
            candidates["DuckDB count(*), Parquet"] = lambda: duckdb_count(parquet)
            candidates["DuckDB engine, Parquet"] = lambda: engine_run(ruleset, parquet,
                                                                      "duckdb")
        rounds = args.rounds if args.only == "duckdb" or args.rows <= 200_000 else 1
        best = timed(candidates, rounds)
        print(f"\n{args.rows:,} deals of {args.employees:,} employees, best of {rounds}\n")
        print("| run | time | rows/s | × its baseline |\n|---|---:|---:|---:|")
        baselines = {"Python engine, CSV": "csv module, cells only",
                     "DuckDB engine, CSV": "DuckDB count(*), CSV",
                     "DuckDB engine, Parquet": "DuckDB count(*), Parquet"}
        for name, took in best.items():
            base = baselines.get(name)
            ratio = f"{took / best[base]:.2f}×" if base else "1.00× (baseline)"
            print(f"| {name} | {took:.2f} s | {args.rows / took:,.0f} | {ratio} |")
        if "Python engine, CSV" in best and "DuckDB engine, CSV" in best:
            print(f"\nDuckDB engine / Python engine on the CSV: "
                  f"{best['DuckDB engine, CSV'] / best['Python engine, CSV']:.3f}×")
        if args.only != "duckdb" and args.rows <= 1_000_000:
            tracemalloc.start()
            engine_run(ruleset, text, "python")
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"Python engine peak traced memory: {peak / 2**20:.1f} MiB "
                  f"({peak / args.rows:.0f} B a deal)")


if __name__ == "__main__":
    main()
