"""Compiled evaluator × facts → Results: fact conversion, teams, budgets, run-time errors.

A run-time failure (a zero plan taken from the facts, a number too large for the context)
is reported against the .kpi line that failed and the employee, through the line map the
code generator recorded.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any

from . import ast
from .allocation import fit_budget
from .checks import BASE, CheckedRuleset, Variant
from .checks.fold import fold
from .checks.names import expressions
from .checks.walk import nodes
from .diagnostics import Diagnostic, KpiError, error
from .evaluator import Layout as Layout  # re-exported: callers name it from here
from .evaluator import VariantInfo
from .loader import Compiled
from .results import Result
from .runtime import CONTEXT, ODD, SHOWN
from .teams import (
    Missing,
    MissingMember,
    incomplete_everyone,
    incomplete_per_team,
    incomplete_team,
)
from .units import Unit

_TEAM_SPLIT = "\x00"
_END = object()
_BATCH = 16  # rows of a list computed within one switch of ODD when no generated loop serves them
# rows of a list given to the generated loop at once (kpidsl/batch.py); they keep no details
_SLICE = 64


class ReadAhead:
    """Rows an evaluation may read up to `_BATCH` ahead of the results it has handed over,
    computed within one switch of ODD as a list's are: reading a row does nothing its
    caller waits for (DuckDB's sources' employees, all made before the first; failures are
    still told in the rows' order). An iterable of any other type is read one row per
    result. (100 000 employees of bench/sources.py: 0.62–0.64 s → 0.57–0.60 s from the
    first result to the last, measured interleaved.)"""

    __slots__ = ("rows",)

    def __init__(self, rows: Iterable[Any]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def variant_info(checked: CheckedRuleset, variant: Variant, compiled: Compiled) -> VariantInfo:
    generated = compiled.generated
    layout = generated.layouts[variant.name]
    kpis = variant.kpis
    line_curves = {(pay.name, item.kpi): item.curve or "" for pay, item in variant.pooled_kpis()}
    band_texts = {name: curve.kind.band_texts(curve, variant.constant_values)
                  for name, curve in variant.curves.items()}
    defaults = {}
    seasonal = seasonal_constants(variant)
    by_month = {month: month_constants(variant, month) for month in range(1, 13)} \
        if seasonal else {}
    monthly_defaults: dict[str, dict[int, Decimal]] = {}
    for fact in variant.facts.values():
        if fact.if_missing is None:
            continue
        if any(isinstance(n, ast.Ref) and n.name in seasonal for n in nodes(fact.if_missing)):
            # a default taken from a seasonal constant is the month's (never the other
            # months' value): the facts readers leave such a cell missing for `prepare`
            monthly_defaults[fact.name] = {
                month: value for month, constants in by_month.items()
                if (value := fold(fact.if_missing, constants)) is not None}
        value = fold(fact.if_missing, variant.constant_values)
        if value is not None:
            defaults[fact.name] = value
    needs = sorted({(node.kind, node.name)
                    for _where, expr, _scope in expressions(variant)
                    for node in nodes(expr) if isinstance(node, ast.TeamAggregate)})
    return VariantInfo(
        variant.name, checked.currency, layout, compiled.evaluators[variant.name],
        {k: kpis[k].label or k for k in layout.kpis},
        {k: variant.units.get(k, Unit.NUMBER) for k in layout.kpis},
        {k: kpis[k].direction or "higher" for k in layout.kpis},
        {k: kpis[k].group for k in layout.kpis},
        line_curves, band_texts, dict(variant.facts), defaults, tuple(needs),
        monthly_defaults, by_month, partial(_traced, checked, variant.name),
    )


def _traced(checked: CheckedRuleset, name: str) -> Any:
    """The variant's evaluator that records a trace (compiled once per scheme, cached)."""
    from .loader import compile_ruleset

    return compile_ruleset(checked, trace=True).evaluators[name]


def seasonal_constants(variant: Variant) -> set[str]:
    """Constants whose value depends on the month: `by month`, or computed from one."""
    out: set[str] = set()
    for name in variant.constant_order:
        const = variant.constants[name]
        if const.by_month or any(isinstance(n, ast.Ref) and n.name in out
                                 for n in nodes(const.value)):
            out.add(name)
    return out


def month_constants(variant: Variant, month: int | None) -> dict[str, Decimal]:
    """Every constant's value in `month` (None: the values without a month)."""
    if month is None:
        return variant.constant_values
    values: dict[str, Decimal] = {}
    for name in variant.constant_order:
        const = variant.constants[name]
        expr = next((mv.value for mv in const.by_month
                     if MONTHS.index(mv.month) + 1 == month), const.value)
        value = fold(expr, values)
        if value is not None:
            values[name] = value
    return values


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def uses_team(info: VariantInfo, checked: CheckedRuleset) -> bool:
    """Does the variant read team aggregates or the team size anywhere (KPIs, pays, gates)?"""
    variant = checked.variants[info.name]
    return bool(info.team_needs) or any(
        isinstance(node, ast.TeamSize)
        for _where, expr, _scope in expressions(variant) for node in nodes(expr)
    )


def team_view(team: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Team aggregates named as the scheme writes them: 'team size', 'team total of calls'."""
    out = {}
    for key, value in team.items():
        if key.startswith("#"):  # exact parts of an average, not a value of its own
            continue
        kind, _, fact = key.partition(":")
        out["team size" if key == "size" else f"team {kind} of {fact}"] = value
    return out


# ---------------------------------------------------------------- facts


def convert_fact(name: str, value: object, unit: Unit, reading: Any = None) -> Decimal:
    """An API fact value to Decimal: Decimal and int as they are, text parsed (by `reading`,
    a kpidsl.values.Reading: the scheme's currency and percent word); never a float."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"fact '{name}' is {value}, not a number")
        return value
    if isinstance(value, bool | float):
        raise TypeError(f"fact '{name}' is a {type(value).__name__}; pass a Decimal, an int or "
                        "text, so no binary rounding touches an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        from .values import DEFAULT, parse_value

        return parse_value(value, unit, reading or DEFAULT)
    raise TypeError(f"fact '{name}' is a {type(value).__name__}, not a number")


def team_values(needs: Iterable[tuple[str, str]],
                members: list[Mapping[str, Decimal]]) -> dict[str, Decimal]:
    """Aggregates over a team's members, computed once per team."""
    out: dict[str, Decimal] = {"size": Decimal(len(members))}
    for kind, fact in needs:
        values = [m[fact] for m in members if fact in m]
        key = f"{kind}:{fact}"
        if not values:
            out[key] = Decimal(0)
        elif kind == "total":
            out[key] = sum(values, Decimal(0))
        elif kind == "average":  # shown to 34 digits; kept exact as sum ÷ count for paying
            total = sum(values, Decimal(0))
            out[key] = SHOWN.divide(total, len(values))
            out["#sum:" + fact], out["#count:" + fact] = total, Decimal(len(values))
        elif kind == "min":
            out[key] = min(values)
        else:
            out[key] = max(values)
    return out


# ---------------------------------------------------------------- errors


def runtime_diagnostic(exc: BaseException, compiled: Compiled, checked: CheckedRuleset,
                       employee: str) -> Diagnostic:
    """Name the .kpi line that failed (from the traceback's generated-code frame)."""
    kpi_line = 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == compiled.filename:
            kpi_line = compiled.generated.line_map.get(tb.tb_lineno, kpi_line)
        tb = tb.tb_next
    if isinstance(exc, decimal.DivisionByZero | ZeroDivisionError | decimal.DivisionUndefined):
        code, what = "KPI901", "division by zero"
    elif isinstance(exc, decimal.Overflow):
        code, what = "KPI902", "a number grew beyond the decimal context (overflow)"
    elif isinstance(exc, decimal.InvalidOperation):  # quantize needing more than `prec` digits
        code, what = "KPI902", (f"a number needs more than {CONTEXT.prec} significant digits "
                                 "(the decimal context)")
    elif isinstance(exc, KeyError):
        code, what = "KPI903", f"missing value {exc}"
    else:
        code, what = "KPI904", f"{type(exc).__name__}: {exc}"
    source = checked.source
    span = None
    if kpi_line:
        from .source import Span

        text = source.line_text(kpi_line)
        indent = len(text) - len(text.lstrip())
        span = Span(0, 0, kpi_line, indent + 1, kpi_line, len(text) + 1)
    hint = "say what the division gives when the plan or denominator is zero" \
        if code == "KPI901" else ""
    return error(code, f"{what} while computing employee '{employee}'", source, span, hint=hint)


class Evaluation:
    """Runs one variant's evaluator over prepared facts (with the decimal context set)."""

    def __init__(self, checked: CheckedRuleset, compiled: Compiled,
                 infos: dict[str, VariantInfo]) -> None:
        self.checked = checked
        self.compiled = compiled
        self.infos = infos
        self._streams: bool | None = None  # see `many`

    def info(self, grade: str | None) -> VariantInfo:
        name = grade or BASE
        info = self.infos.get(name)
        if info is None:
            known = ", ".join(g for g in self.infos if g != BASE) or "none"
            raise KpiError([error("KPI606", f"unknown grade '{name}'; known grades: {known}")])
        return info

    def prepare(self, info: VariantInfo, facts: Mapping[str, object],
                employee: str, month: int | None = None) -> dict[str, Decimal]:
        values: dict[str, Decimal] = {}
        get = facts.get
        for name in info.facts:  # the usual case, read by the facts readers: finite Decimals
            value = get(name)
            if type(value) is not Decimal or not value.is_finite():
                break
            values[name] = value
        else:
            return values
        values = {}
        problems: list[Diagnostic] = []
        defaults: dict[str, Decimal] | None = None  # made when a fact is missing
        for name, fact in info.facts.items():
            raw = facts.get(name)
            if raw is None or raw == "":
                if defaults is None:
                    defaults = _defaults(info, month)
                if name in defaults:
                    values[name] = defaults[name]
                else:
                    problems.append(error("KPI502", f"employee '{employee}': missing required "
                                          f"fact '{name}'"))
                continue
            try:
                values[name] = convert_fact(name, raw, fact.unit, self._reading(fact))
            except ValueError as exc:  # a float or an object is the caller's bug: TypeError
                problems.append(error("KPI501", f"employee '{employee}': {exc}"))
        if problems:
            raise KpiError(problems)
        return values

    def _reading(self, fact: Any) -> Any:
        """How API text of `fact` reads: in the scheme's currency, by its percent word."""
        from .values import Reading

        money = fact.unit is Unit.MONEY
        return Reading(percent=fact.percent, currency=self.checked.currency if money else "",
                       declared=fact.percent is not None)

    def run(self, info: VariantInfo, values: dict[str, Decimal], employee: str,
            team_name: str | None, team: dict[str, Decimal] | None, month: int | None,
            row: int = 0) -> Result:
        try:
            raw = info.function(values, team, month)
        except Exception as exc:  # every failure becomes a located diagnostic
            raise KpiError([runtime_diagnostic(exc, self.compiled, self.checked, employee)]) \
                from None
        return Result(info, raw, employee, values, team_name, row, recomputable=True,
                      team_data=team, month=month)

    def one(self, facts: Mapping[str, object], grade: str | None, employee: str,
            team: Mapping[str, Decimal] | None, month: int | None) -> Result:
        info = self.info(grade)
        with decimal.localcontext(ODD):
            values = self.prepare(info, facts, employee, month)
            team_data = dict(team) if team is not None else team_values(info.team_needs, [values])
            result = self.run(info, values, employee, None, team_data, month)
            if uses_team(info, self.checked):
                result.team_values = team_view(team_data)
            apply_budgets(self.checked, [result])  # one employee: a team of one
            return result

    def many(self, rows: Iterable[Any], grade: str | None, month: int | None,
             on_error: Any) -> Iterator[Result]:
        """Rows are FactRow objects or mappings with 'employee' (and optional grade/team)."""
        if self._streams is None:  # no team aggregates, budgets or results per team
            self._streams = not self.checked.header.per_team and not bool(
                all_budgets(self.checked)) and not any(uses_team(i, self.checked)
                                                      for i in self.infos.values())
        if self._streams:
            return self._stream(rows, grade, month, on_error)
        return _stepwise_in_context(self._many(rows, grade, month, on_error))

    def _stream(self, rows: Iterable[Any], grade: str | None, month: int | None,
                on_error: Any) -> Iterator[Result]:
        """Each row's Result, computed in ODD and handed over in the caller's own context:
        `_batches` computes them, a C iterator (`chain`) hands them over one by one, so a
        result costs no resumption of a Python generator (~0.1 µs)."""
        return chain.from_iterable(self._batches(rows, grade, month, on_error))

    def _batches(self, rows: Iterable[Any], grade: str | None, month: int | None,
                 on_error: Any) -> Iterator[list[Result]]:
        """Lists of Results in the order of the rows, each computed within one switch to ODD.

        A row read by the facts readers (a FactRow) or a dict, of the base grade or of
        `grade`, whose every fact is a finite Decimal is taken as it is: the evaluator reads
        its facts from the row itself and the Result keeps them as one tuple. Any other row
        goes through `_general` (text, ints, defaults, a missing fact, an unknown grade).

        The rows of a list or a tuple (reading ahead in them does nothing a caller could
        see) come up to `_BATCH` at a time; any other iterable (a file's reader, whose own
        callbacks and counts follow its reading) one row per result, as before. Either way
        a row that fails or needs `_general` ends a batch and is taken first in the next,
        so every `on_error` call comes after the results of the rows before it and before
        those after it. Measured (bench/api_stream.py): switching the context costs ~0.5 µs,
        a Python call ~0.1 µs (the fields of a dict row are read by `in` and `[]`).
        """
        from .facts import FactRow

        if type(rows) is list or type(rows) is tuple:
            fixed = self.infos.get(grade or BASE)
            if fixed is not None:
                from .batch import batch_function

                loop = batch_function(self.compiled, fixed)
                if loop is not None:
                    yield from self._slices(rows, loop, grade, month, on_error)
                    return
        size = _BATCH if type(rows) in (list, tuple, ReadAhead) else 1
        rows = iter(rows)
        ours = ODD.copy()
        getcontext, setcontext = decimal.getcontext, decimal.setcontext
        fixed = self.infos.get(grade or BASE)  # an unknown grade: each row says so
        names = tuple(fixed.facts) if fixed is not None else ()
        take = _getter(names)
        # the facts a row may leave out, each with its default for the month (as `prepare`
        # takes them): a row missing one is taken with it here, not by every rule in `_general`
        # (bench/sources.py's 10 000 employees with no deal: 4.7 → 2.5 µs each, measured)
        defaults = _defaults(fixed, month) if fixed is not None else {}
        function = fixed.function if fixed is not None else None
        is_finite = Decimal.is_finite  # a TypeError for anything but a Decimal
        new = Result.__new__
        general = self._general
        batch: list[Result] = []
        held: Any = _END  # a row for `general`, first in the next batch
        done = False
        while not done:
            for done_with in batch:  # the caller has read them: let go of their details
                done_with._raw = None
            batch = []
            append = batch.append
            theirs = getcontext()
            setcontext(ours)
            try:
                while len(batch) < size:
                    if held is not _END:
                        r, held = held, _END
                        made = general(r, grade, month, on_error)
                        if made is not None:
                            append(made)
                        continue
                    r = next(rows, _END)
                    if r is _END:
                        done = True
                        break
                    kind = type(r)
                    try:
                        if kind is dict and function is not None and \
                                (grade or "grade" not in r or not r["grade"]):
                            facts = r
                            try:
                                values = take(r)
                            except KeyError:
                                facts = {**defaults, **r}
                                values = take(facts)
                            employee = r["employee"] if "employee" in r else ""  # noqa: SIM401 - no call
                            if type(employee) is not str:
                                employee = str(employee)
                            team = r["team"] if "team" in r else None  # noqa: SIM401 - no call
                            number = 0
                        elif kind is FactRow and function is not None and \
                                (grade or not r.grade):
                            facts = r.values
                            try:
                                values = take(facts)
                            except KeyError:
                                facts = {**defaults, **facts}
                                values = take(facts)
                            if type(facts) is not dict:
                                facts = dict(zip(names, values, strict=True))
                            employee, team, number = r.employee, r.team, r.row
                        else:
                            raise TypeError
                        if False in map(is_finite, values):
                            raise TypeError
                        raw = function(facts, None, month)  # type: ignore[misc]
                    except Exception:  # `general` reads it, reports it, or raises
                        if batch:
                            held = r
                            break
                        made = general(r, grade, month, on_error)
                        if made is not None:
                            append(made)
                        continue
                    result = new(Result)  # as Result.__init__ makes it, without a frame
                    result.info = fixed  # type: ignore[assignment]
                    result.employee = employee
                    result.total = raw[10]
                    result._raw = raw
                    result._d = (team, number, None, None, month, True, *raw[9], *values)
                    result._more = None
                    append(result)
            finally:
                setcontext(theirs)
            if batch:
                yield batch

    def _slices(self, rows: list[Any] | tuple[Any, ...], loop: Any, grade: str | None,
                month: int | None, on_error: Any) -> Iterator[list[Result]]:
        """The rows of a list or tuple, `_SLICE` at a time, by the loop the code generator
        printed for the variant (kpidsl/batch.py), within one switch to ODD; a row it does
        not take ends its slice and is taken by `_batches` (every rule) on its own."""
        ours = ODD.copy()
        getcontext, setcontext = decimal.getcontext, decimal.setcontext
        at, count = 0, len(rows)
        while at < count:
            batch: list[Result] = []
            theirs = getcontext()
            setcontext(ours)
            try:
                whole = loop(rows[at:at + _SLICE], batch.append, month, grade)
            finally:
                setcontext(theirs)
            at += len(batch)
            if batch:
                yield batch
            if not whole:  # the row at `at`: by every rule, one result (or a failure)
                yield from self._batches(iter((rows[at],)), grade, month, on_error)
                at += 1

    def _general(self, r: Any, grade: str | None, month: int | None,
                 on_error: Any) -> Result | None:
        """A row by every rule (`_prepare_row`, then `_guarded`): its Result, or None when it
        failed and `on_error` was told."""
        item = self._prepare_row(r, grade, on_error, month)
        if item is None or type(item) is MissingMember:
            return None
        info, values, employee, team_name, row = item
        return self._guarded(info, values, employee, team_name, None, month, row, on_error)

    def _many(self, rows: Iterable[Any], grade: str | None, month: int | None,
              on_error: Any) -> Iterator[Result]:
        """Team schemes (`_stream` takes the others)."""
        if self.checked.header.per_team:
            yield from self._many_per_team(rows, grade, month, on_error)
            return
        prepared = (self._prepare_row(r, grade, on_error, month) for r in rows)
        yield from self._many_by_team(prepared, month, on_error)

    def _prepare_row(self, row: Any, grade: str | None, on_error: Any,  # type: ignore[no-untyped-def]
                     month: int | None = None):
        """(info, values, employee, team, row); a MissingMember for a row that failed (here,
        or before: the run layer passes unreadable rows on as MissingMember)."""
        if type(row) is MissingMember:
            return row
        if type(row) is not dict and hasattr(row, "values") and hasattr(row, "employee") and \
                not _is_mapping(row):
            facts, employee = row.values, row.employee
            row_grade, team, number = row.grade, row.team, row.row
        else:
            facts, employee = row, str(row.get("employee", ""))
            row_grade, team, number = row.get("grade"), row.get("team"), 0
        try:
            info = self.info(grade or row_grade or None)
            return info, self.prepare(info, facts, employee, month), employee, team, number
        except KpiError as exc:
            if on_error is None:
                raise
            on_error(employee, number, exc.diagnostics)
            return MissingMember(employee, number, team or "")
        except TypeError as exc:  # a float or an object: with on_error, that row's failure
            if on_error is None:
                raise
            on_error(employee, number, [error("KPI501", f"employee '{employee}': {exc}")])
            return MissingMember(employee, number, team or "")

    def _guarded(self, info: VariantInfo, values: dict[str, Decimal], employee: str,
                 team_name: str | None, team: dict[str, Decimal] | None, month: int | None,
                 row: int, on_error: Any) -> Result | None:
        try:
            return self.run(info, values, employee, team_name, team, month, row)
        except KpiError as exc:
            if on_error is None:
                raise
            on_error(employee, row, exc.diagnostics)
            return None

    def _many_by_team(self, prepared: Iterable[Any], month: int | None,
                      on_error: Any) -> Iterator[Result]:
        """Team schemes read every row first: aggregates need the whole team."""
        teams: dict[str, list[Any]] = defaultdict(list)
        order: list[Any] = []
        missing = Missing()
        for item in prepared:
            if type(item) is MissingMember:
                missing.add(item)
                continue
            teams[item[3] or ""].append(item)
            order.append(item)
        needs = sorted({n for i in self.infos.values() for n in i.team_needs})
        aggregates = {name: team_values(needs, [m[1] for m in members])
                      for name, members in teams.items()}
        results: dict[int, Result] = {}
        for index, (info, values, employee, team_name, row) in enumerate(order):
            result = self._guarded(info, values, employee, team_name,
                                   aggregates[team_name or ""], month, row, on_error)
            if result is None:
                missing.add(MissingMember(employee, row, team_name or ""))
            else:
                if uses_team(info, self.checked):
                    result.team_values = team_view(aggregates[team_name or ""])
                results[index] = result
        if missing:
            results = self._complete_teams_only(results, missing, on_error)
        apply_budgets(self.checked, list(results.values()))
        for index in range(len(order)):
            if index in results:
                yield results[index]

    def _many_per_team(self, rows: Iterable[Any], grade: str | None, month: int | None,
                       on_error: Any) -> Iterator[Result]:
        """A scheme `paid per team` (a head of sales): one Result per team, named by the team.

        The team column groups the rows (teams in order of first appearance; rows without a
        team form one team named ''). A row's own grade column is ignored: the members'
        grades are theirs, not the scheme's. The checker lets such a scheme read facts only
        through team aggregates; the Result's facts are the team totals, for display.
        """
        info = self.info(grade)
        teams, missing = self._grouped_by_team(rows, info, month, on_error)

        def run(name: str, members: list[Any], totals: dict[str, Decimal],
                aggregates: dict[str, Decimal]) -> Result:
            return self.run(info, totals, name, name, aggregates, month, members[0][4])

        results = self._team_results(teams, missing, info, on_error, run)
        results = self._without_unpaid_budgets(results, teams, missing, on_error)
        apply_budgets(self.checked, results)
        yield from results

    def _grouped_by_team(self, rows: Iterable[Any], info: VariantInfo, month: int | None,
                         on_error: Any) -> tuple[dict[str, list[Any]], Missing]:
        """The prepared rows by team (in order of first appearance), and the rows lost."""
        teams: dict[str, list[Any]] = {}
        missing = Missing()
        for item in (self._prepare_row(r, info.name, on_error, month) for r in rows):
            if type(item) is MissingMember:
                missing.add(item)
            else:
                teams.setdefault(item[3] or "", []).append(item)
        return teams, missing

    def _team_results(self, teams: dict[str, list[Any]], missing: Missing, info: VariantInfo,
                      on_error: Any, run: Callable[[str, list[Any], dict[str, Decimal],
                                                    dict[str, Decimal]], Result]
                      ) -> list[Result]:
        """One Result a complete team, from `run(team, members, totals, aggregates)` (the
        Python evaluator, or the SQL backend's row for the team); a team missing a member,
        or whose evaluation fails, fails every member row."""
        results = []
        for name, members in teams.items():
            lost = missing.of_team(name)
            if lost:  # every member row fails with the team: rows read = evaluated + failed
                for member in members:
                    _fail(on_error, member[2], member[4],
                          incomplete_per_team(member[2], name, lost))
                continue
            facts = [m[1] for m in members]
            aggregates = team_values(info.team_needs, facts)
            totals = {fact: sum((m[fact] for m in facts if fact in m), Decimal(0))
                      for fact in info.facts}
            try:
                result = run(name, members, totals, aggregates)
            except KpiError as exc:
                for member in members:
                    missing.add(MissingMember(member[2], member[4], name))
                    _fail(on_error, member[2], member[4], *exc.diagnostics)
                continue
            result.team_values = team_view(aggregates)
            results.append(result)
        return results

    def _without_unpaid_budgets(self, results: list[Result], teams: dict[str, list[Any]],
                                missing: Missing, on_error: Any) -> list[Result]:
        """Teams paid per team whose budget is shared with a team not paid fail (KPI905)."""
        budgets = all_budgets(self.checked)
        if not (missing and budgets):
            return results
        kept = []
        for result in results:
            needs = [b for b in budgets if b.component in result.components]
            if not needs:
                kept.append(result)
                continue
            for member in teams[result.team or ""]:
                _fail(on_error, member[2], member[4], incomplete_everyone(
                    member[2], missing.everyone, f"budget {needs[0].name} shares "
                    f"{needs[0].component}"))
        return kept

    def _complete_teams_only(self, results: dict[int, Result], missing: Missing,
                             on_error: Any) -> dict[int, Result]:
        """Results that rest on a team missing a member (its aggregates, a budget split over
        it, or over everyone when the budget is not per team) fail with KPI905."""
        budgets = all_budgets(self.checked)
        team_based = {name: uses_team(info, self.checked) for name, info in self.infos.items()}
        kept: dict[int, Result] = {}
        for index, result in results.items():
            team = result.team or ""
            problem = None
            lost = missing.of_team(team)
            if lost and team_based[result.grade]:
                problem = incomplete_team(result.employee, team, lost,
                                          "the pay uses the figures of")
            for budget in budgets:
                if problem is not None or budget.component not in result.components:
                    continue
                needs = f"budget {budget.name} shares {budget.component}"
                if budget.per_team and lost:
                    problem = incomplete_team(result.employee, team, lost, needs + " within")
                elif not budget.per_team:
                    problem = incomplete_everyone(result.employee, missing.everyone, needs)
            if problem is None:
                kept[index] = result
            else:
                _fail(on_error, result.employee, result.row, problem)
        return kept


def _fail(on_error: Any, employee: str, row: int, *diagnostics: Diagnostic) -> None:
    if on_error is None:
        raise KpiError(list(diagnostics))
    on_error(employee, row, list(diagnostics))


def _defaults(info: VariantInfo, month: int | None) -> dict[str, Decimal]:
    """Each fact's value when a row leaves it out in `month` (`prepare` and `_batches`'
    quick path both take it from here): the month's own default, else the fact's (a fact
    with neither is required)."""
    out = dict(info.defaults)
    for name, seasonal in info.monthly_defaults.items():
        if month in seasonal:
            out[name] = seasonal[month]  # type: ignore[index]
    return out


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving the facts `names` of a mapping as one tuple (KeyError when one is
    missing): `operator.itemgetter`, a C loop, for two names or more."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        name = names[0]
        return lambda facts: (facts[name],)
    return lambda facts: ()


_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping(row: object) -> bool:
    """isinstance(row, Mapping), remembered per type: the ABC check costs more than a row's
    facts do."""
    kind = type(row)
    known = _MAPPING_TYPES.get(kind)
    if known is None:
        known = _MAPPING_TYPES[kind] = isinstance(row, Mapping)
    return known


def _stepwise_in_context(steps: Iterator[Result]) -> Iterator[Result]:
    """Run each step of a generator in ODD (the evaluators' context), giving the caller back
    its own context between results (a `with` inside a generator would leak ODD to the
    caller at every yield).

    One copy of ODD serves every step (`localcontext` would copy it at each): nothing
    reads a context's flags, and the traps and precision never change. When the caller asks
    for the next result, the previous one releases its intermediate values (results.py).
    """
    ours = ODD.copy()
    previous: Result | None = None
    while True:
        if previous is not None:
            previous.release_details()
        theirs = decimal.getcontext()
        decimal.setcontext(ours)
        try:
            result = next(steps)
        except StopIteration:
            return
        finally:
            decimal.setcontext(theirs)
        yield result
        previous = result


# ---------------------------------------------------------------- budgets


def apply_budgets(checked: CheckedRuleset, results: list[Result]) -> None:
    """Scale a payment pro rata where a group's awards exceed its budget cap.

    Each positive award becomes award × cap ÷ (sum of the positive awards), rounded down to
    the payout step; the kopecks left over go one step each to the largest remainders (ties:
    the order of the facts file), so the scaled amounts add up to the cap exactly. Clawbacks
    (negative awards) are taken in full and scale nothing (allocation.fit_budget).
    """
    for budget in all_budgets(checked):
        cap = fold(budget.cap, checked.base.constant_values)
        if cap is None:
            continue
        groups: dict[str, list[Result]] = defaultdict(list)
        for result in results:
            if budget.component in result.components:
                groups[(result.team or "") if budget.per_team else ""].append(result)
        for members in groups.values():
            awards = [m.components[budget.component] for m in members]
            try:
                scaled = fit_budget(awards, cap, checked.payout_step)
            except ArithmeticError:  # a cap or awards beyond the decimal context
                raise KpiError([error("KPI902", f"budget {budget.name}: the amounts need more "
                                      f"than {CONTEXT.prec} significant digits (the decimal "
                                      "context)", checked.source, budget.cap.span)]) from None
            for member, amount in zip(members, scaled, strict=True):
                if amount != member.components[budget.component]:
                    member.scale_component(budget.component, amount, budget_note(budget, cap),
                                           checked.payout_step)


def budget_note(budget: ast.Budget, cap: Decimal) -> str:
    """The note a result carries when `budget` scaled its payment (explanations say it in
    the reader's language instead)."""
    return f"{budget.component} scaled to fit budget {budget.name} ({cap})"


def all_budgets(checked: CheckedRuleset) -> list[ast.Budget]:
    """Budgets are the scheme's, over people of every grade (the checker keeps them out of
    grades), so the base variant's are all there are."""
    return list(checked.base.budgets.values())
