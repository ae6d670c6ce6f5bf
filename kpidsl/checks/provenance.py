"""Provenance: what each grade changes from its parent, field by field, in the scheme's words.

A grade's statement changes only the fields it writes (facts, constants and curves are
replaced whole). Every difference becomes a `Change` the checker prints, the API returns
(`Variant.changes`) and documents list; a field written with the value it already had
changes nothing and is reported (KPI701), since it usually means the grade was copied
rather than derived.
"""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from typing import TYPE_CHECKING

from .. import ast
from ..diagnostics import Diagnostic, warning
from ..exprtext import band_range_text, describe_expr
from ..source import SourceFile, Span
from .model import Change, Variant

if TYPE_CHECKING:
    from ..curvekinds import CurveKind

_NOT_FIELDS = ("span", "name_span", "name", "kpi", "curve_span", "items")
_WORDS = {"formula": "value", "value": "value", "plan_by_month": "plan by month",
          "by_month": "value by month", "if_missing": "value if missing", "gates": "conditions",
          "component": "payment", "per_team": "per team", "kind": "kind of curve",
          "translations": "label in other languages"}
_REPLACED_WHOLE = (ast.Fact, ast.Constant, ast.Curve)


def word(attribute: str) -> str:
    """A field as the language speaks of it: plan_by_month → 'plan by month'."""
    return _WORDS.get(attribute, attribute)


def value_text(value: object, curve_kind: CurveKind | None = None) -> str:
    """A field's value written as in a scheme (bands, points and conditions included)."""
    if isinstance(value, ast.Expr):
        return describe_expr(value)
    if isinstance(value, tuple):
        return "; ".join(value_text(v, curve_kind) for v in value)
    if isinstance(value, ast.MonthValue):
        return f"{value.month} {describe_expr(value.value)}"
    if isinstance(value, ast.Band):
        verb = curve_kind.verb if curve_kind is not None else "pays"
        return f"{band_range_text(value)} {verb} {describe_expr(value.pays)}"
    if isinstance(value, ast.Point):
        return f"at {describe_expr(value.at)} pays {describe_expr(value.pays)}"
    if isinstance(value, ast.Gate):
        words = {"only_if": "only if", "cap": "cap", "floor": "floor"}
        text = f"{words[value.kind]} {describe_expr(value.value)}"
        return text + (f" unless {describe_expr(value.unless)}" if value.unless else "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def written(decl: ast.Node) -> dict[str, str]:
    """The fields a statement writes, as text (a label is quoted)."""
    kind = decl.kind if isinstance(decl, ast.Curve) else None
    out: dict[str, str] = {}
    for f in fields(decl):
        if f.name in _NOT_FIELDS:
            continue
        value = getattr(decl, f.name)
        if value is None or value == "" or value == () or (f.name == "per_team" and not value):
            continue
        if f.name == "label":
            out[f.name] = f'"{value}"'
        elif f.name == "translations":  # (("ru", "Выручка"),) → ru "Выручка"
            out[f.name] = ", ".join(f'{lang} "{text}"' for lang, text in value)
        else:
            out[f.name] = value_text(value, kind)
    return out


def summary(decl: ast.Node) -> str:
    """A whole statement in a line: '= revenue / deals, plan 150_000 RUB, group efficiency'."""
    parts = []
    for attribute, text in written(decl).items():
        parts.append(f"= {text}" if word(attribute) == "value" else f"{word(attribute)} {text}")
    return ", ".join(parts)


def record_addition(variant: Variant, noun: str, statement: ast.Decl) -> None:
    variant.changes.append(Change(f"{noun} {statement.name}", "", summary(statement) or "added",
                                  statement.span, noun, statement.name))


def record_drop(variant: Variant, noun: str, name: str, span: Span) -> None:
    variant.changes.append(Change(f"{noun} {name}", "kept", "", span, noun, name))


def record_override(variant: Variant, noun: str, old: ast.Decl, merged: ast.Decl,
                    statement: ast.Decl, source: SourceFile) -> list[Diagnostic]:
    """Append one Change per changed field; return KPI701 for fields set to what they were."""
    same: list[tuple[str, str, Span]] = []
    changed = _compare(variant, noun, statement.name, "", old, merged, statement, same)
    if isinstance(old, ast.Pay) and isinstance(statement, ast.Pay):
        items = {item.kpi: item for item in old.items}
        new_items = {item.kpi: item for item in merged.items}  # type: ignore[attr-defined]
        for item in statement.items:
            before = items.get(item.kpi)
            if before is None:
                changed = True
                variant.changes.append(Change(
                    f"line for {item.kpi} in payment {statement.name}", "", summary(item),
                    item.span, noun, statement.name, item.kpi))
                continue
            changed |= _compare(variant, noun, statement.name, item.kpi, before,
                                new_items[item.kpi], item, same)
    if not same:
        return []
    if not changed:
        return [warning("KPI701", f"grade '{variant.name}' sets {noun} '{statement.name}' to what "
                        "it already is", source, statement.name_span,
                        hint="remove the statement, it changes nothing")]
    return [warning("KPI701", f"grade '{variant.name}' sets the {what} to what it already is "
                    f"({text})", source, span, hint="leave it out: the grade inherits it")
            for what, text, span in same]


def _compare(variant: Variant, noun: str, name: str, item: str, old: ast.Node, new: ast.Node,
             statement: ast.Node, same: list[tuple[str, str, Span]]) -> bool:
    """Record the differences between old and new; note written fields that did not change."""
    before, after = written(old), written(new)
    subject = f"{item} in payment {name}" if item else f"{noun} {name}"
    changed = False
    for attribute in [*before, *(a for a in after if a not in before)]:
        was, now = before.get(attribute, ""), after.get(attribute, "")
        if was == now:
            continue
        changed = True
        what = subject if word(attribute) == "value" and not item else \
            f"{word(attribute)} of {subject}"
        variant.changes.append(Change(what, was, now or "none", statement.span, noun, name, item,
                                      attribute))
    if not isinstance(statement, _REPLACED_WHOLE):
        for attribute, text in written(statement).items():
            if before.get(attribute) == text:
                node = getattr(statement, attribute)
                span = node.span if isinstance(node, ast.Expr) and node.span.line else \
                    statement.span if item else statement.name_span  # type: ignore[attr-defined]
                same.append((f"{word(attribute)} of {subject}", text, span))
    elif not changed:
        same.append(("", "", statement.span))
    return changed


def provenance_text(variants: dict[str, Variant]) -> str:
    """Every grade and what it changes from its parent, as `kpidsl check` prints it."""
    lines = []
    for variant in variants.values():
        if variant.parent is None:
            continue
        label = f' "{variant.label}"' if variant.label else ""
        lines.append(f"grade {variant.name}{label}, based on {variant.parent}:")
        lines.extend(f"  line {c.span.line}: {c.describe()}" for c in variant.changes)
        if not variant.changes:
            lines.append("  no changes")
    return "\n".join(lines) + ("\n" if lines else "")
