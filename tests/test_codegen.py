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
        assert evaluate(facts, None, None).total == Decimal("119800.00")


def big_curve(count: int) -> str:
    bands = "\n".join(f"  from {i}% to {i + 1}% pays attainment × {i}%" for i in range(count))
    return f"""scheme s "S"
  currency RUB
fact revenue money "Revenue"
curve big "Big"
  below 0% pays 0
{bands}
  from {count}% pays 1
kpi revenue "Revenue"
  plan 1_000 RUB
pay bonus "Bonus" pool 1_000 RUB
  for revenue weight 100% curve big
pay extra "Extra" = big(attainment of revenue) × 1 RUB
"""


def test_a_curve_of_thousands_of_bands_compiles_flat_and_pays_exactly() -> None:
    """An elif per band nests: 2 500 bands broke Python's compiler (RecursionError) and 6 000
    its memory. Beyond 64 bands the bands are flat `if`s; the oracle agrees on every line."""
    from decimal import Decimal

    from fuzz.oracle import exact_pay

    scheme = kpidsl.loads(big_curve(6000))
    assert "elif" not in scheme.python_source.split("def evaluate_0")[0]
    for revenue in ("0", "5", "12345", "12345.67", "59999.99", "60000", "61000", "-3"):
        facts = {"revenue": Decimal(revenue)}
        result = scheme.evaluate(facts)
        expected = exact_pay(scheme, facts)
        assert {k: Decimal(v) for k, v in result.components.items()} == \
            {k: Decimal(v.numerator) / v.denominator for k, v in expected.components.items()}


def test_a_scheme_too_large_to_compile_is_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from kpidsl import loader

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded during compilation")

    monkeypatch.setattr(loader, "compile", refuse, raising=False)
    monkeypatch.setattr(builtins, "compile", builtins.compile)
    with pytest.raises(kpidsl.KpiError) as caught:
        kpidsl.loads(big_curve(3).replace('"S"', '"Never compiled before"'))
    assert [d.code for d in caught.value.diagnostics] == ["KPI007"]
