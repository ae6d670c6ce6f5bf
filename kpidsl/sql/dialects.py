"""What each SQL engine needs to compute kpidsl's numbers exactly: a few primitives per dialect.

The generated query never relies on an engine's decimal division, scale rules or `round`
(they differ, and each is wrong for money somewhere: DuckDB divides DECIMAL into DOUBLE,
ClickHouse truncates decimal division to the dividend's scale and reads integer literals
above 64 bits as Float64, Spark cuts precision). Every value is a fraction of two 128-bit
integers; the only primitives a dialect supplies are the integer type, how an integer literal
is written, and integer division. Rounding modes are built from those (`generate.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp

# The digits an integer may have anywhere in a query: 38 fit a signed 128-bit integer
# (HUGEINT, Int128), DECIMAL(38, 0) and NUMBER(38, 0) alike.
DIGITS = 38
LIMIT = 10**DIGITS - 1

from .scale import FACT_DIGITS as FACT_DIGITS  # noqa: E402  (DECIMAL(18, 6), scale.py)
from .scale import FACT_SCALE as FACT_SCALE  # noqa: E402

INT64 = 2**63 - 1  # BIGINT's largest value
SUBQUERY_DEPTH = 100  # ClickHouse's default max_subquery_depth


def data_type(text: str, dialect: str | None) -> exp.DataType:
    """A type parsed once per dialect, then copied: parsing it again for every literal and
    cast took a fifth of the generator's time on a 1 000-KPI scheme (measured)."""
    return _parsed_type(text, dialect).copy()


@lru_cache(maxsize=64)
def _parsed_type(text: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(text, dialect=dialect)


@dataclass(frozen=True)
class Dialect:
    """The defaults suit engines with a signed 128-bit integer and truncating integer division."""

    name: str  # as kpidsl names it on the command line
    sqlglot: str  # as sqlglot names it
    int_type: str = "DECIMAL(38, 0)"
    # Integer division truncating toward zero is exact in this engine ("//", DIV, intDiv).
    exact_division: bool = True
    executed: str = ""  # how the test suite runs it ("" = rendered and parsed back only)

    def integer_type(self) -> exp.DataType:
        return data_type(self.int_type, self.sqlglot)

    def literal(self, value: int) -> exp.Expr:
        """An integer literal of the integer type (never a float, whatever its size)."""
        # Every literal but 0 and 1 carries the wide type: two plain literals multiply in the
        # engine's 32-bit INTEGER (DuckDB: 21482017 * 100 overflowed; found by the random
        # schemes' differential test).
        text = exp.Literal.number(abs(value))
        node: exp.Expr = exp.Cast(this=text, to=self.integer_type()) \
            if abs(value) > 1 else text
        return exp.Neg(this=node) if value < 0 else node

    def to_integer(self, value: exp.Expr) -> exp.Expr:
        return exp.Cast(this=value, to=self.integer_type())

    def finish(self, query: exp.Select, steps: int) -> None:
        """What the engine must be told to run a query of `steps` CTEs (nothing, mostly)."""

    def truncating_division(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        """n ÷ d toward zero, exactly when `exact_division`, else within one of it."""
        return exp.IntDiv(this=n, expression=d)

    def remainder(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Mod(this=exp.Paren(this=n), expression=exp.Paren(this=d))

    def divide_by_constant(self, n: exp.Expr, bound: int, d: int) -> exp.Expr:
        """n ÷ d toward zero for n ≥ 0 and a constant d > 0 (|n| ≤ bound)."""
        return self.truncating_division(n, self.literal(d))

    def fact(self, column: exp.Expr) -> exp.Expr:
        """A fact column (DECIMAL(18, 6) or an integer) as an integer count of 10**-6."""
        wide = exp.Cast(this=column, to=data_type("DECIMAL(38, 6)", self.sqlglot))
        return self.to_integer(exp.Mul(this=wide, expression=exp.Literal.number(10**FACT_SCALE)))

    def money(self, units: exp.Expr, scale: int) -> exp.Expr:
        """An integer count of 10**-scale as DECIMAL(38, scale): a product by 0.01 is exact in
        every engine (scales add), unlike a quotient."""
        if scale <= 0:
            return units
        return exp.Mul(this=exp.Cast(this=units, to=data_type(
            "DECIMAL(38, 0)", self.sqlglot)),
            expression=exp.Cast(this=exp.Literal.number(f"0.{'0' * (scale - 1)}1"),
                                to=data_type(f"DECIMAL({scale + 1}, {scale})",
                                              self.sqlglot)))


@dataclass(frozen=True)
class DuckDB(Dialect):
    """HUGEINT: `//` truncates toward zero exactly; DECIMAL ÷ DECIMAL would be DOUBLE."""

    def fact(self, column: exp.Expr) -> exp.Expr:
        # DECIMAL(38, 6) × 10**6 cast to an integer divides a HUGEINT by 10**6 in DuckDB:
        # 0.4 s a column per million rows, two thirds of the whole query (measured). The
        # whole part and the six decimals, each in 64 bits, are the same integer for 0.03 s.
        def cast(e: exp.Expr, to: str) -> exp.Expr:
            return exp.Cast(this=e, to=data_type(to, "duckdb"))

        value = cast(column, "DECIMAL(18, 6)")
        whole = exp.Anonymous(this="trunc", expressions=[value])
        fraction = cast(exp.Paren(this=exp.Sub(this=value.copy(), expression=whole.copy())),
                        "DECIMAL(7, 6)")
        micro = cast(exp.Mul(this=fraction, expression=exp.Literal.number(10**FACT_SCALE)),
                     "BIGINT")
        scaled = exp.Add(this=exp.Mul(this=cast(whole.copy(), "BIGINT"),
                                      expression=exp.Literal.number(10**FACT_SCALE)),
                         expression=micro)
        return self.to_integer(exp.Paren(this=scaled))

    def divide_by_constant(self, n: exp.Expr, bound: int, d: int) -> exp.Expr:
        # A HUGEINT division is a 128-bit long division in DuckDB: 0.3-0.5 s per million
        # rows against 0.01 s for BIGINT (measured). Where n fits 63 bits it is divided as a
        # BIGINT; larger values (possible, rare) take the HUGEINT division in their branch.
        if d >= INT64:
            return super().divide_by_constant(n, bound, d)

        def small(e: exp.Expr) -> exp.Expr:
            return exp.Cast(this=exp.IntDiv(this=exp.Cast(this=e, to=data_type(
                "BIGINT", None)), expression=exp.Literal.number(d)), to=self.integer_type())

        if bound < INT64:
            return small(n)
        fits = exp.LT(this=exp.Paren(this=n.copy()), expression=self.literal(INT64))
        return exp.Case().when(fits, small(n.copy())).else_(
            exp.IntDiv(this=exp.Paren(this=n.copy()), expression=self.literal(d)))


@dataclass(frozen=True)
class ClickHouse(Dialect):
    """Int128 and intDiv (truncating); literals above 64 bits must be cast from text, or
    ClickHouse reads them as Float64."""

    def literal(self, value: int) -> exp.Expr:
        if abs(value) <= 1:  # small literals are UInt8 and friends, whose products wrap
            text = exp.Literal.number(abs(value))
            return exp.Neg(this=text) if value < 0 else text
        return exp.Anonymous(this="toInt128", expressions=[exp.Literal.string(str(value))])

    def to_integer(self, value: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="toInt128", expressions=[value])

    def finish(self, query: exp.Select, steps: int) -> None:
        # ClickHouse nests each CTE of the chain as a subquery and stops at 100 by default
        # (max_subquery_depth). Steps that do not read each other share a CTE, so only KPIs
        # built one on another come near it (hunter's grades, each evaluating the others'
        # rows for the team bonus, were 174 CTEs a CTE a step, and are 8 deep)
        if steps >= SUBQUERY_DEPTH - 10:
            query.set("settings", [exp.EQ(this=exp.column("max_subquery_depth"),
                                          expression=exp.Literal.number(max(1000, 2 * steps)))])

    def truncating_division(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="intDiv", expressions=[n, d])

    def remainder(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="modulo", expressions=[n, d])

    def fact(self, column: exp.Expr) -> exp.Expr:
        # toDecimal128(x, 6) is exact for a column of scale ≤ 6; × 10**6 keeps the scale
        scaled = exp.Anonymous(this="toDecimal128", expressions=[column, exp.Literal.number(6)])
        return exp.Anonymous(this="toInt128", expressions=[
            exp.Mul(this=scaled, expression=exp.Literal.number(10**FACT_SCALE))])

    def money(self, units: exp.Expr, scale: int) -> exp.Expr:
        # toDecimal128(integer, 0) × 0.01 as Decimal(·, 2): the scale is the sum of scales
        if scale <= 0:
            return units
        return exp.Mul(
            this=exp.Anonymous(this="toDecimal128", expressions=[units, exp.Literal.number(0)]),
            expression=exp.Anonymous(this="toDecimal32", expressions=[
                exp.Literal.string(f"0.{'0' * (scale - 1)}1"), exp.Literal.number(scale)]))


@dataclass(frozen=True)
class Postgres(Dialect):
    """NUMERIC is exact and unbounded; DIV(n, d) truncates toward zero."""

    def truncating_division(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="DIV", expressions=[n, d])


@dataclass(frozen=True)
class Approximate(Dialect):
    """Engines whose decimal division rounds (Spark, Trino, Snowflake, BigQuery): the quotient
    is taken as a rounded decimal and corrected by the remainder, so it is exact anyway."""

    exact_division: bool = False

    def truncating_division(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        return self.to_integer(exp.Anonymous(this="FLOOR", expressions=[
            exp.Div(this=exp.Paren(this=n), expression=exp.Paren(this=d))]))

    def remainder(self, n: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="MOD", expressions=[n, d])


DIALECTS: dict[str, Dialect] = {
    "duckdb": DuckDB("duckdb", "duckdb", int_type="HUGEINT", executed="duckdb"),
    "clickhouse": ClickHouse("clickhouse", "clickhouse", int_type="Int128", executed="chdb"),
    "postgres": Postgres("postgres", "postgres", int_type="NUMERIC(38, 0)"),
    "spark": Approximate("spark", "spark", int_type="DECIMAL(38, 0)"),
    "trino": Approximate("trino", "trino", int_type="DECIMAL(38, 0)"),
    "snowflake": Approximate("snowflake", "snowflake", int_type="NUMBER(38, 0)"),
    "bigquery": Approximate("bigquery", "bigquery", int_type="BIGNUMERIC"),
}
