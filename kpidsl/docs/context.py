"""What the templates see: a plan document or a statement as plain, already formatted data.

Templates only lay out; every sentence is assembled here from the language's words, every
number is formatted here by Say, and every computed number comes from the compiled
evaluator (results of `Ruleset.evaluate`, or the compiled curve functions for charts). The
Markdown and HTML templates of one document read the same context, so they cannot differ.
"""

from __future__ import annotations

import decimal
import hashlib
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from .. import ast
from ..api import Ruleset
from ..checks import BASE, Variant
from ..checks.fold import fold
from ..labels import label_in
from ..results import Result
from ..runtime import CONTEXT
from ..units import Unit
from . import charts
from .calc import calculation, expectations, percent_like
from .changes import changes, gate_words
from .earnings import Earnings, earnings, examples_for
from .text import Say
from .words import MONTH_KEYS, Words


def _meta(ruleset: Ruleset, say: Say) -> dict[str, str]:
    header = ruleset.checked.header
    w = say.w
    if header.effective_from and header.effective_to:
        effective = w("effective_range", start=w.date(header.effective_from),
                      end=w.date(header.effective_to))
    elif header.effective_from:
        effective = w("effective_from", start=w.date(header.effective_from))
    else:
        effective = w("not_stated")
    return {
        w("version"): header.version or w("not_stated"),
        w("effective"): effective,
        w("period"): w(f"period_{header.period or 'month'}"),
        w("currency"): ruleset.currency,
    }


def _source(ruleset: Ruleset, w: Words) -> str:
    source = ruleset.checked.source
    digest = hashlib.sha256(source.text.encode("utf-8")).hexdigest()[:12]
    return w("source", file=PurePath(source.name.replace("\\", "/")).name, digest=digest)


def _grade_label(ruleset: Ruleset, name: str, lang: str) -> str:
    section = next((g for g in ruleset.checked.ruleset.grades if g.name == name), None)
    return label_in(section, lang) if section is not None else name


def _scheme_label(ruleset: Ruleset, lang: str) -> str:
    return label_in(ruleset.checked.header, lang)


def plan_context(ruleset: Ruleset, grade: str | None = None, lang: str = "en",
                 examples: str = "appendix") -> dict[str, Any]:
    """Everything a plan document shows, for one grade (None: the base scheme); the scheme's
    worked examples as an appendix, or not at all (`examples="none"`)."""
    name = grade or BASE
    if name not in ruleset.checked.variants:
        ruleset.evaluate({}, name)  # raises the KPI606 "unknown grade" diagnostic
    variant = ruleset.checked.variants[name]
    say = Say(lang, ruleset.currency, variant)
    w = say.w
    scheme = _scheme_label(ruleset, lang)
    table = earnings(ruleset, grade)
    at_plan = next((r.result for r in table.rows if r.attainment == 1), None)
    context: dict[str, Any] = {
        "lang": lang, "t": w.table, "kind": "plan",
        "title": scheme, "grade": _grade_label(ruleset, name, lang) if name != BASE else "",
        "meta": _meta(ruleset, say),
        "applies": w("applies_to_grade", scheme=scheme, grade=_grade_label(ruleset, name, lang))
        if name != BASE else w("applies_to", scheme=scheme),
        "paid_per": w("paid_per", period=w(f"period_{ruleset.checked.header.period or 'month'}"),
                      currency=ruleset.currency),
        "grades": w("grades_list", grades=", ".join(_grade_label(ruleset, g, lang)
                                                    for g in ruleset.grades))
        if ruleset.grades else "",
        "variant": _variant(ruleset, variant, say, lang),
        "earnings": _earnings(ruleset, say, variant, table),
        "kpis": _kpis(say, variant),
        "attainment_rules": _attainment_rules(say, variant),
        "pays": _pays(say, variant, at_plan),
        "constants": [{"label": say.label(c), "value": say.expr(const.value)}
                      for c, const in variant.constants.items()],
        "curves": _curves(ruleset, say, variant),
        "examples": _examples(ruleset, say, variant) if examples == "appendix" else [],
        "facts": _facts(ruleset, say, variant),
        "rounding": _rounding(ruleset, say),
        "source": _source(ruleset, w),
        "_earnings": table,
    }
    return context


def _variant(ruleset: Ruleset, variant: Variant, say: Say, lang: str) -> dict[str, Any] | None:
    if variant.parent is None:
        return None
    parent = ruleset.checked.variants[variant.parent]
    parent_label = _scheme_label(ruleset, lang) if parent.name == BASE else \
        _grade_label(ruleset, parent.name, lang)
    found = changes(say, parent, variant)
    return {"intro": say.w("variant_of", parent=parent_label) if found else
            say.w("no_changes", parent=parent_label), "changes": found}


def _earnings(ruleset: Ruleset, say: Say, variant: Variant, table: Earnings) -> dict[str, Any]:
    w = say.w
    columns = [say.label(p) for p in table.rows[0].components] if table.rows else []
    rows = [{"attainment": say.percent(r.attainment) + (" *" if r.fallback else ""),
             "cells": [say.money(v) for v in r.components.values()],
             "total": say.money(r.total), "at_plan": r.attainment == 1}
            for r in table.rows]
    notes = [w("earnings_fact_rule")]
    for kpi, fact in table.solved:
        decl = variant.kpis[kpi]
        equation = w("x_attainment_of", name=say.label(kpi)) + " = " + say.expr(decl.attainment) \
            if decl.attainment is not None else \
            f"{say.label(kpi)} = {say.expr(decl.formula)}"  # type: ignore[arg-type]
        notes.append(w("earnings_solved", kpi=say.label(kpi), fact=say.label(fact),
                       equation=equation))
    by_source: dict[str, list[str]] = {}
    for fact, source in table.base_facts.items():
        by_source.setdefault(source, []).append(say.label(fact))
    for source, facts in by_source.items():
        where = w("earnings_source_example", example=_example_label(ruleset, source, say)) \
            if source.startswith("example:") else w(f"earnings_source_{source}")
        notes.append(w("earnings_base", facts=", ".join(facts), source=where))
    notes += [w("earnings_fallback", kpi=say.label(k)) for k in table.fallback]
    if table.uses_months:
        notes.append(w("earnings_month"))
    if table.uses_team:
        notes.append(w("earnings_team"))
    fact_names = list(variant.facts)
    return {
        "columns": columns, "rows": rows, "notes": notes,
        "marked": any(r.fallback for r in table.rows),
        "fact_columns": [say.label(f) for f in fact_names],
        "fact_rows": [{"attainment": say.percent(r.attainment),
                       "cells": [say.value(r.facts[f], variant.facts[f].unit)
                                 for f in fact_names]}
                      for r in table.rows],
    }


def _example_label(ruleset: Ruleset, source: str, say: Say) -> str:
    name = source.split(":", 1)[1]
    return next((say.of(e) for e in ruleset.checked.examples if e.name == name), name)


def _kpis(say: Say, variant: Variant) -> list[dict[str, str]]:
    w = say.w
    out = []
    for name in variant.kpis:
        kpi = variant.kpis[name]
        unit = variant.units.get(name)
        if kpi.formula is None:
            how = w("from_fact", fact=say.of(variant.facts[name]) if name in variant.facts
                    else say.label(name))
        else:
            how = f"{say.label(name)} = {say.expr(kpi.formula)}"
        plan = w("no_plan")
        if kpi.plan is not None:
            value = fold(kpi.plan, variant.constant_values)
            plan = say.value(value, unit) if value is not None and unit is not None else \
                say.expr(kpi.plan)
            if kpi.plan_by_month:
                months = ", ".join(f"{w.month(m.month)}: {say.expr(m.value)}"
                                   for m in kpi.plan_by_month)
                plan += "; " + w("by_month", months=months)
        out.append({"label": say.label(name), "group": w(f"group_{kpi.group}") if kpi.group
                    else "", "how": how, "plan": plan,
                    "better": w(kpi.direction or "higher")})
    return out


def _attainment_rules(say: Say, variant: Variant) -> list[str]:
    w = say.w
    rules = [w("attainment_rule_higher")]
    if any(k.direction == "lower" and k.attainment is None for k in variant.kpis.values()):
        rules.append(w("attainment_rule_lower"))
    for name, kpi in variant.kpis.items():
        if kpi.attainment is not None:
            rules.append(w("attainment_custom", kpi=say.label(name),
                           formula=say.expr(kpi.attainment)))
    return rules


def _pays(say: Say, variant: Variant, at_plan: Result | None) -> list[dict[str, Any]]:
    w = say.w
    shares = {(line.payment, line.kpi): line.share for line in at_plan.lines} if at_plan else {}
    out = []
    for name, pay in variant.pays.items():
        entry: dict[str, Any] = {"label": say.label(name), "formula": "", "pool": "",
                                 "rows": [], "gates": ""}
        if pay.formula is not None:
            entry["formula"] = w("pay_formula", pay=say.label(name), formula=say.expr(pay.formula))
        if pay.items:
            pool = fold(pay.pool, variant.constant_values) if pay.pool is not None else None
            amount = say.money_written(pool) if pool is not None else \
                say.expr(pay.pool) if pay.pool is not None else "—"
            entry["pool"] = w("pool_of", pay=say.label(name), amount=amount)
            for item in pay.items:
                share = shares.get((name, item.kpi))
                entry["rows"].append({
                    "kpi": say.label(item.kpi),
                    "weight": say.expr(item.weight) if item.weight is not None else "—",
                    "share": say.money(share) if share is not None else
                    say.expr(item.amount) if item.amount is not None else "—",
                    "curve": say.label(item.curve or ""),
                    "conditions": "; ".join(gate_words(say, g) for g in item.gates),
                })
        entry["has_conditions"] = any(row["conditions"] for row in entry["rows"])
        if pay.gates:
            entry["gates"] = w("pay_gates", pay=say.label(name),
                               gates="; ".join(gate_words(say, g) for g in pay.gates))
        out.append(entry)
    return out


def _curves(ruleset: Ruleset, say: Say, variant: Variant) -> list[dict[str, Any]]:
    w = say.w
    info = ruleset.infos[variant.name]
    namespace = ruleset.compiled.namespace
    constants = variant.constant_values
    out = []
    for name, curve in variant.curves.items():
        pct = percent_like(curve)
        intro, rows = curve.kind.document_rows(
            say, curve, constants, pct, lambda e: _factor(say, e, constants))
        limits = []
        if curve.cap is not None:
            limits.append({"band": w("cap"), "pays": w("cap_row", value=_factor(say, curve.cap,
                                                                             constants))})
        if curve.uncapped is not None:
            limits.append({"band": w("cap"), "pays": w("uncapped_row")})
        if curve.floor is not None:
            limits.append({"band": w("floor"),
                           "pays": w("floor_row", value=_factor(say, curve.floor, constants))})
        function = namespace[info.layout.curves[name]]
        title = say.label(name)
        fmt_x = say.percent if pct else say.number
        fmt_y = say.percent if pct else say.number
        chart = charts.render(curve, function, constants, percent_like=pct, fmt_x=fmt_x,
                              fmt_y=fmt_y, words=w, title=title)
        jumps = [w("chart_cut_off" if j.cut_off else "chart_jump", x=fmt_x(j.at))
                 for j in chart.jumps]
        out.append({"name": name, "label": title, "intro": intro,
                    "input": w("band") if pct else w("value"),
                    "header": w(curve.kind.verb),
                    "rows": rows + limits, "chart": chart.svg,
                    "caption": "; ".join([w("chart_title", curve=title), *jumps])})
    return out


def _factor(say: Say, expr: ast.Expr, constants: dict[str, Decimal]) -> str:
    """A factor or rate: 80 % for 0.8, as written when it is a formula of attainment."""
    value = fold(expr, constants)
    if value is None:
        return say.expr(expr)
    if isinstance(expr, ast.Literal) and expr.unit not in (Unit.PERCENT, Unit.ANY):
        return say.expr(expr)
    return say.percent_exact(value)


def _examples(ruleset: Ruleset, say: Say, variant: Variant) -> list[dict[str, Any]]:
    out = []
    for example in examples_for(ruleset, variant.name):
        facts = {a.name: fold(a.value, variant.constant_values) for a in example.given}
        grade = variant.name if variant.name != BASE else None
        result = ruleset.evaluate(facts, grade, employee=example.name)
        calc = calculation(say, variant, result)
        calc["title"] = say.of(example)
        calc["expectations"] = expectations(say, variant, example, result)
        calc["_facts"] = facts
        calc["_result"] = result
        out.append(calc)
    return out


def _facts(ruleset: Ruleset, say: Say, variant: Variant) -> list[dict[str, str]]:
    info = ruleset.infos[variant.name]
    return [{"label": say.of(fact), "name": name,
             "unit": say.unit(fact.unit),
             "missing": say.value(info.defaults[name], fact.unit) if name in info.defaults
             else say.w("required")}
            for name, fact in variant.facts.items()]


def _rounding(ruleset: Ruleset, say: Say) -> list[str]:
    checked = ruleset.checked
    w = say.w
    rules = [w("rounding_payouts", step=say.money_written(checked.payout_step),
               mode=w("mode_" + checked.payout_mode))]
    if checked.attainment_step is not None:
        rules.append(w("rounding_attainment", step=say.percent_exact(checked.attainment_step),
                       mode=w("mode_" + checked.attainment_mode)))
    else:
        rules.append(w("rounding_attainment_none"))
    return rules


def statement_context(ruleset: Ruleset, result: Result, lang: str = "en", *,
                      name: str = "", month: int | None = None, period: str | None = None,
                      generated: str | None = None) -> dict[str, Any]:
    """One employee's month: the same tables as a worked example, with who and when, the
    employee on the payout curve, and a footer saying in plain words what computed it.

    `period` ('2025-03') names the month paid; `generated` ('2025-04-02') dates the footer
    (left out when not given, so the same inputs give the same document)."""
    variant = ruleset.checked.variants[result.grade]
    say = Say(lang, ruleset.currency, variant)
    w = say.w
    with decimal.localcontext(CONTEXT):
        calc = calculation(say, variant, result)
    who = f"{result.employee} ({name})" if name else result.employee
    meta = {w("employee"): who, w("scheme"): _scheme_label(ruleset, lang)}
    if result.grade != BASE:
        meta[w("grade")] = _grade_label(ruleset, result.grade, lang)
    if result.team:
        meta[w("team")] = result.team
    if period is not None:
        year, number = period.split("-")[:2]
        meta[w("paid_for")] = f"{w.month(MONTH_KEYS[int(number) - 1])} {year}"
    elif month is not None:
        meta[w("paid_for")] = w.month(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                       "sep", "oct", "nov", "dec")[month - 1])
    meta.update({k: v for k, v in _meta(ruleset, say).items()
                 if k != w("currency") and not (k == w("period") and w("paid_for") in meta)})
    period_word = w(f"period_{ruleset.checked.header.period or 'month'}")
    return {
        "lang": lang, "t": w.table, "kind": "statement", "title": _scheme_label(ruleset, lang),
        "employee": result.employee, "name": name, "meta": meta,
        "intro": w("statement_intro", employee=who,
                   period=meta.get(w("paid_for"), period_word)),
        "calc": calc, "explain": _explain(ruleset, result, lang),
        "deals": _deals(ruleset, result, lang),
        "chart": _employee_chart(ruleset, say, variant, result),
        "source": _source(ruleset, w), "_result": result,
        "footer": _statement_footer(ruleset, result, say, generated),
    }


def _deals(ruleset: Ruleset, result: Result, lang: str) -> dict[str, Any] | None:
    """Per-deal payments (kpidsl/sources/): a line per deal, or None without deals."""
    if not result.deals:
        return None
    from ..sources.explain import deal_table

    return deal_table(ruleset, result, lang)


def check_code(ruleset: Ruleset, result: Result) -> str:
    """A short code that changes when the scheme, the facts or any amount does: 'EEBA-56EB'.

    SHA-256 of the scheme's text and the result's exact JSON; quoting it lets anyone confirm
    that a printed statement matches what was computed."""
    import json

    digest = hashlib.sha256()
    digest.update(ruleset.checked.source.text.encode("utf-8"))
    digest.update(json.dumps(result.to_dict(), sort_keys=True, default=str).encode("utf-8"))
    text = digest.hexdigest()[:8].upper()
    return f"{text[:4]}-{text[4:]}"


def _statement_footer(ruleset: Ruleset, result: Result, say: Say,
                      generated: str | None) -> str:
    from .. import __version__

    w = say.w
    header = ruleset.checked.header
    version = w("footer_version", version=header.version) if header.version else ""
    date = w("footer_date", date=w.date(generated)) if generated else ""
    return w("statement_footer", program=f"kpidsl {__version__}",
             scheme=_scheme_label(ruleset, say.lang), version=version, date=date,
             code=check_code(ruleset, result))


def _employee_chart(ruleset: Ruleset, say: Say, variant: Variant,
                    result: Result) -> dict[str, Any] | None:
    """The curve most of the employee's pay lines run through, with the employee on it (one
    point per KPI paid through that curve), or None when no line uses a curve."""
    lines = [line for line in result.lines if line.curve and line.attainment is not None
             and line.curve in variant.curves]
    if not lines:
        return None
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.curve] = counts.get(line.curve, 0) + 1
    name = max(counts, key=lambda c: (counts[c], -list(counts).index(c)))
    curve = variant.curves[name]
    pct = percent_like(curve)
    fmt = say.percent if pct else say.number
    markers = tuple((line.attainment, line.factor, say.label(line.kpi))
                    for line in lines if line.curve == name and line.attainment is not None)
    function = ruleset.compiled.namespace[ruleset.infos[variant.name].layout.curves[name]]
    chart = charts.render(curve, function, variant.constant_values, percent_like=pct,
                          fmt_x=fmt, fmt_y=fmt, words=say.w, title=say.label(name),
                          markers=markers)
    legend = "; ".join(f"{n} — {label} ({say.attainment(x)})"
                       for n, (x, _y, label) in enumerate(markers, start=1))
    return {"svg": chart.svg,
            "caption": say.w("statement_chart", curve=say.label(name)) + ": " + legend}


def _explain(ruleset: Ruleset, result: Result, lang: str) -> list[dict[str, Any]]:
    """The line-by-line explanation of kpidsl.explain (one source of that prose)."""
    from ..explain import explain_lines

    return [{"depth": line.depth, "text": line.text, "kind": line.kind}
            for line in explain_lines(ruleset, result, lang, nbsp=True) if line.kind != "title"]
