"""What every renderer is: one class per format, one method per kind of output.

A command builds the renderer for the format it was asked for
(`ResultsFormat(...).renderer(out, lang)`) and calls the method for what it has: results, a
leaderboard, forecasts, a comparison or a goal-seek answer. A format that cannot write a
kind of output says so with `Unsupported`, which the command turns into a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ...api import Ruleset
    from ...compare import Comparison
    from ...forecast import Forecast, Pace
    from ...goalseek import Seek
    from ...run import Counts, Evaluated


class Unsupported(Exception):
    """This format cannot write this kind of output; the message says which formats can."""


@dataclass
class RenderOptions:
    """What a command knows beyond the results: for formats that show where they came from
    or are written for people (Excel)."""

    excel: bool = False  # a CSV for a spreadsheet: BOM, the language's separators, rounded
    sheets: str | None = None  # XLSX: one sheet per "grade" or "team"
    limit: int | None = None  # table: the top and bottom N only
    scheme_file: str = ""
    facts_files: tuple[str, ...] = ()
    month: int | None = None
    counts: Counts | None = None  # complete once the results are exhausted


@dataclass
class Output:
    """Where a renderer writes: a text stream, or a path for formats written as files."""

    stream: IO[str] | None = None
    path: Path | IO[bytes] | None = None  # a binary stream: see kpidsl.outfile

    @property
    def text(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stdout


class Renderer:
    """The default for every kind of output is 'this format cannot write it'."""

    name = ""

    def __init__(self, out: Output, lang: str = "en",
                 options: RenderOptions | None = None) -> None:
        self.out = out
        self.lang = lang
        self.options = options or RenderOptions()

    def write(self, text: str) -> None:
        self.out.text.write(text)

    def results(self, ruleset: Ruleset, items: Iterable[Evaluated]) -> None:
        raise Unsupported(f"results cannot be written as {self.name}")

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        raise Unsupported(f"a leaderboard cannot be written as {self.name}")

    def forecast(self, ruleset: Ruleset, items: list[Evaluated], forecasts: list[Forecast],
                 pace: Pace) -> None:
        raise Unsupported(f"a forecast is written as table, json, jsonl or csv, not {self.name}")

    def comparison(self, comparison: Comparison, old: Ruleset, new: Ruleset) -> None:
        raise Unsupported(f"a comparison cannot be written as {self.name}")

    def target(self, seek: Seek, ruleset: Ruleset) -> None:
        raise Unsupported(f"a goal-seek answer cannot be written as {self.name}")

