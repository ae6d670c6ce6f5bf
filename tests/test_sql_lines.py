"""`eval --engine duckdb --format csv`: the CSV lines written by the query, byte for byte the
Python engine's; the shown digits of a quotient decided by exact integer arithmetic in SQL
against the decimal module itself; rows and schemes the query cannot show exactly go to
the Python evaluator, with the reason."""

from __future__ import annotations

import decimal
import functools
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from b2b_facts import REASONS, ROWS, cell, native_run, random_facts, scheme_rows, write_facts
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.cli import main
from kpidsl.cli.render.model import flat_columns
from kpidsl.results import plain_text
from kpidsl.runtime import SHOWN
from kpidsl.sql import formula, lines
from kpidsl.sql.native import applicable

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
B2B = RULESETS / "b2b_manager.kpi"


def _eval(scheme: Path, facts: Path, engine: str, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["eval", str(scheme), str(facts), "--format", "csv",
                                       "--engine", engine, *extra], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _same(scheme: Path, facts: Path, tmp: Path, *extra: str, files: bool = True
          ) -> tuple[int, str, str]:
    """stdout, stderr and exit code of both engines, and the file each writes with -o."""
    python = _eval(scheme, facts, "python", *extra)
    duck = _eval(scheme, facts, "duckdb", *extra)
    assert duck == python
    assert "Traceback" not in duck[2]
    if not files:
        return duck
    written = []
    for engine in ("python", "duckdb"):
        out = tmp / f"out-{engine}.csv"
        out.unlink(missing_ok=True)
        code, stdout, stderr = _eval(scheme, facts, engine, "-o", str(out), *extra)
        written.append((code, stdout, stderr.replace(str(out), "OUT"), out.read_bytes()))
    assert written[0] == written[1]
    return duck


def _plan(scheme: Path, facts: Path) -> lines.Plan | str | None:
    """What the query writes for this file: a Plan, the reason it does not, or None when
    DuckDB does not read the file itself."""
    with native_run(scheme, facts) as (ruleset, native):
        if native is None:
            return None
        return lines.plan(native, [c.key for c in flat_columns(ruleset, native.extras,
                                                               detailed=True)])


# ---------------------------------------------------------------- the quotient's digits


@functools.cache
def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory database for the quotient tests' examples (a new one costs ~70 ms)."""
    return duckdb.connect()


def _sql_texts(pairs: list[tuple[int, int, int]], d: int, bound: int = lines.HUGE
               ) -> list[str]:
    """quotient_text over rows (a, ideal) with the constant d, in DuckDB (in 64 bits when
    every |a| is within `bound` and d leaves room)."""
    builder = lines._Builder.__new__(lines._Builder)
    builder.appended, builder.layers, builder.flags, builder.n = [], [[] for _ in range(12)], [], 0
    figure = lines.quotient_text(builder, "a", d, "ideal", bound)
    if figure is None:
        assert d * 10**4 >= lines.HUGE
        return [None] * len(pairs)
    inner = "SELECT a, ideal, i FROM t"
    for layer in (layer for layer in builder.layers if layer):
        inner = f"SELECT *, {', '.join(layer)} FROM ({inner})"
    con = _connection()
    con.execute("CREATE OR REPLACE TABLE t (i INTEGER, a HUGEINT, ideal INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)",
                    [(i, str(a), e) for i, (a, e, _x) in enumerate(pairs)])
    rows = con.execute(f"SELECT {figure.text}, {figure.flags[0]} FROM ({inner}) ORDER BY i"
                       ).fetchall()
    return [None if unsure else text for text, unsure in rows]


def _column_texts(rows: list[tuple[int, int, int]], dbound: int) -> list[str | None]:
    """quotient_text over rows (a, d, ideal) whose divisor d is a column of the row."""
    builder = lines._Builder.__new__(lines._Builder)
    builder.appended, builder.layers, builder.flags, builder.n = [], [[] for _ in range(12)], [], 0
    figure = lines.quotient_text(builder, "a", "d", "ideal", lines.HUGE, dbound)
    assert figure is not None
    inner = "SELECT a, d, ideal, i FROM t"
    for layer in (layer for layer in builder.layers if layer):
        inner = f"SELECT *, {', '.join(layer)} FROM ({inner})"
    con = _connection()
    con.execute("CREATE OR REPLACE TABLE t (i INTEGER, a HUGEINT, d HUGEINT, ideal INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                    [(i, str(a), str(d), e) for i, (a, d, e) in enumerate(rows)])
    flags = " OR ".join(figure.flags)
    found = con.execute(f"SELECT {figure.text}, {flags} FROM ({inner}) ORDER BY i").fetchall()
    return [None if unsure else text for text, unsure in found]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.integers(-10**24, 10**24), st.integers(1, 10**21),
                               st.integers(-12, 6)), min_size=1, max_size=30),
       dbound=st.sampled_from([10**12, 10**18, 10**24]))
def test_quotient_digits_by_a_divisor_of_the_row(rows: list[tuple[int, int, int]],
                                                 dbound: int) -> None:
    """A formula's quotient (revenue ÷ deals): the divisor differs row by row; every shown
    digit against the decimal module, exact quotients at their ideal exponent, ties at the
    35th digit, zeros; a divisor past the limit, and a quotient below 0.01, are flagged to
    the Python evaluator."""
    rows = [(a, min(d, dbound), e) for a, d, e in rows]
    rows += [(2 * 10**34 + 1, 2, 0), (2 * 10**34 + 3, 2, -3), (10**35 - 1, 10, 0),
             (0, 7, -2), (0, 3, 2), (3_300_000, 22, 0), (-150_000 * 7, 7, -1), (1, 3, 0)]
    for (a, d, ideal), text in zip(rows, _column_texts(rows, dbound), strict=True):
        value = Fraction(a, d)
        if text is None:
            assert abs(value) < Fraction(1, 100) or d > lines.DIVISOR_LIMIT
            continue
        assert text == formula.decimal_text(value, ideal), (a, d, ideal)


WIDE = decimal.Context(prec=200)  # operands made exactly (scaleb rounds to its context)


def _python_text(n: int, en: int, d: int, ed: int) -> str:
    with decimal.localcontext(SHOWN):
        value = Decimal(n).scaleb(en, WIDE) / Decimal(d).scaleb(ed, WIDE)
    text = plain_text(value)
    assert text is not None
    return text


def _case(n: int, en: int, d: int, ed: int) -> tuple[int, int, int]:
    """(a, ideal, d') with a ÷ d' = n·10**en ÷ (d·10**ed): the query's operands."""
    shift = en - ed
    return (n * 10 ** shift, en - ed, d) if shift >= 0 else (n, en - ed, d * 10 ** -shift)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d=st.integers(1, 10**12), ed=st.integers(-6, 2), en=st.integers(-8, 0),
       ns=st.lists(st.integers(-10**18, 10**18), min_size=1, max_size=30))
def test_quotient_digits_are_the_decimal_modules(d: int, ed: int, en: int,
                                                 ns: list[int]) -> None:
    """Every shown digit of n·10**en ÷ d·10**ed, exact or not, against Decimal in SHOWN:
    34 significant digits half even, or the exact quotient at its ideal exponent."""
    ns = [*ns, 0, d, 2 * d, d * 10**5, -d * 7]  # exact quotients, trailing zeros, zero
    cases = [_case(n, en, d, ed) for n in ns]
    divisor = {c[2] for c in cases}
    for denominator in divisor:
        these = [(a, ideal, n) for (a, ideal, dd), n in zip(cases, ns, strict=True)
                 if dd == denominator]
        texts = _sql_texts(these, denominator)
        for (_a, _ideal, n), text in zip(these, texts, strict=True):
            if text is None:  # below 0.01: the Python evaluator writes it
                assert abs(_fraction_of(n, en, d, ed)) < Decimal("0.01") or \
                    denominator * 10**4 >= lines.HUGE
                continue
            assert text == _python_text(n, en, d, ed), (n, en, d, ed)


def _fraction_of(n: int, en: int, d: int, ed: int) -> Decimal:
    with decimal.localcontext(SHOWN):
        return Decimal(n).scaleb(en, WIDE) / Decimal(d).scaleb(ed, WIDE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d=st.integers(1, 10**13), en=st.integers(-8, 2),
       ratios=st.lists(st.fractions(Fraction(1, 10), Fraction(10)), min_size=1, max_size=30),
       exact=st.lists(st.integers(1, 99), max_size=10))
def test_usual_quotients_in_64_bits(d: int, en: int, ratios: list[Fraction],
                                    exact: list[int]) -> None:
    """Attainments as they come (0.1 to 10, the integer path), exact ones among them with
    trailing zeros to trim down to the ideal exponent, in 64 bits as the engine runs them."""
    scale = Fraction(10) ** -en  # n·10**en ÷ d is the ratio
    ns = [int(r * d * scale) for r in ratios] + [int(d * k * scale) // 10 for k in exact] + [
        int(d * scale), int(10 * d * scale) - 1]
    ns = [n for n in ns if 0 < abs(n) < 10**18]
    cases = [_case(n, en, d, 0) for n in ns]
    by_divisor: dict[int, list[tuple[int, int, int]]] = {}
    for (a, ideal, dd), n in zip(cases, ns, strict=True):
        by_divisor.setdefault(dd, []).append((a, ideal, n))
    for dd, these in by_divisor.items():
        bound = max(abs(a) for a, _i, _n in these)
        for (_a, _ideal, n), text in zip(these, _sql_texts(these, dd, bound), strict=True):
            if text is None:  # below 0.01 (a ratio cut to an integer numerator)
                assert abs(_fraction_of(n, en, d, 0)) < Decimal("0.01")
                continue
            assert text == _python_text(n, en, d, 0), (n, en, d)


@pytest.mark.parametrize(("n", "d"), [
    (2 * 10**34 + 1, 2),  # a tie at the 35th digit: half even keeps ...0
    (2 * 10**34 + 3, 2),  # ...1 and a half: up to ...2
    (10**35 - 1, 10),  # 9 999…9.9: rounds up to a new power of ten (1.000…0E+34)
    (10**34 - 1, 10**34),  # 0.999…9 exact, 34 digits
    (10**35 - 1, 10**35),  # 35 nines: rounds to 1.000…0 (34 digits kept)
    (1, 3), (2, 3), (-2, 3), (1, 7), (5, 10**17), (1, 10**16),
    (12_345, 100), (123_450, 1000), (19_800, 3), (3_300_000, 3_000_000),
])
def test_quotient_ties_and_powers_of_ten(n: int, d: int) -> None:
    for ideal in (-4, 0, 2):
        a, ideal2, d2 = _case(n, ideal, d, 0)
        text = _sql_texts([(a, ideal2, 0)], d2)[0]
        expected = _python_text(n, ideal, d, 0)
        assert text == expected or (text is None and (
            abs(_fraction_of(n, ideal, d, 0)) < Decimal("0.01") or d2 * 10**4 >= lines.HUGE))


# ---------------------------------------------------------------- whole files


def test_the_reference_scheme_is_written_by_the_query(tmp_path: Path) -> None:
    facts = B2B.with_suffix(".facts.csv")
    assert isinstance(_plan(B2B, facts), lines.Plan)
    code, out, err = _same(B2B, facts, tmp_path)
    assert code == 0
    assert out.splitlines()[1] == ("ivanov,Иван Иванов,base,,3300000,1.1,26400.00,142500,0.95,"
                                   "9500.00,0.021,1.05,12600.00,950,0.95,9500.00,60000.00,"
                                   "58000.00,1800.00,119800.00")
    assert "1.366666666666666666666666666666667" in out  # 4 100 000 ÷ 3 000 000
    assert err.endswith("8 rows read, 8 evaluated, 0 failed\n")


@pytest.mark.parametrize("scheme", sorted(RULESETS.glob("*.kpi")), ids=lambda p: p.stem)
def test_every_bundled_scheme_is_written_alike_or_says_why_not(scheme: Path,
                                                               tmp_path: Path) -> None:
    """Every bundled scheme with its facts: the same bytes from both engines; the query
    writes the lines where it can show every figure exactly, and says why elsewhere."""
    facts = scheme.with_suffix(".facts.csv")
    plan = _plan(scheme, facts)
    if applicable(kpidsl.load(scheme)):
        expected = REASONS[scheme.stem]
        assert (plan if isinstance(plan, str) else None) == expected
        if expected is None:
            assert isinstance(plan, lines.Plan)
    else:
        assert plan is None  # teams, grades or budgets: DuckDB does not read the file
    _same(scheme, facts, tmp_path)


def _random_file(tmp_path: Path, rows: list[tuple[str, ...]], team: bool) -> Path:
    facts = random_facts(tmp_path, rows, team)
    plan = _plan(B2B, facts)
    assert plan is None or isinstance(plan, lines.Plan)  # DuckDB reads it: the query writes
    return facts


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(rows=ROWS, team=st.booleans())
def test_random_files_are_written_alike(tmp_path: Path, rows: list[tuple[str, ...]],
                                        team: bool) -> None:
    """Random facts of the reference scheme (hostile names, cells at the rounding
    boundaries, trailing zeros, percents in both readings): the same stdout, stderr and
    exit code from both engines."""
    _same(B2B, _random_file(tmp_path, rows, team), tmp_path, files=False)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=ROWS, team=st.booleans())
def test_more_random_files_are_written_alike(tmp_path: Path, rows: list[tuple[str, ...]],
                                             team: bool) -> None:
    """As above, with the output files written by -o compared too."""
    _same(B2B, _random_file(tmp_path, rows, team), tmp_path)


def test_flagged_rows_keep_their_place(tmp_path: Path) -> None:
    """Rows the query does not write go through the Python evaluator, in file order: a team
    cell with a tab (Python strips every kind of space), a negative revenue whose line
    rounds to -0.00 (a negative zero in Python); rows read = evaluated + failed."""
    scheme = tmp_path / "s.kpi"
    scheme.write_text("scheme s\n fact revenue money\n fact calls count\n"
                      "curve c\n  below 500% pays attainment\n"
                      "kpi revenue plan 3_000_000\n"
                      "kpi calls plan 7\n"
                      "pay bonus pool 1000 RUB\n  for revenue weight 50% curve c\n"
                      "  for calls weight 50% curve c\n", encoding="utf-8")
    rng = random.Random(5)
    rows = [[f"e{i}", "-1" if i == 4 else f"{rng.randrange(0, 10**7)}.{rng.randrange(100):02d}",
             str(rng.randrange(0, 20)), '"a\tb"' if i == 7 else "t1"]
            for i in range(60)]
    facts = write_facts(tmp_path / "f.csv", rows, "employee,revenue,calls,team")
    assert isinstance(_plan(scheme, facts), lines.Plan)
    code, out, err = _same(scheme, facts, tmp_path)
    assert code == 0 and "60 rows read, 60 evaluated, 0 failed" in err
    assert "e4,base,,-1,-3.333333333333333333333333333333333E-7" not in out
    assert out.count("\n") == 61
    assert "-0.00" in out  # the line of e4, written by the Python evaluator


@pytest.mark.slow
def test_a_large_random_file_is_written_alike(tmp_path: Path) -> None:
    rng = random.Random(17)
    rows = [[f"m{i}", rng.choice(["Иван Петров", "Ann, Lee", 'say "hi"', " spaced "]),
             f"{rng.randrange(180_000_000, 420_000_001) / 100:.2f}",
             str(rng.randrange(90_000, 210_001)),
             f"{rng.randrange(120, 281) / 100:.2f}%", str(rng.randrange(600, 1401))]
            for i in range(60_000)]
    facts = write_facts(tmp_path / "big.csv", [[r[0], cell(r[1]), *r[2:]] for r in rows])
    assert isinstance(_plan(B2B, facts), lines.Plan)
    code, _out, err = _same(B2B, facts, tmp_path)
    assert code == 0 and "60000 evaluated" in err


@pytest.mark.parametrize("name", ["b2b_manager_raw", "infobiz_manager", "long_cycle_b2b"])
@settings(max_examples=5, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_files_of_formula_kpis_are_written_alike(tmp_path: Path, name: str,
                                                        data: st.DataObject) -> None:
    """Random facts of the schemes whose KPIs are formulas (revenue ÷ deals otherwise 0, a
    zero divisor, quotients of every exponent, blanks) or lower is better: the query writes
    the CSV, the same bytes as the Python engine's."""
    scheme = RULESETS / f"{name}.kpi"
    header, table = scheme_rows(scheme)
    facts = write_facts(tmp_path / "f.csv", data.draw(table), header)
    plan = _plan(scheme, facts)
    assert plan is None or isinstance(plan, lines.Plan)
    _same(scheme, facts, tmp_path, files=False)


def test_formula_kpis_in_the_csv(tmp_path: Path) -> None:
    """The average check 3 300 000 ÷ 22 = 150 000 exactly (its attainment 1), 2 397 000 ÷ 17
    to 34 digits, no deals: `otherwise 0`; a cycle of 172 days is 2 − 172/180 of plan."""
    raw = RULESETS / "b2b_manager_raw.kpi"
    facts = write_facts(tmp_path / "f.csv", [["a", "x", "3300000", "22", "21", "1000"],
                                             ["b", "y", "2397000", "17", "0", "801"],
                                             ["c", "z", "0", "0", "0", "0"]],
                        "employee,name,revenue,deals,meetings,calls")
    assert isinstance(_plan(raw, facts), lines.Plan)
    out = _same(raw, facts, tmp_path)[1].splitlines()
    assert out[1].startswith("a,x,base,,3300000,1.1,26400.00,150000,1,10000.00,")
    assert ",141000,0.94,9400.00," in out[2]
    assert out[3].startswith("c,z,base,,0,0,0.00,0,0,0.00,0,0,0.00,0.00,0,0.00,")
    cycle = RULESETS / "long_cycle_b2b.kpi"
    out = _same(cycle, cycle.with_suffix(".facts.csv"), tmp_path)[1].splitlines()
    assert ",172,1.044444444444444444444444444444444,21600.00," in out[1]
