"""One cell's text into an exact Decimal, and the per-file readings that make a cell unambiguous.

A cell alone can mean two things: `142,500` is 142.5 in a Russian export and 142 500 in an
English one; `2,1` in a percent column is 2.1 % or 210 %. The readers first survey a file
(`Survey`) to learn its locale and each percent column's reading, then parse every cell with
that `Reading`; what stays ambiguous is refused with both readings (KPI520, KPI521), never
guessed. See docs/facts.md, "Values".
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .numbers import MAX_DECIMALS, MAX_DIGITS, MAX_INTEGER_DIGITS, bound_error
from .sheets import CellError, PercentNumber
from .units import Unit

LOCALES = ("ru", "en")
PERCENT_READINGS = ("points", "fraction")


class FactValueError(ValueError):
    """A cell that cannot be a fact value; `code` is the KPI5xx diagnostic it becomes."""

    def __init__(self, message: str, code: str = "KPI501", hint: str = "") -> None:
        super().__init__(message)
        self.code, self.hint = code, hint


@dataclass(frozen=True)
class Reading:
    """How the cells of one column are read, decided once per file.

    `locale` is declared (`--locale`) or detected; None leaves a lone comma decimal, except
    where `grouped` shows the file also groups thousands with that separator (then a lone
    separator before three digits is refused). `percent` is 'points' (2,1 is 2.1 %),
    'fraction' (0,021 is 2.1 %) or None (undeclared: a bare number above 1 is refused, and
    so is every bare number of a column in which `above` saw one). `currency` is the scheme's.
    """

    locale: str | None = None
    grouped: dict[str, str] = field(default_factory=dict)  # ',' or '.' → where it groups
    percent: str | None = None
    above: str = ""  # the first bare number above 1 in this undeclared percent column
    currency: str = ""
    declared: bool = False  # the percent reading comes from the scheme or the command line


DEFAULT = Reading()

_SPACES = str.maketrans(dict.fromkeys("\u00a0\u202f\u2009\u2007", " "))  # no-break, narrow…
_NUMBER = re.compile(r"(?P<int>[0-9]{1,3}(?P<sep>[ '\u2019.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*"
                     r"|[0-9]*)(?:(?P<dec>[.,])(?P<frac>[0-9]*))?")
_MINUS = "-\u2212\u2013"  # hyphen-minus, minus sign, en dash (word processors)
_CURRENCIES = {"₽": "RUB", "руб": "RUB", "руб.": "RUB", "р": "RUB", "р.": "RUB", "rub": "RUB",
               "rur": "RUB", "$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP",
               "gbp": "GBP", "¥": "JPY", "jpy": "JPY", "cny": "CNY", "kzt": "KZT", "₸": "KZT",
               "byn": "BYN", "uah": "UAH", "₴": "UAH", "chf": "CHF"}
_CURRENCY = "|".join(re.escape(c) for c in sorted(_CURRENCIES, key=len, reverse=True))
_CURRENCY_AROUND = re.compile(rf"^(?P<a>{_CURRENCY})\s*|\s*(?P<b>{_CURRENCY})$", re.IGNORECASE)
_REJECTED = [(re.compile(pattern, re.IGNORECASE | re.DOTALL), why) for pattern, why in [
    (r"=.*", "looks like an Excel formula; export values, not formulas"),
    (r"#.*", "is an Excel error value, not a number"),
    (r"\d{4}-\d\d?-\d\d?(?:[ T].*)?|\d\d?[./]\d\d?[./]\d{2,4}(?: .*)?",
     "looks like a date, not a number"),
    (r"\d{1,3}:\d\d(?::\d\d)?", "looks like a time, not a number"),
    (r"[-+\u2212]?(?:nan|snan|inf|infinity|∞)", "is not a finite number"),
    (r"[-+\u2212]?[0-9]+(?:[.,][0-9]*)?e[-+]?[0-9]+",
     "is in scientific notation, which loses digits; export the column as a plain number"),
]]
_NON_NEGATIVE = {Unit.COUNT: "a count", Unit.MINUTES: "a duration", Unit.HOURS: "a duration",
                 Unit.DAYS: "a duration"}
EXPECTED = {  # the hint of KPI501, per unit
    Unit.MONEY: "a sum like 3 300 000 or 3300000,50", Unit.COUNT: "a whole number like 12",
    Unit.PERCENT: "a percentage like 2,1% or a fraction like 0,021", Unit.DAYS: "days, like 5",
    Unit.RATIO: "a ratio like 0,85 or 85%", Unit.NUMBER: "a number like 1500 or 1,5",
    Unit.MINUTES: "minutes, like 90 or 1,5", Unit.HOURS: "hours, like 8 or 7,5"}
MAX_TEXT_DIGITS = 100  # digits in a cell's text before it is even converted
_SIMPLE = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")  # plain digits, no sign
_LONE = re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}")  # '142,500': thousands or decimals?
_PERCENT_HINT = ("write the sign ('2,1%'), or say once how the column is written: "
                 "--percent points (or fraction), a '%' in the column's header, or "
                 "'fact NAME percent points' in the scheme")


def parse_value(text: str, unit: Unit, reading: Reading = DEFAULT) -> Decimal:
    """Parse one cell's text into an exact Decimal for a fact of `unit`.

    Raises FactValueError (a ValueError) whose message quotes the text. A lone comma is a
    decimal separator (Russian locale) unless the locale is English; a lone separator before
    three digits in a file that also groups thousands with it is refused (KPI520), as is a
    count written so ('1,000'). In a percent column '2,1%' is 0.021 and a bare number follows
    `reading.percent`.
    """
    s = text.strip()
    if _SIMPLE.fullmatch(s) and not (reading.grouped.get(".") and _LONE.fullmatch(s)):
        value = Decimal(s)  # the common case, '142500' or '0.021'
        if unit is Unit.PERCENT:
            value = _bare_percent(value, s, reading)
        return _check_unit(value, unit, _clip(s), bounded=_plainly_bounded(s))
    shown = _clip(s)
    if not s:
        raise FactValueError("empty value", "KPI502")
    if len(s) > MAX_TEXT_DIGITS:
        digits = sum(c in "0123456789" for c in s)
        if digits > MAX_TEXT_DIGITS:
            raise FactValueError(f"'{shown}' has {digits} digits; at most "
                                 f"{MAX_TEXT_DIGITS} are allowed")
    body, percent = s, s.endswith("%")
    if percent:
        if unit not in (Unit.PERCENT, Unit.RATIO, Unit.NUMBER):
            _refuse_shape(s, shown)
            raise FactValueError(f"'{shown}' has a percent sign, but a {unit} value cannot")
        body = body[:-1].rstrip()
    body = _strip_currency(body, unit, reading, shown)
    negative = body[:1] in _MINUS
    if negative or body[:1] == "+":
        body = _strip_currency(body[1:].lstrip(), unit, reading, shown)  # '-$100', '$-100'
    plain = _plain_number(body, unit, reading, shown)
    if plain is None:
        _refuse_shape(s, shown)
        raise FactValueError(f"'{shown}' is not a number")
    value = Decimal(plain)  # exact: Decimal(str) never rounds
    if percent:
        value = _hundredth(value)
    elif unit is Unit.PERCENT:
        value = _bare_percent(value, shown, reading)
    if negative and value:
        value = value.copy_negate()
    return _check_unit(value, unit, shown)


def _plainly_bounded(s: str) -> bool:
    """Plain digits (with at most one point) that are within bound_error's limits."""
    point = s.find(".")
    if point < 0:
        return len(s) <= MAX_INTEGER_DIGITS
    return (point <= MAX_INTEGER_DIGITS and len(s) - point - 1 <= MAX_DECIMALS
            and len(s) - 1 <= MAX_DIGITS)


def _refuse_shape(s: str, shown: str) -> None:
    """A cell that is no number, said precisely: a formula, an Excel error, a date... (none of
    these shapes is a well-grouped number, so they are looked for only once parsing failed)."""
    for pattern, why in _REJECTED:
        if pattern.fullmatch(s):
            raise FactValueError(f"'{shown}' {why}")


_EXACT = decimal.Context(prec=MAX_TEXT_DIGITS + 2, Emin=-decimal.MAX_EMAX,
                         Emax=decimal.MAX_EMAX, traps=[decimal.Inexact, decimal.Rounded])


def _hundredth(value: Decimal) -> Decimal:
    return value.scaleb(-2, _EXACT)  # exact ÷100: a context wide enough never to round


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _bare_percent(value: Decimal, shown: str, reading: Reading) -> Decimal:
    """A number without a sign in a percent column: percentage points or a fraction."""
    if reading.percent == "points":
        return _hundredth(value)
    if reading.percent == "fraction" or not value:
        return value
    points, fraction = f"{_plain(value)} %", f"{_plain(value * 100)} %"
    if value > 1:
        raise FactValueError(f"'{shown}' could be {points} (percentage points) or {fraction} "
                             "(a fraction), and the column does not say which", "KPI521",
                             _PERCENT_HINT)
    if reading.above:
        raise FactValueError(f"'{shown}' could be {fraction} (a fraction) or {points} "
                             f"(percentage points): the column also holds {reading.above}, "
                             "which can only be points", "KPI521", _PERCENT_HINT)
    return value


def _strip_currency(body: str, unit: Unit, reading: Reading, shown: str) -> str:
    if unit is not Unit.MONEY or (body[:1].isdigit() and body[-1:].isdigit()):
        return body  # signs and codes stand first or last: digits at both ends have none
    match = _CURRENCY_AROUND.search(body)
    if match is None:
        return body
    sign = match["a"] or match["b"]
    code = _CURRENCIES[sign.lower()]
    if reading.currency and code != reading.currency:
        raise FactValueError(f"'{shown}' is in {code} ({sign}), but the scheme pays in "
                             f"{reading.currency}", "KPI522",
                             f"convert the amounts to {reading.currency} before exporting, "
                             "or evaluate them with a scheme in their currency")
    return _CURRENCY_AROUND.sub("", body, count=1)


def _plain_number(body: str, unit: Unit, reading: Reading, shown: str) -> str | None:
    """'3 300 000,50' → '3300000.50'; None unless the text is one well-grouped number: one
    thousands separator between groups of three, and a different decimal separator."""
    m = _NUMBER.fullmatch(body.translate(_SPACES))
    if not m or (m["sep"] and m["sep"] == m["dec"]):
        return None
    whole, sep, frac = m["int"], m["sep"], m["frac"] or ""
    if sep in (".", ",") and m["dec"] is None and whole.count(sep) == 1:
        head, tail = whole.split(sep)  # a lone separator before three digits
        thousands = _lone_is_thousands(head, tail, sep, unit, reading, shown)
        whole, frac = (head + tail, "") if thousands else (head, tail)
    elif sep:
        whole = whole.replace(sep, "")
    if not (whole or frac):
        return None
    return f"{whole or '0'}.{frac}" if frac else whole


def _lone_is_thousands(head: str, tail: str, sep: str, unit: Unit, reading: Reading,
                       shown: str) -> bool:
    """'142,500': English thousands (142 500) or a decimal (142.5)? The locale says; else a
    file that groups thousands with this separator, or a count, makes it ambiguous."""
    if reading.locale == "en":
        return sep == ","
    if reading.locale == "ru":
        return False
    grouped = reading.grouped.get(sep)
    if not grouped and not (unit is Unit.COUNT and sep == ","):
        return False  # a lone comma or point is decimal, as a Russian export writes it
    why = (f"the file also groups thousands with '{sep}' ({grouped})" if grouped else
           "a count written so is either")
    thousands = f"{int(head + tail):,}".replace(",", " ")
    raise FactValueError(f"'{shown}' could be {thousands} (thousands) or "
                         f"{_plain(Decimal(f'{head}.{tail}'))} (a decimal): {why}", "KPI520",
                         "say how the file writes numbers: --locale en (a comma groups "
                         "thousands) or --locale ru (a comma is the decimal separator)")


def _check_unit(value: Decimal, unit: Unit, shown: str, *, bounded: bool = False) -> Decimal:
    """`bounded`: the text was plain digits, at most MAX_DIGITS long, so within bounds."""
    why = None if bounded else bound_error(value)
    if why is not None:
        raise FactValueError(f"'{shown}' {why}")
    what = _NON_NEGATIVE.get(unit)
    if what and value < 0:
        raise FactValueError(f"'{shown}' is negative; {what} cannot be negative", "KPI503",
                             f"{what} is 0 or more")
    if unit is not Unit.COUNT:
        return value
    _, digits, exp = value.as_tuple()
    if isinstance(exp, int) and exp < 0 and any(digits[exp:]):
        raise FactValueError(f"'{shown}' is not a whole number; a count must be whole",
                             "KPI503", "a count is a whole number of things, 0 or more")
    return value


def convert(raw: object, unit: Unit, reading: Reading = DEFAULT) -> Decimal:
    """A cell from any format (text, JSON Decimal, XLSX int/float/date) into a Decimal. A float
    goes through repr, the shortest text of Excel's double (3300000.0, not 3299999.99…).
    In a percent column an XLSX number in a percent-formatted cell is a fraction (Excel stores a
    cell shown as 2,1% as 0.021); any other number (JSON, a General XLSX cell) is read like
    bare text: header '%', --percent or the scheme say points or fraction."""
    if isinstance(raw, str):
        return parse_value(raw, unit, reading)
    if isinstance(raw, CellError):  # an XLSX cell that could not be read (kpidsl/sheets.py)
        raise FactValueError(raw.message)
    shown = _clip(show(raw))
    if isinstance(raw, bool):
        raise FactValueError(f"'{shown}' is a yes/no value, not a number")
    if isinstance(raw, (dt.date, dt.time)):
        raise FactValueError(f"'{shown}' looks like a date, not a number")
    if not isinstance(raw, (int, float, Decimal)):
        raise FactValueError(f"'{shown}' is not a number")
    value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    why = bound_error(value)
    if why is not None:
        raise FactValueError(f"'{shown}' {why}")
    if unit is Unit.PERCENT and not isinstance(raw, PercentNumber):
        value = _bare_percent(value, shown, reading)
    return _check_unit(value, unit, shown)


def show(raw: object) -> str:
    """A cell as text, as a person would read it in the spreadsheet."""
    if type(raw) is str:  # CSV cells: most calls
        return raw
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e16:
        return str(int(raw))
    if isinstance(raw, Decimal) and bound_error(raw) is not None:
        return f"{raw:.6e}" if raw.is_finite() else str(raw)  # never 10^9 zeros
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    if raw is None or isinstance(raw, (str, bool, int, float, Decimal)):
        return "" if raw is None else str(raw).lower() if isinstance(raw, bool) else str(raw)
    return json.dumps(raw, ensure_ascii=False, default=str)[:10_000]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- the survey

_EN = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+\.[0-9]*")  # 1,000.25: only English
_RU = re.compile(r"[0-9]*,(?:[0-9]{0,2}|[0-9]{4,})|[0-9]{4,},[0-9]+|0,[0-9]+"
                 r"|[1-9][0-9]{0,2}(?:\.[0-9]{3})+,[0-9]*")  # 2,1  142500,50  3.300.000,00
_GROUPED = {",": re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3}){2,}|[1-9][0-9]{0,2}(?:,[0-9]{3})+\."
                            r"[0-9]*"),
            ".": re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3}){2,}|[1-9][0-9]{0,2}(?:\.[0-9]{3})+,"
                            r"[0-9]*")}
_NOT_CORE = re.compile(r"[^0-9.,]+")


@dataclass
class Survey:
    """What a first pass over a file's fact cells saw: evidence of its locale, separators
    used to group thousands, and bare numbers above 1 in percent columns."""

    en: str = ""  # where a number is written only as English writes it ('1,000.25')
    ru: str = ""  # where a comma can only be a decimal separator ('2,1')
    grouped: dict[str, str] = field(default_factory=dict)
    above: dict[str, str] = field(default_factory=dict)  # percent fact → first bare number > 1

    def cell(self, text: str, unit: Unit, fact: str, where: str) -> None:
        """Look at one text cell of fact `fact` (`where` is 'row 5')."""
        if ("," in text or "." in text) and not (self.en and self.ru and len(self.grouped) == 2):
            core = _NOT_CORE.sub("", text)
            quoted = f"'{_clip(text.strip(), 30)}' on {where}"
            if not self.en and _EN.fullmatch(core):
                self.en = quoted
            if not self.ru and _RU.fullmatch(core):
                self.ru = quoted
            for sep, pattern in _GROUPED.items():
                if sep not in self.grouped and pattern.fullmatch(core):
                    self.grouped[sep] = quoted
        if unit is Unit.PERCENT and fact not in self.above and not text.strip().endswith("%"):
            try:
                value = parse_value(text, Unit.NUMBER, Reading(locale="ru"))
            except ValueError:
                return
            if abs(value) > 1:
                self.above[fact] = f"'{_clip(text.strip(), 30)}' on {where}"

    def number(self, value: Decimal, fact: str, where: str) -> None:
        """A JSON number or a General XLSX number in a percent column."""
        if fact not in self.above and value.is_finite() and abs(value) > 1:
            self.above[fact] = f"{_clip(show(value), 30)} on {where}"

    def locale(self, declared: str | None) -> str | None:
        if declared is not None:
            return declared
        if bool(self.en) != bool(self.ru):
            return "en" if self.en else "ru"
        return None
