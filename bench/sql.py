"""Benchmark: `kpidsl eval --engine duckdb` against the Python engine and a hand-written
DuckDB query doing the same work, end to end from a CSV file.

    python bench/sql.py [--sizes 100k,1M] [--rounds 1] [--format table]

Each command runs as a fresh process writing to /dev/null; the table shows rows per second
(wall), peak memory (max RSS) and the ratios measured in the same run. The hand-written
query reads the CSV with DuckDB's own reader and computes the b2b_manager payments with
DECIMAL arithmetic and one cast per line (what a careful analyst would write); it is the
floor for any engine that also has to read the file. Before timing, the totals of the three
are checked equal on the smallest file.
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
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-sql-"))
    hand = folder / "hand.py"
    hand.write_text(HAND, encoding="utf-8")
    rows_out = []
    try:
        for size in parse_sizes(args.sizes):
            path = facts_file(folder, size)
            commands = {
                "python engine": [sys.executable, "-m", "kpidsl", "eval", str(B2B), str(path),
                                  "--format", args.format, "--engine", "python"],
                "duckdb engine": [sys.executable, "-m", "kpidsl", "eval", str(B2B), str(path),
                                  "--format", args.format, "--engine", "duckdb"],
                "hand-written DuckDB": [sys.executable, str(hand), str(path)],
            }
            best = {name: (float("inf"), 0) for name in commands}
            for _ in range(args.rounds):
                for name, command in commands.items():
                    wall, rss = timed(command)
                    if wall < best[name][0]:
                        best[name] = (wall, rss)
            base = best["python engine"][0]
            hand_time = best["hand-written DuckDB"][0]
            for name, (wall, rss) in best.items():
                rows_out.append((human(size), name, f"{size / wall:,.0f}", f"{wall:.2f}",
                                 f"{rss // 1024} MB", f"{base / wall:.2f}×",
                                 f"{wall / hand_time:.2f}×"))
        print(table(f"kpidsl eval --format {args.format}, b2b_manager, CSV in",
                    ("rows", "engine", "rows/s", "wall s", "peak RSS",
                     "speed vs Python", "time vs hand-written"), rows_out))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
