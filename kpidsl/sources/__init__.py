"""Facts from transactions (deal, call and lead exports): kpidsl/sources/run.py runs them.

`has_sources` lives here, apart from the deal machinery, so that a run over a facts file
asks it without importing that machinery (50 ms of start-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api import Ruleset


def has_sources(ruleset: Ruleset) -> bool:
    """Does any grade of the scheme read its facts from exports?"""
    return any(variant.sources for variant in ruleset.checked.variants.values())
