"""Options more than one command takes, as decorators (facts options are in `common.py`).

`@month_option` (--month), `@forecast_options` (--elapsed, --total-days, --as-of,
--holidays, --hold, --period → one `plan: PlanOptions`) and `@month_and_period` (--month and
--period for compare and target). Keeping them here, apart from any one command's module,
is what lets every command import them without importing each other.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .common import PlanOptions

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["PlanOptions", "forecast_options", "month_and_period", "month_number", "month_option"]

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def month_number(value: str | None) -> int | None:
    """'jan'..'dec' or 1..12 → 1..12 (plans and constants may differ by month)."""
    if value is None:
        return None
    text = value.strip().lower()[:3]
    if text in MONTHS:
        return MONTHS.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    raise click.BadParameter(f"expected a month (jan..dec or 1..12), got {value!r}")


def month_option(function: F) -> F:
    return click.option("--month", default=None, metavar="MONTH",
                        callback=lambda _c, _p, v: month_number(v),
                        help="The month evaluated (jan..dec or 1..12), for plans that differ "
                             "by month.")(function)


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
