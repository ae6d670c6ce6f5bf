"""CSV and JSON below the level of rows: physical lines, delimiters, unclosed quotes, keys.

The reader in kpidsl.facts turns records into rows; this module only finds the records
and keeps count of the physical lines they come from, so that every diagnostic names the
line a text editor shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .values import show


@dataclass(frozen=True)
class Unclosed:
    """A CSV record whose quote opened on its first line and never closed."""

    cell: int  # 1-based position of the cell that opened the quote
    last: int  # the file's last line
    text: str  # the first line of the record

    def __iter__(self) -> Iterator[object]:  # no cells: a header search passes it by
        return iter(())


class DuplicateKeys(dict):  # type: ignore[type-arg]
    """A JSON object that had a key twice: `duplicate` is (key, first value, second value)."""

    duplicate: tuple[str, str, str] = ("", "", "")


def pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    made: dict[str, object] = {}
    for key, value in pairs:
        if key in made:
            found = DuplicateKeys(made)
            found.duplicate = (key, show(made[key]), show(value))
            return found
        made[key] = value
    return made


class Lines:
    """The lines csv.reader reads, counted as physical lines, holding those of the record
    being read so that a record can be read again line by line (`replay`)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines, self._pending = lines, deque[str]()
        self.number, self.begin, self.ended = 0, 1, False
        self.held: list[str] = []

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        if self._pending:
            line = self._pending.popleft()
        else:
            try:
                line = next(self._lines)
            except StopIteration:
                self.ended = True
                raise
        self.number += 1
        self.held.append(line)
        return line

    def start(self) -> None:
        """A record begins on the next line."""
        self.held, self.begin = [], self.number + 1

    def replay(self, lines: list[str], number: int) -> None:
        """Read `lines` again, the first of them as line `number` + 1."""
        self._pending.extendleft(reversed(lines))
        self.number, self.ended = number, False


def unclosed(text: str, delimiter: str) -> bool:
    """Whether a record's text ends inside a quoted cell (the lenient reader says nothing)."""
    try:
        for _ in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


_DELIMITERS = (";", "\t", ",", "|")


def sniff_delimiter(line: str) -> str:
    """The most frequent of ; tab , | outside quotes (csv.Sniffer trips over decimal commas)."""
    bare = re.sub(r'"[^"]*"', "", line)  # delimiters inside quotes do not count
    best = max(_DELIMITERS, key=bare.count)  # max keeps the first of equals
    return best if bare.count(best) else ","


def wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 without a BOM, told by where the NULs of ASCII characters fall (a
    BMP character in UTF-32 has two NULs of four); None for NULs in no such pattern."""
    sample = head[: len(head) - len(head) % 4]
    zeros = [sample[k::4].count(0) / max(len(sample[k::4]), 1) for k in range(4)]
    if min(zeros[2:]) > 0.9 and zeros[0] < 0.5:
        return "utf-32-le"
    if min(zeros[:2]) > 0.9 and zeros[3] < 0.5:
        return "utf-32-be"
    if min(zeros[1], zeros[3]) > 0.2 and max(zeros[0], zeros[2]) < 0.02:
        return "utf-16-le"
    if min(zeros[0], zeros[2]) > 0.2 and max(zeros[1], zeros[3]) < 0.02:
        return "utf-16-be"
    return None


def undecodable_line(path: Path, encoding: str, block_size: int = 64 * 1024,
                     ) -> tuple[int, int]:
    """The physical line and byte offset of the first byte `encoding` cannot decode (a text
    stream's decoder reads ahead, so its error names no line)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 0
    with open(path, "rb") as stream:
        while block := stream.read(block_size):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad = max(exc.start, 0)  # may point into bytes held from the block before
                return lines + block.count(b"\n", 0, bad) + 1, offset + bad
            offset, lines = offset + len(block), lines + block.count(b"\n")
    return lines + 1, offset
