"""Fuzzing the command line: hostile facts files (CSV, JSON, JSONL, XLSX) through every command
and output format, and hostile schemes through the commands that take only a scheme.

`run_case(seed, folder)` builds one case from its seed — a scheme, a facts file in one of the
formats (generated from the scheme's facts, then sometimes mutated byte by byte or, for XLSX,
inside its XML), a command with its options — runs it in-process with click's runner and
returns what went wrong (an empty list is a pass):

- any exception other than SystemExit (a traceback the user would see), an exit code other
  than 0, 1 or 2, or `Traceback` in the output;
- a closing line whose counts do not add up (rows read = evaluated + failed);
- an -o file that exists after exit 2 (it was created empty beforehand: it must be unchanged),
  a file that is not valid CSV/JSON/JSONL/XLSX after exit 0 or 1, a temporary file left behind.

Hangs (over the run's timeout) and memory (the process's peak RSS) are measured by the caller
(`run_fuzz.py`).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import kpidsl

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("csv", "json", "jsonl", "xlsx")

# Values a CRM export may hold, for any column: numbers in every spelling, huge and tiny ones,
# spreadsheet formulas, control characters, newlines, ANSI escapes, bidi controls, markup.
VALUES = (
    "0", "1", "950", "3300000", "3 300 000", "3\u00a0300\u00a0000,50", "1,5", "1.5", "2,1%",
    "12%", "-5", "+7", "0.021", "1e3", "1E+5", "1e999999999", "-1e999999999", "1e-999999999",
    "9" * 35, "9" * 29, "0." + "0" * 40 + "1", "9" * 101, "NaN", "nan", "Infinity", "∞", "-∞",
    "", " ", "null", "None", "true", "=1+2", "=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)",
    "+cmd|' /C calc'!A0", "abc", "12abc", "１２３", "٣٤٥", "1_000", "0x1F", "1/2", "(5)",
    "5-", "$5", "5 RUB", "5₽", "2025-03-01", "01.03.2025", "45000", "\x00", "5\x00",
    "\x1b[2J\x1b[31mred", "line\nbreak", "a\r\n## Total", "\u202eevil", "\ufeff5", "5\u200b",
    "<script>alert(1)</script>", "{{ 7*7 }}", "| a | b |", "x" * 5000,
)
IDS = (
    "ivanov", "petrova", "сидоров", "A-17", "=1+2", "=HYPERLINK(\"http://x\",\"click\")",
    "id\nwith newline", "\x1b[2Jclear", "a\r\n## Total", "\u202eevil", "../../etc/passwd",
    "CON", "a" * 300, "a" * 299 + "b", "", " ", "x\x00y", "<b>bold</b>", "{{ 7*7 }}",
    "名前", "e\u0301", "emoji 😀", "tab\tid", "semi;colon", "quote\"d", "comma,id",
)
EXTRA_COLUMNS = ("name", "region", "=HYPERLINK(\"http://x\",\"h\")", "col\nnewline",
                 "\x1b[31mred", "ctrl\x07bell", "manager", "Имя", "a" * 200)


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    stage: str = ""  # "exit 0" | "exit 1" | "exit 2"
    command: str = ""
    facts_format: str = ""
    seconds: float = 0.0
    args: list[str] = field(default_factory=list)


@cache
def schemes() -> list[tuple[str, str]]:
    """(path, text) of every bundled scheme that compiles."""
    found = []
    for path in sorted((ROOT / "rulesets").glob("*.kpi")):
        text = path.read_text(encoding="utf-8")
        try:
            kpidsl.loads(text, name=str(path))
        except Exception:  # a bundled scheme that does not compile is skipped
            continue
        found.append((str(path), text))
    return found


@cache
def specs(path: str) -> tuple[list[str], list[str], list[str]]:
    """The scheme's facts, grades and KPI names (for --vary, --rank)."""
    ruleset = kpidsl.load(path)
    return list(ruleset.fact_specs), list(ruleset.grades), list(ruleset.fact_specs)


@cache
def bundled_rows(path: str) -> list[dict[str, str]]:
    facts = Path(path).with_suffix(".facts.csv")
    if not facts.exists():
        return []
    with open(facts, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


# ---------------------------------------------------------------- facts


def rows_for(rnd: random.Random, scheme: str) -> list[dict[str, Any]]:
    facts, grades, _ = specs(scheme)
    base = [dict(r) for r in bundled_rows(scheme)]
    count = rnd.choice((0, 1, 2, 3, 5, 8, 20))
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = dict(base[i % len(base)]) if base and rnd.random() < 0.7 else {}
        row.setdefault("employee", f"e{i}")
        for fact in facts:
            if fact not in row or rnd.random() < 0.15:
                row[fact] = rnd.choice(VALUES) if rnd.random() < 0.5 else \
                    str(rnd.choice((0, 1, 5, 90, 1000, 150000, 3300000)))
        if rnd.random() < 0.3:
            row["employee"] = rnd.choice(IDS)
        if grades and rnd.random() < 0.3:
            row["grade"] = rnd.choice([*grades, "unknown", ""])
        if rnd.random() < 0.2:
            row["team"] = rnd.choice(("north", "south", "", "=1+2", "t\nx"))
        if rnd.random() < 0.3:  # descriptive columns, some seen only in later rows
            row[rnd.choice(EXTRA_COLUMNS)] = rnd.choice(VALUES[:20] + IDS[:10])
        if rnd.random() < 0.05 and facts:
            row.pop(rnd.choice(facts), None)
        rows.append(row)
    if rows and rnd.random() < 0.1:
        rows.append(dict(rows[0]))  # a duplicate employee
    return rows


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen) or ["employee"]


def as_csv(rnd: random.Random, rows: list[dict[str, Any]]) -> bytes:
    delimiter = rnd.choice((",", ";", "\t", ","))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=rnd.choice(("\n", "\r\n")))
    columns = _columns(rows)
    writer.writerow(columns)
    for row in rows:
        cells = [str(row.get(c, "")) for c in columns]
        if rnd.random() < 0.05:
            cells = cells[:rnd.randrange(len(cells) + 1)] or [*cells, "extra"]  # ragged
        writer.writerow(cells)
    text = out.getvalue()
    encoding = rnd.choice(("utf-8", "utf-8", "utf-8-sig", "cp1251", "utf-16", "utf-16-le",
                           "utf-32"))
    return text.encode(encoding, errors="replace")


def _json_value(rnd: random.Random, value: Any) -> Any:
    text = str(value)
    roll = rnd.random()
    if roll < 0.15 and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return json.loads(text)  # a JSON number
    if roll < 0.2:
        return rnd.choice((None, True, False, [], {}, [1, 2], {"a": 1}, 1e308, -0.0, 10**40))
    return text


def as_json(rnd: random.Random, rows: list[dict[str, Any]], lines: bool) -> bytes:
    objects = [{k: _json_value(rnd, v) for k, v in row.items()} for row in rows]
    if lines:
        parts = [json.dumps(o, ensure_ascii=rnd.random() < 0.5) for o in objects]
        if rnd.random() < 0.1:
            parts.insert(rnd.randrange(len(parts) + 1), rnd.choice(("", "{", "[1]", "null",
                                                                    '{"employee": 1e999999}')))
        return ("\n".join(parts) + "\n").encode("utf-8")
    roll = rnd.random()
    if roll < 0.05:
        shape: Any = {"rows": objects}
    elif roll < 0.08:
        shape = rnd.choice((None, 5, "text", [[1, 2]], [None]))
    else:
        shape = objects
    text = json.dumps(shape, ensure_ascii=rnd.random() < 0.5)
    if rnd.random() < 0.05:
        text = text.replace("1", "1e999999999", 1)
    return text.encode("utf-8")


def _cell_xml(ref: str, value: Any, rnd: random.Random) -> str:
    text = str(value)
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) and rnd.random() < 0.7:
        return f'<c r="{ref}"><v>{text}</v></c>'
    if text.startswith("=") and rnd.random() < 0.5:  # a formula with its cached value
        return f'<c r="{ref}"><f>{_xml(text[1:])}</f><v>{rnd.choice(("3", "0", "#N/A"))}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_xml(text)}</t></is></c>'


def _xml(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _ref(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


SHAPES = ("plain", "plain", "plain", "far_dimension", "nan", "bad_shared", "bad_date",
          "broken_xml", "chart_active", "big_cell", "wide_row", "control_chars", "no_sheet")


def as_xlsx(rnd: random.Random, rows: list[dict[str, Any]]) -> bytes:
    """A workbook written by hand (openpyxl refuses control characters, and the hostile
    shapes are not what any library would write)."""
    shape = rnd.choice(SHAPES)
    columns = _columns(rows)
    body = []
    matrix = [columns] + [[row.get(c, "") for c in columns] for row in rows]
    for r, values in enumerate(matrix, start=1):
        cells = "".join(_cell_xml(_ref(r, c), v, rnd) for c, v in enumerate(values))
        body.append(f'<row r="{r}">{cells}</row>')
    dimension = f"A1:{_ref(len(matrix), max(len(columns) - 1, 0))}"
    shared = ['<si><t>employee</t></si>']
    if shape == "far_dimension":
        dimension = "A1:XFD1048576"
        body.append('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    elif shape == "nan" and len(body) > 1:
        body[1] = body[1].replace("<v>", "<v>NaN", 1) if "<v>" in body[1] else \
            body[1].replace("</row>", '<c r="ZZ2"><v>NaN</v></c></row>')
    elif shape == "bad_shared":
        body.append(f'<row r="{len(matrix) + 1}"><c r="A{len(matrix) + 1}" t="s"><v>99</v>'
                    "</c></row>")
    elif shape == "bad_date":
        body.append(f'<row r="{len(matrix) + 1}"><c r="A{len(matrix) + 1}" t="d"><v>not a '
                    "date</v></c></row>")
    elif shape == "broken_xml":
        body.append("<row r=")
    elif shape == "big_cell":  # 40 MB of text in one cell, a few kilobytes zipped
        body.append(f'<row r="{len(matrix) + 1}"><c r="B{len(matrix) + 1}" t="inlineStr">'
                    f'<is><t>{"9" * 40_000_000}</t></is></c></row>')
    elif shape == "wide_row":
        cells = "".join(f'<c r="{_ref(len(matrix) + 1, c)}"><v>{c}</v></c>'
                        for c in range(0, 16384, 7))
        body.append(f'<row r="{len(matrix) + 1}">{cells}</row>')
    elif shape == "control_chars":
        body.append(f'<row r="{len(matrix) + 1}"><c r="A{len(matrix) + 1}" t="inlineStr">'
                    "<is><t>ctl&#x1b;[2J&#x7;</t></is></c></row>")
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="{dimension}"/><sheetData>{"".join(body)}</sheetData></worksheet>')
    active = ' activeTab="1"' if shape == "chart_active" else ""
    sheets = '<sheet name="Facts" sheetId="1" r:id="rId1"/>'
    rels = ('<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')
    overrides = ('<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
                 'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    if shape == "chart_active":
        sheets += '<sheet name="Chart" sheetId="2" r:id="rId2"/>'
        rels += ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
                 'officeDocument/2006/relationships/chartsheet" '
                 'Target="chartsheets/sheet1.xml"/>')
        overrides += ('<Override PartName="/xl/chartsheets/sheet1.xml" ContentType="'
                      'application/vnd.openxmlformats-officedocument.spreadsheetml.'
                      'chartsheet+xml"/>')
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'<bookViews><workbookView{active}/></bookViews><sheets>{sheets}</sheets>'
                '</workbook>')
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>' + overrides +
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    root_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
                 '.org/officeDocument/2006/relationships/officeDocument" '
                 'Target="xl/workbook.xml"/></Relationships>')
    parts = {
        "[Content_Types].xml": content_types,
        "_rels/.rels": root_rels,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + rels + "</Relationships>",
        "xl/sharedStrings.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        f'uniqueCount="1">{"".join(shared)}</sst>',
    }
    if shape != "no_sheet":
        parts["xl/worksheets/sheet1.xml"] = sheet
    if shape == "chart_active":
        parts["xl/chartsheets/sheet1.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><chartsheet xmlns="http://'
            'schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    if rnd.random() < 0.1:  # a mutation inside one part, zipped properly
        name = rnd.choice(list(parts))
        parts[name] = mutate_text(rnd, parts[name])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(name, text)
    return out.getvalue()


def mutate_text(rnd: random.Random, text: str) -> str:
    for _ in range(rnd.randint(1, 4)):
        if not text:
            break
        i = rnd.randrange(len(text))
        roll = rnd.random()
        if roll < 0.3:
            text = text[:i] + text[i + rnd.randint(1, 8):]
        elif roll < 0.6:
            text = text[:i] + rnd.choice(('"', "<", ">", "&", "\x00", "\n", "9" * 30, ",", ";",
                                          "\ufeff", "\x1b", "]]>", "{", "}")) + text[i:]
        elif roll < 0.8:
            text = text[:i]
        else:
            j = rnd.randrange(len(text))
            text = text[:i] + text[j:j + 40] + text[i:]
    return text


def mutate_bytes(rnd: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        if not data:
            break
        i = rnd.randrange(len(data))
        roll = rnd.random()
        if roll < 0.4:
            data[i] = rnd.randrange(256)
        elif roll < 0.6:
            del data[i:i + rnd.randint(1, 16)]
        elif roll < 0.8:
            data[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        else:
            del data[i:]
    return bytes(data)


def facts_file(rnd: random.Random, scheme: str, folder: Path) -> tuple[Path, str]:
    fmt = rnd.choice(FORMATS)
    rows = rows_for(rnd, scheme)
    if fmt == "csv":
        data = as_csv(rnd, rows)
    elif fmt == "xlsx":
        data = as_xlsx(rnd, rows)
    else:
        data = as_json(rnd, rows, lines=fmt == "jsonl")
    if rnd.random() < 0.15:
        data = mutate_bytes(rnd, data) if fmt != "xlsx" or rnd.random() < 0.3 else data
    path = folder / f"facts.{fmt}"
    path.write_bytes(data)
    return path, fmt


# ---------------------------------------------------------------- commands


def command(rnd: random.Random, scheme: str, facts: Path, folder: Path
            ) -> tuple[list[str], Path | None, str]:
    """The arguments, the -o file (or directory) if any, and the output's kind."""
    names, grades, _ = specs(scheme)
    ids = [r.get("employee", "") for r in bundled_rows(scheme)] or ["e0"]
    who = rnd.choice([*ids, "e0", rnd.choice(IDS)])
    lang = ["--lang", rnd.choice(("en", "ru"))]
    kind = rnd.choice(("eval", "eval", "eval", "eval", "rank", "forecast", "explain",
                       "statement", "statements", "compare", "target"))
    out: Path | None = None
    if kind in ("eval", "rank", "forecast"):
        fmt = rnd.choice(("table", "csv", "json", "jsonl", "xlsx"))
        if kind == "forecast" and fmt == "xlsx":
            fmt = "csv"
        args = ["eval", scheme, str(facts), "--format", fmt, *lang]
        if fmt == "xlsx" or rnd.random() < 0.5:
            out = folder / f"out.{fmt}"
            args += ["-o", str(out)]
        if fmt == "csv" and rnd.random() < 0.3:
            args.append("--excel")
        if fmt == "xlsx" and rnd.random() < 0.3:
            args += ["--sheets", rnd.choice(("grade", "team"))]
        if kind == "rank":
            args += ["--rank", rnd.choice(["total", *names[:2]])]
        if kind == "forecast":
            args += ["--elapsed", str(rnd.randint(1, 20)), "--total-days", "21"]
        if grades and rnd.random() < 0.1:
            args += ["--grade", rnd.choice(grades)]
        return args, out, fmt
    if kind == "explain":
        return ["explain", scheme, str(facts), "--employee", who, *lang], None, "text"
    if kind in ("statement", "statements"):
        fmt = rnd.choice(("md", "html"))
        args = ["statement", scheme, str(facts), "--format", fmt, *lang]
        if kind == "statements":
            out = folder / "statements"
            return [*args, "--all", "-o", str(out)], out, "dir"
        if rnd.random() < 0.5:
            out = folder / f"statement.{fmt}"
            args += ["-o", str(out)]
        return [*args, "-e", who], out, fmt
    if kind == "compare":
        fmt = rnd.choice(("table", "json", "csv"))
        args = ["compare", scheme, scheme, str(facts), "--format", fmt, *lang]
        if rnd.random() < 0.5:
            out = folder / f"compare.{fmt}"
            args += ["-o", str(out)]
        return args, out, fmt
    earn = rnd.choice(("130000", "130 000", "0", "-5", "1e999999999", "9" * 35, "abc"))
    return (["target", scheme, str(facts), "--employee", who, "--earn", earn,
             "--vary", rnd.choice(names or ["revenue"]),
             "--format", rnd.choice(("text", "json")), *lang], None, "text")


def scheme_command(rnd: random.Random, text: str, folder: Path
                   ) -> tuple[list[str], Path | None, str]:
    path = folder / "scheme.kpi"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    kind = rnd.choice(("doc", "compile", "fmt", "check"))
    if kind == "doc":
        fmt = rnd.choice(("md", "html"))
        out = folder / f"plan.{fmt}" if rnd.random() < 0.5 else None
        return (["doc", str(path), "--format", fmt, "--lang", rnd.choice(("en", "ru")),
                 *(["-o", str(out)] if out else [])], out, fmt)
    if kind == "compile":
        out = folder / "scheme.py" if rnd.random() < 0.5 else None
        return ["compile", str(path), *(["-o", str(out)] if out else [])], out, "py"
    if kind == "fmt":
        return ["fmt", *(["--check"] if rnd.random() < 0.5 else []), str(path)], None, "kpi"
    return ["check", str(path), "--format", rnd.choice(("text", "json", "github"))], None, "text"


# ---------------------------------------------------------------- one case


_LOADED: dict[str, Any] = {}


def _load_bundled_once() -> None:
    """The bundled schemes are not what this source fuzzes: parse and check each once per
    process (parsing them again was 60 % of a case's time). Other paths load as usual."""
    import kpidsl.api
    import kpidsl.versions

    if getattr(kpidsl.api.load, "bundled_once", False):
        return
    original = kpidsl.api.load
    bundled = str(ROOT / "rulesets") + "/"

    def load(path: Any, *args: Any, **kwargs: Any) -> Any:
        key = str(path)
        if args or kwargs or not key.startswith(bundled):
            return original(path, *args, **kwargs)
        if key not in _LOADED:
            _LOADED[key] = original(path)
        return _LOADED[key]

    load.bundled_once = True  # type: ignore[attr-defined]
    kpidsl.api.load = load  # type: ignore[assignment]
    kpidsl.versions.load = load  # type: ignore[assignment]


_COUNTS = re.compile(r"(\d+) rows? read, (\d+) evaluated, (\d+) failed")


def run_case(seed: int, folder: Path) -> Outcome:
    """One command on one generated input; `folder` is empty and private to this case."""
    from click.testing import CliRunner

    from kpidsl.cli import main

    _load_bundled_once()
    rnd = random.Random(seed)
    outcome = Outcome()
    if rnd.random() < 0.12:  # a hostile scheme through doc, compile, fmt, check
        from fuzz.schemes import mutated_schemes

        args, out, kind = scheme_command(rnd, mutated_schemes(seed), folder)
        outcome.facts_format = "scheme"
    else:
        scheme = rnd.choice(schemes())[0]
        facts, outcome.facts_format = facts_file(rnd, scheme, folder)
        args, out, kind = command(rnd, scheme, facts, folder)
    outcome.args = args
    outcome.command = args[0] + ("" if kind in ("text", "dir", "kpi", "py") else f" {kind}")
    if out is not None and kind != "dir" and rnd.random() < 0.3:
        out.write_bytes(b"OLD")  # an earlier output, to be replaced whole or kept
    before = out.read_bytes() if out is not None and out.is_file() else None
    started = time.perf_counter()
    result = CliRunner().invoke(main, args, catch_exceptions=True)
    outcome.seconds = time.perf_counter() - started
    code = result.exit_code
    outcome.stage = f"exit {code}"
    problems = outcome.problems
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(result.exception))
        problems.append(f"raised {type(result.exception).__name__}: {tb[-3000:]}")
        return outcome
    if code not in (0, 1, 2):
        problems.append(f"exit code {code}")
    text = result.stdout + result.stderr
    if "Traceback (most recent call last)" in text:
        problems.append("a traceback in the output")
    per_team = outcome.facts_format != "scheme" and "paid per team" in Path(
        args[1]).read_text(encoding="utf-8")  # one result per team: counts rows and teams
    for match in ([] if per_team else _COUNTS.finditer(result.stderr)):
        read, evaluated, failed = map(int, match.groups())
        if read != evaluated + failed:
            problems.append(f"counts do not add up: {match.group()}")
    problems += _check_output(out, kind, code, before)
    leftovers = [p.name for p in folder.rglob("*.tmp")]
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    return outcome


def _check_output(out: Path | None, kind: str, code: int, before: bytes | None) -> list[str]:
    if out is None:
        return []
    if kind == "dir":
        if code == 2 and out.exists() and any(out.iterdir()):
            return []  # statements written before a usage error are allowed (each whole)
        return []
    exists = out.is_file()
    if code == 2:
        now = out.read_bytes() if exists else None
        return [] if now == before else ["exit 2 but the output file changed"]
    if not exists:
        return [] if code == 1 else ["exit 0 without the output file"]
    data = out.read_bytes()
    if data == before:
        return [] if code == 1 else ["exit 0 but the output file was not replaced"]
    try:
        if kind == "csv":
            list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        elif kind == "json":
            json.loads(data)
        elif kind == "jsonl":
            for line in data.decode("utf-8").splitlines():
                json.loads(line)
        elif kind == "xlsx":
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(data), read_only=True)
            for sheet in book.worksheets:
                for _row in sheet.iter_rows(values_only=True):
                    pass
            book.close()
        elif kind in ("md", "html", "py", "table"):
            data.decode("utf-8")
    except Exception as exc:  # any failure to read it back is the finding
        return [f"the {kind} output does not read back: {type(exc).__name__}: {exc}"[:500]]
    return []
