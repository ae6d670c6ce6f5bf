"""All output formatting of the command line, in one package.

Commands decide what to show; this package decides how it looks. This module holds what
every command needs and `kpidsl check` must load fast: diagnostics, numbers as text, the
aligned grid, and the enum of output formats. Each results format has its own renderer
module (`table`, `csvfile`, `jsonfile`, `xlsx`), reached through `ResultsFormat.renderer`,
so adding a format is one module and one enum member, never a dispatch chain. `model`
shapes results into columns and rows that every renderer shares.
Nothing heavy is imported here (openpyxl only inside the XLSX renderer).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, render_all, sort_key

if TYPE_CHECKING:
    from ...run import Counts, RowFailure
    from .base import Output, Renderer, RenderOptions


class DiagnosticsFormat(str, Enum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


class ResultsFormat(str, Enum):
    """Every format results can be written in; each names the renderer that writes it."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    XLSX = "xlsx"

    def renderer(self, out: Output, lang: str = "en",
                 options: RenderOptions | None = None) -> Renderer:
        import importlib

        module_name, class_name = _RENDERERS[self]
        module = importlib.import_module(f"{__name__}.{module_name}")
        renderer: Renderer = getattr(module, class_name)(out, lang, options)
        return renderer

    @property
    def to_file(self) -> bool:
        """Written to a path (a workbook), not to a text stream."""
        return self is ResultsFormat.XLSX


_RENDERERS = {
    ResultsFormat.TABLE: ("table", "TableRenderer"),
    ResultsFormat.CSV: ("csvfile", "CsvRenderer"),
    ResultsFormat.JSON: ("jsonfile", "JsonRenderer"),
    ResultsFormat.JSONL: ("jsonfile", "JsonLinesRenderer"),
    ResultsFormat.XLSX: ("xlsx", "XlsxRenderer"),
}


# ---------------------------------------------------------------- diagnostics


def current_lang() -> str:
    """The --lang of the running command ('en' outside one, or for commands without it)."""
    import click

    context = click.get_current_context(silent=True)
    lang = context.params.get("lang") if context is not None else None
    return lang if lang in ("en", "ru") else "en"


def diagnostics_text(diagnostics: Iterable[Diagnostic], lang: str | None = None) -> str:
    lang = lang or current_lang()
    if lang == "en":
        return render_all(diagnostics)
    from ...i18n.diagnostics import render

    return "\n\n".join(render(d, lang) for d in sorted(diagnostics, key=sort_key))


def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> str:
    import json  # here: `kpidsl check` prints text unless asked for JSON

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


def check_summary(files: int, diagnostics: Sequence[Diagnostic], lang: str = "en") -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if lang == "ru":
        if not diagnostics:
            return f"проверено файлов: {files}; проблем нет"
        return f"проверено файлов: {files}; ошибок: {errors}, предупреждений: {warnings}"

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if not diagnostics:
        return f"{count(files, 'file')} checked: no problems"
    return f"{count(files, 'file')} checked: {count(errors, 'error')}, {count(warnings, 'warning')}"


def facts_diagnostic_text(d: Diagnostic, lang: str | None = None) -> str:
    """A facts problem: `file:row: error KPI501: row 3, column 'revenue': ...` and its hint.

    The row is as the spreadsheet shows it (the header is row 1); no caret, since the
    offending text is quoted in the message.
    """
    from ...escape import visible
    from ...i18n.diagnostics import SEVERITY, localized

    lang = lang or current_lang()
    words = SEVERITY[lang]
    d = localized(d, lang)
    where = f"{d.file}:{d.line}" if d.line else d.file
    text = f"{where}: {words[str(d.severity)]} {d.code}: {visible(d.message)}"  # CRM text: one line
    return text + (f"\n  {words['hint']}: {visible(d.hint)}" if d.hint else "")


def row_failure_text(failure: RowFailure, lang: str | None = None) -> str:
    """A row that gave no result; run-time failures also show the .kpi line that failed."""
    from ...i18n import section
    from ...i18n.diagnostics import SEVERITY

    lang = lang or current_lang()
    words = section("RUN", lang)
    parts = []
    for d in failure.diagnostics:
        if d.file == failure.file or not failure.file:
            parts.append(facts_diagnostic_text(d, lang))
            continue
        from ...escape import visible

        who = (words["employee"].format(employee=visible(failure.employee)) if failure.employee
               else words["this_row"])
        head = f"{failure.file}:{failure.row}: {SEVERITY[lang]['error']} {d.code}: " \
               + words["not_evaluated"].format(row=failure.row, who=who)
        parts.append(head + "\n" + "\n".join("  " + line for line in
                                              diagnostics_text([d], lang).splitlines()))
    return "\n".join(parts)


# ---------------------------------------------------------------- numbers


def amount_text(value: Decimal | None, lang: str = "en") -> str:
    """119800.00 → '119,800.00' (en) / '119 800,00' (ru); exact, digits as the value has."""
    if value is None:
        return ""
    text = format(value if value else value.copy_abs(), ",f")  # never '-0.00'
    if lang == "ru":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def percent_text(fraction: Decimal | None, lang: str = "en") -> str:
    if fraction is None:
        return ""
    scaled = (fraction * 100).quantize(Decimal("0.1")).normalize()
    text = format(scaled if scaled else scaled.copy_abs(), ",f")  # never '-0%'
    if lang == "ru":
        return text.replace(",", "\u00a0").replace(".", ",") + "\u00a0%"
    return text + "%"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def grid(cells: list[list[str]], right: list[bool], *, total_row: bool = False) -> str:
    """Header, a rule, rows (and a rule before the last row when it is a total)."""
    if not cells:
        return ""
    from ...escape import visible

    cells = [[visible(text) for text in row] for row in cells]  # no fake rows, no escapes
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


def cell_text(value: object) -> str:
    """A cell's text; decimals as plain digits (never '0E+2')."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def counts_line(counts: Counts, lang: str | None = None) -> str:
    """The closing line of a run on stderr: 'facts: 12 rows read, 11 evaluated, 1 failed'."""
    from ...i18n import section

    words = section("RUN", lang or current_lang())
    rows = words["rows_one" if counts.rows_read == 1 else "rows_many"]
    return words["counts"].format(rows=rows.format(n=counts.rows_read),
                                  evaluated=counts.evaluated, failed=counts.failed)


def wrote_text(path: object, lang: str | None = None) -> str:
    from ...i18n import section

    return section("RUN", lang or current_lang())["wrote"].format(path=path)
