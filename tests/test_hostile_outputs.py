"""CRM text in outputs for people: no live formulas, no fake rows or headings, no lost
workbook, no lost column."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpidsl.cli import main
from kpidsl.escape import visible, xlsx_text

ROOT = Path(__file__).resolve().parent.parent
B2B = ROOT / "rulesets" / "b2b_manager.kpi"
HEADER = "employee,name,revenue,avg_check,conversion,calls"
HYPERLINK = '=HYPERLINK("http://evil","click")'


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copy(B2B, tmp_path / "s.kpi")
    return tmp_path


def facts(folder: Path, *rows: str, header: str = HEADER, name: str = "f.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_visible_escapes_what_breaks_a_line_or_hides_text() -> None:
    assert visible("plain Иванов 😀") == "plain Иванов 😀"
    assert visible("a\nb\r\n## Total\tx") == "a\\nb\\r\\n## Total\\tx"
    assert visible("\x1b[2Jclear\x07\x00\x7f\x85") == "\\x1b[2Jclear\\x07\\x00\\x7f\\x85"
    assert visible("\u202eevil\u2066\u2028") == "\\u202eevil\\u2066\\u2028"
    assert xlsx_text("ok\ttab\nline\x1bESC\x00") == "ok\ttab\nline\\x1bESC\\x00"


def test_xlsx_headers_are_text_and_control_characters_do_not_lose_the_workbook(
        work: Path) -> None:
    from openpyxl import load_workbook

    path = facts(work, 'ivanov,"Иван\x07 Иванов",3300000,142500,2.1%,950,"a\x1b[2Jb"',
                 header=HEADER + f',"{HYPERLINK.replace(chr(34), chr(34) * 2)}"')
    code, _out, err = run("eval", work / "s.kpi", path, "--format", "xlsx",
                          "-o", work / "out.xlsx")
    assert code == 0, err
    book = load_workbook(work / "out.xlsx")
    sheet = book.worksheets[0]
    header = [c for c in sheet[1]]
    link = next(c for c in header if c.value == HYPERLINK)
    assert link.data_type == "s"  # text, not a formula
    values = [c.value for c in sheet[2]]
    assert "Иван\\x07 Иванов" in values and "a\\x1b[2Jb" in values


def test_terminal_tables_show_newlines_and_escapes_as_text(work: Path) -> None:
    path = facts(work, 'ivanov,"Иван\n## Total  999,999.00",3300000,142500,2.1%,950',
                 '"\x1b[2Jpetrova",Анна,3000000,150000,2%,1000')
    code, out, err = run("eval", work / "s.kpi", path)
    assert code == 0, err
    assert "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 2 + 2 + 2 + 2  # title, blank, header, rule, 2 rows, rule, total
    assert any("Иван\\n## Total  999,999.00" in line for line in lines)
    assert any(line.startswith("\\x1b[2Jpetrova") for line in lines)
    code, out, _err = run("eval", work / "s.kpi", path, "--rank", "total")
    assert code == 0 and "\x1b" not in out and "\\x1b[2Jpetrova" in out


def test_markdown_and_html_statements_keep_crm_text_on_one_line(work: Path) -> None:
    plain = facts(work, "ivanov,Иван,3300000,142500,2.1%,950", name="plain.csv")
    hostile = facts(work, 'ivanov,"Иван\n## Total: 1 000 000 RUB\x1b[8m",3300000,142500,2.1%,950')
    _code, expected, _err = run("statement", work / "s.kpi", plain, "-e", "ivanov")
    code, out, err = run("statement", work / "s.kpi", hostile, "-e", "ivanov")
    assert code == 0, err
    assert "\x1b" not in out
    assert [line for line in out.splitlines() if line.startswith("#")] == \
        [line for line in expected.splitlines() if line.startswith("#")]
    # the escape's backslash is itself escaped: Markdown shows "Иван\n## Total: ..."
    assert "- Employee: ivanov (Иван\\\\n## Total: 1 000 000 RUB\\\\x1b\\[8m)\n" in out
    code, out, err = run("statement", work / "s.kpi", hostile, "-e", "ivanov",
                         "--format", "html")
    assert code == 0 and "\x1b" not in out and "Иван\\n## Total: 1 000 000 RUB\\x1b[8m" in out


def test_facts_problems_on_stderr_stay_on_one_line(work: Path) -> None:
    path = facts(work, 'ivanov,Иван,"12\x1b[2J\nfake: error",142500,2.1%,950')
    code, _out, err = run("eval", work / "s.kpi", path, "--format", "json")
    assert code == 1
    assert "\x1b" not in err and "12\\x1b[2J\\nfake: error" in err
    assert not any(line.startswith("fake") for line in err.splitlines())


def test_a_column_first_seen_in_a_later_row_is_written(work: Path) -> None:
    from openpyxl import load_workbook

    rows = [{"employee": "ivanov", "revenue": "3300000", "avg_check": "142500",
             "conversion": "2.1%", "calls": "950"},
            {"employee": "petrova", "revenue": "3000000", "avg_check": "150000",
             "conversion": "2%", "calls": "1000", "region": "north", "name": "Анна"}]
    path = work / "f.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    code, out, err = run("eval", work / "s.kpi", path, "--format", "csv")
    assert code == 0, err
    header, first, second = out.splitlines()[:3]
    assert header.startswith("employee,region,name,grade,")
    assert first.startswith("ivanov,,,base,") and second.startswith("petrova,north,Анна,base,")
    code, _out, err = run("eval", work / "s.kpi", path, "--format", "xlsx",
                          "-o", work / "out.xlsx")
    assert code == 0, err
    sheet = load_workbook(work / "out.xlsx").worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows(max_row=3)]
    assert "north" in values[2] and "Анна" in values[2]
    assert values[1][1:3] == [None, None]


def test_rows_past_the_memory_limit_come_back_in_order(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    from decimal import Decimal
    from types import SimpleNamespace

    from kpidsl.cli.render import spool

    monkeypatch.setattr(spool, "KEEP", 2)
    items = [SimpleNamespace(extra={f"c{i % 3}": str(i)}, n=i) for i in range(7)]
    columns, rows = spool.rows_with_every_column(
        items, lambda i: {"n": i.n, "amount": Decimal(i.n) / 3})  # type: ignore[arg-type]
    assert columns == ["c0", "c1", "c2"]
    assert [(r["n"], r["amount"]) for r in rows] == [(i, Decimal(i) / 3) for i in range(7)]
