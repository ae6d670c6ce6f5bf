"""Benchmark: `kpidsl eval --engine duckdb` against the Python engine and a hand-written
DuckDB query doing the same work, end to end from a CSV or Parquet file.

    python bench/sql.py [--sizes 1M,10M] [--python-size 100k] [--rounds 3] [--format table]
    python bench/sql.py --crossover [--rounds 3]

Each command runs as a fresh process writing to /dev/null; the table shows the median over
the rounds of wall time and of CPU time (user + system of the process and its threads: on a
shared machine wall time measures the neighbours too), rows per second, peak memory, and the
ratios measured in the same run. The Python engine streams at a rate flat in the row count
and takes about 4 minutes of CPU per million rows, so it is measured at `--python-size` and
its rows per second is the baseline of every size. The hand-written query reads the file
with DuckDB's own reader and computes the b2b_manager payments with DECIMAL arithmetic and
one cast per line (what a careful analyst would write); it is the floor for any engine that
also has to read the file. `NATIVE` runs the query kpidsl generates with DuckDB reading the
file and nothing else (no output formats): the share of the generated SQL. `--crossover`
times both kpidsl engines from 100 to 30 000 rows, for `--engine auto`.
The outputs are not compared here (tests/test_sql_native.py holds the engines to each other).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from end_to_end import facts_file, measure
from harness import B2B, human, parse_sizes, table

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
    FROM {source}
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
'''.format(source='read_parquet(?)' if sys.argv[1].endswith('.parquet')
                else 'read_csv(?, all_varchar = true)'), [sys.argv[1]])
"""


# The generated query alone, with DuckDB reading the CSV as text, checking every cell against
# the plain grammar in SQL, casting, and writing the pay lines in kopecks: no output formats,
# no survey of the reading rules. It separates the generated SQL's share from the engine's.
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


def parquet_file(csv: Path) -> Path:
    """The same facts as Parquet: money as DECIMAL(18, 2), calls as INTEGER."""
    import duckdb

    target = csv.with_suffix(".parquet")
    duckdb.connect().execute(
        f"COPY (SELECT employee, CAST(revenue AS DECIMAL(18, 2)) AS revenue, "
        f"CAST(avg_check AS DECIMAL(18, 2)) AS avg_check, conversion, "
        f"CAST(calls AS INTEGER) AS calls FROM read_csv('{csv}', all_varchar = true)) "
        f"TO '{target}' (FORMAT parquet)")
    return target


def kpidsl(path: Path, engine: str, fmt: str) -> list[str]:
    return [sys.executable, "-m", "kpidsl", "eval", str(B2B), str(path), "--format", fmt,
            "--engine", engine]


def medians(command: list[str], rounds: int) -> tuple[float, float, int]:
    runs = [measure(command) for _ in range(rounds)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            max(r[2] for r in runs))


def crossover(folder: Path, rounds: int) -> str:
    rows = []
    for size in (100, 1_000, 3_000, 10_000, 30_000):
        path = facts_file(folder, size)
        times = {e: medians(kpidsl(path, e, "table"), rounds) for e in ("python", "duckdb")}
        rows.append((human(size), *(f"{times[e][1]:.2f}" for e in times),
                     *(f"{times[e][0]:.2f}" for e in times),
                     f"{times['python'][1] / times['duckdb'][1]:.2f}×"))
    return table("--engine python vs duckdb, b2b_manager, table, CSV in (medians)",
                 ("rows", "python CPU s", "duckdb CPU s", "python wall s", "duckdb wall s",
                  "CPU ratio"), rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1M")
    parser.add_argument("--python-size", default="100k")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="table", choices=("table", "csv", "json"))
    parser.add_argument("--crossover", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-sql-"))
    hand = folder / "hand.py"
    hand.write_text(HAND, encoding="utf-8")
    native = folder / "native.py"
    native.write_text(NATIVE, encoding="utf-8")
    try:
        if args.crossover:
            print(crossover(folder, args.rounds))
            return
        small = parse_sizes(args.python_size)[0]
        wall, cpu, rss = medians(kpidsl(facts_file(folder, small), "python", args.format),
                                 args.rounds)
        base_wall, base_cpu = small / wall, small / cpu  # rows per second
        out = [(human(small), "python engine, CSV", f"{small / wall:,.0f}", f"{wall:.2f}",
                f"{cpu:.2f}", f"{rss / 2**20:.0f} MB", "1.00×", "1.00×", "—")]
        for size in parse_sizes(args.sizes):
            path = facts_file(folder, size)
            parquet = parquet_file(path)
            commands = {
                "duckdb engine, CSV": kpidsl(path, "duckdb", args.format),
                "duckdb engine, Parquet": kpidsl(parquet, "duckdb", args.format),
                "generated SQL only, CSV": [sys.executable, str(native), str(B2B), str(path)],
                "hand-written DuckDB, CSV": [sys.executable, str(hand), str(path)],
                "hand-written DuckDB, Parquet": [sys.executable, str(hand), str(parquet)],
            }
            found = {name: medians(c, args.rounds) for name, c in commands.items()}
            for name, (wall, cpu, rss) in found.items():
                hand_wall = found["hand-written DuckDB, " + name.rsplit(", ", 1)[1]][0]
                out.append((human(size), name, f"{size / wall:,.0f}", f"{wall:.2f}",
                            f"{cpu:.2f}", f"{rss / 2**20:.0f} MB",
                            f"{size / wall / base_wall:.1f}×", f"{size / cpu / base_cpu:.1f}×",
                            f"{wall / hand_wall:.2f}×"))
            path.unlink()
            parquet.unlink()
        print(table(f"kpidsl eval --format {args.format}, b2b_manager (medians of "
                    f"{args.rounds})", ("rows", "engine", "rows/s", "wall s", "CPU s",
                                        "peak RSS", "vs Python (wall)", "vs Python (CPU)",
                                        "time vs hand-written"), out))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
