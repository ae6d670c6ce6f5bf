"""All four benchmarks in one run, each table with ratios to a baseline measured in that run.

    python bench/run.py                  # the full run (several minutes: 1 M-row files)
    python bench/run.py --quick          # small sizes, a few seconds: checks that all runs
    python bench/run.py --only throughput,scaling
    python bench/run.py --update-readme  # also writes the tables into bench/README.md

See bench/README.md for what each table measures and how to read it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import end_to_end
import scaling
import startup
import throughput
import workbook

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
NAMES = ("throughput", "startup", "scaling", "end_to_end", "workbook")


def plans(quick: bool) -> dict[str, Callable[[], str]]:
    if quick:
        return {
            "throughput": lambda: throughput.run(managers=500, rounds=1),
            "startup": lambda: startup.run(rounds=1),
            "scaling": lambda: scaling.run([10, 20], rounds=1),
            "end_to_end": lambda: end_to_end.run([200, 400], rounds=1),
            "workbook": lambda: workbook.run(rows=200, rounds=1),
        }
    return {
        "throughput": lambda: throughput.run(managers=100_000, rounds=7),
        "startup": lambda: startup.run(rounds=15),
        "scaling": lambda: scaling.run([10, 100, 1000, 10_000], rounds=3),
        "end_to_end": lambda: end_to_end.run([10_000, 100_000, 1_000_000], rounds=3),
        "workbook": lambda: workbook.run(rows=50_000, rounds=3),
    }


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs, load average at start {load}; "
            f"{dt.date.today().isoformat()}.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default=",".join(NAMES),
                        help=f"comma-separated subset of {', '.join(NAMES)}")
    parser.add_argument("--update-readme", action="store_true",
                        help=f"write the tables between the result markers of {README.name}")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    header = machine()
    print(header + "\n", flush=True)
    parts = []
    for name, run in plans(args.quick).items():
        if name not in chosen:
            continue
        start = time.perf_counter()
        text = run()
        print(text, flush=True)
        print(f"({name}: {time.perf_counter() - start:.0f} s)\n", file=sys.stderr, flush=True)
        parts.append(text)
    if args.update_readme:
        if args.quick:
            parser.error("--update-readme records a full run, not --quick")
        write_readme(header, parts)


def write_readme(header: str, parts: list[str]) -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{README} has no {START} … {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    body = "\n".join([f"Measured by `python bench/run.py --update-readme`: {header}", "",
                      *parts])
    README.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    main()
