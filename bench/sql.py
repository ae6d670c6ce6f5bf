"""Benchmark: `kpidsl eval --engine duckdb` against the Python engine and a hand-written
DuckDB query doing the same work, end to end from a CSV or Parquet file.

    python bench/sql.py [--rows 1M,10M] [--python-rows 100k] [--rounds 3] [--format table]
                        [--only 'duckdb engine'] [--before DIR]
    python bench/sql.py --phases [--rows 1M] [--format table]
    python bench/sql.py --query [--rows 1M] [--rounds 5]
    python bench/sql.py --crossover [--rounds 3] [--format csv] [--rows 10k,30k]

The goals' run (docs/sql.md, "Speed"; about 20 minutes on a shared 2-core machine, the
10 M rows' files ~0.6 GB generated on the first run):

    nice -n 10 python bench/sql.py --rows 1M,10M --rounds 3 --only 'duckdb engine'

Each command runs as a fresh process writing to a file of its own, the rounds taken in turn
(round 1 of every command, then round 2, …, the Python engine's among the first size's); the
table shows the median over the rounds of wall time and of CPU time (user + system of the
process and its threads: on a shared machine wall time measures the neighbours too), rows
per second, peak memory, and the ratios measured in the same run. The Python engine streams
at a rate flat in the row count and takes about 2 minutes of CPU per million rows, so it is
measured at `--python-rows` and its rows per second, extrapolated to every size (the table
says so), is the baseline.
The hand-written query reads the file with DuckDB's own reader and writes the table's
columns (employee, salary, bonus, commission, total) for b2b_manager with DECIMAL
arithmetic and one cast per pay line, so rounded half up once a line (what a careful
analyst would write; DuckDB computes its DECIMAL ÷ DECIMAL in DOUBLE, so it is not exact):
the floor for any engine that also has to read the file. It comes in two forms: bare
numbers written by COPY (HAND), and the table kpidsl writes, the same bytes but for its
inexact kopecks (HAND_TABLE: widths from the first 1 000 rows, thousands separators,
padded lines by COPY, the payroll total from a second pass), the same work end to end and
the baseline of the "vs hand-written table" column. `NATIVE` runs the query kpidsl
generates with DuckDB reading the file and nothing else (no output formats): the share of
the generated SQL. `--query` times the generated and the hand-written query alone over the
same facts table in memory, on one thread. `--phases` runs the DuckDB engine once in this
process and prints the CPU time of each phase. `--crossover` times both kpidsl engines from
100 to 30 000 rows, for `--engine auto`.

The facts files are generated once into `--data` (default: kpidsl-bench-sql under the
system's temporary directory; ~40 MB of CSV per million rows, 10 M rows ~0.4 GB of CSV and
its Parquet copy) and kept for the next run; `--clean` removes them afterwards. The outputs
are not compared here (tests/test_sql_native.py holds the engines to each other).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from end_to_end import facts_file, measure
from harness import B2B, ROOT, human, parse_sizes, table

# What the b2b_manager scheme pays, written by hand in DuckDB SQL (SOURCE: the facts file).
PAY_QUERY = """
  WITH f AS (
    SELECT employee,
      CAST(revenue AS DECIMAL(18, 6)) AS revenue, CAST(avg_check AS DECIMAL(18, 6)) AS avg_check,
      CAST(replace(conversion, '%', '') AS DECIMAL(18, 6)) / 100 AS conversion,
      CAST(calls AS DECIMAL(18, 6)) AS calls
    FROM SOURCE
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
  ), l AS (
    SELECT employee, CAST(60000 AS DECIMAL(18, 2)) AS salary,
      CAST(20 * fr AS DECIMAL(18, 2)) + CAST(10 * fc AS DECIMAL(18, 2))
        + CAST(10 * fv AS DECIMAL(18, 2)) + CAST(10 * fk AS DECIMAL(18, 2)) AS bonus,
      CAST(greatest(revenue - 3000000, 0) * 0.006 AS DECIMAL(18, 2)) AS commission
    FROM p
  )
  SELECT employee, salary, bonus, commission, salary + bonus + commission AS total FROM l
"""

HAND = """
import duckdb, sys
con = duckdb.connect()
source = ('read_parquet(?)' if sys.argv[1].endswith('.parquet')
          else 'read_csv(?, all_varchar = true)')
con.execute("COPY (" + PAY_QUERY_LITERAL.replace('SOURCE', source)
            + ") TO '/dev/stdout' (FORMAT csv)", [sys.argv[1]])
""".replace("PAY_QUERY_LITERAL", repr(PAY_QUERY))


# The same table kpidsl writes, written by hand with DuckDB: HAND's pay computation, the
# column widths from the first 1 000 rows, each line made by format() and written by COPY,
# then the payroll total from a second pass (no one DuckDB statement writes the lines and
# their sum). Its layout is kpidsl's byte for byte; its amounts are not exact (DuckDB
# divides DECIMALs in DOUBLE): 34 of the first 100 000 lines of the bench's facts are a
# kopeck off, which is why kpidsl does not write it this way.
HAND_TABLE = r"""
import duckdb, sys
con = duckdb.connect()
source = ('read_parquet(?)' if sys.argv[1].endswith('.parquet')
          else 'read_csv(?, all_varchar = true)')
body = PAY_QUERY_LITERAL.replace('SOURCE', source)
names = ['salary', 'bonus', 'commission', 'total']


def text(column):
    return "format('{:,.2f}', " + column + ")"


widths = con.execute('SELECT max(length(employee)), ' + ', '.join(
    'max(length(' + text(n) + '))' for n in names) + ' FROM (' + body + ' LIMIT 1000)',
    [sys.argv[1]]).fetchone()
header = ['Employee', 'Salary', 'Bonus', 'Commission', 'Total']
w = [max(widths[0], len(header[0]))] + [max(x, len(h)) + 3
                                        for x, h in zip(widths[1:], header[1:])]


def line(cells):
    return '  '.join(c.ljust(w[0]) if i == 0 else c.rjust(w[i])
                     for i, c in enumerate(cells)).rstrip()


rule = '  '.join('\u2500' * x for x in w)
out = sys.stdout
out.write('B2B sales manager \u00b7 b2b_manager \u00b7 version 2025.1 \u00b7 RUB\n\n'
          + line(header) + '\n' + rule + '\n')
out.flush()
pattern = '{:<%d}  ' % w[0] + '  '.join('{:>%d}' % x for x in w[1:])
con.execute("COPY (SELECT format('" + pattern + "', employee, "
            + ', '.join(text(n) for n in names) + ') FROM (' + body + ")) TO '/dev/stdout' "
            "(FORMAT csv, HEADER false, DELIMITER '\x01', QUOTE '', ESCAPE '')", [sys.argv[1]])
sums = con.execute('SELECT count(*), ' + ', '.join('sum(' + n + ')' for n in names)
                   + ' FROM (' + body + ')', [sys.argv[1]]).fetchone()
out.write(rule + '\n' + line(['Total (%d employees)' % sums[0]]
                             + ['{:,.2f}'.format(v) for v in sums[1:]]) + '\n')
""".replace("PAY_QUERY_LITERAL", repr(PAY_QUERY))

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

# The DuckDB engine in this process, each phase's CPU time (getrusage counts every thread).
PHASES = r"""
import functools, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
import kpidsl.sql.native as native
spent = {}
def timed(cls, name, label):
    method = getattr(cls, name)
    @functools.wraps(method)
    def run(*args, **kwargs):
        start = cpu()
        try:
            return method(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0) + cpu() - start
    setattr(cls, name, run)
timed(native.NativeFile, "open_csv", "header, line count")
timed(native.NativeFile, "survey", "survey (reading rules)")
timed(native.NativeRun, "__init__", "query generated")
timed(native.NativeRun, "table_tail", "query, lines from SQL, writing")
timed(native.NativeRun, "results", "query, rows through Python")
from kpidsl.cli import main
sys.argv = ["kpidsl", "eval", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
total = cpu()
spent["start-up, scheme, the rest"] = total - sum(spent.values())
for label, seconds in spent.items():
    print(f"{label}\t{seconds:.2f}")
print(f"total\t{total:.2f}")
"""


def parquet_file(csv: Path) -> Path:
    """The same facts as Parquet: money as DECIMAL(18, 2), calls as INTEGER."""
    import duckdb

    target = csv.with_suffix(".parquet")
    if target.exists():
        return target
    duckdb.connect().execute(
        f"COPY (SELECT employee, CAST(revenue AS DECIMAL(18, 2)) AS revenue, "
        f"CAST(avg_check AS DECIMAL(18, 2)) AS avg_check, conversion, "
        f"CAST(calls AS INTEGER) AS calls FROM read_csv('{csv}', all_varchar = true)) "
        f"TO '{target}' (FORMAT parquet)")
    return target


def facts(folder: Path, size: int) -> Path:
    """The facts file of `size` rows, generated once into `folder`."""
    path = folder / f"facts-{size}-2025.csv"
    return path if path.exists() else facts_file(folder, size)


def kpidsl(path: Path, engine: str, fmt: str, source: Path | None = None) -> list[str]:
    """The command; `source` runs the kpidsl package found there instead (--before)."""
    if source is None:
        return [sys.executable, "-m", "kpidsl", "eval", str(B2B), str(path), "--format", fmt,
                "--engine", engine]
    start = (f"import runpy, sys; sys.path.insert(0, {str(source)!r}); "
             "runpy.run_module('kpidsl', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", start, "eval", str(B2B), str(path), "--format", fmt,
            "--engine", engine]


def medians(command: list[str], rounds: int) -> tuple[float, float, int]:
    return interleaved({"": command}, rounds)[""]


def interleaved(commands: dict[str, list[str]], rounds: int
                ) -> dict[str, tuple[float, float, int]]:
    """(median wall s, median CPU s, peak RSS) of each command, the rounds taken in turn
    (round 1 of every command, then round 2, …): on a machine shared with other work the
    load drifts over minutes, and a command's rounds taken back to back all met the same
    load where its baseline met another."""
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            # each run's output to a file of its own, not /dev/null: DuckDB's COPY takes a
            # lock on the file it writes, and /dev/null is shared with every other process
            with tempfile.TemporaryDirectory(prefix="kpidsl-bench-out-") as out:
                runs[name].append(measure(command, Path(out) / "out"))
    return {name: (statistics.median(r[0] for r in found),
                   statistics.median(r[1] for r in found), max(r[2] for r in found))
            for name, found in runs.items()}


def crossover(folder: Path, rounds: int, fmt: str, sizes: list[int]) -> str:
    rows = []
    for size in sizes:
        path = facts(folder, size)
        times = {e: medians(kpidsl(path, e, fmt), rounds) for e in ("python", "duckdb")}
        rows.append((human(size), *(f"{times[e][1]:.2f}" for e in times),
                     *(f"{times[e][0]:.2f}" for e in times),
                     f"{times['python'][1] / times['duckdb'][1]:.2f}×"))
    return table(f"--engine python vs duckdb, b2b_manager, {fmt}, CSV in (medians of {rounds})",
                 ("rows", "python CPU s", "duckdb CPU s", "python wall s", "duckdb wall s",
                  "CPU ratio"), rows)


def phases(folder: Path, sizes: list[int], fmt: str, script: Path) -> str:
    import subprocess

    out = []
    for size in sizes:
        for path in (facts(folder, size), parquet_file(facts(folder, size))):
            done = subprocess.run([sys.executable, str(script), str(B2B), str(path),
                                   "--engine", "duckdb", "--format", fmt, "--output",
                                   "/dev/null"], capture_output=True, text=True, check=True,
                                  cwd=ROOT)
            for line in done.stdout.splitlines():
                label, seconds = line.split("\t")
                out.append((human(size), path.suffix[1:], label, seconds))
    return table(f"kpidsl eval --engine duckdb --format {fmt}: CPU s of each phase",
                 ("rows", "file", "phase", "CPU s"), out)


def query_only(folder: Path, sizes: list[int], rounds: int) -> str:
    """The generated query against the hand-written one over the same facts table in
    memory (DECIMAL(18, 6), one thread): the SQL's own share, without reading or writing."""
    import resource

    import duckdb

    from kpidsl.api import load
    from kpidsl.sql import queries

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    query = queries(load(B2B).checked, "duckdb", table="facts", budgets=False)[0]
    units = ", ".join(f'sum("{p}_units")' for p, _u in query.output.pays)
    generated = f"SELECT {units}, sum(total_units) FROM ({query.sql(pretty=False)})"
    body = PAY_QUERY.replace("SOURCE", "raw")
    hand = (f"SELECT sum(salary), sum(bonus), sum(commission), sum(total) FROM ({body}) AS h")
    out = []
    for size in sizes:
        con = duckdb.connect()
        con.execute("SET threads = 1")
        path = facts(folder, size)
        con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{path}', all_varchar = true)")
        con.execute("CREATE TABLE facts AS SELECT employee, NULL::VARCHAR AS team, "
                    "CAST(revenue AS DECIMAL(18, 6)) AS revenue, CAST(avg_check AS "
                    "DECIMAL(18, 6)) AS avg_check, CAST(CAST(replace(conversion, '%', '') AS "
                    "DECIMAL(18, 6)) * 0.01 AS DECIMAL(18, 6)) AS conversion, "
                    "CAST(calls AS DECIMAL(18, 6)) AS calls FROM raw")
        times: dict[str, list[float]] = {"generated": [], "hand-written": []}
        for _ in range(rounds):
            for name, sql in (("generated", generated), ("hand-written", hand)):
                start = cpu()
                con.execute(sql).fetchall()
                times[name].append(cpu() - start)
        gen, ref = (statistics.median(times[n]) for n in ("generated", "hand-written"))
        out.append((human(size), f"{gen:.2f}", f"{ref:.2f}", f"{gen / ref:.2f}×"))
        con.close()
    return table(f"the queries alone over facts in memory, one thread (CPU s, medians of "
                 f"{rounds})", ("rows", "generated", "hand-written", "ratio"), out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", "--sizes", dest="rows", default="1M")
    parser.add_argument("--python-rows", "--python-size", dest="python_rows", default="100k")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="table", choices=("table", "csv", "json", "jsonl"))
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "kpidsl-bench-sql")
    parser.add_argument("--clean", action="store_true", help="remove the facts files after")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--query", action="store_true",
                        help="the generated and the hand-written query alone, in memory")
    parser.add_argument("--only", default="", metavar="WORDS",
                        help="run only the candidates whose name holds one of these "
                             "comma-separated words (the Python engine always runs)")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR",
                        help="also run the DuckDB engine of the kpidsl package in DIR (an "
                             "earlier commit's `git archive COMMIT kpidsl grammars | "
                             "tar -x -C DIR`)")
    args = parser.parse_args()
    data = args.data
    data.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-sql-"))
    scripts = {name: folder / f"{name.lower()}.py"
               for name in ("HAND", "HAND_TABLE", "NATIVE", "PHASES")}
    for name, path in scripts.items():
        path.write_text(globals()[name], encoding="utf-8")
    try:
        if args.crossover:
            sizes = parse_sizes(args.rows) if args.rows != "1M" else [
                100, 1_000, 3_000, 10_000, 30_000, *([100_000] if args.format != "table" else [])]
            print(crossover(data, args.rounds, args.format, sizes))
            return
        if args.query:
            print(query_only(data, parse_sizes(args.rows), args.rounds))
            return
        if args.phases:
            print(phases(data, parse_sizes(args.rows), args.format, scripts["PHASES"]))
            return
        small = parse_sizes(args.python_rows)[0]
        python = kpidsl(facts(data, small), "python", args.format)
        out: list[tuple[str, ...]] = []
        base_wall = base_cpu = 0.0
        peaks: dict[str, dict[int, int]] = {}
        for size in parse_sizes(args.rows):
            path = facts(data, size)
            parquet = parquet_file(path)
            commands = {
                "duckdb engine, CSV": kpidsl(path, "duckdb", args.format),
                "duckdb engine, Parquet": kpidsl(parquet, "duckdb", args.format),
                **({"before: duckdb engine, CSV": kpidsl(path, "duckdb", args.format,
                                                         args.before),
                    "before: duckdb engine, Parquet": kpidsl(parquet, "duckdb", args.format,
                                                             args.before)}
                   if args.before else {}),
                "generated SQL only, CSV": [sys.executable, str(scripts["NATIVE"]), str(B2B),
                                            str(path)],
                "hand-written DuckDB, bare numbers, CSV": [sys.executable,
                                                           str(scripts["HAND"]), str(path)],
                "hand-written DuckDB, bare numbers, Parquet": [sys.executable,
                                                               str(scripts["HAND"]),
                                                               str(parquet)],
                "hand-written DuckDB, the table, CSV": [sys.executable,
                                                        str(scripts["HAND_TABLE"]), str(path)],
                "hand-written DuckDB, the table, Parquet": [sys.executable,
                                                            str(scripts["HAND_TABLE"]),
                                                            str(parquet)],
            }
            words = [w.strip() for w in args.only.split(",") if w.strip()]
            if words:  # the baselines of the ratio column stay
                commands = {n: c for n, c in commands.items()
                            if "the table" in n or any(w in n for w in words)}
            if not out:  # the baseline's rounds taken in turn with the first size's
                commands = {"python engine, CSV": python, **commands}
            found = interleaved(commands, args.rounds)
            if "python engine, CSV" in found:
                wall, cpu, rss = found.pop("python engine, CSV")
                base_wall, base_cpu = small / wall, small / cpu  # rows per second
                out.append((human(small), "python engine, CSV", f"{small / wall:,.0f}",
                            f"{wall:.2f}", f"{cpu:.2f}", f"{rss / 2**20:.0f} MB", "1.00×",
                            "1.00×", "—"))
            out.append((human(size), "python engine (extrapolated)", f"{base_wall:,.0f}",
                        f"{size / base_wall:.0f}", f"{size / base_cpu:.0f}", "—", "1.00×",
                        "1.00×", "—"))
            for name, (wall, cpu, rss) in found.items():
                peaks.setdefault(name, {})[size] = rss
                hand = found["hand-written DuckDB, the table, " + name.rsplit(", ", 1)[1]]
                out.append((human(size), name, f"{size / wall:,.0f}", f"{wall:.2f}",
                            f"{cpu:.2f}", f"{rss / 2**20:.0f} MB",
                            f"{size / wall / base_wall:.1f}×", f"{size / cpu / base_cpu:.1f}×",
                            f"{wall / hand[0]:.2f}× / {cpu / hand[1]:.2f}×"))
        notes = []
        for name, by_size in peaks.items():
            if len(by_size) > 1:
                low, high = min(by_size), max(by_size)
                notes.append(f"peak RSS of {name}: {human(high)} / {human(low)} rows = "
                             f"{by_size[high] / by_size[low]:.2f}×")
        print(table(f"kpidsl eval --format {args.format}, b2b_manager (medians of "
                    f"{args.rounds})", ("rows", "engine", "rows/s (wall)", "wall s", "CPU s",
                                        "peak RSS", "vs Python (wall)", "vs Python (CPU)",
                                        "vs hand-written table (wall / CPU)"), out, notes))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if args.clean:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
