"""Aligned text for a terminal: result tables, leaderboards, forecasts, comparisons, answers."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...escape import visible
from ...i18n import section
from . import _pad, _width, amount_text, cell_text, grid, percent_text
from .base import Renderer
from .model import (
    Labels,
    fact_text,
    flat_columns,
    flat_row,
    label,
    leaderboard_columns,
    leaderboard_rows,
    signed,
    title,
    value_text,
)

if TYPE_CHECKING:
    from ...api import Ruleset
    from ...compare import Comparison
    from ...forecast import Forecast, Pace
    from ...goalseek import Seek
    from ...run import Evaluated


class TableRenderer(Renderer):
    name = "table"

    def results(self, ruleset: Ruleset, items: Iterable[Evaluated]) -> None:
        if self.options.limit is not None:
            self.write(limited_table(ruleset, items, self.options.limit, self.lang) + "\n")
        else:
            if getattr(items, "native", None) is not None:  # DuckDB writes the rows
                from ...sql.native import write_table

                if write_table(self.write, ruleset, items, self.lang):
                    return
            write_results(self.write, ruleset, items, self.lang)

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        rows = leaderboard_rows(items, by)
        self.write(leaderboard_table(ruleset, rows, by, self.lang) + "\n")

    def forecast(self, ruleset: Ruleset, items: list[Evaluated], forecasts: list[Forecast],
                 pace: Pace) -> None:
        self.write(forecast_table(ruleset, forecasts, pace, self.lang) + "\n")

    def comparison(self, comparison: Comparison, old: Ruleset, new: Ruleset) -> None:
        self.write(comparison_table(comparison, new.currency, self.lang,
                                    Labels(self.lang, new, old)) + "\n")

    def target(self, seek: Seek, ruleset: Ruleset) -> None:
        self.write(target_text(seek, ruleset, self.lang) + "\n")


# ---------------------------------------------------------------- results


BUFFER = 1000  # rows held to size the columns; past it the table streams (flat memory)


def _layout(ruleset: Ruleset, with_name: bool, lang: str) -> tuple[list[Any], list[str]]:
    words = section("TABLE", lang)
    columns = flat_columns(ruleset, ["name"] if with_name else [], detailed=False, lang=lang)
    headers = {"employee": words["employee"], "extra:name": words["name"],
               "grade": words["grade"], "total": words["total"]}
    return columns, [headers.get(c.key, c.header) for c in columns]


def _cells(row: dict[str, Any], columns: list[Any], lang: str) -> list[str]:
    return [amount_text(row.get(c.key), lang) if c.kind == "amount"
            else visible(str(row.get(c.key) or "")) for c in columns]


def _total_row(sums: dict[str, Any], count: int, columns: list[Any], lang: str) -> list[str]:
    words = section("TABLE", lang)
    noun = words["employees" if count != 1 else "employee1"]
    row = {c.key: sums.get(c.key) for c in columns if c.kind == "amount"}
    row["employee"] = f"{words['total']} ({count} {noun})"
    return _cells(row, columns, lang)


def _add(sums: dict[str, Any], row: dict[str, Any], columns: list[Any]) -> None:
    for c in columns:
        if c.kind == "amount" and row.get(c.key) is not None:
            sums[c.key] = sums.get(c.key, Decimal(0)) + row[c.key]


def results_table(ruleset: Ruleset, items: list[Evaluated], lang: str = "en") -> str:
    """Aligned columns: employee, [name], [grade], each component, total; a payroll total row."""
    columns, header = _layout(ruleset, any("name" in i.extra for i in items), lang)
    rows = [flat_row(i) for i in items]
    sums: dict[str, Any] = {}
    for row in rows:
        _add(sums, row, columns)
    cells = [header, *(_cells(r, columns, lang) for r in rows),
             _total_row(sums, len(items), columns, lang)]
    return title(ruleset, lang) + "\n\n" + grid(cells, [c.kind == "amount" for c in columns],
                                                total_row=True)


class StreamedTable:
    """A results table that streams: its columns and widths set by the first rows (amount
    columns get room for the totals), each later row written as one line."""

    def __init__(self, ruleset: Ruleset, head: list[Evaluated], lang: str) -> None:
        self.lang = lang
        self.columns, header = _layout(ruleset, any("name" in i.extra for i in head), lang)
        self.right = [c.kind == "amount" for c in self.columns]
        self.rows = [flat_row(i) for i in head]
        cells = [header, *(_cells(r, self.columns, lang) for r in self.rows)]
        self.widths = [max(_width(row[i]) for row in cells) + (3 if self.right[i] else 0)
                       for i in range(len(header))]
        self.rule = "  ".join("─" * w for w in self.widths)
        self.opening = title(ruleset, lang) + "\n\n" + self.line(header) + "\n" + self.rule + "\n"

    def line(self, cells: list[str]) -> str:
        return "  ".join(_pad(text, self.widths[i], self.right[i])
                         for i, text in enumerate(cells)).rstrip()

    def row_line(self, row: dict[str, Any]) -> str:
        return self.line(_cells(row, self.columns, self.lang)) + "\n"

    def closing(self, sums: dict[str, Any], count: int) -> str:
        return self.rule + "\n" + self.line(_total_row(sums, count, self.columns,
                                                         self.lang)) + "\n"


def write_results(write: Callable[[str], None], ruleset: Ruleset, items: Iterable[Evaluated],
                  lang: str) -> None:
    """The results table; past BUFFER rows it streams, so memory stays flat for a million
    rows."""
    items = iter(items)
    head = list(itertools.islice(items, BUFFER + 1))
    if len(head) <= BUFFER:
        write(results_table(ruleset, head, lang) + "\n")
        return
    table = StreamedTable(ruleset, head, lang)
    sums: dict[str, Any] = {}
    write(table.opening)
    count = 0
    for row in itertools.chain(table.rows, (flat_row(i) for i in items)):
        count += 1
        _add(sums, row, table.columns)
        write(table.row_line(row))
    write(table.closing(sums, count))


def limited_table(ruleset: Ruleset, items: Iterable[Evaluated], limit: int,
                  lang: str = "en") -> str:
    """The `limit` best and `limit` lowest totals, how many are left out between them, and
    the payroll total of everyone; only 2 × limit rows are ever held."""
    words = section("TABLE", lang)
    top: list[tuple[Decimal, int, dict[str, Any]]] = []
    bottom: list[tuple[Decimal, int, dict[str, Any]]] = []
    sums: dict[str, Any] = {}
    count = 0
    with_name = False
    columns, _header = _layout(ruleset, False, lang)
    named_columns, _named = _layout(ruleset, True, lang)
    for item in items:
        row = flat_row(item)
        with_name = with_name or "name" in item.extra
        _add(sums, row, named_columns)
        count += 1
        total = item.result.total
        heapq.heappush(top, (total, -count, row))
        if len(top) > limit:
            heapq.heappop(top)
        heapq.heappush(bottom, (-total, -count, row))
        if len(bottom) > limit:
            heapq.heappop(bottom)
    columns, header = _layout(ruleset, with_name, lang)
    best = [r for _t, _i, r in sorted(top, key=lambda t: (-t[0], -t[1]))]
    if count <= 2 * limit:
        shown = sorted({id(r): r for r in [*best, *(r for _t, _i, r in bottom)]}.values(),
                       key=lambda r: -r["total"])
        cells = [header, *(_cells(r, columns, lang) for r in shown)]
        gap = None
    else:
        lowest = [r for _t, _i, r in sorted(bottom, key=lambda t: (t[0], t[1]))][::-1]
        lowest = sorted(lowest, key=lambda r: -r["total"])
        cells = [header, *(_cells(r, columns, lang) for r in best)]
        gap = len(cells)
        cells += [_cells(r, columns, lang) for r in lowest]
    cells.append(_total_row(sums, count, columns, lang))
    text = grid(cells, [c.kind == "amount" for c in columns], total_row=True)
    if gap is not None:
        lines = text.split("\n")
        omitted = words["omitted"].format(count=count - 2 * limit, limit=limit)
        lines.insert(gap + 1, omitted)  # after the header, its rule and the best rows
        text = "\n".join(lines)
    return title(ruleset, lang) + "\n\n" + text


def leaderboard_table(ruleset: Ruleset, rows: list[dict[str, Any]], by: str,
                      lang: str = "en") -> str:
    words = section("TABLE", lang)
    columns = leaderboard_columns(ruleset, by, any("name" in r for r in rows))
    headers = {"rank": words["rank"], "employee": words["employee"], "name": words["name"],
               "grade": words["grade"], "total": words["total"],
               "value": words["attainment"]}
    if by == "total":
        heading = words["by_total"]
    else:
        from ...labels import label_in

        kpi = next((v.kpis[by] for v in ruleset.checked.variants.values() if by in v.kpis), None)
        name = label_in(kpi, lang) if kpi is not None else by
        heading = f"{words['by_kpi']}: {name}"
    cells = [[headers[c.key] for c in columns]]
    for row in rows:
        line = []
        for c in columns:
            value = row.get(c.key)
            if c.kind == "amount":
                line.append(amount_text(value, lang))
            elif c.kind == "percent":
                line.append(percent_text(value, lang) if value is not None else "—")
            else:
                line.append("" if value is None else cell_text(value))
        cells.append(line)
    right = [c.kind in ("amount", "percent") or c.key == "rank" for c in columns]
    return heading + "\n\n" + grid(cells, right)


# ---------------------------------------------------------------- forecasts


def forecast_caption(pace: Pace, lang: str) -> str:
    words = section("FORECAST", lang)
    caption = words["caption"].format(elapsed=pace.elapsed, total=pace.total)
    return caption + (words["as_of"].format(date=pace.as_of.isoformat()) if pace.as_of else "")


def forecast_block(ruleset: Ruleset, forecast: Forecast, lang: str = "en") -> str:
    """One employee: each KPI's plan, daily norm, fact so far, fulfilment, forecast, status."""
    words = section("FORECAST", lang)
    cells = [[words[k] for k in ("kpi", "plan", "norm", "fact", "fulfilment", "forecast",
                                 "status")]]
    grade = forecast.so_far.grade
    for k in forecast.kpis.values():
        state = words.get(k.status, "")
        if not k.paced and state:
            state = f"{state} ({words['kept']})"
        cells.append([label(ruleset, grade, k.name, lang), value_text(k.plan, k.unit, lang),
                      value_text(k.daily_norm, k.unit, lang) if k.paced else "—",
                      value_text(k.fact, k.unit, lang),
                      percent_text(k.fulfilment, lang) or "—",
                      value_text(k.forecast, k.unit, lang), state])
    parts = [f"{label(ruleset, grade, name, lang)} {amount_text(v, lang)}"
             for name, v in forecast.at_end.components.items()]
    parts.append(f"{words['total']} {amount_text(forecast.total, lang)}")
    heading = visible(forecast.employee) + ("" if forecast.so_far.grade == "base"
                                   else f" ({forecast.so_far.grade})")
    return "\n".join([heading, grid(cells, [False, True, True, True, True, True, False]),
                      f"{words['payout']}: " + " · ".join(parts)])


def forecast_table(ruleset: Ruleset, forecasts: Iterable[Forecast], pace: Pace,
                   lang: str = "en") -> str:
    blocks = [forecast_block(ruleset, f, lang) for f in forecasts]
    return "\n\n".join([title(ruleset, lang), forecast_caption(pace, lang), *blocks])


# ---------------------------------------------------------------- compare


def comparison_table(comparison: Comparison, currency: str, lang: str = "en",
                     labels: Labels | None = None) -> str:
    words = section("COMPARE", lang)
    labels = labels or Labels(lang)
    cells = [[words[k] for k in ("employee", "grade", "old", "new", "delta", "changed")]]
    for r in comparison.rows:
        cells.append([r.employee, labels.grade(r.grade), amount_text(r.old_total, lang),
                      amount_text(r.new_total, lang), signed(r.delta, lang),
                      ", ".join(labels.change(c) for c in r.changes)])
    fund_delta = comparison.new_fund - comparison.old_fund
    cells.append([words["fund"], "", amount_text(comparison.old_fund, lang),
                  amount_text(comparison.new_fund, lang), signed(fund_delta, lang), ""])

    def who(rows: list[Any]) -> str:
        return ", ".join(f"{visible(r.employee)} {signed(r.delta, lang)}"
                         for r in rows) or words["nobody"]

    heading = f"{words['title']}: {comparison.old_name} → {comparison.new_name} · {currency}"
    return "\n".join([heading, "", grid(cells, [False, False, True, True, True, False],
                                        total_row=True), "",
                      f"{words['gain']}: {who(comparison.gainers)}",
                      f"{words['lose']}: {who(comparison.losers)}",
                      f"{words['same']}: {len(comparison.unchanged)}"])


# ---------------------------------------------------------------- target


def target_text(seek: Seek, ruleset: Ruleset, lang: str = "en") -> str:
    """The answer with its evidence: what changes at the answer, and one step short of it."""
    from ...compare import changes
    from ...goalseek import note_text
    from ...units import Unit

    words = section("TARGET", lang)
    currency = ruleset.currency
    labels = Labels(lang, ruleset)

    def fact(value: Decimal | None) -> str:
        return fact_text(value, seek.unit, currency, lang)

    def money(value: Decimal | None) -> str:
        return fact_text(value, Unit.MONEY, currency, lang)

    fields = {"who": visible(seek.employee), "earn": money(seek.target),
              "fact": labels.name(seek.fact),
              "direction": words[seek.direction], "value": fact(seek.value),
              "current": fact(seek.current), "now": money(seek.now.total),
              "best": money(seek.best), "best_from": fact(seek.best_from)}
    lines = [words[seek.outcome].format(**fields)]
    if seek.outcome == "unreachable":
        if seek.limits:
            lines.append(words["because"] + "; ".join(x.describe(lang, labels.name)
                                                      for x in seek.limits) + ".")
        lines.append(words["best"].format(**fields))
    if seek.at is not None and seek.outcome == "reached":
        lines.append(words["at"].format(value=fact(seek.value), total=money(seek.at.total)))
        before, after = seek.now.kpis, seek.at.kpis
        for name, kpi in after.items():
            old = before[name]
            if kpi.attainment != old.attainment and kpi.attainment is not None:
                band = next((band_text(ruleset, seek.at.grade, line, lang)
                             for line in seek.at.lines if line.kpi == name), "")
                lines.append(f"  {label(ruleset, seek.now.grade, name, lang)}: "
                             f"{percent_text(old.attainment, lang)} → "
                             f"{percent_text(kpi.attainment, lang)}"
                             + (f" ({words['band'].format(band=band)})" if band else ""))
        for change in changes(seek.now, seek.at):
            if change.what in after or change.what.startswith("plan of "):
                continue
            lines.append(f"  {labels.change(change)}: {amount_text(change.old, lang)} → "
                         f"{amount_text(change.new, lang)}")
    if seek.neighbour is not None:
        side = words["less"] if seek.direction == "at least" else words["more"]
        lines.append(words["short"].format(
            value=fact(seek.neighbour.facts[seek.fact]),
            step=fact(seek.resolution), side=side,
            total=money(seek.neighbour.total), earn=money(seek.target)))
    lines += [f"{words['note']}{note_text(note, labels.name(seek.fact), lang)}."
              for note in seek.notes]
    lines.append(words["how"].format(count=seek.evaluations, step=fact(seek.resolution)))
    return "\n".join(lines)


def band_text(ruleset: Ruleset, grade: str, line: Any, lang: str) -> str:
    """The band a line fell into: as the scheme writes it in English, in words in Russian."""
    if lang == "en":
        return str(line.band_text)
    from ...docs.calc import band_words
    from ...docs.text import Say

    variant = ruleset.checked.variants[grade]
    say = Say(lang, ruleset.currency, variant)
    return band_words(say, variant.curves.get(line.curve), line.band)
