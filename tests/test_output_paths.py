"""The fast output paths write what the general ones write.

A CSV of results from one CSV facts file is written row by row from the result's figures
(`flat_cells`), without the row dictionaries and the spool that other inputs need; a
Result's JSON reads the evaluator's figures unless KPIs or lines were built. Both must give
the bytes the general paths give, for every bundled scheme and its facts (budgets, grades,
teams, descriptive columns, failing rows).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli.render import ResultsFormat
from kpidsl.cli.render.base import Output
from kpidsl.run import evaluate_files

ROOT = Path(__file__).resolve().parent.parent
PAIRS = sorted((facts.with_name(facts.name.split(".")[0] + ".kpi"), facts)
               for facts in (ROOT / "rulesets").glob("*.facts.csv")
               if facts.with_name(facts.name.split(".")[0] + ".kpi").exists())


def _csv(scheme: kpidsl.Ruleset, facts: Path, uniform: bool) -> str:
    out = io.StringIO()
    run = evaluate_files(scheme, [facts])
    items = run if uniform else list(run)  # a list has no `uniform_extra`: the spool path
    ResultsFormat.CSV.renderer(Output(out)).results(scheme, items)
    return out.getvalue()


@pytest.mark.parametrize(("scheme_path", "facts"), PAIRS, ids=[p[1].name for p in PAIRS])
def test_csv_from_one_csv_file_is_the_general_csv(scheme_path: Path, facts: Path) -> None:
    scheme = kpidsl.load(scheme_path)
    assert evaluate_files(scheme, [facts]).uniform_extra
    assert _csv(scheme, facts, uniform=True) == _csv(scheme, facts, uniform=False)


def test_csv_streams_from_its_first_row(tmp_path: Path) -> None:
    """The first result is written before the last facts row is read."""
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    facts = tmp_path / "f.csv"
    facts.write_text("employee,name,revenue,avg_check,conversion,calls\n" + "".join(
        f"m{i},Name {i},3300000,142500,2.1%,950\n" for i in range(3000)), encoding="utf-8")
    out = io.StringIO()
    written_when_read: list[int] = []
    run = evaluate_files(scheme, [facts], on_row=lambda n: written_when_read.append(
        out.getvalue().count("\n")) if n == 3000 else None)
    ResultsFormat.CSV.renderer(Output(out)).results(scheme, run)
    assert written_when_read and written_when_read[0] > 1000
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("employee,name,grade,team,revenue,")
    assert lines[1].startswith("m0,Name 0,base,,3300000,1.1,26400.00,")
    assert len(lines) == 3001


def test_csv_of_a_file_without_good_rows_has_the_header_only(tmp_path: Path) -> None:
    scheme = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    facts = tmp_path / "f.csv"
    facts.write_text("employee,name,revenue,avg_check,conversion,calls\nm1,A,x,1,1%,1\n",
                     encoding="utf-8")
    assert _csv(scheme, facts, uniform=True) == _csv(scheme, facts, uniform=False)
    assert _csv(scheme, facts, uniform=True).splitlines()[0].startswith("employee,grade,")


@pytest.mark.parametrize(("scheme_path", "facts"), PAIRS, ids=[p[1].name for p in PAIRS])
def test_json_from_figures_is_the_json_from_kpis_and_lines(scheme_path: Path,
                                                           facts: Path) -> None:
    scheme = kpidsl.load(scheme_path)
    for item in evaluate_files(scheme, [facts]):
        result = item.result
        fast = json.dumps(result.to_dict())
        assert result.kpis and result.lines is not None  # built: the general path
        assert json.dumps(result.to_dict()) == fast
