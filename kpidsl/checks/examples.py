"""Examples: they give known facts, expect known results, and name grades that exist."""

from __future__ import annotations

from .. import ast
from ..diagnostics import Diagnostic, did_you_mean, error
from ..source import SourceFile
from .model import BASE, Variant


def check_examples(examples: list[ast.Example], variants: dict[str, Variant],
                   source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names: set[str] = set()
    for example in examples:
        if example.name in names:
            out.append(error("KPI103", f"example '{example.name}' is defined twice", source,
                             example.name_span))
        names.add(example.name)
        grade = example.grade or BASE
        variant = variants.get(grade)
        if variant is None:
            known = [g for g in variants if g != BASE]
            out.append(error("KPI804", f"example '{example.name}' names unknown grade '{grade}'",
                             source, example.name_span, hint=did_you_mean(grade, known)))
            continue
        given = {a.name for a in example.given}
        for assignment in example.given:
            if assignment.name not in variant.facts:
                out.append(error("KPI801", f"'{assignment.name}' is not a fact", source,
                                 assignment.span, hint=did_you_mean(assignment.name,
                                                                    variant.facts)))
        for fact in variant.facts.values():
            if fact.name not in given and fact.if_missing is None:
                out.append(error("KPI802", f"example '{example.name}' does not give required fact "
                                 f"'{fact.name}'", source, example.name_span,
                                 hint=f"add {fact.name} = ... after 'given'"))
        for expectation in example.expect:
            problem = _target_problem(expectation, variant)
            if problem:
                message, candidates = problem
                out.append(error("KPI803", message, source, expectation.span,
                                 hint=did_you_mean(expectation.name, candidates)))
    return out


def _target_problem(e: ast.Expectation, v: Variant) -> tuple[str, list[str]] | None:
    if e.target == "total":
        return None
    if e.target == "name":
        if e.name in v.pays or e.name in v.kpis:
            return None
        return f"'{e.name}' is neither a payment nor a KPI", [*v.pays, *v.kpis]
    if e.target in ("attainment", "plan"):
        return None if e.name in v.kpis else (f"'{e.name}' is not a KPI", list(v.kpis))
    pay = v.pays.get(e.name)
    if pay is None:
        return f"'{e.name}' is not a payment", list(v.pays)
    if all(item.kpi != e.item for item in pay.items):
        return f"'{e.name}' has no line for '{e.item}'", [i.kpi for i in pay.items]
    return None
