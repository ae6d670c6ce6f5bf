"""Files for accounting: an Excel-ready CSV and a workbook people read (issue: outputs)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

from kpidsl.cli import main

SCHEME = str(RULESETS / "b2b_manager.kpi")
FACTS = str(RULESETS / "b2b_manager.facts.csv")


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_russian_csv_opens_in_a_russian_excel() -> None:
    text = run("eval", SCHEME, FACTS, "--format", "csv", "--lang", "ru")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    header, ivanov, morozova = rows[0], rows[1], rows[-1]
    assert header[:6] == ["Сотрудник", "Имя", "Грейд", "Команда", "Выручка",
                          "Выручка: выполнение"]
    assert header[-1] == "Итого"
    assert ivanov[:6] == ["ivanov", "Иван Иванов", "основной", "", "3300000,00", "110%"]
    assert ivanov[-1] == "119800,00"
    # 86.666…% is rounded for display; the amount is to the kopeck
    assert morozova[header.index("Средний чек: выполнение")] == "86,7%"
    assert morozova[-1] == "68666,67"
    assert all(len(r) == len(header) for r in rows)


def test_excel_flag_in_english_keeps_commas_and_points() -> None:
    text = run("eval", SCHEME, FACTS, "--format", "csv", "--excel")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert text.startswith("\ufeff")
    assert rows[0][:3] == ["Employee", "Name", "Grade"]
    assert rows[-1][rows[0].index("Average check: attainment")] == "86.7%"
    assert rows[-1][-1] == "68666.67"


def test_plain_csv_and_json_keep_exact_values() -> None:
    plain = run("eval", SCHEME, FACTS, "--format", "csv")
    assert not plain.startswith("\ufeff")
    assert "0.8666666666666666666666666666666667" in plain
    data = run("eval", SCHEME, FACTS, "--format", "json", "--lang", "ru")
    assert '"attainment": "0.8666666666666666666666666666666667"' in data


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "pay.xlsx"
    run("eval", SCHEME, FACTS, "--format", "xlsx", "-o", str(out), "--lang", "ru")
    return out


def test_xlsx_headers_formats_totals_and_frozen_header(workbook: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    assert book.sheetnames == ["Результаты", "Исходные данные"]
    sheet = book["Результаты"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Сотрудник", "Имя", "Грейд", "Команда", "Выручка"]
    assert header[-4:] == ["Оклад", "Премия", "Процент с продаж", "Итого"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "B2"
    column = {name: index for index, name in enumerate(header, start=1)}
    ivanov = sheet[2]
    assert ivanov[column["Итого"] - 1].value == 119800
    assert ivanov[column["Итого"] - 1].number_format == "#,##0.00"
    attainment = ivanov[column["Выручка: выполнение"] - 1]
    assert (attainment.value, attainment.number_format) == (1.1, "0.0%")
    calls = ivanov[column["Успешные звонки"] - 1]
    assert (calls.value, calls.number_format) == (950, "#,##0")
    conversion = ivanov[column["Конверсия звонок → встреча"] - 1]
    assert conversion.number_format == "0.0%"
    totals = sheet[sheet.max_row]
    assert totals[0].value == "Итого (8)"
    assert Decimal(str(totals[column["Итого"] - 1].value)) == Decimal("850406.67")
    assert Decimal(str(totals[column["Премия"] - 1].value)) == Decimal("358406.67")
    assert totals[column["Выручка"] - 1].value is None  # facts are not summed
    assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABCDE")


def test_xlsx_inputs_sheet_says_where_the_figures_came_from(workbook: Path) -> None:
    import hashlib

    from openpyxl import load_workbook

    inputs = dict(load_workbook(workbook)["Исходные данные"].iter_rows(values_only=True))
    assert inputs["Версия"] == "2025.1"
    assert inputs["Файл фактов"] == FACTS
    assert inputs["SHA-256"] == hashlib.sha256(Path(FACTS).read_bytes()).hexdigest()
    assert (inputs["Прочитано строк"], inputs["Рассчитано"], inputs["С ошибками"]) == (8, 8, 0)


def test_xlsx_one_sheet_per_grade(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    scheme = str(RULESETS / "hunter.kpi")
    facts = str(RULESETS / "hunter.facts.csv")
    out = tmp_path / "grades.xlsx"
    result = CliRunner().invoke(main, ["eval", scheme, facts, "--format", "xlsx", "-o",
                                       str(out), "--sheets", "grade"])
    assert result.exit_code == 0, result.stderr
    book = load_workbook(out)
    grades = book.sheetnames[:-1]
    assert len(grades) >= 2 and book.sheetnames[-1] == "Inputs"
    for name in grades:
        sheet = book[name]
        employees = sheet.max_row - 2
        assert sheet.cell(sheet.max_row, 1).value == f"Total ({employees})"
        assert {sheet.cell(r, 3).value for r in range(2, sheet.max_row)} == {name}
