"""Each construct of the language evaluated on a hand-computed case."""

from __future__ import annotations

from decimal import Decimal

import pytest

import kpidsl

HEAD = 'scheme t "T"\n  currency RUB\n'


FACTS = {"a": "1234.5678", "b": "0", "n": "3"}


@pytest.mark.parametrize(("formula", "expected"), [
    ("round(a, 0.01, half up)", "1234.57"),
    ("round(a, 100, half up)", "1200"),
    ("round(a, 1000, up)", "2000"),
    ("round(a, 0.05, half even)", "1234.55"),
    ("round(a, 0.10, half up)", "1234.6"),
    ("round(a, 1, floor)", "1234"),
    ("round(-a, 1, ceiling)", "-1234"),
    ("round(a, 1, down)", "1234"),
    ("min(a, 1000 RUB, 5000 RUB)", "1000"),
    ("max(a, 2000 RUB)", "2000"),
    ("abs(b - a)", "1234.5678"),
    ("if a > 1000 RUB and not b > 0 RUB then a else b", "1234.5678"),
    ("if a >= 2000 RUB or n = 0 then a else 7 RUB", "7"),
    ("a / (n - 3) otherwise 5 RUB", "5"),
    ("a / 3", "411.5226"),
    ("-(a - 1234 RUB) × 2", "-1.1356"),
    ("a × 10% + 1 RUB", "124.45678"),
])
def test_expressions(formula: str, expected: str) -> None:
    text = HEAD + f"fact a money\nfact b money\nfact n count\nkpi x = {formula}\npay p = x\n"
    diagnostics = [d for d in kpidsl.check(text) if d.is_error]
    assert diagnostics == []
    result = kpidsl.loads(text).evaluate(FACTS)
    assert result.kpis["x"].value == Decimal(expected)


CURVE = "curve c\n  from 0% pays attainment\n  cap 300%\n"


def test_lower_is_better_default_formula() -> None:
    scheme = kpidsl.loads(HEAD + "fact response minutes\n" + CURVE +
                          "kpi response plan 15 lower is better\n"
                          'pay b "B" pool 10_000 RUB\n  for response weight 100% curve c\n')
    cases = {"15": "1", "16.5": "0.9", "7.5": "1.5", "0": "2", "45": "0"}
    for fact, attainment in cases.items():
        result = scheme.evaluate({"response": fact})
        assert result.kpis["response"].attainment == Decimal(attainment), fact


def test_custom_attainment_formula() -> None:
    scheme = kpidsl.loads(
        HEAD + "fact cycle days\n" + CURVE +
        "kpi cycle plan 75 lower is better attainment = plan of cycle / cycle otherwise 200%\n"
        'pay b "B" pool 10_000 RUB\n  for cycle weight 100% curve c\n')
    assert scheme.evaluate({"cycle": "90"}).kpis["cycle"].attainment == Decimal(
        "0.8333333333333333333333333333333333")  # 34 digits: the declared decimal context
    assert scheme.evaluate({"cycle": "0"}).kpis["cycle"].attainment == Decimal(2)


def test_plans_by_month() -> None:
    scheme = kpidsl.loads(HEAD + "fact revenue money\n" + CURVE +
                          "kpi revenue plan 100 RUB by month jan 125 RUB, sep 200 RUB\n"
                          'pay b "B" pool 1000 RUB\n  for revenue weight 100% curve c\n')
    facts = {"revenue": "100"}
    assert scheme.evaluate(facts).kpis["revenue"].plan == Decimal(100)
    assert scheme.evaluate(facts, month=1).total == Decimal("800.00")
    assert scheme.evaluate(facts, month=9).total == Decimal("500.00")
    assert scheme.evaluate(facts, month=7).total == Decimal("1000.00")


def test_declared_rounding_of_attainment_and_payouts() -> None:
    scheme = kpidsl.loads(
        'scheme t "T"\n  currency RUB\n  round payouts to 1 half even\n'
        "  round attainment to 0.1% half up\n"
        "fact revenue money\n" + CURVE +
        "kpi revenue plan 3 RUB\n"
        'pay b "B" pool 1001 RUB\n  for revenue weight 100% curve c\n')
    result = scheme.evaluate({"revenue": "2"})  # 66.666…% → 66.7 %
    assert result.kpis["revenue"].attainment == Decimal("0.667")
    assert result.total == Decimal("668")  # 1001 × 0.667 = 667.667 → 668


def test_per_event_amounts() -> None:
    scheme = kpidsl.loads(HEAD + "fact pilots count\nfact contracts count\n"
                          'pay milestones "Milestones" = pilots × 15_000 RUB '
                          "+ contracts × 40_000 RUB\n")
    assert scheme.evaluate({"pilots": 2, "contracts": 1}).total == Decimal("70000.00")


def test_optional_facts_take_their_missing_value() -> None:
    scheme = kpidsl.loads(HEAD + "fact bonus_days count if missing 0\n"
                          "pay extra = bonus_days × 1_000 RUB\n")
    assert scheme.evaluate({}).total == Decimal("0.00")
    assert scheme.evaluate({"bonus_days": ""}).total == Decimal("0.00")
    assert scheme.evaluate({"bonus_days": "2"}).total == Decimal("2000.00")


def test_amount_shares_without_pool() -> None:
    scheme = kpidsl.loads(HEAD + "fact revenue money\n" + CURVE +
                          "kpi revenue plan 100 RUB\n"
                          'pay b "B"\n  for revenue amount 20_000 RUB curve c\n')
    assert scheme.evaluate({"revenue": "110"}).total == Decimal("22000.00")
