"""Benchmark 5: reading an XLSX facts workbook, kpidsl's reader vs openpyxl (read-only).

    python bench/workbook.py [--rows 50000] [--rounds 3]

One workbook of ROWS managers (written once by openpyxl). Candidates, each reading every
row's cells of the active sheet:
- openpyxl `load_workbook(read_only=True, data_only=True)` + `iter_rows(values_only=True)`,
  the baseline (1.00×): the reader kpidsl used before kpidsl/sheets.py;
- `kpidsl.sheets.Workbook.rows`: zip + expat, bounded, cached formula values;
- `kpidsl.facts.read_facts` over the same file: rows to exact Decimals with diagnostics.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness import B2B, interleaved_best, per_second, ratio, table


def write_workbook(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Июль")
    sheet.append(["employee", "name", "revenue", "avg_check", "conversion", "calls"])
    for i in range(rows):
        sheet.append([f"m{i}", "Иван Иванов", 3_000_000 + i * 7, 142_500.5, 0.021, 900 + i % 300])
    book.save(path)


def run(rows: int = 50_000, rounds: int = 3) -> str:
    import openpyxl

    import kpidsl
    from kpidsl.facts import read_facts
    from kpidsl.sheets import Workbook

    specs = kpidsl.load(B2B).fact_specs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "facts.xlsx"
        write_workbook(path, rows)

        def with_openpyxl() -> int:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                return sum(1 for _ in book.active.iter_rows(values_only=True))
            finally:
                book.close()

        def with_sheets() -> int:
            with Workbook(path) as book:
                return sum(1 for _ in book.rows(book.sheets[book.active]))

        def with_read_facts() -> int:
            return sum(1 for _ in read_facts(path, specs))

        best = interleaved_best({"openpyxl": with_openpyxl, "sheets": with_sheets,
                                 "facts": with_read_facts}, rounds)
    base = best["openpyxl"]
    names = {"openpyxl": "openpyxl read-only iter_rows (baseline)",
             "sheets": "kpidsl.sheets rows (zip + expat)",
             "facts": "kpidsl.facts.read_facts (to Decimals)"}
    return table(f"5. Reading an XLSX workbook ({rows} rows)", ["reader", "rows/s", "time"],
                 [[names[k], per_second(rows, t), ratio(t, base)] for k, t in best.items()],
                 ["CPU time, best of interleaved rounds; ratios against openpyxl in the same run."])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(run(args.rows, args.rounds))
