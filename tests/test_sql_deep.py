"""A query deeper than the interpreter's recursion limit is written, not a traceback: a
scheme's total adds one parenthesised term a payment, and sqlglot renders each level by
recursion (2 000 generated KPIs, 1 000 payments, stopped with RecursionError before)."""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlglot import exp

import kpidsl
from kpidsl.cli import main
from kpidsl.sql import _deep, engine, queries
from kpidsl.sql.engine import CROSSOVER_ROWS, choose_engine
from kpidsl.sql.generate import CHAIN


def test_a_total_of_five_thousand_terms_is_rendered() -> None:
    total: exp.Expression = exp.column("p0")
    for i in range(1, 5_000):
        total = exp.Paren(this=exp.Add(this=total, expression=exp.column(f"p{i}")))
    tree = exp.select(total.as_("total")).from_("facts")
    limit = sys.getrecursionlimit()
    text = _deep(lambda: tree.sql(dialect="duckdb"))
    assert text.startswith("SELECT " + "(" * 4_999 + "p0 + p1) + p2)")
    assert text.endswith(" + p4999) AS total FROM facts")
    assert sys.getrecursionlimit() == limit


def generated_scheme(kpis: int) -> str:
    """`kpis` KPIs of a fact each, paid in pools of ten (7 steps a KPI in SQL)."""
    lines = ['scheme wide "Wide"', "  currency RUB", "  period month",
             'curve straight "Straight"', "  from 0% pays attainment", "  cap 200%"]
    lines += [f'fact f{i} money "Fact {i}"' for i in range(kpis)]
    lines += [f'kpi k{i} "KPI {i}" = f{i} plan {1000 + i} RUB' for i in range(kpis)]
    for pool in range(kpis // 10):
        lines.append(f'pay bonus{pool} "Bonus {pool}" pool 10_000 RUB')
        lines += [f"  for k{i} weight 10% curve straight"
                  for i in range(pool * 10, pool * 10 + 10)]
    return "\n".join(lines) + "\n"


def _payments_scheme(payments: int) -> str:
    """One fact, one KPI, `payments` payments of a share of the revenue each."""
    lines = ['scheme many "Many payments"', "  currency RUB", "  period month",
             'fact revenue money "Revenue"', 'kpi sales "Sales" = revenue plan 1000 RUB']
    lines += [f'pay p{i} "Payment {i}" = revenue × {i + 1}%'
              for i in range(payments)]
    return "\n".join(lines) + "\n"


def test_a_total_of_many_payments_is_a_shallow_tree_duckdb_binds_and_pays_exactly(
        tmp_path: Path) -> None:
    """The total of 40 payments was one parenthesised chain 40 terms (80 nodes) deep;
    past CHAIN terms it is a balanced tree of chains of at most CHAIN, and DuckDB's amounts
    are the Python engine's."""
    scheme = tmp_path / "many.kpi"
    scheme.write_text(_payments_scheme(40), encoding="utf-8")
    ruleset = kpidsl.load(scheme)
    (query,) = queries(ruleset.checked, "duckdb")
    total = query.tree.selects[-2]
    assert total.alias == "total_units"
    assert max(column.depth for column in total.find_all(exp.Column)) < 2 * CHAIN + 20
    rows = [{"employee": f"e{i}", "revenue": Decimal(f"{1234 + i * 7919}.{i % 100:02d}")}
            for i in range(40)]
    python = [(r.employee, r.components, r.total) for r in ruleset.evaluate_many(rows)]
    duck = [(r.employee, r.components, r.total)
            for r in ruleset.evaluate_many(rows, engine="duckdb")]
    assert duck == python
    # e1: 9 153.01 × (1 + 2 + … + 40) % = 9 153.01 × 8.2, each payment rounded
    assert python[1][2] == sum(
        (Decimal("9153.01") * (i + 1) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for i in range(40))


def chained_scheme(kpis: int) -> str:
    """`kpis` KPIs, each the one before plus a fact: a chain of reads as long as the KPIs."""
    lines = ['scheme deep "Deep"', "  currency RUB", "  period month", 'fact f money "Fact"',
             'kpi k0 "KPI 0" = f']
    lines += [f'kpi k{i} "KPI {i}" = k{i - 1} + f' for i in range(1, kpis)]
    return "\n".join([*lines, f'pay p "P" = k{kpis - 1} × 1%']) + "\n"


def test_duckdb_refuses_a_query_deeper_than_it_can_bind_and_auto_leaves_it_to_python(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1 000 KPIs each built on the one before are a chain of 1 004 CTEs: DuckDB stopped
    with a Binder Error traceback; now `--engine duckdb` names the engine that can evaluate
    it and writes nothing, and `--engine auto` picks the Python engine for a scheme past
    AUTO_STEPS. (170 KPIs that do not read each other were 1 038 steps; they share CTEs now,
    8 deep.)"""
    scheme = tmp_path / "deep.kpi"
    scheme.write_text(chained_scheme(1000), encoding="utf-8")
    facts = tmp_path / "facts.csv"
    facts.write_text("employee,f\na,1000\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    run = CliRunner().invoke(main, ["eval", str(scheme), str(facts), "--engine", "duckdb",
                                    "--format", "csv", "-o", str(out)])
    assert run.exit_code == 2, run.output
    assert f"{scheme}:1:1: error KPI953: the scheme's query is a chain of 1004 steps, each " \
        "reading the one before (a KPI built on another, a rounding, a total); DuckDB runs " \
        "at most 990" in run.stderr
    assert "hint: evaluate it with the Python engine (--engine python, or --engine auto)" \
        in run.stderr
    assert not out.exists()
    big = tmp_path / "big.csv"
    big.write_text("employee," + ",".join(f"f{i}" for i in range(10)) + "\n"
                   + "".join(f"e{r}," + ",".join("1" for _ in range(10)) + "\n"
                             for r in range(CROSSOVER_ROWS + 100)), encoding="utf-8")
    small = kpidsl.loads(generated_scheme(10))
    assert choose_engine(small, [big]) == "duckdb"
    (query,) = queries(small.checked, "duckdb")
    monkeypatch.setattr(engine, "AUTO_STEPS", query.steps - 1)
    assert choose_engine(small, [big]) == "python"
