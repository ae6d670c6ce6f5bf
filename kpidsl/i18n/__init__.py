"""Every user-facing word of kpidsl, in each language, in one place.

One module per language (`en.py`, `ru.py`), each a few dictionaries by section: the
documents' words (`DOCS`), then the command line's (`TABLE`, `FORECAST`, `COMPARE`,
`TARGET`, ...). A small dictionary per language rather than gettext: the texts are a few
hundred phrases, and a test checks that every language has every key of every section with
the same placeholders. Scheme labels are never translated: they are shown as the scheme
writes them. A third language is one more module here plus its name in `LANGUAGES`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import en, ru

LANGUAGES: dict[str, ModuleType] = {"en": en, "ru": ru}
SECTIONS = ("DOCS", "TABLE", "FORECAST", "COMPARE", "TARGET", "RUN", "TEST", "EXPLAIN",
            "LEDGER")


def section(name: str, lang: str) -> dict[str, str]:
    """One section's words in `lang` (ValueError for a language kpidsl does not speak)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; use one of {', '.join(LANGUAGES)}")
    table: dict[str, str] = getattr(LANGUAGES[lang], name)
    return table


# the documents' words by language (kpidsl.docs reads these)
WORDS: dict[str, dict[str, str]] = {lang: module.DOCS for lang, module in LANGUAGES.items()}


MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "ru": ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
           "октябрь", "ноябрь", "декабрь"),
}
# "с января 2025": the genitive, as a date range reads in Russian
MONTHS_GENITIVE_RU = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                      "сентября", "октября", "ноября", "декабря")
MONTH_KEYS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class Words:
    """`w("key", name=...)` formats a phrase; `w.key` gives it unformatted (for templates)."""

    def __init__(self, lang: str, name: str = "DOCS") -> None:
        self.table = section(name, lang)
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        return self.table[key].format(**values) if values else self.table[key]

    def __getitem__(self, key: str) -> str:
        return self.table[key]

    def date(self, text: str) -> str:
        """'2025-01' → 'January 2025' / 'января 2025'; '2025-01-15' → '15 January 2025'."""
        parts = text.split("-")
        year, month = parts[0], int(parts[1])
        if self.lang == "ru":
            name = MONTHS_GENITIVE_RU[month - 1]
            return f"{int(parts[2])} {name} {year}" if len(parts) == 3 else f"{name} {year}"
        name = MONTHS["en"][month - 1]
        return f"{int(parts[2])} {name} {year}" if len(parts) == 3 else f"{name} {year}"

    def month(self, key: str) -> str:
        return MONTHS[self.lang][MONTH_KEYS.index(key)]
