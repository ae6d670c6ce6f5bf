"""The lowered form (kpidsl/lower.py): every bundled scheme lowers, every kind of the checked
tree has a lowering, gates get their target once, and the reference scheme's form is golden."""

from __future__ import annotations

import inspect
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl import ast, curvekinds
from kpidsl import lower as lw

ROOT = Path(__file__).resolve().parent.parent
RULESETS = sorted((ROOT / "rulesets").rglob("*.kpi"))


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.stem)
def test_every_bundled_scheme_lowers(path: Path) -> None:
    scheme = kpidsl.load(path)
    program = lw.lower(scheme.checked)
    for name, variant in program.variants.items():
        layout = scheme.compiled.generated.layouts[name]
        assert [k.name for k in variant.kpis] == layout.kpis
        assert [(line.payment, line.kpi) for p in variant.payments for line in p.lines] == \
            layout.lines
        assert [p.name for p in variant.payments] == layout.pays
        for kpi in variant.kpis:  # every node carries the checker's unit and kind enums
            for node in lw.walk(kpi.value):
                assert isinstance(node, lw.Expr)
    assert lw.dump(program)


def test_the_reference_scheme_golden(golden) -> None:  # type: ignore[no-untyped-def]
    golden.check("lower/b2b_manager", lw.dump(lw.lower(
        kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi").checked)))


def test_every_kind_of_the_checked_tree_has_a_lowering() -> None:
    """A new kind of expression cannot be forgotten: each ast.Expr subclass has a case."""
    source = inspect.getsource(lw._Lowering._expr)
    kinds = [k.__name__ for k in ast.Expr.__subclasses__()]
    assert kinds and all(f"case ast.{k}(" in source for k in kinds), kinds


def test_children_come_from_the_fields() -> None:
    one, two = lw.Number(Decimal(1)), lw.Number(Decimal(2))
    call = lw.Call(lw.Function.MAX, (one, lw.Negate(two)))
    assert lw.children(call) == (one, lw.Negate(two))
    assert [type(n).__name__ for n in lw.walk(call)] == ["Call", "Number", "Negate", "Number"]
    division = lw.Division(one, two, otherwise=one)
    assert lw.children(division) == (one, two, one)


GATES = """scheme g "Gates"
  currency RUB
fact revenue money "Revenue"
fact margin percent "Margin"
curve standard "S"
  below 80% pays 0
  from 80% pays attainment
kpi revenue "Revenue"
  plan 1_000 RUB
kpi margin "Margin"
  plan 30%
pay bonus "Bonus" pool 10_000 RUB
  only if attainment of revenue >= 70%
  cap 9_000 RUB
  for revenue weight 60% curve standard
    cap 5_000 RUB
  for margin weight 40% curve standard
    cap 100% unless attainment of revenue >= 100%
"""


def test_gates_get_their_target_and_origin_once() -> None:
    program = lw.lower(kpidsl.loads(GATES).checked)
    [bonus] = program.variants["base"].payments
    first, second = bonus.lines
    assert [(g.kind, g.target, g.origin) for g in first.gates] == [
        (lw.GateKind.ONLY_IF, lw.GateTarget.LINE, lw.GateOrigin.PAYMENT),
        (lw.GateKind.CAP, lw.GateTarget.AMOUNT, lw.GateOrigin.LINE)]
    assert [(g.kind, g.target) for g in second.gates][1] == (lw.GateKind.CAP,
                                                             lw.GateTarget.FACTOR)
    assert second.gates[1].unless is not None
    assert [(g.kind, g.target) for g in bonus.gates] == [(lw.GateKind.CAP,
                                                          lw.GateTarget.PAYMENT)]


def test_curve_kinds_know_their_thresholds_and_band_text() -> None:
    checked = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi").checked
    program = lw.lower(checked)
    curve = program.variants["base"].curves["standard"]
    variant = checked.variants["base"]
    written = variant.curves["standard"]
    assert curve.kind is written.kind is curvekinds.BANDS
    assert set(written.kind.thresholds(written, variant.constant_values)) == {
        Decimal("0.80"), Decimal("1.00")}
    assert dict(written.kind.band_texts(written, variant.constant_values)) == {
        1: "below 80%", 2: "from 80% through 100%", 3: "above 100%"}
    assert curve.cap is None  # the reference scheme is uncapped, as the method says
