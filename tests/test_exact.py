"""Money is exact: every pay line, payment and total equals exact rational arithmetic
rounded once where the scheme says (docs/language.md, "Exact arithmetic").

The oracle (tests/fuzz/oracle.py, `exact_pay`) reads the scheme again over
`fractions.Fraction`; the tie corpus (tests/fuzz/schemes.py, `tie_case`) builds schemes with
plans divisible by 3, 7 and 9, weights like 18 % and 4/3 accelerators, and facts whose lines
land exactly on half a kopeck. The default suite runs a slice; `--runslow` runs over a
million lines."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from fuzz.oracle import exact_pay, round_exact
from fuzz.schemes import tie_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.diagnostics import KpiError

ISSUE_SCHEME = """\
scheme ties "A tie"
  currency RUB
  period month

fact revenue money "Revenue"
fact calls count "Calls"

curve standard "From 80 %"
  below 80% pays 0
  from 80% pays attainment

kpi revenue "Revenue"
  plan 3_000_000 RUB
kpi calls "Calls"
  plan 100

pay bonus "Bonus" pool 50_000 RUB
  for revenue weight 18% curve standard
  for calls weight 82% curve standard
"""


def test_a_line_on_half_a_kopeck_rounds_half_up() -> None:
    """9 000 × 3 113 875 / 3 000 000 = 9 341.625 exactly: half up pays 9 341.63 (34-digit
    arithmetic made it 9 341.624999… and paid 9 341.62)."""
    scheme = kpidsl.loads(ISSUE_SCHEME)
    result = scheme.evaluate({"revenue": "3113875", "calls": 0})
    assert result.total == Decimal("9341.63")
    assert result.lines[0].amount == Decimal("9341.63")


@pytest.mark.parametrize(("mode", "paid"), [
    ("half up", "9341.63"), ("half even", "9341.62"), ("half down", "9341.62"),
    ("up", "9341.63"), ("down", "9341.62"), ("ceiling", "9341.63"), ("floor", "9341.62")])
def test_every_mode_rounds_the_exact_tie(mode: str, paid: str) -> None:
    text = ISSUE_SCHEME.replace("period month", f"period month\n  round payouts to 0.01 {mode}")
    assert kpidsl.loads(text).evaluate({"revenue": "3113875", "calls": 0}).total == \
        Decimal(paid)


def test_an_exact_boundary_reached_through_a_third_is_the_boundary() -> None:
    """sales / 3 × 3 is the plan exactly (34 digits made it 999 999.999…, 99.999… %, and
    paid nothing): 100 % reaches the band that starts at 100 %."""
    text = ISSUE_SCHEME.replace("  below 80% pays 0\n  from 80% pays attainment",
                                "  below 100% pays 0\n  from 100% pays attainment")
    text = text.replace('kpi revenue "Revenue"', 'kpi revenue "Revenue" = sales / 3 × 3')
    text = text.replace('fact revenue money "Revenue"', 'fact sales money "Sales"')
    text = text.replace("plan 3_000_000 RUB", "plan 1_000_000 RUB")
    result = kpidsl.loads(text).evaluate({"sales": "1000000", "calls": 0})
    assert (result.lines[0].band, result.total) == (2, Decimal("9000.00"))


def test_the_oracle_rounds_once() -> None:
    assert round_exact(Fraction(9341625, 1000), Fraction(1, 100), "half up") == \
        Fraction(934163, 100)
    assert round_exact(Fraction(-5, 2), Fraction(1), "half even") == -2
    assert round_exact(Fraction(-5, 2), Fraction(1), "half up") == -3
    assert round_exact(Fraction(7, 3), Fraction(1, 20), "floor") == Fraction(23, 10)
    assert round_exact(Fraction(-7, 3), Fraction(1, 20), "down") == Fraction(-23, 10)
    assert exact_pay(kpidsl.loads(ISSUE_SCHEME),
                     {"revenue": Decimal(3113875), "calls": Decimal(0)}).total == \
        Fraction(934163, 100)


def agree(seed: int, count: int) -> tuple[int, int]:
    """Evaluate `count` employees of `tie_case(seed)`; every line, payment and total must be
    the oracle's. Returns (lines compared, lines exactly on half a step before rounding)."""
    text, rows = tie_case(seed, count)
    scheme = kpidsl.loads(text)
    step = Fraction(scheme.checked.payout_step)
    lines = ties = 0
    for facts in rows:
        values = {k: Decimal(v) for k, v in facts.items()}
        try:
            result = scheme.evaluate(values)
        except KpiError as exc:  # a zero plan or calls: the oracle must fail too
            with pytest.raises(ZeroDivisionError):
                exact_pay(scheme, values)
            assert exc.diagnostics[0].code == "KPI901"
            continue
        expected = exact_pay(scheme, values)
        assert {(line.payment, line.kpi): Fraction(line.amount) for line in result.lines} == \
            expected.lines, (seed, facts)
        assert {k: Fraction(v) for k, v in result.components.items()} == expected.components, \
            (seed, facts)
        assert Fraction(result.total) == expected.total, (seed, facts)
        lines += len(expected.lines) + 1
        raw = _revenue_line(scheme, values)
        if raw is not None and (raw / step - Fraction(1, 2)).denominator == 1:
            ties += 1
    return lines, ties


def _revenue_line(scheme: kpidsl.Ruleset, values: dict[str, Decimal]) -> Fraction | None:
    """The revenue line before rounding, over fractions (None when not on 'pays attainment')."""
    from fuzz.oracle import ExactOracle

    variant = scheme.checked.base
    oracle = ExactOracle(scheme.checked, variant, {k: Fraction(v) for k, v in values.items()})
    pay = variant.pays["bonus"]
    item = pay.items[0]
    attainment = oracle.kpi("revenue")[2]
    factor, _band = oracle.curve(variant.curves[item.curve or ""], attainment)
    if attainment is None or factor != attainment:
        return None
    return oracle.expr(item.weight) * oracle.expr(pay.pool) * factor  # type: ignore[arg-type]


def test_the_tie_corpus_agrees_to_the_kopeck() -> None:
    """Fixed seeds: the corpus really holds ties (a line exactly on half a step)."""
    lines = ties = 0
    for seed in range(40):
        done, tied = agree(seed, 30)
        lines, ties = lines + done, ties + tied
    assert lines > 3000
    assert ties >= 60, ties


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**32))
def test_random_schemes_and_facts_agree_with_the_oracle(seed: int) -> None:
    agree(seed, 12)


@pytest.mark.slow
def test_a_million_lines_agree_with_the_oracle() -> None:
    lines = ties = 0
    seed = 1000
    while lines < 1_000_000:
        done, tied = agree(seed, 500)
        lines, ties = lines + done, ties + tied
        seed += 1
    assert ties > 10_000
