"""Names: every reference resolves, nothing is reserved or missing, nothing depends on itself."""

from __future__ import annotations

from .. import ast
from ..diagnostics import Diagnostic, did_you_mean, error
from ..parser import RESERVED_WORDS
from ..source import SourceFile
from .model import Variant
from .walk import nodes, references

Node = tuple[str, str]  # (kind, name): ("value", "revenue"), ("plan", "revenue"), ("constant", "x")


def check_names(variant: Variant, source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for section, table in (("fact", variant.facts), ("constant", variant.constants),
                           ("curve", variant.curves), ("KPI", variant.kpis),
                           ("payment", variant.pays), ("budget", variant.budgets)):
        for name, decl in table.items():
            if name in RESERVED_WORDS:
                out.append(error("KPI102", f"'{name}' is a word of the language and cannot name a "
                                 f"{section}", source, decl.name_span, hint="choose another name"))
            other = seen.get(name)
            fact_backed_kpi = section == "KPI" and other == "fact" and \
                variant.kpis[name].formula is None
            if other and not fact_backed_kpi:
                out.append(error("KPI103", f"'{name}' names both a {other} and a {section}", source,
                                 decl.name_span, hint="every name must be unique; rename one"))
            seen.setdefault(name, section)
    for kpi in variant.kpis.values():
        if kpi.formula is None and kpi.name not in variant.facts:
            hint = did_you_mean(kpi.name, variant.facts) or \
                f"write its formula (kpi {kpi.name} = ...) or declare 'fact {kpi.name} ...'"
            out.append(error("KPI104", f"KPI '{kpi.name}' has no formula and there is no fact "
                             f"named '{kpi.name}'", source, kpi.name_span, hint=hint))
    for where, expr, scope in expressions(variant):
        for kind, name, node in references(expr):
            problem = _resolve(variant, kind, name, scope)
            if problem:
                message, candidates = problem
                out.append(error("KPI101", message.format(name=name, where=where), source,
                                 node.span, hint=did_you_mean(name, candidates)))
        if scope != "curve":  # a bare 'attainment' is the input of a curve, nothing else
            for node in nodes(expr):
                if isinstance(node, ast.CurveInput):
                    out.append(error("KPI101", "'attainment' alone is a curve's input, used "
                                     f"only in what a band pays (here: {where})", source,
                                     node.span, hint="for a KPI's attainment name the KPI: "
                                     "attainment of revenue"))
    return out


def expressions(variant: Variant):  # type: ignore[no-untyped-def]
    """(where, expression, scope) for every expression in a variant."""
    for c in variant.constants.values():
        yield f"constant {c.name}", c.value, "constant"
        for mv in c.by_month:
            yield f"constant {c.name}", mv.value, "constant"
    for f in variant.facts.values():
        yield f"fact {f.name}", f.if_missing, "constant"
    for curve in variant.curves.values():
        for expr, scope in curve.kind.expressions(curve):  # its kind knows what it holds
            yield f"curve {curve.name}", expr, scope
        yield f"curve {curve.name}", curve.cap, "constant"
        yield f"curve {curve.name}", curve.floor, "constant"
    for kpi in variant.kpis.values():
        yield f"KPI {kpi.name}", kpi.formula, "employee"
        yield f"KPI {kpi.name}", kpi.plan, "employee"
        for mv in kpi.plan_by_month:
            yield f"KPI {kpi.name}", mv.value, "employee"
        yield f"KPI {kpi.name}", kpi.attainment, "employee"
    for pay in variant.pays.values():
        yield f"payment {pay.name}", pay.formula, "employee"
        yield f"payment {pay.name}", pay.pool, "employee"
        for gate in pay.gates:
            yield f"payment {pay.name}", gate.value, "employee"
            yield f"payment {pay.name}", gate.unless, "employee"
        for item in pay.items:
            yield f"payment {pay.name}", item.weight, "employee"
            yield f"payment {pay.name}", item.amount, "employee"
            for gate in item.gates:
                yield f"payment {pay.name}", gate.value, "employee"
                yield f"payment {pay.name}", gate.unless, "employee"
    for budget in variant.budgets.values():
        yield f"budget {budget.name}", budget.cap, "constant"


def _resolve(variant: Variant, kind: str, name: str, scope: str):  # type: ignore[no-untyped-def]
    if kind == "value":
        if scope in ("constant", "curve"):
            if name in variant.constants:
                return None
            what = "a curve" if scope == "curve" else "{where}"
            if name in variant.facts or name in variant.kpis:
                return (f"{what} can use only constants and 'attainment', not '{{name}}'", [])
            return "unknown name '{name}' in {where}", list(variant.constants)
        if name in variant.facts or name in variant.constants or name in variant.kpis:
            return None  # dict look-ups: a list here made checking quadratic in the KPI count
        return "unknown name '{name}' in {where}", [*variant.facts, *variant.constants,
                                                     *variant.kpis]
    if kind in ("plan", "attainment"):
        if scope != "employee":
            return f"'{kind} of' cannot be used in {{where}}", []
        if name in variant.kpis:
            return None
        return f"'{kind} of {{name}}' names no KPI (in {{where}})", list(variant.kpis)
    if kind == "curve":
        if name in variant.curves:
            return None
        return "unknown curve '{name}' in {where}", list(variant.curves)
    if kind == "team":
        if scope != "employee":
            return "team totals cannot be used in {where}", []
        if name in variant.facts:
            return None
        return "team totals are taken over facts; '{name}' is not a fact", list(variant.facts)
    return None


def dependency_graph(variant: Variant) -> dict[Node, list[tuple[Node, ast.Expr | ast.Decl]]]:
    """Edges from each computed thing to what it needs (with the node that needs it)."""
    graph: dict[Node, list[tuple[Node, ast.Expr | ast.Decl]]] = {}

    def needs(expr: ast.Expr | None) -> list[tuple[Node, ast.Expr | ast.Decl]]:
        edges: list[tuple[Node, ast.Expr | ast.Decl]] = []
        for kind, name, node in references(expr):
            if kind == "value" and name in variant.constants:
                edges.append((("constant", name), node))
            elif kind == "value" and name in variant.kpis:
                edges.append((("value", name), node))
            elif kind in ("plan", "attainment") and name in variant.kpis:
                edges.append(((kind, name), node))
        return edges

    for c in variant.constants.values():
        graph[("constant", c.name)] = needs(c.value)
    for k in variant.kpis.values():
        graph[("value", k.name)] = needs(k.formula)
        plan_edges = needs(k.plan)
        for mv in k.plan_by_month:
            plan_edges += needs(mv.value)
        graph[("plan", k.name)] = plan_edges
        graph[("attainment", k.name)] = [(("value", k.name), k), (("plan", k.name), k),
                                         *needs(k.attainment)]
    return graph


def check_cycles(variant: Variant, source: SourceFile) -> tuple[list[Node], list[Diagnostic]]:
    """Topological order of constants and KPI parts, or a diagnostic naming each cycle."""
    graph = dependency_graph(variant)
    order: list[Node] = []
    state: dict[Node, int] = {}  # 1 = in progress, 2 = done
    out: list[Diagnostic] = []
    reported: set[frozenset[Node]] = set()
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[Node, int]] = [(root, 0)]
        path: list[Node] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                if state.get(node) == 2:
                    continue
                state[node] = 1
                path.append(node)
            edges = graph.get(node, [])
            if index < len(edges):
                stack.append((node, index + 1))
                target, where = edges[index]
                if state.get(target) == 1:
                    cycle = path[path.index(target):]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        names = " → ".join(_node_text(n) for n in [*cycle, target])
                        out.append(error("KPI105", f"definitions depend on each other in a cycle: "
                                         f"{names}", source, where.span,
                                         hint="a KPI cannot be computed from itself; break the "
                                         "cycle with a fact or a constant"))
                elif not state.get(target):
                    stack.append((target, 0))
            else:
                state[node] = 2
                path.pop()
                order.append(node)
    return order, out


def _node_text(node: Node) -> str:
    kind, name = node
    return name if kind in ("value", "constant") else f"{kind} of {name}"


def check_per_team(variant: Variant, source: SourceFile, header: ast.Header) -> list[Diagnostic]:
    """A scheme `paid per team` computes one result per team from its members' facts, so it
    may read a fact only through a team aggregate (`team total of revenue`), never one
    member's value."""
    if not header.per_team:
        return []
    out: list[Diagnostic] = []
    for kpi in variant.kpis.values():
        if kpi.formula is None and kpi.name in variant.facts:
            out.append(error("KPI607", f"KPI '{kpi.name}' is one member's fact, but the scheme is "
                             "paid per team", source, kpi.name_span,
                             hint=f"aggregate it under a name of its own: kpi team_{kpi.name} "
                             f"= team total of {kpi.name}"))
    for where, expr, scope in expressions(variant):
        if scope != "employee":
            continue
        for kind, name, node in references(expr):
            if kind == "value" and name in variant.facts and name not in variant.kpis and \
                    name not in variant.constants:
                out.append(error("KPI607", f"'{name}' in {where} is one member's fact, but the "
                                 "scheme is paid per team", source, node.span,
                                 hint=f"use a team aggregate: team total of {name} (or average, "
                                 "min, max)"))
    return out
