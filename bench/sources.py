"""Sources: deal rows per second, end to end, through the Python engine and through DuckDB.

    python bench/sources.py                  # 200 000 deals, 2 000 employees
    python bench/sources.py --rows 1000000 --employees 10000 --only duckdb
    python bench/sources.py --rows 10000000 --employees 100000 --only duckdb
    python bench/sources.py --rows 10000000 --employees 100000 --check   # the 10 M agreement

The same random deals (a tenth lost, a twentieth reversed) are written once as CSV (`;`,
decimal commas, `2025-07-01 02:11:59`) and once as Parquet (DECIMAL(18, 2), TIMESTAMP,
BIGINT keys), under the temporary directory or `--folder` (kept and reused). Each run is
`kpidsl.evaluate_files` to the last result (revenue, won deals, average check and the
per-deal commission of every deal, summed per employee), each in its own process, which
reports its time and its peak RSS:

- *Python*: `--engine python` over the CSV (read with the facts files' rules, fold, walk),
  the oracle; its baseline is the `csv` module splitting the same file into cells.
- *DuckDB*: `--engine duckdb` over the CSV and over the Parquet: DuckDB reads the file itself
  (kpidsl/sources/native.py), GROUP BY with FILTERs, the deals sorted by DuckDB and paid by
  integer array operations (kpidsl/sources/running.py); its baselines are DuckDB's
  `SELECT count(*)` of the same file, a GROUP BY employee reading the columns the
  scheme uses (a Parquet `count(*)` reads only the footer), and the hand-written window
  query of the per-deal work (`SUM(amount) OVER (PARTITION BY employee ORDER BY date,
  key)` over the won deals, summed by employee with the facts): the engine's own floor.

Unless `--only duckdb` is given without `--check`, the engines' results are compared first:
DuckDB's over the Parquet are written to a file, one employee a line with exact digits, and
DuckDB's over the CSV and the Python engine's are compared with it as they stream (every
facts and total, and every deal of the first `--deals` employees), so the 10 M-deal check
holds neither engine's results in memory. Times are best of N, interleaved; ratios are to
the baseline of the same reader in the same run.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
               deals: int = 0) -> dict[str, tuple[object, ...]]:
    """Every employee's facts and total (and the per-deal amounts of the first `deals`)."""
    return {e: v for e, *v in _results(ruleset, path, engine, deals)}  # type: ignore[misc]


def _results(ruleset: kpidsl.Ruleset, path: Path, engine: str,
             deals: int = 0) -> Iterator[tuple[object, ...]]:
    """(employee, facts, total, first deals' amounts) in the run's order, streamed."""
    from kpidsl.run import FactsOptions, evaluate_files

    run = evaluate_files(ruleset, [path], FactsOptions(locale="ru"), period="2025-07",
                         engine=engine)
    for i, r in enumerate(run.results()):
        yield (r.employee, dict(r.facts), r.total,
               [d.amount for d in r.deals] if i < deals else None)
    assert run.counts.rows_read == run.counts.evaluated + run.counts.failed


def _line(item: tuple[object, ...]) -> str:
    """One employee's results as a line of text: exact digits, so equal lines are equal
    amounts to the kopeck (and the same digits)."""
    employee, facts, total, amounts = item
    assert isinstance(facts, dict) and (amounts is None or isinstance(amounts, list))
    return json.dumps([employee, {k: str(v) for k, v in facts.items()}, str(total),
                       None if amounts is None else [str(a) for a in amounts]],
                      ensure_ascii=False) + "\n"


def write_results(ruleset: kpidsl.Ruleset, path: Path, engine: str, out: Path,
                  deals: int) -> int:
    """An engine's results written one employee a line, in the run's order."""
    n = 0
    with open(out, "w", encoding="utf-8") as stream:
        for item in _results(ruleset, path, engine, deals):
            stream.write(_line(item))
            n += 1
    return n


def compare_streaming(ruleset: kpidsl.Ruleset, path: Path, engine: str, written: Path,
                      deals: int) -> int:
    """An engine's results compared, employee by employee as they come, with a file another
    engine wrote: neither run holds the other's results (10 M deals, 100 000 employees)."""
    n = 0
    with open(written, encoding="utf-8") as stream:
        for item in _results(ruleset, path, engine, deals):
            want = stream.readline()
            got = _line(item)
            if got != want:
                raise SystemExit(f"{engine} over {path.name} differs at employee {n + 1}:\n"
                                 f"  {got.strip()[:300]}\n  {want.strip()[:300]}")
            n += 1
        if stream.readline():
            raise SystemExit(f"{engine} over {path.name} gave {n} employees, fewer than "
                             f"{written.name}")
    return n


def csv_baseline(text: Path) -> int:
    with open(text, encoding="utf-8", newline="") as stream:
        return sum(1 for _ in csv.reader(stream, delimiter=";"))


def duckdb_count(path: Path) -> int:
    import duckdb

    scan = f"read_parquet('{path}')" if path.suffix == ".parquet" else \
        f"read_csv('{path}', delim = ';', header = true, all_varchar = true)"
    return duckdb.connect().execute(f"SELECT count(*) FROM {scan}").fetchone()[0]  # type: ignore[index]


def duckdb_group(path: Path) -> int:
    """DuckDB reading every column the scheme uses: a total and a count by employee (a
    Parquet `count(*)` reads only the file's footer)."""
    import duckdb

    scan = f"read_parquet('{path}')" if path.suffix == ".parquet" else \
        f"read_csv('{path}', delim = ';', header = true, all_varchar = true)"
    amount = '"Amount"' if path.suffix == ".parquet" else \
        """CAST(replace("Amount", ',', '.') AS DECIMAL(18, 2))"""
    found = duckdb.connect().execute(
        f'SELECT "Manager", sum({amount}) FILTER (WHERE "Stage" = \'won\'), count(*), '
        f'max("Closed"), max("ID") FROM {scan} GROUP BY "Manager"').fetchall()
    return len(found)


def duckdb_window(path: Path) -> int:
    """The hand-written query of the per-deal scheme's own work: the won deals' running
    total per employee in date and key order (`SUM(...) OVER (PARTITION BY employee ORDER
    BY date, key)`, the sort every per-deal payment needs), summed with the facts by
    employee. The tiers' slices and rounding are left out: this is the engine's floor."""
    import duckdb

    scan = f"read_parquet('{path}')" if path.suffix == ".parquet" else \
        f"read_csv('{path}', delim = ';', header = true, all_varchar = true)"
    amount, closed, key = ('"Amount"', '"Closed"', '"ID"') if path.suffix == ".parquet" else (
        """CAST(replace("Amount", ',', '.') AS DECIMAL(18, 2))""",
        'CAST("Closed" AS TIMESTAMP)', 'CAST("ID" AS BIGINT)')
    found = duckdb.connect().execute(
        f'SELECT "Manager", sum(amount), count(*), sum(run) FROM (SELECT "Manager", '
        f'{amount} AS amount, sum({amount}) OVER (PARTITION BY "Manager" ORDER BY {closed}, '
        f'{key} ROWS UNBOUNDED PRECEDING) AS run FROM {scan} WHERE "Stage" = \'won\') '
        f'GROUP BY "Manager"').fetchall()
    return len(found)


CANDIDATES: dict[str, tuple[str, str]] = {  # name → (what runs, which file)
    "csv module, cells only": ("csv", "csv"),
    "Python engine, CSV": ("python", "csv"),
    "DuckDB count(*), CSV": ("count", "csv"),
    "DuckDB GROUP BY, CSV": ("group", "csv"),
    "DuckDB window, CSV": ("window", "csv"),
    "DuckDB engine, CSV": ("duckdb", "csv"),
    "DuckDB count(*), Parquet": ("count", "parquet"),
    "DuckDB GROUP BY, Parquet": ("group", "parquet"),
    "DuckDB window, Parquet": ("window", "parquet"),
    "DuckDB engine, Parquet": ("duckdb", "parquet"),
}
BASELINES = {"Python engine, CSV": "csv module, cells only",
             "DuckDB engine, CSV": "DuckDB count(*), CSV",
             "DuckDB engine, Parquet": "DuckDB count(*), Parquet"}
SCANS = {"DuckDB engine, CSV": "DuckDB GROUP BY, CSV",
         "DuckDB engine, Parquet": "DuckDB GROUP BY, Parquet"}
WINDOWS = {"DuckDB engine, CSV": "DuckDB window, CSV",
           "DuckDB engine, Parquet": "DuckDB window, Parquet"}


def child(what: str, path: Path) -> None:
    """One candidate in a fresh process: its time to the last result and its peak RSS."""
    import duckdb
    import numpy

    import kpidsl.sources.native  # imports are not the run's time

    del duckdb, numpy
    ruleset = kpidsl.loads(SCHEME)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    if what == "csv":
        csv_baseline(path)
    elif what == "count":
        duckdb_count(path)
    elif what == "group":
        duckdb_group(path)
    elif what == "window":
        duckdb_window(path)
    else:
        for _item in _results(ruleset, path, what):
            pass
    took = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)  # DuckDB's threads included
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    # the high-water mark of this process's memory (ru_maxrss would carry the parent's
    # over exec)
    status = Path("/proc/self/status").read_text(encoding="ascii").split("VmHWM:")[1]
    peak = int(status.split()[0]) * 1024
    print(json.dumps({"time": took, "cpu": cpu, "peak": peak}))


def timed(names: list[str], files: dict[str, Path], rounds: int
          ) -> dict[str, tuple[float, int, float]]:
    """Best time of `rounds`, the largest peak RSS and the median CPU time (steadier than
    the wall clock on a shared machine), each run in its own process, the candidates
    interleaved."""
    best: dict[str, tuple[float, int, float]] = {}
    cpus: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name in names:
            what, which = CANDIDATES[name]
            done = subprocess.run([sys.executable, __file__, "--child", what,
                                   str(files[which])], capture_output=True, text=True,
                                  check=True)
            found = json.loads(done.stdout.strip().splitlines()[-1])
            took, peak, _cpu = best.get(name, (float("inf"), 0, 0.0))
            cpus.setdefault(name, []).append(found["cpu"])
            best[name] = (min(took, found["time"]), max(peak, found["peak"]),
                          statistics.median(cpus[name]))
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
    parser.add_argument("--check", action="store_true",
                        help="compare the engines' results to the kopeck, without timing")
    parser.add_argument("--deals", type=int, default=200,
                        help="employees whose every deal is compared too")
    parser.add_argument("--folder", type=Path, default=None,
                        help="where the exports are written (kept, and reused when there)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    ruleset = kpidsl.loads(SCHEME)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        text, parquet = folder / "deals.csv", folder / "deals.parquet"
        if not (args.folder and text.exists() and parquet.exists()):
            text, parquet = write(folder, args.rows, args.employees)
        assert native_used(ruleset, text) and native_used(ruleset, parquet)
        if args.only is None or args.check:
            # DuckDB's results written once, one employee a line; the other runs compared
            # with that file as they stream: the same facts, totals and first deals
            written = folder / "duckdb.results.jsonl"
            n = write_results(ruleset, parquet, "duckdb", written, args.deals)
            compare_streaming(ruleset, text, "duckdb", written, args.deals)
            if args.only != "duckdb":
                compare_streaming(ruleset, text, "python", written, args.deals)
            which = "DuckDB over CSV and Parquet" if args.only == "duckdb" else \
                "Python and DuckDB, CSV and Parquet"
            print(f"checked: {n:,} employees, the same facts and totals ({which}), and every "
                  f"deal of the first {args.deals}")
            if args.check:
                return
        names = [n for n in CANDIDATES
                 if not (args.only == "duckdb" and ("csv module" in n or "Python" in n))
                 and not (args.only == "python" and "DuckDB" in n)]
        rounds = args.rounds if args.only == "duckdb" or args.rows <= 200_000 else 1
        best = timed(names, {"csv": text, "parquet": parquet}, rounds)
        print(f"\n{args.rows:,} deals of {args.employees:,} employees, best of {rounds}, "
              "each run in its own process\n")
        print("| run | time | rows/s | × its baseline | × GROUP BY | × window | CPU | "
              "rows/s of CPU | × GROUP BY (CPU) | × window (CPU) | peak RSS |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, (took, peak, cpu) in best.items():
            base = BASELINES.get(name)
            ratio = f"{took / best[base][0]:.2f}×" if base else "1.00× (baseline)"
            over = []
            for table in (SCANS, WINDOWS):
                scan = table.get(name)
                over.append((f"{took / best[scan][0]:.2f}×", f"{cpu / best[scan][2]:.2f}×")
                            if scan in best else ("", ""))
            print(f"| {name} | {took:.2f} s | {args.rows / took:,.0f} | {ratio} | "
                  f"{over[0][0]} | {over[1][0]} | {cpu:.2f} s | {args.rows / cpu:,.0f} | "
                  f"{over[0][1]} | {over[1][1]} | {peak / 2**20:,.0f} MiB |")
        if "Python engine, CSV" in best and "DuckDB engine, CSV" in best:
            print(f"\nDuckDB engine / Python engine on the CSV: "
                  f"{best['DuckDB engine, CSV'][0] / best['Python engine, CSV'][0]:.3f}×")


if __name__ == "__main__":
    main()
