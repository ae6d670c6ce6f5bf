"""Streaming evaluators of a facts CSV for benchmark 4.

    python bench/stream.py hand FACTS.csv        # hand-written: csv + Decimal, `employee,total`
    python bench/stream.py api FACTS.csv         # read_facts + Ruleset.evaluate_many, the same
    python bench/stream.py hand-csv FACTS.csv    # hand-written, every column of `--format csv`
    python bench/stream.py hand-jsonl FACTS.csv  # hand-written, the objects of `--format jsonl`
    python bench/stream.py hand-json FACTS.csv   # hand-written, the array of `--format json`
    python bench/stream.py tightest-csv FACTS.csv  # hand-csv as tight as CPython goes (the floor)

The `hand-*` scripts are the baselines of `kpidsl eval --format csv|jsonl|json`: what a
programmer writes for this one scheme and this one file, byte for byte the output kpidsl
writes (bench/end_to_end.py checks that on the smallest file before timing anything).

The hand-written one reads the plain CSV that bench/end_to_end.py writes (comma-separated,
a dot for decimals, conversion as "2.13%"), the way a programmer would for this one file;
kpidsl reads it with its general CRM-export reader.
"""

from __future__ import annotations

import csv
import decimal
import sys
from collections.abc import Iterator
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


def _hand_lines(path: str) -> Iterator[tuple[str, tuple[Decimal, ...], tuple[Decimal, ...],
                                                tuple[Decimal, ...], tuple[Decimal, ...],
                                                tuple[str, ...], Decimal, Decimal, Decimal]]:
    """Each manager of the file: id, values, attainments, factors, amounts, bands, bonus,
    commission, total; the scheme written out with Decimal (34 digits, each line rounded
    half up to the kopeck), reading the plain CSV bench/end_to_end.py writes."""
    from baselines import (
        ACCELERATOR,
        COMMISSION_RATE,
        CUT_OFF,
        HALF_UP,
        KOPECK,
        MARGIN_RATE,
        PLAN_LEVEL,
        SALARY,
        ZERO,
    )

    from kpidsl.runtime import CONTEXT

    plans = (Decimal(3_000_000), Decimal(150_000), Decimal("0.02"), Decimal(1000))
    shares = (Decimal("20000.00"), Decimal("10000.00"), Decimal("10000.00"),
              Decimal("10000.00"))
    plan_revenue = plans[0]
    below, within, above = "below 80%", "from 80% through 100%", "above 100%"
    zero_factor = Decimal(0)
    with open(path, encoding="utf-8", newline="") as file, decimal.localcontext(CONTEXT):
        rows = csv.reader(file)
        header = next(rows)
        at = [header.index(name)
              for name in ("employee", "revenue", "avg_check", "conversion", "calls")]
        for row in rows:
            values = (Decimal(row[at[1]]), Decimal(row[at[2]]),
                      Decimal(row[at[3]].removesuffix("%")).scaleb(-2), Decimal(row[at[4]]))
            attainments = tuple(v / p for v, p in zip(values, plans, strict=True))
            factors, bands, amounts = [], [], []
            for value, plan, share, attainment in zip(values, plans, shares, attainments,
                                                          strict=True):
                if attainment < CUT_OFF:
                    factor, band = zero_factor, below
                elif attainment <= PLAN_LEVEL:
                    factor, band = attainment, within
                else:
                    factor, band = value * ACCELERATOR / plan, above
                factors.append(factor)
                bands.append(band)
                amounts.append((share * factor).quantize(KOPECK, HALF_UP))
            bonus = sum(amounts, ZERO)
            extra = values[0] - plan_revenue
            commission = ((extra if extra > ZERO else ZERO) * MARGIN_RATE
                          * COMMISSION_RATE).quantize(KOPECK, HALF_UP)
            yield (row[at[0]], values, attainments, tuple(factors), tuple(amounts),
                   tuple(bands), bonus, commission, SALARY + bonus + commission)


KPIS = ("revenue", "avg_check", "conversion", "calls")
PLAN_TEXTS = ("3000000", "150000", "0.02", "1000")


def hand_csv(path: str) -> None:
    """The 19 columns of `kpidsl eval --format csv`, written by the csv module."""
    from baselines import SALARY

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["employee", "grade", "team",
                  *(f"{k}{s}" for k in KPIS for s in ("", "_attainment", "_payout")),
                  "salary", "bonus", "commission", "total"])
    salary = format(SALARY, "f")
    for (employee, values, attainments, _factors, amounts, _bands, bonus, commission,
         total) in _hand_lines(path):
        cells = [employee, "base", ""]
        for value, attainment, amount in zip(values, attainments, amounts, strict=True):
            cells += [format(value, "f"), format(attainment, "f"), format(amount, "f")]
        out.writerow([*cells, salary, format(bonus, "f"), format(commission, "f"),
                      format(total, "f")])


def tightest_csv(path: str) -> None:
    """`hand_csv` as tight as CPython goes: the measured floor of `--format csv`. One loop
    over the rows, no generator, no tuple a KPI, `str` for the digits (none of these numbers
    has an exponent, so they are `format(…, "f")`'s digits: the same bytes)."""
    from baselines import (
        ACCELERATOR,
        COMMISSION_RATE,
        CUT_OFF,
        HALF_UP,
        KOPECK,
        MARGIN_RATE,
        PLAN_LEVEL,
        SALARY,
        ZERO,
    )

    from kpidsl.runtime import CONTEXT

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["employee", "grade", "team",
                  *(f"{k}{s}" for k in KPIS for s in ("", "_attainment", "_payout")),
                  "salary", "bonus", "commission", "total"])
    write = out.writerow
    salary = str(SALARY)
    plans = (Decimal(3_000_000), Decimal(150_000), Decimal("0.02"), Decimal(1000))
    shares = (Decimal("20000.00"), Decimal("10000.00"), Decimal("10000.00"),
              Decimal("10000.00"))
    lines = tuple(zip(plans, shares, strict=True))
    plan_revenue = plans[0]
    with open(path, encoding="utf-8", newline="") as file, decimal.localcontext(CONTEXT):
        rows = csv.reader(file)
        header = next(rows)
        at = [header.index(name)
              for name in ("employee", "revenue", "avg_check", "conversion", "calls")]
        for row in rows:
            revenue = Decimal(row[at[1]])
            cells = [row[at[0]], "base", ""]
            bonus = ZERO
            for value, (plan, share) in zip(
                    (revenue, Decimal(row[at[2]]),
                     Decimal(row[at[3]].removesuffix("%")).scaleb(-2), Decimal(row[at[4]])),
                    lines, strict=True):
                attainment = value / plan
                if attainment < CUT_OFF:
                    factor = ZERO
                elif attainment <= PLAN_LEVEL:
                    factor = attainment
                else:
                    factor = value * ACCELERATOR / plan
                amount = (share * factor).quantize(KOPECK, HALF_UP)
                bonus += amount
                cells += (str(value), str(attainment), str(amount))
            extra = revenue - plan_revenue
            commission = ((extra if extra > ZERO else ZERO) * MARGIN_RATE
                          * COMMISSION_RATE).quantize(KOPECK, HALF_UP)
            cells += (salary, str(bonus), str(commission), str(SALARY + bonus + commission))
            write(cells)


def _hand_objects(path: str) -> Iterator[str]:
    """The JSON object of each manager, as `kpidsl eval --format jsonl` writes it."""
    import json

    from baselines import SALARY

    dumps = json.JSONEncoder(ensure_ascii=False).encode
    salary = format(SALARY, "f")
    shares = ("20000.00", "10000.00", "10000.00", "10000.00")
    for (employee, values, attainments, factors, amounts, bands, bonus, commission,
         total) in _hand_lines(path):
        amount_texts = [format(a, "f") for a in amounts]
        yield dumps({
            "employee": employee, "grade": "base", "team": None,
            "kpis": {k: {"value": format(v, "f"), "plan": p, "attainment": format(a, "f"),
                         "payout": t}
                     for k, v, p, a, t in zip(KPIS, values, PLAN_TEXTS, attainments,
                                              amount_texts, strict=True)},
            "lines": [{"payment": "bonus", "kpi": k, "share": s, "factor": format(f, "f"),
                       "band": b, "amount": t, "gate": ""}
                      for k, s, f, b, t in zip(KPIS, shares, factors, bands, amount_texts,
                                                           strict=True)],
            "components": {"salary": salary, "bonus": format(bonus, "f"),
                           "commission": format(commission, "f")},
            "total": format(total, "f"), "notes": []})


def hand_jsonl(path: str) -> None:
    write = sys.stdout.write
    for text in _hand_objects(path):
        write(text)
        write("\n")


def hand_json(path: str) -> None:
    write = sys.stdout.write
    first = True
    write("[")
    for text in _hand_objects(path):
        write("\n  " if first else ",\n  ")
        write(text)
        first = False
    write("\n]\n" if not first else "]\n")


if __name__ == "__main__":
    {"hand": hand, "api": api, "hand-csv": hand_csv, "hand-jsonl": hand_jsonl,
     "hand-json": hand_json, "tightest-csv": tightest_csv}[sys.argv[1]](sys.argv[2])
