"""The per-deal files a close reads: deals paid this period and deals reversed in it.

Until schemes compute per-deal pay themselves, a close takes the per-deal lines as a file
(`--deals`): one row per deal paid this period, as a commission report gives it:

    employee,deal,date,credit,rate,paid
    ivanov,D-17,2025-07-14,100.00,5%,10.00

`rate` is the rate of the deal's calculation (`5%` or `0.05`); `paid` what its line paid
(here the plan's 10.00 minimum). Reversals (`--reversals`) name the deal, the day it was
reversed, and optionally the employee and the period it was paid in (then checked):

    deal,date,employee,period
    D-17,2025-08-20,,2025-07

Both are CSV in UTF-8 (a BOM is fine), comma- or semicolon-separated (with `;` a decimal
comma is read). A cell that cannot be read refuses the whole close with its file, row and
column: nothing is half-closed.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..diagnostics import Diagnostic, KpiError, Severity
from .memory import DealLine, Reversal

DEAL_COLUMNS = ("employee", "deal", "date", "credit", "rate", "paid")
REVERSAL_COLUMNS = ("deal", "date")


def _problem(path: Path, row: int, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic("KPI663", Severity.ERROR, message, os.fspath(path), row, 0, hint=hint)


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KpiError([_problem(path, 0, f"not UTF-8 text (byte {exc.start})",
                                 "save the file as UTF-8 CSV")]) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise KpiError([_problem(path, 1, f"no column {', '.join(map(repr, missing))}"
                                 f" in the header ({', '.join(header) or 'empty'})",
                                 "the columns are: " + ", ".join(required))])
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "")
                  for i, name in enumerate(header)}
        rows.append((number, values | {"": delimiter}))
    return rows


def _decimal(path: Path, row: int, column: str, text: str, delimiter: str,
             percent: bool = False) -> Decimal:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if delimiter == ";":
        cleaned = cleaned.replace(",", ".")
    scale = 0
    if percent and cleaned.endswith("%"):
        cleaned, scale = cleaned[:-1], -2
    try:
        value = Decimal(cleaned).scaleb(scale)
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise KpiError([_problem(path, row, f"column '{column}': "
                                 f"'{text}' is not a number", "write amounts as 100.00 "
                                 "(or 100,00 in a file separated by ';')")]) from None
    return value


def _date(path: Path, row: int, column: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise KpiError([_problem(path, row, f"column '{column}': '{text}' is "
                                 "not a date", "write dates as YYYY-MM-DD")]) from None


def read_deals(paths: list[str]) -> list[DealLine]:
    """Every deal line of the files; KpiError (KPI663) at the first bad cell or repeated deal."""
    deals: list[DealLine] = []
    seen: dict[tuple[str, str], str] = {}
    for name in paths:
        path = Path(name)
        for row, values in _rows(path, DEAL_COLUMNS):
            delimiter = values[""]
            where = f"{path}:{row}"
            employee, deal = values["employee"], values["deal"]
            if not employee or not deal:
                raise KpiError([_problem(path, row, "a deal line needs an employee "
                                         "and a deal key")])
            if (employee, deal) in seen:
                raise KpiError([_problem(path, row, f"deal '{deal}' of '{employee}' "
                                         f"already appears at {seen[(employee, deal)]}",
                                         "each deal is paid once a period; merge the rows")])
            seen[(employee, deal)] = where
            deals.append(DealLine(
                employee, deal, _date(path, row, "date", values["date"]),
                _decimal(path, row, "credit", values["credit"], delimiter),
                _decimal(path, row, "rate", values["rate"], delimiter, percent=True),
                _decimal(path, row, "paid", values["paid"], delimiter), where))
    return deals


def read_reversals(paths: list[str]) -> list[Reversal]:
    reversals: list[Reversal] = []
    for name in paths:
        path = Path(name)
        for row, values in _rows(path, REVERSAL_COLUMNS):
            if not values["deal"]:
                raise KpiError([_problem(path, row, "a reversal needs the "
                                         "deal's key")])
            reversals.append(Reversal(values["deal"], _date(path, row, "date", values["date"]),
                                      values.get("employee", ""), values.get("period", ""),
                                      f"{path}:{row}"))
    return reversals
