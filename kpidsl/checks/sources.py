"""Sources: deal, call and lead exports, the facts aggregated from them, pays per deal.

Runs first on each variant: it checks `source` statements, facts defined as aggregates
(`fact revenue money = total of deals.amount where stage is "Won"`) and payments `for each
deal`, then turns each per-deal payment into a formula payment of a fact that the sources
stage supplies (kpidsl/sources/), so the engine after it needs to know nothing of deals.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from .. import ast
from ..diagnostics import Diagnostic, did_you_mean, error
from ..source import SourceFile
from ..units import Unit
from .model import Variant

NUMERIC_KINDS = frozenset(u.value for u in Unit if u not in (Unit.BOOLEAN, Unit.ANY))
ORDER_WORDS = ("date", "key")


def per_deal_fact(pay: ast.Pay) -> str:
    """The name of the fact that carries a per-deal payment's sum into the engine; the dot
    keeps it apart from every name a scheme can write."""
    assert pay.each is not None
    return f"{pay.name}.per_{pay.each.noun}"


def field_unit(kind: str) -> Unit | None:
    """A field's unit; None for text and date fields."""
    return Unit(kind) if kind in NUMERIC_KINDS else None


def check_sources(variant: Variant, source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for src in variant.sources.values():
        out += _check_source(src, source)
    for fact in list(variant.facts.values()):
        if fact.aggregate is not None and fact.aggregate.kind != "pay":
            out += _check_aggregate(variant, fact, fact.aggregate, source)
    for pay in list(variant.pays.values()):
        if pay.each is not None:
            out += _check_each(variant, pay, pay.each, source)
            _lower_each(variant, pay)
    return out


def _check_source(src: ast.Source, source: SourceFile) -> list[Diagnostic]:
    out = []
    for what, column in (("employee", src.employee_column), ("date", src.date_column)):
        if not column:
            out.append(error("KPI640", f"source '{src.name}' does not say which column holds the "
                             f"{what}", source, src.name_span,
                             hint=f'write: {what} column "…" (the export\'s title)'))
    seen: dict[str, ast.SourceField] = {}
    columns: dict[str, str] = {}
    reserved = {c.casefold(): w for w, c in (("employee", src.employee_column),
                                             ("date", src.date_column), ("key", src.key_column),
                                             ("share", src.share_column)) if c}
    for fld in src.fields:
        if fld.name in seen:
            out.append(error("KPI640", f"field '{fld.name}' of source '{src.name}' is declared "
                             "twice", source, fld.name_span,
                             hint=f"the first is on line {seen[fld.name].span.line}"))
            continue
        seen[fld.name] = fld
        folded = fld.column.casefold()
        other = columns.get(folded) or reserved.get(folded)
        if other is not None:
            out.append(error("KPI640", f"fields '{other}' and '{fld.name}' of source "
                             f"'{src.name}' read the same column \"{fld.column}\"", source,
                             fld.name_span, hint="give each field its own column"))
        columns[folded] = fld.name
    return out


def _source_of(variant: Variant, name: str, span: object, source: SourceFile,
               out: list[Diagnostic]) -> ast.Source | None:
    found = variant.sources.get(name)
    if found is None:
        known = list(variant.sources)
        hint = did_you_mean(name, known) or (
            f"sources of this scheme: {', '.join(known)}" if known else
            f'declare it: source {name} "…" employee column "…" date column "…"')
        out.append(error("KPI641", f"unknown source '{name}'", source, span,  # type: ignore[arg-type]
                         hint=hint))
    return found


def _field(src: ast.Source, name: str, span: object, source: SourceFile,
           out: list[Diagnostic], extra: tuple[str, ...] = ()) -> ast.SourceField | None:
    for fld in src.fields:
        if fld.name == name:
            return fld
    if name in extra:
        return None
    known = [f.name for f in src.fields]
    hint = did_you_mean(name, [*known, *extra]) or (
        f"fields of '{src.name}': {', '.join(known)}" if known else
        f'declare it: field {name} money column "…"')
    out.append(error("KPI642", f"source '{src.name}' has no field '{name}'", source,
                     span, hint=hint))  # type: ignore[arg-type]
    return None


def _check_aggregate(variant: Variant, fact: ast.Fact, agg: ast.SourceAggregate,
                     source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    src = _source_of(variant, agg.source, agg.source_span, source, out)
    if src is None:
        return out
    if agg.where is not None:
        out += check_condition(src, agg.where, source)
    if agg.kind == "count":
        if agg.of:
            out.append(error("KPI643", f"'count of {agg.source}.{agg.of}': count counts rows",
                             source, agg.field_span,
                             hint=f"write count of {agg.source} (rows), or count distinct of "
                             f"{agg.source}.{agg.of} (different values)"))
        elif fact.unit is not Unit.COUNT:
            out.append(_unit_error(fact, "a count", "count", source))
        return out
    if not agg.of:
        out.append(error("KPI643", f"'{agg.kind} of {agg.source}' needs a field: {agg.kind} of "
                         f"{agg.source}.FIELD", source, agg.source_span,
                         hint=did_you_mean("", []) or "fields: " +
                         ", ".join(f.name for f in src.fields)))
        return out
    fld = _field(src, agg.of, agg.field_span, source, out)
    if fld is None:
        return out
    if agg.kind == "count distinct":
        if fact.unit is not Unit.COUNT:
            out.append(_unit_error(fact, "a count", "count", source))
        return out
    unit = field_unit(fld.kind)
    if unit is None:
        out.append(error("KPI643", f"'{agg.kind} of {agg.source}.{agg.of}': field "
                         f"'{agg.of}' is {fld.kind}, not a number", source, agg.field_span,
                         hint="only count and count distinct work on text and date fields"))
        return out
    allowed = {unit}
    if agg.kind in ("average", "median") and unit is Unit.COUNT:
        allowed = {Unit.NUMBER, Unit.RATIO}  # the mean of counts need not be whole
    if fact.unit not in allowed:
        wanted = " or ".join(sorted(u.value for u in allowed))
        out.append(_unit_error(fact, f"the {agg.kind} of a {fld.kind} field", wanted, source))
    return out


def _unit_error(fact: ast.Fact, what: str, wanted: str, source: SourceFile) -> Diagnostic:
    return error("KPI643", f"fact '{fact.name}' is {fact.unit.value}, but it is {what}", source,
                 fact.name_span, hint=f"declare it: fact {fact.name} {wanted} = …")


def check_condition(src: ast.Source, condition: ast.Condition,
                    source: SourceFile) -> list[Diagnostic]:
    """Every field named exists, and is compared with values of its kind."""
    out: list[Diagnostic] = []
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BothOrEither):
            stack += [node.right, node.left]
        elif isinstance(node, ast.NotCondition):
            stack.append(node.operand)
        elif isinstance(node, ast.FieldTest):
            fld = _field(src, node.name, node.span, source, out)
            if fld is not None:
                out += _check_test(fld, node, source)
    return out


def _check_test(fld: ast.SourceField, test: ast.FieldTest,
                source: SourceFile) -> list[Diagnostic]:
    out = []
    ordered = test.op in ("<", "<=", ">", ">=")
    for value in test.values:
        if fld.kind == "text":
            if not isinstance(value, str) or _is_date(value):
                out.append(error("KPI644", f"field '{fld.name}' is text: compare it with text in "
                                 "quotes", source, test.span,
                                 hint=f'{fld.name} is "…" (or is one of "…", "…")'))
            elif ordered:
                out.append(error("KPI644", f"text field '{fld.name}' cannot be {test.op} a value",
                                 source, test.span,
                                 hint="text is compared with is, is not, is one of"))
        elif fld.kind == "date":
            if not (isinstance(value, str) and _is_date(value)):
                out.append(error("KPI644", f"field '{fld.name}' is a date: compare it with a "
                                 "date such as 2025-07-01", source, test.span))
        elif isinstance(value, str):
            out.append(error("KPI644", f"field '{fld.name}' is {fld.kind}: compare it with a "
                             "number, not text", source, test.span,
                             hint=f"e.g. {fld.name} >= 100_000 RUB"))
        elif isinstance(value, ast.Literal) and value.unit is Unit.MONEY and fld.kind != "money":
            out.append(error("KPI644", f"field '{fld.name}' is {fld.kind}, not money", source,
                             test.span, hint="write the number without a currency"))
    return out


def _is_date(value: str) -> bool:
    return len(value) in (7, 10) and value[:4].isdigit() and value[4:5] == "-"


def _check_each(variant: Variant, pay: ast.Pay, each: ast.EachDeal,
                source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    src = _source_of(variant, each.source, each.source_span, source, out)
    if src is not None:
        if each.where is not None:
            out += check_condition(src, each.where, source)
        for name in each.order:
            _field(src, name, each.span, source, out, ORDER_WORDS)
        if each.order and each.order not in (("date",), ("date", "key")):
            out.append(error("KPI645", f"payment '{pay.name}' is paid in order of "
                             f"{', '.join(each.order)}, but deals are paid in order of date, "
                             "then key (then the row): the one order both engines keep",
                             source, each.span, hint="write: in order of date, key"))
        if "key" in each.order and not src.key_column:
            out.append(error("KPI645", f"'in order of … key', but source '{src.name}' has no key "
                             "column", source, each.span, hint='write: key column "ID"'))
    curve = variant.curves.get(each.curve)
    if curve is None:
        out.append(error("KPI101", f"unknown curve '{each.curve}' in payment {pay.name}", source,
                         each.curve_span, hint=did_you_mean(each.curve, variant.curves)))
    elif not curve.kind.slices:
        out.append(error("KPI645", f"payment '{pay.name}' splits each {each.noun} across tiers, "
                         f"but curve '{curve.name}' is {curve.kind}", source, each.curve_span,
                         hint="a per-deal payment uses a curve of 'tiers marginal'"))
    kpi = variant.kpis.get(each.kpi)
    if kpi is None:
        out.append(error("KPI101", f"'running {each.running} of {each.kpi}' names no KPI",
                         source, each.kpi_span, hint=did_you_mean(each.kpi, variant.kpis)))
        return out
    fact = variant.facts.get(each.kpi) if kpi.formula is None else None
    agg = fact.aggregate if fact is not None else None
    if agg is None or agg.kind != "total" or agg.source != each.source:
        out.append(error("KPI645", f"the running {each.running} of '{each.kpi}' must add up the "
                         f"{each.noun}s paid: '{each.kpi}' must be a fact = total of "
                         f"{each.source}.FIELD", source, each.kpi_span,
                         hint=f"fact {each.kpi} money = total of {each.source}.amount where …"))
    elif each.running == "attainment" and kpi.plan is None:
        out.append(error("KPI645", f"'running attainment of {each.kpi}': KPI '{each.kpi}' has "
                         "no plan", source, each.kpi_span,
                         hint=f"give it a plan (kpi {each.kpi} plan …), or pay on the running "
                         f"total of {each.kpi}"))
    if curve is not None and curve.kind.slices:
        out += _check_tier_units(variant, curve, each, source)
    return out


def check_deal_minimums(variant: Variant, source: SourceFile,
                        currency: str) -> list[Diagnostic]:
    """`with a minimum of 10 RUB`: a constant amount of money, not negative (KPI645); run
    once the constants are known."""
    from .fold import fold

    out: list[Diagnostic] = []
    for pay in variant.pays.values():
        each = pay.each
        if each is None or each.minimum is None:
            continue
        expr = each.minimum
        value = fold(expr, variant.constant_values)
        unit = expr.unit if isinstance(expr, ast.Literal) else Unit.ANY
        written = expr.currency if isinstance(expr, ast.Literal) else ""
        if value is None or value < 0:
            out.append(error("KPI645", f"payment '{pay.name}': the minimum a {each.noun} pays "
                             "must be a constant amount, not negative", source, expr.span,
                             hint="e.g. with a minimum of 10 RUB"))
        elif unit not in (Unit.ANY, Unit.MONEY) or (written and written != currency):
            out.append(error("KPI645", f"payment '{pay.name}': the minimum a {each.noun} pays "
                             f"is money in {currency}", source, expr.span,
                             hint=f"e.g. with a minimum of 10 {currency}"))
    return out


def _check_tier_units(variant: Variant, curve: ast.Curve, each: ast.EachDeal,
                      source: SourceFile) -> list[Diagnostic]:
    """Tiers in percent go with a running attainment, tiers in money with a running total."""
    units = {b.unit for band in curve.bands for b in (band.lower, band.upper)
             if isinstance(b, ast.Literal) and b.unit is not Unit.ANY}
    wanted = Unit.PERCENT if each.running == "attainment" else Unit.MONEY
    if units - {wanted}:
        return [error("KPI645", f"curve '{curve.name}' has bounds in "
                      f"{', '.join(sorted(u.value for u in units))}, but the running "
                      f"{each.running} is {wanted.value}", source, each.curve_span,
                      hint="on the running attainment write the bounds in % of the plan; on "
                      "the running total, in money")]
    return []


def _lower_each(variant: Variant, pay: ast.Pay) -> None:
    """The payment becomes `= <fact>`, the sum of its rounded per-deal lines, supplied by the
    sources stage; an employee without deals is paid 0."""
    assert pay.each is not None
    name = per_deal_fact(pay)
    words = {"ru": "по сделкам"}
    variant.facts[name] = ast.Fact(
        pay.span, name, f"{pay.label or pay.name}, deal by deal", name_span=pay.name_span,
        translations=tuple((lang, f"{text}, {words.get(lang, 'deal by deal')}")
                           for lang, text in pay.translations),
        unit=Unit.MONEY, if_missing=ast.Literal(pay.span, Decimal(0), Unit.ANY, "0"),
        aggregate=ast.SourceAggregate(pay.each.span, "pay", pay.each.source))
    variant.pays[pay.name] = replace(pay, formula=ast.Ref(pay.each.span, name))
