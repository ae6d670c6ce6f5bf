"""A query deeper than the interpreter's recursion limit is written, not a traceback: a
scheme's total adds one parenthesised term a payment, and sqlglot renders each level by
recursion (2 000 generated KPIs, 1 000 payments, stopped with RecursionError before)."""

from __future__ import annotations

import sys

from sqlglot import exp

from kpidsl.sql import _deep


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
