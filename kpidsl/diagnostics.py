"""Diagnostics: errors and warnings as values, with stable codes and one caret renderer.

Codes are stable and catalogued in docs/diagnostics.md:
KPI0xx syntax, KPI1xx names, KPI2xx units and arithmetic, KPI3xx plans, weights and pools,
KPI4xx curves, KPI5xx facts, KPI6xx grades and teams, KPI7xx methodology, KPI8xx examples,
KPI9xx run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from .source import SourceFile, Span
from .valueclass import valueclass


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@valueclass(frozen=True)  # a frozen dataclass made without `exec` (kpidsl/valueclass.py)
class Diagnostic:
    """One problem found in a ruleset or a facts file."""

    code: str
    severity: Severity
    message: str
    file: str = "<string>"
    line: int = 0
    column: int = 0
    end_column: int = 0
    source_line: str = ""
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file

    def render(self) -> str:
        """`file:L:C: error KPI101: message`, the source line, a caret, and the hint."""
        lines = [f"{self.location()}: {self.severity} {self.code}: {self.message}"]
        if self.source_line:
            gutter = str(self.line)
            lines.append(f" {gutter} | {self.source_line}")
            width = max(1, self.end_column - self.column) if self.end_column > self.column else 1
            width = min(width, max(1, len(self.source_line) - self.column + 1))
            pad = "".join("\t" if c == "\t" else " " for c in self.source_line[: self.column - 1])
            lines.append(f" {' ' * len(gutter)} | {pad}{'^' * width}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
        }


def make(
    code: str,
    message: str,
    source: SourceFile | None = None,
    span: Span | None = None,
    *,
    hint: str = "",
    severity: Severity = Severity.ERROR,
) -> Diagnostic:
    """Build a diagnostic at a span of a source file (the line text is captured for carets)."""
    if source is None or span is None or span.line == 0:
        return Diagnostic(code, severity, message, source.name if source else "<string>", hint=hint)
    end_column = (span.end_column if span.end_line == span.line
                  else len(source.line_text(span.line)) + 1)
    return Diagnostic(
        code,
        severity,
        message,
        source.name,
        span.line,
        span.column,
        end_column,
        source.line_text(span.line),
        hint,
    )


def error(code: str, message: str, source: SourceFile | None = None, span: Span | None = None,
          *, hint: str = "") -> Diagnostic:
    return make(code, message, source, span, hint=hint, severity=Severity.ERROR)


def warning(code: str, message: str, source: SourceFile | None = None, span: Span | None = None,
            *, hint: str = "") -> Diagnostic:
    return make(code, message, source, span, hint=hint, severity=Severity.WARNING)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """'did you mean X?' for the closest known name, or '' when nothing is close."""
    import difflib  # only when a name is unknown: `kpidsl check` of a good scheme needs none

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean '{close[0]}'?" if close else ""


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file, d.line, d.column, d.code)


def render_all(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n\n".join(d.render() for d in sorted(diagnostics, key=sort_key))


class KpiError(Exception):
    """Raised by the API when a ruleset or facts input has errors; carries the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error] or self.diagnostics
        super().__init__(render_all(errors))
