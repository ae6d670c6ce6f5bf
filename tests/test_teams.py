"""Teams: aggregates computed once per team, the team part of the bonus, schemes paid per
team (a head of sales) and budget caps split pro rata to the kopeck. Every figure here is
worked out by hand in the comments."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.allocation import pro_rata
from kpidsl.evaluate import team_values
from kpidsl.facts import FactRow, read_facts

RULESETS = Path(__file__).resolve().parent.parent / "rulesets"
D = Decimal


def batch(name: str) -> list[kpidsl.Result]:
    scheme = kpidsl.load(RULESETS / f"{name}.kpi")
    rows = [r for r in read_facts(RULESETS / f"{name}.facts.csv", scheme.fact_specs)
            if isinstance(r, FactRow)]
    return list(scheme.evaluate_many(rows))


# ---------------------------------------------------------------- aggregates


def test_team_values_hand_computed() -> None:
    members = [{"calls": D(900), "revenue": D("2500000")}, {"calls": D(1100)},
               {"calls": D(700), "revenue": D("1000000")}]
    needs = [("total", "calls"), ("average", "calls"), ("min", "calls"), ("max", "calls"),
             ("total", "revenue"), ("average", "revenue")]
    assert team_values(needs, members) == {
        "size": D(3), "total:calls": D(2700), "average:calls": D(900), "min:calls": D(700),
        "max:calls": D(1100), "total:revenue": D("3500000"),
        # the average is over the members that have the fact
        "average:revenue": D("1750000"),
        # and kept exact as sum ÷ count for the evaluator (kpidsl.runtime.team_average)
        "#sum:calls": D(2700), "#count:calls": D(3),
        "#sum:revenue": D("3500000"), "#count:revenue": D(2),
    }


AGGREGATES = """scheme t "Team figures"
  currency RUB
  period month
fact calls count "Calls"
fact meetings count "Meetings"
kpi team_calls = team total of calls
kpi team_avg = team average of calls
kpi team_min = team min of calls
kpi team_max = team max of calls
kpi team_conversion = team total of meetings / team total of calls otherwise 0%
kpi own_share = calls / team total of calls otherwise 0%
kpi heads = team size
pay salary = 10_000 RUB
"""


def test_every_aggregate_and_a_ratio_of_sums_per_team() -> None:
    scheme = kpidsl.loads(AGGREGATES)
    rows = [{"employee": "a", "team": "North", "calls": 1000, "meetings": 30},
            {"employee": "b", "team": "South", "calls": 800, "meetings": 12},
            {"employee": "c", "team": "North", "calls": 600, "meetings": 10},
            {"employee": "d", "team": "North", "calls": 400, "meetings": 20}]
    results = {r.employee: r for r in scheme.evaluate_many(rows)}
    north = {k: v.value for k, v in results["a"].kpis.items()}
    assert north == {
        "team_calls": D(2000), "team_avg": D("666.6666666666666666666666666666667"),
        "team_min": D(400), "team_max": D(1000),
        # Σ meetings ÷ Σ calls = 60 / 2000, not the average of 3 %, 1.67 % and 5 %
        "team_conversion": D("0.03"), "own_share": D("0.5"), "heads": D(3),
    }
    assert results["c"].kpis["own_share"].value == D("0.3")
    assert results["b"].kpis["team_conversion"].value == D("0.015")
    assert results["b"].kpis["heads"].value == 1
    # computed once per team and shown in every member's result
    assert results["a"].team_values == results["c"].team_values
    assert results["d"].team_values == {
        "team size": D(3), "team average of calls": D("666.6666666666666666666666666666667"),
        "team max of calls": D(1000), "team min of calls": D(400),
        "team total of calls": D(2000), "team total of meetings": D(60)}
    assert results["d"].to_dict()["team_values"]["team total of calls"] == "2000"


def test_one_employee_alone_is_a_team_of_one() -> None:
    result = kpidsl.loads(AGGREGATES).evaluate({"calls": 500, "meetings": 10})
    assert result.kpis["team_calls"].value == 500 and result.kpis["heads"].value == 1
    assert result.team_values["team size"] == 1


def test_team_size_alone_in_a_gate_needs_the_team() -> None:
    text = AGGREGATES + "pay duty = 1_000 RUB only if team size >= 3\n"
    rows = [{"employee": e, "team": "N", "calls": 1, "meetings": 0} for e in "abc"] + \
        [{"employee": "z", "team": "S", "calls": 1, "meetings": 0}]
    paid = {r.employee: r.components["duty"] for r in kpidsl.loads(text).evaluate_many(rows)}
    assert paid == {"a": D("1000.00"), "b": D("1000.00"), "c": D("1000.00"), "z": D("0")}


# ---------------------------------------------------------------- the team part of the bonus


def test_hunters_team_bonus_pays_every_member_when_the_team_meets_its_plan(golden) -> None:
    results = batch("hunter")
    # Север: 2 650 000 + 3 900 000 + 2 300 000 + 1 850 000 + 950 000 + 610 000 = 12 260 000
    # against 6 heads × 2 000 000 = 12 000 000: met. Юг: 10 050 000 < 12 000 000: not met.
    north = [r for r in results if r.team == "Север"]
    south = [r for r in results if r.team == "Юг"]
    assert len(north) == len(south) == 6
    assert {r.team_values["team total of new_revenue"] for r in north} == {D("12260000")}
    assert {r.team_values["team total of new_revenue"] for r in south} == {D("10050000")}
    assert {r.employee: r.components["team_bonus"] for r in north} == {
        "volkov": D("15000.00"), "orlova": D("10000.00"), "nikitin": D("10000.00"),
        "sokolova": D("10000.00"), "zaitsev": D("10000.00"), "belova": D("10000.00")}
    assert {r.components["team_bonus"] for r in south} == {D("0.00")}
    # Соколова, middle: 575/600 on the activity curve 8 625, 19/20 meetings 11 400,
    # 4/5 clients at the cut-off 12 000, 1 850 000 of 2 000 000 → 22 200
    sokolova = next(r for r in north if r.employee == "sokolova")
    assert sokolova.components == {"salary": D("50000.00"), "bonus": D("54225.00"),
                                   "first_sale": D("18500.00"), "team_bonus": D("10000.00")}
    table = "\n".join(f"{r.team:6} {r.employee:9} {r.grade:6} {r.components['bonus']:>10} "
                      f"{r.components['team_bonus']:>9} {r.total:>10}" for r in results)
    golden.check("roles/hunter_teams", table + "\n")


def test_farmers_team_bonus_uses_a_ratio_of_sums() -> None:
    results = batch("farmer")
    # Ключевые клиенты kept 368 of 400 = 92 % ≥ 90 %; Регионы 618 of 700 = 88.29 % < 90 %
    paid = {r.team: r.components["team_bonus"] for r in results}
    assert paid == {"Ключевые клиенты": D("7000.00"), "Регионы": D("0.00")}
    # Михайлов alone kept 61 of 70 (87 %), but the team's ratio is what counts
    mikhailov = next(r for r in results if r.employee == "mikhailov")
    assert mikhailov.components["team_bonus"] == D("7000.00")


# ---------------------------------------------------------------- pool caps


@pytest.mark.parametrize(("awards", "cap", "expected"), [
    # the example: 900 + 450 = 1 350 over a cap of 900 → × 2/3
    (["900", "450"], "900", ["600.00", "300.00"]),
    # a third each is 333.333…: 333.33 three times leaves 0.01, which goes to the first
    (["500", "500", "500"], "1000.00", ["333.34", "333.33", "333.33"]),
    # 4/7, 1/7, 2/7 of a rouble: floors 0.57, 0.14, 0.28 leave a kopeck for the largest
    # remainder, the third's .57 of a kopeck (the first's is .14, the second's .29)
    (["4", "1", "2"], "1.00", ["0.57", "0.14", "0.29"]),
    # equal remainders: file order decides
    (["10", "10", "10"], "20.00", ["6.67", "6.67", "6.66"]),
    # within the cap nothing changes, whatever the decimals
    (["100", "50"], "900", ["100", "50"]),
    (["0", "0"], "10", ["0", "0"]),
    # a cap that is not a whole number of kopecks is first rounded down to one
    (["1", "1"], "1.005", ["0.50", "0.50"]),
])
def test_pro_rata_hand_computed(awards: list[str], cap: str, expected: list[str]) -> None:
    result = pro_rata([D(a) for a in awards], D(cap))
    assert [str(r) for r in result] == expected
    if sum(D(a) for a in awards) > D(cap):
        assert sum(result) == D(cap).quantize(D("0.01"), rounding="ROUND_FLOOR")


def test_pro_rata_with_a_payout_step_of_one_rouble() -> None:
    assert pro_rata([D(100), D(100), D(100)], D(200), D(1)) == [D(67), D(67), D(66)]


def test_farmers_upsell_fund_splits_to_the_kopeck_per_team() -> None:
    results = batch("farmer")
    upsell = {r.employee: r.components["upsell"] for r in results}
    # Ключевые клиенты: 5 % of repeat sales above 2 400 000 = 45 000, 27 500, 15 000, 0, 6 000,
    # 93 500 in all, over the fund of 60 000: × 60 000 / 93 500 = 28 877.005…, 17 647.058…,
    # 9 625.668…, 0, 3 850.267… → floors 28 877.00, 17 647.05, 9 625.66, 3 850.26 (59 999.97);
    # the 3 kopecks go to the largest remainders: .88, .84, .74 kopeck (not Смирнова's .53)
    key = {e: upsell[e] for e in ("smirnova", "vasiliev", "popova", "mikhailov", "novikova")}
    assert key == {"smirnova": D("28877.00"), "vasiliev": D("17647.06"),
                   "popova": D("9625.67"), "mikhailov": D("0.00"), "novikova": D("3850.27")}
    assert sum(key.values()) == D("60000.00")
    # Регионы: 9 000 + 2 500 + 0 + 20 000 + 0 = 31 500, within the fund: unchanged
    assert [upsell[e] for e in ("egorov", "stepanova", "nikolaev", "orekhova", "yakovlev")] == \
        [D("9000.00"), D("2500.00"), D("0.00"), D("20000.00"), D("0.00")]
    smirnova = next(r for r in results if r.employee == "smirnova")
    assert smirnova.notes == ["upsell scaled to fit budget upsell_fund (60000)"]
    assert smirnova.total == sum(smirnova.components.values())


BUDGET = """scheme contest "Sales contest"
  currency RUB
  period month
fact deals count "Deals"
pay prize "Prize" = deals × 150 RUB
budget prize_fund "Prize fund" cap 900 RUB for prize
"""


def test_a_budget_without_per_team_covers_the_whole_file() -> None:
    scheme = kpidsl.loads(BUDGET)
    rows = [{"employee": "a", "team": "N", "deals": 6}, {"employee": "b", "team": "S", "deals": 3}]
    # 900 + 450 over 900 → 600 and 300, across both teams
    assert [r.total for r in scheme.evaluate_many(rows)] == [D("600.00"), D("300.00")]
    per_team = kpidsl.loads(BUDGET.replace("for prize\n", "for prize per team\n"))
    # per team, each team's own 900 or 450 is within its cap
    assert [r.total for r in per_team.evaluate_many(rows)] == [D("900.00"), D("450.00")]
    assert per_team.evaluate({"deals": 7}).total == D("900.00")  # alone: a team of one


def test_a_budget_belongs_to_the_scheme_not_a_grade() -> None:
    [d] = kpidsl.check(BUDGET + 'grade junior\n  budget prize_fund "Prize fund" cap 500 RUB '
                       "for prize\n")
    assert (d.code, d.line) == ("KPI608", 8)


# ---------------------------------------------------------------- paid per team


def test_head_of_sales_is_paid_once_per_department() -> None:
    results = batch("head_of_sales")
    assert [(r.employee, r.team) for r in results] == [("Москва", "Москва"),
                                                        ("Санкт-Петербург", "Санкт-Петербург")]
    moscow, spb = results
    # Москва: revenue 16 200 000 = 108 % → 60 000 × 1.08 × 1.2 = 77 760;
    # conversion 216 / 8 000 = 2.7 % = 108 % → 24 000 × 1.296 = 31 104;
    # CAC 1 215 000 / 45 = 27 000 → 2 − 27/28 = 103.57 % → 36 000 × 1.2 × 29/28 = 44 742.86
    assert moscow.kpis["dept_conversion"].value == D("0.027")
    assert moscow.kpis["cac"].value == D("27000")
    assert [line.amount for line in moscow.lines] == [D("77760.00"), D("31104.00"),
                                                      D("44742.86")]
    assert moscow.total == D("303606.86")
    assert moscow.facts["revenue"] == D("16200000")  # a per-team result shows team totals
    assert moscow.team_values["team size"] == 7
    # Петербург: 11 700 000 = 78 %: nothing; 182 / 7 000 = 2.6 % = 104 % → 29 952;
    # CAC 1 116 000 / 36 = 31 000 → 25/28 = 89.29 % → 32 142.86
    assert [line.amount for line in spb.lines] == [D("0.00"), D("29952.00"), D("32142.86")]
    assert spb.total == D("212094.86")


def test_per_team_ignores_the_members_own_grades() -> None:
    scheme = kpidsl.load(RULESETS / "head_of_sales.kpi")
    row = {"team": "X", "revenue": "15000000", "calls": 10_000, "meetings": 250,
           "new_clients": 50, "costs": "1400000"}
    results = list(scheme.evaluate_many([{"employee": "a", "grade": "junior", **row}]))
    assert [(r.employee, r.grade, r.total) for r in results] == [("X", "base", D("270000.00"))]


def test_per_team_schemes_read_facts_only_through_aggregates() -> None:
    text = (RULESETS / "head_of_sales.kpi").read_text(encoding="utf-8")
    line = text.splitlines().index("  = team total of revenue") + 1
    [d] = kpidsl.check(text.replace("  = team total of revenue\n", "  = revenue\n"), "h.kpi")
    assert (d.code, d.line, d.message, d.hint) == (
        "KPI607", line, "'revenue' in KPI dept_revenue is one member's fact, but the scheme is "
        "paid per team", "use a team aggregate: team total of revenue (or average, min, max)")
    direct = text.replace("kpi dept_revenue ", "kpi revenue ") \
        .replace("  = team total of revenue\n", "").replace("for dept_revenue", "for revenue")
    [d] = kpidsl.check(direct, "h.kpi")
    assert (d.code, d.message, d.hint) == (
        "KPI607", "KPI 'revenue' is one member's fact, but the scheme is paid per team",
        "aggregate it under a name of its own: kpi team_revenue = team total of revenue")
