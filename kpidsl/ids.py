"""Employee ids as people type and CRMs export them: one employee, however it is spelt.

A CRM, a spreadsheet and a hand-typed file spell one id in look-alike ways: decomposed
letters (NFD), zero-width characters pasted from a chat, a Cyrillic 'а' for a Latin 'a',
another case, full-width digits. `normalise` gives the id kept in results (NFC, no
zero-width characters); `look_alike_key` folds case, width and Cyrillic/Greek homoglyphs of
Latin letters, so two ids with one key are one employee: a duplicate (KPI504) that names
both spellings, never two employees paid twice.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from functools import cache

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"))


def normalise(text: str) -> str:
    """The id as results show it: NFC, without zero-width characters, stripped."""
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFC", text.translate(_ZERO_WIDTH)).strip()


def look_alike_key(employee: str) -> str:
    """One key for every spelling that looks the same: NFKC (full width), case folded,
    Cyrillic and Greek letters that look like a Latin letter replaced by it."""
    if employee.isascii():
        return employee.casefold()
    folded = unicodedata.normalize("NFKC", normalise(employee)).casefold()
    return "".join(_latin(c) for c in folded)


@cache
def _latin(char: str) -> str:
    """The ASCII letter `char` looks like, from Unicode's confusables (TR39), else `char`."""
    if char.isascii() or unicodedata.category(char)[0] != "L":
        return char
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(char, greedy=True, preferred_aliases=[]) or []
    latin = [h["c"] for f in found for h in f["homoglyphs"]
             if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalpha()]
    return latin[0].casefold() if latin else char


def difference(one: str, other: str) -> str:
    """How two look-alike spellings differ, for the duplicate's message."""
    if len(one) == len(other):
        for a, b in zip(one, other, strict=True):
            if a != b:
                return (f"'{a}' ({_name(a)}) where the other has '{b}' ({_name(b)})")
    return "they differ only in case, width, accents' encoding or invisible characters"


def _name(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


class SeenIds:
    """Employee ids already read, by look-alike key, with where they were (a row number, or
    "file:row") and how they were spelt, for KPI504. The usual few thousand live in a dict;
    past SPILL they go to a temporary on-disk SQLite table (2 MB page cache), so a file of a
    million rows streams in flat memory and every duplicate is still found."""

    SPILL = 20_000

    def __init__(self) -> None:
        self._rows: dict[str, tuple[int | str, str]] = {}
        self._db: sqlite3.Connection | None = None

    def __contains__(self, employee: str) -> bool:
        return self.find(employee) is not None

    def __getitem__(self, employee: str) -> int | str | None:
        found = self.find(employee)
        return None if found is None else found[0]

    def find(self, employee: str) -> tuple[int | str, str] | None:
        """Where an id that looks like `employee` was read, and how it was spelt there."""
        key = look_alike_key(employee)
        found = self._rows.get(key)
        if found is None and self._db is not None:
            row = self._db.execute("SELECT at, spelt FROM seen WHERE id = ?", (key,)).fetchone()
            found = (row[0], row[1]) if row else None
        return found

    def __setitem__(self, employee: str, row: int | str) -> None:
        key = look_alike_key(employee)
        if len(self._rows) < self.SPILL:
            self._rows[key] = (row, employee)
            return
        if self._db is None:
            self._db = sqlite3.connect("")  # "": a private temporary file, gone when closed
            self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, at, spelt) WITHOUT ROWID")
        self._db.execute("INSERT INTO seen VALUES (?, ?, ?)", (key, row, employee))
