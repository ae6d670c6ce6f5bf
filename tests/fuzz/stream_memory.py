"""Peak memory of streaming a facts file through evaluation: 10 k, 100 k and 1 M rows.

    python tests/fuzz/stream_memory.py --rows 10000 100000 1000000

For each size a CSV for the reference scheme (rulesets/b2b_manager.kpi) is written on the fly
into a temporary directory (one row in a thousand is broken on purpose), then a fresh Python
process reads it with `kpidsl.facts.read_facts`, evaluates it with `Ruleset.evaluate_many`
and writes one CSV line per result to /dev/null. The child reports its own peak resident set
(VmHWM from /proc/self/status); the parent checks that rows read = evaluated + failed and
prints the Markdown table docs/reliability.md quotes. Exit status 1 when memory is not flat
or a row went missing. Flat means: the largest run's peak at most --limit times the peak of
the smallest run that is past the duplicate-id index's fixed in-memory part (50 000 ids,
about 13 MB, kept in a dict before it spills to disk: 10 000 rows peak at ~31 MiB, 100 000
and 1 000 000 at ~48-49 MiB); with no run that large, the smallest run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys, time
started = time.perf_counter()
import kpidsl
from kpidsl.facts import FactRow, read_facts

scheme = kpidsl.load(sys.argv[1])
reader = read_facts(sys.argv[2], scheme.fact_specs)
failed = evaluated = 0
total_paid = 0


def rows():
    global failed
    for item in reader:
        if isinstance(item, FactRow):
            yield item
        else:
            failed += 1


def on_error(employee, row, diagnostics):
    global failed
    failed += 1


with open("/dev/null", "w", encoding="utf-8") as sink:
    for result in scheme.evaluate_many(rows(), on_error=on_error):
        evaluated += 1
        sink.write(f"{result.employee},{result.total},"
                   + ",".join(str(v) for v in result.components.values()) + "\n")
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(json.dumps({"read": reader.summary.rows_read, "evaluated": evaluated,
                  "failed": failed, "peak_kb": peak,
                  "seconds": time.perf_counter() - started}))
"""


def write_facts(path: Path, rows: int) -> int:
    """A facts file of `rows` managers; every thousandth row has a broken cell. Returns how
    many rows are broken."""
    broken = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("employee,name,revenue,avg_check,conversion,calls\n")
        for i in range(rows):
            revenue = 2_000_000 + (i * 7919) % 2_000_000
            calls = 700 + (i * 31) % 600
            conversion = f"{1 + (i % 20) / 10:.1f}%"
            if i % 1000 == 999:
                calls, broken = "many", broken + 1
            out.write(f"m{i:07d},Manager {i},{revenue},{100_000 + i % 90_000},{conversion},"
                      f"{calls}\n")
    return broken


# The CLI run: a wrapper process starts `kpidsl eval --format jsonl` (stdout to /dev/null)
# and reports its only child's peak RSS; the summary line on stderr gives the counts.
CLI = r"""
import json, re, resource, subprocess, sys, time
started = time.perf_counter()
with open("/dev/null", "w") as sink:
    done = subprocess.run([sys.executable, "-m", "kpidsl", "eval", sys.argv[1], sys.argv[2],
                           "--format", "jsonl"], stdout=sink, stderr=subprocess.PIPE, text=True)
line = [l for l in done.stderr.splitlines() if "rows read" in l][-1]
read, evaluated, failed = (int(n.replace(" ", "").replace(",", ""))
                           for n in re.findall(r"(\d[\d ,]*) (?:rows read|evaluated|failed)", line))
print(json.dumps({"read": read, "evaluated": evaluated, "failed": failed, "exit": done.returncode,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "seconds": time.perf_counter() - started}))
"""


def measure(rows: int, folder: Path, cli: bool = False) -> dict[str, float]:
    facts = folder / f"facts-{rows}.csv"
    broken = write_facts(facts, rows)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI if cli else CHILD,
                           str(ROOT / "rulesets" / "b2b_manager.kpi"), str(facts)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(done.stdout)
    figures.update(rows=rows, broken=broken, wall=time.perf_counter() - started)
    facts.unlink()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--limit", type=float, default=1.5,
                        help="largest peak ÷ smallest peak allowed")
    parser.add_argument("--cli", action="store_true",
                        help="measure `kpidsl eval --format jsonl` instead of the API")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="kpidsl-stream-") as tmp:
        for rows in args.rows:
            results.append(measure(rows, Path(tmp), args.cli))
            print(f"  {rows} rows done", file=sys.stderr, flush=True)
    from kpidsl.ids import SeenIds

    past = [r for r in results if r["rows"] >= SeenIds.SPILL]
    base = (past or results)[0]["peak_kb"]
    print("| rows | read | evaluated | failed | peak RSS (MiB) | × base | seconds "
          "| rows/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for r in results:
        adds_up = r["read"] == r["rows"] == r["evaluated"] + r["failed"] and \
            r["failed"] == r["broken"]
        ok &= adds_up
        print(f"| {r['rows']:,} | {r['read']:,} | {r['evaluated']:,} | {r['failed']:,} | "
              f"{r['peak_kb'] / 1024:.1f} | {r['peak_kb'] / base:.2f} | {r['seconds']:.1f} | "
              f"{r['rows'] / r['seconds']:,.0f} |".replace(",", " ")
              + ("" if adds_up else "  ← counts do not add up"))
    ratio = results[-1]["peak_kb"] / base
    print(f"\nLargest ÷ smallest peak past the in-memory id index ({SeenIds.SPILL:,} ids): "
          f"{ratio:.2f} (limit {args.limit}).".replace(",", " "))
    return 0 if ok and ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
