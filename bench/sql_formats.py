"""Benchmark: `kpidsl eval --engine duckdb` writing JSON, JSON Lines and the CSVs (plain and
for a spreadsheet, `--lang ru`) from the query, against the Python engine, in one run.

    nice -n 10 python bench/sql_formats.py [--rows 1M] [--python-rows 100k] [--rounds 1]
        [--formats jsonl,json,csv-ru,csv] [--before DIR] [--scheme b2b_manager_raw]

Each command is a fresh process writing to a file of its own (bench/sql.py, `medians`); the
table gives wall and CPU time (user + system of the process and its threads), rows per
second and peak memory, and the ratios to the Python engine measured in the same run. The
Python engine streams at a rate flat in the row count, so it is measured at `--python-rows`
and its rate is the baseline at every size (say `--python-rows 1M` to run it there too).
`--before DIR` also runs the DuckDB engine of the kpidsl package in DIR (`git archive
COMMIT kpidsl grammars | tar -x -C DIR`): there these formats are the Python writer's
after the query. The facts are bench/end_to_end.py's managers around plan (b2b_manager,
the reference scheme), kept in `--data` for the next run; `--scheme b2b_manager_raw` runs
the scheme from raw counts instead (its average check revenue ÷ deals and conversion
meetings ÷ calls are formula KPIs), over managers around plan drawn the same way. The
outputs are not compared here (tests/test_sql_formats.py holds the engines to each other
byte for byte).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from pathlib import Path

from harness import B2B, RULESETS, human, parse_sizes, table
from sql import facts, medians

FORMATS = {
    "jsonl": ["--format", "jsonl"],
    "json": ["--format", "json"],
    "csv-ru": ["--format", "csv", "--lang", "ru"],
    "csv": ["--format", "csv"],
}


def raw_facts(folder: Path, size: int, seed: int = 2025) -> Path:
    """b2b_manager_raw's facts: `size` managers around plan (revenue, deals, meetings,
    calls), generated once into `folder`."""
    path = folder / f"raw-facts-{size}-{seed}.csv"
    if path.exists():
        return path
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as file:
        write = csv.writer(file, lineterminator="\n").writerow
        write(("employee", "revenue", "deals", "meetings", "calls"))
        for i in range(size):
            write((f"m{i}", f"{rng.randrange(180_000_000, 420_000_001) / 100:.2f}",
                   str(rng.randrange(12, 31)), str(rng.randrange(12, 29)),
                   str(rng.randrange(600, 1401))))
    return path


def command(path: Path, engine: str, options: list[str], source: Path | None = None,
            scheme: Path = B2B) -> list[str]:
    tail = ["eval", str(scheme), str(path), *options, "--engine", engine]
    if source is None:
        return [sys.executable, "-m", "kpidsl", *tail]
    start = (f"import runpy, sys; sys.path.insert(0, {str(source)!r}); "
             "runpy.run_module('kpidsl', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", start, *tail]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="1M")
    parser.add_argument("--python-rows", default="100k")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "kpidsl-bench-sql")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR")
    parser.add_argument("--scheme", choices=("b2b_manager", "b2b_manager_raw"),
                        default="b2b_manager")
    args = parser.parse_args()
    scheme = RULESETS / f"{args.scheme}.kpi"
    make = facts if args.scheme == "b2b_manager" else raw_facts
    args.data.mkdir(parents=True, exist_ok=True)
    small = parse_sizes(args.python_rows)[0]
    rows = []
    for name in args.formats.split(","):
        options = FORMATS[name]
        wall, cpu, rss = medians(command(make(args.data, small), "python", options,
                                         scheme=scheme), args.rounds)
        base_wall, base_cpu = small / wall, small / cpu
        rows.append((name, human(small), "python engine", f"{small / wall:,.0f}",
                     f"{small / cpu:,.0f}", f"{wall:.1f}", f"{cpu:.1f}",
                     f"{rss / 2**20:.0f} MB", "1.00×", "1.00×"))
        for size in parse_sizes(args.rows):
            path = make(args.data, size)
            runs = {"duckdb engine": command(path, "duckdb", options, scheme=scheme)}
            if args.before is not None:
                runs["before: duckdb engine"] = command(path, "duckdb", options, args.before,
                                                        scheme)
            for label, cmd in runs.items():
                wall, cpu, rss = medians(cmd, args.rounds)
                rows.append((name, human(size), label, f"{size / wall:,.0f}",
                             f"{size / cpu:,.0f}", f"{wall:.1f}", f"{cpu:.1f}",
                             f"{rss / 2**20:.0f} MB", f"{size / wall / base_wall:.2f}×",
                             f"{size / cpu / base_cpu:.2f}×"))
    print(table(f"kpidsl eval, {args.scheme}, CSV in (medians of {args.rounds})",
                ("format", "rows", "engine", "rows/s (wall)", "rows/s (CPU)", "wall s",
                 "CPU s", "peak RSS", "vs Python (wall)", "vs Python (CPU)"), rows))


if __name__ == "__main__":
    main()
