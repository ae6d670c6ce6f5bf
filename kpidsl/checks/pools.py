"""Payments and pools: each pool line has a KPI with a plan, a share and a curve; weights add up."""

from __future__ import annotations

from decimal import Decimal

from .. import ast
from ..diagnostics import Diagnostic, did_you_mean, error, warning
from ..exprtext import literal_text
from ..source import SourceFile
from ..units import Unit
from .fold import fold
from .model import Variant

MAX_KPIS_PER_POOL = 7


def check_pools(variant: Variant, source: SourceFile, currency: str = "RUB") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for pay in variant.pays.values():
        if pay.formula is not None and (pay.items or pay.pool is not None):
            out.append(error("KPI305", f"payment '{pay.name}' has both a formula and a pool",
                             source,
                             pay.name_span, hint="write either '= amount' or 'pool ... for ...'"))
        if pay.formula is None and not pay.items:
            hint = ("list its KPIs: for revenue weight 40% curve standard"
                    if pay.pool is not None else "write '= amount' or 'pool amount' with its KPIs")
            out.append(error("KPI306", f"payment '{pay.name}' pays nothing", source, pay.name_span,
                             hint=hint))
        weights: list[Decimal] = []
        all_constant = True
        plain = _plain_weights(pay, source)
        out += plain
        seen: set[str] = set()
        for item in pay.items:
            if item.kpi in seen:
                out.append(error("KPI103", f"KPI '{item.kpi}' appears twice in '{pay.name}'",
                                 source, item.span))
            seen.add(item.kpi)
            kpi = variant.kpis.get(item.kpi)
            if kpi is None:
                out.append(error("KPI101", f"unknown KPI '{item.kpi}' in payment '{pay.name}'",
                                 source, item.span, hint=did_you_mean(item.kpi, variant.kpis)))
            elif kpi.plan is None and kpi.attainment is None:
                out.append(error("KPI302", f"KPI '{item.kpi}' is paid by attainment but has no "
                                 "plan", source, item.span,
                                 hint=f"add its plan: kpi {item.kpi} plan ..."))
            if item.curve is None:
                out.append(error("KPI307", f"'{item.kpi}' in '{pay.name}' has no curve", source,
                                 item.span, hint="add e.g. 'curve standard' after its share"))
            elif item.curve not in variant.curves:
                out.append(error("KPI101", f"unknown curve '{item.curve}'", source,
                                 item.curve_span, hint=did_you_mean(item.curve, variant.curves)))
            if item.weight is None and item.amount is None:
                out.append(error("KPI304", f"'{item.kpi}' in '{pay.name}' has no share", source,
                                 item.span, hint="add 'weight 40%' or 'amount 20_000 RUB'"))
            if item.weight is not None and item.amount is not None:
                out.append(error("KPI304", f"'{item.kpi}' has both a weight and an amount",
                                 source, item.span, hint="keep one of them"))
            if item.weight is not None:
                if pay.pool is None:
                    out.append(error("KPI303", f"'{item.kpi}' has a weight but '{pay.name}' has "
                                     "no pool to weigh", source, item.span,
                                     hint=f"write: pay {pay.name} pool 50_000 RUB"))
                value = fold(item.weight, variant.constant_values)
                if value is None:
                    all_constant = False
                else:
                    weights.append(value)
        if weights and all_constant and not plain:  # KPI308 says why they do not add up
            total = sum(weights, Decimal(0))
            if total != 1:
                where = f" in grade '{variant.name}'" if variant.parent else ""
                out.append(error("KPI301", f"the weights in '{pay.name}'{where} add up to "
                                 f"{literal_text(total, Unit.PERCENT)}, not 100%", source,
                                 pay.name_span, hint="make the weights sum to exactly 100%"))
        if len(pay.items) > MAX_KPIS_PER_POOL:
            out.append(warning("KPI702", f"'{pay.name}' pays on {len(pay.items)} KPIs; the method "
                               f"advises at most {MAX_KPIS_PER_POOL}", source, pay.name_span,
                               hint="more KPIs dilute focus; merge or drop the weakest"))
    for budget in variant.budgets.values():
        if budget.component not in variant.pays:
            out.append(error("KPI101", f"budget '{budget.name}' caps unknown payment "
                             f"'{budget.component}'", source, budget.name_span,
                             hint=did_you_mean(budget.component, variant.pays)))
        cap = fold(budget.cap, variant.constant_values)
        if cap is None:
            out.append(error("KPI406", "a budget cap must be a constant amount", source,
                             budget.cap.span))
        elif cap < 0:
            amount = literal_text(cap, Unit.MONEY, currency)
            out.append(error("KPI609", f"budget '{budget.name}' has a negative cap ({amount}): "
                             "no amount can fit it", source, budget.cap.span,
                             hint="a cap is the most that may be paid in all: 0 or more"))
    return out


def _plain_weights(pay: ast.Pay, source: SourceFile) -> list[Diagnostic]:
    """`weight 40` (the '%' forgotten) is 40 times the pool: no weight is above 100 %, so a
    plain number above 1 is refused with the one fix it needs."""
    out = []
    for item in pay.items:
        weight = item.weight
        if isinstance(weight, ast.Literal) and weight.unit in (Unit.ANY, Unit.NUMBER) \
                and weight.value > 1:
            text = weight.text or str(weight.value)
            out.append(error("KPI308", f"the weight of '{item.kpi}' in '{pay.name}' is the "
                             f"plain number {text}: {literal_text(weight.value, Unit.PERCENT)} "
                             f"of the pool as written, or {text}% meant", source, weight.span,
                             hint=f"a weight or threshold is a percentage: write {text}%"))
    return out
