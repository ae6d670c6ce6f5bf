"""Which column of an export is which fact: names, labels, mappings, the employee, the header.

A column is a fact when its title is, in this order: a CRM column mapped to it (`--map`, then
a `--mapping` file), the scheme's `from column "…"`, the fact's name, or one of the fact's
labels in any language ("Выручка", "Average check"). Titles are compared ignoring case and
runs of spaces (no-break spaces included), as Excel users type them. The employee column is
`employee`, else the one column titled like an id (Сотрудник, Менеджер, Ответственный, ФИО,
Employee, Rep, Owner); two such columns are an error naming both, never a guess.

Reports are laid out for people: a title above the header, a header over two rows. The header
is the first row with a fact's title (or the row given by `--header-row`); when the row right
above it is not blank, a blank header cell takes the title above it (a merged cell).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ID_COLUMN = "employee"
ID_CANDIDATES = ("employee", "Сотрудник", "Менеджер", "Ответственный", "ФИО", "Employee", "Rep",
                 "Owner")
OTHER_TARGETS = (ID_COLUMN, "grade", "team", "name", "label")
HEADER_SCAN = 30  # non-blank rows looked at for a header before the first one is taken

_SPACE = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")


def fold(title: str) -> str:
    """A title as compared: case and runs of spaces do not matter."""
    return _SPACE.sub(" ", title).strip().casefold()


class ColumnError(ValueError):
    """A mapping or header that cannot be read as it stands; `hint` names the CLI option."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Titles:
    """Every title under which a column means a fact (or the id, grade, team)."""

    by_title: dict[str, str]  # folded title → fact name (or 'employee', 'grade', ...)
    mapped: dict[str, str]  # `--map` columns as written → target, checked against the header

    @classmethod
    def build(cls, specs: Mapping[str, Any], mapping: Mapping[str, str] | None = None,
              columns: Mapping[str, str] | None = None) -> Titles:
        """`mapping` is `--map` (checked: every column must exist, every target be known);
        `columns` is a mapping file's table (it serves several schemes: other facts skipped)."""
        by_title: dict[str, str] = {}
        labels: dict[str, set[str]] = {}
        for name, spec in specs.items():
            for label in getattr(spec, "labels", ()) or (spec.label,):
                if label:
                    labels.setdefault(fold(label), set()).add(name)
        # labels shared by two facts name neither (the fact's own name still does)
        by_title.update({t: next(iter(n)) for t, n in labels.items() if len(n) == 1})
        by_title.update({fold(n): n for n in specs})
        by_title.update({fold(s.column): n for n, s in specs.items() if getattr(s, "column", "")})
        known = [*specs, *OTHER_TARGETS]
        for column, target in (columns or {}).items():
            if target in known:
                by_title[fold(column)] = target
        for column, target in (mapping or {}).items():
            if target not in known:
                from .diagnostics import did_you_mean

                listed = ", ".join(specs) or "none"
                raise ColumnError(f"--map {column}={target}: '{target}' is not a fact of this "
                                  f"scheme; its facts: {listed}",
                                  did_you_mean(target, known) or "map a column to one of them")
            by_title[fold(column)] = target
        return cls(by_title, dict(mapping or {}))

    def target(self, title: str) -> str | None:
        return self.by_title.get(fold(title))

    def names_a_fact(self, cells: Iterable[object], specs: Mapping[str, Any]) -> bool:
        return any(isinstance(c, str) and self.target(c) in specs for c in cells)

    def check_mapped(self, headers: list[str], where: str = "in the header") -> None:
        """Every `--map` column must be in the header (today's typo must not pass silently)."""
        present = {fold(h) for h in headers}
        for column, target in self.mapped.items():
            if fold(column) not in present:
                from .diagnostics import did_you_mean

                raise ColumnError(
                    f"--map {column}={target}: there is no column '{column}' {where}",
                    did_you_mean(column, [h for h in headers if h]) or
                    "columns found: " + (", ".join(f"'{h}'" for h in headers if h) or "none"))


def find_id(headers: list[str], titles: Titles, id_column: str) -> str:
    """The id column's title: `id_column` if present (or mapped), else the one candidate."""
    wanted = fold(id_column)
    if any(fold(h) == wanted or titles.target(h) == id_column for h in headers):
        return id_column
    if id_column != ID_COLUMN:
        return id_column  # named with --id: reported as missing by the reader
    candidates = {fold(c) for c in ID_CANDIDATES}
    found = [(i, h) for i, h in enumerate(headers, start=1)
             if fold(h) in candidates and titles.target(h) is None]
    if len(found) > 1:
        listed = ", ".join(f"'{h}' (column {i})" for i, h in found)
        raise ColumnError(f"no '{ID_COLUMN}' column, and several columns could name the "
                          f"employee: {listed}",
                          f"say which with --id, e.g. --id '{found[0][1]}'")
    return found[0][1] if found else id_column


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def find_header(records: Iterable[tuple[int, list[object]]],
                is_header: Any, header_row: int | None = None,
                ) -> Iterator[tuple[int, list[object]]]:
    """The rows of a sheet with its header first: rows above the header are dropped, and a
    header over two rows becomes one. Without a row that `is_header`, the first non-blank
    row is the header (as it always was), so the usual "no column" error names it."""
    rows = iter(records)
    seen: list[tuple[int, list[object]]] = []
    if header_row is not None:
        for row, cells in rows:
            if row < header_row:
                seen = [(row, cells)]
                continue
            if row > header_row or all(_blank(c) for c in cells):
                raise ColumnError(f"--header-row {header_row}: row {header_row} is blank",
                                  "give the number of the row with the column titles")
            yield row, _merge(cells, seen[-1] if seen else None, row)
            yield from rows
            return
        raise ColumnError(f"--header-row {header_row}: the file has fewer rows",
                          "give the number of the row with the column titles")
    non_blank = 0
    for row, cells in rows:
        seen.append((row, cells))
        if all(_blank(c) for c in cells):
            continue
        non_blank += 1
        if is_header(cells):
            above = seen[-2] if len(seen) > 1 else None
            yield row, _merge(cells, above, row)
            yield from rows
            return
        if non_blank >= HEADER_SCAN:
            break
    yield from seen
    yield from rows


def _merge(cells: list[object], above: tuple[int, list[object]] | None,
           row: int) -> list[object]:
    """Blank header cells take the title right above them (a title merged over two rows)."""
    if above is None or above[0] != row - 1 or all(_blank(c) for c in above[1]):
        return cells
    upper = above[1]
    width = max(len(cells), len(upper))
    merged = [*cells, *[None] * (width - len(cells))]
    for i, cell in enumerate(merged):
        if _blank(cell) and i < len(upper) and not _blank(upper[i]):
            merged[i] = upper[i]
    return merged


def read_mapping_file(path: str) -> dict[str, Any]:
    """A CRM's columns, written once for several schemes (TOML):

        id = "Ответственный"
        sheet = "Июль"          # optional
        header_row = 3          # optional
        [columns]
        "Бюджет, руб." = "revenue"

    Returns {'id': ..., 'sheet': ..., 'header_row': ..., 'columns': {...}} (keys present only).
    """
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 reads TOML with tomli (the same parser)
        import tomli as tomllib
    try:
        with open(path, "rb") as stream:
            data = tomllib.load(stream)
    except OSError as exc:
        raise ColumnError(f"--mapping {path}: cannot read the file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ColumnError(f"--mapping {path}: not valid TOML: {exc}",
                          'write lines like "Бюджет, руб." = "revenue" under [columns]') from None
    allowed = {"id": str, "sheet": str, "header_row": int, "columns": dict}
    for key, value in data.items():
        if key not in allowed:
            from .diagnostics import did_you_mean

            raise ColumnError(f"--mapping {path}: unknown key '{key}'",
                              did_you_mean(key, list(allowed)) or
                              "keys: id, sheet, header_row and a [columns] table")
        if not isinstance(value, allowed[key]) or isinstance(value, bool):
            kind = {"columns": "a table", "header_row": "a whole number"}.get(key, "text")
            raise ColumnError(f"--mapping {path}: '{key}' must be {kind}")
    for column, target in data.get("columns", {}).items():
        if not isinstance(target, str):
            raise ColumnError(f"--mapping {path}: column '{column}' must map to a fact's name "
                              "in quotes", f'"{column}" = "revenue"')
    return data
