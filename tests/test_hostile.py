"""Hostile and careless inputs: schemes with thousands of grades, huge labels, templates.

Each test is the regression test of one class of problem: time or memory that grew faster
than the input, or a template that could reach Python.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl import ast
from kpidsl.checks.resolve import _cycles, _in_dependency_order
from kpidsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
HEAD = "scheme s\ncurrency RUB\nfact revenue money\nkpi r = revenue\npay p = r\n"


# ---------------------------------------------------------------- grades


def grades(count: int, kind: str) -> str:
    if kind == "chain":  # each grade based on the one before
        return "grade g0\n" + "".join(f"grade g{i} based on g{i - 1}\n" for i in range(1, count))
    if kind == "reversed":  # each grade based on the one after: one pass each, before
        return "".join(f"grade g{i} based on g{i + 1}\n" for i in range(count - 1)) + \
            f"grade g{count - 1}\n"
    if kind == "cycle":
        return "".join(f"grade g{i} based on g{(i - 1) % count}\n" for i in range(count))
    return "".join(f"grade g{i} based on h{i}\n" for i in range(count))  # unknown parents


def check_time(text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        kpidsl.check(text)
        best = min(best, time.process_time() - started)
    return best


def test_grade_chains_and_cycles_are_checked_in_linear_time() -> None:
    """Walking each chain over a list was cubic: 2 000 grades took 27 s (chain), 70 s
    (cycle), 213 s (each based on the next); now about 0.3 s each."""
    for kind in ("chain", "reversed", "cycle", "unknown"):
        small = check_time(HEAD + grades(250, kind))
        large = check_time(HEAD + grades(2_000, kind))
        print(f"{kind}: 250 grades {small:.3f} s, 2 000 grades {large:.3f} s")
        assert large < max(small, 0.01) * 8 * 3, kind  # 8× the grades; quadratic is 64×


def test_a_long_cycle_is_reported_once_at_its_first_grade() -> None:
    diagnostics = kpidsl.check(HEAD + grades(2_000, "cycle"))
    assert [(d.code, d.line) for d in diagnostics] == [("KPI602", 6)]
    names = " → ".join(["g0", *(f"g{i}" for i in range(1_999, 0, -1)), "g0"])
    assert diagnostics[0].message == f"grades are based on each other in a cycle: {names}"


def test_a_cycle_reached_from_another_grade_is_reported_once() -> None:
    text = HEAD + "grade x based on y\ngrade y based on z\ngrade z based on y\n"
    assert [(d.code, d.line, d.message) for d in kpidsl.check(text)] == [
        ("KPI602", 7, "grades are based on each other in a cycle: y → z → y")]


def test_a_grade_defined_twice_is_reported() -> None:
    diagnostics = kpidsl.check(HEAD + "grade a\n  kpi r plan 5 RUB\ngrade a\n")
    assert [(d.code, d.line, d.message, d.hint) for d in diagnostics] == [
        ("KPI601", 8, "grade 'a' is defined twice", "the first definition is on line 6")]


def test_unknown_parents_get_a_bounded_hint() -> None:
    diagnostics = kpidsl.check(HEAD + grades(40, "unknown"))
    assert [d.code for d in diagnostics] == ["KPI603"] * 40
    assert diagnostics[0].hint == "known grades: g1, g2, g3, g4, g5, g6, g7, g8, g9, g10 " \
        "and 29 more"
    assert diagnostics[-1].hint == ""  # past the first 20, no comparison with every grade


def _old_order(sections: list[ast.GradeSection]) -> list[str]:
    """The order grades were resolved in before (quadratic passes), kept as the oracle."""
    names = {g.name for g in sections}
    done: set[str] = set()
    ordered: list[str] = []
    pending = list(sections)
    while pending:
        progress = False
        for grade in list(pending):
            if not grade.based_on or grade.based_on in done or grade.based_on not in names:
                ordered.append(grade.name)
                done.add(grade.name)
                pending.remove(grade)
                progress = True
        if not progress:
            break
    return ordered


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 14)), min_size=1, max_size=12))
def test_grades_resolve_in_the_same_order_as_before(parents: list[int | None]) -> None:
    span = SourceFile("s.kpi", "").span(0, 0)
    sections = [ast.GradeSection(span, f"g{i}", "", span,
                                 None if p is None else f"g{p}", ())
                for i, p in enumerate(parents)]
    assert [g.name for g in _in_dependency_order(sections)] == _old_order(sections)
    by_name = {g.name: g for g in sections}
    in_cycles = {name for _, cycle in _cycles(by_name) for name in cycle}
    for g in sections:  # a grade is in a cycle exactly when walking up returns to it
        seen, name = set(), g.based_on
        while name in by_name and name not in seen and name != g.name:
            seen.add(name)
            name = by_name[name].based_on
        assert (name == g.name) == (g.name in in_cycles)


# ---------------------------------------------------------------- labels


def test_a_huge_label_costs_memory_linear_in_its_length() -> None:
    """The label pattern backtracked per character: a 10 MB label took 1.8 GB of memory
    (190 bytes a character); possessive repetition keeps no backtracking stack (4 bytes)."""
    kpidsl.check(HEAD)  # the parser is built outside the measurement
    label = "a" * 500_000 + "\\\"#(" * 50_000
    text = f'scheme s "{label}"\ncurrency RUB\nfact revenue money "{label}"\nkpi r = revenue\n'
    tracemalloc.start()
    try:
        diagnostics = kpidsl.check(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert diagnostics == []
    print(f"{len(text):,} characters, peak {peak:,} bytes")
    assert peak < 20 * len(text)


# ---------------------------------------------------------------- templates

ESCAPES = {
    "dunder": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "globals": "{{ cycler.__init__.__globals__.os.popen('touch MARK').read() }}",
    "lipsum": "{{ lipsum.__globals__['os'].system('touch MARK') }}",
    "self": "{{ self.__init__.__globals__.__builtins__.__import__('subprocess')"
            ".run(['touch', 'MARK']) }}",
    "format": "{{ '{0.__class__.__init__.__globals__}'.format(range) }}",
    "mutate": "{% set xs = [1] %}{{ xs.append(2) }}",
    "function": "{{ ruleset.__class__ }}",
    "method": "{{ kpis.__class__.__base__.__subclasses__() }}",
}


@pytest.mark.parametrize("name", ESCAPES)
def test_a_template_cannot_reach_python(name: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from kpidsl.cli import main

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "plan.md.j2").write_text("# plan\n" + ESCAPES[name] + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["doc", str(ROOT / "rulesets" / "b2b_manager.kpi"),
                                       "--template", str(folder)])
    assert not (tmp_path / "MARK").exists()
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: template: "), result.stderr
    assert "Traceback" not in result.stderr


def test_the_bundled_templates_render_in_the_sandbox() -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from kpidsl.docs.render import environment, render_plan

    for fmt in ("md", "html"):
        assert isinstance(environment(fmt), ImmutableSandboxedEnvironment)
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    assert render_plan(scheme, None, "ru", "html").startswith("<!DOCTYPE html>")
