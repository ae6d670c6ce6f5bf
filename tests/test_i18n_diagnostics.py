"""Diagnostics under `--lang ru`: every code has Russian texts, every message the tests'
broken schemes and facts files produce is read by a template, English stays as it was.

The Russian catalogue is `kpidsl/i18n/ru_diagnostics.py`; `tests/golden/checks_ru.txt`
shows every broken scheme of tests/fixtures/checks in Russian, for review.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl import diagnostics as diagnostics_module
from kpidsl.cli import main
from kpidsl.diagnostics import Diagnostic, render_all, sort_key
from kpidsl.grammar import TERMINAL_WORDS
from kpidsl.i18n import ru_diagnostics
from kpidsl.i18n.diagnostics import (
    CASES,
    catalogue,
    render,
    translate,
    translator,
    untranslated,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FORMATTER = string.Formatter()


def fields(text: str) -> dict[str, str]:
    return {name: spec for _lit, name, spec, _conv in FORMATTER.parse(text) if name}


def every_code_the_package_uses() -> set[str]:
    used = set()
    for path in (ROOT / "kpidsl").rglob("*.py"):
        used |= set(re.findall(r"[\"'](KPI\d{3})[\"']", path.read_text(encoding="utf-8")))
    return used


def test_every_code_has_russian_texts() -> None:
    documented = set(re.findall(r"^\| (KPI\d{3}) \|", (ROOT / "docs" / "diagnostics.md")
                                .read_text(encoding="utf-8"), flags=re.M))
    codes = every_code_the_package_uses() | documented
    russian = catalogue("ru")  # ru_diagnostics.py and each kind of curve's own
    assert sorted(codes - set(russian)) == []
    assert sorted(set(russian) - codes) == []  # no retired code lingers


def test_every_template_puts_back_what_it_reads() -> None:
    tables = [*catalogue("ru").values(), ru_diagnostics.COMMON,
              ru_diagnostics.PLACES, *ru_diagnostics.KINDS.values()]
    english_left = []
    for table in tables:
        for english, russian in table:
            wanted = fields(english)
            for kind in wanted.values():
                assert kind in (*ru_diagnostics.KINDS, "", "expected"), (english, kind)
            for text in ([russian] if isinstance(russian, str) else russian.values()):
                found = fields(text)
                assert set(found) <= set(wanted), (english, text)
                assert all(case in ("", *CASES) for case in found.values()), text
                if text != english and not _only_language_words(text):
                    english_left.append(text)
    assert english_left == []


def _only_language_words(text: str) -> bool:
    """Russian that keeps words of the language or options (pays, --percent points)."""
    from kpidsl.parser import RESERVED_WORDS

    rest = re.sub(r"'[^']*'|\{[^}]*\}|--[a-z-]+|\([^)]*\)|`[^`]*`|\"[^\"]*\"", " ", text)
    rest = re.sub(r"(напишите|например|пишите|задайте формулу|добавьте[^:]*):.*", " ", rest)
    words = set(re.findall(r"[A-Za-z][A-Za-z_]+", rest))
    allowed = {"KPI", "RUB", "SQL", "UTF", "CSV", "JSON", "XLSX", "Excel", "Python", "NUL",
               "API", "ASCII", "Windows", "cp", "None", "TOML", "kpidsl", "eval", "duckdb",
               "python", "jan", "dec", "kpi", "team_", "percent", "points", "fraction",
               "revenue", "xlsx", "en", "ru", "float", "Decimal", "int", "id", "sheet",
               "header_row", "columns", "workbook", "DOCTYPE", "count", "distinct", "is",
               "not", "one", "of", "ID", "amount", "where", "DuckDB"}  # names and code
    return all(w in RESERVED_WORDS or w in allowed for w in words)


def test_every_word_the_parser_expects_has_russian() -> None:
    for words in TERMINAL_WORDS.values():
        if (words.startswith("'") and words.count("'") == 2) or not re.search("[a-z]", words):
            continue  # a word of the language or a symbol, shown as it is
        assert words in ru_diagnostics.EXPECTED, words


# ---------------------------------------------------------------- a corpus of real messages

FACTS_SCHEME = """scheme facts_corpus "Facts corpus"
  currency RUB
  period month

fact revenue money "Revenue"
fact deals count "Deals"
fact conversion percent "Conversion" if missing 0%
fact talk_minutes minutes "Talk minutes" if missing 0

kpi revenue plan 1_000_000 RUB
kpi talk_minutes plan 100
pay bonus = revenue × 1% + conversion × 0 RUB + deals × 0 RUB
"""

SNIPPETS = {  # codes no fixture file shows
    "nesting": "scheme s\n  currency RUB\nkpi a = " + "(" * 120 + "1" + ")" * 120 + "\n",
    "long_number": "scheme s\n  currency RUB\nconstant c = 1" + "0" * 30 + "\n",
    "fine_number": "scheme s\n  currency RUB\nconstant c = 0." + "0" * 25 + "1\n",
    "no_formula": "scheme s\n  currency RUB\nkpi ghost plan 10\npay p = 1 RUB\n",
    "abs_min": "scheme s\n  currency RUB\nfact f money\nkpi a = abs(f, f) plan 1 RUB\n"
               "kpi b = min(f) plan 1 RUB\npay p = a + b\n",
    "round_step": "scheme s\n  currency RUB\nfact f money\npay p = round(f, 0)\n",
    "pool_both": "scheme s\n  currency RUB\nfact f money\nkpi f plan 1 RUB\n"
                 "curve c\n  from 0% pays attainment\npay p = 1 RUB pool 1 RUB\n"
                 "  for f weight 100% curve c\npay q\npay r pool 10 RUB\n  for f weight 100%\n"
                 "pay s = 5 RUB\n  for f weight 50% amount 3 RUB curve c\n",
    "linear_one": "scheme s\n  currency RUB\nfact f money\nkpi f plan 1 RUB\n"
                  "curve c linear\n  at 100% pays 100%\npay p pool 1 RUB\n"
                  "  for f weight 100% curve c\n",
    "grades": "scheme s\n  currency RUB\nfact f money\npay p = f\ngrade base\n"
              "grade a\n  drop nothing\ngrade a\n  pay p = f\ngrade b based on b\n",
    "team_part": "scheme s\n  currency RUB\nfact f money\nfact g count\nfact h count\n"
                 "fact i count\nfact j count\nfact k count\nfact l count\nfact m count\n"
                 "kpi f plan 1 RUB\nkpi g plan 1\nkpi h plan 1\nkpi i plan 1\nkpi j plan 1\n"
                 "kpi k plan 1\nkpi l plan 1\nkpi m plan 1\ncurve c\n  from 0% pays attainment\n"
                 "  cap 100%\npay p pool 100 RUB\n  for f weight 30% curve c\n"
                 "  for g weight 10% curve c\n  for h weight 10% curve c\n"
                 "  for i weight 10% curve c\n  for j weight 10% curve c\n"
                 "  for k weight 10% curve c\n  for l weight 10% curve c\n"
                 "  for m weight 10% curve c\n",
    "nul": "scheme s\n  currency RUB\n\x00\n",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Diagnostic]:
    """Every diagnostic made while checking the tests' broken schemes and reading their
    broken facts files (recorded as they are built, wherever that is)."""
    tmp = tmp_path_factory.mktemp("corpus")
    found: list[Diagnostic] = []
    original = Diagnostic.__init__

    def record(self: Diagnostic, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        found.append(self)

    scheme = tmp / "facts_corpus.kpi"
    scheme.write_text(FACTS_SCHEME, "utf-8")
    runs: list[list[str]] = []
    for path in sorted(FIXTURES.rglob("*.kpi")):
        runs.append(["check", str(path)])
    for name, text in SNIPPETS.items():
        path = tmp / f"{name}.kpi"
        path.write_bytes(text.encode("utf-8"))
        runs.append(["check", str(path)])
    for path in sorted((FIXTURES / "facts").iterdir()):
        runs.append(["eval", str(scheme), str(path), "--format", "json"])
    for path in [FIXTURES / "cli" / "crm_export.csv", FIXTURES / "cli" / "facts_cp1251.csv",
                 RULESETS / "b2b_manager.facts.csv"]:
        runs.append(["eval", str(RULESETS / "b2b_manager.kpi"), str(path), "--format", "json"])
    runs.append(["eval", str(RULESETS / "b2b_manager.kpi"), str(tmp / "missing.csv")])
    b2b, b2b_facts = str(RULESETS / "b2b_manager.kpi"), str(RULESETS / "b2b_manager.facts.csv")
    versions = RULESETS / "versions"
    seasonal = str(versions / "b2b_seasonal.facts.csv")
    holidays = tmp / "holidays.txt"
    holidays.write_text("2025-05-01\nnot a date\n", "utf-8")
    runs += [  # versions, periods, forecasts and goal seeking
        ["eval", str(versions), seasonal],
        ["eval", str(versions), seasonal, "--period", "2024-01"],
        ["eval", str(versions / "2025-h2.kpi"), seasonal, "--period", "2025-02"],
        ["eval", b2b, b2b_facts, "--period", "2025-13"],
        ["eval", b2b, b2b_facts, "--elapsed", "30", "--total-days", "21"],
        ["eval", b2b, b2b_facts, "--total-days", "0", "--elapsed", "1"],
        ["eval", b2b, b2b_facts, "--as-of", "2025-05-02", "--holidays", str(holidays)],
        ["target", b2b, b2b_facts, "--employee", "ivanov", "--earn", "1", "--vary", "revenu"],
        ["target", b2b, b2b_facts, "--employee", "nobody", "--earn", "1", "--vary", "revenue"],
        ["eval", str(tmp), b2b_facts],
    ]
    diagnostics_module.Diagnostic.__init__ = record  # type: ignore[method-assign]
    try:
        for args in runs:
            CliRunner().invoke(main, args)
    finally:
        diagnostics_module.Diagnostic.__init__ = original  # type: ignore[method-assign]
    unique = {(d.code, d.message, d.hint): d for d in found}
    return sorted(unique.values(), key=lambda d: (d.code, d.message))


def test_the_corpus_covers_most_codes(corpus: list[Diagnostic]) -> None:
    seen = {d.code for d in corpus}
    assert len(seen) >= 55, sorted(seen)


def test_every_message_of_the_corpus_reads_in_russian(corpus: list[Diagnostic]) -> None:
    misses = {f"{d.code}: {miss}" for d in corpus for miss in untranslated(d, "ru")}
    assert "\n".join(sorted(misses)) == ""


def test_russian_keeps_the_code_place_and_caret(corpus: list[Diagnostic]) -> None:
    for d in corpus:
        english, russian = d.render().splitlines(), render(d, "ru").splitlines()
        assert len(english) == len(russian), d
        assert russian[0].startswith(f"{d.location()}: "), russian[0]
        assert f" {d.code}: " in russian[0]
        for en, ru in zip(english[1:], russian[1:], strict=True):  # source line and caret
            if en.startswith(" "):
                assert en == ru or en.startswith("  hint: ")


def test_english_is_untouched(corpus: list[Diagnostic]) -> None:
    for d in corpus:
        assert render(d, "en") == d.render()
        assert translate(d.message, "en", d.code) == d.message


def test_names_and_cell_texts_pass_through_untranslated() -> None:
    t = translator("ru")
    assert t.text("KPI101", "unknown name 'revenu' in payment bonus") == \
        "неизвестное имя 'revenu' в выплате bonus"
    assert t.text("KPI501", "row 3, column 'Выручка': 'abc' is not a number") == \
        "строка 3, столбец 'Выручка': 'abc' — не число"
    assert t.text("KPI202", "cannot multiply money (RUB) by count") == \
        "нельзя умножать деньги (RUB) на количество"
    assert t.text("KPI201", "cannot compare percent with money (USD)") == \
        "нельзя сравнивать проценты с деньгами (USD)"
    # a message no template reads is shown as it is (and named by untranslated())
    assert t.text("KPI101", "something new") == "something new"


def check_fixtures() -> Iterator[Path]:
    yield from sorted((FIXTURES / "checks").glob("*.kpi"))


def test_russian_golden_of_every_broken_scheme(golden) -> None:  # type: ignore[no-untyped-def]
    parts = []
    for path in check_fixtures():
        found = kpidsl.check(path.read_text("utf-8"), path.name)
        parts.append("\n\n".join(render(d, "ru") for d in sorted(found, key=sort_key)))
        assert render_all(found) == render_all(found)  # English: the checks golden files
    golden.check("checks_ru", "\n\n".join(parts) + "\n")
