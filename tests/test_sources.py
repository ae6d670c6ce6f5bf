"""Sources: deal exports in, facts as aggregates, per-deal pay on running attainment."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.sources.plan import PayPlan, Tier
from kpidsl.sources.transactions import Deal, order_key, walk

HERE = Path(__file__).parent / "fixtures" / "sources"
SCHEME = (HERE / "per_deal.kpi").read_text(encoding="utf-8")
HEADER = "ID;Manager;Closed;Amount;Stage\n"


def run(tmp_path: Path, rows: str, scheme: str = SCHEME, period: str | None = "2025-07",
        encoding: str = "utf-8", **options: object):
    deals = tmp_path / "deals.csv"
    deals.write_bytes((HEADER + rows).encode(encoding))
    ruleset = kpidsl.loads(scheme, "per_deal.kpi")
    from kpidsl.run import FactsOptions, evaluate_files

    the_run = evaluate_files(ruleset, [deals], FactsOptions(**options),  # type: ignore[arg-type]
                             period=period)
    results = {r.employee: r for r in the_run.results()}
    return results, the_run


def test_reference_invoices_straddle_a_tier(tmp_path: Path) -> None:
    results, the_run = run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n"
                                     "2;ivanov;2025-07-10;30 000;won\n")
    ivanov = results["ivanov"]
    assert [line.amount for line in ivanov.deals] == [Decimal("600.00"), Decimal("400.00")]
    second = ivanov.deals[1]
    assert [(s.tier_text, s.credit, s.rate) for s in second.slices] == [
        ("from 0% to 80%", Decimal("20000"), Decimal("0.01")),
        ("from 80% to 100%", Decimal("10000"), Decimal("0.02"))]
    assert ivanov.components["commission"] == Decimal("1000.00")
    assert ivanov.total == Decimal("1000.00")
    assert (the_run.counts.rows_read, the_run.counts.evaluated, the_run.counts.failed) == (2, 2, 0)


def test_order_is_date_then_key_not_the_file(tmp_path: Path) -> None:
    results, _ = run(tmp_path, "2;ivanov;2025-07-10;30 000;won\n"
                               "10;ivanov;2025-07-03;60 000;won\n"
                               "9;ivanov;2025-07-03;1 000;won\n")
    assert [(d.key, d.amount) for d in results["ivanov"].deals] == [
        ("9", Decimal("10.00")), ("10", Decimal("600.00")), ("2", Decimal("410.00"))]


def test_a_reversal_walks_back_down_the_same_slices(tmp_path: Path) -> None:
    results, _ = run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n"
                               "2;ivanov;2025-07-10;30 000;won\n"
                               "3;ivanov;2025-07-20;-30 000;won\n")
    deals = results["ivanov"].deals
    assert [d.amount for d in deals] == [Decimal("600.00"), Decimal("400.00"),
                                         Decimal("-400.00")]
    assert [(s.tier, s.credit) for s in deals[2].slices] == [(2, Decimal("-10000")),
                                                            (1, Decimal("-20000"))]
    assert results["ivanov"].total == Decimal("600.00")


def test_the_period_filters_by_date_and_the_where_by_stage(tmp_path: Path) -> None:
    results, the_run = run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n"
                                     "2;ivanov;2025-06-30;30 000;won\n"
                                     "3;ivanov;2025-07-05;99 000;lost\n"
                                     "4;petrov;2025-08-01;10 000;won\n")
    assert results["ivanov"].kpis["revenue"].value == Decimal("60000")
    assert results["ivanov"].total == Decimal("600.00")
    # petrov has no row in July: the missing-fact rule (if missing 0) and no deals
    assert results["petrov"].total == Decimal("0.00") and results["petrov"].deals == ()
    assert (the_run.counts.rows_read, the_run.counts.evaluated, the_run.counts.failed) == (4, 4, 0)


def test_rows_of_several_periods_without_a_period_are_refused(tmp_path: Path) -> None:
    with pytest.raises(kpidsl.KpiError) as raised:
        run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n2;ivanov;2025-06-30;30 000;won\n",
            period=None)
    (d,) = raised.value.diagnostics
    assert d.code == "KPI543"
    assert "2 periods (2025-06, 2025-07)" in d.message and "--period 2025-07" in d.hint


def test_a_bad_amount_fails_the_facts_resting_on_it(tmp_path: Path) -> None:
    results, the_run = run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n"
                                     "2;ivanov;2025-07-10;3O 000;won\n"
                                     "3;petrov;2025-07-10;1 000;won\n"
                                     "4;petrov;2025-07-11;x;lost\n")
    # ivanov's revenue rests on row 3: never computed without it
    assert "ivanov" not in results
    # petrov's bad cell is in a lost deal: the where excludes it on the cells read
    assert results["petrov"].total == Decimal("10.00")
    row_failures = [(f.file.rsplit("/", 1)[-1], f.row, f.column, f.diagnostics[0].code)
                    for f in the_run.failures if f.row in (3, 5)]
    assert row_failures == [("deals.csv", 3, "Amount", "KPI501")]
    # nothing rests on row 5 whatever it holds: evaluated, and said in a warning
    (warned,) = the_run.counts.warnings
    assert (warned.line, warned.code, warned.is_error) == (5, "KPI501", False)
    failed = [f for f in the_run.failures if f.employee == "ivanov" and f.row == 2]
    assert failed and failed[0].diagnostics[0].code == "KPI540"
    assert "fact 'revenue', payment 'commission' not computed" in failed[0].diagnostics[0].message
    counts = the_run.counts
    assert counts.rows_read == counts.evaluated + counts.failed == 4
    assert (counts.evaluated, counts.failed) == (2, 2)


def test_a_row_without_an_employee_could_be_anyones(tmp_path: Path) -> None:
    results, the_run = run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n"
                                     "2;;2025-07-10;30 000;won\n")
    assert results == {}
    assert any(f.diagnostics[0].code == "KPI502" and f.row == 3 for f in the_run.failures)


def test_cp1251_semicolons_and_russian_numbers(tmp_path: Path) -> None:
    scheme = SCHEME.replace('"Manager"', '"Ответственный"').replace('"Amount"',
                                                                     '"Бюджет, руб."')
    deals = tmp_path / "deals.csv"
    deals.write_bytes(("ID;Ответственный;Closed;Бюджет, руб.;Stage\n"
                       "1;Иванов;03.07.2025 14:30;60 000,00 руб.;won\n"
                       "2;Иванов;10.07.2025;30\u00a0000;won\n"
                       "Итого;Итого;;90 000;\n").encode("cp1251"))
    ruleset = kpidsl.loads(scheme)
    from kpidsl.run import FactsOptions, evaluate_files

    the_run = evaluate_files(ruleset, [deals], FactsOptions(), period="2025-07")
    (result,) = the_run.results()
    assert result.employee == "Иванов" and result.total == Decimal("1000.00")


def test_checker_names_unknown_fields_and_sources() -> None:
    bad = SCHEME.replace("total of deals.amount where stage is", "total of deals.amont where "
                         "stag is").replace("for each deal in deals", "for each deal in deal")
    found = {(d.code, d.message, d.hint) for d in kpidsl.check(bad)}
    assert ("KPI642", "source 'deals' has no field 'amont'", "did you mean 'amount'?") in found
    assert ("KPI642", "source 'deals' has no field 'stag'", "did you mean 'stage'?") in found
    assert ("KPI641", "unknown source 'deal'", "did you mean 'deals'?") in found


def test_checker_wants_marginal_tiers_and_a_total_of_the_same_source() -> None:
    bad = SCHEME.replace("tiers marginal", "tiers whole")
    (d,) = [d for d in kpidsl.check(bad) if d.is_error]
    assert d.code == "KPI645" and "curve 'rates' is whole" in d.message
    bad = SCHEME.replace("= total of deals.amount", "= max of deals.amount")
    (d,) = [d for d in kpidsl.check(bad) if d.is_error]
    assert d.code == "KPI645" and "must be a fact = total of deals.FIELD" in d.message
    bad = SCHEME.replace("in order of date, key", "in order of amount")
    (d,) = [d for d in kpidsl.check(bad) if d.is_error]
    assert d.code == "KPI645" and "in order of amount, but deals are paid in order of date" \
        in d.message
    bad = SCHEME.replace('where stage is "won" if', 'where stage > 5 if')
    (d,) = [d for d in kpidsl.check(bad) if d.is_error]
    assert d.code == "KPI644" and d.message == "field 'stage' is text: compare it with text " \
        "in quotes"


AGGREGATES = '''scheme agg "Aggregates"
source calls "Calls"
  employee column "who"  date column "when"  key column "id"
  field seconds number column "sec"
  field outcome text
  field client text
fact answered  count  = count of calls where outcome is one of "success", "ok" and seconds >= 30
fact clients   count  = count distinct of calls.client where not outcome is "busy"
fact total_sec number = total of calls.seconds if missing 0
fact mean_sec  number = average of calls.seconds
fact mid_sec   number = median of calls.seconds
fact low_sec   number = min of calls.seconds
fact top_sec   number = max of calls.seconds where outcome is "success" or seconds > 100
pay nothing "Nothing" = 0 RUB
'''


def test_every_aggregate_with_where(tmp_path: Path) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_text("id;who;when;sec;outcome;client\n"
                     "1;a;2025-07-01;10;success;x\n"
                     "2;a;2025-07-01;40;Success;y\n"
                     "3;a;2025-07-02;50;ok;x\n"
                     "4;a;2025-07-02;120;busy;z\n"
                     "5;a;2025-07-03;;busy;z\n", encoding="utf-8")
    ruleset = kpidsl.loads(AGGREGATES)
    from kpidsl.run import FactsOptions, evaluate_files

    (result,) = evaluate_files(ruleset, [calls], FactsOptions(), period="2025-07").results()
    facts = result.facts
    assert facts["answered"] == 2  # 40 Success (case ignored), 50 ok; 10 s is too short
    assert facts["clients"] == 2  # x, y (z only busy)
    assert facts["total_sec"] == 220
    assert facts["mean_sec"] == 55  # the empty cell is no value
    assert facts["mid_sec"] == 45
    assert (facts["low_sec"], facts["top_sec"]) == (10, 120)


# ---------------------------------------------------------------- the oracle


def _oracle(credits: list[Fraction], tiers: list[tuple[Fraction, Fraction | None, Fraction]],
            plan: Fraction) -> list[Fraction]:
    """Exact pay of each deal: the integral of the rate over the running total it moves."""
    out, running = [], Fraction(0)
    for credit in credits:
        a, b = running, running + credit
        paid = Fraction(0)
        for lower, upper, rate in tiers:
            lo, hi = lower * plan, (upper * plan if upper is not None else None)
            start, end = max(min(a, b), lo), max(a, b) if hi is None else min(max(a, b), hi)
            if end > start:
                paid += (end - start) * rate * (1 if credit >= 0 else -1)
        out.append(paid)
        running = b
    return out


def _half_up(value: Fraction) -> Decimal:
    cents = value * 100
    whole = int(abs(cents) + Fraction(1, 2))
    return (Decimal(whole if cents >= 0 else -whole) / 100).quantize(Decimal("0.01"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5_000_000, 9_000_000), min_size=1, max_size=12),
       st.integers(1, 10_000_000))
def test_walk_equals_exact_rational_arithmetic(cents: list[int], plan_cents: int) -> None:
    rates = [Decimal("0.01"), Decimal("0.02"), Decimal("0.03"), Decimal("0.04")]
    bounds = [Decimal(0), Decimal("0.8"), Decimal(1), Decimal("1.5")]
    tiers = tuple(Tier(bounds[i], bounds[i + 1] if i + 1 < 4 else None, rates[i], f"t{i}")
                  for i in range(4))
    pay = PayPlan("p", "P", "p.per_deal", "deals", "amount", "deal", None, (), lambda r: True,
                  ("date", "key"), tiers, "attainment", "revenue", "rates")
    import datetime as dt

    day = dt.datetime(2025, 7, 1)
    deals = [Deal(order_key(day, str(i), 0, i), str(i), day, "f", i, Decimal(c) / 100, None)
             for i, c in enumerate(cents)]
    plan = Decimal(plan_cents) / 100
    lines = walk(pay, "e", deals, plan, Decimal("0.01"), "half up")
    expected = _oracle([Fraction(c, 100) for c in cents],
                       [(Fraction(b), Fraction(bounds[i + 1]) if i + 1 < 4 else None,
                         Fraction(rates[i])) for i, b in enumerate(bounds)],
                       Fraction(plan_cents, 100))
    assert [line.exact for line in lines] == [Decimal(e.numerator) / e.denominator
                                              for e in expected]
    assert [line.amount for line in lines] == [_half_up(e) for e in expected]


def test_random_order_of_rows_pays_the_same(tmp_path: Path) -> None:
    rows = [f"{i};{'ab'[i % 2]};2025-07-{1 + i % 28:02d};{(i * 7919) % 50_000};won\n"
            for i in range(60)]
    first, _ = run(tmp_path, "".join(rows))
    random.Random(7).shuffle(rows)
    again, _ = run(tmp_path, "".join(rows))
    assert {e: r.total for e, r in first.items()} == {e: r.total for e, r in again.items()}


SPLIT = SCHEME.replace('key column "ID"', 'key column "ID"  share column "Share"')


def test_a_split_deal_is_credited_to_the_kopeck(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Share\n"
                     "1;a;2025-07-03;1000;won;33,333333333333333333%\n"
                     "2;a;2025-07-04;50 000;won;60%\n"
                     "1;b;2025-07-03;1000;won;33,333333333333333333%\n"
                     "2;b;2025-07-04;50 000;won;40%\n"
                     "1;c;2025-07-03;1000;won;33,333333333333333334%\n", encoding="utf-8")
    from kpidsl.run import FactsOptions, evaluate_files

    the_run = evaluate_files(kpidsl.loads(SPLIT), [deals], FactsOptions(), period="2025-07")
    results = {r.employee: r for r in the_run.results()}
    assert {e: r.kpis["revenue"].value for e, r in results.items()} == {
        "a": Decimal("30333.33"), "b": Decimal("20333.33"), "c": Decimal("333.34")}
    # the kopeck left over goes to the largest remainder: c's 33,333333333333333334 %
    assert [d.credit for d in results["a"].deals] == [Decimal("333.33"), Decimal("30000.00")]
    assert results["a"].deals[1].share == Decimal("0.6")


def test_shares_that_miss_100_percent_fail_the_deal(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Share\n"
                     "2;a;2025-07-04;50 000;won;60%\n"
                     "2;b;2025-07-04;50 000;won;30%\n"
                     "3;c;2025-07-04;50 000;won;100%\n", encoding="utf-8")
    from kpidsl.run import FactsOptions, evaluate_files

    the_run = evaluate_files(kpidsl.loads(SPLIT), [deals], FactsOptions(), period="2025-07")
    assert [r.employee for r in the_run.results()] == ["c"]
    codes = {(f.row, f.diagnostics[0].code) for f in the_run.failures}
    assert (2, "KPI544") in codes and (3, "KPI544") in codes
    message = next(f.diagnostics[0].message for f in the_run.failures if f.row == 2)
    assert message == "row 2: deal '2': the shares add up to 90 % (60 % + 30 %), not 100 %"
    counts = the_run.counts
    assert counts.rows_read == counts.evaluated + counts.failed == 3


def test_explain_lists_each_deal_and_the_tiers_it_crossed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kpidsl.cli import main

    (tmp_path / "per_deal.kpi").write_text(SCHEME, encoding="utf-8")
    (tmp_path / "deals.csv").write_text(HEADER + "1;ivanov;2025-07-03;60 000;won\n"
                                        "2;ivanov;2025-07-10;30 000;won\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "per_deal.kpi"),
                                       str(tmp_path / "deals.csv"), "--period", "2025-07",
                                       "-e", "ivanov", "--lang", "ru"])
    assert result.exit_code == 0, result.output
    tail = [line.replace("\u00a0", " ") for line in result.stdout.splitlines()[-9:]]
    assert tail == [
        "Commission: по сделкам (по дате, затем по номеру):",
        "  сделка 1, 2025-07-03 (deals.csv, строка 2): 60 000,00 ₽, нарастающим итогом "
        "0 % → 60 %",
        "    60 000,00 ₽ от 0 % до 80 %, не включая 80 % × 1 % = 600,00 ₽",
        "    = 600,00 ₽",
        "  сделка 2, 2025-07-10 (deals.csv, строка 3): 30 000,00 ₽, нарастающим итогом "
        "60 % → 90 %",
        "    20 000,00 ₽ от 0 % до 80 %, не включая 80 % × 1 % = 200,00 ₽",
        "    10 000,00 ₽ от 80 % до 100 %, не включая 100 % × 2 % = 200,00 ₽",
        "    = 400,00 ₽",
        "  Commission: 1 000,00 ₽, сделок: 2",
    ]


def test_the_statement_has_a_line_per_deal_and_the_plan_document_pays_at_plan(
        tmp_path: Path) -> None:
    from kpidsl.docs import render_plan
    from kpidsl.docs.render import render_statement

    results, _ = run(tmp_path, "1;ivanov;2025-07-03;60 000;won\n"
                               "2;ivanov;2025-07-10;30 000;won\n")
    ruleset = kpidsl.loads(SCHEME, "per_deal.kpi")
    text = render_statement(ruleset, results["ivanov"], "en", "md",
                            period="2025-07").replace("\u00a0", " ")
    assert ("| 2 | 2025-07-10 | RUB 30,000.00 | 60% → 90% | RUB 20,000.00 (from 0% to under "
            "80%) × 1% + RUB 10,000.00 (from 80% to under 100%) × 2% | RUB 400.00 |") in text
    # the earnings table pays the tiers on the whole credit, as one deal: 0 would misstate it
    plan = render_plan(ruleset, None, "en", "md").replace("\u00a0", " ")
    assert "| **100%** | **RUB 1,200.00** | **RUB 1,200.00** |" in plan
