"""Columns in code points (what Python strings count) ↔ the client's units.

LSP counts columns in UTF-16 code units unless client and server agree on UTF-8 or
UTF-32. Cyrillic letters are one unit in UTF-16 and two bytes in UTF-8; '₽' is one and
three; a character beyond the BMP is two UTF-16 units.
"""

from __future__ import annotations


def to_client(line_text: str, column: int, encoding: str = "utf-16") -> int:
    """A code-point column of `line_text` in the client's units."""
    head = line_text[:column]
    if encoding == "utf-32":
        return len(head)
    if encoding == "utf-8":
        return len(head.encode("utf-8"))
    return len(head.encode("utf-16-le")) // 2


def from_client(line_text: str, units: int, encoding: str = "utf-16") -> int:
    """A column in the client's units as a code-point column of `line_text`."""
    if encoding == "utf-32":
        return min(units, len(line_text))
    size = 1 if encoding == "utf-8" else 2
    counted = 0
    for index, char in enumerate(line_text):
        if counted >= units:
            return index
        counted += len(char.encode("utf-8" if size == 1 else "utf-16-le")) // size
    return len(line_text)
