"""Credit split files (`--split deals=FILE`): a deal credited to several employees, the
shares adding up to 100 %, the amounts split to the kopeck by largest remainders."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from deal_schemes import tiered_deals
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.cli import main
from kpidsl.diagnostics import KpiError
from kpidsl.run import FactsOptions, evaluate_files
from kpidsl.sources.splits import largest_remainder

SCHEME = tiered_deals("split_deals", "Split deals", share=True)
RULESET = kpidsl.loads(SCHEME)
DEALS = ("ID;Manager;Closed;Amount;Stage\n"
         "1;a;2025-07-03;1000,01;won\n"
         "2;b;2025-07-04;60000;won\n"
         "3;a;2025-07-05;30000;won\n"
         "4;c;2025-07-06;500;lost\n")


def _files(tmp_path: Path, splits: str, deals: str = DEALS) -> tuple[Path, Path]:
    (tmp_path / "deals.csv").write_text(deals, encoding="utf-8")
    (tmp_path / "splits.csv").write_text(splits, encoding="utf-8")
    return tmp_path / "deals.csv", tmp_path / "splits.csv"


def _run(deals: Path, splits: Path, engine: str = "python") -> object:
    return evaluate_files(RULESET, [deals], FactsOptions(splits=(("deals", (str(splits),)),)),
                          period="2025-07", engine=engine)


def test_a_split_file_credits_each_employee_their_share(tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;25%\n1;d;25%\n"
                                     "3;a;60 %\n3;b;40 %\n")
    run = _run(deals, splits)
    results = {r.employee: r for r in run.results()}  # type: ignore[attr-defined]
    # 1 000.01: 500.005, 250.0025, 250.0025 → 500.00 + 250.00 + 250.00, the kopeck left
    # over to the largest remainder (a's 0.005)
    assert results["a"].facts["revenue"] == Decimal("18500.01")  # 500.01 + 18 000
    assert results["b"].facts["revenue"] == Decimal("72250.00")  # 250.00 + 60 000 + 12 000
    assert results["d"].facts["revenue"] == Decimal("250.00")
    assert results["a"].facts["won"] == 2 and results["d"].facts["won"] == 1
    assert [(d.key, d.credit, d.share) for d in results["b"].deals] == [
        ("1", Decimal("250.00"), Decimal("0.25")), ("2", Decimal("60000"), None),
        ("3", Decimal("12000.00"), Decimal("0.40"))]
    assert "c" in results  # deal 4, not in the file, is c's own (a lost deal: 0)
    counts = run.counts  # type: ignore[attr-defined]
    # 4 export rows, deal 1 credited three ways and deal 3 two ways: 7 rows
    assert (counts.rows_read, counts.evaluated, counts.failed) == (7, 7, 0)


def test_shares_that_do_not_add_up_fail_the_deal_naming_file_row_and_key(
        tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;25%\n3;a;60%\n3;b;40%\n")
    run = _run(deals, splits)
    results = {r.employee: r for r in run.results()}  # type: ignore[attr-defined]
    assert set(results) == {"c"}  # a and b rest on deal 1: not paid
    messages = [d.message for f in run.failures for d in f.diagnostics]  # type: ignore[attr-defined]
    assert "row 2: deal '1': the shares add up to 75 % (50 % + 25 %), not 100 %" in messages
    located = [d for f in run.failures for d in f.diagnostics  # type: ignore[attr-defined]
               if d.code == "KPI544"]
    assert {(d.file, d.line) for d in located} == {(str(splits), 2)}
    counts = run.counts  # type: ignore[attr-defined]
    assert counts.rows_read == counts.evaluated + counts.failed == 6


def test_an_unreadable_share_fails_the_deal_and_a_missing_key_refuses_the_run(
        tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;half\n1;b;50%\n")
    run = _run(deals, splits)
    assert {r.employee for r in run.results()} == {"c"}  # type: ignore[attr-defined]
    assert any(d.code == "KPI501" and d.file == str(splits) and d.line == 2
               for f in run.failures for d in f.diagnostics)  # type: ignore[attr-defined]
    deals, splits = _files(tmp_path, "ID;Manager;Share\n;a;50%\n1;b;50%\n")
    with pytest.raises(KpiError) as caught:
        list(_run(deals, splits).results())  # type: ignore[attr-defined]
    assert caught.value.diagnostics[0].message == "row 2, column 'ID': missing key"


def test_an_employee_credited_twice_for_one_deal_is_refused(tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;25%\n1;a;25%\n")
    run = _run(deals, splits)
    assert {r.employee for r in run.results()} == {"c"}  # type: ignore[attr-defined]
    assert "row 4: deal '1': employee 'a' is credited twice (rows 2 and 4)" in [
        d.message for f in run.failures for d in f.diagnostics]  # type: ignore[attr-defined]


def test_a_share_column_in_the_export_and_a_split_file_are_refused(tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;100%\n",
                           "ID;Manager;Closed;Amount;Stage;Share\n1;a;2025-07-03;10;won;100%\n")
    run = _run(deals, splits)
    with pytest.raises(Exception) as caught:
        list(run.results())  # type: ignore[attr-defined]
    assert "the shares would be said twice" in str(caught.value)


def test_duckdb_gives_the_same_results(tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;33,34%\n1;b;33,33%\n1;d;33,33%\n"
                                     "3;a;0,6\n3;b;0,4\n")
    shown = {}
    for engine in ("python", "duckdb"):
        run = _run(deals, splits, engine)
        shown[engine] = {r.employee: (r.facts, r.total, [(d.key, d.amount) for d in r.deals])
                         for r in run.results()}  # type: ignore[attr-defined]
    assert shown["duckdb"] == shown["python"]
    # 1 000.01 × 33.34 % = 333.403334: 333.40, and the kopeck left over (its remainder
    # 0.003334 is the largest): 333.41, + 60 % of 30 000
    assert shown["python"]["a"][0]["revenue"] == Decimal("18333.41")


def test_the_cli_takes_split_files(tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;50%\n")
    scheme = tmp_path / "s.kpi"
    scheme.write_text(SCHEME, encoding="utf-8")
    out = CliRunner().invoke(main, ["eval", str(scheme), str(deals), "--period", "2025-07",
                                    "--split", f"deals={splits}", "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert "500.00" in out.output
    out = CliRunner().invoke(main, ["eval", str(scheme), str(deals), "--period", "2025-07",
                                    "--split", f"calls={splits}"])
    assert out.exit_code != 0 and "the scheme has no source 'calls'" in out.output


def _oracle(amount: Decimal, shares: list[Fraction]) -> list[Decimal]:
    """Largest remainders in exact rationals: floors toward zero, the kopecks left to the
    largest remainders, ties to the earlier share."""
    whole = abs(Fraction(amount)) * 100
    exact = [whole * s for s in shares]
    floors = [e.numerator // e.denominator for e in exact]
    left = int(whole) - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    sign = -1 if amount < 0 else 1
    return [Decimal(sign * f) / 100 for f in floors]


@settings(max_examples=300, deadline=None)
@given(st.integers(-10**12, 10**12), st.lists(st.integers(1, 10_000), min_size=1, max_size=7))
def test_largest_remainder_is_exact(cents: int, weights: list[int]) -> None:
    total = sum(weights)
    # shares written as a file writes them: exact decimals adding up to 100 %
    shares = [Decimal(w) / Decimal(total) for w in weights]
    shares = [s.quantize(Decimal("1e-6"), rounding=ROUND_FLOOR) for s in shares]
    shares[-1] += 1 - sum(shares)
    amount = Decimal(cents) / 100
    parts = largest_remainder(amount, shares)
    assert sum(parts) == amount
    assert parts == _oracle(amount, [Fraction(s) for s in shares])
    for part, share in zip(parts, shares, strict=True):
        assert abs(Fraction(part) - Fraction(amount) * Fraction(share)) < Fraction(1, 100)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 6), st.sampled_from("abc"),
                          st.integers(-5_000_00, 90_000_00)), min_size=1, max_size=12),
       st.dictionaries(st.integers(1, 6), st.lists(st.tuples(st.sampled_from("abde"),
                                                             st.integers(1, 99)),
                                                   min_size=1, max_size=3,
                                                   unique_by=lambda t: t[0]), max_size=4))
def test_split_files_in_both_engines_and_the_oracle(
        tmp_path: Path, rows: list[tuple[int, str, int]],
        splits: dict[int, list[tuple[str, int]]]) -> None:
    text = "ID;Manager;Closed;Amount;Stage\n" + "".join(
        f"{key};{who};2025-07-{i % 28 + 1:02d};{Decimal(cents) / 100};won\n"
        for i, (key, who, cents) in enumerate(rows))
    table = "ID;Manager;Share\n"
    shares: dict[int, list[tuple[str, Fraction]]] = {}
    for key, credited in splits.items():
        total = sum(w for _, w in credited)
        written = [(who, Decimal(w * 10_000 // total) / 10_000) for who, w in credited]
        written[-1] = (written[-1][0], 1 - sum(s for _, s in written[:-1]))
        shares[key] = [(who, Fraction(s)) for who, s in written]
        table += "".join(f"{key};{who};{s}\n" for who, s in written)
    deals, split_file = _files(tmp_path, table, text)
    expected: dict[str, Fraction] = {}
    for key, who, cents in rows:
        amount = Decimal(cents) / 100
        if key in shares:
            parts = _oracle(amount, [s for _, s in shares[key]])
            for (name, _), part in zip(shares[key], parts, strict=True):
                expected[name] = expected.get(name, Fraction(0)) + Fraction(part)
        else:
            expected[who] = expected.get(who, Fraction(0)) + Fraction(amount)
    seen = {}
    for engine in ("python", "duckdb"):
        run = _run(deals, split_file, engine)
        seen[engine] = {r.employee: (r.facts["revenue"], r.total)
                        for r in run.results()}  # type: ignore[attr-defined]
        assert run.counts.rows_read == run.counts.evaluated + run.counts.failed  # type: ignore[attr-defined]
    assert seen["duckdb"] == seen["python"]
    assert {e: Fraction(v[0]) for e, v in seen["python"].items()} == \
        {e: v for e, v in expected.items()}


def test_a_totals_row_in_the_export_or_the_split_file_is_skipped_with_a_warning(
        tmp_path: Path) -> None:
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;50%\n;Итого:;100%\n",
                           DEALS + ";Итого;;91500,01;\n")
    run = _run(deals, splits)
    results = {r.employee: r for r in run.results()}  # type: ignore[attr-defined]
    assert set(results) == {"a", "b", "c"}
    assert results["a"].facts["revenue"] == Decimal("30500.01")  # 500.01 + 30 000
    warned = [(d.code, Path(d.file).name, d.line, d.message)
              for d in run.counts.warnings]  # type: ignore[attr-defined]
    assert warned == [
        ("KPI523", "splits.csv", 4, "row 4: 'Итого:' is a totals row, not a deal; skipped"),
        ("KPI523", "deals.csv", 6, "row 6: 'Итого' is a totals row, not a deal; skipped")]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_split_files_deal_no_export_has_is_warned_about(tmp_path: Path, engine: str) -> None:
    """Deal '31' is a typo of '3': a's deal 3 is then hers whole (30 000), as the export
    says, and the split file's shares for '31' credit nobody — a warning names the file, its
    first such row and the keys, in both engines (before, nothing said so)."""
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;50%\n"
                                     "31;a;60 %\n31;b;40 %\n77;c;100%\n")
    run = _run(deals, splits, engine)
    results = {r.employee: r for r in run.results()}  # type: ignore[attr-defined]
    assert results["a"].facts["revenue"] == Decimal("30500.01")  # 500.01 + 30 000
    warned = [(d.code, Path(d.file).name, d.line, d.message, d.hint)
              for d in run.counts.warnings]  # type: ignore[attr-defined]
    assert warned == [
        ("KPI546", "splits.csv", 4, "the split file lists deals no export of source 'deals' "
         "has (2: '31', '77'); their shares credit nobody",
         "check each key against the export's key column: a mistyped key pays its deal "
         "whole to its own employee")]
    deals, splits = _files(tmp_path, "ID;Manager;Share\n1;a;50%\n1;b;50%\n")
    assert _run(deals, splits, engine).counts.warnings == []  # type: ignore[attr-defined]
