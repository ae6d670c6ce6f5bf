"""Curve charts and the earnings solver on the less common constructs: jumps and cut-offs
where the compiled curve has them and nowhere else, stable SVG, lower-is-better KPIs and
attainment formulas solved exactly."""

from __future__ import annotations

import re
from decimal import Decimal

import kpidsl
from kpidsl.docs import earnings, plan_context
from kpidsl.docs.charts import render

SCHEME = """
scheme shapes "Shapes"
  currency RUB
fact revenue money "Revenue"
fact refunds percent "Refund rate"
fact response minutes "First response"
curve standard "Standard"
  below 80% pays 0
  from 80% through 100% pays attainment
  above 100% pays attainment × 1.2
  cap 200%
curve ramp "Ramp"
  linear
  at 50% pays 0%
  at 100% pays 100%
  at 150% pays 180%
curve tiered "Tiered"
  tiers marginal
  from 0 RUB to 1_000_000 RUB rate 1%
  from 1_000_000 RUB rate 2%
kpi revenue "Revenue" plan 1_000_000 RUB
kpi refunds "Refunds" plan 10% lower is better
kpi response "Response" plan 15 lower is better attainment = 15 / response otherwise 0%
pay bonus "Bonus" pool 30_000 RUB
  for revenue weight 40% curve ramp
  for refunds weight 30% curve standard
  for response weight 30% curve standard
pay commission "Commission" = tiered(revenue)
"""


def _chart(scheme: kpidsl.Ruleset, name: str, percent: bool = True):  # type: ignore[no-untyped-def]
    variant = scheme.checked.base
    function = scheme.compiled.namespace[scheme.infos["base"].layout.curves[name]]
    return render(variant.curves[name], function, variant.constant_values, percent_like=percent,
                  fmt_x=str, fmt_y=str, words=lambda key, **kw: key, title=name)


def test_jumps_and_cut_offs_come_from_the_compiled_curve() -> None:
    scheme = kpidsl.loads(SCHEME)
    standard = _chart(scheme, "standard")
    assert [(j.at, j.left.quantize(Decimal("0.000001")), j.right.quantize(Decimal("0.000001")),
             j.value, j.cut_off) for j in standard.jumps] == [
        (Decimal("0.8"), Decimal("0E-6"), Decimal("0.800000"), Decimal("0.8"), True),
        (Decimal("1"), Decimal("1.000000"), Decimal("1.200000"), Decimal("1"), False),
    ]
    assert (standard.start, standard.end) == (Decimal(0), Decimal("1.7"))  # reaches the cap
    assert _chart(scheme, "ramp").jumps == []
    tiered = _chart(scheme, "tiered", percent=False)
    assert tiered.jumps == [] and tiered.end == Decimal("1250000")


def test_charts_are_stable_text() -> None:
    scheme = kpidsl.loads(SCHEME)
    first, second = _chart(scheme, "standard").svg, _chart(scheme, "standard").svg
    assert first == second
    assert first.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="chart"')
    assert 'stroke-dasharray="4 3"' in first  # the jumps are dashed
    assert not re.search(r"\d[eE][+-]?\d", first)  # coordinates never in exponent form


def test_lower_is_better_and_attainment_formulas_reach_each_level_exactly() -> None:
    scheme = kpidsl.loads(SCHEME)
    table = earnings(scheme)
    assert table.direct == ["revenue", "refunds"]
    assert table.solved == [("response", "response")]
    by_level = {r.attainment: r for r in table.rows}
    assert by_level[Decimal("1.2")].facts["refunds"] == Decimal("0.080")  # 10 % × (2 − 1.2)
    assert by_level[Decimal("0.8")].facts["response"] == Decimal("18.75")  # 15 ÷ 0.8
    for row in table.rows:
        assert {k.attainment for k in row.result.kpis.values()} == {row.attainment} or \
            row.fallback
    assert by_level[Decimal("1")].total == Decimal("40000.00")  # 30 000 + 1 % of 1 000 000


def test_curve_tables_in_words() -> None:
    scheme = kpidsl.loads(SCHEME)
    curves = {c["name"]: c for c in plan_context(scheme, None, "en")["curves"]}
    assert [r["band"] for r in curves["ramp"]["rows"]] == ["at 50%", "at 100%", "at 150%"]
    assert curves["tiered"]["input"] == "Value" and curves["tiered"]["header"] == "Rate"
    assert [(r["band"], r["pays"]) for r in curves["tiered"]["rows"]] == [
        ("from RUB\u00a00 to under RUB\u00a01,000,000", "1%"),
        ("from RUB\u00a01,000,000", "2%")]
    assert curves["standard"]["rows"][-1] == {"band": "Cap", "pays": "never more than 200%"}
