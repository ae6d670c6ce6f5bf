"""What the survey pass costs: reading one facts CSV with and without it.

    python bench/facts_reading.py [ROWS]      # default 200 000 rows

A file whose cells settle their own reading (every percent signed, no '142,500') is read
in one pass; a bare number in a percent column, or a lone separator before three digits
with no --locale, makes the reader survey the file first (kpidsl/facts.py, "The survey" in
docs/facts.md). Each line is a ratio to the one-pass read of the same rows in this run;
the `csv` module alone (split into cells, nothing converted) is shown for scale.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

from harness import B2B, best_time, ms, ratio, table


def write(path: Path, rows: int, conversion: str, revenue: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("employee;revenue;avg_check;conversion;calls\n")
        for i in range(rows):
            out.write(f"e{i};{revenue.format(i=i % 1000)};142 500;"
                      f"{conversion.format(i=i % 90)};{950 + i % 50}\n")
    return path


def run(rows: int = 200_000, rounds: int = 2) -> str:
    import kpidsl
    from kpidsl.facts import read_facts

    specs = kpidsl.load(B2B).fact_specs
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-"))
    files = {
        "signed percents (one pass)": (write(folder / "a.csv", rows, "2,{i}%", "3 300 {i:03d}"),
                                       {}),
        "bare fractions, undeclared (survey)": (
            write(folder / "b.csv", rows, "0,0{i:02d}", "3 300 {i:03d}"), {}),
        "bare fractions, --percent fraction (one pass)": (
            write(folder / "b.csv", rows, "0,0{i:02d}", "3 300 {i:03d}"),
            {"percent": "fraction"}),
        "'142,500' cells, no --locale (survey)": (
            write(folder / "c.csv", rows, "2,{i}%", "{i},500"), {}),
        "'142,500' cells, --locale ru (one pass)": (
            write(folder / "c.csv", rows, "2,{i}%", "{i},500"), {"locale": "ru"}),
    }

    def read(path: Path, options: dict[str, str]) -> int:
        return sum(1 for _ in read_facts(path, specs, **options))  # type: ignore[arg-type]

    def split(path: Path) -> int:
        with path.open(encoding="utf-8", newline="") as stream:
            return sum(1 for _ in csv.reader(stream, delimiter=";"))

    times = {name: best_time(lambda p=path, o=options: read(p, o), rounds)
             for name, (path, options) in files.items()}
    times["csv module alone (cells only)"] = best_time(
        lambda: split(files["signed percents (one pass)"][0]), rounds)
    baseline = times["signed percents (one pass)"]
    return table(f"Reading {rows:_} facts rows (CPU time; ratio to the one-pass read)"
                 .replace("_", " "), ["file", "time", "ratio"],
                 [(name, ms(t), ratio(t, baseline)) for name, t in times.items()])


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
