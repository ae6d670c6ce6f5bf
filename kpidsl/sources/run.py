"""A run over sources: files bound to the scheme's sources, facts and per-deal lines out,
the scheme's engine over them, and counts that add up.

Which file is which source: `--source deals=FILE` says it; otherwise a file whose header
has a source's employee, date and field columns is that source (two sources matching one
file is KPI542 asking for `--source`), and any other file is a per-employee facts file,
joined by employee as before. Counts are of rows: every source row read is evaluated (it
went into a result, or its date or `where` left it out) or failed (it could not be read, or
its employee's result failed): rows read = evaluated + failed.
"""

from __future__ import annotations

import dataclasses
import decimal
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, KpiError, Severity, error, warning
from ..evaluate import ReadAhead
from ..facts import FactRow
from ..runtime import CONTEXT
from . import has_sources
from .dates import period_bounds
from .evaluate import Employee, Stage, check_bounds
from .plan import SourcePlan, plan_of
from .read import SourceReader, open_source
from .splits import SplitReader, SplitTable, load_splits
from .transactions import Deal, DealLine, order_key, walk

if TYPE_CHECKING:
    from ..api import Ruleset
    from ..run import Counts, FactsOptions, RowFailure


def source_plan(ruleset: Ruleset) -> SourcePlan:
    plan = getattr(ruleset, "_source_plan", None)
    if plan is None:
        plan = plan_of(ruleset.checked)
        ruleset._source_plan = plan  # type: ignore[attr-defined]
    return plan


def bind(plan: SourcePlan, paths: list[Path], explicit: dict[str, tuple[str, ...]],
         options: FactsOptions, currency: str) -> tuple[dict[str, list[SourceReader]],
                                                        list[Path]]:
    """Each file to its source (or to the facts files); KpiError when it cannot be told.
    A source's split files (`--split deals=FILE`) are read first, whole: its readers carry
    their table."""
    tables = _split_tables(plan, dict(getattr(options, "splits", ())), options, currency)
    readers: dict[str, list[SourceReader]] = {name: [] for name in plan.sources}
    for name, files in explicit.items():
        if name not in plan.sources:
            from ..diagnostics import did_you_mean

            raise KpiError([error("KPI542", f"--source {name}=…: the scheme has no source "
                                  f"'{name}'", hint=did_you_mean(name, plan.sources) or
                                  "its sources: " + ", ".join(plan.sources))])
        readers[name] += [_open(plan, name, Path(f), options, currency, tables.get(name))
                          for f in files]
    facts_paths = []
    for path in paths:
        found = [name for name in plan.sources
                 if _open(plan, name, path, options, currency,
                          tables.get(name)).header_matches()]
        if len(found) > 1:
            raise KpiError([error("KPI542", f"{path}: its header fits sources "
                                  f"{' and '.join(found)}", hint=f"say which: --source "
                                  f"{found[0]}={path}")])
        if found:
            readers[found[0]].append(_open(plan, found[0], path, options, currency,
                                           tables.get(found[0])))
        else:
            facts_paths.append(path)
    used = {p.source for p in plan.facts.values()} | {p.source for p in plan.pays.values()}
    for name in plan.sources:
        if name in used and not readers[name]:
            src = plan.sources[name]
            raise KpiError([error(
                "KPI542", f"no file for source '{name}' (no file given has its columns "
                f"\"{src.employee_column}\", \"{src.date_column}\" and its fields)",
                hint=f"give it with --source {name}=FILE")])
    return readers, facts_paths


def _open(plan: SourcePlan, name: str, path: Path, options: FactsOptions,
          currency: str, splits: SplitTable | None = None) -> SourceReader:
    return open_source(path, plan.sources[name], plan.fields[name], currency=currency,
                       locale=options.locale, percent=options.percent, sheet=options.sheet,
                       splits=splits)


def _split_tables(plan: SourcePlan, given: dict[str, tuple[str, ...]], options: FactsOptions,
                  currency: str) -> dict[str, SplitTable]:
    """`--split deals=FILE`: each source's split files, read (kpidsl/sources/splits.py)."""
    from ..diagnostics import did_you_mean

    tables = {}
    for name, files in given.items():
        src = plan.sources.get(name)
        if src is None:
            raise KpiError([error("KPI542", f"--split {name}=…: the scheme has no source "
                                  f"'{name}'", hint=did_you_mean(name, plan.sources) or
                                  "its sources: " + ", ".join(plan.sources))])
        if not src.key_column or not src.share_column:
            raise KpiError([error(
                "KPI542", f"--split {name}=…: source '{name}' names no key column or no "
                "share column, so a split file's deals and shares cannot be read",
                hint='say them in the source: key column "ID"  share column "Доля" (the '
                "split file's columns)")])
        tables[name] = load_splits([SplitReader(
            Path(f), src, (), currency, options.locale, options.percent, options.sheet)
            for f in files])
    return tables


@dataclass
class SourceResult:
    """One employee from the sources: facts for the engine, failures, per-deal lines."""

    row: FactRow
    failed: dict[str, list[Diagnostic]]
    deals: Sequence[DealLine]  # a tuple, or lines made when read (sources/native.py)
    rows: int
    plans: dict[str, Decimal | None] = dataclasses.field(default_factory=dict)  # by payment
    # the plans were not evaluated before the run's evaluation (one constant plan, read by
    # sources/native.py): a failure there is the one that first evaluation would have had
    deferred: bool = False


def evaluate_sources(ruleset: Ruleset, readers: dict[str, list[SourceReader]], *,
                     period: str | None = None, grade: str | None = None,
                     month: int | None = None,
                     extra: dict[str, FactRow] | None = None,
                     on_warning: Callable[[list[Diagnostic]], None] | None = None,
                     ) -> tuple[Stage, Iterator[SourceResult]]:
    """Fold every source's rows (all read before the first result: an employee's facts are
    complete only at the end), then give each employee's facts and per-deal lines."""
    plan = source_plan(ruleset)
    bounds = period_bounds(period, plan.period) if period else None
    stage = Stage(plan, bounds)
    index = 0
    for name, files in readers.items():
        for reader in files:
            stage.read(name, reader, index)
            index += 1
            if on_warning is not None and reader.warnings:
                on_warning(reader.warnings)
    stage.finish()
    if bounds is None and len(stage.periods_seen) > 1:
        seen = sorted(stage.periods_seen)
        raise KpiError([error(
            "KPI543", f"the sources hold rows of {len(seen)} periods ({', '.join(seen[:6])}"
            f"{' …' if len(seen) > 6 else ''}); adding them up as one would pay several "
            "periods at once", hint=f"choose the period: --period {seen[-1][:7]}")])
    return stage, _results(ruleset, plan, stage, grade, month, extra or {})


def _results(ruleset: Ruleset, plan: SourcePlan, stage: Stage, grade: str | None,
             month: int | None, extra: dict[str, FactRow]) -> Iterator[SourceResult]:
    source_facts = [*plan.facts, *(p.fact for p in plan.pays.values())]
    found: Iterator[Employee | str] = stage.finished()  # in order, read back one at a time
    others = (e for e in extra if e not in stage.employees)
    for employee_or_name in itertools.chain(found, others):
        if isinstance(employee_or_name, str):
            name, employee = employee_or_name, None
        else:
            name, employee = employee_or_name.employee, employee_or_name
        values = employee.values() if employee is not None else {}
        facts_row = extra.get(name)
        if facts_row is not None:
            values = {**facts_row.values, **values}
        failed = stage.failures_of(name, source_facts)
        why = check_bounds(values)
        if why is not None:
            failed.setdefault("", []).append(error("KPI902", f"employee '{name}': {why}"))
        file = employee.file if employee is not None else facts_row.file  # type: ignore[union-attr]
        first = employee.row if employee is not None else facts_row.row  # type: ignore[union-attr]
        row = FactRow(file, first, name, facts_row.grade if facts_row else None,
                      facts_row.team if facts_row else None, values,
                      dict(facts_row.extra) if facts_row else {})
        deals: list[DealLine] = []
        plans: dict[str, Decimal | None] = {}
        if employee is not None and plan.pays and not failed:
            deals, problem, plans = _deal_lines(ruleset, plan, employee.deals, row, grade,
                                                month, stage.files)
            if problem is not None:
                failed.setdefault("", []).append(problem)
            for pay in plan.pays.values():
                total = sum((d.amount for d in deals if d.payment == pay.payment), Decimal(0))
                if any(d.payment == pay.payment for d in deals):
                    row.values[pay.fact] = total
        yield SourceResult(row, failed, tuple(deals), employee.rows if employee else 0, plans)


def _deal_lines(ruleset: Ruleset, plan: SourcePlan, deals: dict[str, list[Any]], row: FactRow,
                grade: str | None, month: int | None, files: dict[int, str],
                ) -> tuple[list[DealLine], Diagnostic | None, dict[str, Decimal | None]]:
    """The employee's per-deal lines; the plan of a running attainment comes from the
    scheme's own evaluation of the employee (a plan may be a fact or a seasonal value)."""
    lines: list[DealLine] = []
    plans: dict[str, Decimal | None] = {}  # by KPI
    used: dict[str, Decimal | None] = {}  # by payment
    for pay in plan.pays.values():
        held = deals.get(pay.payment)
        if not held:
            continue
        own = [Deal(order_key(date, key, index, number), key, date, files[index], number,
                    credit, share) for date, key, index, number, credit, share in held]
        plan_value = None
        if pay.running == "attainment":
            if pay.kpi not in plans:
                try:
                    result = ruleset.evaluate(row.values, grade or row.grade,
                                              employee=row.employee, month=month)
                    plans[pay.kpi] = result.kpis[pay.kpi].plan if pay.kpi in result.kpis \
                        else None
                except KpiError as exc:
                    return [], exc.diagnostics[0], used
            plan_value = plans[pay.kpi]
            if plan_value is None or not plan_value:
                return [], error("KPI901", f"employee '{row.employee}': payment "
                                 f"'{pay.payment}' is paid on the running attainment of "
                                 f"'{pay.kpi}', whose plan is {plan_value or 'missing'}"), used
        try:
            with decimal.localcontext(CONTEXT):
                lines += walk(pay, row.employee, own, plan_value, plan.payout_step,
                              plan.payout_mode)
        except decimal.DecimalException:
            return [], error("KPI902", f"employee '{row.employee}': payment '{pay.payment}' "
                             "needs more digits than an exact amount can hold"), used
        used[pay.payment] = plan_value
    return lines, None, used


# ---------------------------------------------------------------- the run layer's side


def run_sources(ruleset: Ruleset, paths: list[Path], facts: FactsOptions, *,
                month: int | None, only: str | None, period: str | None,
                failures: list[RowFailure], on_failure: Callable[[RowFailure], None] | None,
                warn: Callable[[list[Diagnostic]], None], counts: Counts,
                engine: str = "python") -> Iterator[Any]:
    """The items of a run (kpidsl.run.Evaluated), for a scheme that has sources."""
    from ..run import Evaluated, RowFailure

    if month is None and period:
        month = int(period.split("-")[1])
    plan = source_plan(ruleset)
    record = _recorder(failures, on_failure, counts)
    items = source_items(ruleset, paths, facts, month=month, only=only, period=period,
                         failures=failures, on_failure=on_failure, warn=warn, counts=counts,
                         engine=engine)
    good: dict[str, SourceResult] = {}  # pulled by the scheme's evaluation, not yet yielded

    def pending() -> Iterator[FactRow]:
        """Each employee's facts as the scheme's evaluation asks for them: the results
        stream, employee by employee (a team scheme's evaluation reads them all first)."""
        for item in items:
            good[item.row.employee] = item
            yield item.row

    def on_error(employee: str, row: int, diagnostics: list[Diagnostic]) -> None:
        item = good.pop(employee, None)
        rows = item.rows if item else 0
        if item is not None and item.deferred:
            record(_employee_failure(dataclasses.replace(item, failed={"": diagnostics[:1]}),
                                     plan), rows)
            return
        record(RowFailure(item.row.file if item else "", row, employee, "", "",
                          tuple(diagnostics)), rows)

    # DuckDB's employees are read up to a batch ahead: all of them were made before the
    # first, their deal lines when first read. The Python stage's are not: it makes each
    # one's deal lines as it comes, and holding 16 employees' lines carried them past the
    # collector's youngest generation (1 M deals: 42 full collections, 1.0 s, against 4,
    # 0.1 s, and the run 1.12× slower; measured)
    rows = ReadAhead(pending()) if engine == "duckdb" else pending()
    for result in ruleset.evaluate_many(rows, facts.grade, month=month, on_error=on_error):
        item = good.pop(result.employee, None)  # type: ignore[arg-type]
        if item is not None:
            result.deals = item.deals  # type: ignore[assignment]
            counts.evaluated += item.rows
        yield Evaluated(result, item.row.extra if item else {})


def _recorder(failures: list[RowFailure], on_failure: Callable[[RowFailure], None] | None,
              counts: Counts) -> Callable[..., None]:
    def record(failure: RowFailure, rows: int = 1) -> None:
        """A failure reported once, counting the `rows` it stands for."""
        failures.append(failure)
        counts.failed += rows
        if on_failure is not None:
            on_failure(failure)
    return record


def source_items(ruleset: Ruleset, paths: list[Path], facts: FactsOptions, *,
                 month: int | None, only: str | None, period: str | None,
                 failures: list[RowFailure], on_failure: Callable[[RowFailure], None] | None,
                 warn: Callable[[list[Diagnostic]], None], counts: Counts,
                 engine: str = "python") -> Iterator[SourceResult]:
    """Each employee the sources (and the facts files beside them) can compute, as
    SourceResults whose `rows` count the employee's facts-file row too; bad rows and failed
    employees are recorded, as `kpidsl eval` reports them (`compare` reads its facts so)."""
    from ..ids import look_alike_key
    from ..run import RowFailure, read_rows

    record = _recorder(failures, on_failure, counts)
    plan = source_plan(ruleset)
    readers, facts_paths = bind(plan, paths, dict(facts.sources), facts, ruleset.currency)
    extra: dict[str, FactRow] = {}
    if facts_paths:  # per-employee facts files (plans, grades, teams) joined by employee
        optional = {n: dataclasses.replace(s, required=False)
                    for n, s in ruleset.fact_specs.items()}
        mine: list[RowFailure] = []
        for row in read_rows(optional, facts_paths, facts, failures=mine, counts=counts):
            extra[row.employee] = row
        for failure in mine:
            failures.append(failure)
            if on_failure is not None:
                on_failure(failure)
    tables = {id(r.splits): r.splits for rs in readers.values() for r in rs if r.splits}
    counts.files = sum(len(r) for r in readers.values()) + len(facts_paths) + sum(
        t.files for t in tables.values())
    for table in tables.values():
        if table.warnings:
            warn(table.warnings)
    evaluate: Any = evaluate_sources
    stage: Any = None
    if engine == "duckdb":
        from ..sql.native import Unusual
        from .duck import evaluate_sources_duckdb
        from .native import evaluate_sources_native

        evaluate = evaluate_sources_duckdb
        try:  # DuckDB reads plain files itself; any other goes through the Python reader
            stage, results = evaluate_sources_native(
                ruleset, readers, period=period, grade=facts.grade, month=month, extra=extra,
                on_warning=warn)
        except Unusual:
            stage = None
    if stage is None:
        stage, results = evaluate(ruleset, readers, period=period, grade=facts.grade,
                                  month=month, extra=extra, on_warning=warn)
    counts.rows_read += stage.rows_read
    unmet = _split_keys_unmet(readers, getattr(stage, "split_keys_met", {}))
    if unmet:
        warn(unmet)
    for bad in stage.bad_rows:
        first = min(bad.problems.values(), key=lambda d: d.column)
        column = first.message.split("column '", 1)[-1].split("'", 1)[0] \
            if "column '" in first.message else ""
        record(RowFailure(bad.file, bad.row, bad.employee or None, column,
                          first.source_line or "", tuple(bad.problems.values())))
    harmless = []  # an empty cell nothing rests on (an open deal's close date) is no news
    for row in stage.harmless:
        if not row.employee:
            counts.evaluated += 1  # no employee to count it with
        harmless += [dataclasses.replace(d, severity=Severity.WARNING)
                     for d in row.problems.values() if d.code != "KPI502"]
    if harmless:
        warn(harmless)
    wanted = look_alike_key(only) if only is not None else None
    for item in results:
        rows = item.rows + (item.row.employee in extra)
        if wanted is not None and look_alike_key(item.row.employee) != wanted:
            counts.evaluated += rows  # read and set aside: another employee's
            continue
        if item.failed:
            record(_employee_failure(item, plan), rows)
            continue
        item.rows = rows
        yield item


def _split_keys_unmet(readers: dict[str, list[SourceReader]],
                      met: dict[str, set[str]]) -> list[Diagnostic]:
    """A warning (KPI546) per split file listing deals no export row has: a mistyped key
    would leave its deal credited whole to its own employee, and nothing else would say so
    (a split file kept for the year lists other months' deals too: a warning, not a refusal)."""
    out = []
    for name, group in readers.items():
        table = next((r.splits for r in group if r.splits is not None), None)
        if table is None or not table.by_key:
            continue
        seen = met.get(name, set())
        by_file: dict[str, list[tuple[int, str]]] = {}
        for key, rows in table.by_key.items():
            if key not in seen:
                by_file.setdefault(rows[0].file, []).append((rows[0].row, key))
        for file, lost in by_file.items():
            lost.sort()
            shown = ", ".join(f"'{key}'" for _row, key in lost[:5]) + \
                (f", … (+{len(lost) - 5})" if len(lost) > 5 else "")
            made = warning("KPI546", f"the split file lists deals no export of source "
                           f"'{name}' has ({len(lost)}: {shown}); their shares credit nobody",
                           hint="check each key against the export's key column: a "
                           "mistyped key pays its deal whole to its own employee")
            out.append(dataclasses.replace(made, file=file, line=lost[0][0]))
    return out


def _employee_failure(item: SourceResult, plan: SourcePlan) -> RowFailure:
    from ..run import RowFailure

    facts = sorted(f for f in item.failed if f)
    rows = sorted({f"{d.file}:{d.line}" for ds in item.failed.values() for d in ds
                   if d.file and d.line})
    shown = ", ".join(sorted(_fact_name(f, plan) for f in facts))
    if facts:
        message = (f"employee '{item.row.employee}': {shown} not computed: "
                   f"{'it rests' if len(facts) == 1 else 'they rest'} on source rows that "
                   f"could not be read ({', '.join(rows[:5])}{' …' if len(rows) > 5 else ''})")
        diagnostic = error("KPI540", message, hint="fix those rows of the export and run "
                           "again; nothing is paid on a partial set of deals")
    else:
        diagnostic = item.failed[""][0]
    located = dataclasses.replace(diagnostic, file=item.row.file, line=item.row.row)
    causes = list(dict.fromkeys(d for ds in item.failed.values() for d in ds))
    return RowFailure(item.row.file, item.row.row, item.row.employee, "", "",
                      (located, *[d for d in causes if d is not diagnostic][:20]))


def _fact_name(fact: str, plan: SourcePlan) -> str:
    for pay in plan.pays.values():
        if pay.fact == fact:
            return f"payment '{pay.payment}'"
    return f"fact '{fact}'"


__all__ = ["DealLine", "SourceResult", "bind", "evaluate_sources", "has_sources",
           "run_sources", "source_items", "source_plan"]
