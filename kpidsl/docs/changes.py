"""What a grade changes from the scheme it is based on, in the document's language.

Compares the two resolved variants declaration by declaration (AST nodes compare by value,
ignoring positions), so the list says what actually differs in effect, whichever way the
grade wrote it.
"""

from __future__ import annotations

from .. import ast
from ..checks import Variant
from .text import Say


def changes(say: Say, parent: Variant, variant: Variant) -> list[str]:
    w = say.w
    before = Say(say.lang, say.currency, parent)
    out: list[str] = []
    for name in variant.facts:
        if name not in parent.facts:
            out.append(w("change_fact", fact=say.label(name)))
    for name, const in variant.constants.items():
        old = parent.constants.get(name)
        if old is not None and old != const:
            out.append(w("change_constant", constant=say.label(name),
                         before=_value(before, old.value), after=_value(say, const.value)))
    for name, curve in variant.curves.items():
        old_curve = parent.curves.get(name)
        if old_curve is None:
            out.append(w("change_added_curve", curve=say.label(name)))
        elif old_curve != curve:
            out.append(w("change_curve", curve=say.label(name)))
    out += _kpis(say, before, parent, variant)
    out += _pays(say, before, parent, variant)
    return out


def _value(say: Say, expr: ast.Expr | None) -> str:
    return say.w("none") if expr is None else say.expr(expr)


def _kpis(say: Say, before: Say, parent: Variant, variant: Variant) -> list[str]:
    w = say.w
    out = []
    for name, kpi in variant.kpis.items():
        old = parent.kpis.get(name)
        label = say.label(name)
        if old is None:
            out.append(w("change_added_kpi", kpi=label))
            continue
        if old.plan != kpi.plan or old.plan_by_month != kpi.plan_by_month:
            out.append(w("change_plan", kpi=label, before=_value(before, old.plan),
                         after=_value(say, kpi.plan)))
        if old.formula != kpi.formula:
            out.append(w("change_formula", kpi=label, before=_value(before, old.formula),
                         after=_value(say, kpi.formula)))
        if (old.direction or "higher") != (kpi.direction or "higher"):
            out.append(w("change_direction", kpi=label, before=w(old.direction or "higher"),
                         after=w(kpi.direction or "higher")))
    for name in parent.kpis:
        if name not in variant.kpis:
            out.append(w("change_dropped_kpi", kpi=before.label(name)))
    return out


def _pays(say: Say, before: Say, parent: Variant, variant: Variant) -> list[str]:
    w = say.w
    out = []
    for name, pay in variant.pays.items():
        old = parent.pays.get(name)
        label = say.label(name)
        if old is None:
            out.append(w("change_added_pay", pay=label))
            continue
        if old.formula != pay.formula:
            out.append(w("change_pay_formula", pay=label, before=_value(before, old.formula),
                         after=_value(say, pay.formula)))
        if old.pool != pay.pool:
            out.append(w("change_pool", pay=label, before=_value(before, old.pool),
                         after=_value(say, pay.pool)))
        old_items = {item.kpi: item for item in old.items}
        for item in pay.items:
            kpi = say.label(item.kpi)
            was = old_items.get(item.kpi)
            if was is None:
                out.append(w("change_item_added", pay=label, kpi=kpi))
                continue
            if was.weight != item.weight:
                out.append(w("change_weight", pay=label, kpi=kpi,
                             before=_value(before, was.weight), after=_value(say, item.weight)))
            if was.amount != item.amount:
                out.append(w("change_item_amount", pay=label, kpi=kpi,
                             before=_value(before, was.amount), after=_value(say, item.amount)))
            if was.curve != item.curve:
                out.append(w("change_item_curve", pay=label, kpi=kpi,
                             before=before.label(was.curve or ""),
                             after=say.label(item.curve or "")))
            if was.gates != item.gates:
                out.append(w("change_item_gates", pay=label, kpi=kpi,
                             after="; ".join(gate_words(say, g) for g in item.gates) or
                             w("none")))
        names = {item.kpi for item in pay.items}
        for kpi_name in old_items:
            if kpi_name not in names:
                out.append(w("change_item_dropped", pay=label, kpi=before.label(kpi_name)))
    for name in parent.pays:
        if name not in variant.pays:
            out.append(w("change_dropped_pay", pay=before.label(name)))
    return out


def gate_words(say: Say, gate: ast.Gate) -> str:
    """A condition on a payment or line: 'paid only if …', 'at most … unless …'."""
    w = say.w
    if gate.kind == "only_if":
        return w("gate_only_if", condition=say.expr(gate.value))
    suffix = "_unless" if gate.unless is not None else ""
    condition = say.expr(gate.unless) if gate.unless is not None else ""
    return w(f"gate_{gate.kind}{suffix}", limit=say.expr(gate.value), condition=condition)
