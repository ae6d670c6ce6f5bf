"""The documents' words: kept here for existing imports; they live in `kpidsl.i18n`."""

from __future__ import annotations

from ..i18n import MONTH_KEYS, MONTHS, MONTHS_GENITIVE_RU, WORDS, Words

__all__ = ["MONTHS", "MONTHS_GENITIVE_RU", "MONTH_KEYS", "WORDS", "Words"]
