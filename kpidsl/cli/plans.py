"""Schemes in real life on the command line: `compare`, `target`, and eval's forecast options.

`kpidsl compare OLD.kpi NEW.kpi FACTS` runs a pilot scheme next to the current one;
`kpidsl target RULESET FACTS --employee ID --earn 130000 --vary revenue` finds the smallest
value of one fact that brings the income. `eval` takes `@forecast_options` from here:
--elapsed/--total-days or --as-of/--holidays add a forecast to period end, and --period
picks the version in force from a directory of versions.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from .common import (
    FINDINGS,
    OK,
    FactsOptions,
    facts_options,
    fail,
    handle_errors,
    lang_option,
)

if TYPE_CHECKING:
    from ..api import Ruleset
    from ..compare import Comparison
    from ..forecast import Forecast, Pace
    from ..goalseek import Seek
    from .common import Evaluated

F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------- eval's options


@dataclass(frozen=True)
class PlanOptions:
    """eval's options for real-life runs: a forecast to period end, a period for versions."""

    elapsed: int | None = None
    total_days: int | None = None
    as_of: dt.date | None = None
    holidays: str | None = None
    period: str | None = None
    hold: tuple[str, ...] = ()

    def pace(self) -> Pace | None:
        """None unless a forecast was asked for; KpiError for inconsistent days."""
        from ..forecast import Calendar, make_pace, read_holidays

        if self.as_of is not None:
            if self.elapsed is not None or self.total_days is not None:
                fail("give either --as-of or --elapsed/--total-days, not both")
            calendar = read_holidays(self.holidays) if self.holidays else Calendar()
            return calendar.pace(self.as_of)
        if self.holidays:
            fail("--holidays needs --as-of (the calendar counts the days up to that date)")
        if self.elapsed is None and self.total_days is None:
            return None
        if self.elapsed is None or self.total_days is None:
            fail("a forecast needs both --elapsed and --total-days (or --as-of DATE)")
        return make_pace(self.elapsed, self.total_days)  # type: ignore[arg-type]


def _as_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    from ..forecast import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def forecast_options(function: F) -> F:
    """--elapsed, --total-days, --as-of, --holidays, --hold and --period → `plan: PlanOptions`."""

    @click.option("--elapsed", type=int, default=None, metavar="DAYS",
                  help="Forecast: working days behind, today included (with --total-days).")
    @click.option("--total-days", type=int, default=None, metavar="DAYS",
                  help="Forecast: working days in the period.")
    @click.option("--as-of", "as_of", default=None, metavar="DATE", callback=_as_date,
                  help="Forecast as of DATE (YYYY-MM-DD): days counted on a Monday–Friday "
                       "calendar of DATE's month.")
    @click.option("--holidays", default=None, metavar="FILE", type=click.Path(dir_okay=False),
                  help="With --as-of: holidays, one date per line ('DATE working' for a "
                       "working weekend day).")
    @click.option("--hold", multiple=True, metavar="FACT",
                  help="Forecast: keep this money or count fact as it is (repeatable).")
    @click.option("--period", default=None, metavar="YYYY-MM",
                  help="The period evaluated: picks the version in force when RULESET is a "
                       "directory of versions; sets the month for plans by month.")
    @functools.wraps(function)
    def wrapper(*args: Any, elapsed: int | None, total_days: int | None,
                as_of: dt.date | None, holidays: str | None, hold: tuple[str, ...],
                period: str | None, **kwargs: Any) -> Any:
        plan = PlanOptions(elapsed, total_days, as_of, holidays, period, tuple(hold))
        return function(*args, plan=plan, **kwargs)

    return wrapper  # type: ignore[return-value]


def load_scheme(path: str, plan: PlanOptions, month: int | None, *,
                strict: bool = True) -> tuple[Ruleset, int | None]:
    """The scheme to evaluate (a file, or the version in force for --period) and the month.

    Says on stderr which version was picked; --month wins over the month of --period/--as-of.
    With `strict`, a single file must be in force in --period.
    """
    from ..versions import resolve
    from .render import diagnostics_text

    resolved = resolve(path, plan.period, strict=strict)
    warnings = [*resolved.warnings, *resolved.ruleset.diagnostics]
    if warnings:
        click.echo(diagnostics_text(warnings), err=True)
    if resolved.version is not None:
        click.echo(resolved.note(), err=True)
    if month is None:
        month = resolved.month or (plan.as_of.month if plan.as_of else None)
    return resolved.ruleset, month


# ---------------------------------------------------------------- forecast output


FORECAST_WORDS = {
    "en": {"kpi": "KPI", "plan": "Plan", "norm": "Per day", "fact": "So far",
           "fulfilment": "Fulfilment", "forecast": "Forecast", "status": "Status",
           "ahead": "ahead", "on plan": "on plan", "behind": "behind",
           "kept": "not extrapolated", "payout": "Projected payout", "total": "total",
           "caption": "Forecast to period end: day {elapsed} of {total} working days",
           "as_of": " (as of {date})"},
    "ru": {"kpi": "Показатель", "plan": "План", "norm": "В день", "fact": "Факт",
           "fulfilment": "Выполнение", "forecast": "Прогноз", "status": "Статус",
           "ahead": "опережает", "on plan": "в плане", "behind": "отстаёт",
           "kept": "не экстраполируется", "payout": "Прогноз выплаты", "total": "итого",
           "caption": "Прогноз до конца периода: день {elapsed} из {total} рабочих",
           "as_of": " (на {date})"},
}


def value_text(value: Decimal | None, unit: Any, lang: str = "en") -> str:
    """A KPI value for a table: percents as percents, the rest to at most two decimals."""
    from ..units import Unit
    from .render import amount_text

    if value is None:
        return "—"
    if unit is Unit.PERCENT:
        scaled = (value * 100).quantize(Decimal("0.01")).normalize()
        text = amount_text(scaled, lang)
        return f"{text}\u00a0%" if lang == "ru" else f"{text}%"
    shown = value.quantize(Decimal("0.0001") if unit is Unit.RATIO else Decimal("0.01"))
    shown = shown.normalize() if unit is Unit.RATIO else shown
    if shown == shown.to_integral_value():
        shown = shown.quantize(Decimal(1))
    return amount_text(shown, lang)


def forecast_caption(pace: Pace, lang: str) -> str:
    words = FORECAST_WORDS[lang]
    caption = words["caption"].format(elapsed=pace.elapsed, total=pace.total)
    return caption + (words["as_of"].format(date=pace.as_of.isoformat()) if pace.as_of else "")


def label(ruleset: Ruleset, grade: str, name: str, lang: str) -> str:
    """A KPI's or a payment's label in the reader's language (its name when it has none)."""
    from ..labels import label_in

    variant = ruleset.checked.variants[grade]
    node = variant.kpis.get(name) or variant.pays.get(name)
    return label_in(node, lang) if node is not None else name


def forecast_block(ruleset: Ruleset, forecast: Forecast, lang: str = "en") -> str:
    """One employee: each KPI's plan, daily norm, fact so far, fulfilment, forecast, status."""
    from .render import amount_text, grid, percent_text

    words = FORECAST_WORDS[lang]
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
    title = forecast.employee + ("" if forecast.so_far.grade == "base"
                                 else f" ({forecast.so_far.grade})")
    return "\n".join([title, grid(cells, [False, True, True, True, True, True, False]),
                      f"{words['payout']}: " + " · ".join(parts)])


def title(ruleset: Ruleset, lang: str) -> str:
    """'Менеджер B2B · b2b_seasonal · version 2025.2 · RUB'."""
    from ..labels import label_in

    header = ruleset.checked.header
    parts = [label_in(header, lang), header.name]
    if header.version:
        parts.append(f"{'версия' if lang == 'ru' else 'version'} {header.version}")
    parts.append(ruleset.currency)
    return " · ".join(dict.fromkeys(parts))


def forecast_table(ruleset: Ruleset, forecasts: Iterable[Forecast], pace: Pace,
                   lang: str = "en") -> str:
    blocks = [forecast_block(ruleset, f, lang) for f in forecasts]
    return "\n\n".join([title(ruleset, lang), forecast_caption(pace, lang), *blocks])


def forecast_dict(item: Evaluated, forecast: Forecast) -> dict[str, Any]:
    """eval's JSON for one employee, each KPI with `fact`, `fulfilment`, `forecast` added."""
    from ..forecast import kpi_dict
    from .render import result_dict

    data = result_dict(item)
    for name, kpi in forecast.kpis.items():
        data["kpis"].setdefault(name, {}).update(kpi_dict(kpi))
    whole = forecast.to_dict()
    for key in ("elapsed_days", "total_days", "as_of", "projected_facts",
                "forecast_components", "forecast_total"):
        data[key] = whole[key]
    return data


FORECAST_COLUMNS = ("employee", "kpi", "plan", "daily_norm", "fact", "fulfilment", "forecast",
                    "forecast_attainment", "status")


def forecast_rows(forecasts: Iterable[Forecast]) -> Iterable[list[str]]:
    """CSV: one row per employee and KPI, then the employee's projected total."""
    from ..forecast import kpi_dict

    for f in forecasts:
        for name, kpi in f.kpis.items():
            d = kpi_dict(kpi)
            yield [f.employee, name, *(d[c] or "" for c in FORECAST_COLUMNS[2:8]), d["status"]]
        yield [f.employee, "(total)", "", "", str(f.so_far.total), "", str(f.total), "", ""]


def write_forecast(ruleset: Ruleset, items: Iterable[Evaluated], pace: Pace, plan: PlanOptions,
                   month: int | None, output_format: str, stream: IO[str], lang: str, *,
                   facts_paths: Iterable[str] = (), facts: FactsOptions | None = None) -> None:
    """eval with a forecast: the facts so far are in `items`; the projection is evaluated here.

    A scheme paid per team is projected from its members' rows, read again from the files.
    """
    import csv

    from ..forecast import forecasts_of
    from .render import write_json, write_jsonl

    kept = list(items)
    unknown = [h for h in plan.hold if h not in ruleset.fact_specs]
    if unknown:
        fail(f"--hold: '{unknown[0]}' is not a fact of {ruleset.name}")
    members = None
    if ruleset.checked.header.per_team:  # bad rows were reported by the first reading
        members = _read_rows(ruleset.fact_specs, facts_paths, facts or FactsOptions(),
                             lambda _failure: None)
    forecasts = list(forecasts_of(ruleset, [i.result for i in kept], pace, month=month,
                                  hold=plan.hold, members=members,
                                  grade=facts.grade if facts else None))
    if output_format == "table":
        stream.write(forecast_table(ruleset, forecasts, pace, lang) + "\n")
    elif output_format in ("json", "jsonl"):
        write = write_json if output_format == "json" else write_jsonl
        write(stream, (forecast_dict(i, f) for i, f in zip(kept, forecasts, strict=True)))
    elif output_format == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(FORECAST_COLUMNS)
        writer.writerows(forecast_rows(forecasts))
    else:
        fail(f"a forecast is written as table, json, jsonl or csv, not {output_format}")


# ---------------------------------------------------------------- compare


COMPARE_WORDS = {
    "en": {"title": "Pilot comparison", "employee": "Employee", "grade": "Grade",
           "old": "Old total", "new": "New total", "delta": "Difference",
           "changed": "Changed lines", "fund": "Payroll fund", "gain": "Gain",
           "lose": "Lose", "same": "Unchanged", "nobody": "nobody"},
    "ru": {"title": "Сравнение схем (пилот)", "employee": "Сотрудник", "grade": "Грейд",
           "old": "Было", "new": "Стало", "delta": "Разница", "changed": "Изменились строки",
           "fund": "Фонд оплаты", "gain": "Выигрывают", "lose": "Теряют",
           "same": "Без изменений", "nobody": "никто"},
}


def signed(value: Decimal, lang: str) -> str:
    from .render import amount_text

    text = amount_text(abs(value), lang)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


def comparison_table(comparison: Comparison, currency: str, lang: str = "en") -> str:
    from .render import amount_text, grid

    words = COMPARE_WORDS[lang]
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

    title = f"{words['title']}: {comparison.old_name} → {comparison.new_name} · {currency}"
    return "\n".join([title, "", grid(cells, [False, False, True, True, True, False],
                                      total_row=True), "",
                      f"{words['gain']}: {who(comparison.gainers)}",
                      f"{words['lose']}: {who(comparison.losers)}",
                      f"{words['same']}: {len(comparison.unchanged)}"])


def _read_rows(specs: dict[str, Any], facts_paths: Iterable[str], facts: FactsOptions,
               report: Callable[[Any], None]) -> list[Any]:
    """Every good row of the facts files; bad rows go to `report` as RowFailures."""
    from ..facts import FactRow, read_facts
    from .common import _from_row_error

    rows = []
    for path in facts_paths:
        reader = read_facts(path, specs, id_column=facts.id_column, mapping=facts.mapping,
                            sheet=facts.sheet, **facts.reading())
        for item in reader:
            if isinstance(item, FactRow):
                rows.append(item)
            else:
                report(_from_row_error(item))
    return rows


def _union_specs(*rulesets: Ruleset) -> dict[str, Any]:
    """Facts either scheme reads; required when either requires it."""
    import dataclasses

    specs: dict[str, Any] = {}
    for ruleset in rulesets:
        for name, spec in ruleset.fact_specs.items():
            known = specs.get(name)
            specs[name] = spec if known is None else \
                dataclasses.replace(known, required=known.required or spec.required)
    return specs


def month_and_period(function: F) -> F:
    """--month and --period, shared by compare and target."""
    function = click.option(
        "--period", default=None, metavar="YYYY-MM",
        help="The period: picks the version in force from a directory of versions and sets "
             "the month.")(function)
    return click.option(
        "--month", default=None, metavar="MONTH",
        help="The month evaluated (jan..dec or 1..12), for plans that differ by month.",
    )(function)


@click.command("compare")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@facts_options
@click.option("--format", "output_format", type=click.Choice(["table", "json", "csv"]),
              default="table", show_default=True, help="How the comparison is written.")
@month_and_period
@lang_option
@handle_errors
def compare_command(old: str, new: str, facts_paths: tuple[str, ...], facts: FactsOptions,
                    output_format: str, month: str | None, period: str | None,
                    lang: str) -> None:
    """Run a new scheme next to the current one on the same facts (a pilot month).

    For every employee: the old total, the new total, the difference and the lines that
    changed; the payroll fund under each; who gains and who loses. Amounts are exact.

    \b
    Example:
      kpidsl compare rulesets/b2b_manager.kpi pilot.kpi rulesets/b2b_manager.facts.csv
      kpidsl compare current.kpi pilot.kpi march.csv --format csv > pilot.csv
      kpidsl compare rulesets/versions pilot.kpi july.csv --period 2025-07
    """
    from ..compare import compare, to_csv, to_json
    from .common import RowFailure
    from .evaluate import check_grade, month_number
    from .render import row_failure_text

    when = PlanOptions(period=period)
    before, chosen = load_scheme(old, when, month_number(month), strict=False)
    after, _month = load_scheme(new, when, month_number(month), strict=False)
    check_grade(before, facts.grade)
    check_grade(after, facts.grade)
    failures: list[Any] = []

    def report(failure: Any) -> None:
        failures.append(failure)
        click.echo(row_failure_text(failure), err=True)

    rows = _read_rows(_union_specs(before, after), facts_paths, facts, report)
    files = {(r.row, r.employee): r.file for r in rows}
    comparison = compare(before, after, rows, grade=facts.grade, month=chosen)
    comparison.old_name = Path(before.checked.source.name).name  # the version picked, if any
    comparison.new_name = Path(after.checked.source.name).name
    for employee, row, diagnostics in comparison.problems:
        report(RowFailure(files.get((row, employee), ""), row, employee, "", "",
                          tuple(diagnostics)))
    if output_format == "json":
        click.echo(to_json(comparison), nl=False)
    elif output_format == "csv":
        click.echo(to_csv(comparison), nl=False)
    else:
        click.echo(comparison_table(comparison, after.currency, lang))
    sys.exit(FINDINGS if failures else OK)


# ---------------------------------------------------------------- target


TARGET_WORDS = {
    "en": {"reached": "{who}: to earn {earn}, {fact} must be {direction} {value} "
                      "(now {current}, earning {now}).",
           "at least": "at least", "at most": "at most",
           "already": "{who}: the income reaches {earn} even with {fact} at {value} "
                      "(now {current}, earning {now}).",
           "any": "{who}: the income reaches {earn} whatever {fact} is (now {current}, "
                  "earning {now}).",
           "unreachable": "{who}: unreachable: {fact} alone cannot bring the income to {earn} "
                          "(now {current}, earning {now}).",
           "best": "The most it can bring is an income of {best} (from {fact} = {best_from} on).",
           "at": "At {value} the total is {total}:",
           "short": "At {value} ({step} {side}) the total is {total}, short of {earn}.",
           "less": "less", "more": "more", "because": "Why: ", "note": "Note: ",
           "band": "band", "how": "Found exactly: bisection between breakpoints of the curves, "
                                  "{count} evaluations, resolution {step}."},
    "ru": {"reached": "{who}: чтобы получить {earn}, нужно {fact} {direction} {value} "
                      "(сейчас {current}, доход {now}).",
           "at least": "не меньше", "at most": "не больше",
           "already": "{who}: доход достигает {earn} даже при {fact} = {value} "
                      "(сейчас {current}, доход {now}).",
           "any": "{who}: доход достигает {earn} при любом значении {fact} (сейчас {current}, "
                  "доход {now}).",
           "unreachable": "{who}: недостижимо: изменяя только {fact}, доход не довести до "
                          "{earn} (сейчас {current}, доход {now}).",
           "best": "Наибольший доход — {best} (начиная с {fact} = {best_from}).",
           "at": "При {value} итог {total}:",
           "short": "При {value} (на {step} {side}) итог {total}, меньше {earn}.",
           "less": "меньше", "more": "больше", "because": "Причина: ", "note": "Примечание: ",
           "band": "полоса", "how": "Найдено точно: деление пополам между точками излома "
                                   "кривых, {count} вычислений, шаг {step}."},
}


def fact_text(value: Decimal | None, unit: Any, currency: str, lang: str) -> str:
    """A fact's value with its unit: '4,028,570.84 RUB', '1,225', '2.3%'."""
    from ..units import Unit
    from .render import amount_text

    if value is None:
        return "—"
    if unit is Unit.PERCENT:
        text = amount_text((value * 100).normalize(), lang)
        return f"{text}\u00a0%" if lang == "ru" else f"{text}%"
    if unit is Unit.MONEY:
        return f"{amount_text(value.quantize(Decimal('0.01')), lang)} {currency}"
    return amount_text(value.normalize() if value == value.to_integral_value()
                       else value, lang) if unit is Unit.COUNT else amount_text(value, lang)


def target_text(seek: Seek, ruleset: Ruleset, lang: str = "en") -> str:
    """The answer with its evidence: what changes at the answer, and one step short of it."""
    from ..compare import changes
    from ..goalseek import note_text
    from ..units import Unit
    from .render import amount_text, percent_text

    words = TARGET_WORDS[lang]
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


@click.command("target")
@click.argument("ruleset", type=click.Path())
@click.argument("facts_paths", metavar="FACTS...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--employee", required=True, metavar="ID", help="The employee (as in the facts).")
@click.option("--earn", required=True, metavar="AMOUNT",
              help="The income to reach, e.g. 130000 or '130 000'.")
@click.option("--vary", required=True, metavar="FACT", help="The one fact that may change.")
@facts_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True, help="How the answer is written.")
@month_and_period
@lang_option
@handle_errors
def target_command(ruleset: str, facts_paths: tuple[str, ...], employee: str, earn: str,
                   vary: str, facts: FactsOptions, output_format: str, month: str | None,
                   period: str | None, lang: str) -> None:
    """The smallest value of one fact that brings an employee to an income.

    The other facts stay as they are. The search is exact on the scheme's curves: it
    evaluates at every threshold, then bisects down to the fact's resolution (1 for counts,
    a kopeck for money, 0.0001 percentage points for percents) and proves that one step
    less falls short. Exit code 1 when the income cannot be reached (a cap forbids it).

    \b
    Example:
      kpidsl target rulesets/b2b_manager.kpi rulesets/b2b_manager.facts.csv \\
          --employee ivanov --earn 130000 --vary revenue
    """
    import json

    from ..diagnostics import KpiError, did_you_mean, error
    from ..facts import FactValueError, parse_value
    from ..goalseek import seek
    from ..source import SourceFile
    from ..units import Unit
    from .evaluate import check_grade, month_number
    from .render import row_failure_text

    scheme, chosen = load_scheme(ruleset, PlanOptions(period=period), month_number(month))
    check_grade(scheme, facts.grade)
    try:
        amount = parse_value(earn, Unit.MONEY)
    except FactValueError as exc:
        fail(f"--earn: {exc}")
    rows = _read_rows(scheme.fact_specs, facts_paths, facts,
                      lambda f: click.echo(row_failure_text(f), err=True))
    found = [r for r in rows if r.employee == employee]
    if not found:
        hint = did_you_mean(employee, [r.employee for r in rows])
        raise KpiError([error("KPI628", f"employee '{employee}' is not in the facts "
                              f"({len(rows)} rows read)", SourceFile("--employee", ""),
                              hint=hint)])
    row = found[0]
    teammates = [r.values for r in rows if r is not row and (r.team or "") == (row.team or "")]
    answer = seek(scheme, row.values, vary, amount, grade=facts.grade or row.grade,
                  employee=employee, month=chosen, teammates=teammates)
    if output_format == "json":
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(target_text(answer, scheme, lang))
    sys.exit(OK if answer.reached else FINDINGS)


COMMANDS = [compare_command, target_command]

__all__ = ["COMMANDS", "PlanOptions", "forecast_options", "load_scheme", "write_forecast"]
