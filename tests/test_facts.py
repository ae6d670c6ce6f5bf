"""Facts readers: value parsing, CSV/JSON/JSONL/XLSX reading and a corpus of hostile files."""

from __future__ import annotations

import datetime as dt
import json
import time
import tracemalloc
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kpidsl.diagnostics import Severity
from kpidsl.facts import (
    FactRow,
    FactsFileError,
    FactSpec,
    FactsReader,
    FactValueError,
    Reading,
    RowError,
    parse_value,
    read_facts,
    read_facts_text,
)
from kpidsl.units import FACT_UNITS, Unit

FIXTURES = Path(__file__).parent / "fixtures" / "facts"

SPECS = {
    "revenue": FactSpec("revenue", Unit.MONEY),
    "deals": FactSpec("deals", Unit.COUNT),
    "conversion": FactSpec("conversion", Unit.PERCENT, required=False, default=Decimal("0")),
    "talk_minutes": FactSpec("talk_minutes", Unit.MINUTES, required=False),
}


def read_all(reader: FactsReader) -> tuple[list[FactRow], list[RowError]]:
    rows: list[FactRow] = []
    errors: list[RowError] = []
    for item in reader:
        (rows if isinstance(item, FactRow) else errors).append(item)  # type: ignore[arg-type]
    assert reader.summary.rows_read == reader.summary.rows_ok + reader.summary.rows_failed
    assert (reader.summary.rows_ok, reader.summary.rows_failed) == (len(rows), len(errors))
    return rows, errors


def cell_diags(errors: list[RowError]) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for e in errors for d in e.diagnostics]


# ---------------------------------------------------------------------------- parse_value


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("142 500,50", Unit.MONEY, "142500.50"),
        ("142500.50", Unit.MONEY, "142500.50"),
        ("142\u00a0500,50", Unit.MONEY, "142500.50"),
        ("142\u202f500,50", Unit.MONEY, "142500.50"),
        ("1'234'567", Unit.MONEY, "1234567"),
        ("3,300,000.00", Unit.MONEY, "3300000.00"),
        ("3.300.000,00", Unit.MONEY, "3300000.00"),
        ("3,300", Unit.MONEY, "3.300"),  # a lone comma is decimal (Russian locale)
        ("3 300 000 ₽", Unit.MONEY, "3300000"),
        ("1 000 руб.", Unit.MONEY, "1000"),
        ("RUB 1000", Unit.MONEY, "1000"),
        ("$1,000.25", Unit.MONEY, "1000.25"),
        ("-1 500,75", Unit.MONEY, "-1500.75"),
        ("\u22121 500", Unit.MONEY, "-1500"),
        ("-$100", Unit.MONEY, "-100"),
        ("+7", Unit.NUMBER, "7"),
        (".5", Unit.NUMBER, "0.5"),
        ("  12  ", Unit.COUNT, "12"),
        ("12,0", Unit.COUNT, "12.0"),
        ("2.1%", Unit.PERCENT, "0.021"),
        ("2,1 %", Unit.PERCENT, "0.021"),
        ("0.021", Unit.PERCENT, "0.021"),  # a bare number in a percent column is a fraction
        ("150%", Unit.PERCENT, "1.50"),
        ("85%", Unit.RATIO, "0.85"),
        ("-0", Unit.COUNT, "0"),
        ("90,5", Unit.MINUTES, "90.5"),
    ],
)
def test_parse_value(text: str, unit: Unit, expected: str) -> None:
    value = parse_value(text, unit)
    assert value == Decimal(expected)
    assert str(value) == expected  # exact digits, no float on the way


@pytest.mark.parametrize(
    ("text", "unit", "code", "message"),
    [
        ("3 3OO 000", Unit.MONEY, "KPI501", "'3 3OO 000' is not a number"),
        ("abc", Unit.COUNT, "KPI501", "'abc' is not a number"),
        ("12 34", Unit.NUMBER, "KPI501", "'12 34' is not a number"),
        ("1,234,5", Unit.NUMBER, "KPI501", "'1,234,5' is not a number"),
        ("NaN", Unit.MONEY, "KPI501", "'NaN' is not a finite number"),
        ("-Infinity", Unit.MONEY, "KPI501", "'-Infinity' is not a finite number"),
        ("inf", Unit.PERCENT, "KPI501", "'inf' is not a finite number"),
        ("=SUM(A1:A3)", Unit.MONEY, "KPI501",
         "'=SUM(A1:A3)' looks like an Excel formula; export values, not formulas"),
        ("#DIV/0!", Unit.RATIO, "KPI501", "'#DIV/0!' is an Excel error value, not a number"),
        ("2025-07-01", Unit.MONEY, "KPI501", "'2025-07-01' looks like a date, not a number"),
        ("01.07.2025", Unit.COUNT, "KPI501", "'01.07.2025' looks like a date, not a number"),
        ("1:30", Unit.MINUTES, "KPI501", "'1:30' looks like a time, not a number"),
        ("1,5E+06", Unit.MONEY, "KPI501", "'1,5E+06' is in scientific notation, which loses "
         "digits; export the column as a plain number"),
        ("5%", Unit.MONEY, "KPI501", "'5%' has a percent sign, but a money value cannot"),
        ("₽ 100", Unit.COUNT, "KPI501", "'₽ 100' is not a number"),
        ("-3", Unit.COUNT, "KPI503", "'-3' is negative; a count cannot be negative"),
        ("2,5", Unit.COUNT, "KPI503", "'2,5' is not a whole number; a count must be whole"),
        ("-10", Unit.MINUTES, "KPI503", "'-10' is negative; a duration cannot be negative"),
        ("-1", Unit.DAYS, "KPI503", "'-1' is negative; a duration cannot be negative"),
        ("", Unit.MONEY, "KPI502", "empty value"),
    ],
)
def test_parse_value_rejects(text: str, unit: Unit, code: str, message: str) -> None:
    with pytest.raises(FactValueError) as caught:
        parse_value(text, unit)
    assert (caught.value.code, str(caught.value)) == (code, message)
    assert isinstance(caught.value, ValueError)


def test_parse_value_bounds_digits_and_size_but_keeps_28_digits_exact() -> None:
    assert parse_value("9" * 20 + ",12345678", Unit.MONEY) == Decimal("9" * 20 + ".12345678")
    assert parse_value("1" * 20 + ",5%", Unit.PERCENT) == Decimal("1" * 18 + ".115")
    rejected = [
        ("9" * 101, "'" + "9" * 59 + "…' has 101 digits; at most 100 are allowed"),
        ("9" * 21, "'" + "9" * 21 + "' is about 10^20; numbers must stay below 10^20"),
        ("1" * 20 + ",123456789", "'" + "1" * 20 + ",123456789' has 29 significant digits; "
         "at most 28 are allowed"),
        ("0," + "0" * 20 + "1", "'0," + "0" * 20 + "1' has 21 decimal places; at most 20 are "
         "allowed"),
        ("1" * 35, "'" + "1" * 35 + "' is about 10^34; numbers must stay below 10^20"),
    ]
    for text, message in rejected:
        with pytest.raises(FactValueError) as caught:
            parse_value(text, Unit.COUNT)
        assert (caught.value.code, str(caught.value)) == ("KPI501", message)


# ---------------------------------------------------------------------------- properties

DECIMALS = st.builds(lambda n, places: Decimal(n).scaleb(-places),
                     st.integers(-(10**15) + 1, 10**15 - 1), st.integers(0, 6))
# (decimal separator, thousands separator)
LOCALES = [(".", ""), (",", ""), (",", " "), (",", "\u00a0"), (",", "\u202f"), (".", " "),
           (".", ","), (".", "'"), (",", ".")]


def format_decimal(value: Decimal, decimal: str, group: str) -> str:
    whole, _, frac = format(abs(value), "f").partition(".")
    if group:
        head = len(whole) % 3 or 3
        whole = group.join([whole[:head]] + [whole[i:i + 3] for i in range(head, len(whole), 3)])
    return ("-" if value < 0 else "") + whole + (decimal + frac if frac else "")


@settings(database=None, max_examples=300)
@given(DECIMALS, st.sampled_from(LOCALES))
def test_parse_value_reads_every_locale_exactly(value: Decimal, locale: tuple[str, str]) -> None:
    decimal, group = locale
    text = format_decimal(value, decimal, group)
    # '3,300' with no decimal part is read as 3.3 by design; such texts are ambiguous
    assume(not (group in ".," and "." not in format(value, "f") and text.count(group) == 1))
    assert parse_value(text, Unit.MONEY).as_tuple() == value.as_tuple()
    assert parse_value(text, Unit.NUMBER) == value
    assert parse_value(text, Unit.PERCENT, Reading(percent="fraction")) == value
    assert parse_value(text, Unit.PERCENT, Reading(percent="points")) == value.scaleb(-2)
    if abs(value) <= 1:  # an undeclared bare percent is a fraction up to 100 %
        assert parse_value(text, Unit.PERCENT) == value
    else:
        with pytest.raises(FactValueError, match="percentage points"):
            parse_value(text, Unit.PERCENT)
    for percent in ("%", " %", "\u00a0%"):
        assert parse_value(text + percent, Unit.PERCENT) == value.scaleb(-2)
    declared = "en" if group == "," or (decimal == "." and group != ".") else "ru"
    assert parse_value(text, Unit.MONEY, Reading(locale=declared)) == value


@settings(database=None, max_examples=300)
@given(st.integers(1, 999), st.integers(0, 999))
def test_a_lone_separator_before_three_digits_is_read_by_the_locale(head: int,
                                                                    tail: int) -> None:
    text = f"{head},{tail:03d}"
    assert parse_value(text, Unit.MONEY, Reading(locale="en")) == head * 1000 + tail
    assert parse_value(text, Unit.MONEY, Reading(locale="ru")) == Decimal(f"{head}.{tail:03d}")
    assert parse_value(text, Unit.MONEY) == Decimal(f"{head}.{tail:03d}")  # no evidence: ru
    grouped = Reading(grouped={",": "'3,300,000' on row 2"})
    with pytest.raises(FactValueError) as caught:
        parse_value(text, Unit.MONEY, grouped)
    thousands = f"{head * 1000 + tail:,}".replace(",", " ")
    decimal = format(Decimal(f"{head}.{tail:03d}").normalize(), "f")
    assert str(caught.value) == (f"'{text}' could be {thousands} (thousands) or {decimal} (a "
                                 "decimal): the file also groups thousands with ',' ('3,300,000' "
                                 "on row 2)")
    assert caught.value.code == "KPI520"
    with pytest.raises(FactValueError, match="a count written so is either"):
        parse_value(text, Unit.COUNT)


@settings(database=None, max_examples=300)
@given(st.text(), st.sampled_from(FACT_UNITS))
def test_parse_value_raises_only_value_error_on_any_text(text: str, unit: Unit) -> None:
    try:
        value = parse_value(text, unit)
    except ValueError:
        return
    assert isinstance(value, Decimal) and value.is_finite()


@settings(database=None, max_examples=300)
@given(st.text(alphabet="0123456789.,'-+% \u00a0\u202f\u2212eE₽$руб=#:/", max_size=25),
       st.sampled_from(FACT_UNITS))
def test_parse_value_raises_only_value_error_on_number_like_text(text: str, unit: Unit) -> None:
    try:
        value = parse_value(text, unit)
    except ValueError:
        return
    assert isinstance(value, Decimal) and value.is_finite()


# ---------------------------------------------------------------------------- CSV


def test_plain_csv() -> None:
    reader = read_facts(FIXTURES / "plain.csv", SPECS)
    assert reader.columns is None  # nothing is read before iteration
    rows, errors = read_all(reader)
    assert errors == [] and reader.warnings == []
    assert reader.columns == ["employee", "name", "grade", "team", "revenue", "deals",
                              "conversion", "talk_minutes"]
    assert rows[0] == FactRow(
        file=str(FIXTURES / "plain.csv"), row=2, employee="ivanov", grade="senior", team="north",
        values={"revenue": Decimal("3300000.50"), "deals": Decimal("12"),
                "conversion": Decimal("0.021"), "talk_minutes": Decimal("1250")},
        extra={"name": "Ivan Ivanov"})
    # an empty optional cell takes the default, or is left out when there is none
    assert rows[2].values == {"revenue": Decimal("-1500.75"), "deals": Decimal("0"),
                              "conversion": Decimal("0")}
    assert (reader.encoding, reader.delimiter) == ("utf-8-sig", ",")


def test_cp1251_semicolon_gives_the_same_values_as_plain_csv() -> None:
    plain, _ = read_all(read_facts(FIXTURES / "plain.csv", SPECS))
    reader = read_facts(FIXTURES / "cp1251_semicolon.csv", SPECS)
    russian, errors = read_all(reader)
    assert errors == []
    assert (reader.encoding, reader.delimiter) == ("cp1251", ";")
    assert [r.values for r in russian] == [r.values for r in plain]
    assert [(r.row, r.employee, r.grade, r.team) for r in russian] == [
        (r.row, r.employee, r.grade, r.team) for r in plain]
    assert [r.extra["name"] for r in russian] == ["Иван Иванов", "Пётр Петров", "Анна Сидорова"]


def test_utf8_split_across_the_encoding_prefix_is_still_utf8(tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    head = "employee,name,revenue,deals\n"
    padding = "x" * (64 * 1024 - len(head) - len("ivanov,") - 1)  # 'И' straddles the cut
    path.write_text(head + f"ivanov,{padding}Иван,1,1\n", encoding="utf-8")
    reader = read_facts(path, SPECS)
    rows, errors = read_all(reader)
    assert reader.encoding == "utf-8-sig" and errors == []
    assert rows[0].extra["name"].endswith("Иван")


def test_an_ascii_start_longer_than_the_encoding_block_does_not_hide_cp1251(
        tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    rows = "".join(f"e{i};{i};1\n" for i in range(10_000))  # well over 64 KiB of ASCII
    path.write_bytes(("employee;revenue;deals\n" + rows + "иванов;1 000,5;2\n").encode("cp1251"))
    reader = read_facts(path, SPECS)
    read, errors = read_all(reader)
    assert reader.encoding == "cp1251" and errors == []
    assert (read[-1].row, read[-1].employee) == (10_002, "иванов")


def test_bytes_invalid_in_both_encodings_after_ascii_blocks_are_located(tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    head = b"employee;revenue;deals\n" + b"ivanov;1;1\n" * 10_000
    path.write_bytes(head + b"petrov;\x98;1\n")
    with pytest.raises(FactsFileError) as caught:
        read_facts(path, SPECS).__iter__().__next__()
    d = caught.value.diagnostic
    assert (d.code, d.line) == ("KPI507", 10_002)
    assert f"byte 0x98 at offset {len(head) + 7} is invalid" in d.message


def test_invalid_utf8_late_in_a_utf8_file_stops_with_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    path.write_bytes("employee;name;revenue;deals\nivanov;Иван;1;1\n".encode() +
                     b"petrov;x;1;1\n" * 10_000 + b"sidorov;\xff;1;1\n")
    rows: list[object] = []
    with pytest.raises(FactsFileError) as caught:
        rows.extend(read_facts(path, SPECS))
    assert len(rows) > 1000  # the good rows before the bad block were yielded
    assert (caught.value.diagnostic.message, caught.value.diagnostic.line) == (
        "the file is not valid UTF-8 on line 10003 (byte offset 130056): invalid start byte",
        10_003)


def test_a_cell_longer_than_the_csv_field_limit_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    path.write_text("employee;revenue;deals;comment\nivanov;1;1;" + "x" * 200_000 + "\n")
    with pytest.raises(FactsFileError, match=r"line 2: field larger than field limit"):
        list(read_facts(path, SPECS))


def test_trailing_delimiters_as_1c_writes_them() -> None:
    rows, errors = read_all(read_facts_text("employee;revenue;deals;\nivanov;1;2;\n", SPECS))
    assert errors == [] and rows[0].values["deals"] == Decimal("2")


def test_utf16_tab_separated_excel_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "facts.txt"
    path.write_text("employee\trevenue\tdeals\r\nivanov\t3 300,5\t2\r\n", encoding="utf-16")
    rows, errors = read_all(read_facts(path, SPECS))
    assert errors == [] and rows[0].values["revenue"] == Decimal("3300.5")


def test_tab_separated_text_with_decimal_commas() -> None:
    rows, errors = read_all(read_facts_text("employee\trevenue\tdeals\nivanov\t1,5\t2\n", SPECS))
    assert errors == [] and rows[0].values["revenue"] == Decimal("1.5")


def test_pipe_separated_and_quoted_delimiters_in_header_are_not_counted() -> None:
    text = 'employee|"revenue, rub"|deals\nivanov|1,5|2\n'
    reader = read_facts_text(text, SPECS, mapping={"revenue, rub": "revenue"})
    rows, errors = read_all(reader)
    assert reader.delimiter == "|" and errors == []
    assert rows[0].values["revenue"] == Decimal("1.5")


def test_a_bad_cell_names_file_row_and_column_with_a_hint() -> None:
    text = "employee;revenue;deals\nivanov;3 3OO 000;1\n"
    _, errors = read_all(read_facts_text(text, SPECS, name="july.csv"))
    (error,) = errors
    assert (error.file, error.row, error.column, error.text) == ("july.csv", 2, "revenue",
                                                                 "3 3OO 000")
    d = error.diagnostic
    assert (d.code, d.severity, d.file, d.line, d.column) == ("KPI501", Severity.ERROR,
                                                              "july.csv", 2, 2)
    assert d.message == "row 2, column 'revenue': '3 3OO 000' is not a number"
    assert d.hint == "expected a sum like 3 300 000 or 3300000,50"
    assert d.source_line == "3 3OO 000"


def test_several_bad_cells_make_one_row_error_with_a_diagnostic_each() -> None:
    text = "employee;revenue;deals\nivanov;;-2\n"
    _, errors = read_all(read_facts_text(text, SPECS))
    (error,) = errors
    assert error.employee == "ivanov"
    assert [d.message for d in error.diagnostics] == [
        "row 2, column 'revenue': missing required fact 'revenue'",
        "row 2, column 'deals': '-2' is negative; a count cannot be negative",
    ]
    assert [d.code for d in error.diagnostics] == ["KPI502", "KPI503"]


def test_missing_employee_id_is_a_row_error() -> None:
    _, errors = read_all(read_facts_text("employee;revenue;deals\n ;1;1\n", SPECS))
    assert errors[0].diagnostic.message == "row 2, column 'employee': missing employee id"
    assert errors[0].diagnostic.code == "KPI502"


def test_duplicate_employee_message() -> None:
    _, errors = read_all(read_facts(FIXTURES / "dup_employee.csv", SPECS))
    assert errors[0].diagnostic.message == (
        "row 4, column 'employee': employee 'ivanov' already appears on row 2")


def test_blank_lines_are_skipped_but_counted_in_row_numbers() -> None:
    text = "\nemployee;revenue;deals\n\nivanov;1;1\n;;\n   \npetrov;2;2\n"
    rows, errors = read_all(read_facts_text(text, SPECS))
    assert errors == [] and [(r.row, r.employee) for r in rows] == [(4, "ivanov"), (7, "petrov")]


def test_mapping_and_case_insensitive_headers() -> None:
    text = " Сотрудник ;Выручка;СДЕЛКИ;Grade;TEAM;ФИО\nivanov;1 000;2;senior;north;Иванов\n"
    reader = read_facts_text(text, SPECS, mapping={"Сотрудник": "employee",
                                                    "выручка": "revenue", "Сделки": "deals",
                                                    "ФИО": "name"})
    rows, errors = read_all(reader)
    assert errors == [] and reader.warnings == []
    assert reader.columns == ["Сотрудник", "Выручка", "СДЕЛКИ", "Grade", "TEAM", "ФИО"]
    row = rows[0]
    assert (row.employee, row.grade, row.team, row.extra) == ("ivanov", "senior", "north",
                                                              {"name": "Иванов"})
    assert row.values == {"revenue": Decimal("1000"), "deals": Decimal("2"),
                          "conversion": Decimal("0")}


def test_a_custom_id_column() -> None:
    rows, _ = read_all(read_facts_text("login;revenue;deals\nivanov;1;1\n", SPECS,
                                       id_column="login"))
    assert rows[0].employee == "ivanov"


def test_two_columns_for_one_fact_is_a_file_error() -> None:
    reader = read_facts_text("employee;Выручка;revenue;deals\n", SPECS,
                             mapping={"Выручка": "revenue"})
    with pytest.raises(FactsFileError) as caught:
        list(reader)
    assert caught.value.diagnostic.message == (
        "columns 'Выручка' and 'revenue' both give fact 'revenue'")


def test_unknown_columns_warn_once_each() -> None:
    text = "employee;revenue;deals;revenu_bonus;comment\nivanov;1;1;x;y\npetrov;2;2;x;y\n"
    reader = read_facts_text(text, SPECS)
    rows, _ = read_all(reader)
    assert [(w.code, w.severity, w.line, w.column, w.message) for w in reader.warnings] == [
        ("KPI505", Severity.WARNING, 1, 4,
         "unknown column 'revenu_bonus': not a fact of this scheme, kept as text"),
        ("KPI505", Severity.WARNING, 1, 5,
         "unknown column 'comment': not a fact of this scheme, kept as text"),
    ]
    assert rows[1].extra == {"revenu_bonus": "x", "comment": "y"}


def test_missing_id_column_names_the_columns_and_suggests() -> None:
    with pytest.raises(FactsFileError) as caught:
        list(read_facts_text("emploee;revenue;deals\nivanov;1;1\n", SPECS))
    d = caught.value.diagnostic
    assert (d.code, d.line) == ("KPI507", 1)
    assert d.message == ("no 'employee' column in the header; columns found: 'emploee', "
                         "'revenue', 'deals'")
    assert d.hint == "did you mean 'emploee'?"


def test_missing_required_fact_column_is_a_file_error() -> None:
    with pytest.raises(FactsFileError) as caught:
        list(read_facts_text("employee;revenues\nivanov;1\n", SPECS))
    d = caught.value.diagnostic
    assert d.code == "KPI502"
    assert d.message == ("no column for required fact(s) 'revenue', 'deals'; columns found: "
                         "'employee', 'revenues'")
    assert d.hint == "did you mean 'revenues'?"


def test_missing_file_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(FactsFileError) as caught:
        read_facts(tmp_path / "nope.csv", SPECS)
    d = caught.value.diagnostic
    assert (d.code, d.file) == ("KPI507", str(tmp_path / "nope.csv"))
    assert d.message == "cannot read the facts file: No such file or directory"


def test_unknown_extension_fails_at_once(tmp_path: Path) -> None:
    path = tmp_path / "facts.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FactsFileError, match=r"unknown facts format '.xls'"):
        read_facts(path, SPECS)
    assert read_facts(path, SPECS, format="csv").format == "csv"


def test_a_reader_can_be_iterated_again() -> None:
    reader = read_facts(FIXTURES / "dup_employee.csv", SPECS)
    first = list(reader)
    assert list(reader) == first
    assert reader.summary.rows_read == 3


def test_streaming_yields_the_first_row_before_reading_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    body = "".join(f"e{i};{i} 000,50;{i % 50}\n" for i in range(200_000))
    path.write_text("employee;revenue;deals\n" + body, encoding="utf-8")
    size = path.stat().st_size
    del body
    started = time.process_time()  # CPU: a busy machine stretches wall time, not this
    tracemalloc.start()
    try:
        rows = iter(read_facts(path, SPECS))
        first = next(rows)
        for _ in range(999):
            next(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(first, FactRow) and first.values["revenue"] == Decimal("0.50")
    assert size > 4_000_000 and peak < size / 4
    assert time.process_time() - started < 2


# ---------------------------------------------------------------------------- hostile corpus


@dataclass
class Expect:
    ok: list[str] = field(default_factory=list)  # employees of the good rows, in order
    errors: list[tuple[str, int, int]] = field(default_factory=list)  # (code, row, column)
    warnings: list[tuple[str, int, int]] = field(default_factory=list)
    file_error: tuple[str, int] | None = None  # (code, line)


CORPUS = {
    "plain.csv": Expect(ok=["ivanov", "petrov", "sidorova"]),
    "cp1251_semicolon.csv": Expect(ok=["ivanov", "petrov", "sidorova"]),
    "bom.csv": Expect(ok=["ivanov", "petrov"]),
    "empty.csv": Expect(file_error=("KPI507", 0)),
    "header_only.csv": Expect(warnings=[("KPI508", 0, 0)]),
    "ragged.csv": Expect(ok=["ivanov", "kuznetsov"],
                         errors=[("KPI506", 3, 3), ("KPI506", 4, 4)]),
    "quotes.csv": Expect(ok=["ivanov", "petrov", "sidorov", "kuznetsov"]),
    "dup_columns.csv": Expect(file_error=("KPI507", 1)),
    "dup_employee.csv": Expect(ok=["ivanov", "petrov"], errors=[("KPI504", 4, 1)]),
    "nan_inf.csv": Expect(ok=["smirnov"], errors=[("KPI501", 2, 2), ("KPI501", 3, 2),
                                                   ("KPI501", 4, 2), ("KPI501", 5, 3)]),
    "formulas.csv": Expect(ok=["sidorov"], errors=[("KPI501", 2, 2), ("KPI501", 3, 2)]),
    "dates.csv": Expect(ok=["sidorov"], errors=[("KPI501", 2, 2), ("KPI501", 3, 3)]),
    "negative.csv": Expect(ok=["ivanov", "kuznetsov"],
                           errors=[("KPI503", 3, 3), ("KPI503", 4, 3), ("KPI503", 4, 4)]),
    "invalid_utf8.csv": Expect(file_error=("KPI507", 3)),
    "mixed_delimiters.csv": Expect(ok=["ivanov", "sidorov"], errors=[("KPI506", 3, 2)]),
    "long_line.csv": Expect(ok=["ivanov", "petrov"], warnings=[("KPI505", 1, 4)]),
}


def test_the_corpus_is_complete() -> None:
    assert sorted(CORPUS) == sorted(p.name for p in FIXTURES.glob("*.csv"))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_corpus(name: str) -> None:
    expect = CORPUS[name]
    reader = read_facts(FIXTURES / name, SPECS)
    if expect.file_error:
        with pytest.raises(FactsFileError) as caught:
            read_all(reader)
        d = caught.value.diagnostic
        assert (d.code, d.line, d.file) == (*expect.file_error, str(FIXTURES / name))
        assert reader.summary.rows_read == reader.summary.rows_ok + reader.summary.rows_failed
        return
    rows, errors = read_all(reader)
    assert [r.employee for r in rows] == expect.ok
    assert cell_diags(errors) == expect.errors
    assert [(w.code, w.line, w.column) for w in reader.warnings] == expect.warnings
    assert all(d.file == str(FIXTURES / name) for e in errors for d in e.diagnostics)


def test_corpus_messages() -> None:
    def messages(name: str) -> list[str]:
        _, errors = read_all(read_facts(FIXTURES / name, SPECS))
        return [d.message for e in errors for d in e.diagnostics]

    assert messages("ragged.csv") == ["row 3 has 2 cells, but the header has 3 columns",
                                      "row 4 has 4 cells, but the header has 3 columns"]
    assert messages("mixed_delimiters.csv") == ["row 3 has 1 cell, but the header has 3 columns"]
    assert messages("formulas.csv")[1] == (
        "row 3, column 'revenue': '=B2*2' looks like an Excel formula; export values, "
        "not formulas")
    assert messages("dates.csv") == [
        "row 2, column 'revenue': '2025-07-01' looks like a date, not a number",
        "row 3, column 'deals': '01.07.2025' looks like a date, not a number"]
    with pytest.raises(FactsFileError) as caught:
        list(read_facts(FIXTURES / "dup_columns.csv", SPECS))
    assert caught.value.diagnostic.message == (
        "duplicate column names in the header: 'revenue' (columns 2, 4)")
    with pytest.raises(FactsFileError) as caught:
        list(read_facts(FIXTURES / "invalid_utf8.csv", SPECS))
    assert caught.value.diagnostic.message == (
        "cannot decode the file: byte 0x98 at offset 43 is invalid in both UTF-8 and "
        "Windows-1251 (cp1251)")


def test_quoted_fields_keep_delimiters_quotes_and_newlines() -> None:
    rows, _ = read_all(read_facts(FIXTURES / "quotes.csv", SPECS))
    assert [(r.row, r.extra["name"]) for r in rows] == [
        (2, "Иванов, Иван"), (3, 'Петров "Лучший" Пётр'), (4, "Multi\nline name"),
        (6, "O'Brien")]  # physical lines: the name above spans two
    assert rows[1].values["revenue"] == Decimal("1234567.50")


def test_long_line_is_read_whole() -> None:
    rows, _ = read_all(read_facts(FIXTURES / "long_line.csv", SPECS))
    assert rows[0].extra["comment"] == "x" * 100_000


# ---------------------------------------------------------------------------- JSON, JSONL


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text("""[
      {"employee": "ivanov", "revenue": 3300000.50, "deals": 12, "conversion": "2,1%"},
      {"employee": "petrov", "revenue": "142 500,50", "deals": true},
      {"employee": "sidorov", "revenue": NaN, "deals": 1},
      42,
      {"revenue": 0.1, "deals": 1},
      {"employee": 1042, "revenue": 0.1, "deals": 3, "note": {"a": "b"}}
    ]""", encoding="utf-8")
    reader = read_facts(path, SPECS)
    rows, errors = read_all(reader)
    assert [(r.row, r.employee, r.values) for r in rows] == [
        (1, "ivanov", {"revenue": Decimal("3300000.50"), "deals": Decimal("12"),
                       "conversion": Decimal("0.021")}),
        (6, "1042", {"revenue": Decimal("0.1"), "deals": Decimal("3"),
                     "conversion": Decimal("0")}),
    ]
    assert rows[1].extra == {"note": '{"a": "b"}'}
    assert [(d.code, d.line, d.message) for e in errors for d in e.diagnostics] == [
        ("KPI501", 2, "row 2, column 'deals': 'true' is a yes/no value, not a number"),
        ("KPI501", 3, "row 3, column 'revenue': 'NaN' is not a finite number"),
        ("KPI506", 4, "row 4: expected an object of fact values, got 42"),
        ("KPI502", 5, "row 5, column 'employee': missing employee id"),
    ]
    assert [w.message for w in reader.warnings] == [
        "unknown column 'note': not a fact of this scheme, kept as text"]


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("", "KPI507", "the facts file is empty"),
        ("{", "KPI507", "not valid JSON: Expecting property name enclosed in double quotes at "
                        "line 1, column 2"),
        ('{"employee": "ivanov"}', "KPI507", "a JSON facts file must be an array of objects, "
                                            "one per employee"),
        ('[{"login": "ivanov"}]', "KPI507", "no 'employee' column in the header; columns "
                                           "found: 'login'"),
    ],
)
def test_json_file_errors(tmp_path: Path, text: str, code: str, message: str) -> None:
    path = tmp_path / "facts.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsFileError) as caught:
        list(read_facts(path, SPECS))
    assert (caught.value.diagnostic.code, caught.value.diagnostic.message) == (code, message)


def test_json_empty_array_and_jsonl(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    reader = read_facts(empty, SPECS)
    assert list(reader) == []
    assert [(w.code, w.message) for w in reader.warnings] == [
        ("KPI508", "the facts file has no rows")]

    path = tmp_path / "facts.jsonl"
    lines = [
        {"employee": "ivanov", "revenue": "1 000,5", "deals": 2},
        None,  # a blank line
        {"employee": "petrov", "revenue": 1e2, "deals": 1},
    ]
    text = "\n".join("" if x is None else json.dumps(x) for x in lines)
    path.write_text("\ufeff" + text + '\nnot json\n["ivanov"]\n', encoding="utf-8")
    rows, errors = read_all(read_facts(path, SPECS))
    assert [(r.row, r.employee, r.values["revenue"]) for r in rows] == [
        (1, "ivanov", Decimal("1000.5")), (3, "petrov", Decimal("100.0"))]
    assert [(d.code, d.line, d.message) for e in errors for d in e.diagnostics] == [
        ("KPI506", 4, "row 4: not valid JSON: Expecting value at column 1"),
        ("KPI506", 5, 'row 5: expected an object of fact values, got ["ivanov"]'),
    ]


def test_absurdly_nested_json_is_a_bad_row_or_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text('{"employee": "a", "revenue": 1, "deals": 1}\n' + "[" * 100_000 + "\n")
    _, errors = read_all(read_facts(path, SPECS))
    assert errors[0].diagnostic.message == "row 2: not valid JSON: nested too deeply at column 1"
    whole = tmp_path / "facts.json"
    whole.write_text("[" * 100_000)
    with pytest.raises(FactsFileError, match="not valid JSON: nested too deeply"):
        list(read_facts(whole, SPECS))


# ---------------------------------------------------------------------------- XLSX


def make_workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["not the facts"])
    sheet = book.create_sheet("Facts")
    sheet.append(["employee", "name", "revenue", "deals", "conversion"])
    sheet.append(["ivanov", "Иван", 3300000.5, 12, 0.021])
    sheet.append([])
    sheet.append([1042, None, "142 500,50", 3.0, "2,1%"])
    sheet.append(["petrov", None, "=SUM(C2:C4)", True, None])
    sheet.append(["sidorov", None, dt.datetime(2025, 7, 1), 1, None, "stray"])
    sheet.append(["kuznetsov", None, 3300000.0, 2, None, None])
    book.save(path)


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "facts.xlsx"
    make_workbook(path)
    reader = read_facts(path, SPECS, sheet="Facts")
    rows, errors = read_all(reader)
    assert [(r.row, r.employee, r.values, r.extra) for r in rows] == [
        (2, "ivanov", {"revenue": Decimal("3300000.5"), "deals": Decimal("12"),
                       "conversion": Decimal("0.021")}, {"name": "Иван"}),
        (4, "1042", {"revenue": Decimal("142500.50"), "deals": Decimal("3.0"),
                     "conversion": Decimal("0.021")}, {}),
        (7, "kuznetsov", {"revenue": Decimal("3300000.0"), "deals": Decimal("2"),
                          "conversion": Decimal("0")}, {}),
    ]
    assert [(d.code, d.line, d.column, d.message) for e in errors for d in e.diagnostics] == [
        ("KPI501", 5, 3, "row 5, column 'revenue': cell C5 has a formula but no saved value; "
                         "open the workbook in Excel and save it again"),
        ("KPI501", 5, 4, "row 5, column 'deals': 'true' is a yes/no value, not a number"),
        ("KPI506", 6, 6, "row 6 has 6 cells, but the header has 5 columns"),
    ]


def test_xlsx_unknown_sheet(tmp_path: Path) -> None:
    path = tmp_path / "facts.xlsx"
    make_workbook(path)
    with pytest.raises(FactsFileError) as caught:
        list(read_facts(path, SPECS, sheet="Fakts"))
    d = caught.value.diagnostic
    assert d.message == "no sheet 'Fakts' in the workbook; sheets: 'Notes', 'Facts'"
    assert d.hint == "did you mean 'Facts'?"


def test_xlsx_header_only_and_empty_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["employee", "revenue", "deals"])
    book.create_sheet("Empty")
    path = tmp_path / "facts.xlsx"
    book.save(path)
    reader = read_facts(path, SPECS)
    assert list(reader) == []
    assert [w.code for w in reader.warnings] == ["KPI508"]
    with pytest.raises(FactsFileError, match="the facts file is empty"):
        list(read_facts(path, SPECS, sheet="Empty"))


def test_xlsx_dates_and_damaged_workbooks(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["employee", "revenue", "deals"])
    book.active.append(["ivanov", dt.datetime(2025, 7, 1), 1])
    path = tmp_path / "dates.xlsx"
    book.save(path)
    _, errors = read_all(read_facts(path, SPECS))
    assert errors[0].diagnostic.message == (
        "row 2, column 'revenue': '2025-07-01T00:00:00' looks like a date, not a number")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(FactsFileError, match="cannot read the workbook"):
        list(read_facts(broken, SPECS))
