"""Look-alike names: a name that mixes scripts in one word, or that differs from another name
only by characters that look the same (`rеvenue` with a Cyrillic `е` beside `revenue`).

Such a pair compiles to two different things, and a formula that meant one reads the other
(or a fact column is read under the wrong name) with nothing on screen to show it. Both are
warnings (KPI106), errors under `--strict`. The look-alike table is Unicode's confusables
list, through `confusable_homoglyphs`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .. import ast
from ..diagnostics import Diagnostic, warning
from ..source import SourceFile, Span

_WORDS = re.compile(r"[^\W\d_]+")  # a name's words: `plan_выручки` is two words, each one script


@lru_cache(maxsize=4096)
def _plain(char: str) -> str:
    """The character a reader sees: NFKC first (full width → ASCII), then an ASCII homoglyph."""
    folded = unicodedata.normalize("NFKC", char)
    if folded.isascii():
        return folded
    from confusable_homoglyphs import confusables  # its import costs ~10 ms: not for ASCII

    found = confusables.is_confusable(char, greedy=True, preferred_aliases=[])
    for entry in found or ():
        for glyph in entry["homoglyphs"]:
            if glyph["c"].isascii() and glyph["c"].isalnum():
                return str(glyph["c"])
    return folded


def skeleton(name: str) -> str:
    """Two names with one skeleton look the same on screen."""
    return "".join(_plain(c) for c in name)


def _script(char: str) -> str:
    from confusable_homoglyphs import categories

    return categories.alias(char)


def _mixed_word(name: str) -> tuple[str, str, str] | None:
    """(word, first script, the first letter in another script) of the first mixed word."""
    for word in _WORDS.findall(name):
        scripts = [(c, _script(c)) for c in word if _script(c) not in ("COMMON", "INHERITED")]
        if scripts:
            first = scripts[0][1]
            for char, script in scripts:
                if script != first:
                    return word, first, char
    return None


def _script_of_odd(name: str, other: str) -> str:
    """'е' is Cyrillic: the first character where two look-alike names differ."""
    for a, b in zip(name, other, strict=False):
        if a != b:
            return f"'{a}' is {_words(_script(a))}, '{b}' is {_words(_script(b))}"
    return "they differ in invisible or full-width characters"


def _words(script: str) -> str:
    return script.capitalize()


def _declared(ruleset: ast.Ruleset) -> list[tuple[str, str, Span]]:
    """(name, what, span) of every declared name, in file order, each name once."""
    found: list[tuple[str, str, Span]] = []
    seen: set[str] = set()
    words = {ast.Fact: "fact", ast.Constant: "constant", ast.Curve: "curve", ast.Kpi: "KPI",
             ast.Pay: "payment", ast.Budget: "budget", ast.Example: "example"}

    def add(name: str, what: str, span: Span) -> None:
        if name and name not in seen:
            seen.add(name)
            found.append((name, what, span))

    add(ruleset.header.name, "scheme", ruleset.header.name_span)
    for statement in ruleset.statements:
        what = words.get(type(statement))
        if what:
            add(statement.name, what, statement.name_span)
    for grade in ruleset.grades:
        add(grade.name, "grade", grade.name_span)
        for statement in grade.statements:
            what = words.get(type(statement))
            if what:
                add(statement.name, what, statement.name_span)
    return found


def check_lookalikes(ruleset: ast.Ruleset, source: SourceFile) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_skeleton: dict[str, tuple[str, str, Span]] = {}
    for name, what, span in _declared(ruleset):
        key = name if name.isascii() else skeleton(name)
        earlier = by_skeleton.get(key)
        if earlier is not None:
            other, other_what, other_span = earlier
            out.append(warning("KPI106", f"{what} '{name}' looks like {other_what} '{other}' "
                               f"(line {other_span.line}) but is another name: "
                               f"{_script_of_odd(name, other)}", source, span,
                               hint="retype the name so both are spelt with the same letters"))
            continue
        by_skeleton[key] = (name, what, span)
        mixed = None if name.isascii() else _mixed_word(name)
        if mixed is not None:
            word, script, char = mixed
            out.append(warning("KPI106", f"{what} name '{name}' mixes {_words(script)} and "
                               f"{_words(_script(char))} letters in one word ('{word}': '{char}' "
                               f"is {_words(_script(char))})", source, span,
                               hint="retype it in one alphabet; a look-alike letter makes "
                               "another name"))
    return out
