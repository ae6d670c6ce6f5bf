"""Results golden files: every bundled scheme over its own facts file, as exact JSON."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st

import kpidsl
from kpidsl.facts import RowError, read_facts
from kpidsl.results import plain_text

ROOT = Path(__file__).resolve().parent.parent
PAIRS = [(kpi, kpi.with_suffix(".facts.csv")) for kpi in sorted((ROOT / "rulesets").glob("*.kpi"))
         if kpi.with_suffix(".facts.csv").exists()]


@pytest.mark.parametrize(("scheme_path", "facts_path"), PAIRS, ids=[p.stem for p, _ in PAIRS])
def test_results_golden(scheme_path: Path, facts_path: Path, golden) -> None:
    scheme = kpidsl.load(scheme_path)
    rows = read_facts(facts_path, scheme.fact_specs)
    good = []
    for row in rows:
        assert not isinstance(row, RowError), row
        good.append(row)
    results = [r.to_dict() for r in scheme.evaluate_many(good)]
    if scheme.checked.header.per_team:  # one result a team, named by the team
        assert [r["employee"] for r in results] == list(dict.fromkeys(r.team for r in good))
    else:
        assert len(results) == len(good)
    golden.check(f"results/{scheme_path.stem}",
                 json.dumps(results, ensure_ascii=False, indent=1) + "\n")


def test_ivanov_in_the_bundled_facts() -> None:
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    rows = read_facts(ROOT / "rulesets" / "b2b_manager.facts.csv", scheme.fact_specs)
    totals = {r.employee: str(r.total) for r in scheme.evaluate_many(rows)}
    assert totals["ivanov"] == "119800.00"
    assert totals["petrova"] == "110000.00"      # exactly at plan everywhere
    assert totals["kuznetsova"] == "60000.00"    # 79.9 % everywhere: salary only


@hypothesis.given(st.decimals(allow_nan=False, allow_infinity=False) | st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent), st.integers(-10**40, 10**40),
    st.integers(-60, 60)), st.sampled_from([0, 1]))
def test_plain_text_is_format_f(value: Decimal, capitals: int) -> None:
    """The digits every output writes: `str` where it has no exponent, else format 'f'."""
    with decimal.localcontext(capitals=capitals):
        assert plain_text(value) == format(value, "f")
    assert plain_text(None) is None
