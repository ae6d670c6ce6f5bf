"""DuckDB's sources stage (GROUP BY, SUM OVER) agrees with Python's to the kopeck."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from deal_schemes import tiered_deals
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.run import FactsOptions, evaluate_files

SCHEME = '''scheme random_sources "Random sources"
source deals "Deals"
  employee column "Manager"  date column "Closed"  key column "ID"
  field amount money column "Amount"
  field stage text column "Stage"
  field calls count column "Calls"
fact revenue  money  = total of deals.amount where stage is one of "won", "paid" if missing 0
fact won      count  = count of deals where stage is "won" or (stage is "paid" and amount > 0)
                       if missing 0
fact lost     count  = count of deals where not stage is one of "won", "paid" if missing 0
fact clients  count  = count distinct of deals.stage if missing 0
fact mean     money  = average of deals.amount if missing 0
fact middle   money  = median of deals.amount if missing 0
fact low      money  = min of deals.amount where amount >= -100 RUB if missing 0
fact high     money  = max of deals.amount if missing 0
fact reached  number = average of deals.calls if missing 0
curve rates "Tiers"
  tiers marginal
    from 0% to 80%     rate 1%
    from 80% to 100%   rate 2.5%
    from 100% to 150%  rate 3%
    from 150%          rate 4.125%
kpi revenue "Revenue" plan 100_000 RUB
pay commission "Commission"
  for each deal in deals where stage is one of "won", "paid" in order of date, key
  pays rates on the running attainment of revenue
'''
RULESET = kpidsl.loads(SCHEME)

row = st.tuples(
    st.sampled_from(["a", "b", "c", "Дарья"]),
    st.sampled_from(["2025-07-01", "2025-07-02", "15.07.2025 10:30", "2025-07-31 23:59",
                     "2025-06-30", "2025-08-01"]),
    st.integers(1, 40),
    st.integers(-20_000_00, 90_000_00),
    st.sampled_from(["won", "WON ", "paid", "lost", "open"]),
    st.integers(0, 30))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=40))
def test_duckdb_agrees_with_python(tmp_path: Path, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    text = "ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        f"{key};{who};{when};{Decimal(cents) / 100:f};{stage};{calls}\n"
        for who, when, key, cents, stage, calls in rows)
    deals = tmp_path / "deals.csv"
    deals.write_text(text, encoding="utf-8")
    runs = {engine: evaluate_files(RULESET, [deals], FactsOptions(locale="en"),
                                   period="2025-07", engine=engine)
            for engine in ("python", "duckdb")}
    seen = {engine: {r.employee: (r.facts, r.total, [(d.key, d.amount) for d in r.deals])
                     for r in run.results()} for engine, run in runs.items()}
    assert seen["duckdb"] == seen["python"]
    assert runs["duckdb"].counts == runs["python"].counts


def test_the_reference_case_in_duckdb(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n1;a;2025-07-03;60000;won;1\n"
                     "2;a;2025-07-10;30000;won;1\n3;a;2025-07-11;-30000;won;1\n",
                     encoding="utf-8")
    scheme = SCHEME.replace("2.5%", "2%").replace("4.125%", "4%")
    run = evaluate_files(kpidsl.loads(scheme), [deals], FactsOptions(), period="2025-07",
                         engine="duckdb")
    (result,) = run.results()
    assert [d.amount for d in result.deals] == [Decimal("600.00"), Decimal("400.00"),
                                               Decimal("-400.00")]


# ---------------------------------------------------------------- DuckDB reading the files

def _spelt(cents: int, how: int) -> str:
    """An amount as exports spell it: 1234.5, 1 234,50, 1234,500, -0,00 …"""
    value = Decimal(cents) / 100
    text = [f"{value:f}", f"{value:.2f}", f"{value:.3f}", f"{value:,.2f}".replace(",", " "),
            f"{value:f}"][how]
    return text.replace(".", ",") if how in (1, 3) else text


cell = st.tuples(
    st.sampled_from(["a", "b", "Дарья Ю.", "e 1"]),
    st.sampled_from(["2025-07-01", "2025-07-02 09:15", "15.07.2025 10:30", "31.07.2025",
                     "2025-07-31 23:59:59", "2025-06-30", "2025-08-01"]),
    st.integers(1, 40),
    st.integers(-20_000_00, 90_000_00), st.integers(0, 4),
    st.sampled_from(["won", "WON ", "paid", "lost", "Успешно  реализовано"]),
    st.sampled_from(["0", "3", "12", ""]))
_BAD = ["12,3,4", "", "07/08/2025", "итого", "abc"]


def _runs(path: Path | list[Path], locale: str | None = None, ruleset: kpidsl.Ruleset = RULESET,
          ) -> dict[str, tuple[object, ...]]:
    from kpidsl.sources import native

    used = []
    made = native.evaluate_sources_native

    def spy(*args: Any, **kwargs: Any) -> Any:
        stage, results = made(*args, **kwargs)  # Unusual: the Python reader reads the files
        used.append(stage.rows_read)
        return stage, results

    out = {}
    native.evaluate_sources_native = spy  # type: ignore[assignment]
    try:
        for engine in ("python", "duckdb"):
            run = evaluate_files(ruleset, path if isinstance(path, list) else [path],
                                 FactsOptions(locale=locale),
                                 period="2025-07", engine=engine)
            # the facts as written digits too (1047.20, not 1047.2): str keeps the exponent
            results = [json.dumps({**r.to_dict(), "facts": {k: str(v) for k, v in
                                                            r.facts.items()}},
                                  ensure_ascii=False, sort_keys=True) for r in run.results()]
            out[engine] = (results, [(f.file, f.row, f.column, [d.message for d in
                                                                 f.diagnostics])
                                     for f in run.failures], run.counts)
    finally:
        native.evaluate_sources_native = made  # type: ignore[assignment]
    return {**out, "native": tuple(used)}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(cell, min_size=1, max_size=30), st.sampled_from(["utf-8", "cp1251"]),
       st.lists(st.tuples(st.integers(0, 29), st.integers(0, 4)), max_size=3))
def test_duckdb_reading_the_export_agrees_with_python(
        tmp_path: Path, rows: list[tuple], encoding: str,  # type: ignore[type-arg]
        bad: list[tuple[int, int]]) -> None:
    """DuckDB reads a plain export itself and gives the Python engine's JSON byte for byte;
    a row with a cell outside the plain grammar (a bad amount, an empty or ambiguous date,
    a call count that is not a count) is read alone by the Python reader, with its
    diagnostics (file, row, column) and counts, and the rest stays in DuckDB; a totals row
    sends the export to the Python reader."""
    lines = [[str(key), who, when, _spelt(cents, how), stage, calls]
             for who, when, key, cents, how, stage, calls in rows]
    for at, what in bad:
        column = {0: 3, 1: 2, 2: 2, 3: 1, 4: 5}[what]
        lines[at % len(lines)][column] = _BAD[what]
    deals = tmp_path / "deals.csv"
    deals.write_bytes(("ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        ";".join(line) + "\n" for line in lines)).encode(encoding))
    runs = _runs(deals, "ru")
    assert runs["duckdb"] == runs["python"]
    totals = any(what == 3 for _at, what in bad)
    assert runs["native"] == (() if totals else (len(lines),))


def test_duckdb_reads_parquet_itself(tmp_path: Path) -> None:
    import duckdb

    deals = tmp_path / "deals.parquet"
    duckdb.connect().execute(f"""COPY (SELECT * FROM (VALUES
        (1, 'a', TIMESTAMP '2025-07-03 10:00', 60000.00::DECIMAL(18, 2), 'won', 1),
        (2, 'a', TIMESTAMP '2025-07-10', 30000.50::DECIMAL(18, 2), 'won', 2),
        (3, 'b', TIMESTAMP '2025-07-11', 500::DECIMAL(18, 2), 'lost', NULL),
        (4, 'a', TIMESTAMP '2025-07-12', -30000.50::DECIMAL(18, 2), 'WON', 0))
        t("ID", "Manager", "Closed", "Amount", "Stage", "Calls")) TO '{deals}'
        (FORMAT parquet)""")
    runs = _runs(deals)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (4,)
    first = json.loads(runs["duckdb"][0][0])  # type: ignore[index]
    assert first["total"] == "600.00"  # 600.00 + 450.01 − 450.01: the reversal walks back
    assert [d["amount"] for d in first["deals"]] == ["600.00", "450.01", "-450.01"]
    assert first["facts"]["revenue"] == "60000.00"  # 60000.00 + 30000.50 − 30000.50


parquet_row = st.tuples(
    st.sampled_from(["a", "b", "Дарья Ю."]),
    st.integers(0, 40 * 24 * 60),  # minutes from 2025-06-25: some rows outside July
    st.integers(1, 40),
    st.integers(-20_000_00, 90_000_00),
    st.sampled_from(["won", "WON ", " Won", "paid", "PAID", "pa  id", "lost", "", None]),
    st.one_of(st.none(), st.integers(0, 30)))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(parquet_row, min_size=1, max_size=30))
def test_parquet_texts_tested_by_their_distinct_cells(
        tmp_path: Path, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """DuckDB decides a Parquet text field's `is`, `is one of` and `not` once a distinct
    cell as written (upper case, surrounding and doubled spaces, empty and missing cells)
    and gives the Python engine's results byte for byte, reading the file itself."""
    import duckdb

    deals = tmp_path / "deals.parquet"
    con = duckdb.connect()
    con.execute('CREATE TABLE t("ID" BIGINT, "Manager" VARCHAR, "Closed" TIMESTAMP, '
                '"Amount" DECIMAL(18, 2), "Stage" VARCHAR, "Calls" INTEGER)')
    con.executemany("INSERT INTO t VALUES (?, ?, TIMESTAMP '2025-06-25' + to_minutes(?), "
                    "CAST(? AS DECIMAL(18, 2)), ?, ?)",
                    [[key, who, minutes, f"{Decimal(cents) / 100:f}", stage, calls]
                     for who, minutes, key, cents, stage, calls in rows])
    con.execute(f"COPY t TO '{deals}' (FORMAT parquet)")
    runs = _runs(deals, ruleset=NOT_LOST)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (len(rows),)


NOT_LOST = kpidsl.loads(SCHEME.replace(
    "fact clients", 'fact open count = count of deals where stage is not "lost" if missing 0\n'
    'fact blank count = count of deals where stage is "" if missing 0\nfact clients'))


@pytest.mark.parametrize("odd, native", [
    ("(5, 'b', NULL, 100.00::DECIMAL(18, 2), 'won', 1)", True),  # a won deal without a date
    ("(5, 'b', NULL, 100.00::DECIMAL(18, 2), 'open', 1)", True),  # the average counts it
    ("(5, 'b', TIMESTAMP '2025-07-12', 100.00::DECIMAL(18, 2), 'won', -1)", True),  # count
    ("(5, 'a', TIMESTAMP '2025-07-12', 100.00::DECIMAL(18, 2), 'won', -1)", True),  # a's
    ("(5, ' b', TIMESTAMP '2025-07-12', 100.00::DECIMAL(18, 2), 'won', 1)", False),  # space
    ("(5, 'b', TIMESTAMP '2025-07-12', 100.00::DECIMAL(18, 2), 'wo\tn', 1)", False),  # tab
    ("(5, 'b', TIMESTAMP '2025-07-12', 100.00::DECIMAL(18, 2), 'won', 1)", True),
])
def test_a_parquet_file_read_where_it_lies_is_checked(tmp_path: Path, odd: str,
                                                     native: bool) -> None:
    """A Parquet file is not loaded into a table: its cells are checked by the scan that
    groups the employees (with the facts in the same scan). A row the Python reader would
    fail (no date, a negative count) is read alone by it, with the same failures, and the
    facts scanned again without it; an employee or a text it would warn about or read
    otherwise sends the run to it, with the same results and failures."""
    import duckdb

    deals = tmp_path / "deals.parquet"
    duckdb.connect().execute(f"""COPY (SELECT * FROM (VALUES
        (1, 'a', TIMESTAMP '2025-07-03 10:00', 60000.00::DECIMAL(18, 2), 'won', 1),
        (2, 'b', TIMESTAMP '2025-07-10', 30000.50::DECIMAL(18, 2), 'won', 2),
        (3, 'a', TIMESTAMP '2025-07-11', 500::DECIMAL(18, 2), 'lost', NULL), {odd})
        t("ID", "Manager", "Closed", "Amount", "Stage", "Calls")) TO '{deals}'
        (FORMAT parquet)""")
    runs = _runs(deals)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == ((4,) if native else ())


def test_duckdb_reads_the_amocrm_export_itself() -> None:
    """The cp1251 amoCRM export (open deals without a close date, which no fact counts) and
    the telephony export are read by DuckDB, with the Python engine's results."""
    folder = Path(__file__).resolve().parent.parent / "rulesets" / "exports"
    scheme = kpidsl.load(folder / "b2b_deals.kpi")
    runs = _runs([folder / "b2b_deals.calls.csv", folder / "b2b_deals.deals.csv"],
                 ruleset=scheme)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (2814,)


def _planned(tmp_path: Path, scheme: kpidsl.Ruleset, quota_of_b: str
             ) -> tuple[dict[str, tuple[object, ...]], Path]:
    """Five deals of a, b and c, their plans from a facts file (c's is 0), both engines run
    and agreeing, DuckDB reading the export itself."""
    deals, plans = tmp_path / "deals.csv", tmp_path / "plans.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n1;a;2025-07-03;60000;won;1\n"
                     "2;a;2025-07-10;30000,5;won;1\n3;b;2025-07-11;40000;won;1\n"
                     "4;b;2025-07-12;-10000;won;1\n5;c;2025-07-12;10000;won;1\n",
                     encoding="utf-8")
    plans.write_text(f"employee;quota\na;100000\nb;{quota_of_b}\nc;0\n", encoding="utf-8")
    runs = _runs([deals, plans], ruleset=scheme)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (5,)
    return runs, deals


def test_plans_from_a_facts_file_and_a_plan_of_zero(tmp_path: Path) -> None:
    """Each employee's plan from a facts file: the tier bounds differ by employee (a table
    joined in the window query); a plan of 0 fails its employee as the Python stage does."""
    scheme = kpidsl.loads(SCHEME.replace('kpi revenue "Revenue" plan 100_000 RUB',
                                         'fact quota money\nkpi revenue "Revenue" plan quota'))
    runs, deals = _planned(tmp_path, scheme, "33333,33")
    first = json.loads(runs["duckdb"][0][1])  # type: ignore[index]
    # 40 000 against a plan of 33 333.33: 26 666.664 at 1 %, 6 666.666 at 2.5 %, 6 666.67 at
    # 3 % = 633.33329; back down 10 000: 6 666.67 at 3 % and 3 333.33 at 2.5 % = 283.33335
    assert [d["amount"] for d in first["deals"]] == ["633.33", "-283.33"]
    assert runs["duckdb"][1] == [(str(deals), 6, "", [  # type: ignore[index]
        "division by zero while computing employee 'c'"])]


def test_a_payment_on_each_ones_plan_before_one_on_a_constant_tier(tmp_path: Path) -> None:
    """Two per-deal payments on one connection, the first on each one's plan, the second on
    tiers of money the same for everyone: DuckDB reads the export (a streamed result after a
    single-row one); an employee failing the first is left out of both."""
    scheme = kpidsl.loads(SCHEME.replace(
        'kpi revenue "Revenue" plan 100_000 RUB',
        'fact quota money\nkpi revenue "Revenue" plan quota\ncurve flat "Flat"\n'
        "  tiers marginal\n    from 0 RUB to 50_000 RUB  rate 0.5%\n"
        "    from 50_000 RUB         rate 1%\n")
        + 'pay volume "Volume"\n  for each deal in deals where stage is "won"\n'
        "  pays flat on the running total of revenue\n")
    runs, deals = _planned(tmp_path, scheme, "50000")
    paid = [json.loads(r)["components"] for r in runs["duckdb"][0]]  # type: ignore[index]
    # a: 60 000 at 1 % + 30 000.5 (20 000 at 1 %, 10 000.5 at 2.5 %) = 1 050.01; its volume
    # 50 000 at 0.5 % + 40 000.5 at 1 % = 650.01. b (plan 50 000): 40 000 at 1 % = 400.00,
    # then −10 000 walks back down the same slice: −100.00; volume 200.00 − 50.00
    assert paid == [{"commission": "1050.01", "volume": "650.01"},
                    {"commission": "300.00", "volume": "150.00"}]
    assert runs["duckdb"][1] == [(str(deals), 6, "", [  # type: ignore[index]
        "division by zero while computing employee 'c'"])]


def _reference(tmp_path: Path) -> tuple[Path, kpidsl.Ruleset]:
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n1;a;2025-07-03;60000;won;1\n"
                     "2;a;2025-07-10;30000;won;1\n3;a;2025-07-11;-30000;won;1\n",
                     encoding="utf-8")
    return deals, kpidsl.loads(SCHEME.replace("2.5%", "2%").replace("4.125%", "4%"))


def test_the_deals_sorted_beside_the_facts_are_the_ones_paid(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB sorts the payment's deals in a thread while Python converts the facts; the
    payment takes that sort's batches (not a second query), and no thread outlives the run."""
    import threading

    from kpidsl.sources import native

    taken = []
    take = native.Sorting.take

    def spy(self: native.Sorting) -> Any:
        taken.append(self.query)
        return take(self)

    monkeypatch.setattr(native.Sorting, "take", spy)
    deals, scheme = _reference(tmp_path)
    runs = _runs(deals, ruleset=scheme)
    assert runs["native"] == (3,) and runs["duckdb"] == runs["python"]
    assert len(taken) == 1 and "ORDER BY o.ordinal" in taken[0]
    paid = json.loads(runs["duckdb"][0][0])["deals"]  # type: ignore[index]
    assert [d["amount"] for d in paid] == ["600.00", "400.00", "-400.00"]
    assert not [t for t in threading.enumerate() if t.name == "kpidsl-sort"]


def test_a_sort_failing_in_its_thread_sends_the_run_to_the_python_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error of the sort begun beside the facts is raised in the run's own thread, after
    that thread is done: the run goes to the Python reader and pays the same amounts."""
    from kpidsl.sources import native

    made = native.Native._sorted_query
    calls = []

    def broken(self: native.Native, *args: Any) -> str:
        calls.append(1)
        return "SELECT * FROM no_such_table" if len(calls) == 1 else made(self, *args)

    monkeypatch.setattr(native.Native, "_sorted_query", broken)
    deals, scheme = _reference(tmp_path)
    runs = _runs(deals, ruleset=scheme)
    assert runs["native"] == () and runs["duckdb"] == runs["python"]
    assert len(calls) == 2  # the thread's query, then the payment's own, which raised it
    paid = json.loads(runs["duckdb"][0][0])["deals"]  # type: ignore[index]
    assert [d["amount"] for d in paid] == ["600.00", "400.00", "-400.00"]


def test_without_a_thread_to_sort_in_the_payment_sorts_its_deals_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine that gives no more threads: DuckDB still reads and pays the export, the
    sort made by the payment's own query."""
    import threading

    start = threading.Thread.start

    def refused(self: threading.Thread) -> None:
        if self.name == "kpidsl-sort":
            raise RuntimeError("can't start new thread")
        start(self)

    monkeypatch.setattr(threading.Thread, "start", refused)
    deals, scheme = _reference(tmp_path)
    runs = _runs(deals, ruleset=scheme)
    assert runs["native"] == (3,) and runs["duckdb"] == runs["python"]
    paid = json.loads(runs["duckdb"][0][0])["deals"]  # type: ignore[index]
    assert [d["amount"] for d in paid] == ["600.00", "400.00", "-400.00"]


@pytest.mark.parametrize("caller", ["enabled", "disabled", "frozen"])
def test_the_native_stage_gives_the_collector_back_as_it_found_it(
        tmp_path: Path, caller: str) -> None:
    """The cyclic collector is paused while the native stage builds its rows; what it made
    then goes to the oldest generation by freeze and unfreeze, unless the caller froze
    objects of its own (they stay frozen) or had paused the collector (it stays paused)."""
    import gc

    deals, scheme = _reference(tmp_path)
    was = gc.isenabled()
    mine = ["the caller's"]
    if caller == "disabled":
        gc.disable()
    if caller == "frozen":
        gc.freeze()
    try:
        run = evaluate_files(scheme, [deals], FactsOptions(), period="2025-07",
                             engine="duckdb")
        (result,) = run.results()
        assert result.total == Decimal("600.00")
        assert gc.isenabled() == (caller != "disabled")
        collected = any(any(o is mine for o in gc.get_objects(g)) for g in range(3))
        assert collected == (caller != "frozen")
    finally:
        gc.unfreeze()
        if was:
            gc.enable()


def test_a_per_deal_minimum_in_duckdb(tmp_path: Path) -> None:
    """DuckDB reads the export and pays the minimum itself: 100 pays 1.00, lifted to 10.00;
    60 000 pays 599.00 + 1.00 (the tier above 80 000 is not reached)."""
    scheme = kpidsl.loads(SCHEME.replace("pays rates on the running attainment of revenue",
                                         "pays rates on the running attainment of revenue "
                                         "with a minimum of 10 RUB"))
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n1;a;2025-07-03;100;won;1\n"
                     "2;a;2025-07-10;60000;won;1\n", encoding="utf-8")
    runs = _runs(deals, ruleset=scheme)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (2,)
    assert '"total": "610.00"' in runs["duckdb"][0][0]  # type: ignore[index]


MINIMUM = kpidsl.loads(SCHEME.replace(
    "pays rates on the running attainment of revenue",
    "pays rates on the running attainment of revenue with a minimum of 25.5 RUB"))
MINIMUM_FINE = kpidsl.loads(SCHEME.replace(
    "pays rates on the running attainment of revenue",
    "pays rates on the running attainment of revenue with a minimum of 7.125 RUB"))
MINIMUM_TOTAL = kpidsl.loads(SCHEME.replace(
    "pays rates on the running attainment of revenue",
    "pays rates on the running total of revenue with a minimum of 30 RUB").replace(
    "from 0% to 80%", "from 0 RUB to 80_000 RUB").replace(
    "from 80% to 100%", "from 80_000 RUB to 100_000 RUB").replace(
    "from 100% to 150%", "from 100_000 RUB to 150_000 RUB").replace(
    "from 150%", "from 150_000 RUB"))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "Дарья"]),
                          st.sampled_from(["2025-07-01", "2025-07-02", "2025-07-02 10:00"]),
                          st.integers(1, 6),  # few keys: deals reversed and sold again
                          st.integers(-30_000_00, 60_000_00) | st.integers(-3_000, 3_000),
                          st.sampled_from(["won", "paid", "lost"])),
                min_size=1, max_size=40),
       st.sampled_from(["minimum", "fine", "total"]), st.booleans())
def test_the_per_deal_minimum_agrees_with_python(
        tmp_path: Path, rows: list[tuple], which: str,  # type: ignore[type-arg]
        in_sql: bool) -> None:
    """Lifts to the minimum and their taking back by a reversal of the same key, paid by
    DuckDB's engine over the file it reads itself, equal to the Python walk's to the kopeck:
    in 64-bit arrays, and in the SQL windows used where they would not fit."""
    from kpidsl.sources import running

    scheme = {"minimum": MINIMUM, "fine": MINIMUM_FINE, "total": MINIMUM_TOTAL}[which]
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        f"{key};{who};{when};{Decimal(cents) / 100:f};{stage};1\n"
        for who, when, key, cents, stage in rows), encoding="utf-8")
    fits = running.fits
    if in_sql:
        running.fits = lambda *args: False  # type: ignore[assignment]
    try:
        runs = _runs(deals, "en", ruleset=scheme)
    finally:
        running.fits = fits  # type: ignore[assignment]
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (len(rows),)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=40))
def test_the_window_query_agrees_with_python(tmp_path: Path, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """Amounts beyond 64-bit units go through DuckDB's window (HUGEINT): the same results."""
    from kpidsl.sources import running

    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        f"{key};{who};{when};{Decimal(cents) / 100:f};{stage};{calls}\n"
        for who, when, key, cents, stage, calls in rows), encoding="utf-8")
    fits = running.fits
    running.fits = lambda *args: False  # type: ignore[assignment]
    try:
        runs = _runs(deals, "en")
    finally:
        running.fits = fits  # type: ignore[assignment]
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (len(rows),)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-10**17, 10**17), min_size=1, max_size=20), st.integers(-3, 12),
       st.sampled_from(["half up", "half even", "half down", "up", "down", "ceiling",
                        "floor"]))
def test_rounding_in_arrays_is_quantize(units: list[int], shift: int, mode: str) -> None:
    """kpidsl/sources/running.py rounds 64-bit integers as Decimal.quantize rounds them."""
    import decimal

    import numpy as np

    from kpidsl.sources.running import rounding_units
    from kpidsl.sources.transactions import MODES

    if shift < 0:
        units = [u // 10**3 for u in units]  # what `fits` admits: the product in 64 bits
    got = rounding_units(np, np.array(units, dtype=np.int64), shift, mode)
    with decimal.localcontext(decimal.Context(prec=60)):
        want = [Decimal(u).scaleb(-shift).quantize(Decimal(1), rounding=MODES[mode])
                for u in units]
    assert [Decimal(int(g)) for g in got] == want


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=40), st.integers(1, 9))
def test_deals_paid_in_batches_of_a_few_agree_with_python(
        tmp_path: Path, rows: list[tuple], chunk: int) -> None:  # type: ignore[type-arg]
    """The sorted deals come in batches whose arrays are reused (running.Buffers) and an
    employee's deals may run on into the next batch: batches of a few deals pay as Python
    does."""
    from kpidsl.sources import native

    text = "ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        f"{key};{who};{when};{Decimal(cents) / 100:f};{stage};{calls}\n"
        for who, when, key, cents, stage, calls in rows)
    deals = tmp_path / "deals.csv"
    deals.write_text(text, encoding="utf-8")
    was = native.CHUNK
    native.CHUNK = chunk
    try:
        runs = _runs(deals, locale="en")
    finally:
        native.CHUNK = was
    assert runs["duckdb"] == runs["python"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-5_000_000, 9_000_000)), min_size=1,
                max_size=60),
       st.lists(st.integers(1, 30), min_size=1, max_size=6),
       st.sampled_from(["half up", "half even", "half down", "up", "down", "ceiling",
                        "floor"]))
def test_payments_in_batches_with_reused_arrays_are_those_of_one_call(
        deals: list[tuple[int, int]], cuts: list[int], mode: str) -> None:
    """`payment_totals` over batches cut at employees, its arrays reused from batch to batch
    (running.Buffers), gives each employee what one call over every deal gives."""
    import numpy as np

    from kpidsl.sources import running

    deals.sort(key=lambda d: d[0])  # by employee, as DuckDB hands them over
    ordinal = np.array([d[0] for d in deals], dtype=np.int32)
    credit = np.array([d[1] for d in deals], dtype=np.int64)
    tiers = running.Tiers(np.array([[0, 8_000_000, 8_000_000, 10_000_000, 10_000_000, 0]],
                                   dtype=np.int64),
                          [(False, False), (False, False), (False, True)], [100, 250, 4125])
    whole = running.payment_totals(ordinal, credit, tiers, 3, mode)
    buffers, found, at = running.Buffers(), {}, 0
    bounds = sorted({int(np.searchsorted(ordinal, ordinal[min(c, len(deals) - 1)]))
                     for c in np.cumsum(cuts)} | {len(deals)})
    for end in bounds:
        if end > at:
            who, sums, counts, _ = running.payment_totals(
                ordinal[at:end], credit[at:end], tiers, 3, mode, buffers=buffers)
            found.update(zip(who.tolist(), zip(sums.tolist(), counts.tolist(), strict=True),
                             strict=True))
            at = end
    assert found == dict(zip(whole[0].tolist(), zip(whole[1].tolist(), whole[2].tolist(),
                                                     strict=True), strict=True))


@functools.lru_cache(maxsize=1)
def _duck() -> Any:
    """One connection for every example (a connection each took 0.1 s of a 0.11 s one)."""
    import duckdb

    return duckdb.connect()


@settings(max_examples=300, deadline=None)
@given(st.integers(-10**30, 10**30), st.integers(-3, 12),
       st.sampled_from(["half up", "half even", "half down", "up", "down", "ceiling",
                        "floor"]))
def test_rounding_in_integers_is_quantize(units: int, shift: int, mode: str) -> None:
    """A whole number of 10^-shift steps rounded to whole steps in SQL, as Decimal.quantize
    rounds it (the per-deal amounts of sources/native.py)."""
    import decimal

    from kpidsl.sources.native import rounding_sql
    from kpidsl.sources.transactions import MODES

    sql = rounding_sql(f"CAST('{units}' AS HUGEINT)", shift, mode)
    (got,) = _duck().execute(f"SELECT CAST({sql} AS VARCHAR)").fetchone()  # type: ignore[misc]
    with decimal.localcontext(decimal.Context(prec=60)):
        want = Decimal(units).scaleb(-shift).quantize(Decimal(1), rounding=MODES[mode])
    assert Decimal(got) == want


_EDGES = [(0, k) for k in ["007", "0", "-5", "+5", " 5", "5 ", "999999999999999999",
                            "1000000000000000000", "9223372036854775807",
                            "9223372036854775808", "1e3", "5.0", "12a", "Б-7"]] + \
    [(2, d) for d in ["2025-07-01 24:00", "2025-7-01", "01.07.2025 10:00", "2025-07-01T10:00",
                      "2025-07-01 10:00:00.5", " 2025-07-01", "2025-07-31 23:59:59",
                      "2025-02-30", "2025-07-01 10:60", "1.07.2025", "2025-07-01 23:59:60",
                      "01.07.2025 24:00", "01.07.2025 19:59:59", "2025-07-01 20:00",
                      "2025-07-01 09:5"]] + \
    [(3, a) for a in ["1 047,20", "1047,2", "-0,00", "+5", "1.047,20", "1047.2", ",5", "5,",
                      "0000000000001", "-", "1047,2000000", " 12", "1 047.20"]]


@pytest.mark.parametrize(("column", "edge"), _EDGES)
def test_edge_cells_read_as_python_reads_them(tmp_path: Path, column: int, edge: str) -> None:
    """Keys, dates and amounts at the edges of the load's cheaper checks (a key that is its
    number's text, the decimals of a simple amount, a date's CASE): DuckDB's results,
    failures and counts are the Python engine's."""
    lines = [["1", "a", "2025-07-02", "100,5", "won", "1"],
             ["2", "a", "2025-07-03 10:00", "-20", "won", "2"],
             ["3", "b", "2025-07-04", "300", "paid", "0"]]
    lines[1][column] = edge
    deals = tmp_path / "deals.csv"
    deals.write_text("ID;Manager;Closed;Amount;Stage;Calls\n" + "".join(
        ";".join(line) + "\n" for line in lines), encoding="utf-8")
    runs = _runs(deals, "ru")
    assert runs["duckdb"] == runs["python"]


@pytest.mark.slow
def test_the_engines_agree_on_a_large_export(tmp_path: Path) -> None:
    """bench/sources.py's export at 300 000 deals of 3 000 employees (a tenth lost, a
    twentieth reversed, tiers straddled): DuckDB over the Parquet written one employee a
    line, then the Python engine and DuckDB over the CSV compared with it as they stream —
    every fact and total, and every deal's amount, to the kopeck."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "sources.py"
    spec = importlib.util.spec_from_file_location("bench_sources", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text, parquet = bench.write(tmp_path, 300_000, 3_000)
    ruleset = kpidsl.loads(bench.SCHEME)
    written = tmp_path / "duckdb.jsonl"
    assert bench.write_results(ruleset, parquet, "duckdb", written, 3_000) == 3_000
    assert bench.compare_streaming(ruleset, text, "duckdb", written, 3_000) == 3_000
    assert bench.compare_streaming(ruleset, text, "python", written, 3_000) == 3_000
    # reversed deals among the amounts compared
    assert '"-' in written.read_text(encoding="utf-8")


@pytest.mark.parametrize("largest", ["21474836.47", "21474836.48"])
def test_credits_sorted_in_32_bits_are_summed_in_64(tmp_path: Path, largest: str) -> None:
    """Credits whose largest fits in 32 bits (2^31 − 1 kopecks) are sorted as 32-bit
    integers; their running totals (forty deals: 8.6 × 10^10 kopecks) and payments are
    still exact, as Python computes them, reversals and tiers included."""
    from kpidsl.sources import native

    lines = ["ID;Manager;Closed;Amount;Stage;Calls"]
    for i in range(80):
        amount = largest if i % 7 else f"-{largest}" if i % 2 else "1000000,01"
        lines.append(f"{i};{'ab'[i % 2]};2025-07-{i % 28 + 1:02d};{amount};won;1")
    deals = tmp_path / "deals.csv"
    deals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    queries: list[str] = []
    made = native.Native._sorted_query

    def spy(self: native.Native, *args: Any) -> str:
        queries.append(made(self, *args))
        return queries[-1]

    native.Native._sorted_query = spy  # type: ignore[method-assign]
    try:
        runs = _runs(deals)
    finally:
        native.Native._sorted_query = made  # type: ignore[method-assign]
    assert runs["native"] == (80,) and runs["duckdb"] == runs["python"]
    width = "INTEGER" if largest == "21474836.47" else "BIGINT"
    assert queries and all(f"AS {width}) AS c" in q for q in queries)
    revenues = [Decimal(json.loads(r)["facts"]["revenue"])
                for r in runs["duckdb"][0]]  # type: ignore[index]
    assert len(revenues) == 2 and min(revenues) > 10 * Decimal(largest)  # past 32 bits


@pytest.mark.parametrize(("amount", "deals", "why"), [
    ("9999999999999999.99::DECIMAL(18, 2)", 10_001,
     "is about 10^20; numbers must stay below 10^20"),
    ("999999999999999.99::DECIMAL(18, 2)", 1_000, None),  # sums of 22 characters
    ("1.000000001::DECIMAL(18, 9)", 10, None)])  # 9 decimals
def test_a_total_beyond_a_facts_bounds_fails_its_employee_in_duckdb(
        tmp_path: Path, amount: str, deals: int, why: str | None) -> None:
    """A total's column is taken as within the bounds only when each sum is written in at
    most 20 characters with at most 8 decimals; any other is tested employee by employee,
    and one beyond them fails that employee (KPI902) in DuckDB as in Python."""
    import duckdb

    path = tmp_path / "deals.parquet"
    duckdb.connect().execute(f"""COPY (SELECT i AS "ID", CASE WHEN i = 0 THEN 'b' ELSE 'a'
        END AS "Manager", TIMESTAMP '2025-07-02' AS "Closed", {amount} AS "Amount",
        'won' AS "Stage", 1 AS "Calls" FROM range({deals + 1}) t(i)) TO '{path}'
        (FORMAT parquet)""")
    facts = [line for line in SCHEME.split("curve rates")[0].split("\n")
             if not line.startswith(("fact middle", "fact low", "fact high"))]
    scheme = kpidsl.loads("\n".join(facts))  # totals, counts and averages; no payment
    runs = _runs(path, ruleset=scheme)
    assert runs["native"] == (deals + 1,) and runs["duckdb"] == runs["python"]
    results, failures, _counts = runs["duckdb"]
    if why is None:
        assert not failures and len(results) == 2
        return
    ((_file, row, _column, (message, *_)),) = failures
    assert row == 3 and message.startswith("employee 'a': 'revenue' (1.000099e+20) ")
    assert message.endswith(why) and len(results) == 1


BENCH_SCHEME = tiered_deals("one_bad_cell", "One bad cell")


def test_one_bad_cell_fails_its_employee_alone_in_duckdb(tmp_path: Path) -> None:
    """A bad amount of a won deal fails its employee's revenue and commission, named by
    file, row and column; a bad amount of a lost deal rests on nothing (a warning); an
    empty date of a won deal fails that employee; everyone else is evaluated by DuckDB,
    which read the file itself. Rows read = evaluated + failed."""
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "ID;Manager;Closed;Amount;Stage\n"
        "1;a;2025-07-03;60000;won\n"
        "2;b;2025-07-04;10 000,50;won\n"
        "3;a;2025-07-10;30000;won\n"
        "4;b;2025-07-05;12,3,4;won\n"
        "5;c;2025-07-06;abc;lost\n"
        "6;c;2025-07-07;90000;won\n"
        "7;d;;500;won\n"
        "8;d;2025-07-08;700;won\n", encoding="utf-8")
    ruleset = kpidsl.loads(BENCH_SCHEME)
    runs = _runs(deals, "ru", ruleset)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (8,)  # DuckDB read the file: no fallback to the Python reader
    results, failures, counts = runs["duckdb"]  # type: ignore[misc]
    paid = {json.loads(r)["employee"]: json.loads(r) for r in results}  # type: ignore[union-attr]
    assert sorted(paid) == ["a", "c"]
    # 60 000 at 1 % of a 100 000 quota, then 20 000 at 1 % and 10 000 at 2 %
    assert [d["amount"] for d in paid["a"]["deals"]] == ["600.00", "400.00"]
    assert paid["a"]["total"] == "1000.00"
    assert paid["c"]["facts"] == {"revenue": "90000", "won": "1",
                                  "commission.per_deal": "1000.00"}
    assert paid["c"]["total"] == "1000.00"  # 80 000 at 1 % + 10 000 at 2 %
    file = str(deals)
    assert failures == [
        (file, 5, "Amount", ["row 5, column 'Amount': '12,3,4' is not a number"]),
        (file, 8, "Closed", ["row 8, column 'Closed': empty date"]),
        (file, 3, "", ["employee 'b': fact 'revenue', payment 'commission' not computed: "
                       f"they rest on source rows that could not be read ({file}:5)",
                       "row 5, column 'Amount': '12,3,4' is not a number"]),
        (file, 8, "", ["employee 'd': fact 'revenue', fact 'won', payment 'commission' not "
                       f"computed: they rest on source rows that could not be read ({file}:8)",
                       "row 8, column 'Closed': empty date"])]
    assert counts.rows_read == 8 == counts.evaluated + counts.failed  # type: ignore[union-attr]
    assert (counts.evaluated, counts.failed) == (4, 4)  # type: ignore[union-attr]
    assert [w.message for w in counts.warnings] == [  # type: ignore[union-attr]
        "row 6, column 'Amount': 'abc' is not a number"]


def test_a_bad_call_fails_its_employees_calls_alone(tmp_path: Path) -> None:
    """Deals and calls in one run: a call of Ivanov's whose duration cannot be read fails
    his 'calls' fact (file, row, column); the call nobody counts anyway is not one, and
    every other employee is evaluated by DuckDB reading both exports, as Python does."""
    folder = Path(__file__).resolve().parent.parent / "rulesets" / "exports"
    scheme = kpidsl.load(folder / "b2b_deals.kpi")
    lines = (folder / "b2b_deals.calls.csv").read_bytes().decode("cp1251").split("\r\n")
    assert lines[1] == "01.07.2025 09:06;Иванов Иван;+7 926 495-67-91;Входящий;751;Разговор"
    lines[1] = lines[1].replace(";751;", ";7 51;")
    calls = tmp_path / "b2b_deals.calls.csv"
    calls.write_bytes("\r\n".join(lines).encode("cp1251"))
    runs = _runs([calls, folder / "b2b_deals.deals.csv"], ruleset=scheme)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (2814,)
    _results, failures, counts = runs["duckdb"]  # type: ignore[misc]
    assert [(Path(f).name, row, column, messages[:1]) for f, row, column, messages
            in failures][:1] == [  # type: ignore[union-attr]
        ("b2b_deals.calls.csv", 2, "Длительность, сек",
         ["row 2, column 'Длительность, сек': '7 51' is not a number"])]
    assert "employee 'Иванов Иван': fact 'calls' not computed" in \
        failures[1][3][0]  # type: ignore[index]
    assert counts.rows_read == counts.evaluated + counts.failed  # type: ignore[union-attr]


def test_a_bad_cell_nothing_rests_on_is_left_out_of_a_parquet_files_facts(
        tmp_path: Path) -> None:
    """A Parquet file whose amounts are text: a lost deal's unreadable amount rests on no
    fact (a warning), yet the Python stage does not count its row in 'lost' either; DuckDB
    scans the file's facts again without it, reading the file itself."""
    import duckdb

    deals = tmp_path / "deals.parquet"
    duckdb.connect().execute(f"""COPY (SELECT * FROM (VALUES
        (1, 'a', TIMESTAMP '2025-07-03 10:00', '60000', 'won'),
        (2, 'c', TIMESTAMP '2025-07-04', 'abc', 'lost'),
        (3, 'c', TIMESTAMP '2025-07-05', '90000', 'won'),
        (4, 'c', TIMESTAMP '2025-07-06', '5', 'lost'))
        t("ID", "Manager", "Closed", "Amount", "Stage")) TO '{deals}' (FORMAT parquet)""")
    ruleset = kpidsl.loads(BENCH_SCHEME.replace(
        "fact won", 'fact lost count = count of deals where stage is "lost" if missing 0\n'
        "fact won"))
    runs = _runs(deals, "ru", ruleset)
    assert runs["duckdb"] == runs["python"]
    assert runs["native"] == (4,)
    results, failures, counts = runs["duckdb"]  # type: ignore[misc]
    facts = {json.loads(r)["employee"]: json.loads(r)["facts"]
             for r in results}  # type: ignore[union-attr]
    assert facts["c"] == {"revenue": "90000", "won": "1", "lost": "1",
                          "commission.per_deal": "1000.00"}
    assert failures == []
    assert [w.message for w in counts.warnings] == [  # type: ignore[union-attr]
        "row 3, column 'Amount': 'abc' is not a number"]
    assert (counts.rows_read, counts.evaluated) == (4, 4)  # type: ignore[union-attr]
