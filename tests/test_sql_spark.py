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
               .config("spark.sql.shuffle.partitions", "1").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_pay(spark, ruleset: kpidsl.Ruleset,  # type: ignore[no-untyped-def]
              rows: list[dict[str, object]]) -> list[tuple[str, dict[str, Decimal]]]:
    """Each row's payments from the queries `compile --to sql --dialect spark` prints (a
    grade's over its rows, a budget's ties by the column `row`)."""
    from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType
    from test_sql import query_rows

    step = ruleset.checked.payout_step
    out = []
    for query in queries(ruleset.checked, "spark"):
        facts = list(query.facts)
        schema = StructType([StructField("employee", StringType()),
                             StructField("team", StringType()), StructField("row", LongType()),
                             StructField("grade", StringType()),
                             *(StructField(f, DecimalType(18, 6)) for f in facts)])
        frame = spark.createDataFrame(
            [(r["employee"], r.get("team") or None, int(r.get("row", 0)),  # type: ignore[call-overload]
              r.get("grade") or None,
              *(None if r.get(f) is None else Decimal(str(r[f])) for f in facts))
             for r in query_rows(ruleset, query, rows)], schema)
        frame.createOrReplaceTempView("facts")
        for record in spark.sql(query.sql()).collect():
            assert record["fails"] is False, record
            out.append((record["employee"], {p: Decimal(record[f"{p}_units"]) * step
                                             for p, _u in query.output.pays}))
    return out


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_bundled_schemes_pay_the_same_kopecks_in_spark(spark, path: Path  # type: ignore[no-untyped-def]
                                                       ) -> None:
    """Every bundled scheme, its budgets, grades and pay per team included."""
    from test_sql import python_pay, table_rows

    ruleset = kpidsl.load(path)
    rows = table_rows(path, ruleset)
    assert sorted(spark_pay(spark, ruleset, rows)) == python_pay(ruleset, rows)


def test_ties_on_half_a_kopeck_round_once_in_spark(spark) -> None:  # type: ignore[no-untyped-def]
    from test_sql import TIE_SCHEME, _half_up

    ties = [3_113_875, 2_400_005, 2_999_995, 3_000_015, 4_123_455]
    ruleset = kpidsl.loads(TIE_SCHEME)
    rows: list[dict[str, object]] = [{"employee": f"e{r}", "revenue": Decimal(r)} for r in ties]
    paid = dict(spark_pay(spark, ruleset, rows))
    assert [paid[f"e{r}"]["bonus"] for r in ties] == [
        _half_up(Fraction(9000 * r, 3_000_000)) for r in ties]
