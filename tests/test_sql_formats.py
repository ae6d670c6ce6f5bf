"""`eval --engine duckdb --format json|jsonl`, and the CSV for a spreadsheet (`--excel`,
`--lang ru`): each item and line written by the query, byte for byte the Python engine's;
the rows and schemes it cannot write go to the Python evaluator, with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from b2b_facts import (
    MONEY,
    PERCENT,
    REASONS,
    ROWS,
    native_run,
    random_facts,
    scheme_rows,
    write_facts,
)
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.cli import main
from kpidsl.cli.render.model import people_columns
from kpidsl.sql import formats, lines
from kpidsl.sql.native import applicable

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
B2B = RULESETS / "b2b_manager.kpi"
# (format, options): every output the query writes besides the plain CSV and the table
OUTPUTS = [("json", ()), ("jsonl", ()), ("csv", ("--lang", "ru")), ("csv", ("--excel",))]


def _eval(scheme: Path, facts: Path, fmt: str, engine: str, *extra: str
          ) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, ["eval", str(scheme), str(facts), "--format", fmt,
                                       "--engine", engine, *extra], catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def _same(scheme: Path, facts: Path, fmt: str, *extra: str) -> bytes:
    python = _eval(scheme, facts, fmt, "python", *extra)
    duck = _eval(scheme, facts, fmt, "duckdb", *extra)
    assert duck == python
    assert "Traceback" not in duck[2]
    return duck[1]


def _plans(scheme: Path, facts: Path) -> dict[str, object] | None:
    """What the query writes for this file in each format: a Plan or the reason it does not
    (None when DuckDB does not read the file itself)."""
    with native_run(scheme, facts) as (ruleset, native):
        if native is None:
            return None
        return {"json": formats.json_plan(native),
                **{f"excel-{lang}": formats.excel_plan(
                    native, [c.key for c in people_columns(ruleset, native.extras, lang)], lang)
                   for lang in ("en", "ru")}}


@pytest.mark.parametrize("scheme", sorted(RULESETS.glob("*.kpi")), ids=lambda p: p.stem)
def test_every_bundled_scheme_is_written_by_the_query_or_says_why_not(scheme: Path) -> None:
    """Every bundled scheme with its facts: the query writes JSON and the spreadsheet's CSV
    where it shows every figure exactly, and says why elsewhere (tests/test_sql_native.py
    holds their bytes to the Python engine's; the slow tier below, every output here)."""
    facts = scheme.with_suffix(".facts.csv")
    plans = _plans(scheme, facts)
    if applicable(kpidsl.load(scheme)):
        assert plans is not None
        for plan in plans.values():
            expected = REASONS[scheme.stem]
            assert (plan if isinstance(plan, str) else None) == expected
            if expected is None:
                assert isinstance(plan, lines.Plan)
    else:
        assert plans is None  # teams, grades or budgets: DuckDB does not read the file


@pytest.mark.slow
@pytest.mark.parametrize("scheme", sorted(RULESETS.glob("*.kpi")), ids=lambda p: p.stem)
@pytest.mark.parametrize(("fmt", "extra"), OUTPUTS, ids=lambda o: str(o))
def test_every_bundled_scheme_is_written_alike(scheme: Path, fmt: str,
                                               extra: tuple[str, ...]) -> None:
    _same(scheme, scheme.with_suffix(".facts.csv"), fmt, *extra)


def test_the_reference_scheme_in_json_and_the_russian_csv() -> None:
    facts = B2B.with_suffix(".facts.csv")
    jsonl = _same(B2B, facts, "jsonl").decode().splitlines()
    assert jsonl[0].startswith('{"employee": "ivanov", "grade": "base", "team": null, '
                               '"kpis": {"revenue": {"value": "3300000", "plan": "3000000", '
                               '"attainment": "1.1", "payout": "26400.00"}')
    assert '"factor": "1.32", "band": "above 100%", "amount": "26400.00", "gate": ""' in jsonl[0]
    assert jsonl[0].endswith('"total": "119800.00", "notes": [], "extra": {"name": '
                             '"Иван Иванов"}}')
    array = _same(B2B, facts, "json").decode()
    assert array.startswith("[\n  {") and array.endswith("}\n]\n") and array.count("\n  {") == 8
    ru = _same(B2B, facts, "csv", "--lang", "ru").decode("utf-8")
    assert ru.startswith("\ufeff") and ru.split("\r\n")[1] == (
        "ivanov;Иван Иванов;основной;;3300000,00;110%;26400,00;142500,00;95%;9500,00;2,1%;"
        "105%;12600,00;950;95%;9500,00;60000,00;58000,00;1800,00;119800,00")
    en = _same(B2B, facts, "csv", "--excel").decode("utf-8")
    assert en.split("\r\n")[1] == (
        "ivanov,Иван Иванов,base,,3300000.00,110%,26400.00,142500.00,95%,9500.00,2.1%,105%,"
        "12600.00,950,95%,9500.00,60000.00,58000.00,1800.00,119800.00")


def test_an_empty_file_is_an_empty_array(tmp_path: Path) -> None:
    facts = write_facts(tmp_path / "f.csv", [["e1", "x", "-", "1", "1%", "1"]])
    assert _same(B2B, facts, "json")[:1] == b"["  # the one row fails: '[]' and its diagnostic


SCHEME = """scheme s "S" ru "С"
  currency RUB
fact revenue money "Revenue" ru "Выручка"
fact share ratio "Share" ru "Доля"
fact visits count
fact margin percent
curve c "C"
  below 50%                pays 0
  from 50% through 100%    pays attainment
  above 100% through 150%  pays attainment × 1.5
  above 150%               pays attainment × 2 - 1
kpi revenue "Revenue" ru "Выручка"
  plan 3_000_000 RUB
kpi share plan 0.4
kpi visits plan 7
kpi margin plan 12.5%
pay bonus "Bonus" pool 10_000 RUB
  for revenue weight 40% curve c
  for share weight 20% curve c
  for visits weight 20% curve c
  for margin weight 20% curve c
"""


def test_a_band_the_query_does_not_write_goes_to_python(tmp_path: Path) -> None:
    """A band paying neither a constant, the attainment nor the attainment × a constant
    (here × 2 − 1): its rows are the Python evaluator's, the others the query's; units of
    every kind shown for the spreadsheet (a ratio to 4 decimals, a count, a percent)."""
    scheme = tmp_path / "s.kpi"
    scheme.write_text(SCHEME, encoding="utf-8")
    rows = [[f"e{i}", f"{r}", s, str(v), m] for i, (r, s, v, m) in enumerate([
        ("3000000", "0.4", 7, "12.5%"), ("6000000.50", "0.12345", 3, "0.3"),
        ("4000000", "0.55555", 9, "13.1234%"), ("100.005", "0.00005", 0, "0%"),
        ("3001500", "0.40002", 14, "25%"), ("4499999.999999", "0.6", 10, "18.75%")])]
    facts = write_facts(tmp_path / "f.csv", rows, "employee,revenue,share,visits,margin")
    plans = _plans(scheme, facts)
    assert plans is not None and all(isinstance(p, lines.Plan) for p in plans.values())
    json_plan = plans["json"]
    assert isinstance(json_plan, lines.Plan) and " NOT IN (1, 2, 3)" in json_plan.python
    _same(scheme, facts, "jsonl")
    out = _same(scheme, facts, "csv", "--excel").decode()
    # ties rounded half even: 0.12345 to 4 decimals, 100.005 to the kopeck, 0.00005,
    # 3 001 500 ÷ 3 000 000 = 100.05 %, 18.75 %
    found = out.split("\r\n")
    assert found[2] == ("e1,base,,6000000.50,200%,12000.00,0.1234,30.9%,0.00,3,42.9%,0.00,30%,"
                        "240%,7600.00,19600.00,19600.00")
    assert found[4].startswith("e3,base,,100.00,0%,0.00,0,0%,")
    assert found[5].startswith("e4,base,,3001500.00,100%,")
    assert ",18.8%,150%," in found[6]


@settings(max_examples=3, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=ROWS, team=st.booleans(), output=st.sampled_from(OUTPUTS))
def test_random_files_are_written_alike(tmp_path: Path, rows: list[tuple[str, ...]],
                                        team: bool, output: tuple[str, tuple[str, ...]]) -> None:
    """Random facts of the reference scheme (hostile names and teams, cells on the display's
    ties and the curve's bounds, trailing zeros, percents in both readings), one format
    each: the same bytes, stderr and exit code from both engines."""
    _same(B2B, random_facts(tmp_path, rows, team), output[0], *output[1])


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=ROWS, team=st.booleans())
def test_more_random_files_are_written_alike(tmp_path: Path, rows: list[tuple[str, ...]],
                                             team: bool) -> None:
    facts = random_facts(tmp_path, rows, team)
    for fmt, extra in OUTPUTS:
        _same(B2B, facts, fmt, *extra)


@pytest.mark.parametrize(("curve_cap", "gate", "reason"), [
    ("  cap 130%\n", "", None),
    ("  floor 10%\n", "", "line bonus for revenue: a curve with a floor"),
    ("", " cap 110%", None),
    ("", " only if revenue > 3_500_000", None),
])
def test_caps_and_gates_on_the_factor(tmp_path: Path, curve_cap: str, gate: str,
                                      reason: str | None) -> None:
    """A cap on a curve changes the factor JSON shows: past it, the cap's own digits (2 400 000
    × 1.2 ÷ 3 000 000 is 1.5 × 1.2 = 1.8, capped: '1.30'). A floor the query does not write
    in JSON (the spreadsheet's CSV, which has no factors, it still writes). A gate on a line
    (a limit on its factor, `only if`) changes it where it acts: those rows are the Python
    evaluator's."""
    scheme = tmp_path / "s.kpi"
    scheme.write_text("scheme s\nfact revenue money\ncurve c\n  below 80% pays 0\n"
                      "  from 80% pays attainment × 1.2\n" + curve_cap +
                      "kpi revenue plan 3_000_000\npay bonus pool 1000 RUB\n"
                      "  for revenue weight 100% curve c" + gate + "\n", encoding="utf-8")
    facts = write_facts(tmp_path / "f.csv", [["a", "3600000"], ["b", "2500000.5"], ["c", "0"],
                                        ["d", "2900000"]], "employee,revenue")
    plans = _plans(scheme, facts)
    assert plans is not None and isinstance(plans["excel-ru"], lines.Plan)
    if reason is None:
        assert isinstance(plans["json"], lines.Plan)
    else:
        assert plans["json"] == reason
    out = _same(scheme, facts, "jsonl").decode()
    assert ('"gate": "capped"' in out) == ("cap 110%" in gate)
    assert ('"gate": "withheld"' in out) == ("only if" in gate)
    if "cap" in curve_cap:
        assert '"factor": "1.30", "band": "from 80%"' in out
    if curve_cap:  # the spreadsheet's CSV is still the query's
        ru = _same(scheme, facts, "csv", "--lang", "ru").decode().split("\r\n")
        assert ru[1] == ("a;основной;;3600000,00;120%;1300,00;1300,00;1300,00" if "cap" in
                         curve_cap else "a;основной;;3600000,00;120%;1440,00;1440,00;1440,00")


_RATIO = st.one_of(st.builds(lambda w, f: f"{w}.{f}", st.integers(0, 3),
                             st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
                   st.sampled_from(["0.2", "0.4", "0.6", "0.40002", "0.00005", "0.12345"]))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(MONEY, _RATIO, st.integers(0, 30).map(str), PERCENT),
                     min_size=1, max_size=20),
       output=st.sampled_from(OUTPUTS))
def test_random_facts_of_every_band_and_unit_are_written_alike(
        tmp_path: Path, rows: list[tuple[str, ...]], output: tuple[str, tuple[str, ...]]) -> None:
    """Random facts of a scheme with a band of each form (0, the attainment, × 1.5, and
    × 2 − 1, which the query leaves to Python) and a KPI of each unit: the same bytes."""
    scheme = tmp_path / "s.kpi"
    scheme.write_text(SCHEME, encoding="utf-8")
    facts = write_facts(tmp_path / "f.csv", [[f"e{i}", *row] for i, row in enumerate(rows)],
                   "employee,revenue,share,visits,margin")
    _same(scheme, facts, output[0], *output[1])


# schemes with formula KPIs (b2b_manager_raw, infobiz_manager) and lower is better
# (long_cycle_b2b, infobiz_manager)
FORMULAS = ["b2b_manager_raw", "infobiz_manager", "long_cycle_b2b"]


@pytest.mark.parametrize("name", FORMULAS)
@settings(max_examples=4, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), output=st.sampled_from(OUTPUTS))
def test_random_files_of_formula_kpis_are_written_alike(
        tmp_path: Path, name: str, data: st.DataObject,
        output: tuple[str, tuple[str, ...]]) -> None:
    """Random facts of the schemes whose KPIs are formulas (÷0 taking `otherwise`, quotients
    of every exponent) or lower is better, in JSON and the spreadsheet's CSVs: the same
    bytes; the query writes them (values and attainments rounded for display from the exact
    fraction, factors at their ideal exponents, capped at the curve's cap)."""
    scheme = RULESETS / f"{name}.kpi"
    header, table = scheme_rows(scheme)
    facts = write_facts(tmp_path / "f.csv", data.draw(table), header)
    plans = _plans(scheme, facts)  # None: DuckDB does not read the file itself
    assert plans is None or all(isinstance(p, lines.Plan) for p in plans.values())
    _same(scheme, facts, output[0], *output[1])


@pytest.mark.slow
@pytest.mark.parametrize("name", FORMULAS)
@settings(max_examples=15, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_more_random_files_of_formula_kpis_are_written_alike(
        tmp_path: Path, name: str, data: st.DataObject) -> None:
    scheme = RULESETS / f"{name}.kpi"
    header, table = scheme_rows(scheme)
    facts = write_facts(tmp_path / "f.csv", data.draw(table), header)
    for fmt, extra in OUTPUTS:
        _same(scheme, facts, fmt, *extra)


def test_a_formula_kpi_for_a_spreadsheet() -> None:
    """b2b_manager_raw's average check (revenue ÷ deals) and conversion (meetings ÷ calls)
    rounded for display, in Russian, from the query."""
    scheme = RULESETS / "b2b_manager_raw.kpi"
    ru = _same(scheme, scheme.with_suffix(".facts.csv"), "csv", "--lang", "ru").decode()
    assert ru.split("\r\n")[1] == (
        "ivanov;Иван Иванов;основной;;3300000,00;110%;26400,00;150000,00;100%;10000,00;1000;"
        "100%;10000,00;0,021;105%;12600,00;60000,00;59000,00;1800,00;120800,00")


def test_formula_factors_in_json(tmp_path: Path) -> None:
    """b2b_manager_raw in JSON from the query: the average check's factor is the attainment
    (revenue ÷ deals ÷ 150 000) at its ideal exponent, × 1.2 above plan, the cap's own
    digits past `cap 200%`, '0' below the cut-off and with no deals (`otherwise 0`)."""
    scheme = RULESETS / "b2b_manager_raw.kpi"
    facts = write_facts(tmp_path / "f.csv", [["a", "9000000", "20", "20", "1000"],
                                             ["b", "3300000.0", "20", "21", "1000"],
                                             ["c", "0", "0", "0", "0"],
                                             ["d", "2850000.000", "20", "19", "999"]],
                        "employee,revenue,deals,meetings,calls")
    plans = _plans(scheme, facts)
    assert plans is not None and isinstance(plans["json"], lines.Plan)
    out = [json.loads(line) for line in _same(scheme, facts, "jsonl").decode().splitlines()]
    check = [next(line for line in item["lines"] if line["kpi"] == "avg_check")
             for item in out]
    assert [(c["factor"], c["band"]) for c in check] == [
        ("2.00", "above 100%"), ("1.32", "above 100%"), ("0", "below 80%"),
        ("0.950", "from 80% through 100%")]
    assert out[1]["kpis"]["avg_check"] == {"value": "165000.0", "plan": "150000",
                                           "attainment": "1.1", "payout": "13200.00"}
