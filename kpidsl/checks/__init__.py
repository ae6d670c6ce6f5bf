"""The checker: ordered passes over each resolved variant, every problem reported at once."""

from __future__ import annotations

from .. import ast
from ..diagnostics import Diagnostic, error, sort_key
from ..source import SourceFile
from .curves import check_curve_units, check_curves
from .dates import check_effective
from .examples import check_examples
from .fold import fold
from .lookalikes import check_lookalikes
from .memory import check_memory
from .methodology import check_methodology
from .model import BASE, Change, CheckedRuleset, Variant
from .names import check_cycles, check_names, check_per_team
from .pools import check_pools
from .resolve import resolve
from .seasonal import check_seasonal_curves
from .sources import check_deal_minimums, check_sources
from .types import check_units

__all__ = ["BASE", "Change", "CheckedRuleset", "Variant", "check_ruleset", "unique"]


def check_ruleset(ruleset: ast.Ruleset, source: SourceFile) -> CheckedRuleset:
    variants, examples, diagnostics = resolve(ruleset, source)
    currency = ruleset.header.currency or "RUB"
    diagnostics += check_effective(ruleset.header, source)
    diagnostics += check_lookalikes(ruleset, source)
    for variant in variants.values():
        found = check_sources(variant, source)  # first: per-deal pays become formula payments
        found += check_names(variant, source) + check_per_team(variant, source, ruleset.header)
        order, cycles = check_cycles(variant, source)
        found += cycles
        variant.constant_order = [name for kind, name in order if kind == "constant"]
        variant.kpi_order = [name for kind, name in order if kind == "value"]
        found += check_units(variant, source, currency, order)
        found += check_deal_minimums(variant, source, currency)
        # pools and curves run on whatever resolved, so a misspelt name hides nothing else
        found += check_pools(variant, source, currency)
        found += check_curves(variant, source, currency)
        found += check_curve_units(variant, source, currency)
        found += check_seasonal_curves(variant, source)
        if not any(d.is_error for d in found):  # the method's lints judge a scheme that stands
            found += check_methodology(variant, source, ruleset.header, examples)
        diagnostics += found
    diagnostics += check_examples(examples, variants, source)
    if BASE in variants:
        diagnostics += check_memory(ruleset.header, variants[BASE], source)
    checked = CheckedRuleset(ruleset, source, variants, examples, unique(diagnostics))
    _rounding(checked)
    return checked


def _rounding(checked: CheckedRuleset) -> None:
    base = checked.base
    for rule in checked.header.rounding:
        step = fold(rule.step, base.constant_values)
        if step is None or step <= 0:
            checked.diagnostics.append(error("KPI208", "the rounding step must be a positive "
                                             "constant (e.g. 0.01)", checked.source,
                                             rule.step.span))
            continue
        if rule.target == "payouts":
            checked.payout_step, checked.payout_mode = step, rule.mode
        else:
            checked.attainment_step, checked.attainment_mode = step, rule.mode


def unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in `check`'s order, each once: grades share most statements, so a problem
    in a shared line is reported once (the language server assembles its diagnostics from
    parts of a scheme and puts them in this order too)."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for d in sorted(diagnostics, key=sort_key):
        key = (d.code, d.line, d.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out

