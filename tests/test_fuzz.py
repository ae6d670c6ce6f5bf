"""The fast slice of the fuzz run: schemes from the grammar, coherent schemes and mutated
rulesets go through check, loads and evaluation with no exception but KpiError and no
internal error shown as a diagnostic (tests/fuzz/oracle.py says what that means). The long
run is tests/fuzz/run_fuzz.py; its figures are in docs/reliability.md."""

from __future__ import annotations

import decimal

import pytest
from fuzz.oracle import catalogue, diagnostic_problems, foreign_names, run_one
from fuzz.schemes import bundled_rulesets, coherent_schemes, grammar_schemes, mutated_schemes
from hypothesis import HealthCheck, Phase, given, settings

import kpidsl
from kpidsl.diagnostics import Diagnostic, Severity

FAST = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@settings(FAST, max_examples=60)
@given(coherent_schemes())
def test_coherent_schemes_never_crash(text: str) -> None:
    assert run_one(text).problems == []


@settings(FAST, max_examples=80)
@given(grammar_schemes())
def test_grammar_schemes_never_crash(text: str) -> None:
    assert run_one(text).problems == []


@pytest.mark.parametrize("block", range(4))
def test_mutated_rulesets_never_crash(block: int) -> None:
    for seed in range(block * 75, (block + 1) * 75):
        text = mutated_schemes(seed)
        assert run_one(text, evaluate=False).problems == [], f"mutated_schemes({seed})"


@pytest.mark.parametrize("block", range(3))
def test_commands_on_hostile_facts_never_crash(block: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """CSV, JSON, JSONL and XLSX facts (generated, mutated, hostile shapes) through every
    command and output format (tests/fuzz/commands.py): 3 × 20 cases of the long run's."""
    from fuzz.commands import run_case

    for seed in range(block * 20, (block + 1) * 20):
        folder = tmp_path / str(seed)
        folder.mkdir()
        outcome = run_case(seed, folder)
        assert outcome.problems == [], f"run_case({seed}): {' '.join(outcome.args)}"


@pytest.mark.parametrize("text", bundled_rulesets()[:40])
def test_every_bundled_ruleset_passes_the_oracle(text: str) -> None:
    assert run_one(text).problems == []


def test_the_coherent_generator_mostly_compiles() -> None:
    """The slice is only worth its time if most coherent schemes get to evaluation."""
    stages: list[str] = []

    @settings(FAST, max_examples=30, phases=[Phase.generate], derandomize=True)
    @given(coherent_schemes())
    def collect(text: str) -> None:
        stages.append(run_one(text, evaluate=False).stage)

    collect()
    assert stages.count("compiled") >= len(stages) // 4, stages  # fixed examples: no flake


# ---------------------------------------------------------------- the oracle is not vacuous


def test_the_catalogue_is_read() -> None:
    assert {"KPI001", "KPI101", "KPI901"} <= catalogue()


@pytest.mark.parametrize("message, code, why", [
    ("KeyError: 'revenue'", "KPI101", "internal text 'KeyError'"),
    ("InvalidOperation: [<class 'decimal.InvalidOperation'>]", "KPI101", "'InvalidOperation'"),
    ("unknown name None", "KPI101", "internal text 'None'"),
    ("bad value <object object at 0x7f>", "KPI101", "internal text"),
    ("Traceback (most recent call last)", "KPI101", "internal text 'Traceback'"),
    ("value of __dict__", "KPI101", "internal text '__dict__'"),
    ("a fine message", "KPI999", "code not in docs/diagnostics.md"),
    ("a fine message", "KPI904", "a run-time code from checking"),
    ("", "KPI101", "empty message"),
])
def test_the_oracle_flags_internal_errors(message: str, code: str, why: str) -> None:
    d = Diagnostic(code, Severity.ERROR, message, "<string>", 1, 1, 2, "x", "")
    problems = diagnostic_problems(d, "scheme s\n", stage="check")
    assert any(why in p for p in problems), problems


def test_the_oracle_allows_text_the_scheme_wrote() -> None:
    d = Diagnostic("KPI101", Severity.ERROR, "unknown name 'None' in KPI x", "<string>", 1, 1, 2)
    assert diagnostic_problems(d, "kpi x = None", stage="check") == []


def test_the_oracle_flags_user_text_in_generated_code() -> None:
    assert foreign_names("x = open('f')\n") == ["line 1: name 'open'"]
    assert foreign_names("x = \"a\" 'b'\n") == ["line 1: string '\"a\"' is not repr() of its value"]
    assert foreign_names("# \u202e\n") == ["line 1: comment '# \\u202e' is not plain ASCII"]


# ---------------------------------------------------------------- regressions found by fuzzing


def test_floor_in_a_curve_and_a_gate_parses() -> None:
    """'floor' was always lexed as the rounding mode, so no curve or gate could say it."""
    scheme = kpidsl.loads(
        "scheme s\nfact x money\ncurve c\n  tiers marginal\n  from 0 RUB to 100 RUB rate 10%\n"
        "  from 100 RUB rate 20%\n  floor 5\npay p = c(x)\n  floor 7 RUB\n"
        "pay q = round(x, 1, floor)\n")
    result = scheme.evaluate({"x": "10"})
    assert result.components == {"p": decimal.Decimal("7.00"), "q": decimal.Decimal("10.00")}


def test_a_huge_budget_cap_is_not_an_internal_error() -> None:
    text = ("scheme s\nfact x money\ncurve c\n  below 80% pays 0\n  from 80% pays attainment\n"
            "kpi x plan 100 RUB\npay bonus pool 1_000 RUB\n  for x weight 100% curve c\n"
            f"budget fund cap {'9' * 19} RUB for bonus\n")
    scheme = kpidsl.loads(text)
    assert scheme.evaluate({"x": "100"}).total == decimal.Decimal("1000.00")
    results = list(scheme.evaluate_many([{"employee": "a", "x": "90"},
                                         {"employee": "b", "x": "100"}]))
    assert [r.total for r in results] == [decimal.Decimal("900.00"), decimal.Decimal("1000.00")]


def test_a_number_too_large_to_round_is_a_plain_kpi902() -> None:
    scheme = kpidsl.load("rulesets/b2b_manager.kpi")
    with pytest.raises(kpidsl.KpiError) as caught:
        scheme.evaluate({"revenue": decimal.Decimal("1E+40"), "avg_check": "142500",
                         "conversion": "2.1%", "calls": 950}, employee="e1")
    [d] = caught.value.diagnostics
    assert (d.code, d.message) == (
        "KPI902", "a number needs more than 34 significant digits (the decimal context) "
        "while computing employee 'e1'")
    assert d.line > 0


def test_a_bare_attainment_outside_a_curve_is_a_diagnostic() -> None:
    """It compiled to the curve's parameter name and failed at run time with a NameError."""
    [d] = [d for d in kpidsl.check("scheme deals\npay deals = -(attainment)\n") if d.is_error]
    assert (d.code, d.message, d.line, d.column) == (
        "KPI101", "'attainment' alone is a curve's input, used only in what a band pays "
        "(here: payment deals)", 2, 15)


def test_no_keyword_is_shadowed_by_a_word_terminal_in_any_parser_state() -> None:
    """The class of bug behind 'floor': where LALR merges states, a priority-2 word terminal
    (ROUND_MODE, AGGREGATE, PERIOD ...) accepted next to a keyword that it also matches wins
    the lexer, and the keyword can never be written there."""
    import re

    from kpidsl.grammar import parser

    lark_parser = parser()
    terminals = {t.name: t for t in lark_parser.terminals}
    shadowed = set()
    for actions in lark_parser.parser.parser.parser.parse_table.states.values():
        accepted = [terminals[name] for name in actions if name in terminals]
        for keyword in (t for t in accepted if t.pattern.type == "str"):
            for word in (t for t in accepted if t.pattern.type == "re"):
                if word.priority > keyword.priority and \
                        re.fullmatch(word.pattern.to_regexp(), keyword.pattern.value):
                    shadowed.add((keyword.pattern.value, word.name))
    assert shadowed == set()


def test_the_long_run_script_runs_and_reports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A few inputs through tests/fuzz/run_fuzz.py, so the script cannot rot between runs."""
    import json

    from fuzz import run_fuzz

    summary = tmp_path / "summary.json"
    code = run_fuzz.main(["--inputs", "10", "--workers", "1", "--findings",
                          str(tmp_path / "findings"), "--json", str(summary)])
    totals = json.loads(summary.read_text(encoding="utf-8"))["totals"]
    assert code == 0
    assert (totals["inputs"], totals["exceptions"], totals["internal"], totals["hangs"]) == (
        10, 0, 0, 0)


def test_schemes_with_the_same_code_but_other_names_keep_their_own_names() -> None:
    """Non-ASCII names never reach the code, so two schemes can compile to the same source;
    the cached evaluator was returned with the first scheme's names (KeyError in loads)."""
    first = kpidsl.loads('scheme revenue\nkpi м6e0 = 0\npay бонус = 1 RUB\n')
    second = kpidsl.loads('scheme revenue\nkpi ф "Revenue" = 0\npay премия = 1 RUB\n')
    assert first.python_source == second.python_source
    assert (list(first.evaluate({}).kpis), list(first.evaluate({}).components)) == (
        ["м6e0"], ["бонус"])
    assert (list(second.evaluate({}).kpis), list(second.evaluate({}).components)) == (
        ["ф"], ["премия"])
