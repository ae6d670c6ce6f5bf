"""Benchmark: how soon the language server shows diagnostics after a one-character edit.

    python bench/lsp_latency.py [--kpis 5000] [--edits 5]

A generated scheme (bench/scaling.py's: N facts, N KPIs, N/10 pools) is opened in
`kpidsl lsp` through the protocol, then edited: a letter typed into a KPI's label (the scheme
stays valid), into a name in a formula (an unknown name: KPI101) and deleted again (the last
error gone), a digit typed into a formula and one into a plan, a line break at the
end of a line (every later statement moves down a line), a '+' that leaves a formula
unfinished (a syntax error), a letter typed into a fact's declared name (its users lose it),
a new declaration pasted, a digit typed into the one curve every pool pays by, and a letter
typed into the scheme's label in its header (the last two are checked whole). Each edit
is undone before the next (the undo is timed only for the misspelt name, as "fixed"). For
each edit the server's CPU time (user + system, from /proc: what the edit cost, whatever else
the machine was doing) and the wall time from sending `didChange` to receiving
`publishDiagnostics` for that version are measured, debounce 0; the tables give their
medians and the best, and the machine's load average. The baseline is `kpidsl check`'s own
parse and check of the same text in this process (CPU time, the median of three), measured
in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from harness import ROOT, table
from scaling import generated_scheme

sys.path.insert(0, str(ROOT / "tests"))

# (kind, title, the edit): where on the n-th edited KPI's line (or the declaration) to type what
KINDS = (("label", "a letter in a label (valid)"),
         ("name", "a letter in a name in a formula (KPI101)"),
         ("fix", "that letter deleted again (the last error gone)"),
         ("formula", "a digit in a formula (otherwise 0% to 10%)"),
         ("number", "a digit in a plan's number"),
         ("line", "a line break (all below move)"),
         ("syntax", "'+' after a formula (a syntax error)"),
         ("declared", "a letter in a fact's declared name (its users: KPI101)"),
         ("new", "a new declaration pasted (kpi … = …)"),
         ("curve", "a digit in the curve every pool pays by"),
         ("header", "a letter in the scheme's label (the header)"))


def _edit(lines: list[str], kind: str, n: int, kpis: int) -> tuple[dict, str, dict]:
    """(start, text typed, end of what the undo removes) for the n-th edit of a kind."""
    odd = 2 * (n * 97 % (kpis // 2)) + 1  # kpi k<odd> = f<odd-1> / f<odd> otherwise 0% ...
    index = next(i for i, line in enumerate(lines) if line.startswith(f"kpi k{odd} "))
    line = lines[index]
    if kind == "number":
        index += 1  # kpi k<odd+1> = f<odd+1> plan <number> RUB
        line = lines[index]
    if kind == "declared":
        index = next(i for i, line in enumerate(lines) if line.startswith(f"fact f{odd} "))
        line = lines[index]
    if kind == "curve":
        index = next(i for i, line in enumerate(lines) if line.strip().startswith("cap "))
        line = lines[index]
    if kind == "header":
        index = 0
        line = lines[index]
    where = {  # what to find on the line (typed after it), and what to type
        "label": ('"', 1, "x"), "name": ("= f", 3, "x"), "formula": ("otherwise ", 10, "1"),
        "number": ("plan ", 6, "7"), "syntax": (" otherwise", 0, "+"), "header": ('"', 1, "x"),
        "declared": (f"fact f{odd}", len(f"fact f{odd}"), "x")}
    if kind in where:
        found, after, typed = where[kind]
        column = line.index(found) + after
    elif kind == "curve":
        column, typed = len(line) - 1, "5"
    else:
        column = len(line)
        typed = "\n" if kind == "line" else \
            f"\nkpi new{n} = f{odd} / f{odd - 1} otherwise 0% plan 100%"
    start = {"line": index, "character": column}
    end = {"line": index + 1, "character": len(typed) - 1} if "\n" in typed else {
        "line": index, "character": column + len(typed)}
    return start, typed, end


def _cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process (None where /proc is not there)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(kpis: int = 5000, edits: int = 5) -> str:
    from lsp_client import Client

    from kpidsl.api import check_source
    from kpidsl.source import SourceFile

    text = generated_scheme(kpis)
    checks = []
    for _ in range(3):
        start = time.process_time()
        check_source(SourceFile("generated.kpi", text))
        checks.append(time.process_time() - start)
    check = statistics.median(checks)
    client = Client(debounce=0)
    pid = client.process.pid
    try:
        uri = "file:///generated.kpi"
        start, cpu = time.perf_counter(), _cpu(pid)
        client.open(uri, text)
        baseline = sorted(d["code"] for d in client.diagnostics(uri, timeout=600))
        opened = time.perf_counter() - start
        opened_cpu = (_cpu(pid) or 0) - (cpu or 0)
        lines = text.split("\n")
        wall: dict[str, list[float]] = {kind: [] for kind, _ in KINDS}
        cpu_times: dict[str, list[float]] = {kind: [] for kind, _ in KINDS}
        codes: dict[str, set[str]] = {kind: set() for kind, _ in KINDS}
        load = os.getloadavg()[0]

        def change(start: dict, end: dict, typed: str) -> tuple[float, float, set[str]]:
            began, cpu = time.perf_counter(), _cpu(pid)
            client.change(uri, [{"range": {"start": start, "end": end}, "text": typed}])
            found = client.diagnostics(uri, timeout=600)
            return (time.perf_counter() - began, (_cpu(pid) or 0) - (cpu or 0),
                    {d["code"] for d in found})

        for n in range(edits):
            for kind, _title in KINDS:
                if kind == "fix":
                    continue  # measured as the undo of "name"
                start, typed, end = _edit(lines, kind, n, kpis)
                took, cpu_took, found = change(start, start, typed)
                undo = change(start, end, "")
                wall[kind].append(took)
                cpu_times[kind].append(cpu_took)
                codes[kind] |= found
                if kind == "name":
                    wall["fix"].append(undo[0])
                    cpu_times["fix"].append(undo[1])
                    codes["fix"] |= undo[2]
                assert sorted(undo[2]) == sorted(set(baseline)), (kind, undo[2])
        load = max(load, os.getloadavg()[0])
    finally:
        client.close()
    rows = [("kpidsl check (parse + check, in process)", f"{check * 1000:.0f} ms", "", "",
             "1.00×", ""),
            ("opening the scheme (whole parse and check)", f"{opened_cpu * 1000:.0f} ms", "",
             f"{opened * 1000:.0f} ms", f"{opened_cpu / check:.2f}×", "")]
    for kind, title in KINDS:
        median = statistics.median(cpu_times[kind])
        rows.append((title, f"{median * 1000:.0f} ms", f"{min(cpu_times[kind]) * 1000:.0f} ms",
                     f"{statistics.median(wall[kind]) * 1000:.0f} ms", f"{median / check:.2f}×",
                     ", ".join(sorted(codes[kind]))))
    return table(f"Language server: diagnostics after a one-character edit ({kpis} KPIs)",
                 ("step", "CPU, median", "CPU, best", "wall, median", "CPU vs check",
                  "codes published"), rows,
                 [f"{edits} edits of each kind, each undone; through the protocol, debounce 0 "
                  "(the server's default adds 0.05 s). CPU is the server's (user + system); the "
                  f"check's is this process's. Load average (1 min) up to {load:.1f} on "
                  f"{os.cpu_count()} cores during the edits."])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpis", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args(argv)
    print(run(args.kpis, args.edits))


if __name__ == "__main__":
    main()
