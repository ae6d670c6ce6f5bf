"""Facts that could mean two things are refused with both readings, never guessed (KPI52x),
and the limits that keep every accepted number printable (issue: no silent wrong money)."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.facts import (
    FactRow,
    FactsFileError,
    FactSpec,
    FactsReader,
    RowError,
    look_alike_key,
    normalise_id,
    read_facts,
    read_facts_text,
)
from kpidsl.units import Unit

SPECS = {
    "revenue": FactSpec("revenue", Unit.MONEY, currency="RUB"),
    "deals": FactSpec("deals", Unit.COUNT, required=False),
    "conversion": FactSpec("conversion", Unit.PERCENT, required=False),
}
ROOT = Path(__file__).parent.parent


def read(reader: FactsReader) -> tuple[list[FactRow], list[RowError]]:
    rows: list[FactRow] = []
    errors: list[RowError] = []
    for item in reader:
        (rows if isinstance(item, FactRow) else errors).append(item)  # type: ignore[arg-type]
    assert reader.summary.rows_read == len(rows) + len(errors)
    return rows, errors


def messages(errors: list[RowError]) -> list[str]:
    return [d.message for e in errors for d in e.diagnostics]


def text(csv: str, **options: object) -> tuple[list[FactRow], list[RowError]]:
    return read(read_facts_text(csv, SPECS, "f.csv", **options))  # type: ignore[arg-type]


# ---------------------------------------------------------------- percent columns


def test_a_percent_header_means_percentage_points() -> None:
    rows, errors = text("employee;revenue;Конверсия, %\nivanov;1;2,1\npetrov;1;0,8\n",
                        mapping={"Конверсия, %": "conversion"})
    assert errors == []
    assert [r.values["conversion"] for r in rows] == [Decimal("0.021"), Decimal("0.008")]


def test_a_bare_number_above_1_in_an_undeclared_percent_column_is_refused() -> None:
    rows, errors = text("employee;revenue;conversion\nivanov;1;2,1\n")
    assert rows == []
    [d] = errors[0].diagnostics
    assert (d.code, d.message, d.line) == (
        "KPI521", "row 2, column 'conversion': '2,1' could be 2.1 % (percentage points) or "
        "210 % (a fraction), and the column does not say which", 2)
    assert "--percent points" in d.hint and "fact NAME percent points" in d.hint


def test_fractions_beside_a_number_above_1_are_refused_too() -> None:
    rows, errors = text("employee;revenue;conversion\na;1;0,5\nb;1;0\nc;1;2,1\nd;1;3%\n")
    assert [(r.employee, r.values["conversion"]) for r in rows] == [
        ("b", Decimal(0)), ("d", Decimal("0.03"))]
    assert messages(errors) == [
        "row 2, column 'conversion': '0,5' could be 50 % (a fraction) or 0.5 % (percentage "
        "points): the column also holds '2,1' on row 4, which can only be points",
        "row 4, column 'conversion': '2,1' could be 2.1 % (percentage points) or 210 % (a "
        "fraction), and the column does not say which"]


def test_fractions_alone_stay_fractions() -> None:
    rows, errors = text("employee;revenue;conversion\na;1;0,021\nb;1;1\n")
    assert errors == [] and [r.values["conversion"] for r in rows] == [Decimal("0.021"), 1]


@pytest.mark.parametrize(("reading", "expected"), [("points", ["0.021", "0.005"]),
                                                   ("fraction", ["2.1", "0.5"])])
def test_percent_is_declared_on_the_command_line(reading: str, expected: list[str]) -> None:
    rows, errors = text("employee;revenue;conversion\na;1;2,1\nb;1;0,5\n", percent=reading)
    assert errors == [] and [r.values["conversion"] for r in rows] == list(map(Decimal, expected))


def test_percent_is_declared_by_the_scheme() -> None:
    specs = {**SPECS, "conversion": FactSpec("conversion", Unit.PERCENT, percent="points")}
    rows, _ = read(read_facts_text("employee;revenue;conversion\na;1;2,1\n", specs))
    assert rows[0].values["conversion"] == Decimal("0.021")


def test_json_numbers_in_a_percent_column_follow_the_same_rule(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"employee": "a", "revenue": 1, "conversion": 0.5}\n'
                    '{"employee": "b", "revenue": 1, "conversion": 2.1}\n')
    rows, errors = read(read_facts(path, SPECS))
    assert rows == [] and [d.code for e in errors for d in e.diagnostics] == ["KPI521"] * 2
    rows, errors = read(read_facts(path, SPECS, percent="points"))
    assert [r.values["conversion"] for r in rows] == [Decimal("0.005"), Decimal("0.021")]


# ---------------------------------------------------------------- thousands and locales


def test_a_lone_comma_beside_english_grouping_is_refused_with_both_readings() -> None:
    rows, errors = text('employee,revenue,deals\na,"3,300,000",1\nb,"142,500",2\n')
    assert [r.values["revenue"] for r in rows] == [Decimal(3_300_000)]
    [d] = errors[0].diagnostics
    assert (d.code, d.message) == (
        "KPI520", "row 3, column 'revenue': '142,500' could be 142 500 (thousands) or 142.5 "
        "(a decimal): the file also groups thousands with ',' ('3,300,000' on row 2)")
    assert "--locale en" in d.hint


def test_the_locale_declared_settles_it() -> None:
    csv = 'employee,revenue,deals\na,"3,300,000",1\nb,"142,500","1,000"\n'
    rows, errors = text(csv, locale="en")
    assert errors == [] and [(r.values["revenue"], r.values["deals"]) for r in rows] == [
        (3_300_000, 1), (142_500, 1000)]
    rows, errors = text(csv, locale="ru")
    assert errors == [] and rows[1].values["revenue"] == Decimal("142.500")
    assert rows[1].values["deals"] == 1


def test_the_locale_is_detected_when_the_file_shows_it() -> None:
    reader = read_facts_text('employee,revenue\na,"142,500"\nb,"1,000.25"\n', SPECS)
    rows, errors = read(reader)
    assert errors == [] and [r.values["revenue"] for r in rows] == [142_500, Decimal("1000.25")]
    assert reader.detected_locale == "en"
    reader = read_facts_text("employee;revenue\na;142,500\nb;3 300 000,50\n", SPECS)
    rows, errors = read(reader)
    assert errors == [] and rows[0].values["revenue"] == Decimal("142.500")
    assert reader.detected_locale == "ru"


def test_a_count_written_with_a_lone_comma_is_ambiguous() -> None:
    _, errors = text('employee,revenue,deals\na,1,"1,000"\n')
    assert messages(errors) == [
        "row 2, column 'deals': '1,000' could be 1 000 (thousands) or 1 (a decimal): a count "
        "written so is either"]


def test_a_file_without_english_evidence_keeps_the_russian_reading() -> None:
    rows, errors = text("employee;revenue\na;142,500\n")
    assert errors == [] and rows[0].values["revenue"] == Decimal("142.500")


# ---------------------------------------------------------------- currency


def test_a_foreign_currency_is_refused() -> None:
    rows, errors = text('employee,revenue\na,"$3,300,000"\nb,3 300 000 ₽\nc,100 EUR\n')
    assert [r.employee for r in rows] == ["b"]
    assert messages(errors) == [
        "row 2, column 'revenue': '$3,300,000' is in USD ($), but the scheme pays in RUB",
        "row 4, column 'revenue': '100 EUR' is in EUR (EUR), but the scheme pays in RUB"]
    assert errors[0].diagnostic.code == "KPI522"


def test_the_bundled_scheme_passes_its_currency_to_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("employee,revenue,avg_check,conversion,calls\n"
                    'ivanov,"$3,300,000",142500,2.1%,950\n')
    result = subprocess.run([sys.executable, "-m", "kpidsl", "eval",
                             "rulesets/b2b_manager.kpi", str(path)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "KPI522: row 2, column 'revenue': '$3,300,000' is in USD ($), but the scheme pays " \
        "in RUB" in result.stderr


# ---------------------------------------------------------------- totals rows


@pytest.mark.parametrize("word", ["Итого", "ВСЕГО", "Общий итог", "total", "Grand Total:"])
def test_a_totals_row_is_skipped_with_a_warning(word: str) -> None:
    reader = read_facts_text(f"employee;revenue\na;100\nb;200\n{word};300\n", SPECS)
    rows, errors = read(reader)
    assert [r.employee for r in rows] == ["a", "b"] and errors == []
    [w] = reader.warnings
    assert (w.code, w.message) == (
        "KPI523", f"row 4: '{word}' is a totals row, not an employee; skipped")


def test_an_unnamed_row_of_column_sums_is_a_totals_row() -> None:
    reader = read_facts_text("employee;name;revenue;deals\na;A;100;1\nb;B;200,5;2\n;;300,50;3\n",
                             SPECS)
    rows, errors = read(reader)
    assert len(rows) == 2 and errors == []
    assert [w.message for w in reader.warnings] == [
        "row 4: a row without an employee whose numbers are the column sums is a totals row, "
        "not an employee; skipped"]
    reader = read_facts_text("employee;revenue;deals\na;100;1\n;;5\n", SPECS)
    assert messages(read(reader)[1]) == ["row 3, column 'employee': missing employee id",
                                         "row 3, column 'revenue': missing required fact "
                                         "'revenue'"]


def test_keep_totals_reads_it_as_a_row() -> None:
    rows, _ = text("employee;name;revenue\na;A;100\nИтого;;100\n", keep_totals=True)
    assert [r.employee for r in rows] == ["a", "Итого"]


# ---------------------------------------------------------------- an unclosed quote


def test_an_unclosed_quote_is_reported_and_the_lines_after_it_are_read() -> None:
    body = "".join(f"e{i},Name {i},{i}\n" for i in range(3, 92))
    reader = read_facts_text('employee,name,revenue\ne1,Name,1\ne2,"Unclosed,2\n' + body, SPECS)
    rows, errors = read(reader)
    assert len(rows) == 90 and reader.summary.rows_read == 91
    [d] = errors[0].diagnostics
    assert (d.code, d.line, d.message) == (
        "KPI524", 3, "row 3: a quoted cell in column 'name' opens on line 3 and is never "
        "closed: it runs to the end of the file (line 92); the 89 lines after it are read as "
        "rows of their own")
    assert rows[-1].row == 92 and rows[-1].employee == "e91"


def test_a_closed_multiline_cell_at_the_end_is_not_reported() -> None:
    rows, errors = text('employee,name,revenue\ne1,"two\nlines",1')
    assert errors == [] and rows[0].extra["name"] == "two\nlines"


# ---------------------------------------------------------------- JSON keys


def test_a_duplicate_json_key_fails_its_row(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text('[{"employee": "a", "revenue": 1, "revenue": 2},'
                    ' {"employee": "b", "revenue": 3}]')
    rows, errors = read(read_facts(path, SPECS))
    assert [r.employee for r in rows] == ["b"]
    assert messages(errors) == ["row 1: key 'revenue' appears twice in one object (1 and 2)"]
    assert errors[0].diagnostic.code == "KPI525"


def test_a_case_variant_key_fails_only_its_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"employee": "a", "Revenue": 1, "revenue": 2}\n'
                    '{"employee": "b", "Revenue": 3}\n{"employee": "c", "revenue": 4}\n')
    rows, errors = read(read_facts(path, SPECS))
    assert [(r.employee, r.values["revenue"]) for r in rows] == [("b", 3), ("c", 4)]
    assert messages(errors) == ["row 1: keys 'Revenue' and 'revenue' both give fact 'revenue'"]


# ---------------------------------------------------------------- look-alike ids


LOOK_ALIKES = [
    ("ivanov", "iv\u0430nov", "'а' (U+0430 CYRILLIC SMALL LETTER A) where the other has 'a' "
     "(U+0061 LATIN SMALL LETTER A)"),
    ("ivanov", "Ivanov", "'I' (U+0049 LATIN CAPITAL LETTER I) where the other has 'i' (U+0069 "
     "LATIN SMALL LETTER I)"),
    ("e42", "e\uff14\uff12", "'４' (U+FF14 FULLWIDTH DIGIT FOUR) where the other has '4' "
     "(U+0034 DIGIT FOUR)"),
]


@pytest.mark.parametrize(("first", "second", "why"), LOOK_ALIKES)
def test_look_alike_ids_are_one_employee(first: str, second: str, why: str) -> None:
    rows, errors = text(f"employee;revenue\n{first};1\n{second};2\n")
    assert [r.employee for r in rows] == [first]
    assert messages(errors) == [
        f"row 3, column 'employee': employee '{second}' already appears on row 2 as "
        f"'{first}': the two ids differ only by look-alike characters ({why})"]


def test_nfd_and_zero_width_ids_are_normalised() -> None:
    nfc = "Пётр"
    nfd = unicodedata.normalize("NFD", nfc)
    rows, errors = text(f"employee;revenue\n{nfd};1\nivan\u200bov;2\n{nfc};3\n")
    assert [r.employee for r in rows] == [nfc, "ivanov"]
    assert messages(errors) == [f"row 4, column 'employee': employee '{nfc}' already appears "
                                "on row 2"]


@settings(database=None, max_examples=200)
@given(st.text(alphabet="abcehiknopxyz0123456789", min_size=1, max_size=12),
       st.lists(st.sampled_from(["cyrillic", "upper", "wide", "zero", "nfd"]), max_size=4))
def test_every_look_alike_spelling_has_one_key(employee: str, changes: list[str]) -> None:
    homoglyphs = str.maketrans("aceopxy", "асеорху")
    spelt = employee
    for change in changes:
        spelt = {"cyrillic": lambda s: s.translate(homoglyphs),
                 "upper": str.upper,
                 "wide": lambda s: "".join(chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii()
                                           else c for c in s),
                 "zero": lambda s: s[:1] + "\u200b" + s[1:],
                 "nfd": lambda s: unicodedata.normalize("NFD", s)}[change](spelt)
    assert look_alike_key(normalise_id(spelt)) == look_alike_key(employee)


def test_distinct_ids_keep_distinct_keys() -> None:
    assert len({look_alike_key(e) for e in ["ivanov", "ivanova", "иванов", "e1", "e01"]}) == 5


# ---------------------------------------------------------------- hostile numbers


def test_json_exponents_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"employee": "a", "revenue": 1e999999999}\n'
                    '{"employee": "b", "revenue": 1e-999999999}\n'
                    '{"employee": "c", "revenue": 12345678901234567890123456789012345}\n')
    rows, errors = read(read_facts(path, SPECS))
    assert rows == []
    assert messages(errors) == [
        "row 1, column 'revenue': '1.000000e+999999999' is about 10^999999999; numbers must "
        "stay below 10^20",
        "row 2, column 'revenue': '1.000000e-999999999' has 999999999 decimal places; at most "
        "20 are allowed",
        "row 3, column 'revenue': '1.234568e+34' is about 10^34; numbers must stay below "
        "10^20"]


def test_explain_and_doc_format_numbers_at_the_bounds(tmp_path: Path) -> None:
    big = tmp_path / "big.kpi"
    big.write_text((ROOT / "rulesets/b2b_manager.kpi").read_text(encoding="utf-8").replace(
        "60_000 RUB", "9" * 20 + " RUB"),
        encoding="utf-8")
    scheme = kpidsl.load(big)
    facts = {"revenue": "9" * 20, "avg_check": "1", "conversion": "2%", "calls": "9" * 20}
    from kpidsl.explain import explain

    lines = explain(scheme, scheme.evaluate(facts, employee="e1"), "ru")
    assert any("99 999 999 999 999 999 999" in line for line in lines)
    result = subprocess.run([sys.executable, "-m", "kpidsl", "doc", str(big)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "99,999,999,999,999,999,999" in result.stdout


def test_target_earn_is_bounded() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kpidsl", "target", "rulesets/b2b_manager.kpi",
         "rulesets/b2b_manager.facts.csv", "--employee", "ivanov", "--earn", "9" * 29,
         "--vary", "revenue"], cwd=ROOT, capture_output=True, text=True)
    assert (result.returncode, result.stderr.strip()) == (
        2, "error: --earn: '" + "9" * 29 + "' is about 10^28; numbers must stay below 10^20")


# ---------------------------------------------------------------- pipes, encodings, columns


def test_facts_from_standard_input() -> None:
    csv = (ROOT / "rulesets/b2b_manager.facts.csv").read_text(encoding="utf-8")
    for path in ("-", "/dev/stdin"):
        result = subprocess.run([sys.executable, "-m", "kpidsl", "eval",
                                 "rulesets/b2b_manager.kpi", path, "--format", "json"],
                                cwd=ROOT, input=csv, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert [r["employee"] for r in json.loads(result.stdout)][:1] == ["ivanov"]
        assert result.stderr == "facts: 8 rows read, 8 evaluated, 0 failed\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_a_bom_are_read_and_named(tmp_path: Path,
                                                          encoding: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes("employee;name;revenue\nivanov;Иван;100\n".encode(encoding))
    reader = read_facts(path, SPECS)
    rows, errors = read(reader)
    assert errors == [] and rows[0].extra["name"] == "Иван"
    assert [w.message for w in reader.warnings] == [
        f"the file is {encoding.upper()} without a byte-order mark; read as such"]


def test_nul_bytes_in_no_wide_encoding_are_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"employee;revenue\n\x00\x00\x00\x00\x00\x00\x00\x00ab\x00\x00cd\n")
    with pytest.raises(FactsFileError) as caught:
        list(read_facts(path, SPECS))
    assert caught.value.diagnostic.message == (
        "the file holds NUL bytes and is neither UTF-16 nor UTF-32 text: is it a binary file?")


def test_many_unknown_columns_make_one_warning() -> None:
    header = ";".join(f"c{i}" for i in range(200))
    reader = read_facts_text(f"employee;revenue;{header}\na;1" + ";x" * 200 + "\n", SPECS)
    read(reader)
    assert [(w.code, w.message) for w in reader.warnings] == [(
        "KPI505", "200 unknown columns, not facts of this scheme, kept as text: 'c0', 'c1', "
        "'c2', 'c3', 'c4' and 195 more")]


def test_sheet_for_a_csv_is_refused() -> None:
    with pytest.raises(FactsFileError) as caught:
        read_facts(ROOT / "rulesets/b2b_manager.facts.csv", SPECS, sheet="Лист1")
    assert caught.value.diagnostic.message == (
        "--sheet 'Лист1' names a worksheet, but this is a CSV file, which has none")


def test_the_api_refuses_a_month_that_is_no_month_and_reports_a_float_row() -> None:
    scheme = kpidsl.load(ROOT / "rulesets/b2b_manager.kpi")
    facts = {"revenue": 1, "avg_check": 1, "conversion": "2%", "calls": 1}
    for month in (13, "jan", 0):
        with pytest.raises(kpidsl.KpiError) as caught:
            scheme.evaluate(facts, month=month)  # type: ignore[arg-type]
        assert caught.value.diagnostics[0].message == (
            f"month={month!r} is no month; pass 1 … 12 (January is 1) or None")
    failed: list[tuple[str, str]] = []
    results = list(scheme.evaluate_many(
        [{"employee": "a", **facts, "revenue": 1.5}, {"employee": "b", **facts}],
        on_error=lambda e, _row, ds: failed.append((e, ds[0].message))))
    assert [r.employee for r in results] == ["b"]
    assert failed == [("a", "employee 'a': fact 'revenue' is a float; pass a Decimal, an int "
                            "or text, so no binary rounding touches an amount")]


# ---------------------------------------------------------------- the scheme's word


POINTS_SCHEME = """scheme s
  currency RUB
fact revenue     money
fact conversion  percent points  "Conversion"
kpi conversion plan 2%
pay p "P" = revenue × conversion
"""


def test_the_scheme_says_percent_points(tmp_path: Path) -> None:
    scheme = kpidsl.loads(POINTS_SCHEME)
    assert scheme.fact_specs["conversion"].percent == "points"
    assert scheme.evaluate({"revenue": "1000", "conversion": "2,1"}).total == Decimal("21.00")
    path = tmp_path / "f.csv"
    path.write_text("employee;revenue;conversion\na;1000;2,1\nb;1000;0,5\n")
    results = list(scheme.evaluate_files([path]).results())
    assert [r.total for r in results] == [Decimal("21.00"), Decimal("5.00")]


def test_the_percent_word_is_formatted_and_belongs_to_percent_facts() -> None:
    from kpidsl.formatter import format_source

    assert "fact conversion  percent points  \"Conversion\"" in format_source(POINTS_SCHEME)
    [d] = [d for d in kpidsl.check("scheme s\nfact x money points\npay p = x\n") if d.is_error]
    assert (d.code, d.message, d.hint) == (
        "KPI001", "'points' says how a percent fact is written, but 'x' is money",
        "write: fact x percent points")


def test_the_api_reads_text_in_the_schemes_currency() -> None:
    scheme = kpidsl.loads(POINTS_SCHEME)
    with pytest.raises(kpidsl.KpiError) as caught:
        scheme.evaluate({"revenue": "$1000", "conversion": "2"}, employee="e1")
    assert caught.value.diagnostics[0].message == (
        "employee 'e1': '$1000' is in USD ($), but the scheme pays in RUB")


@settings(database=None, max_examples=500)
@given(st.text(alphabet="0123456789", min_size=1, max_size=32),
       st.one_of(st.none(), st.text(alphabet="0123456789", min_size=1, max_size=32)))
def test_plain_digits_are_bounded_like_any_number(whole: str, decimals: str | None) -> None:
    from kpidsl.numbers import bound_error
    from kpidsl.values import FactValueError, parse_value

    text = whole if decimals is None else f"{whole}.{decimals}"
    why = bound_error(Decimal(text))
    try:
        assert parse_value(text, Unit.NUMBER) == Decimal(text) and why is None
    except FactValueError as exc:
        shown = text if len(text) <= 60 else text[:59] + "…"
        assert str(exc) == f"'{shown}' {why}"
