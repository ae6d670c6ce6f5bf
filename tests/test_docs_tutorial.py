"""docs/tutorial.md tells the truth: its scheme compiles, its examples pass, and every figure
it quotes is what the commands print."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import kpidsl
from kpidsl.cli import main
from kpidsl.docs import render_plan
from kpidsl.testing import run_examples

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
NBSP = "\u00a0"


def _block(language: str, first_line: str) -> str:
    for match in re.finditer(r"```(\w*)\n(.*?)```", TUTORIAL, re.S):
        if match.group(1) == language and match.group(2).startswith(first_line):
            return match.group(2)
    raise AssertionError(f"no {language or 'plain'} block starting {first_line!r}")


@pytest.fixture(scope="module")
def scheme() -> kpidsl.Ruleset:
    return kpidsl.loads(_block("kpi", "# Inside sales"), "inside_sales.kpi")


def test_the_tutorial_scheme_compiles_cleanly_and_its_examples_pass(
        scheme: kpidsl.Ruleset) -> None:
    assert scheme.diagnostics == []
    assert [o.passed for o in run_examples(scheme)] == [True, True]


def test_the_quoted_test_failure_is_what_kpidsl_test_says(tmp_path: Path) -> None:
    wrong = _block("kpi", "# Inside sales").replace("bonus for new_clients = 18_000 RUB",
                                                     "bonus for new_clients = 15_000 RUB")
    (tmp_path / "inside_sales.kpi").write_text(wrong, encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "inside_sales.kpi")])
    assert result.exit_code == 1
    quoted = _block("", "inside_sales.kpi:36:42:").strip()
    assert quoted.replace("inside_sales.kpi", str(tmp_path / "inside_sales.kpi")) in \
        result.stdout + result.stderr


def test_the_quoted_month_and_explanation(tmp_path: Path) -> None:
    (tmp_path / "inside_sales.kpi").write_text(_block("kpi", "# Inside sales"), "utf-8")
    (tmp_path / "march.csv").write_text(_block("", "employee;name;"), encoding="utf-8")
    args = [str(tmp_path / "inside_sales.kpi"), str(tmp_path / "march.csv")]
    result = CliRunner().invoke(main, ["eval", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"total": "101840.00"' in result.stdout and '"total": "60920.00"' in result.stdout
    explained = CliRunner().invoke(main, ["explain", *args, "--employee", "petrov",
                                          "--lang", "ru"])
    for line in _block("", "Выполнение плана:").splitlines():
        if line.strip() != "...":
            assert line in explained.stdout


def test_the_quoted_earnings_table(scheme: kpidsl.Ruleset) -> None:
    document = render_plan(scheme, lang="ru", fmt="md")
    quoted = [line.strip() for line in TUTORIAL.splitlines()
              if line.strip().startswith("| ") and "₽" in line]
    assert len(quoted) == 6
    plain = document.replace(NBSP, " ")  # the document keeps amounts together with NBSP
    for line in quoted:
        assert line in plain


def test_the_quoted_crm_export_is_read_as_it_is(tmp_path: Path) -> None:
    """The amoCRM export, saved as Excel saves it (cp1251, no-break spaces), needs only the
    scheme's 'from column' line: no --id, no --map."""
    scheme = _block("kpi", "# Inside sales").replace(
        'fact revenue      money  "Revenue"           ru "Выручка"\n',
        _block("kpi", "fact revenue      money"))
    assert "from column" in scheme
    (tmp_path / "inside_sales.kpi").write_text(scheme, "utf-8")
    export = _block("", "ID;Ответственный;").replace("0 0", f"0{NBSP}0").replace(
        " руб.", "\u00a0руб.")
    (tmp_path / "amocrm_march.csv").write_bytes(export.encode("cp1251"))
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "inside_sales.kpi"),
                                       str(tmp_path / "amocrm_march.csv"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"total": "101840.00"' in result.stdout and '"total": "60920.00"' in result.stdout
    assert "unknown column 'Воронка'" in result.stderr
