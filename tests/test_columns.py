"""CRM exports as they are (kpidsl/columns.py, kpidsl/join.py): headers found by the scheme's
labels and `from column`, the employee column found, title rows and two-row headers, mapping
files, several files joined by employee; the same reading in every command and in the API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import kpidsl
from kpidsl.cli import main
from kpidsl.cli.common import FINDINGS, OK, USAGE
from kpidsl.facts import FactRow, FactsFileError, read_facts, read_facts_text
from kpidsl.formatter import format_source
from kpidsl.parser import parse
from kpidsl.source import SourceFile

SCHEME = "rulesets/b2b_manager.kpi"
CRM = Path("tests/fixtures/crm")
AMO_SCHEME = str(CRM / "amocrm.kpi")
AMO_CSV = str(CRM / "amocrm_july.csv")
REPORT = str(CRM / "report_july.xlsx")
CRM_CSV, PHONE = str(CRM / "crm_july.csv"), str(CRM / "phone_july.xlsx")


def run(args: list[str], code: int) -> Result:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def totals(result: Result) -> dict[str, str]:
    return {r["employee"]: r["total"] for r in map(json.loads, result.stdout.splitlines())}


@pytest.fixture(scope="module")
def scheme() -> kpidsl.Ruleset:
    return kpidsl.load(SCHEME)


# ---------------------------------------------------------------- the language


def test_from_column_is_parsed_and_printed_back() -> None:
    text = ('scheme s "S"\n  currency RUB\n\nfact revenue money "Revenue" ru "Выручка" '
            'from column "Бюджет, руб."\nfact deals count "Deals" from column "Сделки, \\"шт\\"" '
            "if missing 0\n\npay bonus = revenue × 1% + deals × 1 RUB\n")
    ruleset, diagnostics = parse(SourceFile("s.kpi", text))
    assert diagnostics == [] and ruleset is not None
    facts = [s for s in ruleset.statements if s.__class__.__name__ == "Fact"]
    assert [(f.name, f.column) for f in facts] == [("revenue", "Бюджет, руб."),
                                                   ("deals", 'Сделки, "шт"')]
    formatted = format_source(text, "s.kpi")
    assert formatted == (
        'scheme s "S"\n  currency RUB\n\n'
        'fact revenue  money  "Revenue"  ru "Выручка"\n'
        '                     from column "Бюджет, руб."\n'
        'fact deals    count  "Deals"\n'
        '                     from column "Сделки, \\"шт\\"" if missing 0\n\n'
        "pay bonus = revenue × 1% + deals × 1 RUB\n")
    assert format_source(formatted, "s.kpi") == formatted  # idempotent
    again, _ = parse(SourceFile("s.kpi", formatted))
    assert again is not None
    assert [s.column for s in again.statements if s.__class__.__name__ == "Fact"] == [
        "Бюджет, руб.", 'Сделки, "шт"']


def test_a_fact_may_still_be_called_column() -> None:
    text = 'scheme s "S"\n  currency RUB\nfact column count\npay bonus = column × 1 RUB\n'
    assert kpidsl.check(text) == []


# ---------------------------------------------------------------- titles and the employee


def test_titles_are_labels_in_any_language_and_the_id_is_found(scheme: kpidsl.Ruleset) -> None:
    text = ("Менеджер;Выручка;average check;Конверсия  звонок → встреча;УСПЕШНЫЕ ЗВОНКИ\n"
            "ivanov;3 300 000;142 500;2,1%;950\n")
    reader = read_facts_text(text, scheme.fact_specs)
    [row] = list(reader)
    assert isinstance(row, FactRow)
    assert row.employee == "ivanov"
    assert row.values == {"revenue": Decimal("3300000"), "avg_check": Decimal("142500"),
                          "conversion": Decimal("0.021"), "calls": Decimal("950")}
    assert reader.warnings == []


def test_two_id_candidates_are_an_error_naming_both(scheme: kpidsl.Ruleset) -> None:
    text = "Менеджер;Ответственный;Выручка;Средний чек;Конверсия;Звонки\nivanov;petrov;1;1;1;1\n"
    with pytest.raises(FactsFileError) as caught:
        list(read_facts_text(text, scheme.fact_specs))
    d = caught.value.diagnostic
    assert d.message == ("no 'employee' column, and several columns could name the employee: "
                         "'Менеджер' (column 1), 'Ответственный' (column 2)")
    assert d.hint == "say which with --id, e.g. --id 'Менеджер'"


def test_hints_speak_the_cli(scheme: kpidsl.Ruleset) -> None:
    with pytest.raises(FactsFileError) as caught:
        list(read_facts_text("Кто;Выручка\nivanov;1\n", scheme.fact_specs))
    assert caught.value.diagnostic.hint == ("name the employee's column with --id COLUMN "
                                            "(API: id_column=...)")
    with pytest.raises(FactsFileError) as caught:
        list(read_facts_text("employee;Выручка;Средний чек;Звонки\nivanov;1;1;1\n",
                             scheme.fact_specs))
    assert caught.value.diagnostic.hint == (
        "map the export's column to it with --map COLUMN=conversion, or write `from column "
        "\"…\"` after the fact in the scheme, or make the fact optional")


def test_map_naming_an_absent_column_or_an_unknown_fact_is_an_error() -> None:
    result = run(["eval", AMO_SCHEME, AMO_CSV, "--map", "Бюджт, руб.=revenue"], USAGE)
    assert ("error KPI507: --map Бюджт, руб.=revenue: there is no column 'Бюджт, руб.' in the "
            "header") in result.stderr
    assert "hint: did you mean 'Бюджет, руб.'?" in result.stderr
    result = run(["eval", AMO_SCHEME, AMO_CSV, "--map", "Бюджет, руб.=revenu"], USAGE)
    assert ("--map Бюджет, руб.=revenu: 'revenu' is not a fact of this scheme; its facts: "
            "revenue, avg_check, conversion, calls") in result.stderr
    assert "hint: did you mean 'revenue'?" in result.stderr


# ---------------------------------------------------------------- where the header is


def test_title_rows_and_a_header_over_two_rows(scheme: kpidsl.Ruleset) -> None:
    text = ("Отчёт по продажам за июль;;;;\n"
            ";;;;\n"
            "Сотрудник;Продажи;;Звонки;\n"
            ";Выручка;Средний чек;Конверсия звонок → встреча;Успешные звонки\n"
            "ivanov;3 300 000;142 500;2,1%;950\n")
    reader = read_facts_text(text, scheme.fact_specs)
    [row] = list(reader)
    assert isinstance(row, FactRow)
    assert (row.row, row.employee, row.values["calls"]) == (5, "ivanov", Decimal("950"))
    assert reader.columns == ["Сотрудник", "Выручка", "Средний чек",
                              "Конверсия звонок → встреча", "Успешные звонки"]


def test_header_row_option(scheme: kpidsl.Ruleset, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("Выручка;отчёт\n\nemployee;revenue;avg_check;conversion;calls\n"
                    "ivanov;3300000;142500;2.1%;950\n", encoding="utf-8")
    # without it, the first row naming a fact ('Выручка') is taken and has no employee column
    result = run(["eval", SCHEME, str(path)], USAGE)
    assert "no 'employee' column in the header" in result.stderr
    result = run(["eval", SCHEME, str(path), "--header-row", "3", "--format", "jsonl"], OK)
    assert totals(result) == {"ivanov": "119800.00"}
    result = run(["eval", SCHEME, str(path), "--header-row", "2"], USAGE)
    assert "--header-row 2: row 2 is blank" in result.stderr
    result = run(["eval", SCHEME, str(path), "--header-row", "9"], USAGE)
    assert "--header-row 9: the file has fewer rows" in result.stderr


# ---------------------------------------------------------------- the exports of issue 13


def test_cp1251_amocrm_export_with_from_column_and_no_flags() -> None:
    assert Path(AMO_CSV).read_bytes().decode("cp1251").count("\u00a0") == 10
    result = run(["eval", AMO_SCHEME, AMO_CSV, "--format", "jsonl"], OK)
    assert totals(result) == {"Иванов": "119800.00", "Петрова": "110000.00",
                              "Сидоров": "100000.00"}
    assert "facts: 3 rows read, 3 evaluated, 0 failed" in result.stderr


def test_a_mapping_file_written_once(tmp_path: Path) -> None:
    toml = tmp_path / "amocrm.toml"
    toml.write_text('# amoCRM deals report\nid = "Ответственный"\n[columns]\n'
                    '"Бюджет, руб." = "revenue"\n"Конверсия в встречу" = "conversion"\n'
                    '"Сделки выиграно" = "deals"   # a fact of another scheme\n',
                    encoding="utf-8")
    csv = ["eval", SCHEME, AMO_CSV, "--mapping", str(toml), "--format", "jsonl"]
    assert totals(run(csv, OK))["Иванов"] == "119800.00"
    toml.write_text('ids = "Ответственный"\n', encoding="utf-8")
    result = run(csv, USAGE)
    assert f"--mapping {toml}: unknown key 'ids'" in result.stderr
    assert "did you mean 'id'?" in result.stderr
    toml.write_text('[columns]\n"Бюджет" = \n', encoding="utf-8")
    assert "not valid TOML" in run(csv, USAGE).stderr


def test_excel_report_as_saved() -> None:
    """A title row, a header merged over two rows, formulas with saved values, a totals row,
    and the facts on the sheet «Июль» while «Сводка» is the active one."""
    result = run(["eval", SCHEME, REPORT, "--format", "jsonl"], OK)
    assert totals(result) == {"Иванов": "119800.00", "Петрова": "110000.00",
                              "Сидоров": "100000.00"}  # «Итого» is nobody's pay
    assert ("warning KPI531: reading sheet 'Июль': the active sheet 'Сводка' has no header "
            "with the scheme's facts") in result.stderr
    assert (f"{REPORT}:8: warning KPI523: row 8: 'Итого' is a totals row, not an employee; "
            "skipped") in result.stderr  # the same rule as a CSV's totals row
    assert result.stderr.endswith("facts: 3 rows read, 3 evaluated, 0 failed\n")
    named = run(["eval", SCHEME, REPORT, "--sheet", "Июль", "--format", "jsonl"], OK)
    assert totals(named) == totals(result)
    assert "KPI531" not in named.stderr


def test_crm_and_telephony_joined_by_employee() -> None:
    result = run(["eval", SCHEME, CRM_CSV, PHONE, "--format", "jsonl"], FINDINGS)
    assert totals(result) == {"Иванов": "119800.00", "Петрова": "110000.00"}
    assert (f"{CRM_CSV}:4: error KPI502: row 4: employee 'Сидоров' has no value for required "
            f"fact(s) 'conversion', 'calls' in any file ({CRM_CSV}, {PHONE})") in result.stderr
    assert result.stderr.endswith("facts: 3 rows read, 2 evaluated, 1 failed\n")


def test_an_optional_fact_missing_from_one_file_takes_its_default(tmp_path: Path) -> None:
    scheme = tmp_path / "s.kpi"
    scheme.write_text('scheme s "S"\n  currency RUB\nfact revenue money "Revenue" ru "Выручка"\n'
                      'fact calls count "Calls" ru "Звонки" if missing 0\n'
                      "pay bonus = revenue × 1% + calls × 10 RUB\n", encoding="utf-8")
    crm, phone = tmp_path / "crm.csv", tmp_path / "phone.csv"
    crm.write_text("Сотрудник;Выручка\nivanov;1000\npetrov;2000\n", encoding="utf-8")
    phone.write_text("Сотрудник;Звонки\nivanov;5\n", encoding="utf-8")
    result = run(["eval", str(scheme), str(crm), str(phone), "--format", "jsonl"], OK)
    assert totals(result) == {"ivanov": "60.00", "petrov": "20.00"}


def test_look_alike_ids_across_joined_files_fail_both(tmp_path: Path) -> None:
    """`Ivanov` in the CRM and `ivanov` (with a Cyrillic 'а') in telephony: one person or
    two? Both rows fail with KPI504 naming both spellings; nobody is paid on half the facts."""
    scheme = tmp_path / "s.kpi"
    scheme.write_text('scheme s "S"\n  currency RUB\nfact revenue money "Revenue" ru "Выручка"\n'
                      'fact calls count "Calls" ru "Звонки" if missing 0\n'
                      "pay bonus = revenue × 1% + calls × 10 RUB\n", encoding="utf-8")
    crm, phone = tmp_path / "crm.csv", tmp_path / "phone.csv"
    crm.write_text("Сотрудник;Выручка\nIvanov;1000\npetrov;2000\n", encoding="utf-8")
    phone.write_text("Сотрудник;Звонки\niv\u0430nov;5\npetrov;1\n", encoding="utf-8")
    result = run(["eval", str(scheme), str(crm), str(phone), "--format", "jsonl"], FINDINGS)
    assert totals(result) == {"petrov": "30.00"}
    assert (f"{phone}:2: error KPI504: row 2: employee 'iv\u0430nov' is spelt 'Ivanov' in {crm} "
            "row 2: the two ids differ only by look-alike characters") in result.stderr
    assert (f"{crm}:2: error KPI504: employee 'Ivanov' is spelt 'iv\u0430nov' in {phone} "
            "row 2") in result.stderr
    assert result.stderr.endswith("facts: 3 rows read, 1 evaluated, 2 failed\n")


def test_every_command_reads_the_same_way() -> None:
    explained = run(["explain", SCHEME, REPORT, "-e", "Иванов"], OK)
    assert "Total: 60,000 + 58,000 + 1,800 = 119,800" in explained.stdout
    statement = run(["statement", SCHEME, REPORT, "-e", "Иванов"], OK)
    assert "119,800" in statement.stdout
    compared = run(["compare", SCHEME, SCHEME, CRM_CSV, PHONE, "--format", "json"],
                   FINDINGS)  # Сидоров is not in the telephony export
    assert "119800.00" in compared.stdout
    target = run(["target", AMO_SCHEME, AMO_CSV, "--employee", "Иванов", "--earn", "130000",
                  "--vary", "revenue", "--format", "json"], OK)
    answer = json.loads(target.stdout)
    assert (answer["current_total"], answer["value"]) == ("119800.00", "4028570.84")


def test_the_api_reads_the_same_way(scheme: kpidsl.Ruleset) -> None:
    rows = [r for r in read_facts(REPORT, scheme.fact_specs) if isinstance(r, FactRow)]
    assert [r.employee for r in rows] == ["Иванов", "Петрова", "Сидоров"]
    run_ = scheme.evaluate_files([CRM_CSV, PHONE])
    assert {r.employee: str(r.total) for r in run_.results()} == {"Иванов": "119800.00",
                                                                 "Петрова": "110000.00"}
    assert [f.employee for f in run_.failures] == ["Сидоров"]
    amo = kpidsl.load(AMO_SCHEME).evaluate_files(AMO_CSV)
    assert str(next(amo.results()).total) == "119800.00"


@pytest.mark.parametrize("suffix", ["json", "jsonl"])
def test_map_naming_a_key_in_no_json_object_is_an_error(tmp_path: Path, suffix: str) -> None:
    objects = [{"employee": "a", "Выручка": "3300000", "avg_check": 1, "conversion": "2%",
                "calls": 1}, {"employee": "b", "revenue X": "1", "avg_check": 1,
                              "conversion": "2%", "calls": 1}]
    facts = tmp_path / f"f.{suffix}"
    facts.write_text(json.dumps(objects) if suffix == "json" else
                     "\n".join(map(json.dumps, objects)) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run(["eval", SCHEME, str(facts), "--map", "Revenue Y=revenue", "-o", str(out)],
                 USAGE)
    assert (f"{facts}: error KPI507: --map Revenue Y=revenue: there is no column 'Revenue Y' "
            "in any object") in result.stderr
    assert "did you mean 'revenue X'" in result.stderr
    assert not out.exists()
