"""Diagnostics in the chosen language: the same codes, places and carets, the words translated.

Diagnostics are values built in English where they are found (the parser, the checker,
the facts readers), so every caller, golden file and JSON report sees one text. For
`--lang ru` they are translated when rendered, by code: `ru_diagnostics.MESSAGES[code]`
lists the code's English message and hint templates with named parameters, each with its
Russian; the English text is read back against the templates and the parameters put into
the Russian one (names, cell texts and numbers unchanged; units and places in the case the
Russian sentence needs). A text no template reads is shown as it is, and
`untranslated()` names it for the tests.
"""

from __future__ import annotations

import dataclasses
import re
import string
from functools import cache
from typing import TYPE_CHECKING, Any

from . import ru_diagnostics

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic

SEVERITY = {"en": {"error": "error", "warning": "warning", "hint": "hint"},
            "ru": {"error": "ошибка", "warning": "предупреждение", "hint": "подсказка"}}

CATALOGUES = {"ru": ru_diagnostics}
CASES = ("nom", "gen", "dat", "acc", "ins", "prep")
_FORMATTER = string.Formatter()


@dataclasses.dataclass(frozen=True)
class _Template:
    pattern: re.Pattern[str]
    kinds: dict[str, str]  # parameter → kind of its value (empty: passed as it is)
    russian: str | dict[str, str]


def _compile(english: str, kinds: dict[str, ru_diagnostics.Table]
             ) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...]]:
    """'unknown name {name} in {where:place}' → a regex with a named group per parameter.

    A parameter of a kind matches only the kind's own phrases, so two parameters side by
    side ('{what:measure} {where:beyond}') split where the words do."""
    parts, found = [], []
    for literal, field, spec, _conversion in _FORMATTER.parse(english):
        parts.append(re.escape(literal))
        if field is not None:
            inner = _alternatives(spec, kinds) if spec and spec != "expected" else ".+?"
            parts.append(f"(?P<{field}>{inner})")
            found.append((field, spec or ""))
    return re.compile("".join(parts), re.S), tuple(found)


def _alternatives(kind: str, kinds: dict[str, ru_diagnostics.Table],
                  outer: frozenset[str] = frozenset()) -> str:
    """A kind's phrases as one regex; a kind within itself (a list) matches any text there."""
    options = []
    for english, _russian in kinds[kind]:
        parts = []
        for literal, field, spec, _conversion in _FORMATTER.parse(english):
            parts.append(re.escape(literal))
            if field is not None:
                parts.append(f"(?:{_alternatives(spec, kinds, outer | {kind})})"
                             if spec and spec not in outer | {kind} else ".+?")
        options.append("".join(parts))
    return "(?:" + "|".join(options) + ")"


def _table(rows: ru_diagnostics.Table, kinds: dict[str, ru_diagnostics.Table]
           ) -> list[_Template]:
    out = []
    for english, russian in rows:
        pattern, found = _compile(english, kinds)
        out.append(_Template(pattern, dict(found), russian))
    return out


def catalogue(lang: str) -> dict[str, tuple[tuple[str, Any], ...]]:
    """The language's diagnostics by code: its module's, with each kind of curve's own
    (kpidsl/curvekinds, `CurveKind.messages`)."""
    from ..curvekinds import messages

    out = dict(CATALOGUES[lang].MESSAGES)
    for code, rows in messages(lang).items():
        out[code] = out.get(code, ()) + rows
    return out


class Translator:
    """One language's diagnostics; `misses` collects what no template could read."""

    def __init__(self, lang: str) -> None:
        module = CATALOGUES[lang]
        kinds = module.KINDS
        self.messages = {code: _table(rows, kinds)
                         for code, rows in catalogue(lang).items()}
        self.common = _table(module.COMMON, kinds)
        self.places = _table(module.PLACES, kinds)
        self.messages["usage"] = _table(module.USAGE, kinds)
        self.kinds = {kind: _table(rows, kinds) for kind, rows in kinds.items()}
        self.expected = sorted(module.EXPECTED.items(), key=lambda kv: -len(kv[0]))

    def text(self, code: str, text: str, misses: list[str] | None = None) -> str:
        """A message or hint of `code` in the language (as it is when nothing reads it)."""
        if not text:
            return text
        prefix = ""
        while True:  # 'row 3, column 'x': ' and 'employee 'a': ' before the message itself
            for template in self.places:
                m = template.pattern.match(text)
                if m:
                    prefix += self._fill(template, m, "nom", misses)
                    text = text[m.end():]
                    break
            else:
                break
        for table in (self.messages.get(code, []), self.common):
            for template in table:
                m = template.pattern.fullmatch(text)
                if m:
                    return prefix + self._fill(template, m, "nom", misses)
        if misses is not None:
            misses.append(text)
        return prefix + text

    def _kind(self, kind: str, value: str, case: str, misses: list[str] | None) -> str:
        if kind == "expected":
            for english, russian in self.expected:
                value = value.replace(english, russian)
            return value
        for template in self.kinds[kind]:
            m = template.pattern.fullmatch(value)
            if m:
                return self._fill(template, m, case, misses)
        if misses is not None:
            misses.append(f"{kind}: {value}")
        return value

    def _fill(self, template: _Template, m: re.Match[str], case: str,
              misses: list[str] | None) -> str:
        russian = template.russian
        text = russian if isinstance(russian, str) else russian.get(case, russian["nom"])
        out = []
        for literal, field, spec, _conversion in _FORMATTER.parse(text):
            out.append(literal)
            if field is None:
                continue
            value = m.group(field)
            kind = template.kinds.get(field, "")
            out.append(self._kind(kind, value, spec or "nom", misses) if kind else value)
        return "".join(out)


@cache
def translator(lang: str) -> Translator:
    return Translator(lang)


def translate(text: str, lang: str, code: str = "") -> str:
    """`text` (a message or hint of `code`) in `lang`; English is returned as it is."""
    if lang == "en" or not text:
        return text
    return translator(lang).text(code, text)


def untranslated(d: Diagnostic, lang: str) -> list[str]:
    """The parts of a diagnostic's message and hint no template of `lang` reads."""
    misses: list[str] = []
    translator(lang).text(d.code, d.message, misses)
    translator(lang).text(d.code, d.hint, misses)
    return misses


def localized(d: Diagnostic, lang: str) -> Diagnostic:
    """The same diagnostic (code, place, caret) with its message and hint in `lang`."""
    if lang == "en":
        return d
    return dataclasses.replace(d, message=translate(d.message, lang, d.code),
                               hint=translate(d.hint, lang, d.code))


def render(d: Diagnostic, lang: str) -> str:
    """`Diagnostic.render()` in `lang`: severity and 'hint' in its words too."""
    text = localized(d, lang).render()
    if lang == "en":
        return text
    words = SEVERITY[lang]
    head, sep, rest = text.partition("\n")
    head = head.replace(f": {d.severity} {d.code}:", f": {words[str(d.severity)]} {d.code}:", 1)
    rest = re.sub(r"(?m)^  hint: ", f"  {words['hint']}: ", rest)
    return head + sep + rest
