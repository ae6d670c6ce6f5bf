"""The command line through click's CliRunner: every test states its expected exit code."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import kpidsl
from kpidsl.cli import main
from kpidsl.cli.common import FINDINGS, OK, USAGE

ROOT = Path(__file__).resolve().parent.parent
RULESETS = ROOT / "rulesets"
FIXTURES = ROOT / "tests" / "fixtures" / "cli"
SCHEME = "rulesets/b2b_manager.kpi"
FACTS = "rulesets/b2b_manager.facts.csv"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # golden outputs name files relative to the checkout


def run(args: list[str], code: int, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


# ---------------------------------------------------------------- the group


def test_exit_codes_are_defined_once() -> None:
    assert (OK, FINDINGS, USAGE) == (0, 1, 2)


def test_version() -> None:
    result = run(["--version"], OK)
    assert result.stdout == f"kpidsl, version {kpidsl.__version__}\n"


@pytest.mark.parametrize("name", ["check", "eval", "explain", "test", "fmt", "compile",
                                  "completion"])
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = run([name, "--help"], OK)
    assert "Example:" in result.stdout
    assert f"kpidsl {name}" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run(["chekc"], USAGE)
    assert "No such command 'chekc'" in result.stderr


def test_optional_command_modules_plug_in() -> None:
    from kpidsl.cli import _register

    _register("no_such_module", optional=True)  # a missing optional module is fine
    with pytest.raises(ModuleNotFoundError):
        _register("no_such_module", optional=False)


def test_completion_script() -> None:
    result = run(["completion", "bash"], OK)
    assert "_KPIDSL_COMPLETE" in result.stdout


def test_check_does_not_import_heavy_modules() -> None:
    code = ("import sys\nfrom kpidsl.cli import main\n"
            "try:\n    main(['check', 'rulesets/b2b_manager.kpi'])\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'jinja2', 'openpyxl', 'babel'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.splitlines()[-1] == "[]"


# ---------------------------------------------------------------- check


def test_check_clean_directory() -> None:
    result = run(["check", "rulesets/"], OK)
    files = len(list(RULESETS.rglob("*.kpi")))
    assert result.stdout == f"{files} files checked: no problems\n"


def test_check_errors_as_text(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["check", "tests/fixtures/cli/broken.kpi"], FINDINGS)
    golden.check("cli/check_text", result.stdout)


def test_check_errors_as_json() -> None:
    result = run(["check", "--format", "json", "tests/fixtures/cli/broken.kpi"], FINDINGS)
    items = json.loads(result.stdout)
    assert [(d["code"], d["line"], d["severity"]) for d in items] == [
        ("KPI101", 5, "error"), ("KPI204", 5, "error")]


def test_check_errors_as_github_annotations(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["check", "--format", "github", "tests/fixtures/cli/broken.kpi",
                  "tests/fixtures/cli/warning.kpi"], FINDINGS)
    assert result.stdout.startswith("::error file=tests/fixtures/cli/broken.kpi,line=5,col=")
    golden.check("cli/check_github", result.stdout)


def test_check_strict_fails_on_warnings() -> None:
    relaxed = run(["check", "tests/fixtures/cli/warning.kpi"], OK)
    assert "warning KPI703" in relaxed.stdout
    assert relaxed.stdout.endswith("1 file checked: 0 errors, 1 warning\n")
    run(["check", "--strict", "tests/fixtures/cli/warning.kpi"], FINDINGS)


def test_check_missing_path_is_an_io_error() -> None:
    result = run(["check", "nowhere.kpi"], USAGE)
    assert result.stderr == "error: nowhere.kpi: no such file or directory\n"


# ---------------------------------------------------------------- eval


def test_eval_table(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["eval", SCHEME, FACTS], OK)
    golden.check("cli/eval_table", result.stdout)
    assert "119,800.00" in result.stdout
    assert result.stderr == "facts: 8 rows read, 8 evaluated, 0 failed\n"


def test_eval_table_in_russian(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["eval", SCHEME, FACTS, "--lang", "ru"], OK)
    golden.check("cli/eval_table_ru", result.stdout)


def test_eval_json_holds_exact_decimal_strings() -> None:
    result = run(["eval", SCHEME, FACTS, "--format", "json"], OK)
    items = json.loads(result.stdout)
    ivanov = items[0]
    assert {"employee", "grade", "kpis", "components", "total"} <= set(ivanov)
    assert ivanov["employee"] == "ivanov"
    assert ivanov["total"] == "119800.00"
    assert ivanov["components"] == {"salary": "60000.00", "bonus": "58000.00",
                                    "commission": "1800.00"}
    assert ivanov["kpis"]["revenue"] == {"value": "3300000", "plan": "3000000",
                                         "attainment": "1.1", "payout": "26400.00"}
    assert ivanov["extra"] == {"name": "Иван Иванов"}


def test_eval_jsonl_one_object_a_line() -> None:
    result = run(["eval", SCHEME, FACTS, "--format", "jsonl"], OK)
    lines = result.stdout.splitlines()
    assert len(lines) == 8
    assert [json.loads(line)["total"] for line in lines][:2] == ["119800.00", "110000.00"]


def test_eval_csv(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["eval", SCHEME, FACTS, "--format", "csv"], OK)
    golden.check("cli/eval_csv", result.stdout)


def test_eval_xlsx(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "pay.xlsx"
    result = run(["eval", SCHEME, FACTS, "--format", "xlsx", "-o", str(out)], OK)
    assert f"wrote {out}" in result.stderr
    book = load_workbook(out, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()  # a read-only workbook keeps its file open until closed
    assert rows[0][:3] == ("Employee", "Name", "Grade")
    assert rows[0][-1] == "Total"
    assert rows[1][0] == "ivanov"
    assert Decimal(str(rows[1][-1])) == Decimal("119800")


def test_eval_xlsx_needs_an_output_file() -> None:
    result = run(["eval", SCHEME, FACTS, "--format", "xlsx"], USAGE)
    assert result.stderr == "error: --format xlsx writes a workbook: give the file with -o FILE\n"


def test_eval_output_file(tmp_path: Path) -> None:
    out = tmp_path / "pay.jsonl"
    result = run(["eval", SCHEME, FACTS, "--format", "jsonl", "-o", str(out)], OK)
    assert result.stdout == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 8


def test_russian_excel_export_gives_the_same_totals() -> None:
    """cp1251, ';', decimal commas, no-break spaces in thousands, '2,1 %'."""
    raw = (FIXTURES / "facts_cp1251.csv").read_bytes()
    assert b";" in raw and b"\xa0" in raw and b"2,1 %" in raw
    plain = run(["eval", SCHEME, FACTS, "--format", "csv"], OK).stdout
    exported = run(["eval", SCHEME, "tests/fixtures/cli/facts_cp1251.csv", "--format", "csv"],
                   OK).stdout
    totals = [{r["employee"]: r["total"] for r in csv.DictReader(io.StringIO(text))}
              for text in (plain, exported)]
    assert totals[0] == totals[1]
    assert totals[0]["ivanov"] == "119800.00"


def test_bad_rows_are_reported_and_the_others_evaluated(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["eval", SCHEME, "tests/fixtures/cli/crm_export.csv", "--id", "Сотрудник",
                  "--map", "Выручка=revenue", "--map", "Средний чек=avg_check",
                  "--map", "Конверсия=conversion", "--map", "Звонки=calls",
                  "--format", "jsonl"], FINDINGS)
    assert [json.loads(x)["employee"] for x in result.stdout.splitlines()] == [
        "ivanov", "petrova", "volkov"]
    assert ("tests/fixtures/cli/crm_export.csv:4: error KPI501: row 4, column 'Средний чек': "
            "'12O 000' is not a number") in result.stderr
    assert "row 5, column 'Звонки': '-5' is negative" in result.stderr
    assert "unknown column 'Отдел'" in result.stderr
    assert result.stderr.endswith("facts: 5 rows read, 3 evaluated, 2 failed\n")
    golden.check("cli/eval_bad_rows_stderr", result.stderr)


def test_files_that_disagree_about_an_employee(tmp_path: Path) -> None:
    """Several files are joined by employee: the same fact with two values is refused."""
    second = tmp_path / "more.csv"
    second.write_text("employee,revenue,avg_check,conversion,calls\n"
                      "ivanov,1,1,1%,1\nnew,3000000,150000,2%,1000\n", encoding="utf-8")
    result = run(["eval", SCHEME, FACTS, str(second), "--format", "jsonl"], FINDINGS)
    assert [json.loads(x)["employee"] for x in result.stdout.splitlines()][-2:] == [
        "morozova", "new"]
    assert len(result.stdout.splitlines()) == 8  # 7 of the first file and 'new'; not ivanov
    assert (f"{second}:2: error KPI530: row 2: fact 'revenue' of employee 'ivanov' is 1 here "
            f"but 3300000 in {FACTS} row 2") in result.stderr
    assert result.stderr.endswith("facts: 9 rows read, 8 evaluated, 1 failed\n")


def test_leaderboard_by_total(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["eval", SCHEME, FACTS, "--rank", "total"], OK)
    golden.check("cli/rank_total", result.stdout)


def test_leaderboard_by_attainment_as_json() -> None:
    result = run(["eval", SCHEME, FACTS, "--rank", "revenue", "--format", "json"], OK)
    board = json.loads(result.stdout)
    assert [(r["rank"], r["employee"], r["revenue_attainment"][:6]) for r in board[:3]] == [
        (1, "volkov", "1.3666"), (2, "smirnov", "1.2"), (3, "ivanov", "1.1")]
    assert (board[-1]["employee"], board[-1]["total"]) == ("morozova", "68666.67")


def test_rank_by_unknown_kpi_is_a_usage_error() -> None:
    result = run(["eval", SCHEME, FACTS, "--rank", "revenu"], USAGE)
    assert result.stderr == ("error: --rank: 'revenu' is neither 'total' nor a KPI of "
                             "b2b_manager (did you mean 'revenue'?)\n")


def test_unknown_grade_is_a_usage_error() -> None:
    result = run(["eval", SCHEME, FACTS, "--grade", "senior"], USAGE)
    assert result.stderr == "error: unknown grade 'senior'; known grades: none\n"


def test_missing_facts_file_is_an_io_error() -> None:
    result = run(["eval", SCHEME, "missing.csv"], USAGE)
    assert "missing.csv" in result.stderr and "KPI507" in result.stderr


def test_scheme_with_errors_cannot_be_evaluated() -> None:
    result = run(["eval", "tests/fixtures/cli/broken.kpi", FACTS], USAGE)
    assert "error KPI101" in result.stderr


def test_bad_map_option() -> None:
    result = run(["eval", SCHEME, FACTS, "--map", "revenue"], USAGE)
    assert "expected CRM_COLUMN=fact, got 'revenue'" in result.stderr


# ---------------------------------------------------------------- explain and compile


def test_explain_in_russian(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["explain", SCHEME, FACTS, "--employee", "ivanov", "--lang", "ru"], OK)
    assert "  Выручка: 110 % > 100 %, коэффициент 1,2: 20 000 × 1,1 × 1,2 = 26 400\n" \
        in result.stdout
    assert result.stdout.endswith("Итого: 60 000 + 58 000 + 1 800 = 119 800\n")
    golden.check("cli/explain_ivanov_ru", result.stdout)


def test_explain_in_english(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["explain", SCHEME, FACTS, "-e", "volkov"], OK)
    golden.check("cli/explain_volkov_en", result.stdout)


def test_explain_unknown_employee() -> None:
    result = run(["explain", SCHEME, FACTS, "-e", "ivanof"], USAGE)
    assert result.stderr == ("error: no employee 'ivanof' in rulesets/b2b_manager.facts.csv "
                             "(did you mean 'ivanov'?)\n")
    result = run(["explain", SCHEME, FACTS, "-e", "ivanof", "--lang", "ru"], USAGE)
    assert result.stderr == ("ошибка: в rulesets/b2b_manager.facts.csv нет сотрудника 'ivanof' "
                             "(может быть, 'ivanov'?)\n")


def test_explain_a_member_of_a_team_paid_as_one() -> None:
    """A `paid per team` scheme's results are its teams: a member's id names the team to
    explain (it used to answer "no employee 'ivanov'; did you mean 'ivanov'?")."""
    head = ["explain", "rulesets/head_of_sales.kpi", "rulesets/head_of_sales.facts.csv"]
    result = run([*head, "-e", "ivanov"], USAGE)
    assert result.stderr == ("error: head_of_sales pays per team, and 'ivanov' is a member of "
                             "team 'Москва': give the team's name with -e\n")
    result = run([*head, "-e", "ivanov", "--lang", "ru"], USAGE)
    assert result.stderr == ("ошибка: схема head_of_sales платит по командам, а 'ivanov' — в "
                             "команде 'Москва': укажите название команды в -e\n")
    result = run([*head, "-e", "Моксва"], USAGE)
    assert result.stderr == ("error: no employee 'Моксва' in rulesets/head_of_sales.facts.csv "
                             "(did you mean 'Москва'?)\n")
    assert run([*head, "-e", "Москва"], OK).stdout.startswith("Calculation for Москва")


def test_explain_a_bad_row() -> None:
    result = run(["explain", SCHEME, "tests/fixtures/cli/crm_export.csv", "--id", "Сотрудник",
                  "--map", "Выручка=revenue", "--map", "Средний чек=avg_check",
                  "--map", "Конверсия=conversion", "--map", "Звонки=calls", "-e", "sidorov"],
                 FINDINGS)
    assert "'12O 000' is not a number" in result.stderr
    assert result.stdout == ""


def test_compile_prints_the_module(tmp_path: Path) -> None:
    result = run(["compile", SCHEME], OK)
    assert result.stdout == kpidsl.load(SCHEME).python_source
    out = tmp_path / "evaluator.py"
    run(["compile", SCHEME, "-o", str(out)], OK)
    assert out.read_text(encoding="utf-8") == result.stdout


# ---------------------------------------------------------------- every command is a click.Command


def test_commands_are_registered() -> None:
    ctx = click.Context(main)
    names = main.list_commands(ctx)
    assert {"check", "eval", "explain", "test", "fmt", "compile", "completion", "doc",
            "statement", "compare", "target"} <= set(names)
    assert all(isinstance(main.get_command(ctx, name), click.Command) for name in names)


def test_check_imports_no_other_command() -> None:
    """`kpidsl check` loads only its own command module (start-up stays fast)."""
    code = ("import sys; from kpidsl.cli import main\n"
            "try:\n    main(['check', 'rulesets/b2b_manager.kpi'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('kpidsl.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent).stdout
    assert out.splitlines()[-1] == "['kpidsl.cli.check', 'kpidsl.cli.common', 'kpidsl.cli.render']"


# ---------------------------------------------------------------- other facts formats


def test_xlsx_facts_from_a_named_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("March")
    sheet.append(["Сотрудник", "revenue", "avg_check", "conversion", "calls"])
    sheet.append(["ivanov", 3300000, 142500, "2,1%", 950])
    path = tmp_path / "march.xlsx"
    book.save(path)
    result = run(["eval", SCHEME, str(path), "--sheet", "March", "--id", "Сотрудник",
                  "--format", "jsonl"], OK)
    assert json.loads(result.stdout)["total"] == "119800.00"


def test_json_facts(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text('[{"employee": "ivanov", "revenue": 3300000, "avg_check": "142 500",'
                    ' "conversion": "2.1%", "calls": 950}]', encoding="utf-8")
    result = run(["eval", SCHEME, str(path), "--format", "json"], OK)
    assert json.loads(result.stdout)[0]["total"] == "119800.00"
