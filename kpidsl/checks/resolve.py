"""Resolve the base scheme and its grades into flat variants, recording what each grade changes."""

from __future__ import annotations

import heapq
from dataclasses import fields, replace

from .. import ast
from ..diagnostics import Diagnostic, did_you_mean, error
from ..source import SourceFile
from .model import BASE, Variant
from .provenance import record_addition, record_drop, record_override

_SECTIONS = {
    ast.Fact: "facts",
    ast.Constant: "constants",
    ast.Curve: "curves",
    ast.Kpi: "kpis",
    ast.Pay: "pays",
    ast.Budget: "budgets",
    ast.Source: "sources",
}
_NOUN = {"facts": "fact", "constants": "constant", "curves": "curve", "kpis": "KPI",
         "pays": "payment", "budgets": "budget", "sources": "source"}


def resolve(ruleset: ast.Ruleset, source: SourceFile
            ) -> tuple[dict[str, Variant], list[ast.Example], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    examples: list[ast.Example] = []
    header = ruleset.header
    base = Variant(BASE, header.label, None)
    for statement in ruleset.statements:
        _declare(base, statement, source, diagnostics, examples, None)
    variants = {BASE: base}
    sections: dict[str, ast.GradeSection] = {}
    for grade in ruleset.grades:
        if grade.name in sections or grade.name == BASE:
            first = sections.get(grade.name)
            hint = f"the first definition is on line {first.span.line}" if first else \
                "'base' is the scheme itself; give the grade another name"
            diagnostics.append(error("KPI601", f"grade '{grade.name}' is defined twice", source,
                                     grade.name_span, hint=hint))
            continue
        sections[grade.name] = grade
    for member, cycle in _cycles(sections):
        diagnostics.append(error("KPI602", "grades are based on each other in a cycle: "
                                 + " → ".join([*cycle, cycle[0]]), source, member.name_span,
                                 hint="one of them must be based on the scheme itself"))
    unknown = 0
    for grade in _in_dependency_order(list(sections.values())):
        parent_name = grade.based_on or BASE
        if parent_name not in variants:
            if parent_name not in sections:
                unknown += 1
                hint = _unknown_grade_hint(parent_name, grade.name, sections) \
                    if unknown <= MAX_HINTS else ""
                diagnostics.append(error("KPI603", f"grade '{grade.name}' is based on unknown "
                                         f"grade '{parent_name}'", source, grade.name_span,
                                         hint=hint))
            continue
        variant = _copy(variants[parent_name], grade.name, grade.label)
        for statement in grade.statements:
            _declare(variant, statement, source, diagnostics, examples, grade.name)
        variants[grade.name] = variant
    return variants, examples, diagnostics


MAX_HINTS = 20  # "did you mean" compares with every grade: only the first unknown parents get one


def _unknown_grade_hint(parent: str, grade: str, sections: dict[str, ast.GradeSection]) -> str:
    known = [n for n in sections if n != grade]
    listed = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
    return did_you_mean(parent, known) or (f"known grades: {listed}" if known else "")


def _cycles(sections: dict[str, ast.GradeSection]
            ) -> list[tuple[ast.GradeSection, list[str]]]:
    """Every cycle of `based on` once, from its grade that comes first in the scheme.

    Each grade has one parent, so one walk up from each grade not yet seen finds every cycle
    in time linear in the number of grades (a walk per grade over a list was cubic: 2 000
    grades took 70 s).
    """
    position = {name: i for i, name in enumerate(sections)}
    finished: set[str] = set()
    found: list[tuple[ast.GradeSection, list[str]]] = []
    for start in sections:
        path: dict[str, int] = {}  # the names of this walk, in order
        name: str | None = start
        while name is not None and name in sections and name not in finished \
                and name not in path:
            path[name] = len(path)
            name = sections[name].based_on
        if name is not None and name in path:
            cycle = list(path)[path[name]:]
            first = min(range(len(cycle)), key=lambda i: position[cycle[i]])
            cycle = cycle[first:] + cycle[:first]
            found.append((sections[cycle[0]], cycle))
        finished.update(path)
    found.sort(key=lambda item: position[item[0].name])
    return found


def _in_dependency_order(grades: list[ast.GradeSection]) -> list[ast.GradeSection]:
    """Parents before children; otherwise in passes over the scheme's order, as written.

    Pass 1 takes, in order, every grade whose parent is the scheme, unknown, or taken earlier
    in the pass; each later pass takes those whose parent was taken in the pass before.
    Grades in (or based on) a cycle are left out. Each grade is queued once: n log n.
    """
    index = {g.name: i for i, g in enumerate(grades)}
    children: dict[str, list[int]] = {}
    current: list[int] = []
    for i, grade in enumerate(grades):
        if grade.based_on and grade.based_on in index:
            children.setdefault(grade.based_on, []).append(i)
        else:
            current.append(i)
    ordered: list[ast.GradeSection] = []
    while current:
        heapq.heapify(current)
        later: list[int] = []
        while current:
            i = heapq.heappop(current)
            ordered.append(grades[i])
            for child in children.get(grades[i].name, ()):
                if child > i:
                    heapq.heappush(current, child)
                else:
                    later.append(child)
        current = later
    return ordered


def _copy(parent: Variant, name: str, label: str) -> Variant:
    variant = Variant(name, label, parent.name)
    for section in _SECTIONS.values():
        setattr(variant, section, dict(getattr(parent, section)))
    return variant


def _declare(variant: Variant, statement: ast.Statement, source: SourceFile,
             diagnostics: list[Diagnostic], examples: list[ast.Example], grade: str | None) -> None:
    if isinstance(statement, ast.Example):
        examples.append(statement if statement.grade or not grade else
                        replace(statement, grade=grade))
        return
    if isinstance(statement, ast.Drop):
        _drop(variant, statement, source, diagnostics)
        return
    if grade is not None and isinstance(statement, ast.Budget):
        diagnostics.append(error(
            "KPI608", f"budget '{statement.name}' is inside grade '{grade}', but a budget caps "
            "a payment over people of every grade", source, statement.name_span,
            hint="declare the budget before the grades"))
        return
    section = _SECTIONS[type(statement)]
    table = getattr(variant, section)
    existing = table.get(statement.name)
    if grade is None:
        if existing is not None:
            diagnostics.append(error(
                "KPI103", f"{_NOUN[section]} '{statement.name}' is defined twice", source,
                statement.name_span, hint=f"the first definition is on line {existing.span.line}"))
            return
        table[statement.name] = statement
        return
    if existing is None:
        if not _complete_addition(variant, statement, source, diagnostics):
            return
        table[statement.name] = statement
        record_addition(variant, _NOUN[section], statement)
        return
    merged = _merge(existing, statement)
    diagnostics += record_override(variant, _NOUN[section], existing, merged, statement, source)
    table[statement.name] = merged


def _complete_addition(variant: Variant, statement: ast.Statement, source: SourceFile,
                       diagnostics: list[Diagnostic]) -> bool:
    """A grade adding a KPI that has neither a formula nor a fact of its name names nothing."""
    if isinstance(statement, ast.Kpi) and statement.formula is None and \
            statement.name not in variant.facts:
        hint = did_you_mean(statement.name, variant.kpis) or \
            "give it a formula (kpi name = ...) or declare a fact of that name"
        diagnostics.append(error(
            "KPI604", f"grade changes KPI '{statement.name}', which the scheme it is based on "
            "does not have", source, statement.name_span, hint=hint))
        return False
    if isinstance(statement, ast.Pay) and statement.formula is None and not (
            statement.pool is not None and statement.items
            and all(i.curve and (i.weight or i.amount) for i in statement.items)):
        # `pay bonsu pool 40_000 RUB` cannot be a new payment: it changes one that is not there
        hint = did_you_mean(statement.name, variant.pays) or \
            "a new payment needs '= amount', or a pool with its KPIs, shares and curves"
        diagnostics.append(error(
            "KPI604", f"grade changes payment '{statement.name}', which the scheme it is based "
            "on does not have", source, statement.name_span, hint=hint))
        return False
    return True


def _merge(old: ast.Decl, new: ast.Decl) -> ast.Decl:
    """A grade's statement changes only what it writes; everything else stays as inherited."""
    if isinstance(old, ast.Pay) and isinstance(new, ast.Pay):
        items = {item.kpi: item for item in old.items}
        for item in new.items:
            items[item.kpi] = _merge_fields(items[item.kpi], item) if item.kpi in items else item
        merged = _merge_fields(old, new)
        return replace(merged, items=tuple(items.values()), name_span=new.name_span)
    if isinstance(old, ast.Kpi | ast.Budget):
        return replace(_merge_fields(old, new), name_span=new.name_span)
    return new  # facts, constants, curves are replaced whole


def _merge_fields(old, new):  # type: ignore[no-untyped-def]
    changes = {}
    for f in fields(new):
        if f.name in ("span", "name_span", "name", "kpi", "curve_span"):
            continue
        value = getattr(new, f.name)
        if value not in (None, "", ()):
            changes[f.name] = value
    return replace(old, **changes)


def _drop(variant: Variant, statement: ast.Drop, source: SourceFile,
          diagnostics: list[Diagnostic]) -> None:
    name = statement.name
    if name in variant.kpis:
        del variant.kpis[name]
        for pay_name, pay in list(variant.pays.items()):
            if any(item.kpi == name for item in pay.items):
                # the pool now differs from the parent's at the drop: point there
                variant.pays[pay_name] = replace(
                    pay, items=tuple(i for i in pay.items if i.kpi != name),
                    name_span=statement.name_span)
        record_drop(variant, "KPI", name, statement.span)
    elif name in variant.pays:
        del variant.pays[name]
        record_drop(variant, "payment", name, statement.span)
    else:
        hint = did_you_mean(name, [*variant.kpis, *variant.pays])
        diagnostics.append(error("KPI605", f"'drop {name}' names no KPI or payment", source,
                                 statement.name_span, hint=hint))
