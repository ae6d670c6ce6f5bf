"""Credit splits: one deal credited to several employees, each with a share.

Rows with the same key are one deal; each row names an employee and a share. The shares
must add up to exactly 100 % and the rows must agree on the deal's amounts; each money field
is then split to the kopeck: every share's exact part rounded toward zero, and the kopecks
left over given one each to the largest remainders (ties: the earlier row), so the parts
add up to the deal's amount exactly. 1 000.00 split 1/3 each: 333.34, 333.33, 333.33.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_DOWN, Decimal

from ..diagnostics import Diagnostic, error
from .read import SourceRow

KOPECK = Decimal("0.01")


def split_deal(rows: list[tuple[int, SourceRow]],
               money: list[str]) -> list[tuple[int, SourceRow]]:
    """The deal's rows with each money field replaced by the row's credited part; when the
    shares do not add up or the amounts differ, every row of the deal carries KPI544."""
    shares = [row.share or Decimal(0) for _, row in rows]
    problem = None
    if sum(shares) != 1:
        listed = " + ".join(f"{s * 100:f}".rstrip("0").rstrip(".") + " %" for s in shares)
        problem = (f"deal '{rows[0][1].key}': the shares add up to "
                   f"{sum(shares) * 100:f}".rstrip("0").rstrip(".") + f" % ({listed}), "
                   "not 100 %")
    for name in money:
        amounts = {row.values.get(name) for _, row in rows}
        if problem is None and len(amounts) > 1:
            shown = ", ".join(sorted(str(a) for a in amounts))
            problem = (f"deal '{rows[0][1].key}': its rows give different {name} ({shown}); "
                       "each row of a split deal repeats the deal's amount")
    if problem is not None:
        return [(index, dataclasses.replace(row, problems={"share": _diag(row, problem)}))
                for index, row in rows]
    parts: dict[str, list[Decimal]] = {}
    for name in money:
        amount = rows[0][1].values.get(name)
        if isinstance(amount, Decimal):
            parts[name] = largest_remainder(amount, shares)
    return [(index, dataclasses.replace(row, values={**row.values, **{
        name: split[i] for name, split in parts.items()}})) for i, (index, row) in enumerate(rows)]


def largest_remainder(amount: Decimal, shares: list[Decimal]) -> list[Decimal]:
    """`amount` split by `shares` (adding up to 1) into kopecks that add up to it exactly."""
    sign = -1 if amount < 0 else 1
    whole = abs(amount)
    exact = [whole * share for share in shares]
    floors = [e.quantize(KOPECK, rounding=ROUND_DOWN) for e in exact]
    left = int((whole.quantize(KOPECK) - sum(floors)) / KOPECK)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += KOPECK
    return [f * sign for f in floors]


def _diag(row: SourceRow, message: str) -> Diagnostic:
    made = error("KPI544", f"row {row.row}: {message}",
                 hint="fix the share column so that each deal's shares add up to 100 %")
    return dataclasses.replace(made, file=row.file, line=row.row)
