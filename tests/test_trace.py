"""The evaluator's trace: what it records equals what it paid, it costs the evaluators a
run uses nothing, and explanations render it (tier slices, curve values, why a gate
applied) in English and Russian."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from test_explain_matches_eval import random_facts

import kpidsl
from kpidsl.diagnostics import KpiError
from kpidsl.explain import explain
from kpidsl.trace import shown

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted((ROOT / "rulesets").rglob("*.kpi"))
TIERED = ROOT / "tests" / "fixtures" / "tiered_commission.kpi"


def test_the_evaluators_a_run_uses_record_nothing() -> None:
    scheme = kpidsl.load(TIERED)
    assert "trace" not in scheme.python_source


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_the_trace_holds_the_values_that_were_paid(path: Path) -> None:
    scheme = kpidsl.load(path)
    rnd = random.Random(path.stem)
    for grade in scheme.checked.variants:
        for _ in range(5):
            facts = random_facts(scheme, grade, rnd)
            month = rnd.choice([None, 1, 6, 12])
            try:
                result = scheme.evaluate(facts, grade=grade if grade != "base" else None,
                                         employee="x", month=month)
            except KpiError:
                continue
            trace = result.trace()
            assert trace.facts == {k: v for k, v in result.facts.items()
                                   if k in trace.facts}
            for name, kpi in result.kpis.items():
                traced = trace.kpis[name]
                assert shown(traced.value) == kpi.value
                assert shown(traced.plan) == kpi.plan
                assert shown(traced.attainment) == kpi.attainment
            for line in result.lines:
                traced_line = trace.lines[(line.payment, line.kpi)]
                assert traced_line.band == line.band
                if line.gate in ("", "withheld"):
                    assert traced_line.amount == line.amount
                    assert shown(traced_line.gated_factor) == line.factor
            for name, payment in trace.payments.items():
                if not payment.gates and not result.notes:
                    assert payment.rounded == result.components[name]


def facts(revenue: int) -> dict[str, Decimal]:
    return {"revenue": Decimal(revenue), "calls": Decimal(130)}


def test_tiered_pay_shows_its_slices() -> None:
    scheme = kpidsl.load(TIERED)
    result = scheme.evaluate(facts(150_000), employee="e1")
    slices = result.trace().calls
    assert [(s.high - s.low, s.rate, s.pays) for _n, _w, c in slices for s in c.slices] == [
        (100_000, Decimal("0.05"), 5_000), (25_000, Decimal("0.06"), 1_500),
        (25_000, Decimal("0.07"), 1_750)]
    assert explain(scheme, result)[4:6] == [
        "Commission: 8,250",
        "  Commission tiers (150,000): 100,000 × 5% = 5,000; 25,000 × 6% = 1,500; "
        "25,000 × 7% = 1,750; in all 8,250"]
    assert "  Ступени комиссии (150 000): 100 000 × 5 % = 5 000; 25 000 × 6 % = 1 500; " \
        "25 000 × 7 % = 1 750; всего 8 250" in explain(scheme, result, "ru")


def test_a_gate_says_why_it_applied() -> None:
    scheme = kpidsl.load(TIERED)
    result = scheme.evaluate(facts(96_000), employee="e1")
    assert result.trace().lines[("bonus", "calls")].gates == [0]
    assert explain(scheme, result)[7] == (
        "  Calls: 130% > 100%, coefficient 1.2: 10,000 × 1.3 × 1.2 = 15,600; capped at 100% "
        "(Revenue attainment 96% is below 100%): 10,000")
    assert ("  Звонки: 130 % > 100 %, коэффициент 1,2: 10 000 × 1,3 × 1,2 = 15 600; ограничено "
            "сверху: 100 % (выполнение плана «Выручка» 96 % ниже 100 %): 10 000"
            ) in explain(scheme, result, "ru")
    # at plan the `unless` holds: no cap
    assert "capped" not in "\n".join(explain(scheme, scheme.evaluate(facts(100_000),
                                                                      employee="e1")))


BRANCHES = ROOT / "tests" / "fixtures" / "chosen_branches.kpi"


def test_the_trace_records_which_way_each_choice_went() -> None:
    """revenue 95.50: round(revenue / 9 × 9%, 0.01) is 0.96 exactly (0.95 at 34 digits), so
    both `if`s take `then`; in December the seasonal threshold is 2 RUB and they take
    `else`. The `if` in the curve's band is recorded under the line it was computed for."""
    scheme = kpidsl.load(BRANCHES)
    text = scheme.checked.source.text

    def at(snippet: str) -> int:
        return text.index(snippet, text.index("\nkpi "))

    result = scheme.evaluate({"revenue": "95.50"}, employee="e1")
    branches = result.trace().branches
    assert {(scope, start): taken for (scope, (start, _end)), taken in branches.items()} == {
        (None, at("if round")): True,
        (None, text.index("if round", text.index("pay base"))): True,
        (None, at("revenue / calls")): False,  # no calls: `otherwise` was taken
        (("bonus", "check"), at("if attainment")): True,
    }
    december = scheme.evaluate({"revenue": "95.50", "calls": "3"}, employee="e1", month=12)
    assert sorted(december.trace().branches.values()) == [False, False, True]
    assert december.components == {"base": Decimal("10.00"), "per_call": Decimal("31.83"),
                                   "bonus": Decimal("0.00")}


def test_the_generated_trace_calls_are_only_in_the_tracing_module() -> None:
    from kpidsl.backends.python import generate

    scheme = kpidsl.load(BRANCHES)
    plain, traced = generate(scheme.checked), generate(scheme.checked, trace=True)
    assert "'branch'" not in plain.source
    assert traced.source.count("trace('branch'") == 4


def test_an_explanation_shows_the_branch_paid() -> None:
    scheme = kpidsl.load(BRANCHES)
    result = scheme.evaluate({"revenue": "95.50"}, employee="e1")
    assert result.total == Decimal("1960.00")
    assert explain(scheme, result) == [
        "Calculation for e1 (Chosen branches)",
        "Attainment:",
        "  Check: if round(revenue / 9 × 9%, 0.01, half up) >= threshold then revenue else "
        "0 RUB = 95.5 = 95.50; 95.50 / 100 = 95.5%",
        "Base: if round(revenue / 9 × 9%, 0.01, half up) >= threshold then 1000 RUB else "
        "10 RUB",
        "  = 1,000 = 1,000",
        "Per call: revenue / calls otherwise 5 RUB",
        "  = 95.5 / 0 → 5 = 5",
        "Bonus (pool 1,000):",
        "  Check: 95.5% ≥ 50%: 1,000 × 0.955 = 955",
        "  Bonus: 955",
        "Total: 1,000 + 5 + 955 = 1,960",
    ]
    december = scheme.evaluate({"revenue": "95.50"}, employee="e1", month=12)
    assert explain(scheme, december, "ru") == [
        "Расчёт: e1 (Chosen branches)",
        "Выполнение плана:",
        "  Check: если округл(Revenue ÷ 9 × 9 % до 0,01, по правилам арифметики, половина — "
        "вверх) ≥ Threshold, то Revenue, иначе 0 ₽ = 0 = 0; 0 / 100 = 0 %",
        "Base: если округл(Revenue ÷ 9 × 9 % до 0,01, по правилам арифметики, половина — "
        "вверх) ≥ Threshold, то 1 000 ₽, иначе 10 ₽",
        "  = 10 = 10",
        "Per call: Revenue ÷ Calls (или 5 ₽, если Calls равно 0)",
        "  = 95,5 / 0 → 5 = 5",
        "Bonus (фонд 1 000):",
        "  Check: 0 % < 50 %: 1 000 × 0 = 0",
        "  Bonus: 0",
        "Итого: 10 + 5 + 0 = 15",
    ]


SEASONAL_CURVE = (
    'scheme t "T"\n  currency RUB\nfact revenue money "Revenue"\n'
    'constant entry "Entry" = 80% by month dec 90%\n'
    'constant boost "Boost" = entry × 2\n'
    'kpi revenue "Revenue" plan 100 RUB\n'
    'curve standard "Standard"\n  below entry pays 0\n  from entry pays attainment\n'
    '  cap boost\n'
    'pay bonus "Bonus" pool 1_000 RUB\n  for revenue weight 100% curve standard\n')


def test_a_seasonal_constant_in_a_curve_is_refused() -> None:
    """A curve is folded once when compiling: with a seasonal constant as a bound, December
    paid from the default 80% instead of the month's 90% (85% attainment paid 850.00 that
    should pay 0), and a seasonal constant in a band's formula failed every row. Refused,
    also through a constant computed from one."""
    with pytest.raises(kpidsl.KpiError) as caught:
        kpidsl.loads(SEASONAL_CURVE)
    found = [(d.code, d.line, d.message) for d in caught.value.diagnostics]
    message = ("curve 'standard' uses '{}', a constant that changes by month; a curve is "
               "the same in every month")
    assert found == [("KPI413", 8, message.format("entry")),
                     ("KPI413", 9, message.format("entry")),
                     ("KPI413", 10, message.format("boost"))]
    steps = SEASONAL_CURVE.replace("  below entry pays 0\n  from entry pays attainment\n",
                                   "  steps of 1% from entry pays 15% plus 5% per step\n")
    with pytest.raises(kpidsl.KpiError) as caught:
        kpidsl.loads(steps)
    assert [(d.code, d.line) for d in caught.value.diagnostics] == [("KPI413", 8),
                                                                   ("KPI413", 9)]
