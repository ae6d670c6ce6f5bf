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


def commands(path: Path) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "hand-written streaming": [python, str(HERE / "stream.py"), "hand", str(path)],
        "kpidsl API streaming": [python, str(HERE / "stream.py"), "api", str(path)],
        "kpidsl eval --format csv": [python, "-m", "kpidsl", "eval", str(B2B), str(path),
                                     "--format", "csv"],
    }


def _totals(path: Path, column: str) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as file:
        return {row["employee"]: row[column] for row in csv.DictReader(file)}


def check_equal(path: Path, work: Path) -> None:
    outputs = {}
    for name, command in commands(path).items():
        out = work / f"{abs(hash(name))}.csv"
        measure(command, out)
        outputs[name] = _totals(out, "total")
    first = next(iter(outputs.values()))
    for name, totals in outputs.items():
        assert totals == first, f"{name} computes other totals than the hand-written script"


def run(sizes: list[int] | None = None, rounds: int = 1, keep: bool = False) -> str:
    """The table; the generated files are removed afterwards unless `keep`."""
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bench-facts-"))
    try:
        return _run(folder, sizes or [10_000, 100_000, 1_000_000], rounds, keep)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, sizes: list[int], rounds: int, keep: bool) -> str:
    files = {size: facts_file(folder, size) for size in sizes}
    work = folder / "outputs"
    work.mkdir()
    try:
        check_equal(files[min(sizes)], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for size in sizes:
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(rounds):
            for name, command in commands(files[size]).items():
                wall, cpu, rss = measure(command)
                old = best.get(name, (float("inf"), float("inf"), 1 << 62))
                best[name] = (min(old[0], wall), min(old[1], cpu), min(old[2], rss))
        base_cpu = best["hand-written streaming"][1]
        for name, (wall, cpu, rss) in best.items():
            rows.append((human(size), name, f"{size / wall:,.0f}".replace(",", " "),
                         f"{cpu:.2f} s", f"{cpu / base_cpu:.2f}×", f"{rss / 2**20:.0f} MB"))
    notes = [f"Best of {rounds} round(s) per size; wall time for rows/s, CPU time (user + "
             "system) for the ratio to the hand-written script; peak memory is the process's "
             "high-water resident size (VmHWM). Totals of all three checked equal on the "
             f"{human(min(sizes))}-row file first."]
    if keep:
        notes.append(f"Facts files kept in {folder}.")
    return table("4. End to end: CSV facts file → totals (rulesets/b2b_manager.kpi)",
                 ("rows", "program", "rows/s", "CPU", "CPU vs hand-written", "peak memory"),
                 rows, notes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the generated facts files")
    args = parser.parse_args(argv)
    print(run(parse_sizes(args.sizes), args.rounds, args.keep))


if __name__ == "__main__":
    main()
