"""Results shaped for output: columns, flat rows, labels and titles every renderer shares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import amount_text, cell_text

if TYPE_CHECKING:
    from ...api import Ruleset
    from ...forecast import Forecast
    from ...run import Evaluated


@dataclass
class Column:
    key: str
    header: str
    kind: str = "text"  # text | amount | percent | value


def component_labels(ruleset: Ruleset, lang: str = "en") -> dict[str, str]:
    """Every payment of every grade, in order: name → label (in `lang` when translated)."""
    from ...labels import label_in

    labels: dict[str, str] = {}
    for variant in ruleset.checked.variants.values():
        for name, pay in variant.pays.items():
            labels.setdefault(name, label_in(pay, lang))
    return labels


def kpi_names(ruleset: Ruleset) -> list[str]:
    names: dict[str, None] = {}
    for info in ruleset.infos.values():
        names.update(dict.fromkeys(info.layout.kpis))
    return list(names)


def label(ruleset: Ruleset, grade: str, name: str, lang: str) -> str:
    """A KPI's or a payment's label in the reader's language (its name when it has none)."""
    from ...labels import label_in

    variant = ruleset.checked.variants[grade]
    node = variant.kpis.get(name) or variant.pays.get(name)
    return label_in(node, lang) if node is not None else name


def title(ruleset: Ruleset, lang: str) -> str:
    """'Менеджер B2B · b2b_seasonal · версия 2025.2 · RUB'."""
    from ...labels import label_in

    header = ruleset.checked.header
    parts = [label_in(header, lang), header.name]
    if header.version:
        parts.append(f"{'версия' if lang == 'ru' else 'version'} {header.version}")
    parts.append(ruleset.currency)
    return " · ".join(dict.fromkeys(parts))


def flat_columns(ruleset: Ruleset, extra: Sequence[str], *, detailed: bool,
                 lang: str = "en") -> list[Column]:
    """Columns for CSV/XLSX (detailed: every KPI's value, attainment and payout) or tables."""
    columns = [Column("employee", "employee")]
    columns += [Column(f"extra:{k}", k) for k in extra]
    grades = bool(ruleset.grades)
    if detailed or grades:
        columns.append(Column("grade", "grade"))
    if detailed:
        columns.append(Column("team", "team"))
        for kpi in kpi_names(ruleset):
            columns += [Column(f"kpi:{kpi}", kpi, "value"),
                        Column(f"att:{kpi}", f"{kpi}_attainment", "value"),
                        Column(f"pay:{kpi}", f"{kpi}_payout", "value")]
    for name, text in component_labels(ruleset, lang).items():
        columns.append(Column(f"component:{name}", name if detailed else text, "amount"))
    columns.append(Column("total", "total", "amount"))
    return columns


def flat_row(item: Evaluated) -> dict[str, Any]:
    result = item.result
    row: dict[str, Any] = {"employee": result.employee, "grade": result.grade,
                           "team": result.team or "", "total": result.total}
    for key, text in item.extra.items():
        row[f"extra:{key}"] = text
    for name, amount in result.components.items():
        row[f"component:{name}"] = amount
    for name, kpi in result.kpis.items():
        row[f"kpi:{name}"] = kpi.value
        row[f"att:{name}"] = kpi.attainment
        row[f"pay:{name}"] = kpi.payout
    return row


def rows_iter(items: Iterable[Evaluated]) -> Iterator[dict[str, Any]]:
    return (flat_row(i) for i in items)


def result_dict(item: Evaluated) -> dict[str, Any]:
    data = item.result.to_dict()
    if item.extra:
        data["extra"] = dict(item.extra)
    return data


def json_ready(row: dict[str, Any], columns: list[Column]) -> dict[str, Any]:
    """A flat row for JSON: Decimals as exact strings."""
    return {c.header: (cell_text(row[c.key]) if isinstance(row.get(c.key), Decimal)
                       else row.get(c.key))
            for c in columns}


# ---------------------------------------------------------------- leaderboard


def leaderboard_rows(items: list[Evaluated], by: str) -> list[dict[str, Any]]:
    """Sorted best first; equal values share a rank (1, 1, 3); no attainment sorts last."""
    def score(item: Evaluated) -> Decimal | None:
        if by == "total":
            return item.result.total
        kpi = item.result.kpis.get(by)
        return None if kpi is None else kpi.attainment

    scored = [(score(i), index, i) for index, i in enumerate(items)]
    scored.sort(key=lambda s: (s[0] is None, -(s[0] or 0), s[1]))
    rows = []
    previous: Decimal | None = None
    rank = 0
    for position, (value, _index, item) in enumerate(scored, start=1):
        if value is None or value != previous:
            rank = position
        previous = value
        row = {"rank": rank if value is not None else None, "employee": item.result.employee,
               "grade": item.result.grade, "value": value, "total": item.result.total}
        if "name" in item.extra:
            row["name"] = item.extra["name"]
        rows.append(row)
    return rows


def leaderboard_columns(ruleset: Ruleset, by: str, with_name: bool) -> list[Column]:
    columns = [Column("rank", "rank"), Column("employee", "employee")]
    if with_name:
        columns.append(Column("name", "name"))
    if ruleset.grades:
        columns.append(Column("grade", "grade"))
    if by != "total":
        columns.append(Column("value", f"{by}_attainment", "percent"))
    columns.append(Column("total", "total", "amount"))
    return columns


# ---------------------------------------------------------------- forecasts


def value_text(value: Decimal | None, unit: Any, lang: str = "en") -> str:
    """A KPI value for a table: percents as percents, the rest to at most two decimals."""
    from ...units import Unit

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


def forecast_dict(item: Evaluated, forecast: Forecast) -> dict[str, Any]:
    """eval's JSON for one employee, each KPI with `fact`, `fulfilment`, `forecast` added."""
    from ...forecast import kpi_dict

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
    from ...forecast import kpi_dict

    for f in forecasts:
        for name, kpi in f.kpis.items():
            d = kpi_dict(kpi)
            yield [f.employee, name, *(d[c] or "" for c in FORECAST_COLUMNS[2:8]), d["status"]]
        yield [f.employee, "(total)", "", "", str(f.so_far.total), "", str(f.total), "", ""]


# ---------------------------------------------------------------- compare and target


def signed(value: Decimal, lang: str) -> str:
    text = amount_text(abs(value), lang)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


def fact_text(value: Decimal | None, unit: Any, currency: str, lang: str) -> str:
    """A fact's value with its unit: '4,028,570.84 RUB', '1,225', '2.3%'."""
    from ...units import Unit

    if value is None:
        return "—"
    if unit is Unit.PERCENT:
        text = amount_text((value * 100).normalize(), lang)
        return f"{text}\u00a0%" if lang == "ru" else f"{text}%"
    if unit is Unit.MONEY:
        return f"{amount_text(value.quantize(Decimal('0.01')), lang)} {currency}"
    return amount_text(value.normalize() if value == value.to_integral_value()
                       else value, lang) if unit is Unit.COUNT else amount_text(value, lang)


# ---------------------------------------------------------------- for people (Excel, XLSX)


def people_columns(ruleset: Ruleset, extra: Sequence[str], lang: str) -> list[Column]:
    """The detailed columns with headers a person reads: the scheme's labels, the words of
    `lang`; kinds say how each cell is formatted (amount, percent, or the KPI's own unit)."""
    from ...i18n import section
    from ...labels import label_in

    words = section("TABLE", lang)
    fixed = {"employee": words["employee"], "name": words["name"]}
    columns = [Column("employee", fixed["employee"])]
    columns += [Column(f"extra:{k}", fixed.get(k, k)) for k in extra]
    columns += [Column("grade", words["grade"]), Column("team", words["team"])]
    kpis: dict[str, str] = {}
    for variant in ruleset.checked.variants.values():
        for name, decl in variant.kpis.items():
            kpis.setdefault(name, label_in(decl, lang))
    for kpi in kpi_names(ruleset):
        text = kpis.get(kpi, kpi)
        columns += [Column(f"kpi:{kpi}", text, "value"),
                    Column(f"att:{kpi}", words["kpi_attainment"].format(kpi=text), "percent"),
                    Column(f"pay:{kpi}", words["kpi_payout"].format(kpi=text), "amount")]
    for name, text in component_labels(ruleset, lang).items():
        columns.append(Column(f"component:{name}", text, "amount"))
    columns.append(Column("total", words["total"], "amount"))
    return columns


def people_row(item: Evaluated, lang: str) -> dict[str, Any]:
    """flat_row plus each KPI's unit (for formatting its value); the base grade in words."""
    from ...checks import BASE
    from ...i18n import section

    row = flat_row(item)
    if row["grade"] == BASE:
        row["grade"] = section("TABLE", lang)["base_grade"]
    for name, kpi in item.result.kpis.items():
        row[f"unit:{name}"] = kpi.unit
    return row


def totals(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    """Exact sums of the amount columns (the totals row of a sheet)."""
    sums: dict[str, Decimal] = {}
    for row in rows:
        for c in columns:
            value = row.get(c.key)
            if c.kind == "amount" and value is not None:
                sums[c.key] = sums.get(c.key, Decimal(0)) + value
    return sums


def sha256_of(path: str | Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def excel_number(value: Any, kind: str, unit: Any, lang: str) -> Any:
    """A cell for a spreadsheet: amounts to the kopeck, percents rounded for display, the
    language's decimal sign and no thousands separator (Excel reads '119800,00' as a number
    in a Russian locale, '119 800,00' as text)."""
    from ...units import Unit

    if value is None:
        return ""
    if not isinstance(value, Decimal):
        return value
    if kind == "percent" or (kind == "value" and unit is Unit.PERCENT):
        text = format((value * 100).quantize(Decimal("0.1")).normalize(), "f") + "%"
    elif kind == "amount" or (kind == "value" and unit is Unit.MONEY):
        text = format(value.quantize(Decimal("0.01")), "f")
    elif kind == "value" and unit is Unit.RATIO:
        text = format(value.quantize(Decimal("0.0001")).normalize(), "f")
    else:
        text = format(value.normalize() if value == value.to_integral_value() else value, "f")
    return text.replace(".", ",") if lang == "ru" else text


class Labels:
    """Names → the scheme's labels in `lang`, looked up in several schemes (old and new)."""

    def __init__(self, lang: str, *rulesets: Ruleset) -> None:
        from ...labels import label_in

        self.lang = lang
        self.names: dict[str, str] = {}
        for ruleset in rulesets:
            for variant in ruleset.checked.variants.values():
                for table in (variant.kpis, variant.pays, variant.facts):
                    for name, node in table.items():
                        self.names.setdefault(name, label_in(node, lang))

    def __call__(self, name: str) -> str:
        return self.names.get(name, name)

    def name(self, name: str) -> str:
        """A name in running text: the label in Russian, the scheme's name in English."""
        return name if self.lang == "en" else self(name)

    def grade(self, name: str) -> str:
        from ...checks import BASE
        from ...i18n import section

        return section("TABLE", self.lang)["base_grade"] if name == BASE else name

    def change(self, change: Any) -> str:
        """A changed line of a comparison in words: 'Bonus for Revenue', 'План «Звонки»'."""
        from ...i18n import section

        if self.lang == "en":
            return str(change.what)  # the scheme's names, as the English output always was
        words = section("COMPARE", self.lang)
        if change.kind == "plan":
            return words["plan_of"].format(kpi=self(change.kpi))
        if change.kind == "line":
            return words["line_for"].format(pay=self(change.payment), kpi=self(change.kpi))
        if change.kind in ("kpi", "component"):
            return self(change.kpi or change.payment)
        return str(change.what)
