"""Credit splits: one deal credited to several employees, each with a share.

Two ways to say them. With a `share column` in the export, rows with the same key are one
deal, each row naming an employee and a share, and the rows must agree on the deal's
amounts. With a split file (`--split deals=FILE`: the source's key, employee and share
columns), the export keeps its rows and the file lists, for a deal's key, each employee
credited and the share: every row of the export with that key is credited so (a deal the
file does not list is its own employee's whole). Either way a deal's shares must add up to
exactly 100 % (KPI544, naming the file, the row and the deal's key), and each money field
is split to the kopeck: every share's exact part rounded toward zero, and the kopecks left
over given one each to the largest remainders (ties: the earlier row), so the parts add up
to the deal's amount exactly. 1 000.00 split 1/3 each: 333.34, 333.33, 333.33.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from ..diagnostics import Diagnostic, KpiError, error
from ..facts import FactSpec
from ..ids import look_alike_key
from ..ids import normalise as normalise_id
from ..units import Unit
from ..values import FactValueError, convert, show
from .read import SourceReader, SourceRow

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


# ---------------------------------------------------------------- a split file


class SplitReader(SourceReader):
    """A split file of a source: one row per employee credited with part of a deal, in the
    source's key, employee and share columns; other columns are ignored. Cells follow the
    source's rules (`60 %`, `0,6`; a `%` in the share column's title makes `60` points)."""

    def _column_specs(self) -> dict[str, FactSpec]:
        src = self.source
        wanted = {"key": src.key_column, "employee": src.employee_column,
                  "share": src.share_column}
        return {name: FactSpec(name, Unit.NUMBER, False, column=title, label=title)
                for name, title in wanted.items()}

    def _units(self) -> dict[str, Unit]:
        return {"share": Unit.PERCENT}

    def _row(self, row: int, cells: list[object], positions: dict[str, int],
             titles: list[str]) -> SourceRow | None:
        def cell(name: str) -> object:
            index = positions[name]
            return cells[index] if index < len(cells) else None

        problems: dict[str, Diagnostic] = {}

        def problem(what: str, raw: object, exc: FactValueError, hint: str) -> None:
            index = positions[what]
            problems[what] = self._diag(
                exc.code, f"row {row}, column '{titles[index]}': {exc}", row, index + 1,
                show(raw), exc.hint or hint)

        employee = normalise_id(show(cell("employee")))
        if self._totals_row(row, employee, cells):
            return None
        if not employee:
            problem("employee", "", FactValueError("missing employee", "KPI502"),
                    "every row needs the employee it is credited to")
        key = show(cell("key")).strip()
        if not key:
            problem("key", "", FactValueError("missing key", "KPI502"),
                    "every row needs its key (the deal's id)")
        share = None
        raw = cell("share")
        try:
            share = convert(raw, Unit.PERCENT, self._share_reading(raw, titles))
        except FactValueError as exc:
            problem("share", raw, exc, "a share like 60%")
        return SourceRow(self.file, row, employee, None, key, share, {}, problems)


@dataclass
class SplitTable:
    """A source's split files, by deal key: the rows crediting each deal (a row whose
    share or employee could not be read, or a deal whose shares do not add up to 100 %,
    carries its problem: the deal fails for the employees it names)."""

    by_key: dict[str, list[SourceRow]] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    files: int = 0


def load_splits(readers: list[SplitReader]) -> SplitTable:
    """The split files read whole (KpiError when a row's key cannot be read: the deal it
    splits is unknown, so no deal could be paid without doubt)."""
    table = SplitTable(files=len(readers))
    unkeyed: list[Diagnostic] = []
    for reader in readers:
        for row in reader:
            if "key" in row.problems:
                unkeyed += row.problems.values()
                continue
            table.by_key.setdefault(row.key, []).append(row)
        table.warnings += reader.warnings
    if unkeyed:
        raise KpiError(unkeyed)
    for key, rows in table.by_key.items():
        if any("share" in row.problems for row in rows):
            continue
        seen: dict[str, SourceRow] = {}
        for row in rows:
            first = seen.setdefault(look_alike_key(row.employee), row)
            if first is not row and row.employee:  # one employee's two parts: a typo?
                made = _diag(row, f"deal '{key}': employee '{row.employee}' is credited "
                             f"twice (rows {first.row} and {row.row})")
                for each in rows:
                    each.problems.setdefault("share", made)
        if any("share" in row.problems for row in rows):
            continue
        shares = [row.share or Decimal(0) for row in rows]
        total = sum(shares, Decimal(0))
        if total != 1:
            made = _diag(rows[0], f"deal '{key}': the shares add up to {_percent(total)}"
                         f" % ({' + '.join(_percent(s) + ' %' for s in shares)}), not 100 %")
            for row in rows:
                row.problems["share"] = made
    return table


def _percent(share: Decimal) -> str:
    text = f"{share * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def credit(row: SourceRow, split: list[SourceRow], money: list[str]) -> list[SourceRow]:
    """An export's row of a deal the split file lists, as one row per employee credited:
    each money field split by the shares to the kopeck. The row's own problems (its
    employee cell aside: the file says whose it is) go with every part; a split row that
    could not be read fails its part and every other part of the deal."""
    own = {what: d for what, d in row.problems.items() if what != "employee"}
    parts: dict[str, list[Decimal]] = {}
    if not any(s.problems for s in split):
        shares = [s.share or Decimal(0) for s in split]
        for name in money:
            amount = row.values.get(name)
            if isinstance(amount, Decimal):
                parts[name] = largest_remainder(amount, shares)
    out = []
    for i, s in enumerate(split):
        problems = {**own, **s.problems}
        others = [d for j, t in enumerate(split) if j != i for d in t.problems.values()]
        if others and "share" not in problems:  # another share unread: this one is unsure
            problems["share"] = others[0]
        out.append(dataclasses.replace(
            row, employee=s.employee, share=s.share, problems=problems,
            values={**row.values, **{n: p[i] for n, p in parts.items()}}))
    return out
