"""Plan documents: the figures a manager reads, the words around them, both languages, both
formats, and golden files of the reference scheme."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import html5lib
import pytest
from jinja2 import UndefinedError

import kpidsl
from kpidsl.docs import earnings, plan_context, render_plan
from kpidsl.docs.render import environment, md_escape
from kpidsl.docs.words import WORDS

ROOT = Path(__file__).resolve().parent.parent
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def b2b() -> kpidsl.Ruleset:
    return kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")


@pytest.fixture(scope="module")
def raw() -> kpidsl.Ruleset:
    return kpidsl.load(ROOT / "rulesets" / "b2b_manager_raw.kpi")


def _parse_html(text: str) -> object:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(text)


# ---------------------------------------------------------------- done-when figures


def test_russian_html_shows_110_000_at_plan_and_a_chart(b2b: kpidsl.Ruleset) -> None:
    text = render_plan(b2b, lang="ru", fmt="html")
    # the at-plan row, highlighted: salary 60 000 + bonus 50 000 + commission 0
    row = text.split('<tr class="at-plan">', 1)[1].split("</tr>", 1)[0]
    assert row == (f'<td class="num">100{NBSP}%</td><td class="num">60{NBSP}000,00{NBSP}₽</td>'
                   f'<td class="num">50{NBSP}000,00{NBSP}₽</td><td class="num">0,00{NBSP}₽</td>'
                   f'<td class="num">110{NBSP}000,00{NBSP}₽</td>')
    assert f"110{NBSP}000" in text
    assert text.count("<svg ") == 1 and "<polyline" in text
    assert f"отсечка 80{NBSP}%" in text  # the cut-off is marked on the chart
    _parse_html(text)


def test_english_markdown_shows_110000_at_plan(b2b: kpidsl.Ruleset) -> None:
    text = render_plan(b2b, lang="en", fmt="md")
    assert ("| **100%** | **RUB\u00a060,000.00** | **RUB\u00a050,000.00** | **RUB\u00a00.00** | "
            "**RUB\u00a0110,000.00** |") in text
    assert "110,000" in text


def test_earnings_rows_of_the_reference_scheme(b2b: kpidsl.Ruleset) -> None:
    table = earnings(b2b)
    got = {str(r.attainment): (r.components["salary"], r.components["bonus"],
                               r.components["commission"], r.total) for r in table.rows}
    assert got == {
        "0.7": (Decimal("60000.00"), Decimal("0.00"), Decimal("0.00"), Decimal("60000.00")),
        "0.8": (Decimal("60000.00"), Decimal("40000.00"), Decimal("0.00"), Decimal("100000.00")),
        "0.9": (Decimal("60000.00"), Decimal("45000.00"), Decimal("0.00"), Decimal("105000.00")),
        "1": (Decimal("60000.00"), Decimal("50000.00"), Decimal("0.00"), Decimal("110000.00")),
        # 50 000 × 1.1 × 1.2 = 66 000; (3 300 000 − 3 000 000) × 30 % × 2 % = 1 800
        "1.1": (Decimal("60000.00"), Decimal("66000.00"), Decimal("1800.00"),
                Decimal("127800.00")),
        "1.2": (Decimal("60000.00"), Decimal("72000.00"), Decimal("3600.00"),
                Decimal("135600.00")),
    }
    assert table.direct == ["revenue", "avg_check", "conversion", "calls"]
    assert not table.solved and not table.fallback and not table.base_facts
    assert not any(r.fallback for r in table.rows)


def test_earnings_invert_formula_kpis(raw: kpidsl.Ruleset) -> None:
    """avg_check = revenue / deals: deals is chosen; conversion = meetings / calls likewise."""
    table = earnings(raw)
    assert table.solved == [("avg_check", "deals"), ("conversion", "meetings")]
    row = next(r for r in table.rows if r.attainment == Decimal("1.1"))
    assert row.facts == {"revenue": Decimal("3300000.0"), "deals": Decimal("20"),
                         "meetings": Decimal("24.2000"), "calls": Decimal("1100.0")}
    assert all(k.attainment == Decimal("1.1") for k in row.result.kpis.values())
    assert row.total == Decimal("127800.00") and not row.fallback


def test_earnings_fall_back_to_the_curve_when_facts_cannot_reach_the_level() -> None:
    scheme = kpidsl.loads(SCHEME_WITH_GATE.replace(
        "kpi calls \"Calls\" plan 100", "kpi calls \"Calls\" = min(calls_fact, 100) plan 100"))
    table = earnings(scheme)
    row = next(r for r in table.rows if r.attainment == Decimal("1.2"))
    # min() cannot be inverted: calls stay at the example's 100 (100 %), so the line is
    # computed through the curve at 120 %: 10 000 × 1.2 = 12 000, and the row is marked
    assert table.fallback == ["calls"]
    assert row.fallback and row.result.components["bonus"] == Decimal("22000.00")
    assert row.components["bonus"] == Decimal("24000.00")
    text = render_plan(scheme, lang="en", fmt="md")
    assert "| 120% \\* |" in text and "computed directly through the curve" in text


SCHEME_WITH_GATE = """
scheme gated "Gated"
  currency RUB
fact revenue money "Revenue"
fact calls_fact count "Calls made"
curve flat "Flat"
  below 80% pays 0
  from 80% pays attainment
kpi revenue "Revenue" plan 1_000_000 RUB
kpi calls "Calls" plan 100
pay bonus "Bonus" pool 20_000 RUB
  for revenue weight 50% curve flat
  for calls weight 50% curve flat only if attainment of revenue >= 90%
example e "e"
  given revenue = 1_000_000 RUB, calls_fact = 100
  expect total = 20_000 RUB
"""


# ---------------------------------------------------------------- words and formulas


def test_both_languages_have_every_phrase() -> None:
    assert set(WORDS["ru"]) == set(WORDS["en"])
    for key in WORDS["en"]:
        fields_en = {p for p in WORDS["en"][key].split("{")[1:]}
        fields_ru = {p for p in WORDS["ru"][key].split("{")[1:]}
        assert {f.split("}")[0] for f in fields_en} == {f.split("}")[0] for f in fields_ru}, key


def test_formulas_in_plain_words(raw: kpidsl.Ruleset) -> None:
    kpis = {k["label"]: k["how"] for k in plan_context(raw, lang="ru")["kpis"]}
    assert kpis["Средний чек"] == ("Средний чек = Выручка ÷ Количество сделок "
                                   f"(или 0{NBSP}₽, если Количество сделок равно 0)")
    assert kpis["Выручка"] == "факт «Выручка» из учётной системы"
    assert plan_context(raw, lang="ru")["pays"][2]["formula"] == (
        "Процент с продаж = макс(Выручка − план «Выручка»; 0) × Маржинальность × Процент с маржи")
    pays = plan_context(raw, lang="en")["pays"]
    assert pays[2]["formula"] == ("Commission = max(Revenue − plan for Revenue, 0) × Margin rate "
                                  "× Commission on margin")


def test_document_words_follow_the_language_and_so_do_labels_that_have_translations(
        b2b: kpidsl.Ruleset) -> None:
    ru = render_plan(b2b, lang="ru", fmt="md")
    en = render_plan(b2b, lang="en", fmt="md")
    assert "## Сколько вы заработаете" in ru and "## What you earn" in en
    assert ru.startswith("# Менеджер по продажам B2B\n") and en.startswith("# B2B sales manager\n")
    assert "| Выручка | результат |" in ru and "| Revenue | result |" in en
    untranslated = kpidsl.loads(GRADED)  # labels without translations are shown as written
    assert "| Revenue |  | факт «Revenue» из учётной системы |" in render_plan(
        untranslated, lang="ru", fmt="md")
    assert "Действует: с января 2025" in ru and "Effective: from January 2025" in en
    assert "Версия: 2025.1" in ru


def test_a_grade_document_lists_what_differs_from_its_base() -> None:
    scheme = kpidsl.loads(GRADED)
    context = plan_context(scheme, "junior", "en")
    assert context["variant"] == {
        "intro": "This grade is based on Graded. What differs from it:",
        "changes": ["plan of Calls: 100 → 80", "Bonus, weight of Revenue: 50% → 30%",
                    "Bonus, weight of Calls: 50% → 70%"],
    }
    lead = plan_context(scheme, "lead", "ru")["variant"]
    assert lead["intro"] == "Грейд основан на схеме «Junior». Отличия от неё:"
    assert lead["changes"] == ["добавлена выплата Extra"]
    assert plan_context(scheme, None, "en")["variant"] is None


GRADED = """
scheme graded "Graded"
  currency RUB
fact revenue money "Revenue"
fact calls count "Calls"
curve flat "Flat"
  below 80% pays 0
  from 80% pays attainment
kpi revenue "Revenue" plan 1_000_000 RUB
kpi calls "Calls" plan 100
pay bonus "Bonus" pool 20_000 RUB
  for revenue weight 50% curve flat
  for calls weight 50% curve flat
grade junior "Junior"
  kpi calls plan 80
  pay bonus
    for revenue weight 30%
    for calls weight 70%
grade lead "Lead" based on junior
  pay extra "Extra" = 1_000 RUB
"""


def test_unknown_grade_is_a_diagnostic(b2b: kpidsl.Ruleset) -> None:
    with pytest.raises(kpidsl.KpiError) as info:
        render_plan(b2b, "nobody")
    assert info.value.diagnostics[0].code == "KPI606"


def test_unknown_language_and_format_are_refused(b2b: kpidsl.Ruleset) -> None:
    with pytest.raises(ValueError, match="unknown language 'de'"):
        render_plan(b2b, lang="de")
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render_plan(b2b, fmt="pdf")


# ---------------------------------------------------------------- escaping and templates


HOSTILE = """
scheme hostile "<script>alert(1)</script> | *bold*"
  currency RUB
fact revenue money "Rev <b>enue</b> | _x_"
curve flat "Flat & <i>co</i>"
  below 80% pays 0
  from 80% pays attainment
kpi revenue "Rev <b>enue</b> | _x_" plan 1_000_000 RUB
pay bonus "Bonus" pool 20_000 RUB
  for revenue weight 100% curve flat
"""


def test_html_is_escaped_and_markdown_cannot_break_tables() -> None:
    scheme = kpidsl.loads(HOSTILE)
    html = render_plan(scheme, lang="en", fmt="html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Flat &amp; &lt;i&gt;co&lt;/i&gt;" in html  # inside the SVG too
    _parse_html(html)
    md = render_plan(scheme, lang="en", fmt="md")
    assert "| Rev \\<b\\>enue\\</b\\> \\| \\_x\\_ | result" not in md  # group is empty here
    assert "| Rev \\<b\\>enue\\</b\\> \\| \\_x\\_ |  | the fact" in md
    assert md_escape("a|b*c") == "a\\|b\\*c"


def test_html_is_self_contained(b2b: kpidsl.Ruleset) -> None:
    html = render_plan(b2b, lang="ru", fmt="html")
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert "@page { size: A4;" in html


def test_templates_use_strict_undefined(tmp_path: Path, b2b: kpidsl.Ruleset) -> None:
    (tmp_path / "plan.md.j2").write_text("{{ no_such_thing }}\n", encoding="utf-8")
    with pytest.raises(UndefinedError):
        render_plan(b2b, lang="en", fmt="md", template_dir=tmp_path)


def test_a_template_directory_overrides_only_what_it_has(tmp_path: Path,
                                                          b2b: kpidsl.Ruleset) -> None:
    (tmp_path / "plan.md.j2").write_text(
        "{{ title }}: {{ earnings.rows[3].total }}\n",
        encoding="utf-8")
    text = render_plan(b2b, lang="en", fmt="md", template_dir=tmp_path)
    assert text == "B2B sales manager: RUB\u00a0110,000.00\n"
    assert render_plan(b2b, lang="en", fmt="html", template_dir=tmp_path).startswith(
        "<!DOCTYPE html>")


def test_environments_escape_by_format() -> None:
    assert environment("html").autoescape is True
    assert environment("md").autoescape is False


# ---------------------------------------------------------------- golden files


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_golden_plan_documents(golden, b2b: kpidsl.Ruleset, lang: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    golden.check(f"docs/b2b_manager.plan.{lang}.{fmt}", render_plan(b2b, lang=lang, fmt=fmt))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_golden_plan_of_a_graded_scheme(golden, lang: str) -> None:  # type: ignore[no-untyped-def]
    scheme = kpidsl.loads(GRADED, "graded.kpi")
    golden.check(f"docs/graded.junior.plan.{lang}.md", render_plan(scheme, "junior", lang, "md"))
