"""The parser as `kpidsl check` gets it reads every text as Lark's own does.

Its stored copy (kpidsl.grammar.parser) reads as the parser Lark builds from the grammar:
the same trees, the same syntax errors with the same expected terminals, the same
interactive parser. Its contextual lexer (kpidsl.lexing) gives the tokens Lark's own
gives, whether a state tries its terminals one at a time or has compiled Lark's joined
expression."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import lark
import pytest

from kpidsl import grammar, lexing

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = sorted([*ROOT.glob("rulesets/**/*.kpi"), *ROOT.glob("tests/fixtures/**/*.kpi")])


@pytest.fixture(scope="module")
def parsers(tmp_path_factory: pytest.TempPathFactory) -> tuple[lark.Lark, lark.Lark]:
    """(loaded from a stored copy in a new folder, built from the grammar)"""
    text = grammar.grammar_path().read_text(encoding="utf-8")
    built = lark.Lark(text, **grammar.OPTIONS)
    where = tmp_path_factory.mktemp("stored") / "parser.pickle"
    grammar._store(lark.Lark(text, **grammar.OPTIONS), where)
    loaded = grammar._load(where)
    assert loaded is not None and loaded is not built
    return loaded, built


def _shape(node: Any) -> Any:
    """A tree as nested tuples, with each token's type and place (a Token compares as its
    text only)."""
    if isinstance(node, lark.Tree):
        return (node.data, node.meta.line if not node.meta.empty else None,
                tuple(_shape(child) for child in node.children))
    return (node.type, str(node), node.start_pos, node.end_pos, node.line, node.column,
            node.end_line, node.end_column)


def _outcome(parser: lark.Lark, text: str) -> Any:
    try:
        return _shape(parser.parse(text))
    except lark.exceptions.UnexpectedInput as exc:
        # (str(exc) lists the expected set in its iteration order, which two parsers built
        # in one process need not share either; kpidsl sorts them)
        return ("error", type(exc).__name__, exc.line, exc.column,
                getattr(exc, "pos_in_stream", None), repr(getattr(exc, "token", None)),
                getattr(exc, "char", None),
                sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()))


def test_the_stored_parser_reads_every_scheme_and_cut_as_the_built_one(
        parsers: tuple[lark.Lark, lark.Lark]) -> None:
    loaded, built = parsers
    assert len(SCHEMES) > 10
    compared = errors = 0
    for path in SCHEMES:
        text = path.read_text(encoding="utf-8")
        # the whole text, and cut at 40 places: syntax errors all through the grammar
        for end in {len(text), *range(1, len(text), max(1, len(text) // 40))}:
            ours, theirs = _outcome(loaded, text[:end]), _outcome(built, text[:end])
            assert ours == theirs, (path.name, end)
            compared += 1
            errors += ours[0] == "error"
    assert errors > 100 and compared - errors > len(SCHEMES)


def test_the_stored_parser_is_interactive_as_the_built_one(
        parsers: tuple[lark.Lark, lark.Lark]) -> None:
    loaded, built = parsers
    for prefix in ("scheme s\nkpi a plan ", "scheme s\npay p = ", "scheme s\ncurve c\n below "):
        assert loaded.parse_interactive(prefix).exhaust_lexer() is not None
        ours = loaded.parse_interactive(prefix)
        ours.exhaust_lexer()
        theirs = built.parse_interactive(prefix)
        theirs.exhaust_lexer()
        assert ours.accepts() == theirs.accepts()
    assert [t.name for t in loaded.terminals] == [t.name for t in built.terminals]


def test_a_copy_others_could_have_written_is_not_read(tmp_path: Path) -> None:
    text = grammar.grammar_path().read_text(encoding="utf-8")
    where = tmp_path / "parser.pickle"
    grammar._store(lark.Lark(text, **grammar.OPTIONS), where)
    assert grammar._load(where) is not None
    if hasattr(os, "getuid"):
        where.chmod(where.stat().st_mode | stat.S_IWOTH)
        assert grammar._load(where) is None
    where.write_bytes(b"not a pickle")
    assert grammar._load(where) is None
    assert grammar._load(tmp_path / "missing.pickle") is None


_OURS = pytest.mark.skipif(not lexing.SUPPORTED, reason="Lark's own lexer is used")


@pytest.fixture(scope="module")
def larks_outcomes() -> tuple[lark.Lark, dict[str, Any]]:
    """Lark's own parser and its outcome per text, shared by the three settings below: its
    outcome does not depend on kpidsl's lexer, and reading the texts with it again for
    each setting was half of each test's time (about 5 s of 15 s)."""
    larks = lark.Lark(grammar.grammar_path().read_text(encoding="utf-8"), **grammar.OPTIONS)
    return larks, {}


@_OURS
@pytest.mark.parametrize("compile_after", [0, 3, 10**9])
def test_tokens_and_errors_are_larks_own(compile_after: int, monkeypatch: pytest.MonkeyPatch,
                                         larks_outcomes: tuple[lark.Lark, dict[str, Any]]
                                         ) -> None:
    monkeypatch.setattr(lexing, "COMPILE_AFTER", compile_after)
    text = grammar.grammar_path().read_text(encoding="utf-8")
    ours = lark.Lark(text, _plugins=lexing.PLUGINS, **grammar.OPTIONS)
    larks, seen = larks_outcomes
    assert type(ours.parser.lexer) is lexing.ContextualLexer
    assert type(larks.parser.lexer) is lark.lexer.ContextualLexer
    compared = 0
    for path in SCHEMES:
        scheme = path.read_text(encoding="utf-8")
        for end in {len(scheme), *range(1, len(scheme), max(1, len(scheme) // 25))}:
            cut = scheme[:end]
            if cut not in seen:
                seen[cut] = _outcome(larks, cut)
            assert _outcome(ours, cut) == seen[cut], (path, end)
            compared += 1
    # words that are keywords in one place and names in another, odd characters, Cyrillic
    for odd in ("scheme pay\nfact pay money\nkpi plan = pay plan 1 RUB\n",
                "scheme s\nfact выручка money \"Выручка\"\nkpi k = выручка × 2 % plan 1\n",
                "scheme s\nfact a money\nkpi k = a ÷ 0 otherwise 1 plan 10_000.5 ₽\n",
                "scheme s\nfact payment money\nkpi planned = payment plan 1\n",
                "scheme s @\n", "scheme s\nfact a mon\u0301ey\n", "scheme s\ncurve c\n ab"):
        assert _outcome(ours, odd) == _outcome(larks, odd), odd
    assert compared > 400


@_OURS
def test_a_state_compiles_its_expression_only_when_used_often(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexing, "COMPILE_AFTER", 200)
    text = grammar.grammar_path().read_text(encoding="utf-8")
    ours = lark.Lark(text, _plugins=lexing.PLUGINS, **grammar.OPTIONS)
    ours.parse((ROOT / "rulesets" / "b2b_manager.kpi").read_text(encoding="utf-8"))
    scanners = [lexer._scanner for lexer in set(ours.parser.lexer.lexers.values())
                if lexer._scanner is not None]
    assert scanners and not any(s._joined for s in scanners)
    ours.parse("scheme s\n" + "fact a money\n" * 300)
    assert sum(1 for s in scanners if s._joined) >= 1
