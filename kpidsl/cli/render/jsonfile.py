"""JSON (an array, streamed item by item) and JSON Lines: exact decimals as strings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from .base import Renderer
from .model import forecast_dict, json_ready, leaderboard_columns, leaderboard_rows, result_dict

if TYPE_CHECKING:
    from ...api import Ruleset
    from ...compare import Comparison
    from ...forecast import Forecast, Pace
    from ...goalseek import Seek
    from ...run import Evaluated


# one encoder for every item: json.dumps(item, ensure_ascii=False) builds a new one per call
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def write_json(stream: IO[str], items: Iterable[dict[str, Any]]) -> None:
    """A JSON array, written item by item (never the whole list in memory)."""
    first = True
    stream.write("[")
    for item in items:
        stream.write("\n  " if first else ",\n  ")
        stream.write(_ENCODE(item))
        first = False
    stream.write("\n]\n" if not first else "]\n")


def write_jsonl(stream: IO[str], items: Iterable[dict[str, Any]]) -> None:
    write = stream.write
    for item in items:
        write(_ENCODE(item))
        write("\n")


class JsonRenderer(Renderer):
    name = "json"

    def items(self, items: Iterable[dict[str, Any]]) -> None:
        write_json(self.out.text, items)

    def results(self, ruleset: Ruleset, items: Iterable[Evaluated]) -> None:
        if getattr(items, "native", None) is not None:  # DuckDB writes the items
            from ...sql.formats import write_json_items

            if write_json_items(self.out.text.write, ruleset, items, self.name == "json"):
                return
        fused = getattr(items, "fused", None)
        if fused is not None:  # one CSV file: read, evaluated and written in one loop
            from ...fused import write_results

            write_results(fused, self.name, self.out.text)
            return
        self.items(result_dict(i) for i in items)

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        rows = leaderboard_rows(items, by)
        columns = leaderboard_columns(ruleset, by, any("name" in r for r in rows))
        self.items(json_ready(r, columns) for r in rows)

    def forecast(self, ruleset: Ruleset, items: list[Evaluated], forecasts: list[Forecast],
                 pace: Pace) -> None:
        self.items(forecast_dict(i, f) for i, f in zip(items, forecasts, strict=True))

    def comparison(self, comparison: Comparison, old: Ruleset, new: Ruleset) -> None:
        self.write(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2) + "\n")

    def target(self, seek: Seek, ruleset: Ruleset) -> None:
        self.write(json.dumps(seek.to_dict(), ensure_ascii=False, indent=2) + "\n")


class JsonLinesRenderer(JsonRenderer):
    name = "jsonl"

    def items(self, items: Iterable[dict[str, Any]]) -> None:
        write_jsonl(self.out.text, items)

    def comparison(self, comparison: Comparison, old: Ruleset, new: Ruleset) -> None:
        Renderer.comparison(self, comparison, old, new)

    def target(self, seek: Seek, ruleset: Ruleset) -> None:
        Renderer.target(self, seek, ruleset)
