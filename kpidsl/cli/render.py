"""All output formatting of the command line: diagnostics, result tables and files.

Commands decide what to show; this module decides how it looks. Writers take an open text
stream (or a path for XLSX) so that output can be streamed row by row to stdout or to -o FILE.
Nothing heavy is imported at module level (openpyxl only inside the XLSX writer).
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, render_all, sort_key

if TYPE_CHECKING:
    from ..api import Ruleset
    from .common import Evaluated, RowFailure


class DiagnosticsFormat(str, Enum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


class ResultsFormat(str, Enum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    XLSX = "xlsx"


# ---------------------------------------------------------------- diagnostics


def diagnostics_text(diagnostics: Iterable[Diagnostic]) -> str:
    return render_all(diagnostics)


def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> str:
    items = [d.to_dict() for d in sorted(diagnostics, key=sort_key)]
    return json.dumps(items, ensure_ascii=False, indent=2)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def diagnostics_github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub workflow commands: `::error file=F,line=L,col=C::KPI101 message (hint)`."""
    out = []
    for d in sorted(diagnostics, key=sort_key):
        kind = "error" if d.is_error else "warning"
        where = f"file={_gh_escape(d.file, prop=True)}"
        if d.line:
            where += f",line={d.line},col={max(d.column, 1)}"
        message = f"{d.code} {d.message}" + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{kind} {where}::{_gh_escape(message)}")
    return "\n".join(out)


def check_summary(files: int, diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if not diagnostics:
        return f"{count(files, 'file')} checked: no problems"
    return f"{count(files, 'file')} checked: {count(errors, 'error')}, {count(warnings, 'warning')}"


def facts_diagnostic_text(d: Diagnostic) -> str:
    """A facts problem: `file:row: error KPI501: row 3, column 'revenue': ...` and its hint.

    The row is as the spreadsheet shows it (the header is row 1); no caret, since the
    offending text is quoted in the message.
    """
    where = f"{d.file}:{d.line}" if d.line else d.file
    text = f"{where}: {d.severity} {d.code}: {d.message}"
    return text + (f"\n  hint: {d.hint}" if d.hint else "")


def row_failure_text(failure: RowFailure) -> str:
    """A row that gave no result; run-time failures also show the .kpi line that failed."""
    parts = []
    for d in failure.diagnostics:
        if d.file == failure.file or not failure.file:
            parts.append(facts_diagnostic_text(d))
            continue
        who = f"employee '{failure.employee}'" if failure.employee else "this row"
        head = f"{failure.file}:{failure.row}: error {d.code}: row {failure.row}: {who} " \
               "could not be evaluated"
        parts.append(head + "\n" + "\n".join("  " + line for line in d.render().splitlines()))
    return "\n".join(parts)


# ---------------------------------------------------------------- numbers


def amount_text(value: Decimal | None, lang: str = "en") -> str:
    """119800.00 → '119,800.00' (en) / '119 800,00' (ru); exact, digits as the value has."""
    if value is None:
        return ""
    text = format(value, ",f")
    if lang == "ru":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def percent_text(fraction: Decimal | None, lang: str = "en") -> str:
    if fraction is None:
        return ""
    scaled = (fraction * 100).quantize(Decimal("0.1")).normalize()
    text = format(scaled, ",f")
    if lang == "ru":
        return text.replace(",", "\u00a0").replace(".", ",") + "\u00a0%"
    return text + "%"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


# ---------------------------------------------------------------- results as rows


WORDS = {
    "en": {"employee": "Employee", "name": "Name", "grade": "Grade", "team": "Team",
           "total": "Total", "rank": "#", "employees": "employees", "employee1": "employee",
           "by_total": "Leaderboard by total", "by_kpi": "Leaderboard by attainment of",
           "attainment": "attainment"},
    "ru": {"employee": "Сотрудник", "name": "Имя", "grade": "Грейд", "team": "Команда",
           "total": "Итого", "rank": "№", "employees": "сотр.", "employee1": "сотр.",
           "by_total": "Рейтинг по итогу", "by_kpi": "Рейтинг по выполнению плана",
           "attainment": "выполнение"},
}


@dataclass
class Column:
    key: str
    header: str
    kind: str = "text"  # text | amount | percent | value


def component_labels(ruleset: Ruleset, lang: str = "en") -> dict[str, str]:
    """Every payment of every grade, in order: name → label (in `lang` when translated)."""
    from ..labels import label_in

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
    for name, label in component_labels(ruleset, lang).items():
        columns.append(Column(f"component:{name}", name if detailed else label, "amount"))
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


def write_csv(stream: IO[str], columns: list[Column], rows: Iterable[dict[str, Any]]) -> None:
    """Plain CSV (comma, point decimals, exact digits): for machines and later imports."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.key) is None else _cell(row.get(c.key))
                         for c in columns])


def write_xlsx(path: Path, columns: list[Column], rows: Iterable[dict[str, Any]],
               title: str = "results") -> None:
    """An Excel workbook, streamed (write-only); amounts are numbers with two decimals."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "results")
    bold = Font(bold=True)

    def header(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    sheet.append([header(c.header) for c in columns])
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            cell = WriteOnlyCell(sheet, value=value if value is not None else None)
            if isinstance(value, str):
                cell.data_type = "s"  # CRM text ('=1+2', '=HYPERLINK(…)') is never a formula
            if c.kind == "amount":
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


def write_json(stream: IO[str], items: Iterable[dict[str, Any]]) -> None:
    """A JSON array, written item by item (never the whole list in memory)."""
    first = True
    stream.write("[")
    for item in items:
        stream.write("\n  " if first else ",\n  ")
        stream.write(json.dumps(item, ensure_ascii=False))
        first = False
    stream.write("\n]\n" if not first else "]\n")


def write_jsonl(stream: IO[str], items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        stream.write(json.dumps(item, ensure_ascii=False))
        stream.write("\n")


def result_dict(item: Evaluated) -> dict[str, Any]:
    data = item.result.to_dict()
    if item.extra:
        data["extra"] = dict(item.extra)
    return data


def json_ready(row: dict[str, Any], columns: list[Column]) -> dict[str, Any]:
    """A flat row for JSON: Decimals as exact strings."""
    return {c.header: (_cell(row[c.key]) if isinstance(row.get(c.key), Decimal) else row.get(c.key))
            for c in columns}


# ---------------------------------------------------------------- the table


def results_table(ruleset: Ruleset, items: list[Evaluated], lang: str = "en") -> str:
    """Aligned columns: employee, [name], [grade], each component, total; a payroll total row."""
    words = WORDS[lang]
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
    title = _title(ruleset, lang)
    cells = [[headers.get(c.key, c.header) for c in columns]]
    for row in [*rows, sums]:
        cells.append([amount_text(row.get(c.key), lang) if c.kind == "amount"
                      else str(row.get(c.key) or "") for c in columns])
    return title + "\n\n" + grid(cells, [c.kind == "amount" for c in columns], total_row=True)


def _title(ruleset: Ruleset, lang: str = "en") -> str:
    from ..labels import label_in

    header = ruleset.checked.header
    parts = [label_in(header, lang), ruleset.name]
    if header.version:
        parts.append(f"version {header.version}")
    parts.append(ruleset.currency)
    return " · ".join(dict.fromkeys(parts))


def grid(cells: list[list[str]], right: list[bool], *, total_row: bool = False) -> str:
    """Header, a rule, rows (and a rule before the last row when it is a total)."""
    if not cells:
        return ""
    widths = [max(_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    # a total row's label may be wider than the first column: let it run into empty cells
    lines = []

    def line(row: list[str]) -> str:
        return "  ".join(_pad(text, widths[i], right[i]) for i, text in enumerate(row)).rstrip()

    rule = "  ".join("─" * w for w in widths)
    body = cells[1:-1] if total_row else cells[1:]
    lines.append(line(cells[0]))
    lines.append(rule)
    lines += [line(row) for row in body]
    if total_row:
        lines.append(rule)
        lines.append(line(cells[-1]))
    return "\n".join(lines)


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


def leaderboard_table(ruleset: Ruleset, rows: list[dict[str, Any]], by: str,
                      lang: str = "en") -> str:
    words = WORDS[lang]
    columns = leaderboard_columns(ruleset, by, any("name" in r for r in rows))
    headers = {"rank": words["rank"], "employee": words["employee"], "name": words["name"],
               "grade": words["grade"], "total": words["total"],
               "value": words["attainment"]}
    if by == "total":
        title = words["by_total"]
    else:
        from ..labels import label_in

        kpi = next((v.kpis[by] for v in ruleset.checked.variants.values() if by in v.kpis), None)
        label = label_in(kpi, lang) if kpi is not None else by
        title = f"{words['by_kpi']}: {label}"
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
                line.append("" if value is None else _cell(value))
        cells.append(line)
    right = [c.kind in ("amount", "percent") or c.key == "rank" for c in columns]
    return title + "\n\n" + grid(cells, right)


def rows_iter(items: Iterable[Evaluated]) -> Iterator[dict[str, Any]]:
    return (flat_row(i) for i in items)


def _cell(value: object) -> str:
    """A cell's text; decimals as plain digits (never '0E+2')."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)
