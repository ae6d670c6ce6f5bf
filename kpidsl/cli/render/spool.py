"""Descriptive columns first seen in a later row: the union, in first-seen order, in bounded memory.

CSV and XLSX write their header before the first row, but a descriptive column (`name`,
`region`) may first appear in a later JSON object, in a second facts file, or after rows
whose cell was empty. :func:`rows_with_every_column` reads every result first, collecting the
columns; the first ``KEEP`` rows stay in memory and the rest are pickled to an anonymous
temporary file and read back in order. Memory is bounded by ``KEEP`` rows plus the column
names however many rows there are (disk use is linear); the price is that the first line is
written only after the last row was evaluated.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...run import Evaluated

KEEP = 1_000  # rows kept in memory before the rest go to disk


def rows_with_every_column(items: Iterable[Evaluated],
                           to_row: Callable[[Evaluated], dict[str, Any]]
                           ) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every descriptive column of `items` in first-seen order, and their rows in order."""
    columns: dict[str, None] = {}
    kept: list[dict[str, Any]] = []
    spill: IO[bytes] | None = None
    for item in items:
        columns.update(dict.fromkeys(item.extra))
        row = to_row(item)
        if len(kept) < KEEP:
            kept.append(row)
            continue
        if spill is None:
            spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the rows are read
        # our own rows (str, Decimal, None, enums) read back from our own anonymous file
        pickle.dump(row, spill, protocol=pickle.HIGHEST_PROTOCOL)
    return list(columns), _replay(kept, spill)


def _replay(kept: list[dict[str, Any]], spill: IO[bytes] | None) -> Iterator[dict[str, Any]]:
    yield from kept
    if spill is None:
        return
    with spill:
        spill.seek(0)
        while True:
            try:
                yield pickle.load(spill)  # our own file, written just now
            except EOFError:
                return
