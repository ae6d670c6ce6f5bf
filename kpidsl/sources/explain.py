"""Per-deal lines explained: each deal, the running total it moved, the tiers it crossed.

    Commission, deal by deal (in order of date, then key):
      deal 2, 2025-07-10 (deals.csv row 3): 30 000,00 ₽, running 60 % → 90 %
        20 000,00 ₽ from 0% to 80% × 1 % = 200,00 ₽
        10 000,00 ₽ from 80% to 100% × 2 % = 200,00 ₽
        = 400,00 ₽
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..numbers import money, percent
from .transactions import DealLine

WORDS = {
    "en": {"title": "{payment}, deal by deal (in order of date, then key):",
           "columns": "Deal|Date|Credit|Running|Tiers|Amount",
           "deal": "deal {key}, {date} ({file} row {row}): {credit}",
           "share": " (share {share})", "running": ", running {before} → {after}",
           "slice": "{credit} {tier} × {rate} = {amount}",
           "total": "= {amount} (rounded once from {exact})", "total_exact": "= {amount}",
           "sum": "{payment}: {amount} for {count} deals",
           "lifted": "+ {lifted} to the minimum a deal pays",
           "dropped": "{lifted}: the minimum paid on the deal, taken back with it"},
    "ru": {"title": "{payment}: по сделкам (по дате, затем по номеру):",
           "columns": "Сделка|Дата|Сумма|Нарастающим итогом|Ступени|Выплата",
           "deal": "сделка {key}, {date} ({file}, строка {row}): {credit}",
           "share": " (доля {share})", "running": ", нарастающим итогом {before} → {after}",
           "slice": "{credit} {tier} × {rate} = {amount}",
           "total": "= {amount} (округлено один раз из {exact})", "total_exact": "= {amount}",
           "sum": "{payment}: {amount}, сделок: {count}",
           "lifted": "+ {lifted} до минимальной выплаты за сделку",
           "dropped": "{lifted}: минимальная выплата за сделку, отменённая вместе с ней"},
}


def deal_lines_text(deals: Iterable[DealLine], labels: dict[str, str], currency: str,
                    lang: str = "en",
                    tiers: Callable[[str, int], str] | None = None) -> list[str]:
    """The lines of an explanation for a result's per-deal payments (none without deals);
    `tiers(payment, tier)` words a tier in the reader's language (default: as written)."""
    words = WORDS.get(lang, WORDS["en"])
    out: list[str] = []
    by_payment: dict[str, list[DealLine]] = {}
    for line in deals:
        by_payment.setdefault(line.payment, []).append(line)
    for payment, lines in by_payment.items():
        name = labels.get(payment, payment)
        out += ["", words["title"].format(payment=name)]
        for line in lines:
            head = words["deal"].format(
                key=line.key, date=_date(line), file=Path(line.file).name, row=line.row,
                credit=money(line.credit, currency, lang))
            if line.share is not None:
                head += words["share"].format(share=percent(line.share, lang))
            if line.attainment_before is not None and line.attainment_after is not None:
                head += words["running"].format(before=percent(line.attainment_before, lang),
                                                after=percent(line.attainment_after, lang))
            else:
                head += words["running"].format(before=money(line.before, currency, lang),
                                                after=money(line.after, currency, lang))
            out.append("  " + head)
            for part in line.slices:
                out.append("    " + words["slice"].format(
                    credit=money(part.credit, currency, lang),
                    tier=tiers(payment, part.tier) if tiers else part.tier_text,
                    rate=percent(part.rate, lang), amount=_exact(part.amount, currency, lang)))
            shown = money(line.amount, currency, lang)
            rounded = line.amount - line.lifted
            if line.exact == rounded:
                if not line.lifted:
                    out.append("    " + words["total_exact"].format(amount=shown))
            else:
                out.append("    " + words["total"].format(
                    amount=money(rounded, currency, lang),
                    exact=_exact(line.exact, currency, lang)))
            if line.lifted:
                out.append("    " + words["lifted" if line.lifted > 0 else "dropped"].format(
                    lifted=money(line.lifted, currency, lang)))
                out.append("    " + words["total_exact"].format(amount=shown))
        total = sum((line.amount for line in lines), Decimal(0))
        out.append("  " + words["sum"].format(payment=name, amount=money(total, currency, lang),
                                              count=len(lines)))
    return out


def _date(line: DealLine) -> str:
    moment = line.date
    return moment.date().isoformat() if not (moment.hour or moment.minute or moment.second) \
        else moment.isoformat(sep=" ", timespec="minutes")


def _exact(value: Decimal, currency: str, lang: str) -> str:
    """An exact amount with every decimal it has (at least the kopecks)."""
    decimals = max(2, -int(value.normalize().as_tuple().exponent))  # type: ignore[operator]
    return money(value, currency, lang, decimals=min(decimals, 20))


def explain_deals(ruleset: Any, result: Any, lang: str = "en") -> list[str]:
    """A Result's per-deal lines with the scheme's labels and tiers in the reader's words."""
    from ..docs.calc import band_words
    from ..docs.text import Say
    from ..labels import label_in

    variant = ruleset.checked.variants[result.grade]
    say = Say(lang, ruleset.currency, variant)

    def tier(payment: str, index: int) -> str:
        each = variant.pays[payment].each
        return band_words(say, variant.curves[each.curve] if each else None, index)

    labels = {name: label_in(pay, lang) for name, pay in variant.pays.items()}
    return deal_lines_text(result.deals, labels, ruleset.currency, lang, tier)


def deal_table(ruleset: Any, result: Any, lang: str = "en") -> dict[str, Any]:
    """The statement's table of per-deal lines: title, column titles, rows of text."""
    from ..docs.calc import band_words
    from ..docs.text import Say
    from ..labels import label_in

    words = WORDS.get(lang, WORDS["en"])
    variant = ruleset.checked.variants[result.grade]
    say = Say(lang, ruleset.currency, variant)
    currency = ruleset.currency
    rows = []
    names = []
    for line in result.deals:
        pay = variant.pays.get(line.payment)
        if pay is not None and label_in(pay, lang) not in names:
            names.append(label_in(pay, lang))
        curve = variant.curves.get(pay.each.curve) if pay is not None and pay.each else None
        if line.attainment_before is not None and line.attainment_after is not None:
            running = f"{percent(line.attainment_before, lang)} → " \
                f"{percent(line.attainment_after, lang)}"
        else:
            running = f"{money(line.before, currency, lang)} → {money(line.after, currency, lang)}"
        tiers = " + ".join(f"{money(s.credit, currency, lang)} ({band_words(say, curve, s.tier)})"
                           f" × {percent(s.rate, lang)}" for s in line.slices)
        if line.lifted:
            tiers = (tiers or "—") + "; " + words["lifted" if line.lifted > 0 else "dropped"] \
                .format(lifted=money(line.lifted, currency, lang))
        rows.append([line.key, _date(line), money(line.credit, currency, lang), running,
                     tiers or "—", money(line.amount, currency, lang)])
    return {"title": words["title"].format(payment=", ".join(names)).rstrip(":"),
            "titles": words["columns"].split("|"), "rows": rows}
