"""Shared pieces of the benchmarks: timing (best of N, interleaved), tables, random managers.

Absolute times on a shared two-core machine drift by tens of percent from one minute to the
next, so every benchmark measures its baseline in the same run, interleaves the candidates
(round 1: A, B, C; round 2: A, B, C ...) and reports the best of N rounds and the ratio to
the baseline. A ratio is what the README quotes; the times only show the scale.

In-process loops are timed in CPU time of this process (user + system, so garbage collection
and page faults count) rather than wall time: when other programs share the two cores, wall
time measures the neighbours, CPU time still measures the code.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULESETS = ROOT / "rulesets"
B2B = RULESETS / "b2b_manager.kpi"

if str(ROOT) not in sys.path:  # run from a checkout without installing: `python bench/run.py`
    sys.path.insert(0, str(ROOT))


def interleaved_best(candidates: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best wall time of each candidate over `rounds` interleaved rounds.

    Each run's return value is kept until its clock has stopped (so freeing a million
    results is not billed to the next candidate) and dropped before the next run starts,
    after a full collection, so no run pays for an earlier run's garbage.
    """
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, run in candidates.items():
            gc.collect()
            start = time.process_time()
            kept = run()
            elapsed = time.process_time() - start
            del kept
            best[name] = min(best[name], elapsed)
    return best


def best_time(run: Callable[[], object], rounds: int) -> float:
    return interleaved_best({"run": run}, rounds)["run"]


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]],
          notes: Sequence[str] = ()) -> str:
    """A Markdown table (readable as plain text too), with its title and notes."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [f"### {title}", "", line(header),
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in body]
    if notes:
        out.append("")
        out += list(notes)
    return "\n".join(out) + "\n"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}×" if baseline > 0 else "n/a"


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}".replace(",", " ") if seconds > 0 else "n/a"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs"


# ---------------------------------------------------------------- the reference scheme's facts


FACTS = ("revenue", "avg_check", "conversion", "calls")


def random_managers(count: int, seed: int = 2025) -> list[dict[str, Decimal]]:
    """Managers around plan (60 %–140 % on every KPI), so every band of the curve is hit.

    Values look like real exports: money in kopecks, conversion to 0.01 %, whole calls.
    """
    rng = random.Random(seed)
    managers = []
    for _ in range(count):
        managers.append({
            "revenue": Decimal(rng.randrange(180_000_000, 420_000_001)).scaleb(-2),
            "avg_check": Decimal(rng.randrange(9_000_000, 21_000_001)).scaleb(-2),
            "conversion": Decimal(rng.randrange(120, 281)).scaleb(-4),
            "calls": Decimal(rng.randrange(600, 1401)),
        })
    return managers


def parse_sizes(text: str) -> list[int]:
    """'10k,100k,1M' → [10000, 100000, 1000000]."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        factor = 1
        if part.endswith("k"):
            factor, part = 1000, part[:-1]
        elif part.endswith("m"):
            factor, part = 1_000_000, part[:-1]
        sizes.append(int(part) * factor)
    return sizes


def human(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000} M"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000} k"
    return str(count)
