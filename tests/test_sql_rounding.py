"""Rounding in SQL by one integer division (kpidsl/sql/generate.py, `round_by_constant`):
every mode, both signs, ties, and values on both sides of the 64-bit fast path, against an
exact Fraction oracle; up to the 38-digit bound, and refused (KPI950) past it."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import pytest

import kpidsl
from kpidsl.diagnostics import KpiError

MODES = {"half up": decimal.ROUND_HALF_UP, "half even": decimal.ROUND_HALF_EVEN,
         "half down": decimal.ROUND_HALF_DOWN, "up": decimal.ROUND_UP,
         "down": decimal.ROUND_DOWN, "ceiling": decimal.ROUND_CEILING,
         "floor": decimal.ROUND_FLOOR}

# ÷ 8 puts ties on half a kopeck (0.04 ÷ 8 = 0.005); × 7 ÷ 3 and × 700 take |n| past 2**63
# for the large facts (the HUGEINT branch) and keep it below for the small ones.
SCHEME = """scheme s
  round payouts to 0.01 {mode}
fact a money
fact b money
pay eighth = a ÷ 8
pay third = a × 7 ÷ 3
pay big = a × 700 + b ÷ 3
"""

VALUES = ["0.04", "0.12", "0.2", "0.28", "1.000008", "2.5", "13176245.766", "13176245766.6",
          "13176245766.609375", "99999999999.999996", "999999999999.999999",
          "999999999999.96", "123456789012.345678"]


def _oracle(value: Fraction, mode: str) -> Decimal:
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal("0.01"), rounding=MODES[mode])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_rounds_exactly_on_both_sides_of_64_bits(mode: str) -> None:
    ruleset = kpidsl.loads(SCHEME.format(mode=mode))
    sql = ruleset.to_sql("duckdb")
    assert "AS BIGINT) // " in sql  # the 64-bit division, beside the 128-bit one
    rows = []
    for i, text in enumerate(VALUES):
        for sign in (1, -1):
            a = Decimal(text) * sign
            rows.append({"employee": f"e{i}{'n' if sign < 0 else 'p'}", "a": a,
                         "b": Decimal("0.000001") * sign * (i + 1)})
    duck = {r.employee: r.components for r in ruleset.evaluate_many(rows, engine="duckdb")}
    assert len(duck) == len(rows)
    for row in rows:
        a, b = Fraction(row["a"]), Fraction(row["b"])
        expected = {"eighth": _oracle(a / 8, mode), "third": _oracle(a * 7 / 3, mode),
                    "big": _oracle(a * 700 + b / 3, mode)}
        assert duck[row["employee"]] == expected, row


def test_ties_and_signs_match_the_python_engine() -> None:
    for mode in MODES:
        ruleset = kpidsl.loads(SCHEME.format(mode=mode))
        rows = [{"employee": f"e{i}", "a": Decimal(v) * s, "b": Decimal(i)}
                for i, v in enumerate(["0.04", "0.12", "0.2", "2.5", "1000.04"])
                for s in (1, -1)]
        rows = [dict(r, employee=f"{r['employee']}{n}") for n, r in enumerate(rows)]
        python = [(r.employee, r.components) for r in ruleset.evaluate_many(rows)]
        duck = [(r.employee, r.components) for r in ruleset.evaluate_many(rows, engine="duckdb")]
        assert duck == python, mode


# A fact of up to 10**18 units of 10**-6 times 9 × 3**35 (4.5 × 10**17, nothing to cancel
# against 10**6), in kopecks: |n| can reach 4.5 × 10**37 and 2|n| + d just fits 38 digits;
# with 11 × 3**35 it would not, and the scheme is refused (the floor-and-remainder chain
# needs as many digits: |n − q·d| ≤ 2|n| + d).
NEAR = """scheme s
fact a money
pay p = a × 450_283_905_890_997_363
"""


def test_near_the_38_digit_bound_one_division_is_exact() -> None:
    ruleset = kpidsl.loads(NEAR)
    assert "__m" in ruleset.to_sql("duckdb")
    rows = [{"employee": "x", "a": Decimal("999999999999.999999")},
            {"employee": "y", "a": Decimal("-999999999999.999999")},
            {"employee": "z", "a": Decimal("-0.000001")},
            {"employee": "w", "a": Decimal("123.456789")}]
    duck = {r.employee: r.components["p"] for r in ruleset.evaluate_many(rows, engine="duckdb")}
    for row in rows:
        exact = Fraction(row["a"]) * 450_283_905_890_997_363
        assert duck[row["employee"]] == _oracle(exact, "half up")


def test_past_the_38_digit_bound_the_scheme_is_refused() -> None:
    ruleset = kpidsl.loads(NEAR.replace("450_283_905_890_997_363", "550_346_996_088_996_777"))
    with pytest.raises(KpiError) as caught:
        ruleset.to_sql("duckdb")
    d = caught.value.diagnostics[0]
    assert d.code == "KPI950"
    assert "'a × 550_346_996_088_996_777'" in d.message
    assert d.line == 3
