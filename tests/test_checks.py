"""Diagnostics, data-driven: every tests/fixtures/checks/<case>.kpi has its exact rendered
diagnostics in tests/golden/checks/<case>.txt (one file per rule, as in sqlglot's fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl
from kpidsl.diagnostics import Severity, render_all

CASES = sorted((Path(__file__).parent / "fixtures" / "checks").glob("*.kpi"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_diagnostics_golden(path: Path, golden) -> None:
    diagnostics = kpidsl.check(path.read_text(encoding="utf-8"), path.name)
    assert diagnostics, "every fixture demonstrates at least one diagnostic"
    golden.check(f"checks/{path.stem}", render_all(diagnostics) + "\n")


def codes(text: str) -> list[str]:
    return [d.code for d in kpidsl.check(text)]


HEADER = 'scheme s "S"\n  currency RUB\n  period month\n'


def test_every_problem_is_reported_at_once() -> None:
    text = HEADER + (
        "fact revenue money\nfact calls count\n"
        "kpi avg = revenu / calls otherwise 0 plan 10 RUB\n"
        "kpi bad = revenue + calls plan 10\n"
        "pay salary = 60_000 RUB\n"
    )
    assert codes(text) == ["KPI101", "KPI201"]


def test_diagnostic_fields_are_one_based() -> None:
    [d] = kpidsl.check(HEADER + "fact revenue money\npay salary = revenue + 5%\n")
    assert (d.code, d.severity, d.line, d.column) == ("KPI201", Severity.ERROR, 5, 14)
    assert d.message == "cannot add money (RUB) and percent"
    assert d.hint == "both sides of + and − must be in the same unit"


def test_syntax_error_recovery_reports_each_broken_statement() -> None:
    text = HEADER + "fact a money 'A'\nfact b money\nkpi b plan 3,000 RUB\npay s = 1 RUB\n"
    assert [(d.code, d.line) for d in kpidsl.check(text)] == [("KPI002", 4), ("KPI001", 6)]


def test_an_unfinished_formula_is_one_error_not_one_a_statement() -> None:
    """`= 2% ×` then ten statements: the formula swallows `kpi` as a name; the error is the
    formula's, and the ten statements after it are parsed as written."""
    rest = "".join(f"kpi k{i}\n  plan 10 RUB\n" for i in range(10))
    [d] = kpidsl.check(HEADER + "fact revenue money\nconstant rate = 2% ×\n" + rest)
    assert (d.code, d.line, d.column) == ("KPI001", 5, 20)
    assert d.message == ("the constant statement ends too early: 'kpi' on line 6 begins the "
                         "next one; expected a value (a number, 80%, 60_000 RUB, a name or a "
                         "formula)")


def test_bundled_schemes_check_clean() -> None:
    for path in sorted(Path(__file__).parent.parent.glob("rulesets/**/*.kpi")):
        diagnostics = kpidsl.check(path.read_text(encoding="utf-8"), str(path))
        assert diagnostics == [], render_all(diagnostics)


def test_deep_nesting_is_a_diagnostic_not_a_crash() -> None:
    expr = "(1 + " * 5000 + "1" + ")" * 5000
    [d] = kpidsl.check(HEADER + f"constant x = {expr}\n")
    assert d.code == "KPI003"
