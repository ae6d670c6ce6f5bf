"""`kpidsl doc` and `kpidsl statement`: outputs, files, exit codes, golden statements."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kpidsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
B2B = str(ROOT / "rulesets" / "b2b_manager.kpi")
FACTS = str(ROOT / "rulesets" / "b2b_manager.facts.csv")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_doc_prints_markdown_by_default() -> None:
    code, out, err = run("doc", B2B)
    assert code == 0, err
    assert out.startswith("# B2B sales manager\n") and "RUB\u00a0110,000.00" in out


def test_doc_writes_russian_html_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "plan.html"
    code, out, err = run("doc", B2B, "--lang", "ru", "--format", "html", "-o", str(target))
    assert code == 0 and out == ""
    assert err == f"записано: {target}\n"
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "110\u00a0000,00\u00a0₽" in text


def test_doc_unknown_grade_is_a_usage_error() -> None:
    code, out, err = run("doc", B2B, "--grade", "junior")
    assert code == 2 and out == ""
    assert err == "error: unknown grade 'junior'; known grades: none\n"


def test_doc_missing_scheme_is_a_usage_error(tmp_path: Path) -> None:
    code, _out, err = run("doc", str(tmp_path / "nope.kpi"))
    assert code == 2 and "cannot read" in err and "Traceback" not in err


def test_doc_broken_template_says_where(tmp_path: Path) -> None:
    (tmp_path / "plan.md.j2").write_text("line one\n{% if %}\n", encoding="utf-8")
    code, _out, err = run("doc", B2B, "--template", str(tmp_path))
    assert code == 2
    assert err.startswith("error: template ") and "plan.md.j2:2: " in err


def test_doc_template_with_an_undefined_name_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "plan.md.j2").write_text("{{ nothing_here }}\n", encoding="utf-8")
    code, _out, err = run("doc", B2B, "--template", str(tmp_path))
    assert code == 2 and err == "error: template: 'nothing_here' is undefined\n"


def test_statement_for_one_employee() -> None:
    code, out, err = run("statement", B2B, FACTS, "--employee", "ivanov", "--lang", "ru")
    assert code == 0, err
    assert out.startswith("# Расчётный лист: ivanov\n")
    assert "- Сотрудник: ivanov (Иван Иванов)" in out
    assert "**Доход: 119\u00a0800,00\u00a0₽**" in out


def test_statement_for_every_employee(tmp_path: Path) -> None:
    code, out, err = run("statement", B2B, FACTS, "--all", "-o", str(tmp_path / "s"),
                         "--format", "html")
    assert code == 0 and out == ""
    assert err == f"wrote 8 statements to {tmp_path / 's'}\n"
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert names == ["ivanov.html", "kuznetsova.html", "morozova.html", "petrova.html",
                     "popova.html", "sidorov.html", "smirnov.html", "volkov.html"]
    assert "RUB\u00a0119,800.00" in (tmp_path / "s" / "ivanov.html").read_text("utf-8")


def test_statement_needs_one_of_employee_or_all(tmp_path: Path) -> None:
    assert run("statement", B2B, FACTS) == (2, "", "error: give either --employee ID or --all\n")
    assert run("statement", B2B, FACTS, "--all")[2] == \
        "error: --all writes one file per employee: give the directory with -o DIR\n"


def test_statement_unknown_employee() -> None:
    code, out, err = run("statement", B2B, FACTS, "--employee", "nobody")
    assert (code, out) == (2, "")
    assert err == f"error: no employee 'nobody' in {FACTS}\n"


def test_statement_bad_row_is_reported_and_others_written(tmp_path: Path) -> None:
    facts = tmp_path / "f.csv"
    facts.write_text("employee,revenue,avg_check,conversion,calls\n"
                     "a,3000000,150000,2%,1000\n"
                     "b,lots,150000,2%,1000\n", encoding="utf-8")
    code, _out, err = run("statement", B2B, str(facts), "--all", "-o", str(tmp_path / "s"))
    assert code == 1
    assert "wrote 1 statement to" in err and "1 row failed" in err
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["a.md"]


def test_statement_file_names_are_safe(tmp_path: Path) -> None:
    facts = tmp_path / "f.csv"
    facts.write_text("employee,revenue,avg_check,conversion,calls\n"
                     "../x y,3000000,150000,2%,1000\n"
                     "..-x-y,3000000,150000,2%,1000\n", encoding="utf-8")
    code, _out, err = run("statement", B2B, str(facts), "--all", "-o", str(tmp_path / "s"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["-x-y.md", "x_y.md"]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_golden_statements(golden, lang: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("statement", B2B, FACTS, "-e", "ivanov", "--lang", lang,
                         "--format", fmt)
    assert code == 0, err
    golden.check(f"docs/b2b_manager.statement.ivanov.{lang}.{fmt}", out)
