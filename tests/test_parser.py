"""Parser: the AST of every bundled scheme (golden), literals exact, spans kept."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl import ast
from kpidsl.diagnostics import KpiError
from kpidsl.parser import parse
from kpidsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = [ROOT / "rulesets" / "b2b_manager.kpi", ROOT / "rulesets" / "b2b_manager_raw.kpi"]


def dump(node: object, indent: int = 0) -> str:
    """An indented, span-free rendering of AST nodes for golden files."""
    pad = "  " * indent
    if is_dataclass(node):
        parts = [f"{pad}{type(node).__name__}"]
        for f in fields(node):
            if f.name in ("span", "name_span", "curve_span", "source", "comments"):
                continue
            value = getattr(node, f.name)
            if value in (None, "", ()) or (f.name == "unit" and value is None):
                continue
            if is_dataclass(value) or isinstance(value, tuple):
                parts.append(f"{pad}  {f.name}:")
                parts.append(dump(value, indent + 2))
            else:
                parts.append(f"{pad}  {f.name}: {value}")
        return "\n".join(parts)
    if isinstance(node, tuple):
        return "\n".join(dump(item, indent) for item in node)
    return f"{pad}{node}"


@pytest.mark.parametrize("path", SCHEMES, ids=[p.stem for p in SCHEMES])
def test_ast_golden(path: Path, golden) -> None:
    ruleset, diagnostics = parse(SourceFile(path.name, path.read_text(encoding="utf-8")))
    assert diagnostics == []
    golden.check(f"parse/{path.stem}", dump(ruleset) + "\n")


def literal(text: str) -> ast.Literal:
    ruleset, diagnostics = parse(SourceFile("t", f'scheme s\nconstant c = {text}\n'))
    assert diagnostics == [], diagnostics
    value = ruleset.statements[0].value
    assert isinstance(value, ast.Literal)
    return value


def test_literals_are_exact() -> None:
    assert literal("3_000_000").value == Decimal(3_000_000)
    assert literal("2.1%").value == Decimal("0.021")
    assert literal("80 %").value == Decimal("0.80")
    money = literal("150_000.50 RUB")
    assert (money.value, money.currency) == (Decimal("150000.50"), "RUB")
    assert literal("60 000 ₽".replace(" ", "_")).currency == "RUB"


def test_spans_point_into_the_text() -> None:
    text = 'scheme s\nfact revenue money "Выручка"\n'
    ruleset, _ = parse(SourceFile("t", text))
    fact = ruleset.statements[0]
    assert (fact.name_span.line, fact.name_span.column) == (2, 6)
    assert fact.label == "Выручка"


def test_cyrillic_identifiers() -> None:
    text = ('scheme план_продаж "План"\nfact выручка money\nkpi выручка plan 100 RUB\n'
            "pay оклад = 10 RUB\n")
    ruleset = kpidsl.loads(text)
    assert ruleset.evaluate({"выручка": "100"}).total == Decimal("10.00")


GLUED_BASE = ('scheme s "S"\nfact rev money\nfact calls count\nkpi r = rev plan 100_000 RUB\n'
              "pay bonus = 10 RUB\n")


@pytest.mark.parametrize(("was", "glued", "where", "message"), [
    ("kpi r", "kpir", "4:1", "'kpir' reads as 'kpi r': a space is missing after 'kpi'"),
    ("plan 100_000", "plan100_000", "4:13",
     "'plan100_000' reads as 'plan 100_000': a space is missing after 'plan'"),
    ("fact выручка", "factвыручка", "3:1",
     "'factвыручка' reads as 'fact выручка': a space is missing after 'fact'"),
])
def test_a_word_glued_to_the_next_is_refused(was: str, glued: str, where: str,
                                             message: str) -> None:
    """The parser alone would split `kpir` into `kpi r`; it is refused with the space to add."""
    text = GLUED_BASE.replace("fact calls", "fact выручка").replace(was, glued, 1)
    ruleset, diagnostics = parse(SourceFile("g.kpi", text))
    assert ruleset is None
    assert [(d.code, f"{d.line}:{d.column}", d.message, d.hint) for d in diagnostics] == [
        ("KPI008", where, message, f"write '{was}'")]
    assert parse(SourceFile("g.kpi", text.replace(glued, was, 1)))[1] == []


def test_a_number_glued_to_its_currency_is_still_read() -> None:
    """`100_000RUB`: a digit before the currency is no word split in two."""
    assert parse(SourceFile("g.kpi", GLUED_BASE.replace("100_000 RUB", "100_000RUB")))[1] == []


def test_comments_are_kept_for_the_formatter() -> None:
    ruleset, _ = parse(SourceFile("t", '# top\nscheme s "Plan #1" # name\n'))
    assert ruleset.comments == ((1, "# top"), (2, "# name"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_arbitrary_text_gives_only_diagnostics(text: str) -> None:
    diagnostics = kpidsl.check(text)
    assert all(d.code.startswith("KPI") for d in diagnostics)
    try:
        kpidsl.loads(text)
    except KpiError as exc:
        assert exc.diagnostics


KEYWORDS = ["scheme", "fact", "kpi", "pay", "curve", "plan", "pool", "for", "weight", "below",
            "from", "above", "through", "pays", "attainment", "=", "+", "×", "/", "(", ")",
            "80%", "1_000", "60_000 RUB", "revenue", '"label"', "money", "count", "otherwise",
            "\n", " ", "example", "given", "expect", "total", "grade", "based on", ","]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(KEYWORDS), max_size=40))
def test_keyword_soup_gives_only_diagnostics(words: list[str]) -> None:
    text = "scheme s\n" + " ".join(words)
    for d in kpidsl.check(text):
        assert d.code.startswith("KPI") and d.line >= 1
