"""Benchmark: how soon the language server shows diagnostics after a one-character edit.

    python bench/lsp_latency.py [--kpis 5000] [--edits 5]

A generated scheme (bench/scaling.py's: N facts, N KPIs, N/10 pools) is opened in
`kpidsl lsp` through the protocol, then edited one character at a time: a letter typed into a
KPI's label (the scheme stays valid) and a letter typed into a name in a formula (an unknown
name: KPI101). Each figure is the wall time from sending `didChange` to receiving
`publishDiagnostics` for that version (debounce set to 0), the best and the median of the
edits; the baseline is `kpidsl check`'s own parse and check of the same text in this process,
measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from harness import ROOT, best_time, table
from scaling import generated_scheme

sys.path.insert(0, str(ROOT / "tests"))


def run(kpis: int = 5000, edits: int = 5) -> str:
    from lsp_client import Client

    from kpidsl.api import check_source
    from kpidsl.source import SourceFile

    text = generated_scheme(kpis)
    check = best_time(lambda: check_source(SourceFile("generated.kpi", text)), 2)
    client = Client(debounce=0)
    try:
        uri = "file:///generated.kpi"
        start = time.perf_counter()
        client.open(uri, text)
        baseline = sorted(d["code"] for d in client.diagnostics(uri, timeout=600))
        opened = time.perf_counter() - start
        lines = text.split("\n")
        timings: dict[str, list[float]] = {"label": [], "name": []}
        for n in range(edits):
            for kind in ("label", "name"):
                index = next(i for i, line in enumerate(lines)
                             if line.startswith(f'kpi k{2 * (n * 97 % (kpis // 2)) + 1} '))
                line = lines[index]
                column = line.index('"') + 2 if kind == "label" else line.index("= f") + 3
                position = {"line": index, "character": column}
                start = time.perf_counter()
                client.change(uri, [{"range": {"start": position, "end": position},
                                     "text": "x"}])
                found = client.diagnostics(uri, timeout=600)
                timings[kind].append(time.perf_counter() - start)
                codes = sorted(d["code"] for d in found)
                assert codes == baseline if kind == "label" else "KPI101" in codes
                lines[index] = line[:column] + "x" + line[column:]
                client.change(uri, [{"range": {"start": position, "end": {
                    "line": index, "character": column + 1}}, "text": ""}])  # undo
                client.diagnostics(uri, timeout=600)
                lines[index] = line
    finally:
        client.close()
    rows = [("kpidsl check (parse + check, in process)", f"{check * 1000:.0f} ms", "", "1.00×"),
            ("open (whole parse, fills the cache)", f"{opened * 1000:.0f} ms", "",
             f"{opened / check:.2f}×")]
    for kind, title in (("label", "edit in a label (valid)"),
                        ("name", "edit in a name (KPI101)")):
        best, median = min(timings[kind]), statistics.median(timings[kind])
        rows.append((title, f"{best * 1000:.0f} ms", f"{median * 1000:.0f} ms",
                     f"{best / check:.2f}×"))
    return table(f"Language server: diagnostics after a one-character edit ({kpis} KPIs)",
                 ("step", "best", "median", "best vs check"), rows,
                 [f"{edits} edits of each kind, each undone; wall time through the protocol, "
                  "debounce 0. The check column is CPU time of this process."])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpis", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args(argv)
    print(run(args.kpis, args.edits))


if __name__ == "__main__":
    main()
