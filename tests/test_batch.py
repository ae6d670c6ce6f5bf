"""The generated loop over a list's rows (kpidsl/batch.py): the same results, failures and
order as the rows one by one, for every bundled scheme and grade; its source is fixed text
around the evaluator's own statements."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl import batch
from kpidsl.checks import BASE
from kpidsl.facts import FactRow

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = sorted((ROOT / "rulesets").glob("*.kpi"))


def _rows(ruleset: kpidsl.Ruleset, count: int, seed: int) -> list[Any]:
    """Rows of random facts around 1 000 (a few zeros: plans taken from the facts divide by
    them), some of them odd: text, a float, NaN, a missing fact, a grade, a FactRow, an id
    that is a number."""
    rng = random.Random(seed)
    names = sorted(ruleset.fact_specs)
    grades = [g for g in ruleset.grades if g != BASE]
    rows: list[Any] = []
    for i in range(count):
        facts: dict[str, Any] = {name: Decimal(rng.choice([0, *range(1, 3000, 7)])).scaleb(
            -rng.randrange(3)) for name in names}
        facts["employee"] = f"e{i}"
        kind = rng.randrange(40)
        if kind == 0 and names:
            facts[names[0]] = "12"
        elif kind == 1 and names:
            facts[names[-1]] = Decimal("NaN")
        elif kind == 2 and names:
            del facts[names[0]]
        elif kind == 3 and grades:
            facts["grade"] = rng.choice(grades)
        elif kind == 4:
            facts["employee"] = i
        elif kind == 5 and names:
            facts[names[0]] = 1.5
        if kind == 6:
            values = {k: v for k, v in facts.items() if k in names}
            rows.append(FactRow("f.csv", i + 2, f"e{i}", None, "north", values, {}))
        else:
            rows.append(facts)
    return rows


def _events(ruleset: kpidsl.Ruleset, rows: Any, grade: str | None) -> list[Any]:
    events: list[Any] = []

    def failed(employee: str, row: int, diagnostics: list[Any]) -> None:
        events.append(("failed", employee, row, [(d.code, d.message) for d in diagnostics]))

    try:
        for result in ruleset.evaluate_many(rows, grade, month=3, on_error=failed):
            events.append((result.employee, result.team, result.row, result.grade,
                           result.total, result.components, result.facts, result.to_dict()))
    except TypeError as exc:  # a float without on_error is refused; with it, reported
        events.append(("raised", str(exc)))
    return events


@pytest.mark.parametrize("path", SCHEMES, ids=lambda p: p.stem)
def test_a_list_gives_what_its_rows_give_one_by_one(path: Path) -> None:
    """150 rows (three slices of the loop, each cut by odd rows) against the same rows read
    one by one (an iterator: the evaluator called for each row), for every grade."""
    ruleset = kpidsl.load(path)
    rows = _rows(ruleset, 150, seed=len(path.stem))
    for grade in [None, *ruleset.grades]:
        expected = _events(ruleset, iter(rows), grade)
        assert _events(ruleset, list(rows), grade) == expected
        assert _events(ruleset, tuple(rows), grade) == expected
        assert any(e[0] != "failed" for e in expected)


def test_a_result_of_a_list_computes_its_details_when_read() -> None:
    ruleset = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    rows = [{"employee": "ivanov", "revenue": Decimal(3_300_000), "avg_check": Decimal(142_500),
             "conversion": Decimal("0.021"), "calls": Decimal(950)}]
    [result] = ruleset.evaluate_many(rows)
    assert result.total == Decimal("119800.00")
    assert result._raw is None  # no details held
    assert [line.amount for line in result.lines] == [
        Decimal("26400.00"), Decimal("9500.00"), Decimal("12600.00"), Decimal("9500.00")]
    assert result.to_dict() == ruleset.evaluate(rows[0]).to_dict()


def test_the_loop_is_fixed_text_around_the_evaluators_body() -> None:
    """Nothing of the scheme is printed into the loop but the code generator's body: with
    the body taken out, what is left names only generated identifiers (f3, pay19)."""
    ruleset = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    body = ruleset.compiled.generated.bodies["base"]
    text = batch.source(body, "make_batch_evaluate_0")
    assert all(line in text for line in body.lines)
    rest = text
    for line in body.lines:
        rest = rest.replace(line, "", 1)
    empty = batch.source(type(body)((), (), (), "rt.ZERO"), "make_batch_evaluate_0")

    def fixed(text: str) -> str:  # without generated names, the total's sum and spacing
        return re.sub(r"\b(f|pay)[0-9]+\b|=\s*row_values|[\s,+]|rt\.ZERO", "", text)

    assert fixed(rest) == fixed(empty)
