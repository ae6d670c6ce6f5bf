"""The SQL backend on a real PostgreSQL server: the same kopecks as the Python engine for
every bundled scheme, the tie corpus and random schemes. `.ci/run` starts a throwaway
server on a local socket and sets KPIDSL_PG_SOCKET to its directory; without it (or without
psycopg) these tests are skipped."""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import kpidsl
from kpidsl.diagnostics import KpiError
from kpidsl.sql import queries

SOCKET = os.environ.get("KPIDSL_PG_SOCKET", "")
psycopg = pytest.importorskip("psycopg") if SOCKET else None
pytestmark = pytest.mark.skipif(not SOCKET, reason="no PostgreSQL server (KPIDSL_PG_SOCKET)")

ROOT = Path(__file__).resolve().parents[1]
RULESETS = sorted((ROOT / "rulesets").glob("*.kpi"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="module")
def connection():  # type: ignore[no-untyped-def]
    assert psycopg is not None
    with psycopg.connect(host=SOCKET, dbname="postgres", user=os.environ.get(
            "KPIDSL_PG_USER", "kpidsl"), autocommit=True) as con:
        yield con


def postgres_pay(connection, ruleset: kpidsl.Ruleset,  # type: ignore[no-untyped-def]
                 rows: list[dict[str, object]], flagged: list[str] | None = None
                 ) -> list[tuple[str, dict[str, Decimal]]]:
    """Each row's payments from the queries `compile --to sql --dialect postgres` prints (a
    grade's over its rows, a budget's ties by the column `row`); a row the query flags for
    the Python engine goes to `flagged` (none may, without it)."""
    from test_sql import query_rows

    step = ruleset.checked.payout_step
    out = []
    for query in queries(ruleset.checked, "postgres"):
        facts = list(query.facts)
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS facts")
            cur.execute('CREATE TEMP TABLE facts (employee text, team text, "row" bigint, '
                        "grade text" + "".join(f', "{f}" numeric(18, 6)' for f in facts) + ")")
            chosen = query_rows(ruleset, query, rows)
            if chosen:
                cur.executemany(
                    "INSERT INTO facts VALUES (" + ", ".join(["%s"] * (4 + len(facts))) + ")",
                    [(r["employee"], r.get("team") or None, r.get("row", 0), r.get("grade") or None,
                      *(r.get(f) for f in facts)) for r in chosen])
            cur.execute(query.sql())
            names = [d.name for d in cur.description]
            found = [dict(zip(names, record, strict=True)) for record in cur.fetchall()]
        for record in found:
            if record["fails"]:
                assert flagged is not None, record
                flagged.append(record["employee"])
                continue
            out.append((record["employee"], {p: Decimal(record[f"{p}_units"]) * step
                                             for p, _u in query.output.pays}))
    return out


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_bundled_schemes_pay_the_same_kopecks_in_postgres(connection, path: Path  # type: ignore[no-untyped-def]
                                                          ) -> None:
    """Every bundled scheme, its budgets, grades and pay per team included."""
    from test_sql import python_pay, table_rows

    ruleset = kpidsl.load(path)
    rows = table_rows(path, ruleset)
    assert sorted(postgres_pay(connection, ruleset, rows)) == python_pay(ruleset, rows)


TIES = [3_113_875, 2_400_005, 2_999_995, 3_000_015, 4_123_455]


def test_ties_on_half_a_kopeck_round_once_in_postgres(connection) -> None:  # type: ignore[no-untyped-def]
    from fractions import Fraction

    from test_sql import TIE_SCHEME, _half_up

    ruleset = kpidsl.loads(TIE_SCHEME)
    rows: list[dict[str, object]] = [{"employee": f"e{r}", "revenue": Decimal(r)} for r in TIES]
    paid = postgres_pay(connection, ruleset, rows)
    assert [p["bonus"] for _e, p in paid] == [
        _half_up(Fraction(9000 * r, 3_000_000)) for r in TIES]
    assert paid[0][1]["bonus"] == Decimal("9341.63")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=__import__("test_sql").schemes_with_facts())
def test_random_schemes_pay_the_same_kopecks_in_postgres(connection, case) -> None:  # type: ignore[no-untyped-def]
    text, rows = case
    try:
        ruleset = kpidsl.loads(text)
        queries(ruleset.checked, "postgres")
    except KpiError:
        return
    if len(ruleset.checked.variants) > 1:
        return
    facts = set(ruleset.fact_specs)
    rows = [{"employee": r["employee"], **{k: v for k, v in r.items() if k in facts}}
            for r in rows]
    errors: list[str] = []
    python = [(r.employee, r.components)
              for r in ruleset.evaluate_many(rows, on_error=lambda e, _r, _d: errors.append(e))]
    flagged: list[str] = []
    paid = postgres_pay(connection, ruleset, rows, flagged)
    assert not set(errors) - set(flagged)  # every row the Python engine refuses is flagged
    assert paid == [(e, c) for e, c in python if e not in flagged]
