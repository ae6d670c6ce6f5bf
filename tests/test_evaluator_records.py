"""The evaluator's output is named records, and the evaluation modules import no cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from decimal import Decimal, localcontext
from pathlib import Path

import pytest

import kpidsl
from kpidsl.evaluator import EvaluatorOutput
from kpidsl.results import Result
from kpidsl.runtime import ODD

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "rulesets" / "b2b_manager.kpi"
IVANOV = {"revenue": Decimal(3_300_000), "avg_check": Decimal(142_500),
          "conversion": Decimal("0.021"), "calls": Decimal(950)}
# the modules that make and read an evaluation: none may need another that needs it back
EVALUATION = ("evaluator", "runtime", "backends.python", "optimise", "loader", "evaluate",
              "results", "lower", "trace")


def _imports(module: str) -> set[str]:
    """kpidsl modules ("results", "backends.python") that `module` imports anywhere (lazy
    imports included)."""
    found = set()
    path = ROOT / "kpidsl" / (module.replace(".", "/") + ".py")
    package = module.split(".")[:-1]  # where a relative import starts
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package[:len(package) - (node.level - 1)]
        if node.module:
            found.add(".".join([*base, node.module]))
        else:
            found.update(".".join([*base, alias.name]) for alias in node.names)
    return found


def test_no_import_cycle_between_the_evaluation_modules() -> None:
    graph = {m: _imports(m) & set(EVALUATION) for m in EVALUATION}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += graph[current]
        return seen

    assert [m for m in EVALUATION if m in reach(m)] == []
    assert "evaluate" not in graph["results"]  # the cycle there was: results named VariantInfo


@pytest.mark.parametrize("module", ["results", "evaluate", "evaluator", "runtime",
                                    "backends.python"])
def test_each_evaluation_module_imports_alone(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import kpidsl.{module}"], check=True,
                   cwd=ROOT, env={"PYTHONPATH": str(ROOT)})


def test_the_evaluator_returns_named_records() -> None:
    scheme = kpidsl.load(SCHEME)
    info = scheme.infos["base"]
    with localcontext(ODD):
        raw = info.function(IVANOV, None, None)
    assert type(raw) is EvaluatorOutput and raw.has_details
    assert raw.total == Decimal("119800.00")
    assert dict(zip(info.layout.pays, raw.pays, strict=True)) == {
        "salary": Decimal("60000.00"), "bonus": Decimal("58000.00"),
        "commission": Decimal("1800.00")}
    assert raw.line_amounts == (Decimal("26400.00"), Decimal("9500.00"),
                                 Decimal("12600.00"), Decimal("9500.00"))
    assert raw.line_bands == (3, 2, 3, 2) and raw.line_gates == ("", "", "", "")


def test_a_result_from_a_payments_only_backend_reads_its_payments() -> None:
    scheme = kpidsl.load(SCHEME)
    info = scheme.infos["base"]
    pays = (Decimal("60000.00"), Decimal("58000.00"), Decimal("1800.00"))
    for raw in (EvaluatorOutput.payments_only(pays, Decimal("119800.00")),
                (None, None, None, None, pays, Decimal("119800.00"))):
        result = Result(info, raw, "ivanov", dict(IVANOV), recomputable=True)  # type: ignore[arg-type]
        assert result.components["bonus"] == Decimal("58000.00")
        assert result.total == Decimal("119800.00")
        result.release_details()  # read again from the evaluator when asked
        assert result.lines[0].amount == Decimal("26400.00")
