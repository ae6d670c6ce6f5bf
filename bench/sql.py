"""Benchmark: `kpidsl eval --engine duckdb` against the Python engine and a hand-written
DuckDB query doing the same work, end to end from a CSV file.

    python bench/sql.py [--sizes 100k,1M] [--rounds 1] [--format table] [--only-sql]

Each command runs as a fresh process writing to /dev/null; the table shows rows per second
(wall), peak memory (max RSS) and the ratios measured in the same run. The hand-written
query reads the CSV with DuckDB's own reader and computes the b2b_manager payments with
DECIMAL arithmetic and one cast per line (what a careful analyst would write); it is the
floor for any engine that also has to read the file. A third command runs the query kpidsl
generates, with DuckDB reading the file (`NATIVE`): the fast path `--engine duckdb` lacks.
The outputs are not compared here (tests/test_sql.py holds the engines to each other).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from end_to_end import facts_file
from harness import B2B, ROOT, human, parse_sizes, table

HAND = """
import duckdb, sys
con = duckdb.connect()
con.execute('''
COPY (
  WITH f AS (
    SELECT employee,
      CAST(revenue AS DECIMAL(18, 6)) AS revenue, CAST(avg_check AS DECIMAL(18, 6)) AS avg_check,
      CAST(replace(conversion, '%', '') AS DECIMAL(18, 6)) / 100 AS conversion,
      CAST(calls AS DECIMAL(18, 6)) AS calls
    FROM read_csv(?, all_varchar = true)
  ), a AS (
    SELECT employee, revenue,
      revenue * 1000 / 3000000 AS r, avg_check * 1000 / 150000 AS c,
      conversion * 1000 / 0.02 AS v, calls * 1000 / 1000 AS k
    FROM f
  ), p AS (
    SELECT employee, revenue,
      CASE WHEN r < 800 THEN 0 WHEN r <= 1000 THEN r ELSE r * 1.2 END AS fr,
      CASE WHEN c < 800 THEN 0 WHEN c <= 1000 THEN c ELSE c * 1.2 END AS fc,
      CASE WHEN v < 800 THEN 0 WHEN v <= 1000 THEN v ELSE v * 1.2 END AS fv,
      CASE WHEN k < 800 THEN 0 WHEN k <= 1000 THEN k ELSE k * 1.2 END AS fk
    FROM a
  )
  SELECT employee,
    CAST(20 * fr AS DECIMAL(18, 2)) + CAST(10 * fc AS DECIMAL(18, 2))
      + CAST(10 * fv AS DECIMAL(18, 2)) + CAST(10 * fk AS DECIMAL(18, 2)) AS bonus,
    CAST(greatest(revenue - 3000000, 0) * 0.006 AS DECIMAL(18, 2)) AS commission
  FROM p
) TO '/dev/stdout' (FORMAT csv)
''', [sys.argv[1]])
"""


# The fast path planned for `--engine duckdb` (docs/sql.md), measured before it is wired in:
# DuckDB reads the CSV as text, checks every cell against the plain grammar in SQL, casts, and
# runs the query kpidsl generates (exact integer fractions, one rounding per line), writing the
# pay lines in kopecks. It does not render kpidsl's output formats, so it is a lower bound on
# the time such an engine needs, and it compares the generated SQL with the hand-written one.
NATIVE = r"""
import sys
import duckdb
from kpidsl.api import load
from kpidsl.sql import queries
query = queries(load(sys.argv[1]).checked, "duckdb", table="facts", carry=("_i",),
                budgets=False)[0]
con = duckdb.connect()
number, percent = "-?[0-9]+([.][0-9]+)?", "-?[0-9]+([.][0-9]+)?%"
con.execute("CREATE TEMP TABLE raw AS SELECT * FROM read_csv(?, all_varchar = true)",
            [sys.argv[2]])
outside = con.execute(
    "SELECT count(*) FROM raw WHERE employee IS NULL"
    f" OR NOT regexp_full_match(revenue, '{number}')"
    f" OR NOT regexp_full_match(avg_check, '{number}')"
    f" OR NOT regexp_full_match(conversion, '{percent}')"
    f" OR NOT regexp_full_match(calls, '{number}')").fetchone()[0]
outside += con.execute("SELECT count(*) - count(DISTINCT employee) FROM raw").fetchone()[0]
if outside:
    raise SystemExit(f"{outside} rows outside the plain grammar")
con.execute(
    "CREATE TEMP TABLE facts AS SELECT row_number() OVER () AS _i, employee,"
    " NULL::VARCHAR AS team, CAST(revenue AS DECIMAL(18, 6)) AS revenue,"
    " CAST(avg_check AS DECIMAL(18, 6)) AS avg_check,"
    " CAST(CAST(replace(conversion, '%', '') AS DECIMAL(18, 6)) / 100 AS DECIMAL(18, 6))"
    " AS conversion, CAST(calls AS DECIMAL(18, 6)) AS calls FROM raw")
pays = ", ".join(f'"{p}_units"' for p, _u in query.output.pays)
con.execute(f'COPY (SELECT "_i", "fails", {pays} FROM ({query.sql(pretty=False)})) '
            "TO '/dev/stdout' (FORMAT csv)")
"""


def timed(command: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (kB) of one fresh process writing to /dev/null."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        _pid, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return time.perf_counter() - start, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100k")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--format", default="table", choices=("table", "csv", "json"))
    parser.add_argument("--only-sql", action="store_true",
                        help="leave out the two kpidsl engines (about 10 min each at 1 M rows)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-sql-"))
    hand = folder / "hand.py"
    hand.write_text(HAND, encoding="utf-8")
    native = folder / "native.py"
    native.write_text(NATIVE, encoding="utf-8")
    rows_out = []
    try:
        for size in parse_sizes(args.sizes):
            path = facts_file(folder, size)
            commands = {
                "python engine": [sys.executable, "-m", "kpidsl", "eval", str(B2B), str(path),
                                  "--format", args.format, "--engine", "python"],
                "duckdb engine": [sys.executable, "-m", "kpidsl", "eval", str(B2B), str(path),
                                  "--format", args.format, "--engine", "duckdb"],
                "generated SQL, DuckDB reading": [sys.executable, str(native), str(B2B),
                                                  str(path)],
                "hand-written DuckDB": [sys.executable, str(hand), str(path)],
            }
            if args.only_sql:
                del commands["python engine"], commands["duckdb engine"]
            best = {name: (float("inf"), 0) for name in commands}
            for _ in range(args.rounds):
                for name, command in commands.items():
                    wall, rss = timed(command)
                    if wall < best[name][0]:
                        best[name] = (wall, rss)
            base = best["python engine"][0] if "python engine" in best else float("nan")
            hand_time = best["hand-written DuckDB"][0]
            for name, (wall, rss) in best.items():
                speed = "—" if base != base else f"{base / wall:.2f}×"  # nan: not run
                rows_out.append((human(size), name, f"{size / wall:,.0f}", f"{wall:.2f}",
                                 f"{rss // 1024} MB", speed,
                                 f"{wall / hand_time:.2f}×"))
        print(table(f"kpidsl eval --format {args.format}, b2b_manager, CSV in",
                    ("rows", "engine", "rows/s", "wall s", "peak RSS",
                     "speed vs Python", "time vs hand-written"), rows_out))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
