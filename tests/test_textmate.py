"""The TextMate grammar of editors/vscode against the language's own grammar.

The words and their scopes are derived here from grammars/kpi.lark (through Lark's
terminals), never copied: a keyword added to the Lark grammar that the TextMate grammar
lacks fails `test_every_grammar_word_has_its_scope` at once, and the syntax tests that
`vscode-tmgrammar-test` runs (over every bundled scheme and a file of every word) fail too.
Those need the npm packages pinned in editors/vscode/package-lock.json (`.ci/run` installs
them with `npm ci`); without them that test is skipped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lark.lexer import PatternStr

from kpidsl.grammar import parser
from kpidsl.lsp.completion import words_of
from kpidsl.parser import STATEMENT_WORDS

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "kpi.tmLanguage.json"
TOOL = VSCODE / "node_modules" / ".bin" / "vscode-tmgrammar-test"
SCHEMES = sorted((ROOT / "rulesets").rglob("*.kpi"))

COMMENT = "comment.line.number-sign.kpi"
LABEL = "string.quoted.double.kpi"
NUMBER = "constant.numeric.kpi"
PERCENT = "constant.numeric.percent.kpi"
DATE = "constant.other.date.kpi"
# a word's scope, by the first of these that the word belongs to
STATEMENT, KEYWORD, FUNCTION, UNIT, CURRENCY, WORD = (
    "storage.type.kpi", "keyword.other.kpi", "support.function.kpi", "support.type.unit.kpi",
    "support.constant.currency.kpi", "constant.language.kpi")


def word_scopes() -> dict[str, str]:
    """Every word of grammars/kpi.lark and the scope it must have."""
    keywords: set[str] = set()
    by_terminal: dict[str, tuple[str, ...]] = {}
    for terminal in parser().terminals:
        words = words_of(terminal.name)
        if isinstance(terminal.pattern, PatternStr):
            keywords.update(words)
        elif words:
            by_terminal[terminal.name] = words
    scopes: dict[str, str] = {}
    for word in sorted(keywords):
        scopes[word] = STATEMENT if word in STATEMENT_WORDS else KEYWORD
    for terminal, scope in (("FUNCTION", FUNCTION), ("UNIT", UNIT), ("CURRENCY", CURRENCY)):
        for word in by_terminal.pop(terminal, ()):
            scopes.setdefault(word, scope)
    for words in by_terminal.values():
        for word in words:
            scopes.setdefault(word, WORD)
    return scopes


def _patterns() -> list[tuple[str, re.Pattern[str], str]]:
    """(repository key, regex, scope) in the grammar's order of precedence."""
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    out = []
    for include in grammar["patterns"]:
        key = include["include"].lstrip("#")
        rule = grammar["repository"][key]
        if "match" in rule and "name" in rule:
            out.append((key, re.compile(rule["match"]), rule["name"]))
    return out


def test_every_grammar_word_has_its_scope() -> None:
    """At the start of a line, a lone word gets the scope of the first pattern matching it
    (TextMate's rule for patterns matching at the same place)."""
    patterns = _patterns()
    scopes = word_scopes()
    assert {"kpi", "weight", "money", "RUB", "₽", "half up", "jan"} <= set(scopes)
    wrong = []
    for word, expected in sorted(scopes.items()):
        found = next((scope for _, regex, scope in patterns
                      if (m := regex.match(word)) and m.end() == len(word)), None)
        if found != expected:
            wrong.append(f"'{word}': expected {expected}, the TextMate grammar gives {found}")
    assert not wrong, ("add these words of grammars/kpi.lark to the pattern with that scope in "
                       "editors/vscode/syntaxes/kpi.tmLanguage.json:\n" + "\n".join(wrong))


# ---------------------------------------------------------------- syntax tests

_TOKEN = re.compile(r'(?P<comment>#.*)|(?P<label>"(?:[^"\\\n]|\\.)*")'
                    r"|(?P<date>\d{4}-\d{2}(?:-\d{2})?)(?![\w-])"
                    r"|(?P<percent>\d[\d_]*(?:\.\d+)?[ \t]*%)|(?P<number>\d[\d_]*(?:\.\d+)?)"
                    r"|(?P<word>half[ \t]+(?:up|even|down)\b|[^\W\d]\w*)|(?P<sign>[₽€])|.")


def assertions(line: str, scopes: dict[str, str]) -> list[str]:
    """Assertion lines for one source line: every comment, label, number, date and word of
    the language, each with the scope it must get."""
    out = []
    for match in _TOKEN.finditer(line):
        kind = match.lastgroup
        text = match.group(0)
        if kind in (None, "word", "sign"):
            scope = scopes.get(re.sub(r"[ \t]+", " ", text))
        else:
            scope = {"comment": COMMENT, "label": LABEL, "date": DATE, "percent": PERCENT,
                     "number": NUMBER}[kind]
        if scope is None:
            continue
        start, width = match.start(), len(text)
        out.append(f"# <{'-' * width} {scope}" if start == 0 else
                   f"#{' ' * (start - 1)}{'^' * width} {scope}")
    return out


def syntax_test(name: str, text: str, scopes: dict[str, str]) -> str:
    lines = [f'# SYNTAX TEST "source.kpi" "{name}"']
    for line in text.split("\n"):
        lines.append(line)
        lines += assertions(line, scopes)
    return "\n".join(lines) + "\n"


def test_assertions_are_made_as_the_tool_reads_them() -> None:
    scopes = word_scopes()
    assert assertions('kpi revenue "Revenue" plan 3_000_000 RUB  # result', scopes) == [
        "# <--- storage.type.kpi",
        '#           ^^^^^^^^^ string.quoted.double.kpi',
        "#                     ^^^^ keyword.other.kpi",
        "#                          ^^^^^^^^^ constant.numeric.kpi",
        "#                                    ^^^ support.constant.currency.kpi",
        "#                                         ^^^^^^^^ comment.line.number-sign.kpi"]
    assert assertions("  for calls weight 20% round half up", scopes)[2:] == [
        "#" + " " * 18 + "^^^ constant.numeric.percent.kpi",
        "#" + " " * 22 + "^^^^^ keyword.other.kpi",
        "#" + " " * 28 + "^^^^^^^ constant.language.kpi"]


@pytest.mark.skipif(not TOOL.exists(), reason="npm packages not installed (npm ci in "
                    "editors/vscode; .ci/run does it)")
def test_tmgrammar_over_every_bundled_scheme(tmp_path: Path) -> None:
    scopes = word_scopes()
    assert len(SCHEMES) >= 6
    for path in SCHEMES:
        name = str(path.relative_to(ROOT))
        (tmp_path / (name.replace("/", "__"))).write_text(
            syntax_test(name, path.read_text(encoding="utf-8"), scopes), encoding="utf-8")
    every_word = "\n".join(f"  {word}" for word in sorted(scopes)) + \
        "\n  80%\n  2.5 %\n  3_000_000 RUB\n  150_000 ₽\n  effective from 2025-01-01\n" \
        '  "a label with # and \\" inside"\n# a comment with "quotes"\n'
    (tmp_path / "every_word.kpi").write_text(syntax_test("every word", every_word, scopes),
                                             encoding="utf-8")
    result = subprocess.run(
        [str(TOOL), "-c", "-g", str(GRAMMAR), str(tmp_path / "*.kpi")],
        cwd=VSCODE, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert result.stdout.count("✓") + result.stdout.count("√") >= len(SCHEMES) + 1 or \
        "fail" not in result.stdout.lower()


# ---------------------------------------------------------------- Vim

VIM_SYNTAX = ROOT / "editors" / "vim" / "syntax" / "kpi.vim"
VIM_GROUPS = {STATEMENT: "kpiStatement", KEYWORD: "kpiKeyword", FUNCTION: "kpiFunction",
              UNIT: "kpiUnit", CURRENCY: "kpiCurrency", WORD: "kpiWord"}


def test_vim_syntax_lists_every_grammar_word() -> None:
    listed: dict[str, str] = {}
    for line in VIM_SYNTAX.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts[:2] == ["syn", "keyword"]:
            for word in parts[3:]:
                listed.setdefault(word, parts[2])
    wrong = [f"'{word}' belongs in {VIM_GROUPS[scope]}, the Vim syntax has "
             f"{listed.get(word)}" for word, scope in sorted(word_scopes().items())
             if " " not in word and word not in "₽€" and listed.get(word) != VIM_GROUPS[scope]]
    assert not wrong, "editors/vim/syntax/kpi.vim:\n" + "\n".join(wrong)


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
def test_vim_highlights_a_bundled_scheme(tmp_path: Path) -> None:
    """Vim itself loads the syntax file (no error) and names the groups under the cursor."""
    scheme = ROOT / "rulesets" / "b2b_manager.kpi"
    lines = scheme.read_text(encoding="utf-8").split("\n")
    probes = []
    for needle, group in (("fact revenue", "kpiStatement"), ("revenue     money", "kpiDeclared"),
                          ("money", "kpiUnit"), ('"Revenue"', "kpiLabel"),
                          ("3_000_000", "kpiNumber"),
                          ("RUB", "kpiCurrency"), ("80%", "kpiPercent"), ("# The", "kpiComment"),
                          ("group result", "kpiKeyword"), ("result", "kpiWord"),
                          ("2025-01", "kpiDate")):
        index = next(i for i, line in enumerate(lines) if needle in line and
                     not (line.startswith("#") and group != "kpiComment"))
        probes.append((index + 1, lines[index].index(needle) + 1, group))
    out = tmp_path / "groups"
    script = " | ".join(f'call add(r, synIDattr(synID({line}, {col}, 1), "name"))'
                        for line, col, _ in probes)
    result = subprocess.run(
        ["vim", "-Nu", "NONE", "-es", "-i", "NONE", "-c", f"set rtp^={ROOT / 'editors' / 'vim'}",
         "-c", "filetype plugin on", "-c", "syntax on", "-c", f"e {scheme}", "-c", "let r = []",
         "-c", script, "-c", f'call writefile(r + [v:errmsg], "{out}")', "-c", "qa!"],
        capture_output=True, text=True, timeout=60, check=False)
    found = out.read_text(encoding="utf-8").splitlines()
    assert found[:-1] == [group for _, _, group in probes], result.stderr
    assert found[-1] == ""  # no error while loading the syntax file
