"""Lints from the method: warnings a consultant wants to see (errors under --strict)."""

from __future__ import annotations

from decimal import Decimal

from .. import ast
from ..diagnostics import Diagnostic, warning
from ..source import SourceFile
from ..units import Unit
from .fold import fold
from .model import Variant
from .names import expressions
from .walk import nodes, references

MAX_KPIS_PER_EMPLOYEE = 7
TEAM_SHARE = (Decimal("0.10"), Decimal("0.20"))


def check_methodology(variant: Variant, source: SourceFile, header: ast.Header,
                      examples: list[ast.Example]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    used: set[str] = set()
    for _where, expr, _scope in expressions(variant):
        used.update(name for _kind, name, _node in references(expr))
    used.update(k for k, kpi in variant.kpis.items() if kpi.formula is None)
    # a grade answers only for the facts it declares itself: one that drops a KPI leaves the
    # parent's fact unused on purpose (other grades, and the facts files, still carry it)
    own = {c.name for c in variant.changes if c.section == "fact"} if variant.parent else None
    for fact in variant.facts.values():
        if fact.name not in used and (own is None or fact.name in own):
            out.append(warning("KPI703", f"fact '{fact.name}' is never used", source,
                               fact.name_span, hint="remove it or use it in a KPI"))
    too_many = kpis_per_employee({item.kpi for _pay, item in variant.pooled_kpis()}, source,
                                 header, variant.name if variant.parent else "")
    if too_many is not None:
        out.append(too_many)
    for pay in variant.pays.values():
        groups = [variant.kpis[i.kpi].group for i in pay.items if i.kpi in variant.kpis]
        if any(groups) and "result" not in groups:
            out.append(warning("KPI705", f"'{pay.name}' pays on no result KPI (revenue, margin, "
                               "new clients...)", source, pay.name_span,
                               hint="results should weigh more than activity"))
    out += _team_share(variant, source)
    if header.sector == "infobusiness":
        out += _activity_counts(variant, source)
    return out


def kpis_per_employee(pooled: set[str], source: SourceFile, header: ast.Header,
                      grade: str = "") -> Diagnostic | None:
    """KPI704 when an employee (of `grade`, '' for the base scheme) is paid on more KPIs than
    the method advises; public because the language server counts the KPIs over the whole
    scheme itself while it checks only part of it again."""
    if len(pooled) <= MAX_KPIS_PER_EMPLOYEE:
        return None
    who = f"an employee of grade '{grade}'" if grade else "an employee"
    return warning("KPI704", f"{who} is paid on {len(pooled)} KPIs; the method advises at most "
                   f"{MAX_KPIS_PER_EMPLOYEE}", source, header.name_span)


def _activity_counts(variant: Variant, source: SourceFile) -> list[Diagnostic]:
    """Info-business pays for conversions and results; counting calls or messages is advised
    against (a count KPI of group activity is what the lint looks for)."""
    return [warning("KPI707", f"KPI '{kpi.name}' counts activity; an info-business scheme pays "
                    "for conversions and results, not for calls, messages or meetings", source,
                    kpi.name_span, hint="pay on lead-to-paid conversion, repeat purchases or "
                    "satisfaction instead")
            for kpi in variant.kpis.values()
            if kpi.group == "activity" and variant.units.get(kpi.name) is Unit.COUNT]


def _team_share(variant: Variant, source: SourceFile) -> list[Diagnostic]:
    """The team part of the bonus should be 10–20 % of the individual plus team bonus."""
    team_pays: list[tuple[ast.Pay, Decimal | None]] = []
    own_pays: list[tuple[ast.Pay, Decimal | None]] = []
    for pay in variant.pays.values():
        exprs = [pay.formula, pay.pool, *(g.value for g in pay.gates),
                 *(g.unless for g in pay.gates)]
        uses_team = any(_mentions_team(e) for e in exprs)
        amount = fold(pay.pool if pay.pool is not None else pay.formula, variant.constant_values)
        if pay.items or uses_team:
            (team_pays if uses_team else own_pays).append((pay, amount))
    if not team_pays or not own_pays:
        return []
    team_amounts = [a for _p, a in team_pays if a is not None]
    own_amounts = [a for _p, a in own_pays if a is not None]
    if len(team_amounts) < len(team_pays) or len(own_amounts) < len(own_pays):
        return []  # an amount that depends on the facts has no fixed share
    team = sum(team_amounts, Decimal(0))
    total = team + sum(own_amounts, Decimal(0))
    share = team / total if total else Decimal(0)
    low, high = TEAM_SHARE
    if share < low or share > high:
        pay = team_pays[0][0]
        return [warning("KPI706", f"the team part is {share * 100:.1f}% of the bonus; the method "
                        "advises 10–20%", source, pay.name_span,
                        hint="keep 80–90 % of the bonus individual")]
    return []


def _mentions_team(expr: ast.Expr | None) -> bool:
    return any(isinstance(n, ast.TeamAggregate | ast.TeamSize) for n in nodes(expr))
