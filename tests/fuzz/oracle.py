"""The oracle: what "kpidsl never crashes and never leaks an internal error" means, on one input.

`run_one(text)` puts a scheme through `kpidsl.check`, `kpidsl.loads`, the generated code's
token check and, when it compiles, evaluation on its own examples and on synthetic facts. It
returns the problems found (an empty list is a pass) and the furthest stage reached.

An *internal error reported as a user diagnostic* is any diagnostic that
- has a code outside the catalogue in docs/diagnostics.md, or a run-time code (KPI9xx) from
  checking, or KPI903/KPI904 (a missing value or "any other failure": a bug, never the
  user's input) from evaluating;
- or whose message or hint contains, in text the input did not supply itself: a Python
  exception name (`KeyError`, `InvalidOperation` ...), `Traceback`, the word `None`, a
  Python repr (`<class ...>`, `<function ...>`, `object at 0x...`), or a dunder name;
- or that cannot be rendered, is empty, or points outside the file.
"""

from __future__ import annotations

import decimal
import io
import json
import keyword
import re
import time
import token
import tokenize
import traceback
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import kpidsl
from kpidsl import runtime
from kpidsl.diagnostics import Diagnostic, KpiError, render_all
from kpidsl.testing import run_examples

ROOT = Path(__file__).resolve().parents[2]

_INTERNAL = (
    re.compile(r"Traceback"),
    re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b"),
    re.compile(r"\b(?:InvalidOperation|DivisionByZero|DivisionUndefined|Overflow|Underflow|"
               r"Inexact|ConversionSyntax|StopIteration|KeyboardInterrupt)\b"),
    re.compile(r"\bNone\b"),
    re.compile(r"<(?:class|function|built-in|module|bound method|lambda)\b|object at 0x"
               r"|<[A-Za-z_][\w.]*>"),
    re.compile(r"\b__\w+__\b"),
)
# Codes that evaluation may report for a scheme the checker accepted, given odd facts.
# KPI905: a team result refused because another member's row failed (kpidsl/teams.py).
RUNTIME_CODES = frozenset({"KPI501", "KPI502", "KPI503", "KPI901", "KPI902", "KPI905"})

# Names the generated evaluator may contain: Python keywords, the runtime's exports, the
# module's own fixed names, and identifiers built from a fixed prefix and a number.
ALLOWED_NAMES = frozenset({
    "Decimal", "decimal", "kpidsl", "runtime", "rt", "SCHEME", "CURRENCY", "EVALUATORS",
    "facts", "team", "month", "x", "value", "band", "min", "max", "abs", "quantize", "get",
    *runtime.exported,
})
GENERATED_NAME = re.compile(
    r"(?:D|c|f|k|p|a|pay|line|t|g|b)\d+(?:_[a-z]+)*|v\d+_curve\d+|evaluate_\d+|_d\d+")


@cache
def catalogue() -> frozenset[str]:
    """The documented codes (docs/diagnostics.md, one table row per code)."""
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\| (KPI\d{3}) \|", text, flags=re.M))


def diagnostic_problems(d: Diagnostic, text: str, *, stage: str) -> list[str]:
    """Why `d` looks like an internal error rather than a message meant for a person."""
    out: list[str] = []
    where = f"{stage}: {d.code} {d.message!r}"
    if d.code not in catalogue():
        out.append(f"{where}: code not in docs/diagnostics.md")
    if stage in ("check", "loads") and d.code.startswith("KPI9"):
        out.append(f"{where}: a run-time code from checking")
    if stage == "evaluate" and d.code not in RUNTIME_CODES:
        out.append(f"{where}: not an expected run-time code")
    if not d.message.strip():
        out.append(f"{where}: empty message")
    if str(d.severity) not in ("error", "warning"):
        out.append(f"{where}: severity {d.severity!r}")
    lines = text.count("\n") + 2
    if d.line < 0 or d.line > lines or d.column < 0:
        out.append(f"{where}: position {d.line}:{d.column} outside the file")
    for part in (d.message, d.hint):
        for pattern in _INTERNAL:
            for match in pattern.finditer(part):
                if match.group() not in text:
                    out.append(f"{where}: internal text {match.group()!r}")
    try:
        rendered = d.render()
        json.dumps(d.to_dict())
    except Exception as exc:
        out.append(f"{where}: cannot render: {type(exc).__name__}: {exc}")
    else:
        if not isinstance(rendered, str) or d.code not in rendered:
            out.append(f"{where}: rendering lost the code")
    return out


def foreign_names(source: str) -> list[str]:
    """Problems in generated code: names outside the allow-list, strings that are not repr()
    of their value, comments that are not plain ASCII, numbers that are not small indices."""
    import ast as python_ast

    out: list[str] = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for tok in tokens:
        text = tok.string
        if tok.type == token.NAME:
            if not (keyword.iskeyword(text) or text in ALLOWED_NAMES or
                    GENERATED_NAME.fullmatch(text)):
                out.append(f"line {tok.start[0]}: name {text!r}")
        elif tok.type == token.STRING:
            value = python_ast.literal_eval(text)
            if not isinstance(value, str) or repr(value) != text:
                out.append(f"line {tok.start[0]}: string {text!r} is not repr() of its value")
        elif tok.type == token.COMMENT:
            if not (text.isascii() and text.isprintable()):
                out.append(f"line {tok.start[0]}: comment {text!r} is not plain ASCII")
        elif tok.type == token.NUMBER:
            if not re.fullmatch(r"\d{1,6}", text):
                out.append(f"line {tok.start[0]}: number {text!r} outside a Decimal literal")
        elif tok.type == token.ERRORTOKEN:
            out.append(f"line {tok.start[0]}: error token {text!r}")
    return out


FACT_SETS: tuple[Decimal, ...] = (
    Decimal(0), Decimal(1), Decimal(950), Decimal("3300000"), Decimal("0.021"),
    Decimal("-5"), Decimal("1E+50"), Decimal("1E-30"),
)


@dataclass
class Outcome:
    """The problems found on one input and the furthest stage it reached."""

    problems: list[str] = field(default_factory=list)
    stage: str = "syntax"  # syntax | checked | compiled | evaluated
    seconds: float = 0.0
    evaluations: int = 0


def run_one(text: str, *, evaluate: bool = True) -> Outcome:
    started = time.perf_counter()
    outcome = Outcome()
    try:
        _run(text, outcome, evaluate)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        outcome.problems.append(f"oracle: {type(exc).__name__}: {exc}\n"
                                f"{''.join(traceback.format_exc(limit=-6))}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _crash(stage: str, exc: BaseException) -> str:
    return (f"{stage} raised {type(exc).__name__}: {str(exc)[:300]}\n"
            f"{''.join(traceback.format_exception(exc, limit=-8))}")


def _run(text: str, outcome: Outcome, evaluate: bool) -> None:
    problems = outcome.problems
    try:
        diagnostics = kpidsl.check(text)
    except Exception as exc:
        problems.append(_crash("check", exc))
        return
    for d in diagnostics:
        problems += diagnostic_problems(d, text, stage="check")
    try:
        render_all(diagnostics)
    except Exception as exc:
        problems.append(_crash("render_all", exc))
    has_errors = any(d.is_error for d in diagnostics)
    if has_errors and not any(d.code.startswith("KPI0") for d in diagnostics):
        outcome.stage = "checked"
    try:
        ruleset = kpidsl.loads(text)
    except KpiError as exc:
        if not has_errors:
            problems.append("loads raised KpiError for a scheme check accepted")
        if exc.diagnostics != diagnostics:
            problems.append("loads and check report different diagnostics")
        for d in exc.diagnostics:
            problems += diagnostic_problems(d, text, stage="loads")
        return
    except Exception as exc:
        problems.append(_crash("loads", exc))
        return
    outcome.stage = "compiled"
    if has_errors:
        problems.append("loads accepted a scheme check reported errors in")
    problems += [f"generated code: {p}" for p in foreign_names(ruleset.python_source)]
    if evaluate:
        _evaluate(ruleset, text, outcome)


def _evaluate(ruleset: kpidsl.Ruleset, text: str, outcome: Outcome) -> None:
    problems = outcome.problems
    try:
        for example in run_examples(ruleset):
            outcome.evaluations += 1
            for d in example.errors:
                problems += diagnostic_problems(d, text, stage="evaluate")
    except Exception as exc:
        problems.append(_crash("run_examples", exc))
    for grade in [None, *ruleset.grades]:
        _evaluate_grade(ruleset, grade, text, outcome)
    if problems:
        return
    outcome.stage = "evaluated"


def _evaluate_grade(ruleset: kpidsl.Ruleset, grade: str | None, text: str,
                    outcome: Outcome) -> None:
    """Synthetic rows through evaluate_many: every row gives a result or a reported error."""
    problems = outcome.problems
    rows = [{"employee": f"e{i}", **dict.fromkeys(ruleset.fact_specs, value)}
            for i, value in enumerate(FACT_SETS)]
    failed: list[Diagnostic] = []
    errored: set[str] = set()

    def on_error(employee: str, _row: int, found: list[Diagnostic]) -> None:
        errored.add(employee)
        failed.extend(found)

    try:
        results = list(ruleset.evaluate_many(rows, grade, on_error=on_error))
    except KpiError as exc:  # only a budget too large for the context refuses a whole batch
        if not all(d.code == "KPI902" and d.message.startswith("budget ")
                   for d in exc.diagnostics):
            problems.append(_crash(f"evaluate_many (grade {grade})", exc))
        for d in exc.diagnostics:
            problems += diagnostic_problems(d, text, stage="evaluate")
        return
    except Exception as exc:
        problems.append(_crash(f"evaluate_many (grade {grade})", exc))
        return
    outcome.evaluations += len(rows)
    expected, lost = len(rows), len(rows) - len(results) - len(errored)
    if ruleset.checked.header.per_team:  # one result for the one team (no team column)
        expected, lost = (0 if errored else 1), (0 if errored else 1) - len(results)
    if lost or len(results) > expected or errored & {r.employee for r in results}:
        problems.append(f"grade {grade}: {len(rows)} rows, {len(results)} results, "
                        f"{len(errored)} failed: the counts do not add up")
    for d in failed:
        problems += diagnostic_problems(d, text, stage="evaluate")
    for result in results:
        try:
            json.dumps(result.to_dict())
            with decimal.localcontext(runtime.CONTEXT):
                components = sum(result.components.values(), Decimal(0))
            if not result.notes and result.total != components:
                problems.append(f"grade {grade}: total is not the sum of the components")
        except Exception as exc:
            problems.append(_crash("Result.to_dict", exc))
