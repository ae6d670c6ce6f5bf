"""The checker catches what would silently pay wrong: each case with its exact message, and
the amounts the schemes pay once they say what they mean."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl

ROOT = Path(__file__).parent.parent
HEADER = 'scheme s "S"\n  currency RUB\n  period month\n'


def found(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in kpidsl.check(text)]


def test_a_misspelt_name_hides_neither_the_weight_sum_nor_other_misspelt_names() -> None:
    text = (ROOT / "tests/fixtures/checks/every_problem.kpi").read_text(encoding="utf-8")
    assert found(text) == [
        ("KPI101", "unknown name 'revenu' in KPI avg_check"),
        ("KPI301", "the weights in 'bonus' add up to 110%, not 100%"),
        ("KPI101", "unknown KPI 'calsl' in payment 'bonus'"),
        ("KPI101", "unknown curve 'standrd'"),
    ]


CURVE = ("curve standard\n  below 80% pays 0\n  from 80% through 100% pays attainment\n"
         "  above 100% pays attainment × 1.2\n")
POOL = ("fact revenue money\nkpi revenue plan 3_000_000 RUB\n"
        "pay bonus pool 50_000 RUB\n  for revenue weight 100% curve standard\n")


def test_an_accelerator_without_a_cap_is_warned_about_unless_declared_uncapped() -> None:
    assert found(HEADER + CURVE + POOL) == [
        ("KPI405", "curve 'standard' accelerates above 100% with no cap")]
    assert found(HEADER + CURVE + "  uncapped\n" + POOL) == []
    assert found(HEADER + CURVE + "  cap 200%\n  uncapped\n" + POOL) == [
        ("KPI411", "curve 'standard' has a cap and is declared 'uncapped'")]


def test_uncapped_survives_fmt() -> None:
    from kpidsl.formatter import format_source

    text = HEADER + CURVE + "  uncapped\n" + POOL
    once = format_source(text)
    assert "\n  uncapped\n" in once and format_source(once) == once


def test_the_reference_scheme_follows_the_method_no_ceiling_on_the_accelerator() -> None:
    """'The bonus may exceed the maximum with accelerators; that is normal.'"""
    path = ROOT / "rulesets/b2b_manager.kpi"
    assert kpidsl.check(path.read_text(encoding="utf-8"), str(path)) == []  # clean --strict
    ruleset = kpidsl.load(path)
    at_plan = {"avg_check": Decimal(150_000), "conversion": Decimal("0.02"),
               "calls": Decimal(1000)}
    result = ruleset.evaluate({"revenue": Decimal(6_000_000), **at_plan})
    assert result.total == Decimal("156000.00")
    assert result.components == {"salary": Decimal("60000.00"), "bonus": Decimal("78000.00"),
                                 "commission": Decimal("18000.00")}
    ivanov = ruleset.evaluate({"revenue": Decimal(3_300_000), "avg_check": Decimal(142_500),
                               "conversion": Decimal("0.021"), "calls": Decimal(950)})
    assert ivanov.total == Decimal("119800.00")


def test_tiers_in_money_on_an_attainment_and_percent_bands_on_money_are_errors() -> None:
    text = (ROOT / "tests/fixtures/checks/tiers_units.kpi").read_text(encoding="utf-8")
    assert found(text) == [
        ("KPI409", "curve 'mixed' has bounds in money (RUB) and in percent"),
        ("KPI409", "curve 'by_amount' is bounded in money (RUB), but 'revenue' in 'bonus' "
                   "applies it to an attainment (a percentage of plan)"),
        ("KPI409", "curve 'by_attainment' is bounded in percent, but payment commission "
                   "applies it to money (RUB)"),
    ]


def test_money_tiers_applied_to_money_pay_the_tier_reached() -> None:
    """Applied to the amount, whole-rate tiers pay 3 300 000 × 2.5 % = 82 500 (on the pool
    line the same tiers read 110 % as 1.10 RUB and paid the lowest rate on it)."""
    ruleset = kpidsl.loads(HEADER + (
        "fact revenue money\n"
        "curve volume\n  tiers whole\n    from 0 RUB to 3_000_000 RUB rate 1%\n"
        "    from 3_000_000 RUB rate 2.5%\n"
        "pay commission = volume(revenue)\n"))
    assert ruleset.evaluate({"revenue": Decimal(3_300_000)}).total == Decimal("82500.00")


def test_a_closed_top_band_warns_with_the_attainment_where_pay_drops() -> None:
    text = HEADER + (
        "fact revenue money\nkpi revenue plan 3_000_000 RUB\n"
        "curve stops\n  below 80% pays 0\n  from 80% to 105% pays attainment\n"
        "  from 105% through 110% pays attainment × 1.2\n  cap 130%\n"
        "pay bonus pool 50_000 RUB\n  for revenue weight 100% curve stops\n")
    [d] = kpidsl.check(text)
    assert (d.code, d.line, d.message, d.hint) == (
        "KPI410", 9, "curve 'stops' pays 0 above 110%: its top band (from 105% through 110%) "
        "is closed, so attainment above 110% falls in no band",
        "add a band for what lies beyond (above 110% pays ...), or leave the top band open")
    ruleset = kpidsl.loads(text)  # what the warning is about: 111 % pays nothing
    assert ruleset.evaluate({"revenue": Decimal(3_330_000)}).total == Decimal("0.00")
    assert ruleset.evaluate({"revenue": Decimal(3_300_000)}).total == Decimal("65000.00")  # capped
    covered = text.replace("through 110% pays attainment × 1.2\n",
                           "through 110% pays attainment × 1.2\n  above 110% pays 132%\n")
    assert kpidsl.check(covered) == []
    zero_top = text.replace("pays attainment × 1.2", "pays 0")
    assert [d.code for d in kpidsl.check(zero_top)] == ["KPI404"]


@pytest.mark.parametrize(("name", "other", "message"), [
    ("rеvenue", "revenue", "fact 'rеvenue' looks like fact 'revenue' (line 5) but is another "
                           "name: 'е' is Cyrillic, 'e' is Latin"),
    ("ｒevenue", "revenue", "fact 'ｒevenue' looks like fact 'revenue' (line 5) but is another "
                           "name: 'ｒ' is Latin, 'r' is Latin"),
    ("выручкa", "выручка", "fact 'выручкa' looks like fact 'выручка' (line 5) but is another "
                           "name: 'a' is Latin, 'а' is Cyrillic"),
])
def test_look_alike_names_are_a_warning_naming_both(name: str, other: str, message: str) -> None:
    text = HEADER + "\n" + f"fact {other} money\nfact {name} money\n" \
        f"pay a = {other} × 1%\npay b = {name} × 1%\n"
    assert found(text) == [("KPI106", message)]


def test_a_name_mixing_alphabets_in_one_word_is_a_warning() -> None:
    text = HEADER + "fact rеvenue money\npay a = rеvenue × 1%\n"
    assert found(text) == [("KPI106", "fact name 'rеvenue' mixes Latin and Cyrillic letters in "
                                      "one word ('rеvenue': 'е' is Cyrillic)")]
    assert found(HEADER + "fact plan_выручки money\npay a = plan_выручки × 1%\n") == []


@pytest.mark.parametrize(("dates", "messages"), [
    ("from 2025-13", ["effective date '2025-13': there is no month 13"]),
    ("from 2025-02-30", ["effective date '2025-02-30': 2025-02 has no day 30"]),
    ("from 2025-07 to 2025-03", ["this version ends (2025-03-31) before it starts (2025-07-01)"]),
    ("from 2024-02-29 to 2024-02", []),
])
def test_effective_dates_are_validated(dates: str, messages: list[str]) -> None:
    text = f'scheme s "S"\n  effective {dates}\nfact revenue money\npay c = revenue × 1%\n'
    assert found(text) == [("KPI623", m) for m in messages]


def test_a_negative_budget_cap_is_refused() -> None:
    text = HEADER + "fact revenue money\npay bonus = revenue × 1%\n" \
        "budget fund cap -5_000 RUB for bonus\n"
    assert found(text) == [("KPI609", "budget 'fund' has a negative cap (-5000 RUB): no amount "
                                      "can fit it")]
    assert found(text.replace("-5_000", "0")) == []
