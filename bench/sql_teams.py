"""Benchmark: `kpidsl eval --engine duckdb` against `--engine python` on the schemes whose
results depend on each other (farmer's budget per team, head_of_sales paid per team,
hunter's five grades sharing a team), for `--engine auto`'s choice on them.

    python bench/sql_teams.py [--rows 1k,10k,100k] [--rounds 3] [--format table]
                              [--schemes farmer,head_of_sales,hunter]

Each scheme's bundled facts file is repeated to the row count, each copy its own teams
(`Москва-7`) and ids, so teams keep their bundled sizes. Each command is a fresh process
(bench/end_to_end.py `measure`); the table gives the medians over the rounds of CPU time
(user + system, the process and its threads) and wall time of both engines, and their
ratio (Python ÷ DuckDB: above 1 DuckDB is faster) measured in the same run. The Python
reader reads the rows for both engines (DuckDB reads such files only through it).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
from pathlib import Path

from end_to_end import measure
from harness import ROOT, human, parse_sizes, table

SCHEMES = ("farmer", "head_of_sales", "hunter")


def facts(folder: Path, scheme: str, rows: int) -> Path:
    """The bundled facts of `scheme` repeated to `rows` rows, each copy its own teams."""
    path = folder / f"{scheme}-{rows}.csv"
    if path.exists():
        return path
    with (ROOT / "rulesets" / f"{scheme}.facts.csv").open(encoding="utf-8") as source:
        header, *body = list(csv.reader(source))
    at_id, at_team = header.index("employee"), header.index("team")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for i in range(rows):
            row = list(body[i % len(body)])
            copy = i // len(body)
            row[at_id] = f"{row[at_id]}{copy}"
            row[at_team] = f"{row[at_team]}-{copy}"
            writer.writerow(row)
    return path


def run(path: Path, scheme: str, engine: str, fmt: str, rounds: int) -> tuple[float, float]:
    """Medians of (wall s, CPU s)."""
    command = [sys.executable, "-m", "kpidsl", "eval", str(ROOT / "rulesets" / f"{scheme}.kpi"),
               str(path), "--engine", engine, "--format", fmt]
    runs = [measure(command) for _ in range(rounds)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1k,10k,100k")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="table")
    parser.add_argument("--schemes", default=",".join(SCHEMES))
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "kpidsl-bench-teams")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    out = []
    for scheme in args.schemes.split(","):
        for size in parse_sizes(args.rows):
            path = facts(args.data, scheme, size)
            times = {e: run(path, scheme, e, args.format, args.rounds)
                     for e in ("python", "duckdb")}
            out.append((scheme, human(size), *(f"{times[e][1]:.2f}" for e in times),
                        *(f"{times[e][0]:.2f}" for e in times),
                        f"{times['python'][1] / times['duckdb'][1]:.2f}×",
                        f"{times['python'][0] / times['duckdb'][0]:.2f}×"))
    print(table(f"--engine python vs duckdb, team schemes, {args.format}, CSV in "
                f"(medians of {args.rounds})",
                ("scheme", "rows", "python CPU s", "duckdb CPU s", "python wall s",
                 "duckdb wall s", "CPU ratio", "wall ratio"), out))


if __name__ == "__main__":
    main()
