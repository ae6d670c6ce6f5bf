"""`--engine duckdb` reading the facts file itself: CSV and Parquet scanned by DuckDB.

Every row passing the Python facts reader cost about 80 µs, more than the rest of the
DuckDB engine together (docs/sql.md). Here DuckDB reads the file, and one aggregate pass
(the survey) checks that every cell is in a grammar whose reading does not depend on the
rest of the file, on the locale or on anything the Python reader would warn about or
refuse: ASCII ids without duplicates (ignoring case) or totals words, numbers with at most
12 integer and 6 decimal digits, a decimal point or comma, thousands grouped by spaces, a
sign where the unit allows one, '%' where the unit allows one, bare numbers in a percent
column only when the column says how they are written or none is above 1. A file with any
cell outside it, or anything else unusual (title rows, blank lines, a quoted cell over two
lines, ragged rows, another encoding than UTF-8 or cp1251, several files, grades, teams
the scheme aggregates), is read by the Python reader as before, so every diagnostic about
it is the Python reader's by construction.

On a plain file the facts are cast to DECIMAL(18, 6) in SQL, the generated query computes
every payment, and results are streamed out in batches (memory flat in the row count).
Each Result keeps the facts as the Python reader gives them (the same Decimal digits), so
formats that show KPIs recompute them with the Python evaluator, byte for byte the Python
engine's output.
"""

from __future__ import annotations

import codecs
import decimal
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import add
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic, KpiError
from ..results import Result
from ..runtime import CONTEXT, ZERO, is_fraction_step
from ..units import Unit
from .cache import CachedQuery, native_query
from .engine import EXACT
from .parquet import ParquetSource, parquet_source

if TYPE_CHECKING:
    from ..api import Ruleset
    from ..facts import FactsReader
    from . import Query

BATCH = 50_000  # rows fetched from DuckDB at a time
HEAD = 4_096  # rows fetched at a time for results built in Python (a table's first rows)
# DuckDB spills the survey's id table to disk beyond this: 10 M rows peaked at 334 MB with
# 256 MB (792 MB with 1 GB), 1 M rows at 178 MB (measured on the id check alone)
MEMORY = "256MB"

_NON_NEGATIVE = (Unit.COUNT, Unit.MINUTES, Unit.HOURS, Unit.DAYS)
_PERCENT_SIGN = (Unit.PERCENT, Unit.RATIO, Unit.NUMBER)
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT")
_GROUP = "[ \u00a0\u202f\u2009\u2007]"  # the spaces the Python reader takes as thousands
_BITS = 62  # the survey's checks a BIGINT mask holds
_ID = "[!-~]([ -~]*[!-~])?"  # a plain id: printable ASCII, no space at either end


@dataclass
class Column:
    """A column of the file and what the Python reader makes of it."""

    sql: str  # the column's name in the DuckDB scan (c0, c1, … or the Parquet name)
    role: str  # id | team | fact | extra | ignored | grade
    key: str  # the fact or extra name
    percent: str | None = None  # a percent fact's reading of bare numbers
    simple: bool = False  # no sign, comma or space in any cell (the survey says)
    fraction: int = 6  # decimals a cell may have (4 when bare numbers are points)
    typed: str | None = None  # a Parquet DECIMAL or integer column: its value in the scan
    scale: int = 0  # that column's decimals (every cell's text has exactly these)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Unusual(Exception):
    """The file is not plain: the Python reader reads it."""


def _grammar(unit: Unit, comma: bool) -> tuple[str, str]:
    """(bare, with percent sign) regular expressions of a plain cell of `unit`."""
    sign = "" if unit in _NON_NEGATIVE else "-?"
    if unit is Unit.COUNT:
        return "[0-9]{1,12}", ""
    dec = "[.,]" if comma else "[.]"
    body = f"([0-9]{{1,12}}|[0-9]{{1,3}}({_GROUP}[0-9]{{3}}){{1,3}})({dec}[0-9]{{1,6}})?"
    bare = sign + body
    pct = f"{sign}([0-9]{{1,12}}|[0-9]{{1,3}}({_GROUP}[0-9]{{3}}){{1,3}})({dec}[0-9]{{1,4}})? ?%" \
        if unit in _PERCENT_SIGN else ""
    return bare, pct


def _plain_text(cell: str) -> str:
    """SQL: a plain cell as text Decimal() reads to the Python reader's digits (before the
    percent shift): no grouping spaces, a decimal point, no sign on a zero."""
    stripped = f"regexp_replace(regexp_replace(trim({cell}), ' ?%$', ''), '{_GROUP}', '', 'g')"
    text = f"replace({stripped}, ',', '.')"
    return f"(CASE WHEN regexp_full_match({text}, '-[0.]+') THEN substr({text}, 2) ELSE {text} END)"


def cell_sql(cell: str, unit: Unit, percent: str | None, comma: bool, simple: bool = False
             ) -> tuple[str, str, str]:
    """SQL for one cell of a fact: (is it plain, its text for Decimal(), is that text to be
    divided by 100). `percent` is a percent fact's reading of bare numbers; `comma` whether a
    comma may be the decimal separator (not under --locale en); `simple` that the survey
    found no sign, comma or space in the column (then the text is the cell, without '%')."""
    bare, pct = _grammar(unit, comma)
    if unit is Unit.PERCENT and percent == "points":
        bare = bare.replace("[0-9]{1,6}", "[0-9]{1,4}")  # ÷100 must fit 6 decimals
    ok = f"regexp_full_match(trim({cell}), '{bare}')"
    if pct:
        ok = f"({ok} OR regexp_full_match(trim({cell}), '{pct}'))"
    shifted = f"regexp_matches(trim({cell}), '%$')" if pct else "false"
    text = f"nullif({_plain_text(cell)}, '')"
    if simple:  # 3 regular expressions a cell fewer: a third of the query's time (1 M rows)
        shifted = f"ends_with({cell}, '%')" if pct else "false"
        text = f"nullif(replace({cell}, '%', ''), '')" if pct else f"nullif({cell}, '')"
    if unit is Unit.PERCENT and percent == "points":
        shifted = "true"
    return ok, text, shifted


def simple_grammar(unit: Unit, percent: str | None) -> str:
    """The plain cells of `unit` without a sign, a comma or spaces: digits, a decimal point,
    a '%' where the unit allows one. Such a cell is its own text for Decimal() (apart from
    the '%'), and the plain grammar (`_grammar`) holds every one of them."""
    if unit is Unit.COUNT:
        return "[0-9]{1,12}"
    fraction = 4 if unit is Unit.PERCENT and percent == "points" else 6
    bare = f"[0-9]{{1,12}}([.][0-9]{{1,{fraction}}})?"
    if unit in _PERCENT_SIGN:
        return f"{bare}|[0-9]{{1,12}}([.][0-9]{{1,4}})?%"
    return bare


def grouped(whole: str) -> str:
    """SQL: a non-negative BIGINT with thousands separators, as format('{:,}') writes it.
    Below 10**12 the groups come from integer division (format cost 0.3 s per million
    amounts, this 0.06 s, measured at 1 M rows); above, format itself."""
    def three(value: str) -> str:  # 7 → '007'
        return f"substr(CAST({value} % 1000 + 1000 AS VARCHAR), 2)"

    def head(power: int) -> str:
        return f"CAST({whole} // {10 ** power} AS VARCHAR)"

    # concat() of the parts, one string built, where || built one a part (the amounts of
    # b2b_manager: 0.97 → 0.79 s of CPU per million rows, one thread)
    return (f"(CASE WHEN {whole} < 1000 THEN CAST({whole} AS VARCHAR) "
            f"WHEN {whole} < 1000000 THEN concat({head(3)}, ',', {three(whole)}) "
            f"WHEN {whole} < 1000000000 THEN concat({head(6)}, ',', "
            f"{three(whole + ' // 1000')}, ',', {three(whole)}) "
            f"WHEN {whole} < 1000000000000 THEN concat({head(9)}, ',', "
            f"{three(whole + ' // 1000000')}, ',', {three(whole + ' // 1000')}, ',', "
            f"{three(whole)}) ELSE format('{{:,}}', {whole}) END)")


class NativeFile:
    """A plain facts file scanned by DuckDB, or Unusual."""

    def __init__(self, ruleset: Ruleset, reader: FactsReader, path: Path, con: Any) -> None:
        self.ruleset = ruleset
        self.reader = reader
        self.path = path
        self.con = con
        self.columns: list[Column] = []
        self.warnings: list[Diagnostic] = []
        self.temporary: Path | None = None
        self.scan = ""
        self.parquet = False
        self._lines_expected = 0

    # ---------------------------------------------------------------- the header
    def open_csv(self) -> None:
        from ..facts import _blank  # the reader's own notion of a blank cell
        from ..records import Unclosed

        reader = self.reader
        reader._reset()
        records = reader._headed(reader._records())
        header = next(records, None)
        if header is None or isinstance(header[1], Unclosed) or header[0] != 1:
            raise Unusual("no header on line 1")
        row, cells = header
        assert not isinstance(cells, Unclosed)
        if all(_blank(c) for c in cells):
            raise Unusual("blank header")
        reader._read_header(cells, row, (reader.delimiter or "\t").join(map(str, cells)))
        first = next(records, None)  # a merged second header row shows as data on line 3
        if first is None or first[0] != 2:
            raise Unusual("the first row is not on line 2")
        if reader.encoding not in ("utf-8-sig", "utf-8", "cp1251") or reader.notes:
            raise Unusual("encoding")
        self.warnings = list(reader.warnings)
        if any(w.code != "KPI505" for w in self.warnings):
            raise Unusual("warnings")
        source = self.path
        if reader.encoding == "cp1251":
            source = self._utf8_copy()
        width = len(reader._cols)
        for col in reader._cols:
            self.columns.append(Column(f"c{col.index - 1}", col.role, col.key))
        names = ", ".join(f"{_lit(c.sql)}: 'VARCHAR'" for c in self.columns)
        delimiter = reader.delimiter or ","
        self.scan = (f"read_csv({_lit(str(source))}, delim = {_lit(delimiter)}, quote = '\"', "
                     f"escape = '\"', header = false, skip = 1, auto_detect = false, "
                     f"strict_mode = true, null_padding = false, columns = {{{names}}})")
        self._lines_expected = self._count_lines(source)
        assert width == len(self.columns)

    def _utf8_copy(self) -> Path:
        """DuckDB reads UTF-8: a cp1251 export is decoded once into a temporary copy."""
        handle, name = tempfile.mkstemp(prefix="kpidsl-facts-", suffix=".csv")
        self.temporary = Path(name)
        decoder = codecs.getincrementaldecoder("cp1251")()
        with open(self.path, "rb") as source, os.fdopen(handle, "w", encoding="utf-8",
                                                         newline="") as target:
            while chunk := source.read(1 << 20):
                target.write(decoder.decode(chunk))
            target.write(decoder.decode(b"", final=True))
        return self.temporary

    @staticmethod
    def _count_lines(path: Path) -> int:
        lines, last = 0, b"\n"
        with open(path, "rb") as file:
            while chunk := file.read(1 << 22):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return lines + (last != b"\n")

    def open_parquet(self, source: ParquetSource) -> None:
        """The header of a Parquet file as its CSV export's line 1 reads, and a scan whose
        cells are the export's texts: VARCHAR as it is, DECIMAL and integers cast to VARCHAR
        (DuckDB's COPY writes that same text), their values kept typed beside it. Any other
        type, a header the export would not read back as these names, or a header the Python
        reader would not take on line 1 is unusual."""
        reader = self.reader
        reader._reset()
        names = [name for name, _kind in source.columns]
        # the export's line 1 must be read back as these names with ',' as the delimiter:
        # no quotes, no other delimiter the Python reader might sniff, no line break
        if len(names) < 2 or any(not n.strip() or set(n) & set('",;\t|\r\n') for n in names):
            raise Unusual("header")
        if reader.header_row not in (None, 1) or (
                reader.header_row is None and not reader.titles.names_a_fact(names,
                                                                            reader.specs)):
            raise Unusual("the header is not on line 1")
        reader._read_header(list(names), 1, ",".join(names))
        self.warnings = list(reader.warnings)
        if any(w.code != "KPI505" for w in self.warnings):
            raise Unusual("warnings")
        parts = []
        for col in reader._cols:
            at = col.index - 1
            name, kind = source.columns[at]
            column = Column(f"c{at}", col.role, col.key)
            upper = kind.upper()
            decimal_type = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", upper)
            if upper == "VARCHAR":
                parts.append(f"{_q(name)} AS {_q(column.sql)}")
            elif upper in _INTEGERS or decimal_type:
                column.typed = f"n{at}"
                column.scale = int(decimal_type.group(2)) if decimal_type else 0
                parts.append(f"CAST({_q(name)} AS VARCHAR) AS {_q(column.sql)}")
                parts.append(f"{_q(name)} AS {_q(column.typed)}")
            else:
                raise Unusual(f"column type {kind}")
            self.columns.append(column)
        self.parquet = True
        self.scan = (f"(SELECT {', '.join(parts)} FROM read_parquet({_lit(str(source.path))})) "
                     f"AS _scan")

    def close(self) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)

    # ---------------------------------------------------------------- the survey
    def readings(self) -> None:
        """Each fact column's reading, as the Python reader decides it from its header, the
        scheme and the command line; cells whose reading the file decides are not plain."""
        reader = self.reader
        for col in self.columns:
            if col.role != "fact":
                continue
            spec = reader.specs[col.key]
            declared = reader.percent or spec.percent
            header = next(c.header for c in reader._cols if f"c{c.index - 1}" == col.sql)
            col.percent = declared or ("points" if "%" in header else None)
            if spec.unit is Unit.PERCENT and col.percent == "points":
                col.fraction = 4

    def survey(self) -> None:
        """One scan of the file: a GROUP BY of the ids ignoring case whose aggregate ORs every
        cell's checks into bit masks, one bit a check: ids, and each fact column against its
        *simple* grammar (digits, a decimal point, a '%' where the unit allows one: one
        regular expression a cell). Only a cell outside the simple grammar is matched against
        the whole plain grammar (a sign, a comma, spaces: three expressions a cell, inside
        the same CASE, so simple cells never pay them), which says whether its column is
        read the long way. Before, the checks, the ids and the columns with such cells were
        three scans of the file."""
        reader = self.reader
        ids = [c for c in self.columns if c.role == "id"]
        if len(ids) != 1 or any(c.role == "grade" for c in self.columns):
            raise Unusual("grades")
        emp = _q(ids[0].sql)
        # each term of a mask as (its SQL, its SQL on a row the fast pattern matches)
        masks: list[list[tuple[str, str]]] = [[]]
        used = [0]  # bits taken in each mask

        def bits(count: int, term: Callable[[list[int]], str],
                 fast: Callable[[list[int]], str] | None = None) -> list[int]:
            """`count` bits for one term (in one mask); their global numbers. `fast`: the
            term on a row whose cells all match the fast pattern (None: the same term)."""
            if used[-1] + count > _BITS:
                masks.append([])
                used.append(0)
            local = list(range(used[-1], used[-1] + count))
            used[-1] += count
            made = term(local)
            masks[-1].append((made, made if fast is None else fast(local)))
            return [(len(masks) - 1) * _BITS + b for b in local]

        def check(condition: str, fast: str | None = None) -> int:
            def term(b: list[int], condition: str = condition) -> str:
                return f"(coalesce({condition}, false)::BIGINT << {b[0]})"

            return bits(1, term, None if fast is None else
                        (lambda b: "0" if fast == "false" else term(b, fast)))[0]

        # totals words ignoring case by the expression's flag, not lower() (0.05 s a million
        # ids); the same count, as an id outside printable ASCII is counted anyway
        totals = f"regexp_full_match({emp}, '(total|totals|grand +total|sum)[:.]*', 'i')"
        # on a fast row the id is printable ASCII: a totals word starts with t, g or s
        fatal = [check(f"{emp} IS NULL OR NOT regexp_full_match({emp}, '{_ID}') OR {totals}",
                       fast=f"ascii({emp}) IN (84, 116, 71, 103, 83, 115) AND {totals}")]
        # the fast pattern: the id and every fact column read as text, joined by chr(1) (in
        # no cell of either grammar, so each part matches one whole cell), in the simple
        # grammar (blank allowed where the fact is optional). One regular expression a row
        # where there were one an id and one to three a cell (1 M rows: survey 1.2 → ? s)
        pattern = [_ID]
        texts = [emp]
        quick: dict[int, Column] = {}  # the bit saying a column has cells not simple
        full: dict[int, Column] = {}  # bits saying such a cell is outside the plain grammar
        comma = reader.locale != "en"
        for col in self.columns:
            if col.role != "fact":
                continue
            spec = reader.specs[col.key]
            cell = _q(col.sql)
            covered = False  # its cells are in the fast pattern
            if col.typed is not None and col.scale <= (0 if spec.unit is Unit.COUNT
                                                       else col.fraction):
                # a number's text is simple unless it has a sign or 13 integer digits: no
                # cast to text, no regular expression
                value = _q(col.typed)
                not_simple = f"{value} < 0 OR {value} >= 1000000000000"
                if spec.required:
                    fatal.append(check(f"{value} IS NULL"))
                if spec.unit is Unit.PERCENT and col.percent is None:
                    fatal.append(check(f"abs({value}) > 1"))
            else:
                col.typed = None  # its text has more decimals than the unit allows: as text
                grammar = simple_grammar(spec.unit, col.percent)
                not_simple = (f"{cell} IS NOT NULL AND {cell} <> '' AND NOT regexp_full_match("
                              f"{cell}, '{grammar}')")
                pattern.append(f"(?:{grammar})" + ("" if spec.required else "?"))
                texts.append(cell)
                covered = True
                if spec.required:  # a blank required cell is outside the plain grammar too
                    fatal.append(check(f"{cell} IS NULL OR {cell} = ''", fast="false"))
                if spec.unit is Unit.PERCENT and col.percent is None:
                    # undeclared: bare numbers are fractions only when none is above 1. A
                    # cell DuckDB reads as a number above 1 is that, or outside the plain
                    # grammar; plain cells it cannot read ('1,5') are not simple: the plain
                    # grammar's bits below have them (a CASE: a failed TRY_CAST costs 0.7 µs,
                    # 0.7 s per million rows of '2.42%' when every cell paid it, measured)
                    fatal.append(check(f"abs(CASE WHEN NOT ends_with({cell}, '%') THEN "
                                       f"TRY_CAST({cell} AS DECIMAL(18, 6)) END) > 1"))
            # a cell outside the simple grammar: its bit, and where it is outside the plain
            # grammar too (which holds every simple cell), the bits that make the file unusual
            ok, text, shifted = cell_sql(cell, spec.unit, col.percent, comma)
            blank = f"({cell} IS NULL OR trim({cell}) = '')"
            outside = [f"{blank} OR NOT {ok}" if spec.required else f"NOT {blank} AND NOT {ok}"]
            if spec.unit is Unit.PERCENT and col.percent is None:
                outside.append(f"{ok} AND NOT {shifted} AND abs(TRY_CAST({text} AS "
                               f"DECIMAL(18, 6))) > 1")

            def term(b: list[int], not_simple: str = not_simple,
                     outside: list[str] = outside) -> str:
                found = " | ".join(f"(coalesce({o}, false)::BIGINT << {at})"
                                   for o, at in zip(outside, b[1:], strict=True))
                return f"(CASE WHEN {not_simple} THEN {1 << b[0]} | {found} ELSE 0 END)"

            taken = bits(1 + len(outside), term, (lambda b: "0") if covered else None)
            quick[taken[0]] = col
            full.update(dict.fromkeys(taken[1:], col))
        if self.parquet:  # a line break in a text cell would shift the export's row numbers
            for col in self.columns:
                if col.typed is None and col.role not in ("id", "fact"):
                    cell = _q(col.sql)
                    fatal.append(check(f"contains({cell}, chr(10)) OR contains({cell}, chr(13)) "
                                       f"OR contains({cell}, chr(0))"))
        separator = "\\x01"  # chr(1) in RE2's syntax
        fast = (f"regexp_full_match(concat({', chr(1), '.join(texts)}), "
                f"'{separator.join(pattern)}')")

        def mask(terms: list[tuple[str, str]]) -> str:
            whole = " | ".join(t for t, _f in terms)
            quick = " | ".join(f for _t, f in terms if f != "0") or "0"
            return f"CASE WHEN {fast} THEN {quick} ELSE {whole} END"

        # ids equal ignoring case: a GROUP BY, which DuckDB spills to disk past its memory
        # limit (count(DISTINCT …) held every id in memory: 635 MB at 10 M rows). Grouped by
        # a 64-bit hash of the id (0.38 s per million rows against 0.55 s by the text): two
        # ids that only share a hash send the file to the Python reader, never through
        inner = ", ".join(f"bit_or({mask(m)}) AS m{k}" for k, m in enumerate(masks))
        outer = ", ".join(f"coalesce(bit_or(m{k}), 0)" for k in range(len(masks)))
        found = self._aggregate(
            f"SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE n > 1), {outer} FROM "
            f"(SELECT count(*) AS n, {inner} FROM {self.scan} GROUP BY hash(lower({emp}))) "
            f"AS _ids")
        n, repeated = found[0], found[1]

        def bit(at: int) -> bool:
            return bool((found[2 + at // _BITS] >> (at % _BITS)) & 1)

        if n == 0 or any(bit(at) for at in fatal):
            raise Unusual("cells outside the plain grammar")
        if repeated:
            raise Unusual("ids repeated ignoring case")
        if not self.parquet and n + 1 != self._lines_expected:
            raise Unusual("blank lines or cells over several lines")
        self.rows = n
        for at, col in quick.items():
            col.simple = not bit(at)
        if any(bit(at) for at in full):
            raise Unusual("cells outside the plain grammar")

    def _aggregate(self, sql: str) -> tuple[Any, ...]:
        try:
            found = self.con.execute(sql).fetchall()[0]
        except Exception as exc:  # duckdb.Error: a row DuckDB cannot split as the header says
            raise Unusual(str(exc)) from None
        return tuple(found)

    # ---------------------------------------------------------------- the query
    def facts_view(self) -> str:
        """The scan as the generated query's facts table, with the raw texts carried."""
        reader = self.reader
        parts = []
        present = set()
        for col in self.columns:
            cell = _q(col.sql)
            if col.role == "id":
                parts.append(f"{cell} AS _employee")
            elif col.role == "team":
                parts.append(f"{cell} AS _team_text")
            elif col.role == "extra":
                parts.append(f"coalesce({cell}, '') AS {_q('_x_' + col.sql)}")
            elif col.role == "fact":
                present.add(col.key)
                spec = reader.specs[col.key]
                _ok, text, shifted = cell_sql(cell, spec.unit, col.percent,
                                              reader.locale != "en", col.simple)
                number = f"CAST({text} AS DECIMAL(18, 6))"
                if col.simple and col.typed is not None:  # the value as it is, not its text
                    text = cell
                    number = f"CAST({_q(col.typed)} AS DECIMAL(18, 6))"
                    points = spec.unit is Unit.PERCENT and col.percent == "points"
                    shifted = "true" if points else "false"
                parts.append(f"{text} AS {_q('_t_' + col.key)}")
                parts.append(f"{shifted} AS {_q('_s_' + col.key)}")
                parts.append(f"CAST(CASE WHEN {shifted} THEN CAST({number} * 0.01 AS "
                             f"DECIMAL(18, 6)) ELSE {number} END AS DECIMAL(18, 6)) AS "
                             f"{_q(col.key)}")
        if not any(c.role == "team" for c in self.columns):
            parts.append("NULL::VARCHAR AS _team_text")
        parts.append("_team_text AS team")
        for fact in reader.specs:
            if fact not in present:
                parts.append(f"NULL::DECIMAL(18, 6) AS {_q(fact)}")
        return f"SELECT {', '.join(parts)} FROM {self.scan}"


def plain_file(ruleset: Ruleset, reader: FactsReader, con: Any) -> NativeFile | None:
    """The file scanned by DuckDB when it is plain, else None (the Python reader reads it)."""
    native = NativeFile(ruleset, reader, Path(reader.path), con)
    try:
        if reader.format != "csv" or reader._text is not None:
            raise Unusual("format")
        source = parquet_source(reader)
        if source is not None:
            native.open_parquet(source)
        else:
            native.open_csv()
        native.readings()
        native.survey()
    except Unusual:
        native.close()
        return None
    except Exception:  # anything the Python reader reports better: it reads the file
        native.close()
        return None
    return native


def applicable(ruleset: Ruleset) -> bool:
    """Schemes the native path computes: one grade, no team aggregates, budgets or team pay."""
    from ..evaluate import uses_team

    checked = ruleset.checked
    if checked.header.per_team or checked.base.budgets or len(checked.variants) != 1:
        return False
    return not any(uses_team(i, checked) for i in ruleset._evaluation.infos.values())


@dataclass
class Hooks:
    """How the run layer hears of rows: read (`count`), evaluated, failed, warnings, and a
    row registered before the Python engine evaluates it (`remember`, for its file)."""

    warn: Callable[[list[Diagnostic]], None]
    count: Callable[[int], None]
    evaluated: Callable[[int], None]
    remember: Callable[[str, str, dict[str, str]], None]
    forget: Callable[[str], None]
    on_error: Callable[[str, int, list[Diagnostic]], None]


def native_run(ruleset: Ruleset, reader: FactsReader, month: int | None,
               hooks: Hooks) -> NativeRun | None:
    """The run of a plain file on DuckDB; None when the file or the scheme is not for this
    path (the Python reader then reads it)."""
    import duckdb

    if not applicable(ruleset):
        return None
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY}'")
    # on by default in DuckDB 2: a thread polling every query's progress for a bar nobody sees
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {_lit(tempfile.gettempdir())}")
    native = plain_file(ruleset, reader, con)
    if native is None:
        con.close()
        return None
    try:
        return NativeRun(ruleset, native, month, hooks)
    except KpiError:
        native.close()
        con.close()
        return None


class NativeRun:
    """The rows of a plain file, evaluated by the generated query, in file order."""

    def __init__(self, ruleset: Ruleset, native: NativeFile, month: int | None,
                 hooks: Hooks) -> None:
        self.ruleset, self.native, self.month, self.hooks = ruleset, native, month, hooks
        self.facts = [c.key for c in native.columns if c.role == "fact"]
        extras = [(c.key, "_x_" + c.sql) for c in native.columns if c.role == "extra"]
        self.extras = [k for k, _x in extras]
        self.carry = ("_employee", "_team_text", *(x for _k, x in extras),
                      *("_t_" + f for f in self.facts), *("_s_" + f for f in self.facts))
        # KpiError when the scheme cannot be exact or DuckDB cannot run it (KPI953)
        self.query = native_query(ruleset.checked, month, self.carry)
        self.pays = [p for p, _u in self.query.output.pays]
        # amounts known when compiling (a salary): their text is written once, not per row
        self.constant = {p: u.value for p, u in self.query.output.pays if u.value is not None}
        if len(self.constant) == len(self.pays):
            self.constant["total"] = sum(v for v in self.constant.values() if v is not None)
        self.bound = sum(u.bound for _p, u in self.query.output.pays)  # of any amount in steps
        self.consumed = 0  # file rows handed out so far
        python = ruleset._evaluation
        self.python = python
        self.info = next(iter(python.infos.values()))
        specs = native.reader.specs
        self.defaults = {f: s.default for f, s in specs.items()
                         if not s.required and s.default is not None}
        self.absent = {f: d for f, d in self.defaults.items() if f not in self.facts}
        step = ruleset.checked.payout_step
        exponent = step.normalize().as_tuple().exponent
        self.step = step
        self.exponent = exponent if isinstance(exponent, int) else 0
        self.fraction = is_fraction_step(step)
        self.warned = False
        self.csv_reason: str | None = None  # why the query does not write the CSV (lines.py)
        self.json_reason: str | None = None  # … JSON (formats.py)
        self.excel_reason: str | None = None  # … the spreadsheet's CSV (formats.py)
        # the query text of plans from the cache, and plans built here not yet stored
        # (kpidsl/sql/cache.py: cached_plan, rendered_query)
        self.rendered: list[tuple[list[tuple[str, str]], str]] = []
        self.unstored: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    @property
    def full_query(self) -> Query:
        """The query with its syntax tree and every column's expression (kpidsl/sql/lines.py
        builds on them), built when `query` came from the cache."""
        return self.query.full() if isinstance(self.query, CachedQuery) else self.query

    def sql(self, extra: Sequence[str] = (), offset: int = 0, limit: int | None = None) -> str:
        selected = [*(_q(c) for c in self.carry), '"fails"',
                    *(f'CAST("{p}_units" AS VARCHAR)' for p in self.pays), *extra]
        tail = (f" LIMIT {limit}" if limit is not None else "") + \
            (f" OFFSET {offset}" if offset else "")
        return (f"WITH facts AS ({self.native.facts_view()}) SELECT {', '.join(selected)} "
                f"FROM ({self.query.sql(pretty=False)}) AS q{tail}")

    def money(self, units: str) -> Decimal:
        if self.fraction:
            return Decimal(units).scaleb(self.exponent, EXACT)
        with decimal.localcontext(CONTEXT):
            return Decimal(units) * self.step

    def close(self) -> None:
        self.native.close()
        self.native.con.close()

    def _warn(self) -> None:
        if not self.warned and self.native.warnings:
            self.hooks.warn(self.native.warnings)
        self.warned = True

    def evaluate(self, record: Sequence[Any], number: int) -> tuple[Result | None,
                                                                    dict[str, str]]:
        """One row of the query as the Python engine gives it: its Result (None when it
        fails; the failure is reported), and its descriptive cells."""
        from ..ids import normalise

        facts, n_fact = self.facts, len(self.facts)
        first_fact = 2 + len(self.extras)
        employee = normalise(record[0])
        team_text = record[1]
        team = (team_text.strip() or None) if team_text is not None else None
        extra = dict(zip(self.extras, record[2:first_fact], strict=True)) if self.extras else {}
        values: dict[str, Decimal] = dict(self.absent) if self.absent else {}
        for i, fact in enumerate(facts):
            cell = record[first_fact + i]
            if cell is None:
                default = self.defaults.get(fact)
                if default is not None:
                    values[fact] = default
                continue
            value = Decimal(cell)
            values[fact] = value.scaleb(-2) if record[first_fact + n_fact + i] else value
        at = first_fact + 2 * n_fact
        hooks, python, info, month = self.hooks, self.python, self.info, self.month
        try:
            with decimal.localcontext(CONTEXT):
                prepared = python.prepare(info, values, employee, month)
        except KpiError as exc:
            hooks.remember(employee, self.native.reader.file, extra)
            hooks.on_error(employee, number, exc.diagnostics)
            return None, extra
        if record[at]:  # flagged by the query: the Python engine decides
            hooks.remember(employee, self.native.reader.file, extra)
            with decimal.localcontext(CONTEXT):
                result = python._guarded(info, prepared, employee, team, None, month, number,
                                         hooks.on_error)
            if result is not None:
                hooks.forget(employee)
            return result, extra
        amounts = tuple(self.money(u) for u in record[at + 1:at + 1 + len(self.pays)])
        total = reduce(add, amounts) if amounts else ZERO
        result = Result(info, (None, None, None, None, amounts, total), employee, prepared,
                        team, number, recomputable=True, month=month)
        result.release_details()
        return result, extra

    def results(self) -> Iterator[tuple[Result, dict[str, str]]]:
        """(result, extra) of every row from `consumed` on, in file order."""
        self._warn()
        if self.consumed >= self.native.rows:  # every row written already (lines.py)
            return
        count = self.hooks.count
        # the first HEAD rows by a query of their own: a table takes 1 001 rows from here and
        # the rest from table_tail, and an open query's threads run on past what is fetched
        # (1 M rows: 0.2-0.3 s of CPU spent on rows no one read); then the rest, if asked for
        limit: int | None = HEAD
        while True:
            cursor = self.native.con.cursor()  # each query its own: DuckDB 2 refuses a second
            cursor.execute(self.sql(offset=self.consumed, limit=limit))
            taken = 0
            while batch := cursor.fetchmany(HEAD):
                for record in batch:
                    self.consumed += 1
                    taken += 1
                    count(1)
                    result, extra = self.evaluate(record, self.consumed + 1)
                    if result is not None:
                        yield result, extra
            cursor.close()
            if limit is None or taken < limit:
                return
            limit = None

    # ---------------------------------------------------------------- the table format
    def flagged_batches(self, sql: str, write: Callable[[str], object],
                        each: Callable[[Any], None] | None = None) -> Iterator[Any]:
        """The query's Arrow batches of BATCH rows, each counted as read (and given to
        `each`): a batch with no row flagged is written whole from its `_line` column; the
        others are yielded for the caller to write row by row."""
        self._warn()
        relation = self.native.con.cursor().sql(sql)
        # DuckDB 2 calls it to_arrow_reader, 1.x fetch_arrow_reader
        stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
        for batch in stream(BATCH):
            n = batch.num_rows
            self.hooks.count(n)
            if each is not None:
                each(batch)
            if not batch.column("fails").true_count:
                write(_joined(batch.column("_line")))
                self.hooks.evaluated(n)
                self.consumed += n
                continue
            yield batch

    def amount_sql(self, units: str, lang: str) -> str | None:
        """SQL: amount_text of an amount given in steps, as kpidsl/cli/render writes it."""
        if not self.fraction or self.exponent > 0:
            return None
        scale = -self.exponent
        one = 10 ** scale

        def text(magnitude: str, small: bool) -> str:
            whole = f"({magnitude} // {one})" if scale else magnitude
            out = grouped(whole) if small else f"format('{{:,}}', {whole})"
            if scale:  # the decimals: 100 + 7 → '107' → '07'
                out = (f"concat({out}, '.', "
                       f"substr(CAST({magnitude} % {one} + {one} AS VARCHAR), 2))")
            return out

        # BIGINT where it fits: HUGEINT's // and % are 128-bit long divisions (the four
        # amounts of b2b_manager took 2.3 s per million rows that way, 1.2 s as BIGINT)
        small = text(f"CAST(abs({units}) AS BIGINT)", True)
        large = text(f"abs({units})", False)
        magnitude = f"CASE WHEN abs({units}) < {2**62} THEN {small} ELSE {large} END"
        out = f"(CASE WHEN {units} < 0 THEN concat('-', {magnitude}) ELSE {magnitude} END)"
        if lang == "ru":  # '119 800,00' with a no-break space
            out = f"replace(replace({out}, ',', chr(160)), '.', ',')"
        return out

    def line_sql(self, keys: Sequence[str], widths: Sequence[int], right: Sequence[bool],
                 lang: str) -> tuple[str, list[str], str] | None:
        """SQL: (a table row exactly as the renderer pads it, the amount texts it reads, and
        the condition that the row's cells are plain enough to measure in SQL), or None when
        the table has a column SQL does not write."""
        cells: list[tuple[str, int, bool]] = []
        texts: list[str] = []
        plain = ["true"]
        for key, width, to_right in zip(keys, widths, right, strict=True):
            if key == "employee":
                text = '"_employee"'
            elif key.startswith("extra:"):
                column = next((c for c in self.native.columns if c.role == "extra"
                               and c.key == key[6:]), None)
                if column is None:
                    text = "''"
                else:
                    text = f"coalesce({_q('_x_' + column.sql)}, '')"
                    # ASCII and Cyrillic letters: one column each, nothing to escape
                    plain.append(f"regexp_full_match({text}, '[ -~\u0400-\u04ff]*')")
            elif key == "total" or key.startswith("component:"):
                name = "total" if key == "total" else key[len("component:"):]
                if name != "total" and name not in self.pays:
                    return None
                value = self.constant.get(name)
                amount = self.amount_sql(f'"{name}_units"' if value is None else str(value),
                                         lang)
                if amount is None:
                    return None
                if value is not None:  # 0.3 s per million rows formatting it in each row
                    found = self.native.con.execute(f"SELECT {amount}").fetchall()[0]
                    text = _lit(found[0])
                else:
                    text = _q(f"_a_{len(texts)}")
                    texts.append(f"{amount} AS {text}")
            else:
                return None
            cells.append((text, width, to_right))
        # one concat() a line, each cell padded by repeat(' ', width - length(cell)) (0 or
        # less repeats nothing, as the renderer never cuts a cell; length() counts
        # characters, as the renderer pads ASCII and Cyrillic): 0.62 s per million lines of
        # b2b_manager against 1.17 s for one format('{:<8}  {:>12}  …') a line (lpad and rpad
        # cut a longer cell: 1.0 s with the guard); a constant cell is padded here, once
        parts: list[str] = []
        literal = ""
        for at, (text, width, to_right) in enumerate(cells):
            if at:
                literal += "  "
            if text.startswith("'"):
                shown = text[1:-1].replace("''", "'")
                literal += shown.rjust(width) if to_right else shown.ljust(width)
                continue
            pad = f"repeat(' ', {width} - length({text}))"
            if literal:
                parts.append(_lit(literal))
                literal = ""
            parts.extend((pad, text) if to_right else (text, pad))
        if literal:
            parts.append(_lit(literal))
        line = (f"concat({', '.join(parts)})" if len(parts) > 1 else parts[0]) if parts \
            else "''"
        if not cells[-1][2]:  # a last column of text may be blank: the renderer strips it
            line = f"rtrim({line})"
        return line, texts, " AND ".join(plain)

    def table_tail(self, write: Callable[[str], None], keys: Sequence[str],
                   widths: Sequence[int], right: Sequence[bool], lang: str,
                   row_line: Callable[[Result, dict[str, str]], str]
                   ) -> dict[str, Decimal] | None:
        """Write the rows from `consumed` on as table lines; the sums of the amount columns
        (None when this table cannot be written from SQL: the renderer writes it)."""
        found = self.line_sql(keys, widths, right, lang)
        if found is None:
            return None
        line, texts, plain = found
        amounts = [k for k in keys if k == "total" or k.startswith("component:")]
        units = {k: f'"{"total" if k == "total" else k[len("component:"):]}_units"'
                 for k in amounts}
        # the raw cells only where the renderer writes the row (flagged, or not plain, or an
        # amount of 2**62 steps or more: the others are summed as BIGINT, _sum)
        large = "".join(f" OR abs({u}) >= {2**62}" for u in units.values())
        python = f"(fails OR NOT ({plain}){large})"
        columns = [f"CASE WHEN {python} THEN {_q(c)} END AS {_q(c)}" for c in self.carry]
        columns += [f"{python} AS fails"]
        columns += [f'CASE WHEN {python} THEN CAST("{p}_units" AS VARCHAR) END' for p in self.pays]
        columns += [f"CASE WHEN NOT {python} THEN {line} || chr(10) END AS _line"]
        columns += [f"CAST(CASE WHEN {python} THEN 0 ELSE {u} END AS BIGINT) AS {_q('_u_' + k)}"
                    for k, u in units.items()]
        tail = f" OFFSET {self.consumed}" if self.consumed else ""
        sql = (f"WITH facts AS ({self.native.facts_view()}) SELECT {', '.join(columns)} FROM "
               f"(SELECT {', '.join(['*', *texts])} FROM ({self.query.sql(pretty=False)}) AS q) "
               f"AS q{tail}")
        sums = dict.fromkeys(amounts, 0)

        def add_up(batch: Any) -> None:
            for k in amounts:
                sums[k] += _sum(batch.column("_u_" + k))

        hooks = self.hooks
        base = len(self.carry)
        for batch in self.flagged_batches(sql, write, add_up):
            out = []
            for record in (tuple(r.values()) for r in batch.to_pylist()):
                self.consumed += 1
                if not record[base]:
                    out.append(record[base + 1 + len(self.pays)][:-1])
                    hooks.evaluated(1)
                    continue
                result, extra = self.evaluate(record, self.consumed + 1)
                if result is None:
                    continue
                hooks.evaluated(1)
                out.append(row_line(result, extra))
                for k in amounts:
                    value = result.total if k == "total" else \
                        result.components[k[len("component:"):]]
                    sums[k] += int(value.scaleb(-self.exponent, EXACT))
            if out:
                write("\n".join(out) + "\n")
        return {k: Decimal(v).scaleb(self.exponent, EXACT) for k, v in sums.items()}


def _sum(column: Any) -> int:
    """The exact sum of an Arrow column of BIGINTs below 2**62 in magnitude, without
    pyarrow.compute (its import cost 0.1 s of start-up): numpy over the buffer when the sum
    cannot leave 64 bits (always, below 2**47 steps each), else Python's integers."""
    import numpy as np
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        return sum(_sum(chunk) for chunk in column.chunks)
    if column.type != pa.int64() or column.null_count:
        return sum(int(v) for v in column.to_pylist() if v is not None)
    values = np.frombuffer(column.buffers()[1], dtype=np.int64, count=len(column),
                           offset=8 * column.offset)
    if len(values) and int(np.abs(values).max()) * len(values) >= 2**63:
        return sum(values.tolist())
    return int(values.sum())


def _joined(lines: Any) -> str:
    """A batch of lines (each ending in a newline, no NULL) as one text, read from the Arrow
    buffer that holds them one after another (a Python string a row and "\n".join cost
    0.3 s per million rows). A string type of another layout takes the slow way."""
    import pyarrow as pa

    if isinstance(lines, pa.ChunkedArray):
        return "".join(_joined(chunk) for chunk in lines.chunks)
    if lines.type not in (pa.string(), pa.large_string()) or lines.null_count:
        return "".join(lines.to_pylist())
    _validity, offsets, data = lines.buffers()
    raw = memoryview(offsets).cast("B")
    at = raw.cast("i") if lines.type == pa.string() else raw.cast("q")
    start, end = at[lines.offset], at[lines.offset + len(lines)]
    return str(memoryview(data)[start:end], "utf-8")


def write_table(write: Callable[[str], None], ruleset: Ruleset, run: Any, lang: str) -> bool:
    """`eval --format table` of a run DuckDB reads: the first rows through the renderer (they
    set the widths, as kpidsl/cli/render/table.py does), the rest as lines the query writes.
    False when this table cannot come from SQL: the renderer then writes it all."""
    from itertools import islice

    from ..cli.render.model import flat_row
    from ..cli.render.table import BUFFER, StreamedTable, _add, _layout, results_table
    from ..run import Evaluated

    native: NativeRun = run.native
    for with_name in (False, True):
        columns, _header = _layout(ruleset, with_name, lang)
        if native.line_sql([c.key for c in columns], [0] * len(columns),
                           [c.kind == "amount" for c in columns], lang) is None:
            return False
    head = list(islice(run.items, BUFFER + 1))
    if len(head) <= BUFFER:
        write(results_table(ruleset, head, lang) + "\n")
        return True
    table = StreamedTable(ruleset, head, lang)
    sums: dict[str, Any] = {}
    write(table.opening)
    for row in table.rows:
        _add(sums, row, table.columns)
    write("".join(table.row_line(row) for row in table.rows))

    def row_line(result: Result, extra: dict[str, str]) -> str:
        return table.row_line(flat_row(Evaluated(result, extra)))[:-1]

    tail = native.table_tail(write, [c.key for c in table.columns], table.widths,
                             table.right, lang, row_line)
    assert tail is not None
    run.items.close()  # the run is over: its progress meter closes, as after the last row
    for key, value in tail.items():
        sums[key] = sums.get(key, Decimal(0)) + value
    write(table.closing(sums, run.counts.evaluated))
    return True
