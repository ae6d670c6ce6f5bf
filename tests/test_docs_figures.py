"""Every figure a document prints is what `eval` computes on the same facts.

For every bundled scheme and every grade: each earnings row is re-evaluated from the facts the
document prints under the table, each worked example from its given facts, each statement
from the facts file; the amounts must agree to the kopeck and appear, formatted, in the
rendered Markdown and HTML of both languages.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.checks import BASE
from kpidsl.docs import plan_context, render_plan, render_statement
from kpidsl.docs.text import Say
from kpidsl.facts import FactRow, read_facts
from kpidsl.runtime import CONTEXT, round_to

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted((ROOT / "rulesets").rglob("*.kpi"))
VARIANTS = [(path, grade) for path in RULESETS
            for grade in [BASE, *kpidsl.load(path).grades]]


def _id(item: tuple[Path, str]) -> str:
    return f"{item[0].relative_to(ROOT / 'rulesets').as_posix()}:{item[1]}"


@pytest.fixture(scope="module")
def schemes() -> dict[Path, kpidsl.Ruleset]:
    return {path: kpidsl.load(path) for path in RULESETS}


def test_every_bundled_scheme_is_covered() -> None:
    assert ROOT / "rulesets" / "b2b_manager.kpi" in RULESETS
    assert len(VARIANTS) >= len(RULESETS)


@pytest.mark.parametrize("item", VARIANTS, ids=[_id(v) for v in VARIANTS])
def test_plan_document_figures_match_eval(item: tuple[Path, str],
                                          schemes: dict[Path, kpidsl.Ruleset]) -> None:
    path, name = item
    scheme = schemes[path]
    grade = None if name == BASE else name
    texts = {(lang, fmt): render_plan(scheme, grade, lang, fmt, examples="appendix")
             for lang in ("ru", "en") for fmt in ("md", "html")}
    for lang in ("ru", "en"):
        context = plan_context(scheme, grade, lang)
        say = Say(lang, scheme.currency, scheme.checked.variants[name])
        table = context["_earnings"]
        for row, shown in zip(table.rows, context["earnings"]["rows"], strict=True):
            evaluated = scheme.evaluate(row.facts, grade)
            if not row.fallback:
                assert row.components == evaluated.components
                assert row.total == evaluated.total
            else:
                _check_through_curves(scheme, name, row, evaluated)
            assert shown["total"] == say.money(row.total)
            assert shown["cells"] == [say.money(v) for v in row.components.values()]
            for fmt in ("md", "html"):
                assert say.money(row.total) in texts[(lang, fmt)]
        for calc in context["examples"]:
            evaluated = scheme.evaluate(calc["_facts"], grade)
            assert calc["total"] == say.money(evaluated.total)
            assert [c["amount"] for c in calc["components"]] == \
                [say.money(v) for v in evaluated.components.values()]
            assert [line["amount"] for line in calc["lines"]] == \
                [say.money(line.amount) for line in evaluated.lines]
            for fmt in ("md", "html"):
                assert say.money(evaluated.total) in texts[(lang, fmt)]


def _check_through_curves(scheme: kpidsl.Ruleset, name: str, row: object,
                          evaluated: kpidsl.Result) -> None:
    """A marked row differs from eval only in the lines recomputed as share × curve(X)."""
    info = scheme.infos[name]
    checked = scheme.checked
    expected = dict(evaluated.components)
    level = row.attainment  # type: ignore[attr-defined]
    with decimal.localcontext(CONTEXT):
        for line in evaluated.lines:
            kpi = evaluated.kpis[line.kpi]
            if kpi.plan is None or kpi.attainment == level:
                continue
            factor, _band = scheme.compiled.namespace[info.layout.curves[line.curve]](level)
            amount = round_to(line.share * factor, checked.payout_step, checked.payout_mode)
            expected[line.payment] += amount - line.amount
    assert row.components == expected  # type: ignore[attr-defined]


FACTS = sorted((ROOT / "rulesets").rglob("*.facts.csv"))


def _scheme_for(facts: Path) -> Path | None:
    own = facts.with_name(facts.name.replace(".facts.csv", ".kpi"))
    if own.exists():
        return own
    return None


STATEMENTS = [(s, f) for f in FACTS if (s := _scheme_for(f)) is not None]


@pytest.mark.parametrize("pair", STATEMENTS, ids=[p[1].name for p in STATEMENTS])
def test_statement_figures_match_eval(pair: tuple[Path, Path],
                                      schemes: dict[Path, kpidsl.Ruleset]) -> None:
    path, facts_path = pair
    scheme = schemes[path]
    rows = [r for r in read_facts(facts_path, scheme.fact_specs) if isinstance(r, FactRow)]
    results = list(scheme.evaluate_many(rows, on_error=lambda *_: None))
    assert results
    for result in results[:3]:
        for lang in ("ru", "en"):
            say = Say(lang, scheme.currency, scheme.checked.variants[result.grade])
            for fmt in ("md", "html"):
                text = render_statement(scheme, result, lang, fmt)
                assert say.money(result.total) in text
                for amount in result.components.values():
                    assert say.money(amount) in text
                for line in result.lines:
                    assert say.money(line.amount) in text


def test_reference_statement_total() -> None:
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    result = scheme.evaluate({"revenue": "3300000", "avg_check": "142500",
                              "conversion": "2.1%", "calls": 950}, employee="ivanov")
    assert result.total == Decimal("119800.00")
    text = render_statement(scheme, result, "ru", "md")
    assert "**Доход: 119\u00a0800,00\u00a0₽**" in text
    assert "RUB\u00a0119,800.00" in render_statement(scheme, result, "en", "html")
