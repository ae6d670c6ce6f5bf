"""The run layer: every command and the API read facts the same way and count rows alike."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main
from kpidsl.run import FactsOptions, evaluate_files, read_rows

SCHEME = RULESETS / "b2b_manager.kpi"
FACTS = RULESETS / "b2b_manager.facts.csv"
ROOT = Path(__file__).resolve().parent.parent


def with_duplicate(tmp_path: Path) -> Path:
    lines = FACTS.read_text("utf-8").splitlines()
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([*lines, lines[1]]) + "\n", "utf-8")
    return path


def test_a_run_counts_rows_read_as_evaluated_plus_failed(tmp_path: Path) -> None:
    scheme = kpidsl.load(SCHEME)
    run = scheme.run([with_duplicate(tmp_path)])
    totals = [item.result.total for item in run]
    assert len(totals) == 8
    assert run.counts.rows_read == 9 and run.counts.evaluated == 8 and run.counts.failed == 1
    [failure] = run.failures
    assert failure.diagnostics[0].code == "KPI504"
    assert failure.row == 10


def test_facts_options_are_one_object_the_run_takes(tmp_path: Path) -> None:
    text = FACTS.read_text("utf-8").replace("employee,", "Сотрудник,", 1)
    path = tmp_path / "renamed.csv"
    path.write_text(text, "utf-8")
    scheme = kpidsl.load(SCHEME)
    run = evaluate_files(scheme, [path], FactsOptions(id_column="Сотрудник"), only="ivanov")
    [item] = list(run)
    assert item.result.total == kpidsl.load(SCHEME).run([FACTS]).items.__next__().result.total
    assert len(read_rows(scheme.fact_specs, [path], FactsOptions(id_column="Сотрудник"))) == 8


def test_compare_and_target_refuse_a_duplicate_employee_like_eval(tmp_path: Path) -> None:
    dup = str(with_duplicate(tmp_path))
    runner = CliRunner()
    for args in (["eval", str(SCHEME), dup],
                 ["compare", str(SCHEME), str(SCHEME), dup],
                 ["target", str(SCHEME), dup, "--employee", "volkov", "--earn", "1",
                  "--vary", "revenue"]):
        result = runner.invoke(main, args)
        assert "KPI504" in result.stderr, args
        assert "dup.csv:10: error KPI504: row 10, column 'employee'" in result.stderr, args
        assert result.exit_code == (0 if args[0] == "target" else 1), args


def _imports(module: Path, package: str) -> set[str]:
    """Modules of kpidsl.cli that `module` imports anywhere (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update(alias.name for alias in node.names)
    return found


def test_no_import_cycles_between_cli_modules() -> None:
    cli = ROOT / "kpidsl" / "cli"
    graph = {p.stem: _imports(p, "cli") for p in cli.glob("*.py") if p.stem != "__init__"}
    names = set(graph)

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [m for m in graph[start] if m in names]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += [m for m in graph.get(current, ()) if m in names]
        return seen

    assert [m for m in graph if m in reach(m)] == []
