"""Code generation: the exact generated module (golden), its imports, and its line map."""

from __future__ import annotations

import ast as pyast
from pathlib import Path

import pytest

import kpidsl

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = sorted((ROOT / "rulesets").glob("b2b_manager*.kpi"))


@pytest.mark.parametrize("path", SCHEMES, ids=[p.stem for p in SCHEMES])
def test_generated_source_golden(path: Path, golden) -> None:
    golden.check(f"codegen/{path.stem}", kpidsl.load(path).python_source)


def test_generated_code_imports_only_decimal_and_runtime() -> None:
    source = kpidsl.load(SCHEMES[0]).python_source
    imports = [node for node in pyast.walk(pyast.parse(source))
               if isinstance(node, pyast.Import | pyast.ImportFrom)]
    assert [(getattr(n, "module", None), [a.name for a in n.names]) for n in imports] == [
        ("decimal", ["Decimal"]), ("kpidsl", ["runtime"])]


def kpi_line(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.startswith(start))


def test_every_block_names_its_kpi_line() -> None:
    scheme = kpidsl.load(SCHEMES[0])
    source = scheme.python_source
    assert f"# kpi revenue (line {kpi_line(SCHEMES[0], 'kpi revenue')})" in source
    assert f"# curve standard (line {kpi_line(SCHEMES[0], 'curve standard')})" in source
    line_map = scheme.compiled.generated.line_map
    lines = source.splitlines()
    commission = next(i for i, text in enumerate(lines, 1) if "# pay commission" in text)
    assert line_map[commission + 1] == kpi_line(SCHEMES[0], "pay commission")


def test_generated_module_runs_standalone() -> None:
    """`kpidsl compile` output is an ordinary module: import it and call the evaluator."""
    from decimal import Decimal, localcontext

    from kpidsl.runtime import CONTEXT

    namespace: dict[str, object] = {}
    exec(compile(kpidsl.load(SCHEMES[0]).python_source, "b2b.py", "exec"), namespace)
    evaluate = namespace["EVALUATORS"]["base"]  # type: ignore[index]
    facts = {"revenue": Decimal(3_300_000), "avg_check": Decimal(142_500),
             "conversion": Decimal("0.021"), "calls": Decimal(950)}
    with localcontext(CONTEXT):
        assert evaluate(facts, None, None)[5] == Decimal("119800.00")
