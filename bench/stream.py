"""Streaming evaluators of a facts CSV for benchmark 4, each writing `employee,total` lines.

    python bench/stream.py hand FACTS.csv   # hand-written: csv module + Decimal + baselines.py
    python bench/stream.py api FACTS.csv    # kpidsl.facts.read_facts + Ruleset.evaluate_many

The hand-written one reads the plain CSV that bench/end_to_end.py writes (comma-separated,
a dot for decimals, conversion as "2.13%"), the way a programmer would for this one file;
kpidsl reads it with its general CRM-export reader.
"""

from __future__ import annotations

import csv
import decimal
import sys
from decimal import Decimal

from harness import B2B


def hand(path: str) -> None:
    from baselines import hand_written

    from kpidsl.runtime import CONTEXT

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("employee", "total"))
    hundred = Decimal(100)
    with open(path, encoding="utf-8", newline="") as file, decimal.localcontext(CONTEXT):
        rows = csv.reader(file)
        header = next(rows)
        at = {name: header.index(name)
              for name in ("employee", "revenue", "avg_check", "conversion", "calls")}
        for row in rows:
            facts = {
                "revenue": Decimal(row[at["revenue"]]),
                "avg_check": Decimal(row[at["avg_check"]]),
                "conversion": Decimal(row[at["conversion"]].removesuffix("%")) / hundred,
                "calls": Decimal(row[at["calls"]]),
            }
            out.writerow((row[at["employee"]], hand_written(facts)))


def api(path: str) -> None:
    import kpidsl
    from kpidsl.facts import FactRow, read_facts

    ruleset = kpidsl.load(B2B)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("employee", "total"))
    rows = (r for r in read_facts(path, ruleset.fact_specs) if isinstance(r, FactRow))
    for result in ruleset.evaluate_many(rows):
        out.writerow((result.employee, result.total))


if __name__ == "__main__":
    {"hand": hand, "api": api}[sys.argv[1]](sys.argv[2])
