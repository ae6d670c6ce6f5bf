"""Resource bounds: deep nesting is a diagnostic (never a RecursionError or a hang), numbers
follow one declared decimal context, 10 000-KPI schemes check and compile, facts stream in
flat memory, and no facts row is ever lost: rows read = evaluated + failed."""

from __future__ import annotations

import decimal
import json
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from fuzz.stream_memory import write_facts

import kpidsl
from kpidsl import runtime
from kpidsl.facts import FactRow, FactSpec, RowError, SeenIds, read_facts
from kpidsl.units import Unit

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "tests" / "fixtures" / "facts"
DEEP = 10_000
BASE = "scheme s\nfact x money \"X\"\nkpi x plan 100 RUB\n"
NESTED = {
    "parentheses": "(" * DEEP + "x" + ")" * DEEP,
    "chained plus": " + ".join(["x"] * DEEP),
    "chained times": " × ".join(["x"] * DEEP),
    "nested if": "if x > 0 RUB then " * DEEP + "x" + " else x" * DEEP,
    "unary minus": "-" * DEEP + "x",
    "not": "if " + "not " * DEEP + "x > 0 RUB then x else x",
    "nested max": "max(" * DEEP + "x" + ", x)" * DEEP,
    "chained or": "if " + " or ".join(["x > 0 RUB"] * DEEP) + " then x else x",
    "nested otherwise": "x / x otherwise " * DEEP + "x",
}
TOO_DEEP = ("KPI003", "an expression is nested more than 100 levels deep")


@pytest.mark.parametrize("kind", NESTED)
def test_ten_thousand_levels_are_a_diagnostic_not_a_recursion_error(kind: str) -> None:
    started = time.perf_counter()
    with pytest.raises(kpidsl.KpiError) as caught:
        kpidsl.loads(BASE + f"pay deep = {NESTED[kind]}\n")
    elapsed = time.perf_counter() - started
    print(f"{kind}: {elapsed:.2f} s")
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [TOO_DEEP]
    assert caught.value.diagnostics[0].line == 4
    assert elapsed < 15  # linear in the text: about a second on the slowest (70 000 tokens)


@pytest.mark.parametrize("levels, value", [(90, "90"), (45, "45")])
def test_nesting_below_the_limit_compiles_and_evaluates(levels: int, value: str) -> None:
    for formula in (" + ".join(["x"] * levels),
                    "(" * levels + "x" + " + x)" * (levels - 1) + ")",
                    "if x > 0 RUB then " * levels + f"x * {levels}" + " else x" * levels,
                    "max(" * levels + f"x * {levels}" + ", x)" * levels):
        scheme = kpidsl.loads(BASE + f"pay deep = {formula}\n")
        assert scheme.evaluate({"x": "1"}).components["deep"] == Decimal(value + ".00")


# ---------------------------------------------------------------- the decimal context


def test_the_decimal_context_is_declared_once() -> None:
    context = runtime.CONTEXT
    assert (context.prec, context.Emax, context.Emin, context.rounding) == (
        34, 999_999, -999_999, decimal.ROUND_HALF_EVEN)
    assert {t for t, on in context.traps.items() if on} == {
        decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow}


POWERS = """scheme s
fact x number "X"
kpi k1 = x × x × x × x × x × x × x × x × x × x
kpi k2 = k1 × k1 × k1 × k1 × k1 × k1 × k1 × k1 × k1 × k1
kpi k3 = k2 × k2 × k2 × k2 × k2 × k2 × k2 × k2 × k2 × k2
kpi k4 = k3 × k3 × k3 × k3 × k3 × k3 × k3 × k3 × k3 × k3
kpi k5 = k4 × k4
kpi third = x / 3
pay p = 1 RUB
"""


def test_precision_is_34_significant_digits() -> None:
    result = kpidsl.loads(POWERS).evaluate({"x": Decimal(1)})
    assert result.kpis["third"].value == Decimal("0.3333333333333333333333333333333333")
    assert result.kpis["k5"].value == 1


def test_overflow_is_a_clear_error_at_its_line() -> None:
    scheme = kpidsl.loads(POWERS)
    assert scheme.evaluate({"x": "10"}).kpis["k5"].value == Decimal("1E+20000")
    with pytest.raises(kpidsl.KpiError) as caught:
        scheme.evaluate({"x": Decimal("1E+99")}, employee="e1")  # k5 = 10^1 980 000
    [d] = caught.value.diagnostics
    assert (d.code, d.message, d.line) == (
        "KPI902", "a number grew beyond the decimal context (overflow) while computing "
        "employee 'e1'", 7)
    with pytest.raises(kpidsl.KpiError) as caught:  # as text it is refused when read
        scheme.evaluate({"x": "1" + "0" * 99}, employee="e1")
    [d] = caught.value.diagnostics
    assert (d.code, d.message) == (
        "KPI501", "employee 'e1': '1" + "0" * 58 + "…' is about 10^99; numbers must stay "
        "below 10^20")


def test_tiny_numbers_underflow_to_the_smallest_number() -> None:
    """Evaluators round to odd (kpidsl.runtime.ODD): a product too small for the context
    becomes its smallest number, never a silent zero."""
    result = kpidsl.loads(POWERS).evaluate({"x": Decimal("1E-999999")})
    assert result.kpis["k1"].value == Decimal("1E-1000032")
    # below 1E-999 999 digits are lost one by one (subnormal), not trapped
    assert result.kpis["third"].value == Decimal("3.33333333333333333333333333333333E-1000000")


def test_an_amount_too_large_to_round_to_the_kopeck_is_a_clear_error() -> None:
    scheme = kpidsl.loads("scheme s\nfact x money\npay p = x\n")
    assert scheme.evaluate({"x": Decimal("9" * 32)}).total == Decimal("9" * 32 + ".00")
    with pytest.raises(kpidsl.KpiError) as caught:
        scheme.evaluate({"x": Decimal("9" * 33)}, employee="e1")
    assert [(d.code, d.message, d.line) for d in caught.value.diagnostics] == [(
        "KPI902", "a number needs more than 34 significant digits (the decimal context) "
        "while computing employee 'e1'", 3)]


@pytest.mark.parametrize("digits, code", [(20, None), (21, "KPI005"), (61, "KPI005"),
                                          (10_000, "KPI005")])
def test_number_literals_are_limited_to_20_whole_digits(digits: int, code: str | None) -> None:
    errors = [d.code for d in kpidsl.check(BASE + f"constant c = {'7' * digits}\n")
              if d.is_error]
    assert errors == ([code] if code else [])


def test_the_callers_decimal_context_changes_nothing() -> None:
    text = (ROOT / "rulesets" / "b2b_manager.kpi").read_text(encoding="utf-8")
    facts = {"revenue": "3300000", "avg_check": "142500", "conversion": "2.1%", "calls": 950}
    expected = kpidsl.loads(text)
    with decimal.localcontext() as caller:
        caller.prec, caller.rounding = 3, decimal.ROUND_DOWN
        caller.traps[decimal.Inexact] = True
        scheme = kpidsl.loads(text + "\n")
        result = scheme.evaluate(facts)
        rows = list(scheme.evaluate_many([{"employee": "a", **facts}]))
        assert decimal.getcontext().prec == 3  # given back as it was
    assert scheme.python_source == expected.python_source
    assert result.to_dict() == expected.evaluate(facts).to_dict()
    assert rows[0].total == Decimal("119800.00")


def test_evaluate_many_gives_the_caller_its_context_between_results() -> None:
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    facts = {"revenue": "3300000", "avg_check": "142500", "conversion": "2.1%", "calls": 950}
    results = scheme.evaluate_many([{"employee": e, **facts} for e in "abc"])
    with decimal.localcontext() as caller:
        caller.prec = 5
        first = next(results)
        assert decimal.getcontext().prec == 5
        caller.prec = 7
        assert [r.total for r in [first, *results]] == [Decimal("119800.00")] * 3
        assert decimal.getcontext().prec == 7


# ---------------------------------------------------------------- large schemes


def many_kpis(count: int) -> str:
    """A scheme of `count` KPIs, each computed from the previous one, paid in pools of four."""
    lines = ['scheme big "Big"', 'fact calls count "Calls"', 'curve standard "Standard"',
             "  below 80% pays 0", "  from 80% through 100% pays attainment",
             "  above 100% pays attainment × 1.2", "  cap 200%", "kpi k0 = calls plan 1_000"]
    lines += [f'kpi k{i} "KPI {i}" = k{i - 1} + calls plan {1000 * (i + 1)}'
              for i in range(1, count)]
    for start in range(0, count - count % 4, 4):
        lines.append(f"pay pool{start} pool 1_000 RUB")
        lines += [f"  for k{k} weight 25% curve standard" for k in range(start, start + 4)]
    return "\n".join(lines) + "\n"


def build(count: int) -> tuple[kpidsl.Ruleset, dict[str, float]]:
    text = many_kpis(count)
    times: dict[str, float] = {}
    started = time.perf_counter()
    diagnostics = kpidsl.check(text)
    times["check"] = time.perf_counter() - started
    assert [d.code for d in diagnostics] == ["KPI704"]  # the methodology's "too many KPIs"
    started = time.perf_counter()
    scheme = kpidsl.loads(text)
    times["check and compile"] = time.perf_counter() - started
    return scheme, times


def test_a_thousand_kpis_check_compile_and_evaluate() -> None:
    scheme, times = build(1_000)
    print(", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
    result = scheme.evaluate({"calls": 900})
    assert result.kpis["k999"].value == 900_000
    assert result.total == Decimal("225000.00")  # 250 pools × 1 000 × 90 %


@pytest.mark.slow
def test_ten_thousand_kpis_check_compile_and_evaluate() -> None:
    scheme, times = build(10_000)
    print(", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
    result = scheme.evaluate({"calls": 900})
    assert result.kpis["k9999"].value == 9_000_000
    assert result.total == Decimal("2250000.00")


def test_checking_grows_linearly_with_the_scheme() -> None:
    """Quadratic work (a list rebuilt per reference) showed up at a few thousand KPIs."""
    from kpidsl.checks import check_ruleset
    from kpidsl.parser import parse
    from kpidsl.source import SourceFile

    def check_time(count: int) -> float:
        source = SourceFile("big.kpi", many_kpis(count))
        ruleset, _ = parse(source)
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            check_ruleset(ruleset, source)
            best = min(best, time.process_time() - started)
        return best

    small, large = check_time(200), check_time(1_600)
    print(f"check: 200 KPIs {small:.3f} s, 1 600 KPIs {large:.3f} s")
    assert large < small * 8 * 2.5  # 8× the KPIs; quadratic would be 64×


# ---------------------------------------------------------------- streaming facts


def test_duplicate_ids_are_found_on_both_sides_of_the_spill(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setattr(SeenIds, "SPILL", 10)
    path = tmp_path / "facts.csv"
    ids = [f"e{i}" for i in range(30)] + ["e3", "e25"]
    path.write_text("employee,revenue,deals\n" + "".join(f"{e},1,1\n" for e in ids),
                    encoding="utf-8")
    errors = [item for item in read_facts(path, {"revenue": FactSpec("revenue", Unit.MONEY),
                                                 "deals": FactSpec("deals", Unit.COUNT)})
              if isinstance(item, RowError)]
    assert [e.diagnostic.message for e in errors] == [
        "row 32, column 'employee': employee 'e3' already appears on row 5",
        "row 33, column 'employee': employee 'e25' already appears on row 27",
    ]


def peak_streaming(path: Path) -> tuple[int, int, int]:
    """Traced peak bytes while streaming a facts file through evaluation, and the counts."""
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    tracemalloc.start()
    reader = read_facts(path, scheme.fact_specs)
    failed = 0

    def rows():  # type: ignore[no-untyped-def]
        nonlocal failed
        for item in reader:
            if isinstance(item, FactRow):
                yield item
            else:
                failed += 1

    evaluated = sum(1 for _ in scheme.evaluate_many(rows()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reader.summary.rows_read == evaluated + failed
    return peak, evaluated, failed


def test_streaming_memory_does_not_grow_with_rows(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setattr(SeenIds, "SPILL", 100)
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write_facts(small, 1_000)
    write_facts(large, 4_000)
    peak_small, evaluated_small, failed_small = peak_streaming(small)
    peak_large, evaluated_large, failed_large = peak_streaming(large)
    print(f"traced peak: 1 000 rows {peak_small / 1024:.0f} KiB, "
          f"4 000 rows {peak_large / 1024:.0f} KiB")
    assert (evaluated_small, failed_small, evaluated_large, failed_large) == (999, 1, 3996, 4)
    assert peak_large < peak_small * 1.5


@pytest.mark.slow
def test_a_million_rows_stream_in_flat_memory() -> None:
    """The full measurement (tests/fuzz/stream_memory.py): 10 k, 100 k and 1 M rows."""
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz" / "stream_memory.py")],
                          capture_output=True, text=True, cwd=ROOT)
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- hostile facts, end to end

CORPUS_SCHEME = """scheme corpus
fact revenue money "Revenue"
fact deals count "Deals"
fact conversion percent "Conversion" if missing 0%
fact talk_minutes minutes "Talk time" if missing 0
kpi revenue plan 1_000_000 RUB
pay salary = 1_000 RUB
pay bonus = max(revenue, 0 RUB) × 1% + deals × 10 RUB
grade junior
  kpi revenue plan 500_000 RUB
grade middle
  kpi revenue plan 800_000 RUB
grade senior
  kpi revenue plan 2_000_000 RUB
"""


@pytest.mark.parametrize("path", sorted(FACTS.glob("*.csv")), ids=lambda p: p.stem)
def test_every_valid_row_of_the_hostile_corpus_is_evaluated(path: Path) -> None:
    scheme = kpidsl.loads(CORPUS_SCHEME)
    try:
        items = list(read_facts(path, scheme.fact_specs))
    except kpidsl.KpiError as exc:  # a file-level error: nothing to evaluate, a clear message
        assert all(d.code.startswith("KPI5") and d.file == str(path) for d in exc.diagnostics)
        return
    good = [i for i in items if isinstance(i, FactRow)]
    results = list(scheme.evaluate_many(good))  # raises if any good row fails
    assert [r.employee for r in results] == [r.employee for r in good]
    for row, result in zip(good, results, strict=True):
        revenue = max(row.values["revenue"], Decimal(0))
        expected = Decimal(1000) + (revenue * Decimal("0.01") + row.values["deals"] * 10
                                    ).quantize(Decimal("0.01"), decimal.ROUND_HALF_UP)
        assert result.total == expected


@pytest.mark.parametrize("path", sorted(FACTS.glob("*.csv")), ids=lambda p: p.stem)
def test_the_cli_summary_adds_up_and_the_exit_code_says_why(path: Path,
                                                            tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kpidsl.cli import main

    scheme = tmp_path / "corpus.kpi"
    scheme.write_text(CORPUS_SCHEME, encoding="utf-8")
    done = CliRunner().invoke(main, ["eval", str(scheme), str(path), "--format", "jsonl"])
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert "Traceback" not in done.stderr
    try:
        items = list(read_facts(path, kpidsl.loads(CORPUS_SCHEME).fact_specs))
    except kpidsl.KpiError:
        assert done.exit_code == 2, done.stderr
        assert done.stdout == ""
        return
    bad = sum(isinstance(i, RowError) for i in items)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == len(items) - bad  # every good row is evaluated (the scheme has all
    assert all(line["total"] for line in lines)  # the corpus's grades)
    summary = [line for line in done.stderr.splitlines() if "rows read" in line][-1]
    assert summary.endswith(f"{len(items)} rows read, {len(lines)} evaluated, {bad} failed")
    assert done.exit_code == (1 if bad else 0), done.stderr
