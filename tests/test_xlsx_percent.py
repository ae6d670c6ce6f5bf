"""A percent fact in XLSX: the cell's number format, not the reader, says fraction or points.

Excel stores a cell shown as 2,1% as 0.021 with a percent format (built-in 9 '0%', 10 '0.00%',
or a custom one with '%'); a typed 2.1 in a General cell is a bare number and follows the
same rules as text cells (header '%' → points; --percent; KPI521 when it could be either).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from kpidsl.facts import FactRow, FactSpec, RowError, read_facts
from kpidsl.units import Unit

SPECS = {"conversion": FactSpec("conversion", Unit.PERCENT)}


def workbook(path: Path, title: str, cells: list[tuple[str, object, str]]) -> Path:
    """employee / `title` rows; each cell is (employee, value, number format)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["employee", title])
    for row, (who, value, fmt) in enumerate(cells, start=2):
        sheet.cell(row=row, column=1, value=who)
        target = sheet.cell(row=row, column=2, value=value)
        target.number_format = fmt
    book.save(path)
    return path


def read(path: Path, title: str, **options: object) -> tuple[dict[str, Decimal], list[str]]:
    items = list(read_facts(path, SPECS, mapping={title: "conversion"},  # type: ignore[arg-type]
                            **options))
    good = {i.employee: i.values["conversion"] for i in items if isinstance(i, FactRow)}
    bad = [f"{i.row} {d.code} {d.message}" for i in items if isinstance(i, RowError)
           for d in i.diagnostics]
    return good, bad


@pytest.mark.parametrize("fmt", ["0%", "0.00%", "0.0%", '#,##0.0" "%', "[Red]0.0%"])
def test_a_percent_formatted_cell_is_a_fraction_whatever_the_header(tmp_path: Path,
                                                                    fmt: str) -> None:
    path = workbook(tmp_path / "f.xlsx", "Конверсия, %",
                    [("Ivanov", 0.021, fmt), ("Petrov", 0.035, fmt)])
    assert read(path, "Конверсия, %") == ({"Ivanov": Decimal("0.021"),
                                            "Petrov": Decimal("0.035")}, [])


def test_a_general_number_under_a_percent_header_is_points(tmp_path: Path) -> None:
    """The defect: 2.1 typed in a 'Конверсия, %' column was read as 210 %."""
    path = workbook(tmp_path / "f.xlsx", "Конверсия, %",
                    [("Ivanov", 2.1, "General"), ("Petrov", 0.5, "0.00"),
                     ("Sidorov", 0.021, "0.0%")])
    assert read(path, "Конверсия, %") == ({"Ivanov": Decimal("0.021"),
                                            "Petrov": Decimal("0.005"),
                                            "Sidorov": Decimal("0.021")}, [])


def test_percent_points_declared_reads_general_numbers_as_points(tmp_path: Path) -> None:
    path = workbook(tmp_path / "f.xlsx", "Конверсия",
                    [("Ivanov", 2.1, "General"), ("Petrov", 0.035, "0.0%")])
    assert read(path, "Конверсия", percent="points") == (
        {"Ivanov": Decimal("0.021"), "Petrov": Decimal("0.035")}, [])
    assert read(path, "Конверсия", percent="fraction") == (
        {"Ivanov": Decimal("2.1"), "Petrov": Decimal("0.035")}, [])


def test_an_undeclared_general_number_above_1_is_ambiguous(tmp_path: Path) -> None:
    path = workbook(tmp_path / "f.xlsx", "Конверсия",
                    [("Ivanov", 2.1, "General"), ("Petrov", 0.5, "General"),
                     ("Sidorov", 0.021, "0.0%")])
    good, bad = read(path, "Конверсия")
    assert good == {"Sidorov": Decimal("0.021")}
    assert bad == [
        "2 KPI521 row 2, column 'Конверсия': '2.1' could be 2.1 % (percentage points) or "
        "210 % (a fraction), and the column does not say which",
        "3 KPI521 row 3, column 'Конверсия': '0.5' could be 50 % (a fraction) or 0.5 % "
        "(percentage points): the column also holds 2.1 on row 2, which can only be points",
    ]


def test_undeclared_general_fractions_stay_fractions(tmp_path: Path) -> None:
    path = workbook(tmp_path / "f.xlsx", "Конверсия",
                    [("Ivanov", 0.021, "General"), ("Petrov", 1, "General")])
    assert read(path, "Конверсия") == ({"Ivanov": Decimal("0.021"), "Petrov": Decimal("1")}, [])
