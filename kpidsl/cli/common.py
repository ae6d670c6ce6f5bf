"""What every command shares: exit codes, option decorators, the error handler, facts runs.

Exit codes are defined here once and nowhere else:

    OK = 0        everything checked, evaluated or passed
    FINDINGS = 1  diagnostics (errors, or warnings with --strict), bad facts rows, failed tests
    USAGE = 2     a usage error, an unreadable file, a scheme that does not compile

Helpers for commands living in other modules (``kpidsl/cli/docs.py``, ``kpidsl/cli/plans.py``;
see ``kpidsl/cli/__init__.py`` for how they are registered):

- ``@handle_errors`` turns KpiError (and FactsFileError), OSError and Ctrl-C into a clean
  message on stderr and exit 2 (130 for Ctrl-C) — never a traceback.
- ``@facts_options`` adds ``--map CRM_COLUMN=fact`` (repeatable), ``--id COLUMN``,
  ``--sheet NAME`` and ``--grade GRADE``; the command receives one ``facts: FactsOptions``.
- ``load_ruleset(path)`` loads a scheme, printing its warnings to stderr.
- ``read_and_evaluate(ruleset, paths, ...)`` streams facts files, reports every bad row on
  stderr (file, spreadsheet row, column, offending text) and returns
  ``(results, failures, summary)``: ``results`` is an iterator of Result; ``failures`` and
  ``summary`` are complete once it is exhausted. ``print_summary(summary)`` prints the closing
  "N rows read, N evaluated, N failed" line; exit with ``FINDINGS`` when ``failures``.
- ``expand_paths(paths)`` turns files and directories into the sorted *.kpi files in them.

Nothing here imports Babel, Jinja or openpyxl: ``kpidsl check`` must start fast.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..diagnostics import Diagnostic, KpiError

if TYPE_CHECKING:
    from ..api import Ruleset
    from ..facts import FactRow, RowError
    from ..results import Result

OK = 0
FINDINGS = 1
USAGE = 2
INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = USAGE) -> None:
    """Print `error: message` on stderr and exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(function: F) -> F:
    """Turn a user's mistake into a clean message and exit 2, never a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except KpiError as exc:
            from .render import diagnostics_text

            click.echo(diagnostics_text(exc.diagnostics), err=True)
            sys.exit(USAGE)
        except BrokenPipeError:  # `kpidsl eval ... | head`: the reader left, nothing to say
            sys.stderr.close()
            sys.exit(OK)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class FactsOptions:
    """How to read facts files: column renames, the employee column, the sheet, a grade."""

    mapping: dict[str, str] = field(default_factory=dict)
    id_column: str = "employee"
    sheet: str | None = None
    grade: str | None = None


def _parse_map(_ctx: click.Context, _param: click.Parameter,
               values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        column, sep, fact = value.rpartition("=")
        if not sep or not column.strip() or not fact.strip():
            raise click.BadParameter(f"expected CRM_COLUMN=fact, got {value!r}")
        mapping[column.strip()] = fact.strip()
    return mapping


def facts_options(function: F) -> F:
    """--map, --id, --sheet and --grade, gathered into one `facts: FactsOptions` argument."""

    @click.option("--map", "mapping", multiple=True, metavar="CRM_COLUMN=fact",
                  callback=_parse_map,
                  help="Read a column under a fact's name (repeatable): --map Выручка=revenue.")
    @click.option("--id", "id_column", default="employee", show_default=True, metavar="COLUMN",
                  help="The column that names the employee.")
    @click.option("--sheet", default=None, metavar="NAME",
                  help="The worksheet of an XLSX file (default: the active one).")
    @click.option("--grade", default=None, metavar="GRADE",
                  help="Evaluate everyone in this grade (default: each row's grade column, "
                       "else the base scheme).")
    @functools.wraps(function)
    def wrapper(*args: Any, mapping: dict[str, str], id_column: str, sheet: str | None,
                grade: str | None, **kwargs: Any) -> Any:
        options = FactsOptions(dict(mapping), id_column, sheet, grade)
        return function(*args, facts=options, **kwargs)

    return wrapper  # type: ignore[return-value]


def lang_option(function: F) -> F:
    return click.option("--lang", type=click.Choice(["en", "ru"]), default="en",
                        show_default=True, help="Language of words and numbers.")(function)


# ---------------------------------------------------------------- schemes


def expand_paths(paths: Iterable[str], suffix: str = ".kpi") -> list[Path]:
    """Files as given; directories searched recursively for *.kpi. Missing paths are errors."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob(f"*{suffix}") if p.is_file())
            if not inside:
                fail(f"{path}: no {suffix} files in this directory")
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            fail(f"{path}: no such file or directory")
    unique: dict[Path, None] = dict.fromkeys(found)
    return list(unique)


def load_ruleset(path: str | Path, *, quiet: bool = False) -> Ruleset:
    """Load a scheme (KpiError on errors, for @handle_errors); warnings go to stderr."""
    from ..api import load
    from .render import diagnostics_text

    ruleset = load(path)
    if ruleset.diagnostics and not quiet:
        click.echo(diagnostics_text(ruleset.diagnostics), err=True)
    return ruleset


# ---------------------------------------------------------------- facts runs


@dataclass
class RowFailure:
    """A facts row that produced no result: unreadable cells, or a failed evaluation."""

    file: str
    row: int
    employee: str | None
    column: str
    text: str
    diagnostics: tuple[Diagnostic, ...]


@dataclass
class RunSummary:
    files: int = 0
    rows_read: int = 0
    evaluated: int = 0
    failed: int = 0
    warnings: list[Diagnostic] = field(default_factory=list)

    def line(self) -> str:
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        return (f"{count(self.rows_read, 'row')} read, {self.evaluated} evaluated, "
                f"{self.failed} failed")


@dataclass
class Evaluated:
    result: Result
    extra: dict[str, str]  # descriptive columns of the row (e.g. 'name')


def read_and_evaluate(ruleset: Ruleset, facts_paths: Iterable[str | Path], *,
                      mapping: dict[str, str] | None = None, id_column: str = "employee",
                      sheet: str | None = None, grade: str | None = None,
                      month: int | None = None, only: str | None = None,
                      report: bool = True,
                      ) -> tuple[Iterator[Result], list[RowFailure], RunSummary]:
    """Stream facts files through the scheme; bad rows go to stderr and `failures`.

    The files are opened at once (FactsFileError for a missing or unreadable one); rows are
    read as the returned iterator is consumed. `only` keeps one employee (for explanations).
    """
    evaluated, failures, summary = evaluate_rows(
        ruleset, facts_paths, mapping=mapping, id_column=id_column, sheet=sheet, grade=grade,
        month=month, only=only, report=report)
    return (item.result for item in evaluated), failures, summary


def evaluate_rows(ruleset: Ruleset, facts_paths: Iterable[str | Path], *,
                  mapping: dict[str, str] | None = None, id_column: str = "employee",
                  sheet: str | None = None, grade: str | None = None, month: int | None = None,
                  only: str | None = None, report: bool = True, progress: bool = False,
                  engine: str = "python",
                  ) -> tuple[Iterator[Evaluated], list[RowFailure], RunSummary]:
    """As read_and_evaluate, keeping each row's descriptive columns with its Result."""
    from ..facts import read_facts

    paths = [Path(p) for p in facts_paths]
    readers = [read_facts(p, ruleset.fact_specs, id_column=id_column, mapping=mapping,
                          sheet=sheet) for p in paths]
    failures: list[RowFailure] = []
    summary = RunSummary(files=len(readers))
    pending: dict[str, tuple[str, dict[str, str]]] = {}  # employee → (file, extra)
    meter = Progress(paths) if progress else None
    keep = only
    if only is not None and _needs_whole_team(ruleset):
        only = None  # team aggregates need every member; the result is picked afterwards

    def record(failure: RowFailure) -> None:
        failures.append(failure)
        summary.failed += 1
        if report:
            from .render import row_failure_text

            click.echo(row_failure_text(failure), err=True)

    def warn(diagnostics: list[Diagnostic]) -> None:
        summary.warnings.extend(diagnostics)
        if report:
            from .render import facts_diagnostic_text

            for d in diagnostics:
                click.echo(facts_diagnostic_text(d), err=True)

    def rows() -> Iterator[FactRow]:
        from ..facts import SeenIds

        seen = SeenIds()  # "file:row" by employee, spilling to disk: flat memory for 1 M rows
        for reader in readers:
            warned = 0
            for item in reader:
                summary.rows_read += 1
                if meter:
                    meter.tick(summary.rows_read)
                if len(reader.warnings) > warned:
                    warn(reader.warnings[warned:])
                    warned = len(reader.warnings)
                if only is not None and (item.employee or "") != only:
                    continue
                if _is_error(item):
                    record(_from_row_error(item))  # type: ignore[arg-type]
                    continue
                row: FactRow = item  # type: ignore[assignment]
                earlier = seen[row.employee]
                if earlier is not None:
                    record(_duplicate(row, id_column, str(earlier)))
                    continue
                seen[row.employee] = f"{row.file}:{row.row}"
                pending[row.employee] = (row.file, row.extra)
                yield row
            if len(reader.warnings) > warned:
                warn(reader.warnings[warned:])

    def on_error(employee: str, row: int, diagnostics: list[Diagnostic]) -> None:
        file, _extra = pending.pop(employee, ("", {}))
        record(RowFailure(file, row, employee, "", "", tuple(diagnostics)))

    def results() -> Iterator[Evaluated]:
        try:
            chosen = engine
            if engine == "auto":
                from ..sql.engine import choose_engine

                chosen = choose_engine(ruleset, paths)
            for result in ruleset.evaluate_many(rows(), grade, month=month, on_error=on_error,
                                                engine=chosen):
                summary.evaluated += 1
                _file, extra = pending.pop(result.employee, ("", {}))
                if keep is None or result.employee == keep:
                    yield Evaluated(result, extra)
        finally:
            if meter:
                meter.close()

    return results(), failures, summary


def _needs_whole_team(ruleset: Ruleset) -> bool:
    from ..evaluate import uses_team

    checked = ruleset.checked
    return bool(checked.base.budgets) or any(uses_team(i, checked) for i in ruleset.infos.values())


def _is_error(item: object) -> bool:
    from ..facts import RowError

    return isinstance(item, RowError)


def _from_row_error(error: RowError) -> RowFailure:
    return RowFailure(error.file, error.row, error.employee, error.column, error.text,
                      tuple(error.diagnostics))


def _duplicate(row: FactRow, id_column: str, earlier: str) -> RowFailure:
    from ..diagnostics import error

    message = (f"row {row.row}, column '{id_column}': employee '{row.employee}' already "
               f"appears at {earlier}")
    diagnostic = error("KPI504", message, hint="each employee appears once across the facts "
                       "files; merge or remove the duplicate")
    located = Diagnostic(diagnostic.code, diagnostic.severity, diagnostic.message, row.file,
                         row.row, 0, hint=diagnostic.hint)
    return RowFailure(row.file, row.row, row.employee, id_column, row.employee, (located,))


def print_summary(summary: RunSummary) -> None:
    click.echo(f"facts: {summary.line()}", err=True)


# ---------------------------------------------------------------- progress


class Progress:
    """A progress line on stderr while rows are read; silent unless stderr is a terminal.

    The total is estimated from line counts of CSV and JSONL files (read once, fast); for
    other formats only the count of rows read is shown.
    """

    MIN_BYTES = 2_000_000  # small files finish before a bar is worth drawing
    EVERY = 0.2  # seconds between redraws

    def __init__(self, paths: list[Path]) -> None:
        stream = sys.stderr  # click.get_text_stream is deprecated (a warning, an error in tests)
        size = sum(p.stat().st_size for p in paths if p.is_file())
        self.enabled = stream.isatty() and size >= self.MIN_BYTES
        self.stream = stream
        self.total = self._estimate(paths) if self.enabled else None
        self.last = 0.0
        self.drawn = False

    @staticmethod
    def _estimate(paths: list[Path]) -> int | None:
        total = 0
        for path in paths:
            if path.suffix.lower() not in (".csv", ".tsv", ".txt", ".jsonl", ".ndjson"):
                return None
            with open(path, "rb") as stream:
                while chunk := stream.read(1 << 20):
                    total += chunk.count(b"\n")
        return max(total - len(paths), 1)  # minus the header rows

    def tick(self, rows: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < self.EVERY:
            return
        self.last = now
        self.drawn = True
        if self.total:
            share = min(rows / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"\r[{bar:<30}] {share:4.0%}  {rows:,} of ~{self.total:,} rows"
        else:
            text = f"\r{rows:,} rows read"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
