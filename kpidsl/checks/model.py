"""The checked form of a scheme: one resolved variant per grade, with units and provenance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import field
from decimal import Decimal

from .. import ast
from ..diagnostics import Diagnostic
from ..source import SourceFile, Span
from ..units import Unit
from ..valueclass import valueclass

BASE = "base"


# dataclasses made without `exec` (kpidsl/valueclass.py): `kpidsl check` imports them
@valueclass(frozen=True)
class Change:
    """One thing a grade changes from its parent, for provenance in check output and documents."""

    what: str  # e.g. "plan of calls"
    before: str  # "" when added
    after: str  # "" when dropped
    span: Span
    # the same, structured for documents: ("KPI", "calls", "", "plan"),
    # ("payment", "bonus", "calls", "weight"); attribute "" = the whole thing added or dropped
    section: str = ""
    name: str = ""
    item: str = ""
    attribute: str = ""

    def describe(self) -> str:
        if not self.before:
            return f"adds {self.what}: {self.after}"
        if not self.after:
            return f"drops {self.what}"
        return f"{self.what}: {self.before} → {self.after}"


@valueclass
class Variant:
    """A grade resolved against its parents (the base scheme is the variant named 'base')."""

    name: str
    label: str
    parent: str | None
    facts: dict[str, ast.Fact] = field(default_factory=dict)
    constants: dict[str, ast.Constant] = field(default_factory=dict)
    curves: dict[str, ast.Curve] = field(default_factory=dict)
    kpis: dict[str, ast.Kpi] = field(default_factory=dict)
    pays: dict[str, ast.Pay] = field(default_factory=dict)
    budgets: dict[str, ast.Budget] = field(default_factory=dict)
    sources: dict[str, ast.Source] = field(default_factory=dict)  # deal/call/lead exports
    changes: list[Change] = field(default_factory=list)
    # filled by the checks
    units: dict[str, Unit] = field(default_factory=dict)  # fact/constant/KPI name → unit
    constant_values: dict[str, Decimal] = field(default_factory=dict)
    kpi_order: list[str] = field(default_factory=list)  # KPIs in dependency order
    constant_order: list[str] = field(default_factory=list)

    def kpi_direction(self, name: str) -> str:
        return self.kpis[name].direction or "higher"

    def pooled_kpis(self) -> Iterator[tuple[ast.Pay, ast.PoolItem]]:
        for pay in self.pays.values():
            for item in pay.items:
                yield pay, item


@valueclass
class CheckedRuleset:
    ruleset: ast.Ruleset
    source: SourceFile
    variants: dict[str, Variant]
    examples: list[ast.Example]
    diagnostics: list[Diagnostic]
    payout_step: Decimal = Decimal("0.01")
    payout_mode: str = "half up"
    attainment_step: Decimal | None = None
    attainment_mode: str = "half up"

    @property
    def header(self) -> ast.Header:
        return self.ruleset.header

    @property
    def currency(self) -> str:
        return self.ruleset.header.currency or "RUB"

    @property
    def base(self) -> Variant:
        return self.variants[BASE]

    @property
    def grades(self) -> list[str]:
        return [name for name in self.variants if name != BASE]
