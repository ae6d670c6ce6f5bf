"""Aligned text for a terminal: result tables, leaderboards, forecasts, comparisons, answers."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...i18n import section
from . import amount_text, cell_text, grid, percent_text
from .base import Renderer
from .model import (
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
        self.write(results_table(ruleset, list(items), self.lang) + "\n")

    def leaderboard(self, ruleset: Ruleset, items: list[Evaluated], by: str) -> None:
        rows = leaderboard_rows(items, by)
        self.write(leaderboard_table(ruleset, rows, by, self.lang) + "\n")

    def forecast(self, ruleset: Ruleset, items: list[Evaluated], forecasts: list[Forecast],
                 pace: Pace) -> None:
        self.write(forecast_table(ruleset, forecasts, pace, self.lang) + "\n")

    def comparison(self, comparison: Comparison, currency: str) -> None:
        self.write(comparison_table(comparison, currency, self.lang) + "\n")

    def target(self, seek: Seek, ruleset: Ruleset) -> None:
        self.write(target_text(seek, ruleset, self.lang) + "\n")


# ---------------------------------------------------------------- results


def results_table(ruleset: Ruleset, items: list[Evaluated], lang: str = "en") -> str:
    """Aligned columns: employee, [name], [grade], each component, total; a payroll total row."""
    words = section("TABLE", lang)
    extra = ["name"] if any("name" in i.extra for i in items) else []
    columns = flat_columns(ruleset, extra, detailed=False, lang=lang)
    headers = {"employee": words["employee"], "extra:name": words["name"],
               "grade": words["grade"], "total": words["total"]}
    rows = [flat_row(i) for i in items]
    sums: dict[str, Any] = {}
    for c in columns:
        if c.kind == "amount":
            values = [r[c.key] for r in rows if r.get(c.key) is not None]
            sums[c.key] = sum(values, Decimal(0)) if values else None
    count = len(items)
    noun = words["employees" if count != 1 else "employee1"]
    sums["employee"] = f"{words['total']} ({count} {noun})"
    cells = [[headers.get(c.key, c.header) for c in columns]]
    for row in [*rows, sums]:
        cells.append([amount_text(row.get(c.key), lang) if c.kind == "amount"
                      else str(row.get(c.key) or "") for c in columns])
    return title(ruleset, lang) + "\n\n" + grid(cells, [c.kind == "amount" for c in columns],
                                                total_row=True)


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
    heading = forecast.employee + ("" if forecast.so_far.grade == "base"
                                   else f" ({forecast.so_far.grade})")
    return "\n".join([heading, grid(cells, [False, True, True, True, True, True, False]),
                      f"{words['payout']}: " + " · ".join(parts)])


def forecast_table(ruleset: Ruleset, forecasts: Iterable[Forecast], pace: Pace,
                   lang: str = "en") -> str:
    blocks = [forecast_block(ruleset, f, lang) for f in forecasts]
    return "\n\n".join([title(ruleset, lang), forecast_caption(pace, lang), *blocks])


# ---------------------------------------------------------------- compare


def comparison_table(comparison: Comparison, currency: str, lang: str = "en") -> str:
    words = section("COMPARE", lang)
    cells = [[words[k] for k in ("employee", "grade", "old", "new", "delta", "changed")]]
    for r in comparison.rows:
        cells.append([r.employee, r.grade, amount_text(r.old_total, lang),
                      amount_text(r.new_total, lang), signed(r.delta, lang),
                      ", ".join(c.what for c in r.changes)])
    fund_delta = comparison.new_fund - comparison.old_fund
    cells.append([words["fund"], "", amount_text(comparison.old_fund, lang),
                  amount_text(comparison.new_fund, lang), signed(fund_delta, lang), ""])

    def who(rows: list[Any]) -> str:
        return ", ".join(f"{r.employee} {signed(r.delta, lang)}" for r in rows) or words["nobody"]

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

    def fact(value: Decimal | None) -> str:
        return fact_text(value, seek.unit, currency, lang)

    def money(value: Decimal | None) -> str:
        return fact_text(value, Unit.MONEY, currency, lang)

    fields = {"who": seek.employee, "earn": money(seek.target), "fact": seek.fact,
              "direction": words[seek.direction], "value": fact(seek.value),
              "current": fact(seek.current), "now": money(seek.now.total),
              "best": money(seek.best), "best_from": fact(seek.best_from)}
    lines = [words[seek.outcome].format(**fields)]
    if seek.outcome == "unreachable":
        if seek.limits:
            lines.append(words["because"] + "; ".join(x.describe(lang) for x in seek.limits)
                         + ".")
        lines.append(words["best"].format(**fields))
    if seek.at is not None and seek.outcome == "reached":
        lines.append(words["at"].format(value=fact(seek.value), total=money(seek.at.total)))
        before, after = seek.now.kpis, seek.at.kpis
        for name, kpi in after.items():
            old = before[name]
            if kpi.attainment != old.attainment and kpi.attainment is not None:
                band = next((line.band_text for line in seek.at.lines if line.kpi == name), "")
                lines.append(f"  {label(ruleset, seek.now.grade, name, lang)}: "
                             f"{percent_text(old.attainment, lang)} → "
                             f"{percent_text(kpi.attainment, lang)}"
                             + (f" ({words['band']} \"{band}\")" if band else ""))
        for change in changes(seek.now, seek.at):
            if change.what in after or change.what.startswith("plan of "):
                continue
            lines.append(f"  {change.what}: {amount_text(change.old, lang)} → "
                         f"{amount_text(change.new, lang)}")
    if seek.neighbour is not None:
        side = words["less"] if seek.direction == "at least" else words["more"]
        lines.append(words["short"].format(
            value=fact(seek.neighbour.facts[seek.fact]),
            step=fact(seek.resolution), side=side,
            total=money(seek.neighbour.total), earn=money(seek.target)))
    lines += [f"{words['note']}{note_text(note, seek.fact, lang)}." for note in seek.notes]
    lines.append(words["how"].format(count=seek.evaluations, step=fact(seek.resolution)))
    return "\n".join(lines)
