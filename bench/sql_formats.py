"""Benchmark: `kpidsl eval --engine duckdb` writing JSON, JSON Lines and the CSVs (plain and
for a spreadsheet, `--lang ru`) from the query, against the Python engine, in one run.

    nice -n 10 python bench/sql_formats.py [--rows 1M] [--python-rows 100k] [--rounds 1]
        [--formats jsonl,json,csv-ru,csv] [--before DIR]

Each command is a fresh process writing to a file of its own (bench/sql.py, `medians`); the
table gives wall and CPU time (user + system of the process and its threads), rows per
second and peak memory, and the ratios to the Python engine measured in the same run. The
Python engine streams at a rate flat in the row count, so it is measured at `--python-rows`
and its rate is the baseline at every size (say `--python-rows 1M` to run it there too).
`--before DIR` also runs the DuckDB engine of the kpidsl package in DIR (`git archive
COMMIT kpidsl grammars | tar -x -C DIR`): there these formats are the Python writer's
after the query. The facts are bench/end_to_end.py's managers around plan (b2b_manager,
the reference scheme), kept in `--data` for the next run. The outputs are not compared here
(tests/test_sql_formats.py holds the engines to each other byte for byte).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness import B2B, human, parse_sizes, table
from sql import facts, medians

FORMATS = {
    "jsonl": ["--format", "jsonl"],
    "json": ["--format", "json"],
    "csv-ru": ["--format", "csv", "--lang", "ru"],
    "csv": ["--format", "csv"],
}


def command(path: Path, engine: str, options: list[str], source: Path | None = None
            ) -> list[str]:
    tail = ["eval", str(B2B), str(path), *options, "--engine", engine]
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
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    small = parse_sizes(args.python_rows)[0]
    rows = []
    for name in args.formats.split(","):
        options = FORMATS[name]
        wall, cpu, rss = medians(command(facts(args.data, small), "python", options),
                                 args.rounds)
        base_wall, base_cpu = small / wall, small / cpu
        rows.append((name, human(small), "python engine", f"{small / wall:,.0f}",
                     f"{small / cpu:,.0f}", f"{wall:.1f}", f"{cpu:.1f}",
                     f"{rss / 2**20:.0f} MB", "1.00×", "1.00×"))
        for size in parse_sizes(args.rows):
            path = facts(args.data, size)
            runs = {"duckdb engine": command(path, "duckdb", options)}
            if args.before is not None:
                runs["before: duckdb engine"] = command(path, "duckdb", options, args.before)
            for label, cmd in runs.items():
                wall, cpu, rss = medians(cmd, args.rounds)
                rows.append((name, human(size), label, f"{size / wall:,.0f}",
                             f"{size / cpu:,.0f}", f"{wall:.1f}", f"{cpu:.1f}",
                             f"{rss / 2**20:.0f} MB", f"{size / wall / base_wall:.2f}×",
                             f"{size / cpu / base_cpu:.2f}×"))
    print(table(f"kpidsl eval, b2b_manager, CSV in (medians of {args.rounds})",
                ("format", "rows", "engine", "rows/s (wall)", "rows/s (CPU)", "wall s",
                 "CPU s", "peak RSS", "vs Python (wall)", "vs Python (CPU)"), rows))


if __name__ == "__main__":
    main()
