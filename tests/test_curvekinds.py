"""Kinds of curve (kpidsl/curvekinds): found by module, objects compared by identity, never
by their word, their own words complete in every language."""

from __future__ import annotations

import pickle
import re
import string
from pathlib import Path

from kpidsl import curvekinds
from kpidsl.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_is_a_kind_of_its_name() -> None:
    assert sorted(curvekinds.KINDS) == ["bands", "linear", "marginal", "steps", "whole"]
    for name, kind in curvekinds.KINDS.items():
        assert type(kind).__module__ == f"kpidsl.curvekinds.{name}"
        assert str(kind) == name
        assert pickle.loads(pickle.dumps(kind)) is kind  # one object per kind


def test_no_module_compares_a_kind_with_its_word() -> None:
    words = "|".join(curvekinds.KINDS)
    compared = re.compile(rf"kind(?:\.name)?\s*(?:==|!=|in)\s*[(\[]?\s*[\"'](?:{words})[\"']")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "kpidsl").rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if compared.search(line)]
    assert found == []


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_kinds_speak_every_language() -> None:
    for kind in curvekinds.KINDS.values():
        if not kind.words:
            continue
        assert set(kind.words) == set(LANGUAGES), kind
        english = kind.words["en"]
        for lang, table in kind.words.items():
            assert set(table) == set(english), (kind, lang)
            for key, text in table.items():
                assert _fields(text) == _fields(english[key]), (kind, lang, key)
