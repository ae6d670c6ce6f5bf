"""Source text and positions: every diagnostic and AST node points back here."""

from __future__ import annotations

import os
from bisect import bisect_right
from dataclasses import field

from .valueclass import valueclass


@valueclass(frozen=True)  # a frozen dataclass made without `exec` (kpidsl/valueclass.py)
class Span:
    """A region of a source file. Lines and columns are 1-based; offsets are 0-based."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(line: int, column: int, offset: int = 0) -> Span:
        return Span(offset, offset, line, column, line, column)


NO_SPAN = Span(0, 0, 0, 0, 0, 0)


def path_text(path: str | os.PathLike[str]) -> str:
    """`str(pathlib.Path(path))`, the name a file is shown by in diagnostics, without
    importing pathlib for a name already written as pathlib writes it (pathlib imports
    `urllib.parse` and `ipaddress`: 16 M instructions, 0.06× of `import lark, click`, of
    `kpidsl check`'s start-up). Any other name (`./a.kpi`, `a//b.kpi`, `a/`) is given to
    pathlib."""
    text = os.fspath(path)
    if os.sep == "/" and os.altsep is None and text and text != "." and \
            "//" not in text and "/./" not in text and not text.startswith("./") and \
            not text.endswith(("/", "/.")):
        return text
    from pathlib import Path

    return str(Path(text))


@valueclass(frozen=True)
class SourceFile:
    """A named piece of ruleset or facts text, with line lookup for caret rendering."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # str.find jumps from newline to newline in C: on a 600 000-character scheme (15 000
        # lines) this took 10 ms where a loop over every character took 58 ms
        starts = [0]
        find = self.text.find
        index = find("\n")
        while index != -1:
            starts.append(index + 1)
            index = find("\n", index + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline ('' when out of range)."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end == -1 else self.text[start:end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based offset."""
        index = bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(start, end, line, column, end_line, end_column)
