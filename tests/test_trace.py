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
