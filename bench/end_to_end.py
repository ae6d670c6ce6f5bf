"""Benchmark 4: end to end — `kpidsl eval` over 10 k, 100 k and 1 M-row CSV files.

    python bench/end_to_end.py [--sizes 10k,100k,1M] [--rounds 1] [--keep]

Facts files are generated into a fresh temporary directory (never the repository), removed
at the end unless --keep. Every command runs as a fresh process writing CSV to /dev/null; the table
shows rows per second (wall), CPU time and peak memory (max RSS, from wait4), each the best
of N rounds, beside a hand-written streaming script in the same run (bench/stream.py
hand: csv module, Decimal, the hand-written scheme) and kpidsl's Python API streaming
(read_facts + evaluate_many). Memory that stays flat from 10 k to 1 M rows means the rows
are streamed, not held. Before timing, the totals of all three are checked equal on the
smallest file.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from harness import B2B, ROOT, human, parse_sizes, table

HERE = Path(__file__).resolve().parent


def facts_file(folder: Path, rows: int, seed: int = 2025) -> Path:
    """A plain CSV of `rows` managers around plan."""
    path = folder / f"facts-{rows}-{seed}.csv"
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as file:
        write = csv.writer(file, lineterminator="\n").writerow
        write(("employee", "revenue", "avg_check", "conversion", "calls"))
        for i in range(rows):
            write((f"m{i}", f"{rng.randrange(180_000_000, 420_000_001) / 100:.2f}",
                   f"{rng.randrange(9_000_000, 21_000_001) / 100:.2f}",
                   f"{rng.randrange(120, 281) / 100:.2f}%", str(rng.randrange(600, 1401))))
    return path


def measure(command: Sequence[str], output: Path | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS bytes) of one fresh process."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # run as installed: with the bytecode cache
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "kpidsl-bench-pycache")
    sink = output.open("wb") if output else open(os.devnull, "wb")  # noqa: SIM115
    with sink, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=errors, env=env)
        peak = 0
        while True:  # the child's own high-water mark, read until it exits
            peak = max(peak, _high_water(process.pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited {code}: "
                               f"{errors.read().decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak or usage.ru_maxrss * 1024


def _high_water(pid: int) -> int:
    """VmHWM of a running process in bytes (0 when unknown).

    wait4's ru_maxrss would do, but Linux counts in it the parent's memory image the child
    was forked from, which here is the benchmark itself.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


FORMATS = ("csv", "jsonl", "json")  # each against its hand-written baseline
GOAL = 2.0  # kpidsl eval ≤ 2× the CPU time of the hand-written script writing the same output


def commands(path: Path, formats: Sequence[str] = FORMATS, before: Path | None = None,
             totals: bool = True) -> dict[str, list[str]]:
    """Each program of the run by name. `before`: a copy of kpidsl's code before a change
    (its folder holds the `kpidsl` package), run beside the current one; `totals`: the
    totals-only scripts too (the hand-written one and the API)."""
    python = sys.executable
    found = {
        "hand-written streaming": [python, str(HERE / "stream.py"), "hand", str(path)],
        "kpidsl API streaming": [python, str(HERE / "stream.py"), "api", str(path)],
    } if totals else {}
    for fmt in formats:
        if fmt != "table":
            found[f"hand-written {fmt}"] = [python, str(HERE / "stream.py"), f"hand-{fmt}",
                                            str(path)]
        if fmt == "csv":  # the floor: the hand-written script as tight as CPython goes
            found[f"tightest loop {fmt}"] = [python, str(HERE / "stream.py"), f"tightest-{fmt}",
                                             str(path)]
        found[f"kpidsl eval --format {fmt}"] = [python, "-m", "kpidsl", "eval", str(B2B),
                                                str(path), "--format", fmt, "--engine", "python"]
        if before is not None:  # the same command on the code before (PYTHONPATH: its copy)
            found[f"before: kpidsl eval --format {fmt}"] = [
                "env", f"PYTHONPATH={before}", python, "-P",
                *found[f"kpidsl eval --format {fmt}"][1:]]
    return found


def _totals(path: Path, column: str) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as file:
        return {row["employee"]: row[column] for row in csv.DictReader(file)}


def check_equal(path: Path, work: Path, formats: Sequence[str], before: Path | None = None,
                totals: bool = True) -> None:
    """The API's totals are the hand-written script's; each format kpidsl writes (and the
    code before, when given) is the hand-written script's output byte for byte."""
    outputs = {}
    for name, command in commands(path, formats, before, totals).items():
        out = work / f"{abs(hash(name))}.out"
        measure(command, out)
        outputs[name] = out
    if totals:
        assert _totals(outputs["kpidsl API streaming"], "total") == \
            _totals(outputs["hand-written streaming"], "total"), "the API computes other totals"
    for fmt in formats:
        if fmt != "table":
            for name in (f"kpidsl eval --format {fmt}", f"before: kpidsl eval --format {fmt}"):
                if name in outputs:
                    assert outputs[name].read_bytes() == \
                        outputs[f"hand-written {fmt}"].read_bytes(), \
                        f"{name} writes other bytes than the hand-written script"
        if f"tightest loop {fmt}" in outputs:
            assert outputs[f"tightest loop {fmt}"].read_bytes() == \
                outputs[f"hand-written {fmt}"].read_bytes(), \
                f"the tightest {fmt} loop writes other bytes than the hand-written script"


def run(sizes: list[int] | None = None, rounds: int = 3, keep: bool = False,
        formats: Sequence[str] = FORMATS, before: Path | None = None,
        totals: bool = True) -> str:
    """The table; the generated files are removed afterwards unless `keep`."""
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-facts-"))
    try:
        return _run(folder, sizes or [10_000, 100_000, 1_000_000], rounds, keep, formats,
                    before, totals)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, sizes: list[int], rounds: int, keep: bool,
         formats: Sequence[str], before: Path | None = None, totals: bool = True) -> str:
    files = {size: facts_file(folder, size) for size in sizes}
    work = folder / "outputs"
    work.mkdir()
    try:
        check_equal(files[min(sizes)], work, formats, before, totals)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for size in sizes:
        runs: dict[str, list[tuple[float, float, int]]] = {}
        for _ in range(rounds):  # interleaved: A, B, C, A, B, C ...
            for name, command in commands(files[size], formats, before, totals).items():
                runs.setdefault(name, []).append(measure(command))
        cpu = {name: statistics.median(r[1] for r in found) for name, found in runs.items()}
        for name, found in runs.items():
            wall = statistics.median(r[0] for r in found)
            rss = max(r[2] for r in found)
            base = "hand-written streaming" if name.startswith(("hand-written streaming",
                                                                "kpidsl API")) else \
                "hand-written " + name.rsplit(" ", 1)[-1]
            ratio = f"{cpu[name] / cpu[base]:.2f}×" if base in cpu else ""
            tightest = "tightest loop " + name.rsplit(" ", 1)[-1]
            if tightest in cpu and name != tightest and not name.startswith("hand"):
                ratio += f" ({cpu[name] / cpu[tightest]:.2f}× the tightest loop)"
            goal = ""
            if name.startswith(("kpidsl eval", "before:")) and base in cpu:
                goal = f"≤ {GOAL}×: {'met' if cpu[name] / cpu[base] <= GOAL else 'NOT met'}"
            each = " ".join(f"{r[1]:.2f}" for r in found)
            rows.append((human(size), name, f"{size / wall:,.0f}".replace(",", " "),
                         f"{cpu[name]:.2f} s", ratio, f"{rss / 2**20:.0f} MB", goal, each))
    notes = [f"Medians of {rounds} interleaved round(s) per size: CPU time (user + system) of "
             "each fresh process, and its ratio to the hand-written script writing the same "
             "output (the API streaming and the totals-only script: to the hand-written "
             "totals); rows/s from the median wall time; peak memory is the largest "
             "high-water resident size (VmHWM) of the rounds. Before timing, each format "
             f"kpidsl writes was checked byte-identical to its hand-written script's on the "
             f"{human(min(sizes))}-row file."]
    if keep:
        notes.append(f"Facts files kept in {folder}.")
    return table("4. End to end: CSV facts file → kpidsl eval (rulesets/b2b_manager.kpi)",
                 ("rows", "program", "rows/s", "CPU", "CPU vs hand-written", "peak memory",
                  "goal", "CPU of each round"), rows, notes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help="of csv, jsonl, json and table (kpidsl only: no baseline)")
    parser.add_argument("--keep", action="store_true", help="keep the generated facts files")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR",
                        help="a copy of kpidsl before a change (DIR/kpidsl), timed beside it")
    parser.add_argument("--no-totals", action="store_true",
                        help="leave out the totals-only scripts (hand-written and API)")
    args = parser.parse_args(argv)
    print(run(parse_sizes(args.sizes), args.rounds, args.keep,
              [f.strip() for f in args.formats.split(",") if f.strip()], args.before,
              not args.no_totals))


if __name__ == "__main__":
    main()
