"""One evaluated month as tables: facts, KPIs, pay lines, components, total.

Shared by the plan document's worked examples and by employee statements, so an example in
the plan and a real statement read the same way. Everything shown comes from the Result the
compiled evaluator returned; this module only formats and labels it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import ast
from ..checks import Variant
from ..checks.fold import fold
from ..results import Result
from ..testing import actual_value
from ..units import Unit
from .text import Say


def band_words(say: Say, curve: ast.Curve | None, band: int) -> str:
    """The band a line fell into, in the document's language."""
    if curve is None or band == 0:
        return say.w("outside")
    return curve.kind.band_words(say, curve, band, percent_like(curve))


def percent_like(curve: ast.Curve) -> bool:
    """Whether a curve's thresholds are attainment percentages (not amounts or counts)."""
    units = {b.unit for b in curve.kind.bounds(curve) if isinstance(b, ast.Literal)}
    return Unit.MONEY not in units and (Unit.PERCENT in units or Unit.COUNT not in units)


def calculation(say: Say, variant: Variant, result: Result) -> dict[str, Any]:
    """Tables for one Result: facts, KPIs, lines, components and the total, all formatted."""
    w = say.w
    facts = [{"name": name, "label": say.of(fact),
              "value": say.value(result.facts.get(name), fact.unit)}
             for name, fact in variant.facts.items() if name in result.facts]
    kpis = [{"name": k.name, "label": say.label(k.name),
             "plan": say.value(k.plan, k.unit) if k.plan is not None else "—",
             "value": say.value(k.value, k.unit),
             "attainment": say.attainment(k.attainment) if k.attainment is not None else "—",
             "payout": say.money(k.payout) if k.payout is not None else "—"}
            for k in result.kpis.values()]
    lines = []
    for line in result.lines:
        curve = variant.curves.get(line.curve)
        gate = {"withheld": w("gate_withheld"), "capped": w("gate_capped"),
                "floored": w("gate_floored")}.get(line.gate, "")
        lines.append({
            "payment": say.label(line.payment), "kpi": say.label(line.kpi),
            "attainment": say.attainment(line.attainment) if line.attainment is not None else "—",
            "band": band_words(say, curve, line.band),
            "share": say.money(line.share), "factor": say.attainment(line.factor),
            "work": w("line_text", share=say.money(line.share),
                      factor=say.attainment(line.factor)),
            "amount": say.money(line.amount), "note": gate,
        })
    components = []
    for name, amount in result.components.items():
        pay = variant.pays.get(name)
        how = say.expr(pay.formula) if pay is not None and pay.formula is not None else \
            w("pool_sum") if pay is not None and pay.items else ""
        components.append({"name": name, "label": say.label(name), "how": how,
                           "amount": say.money(amount)})
    return {"facts": facts, "kpis": kpis, "lines": lines, "components": components,
            "total": say.money(result.total), "notes": list(result.notes)}


def expectations(say: Say, variant: Variant, example: ast.Example,
                 result: Result) -> list[dict[str, Any]]:
    """What the example expects next to what the evaluator computed."""
    out = []
    for e in example.expect:
        expected = fold(e.value, variant.constant_values)
        actual, _what = actual_value(result, e)
        what = {"total": say.w("total"), "attainment": say.w("x_attainment_of",
                                                             name=say.label(e.name)),
                "plan": say.w("x_plan_of", name=say.label(e.name))}.get(e.target)
        if what is None:
            what = say.label(e.name) if e.target == "name" else \
                f"{say.label(e.name)}: {say.label(e.item)}"
        shown = _like(say, e.value, expected, variant)
        ok = expected is not None and actual is not None and actual == expected
        out.append({"what": what, "expected": shown, "ok": ok,
                    "status": say.w("expect_ok") if ok else say.w(
                        "expect_bad", actual=_like(say, e.value, actual, variant))})
    return out


def _like(say: Say, expr: ast.Expr, value: Decimal | None, variant: Variant) -> str:
    """A value formatted as the expectation writes it (money, percent or number)."""
    if value is None:
        return "—"
    unit = expr.unit if isinstance(expr, ast.Literal) else Unit.NUMBER
    if unit is Unit.MONEY:
        return say.money(value)
    if unit is Unit.PERCENT:
        return say.percent_exact(value)
    return say.number(value)
