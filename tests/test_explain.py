"""Explanations: the calculation line by line, in English and Russian, with exact text."""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl
from kpidsl import numbers
from kpidsl.explain import explain, explain_lines
from kpidsl.testing import run_examples

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted((ROOT / "rulesets").rglob("*.kpi"))

# The reference case with Russian main labels (the explanation's own words follow --lang).
SCHEME_RU = """
scheme ivanov_case "Менеджер B2B"
  currency RUB
fact revenue     money    "Выручка"
fact avg_check   money    "Средний чек"
fact conversion  percent  "Конверсия"
fact calls       count    "Успешные звонки"
constant margin_rate      "Маржинальность"  = 30%
constant commission_rate  "Процент с маржи" = 2%
curve standard
  below 80%               pays 0
  from 80% through 100%   pays attainment
  above 100%              pays attainment × 1.2
kpi revenue     "Выручка"          plan 3_000_000 RUB
kpi avg_check   "Средний чек"      plan 150_000 RUB
kpi conversion  "Конверсия"        plan 2%
kpi calls       "Успешные звонки"  plan 1000
pay salary "Оклад" = 60_000 RUB
pay bonus "Премия" pool 50_000 RUB
  for revenue     weight 40%  curve standard
  for avg_check   weight 20%  curve standard
  for conversion  weight 20%  curve standard
  for calls       weight 20%  curve standard
pay commission "Процент с продаж"
  = max(revenue − plan of revenue, 0) × margin_rate × commission_rate
"""
IVANOV = {"revenue": "3300000", "avg_check": "142500", "conversion": "2.1%", "calls": 950}


def test_ivanov_in_russian_line_by_line() -> None:
    scheme = kpidsl.loads(SCHEME_RU)
    result = scheme.evaluate(IVANOV, employee="Иванов")
    assert explain(scheme, result, "ru") == [
        "Расчёт: Иванов (Менеджер B2B)",
        "Выполнение плана:",
        "  Выручка: 3 300 000 / 3 000 000 = 110 %",
        "  Средний чек: 142 500 / 150 000 = 95 %",
        "  Конверсия: 2,1 % / 2 % = 105 %",
        "  Успешные звонки: 950 / 1 000 = 95 %",
        "Оклад: 60 000",
        "Премия (фонд 50 000):",
        "  Выручка: 110 % > 100 %, коэффициент 1,2: 20 000 × 1,1 × 1,2 = 26 400",
        "  Средний чек: 80 % ≤ 95 % ≤ 100 %: 10 000 × 0,95 = 9 500",
        "  Конверсия: 105 % > 100 %, коэффициент 1,2: 10 000 × 1,05 × 1,2 = 12 600",
        "  Успешные звонки: 80 % ≤ 95 % ≤ 100 %: 10 000 × 0,95 = 9 500",
        "  Премия: 26 400 + 9 500 + 12 600 + 9 500 = 58 000",
        "Процент с продаж: макс(Выручка − план «Выручка»; 0) × Маржинальность × Процент с "
        "маржи",
        "  = макс(3 300 000 − 3 000 000, 0) × 30 % × 2 % = 1 800",
        "Итого: 60 000 + 58 000 + 1 800 = 119 800",
    ]


def test_ivanov_in_english_keeps_the_schemes_labels() -> None:
    scheme = kpidsl.loads(SCHEME_RU)
    lines = explain(scheme, scheme.evaluate(IVANOV, employee="ivanov"), "en")
    assert lines[1] == "Attainment:"
    assert lines[8] == "  Выручка: 110% > 100%, coefficient 1.2: 20,000 × 1.1 × 1.2 = 26,400"
    assert lines[-1] == "Total: 60,000 + 58,000 + 1,800 = 119,800"


def test_translated_labels_follow_the_language() -> None:
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    result = scheme.evaluate(IVANOV, employee="ivanov")
    assert explain(scheme, result, "ru")[8] == (
        "  Выручка: 110 % > 100 %, коэффициент 1,2: 20 000 × 1,1 × 1,2 = 26 400")
    assert explain(scheme, result, "en")[8] == (
        "  Revenue: 110% > 100%, coefficient 1.2: 20,000 × 1.1 × 1.2 = 26,400")


def test_structured_lines_and_no_break_spaces() -> None:
    scheme = kpidsl.loads(SCHEME_RU)
    result = scheme.evaluate(IVANOV, employee="ivanov")
    lines = explain_lines(scheme, result, "ru", nbsp=True)
    assert [line.kind for line in lines][:3] == ["title", "heading", "kpi"]
    assert lines[-1].kind == "total"
    assert lines[-1].text == "Итого: 60\u00a0000 + 58\u00a0000 + 1\u00a0800 = 119\u00a0800"


def test_rounded_numbers_are_marked_approximate() -> None:
    scheme = kpidsl.loads(SCHEME_RU)
    facts = dict(IVANOV, revenue="4100000")
    lines = explain(scheme, scheme.evaluate(facts), "ru")
    assert lines[2] == "  Выручка: 4 100 000 / 3 000 000 ≈ 136,6667 %"
    assert lines[8] == ("  Выручка: 136,6667 % > 100 %, коэффициент 1,2: "
                        "20 000 × 1,3667 × 1,2 ≈ 32 800")


def test_unknown_language() -> None:
    scheme = kpidsl.loads(SCHEME_RU)
    with pytest.raises(ValueError, match="unknown language 'de'"):
        explain(scheme, scheme.evaluate(IVANOV), "de")


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_every_bundled_example_explained(path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    """Gates, caps, linear curves, lower-is-better KPIs, grades: whatever the schemes use."""
    scheme = kpidsl.load(path)
    text = []
    for outcome in run_examples(scheme):
        assert outcome.result is not None
        lines = explain(scheme, outcome.result, "en")
        assert lines[-1].endswith(" " + numbers.amount(outcome.result.total, "en"))
        text += [*lines, ""]
    golden.check(f"explain/{path.stem}", "\n".join(text))
