"""Reading XLSX workbooks as Excel saved them: cached formula values, bounded resources.

A workbook is a zip of XML parts. The worksheet is streamed through expat row by row, so a
sheet that claims `A1:XFD1048576` costs what its real cells cost, and a cell's text is kept
only up to Excel's own limit (32 767 characters) however long the XML says it is. A cell that
cannot be read becomes a `CellError` value, which the facts reader reports as a row diagnostic;
a part that cannot be read (not a zip, broken XML, too large once inflated) is a
`WorkbookError`, which the facts reader reports as a file diagnostic.

Why not openpyxl or python-calamine: both stop at the first malformed cell (the rest of the
sheet is lost), calamine builds the whole sheet in memory as a dense grid (one far cell makes
it rows × columns), and openpyxl's read-only mode pads every row to the declared dimension.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

MAX_PART_BYTES = 128 * 1024 * 1024  # inflated size of one part: 30x a 1 M-row CRM export
MAX_METADATA_BYTES = 8 * 1024 * 1024  # workbook.xml and relationships: a few KB in practice
MAX_CELL_CHARS = 32_767  # Excel's own limit on the text of a cell
MAX_COLUMNS = 1_024  # cells further right are reported, not read (Excel allows 16 384)
MAX_SHARED_STRINGS = 4_000_000  # about 300 MB of Python strings at most
HEADER_SCAN = 30  # rows looked at when looking for a header
CHUNK = 64 * 1024

_NUMERIC = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_PERCENT_FORMATS = {9, 10}  # built-in '0%' and '0.00%'
_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}  # built-in
_EPOCH = dt.datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system (as Excel counts)


def _whole(text: str) -> bool:
    """ASCII digits only, and few of them: str.isdigit admits '²', which int() refuses."""
    return 0 < len(text) < 12 and text.isascii() and text.isdigit()


def _is_date_format(code: str) -> bool:
    """'dd.mm.yyyy', 'h:mm' are dates or times; '# ##0,00 ₽', '0%', 'General' are not."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)  # quoted text, escapes, [Red] [$-419]
    return bool(re.search(r"[dmyhs]", bare, re.IGNORECASE)) and "General" not in code


def _is_percent_format(code: str) -> bool:
    """'0%', '0.0%', '#,##0.00%' show a fraction as percent; '"%"' in quotes or '\\%' does not."""
    return "%" in re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)


class PercentNumber(float):
    """A typed number in a cell whose number format shows it as a percent: Excel stores a
    cell shown as 2,1% as 0.021, so the value is a fraction, whatever the column's header."""


@dataclass(frozen=True)
class CellError:
    """A cell that cannot be read; `text` is what the file holds, `message` says why."""

    text: str
    message: str

    def __str__(self) -> str:
        return self.text


class WorkbookError(Exception):
    """The workbook, or one of its parts, cannot be read."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class Sheet:
    name: str
    member: str | None  # the zip member of a worksheet; None for a chart sheet
    hidden: bool = False


def _local(name: str) -> str:
    return name.rpartition("}")[2] if "}" in name else name.rpartition(":")[2]


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Workbook:
    """An open XLSX file: its sheets (in tab order), the active one, its shared strings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError,
                RuntimeError, struct.error) as exc:  # a damaged central directory, any kind
            raise WorkbookError(f"cannot read the workbook: not an XLSX file ({exc})",
                                "save it from Excel as 'Excel Workbook (*.xlsx)'") from None
        try:
            self._names = set(self._zip.namelist())
            self.sheets, self.active, strings = self._read_workbook()
            self._strings_member = strings
            self._dates, self._percents = self._number_styles()
            self._strings: list[str | CellError] | None = None
        except BaseException:
            self._zip.close()
            raise

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------ parts

    def _open(self, member: str, limit: int) -> Iterator[bytes]:
        try:
            info = self._zip.getinfo(member)
        except KeyError:
            raise WorkbookError(f"the workbook has no part '{member}'") from None
        if info.file_size > limit:
            raise WorkbookError(f"part '{member}' inflates to {info.file_size:,} bytes; at most "
                                f"{limit:,} are read (a damaged or hostile workbook)")
        read = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    read += len(chunk)
                    if read > limit:
                        raise WorkbookError(f"part '{member}' inflates to more than {limit:,} "
                                            "bytes (a damaged or hostile workbook)")
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                OSError, ValueError, struct.error) as exc:
            raise WorkbookError(f"cannot read part '{member}' of the workbook: {exc}") from None

    def _parse(self, member: str, start: Callable[[str, dict[str, str]], None],
               end: Callable[[str], None] | None = None,
               text: Callable[[str], None] | None = None, limit: int | None = None,
               ) -> Iterator[None]:
        """Feed a part through expat; yields after each chunk so callers can stream."""
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True

        def doctype(*_: Any) -> None:
            raise WorkbookError(f"part '{member}' declares a DOCTYPE, which a workbook never has")

        parser.StartDoctypeDeclHandler = doctype
        parser.StartElementHandler = lambda name, attrs: start(_local(name), attrs)
        if end is not None:
            parser.EndElementHandler = lambda name: end(_local(name))
        if text is not None:
            parser.CharacterDataHandler = text
        try:
            for chunk in self._open(member, MAX_PART_BYTES if limit is None else limit):
                parser.Parse(chunk, False)
                yield
            parser.Parse(b"", True)
        except LookupError as exc:  # an XML declaration naming an encoding Python lacks
            raise WorkbookError(f"part '{member}' of the workbook is damaged: "
                                f"{str(exc)[:80]}") from None
        except expat.ExpatError as exc:
            raise WorkbookError(f"part '{member}' of the workbook is damaged: "
                                f"{expat.ErrorString(exc.code)} at line {exc.lineno}, "
                                f"column {exc.offset + 1}") from None
        yield

    def _small(self, member: str) -> list[tuple[str, dict[str, str]]]:
        elements: list[tuple[str, dict[str, str]]] = []
        for _ in self._parse(member, lambda n, a: elements.append((n, a)),
                             limit=MAX_METADATA_BYTES):
            if len(elements) > 100_000:
                raise WorkbookError(f"part '{member}' has too many entries")
        return elements

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels not in self._names:
            return {}
        found = {}
        for tag, attrs in self._small(rels):
            if tag == "Relationship" and "Id" in attrs and "Target" in attrs:
                target = attrs["Target"]
                target = target.lstrip("/") if target.startswith("/") else \
                    posixpath.normpath(posixpath.join(folder, target))
                found[attrs["Id"]] = (attrs.get("Type", "").rpartition("/")[2], target)
        return found

    def _read_workbook(self) -> tuple[list[Sheet], int, str | None]:
        main = next((t for kind, t in self._relationships("").values()
                     if kind == "officeDocument"), "xl/workbook.xml")
        if main not in self._names:
            raise WorkbookError("cannot read the workbook: it has no workbook part (is it an "
                                "XLSX file?)", "save it from Excel as 'Excel Workbook (*.xlsx)'")
        rels = self._relationships(main)
        sheets: list[Sheet] = []
        active = 0
        for tag, attrs in self._small(main):
            if tag == "workbookView" and _whole(attrs.get("activeTab", "0")):
                active = int(attrs.get("activeTab", "0"))
            elif tag == "sheet":
                rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                kind, target = rels.get(rid, ("", ""))
                member = target if kind == "worksheet" and target in self._names else None
                sheets.append(Sheet(attrs.get("name", f"Sheet{len(sheets) + 1}"), member,
                                    attrs.get("state", "visible") != "visible"))
        if not sheets:
            raise WorkbookError("the workbook has no sheets")
        strings = next((t for kind, t in rels.values() if kind == "sharedStrings"), None)
        return sheets, min(active, len(sheets) - 1), strings

    def _number_styles(self) -> tuple[set[int], set[int]]:
        """Indexes of cell styles that show a number as a date or time (Excel stores dates as
        day numbers; the style alone says a cell is a date), and of those that show it as a
        percent (a stored 0.021 is shown as 2,1%)."""
        member = "xl/styles.xml"
        if member not in self._names:
            return set(), set()
        custom: dict[int, str] = {}
        styles: list[int] = []
        in_xfs = False
        for tag, attrs in self._small(member):
            if tag == "numFmt" and _whole(attrs.get("numFmtId", "")):
                custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
            elif tag == "cellXfs":
                in_xfs = True
            elif tag == "cellStyles":
                in_xfs = False
            elif tag == "xf" and in_xfs:
                ident = attrs.get("numFmtId", "0")
                styles.append(int(ident) if _whole(ident) else 0)
        dates = {i for i, ident in enumerate(styles)
                 if ident in _DATE_FORMATS or (ident in custom and _is_date_format(custom[ident]))}
        percents = {i for i, ident in enumerate(styles) if ident in _PERCENT_FORMATS
                    or (ident in custom and _is_percent_format(custom[ident]))}
        return dates, percents - dates

    # ------------------------------------------------------------ shared strings

    def _shared(self) -> list[str | CellError]:
        if self._strings is not None:
            return self._strings
        strings: list[str | CellError] = []
        if self._strings_member is None or self._strings_member not in self._names:
            self._strings = strings
            return strings
        state = {"depth_ph": 0, "in_t": False, "length": 0}
        parts: list[str] = []

        def start(tag: str, _attrs: dict[str, str]) -> None:
            if tag == "si":
                parts.clear()
                state["length"] = 0
            elif tag == "rPh":  # phonetic hints (furigana) are not the cell's text
                state["depth_ph"] += 1
            elif tag == "t" and not state["depth_ph"]:
                state["in_t"] = True

        def end(tag: str) -> None:
            if tag == "t":
                state["in_t"] = False
            elif tag == "rPh":
                state["depth_ph"] -= 1
            elif tag == "si":
                if len(strings) >= MAX_SHARED_STRINGS:
                    raise WorkbookError(f"the workbook has more than {MAX_SHARED_STRINGS:,} "
                                        "distinct texts")
                length = state["length"]
                strings.append("".join(parts) if length <= MAX_CELL_CHARS else CellError(
                    "".join(parts)[:60] + "…", f"the text has {length:,} characters; at most "
                    f"{MAX_CELL_CHARS:,} are read"))

        def text(data: str) -> None:
            if state["in_t"]:
                state["length"] += len(data)
                if state["length"] <= MAX_CELL_CHARS:
                    parts.append(data)

        for _ in self._parse(self._strings_member, start, end, text):
            pass
        self._strings = strings
        return strings

    # ------------------------------------------------------------ rows

    def rows(self, sheet: Sheet) -> Generator[tuple[int, list[object]], None, None]:
        """(row number, cells) for every row that has a cell; cells are str, float, bool,
        datetime, None or CellError (a number in a percent-formatted cell is a PercentNumber);
        a formula gives the value Excel saved with it."""
        if sheet.member is None:
            raise WorkbookError(f"sheet '{sheet.name}' is a chart, not a table of cells",
                                "choose a worksheet with --sheet NAME")
        shared, dates, percents = self._shared(), self._dates, self._percents
        out: list[tuple[int, list[object]]] = []
        cells: dict[int, object] = {}
        cell: dict[str, Any] = {}
        state = {"row": 0, "col": 0, "in": False, "length": 0, "data": False}
        parts: list[str] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "row":
                number = attrs.get("r", "")
                state["row"] = int(number) if _whole(number) and len(number) < 8 \
                    else state["row"] + 1
                state["col"] = 0
                cells.clear()
            elif tag == "c":
                match = _REF.fullmatch(attrs.get("r", ""))
                state["col"] = _column_number(match[1]) if match else state["col"] + 1
                cell.clear()
                style = attrs.get("s", "0")
                cell.update(type=attrs.get("t", "n"), ref=attrs.get("r", ""), formula=False,
                            value=None, date=_whole(style) and int(style) in dates,
                            percent=_whole(style) and int(style) in percents)
            elif tag in ("v", "t") and cell:
                state["in"] = True
                parts.clear()
                state["length"] = 0
                state["data"] = True
            elif tag == "f":
                cell["formula"] = True

        def text(data: str) -> None:
            if state["in"]:
                state["length"] += len(data)
                if state["length"] <= MAX_CELL_CHARS:
                    parts.append(data)

        def end(tag: str) -> None:
            if tag in ("v", "t") and state["in"]:
                state["in"] = False
                if cell.get("value") is None:
                    cell["value"] = ("".join(parts), state["length"])
                else:  # inline rich text: several runs
                    before, length = cell["value"]
                    cell["value"] = (before + "".join(parts), length + state["length"])
            elif tag == "c" and cell:
                value = _cell_value(cell, shared)
                if value is not None:
                    cells[state["col"]] = value
                cell.clear()
            elif tag == "row":
                if cells:
                    out.append((state["row"], _row_list(cells)))
                cells.clear()

        for _ in self._parse(sheet.member, start, end, text):
            yield from out
            out.clear()


def _row_list(cells: dict[int, object]) -> list[object]:
    width = min(max(cells), MAX_COLUMNS)
    row: list[object] = [None] * width
    far = None
    for col, value in cells.items():
        if col <= MAX_COLUMNS:
            row[col - 1] = value
        elif far is None or col < far[0]:
            far = (col, value)
    if far is not None:
        text = str(far[1])
        row.append(CellError(text, f"cell {column_letters(far[0])} is beyond column "
                                   f"{MAX_COLUMNS}; only the first {MAX_COLUMNS} columns are read"))
    return row


def _cell_value(cell: dict[str, Any], shared: list[str | CellError]) -> object:
    kind, found = cell["type"], cell.get("value")
    if found is None or (not found[0] and kind not in ("str", "inlineStr")):
        if cell["formula"]:
            return CellError("", f"cell {cell['ref']} has a formula but no saved value; open the "
                                 "workbook in Excel and save it again")
        return None
    text, length = found
    if length > MAX_CELL_CHARS:
        return CellError(text[:60] + "…", f"cell {cell['ref']} has {length:,} characters; at "
                                          f"most {MAX_CELL_CHARS:,} are read")
    if kind in ("n", ""):
        if not _NUMERIC.fullmatch(text.strip()):
            return CellError(text, f"cell {cell['ref']} is marked as a number but holds "
                                   f"'{text[:60]}'")
        number = float(text)
        if not math.isfinite(number):
            return CellError(text, f"cell {cell['ref']} holds '{text[:60]}', which is not a "
                                   "finite number")
        if cell.get("date") and 0 <= number < 2_958_466:  # a day number shown as a date
            return _EPOCH + dt.timedelta(days=number)
        return PercentNumber(number) if cell.get("percent") else number
    if kind == "s":
        index = text.strip()
        if not _whole(index) or int(index) >= len(shared):
            return CellError(text, f"cell {cell['ref']} refers to text number {index[:20]}, but "
                                   f"the workbook has {len(shared)}")
        return shared[int(index)]
    if kind in ("str", "inlineStr", "e"):
        return text
    if kind == "b":
        if text.strip() in ("0", "1"):
            return text.strip() == "1"
        return CellError(text, f"cell {cell['ref']} is marked yes/no but holds '{text[:60]}'")
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(text.strip().removesuffix("Z"))
        except ValueError:
            return CellError(text, f"cell {cell['ref']} is marked as a date but holds "
                                   f"'{text[:60]}'")
    return CellError(text, f"cell {cell['ref']} has an unknown type '{kind[:20]}'")


def choose_sheet(book: Workbook, wanted: str | None,
                 looks_like_header: Callable[[list[object]], bool],
                 ) -> tuple[Sheet, str | None]:
    """The sheet to read and, when it is not the active one, a note saying why.

    `--sheet` wins. Otherwise the active sheet, if one of its first rows is a header of the
    scheme's facts; else the one other sheet that has such a header. Several candidates, or
    none, are an error naming the sheets: a wrong sheet is never read silently.
    """
    names = [s.name for s in book.sheets]
    if wanted is not None:
        chosen = next((s for s in book.sheets if s.name == wanted), None) or next(
            (s for s in book.sheets if s.name.casefold() == wanted.strip().casefold()), None)
        if chosen is None:
            from .diagnostics import did_you_mean

            raise WorkbookError(f"no sheet '{wanted}' in the workbook; sheets: "
                                + ", ".join(map(repr, names)), did_you_mean(wanted, names))
        return chosen, None
    active = book.sheets[book.active]
    if len(book.sheets) == 1:
        return active, None
    if _has_header(book, active, looks_like_header):
        return active, None
    matching = [s for s in book.sheets if s is not active and _has_header(book, s,
                                                                        looks_like_header)]
    if len(matching) == 1:
        what = "is a chart" if active.member is None else "has no header with the scheme's facts"
        return matching[0], (f"reading sheet '{matching[0].name}': the active sheet "
                             f"'{active.name}' {what}")
    if matching:
        raise WorkbookError("several sheets have a header with the scheme's facts: "
                            + ", ".join(repr(s.name) for s in matching)
                            + f" (the active sheet '{active.name}' has none)",
                            f"choose one with --sheet, e.g. --sheet '{matching[0].name}'")
    if active.member is None:
        raise WorkbookError(f"the active sheet '{active.name}' is a chart and no sheet has a "
                            "header with the scheme's facts; sheets: "
                            + ", ".join(map(repr, names)),
                            "choose the sheet with --sheet NAME")
    return active, None


def _has_header(book: Workbook, sheet: Sheet, looks_like_header: Callable[[list[object]], bool],
                ) -> bool:
    if sheet.member is None:
        return False
    rows = book.rows(sheet)
    try:
        for seen, (_row, cells) in enumerate(rows, start=1):
            if looks_like_header(cells):
                return True
            if seen >= HEADER_SCAN:
                return False
    except WorkbookError:
        return False  # a damaged sheet is not a candidate; read on purpose, it is reported
    finally:  # close the part now: left to the garbage collector, it would outlive the zip
        rows.close()
    return False
