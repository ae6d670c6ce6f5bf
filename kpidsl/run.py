"""A run: facts files through a scheme into results, failures and counts.

Every command that reads facts (`eval`, `explain`, `statement`, `compare`, `target`, the
forecast) and the Python API go through here, so that they read files the same way, refuse
the same duplicate employees and count rows the same way: rows read = evaluated + failed.

How a run is reported is the caller's business: `on_failure` and `on_warning` receive each
bad row and each reader warning as they happen (the CLI prints them on stderr), `on_row`
receives the count of rows read so far (the CLI draws a progress bar from it).
Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic
from .teams import MissingMember

if TYPE_CHECKING:
    from .api import Ruleset
    from .facts import FactRow, FactsReader, RowError
    from .results import Result


@dataclass(frozen=True)
class FactsOptions:
    """How to read facts files: column renames (`--map`, a `--mapping` file), the employee
    column, the sheet, the header row, a grade. See kpidsl/columns.py for how titles match."""

    mapping: dict[str, str] = field(default_factory=dict)
    id_column: str = "employee"
    sheet: str | None = None
    grade: str | None = None
    mapping_file: str | None = None
    header_row: int | None = None
    locale: str | None = None  # 'ru' | 'en': how the files write numbers, when declared
    percent: str | None = None  # 'points' | 'fraction': bare numbers in percent columns
    keep_totals: bool = False  # read 'Итого' rows as employees
    # `--source deals=FILE`: files of the scheme's sources (kpidsl/sources/), by source
    sources: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # `--split deals=FILE`: credit split files of the scheme's sources, by source
    splits: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def reader(self, path: str | Path, specs: dict[str, Any], *,
               several: bool = False) -> FactsReader:
        """One facts file opened with these options (FactsFileError when it cannot be).
        `several`: one of several files joined by employee (kpidsl/join.py)."""
        from .facts import read_facts

        saved: dict[str, Any] = {}
        if self.mapping_file is not None:
            from .columns import ColumnError, read_mapping_file
            from .diagnostics import error
            from .facts import FactsFileError

            try:
                saved = read_mapping_file(self.mapping_file)
            except ColumnError as exc:
                raise FactsFileError(error("KPI507", exc.message, hint=exc.hint)) from None
        id_column = self.id_column if self.id_column != "employee" else \
            saved.get("id", self.id_column)
        if Path(path).suffix.lower() == ".parquet":  # read by DuckDB, as CSV text
            from .sql.parquet import parquet_reader

            return parquet_reader(Path(path), lambda text: self.reader(text, specs,
                                                                       several=several))
        return read_facts(path, specs, id_column=id_column, mapping=self.mapping,
                          sheet=self.sheet or saved.get("sheet"),
                          columns=saved.get("columns"),
                          header_row=self.header_row or saved.get("header_row"),
                          check_map=not several, partial=several, locale=self.locale,
                          percent=self.percent, keep_totals=self.keep_totals)


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
class Counts:
    """What a run read and did; complete once its results are exhausted."""

    files: int = 0
    rows_read: int = 0
    evaluated: int = 0
    failed: int = 0
    warnings: list[Diagnostic] = field(default_factory=list)


RunSummary = Counts  # the name the CLI used before the run layer


@dataclass
class Evaluated:
    """One employee's result with the row's descriptive columns (e.g. 'name')."""

    result: Result
    extra: dict[str, str]


@dataclass
class Run:
    """`items` streams as it is consumed; `failures` and `counts` are complete afterwards."""

    ruleset: Ruleset
    items: Iterator[Evaluated]
    failures: list[RowFailure]
    counts: Counts
    native: Any = None  # a NativeRun when DuckDB reads the file itself (kpidsl/sql/native.py)

    # every item's `extra` has the same keys in the same order (one CSV file: its header
    # says them), so a CSV of the results can be written from its first row on
    uniform_extra: bool = False
    # one CSV file of a scheme whose rows stream, in Python: the renderers may write it
    # by kpidsl/fused.py's loop instead of consuming `items` (a fused.Source)
    fused: Any = None

    def __iter__(self) -> Iterator[Evaluated]:
        return self.items

    def results(self) -> Iterator[Result]:
        return (item.result for item in self.items)

    @property
    def ok(self) -> bool:
        return not self.failures


FailureHandler = Callable[[RowFailure], None]
WarningHandler = Callable[[Diagnostic], None]


def evaluate_files(ruleset: Ruleset, paths: Iterable[str | Path],
                   facts: FactsOptions | None = None, *, month: int | None = None,
                   only: str | None = None, on_failure: FailureHandler | None = None,
                   on_warning: WarningHandler | None = None,
                   on_row: Callable[[int], None] | None = None,
                   on_done: Callable[[], None] | None = None, engine: str = "python",
                   period: str | None = None) -> Run:
    """Stream facts files through the scheme.

    The files are opened at once (FactsFileError for a missing or unreadable one); rows are
    read as the run's items are consumed. `only` keeps one employee (for explanations and
    statements); a scheme with team aggregates still evaluates everyone, then picks.
    `engine` is "python", "duckdb" or "auto" (docs/sql.md). A scheme with sources (deal
    exports) goes through kpidsl/sources/run.py; `period` ('2025-07') filters their rows.
    """
    facts = facts or FactsOptions()
    paths = [Path(p) for p in paths]
    from .sources import has_sources  # not sources.run: the deal machinery (50 ms)

    if has_sources(ruleset):
        return _sources_run(ruleset, list(paths), facts, month=month, only=only, period=period,
                            on_failure=on_failure, on_warning=on_warning, on_done=on_done,
                            engine=engine)
    readers = [facts.reader(p, ruleset.fact_specs, several=len(paths) > 1) for p in paths]
    failures: list[RowFailure] = []
    counts = Counts(files=len(readers))
    pending: dict[str, tuple[str, dict[str, str]]] = {}  # employee → (file, extra)
    per_team = ruleset.checked.header.per_team
    team_rows: dict[str, list[str]] = {}  # paid per team: a team's member rows still pending
    keep = only
    if only is not None and _needs_whole_team(ruleset):
        only = None  # team aggregates need every member; the result is picked afterwards

    def record(failure: RowFailure) -> None:
        failures.append(failure)
        counts.failed += 1
        if on_failure is not None:
            on_failure(failure)

    def warn(diagnostics: list[Diagnostic]) -> None:
        counts.warnings.extend(diagnostics)
        if on_warning is not None:
            for d in diagnostics:
                on_warning(d)

    def rows() -> Iterator[FactRow | MissingMember]:
        # a failed row goes on as a MissingMember: a team result must not rest on it
        for item in _unique_rows(readers, facts.id_column, counts, record, warn, on_row, only,
                                 ruleset.fact_specs, markers=True):
            if type(item) is not MissingMember:
                pending[item.employee] = (item.file, item.extra)
                if per_team:
                    team_rows.setdefault(item.team or "", []).append(item.employee)
            yield item

    def on_error(employee: str, row: int, diagnostics: list[Diagnostic]) -> None:
        file, _extra = pending.pop(employee, ("", {}))
        record(RowFailure(file, row, employee, "", "", tuple(
            _at_row(d, file, row) if d.code == "KPI905" else d for d in diagnostics)))

    chosen = engine
    if engine == "auto":
        from .sql.engine import choose_engine

        chosen = choose_engine(ruleset, paths)
    native = None
    if chosen == "duckdb" and len(readers) == 1 and only is None and not facts.grade:
        from .sql.native import Hooks, native_run

        def count(n: int) -> None:
            counts.rows_read += n
            if on_row is not None:
                on_row(counts.rows_read)

        def evaluated(n: int) -> None:
            counts.evaluated += n

        def remember(employee: str, file: str, extra: dict[str, str]) -> None:
            pending[employee] = (file, extra)

        def forget(employee: str) -> None:
            pending.pop(employee, None)

        # DuckDB reads a plain file itself; any other is read by the Python reader
        native = native_run(ruleset, readers[0], month, Hooks(
            warn, count, evaluated, remember, forget, on_error))
        if native is None and engine == "auto":
            chosen = "python"  # the Python reader reads it: the Python engine is faster

    def results() -> Iterator[Evaluated]:
        try:
            if native is not None:
                try:
                    for result, descriptive in native.results():
                        counts.evaluated += 1
                        yield Evaluated(result, descriptive)
                finally:
                    native.close()
                return
            for result in ruleset.evaluate_many(rows(), facts.grade, month=month,
                                                on_error=on_error, engine=chosen):
                if per_team:  # one result for the team's rows: each row is evaluated
                    members = [e for e in team_rows.pop(result.team or "", [])
                               if pending.pop(e, None) is not None]
                    counts.evaluated += len(members)
                    extra: dict[str, str] = {}
                    if keep is None or result.employee == keep:
                        yield Evaluated(result, extra)
                    continue
                counts.evaluated += 1
                _file, extra = pending.pop(result.employee, ("", {}))
                if keep is None or _same(result.employee, keep):
                    yield Evaluated(result, extra)
        finally:
            if on_done is not None:
                on_done()

    fused = None
    if native is None and chosen == "python" and len(readers) == 1 and keep is None \
            and not facts.grade and readers[0].format == "csv" and not readers[0].partial:
        from .fused import Source, fusable

        if fusable(ruleset) is not None:
            fused = Source(ruleset, readers[0], counts, record, warn, on_row, on_done,
                           month)
    return Run(ruleset, results(), failures, counts, native,
               uniform_extra=len(readers) == 1 and readers[0].format == "csv", fused=fused)


def _sources_run(ruleset: Ruleset, paths: list[Any], facts: FactsOptions, *,
                 month: int | None, only: str | None, period: str | None,
                 on_failure: FailureHandler | None, on_warning: WarningHandler | None,
                 on_done: Callable[[], None] | None, engine: str) -> Run:
    from .sources.run import run_sources

    failures: list[RowFailure] = []
    counts = Counts()

    def warn(diagnostics: list[Diagnostic]) -> None:
        counts.warnings.extend(diagnostics)
        if on_warning is not None:
            for d in diagnostics:
                on_warning(d)

    items = run_sources(ruleset, paths, facts, month=month, only=only, period=period,
                        failures=failures, on_failure=on_failure, warn=warn, counts=counts,
                        engine="duckdb" if engine == "duckdb" else "python")

    def results() -> Iterator[Evaluated]:
        try:
            yield from items
        finally:
            if on_done is not None:
                on_done()

    return Run(ruleset, results(), failures, counts)


def read_rows(specs: dict[str, Any], paths: Iterable[str | Path],
              facts: FactsOptions | None = None, *,
              on_failure: FailureHandler | None = None,
              failures: list[RowFailure] | None = None,
              counts: Counts | None = None) -> list[FactRow]:
    """Every good row of the facts files, in memory (for compare, target and forecasts).

    The same reading as a run: unreadable rows and duplicate employees are failures,
    given to `on_failure` and appended to `failures`.
    """
    facts = facts or FactsOptions()
    paths = list(paths)
    readers = [facts.reader(p, specs, several=len(paths) > 1) for p in paths]
    counts = counts if counts is not None else Counts()
    counts.files += len(readers)

    def record(failure: RowFailure) -> None:
        counts.failed += 1
        if failures is not None:
            failures.append(failure)
        if on_failure is not None:
            on_failure(failure)

    def warn(diagnostics: list[Diagnostic]) -> None:
        counts.warnings.extend(diagnostics)

    return list(_unique_rows(readers, facts.id_column, counts, record, warn, None, None, specs))


def _unique_rows(readers: list[FactsReader], id_column: str, counts: Counts,
                 record: FailureHandler, warn: Callable[[list[Diagnostic]], None],
                 on_row: Callable[[int], None] | None,
                 only: str | None = None,
                 specs: dict[str, Any] | None = None,
                 markers: bool = False) -> Iterator[Any]:
    """Good rows of every reader; bad rows and repeated employees go to `record`.

    With `only`, other employees' rows are skipped before they are looked at. Several files
    opened with `several=True` are joined by employee (kpidsl/join.py). With `markers`, a
    bad row is also passed on as a MissingMember (kpidsl/teams.py); a repeated employee is
    not one (the employee's first row stands).
    """
    from .facts import SeenIds

    if len(readers) > 1 and all(r.partial for r in readers):
        yield from _joined(readers, counts, record, warn, on_row, only, specs or {}, markers)
        return

    if len(readers) == 1:
        yield from _one_file(readers[0], counts, record, warn, on_row, only, markers)
        return
    seen = SeenIds()  # "file:row" by employee, spilling to disk: flat memory for 1 M rows
    for reader in readers:
        warned = 0
        for item in reader:
            counts.rows_read += 1
            if on_row is not None:
                on_row(counts.rows_read)
            if len(reader.warnings) > warned:
                warn(reader.warnings[warned:])
                warned = len(reader.warnings)
            if only is not None and not _same(item.employee, only):
                continue
            if _is_error(item):
                record(from_row_error(item))  # type: ignore[arg-type]
                if markers and not (item.employee and seen[item.employee] is not None):
                    yield _missing(item)  # type: ignore[arg-type]
                continue
            row: FactRow = item  # type: ignore[assignment]
            earlier = seen.find(row.employee)
            if earlier is not None:
                record(_duplicate(row, id_column, str(earlier[0]), earlier[1]))
                continue
            seen[row.employee] = f"{row.file}:{row.row}"
            yield row
        if len(reader.warnings) > warned:
            warn(reader.warnings[warned:])


def _one_file(reader: FactsReader, counts: Counts, record: FailureHandler,
              warn: Callable[[list[Diagnostic]], None],
              on_row: Callable[[int], None] | None, only: str | None,
              markers: bool) -> Iterator[Any]:
    """`_unique_rows` for one file: the reader has refused every repeated employee already
    (KPI504), so no index of employees is kept here (it cost ~2 µs a row, ~5 µs past
    SeenIds.SPILL); whether a bad row's employee was paid on an earlier row is the reader's
    to say (`had_good_row`)."""
    from .facts import RowError

    warned = 0
    for item in reader:
        counts.rows_read += 1
        if on_row is not None:
            on_row(counts.rows_read)
        if len(reader.warnings) > warned:
            warn(reader.warnings[warned:])
            warned = len(reader.warnings)
        if only is not None and not _same(item.employee, only):
            continue
        if type(item) is RowError:
            record(from_row_error(item))
            if markers and not (item.employee and reader.had_good_row(item.employee,
                                                                     item.row)):
                yield _missing(item)
            continue
        yield item
    if len(reader.warnings) > warned:
        warn(reader.warnings[warned:])


def _joined(readers: list[FactsReader], counts: Counts, record: FailureHandler,
            warn: Callable[[list[Diagnostic]], None], on_row: Callable[[int], None] | None,
            only: str | None, specs: dict[str, Any], markers: bool = False) -> Iterator[Any]:
    from .join import joined_rows

    physical = 0
    lost: list[MissingMember] = []

    def tick() -> None:
        nonlocal physical
        physical += 1
        if on_row is not None:
            on_row(physical)

    def failed(item: RowError | Diagnostic, employee: str | None) -> None:
        if only is not None and not _same(employee, only):
            return
        counts.rows_read += 1
        if _is_error(item):
            record(from_row_error(item))  # type: ignore[arg-type]
            if markers:
                lost.append(_missing(item))  # type: ignore[arg-type]
        else:
            d: Diagnostic = item  # type: ignore[assignment]
            record(RowFailure(d.file, d.line, employee, "", "", (d,)))
            if markers:  # joined from several files: its team is not known
                lost.append(MissingMember(employee, d.line, "", known=False))

    for row in joined_rows(readers, specs, failed, warn, tick):
        yield from lost
        lost.clear()
        if only is not None and not _same(row.employee, only):
            continue
        counts.rows_read += 1
        yield row
    yield from lost


def _needs_whole_team(ruleset: Ruleset) -> bool:
    from .evaluate import uses_team

    checked = ruleset.checked
    return bool(checked.base.budgets) or any(uses_team(i, checked) for i in ruleset.infos.values())


def _is_error(item: object) -> bool:
    from .facts import RowError

    return isinstance(item, RowError)


def _at_row(d: Diagnostic, file: str, row: int) -> Diagnostic:
    """A diagnostic about a row (a team it cannot be paid without), placed at that row."""
    return Diagnostic(d.code, d.severity, d.message, file or d.file, row, 0, hint=d.hint)


def _missing(error: RowError) -> MissingMember:
    return MissingMember(error.employee, error.row, error.team or "", known=error.team_known)


def from_row_error(error: RowError) -> RowFailure:
    return RowFailure(error.file, error.row, error.employee, error.column, error.text,
                      tuple(error.diagnostics))


def _same(employee: str | None, only: str) -> bool:
    """`--employee Ivanov` names 'ivanov' (and any look-alike spelling of it)."""
    from .ids import look_alike_key

    return look_alike_key(employee or "") == look_alike_key(only)


def _duplicate(row: FactRow, id_column: str, earlier: str, spelt: str) -> RowFailure:
    from .diagnostics import error
    from .ids import difference

    message = (f"row {row.row}, column '{id_column}': employee '{row.employee}' already "
               f"appears at {earlier}")
    if spelt != row.employee:
        message += (f" as '{spelt}': the two ids differ only by look-alike characters "
                    f"({difference(row.employee, spelt)})")
    diagnostic = error("KPI504", message, hint="each employee appears once across the facts "
                       "files; merge or remove the duplicate")
    located = Diagnostic(diagnostic.code, diagnostic.severity, diagnostic.message, row.file,
                         row.row, 0, hint=diagnostic.hint)
    return RowFailure(row.file, row.row, row.employee, id_column, row.employee, (located,))


__all__ = [
    "Counts",
    "Evaluated",
    "FactsOptions",
    "RowFailure",
    "Run",
    "evaluate_files",
    "read_rows",
]
