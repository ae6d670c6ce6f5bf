"""Every bundled scheme passes its own examples and covers every curve threshold from both
sides and exactly (the same as `kpidsl test rulesets --min-coverage 100`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.testing import boundary_coverage, coverage_percent, run_examples

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = sorted((ROOT / "rulesets").rglob("*.kpi"))


@pytest.mark.parametrize("path", SCHEMES, ids=[str(p.relative_to(ROOT)) for p in SCHEMES])
def test_examples_pass_and_cover_every_threshold(path: Path) -> None:
    scheme = kpidsl.load(path)
    outcomes = run_examples(scheme)
    assert outcomes, "every bundled scheme has examples"
    assert [o.example.name for o in outcomes if not o.passed] == []
    boundaries = boundary_coverage(scheme, outcomes)
    missing = [(b.curve, str(b.threshold)) for b in boundaries if b.covered < 3]
    assert missing == []
    assert coverage_percent(boundaries) == Decimal(100)
