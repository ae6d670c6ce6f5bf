"""Lark's contextual lexer, compiling its per-state regular expressions only where they pay.

Lark's contextual lexer gives each parser state its own scanner: one regular expression
joining the state's terminals as alternatives, `(?P<NAME>...)|(?P<NUMBER>...)|...`, which
returns the first alternative that matches. Python compiles a regular expression in pure
Python (`re._parser`, `re._compiler`), and for kpi.lark that was 46 expressions of up to
1 160 characters, 27 ms of `kpidsl check rulesets/b2b_manager.kpi` (which lexes 503 tokens
in 39 states, at most 80 in one). Here a state's scanner tries the same terminals, in the
same order, one at a time, a literal by `str.startswith` and a pattern by its own
expression (each compiled once, for all states). Per token the two cost about the same (a
300-KPI scheme, 48 500 matches: 137-157 ms either way, noise); a state that has matched
`COMPILE_AFTER` times compiles Lark's joined expression all the same, so a long file never
relies on the loop alone. Both give the same token: an alternation's match at a position
is its first alternative that matches there, matched as that alternative alone would be
(nothing follows it in the expression). The check of b2b_manager.kpi: 186 M → 99 M
instructions for parsing (callgrind), the compiled expressions 46 → 0.
tests/test_lexing.py compares both with Lark's own lexer on every scheme of the repository.

Keyword tests (`pay` is a keyword where `pay` is expected, a name elsewhere) are computed as
Lark computes them, once per pair of terminals instead of once per state and pair.
"""

from __future__ import annotations

from typing import Any

from lark import lexer as lark_lexer

COMPILE_AFTER = 1000  # matches (tokens and ignored spaces) before a state compiles Lark's

# Lark versions with the scanner interface used here (TextSlice input, `fullmatch` for
# keyword tests): lark 1.3. Older ones keep Lark's own contextual lexer.
SUPPORTED = hasattr(lark_lexer.Scanner, "fullmatch") and hasattr(lark_lexer, "TextSlice")


class Scanner:
    """`lark.lexer.Scanner`'s `match` and `fullmatch`, by terminal until used often."""

    def __init__(self, terminals: list[Any], g_regex_flags: int, re_: Any,
                 use_bytes: bool) -> None:
        self.terminals = terminals
        self.g_regex_flags = g_regex_flags
        self.re_ = re_
        self.use_bytes = use_bytes
        self.allowed_types = {t.name for t in terminals}
        self._joined: lark_lexer.Scanner | None = None
        self._each: list[tuple[str, str | None, Any]] | None = None
        self._uses = 0

    def _terminals(self) -> list[tuple[str, str | None, Any]]:
        if self._each is None:
            self._each = [
                (t.name, t.pattern.value, None)
                if t.pattern.type == "str" and not t.pattern.flags else
                (t.name, None, self.re_.compile(t.pattern.to_regexp(), self.g_regex_flags))
                for t in self.terminals]
        return self._each

    def _lark(self) -> lark_lexer.Scanner:
        if self._joined is None:
            self._joined = lark_lexer.Scanner(self.terminals, self.g_regex_flags, self.re_,
                                              self.use_bytes)
        return self._joined

    def match(self, text: Any, pos: int) -> tuple[str, str] | None:
        if self._joined is not None:
            return self._joined.match(text, pos)
        self._uses += 1
        if self._uses > COMPILE_AFTER or self.use_bytes:
            return self._lark().match(text, pos)
        whole, end = text.text, text.end
        for name, literal, pattern in self._terminals():
            if literal is not None:
                if whole.startswith(literal, pos, end):
                    return literal, name
            else:
                found = pattern.match(whole, pos, end)
                if found:
                    return found.group(0), name
        return None

    def fullmatch(self, text: str) -> str | None:
        if self._joined is not None or self.use_bytes:
            return self._lark().fullmatch(text)
        for name, literal, pattern in self._terminals():
            if (text == literal) if literal is not None else pattern.fullmatch(text):
                return name
        return None


# For each (regular expression, flags, re module): which literals it matches whole
_EMBEDS: dict[tuple[str, int, Any], dict[str, bool]] = {}


def _create_unless(terminals: list[Any], g_regex_flags: int, re_: Any,
                   use_bytes: bool) -> tuple[list[Any], dict[str, Any]]:
    """`lark.lexer._create_unless`, with this module's Scanner: a literal that a pattern
    of the same priority matches whole (`pay` and NAME) is left out of the state's scanner
    and found by a callback on the pattern's tokens. Whether it matches is remembered
    across states (the 39 states of a check asked 12 000 times, of 300 pairs)."""
    strings = [t for t in terminals if type(t.pattern) is lark_lexer.PatternStr]
    embedded = set()
    callback = {}
    for retok in terminals:
        if type(retok.pattern) is not lark_lexer.PatternRE:
            continue
        regexp = None
        unless = []
        for strtok in strings:
            if strtok.priority != retok.priority:
                continue
            if regexp is None:
                regexp = retok.pattern.to_regexp()
                known = _EMBEDS.setdefault((regexp, g_regex_flags, re_), {})
            s = strtok.pattern.value
            whole = known.get(s)
            if whole is None:
                match = re_.match(regexp, s, g_regex_flags)
                whole = known[s] = bool(match) and match.group(0) == s
            if whole:
                unless.append(strtok)
                if strtok.pattern.flags <= retok.pattern.flags:
                    embedded.add(strtok)
        if unless:
            callback[retok.name] = lark_lexer.UnlessCallback(
                Scanner(unless, g_regex_flags, re_, use_bytes))  # type: ignore[arg-type]
    return [t for t in terminals if t not in embedded], callback


class BasicLexer(lark_lexer.BasicLexer):
    """Lark's lexer of one state, with the scanner above."""

    def _build_scanner(self) -> Any:
        terminals, self.callback = _create_unless(list(self.terminals), self.g_regex_flags,
                                                  self.re, self.use_bytes)
        for type_, f in self.user_callbacks.items():
            if type_ in self.callback:
                self.callback[type_] = lark_lexer.CallChain(
                    self.callback[type_], f, lambda t, type_=type_: t.type == type_)
            else:
                self.callback[type_] = f
        return Scanner(terminals, self.g_regex_flags, self.re, self.use_bytes)


class ContextualLexer(lark_lexer.ContextualLexer):
    """Lark's contextual lexer, its states lexed by `BasicLexer` above."""

    BasicLexer = BasicLexer  # type: ignore[assignment]


PLUGINS: dict[str, Any] = {"ContextualLexer": ContextualLexer} if SUPPORTED else {}
