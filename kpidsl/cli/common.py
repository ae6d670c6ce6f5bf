"""What every command shares: exit codes, facts options, the error handler, facts runs.

Exit codes are defined here once and nowhere else:

    OK = 0        everything checked, evaluated or passed
    FINDINGS = 1  diagnostics (errors, or warnings with --strict), bad facts rows, failed tests
    USAGE = 2     a usage error, an unreadable file, a scheme that does not compile

Helpers for commands living in other modules (``kpidsl/cli/docs.py``, ``kpidsl/cli/plans.py``;
see ``kpidsl/cli/__init__.py`` for how they are registered):

- ``@handle_errors`` turns KpiError (and FactsFileError), OSError and Ctrl-C into a clean
  message on stderr and exit 2 (130 for Ctrl-C) — never a traceback.
- ``@facts_options`` adds ``--map CRM_COLUMN=fact`` (repeatable), ``--mapping FILE.toml``,
  ``--id COLUMN``, ``--sheet NAME``, ``--header-row N``, ``--grade GRADE``, ``--locale``,
  ``--percent`` and ``--keep-totals``; the command
  receives one ``facts: FactsOptions``
  (defined in ``kpidsl.run``, the library's run layer, which takes it as it is).
- ``load_ruleset(path)`` loads a scheme, printing its warnings to stderr;
  ``load_scheme(path, plan, month)`` also picks the version in force for --period.
- ``run_facts(ruleset, paths, facts, ...)`` is ``kpidsl.run.evaluate_files`` with every bad
  row reported on stderr (file, spreadsheet row, column, offending text) and a progress bar
  on a terminal; it returns the ``Run``: its items stream, its ``failures`` and ``counts`` are
  complete once they are exhausted. ``print_counts(run.counts)`` prints the closing
  "N rows read, N evaluated, N failed" line; exit with ``FINDINGS`` when ``run.failures``.
- ``expand_paths(paths)`` turns files and directories into the sorted *.kpi files in them.

Nothing here imports Babel, Jinja or openpyxl: ``kpidsl check`` must start fast.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..diagnostics import Diagnostic, KpiError
from ..source import path_text
from ..valueclass import valueclass

if TYPE_CHECKING:
    from pathlib import Path

    from ..api import Ruleset
    from ..forecast import Pace
    from ..run import Counts, FactsOptions, RowFailure, Run


def __getattr__(name: str) -> Any:
    """`FactsOptions`, imported with the run layer when a command reads facts (`kpidsl
    check` reads none: the run layer stays out of its start-up)."""
    if name == "FactsOptions":
        from ..run import FactsOptions

        return FactsOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

OK = 0
FINDINGS = 1
USAGE = 2
INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = USAGE) -> None:
    """Print `error: message` on stderr (in the command's --lang) and exit with `code`."""
    from ..i18n.diagnostics import SEVERITY, translate
    from .render import current_lang

    lang = current_lang()
    click.echo(f"{SEVERITY[lang]['error']}: {translate(message, lang, 'usage')}", err=True)
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
    """--map, --mapping, --id, --sheet, --header-row, --grade, --locale, --percent and
    --keep-totals, gathered into one `facts: FactsOptions` argument."""

    @click.option("--map", "mapping", multiple=True, metavar="CRM_COLUMN=fact",
                  callback=_parse_map,
                  help="Read a column under a fact's name (repeatable): --map Выручка=revenue.")
    @click.option("--id", "id_column", default="employee", show_default=True, metavar="COLUMN",
                  help="The column that names the employee.")
    @click.option("--sheet", default=None, metavar="NAME",
                  help="The worksheet of an XLSX file (default: the active one, else the one "
                       "sheet whose header names the scheme's facts).")
    @click.option("--mapping", "mapping_file", default=None, metavar="FILE.toml",
                  type=click.Path(dir_okay=False),
                  help="A CRM's column names written once (TOML: [columns] \"Бюджет, руб.\" = "
                       "\"revenue\"; id = \"Ответственный\").")
    @click.option("--header-row", type=click.IntRange(min=1), default=None, metavar="N",
                  help="The row that holds the column titles (default: the first row naming "
                       "a fact of the scheme).")
    @click.option("--grade", default=None, metavar="GRADE",
                  help="Evaluate everyone in this grade (default: each row's grade column, "
                       "else the base scheme).")
    @click.option("--locale", type=click.Choice(["ru", "en"]), default=None,
                  help="How the facts write numbers: ru (3 300 000,50; a lone comma is "
                       "decimal) or en (3,300,000.50). Default: detected per file; "
                       "'142,500' is refused when a file leaves it ambiguous.")
    @click.option("--percent", type=click.Choice(["points", "fraction"]), default=None,
                  help="How a bare number in a percent column reads: points (2,1 is 2,1 %) "
                       "or fraction (0,021 is 2,1 %). Default: the scheme's word, a '%' in "
                       "the header, else fractions up to 1.")
    @click.option("--source", "sources", multiple=True, metavar="SOURCE=FILE",
                  help="A file of one of the scheme's sources (deal, call, lead exports), "
                       "when its header does not tell: --source deals=july.csv.")
    @click.option("--split", "splits", multiple=True, metavar="SOURCE=FILE",
                  help="A file of credit splits for a source: its key, employee and share "
                       "columns, a row per employee credited with part of a deal (shares "
                       "of a deal add up to 100 %): --split deals=splits.csv.")
    @click.option("--keep-totals", is_flag=True, default=False,
                  help="Read a totals row ('Итого', 'Total') as an employee instead of "
                       "skipping it with a warning.")
    @functools.wraps(function)
    def wrapper(*args: Any, mapping: dict[str, str], id_column: str, sheet: str | None,
                grade: str | None, mapping_file: str | None, header_row: int | None,
                locale: str | None, percent: str | None, keep_totals: bool,
                sources: tuple[str, ...] = (), splits: tuple[str, ...] = (),
                **kwargs: Any) -> Any:
        def by_source(values: tuple[str, ...], flag: str,
                      example: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
            bound: dict[str, list[str]] = {}
            for given in values:
                name, sep, path = given.partition("=")
                if not sep or not name.strip() or not path.strip():
                    raise click.BadParameter(f"'{given}': write SOURCE=FILE, e.g. "
                                             f"{flag} {example}", param_hint=flag)
                bound.setdefault(name.strip(), []).append(path.strip())
            return tuple((k, tuple(v)) for k, v in bound.items())
        from ..run import FactsOptions

        options = FactsOptions(dict(mapping), id_column, sheet, grade, mapping_file, header_row,
                               locale, percent, keep_totals,
                               by_source(sources, "--source", "deals=july.csv"),
                               by_source(splits, "--split", "deals=splits.csv"))
        return function(*args, facts=options, **kwargs)

    return wrapper  # type: ignore[return-value]


def lang_option(function: F) -> F:
    return click.option("--lang", type=click.Choice(["en", "ru"]), default="en",
                        show_default=True, help="Language of words and numbers.")(function)


# ---------------------------------------------------------------- schemes


def expand_paths(paths: Iterable[str], suffix: str = ".kpi") -> list[str]:
    """Files as given; directories searched recursively for *.kpi. Missing paths are errors.
    Each is named as `pathlib` names it (`source.path_text`: a file named plainly is checked
    without importing pathlib)."""
    found: list[str] = []
    for text in paths:
        path = path_text(text)
        if os.path.isdir(path):
            from pathlib import Path

            inside = sorted(p for p in Path(path).rglob(f"*{suffix}") if p.is_file())
            if not inside:
                fail(f"{path}: no {suffix} files in this directory")
            found.extend(str(p) for p in inside)
        elif os.path.exists(path):
            found.append(path)
        else:
            fail(f"{path}: no such file or directory")
    return list(dict.fromkeys(found))


def load_ruleset(path: str | Path, *, quiet: bool = False) -> Ruleset:
    """Load a scheme (KpiError on errors, for @handle_errors); warnings go to stderr."""
    from ..api import load
    from .render import diagnostics_text

    ruleset = load(path)
    if ruleset.diagnostics and not quiet:
        click.echo(diagnostics_text(ruleset.diagnostics), err=True)
    return ruleset


# ---------------------------------------------------------------- facts runs


@valueclass(frozen=True)  # a frozen dataclass made without `exec` (kpidsl/valueclass.py)
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



def check_grade(ruleset: Ruleset, grade: str | None) -> None:
    if grade is not None and grade not in ruleset.checked.variants:
        from ..diagnostics import did_you_mean

        hint = did_you_mean(grade, ruleset.grades)
        known = ", ".join(ruleset.grades) or "none"
        fail(f"unknown grade '{grade}'; known grades: {known}" + (f" ({hint})" if hint else ""))


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
        from .render import current_lang as _lang

        click.echo(resolved.note(_lang()), err=True)
    if month is None:
        month = resolved.month or (plan.as_of.month if plan.as_of else None)
    return resolved.ruleset, month


def report_failure(failure: RowFailure) -> None:
    """A bad facts row on stderr: file, spreadsheet row, column, offending text, hint."""
    from .render import row_failure_text

    click.echo(row_failure_text(failure), err=True)


def report_warning(diagnostic: Diagnostic) -> None:
    from .render import facts_diagnostic_text

    click.echo(facts_diagnostic_text(diagnostic), err=True)


def run_facts(ruleset: Ruleset, paths: Iterable[str | Path], facts: FactsOptions, *,
              month: int | None = None, only: str | None = None, report: bool = True,
              progress: bool = False, engine: str = "python",
              period: str | None = None) -> Run:
    """`kpidsl.run.evaluate_files` with bad rows and warnings on stderr and a progress bar."""
    from pathlib import Path

    from ..run import evaluate_files

    paths = list(paths)
    meter = Progress([Path(p) for p in paths]) if progress else None
    return evaluate_files(ruleset, paths, facts, month=month, only=only,
                          on_failure=report_failure if report else None,
                          on_warning=report_warning if report else None,
                          # a bar that is not drawn is no call a row (kpidsl/fused.py)
                          on_row=meter.tick if meter and meter.enabled else None,
                          on_done=meter.close if meter else None, engine=engine,
                          period=period)


def print_counts(counts: Counts) -> None:
    from .render import counts_line

    click.echo(counts_line(counts), err=True)


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
