"""Benchmark: how soon the language server shows diagnostics after a one-character edit.

    python bench/lsp_latency.py [--kpis 5000] [--edits 5]

A generated scheme (bench/scaling.py's: N facts, N KPIs, N/10 pools) is opened in
`kpidsl lsp` through the protocol, then edited one character at a time: a letter typed into a
KPI's label (the scheme stays valid), a letter typed into a name in a formula (an unknown
name: KPI101), and a line break typed at the end of a line (every later statement moves down
a line). Each edit is undone before the next (the undo is not timed). For each edit the
server's CPU time (user + system, from /proc: what the edit cost, whatever else the machine
was doing) and the wall time from sending `didChange` to receiving `publishDiagnostics` for
that version are measured, debounce 0; the tables give their medians and the best. The
baseline is `kpidsl check`'s own parse and check of the same text in this process (CPU time,
the median of three), measured in the same run.
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

KINDS = (("label", "a letter in a label (valid)"), ("name", "a letter in a name (KPI101)"),
         ("line", "a line break (all below move)"))


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
        for n in range(edits):
            for kind, _title in KINDS:
                index = next(i for i, line in enumerate(lines)
                             if line.startswith(f'kpi k{2 * (n * 97 % (kpis // 2)) + 1} '))
                line = lines[index]
                column = {"label": line.index('"') + 2, "name": line.index("= f") + 3,
                          "line": len(line)}[kind]
                typed = "\n" if kind == "line" else "x"
                position = {"line": index, "character": column}
                start, cpu = time.perf_counter(), _cpu(pid)
                client.change(uri, [{"range": {"start": position, "end": position},
                                     "text": typed}])
                found = client.diagnostics(uri, timeout=600)
                wall[kind].append(time.perf_counter() - start)
                cpu_times[kind].append((_cpu(pid) or 0) - (cpu or 0))
                codes = sorted(d["code"] for d in found)
                assert codes == baseline if kind != "name" else "KPI101" in codes
                end = {"line": index + 1, "character": 0} if kind == "line" else {
                    "line": index, "character": column + 1}
                client.change(uri, [{"range": {"start": position, "end": end},
                                     "text": ""}])  # undo
                client.diagnostics(uri, timeout=600)
    finally:
        client.close()
    rows = [("kpidsl check (parse + check, in process)", f"{check * 1000:.0f} ms", "", "",
             "1.00×"),
            ("opening the scheme (whole parse and check)", f"{opened_cpu * 1000:.0f} ms", "",
             f"{opened * 1000:.0f} ms", f"{opened_cpu / check:.2f}×")]
    for kind, title in KINDS:
        median = statistics.median(cpu_times[kind])
        rows.append((title, f"{median * 1000:.0f} ms", f"{min(cpu_times[kind]) * 1000:.0f} ms",
                     f"{statistics.median(wall[kind]) * 1000:.0f} ms", f"{median / check:.2f}×"))
    return table(f"Language server: diagnostics after a one-character edit ({kpis} KPIs)",
                 ("step", "CPU, median", "CPU, best", "wall, median", "CPU vs check"), rows,
                 [f"{edits} edits of each kind, each undone; through the protocol, debounce 0. "
                  "CPU is the server's (user + system); the check's is this process's."])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpis", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args(argv)
    print(run(args.kpis, args.edits))


if __name__ == "__main__":
    main()
