"""The compiled evaluator's contract: what it returns, and how Results name what it returns.

A variant's evaluator is `function(facts, team, month) -> EvaluatorOutput`. Its values are
a named record (a NamedTuple: read by name, never by position), so the code generator,
the evaluation and the Results agree on names, not on positions.

`EvaluatorOutput` holds the KPIs' values, plans and attainments (in `Layout.kpis` order),
the pay lines column by column (`Layout.lines` order), the payments (`Layout.pays` order),
the total, and the denominators of the KPI values that are kept as exact fractions.

`Layout` (what each position is) and `VariantInfo` (labels, units, defaults: what Results
need to name the raw values) live here too, beside the records they describe, so neither
`evaluate` nor `results` needs the other to say what an evaluation is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from . import ast
from .units import Unit

# A value the evaluator keeps exact: a Decimal, or (numerator, denominator) where a share is
# a quotient (rare); `runtime.shown` divides it for people.
Value = Any


class EvaluatorOutput(NamedTuple):
    """What a variant's evaluator returns for one employee and month.

    The pay lines come column by column (index i is line i of `Layout.lines`): a line costs
    the evaluator no record of its own, and a Result builds `Line` objects only when read.
    One record per evaluation, built by `runtime.output` (tuple.__new__, no Python frame):
    measured, calling the class costs ~0.5 µs more, a tenth of an evaluation.
    """

    kpis: tuple[Value, ...]  # values (numerators where `denominators` says so)
    plans: tuple[Value, ...]
    attainments: tuple[Value, ...]
    line_shares: tuple[Value, ...]
    line_factors: tuple[Decimal, ...]  # numerators when `line_factor_dens[i]` is not None
    line_factor_dens: tuple[Decimal | None, ...]
    line_bands: tuple[int, ...]  # 1-based band of the curve; 0 = outside every band
    line_amounts: tuple[Decimal, ...]  # rounded, after every gate
    line_gates: tuple[str, ...]  # "", "withheld", "capped", "floored"
    pays: tuple[Decimal, ...]
    total: Decimal
    # kpis, plans and attainments, in that order: each value's denominator, or None when it
    # is exact as it stands; the whole field is None when every value is exact
    denominators: tuple[Decimal | None, ...] | None

    @property
    def has_details(self) -> bool:
        """False for a backend that computes only the payments (`payments_only`)."""
        return self.kpis is not None

    @classmethod
    def payments_only(cls, pays: tuple[Decimal, ...], total: Decimal) -> EvaluatorOutput:
        """The output of a backend that computes the payments and the total, no details (a
        Result asks the evaluator for them when they are read)."""
        return cls(*(None,) * 9, pays, total, None)  # type: ignore[arg-type]


@dataclass
class Layout:
    """What a variant's evaluator returns, position by position, for building Results."""

    kpis: list[str]
    lines: list[tuple[str, str]]  # (payment, kpi)
    pays: list[str]
    curves: dict[str, str] = field(default_factory=dict)  # curve → function (charts, tables)


@dataclass
class VariantInfo:
    """What Results need to name the evaluator's raw values."""

    name: str
    currency: str
    layout: Layout
    function: Any
    kpi_labels: dict[str, str]
    kpi_units: dict[str, Unit]
    kpi_directions: dict[str, str]
    kpi_groups: dict[str, str | None]
    line_curves: dict[tuple[str, str], str]
    band_texts: dict[str, Mapping[int, str]]  # by curve: its kind's band texts
    facts: dict[str, ast.Fact]
    defaults: dict[str, Decimal]
    team_needs: tuple[tuple[str, str], ...]  # (aggregate, fact)
    # facts whose default is a seasonal constant: month → default (prepare picks the month's)
    monthly_defaults: dict[str, dict[int, Decimal]] = field(default_factory=dict)
    constants_by_month: dict[int, dict[str, Decimal]] = field(default_factory=dict)
    # the same evaluator recording a trace: compiled on the first call (kpidsl/trace.py)
    traced: Callable[[], Any] | None = None
