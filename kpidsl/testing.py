"""A scheme's own examples, run as tests (`kpidsl test`), and curve-boundary coverage.

Boundary coverage asks, for every threshold of every curve a pool pays through, whether some
example puts a KPI exactly at it, just below it and just above it (within one percentage
point for attainment, within 1 % of the threshold for amounts): the places where pay jumps
are the places a scheme is most often wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from . import ast
from .api import Ruleset
from .checks import BASE
from .checks.fold import fold
from .diagnostics import Diagnostic, KpiError, error
from .results import Result

NEAR_ATTAINMENT = Decimal("0.01")


@dataclass
class Mismatch:
    expectation: ast.Expectation
    what: str  # "bonus for revenue"
    expected: Decimal
    actual: Decimal | None


@dataclass
class ExampleOutcome:
    example: ast.Example
    result: Result | None
    mismatches: list[Mismatch] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.errors


def run_examples(ruleset: Ruleset) -> list[ExampleOutcome]:
    outcomes = []
    for example in ruleset.checked.examples:
        variant = ruleset.checked.variants[example.grade or BASE]
        facts = {a.name: fold(a.value, variant.constant_values) for a in example.given}
        try:
            result = ruleset.evaluate(facts, example.grade, employee=example.name)
        except KpiError as exc:
            located = [_at(d, ruleset, example) for d in exc.diagnostics]
            outcomes.append(ExampleOutcome(example, None, errors=located))
            continue
        outcome = ExampleOutcome(example, result)
        for expectation in example.expect:
            expected = fold(expectation.value, variant.constant_values)
            actual, what = actual_value(result, expectation)
            if expected is None or actual is None or actual != expected:
                outcome.mismatches.append(Mismatch(expectation, what, expected or Decimal(0),
                                                   actual))
        outcomes.append(outcome)
    return outcomes


def _at(d: Diagnostic, ruleset: Ruleset, example: ast.Example) -> Diagnostic:
    if d.line:
        return d
    return error(d.code, d.message, ruleset.checked.source, example.name_span, hint=d.hint)


def actual_value(result: Result, e: ast.Expectation) -> tuple[Decimal | None, str]:
    if e.target == "total":
        return result.total, "total"
    if e.target == "name":
        if e.name in result.components:
            return result.components[e.name], e.name
        kpi = result.kpis.get(e.name)
        return (kpi.value if kpi else None), e.name
    if e.target in ("attainment", "plan"):
        kpi = result.kpis.get(e.name)
        value = None if kpi is None else (kpi.attainment if e.target == "attainment" else kpi.plan)
        return value, f"{e.target} of {e.name}"
    for line in result.lines:
        if line.payment == e.name and line.kpi == e.item:
            return line.amount, f"{e.name} for {e.item}"
    return None, f"{e.name} for {e.item}"


@dataclass
class Boundary:
    curve: str
    threshold: Decimal
    line: int
    at: bool = False
    below: bool = False
    above: bool = False

    @property
    def covered(self) -> int:
        return int(self.at) + int(self.below) + int(self.above)


def boundary_coverage(ruleset: Ruleset, outcomes: list[ExampleOutcome]) -> list[Boundary]:
    """For every curve threshold: is some example at, just below and just above it?"""
    checked = ruleset.checked
    boundaries: dict[tuple[str, Decimal], Boundary] = {}
    for variant in checked.variants.values():
        for _pay, item in variant.pooled_kpis():
            curve = variant.curves.get(item.curve or "")
            if curve is None:
                continue
            for threshold, source_line in _thresholds(curve, variant.constant_values):
                boundaries.setdefault((curve.name, threshold),
                                      Boundary(curve.name, threshold, source_line))
    for outcome in outcomes:
        if outcome.result is None:
            continue
        for line in outcome.result.lines:
            if line.attainment is None:
                continue
            for (curve_name, threshold), boundary in boundaries.items():
                if curve_name != line.curve:
                    continue
                near = NEAR_ATTAINMENT if abs(threshold) <= 10 else abs(threshold) / 100
                x = line.attainment
                boundary.at |= x == threshold
                boundary.below |= threshold - near <= x < threshold
                boundary.above |= threshold < x <= threshold + near
    return sorted(boundaries.values(), key=lambda b: (b.curve, b.threshold))


def _thresholds(curve: ast.Curve, constants: dict[str, Decimal]) -> list[tuple[Decimal, int]]:
    return sorted(curve.kind.thresholds(curve, constants).items())  # its kind knows them


def coverage_percent(boundaries: list[Boundary]) -> Decimal:
    if not boundaries:
        return Decimal(100)
    covered = sum(b.covered for b in boundaries)
    return (Decimal(covered) * 100 / (3 * len(boundaries))).quantize(Decimal("0.1"))
