"""Every user-facing phrase exists in every language, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from kpidsl.i18n import LANGUAGES, SECTIONS, section


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", SECTIONS)
def test_every_language_has_every_phrase_with_the_same_placeholders(name: str) -> None:
    english = section(name, "en")
    assert english
    for lang in LANGUAGES:
        words = section(name, lang)
        assert set(words) == set(english), (lang, name)
        for key, text in english.items():
            assert fields(words[key]) == fields(text), (lang, name, key)
            assert words[key].strip() or not text.strip(), (lang, name, key)


def test_no_section_is_left_out_of_the_list() -> None:
    for module in LANGUAGES.values():
        tables = {k for k, v in vars(module).items() if k.isupper() and isinstance(v, dict)}
        assert tables == set(SECTIONS), module.__name__


def test_an_unknown_language_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown language 'de'; use one of en, ru"):
        section("TABLE", "de")
