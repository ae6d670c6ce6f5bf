"""The Python API: load a scheme, check it, evaluate facts. The CLI is a thin layer over this."""

from __future__ import annotations

import decimal
import os
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .checks import BASE, CheckedRuleset, check_ruleset
from .diagnostics import Diagnostic, KpiError, error, has_errors
from .parser import parse
from .runtime import CONTEXT
from .source import SourceFile, path_text
from .units import Unit

if TYPE_CHECKING:  # imported when a scheme is compiled: `check` needs none of them
    from pathlib import Path

    from .evaluate import VariantInfo
    from .loader import Compiled
    from .results import Result


class Ruleset:
    """A checked and compiled scheme, ready to evaluate."""

    def __init__(self, checked: CheckedRuleset) -> None:
        from .evaluate import Evaluation, variant_info
        from .loader import compile_ruleset

        self.checked = checked
        with decimal.localcontext(CONTEXT):  # folded constants never follow the caller's context
            self.compiled: Compiled = compile_ruleset(checked)
            self.infos: dict[str, VariantInfo] = {
                name: variant_info(checked, variant, self.compiled)
                for name, variant in checked.variants.items()
            }
        self._evaluation = Evaluation(checked, self.compiled, self.infos)

    def __repr__(self) -> str:
        return f"Ruleset({self.name!r}, grades={self.grades!r})"

    @property
    def name(self) -> str:
        return self.checked.header.name

    @property
    def label(self) -> str:
        return self.checked.header.label or self.name

    @property
    def currency(self) -> str:
        return self.checked.currency

    @property
    def grades(self) -> list[str]:
        return self.checked.grades

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Warnings found while checking (a Ruleset with errors is never built)."""
        return self.checked.diagnostics

    @property
    def python_source(self) -> str:
        """The generated evaluator module, as `kpidsl compile` prints it."""
        return self.compiled.generated.source

    @cached_property
    def fact_specs(self) -> dict[str, Any]:
        """Every fact any grade reads, as specs for the facts readers."""
        from .facts import FactSpec

        specs: dict[str, FactSpec] = {}
        for variant in self.checked.variants.values():
            for fact in variant.facts.values():
                if fact.aggregate is not None:
                    continue  # computed from a source's rows (kpidsl/sources/), not a column
                if fact.name not in specs:
                    info = self.infos[variant.name]
                    # a default from a seasonal constant is the month's: left to evaluation
                    default = None if fact.name in info.monthly_defaults else \
                        info.defaults.get(fact.name)
                    labels = (fact.label, *(text for _, text in fact.translations))
                    money = fact.unit is Unit.MONEY
                    required = default is None and fact.if_missing is None
                    specs[fact.name] = FactSpec(fact.name, fact.unit, required, default,
                                                fact.label, tuple(t for t in labels if t),
                                                fact.column, self.currency if money else "",
                                                fact.percent)
        return specs

    def evaluate(self, facts: Mapping[str, object], grade: str | None = None, *,
                 employee: str = "", team: Mapping[str, Decimal] | None = None,
                 month: int | None = None) -> Result:
        """One employee. Facts map names to Decimal, int or text ("2.1%", "142 500,00")."""
        name = employee or str(facts.get("employee", ""))
        return self._evaluation.one(facts, grade or _text(facts.get("grade")), name, team,
                                    _month(month))

    def evaluate_many(self, rows: Iterable[Any], grade: str | None = None, *,
                      month: int | None = None, on_error: Any = None,
                      engine: str = "python") -> Iterator[Result]:
        """A batch: FactRows from `kpidsl.facts` or mappings with an 'employee' key.

        With `on_error(employee, row, diagnostics)` a bad row is reported and skipped;
        without it the first bad row raises KpiError; either way after the results of the
        rows before it. A list or tuple is read ahead by up to 64 rows (computed by one
        generated loop within one switch of the decimal context; their results' KPIs and
        lines are computed when first read); any other iterable one row per result. The
        caller's decimal context is in force between results. `engine="duckdb"` computes the
        payments in embedded DuckDB (docs/sql.md); the results are the same.
        """
        if engine == "duckdb":
            from .sql.engine import SqlEvaluation

            return SqlEvaluation(self).many(rows, grade, _month(month), on_error)
        return self._evaluation.many(rows, grade, _month(month), on_error)

    def to_sql(self, dialect: str = "duckdb", *, table: str = "facts",
               month: int | None = None) -> str:
        """The scheme as SQL for a warehouse (docs/sql.md): one query per grade over `table`,
        whose columns are the facts; KpiError when it cannot be exact in 38 digits."""
        from .sql import to_sql

        return to_sql(self.checked, dialect, table=table, month=month)

    def evaluate_sql(self, source: Any, grade: str | None = None, *,
                     month: int | None = None, on_error: Any = None) -> list[Result]:
        """Evaluate the facts of a DuckDB relation (or a connection's table `facts`) in DuckDB.

        The relation has a column `employee`, optional `grade` and `team`, and a column per
        fact (NULL when missing). Results are those of `evaluate_many`, in the relation's order.
        """
        from .sql.engine import SqlEvaluation, relation_rows

        relation = source.table("facts") if hasattr(source, "table") and \
            not hasattr(source, "columns") else source
        connection = source if relation is not source else None
        evaluation = SqlEvaluation(self, connection)
        return list(evaluation.many(relation_rows(relation), grade, month, on_error))

    def run(self, paths: Iterable[str | Path], facts: Any = None, *,
            month: int | None = None) -> Any:
        """Facts files (CSV, JSON, JSON Lines, XLSX) → a `kpidsl.run.Run`, as `kpidsl eval`
        reads them: iterate it for results; `failures` and `counts` are complete afterwards."""
        from .run import evaluate_files

        return evaluate_files(self, paths, facts, month=month)

    def evaluate_files(self, paths: str | Path | Iterable[str | Path], *,
                       mapping: Mapping[str, str] | None = None,
                       mapping_file: str | Path | None = None, id_column: str = "employee",
                       sheet: str | None = None, header_row: int | None = None,
                       grade: str | None = None, month: int | None = None,
                       locale: str | None = None, percent: str | None = None,
                       keep_totals: bool = False) -> Any:
        """Facts files read exactly as the CLI reads them, the options named as its flags
        (--map, --mapping, --id, --sheet, --header-row, --grade, --locale, --percent,
        --keep-totals); several files are joined by employee. Returns a `kpidsl.run.Run`:
        iterate `run.results()`; `run.failures` and `run.counts` are complete afterwards."""
        from .run import FactsOptions, evaluate_files

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        options = FactsOptions(dict(mapping or {}), id_column, sheet, grade,
                               None if mapping_file is None else str(mapping_file), header_row,
                               locale, percent, keep_totals)
        return evaluate_files(self, paths, options, month=_month(month))


def _month(month: object) -> int | None:
    """1 … 12 or None; anything else is refused rather than silently evaluated as no month."""
    if month is None or (type(month) is int and 1 <= month <= 12):
        return month  # type: ignore[return-value]
    raise KpiError([error("KPI623", f"month={month!r} is no month; pass 1 … 12 (January is 1)"
                          " or None", hint="the CLI's --month also takes jan … dec")])


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def check(text: str, name: str = "<string>") -> list[Diagnostic]:
    """Every problem in a scheme, errors and warnings; never raises for a bad scheme."""
    return check_source(SourceFile(name, text))[1]


def check_source(source: SourceFile) -> tuple[CheckedRuleset | None, list[Diagnostic]]:
    """Parse and check in the evaluation's decimal context: percent literals, folded constants
    and curve bounds are the same whatever decimal context the caller has set."""
    with decimal.localcontext(CONTEXT):
        ruleset, diagnostics = parse(source)
        if ruleset is None:
            return None, diagnostics
        checked = check_ruleset(ruleset, source)
    return checked, checked.diagnostics


def loads(text: str, name: str = "<string>") -> Ruleset:
    """Check and compile a scheme; raises KpiError (with .diagnostics) when it has errors."""
    checked, diagnostics = check_source(SourceFile(name, text))
    if checked is None or has_errors(diagnostics):
        raise KpiError(diagnostics)
    return Ruleset(checked)


def read_text(path: str | Path) -> str:
    path = path_text(path)  # named as pathlib names it, without importing it for `check`
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise KpiError([error("KPI006", f"cannot read {path}: {exc.strerror or exc}",
                              SourceFile(path, ""))]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KpiError([error("KPI004", f"{path} is not UTF-8 text (byte {exc.start})",
                              SourceFile(path, ""),
                              hint="save the scheme as UTF-8")]) from None


def load(path: str | Path) -> Ruleset:
    return loads(read_text(path), str(path))


def compile_source(text: str, name: str = "<string>") -> str:
    """The generated Python module for a scheme (what `kpidsl compile` prints)."""
    return loads(text, name).python_source


__all__ = ["BASE", "Ruleset", "check", "compile_source", "load", "loads"]
