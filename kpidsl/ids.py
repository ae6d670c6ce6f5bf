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
from typing import Any

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
    "file:row") and how they were spelt, for KPI504.

    The first SPILL ids live in a dict (about 125 bytes an id, measured with tracemalloc:
    an id spelt as its key keeps its row alone, not a tuple; so ~13 MB at SPILL); past it
    they go to a temporary on-disk SQLite table, so a file of a million rows streams in
    flat memory and every duplicate is still found. On disk, ids are written in sorted
    batches of FLUSH (the newest batch is looked up in a dict) and a bit filter of fixed
    size (4 MiB, two bits an id) answers "never seen" without a query: a query is made only
    for an id the filter may have seen, about 1 in 1 000 at a million ids. Measured (`add`
    of distinct ids, CPU): ~1.2 µs an id in the dict, ~4.5 µs on disk, of which SQLite's
    B-tree insert is ~2.9 µs even batched and sorted (an INSERT and a SELECT an id, as this
    index first did: ~8.7 µs).
    """

    SPILL = 100_000
    FLUSH = 4096
    BITS = 1 << 25

    def __init__(self) -> None:
        # a row (int or "file:row") when the id is spelt as its key, else (row, spelling)
        self._rows: dict[str, Any] = {}
        self._db: sqlite3.Connection | None = None
        self._pending: dict[str, tuple[int | str, str]] = {}
        self._filter = bytearray()

    def __contains__(self, employee: str) -> bool:
        return self.find(employee) is not None

    def __getitem__(self, employee: str) -> int | str | None:
        found = self.find(employee)
        return None if found is None else found[0]

    def find(self, employee: str) -> tuple[int | str, str] | None:
        """Where an id that looks like `employee` was read, and how it was spelt there."""
        return self._find(look_alike_key(employee))

    def add(self, employee: str, row: int | str) -> tuple[int | str, str] | None:
        """`find`, and when nothing was found, remember `employee` at `row`."""
        key = look_alike_key(employee)
        rows = self._rows
        found = rows.get(key)
        if found is not None:
            return (found, key) if type(found) is not tuple else found  # type: ignore[no-any-return]
        if self._db is None and len(rows) < self.SPILL:  # the usual case, written out
            rows[key] = row if employee == key else (row, employee)
            return None
        if self._db is None:
            self._put(key, row, employee)  # the first id past SPILL: opens the table
            return None
        # past SPILL, written out (one hash for the filter's test and its setting): ~2 µs
        # an id fewer than `_on_disk` and `_put`
        pending = self._pending
        found = pending.get(key)
        if found is not None:
            return found
        bits, mask = self._filter, self.BITS - 1
        h = hash(key)
        i, j = h & mask, (h >> 32) & mask
        if bits[i >> 3] & (1 << (i & 7)) and bits[j >> 3] & (1 << (j & 7)):  # maybe seen
            self._flush()
            stored = self._db.execute("SELECT at, spelt FROM seen WHERE id = ?",
                                      (key,)).fetchone()
            if stored:
                return stored[0], stored[1]
        pending[key] = (row, employee)
        bits[i >> 3] |= 1 << (i & 7)
        bits[j >> 3] |= 1 << (j & 7)
        if len(pending) >= self.FLUSH:
            self._flush()
        return None

    def __setitem__(self, employee: str, row: int | str) -> None:
        self._put(look_alike_key(employee), row, employee)

    def _find(self, key: str) -> tuple[int | str, str] | None:
        found = self._rows.get(key)
        if found is not None:
            return (found, key) if type(found) is not tuple else found  # type: ignore[no-any-return]
        return self._on_disk(key) if self._db is not None else None

    def _on_disk(self, key: str) -> tuple[int | str, str] | None:
        """`_find` past SPILL: the newest batch, then the table if the filter says maybe."""
        found = self._pending.get(key)
        if found is None and self._maybe(key):
            self._flush()
            row = self._db.execute("SELECT at, spelt FROM seen WHERE id = ?",  # type: ignore[union-attr]
                                   (key,)).fetchone()
            found = (row[0], row[1]) if row else None
        return found

    def _put(self, key: str, row: int | str, employee: str) -> None:
        if len(self._rows) < self.SPILL or key in self._rows:
            # the row alone when the id is spelt as its key ('m17'), as most are: ~100
            # bytes an id fewer
            self._rows[key] = row if employee == key else (row, employee)
            return
        if self._db is None:
            self._db = sqlite3.connect("")  # "": a private temporary file, gone when closed
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, at, spelt) WITHOUT ROWID")
            self._filter = bytearray(self.BITS // 8)
        self._pending[key] = (row, employee)
        bits, mask = self._filter, self.BITS - 1
        h = hash(key)
        i, j = h & mask, (h >> 32) & mask
        bits[i >> 3] |= 1 << (i & 7)
        bits[j >> 3] |= 1 << (j & 7)
        if len(self._pending) >= self.FLUSH:
            self._flush()

    def _maybe(self, key: str) -> bool:
        """The bit filter: False means `key` was never put on disk."""
        bits, mask = self._filter, self.BITS - 1
        h = hash(key)
        i, j = h & mask, (h >> 32) & mask
        return bool(bits[i >> 3] & (1 << (i & 7)) and bits[j >> 3] & (1 << (j & 7)))

    def _flush(self) -> None:
        if self._pending and self._db is not None:
            self._db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?)",
                                 sorted((k, at, spelt) for k, (at, spelt)
                                        in self._pending.items()))
            self._pending.clear()
