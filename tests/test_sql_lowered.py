"""The SQL generator reads the lowered form (kpidsl/lower.py) and nothing of the checked tree:
one form, two emitters (Python and SQL), so the backends cannot read a scheme two ways."""

from __future__ import annotations

import ast as pyast
import dataclasses
import inspect
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl import curvekinds
from kpidsl import lower as lo
from kpidsl.sql import DIALECTS, queries
from kpidsl.sql.generate import VariantQuery

ROOT = Path(__file__).resolve().parents[1]
# modules that read the checked tree's expressions (kpidsl.ast nodes): the tree itself, folding
# and walking it, units and bounds inferred from it
TREE_READERS = {"kpidsl.ast", "kpidsl.visitor", "kpidsl.checks.fold", "kpidsl.checks.walk",
                "kpidsl.checks.names", "kpidsl.checks.types", "kpidsl.checks.curves",
                "kpidsl.exprtext"}


def _imports(path: Path) -> set[str]:
    """The modules a file imports, absolute (`from .. import ast` in kpidsl/sql is kpidsl.ast)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, pyast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, pyast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_sql_module_reads_the_checked_trees_expressions() -> None:
    modules = sorted((ROOT / "kpidsl" / "sql").glob("*.py"))
    assert ROOT / "kpidsl" / "sql" / "generate.py" in modules
    read = {f"{path.relative_to(ROOT)}: {name}" for path in modules
            for name in _imports(path) & TREE_READERS}
    assert read == set()


def test_the_import_reader_sees_relative_imports() -> None:  # or the test above cannot fail
    assert "kpidsl.ast" in _imports(ROOT / "kpidsl" / "lower.py")
    assert "kpidsl.checks.fold" in _imports(ROOT / "kpidsl" / "lower.py")


def test_each_kinds_sql_reads_only_its_lowered_curve() -> None:
    for kind in curvekinds.KINDS.values():
        source = inspect.getsource(type(kind).write_sql)
        for word in ("ast.", "fold(", "band_bounds", "constant_values", "query.variant",
                     "curve.cap", "curve.floor"):
            assert word not in source, (kind.name, word)


def _sql(program: lo.Program, dialect: str = "duckdb") -> list[str]:
    return [VariantQuery(program, variant, DIALECTS[dialect]).build()[0].sql(dialect=dialect)
            for variant in program.variants.values()]


@pytest.mark.parametrize("name", ["b2b_manager", "farmer", "infobiz_manager"])
def test_a_lowered_program_alone_gives_the_query(name: str) -> None:
    """No checked ruleset and no source text: the lowered program is all the generator reads."""
    ruleset = kpidsl.load(ROOT / "rulesets" / f"{name}.kpi")
    program = lo.lower(ruleset.checked)
    assert _sql(program) == [q.tree.sql(dialect="duckdb")
                             for q in queries(ruleset.checked, "duckdb")]


def test_the_query_follows_the_lowered_form_not_the_tree() -> None:
    """A change made to the lowered form alone (the payout rounded to whole roubles, half
    even) is what the query computes: nothing is read again from the checked tree."""
    ruleset = kpidsl.loads("scheme s\nfact revenue money\npay p = revenue × 5%\n")
    program = lo.lower(ruleset.checked)
    changed = dataclasses.replace(program, payout=lo.Rounding(Decimal(1),
                                                              lo.RoundingMode.HALF_EVEN))
    before, after = _sql(program)[0], _sql(changed)[0]
    assert "half up" in before and "half even" not in before
    assert "half even" in after and "half up" not in after

    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE facts (employee VARCHAR, team VARCHAR, revenue DECIMAL(18, 6))")
    con.execute("INSERT INTO facts VALUES ('a', NULL, 50), ('b', NULL, 70), ('c', NULL, 10.10)")
    units = {row[0]: row[1] for row in con.execute(after).fetchall()}
    # 2.5 → 2 and 3.5 → 4 (half even, whole roubles); 0.505 → 1
    assert units == {"a": 2, "b": 4, "c": 1}


def test_a_constant_that_is_no_finite_decimal_stays_exact() -> None:
    """1/3 is a fraction in SQL as in the Python engine, not 28 digits of it: 0.045 × 1/3 is
    0.015 exactly, 0.02 half up (0.01 from 0.0149999…)."""
    ruleset = kpidsl.loads("scheme s\nfact revenue money\nconstant third = 1 / 3\n"
                           "pay p = revenue × third\n")
    rows = [{"employee": "a", "revenue": Decimal("0.045")}]
    python = [(r.employee, r.total) for r in ruleset.evaluate_many(rows)]
    assert python == [("a", Decimal("0.02"))]
    assert [(r.employee, r.total) for r in ruleset.evaluate_many(rows, engine="duckdb")] == python


def test_a_constant_read_through_a_seasonal_one_follows_the_month() -> None:
    """`double = share × 2` where share is 20% in December: 40% in December in SQL as in the
    Python engine (it was folded once from the 10% of other months)."""
    ruleset = kpidsl.loads("scheme s\nfact revenue money\n"
                           "constant share = 10% by month dec 20%\nconstant double = share × 2\n"
                           "pay p = revenue × double\n")
    rows = [{"employee": "a", "revenue": Decimal("1000")}]
    for month, paid in ((12, Decimal("400.00")), (11, Decimal("200.00")),
                        (None, Decimal("200.00"))):
        python = [r.total for r in ruleset.evaluate_many(rows, month=month)]
        assert python == [paid]
        assert [r.total for r in ruleset.evaluate_many(rows, engine="duckdb", month=month)] == \
            python
