"""Benchmark 2: start-up — `kpidsl check rulesets/b2b_manager.kpi` against
`python -c "import lark, click"` (the libraries it cannot do without).

    python bench/startup.py [--rounds 15] [--before DIR]

Each command runs as a fresh process, interleaved with the others; the child's CPU time
(user + system, from wait4: what neighbours on a shared machine inflate least) is given as
the median and the best of the rounds, the wall time as the best, and each command's median
CPU as a ratio to that of `import lark, click` in the same rounds (the goal: ≤ 1.5×). The
children run as an installed kpidsl runs: with Python's bytecode cache (kept in a temporary
directory, so even a PYTHONDONTWRITEBYTECODE environment measures that) and with Lark's
parser tables cached on disk (cache=True); warm-up runs fill both caches before timing. A
second table lists the slowest imports on the check path (python -X importtime) and
confirms that the check path imports neither Jinja nor openpyxl nor Babel. `--before DIR`
adds the same check run by another checkout of kpidsl (`git worktree add DIR COMMIT`), in
the same rounds: a before/after comparison under the same load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from harness import B2B, ROOT, ms, table

GOAL_RATIO = 1.5
BASELINE = "python -c 'import lark, click'"
HEAVY = ("jinja2", "openpyxl", "babel")


def child_environment() -> dict[str, str]:
    """This environment, with the bytecode cache on (in a temporary directory)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "kpidsl-bench-pycache")
    return env


def timed_run(command: Sequence[str], cwd: object = ROOT) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh process, run in `cwd` (`-m kpidsl` runs the
    kpidsl found there)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=child_environment())
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def import_profile(command: Sequence[str]) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) for every import of `command`."""
    run = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], cwd=ROOT,
                         capture_output=True, text=True, check=False, env=child_environment())
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((name.strip(), int(self_us), int(cumulative)))
    return rows


def run(rounds: int = 15, before: str | None = None) -> str:
    python = sys.executable
    check = [python, "-m", "kpidsl", "check", str(B2B.relative_to(ROOT))]
    commands = {
        "python -c pass": [python, "-c", "pass"],
        BASELINE: [python, "-c", "import lark, click"],
        "python -c 'import kpidsl'": [python, "-c", "import kpidsl"],
        "kpidsl check rulesets/b2b_manager.kpi": check,
    }
    places = dict.fromkeys(commands, str(ROOT))
    if before:
        name = f"kpidsl check rulesets/b2b_manager.kpi, before ({os.path.basename(before)})"
        commands[name], places[name] = check, before
    for name, command in commands.items():  # warm-up: bytecode, Lark's tables, OS caches
        timed_run(command, places[name])
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            wall, cpu = timed_run(command, places[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(cpus[BASELINE])
    rows = []
    for name in commands:
        cpu = statistics.median(cpus[name])
        goal = ""
        if name.startswith("kpidsl check"):
            goal = f"≤ {GOAL_RATIO}×: {'met' if cpu / base <= GOAL_RATIO else 'NOT met'}"
        rows.append((name, ms(min(walls[name])), ms(cpu), ms(min(cpus[name])),
                     f"{cpu / base:.2f}×", goal))
    first = table("2. Start-up: kpidsl check on the reference scheme",
                  ("command", "wall (best)", "CPU (median)", "CPU (best)",
                   "CPU vs import lark, click", "goal"), rows,
                  [f"Fresh processes, {rounds} interleaved rounds; the ratio is of medians."])

    imports = import_profile(check)
    names = {name for name, _, _ in imports}
    heavy = [h for h in HEAVY if h in names]
    top = sorted(imports, key=lambda row: -row[1])[:8]
    second = table("2b. Slowest imports on the check path (self time, python -X importtime)",
                   ("module", "self", "with its imports"),
                   [(name, f"{s / 1000:.1f} ms", f"{c / 1000:.1f} ms") for name, s, c in top],
                   [f"Modules imported by `kpidsl check`: {len(imports)}. Heavy libraries "
                    f"imported: {', '.join(heavy) if heavy else 'none'} (of Jinja, openpyxl, "
                    "Babel)."])
    return first + "\n" + second


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", metavar="DIR",
                        help="another checkout of kpidsl, its check timed in the same rounds")
    args = parser.parse_args(argv)
    print(run(args.rounds, args.before))


if __name__ == "__main__":
    main()
