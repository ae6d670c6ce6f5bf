"""The SQL backend on a local Spark session (pyspark with a headless JRE): the same kopecks
as the Python engine for the bundled schemes and the tie corpus, from the query
`compile --to sql --dialect spark` prints, with Spark's default settings (ANSI mode,
`allowPrecisionLoss`). Slow (a JVM starts): behind --runslow, which `.ci/run` runs."""

from __future__ import annotations

import shutil
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import kpidsl
from kpidsl.diagnostics import KpiError
from kpidsl.facts import read_facts
from kpidsl.sql import queries

ROOT = Path(__file__).resolve().parents[1]
RULESETS = sorted((ROOT / "rulesets").glob("*.kpi"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime")]


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (pyspark_sql.SparkSession.builder.master("local[1]").appName("kpidsl")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1")
               # the query is a chain of CTEs, one per step: more than the default 100
               # analyzer iterations (infobiz_manager needs them)
               .config("spark.sql.analyzer.maxIterations", "1000").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_pay(spark, ruleset: kpidsl.Ruleset,  # type: ignore[no-untyped-def]
              rows: list[dict[str, object]]) -> list[tuple[str, dict[str, Decimal]]]:
    from pyspark.sql.types import DecimalType, StringType, StructField, StructType

    query = queries(ruleset.checked, "spark")[0]
    facts = list(ruleset.checked.base.facts)
    schema = StructType([StructField("employee", StringType()), StructField("team", StringType()),
                         *(StructField(f, DecimalType(18, 6)) for f in facts)])
    frame = spark.createDataFrame(
        [(r["employee"], r.get("team") or None,
          *(None if r.get(f) is None else Decimal(str(r[f])) for f in facts)) for r in rows],
        schema)
    frame.createOrReplaceTempView("facts")
    found = spark.sql(query.sql()).collect()
    step = ruleset.checked.payout_step
    out = []
    for record in found:
        assert record["fails"] is False, record
        out.append((record["employee"], {p: Decimal(record[f"{p}_units"]) * step
                                         for p, _u in query.output.pays}))
    return out


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_bundled_schemes_pay_the_same_kopecks_in_spark(spark, path: Path  # type: ignore[no-untyped-def]
                                                       ) -> None:
    ruleset = kpidsl.load(path)
    try:
        queries(ruleset.checked, "spark")
    except KpiError as exc:
        assert {d.code for d in exc.diagnostics} == {"KPI952"}  # budgets, pay per team
        return
    if len(ruleset.checked.variants) > 1:
        pytest.skip("one query per grade: the grades are run by the DuckDB tests")
    rows: list[dict[str, object]] = [
        {"employee": r.employee, "team": r.team or "", **r.values}
        for r in read_facts(path.with_suffix(".facts.csv"), ruleset.fact_specs)]
    python = [(r.employee, r.components) for r in ruleset.evaluate_many(rows)]
    assert sorted(spark_pay(spark, ruleset, rows)) == sorted(python)


def test_ties_on_half_a_kopeck_round_once_in_spark(spark) -> None:  # type: ignore[no-untyped-def]
    from test_sql import TIE_SCHEME, _half_up

    ties = [3_113_875, 2_400_005, 2_999_995, 3_000_015, 4_123_455]
    ruleset = kpidsl.loads(TIE_SCHEME)
    rows: list[dict[str, object]] = [{"employee": f"e{r}", "revenue": Decimal(r)} for r in ties]
    paid = dict(spark_pay(spark, ruleset, rows))
    assert [paid[f"e{r}"]["bonus"] for r in ties] == [
        _half_up(Fraction(9000 * r, 3_000_000)) for r in ties]
