"""Facts from several files joined by employee: revenue from the CRM, calls from telephony.

Each file gives the facts it has columns for. A fact given by two files with different values
is an error naming both (KPI530), never a choice; equal values are fine (the same export
twice, or a regional split with the same columns). An employee missing from a file, or with
a blank cell there, gets the missing-fact rule once every file is read: the default of an
optional fact, KPI502 for a required one. A required fact that no file has a column for is a
file error before anything is evaluated.

Joining needs every file read before the first employee is complete, so the joined rows are
held in memory (one dictionary per employee); a single file still streams.
Rows read counts employees after the join plus rows that failed: read = evaluated + failed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from .diagnostics import Diagnostic, error
from .facts import FactRow, FactsFileError, FactsReader, RowError
from .ids import difference, look_alike_key


@dataclasses.dataclass
class _Joined:
    first: FactRow
    values: dict[str, Decimal]
    given: dict[str, tuple[str, int]]  # fact → (file, row) that gave it
    grade: str | None
    team: str | None
    extra: dict[str, str]


def joined_rows(readers: list[FactsReader], specs: Mapping[str, Any],
                failed: Callable[[RowError | Diagnostic, str | None], None],
                warn: Callable[[list[Diagnostic]], None],
                on_row: Callable[[], None] | None = None) -> Iterator[FactRow]:
    """FactRows joined across `readers` (opened with partial=True, check_map=False).

    `failed(item, employee)` receives each RowError of a file, and a Diagnostic for an
    employee whose files disagree or who lacks a required fact.
    """
    joined: dict[str, _Joined] = {}
    spoiled: set[str] = set()
    spelt: dict[str, tuple[str, str, int]] = {}  # look-alike key → (id, file, row) first seen
    headers: list[list[str]] = []
    for reader in readers:
        warned = 0
        for item in reader:
            if on_row is not None:
                on_row()
            if len(reader.warnings) > warned:
                warn(reader.warnings[warned:])
                warned = len(reader.warnings)
            if isinstance(item, RowError):
                failed(item, item.employee)
                if item.employee:
                    spoiled.add(item.employee)
                    joined.pop(item.employee, None)
                continue
            if item.employee in spoiled:
                continue
            key = look_alike_key(item.employee)
            first = spelt.setdefault(key, (item.employee, item.file, item.row))
            if first[0] != item.employee:
                # `Ivanov` in one export and `ivanov` (or a Cyrillic 'а') in another: one
                # person or two? Never guess: both fail, each naming the other spelling.
                failed(_look_alike(item, first), item.employee)
                spoiled.update((item.employee, first[0]))
                if joined.pop(first[0], None) is not None:
                    failed(_located(error(
                        "KPI504", f"employee '{first[0]}' is spelt '{item.employee}' in "
                        f"{item.file} row {item.row}", hint=_SAME_ID), first[1], first[2]),
                        first[0])
                continue
            entry = joined.get(item.employee)
            if entry is None:
                joined[item.employee] = _Joined(
                    item, dict(item.values), {f: (item.file, item.row) for f in item.values},
                    item.grade, item.team, dict(item.extra))
                continue
            clash = _clash(entry, item)
            if clash is not None:
                failed(clash, item.employee)
                spoiled.add(item.employee)
                del joined[item.employee]
                continue
            for fact, value in item.values.items():
                entry.values.setdefault(fact, value)
                entry.given.setdefault(fact, (item.file, item.row))
            entry.grade = entry.grade or item.grade
            entry.team = entry.team or item.team
            for key, text in item.extra.items():
                entry.extra.setdefault(key, text)
        if len(reader.warnings) > warned:
            warn(reader.warnings[warned:])
        headers.append(list(reader.columns or []))
    _check_columns(readers, specs, headers)
    for employee, entry in joined.items():
        values = dict(entry.values)
        missing = []
        for fact, spec in specs.items():
            if fact in values:
                continue
            if spec.required:
                missing.append(fact)
            elif spec.default is not None:
                values[fact] = spec.default
        if missing:
            files = ", ".join(r.file for r in readers)
            failed(_located(error(
                "KPI502", f"row {entry.first.row}: employee '{employee}' has no value for "
                f"required fact(s) {', '.join(map(repr, missing))} in any file ({files})",
                hint="add the employee's row to the file with that column, or make the fact "
                     "optional with a default"), entry.first.file, entry.first.row), employee)
            continue
        yield dataclasses.replace(entry.first, values=values, grade=entry.grade,
                                  team=entry.team, extra=entry.extra)


_SAME_ID = "spell the employee's id the same way in every file (or map one to the other)"


def _look_alike(row: FactRow, first: tuple[str, str, int]) -> Diagnostic:
    spelling, file, line = first
    return _located(error(
        "KPI504", f"row {row.row}: employee '{row.employee}' is spelt '{spelling}' in {file} "
        f"row {line}: the two ids differ only by look-alike characters "
        f"({difference(row.employee, spelling)})", hint=_SAME_ID), row.file, row.row)


def _clash(entry: _Joined, row: FactRow) -> Diagnostic | None:
    for fact, value in row.values.items():
        known = entry.values.get(fact)
        if known is not None and known != value:
            file, line = entry.given[fact]
            return _located(error(
                "KPI530", f"row {row.row}: fact '{fact}' of employee '{row.employee}' is "
                f"{value} here but {known} in {file} row {line}",
                hint="a fact comes from one file; remove the column from one export, or fix "
                     "the value that is wrong"), row.file, row.row)
    return None


def _located(diagnostic: Diagnostic, file: str, row: int) -> Diagnostic:
    return dataclasses.replace(diagnostic, file=file, line=row, column=0)


def _check_columns(readers: list[FactsReader], specs: Mapping[str, Any],
                   headers: list[list[str]]) -> None:
    """Every required fact has a column in some file; every --map column is in some file."""
    given = {key for reader in readers for (role, key) in reader._by_target if role == "fact"}
    missing = [f for f, s in specs.items() if s.required and f not in given]
    first = readers[0]
    found = [h for header in headers for h in header if h]
    if missing:
        from .diagnostics import did_you_mean

        listed = ", ".join(f"'{h}'" for h in dict.fromkeys(found)) or "none"
        hint = did_you_mean(missing[0], found) or (
            f"map an export's column to it with --map COLUMN={missing[0]}, or write "
            f"`from column \"…\"` after the fact in the scheme, or make the fact optional")
        raise FactsFileError(_located(error(
            "KPI502", f"no column for required fact(s) {', '.join(map(repr, missing))} in any "
            f"of the files ({', '.join(r.file for r in readers)}); columns found: {listed}",
            hint=hint), first.file, 0))
    from .columns import ColumnError

    try:
        first.titles.check_mapped(found)
    except ColumnError as exc:
        raise FactsFileError(_located(error("KPI507", exc.message, hint=exc.hint),
                                      first.file, 0)) from None
