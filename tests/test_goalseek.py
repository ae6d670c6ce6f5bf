"""Goal seeking: exact answers on the reference scheme, and brute force on every bundled scheme."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main
from kpidsl.diagnostics import KpiError
from kpidsl.evaluate import team_values
from kpidsl.facts import FactRow, read_facts
from kpidsl.goalseek import resolution, seek, snap

SCHEME = RULESETS / "b2b_manager.kpi"
FACTS = RULESETS / "b2b_manager.facts.csv"
IVANOV = {"revenue": "3300000", "avg_check": "142500", "conversion": "2.1%", "calls": 950}


@pytest.fixture(scope="module")
def scheme() -> kpidsl.Ruleset:
    return kpidsl.load(SCHEME)


def capped_text() -> str:
    """The reference scheme with its accelerator capped at 200 % (the scheme itself is
    uncapped, as the method says): where a cap makes a target unreachable."""
    text = SCHEME.read_text(encoding="utf-8")
    assert "\n  uncapped\n" in text
    return text.replace("\n  uncapped\n", "\n  cap 200%\n")


@pytest.mark.parametrize(("fact", "earn", "value", "total", "short"), [
    # 73 600 + 0.008 × revenue (bonus line) + 0.006 × (revenue − plan) (commission), each
    # line rounded to kopecks: 4 028 570.84 is the first kopeck that reaches 130 000.00
    ("revenue", "130000", "4028570.84", "130000.00", "129999.99"),
    ("calls", "125000", "1225", "125000.00", "124988.00"),
    ("calls", "119800", "950", "119800.00", "119790.00"),  # the current value is the answer
    ("conversion", "121000", "0.023000", "121000.00", "120999.40"),
    ("avg_check", "128000", "221249.94", "128000.00", "127999.99"),  # 0.08 × check = 17 700
])
def test_exact_answers_on_the_reference_case(scheme, fact, earn, value, total, short) -> None:  # type: ignore[no-untyped-def]
    answer = seek(scheme, IVANOV, fact, Decimal(earn), employee="ivanov")
    assert (answer.outcome, answer.direction, str(answer.value)) == \
        ("reached", "at least", value)
    assert str(answer.at.total) == total
    assert str(answer.neighbour.total) == short
    assert answer.neighbour.facts[fact] == answer.value - resolution(answer.unit)


def test_reached_even_at_zero(scheme: kpidsl.Ruleset) -> None:
    answer = seek(scheme, IVANOV, "revenue", Decimal(50000))
    assert (answer.outcome, answer.value, answer.at.total) == \
        ("already", Decimal("0.00"), Decimal("91600.00"))


def test_unreachable_because_the_curve_is_capped() -> None:
    answer = seek(kpidsl.loads(capped_text()), IVANOV, "avg_check", Decimal(200000))
    assert answer.outcome == "unreachable" and not answer.reached
    # the average check can add at most 10 000 × 200 % = 20 000 instead of 9 500
    assert (answer.best, answer.best_from) == (Decimal("130300.00"), Decimal("249999.94"))
    assert [limit.describe() for limit in answer.limits] == \
        ["the curve 'standard' is capped at 200% (bonus for avg_check)"]
    assert answer.limits[0].describe("ru") == \
        "шкала 'standard' ограничена потолком 200% (bonus за «avg_check»)"


def test_a_lower_is_better_fact_gives_the_most_it_may_be(tmp_path: Path) -> None:
    text = """scheme support "Support"
  currency RUB
fact response_time minutes "First response"
curve standard
  below 80% pays 0
  from 80% pays attainment
  cap 150%
kpi response_time "First response" plan 15 lower is better
pay salary = 50_000 RUB
pay bonus pool 10_000 RUB
  for response_time weight 100% curve standard
"""
    support = kpidsl.loads(text, "support.kpi")
    answer = seek(support, {"response_time": "20"}, "response_time", Decimal(59000))
    # attainment = 2 − time ÷ 15; 9 000 of bonus needs 90 %, so 16.5 minutes at most
    assert (answer.outcome, answer.direction, answer.value) == \
        ("reached", "at most", Decimal("16.50"))
    assert answer.neighbour.total == Decimal("58993.33")  # 16.51 minutes: 89.93 %
    assert seek(support, {"response_time": "20"}, "response_time",
                Decimal(70000)).outcome == "unreachable"


def test_an_income_that_moves_both_ways_gets_the_first_value() -> None:
    raw = kpidsl.load(RULESETS / "b2b_manager_raw.kpi")
    facts = {"revenue": "3300000", "deals": 22, "meetings": 21, "calls": 1000}
    # fewer calls raise the conversion (meetings ÷ calls) and lower the calls line
    answer = seek(raw, facts, "calls", Decimal(121000))
    assert (answer.value, answer.at.total, answer.neighbour.total) == \
        (Decimal(800), Decimal("121950.00"), Decimal("113969.71"))
    assert answer.notes == ["not_monotone"]
    assert answer.to_dict()["notes"] == [
        "the income does not move one way as calls grows; the answer is the first value that "
        "reaches the target"]


def test_not_a_fact(scheme: kpidsl.Ruleset) -> None:
    with pytest.raises(KpiError) as caught:
        seek(scheme, IVANOV, "revenu", Decimal(1))
    assert caught.value.diagnostics[0].render() == (
        "--vary: error KPI627: 'revenu' is not a fact of scheme 'b2b_manager'\n"
        "  hint: did you mean 'revenue'?")


# ---------------------------------------------------------------- brute force


def _bundled() -> list[Path]:
    return sorted(RULESETS.rglob("*.kpi"))


def _facts_for(path: Path) -> Path | None:
    own = path.with_name(path.name.removesuffix(".kpi") + ".facts.csv")
    if own.exists():
        return own
    others = sorted(path.parent.glob("*.facts.csv"))
    return others[0] if others else None


@pytest.mark.parametrize("path", _bundled(), ids=lambda p: str(p.relative_to(RULESETS)))
def test_goal_seeking_agrees_with_brute_force(path: Path) -> None:
    """For each fact of the first employee: targets the income reaches at other values.

    Counts are enumerated one by one below the answer; money and percents on a grid of
    400 points below it plus the last 60 steps, and always one step beyond the answer.
    """
    ruleset = kpidsl.load(path)
    facts_path = _facts_for(path)
    if facts_path is None:
        pytest.skip("no facts file beside the scheme")
    rows = [r for r in read_facts(facts_path, ruleset.fact_specs) if isinstance(r, FactRow)]
    row = rows[0]
    mates = [r.values for r in rows[1:] if (r.team or "") == (row.team or "")]
    now = ruleset.evaluate(row.values, row.grade, employee=row.employee)
    info = ruleset.infos[now.grade]

    def income(fact: str, x: Decimal) -> Decimal:
        facts = dict(now.facts)
        facts[fact] = x
        team = team_values(info.team_needs, [*mates, facts]) if info.team_needs else None
        return ruleset.evaluate(facts, now.grade, employee=row.employee, team=team).total

    for fact, declared in ruleset.checked.variants[now.grade].facts.items():
        step = resolution(declared.unit)
        for scale in (Decimal("0.9"), Decimal("1.15")):
            probe = snap(max(now.facts[fact] * scale, step), step)
            target = income(fact, probe)
            answer = seek(ruleset, row.values, fact, target, grade=row.grade,
                          employee=row.employee, teammates=mates)
            where = f"{path.name}: {fact} for {target}"
            assert answer.outcome in ("reached", "already", "any"), where
            value = answer.value
            assert value is not None and income(fact, value) >= target, where
            if answer.outcome == "already":
                assert value == 0, where
            if answer.direction == "at least":
                below = _below(value, step)
                assert not [x for x in below if income(fact, x) >= target], where
                assert answer.outcome == "already" or value <= probe, where
            elif answer.outcome == "reached":
                assert income(fact, value + step) < target, where
                assert value >= probe, where


def _below(value: Decimal, step: Decimal) -> list[Decimal]:
    count = int(value / step)
    if count <= 1500:
        return [step * i for i in range(count)]
    grid = [snap(value * i / 400, step, up=False) for i in range(400)]
    return sorted({*grid, *(value - step * k for k in range(1, 61))})


# ---------------------------------------------------------------- the command line


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_target_explains_the_answer(golden) -> None:  # type: ignore[no-untyped-def]
    result = run("target", SCHEME, FACTS, "--employee", "ivanov", "--earn", "130 000",
                 "--vary", "revenue")
    assert result.exit_code == 0, result.output
    golden.check("plans/target_revenue", result.stdout)


def test_target_in_russian(golden) -> None:  # type: ignore[no-untyped-def]
    result = run("target", SCHEME, FACTS, "--employee", "ivanov", "--earn", "125000",
                 "--vary", "calls", "--lang", "ru")
    assert result.exit_code == 0, result.output
    golden.check("plans/target_calls_ru", result.stdout)


def test_target_unreachable_exits_1(golden, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    capped = tmp_path / "b2b_manager.kpi"
    capped.write_text(capped_text(), encoding="utf-8")
    result = run("target", capped, FACTS, "--employee", "ivanov", "--earn", "200000",
                 "--vary", "avg_check")
    assert result.exit_code == 1
    golden.check("plans/target_unreachable", result.stdout)


def test_target_as_json() -> None:
    result = run("target", SCHEME, FACTS, "--employee", "ivanov", "--earn", "130000",
                 "--vary", "revenue", "--format", "json")
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("outcome", "value", "total_at_value", "neighbour",
                                 "total_at_neighbour")} == {
        "outcome": "reached", "value": "4028570.84", "total_at_value": "130000.00",
        "neighbour": "4028570.83", "total_at_neighbour": "129999.99"}


@pytest.mark.parametrize(("args", "message"), [
    (["--employee", "ivnov", "--earn", "1", "--vary", "revenue"],
     "--employee: error KPI628: employee 'ivnov' is not in the facts (8 rows read)\n"
     "  hint: did you mean 'ivanov'?"),
    (["--employee", "ivanov", "--earn", "1", "--vary", "revnue"],
     "--vary: error KPI627: 'revnue' is not a fact of scheme 'b2b_manager'\n"
     "  hint: did you mean 'revenue'?"),
    (["--employee", "ivanov", "--earn", "много", "--vary", "revenue"], "error: --earn: "),
])
def test_target_mistakes(args: list[str], message: str) -> None:
    result = run("target", SCHEME, FACTS, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_the_documented_outputs_are_the_real_ones() -> None:
    """docs/real-life.md shows these outputs verbatim (some tables with rows left out)."""
    doc = (RULESETS.parent / "docs" / "real-life.md").read_text(encoding="utf-8")
    golden = RULESETS.parent / "tests" / "golden" / "plans"
    for name in ("forecast_table", "target_revenue", "target_unreachable"):
        text = (golden / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")
        body = text.split("\n", 1)[1] if name.startswith("target") else text
        assert body in doc, name
    for line in (golden / "compare_table.txt").read_text(encoding="utf-8").splitlines()[-4:]:
        assert line in doc
