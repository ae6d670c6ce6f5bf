"""Numbers as people read them, by language: "119 800,00 ₽" in Russian, "RUB 119,800.00" in English.

Formatting goes through Babel's CLDR data rather than hand-written separators. Values stay
Decimal all the way (Babel formats Decimal exactly, in the caller's decimal context: so every
function here formats inside the project's context, widened to the digits the value needs).

`bound_error` is the one limit on the size of a number, shared by the facts readers, the
parser's literals and the CLI's amounts, so that nothing accepted can overflow a quantize
later (a 35-digit count used to make `explain` raise decimal.InvalidOperation).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache

from .runtime import CONTEXT

LANGUAGES = ("en", "ru")
MAX_DIGITS = 28  # significant digits: Python's default precision, 6 below the evaluator's 34
MAX_INTEGER_DIGITS = 20  # below 10^20: a hundred quintillion, beyond any plan or pay
MAX_DECIMALS = 20  # places after the point


def bound_error(value: Decimal) -> str | None:
    """Why `value` is too large, too long or too fine to be a number kpidsl takes, or None."""
    if not value.is_finite():
        return "is not a finite number"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"is {_magnitude(value)}; numbers must stay below 10^{MAX_INTEGER_DIGITS}"
    if exponent < -MAX_DECIMALS:
        return f"has {-exponent} decimal places; at most {MAX_DECIMALS} are allowed"
    significant = len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))
    if significant > MAX_DIGITS:
        return f"has {significant} significant digits; at most {MAX_DIGITS} are allowed"
    return None


def _magnitude(value: Decimal) -> str:
    return f"about 10^{value.adjusted()}"


@contextmanager
def formatting(*values: Decimal) -> Iterator[None]:
    """The project's decimal context, with enough precision that quantizing `values` to a
    few places is exact (Babel quantizes in the current context)."""
    need = max((len(v.as_tuple().digits) + max(v.adjusted(), 0) + 8 for v in values
                if v.is_finite()), default=0)
    with decimal.localcontext(CONTEXT) as context:
        context.prec = max(context.prec, need)
        yield
_LOCALES = {"en": "en_US", "ru": "ru_RU"}


@cache
def _locale(lang: str):  # type: ignore[no-untyped-def]
    from babel import Locale

    return Locale.parse(_LOCALES.get(lang, lang))


def money(value: Decimal, currency: str, lang: str = "en", *, decimals: int = 2) -> str:
    """119800 → '119 800,00 ₽' (ru) or 'RUB 119,800.00' (en)."""
    from babel.numbers import format_currency

    pattern = "#,##0.00 ¤" if lang == "ru" else "¤\u00a0#,##0.00"
    if decimals == 0:
        pattern = pattern.replace(".00", "")
    with formatting(value):
        text = format_currency(_unsigned_zero(value, decimals), currency, format=pattern,
                               locale=_locale(lang), currency_digits=False,
                               format_type="standard")
    if lang == "en":
        text = text.replace(_symbol(currency, lang), currency, 1)
    return text


def _symbol(currency: str, lang: str) -> str:
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(currency, locale=_locale(lang))


def number(value: Decimal, lang: str = "en", *, decimals: int | None = None) -> str:
    """3300000 → '3 300 000' (ru) / '3,300,000' (en); keeps the digits a value has."""
    from babel.numbers import format_decimal

    with formatting(value):
        if decimals is None:
            exponent = value.normalize().as_tuple().exponent
            decimals = max(0, -exponent) if isinstance(exponent, int) else 0
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(_unsigned_zero(value, decimals), format=pattern, locale=_locale(lang),
                              decimal_quantization=True)


def _unsigned_zero(value: Decimal, decimals: int) -> Decimal:
    """A negative value that shows as zero at `decimals` places shows as 0, never -0.00."""
    if value.is_signed() and value.is_finite() and -value <= Decimal(5).scaleb(-decimals - 1):
        return value.copy_abs()
    return value


def percent(fraction: Decimal, lang: str = "en") -> str:
    """Decimal('1.1') → '110 %' (ru) / '110%' (en); up to two decimals, no trailing zeros."""
    with formatting(fraction):
        scaled = (fraction * 100).quantize(Decimal("0.01")).normalize()
    text = number(scaled, lang)
    return f"{text}\u00a0%" if lang == "ru" else f"{text}%"


def amount(value: Decimal, lang: str = "en") -> str:
    """A payout amount without currency: '26 400' or '26 400,50' (kopecks only when present)."""
    with formatting(value):
        whole = value == value.to_integral_value()
    return number(value, lang, decimals=0 if whole else 2)
