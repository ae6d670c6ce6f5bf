"""The long fuzz run: N inputs through kpidsl.check, kpidsl.loads and evaluation; figures out.

    python tests/fuzz/run_fuzz.py --inputs 100000 --workers 2 --findings /tmp/kpidsl-fuzz

Inputs come from three sources (tests/fuzz/schemes.py): coherent schemes and grammar-random
schemes drawn by Hypothesis, and seeded mutations of the bundled rulesets. Every input goes
through the oracle (tests/fuzz/oracle.py); an input taking more than --timeout seconds counts
as a hang. Each finding is written to the findings directory with its problems, and the
summary (inputs per source, stages reached, exceptions, internal errors, hangs, slowest
input) is printed as the Markdown table docs/reliability.md quotes, and saved as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import platform
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SOURCES = ("coherent", "grammar", "mutation", "commands")
SHARE = {"coherent": 0.2, "grammar": 0.2, "mutation": 0.2, "commands": 0.4}
MEMORY_LIMIT_KB = 1024 * 1024  # a process over 1 GB is a finding
# A worker's high-water mark only grows: it holds what every earlier input left in the heap
# (seed 11: 1 076 MiB in a worker after 15 000 scheme and 264 command inputs, 33 MiB for that
# case alone). An input that raises the mark by this much is run again in a fresh process,
# and only that process's own peak can be a finding.
REMEASURE_GROWTH_KB = 32 * 1024


class Stop(BaseException):
    """Raised inside a worker when the run's --deadline has passed: report what was done."""


class Hang(BaseException):
    """Raised by the alarm inside a slow input (BaseException: kpidsl must not swallow it)."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hang()


def _work(job: tuple[str, int, int, float, str, float]) -> dict[str, Any]:
    """One worker: `count` inputs of one source, from `start` (its seed), until `deadline`."""
    source, start, count, timeout, findings, deadline = job
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from fuzz import schemes
    from fuzz.oracle import run_one

    # CPU time, not wall-clock: on a shared machine a niced worker waits for the CPU
    signal.signal(signal.SIGPROF, _alarm)
    stats: dict[str, Any] = {"source": source, "inputs": 0, "stages": Counter(),
                             "exceptions": 0, "internal": 0, "hangs": 0, "slowest": 0.0,
                             "slowest_input": "", "evaluations": 0, "findings": [],
                             "peak_kb": _peak_kb(), "case_peak_kb": 0, "remeasured": 0, "memory": 0}
    started = time.perf_counter()

    def one(text: str) -> None:
        if time.time() > deadline:
            raise Stop()
        signal.setitimer(signal.ITIMER_PROF, timeout)
        try:
            outcome = run_one(text)
        except Hang:
            outcome = None
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        stats["inputs"] += 1
        if outcome is not None:
            outcome.problems.extend(_check_memory(source, text, stats))
        if outcome is None or any("Hang" in p for p in outcome.problems):
            stats["hangs"] += 1
            _save(findings, source, text, ["hang: more than the timeout"], stats)
            return
        stats["stages"][outcome.stage] += 1
        stats["evaluations"] += outcome.evaluations
        if outcome.seconds > stats["slowest"]:
            stats["slowest"], stats["slowest_input"] = outcome.seconds, text[:200]
        if outcome.problems:
            crashed = any(" raised " in p or p.startswith("oracle:") for p in outcome.problems)
            stats["exceptions" if crashed else "internal"] += 1
            _save(findings, source, text, outcome.problems, stats)
        if stats["inputs"] % 2000 == 0:
            rate = stats["inputs"] / (time.perf_counter() - started)
            print(f"  {source}@{start}: {stats['inputs']}/{count} ({rate:.0f}/s)",
                  file=sys.stderr, flush=True)

    if source == "commands":
        _commands(start, count, timeout, findings, stats, deadline)
    elif source == "mutation":
        for index in range(start, start + count):
            try:
                one(schemes.mutated_schemes(index))
            except Stop:
                break
    else:
        strategy = schemes.coherent_schemes() if source == "coherent" else \
            schemes.grammar_schemes()

        # Hypothesis may stop short of max_examples; top up with rounds of fresh seeds.
        round_seed = start
        while stats["inputs"] < count:
            before = stats["inputs"]

            @seed(round_seed)
            @settings(max_examples=count - before, database=None, deadline=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(strategy)
            def prop(text: str) -> None:
                one(text)

            try:
                prop()
            except Stop:
                break
            except Exception as exc:  # Hypothesis may wrap the Stop raised inside the test
                if "Stop" in repr(exc) or time.time() > deadline:
                    break
                raise
            round_seed += 1_000_003
            if stats["inputs"] == before:
                break
    stats["seconds"] = time.perf_counter() - started
    stats["stages"] = dict(stats["stages"])
    return stats


def _peak_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _fresh_peak_kb(source: str, case: int | str) -> int:
    """The peak RSS of one input run alone in a new interpreter (what a user's run costs):
    a command case by its seed, a scheme by its text (through the oracle, evaluations too)."""
    import subprocess
    import tempfile

    run = ("from fuzz.commands import run_case\n"
           "run_case(int(sys.argv[1]), pathlib.Path(sys.argv[2]))\n") if source == "commands" \
        else ("from fuzz.oracle import run_one\n"
              "run_one(sys.stdin.read())\n")
    program = ("import resource, sys, pathlib\n"
               f"sys.path.insert(0, {str(HERE.parent)!r})\n" + run +
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    with tempfile.TemporaryDirectory(prefix="kpidsl-fuzz-mem-") as folder:
        done = subprocess.run([sys.executable, "-c", program, str(case), folder],
                              input="" if source == "commands" else str(case),
                              capture_output=True, text=True, timeout=600, check=False)
    lines = done.stdout.strip().splitlines()
    return int(lines[-1]) if lines and lines[-1].isdigit() else 0


def _check_memory(source: str, case: int | str, stats: dict[str, Any]) -> list[str]:
    """After each input: when the worker's mark rose enough, the input's own peak, alone."""
    peak = _peak_kb()
    problems = []
    if peak - stats["peak_kb"] > REMEASURE_GROWTH_KB or \
            (peak > MEMORY_LIMIT_KB >= stats["peak_kb"]):
        alone = _fresh_peak_kb(source, case)
        stats["remeasured"] += 1
        stats["case_peak_kb"] = max(stats["case_peak_kb"], alone)
        if alone > MEMORY_LIMIT_KB:
            problems.append(f"memory: the input alone reached {alone // 1024} MiB")
            stats["memory"] += 1
    stats["peak_kb"] = max(stats["peak_kb"], peak)
    return problems


def _commands(start: int, count: int, timeout: float, findings: str,
              stats: dict[str, Any], deadline: float) -> None:
    """Facts files (CSV, JSON, JSONL, XLSX) and schemes through every command and format."""
    import shutil
    import tempfile

    from fuzz.commands import run_case

    formats: dict[str, Counter[str]] = {}
    commands: Counter[str] = Counter()
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="kpidsl-fuzz-"))
    try:
        for seed in range(start, start + count):
            if time.time() > deadline:
                break
            folder = base / str(seed)
            folder.mkdir()
            signal.setitimer(signal.ITIMER_PROF, timeout)
            try:
                outcome = run_case(seed, folder)
                problems = outcome.problems
            except Hang:
                outcome, problems = None, ["hang: more than the timeout"]
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
            stats["inputs"] += 1
            problems = [*problems, *_check_memory("commands", seed, stats)]
            label = f"seed {seed}: " + (" ".join(outcome.args) if outcome else "")
            if problems:  # the case's files, to rerun by hand: tests/fuzz/commands.py run_case
                keep = Path(findings) / f"commands-{seed}"
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(folder, keep, dirs_exist_ok=True)
                (keep / "problems.txt").write_text(label + "\n\n" + "\n\n".join(problems),
                                                   encoding="utf-8", errors="replace")
            shutil.rmtree(folder, ignore_errors=True)
            if outcome is None:
                stats["hangs"] += 1
                _save(findings, "commands", label, problems, stats)
                continue
            key = outcome.facts_format
            formats.setdefault(key, Counter())[outcome.stage] += 1
            commands[outcome.command] += 1
            stats["stages"][outcome.stage] += 1
            if outcome.seconds > stats["slowest"]:
                stats["slowest"], stats["slowest_input"] = outcome.seconds, label[:300]
            if problems:
                crashed = any(p.startswith("raised ") or "traceback" in p for p in problems)
                stats["exceptions" if crashed else "internal"] += 1
                formats[key]["findings"] += 1
                _save(findings, "commands", label, problems, stats)
            if stats["inputs"] % 500 == 0:
                rate = stats["inputs"] / (time.perf_counter() - started)
                print(f"  commands@{start}: {stats['inputs']}/{count} ({rate:.1f}/s, "
                      f"peak {stats['peak_kb'] // 1024} MiB)", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    stats["formats"] = {k: dict(v) for k, v in formats.items()}
    stats["commands"] = dict(commands)


def _save(findings: str, source: str, text: str, problems: list[str],
          stats: dict[str, Any]) -> None:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    folder = Path(findings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{source}-{digest}.kpi").write_text(text, encoding="utf-8", errors="replace")
    (folder / f"{source}-{digest}.txt").write_text("\n\n".join(problems), encoding="utf-8")
    if len(stats["findings"]) < 50:
        stats["findings"].append({"file": f"{source}-{digest}.kpi", "problem": problems[0][:300]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="CPU seconds per input (more is a hang)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--findings", default="fuzz-findings")
    parser.add_argument("--json", default="", help="write the summary here too")
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="stop taking new inputs after this long and report what was run")
    parser.add_argument("--sources", default=",".join(SOURCES),
                        help="comma-separated sources; their shares are scaled to --inputs")
    args = parser.parse_args(argv)
    chosen = [s for s in args.sources.split(",") if s]
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown:
        parser.error(f"unknown source {unknown[0]!r}; sources: {', '.join(SOURCES)}")
    weight = sum(SHARE[s] for s in chosen)
    deadline = time.time() + args.minutes * 60 if args.minutes else float("inf")
    jobs = []
    for source in chosen:
        total = round(args.inputs * SHARE[source] / weight)
        parts = max(1, args.workers)
        for part in range(parts):
            count = total // parts + (1 if part < total % parts else 0)
            # seeds of different runs and workers never overlap (mutation seeds are ranges)
            jobs.append((source, args.seed * 1_000_000_000 + part * 10_000_000, count,
                         args.timeout, args.findings, deadline))
    started = time.perf_counter()
    # a fresh worker per job: one source's heap never counts against the next one's inputs
    with multiprocessing.get_context("fork").Pool(args.workers, maxtasksperchild=1) as pool:
        results = pool.map(_work, jobs, chunksize=1)
    summary = _summary(results, time.perf_counter() - started, args)
    print(_markdown(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False),
                                   encoding="utf-8")
    bad = summary["totals"]["exceptions"] + summary["totals"]["internal"] + \
        summary["totals"]["hangs"]
    return 1 if bad else 0


def _summary(results: list[dict[str, Any]], seconds: float,
             args: argparse.Namespace) -> dict[str, Any]:
    by_source: dict[str, dict[str, Any]] = {}
    for r in results:
        s = by_source.setdefault(r["source"], {"inputs": 0, "stages": Counter(), "exceptions": 0,
                                               "internal": 0, "hangs": 0, "slowest": 0.0,
                                               "evaluations": 0, "findings": []})
        for key in ("inputs", "exceptions", "internal", "hangs", "evaluations"):
            s[key] += r[key]
        s["stages"].update(r["stages"])
        if r["slowest"] > s["slowest"]:
            s["slowest"], s["slowest_input"] = r["slowest"], r["slowest_input"]
        s["findings"] += r["findings"]
        for key in ("peak_kb", "case_peak_kb"):
            s[key] = max(s.get(key, 0), r.get(key, 0))
        s["remeasured"] = s.get("remeasured", 0) + r.get("remeasured", 0)
        s["memory"] = s.get("memory", 0) + r.get("memory", 0)
        for key in ("formats", "commands"):
            merged = s.setdefault(key, {})
            for name, value in r.get(key, {}).items():
                if isinstance(value, dict):
                    inner = merged.setdefault(name, {})
                    for k, v in value.items():
                        inner[k] = inner.get(k, 0) + v
                else:
                    merged[name] = merged.get(name, 0) + value
    totals = {key: sum(s[key] for s in by_source.values())
              for key in ("inputs", "exceptions", "internal", "hangs", "evaluations")}
    totals["slowest"] = max(s["slowest"] for s in by_source.values())
    for s in by_source.values():
        s["stages"] = dict(s["stages"])
    import kpidsl

    return {"kpidsl": kpidsl.__version__, "python": platform.python_version(),
            "workers": args.workers, "seed": args.seed, "timeout": args.timeout,
            "seconds": round(seconds, 1), "sources": by_source, "totals": totals}


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def _markdown(summary: dict[str, Any]) -> str:
    lines = ["| source | inputs | syntax error | check error | compiled | evaluated "
             "| evaluations | exceptions | internal errors | hangs | slowest input (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    everything: Counter[str] = Counter()
    schemes = {k: v for k, v in summary["sources"].items() if k != "commands"}
    for source in schemes.values():
        everything.update(source["stages"])
    totals = {key: sum(s[key] for s in schemes.values())
              for key in ("inputs", "exceptions", "internal", "hangs", "evaluations")}
    totals["slowest"] = max((s["slowest"] for s in schemes.values()), default=0.0)
    rows = [*schemes.items(), ("total", {**totals, "stages": everything})] if schemes else []
    for name, s in rows:
        stages = s["stages"]
        lines.append(
            f"| {name} | {_n(s['inputs'])} | {_n(stages.get('syntax', 0))} | "
            f"{_n(stages.get('checked', 0))} | {_n(stages.get('compiled', 0))} | "
            f"{_n(stages.get('evaluated', 0))} | {_n(s['evaluations'])} | {s['exceptions']} | "
            f"{s['internal']} | {s['hangs']} | {s['slowest']:.2f} |")
    commands = summary["sources"].get("commands")
    if commands:
        lines.append(f"\nCommands: {_n(commands['inputs'])} inputs, tracebacks "
                     f"{commands['exceptions']}, other findings {commands['internal']}, hangs "
                     f"{commands['hangs']}, slowest {commands['slowest']:.2f} s.")
        lines += ["", "| facts | inputs | exit 0 | exit 1 | exit 2 | findings |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, c in sorted(commands["formats"].items()):
            total = sum(v for k, v in c.items() if k.startswith("exit"))
            lines.append(f"| {name} | {_n(total)} | {_n(c.get('exit 0', 0))} | "
                         f"{_n(c.get('exit 1', 0))} | {_n(c.get('exit 2', 0))} | "
                         f"{c.get('findings', 0)} |")
        lines += ["", "| command and output | inputs |", "|---|---:|"]
        lines += [f"| {name} | {_n(n)} |" for name, n in sorted(commands["commands"].items())]
    every = summary["sources"].values()
    lines.append(
        f"\nPeak RSS of any worker: {max(s['peak_kb'] for s in every) / 1024:.0f} MiB (a worker's "
        f"heap holds what every earlier input left); inputs that raised it and were run again "
        f"alone: {sum(s['remeasured'] for s in every)}, the largest alone "
        f"{max(s['case_peak_kb'] for s in every) / 1024:.0f} MiB; inputs over 1 GB: "
        f"{sum(s['memory'] for s in every)}.")
    lines.append(f"\n{_n(summary['totals']['inputs'])} inputs in {summary['seconds']:.0f} s on "
                 f"{summary['workers']} workers (Python {summary['python']}, kpidsl "
                 f"{summary['kpidsl']}, seed {summary['seed']}).")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
