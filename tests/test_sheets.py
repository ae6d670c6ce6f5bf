"""XLSX reading (kpidsl/sheets.py): workbooks built by hand, hostile and damaged ones included.

Every malformed cell is a row diagnostic (the other rows are read); every malformed part is a
file diagnostic; time and memory stay bounded whatever the XML claims.
"""

from __future__ import annotations

import functools
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpidsl import sheets
from kpidsl.facts import FactRow, FactsFileError, FactSpec, RowError, read_facts
from kpidsl.units import Unit

SPECS = {"revenue": FactSpec("revenue", Unit.MONEY), "deals": FactSpec("deals", Unit.COUNT)}
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def cell(ref: str, value: object) -> str:
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows: list[list[object]], raw: dict[int, str] | None = None,
              dimension: str = "") -> str:
    """Rows of values (str → inline text, else a number); `raw` replaces whole rows' XML."""
    body = []
    for number, values in enumerate(rows, start=1):
        if raw and number in raw:
            body.append(f'<row r="{number}">{raw[number]}</row>')
            continue
        cells = "".join(cell(f"{sheets.column_letters(i)}{number}", v)
                        for i, v in enumerate(values, start=1) if v is not None)
        body.append(f'<row r="{number}">{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0"?><worksheet {NS}>{dim}<sheetData>{"".join(body)}'
            "</sheetData></worksheet>")


def build(path: Path, parts: list[tuple[str, str]], *, active: int = 0,
          shared: list[str] | None = None, charts: tuple[int, ...] = ()) -> Path:
    """A workbook with sheets named and given as XML, in tab order; `charts` are chart sheets."""
    sheet_tags, rels = [], []
    for i, (name, _xml) in enumerate(parts, start=1):
        kind = "chartsheet" if i - 1 in charts else "worksheet"
        folder = "chartsheets" if kind == "chartsheet" else "worksheets"
        sheet_tags.append(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{REL}/{kind}" '
                    f'Target="{folder}/sheet{i}.xml"/>')
    if shared is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" '
                    'Target="sharedStrings.xml"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="r1" Type="{REL}/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook {NS} xmlns:r="{REL}"><bookViews>'
                   f'<workbookView activeTab="{active}"/></bookViews><sheets>'
                   f'{"".join(sheet_tags)}</sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships">' + "".join(rels)
                   + "</Relationships>")
        for i, (_name, xml) in enumerate(parts, start=1):
            folder = "chartsheets" if i - 1 in charts else "worksheets"
            z.writestr(f"xl/{folder}/sheet{i}.xml", xml)
        if shared is not None:
            items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
            z.writestr("xl/sharedStrings.xml", f"<sst {NS}>{items}</sst>")
    return path


def read(path: Path, **options: object) -> tuple[list[FactRow], list[RowError]]:
    items = list(read_facts(path, SPECS, **options))  # type: ignore[arg-type]
    return ([i for i in items if isinstance(i, FactRow)],
            [i for i in items if isinstance(i, RowError)])


HEADER = ["employee", "revenue", "deals"]


def test_cached_formula_values_are_read(tmp_path: Path) -> None:
    raw = {3: '<c r="A3" t="inlineStr"><is><t>petrov</t></is></c>'
              '<c r="B3"><f>B2*2</f><v>6600000</v></c><c r="C3"><f>C2+1</f><v>13</v></c>'}
    path = build(tmp_path / "f.xlsx", [("S", sheet_xml([HEADER, ["ivanov", 3300000, 12], []],
                                                       raw))])
    rows, errors = read(path)
    assert errors == []
    assert [(r.employee, r.values) for r in rows] == [
        ("ivanov", {"revenue": Decimal("3300000"), "deals": Decimal("12")}),
        ("petrov", {"revenue": Decimal("6600000"), "deals": Decimal("13")})]


@pytest.mark.parametrize(("cells", "message"), [
    ('<c r="B3"><v>NaN</v></c>', "cell B3 is marked as a number but holds 'NaN'"),
    ('<c r="B3"><v>1e999</v></c>', "cell B3 holds '1e999', which is not a finite number"),
    ('<c r="B3" t="s"><v>7</v></c>', "cell B3 refers to text number 7, but the workbook has 3"),
    ('<c r="B3" t="s"><v>²</v></c>', "cell B3 refers to text number ², but the workbook has 3"),
    ('<c r="B3" t="d"><v>not a date</v></c>', "cell B3 is marked as a date but holds 'not a date'"),
    ('<c r="B3" t="b"><v>2</v></c>', "cell B3 is marked yes/no but holds '2'"),
    ('<c r="B3" t="zz"><v>1</v></c>', "cell B3 has an unknown type 'zz'"),
    ('<c r="B3"><f>SUM(B1:B2)</f></c>', "cell B3 has a formula but no saved value; open the "
                                        "workbook in Excel and save it again"),
])
def test_a_malformed_cell_is_a_row_diagnostic(tmp_path: Path, cells: str, message: str) -> None:
    raw = {3: f'<c r="A3" t="s"><v>2</v></c>{cells}<c r="C3"><v>1</v></c>'}
    rows = [HEADER, ["ivanov", 3300000, 12], [], ["sidorov", 100, 1]]
    path = build(tmp_path / "bad.xlsx", [("S", sheet_xml(rows, raw))],
                 shared=["a", "b", "petrov"])
    good, errors = read(path)
    assert [r.employee for r in good] == ["ivanov", "sidorov"]  # the other rows are read
    [error] = errors
    assert (error.row, error.employee, error.column) == (3, "petrov", "revenue")
    assert error.diagnostic.message == f"row 3, column 'revenue': {message}"


@pytest.mark.parametrize(("xml", "message"), [
    ("<worksheet><sheetData><row r='1'><c r='A1'", "part 'xl/worksheets/sheet1.xml' of the "
     "workbook is damaged: unclosed token at line 1, column 34"),
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><worksheet/>',
     "part 'xl/worksheets/sheet1.xml' declares a DOCTYPE, which a workbook never has"),
])
def test_a_malformed_part_is_a_file_diagnostic(tmp_path: Path, xml: str, message: str) -> None:
    path = build(tmp_path / "broken.xlsx", [("S", xml)])
    with pytest.raises(FactsFileError) as caught:
        read(path)
    assert caught.value.diagnostic.message == message
    assert caught.value.diagnostic.code == "KPI507"


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(FactsFileError, match="cannot read the workbook: not an XLSX file"):
        read(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(FactsFileError, match="it has no workbook part"):
        read(path)


def test_a_far_cell_costs_what_the_real_cells_cost(tmp_path: Path) -> None:
    """A 5 KB workbook claiming A1:XFD1048576 with one far cell took about an hour."""
    raw = {4: '<c r="A4" t="inlineStr"><is><t>far</t></is></c><c r="XFD4"><v>1</v></c>'}
    xml = sheet_xml([HEADER, ["ivanov", 3300000, 12], [], []], raw, "A1:XFD1048576")
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                      "</sheetData>")
    path = build(tmp_path / "far.xlsx", [("S", xml)])
    assert path.stat().st_size < 5_000
    started = time.perf_counter()
    good, errors = read(path)
    assert time.perf_counter() - started < 2  # measured: about 5 ms
    assert [r.employee for r in good] == ["ivanov"]
    assert [(e.row, e.diagnostic.message) for e in errors] == [
        (4, f"row 4 has {sheets.MAX_COLUMNS + 1} cells, but the header has 3 columns"),
        (1048576, f"row 1048576 has {sheets.MAX_COLUMNS + 1} cells, but the header has 3 "
                  "columns")]


def test_a_huge_cell_is_cut_and_reported_in_bounded_memory(tmp_path: Path) -> None:
    """A cell inflating to 1 GB reached 3.4 GB and died; now its text is kept only up to
    Excel's limit (32 767 characters) and the cell is a row diagnostic."""
    size = 20_000_000  # 20 MB inflated from about 20 KB
    raw = {3: f'<c r="A3" t="inlineStr"><is><t>petrov</t></is></c><c r="B3" t="inlineStr">'
              f'<is><t>{"9" * size}</t></is></c><c r="C3"><v>1</v></c>'}
    path = build(tmp_path / "big.xlsx", [("S", sheet_xml([HEADER, ["ivanov", 1, 1], []], raw))])
    assert path.stat().st_size < 100_000
    tracemalloc.start()
    try:
        good, errors = read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # measured: about 0.6 MB for a 20 MB cell
    assert [r.employee for r in good] == ["ivanov"]
    assert errors[0].diagnostic.message == (
        "row 3, column 'revenue': cell B3 has 20,000,000 characters; at most 32,767 are read")


def test_a_part_inflating_past_the_limit_is_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_PART_BYTES", 1_000_000)
    raw = {2: f'<c r="A2" t="inlineStr"><is><t>{"x" * 2_000_000}</t></is></c>'}
    path = build(tmp_path / "bomb.xlsx", [("S", sheet_xml([HEADER, []], raw))])
    with pytest.raises(FactsFileError) as caught:
        read(path)
    assert caught.value.diagnostic.message.startswith(
        "part 'xl/worksheets/sheet1.xml' inflates to 2,000,")
    assert caught.value.diagnostic.message.endswith(
        "bytes; at most 1,000,000 are read (a damaged or hostile workbook)")


def test_a_chart_sheet_active_reads_the_sheet_with_the_facts(tmp_path: Path) -> None:
    chart = f"<chartsheet {NS}/>"
    data = sheet_xml([HEADER, ["ivanov", 3300000, 12]])
    path = build(tmp_path / "chart.xlsx", [("Chart", chart), ("Data", data)], active=0,
                 charts=(0,))
    reader = read_facts(path, SPECS)
    assert [r.employee for r in reader if isinstance(r, FactRow)] == ["ivanov"]
    assert reader.notes == ["reading sheet 'Data': the active sheet 'Chart' is a chart"]
    with pytest.raises(FactsFileError, match="sheet 'Chart' is a chart, not a table of cells"):
        read(path, sheet="Chart")


def test_a_wrong_sheet_is_never_read_silently(tmp_path: Path) -> None:
    summary = sheet_xml([["Итоги месяца"], ["всего", 100]])
    data = sheet_xml([HEADER, ["ivanov", 3300000, 12]])
    two = build(tmp_path / "two.xlsx", [("Summary", summary), ("June", data), ("July", data)])
    with pytest.raises(FactsFileError) as caught:
        read(two)
    d = caught.value.diagnostic
    assert d.message == ("several sheets have a header with the scheme's facts: 'June', 'July' "
                         "(the active sheet 'Summary' has none)")
    assert d.hint == "choose one with --sheet, e.g. --sheet 'June'"
    good, _ = read(two, sheet="july")  # a sheet's name, ignoring case
    assert [r.employee for r in good] == ["ivanov"]


# ---------------------------------------------------------------- mutated workbooks

REPORT = Path("tests/fixtures/crm/report_july.xlsx")


@functools.cache
def _specs() -> dict[str, FactSpec]:
    from kpidsl import load

    return load("rulesets/b2b_manager.kpi").fact_specs


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(REPORT) as z:
        return {name: z.read(name) for name in z.namelist()}


def mutated_workbook(data: st.DataObject) -> None:
    """Bytes of one part flipped, cut or inserted, or of the zip itself: every outcome is rows,
    row diagnostics or one FactsFileError."""
    import tempfile

    specs = _specs()
    members = _members()
    name = data.draw(st.sampled_from(sorted(members)))
    blob = bytearray(members[name])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, max(len(blob) - 1, 0)))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip" and blob:
            blob[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del blob[at:at + data.draw(st.integers(1, 40))]
        elif action == "insert":
            blob[at:at] = data.draw(st.sampled_from(
                [b"<", b">", b'"', b"&", b"<v>NaN</v>", b'<c r="XFD9" t="s"><v>999</v></c>',
                 b't="d"', b"<f>1</f>", b"\x00", b"\xff\xfe", b"</row><row>", b'r="0"']))
        else:
            del blob[at:]
    members[name] = bytes(blob)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for member, content in members.items():
                z.writestr(member, content)
        if data.draw(st.booleans()):  # damage the zip itself too
            raw = bytearray(path.read_bytes())
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] ^= data.draw(st.integers(1, 255))
            path.write_bytes(bytes(raw))
        try:
            items = list(read_facts(path, specs))
        except FactsFileError as exc:
            assert exc.diagnostic.code in ("KPI502", "KPI507")
            return
        assert all(isinstance(i, (FactRow, RowError)) for i in items)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_workbook_gives_diagnostics_never_an_exception(data: st.DataObject) -> None:
    mutated_workbook(data)  # about 3 s; the slow run below tries 2 000


@pytest.mark.slow
@settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_many_mutated_workbooks(data: st.DataObject) -> None:
    mutated_workbook(data)


def test_an_unknown_xml_encoding_is_a_file_diagnostic(tmp_path: Path) -> None:
    """Found by the command fuzz run: expat raised LookupError out of the reader."""
    xml = sheet_xml([HEADER, ["ivanov", 1, 2]]).replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-99999"?>')
    path = build(tmp_path / "enc.xlsx", [("Sheet1", xml)])
    with pytest.raises(FactsFileError) as caught:
        read(path)
    assert caught.value.diagnostic.code == "KPI507"
    assert caught.value.diagnostic.message == (
        "part 'xl/worksheets/sheet1.xml' of the workbook is damaged: "
        "unknown encoding: UTF-99999")
