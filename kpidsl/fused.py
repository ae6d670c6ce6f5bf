"""`kpidsl eval` over one CSV file, fused: reading, evaluating and writing in one loop.

The general path is a chain of stages (records → the reader's rows → the run layer →
`evaluate_many` and its `Result`s → the renderer's cells), each a generator or an object a
row; on a million rows of the reference scheme that chain, not the arithmetic, was most of
the CPU (bench/README.md, "Third pass"). Here the loop over the file's records is generated
as Python source for this file's header, this scheme's layout and this output format, and
takes a clean row from its cells to its output line at once:

- the same checks a clean row passes in `FactsReader._clean_row` (a plain number, a count,
  '2.42%'; an id that is no totals word; every fact's reading settled), in the same
  context (ODD, as `evaluate_many` reads rows), then the same duplicate-id index
  (`SeenIds.add`: the look-alike key, KPI504) and the same totals-row sums (KPI523);
- the compiled evaluator called by its contract, `function(facts, team, month)`, in ODD;
- the figures a `Result` shows (values, attainments divided in SHOWN, payouts summed from
  the lines, components, the total) and their text as `plain_text` writes it, then one CSV
  row or one JSON object, byte for byte what the renderers write.

Every other record (the header, a blank, ragged, unclosed or totals row, a cell that is not
plain, a duplicate id, a row with a grade) goes to the reader's own `_record` and, when it
makes a row, through `evaluate_many` and the renderer's own cell function, so its
diagnostics are the ones it always had, in the same order; a row the evaluator fails on is
handed over as the FactRow the reader would have made. tests/test_fused.py runs both paths
over random files and compares stdout, stderr, the output file and the exit code.

Safety: the source is printed from fixed text; nothing from the file or the scheme reaches
it except as `repr()` of a string or of an int (fact names as dictionary keys, column
positions, JSON text of names) — no name is ever an identifier. It is compiled and run
in kpidsl.loader's closed namespace (min, max, abs and no imports); the few callables the
loop needs (`str`, `len`, the reader's index, the writer) are handed to it as values.
"""

from __future__ import annotations

import csv
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from .diagnostics import Diagnostic
from .evaluator import VariantInfo
from .runtime import ODD, ZERO

if TYPE_CHECKING:
    from .api import Ruleset
    from .facts import FactsReader
    from .run import Counts, RowFailure

FORMATS = ("csv", "jsonl", "json")


@dataclass
class Source:
    """What a run hands the fast path: its one CSV reader and its reporting."""

    ruleset: Ruleset
    reader: FactsReader
    counts: Counts
    record: Callable[[RowFailure], None]
    warn: Callable[[list[Diagnostic]], None]
    on_row: Callable[[int], None] | None
    on_done: Callable[[], None] | None
    month: int | None


def fusable(ruleset: Ruleset) -> VariantInfo | None:
    """The one variant a fused loop evaluates: a scheme whose rows stream one by one (no
    team aggregates, budgets or results per team, no sources), of the base grade."""
    from .evaluate import BASE, all_budgets, uses_team

    checked = ruleset.checked
    if checked.header.per_team or all_budgets(checked) or \
            any(uses_team(i, checked) for i in ruleset.infos.values()):
        return None
    return ruleset.infos.get(BASE)


# ---------------------------------------------------------------- the driver


def write_results(source: Source, fmt: str, stream: IO[str]) -> None:
    """Every row of the file, written to `stream` as `--format fmt` writes it."""
    from .cli.render.csvfile import flat_cells
    from .cli.render.jsonfile import _ENCODE
    from .cli.render.model import flat_columns, result_dict
    from .evaluate import BASE
    from .facts import RowError
    from .run import Evaluated, RowFailure, _at_row, from_row_error

    ruleset, reader, counts = source.ruleset, source.reader, source.counts
    info = ruleset.infos[BASE]
    month, on_row, record, warn = source.month, source.on_row, source.record, source.warn
    reader._reset()
    records = reader._headed(reader._records())
    summary = reader.summary
    state = {"warned": 0, "first": True}
    writer = csv.writer(stream, lineterminator="\n")
    columns: list[Any] = []
    cells_of: list[Callable[[Any], list[str]]] = []

    def header(extra: list[str]) -> None:
        """The CSV header, before the first result (its descriptive columns)."""
        state["first"] = False
        if fmt == "csv":
            columns[:] = flat_columns(ruleset, extra, detailed=True)
            cells_of[:] = [flat_cells(ruleset, columns)]
            writer.writerow([c.header for c in columns])

    def emit(item: Evaluated) -> None:
        """A result of the general path, written by the renderer's own functions."""
        if state["first"]:
            header(list(item.extra))
            if fmt == "json":
                stream.write("\n  ")
        elif fmt == "json":
            stream.write(",\n  ")
        if fmt == "csv":
            writer.writerow(cells_of[0](item))
        else:
            stream.write(_ENCODE(result_dict(item)))
            if fmt == "jsonl":
                stream.write("\n")

    def on_error(employee: str, row: int, diagnostics: list[Diagnostic]) -> None:
        file = reader.file
        record(RowFailure(file, row, employee, "", "", tuple(
            _at_row(d, file, row) if d.code == "KPI905" else d for d in diagnostics)))

    def item(made: Any, counted: bool = False) -> None:
        """A row of the general path: counted, its warnings said, then failed or evaluated
        (`run._one_file` and `evaluate_files`, one row at a time)."""
        if not counted:
            summary.rows_read += 1
            counts.rows_read += 1
            if on_row is not None:
                on_row(counts.rows_read)
        if len(reader.warnings) > state["warned"]:
            warn(reader.warnings[state["warned"]:])
            state["warned"] = len(reader.warnings)
        if type(made) is RowError:
            if not counted:
                summary.rows_failed += 1
            record(from_row_error(made))
            return
        if not counted:
            summary.rows_ok += 1
        # an iterator, not a tuple: its result keeps the details the output reads (a list's
        # results compute them again when read)
        for result in ruleset.evaluate_many(iter((made,)), None, month=month,
                                            on_error=on_error):
            counts.evaluated += 1
            emit(Evaluated(result, made.extra))

    def general(row: int, cells: Any) -> None:
        made = reader._record(row, cells)
        if made is not None:
            item(made)

    def handoff(row: int, employee: str, grade: Any, team: Any, values: dict[str, Decimal],
                extra: dict[str, str]) -> None:
        """A row read clean that the evaluator failed on (or of another grade): the
        FactRow the reader made, evaluated by `evaluate_many`."""
        from .facts import _fact_row

        item(_fact_row({"file": reader.file, "row": row, "employee": employee, "grade": grade,
                        "team": team, "values": values, "extra": extra}), counted=True)

    theirs = decimal.getcontext()
    decimal.setcontext(ODD.copy())  # rows are read in ODD, as evaluate_many reads them
    try:
        if fmt == "json":
            stream.write("[")
        # the general path until the header is read: the loop is made for its columns
        for row, cells in records:
            general(row, cells)
            if reader.columns is not None:
                break
        if reader.columns is not None:
            den = _denominators(info, month)
            loop = _compiled_loop(reader, info, fmt, on_row is not None, ruleset, den)
            if loop is not None:
                state["first"] = loop(records, {
                    **_HELPERS, "seen_add": reader._seen.add, "sums": reader._sums,
                    "readings": reader._readings, "function": info.function, "month": month,
                    "general": general, "handoff": handoff, "counts": counts,
                    "summary": summary, "header": header, "first": state["first"],
                    "first_of": lambda: state["first"], "writerow": writer.writerow,
                    "write": stream.write, "on_row": on_row, "odd": decimal.getcontext(),
                    "den": den, **_band_texts(info)})
            else:
                for row, cells in records:
                    general(row, cells)
        reader._finish()
        if len(reader.warnings) > state["warned"]:
            warn(reader.warnings[state["warned"]:])
            state["warned"] = len(reader.warnings)
    finally:
        decimal.setcontext(theirs)
        if source.on_done is not None:
            source.on_done()
    if state["first"] and fmt == "csv":
        header([])
    if fmt == "json":
        stream.write("\n]\n" if not state["first"] else "]\n")


def _band_texts(info: VariantInfo) -> dict[str, Any]:
    """Each line's band texts as JSON, by band (`Result._line_figures`), and the text of
    a band not listed."""
    bands = []
    for payment, kpi in info.layout.lines:
        texts = info.band_texts[info.line_curves[(payment, kpi)]]
        try:
            bands.append({band: _ENCODE_STR(text) for band, text in texts.items()})
        except (AttributeError, TypeError):  # a mapping that cannot list its bands
            bands.append({})

    def band_text(line: int, band: int) -> str:
        payment, kpi = info.layout.lines[line]
        return _ENCODE_STR(info.band_texts[info.line_curves[(payment, kpi)]][band])

    return {"bands": tuple(bands), "band_text": band_text}


def _denominators(info: VariantInfo, month: int | None) -> Any:
    """The tuple of denominators the evaluator returns for every row (a constant of its
    module for most schemes), found by one evaluation of ones; None when it cannot be."""
    facts = {name: Decimal(1) for name in info.facts}
    try:
        return info.function(facts, None, month).denominators
    except Exception:  # a scheme that cannot evaluate ones: the generic division
        return _NEVER


_NEVER = object()  # a denominators tuple no evaluation returns


# ---------------------------------------------------------------- helpers given to the loop


def _json_cell(value: object) -> str:
    """The JSON of `plain_text(value)`: null, or the digits as a string."""
    from .results import plain_text

    text = plain_text(value)  # type: ignore[arg-type]
    return "null" if text is None else _ENCODE_STR(text)


_ENCODE_STR: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _helpers() -> dict[str, Any]:
    from .cli.render.csvfile import _text
    from .facts import _PLAIN_CELL, _SIGNED_PERCENT, _TOTAL_INITIALS, _WHOLE_CELL, _total_word
    from .ids import normalise
    from .results import _shown_context, _shown_values
    from .runtime import shown
    from .values import _hundredth

    return {"Dec": Decimal, "plain": _PLAIN_CELL.fullmatch, "whole": _WHOLE_CELL.fullmatch,
            "signed": _SIGNED_PERCENT.fullmatch, "hundredth": _hundredth,
            "initials": _TOTAL_INITIALS, "total_word": _total_word, "normalise": normalise,
            "ZERO": ZERO, "setcontext": decimal.setcontext, "shown_ctx": _shown_context,
            "shown_values": _shown_values, "shown": shown, "text": _text,
            "jtext": _json_cell, "enc": _ENCODE_STR, "str": str, "len": len, "type": type,
            "list": list, "Exception": Exception}


_HELPERS: dict[str, Any] = {}


def _compiled_loop(reader: FactsReader, info: VariantInfo, fmt: str, ticks: bool,
                   ruleset: Ruleset, den: Any) -> Callable[..., bool] | None:
    """The loop for this header, scheme and format, compiled in the closed namespace;
    None when the file's columns leave no clean row (a fact without a column)."""
    from .loader import SAFE_BUILTINS

    if not _HELPERS:
        _HELPERS.update(_helpers())
    plan = reader._row_plan()
    if not plan:
        return None
    source = generate(plan, info, fmt, ticks=ticks, keep_totals=reader.keep_totals,
                      den=den, ruleset=ruleset)
    code = compile(source, "<kpidsl:fused>", "exec")
    namespace: dict[str, Any] = {"__builtins__": dict(SAFE_BUILTINS),
                                 "__name__": "kpidsl_fused"}
    exec(code, namespace)
    return namespace["fused"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the generator


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indent = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)


def generate(plan: tuple[Any, ...], info: VariantInfo, fmt: str, *, ticks: bool = False,
             keep_totals: bool = False, den: Any = None, ruleset: Ruleset | None = None,
             ) -> str:
    """The loop's source. `plan` is `FactsReader._row_plan()`: the id's position, each
    fact's (name, position, kind), the grade and team columns, the descriptive ones."""
    from .facts import _SIGNED, _WHOLE_CELL

    id_index, facts, teams, extras = plan
    width = 1 + max([id_index, *(i for _f, i, _k in facts), *(i for _r, i in teams),
                     *(i for _k, i in extras)])
    layout = info.layout
    n_kpis = len(layout.kpis)
    w = _Source()
    w.line("# Generated: the fused loop of `kpidsl eval` (kpidsl/fused.py).")
    w.line("def fused(records, H):")
    w.indent = 1
    for name in ("Dec", "plain", "whole", "signed", "hundredth", "initials", "total_word",
                 "normalise", "ZERO", "setcontext", "shown_values", "shown", "text", "jtext",
                 "enc", "str", "len", "type", "list", "seen_add", "sums", "readings", "function",
                 "month", "general", "handoff", "counts", "summary", "header", "first",
                 "writerow", "write", "on_row", "odd", "den", "Exception"):
        w.line(f"{name} = H[{name!r}]")
    w.line("shown_ctx = H['shown_ctx']()")
    w.line("bands = H['bands']; band_text = H['band_text']")
    names = [f for f, _i, _k in facts]
    for k, fact in enumerate(names):
        w.line(f"s{k} = sums.get({fact!r}, ZERO)")
    w.line(f"ready = len(readings) >= {len(facts)}")
    w.line("n = 0")
    w.line("dirty = False")
    # the denominators known while generating: each position divided, or not
    divide: list[tuple[int, int]] = []  # (group, index) of a value to divide by den[...]
    if isinstance(den, tuple) and len(den) == 3 * n_kpis:
        divide = [(k // n_kpis, k % n_kpis) for k, d in enumerate(den) if d is not None]
        for k, d in enumerate(den):
            if d is not None:
                w.line(f"q{k} = den[{k}]")
    w.line("for row, cells in records:")
    w.indent = 2
    w.line(f"if ready and type(cells) is list and len(cells) == {width}:")
    w.indent = 3
    w.line(f"raw = cells[{id_index}]")
    w.line("shown_id = raw.strip()")
    if keep_totals:
        w.line("if shown_id:")
    else:
        w.line("if shown_id and (shown_id[0].casefold()[0] not in initials "
               "or not total_word(shown_id)):")
    w.indent = 4
    tests = []
    for k, (fact, index, kind) in enumerate(facts):
        w.line(f"t{k} = cells[{index}]")
        if kind is _SIGNED:
            tests.append(
                f"(((m := signed(t{k})) is not None and len(t{k}) <= 30 "
                f"and (v{k} := hundredth(Dec(m[1]))) is not None) or "
                f"(readings[{fact!r}].percent == 'points' and len(t{k}) <= 29 "
                f"and plain(t{k}) is not None and (v{k} := hundredth(Dec(t{k}))) is not None))")
        else:
            match = "whole" if kind is _WHOLE_CELL else "plain"
            tests.append(f"len(t{k}) <= 29 and {match}(t{k}) is not None")
    w.line("if " + (" and ".join(f"({t})" for t in tests) or "True") + ":")
    w.indent = 5
    for k, (_fact, _index, kind) in enumerate(facts):
        if kind is not _SIGNED:
            w.line(f"v{k} = Dec(t{k})")
    w.line("employee = shown_id if raw.isascii() else normalise(raw)")
    w.line("if seen_add(employee, row) is None:")
    w.indent = 6
    for k in range(len(facts)):
        w.line(f"s{k} = s{k} + v{k}")
    w.line("dirty = True")
    grade_var = team_var = "None"
    for role, index in teams:
        w.line(f"{role}_cell = cells[{index}].strip() or None")
        if role == "team":
            team_var = "team_cell"
        else:
            grade_var = "grade_cell"
    for k, (_key, index) in enumerate(extras):
        w.line(f"e{k} = cells[{index}]")
    values = "{" + ", ".join(f"{fact!r}: v{k}" for k, fact in enumerate(names)) + "}"
    extra_dict = "{" + ", ".join(f"{key!r}: e{k}" for k, (key, _i) in enumerate(extras)) + "}"
    w.line(f"values = {values}")
    w.line("o = None")
    w.line(f"if {grade_var} is None:")
    w.line("    try:")
    w.line("        o = function(values, None, month)")
    w.line("    except Exception:")
    w.line("        pass")
    w.line("if o is None:  # a grade, or the evaluator failed: the general path says why")
    w.line("    if n:")
    w.line("        counts.rows_read += n; counts.evaluated += n")
    w.line("        summary.rows_read += n; summary.rows_ok += n; n = 0")
    w.line("    summary.rows_read += 1; summary.rows_ok += 1; counts.rows_read += 1")
    if ticks:
        w.line("    on_row(counts.rows_read)")
    w.line(f"    handoff(row, employee, {grade_var}, {team_var}, values, {extra_dict})")
    w.line("    first = first and H['first_of']()")
    w.line("    continue")
    w.line("n += 1")
    if ticks:
        w.line("on_row(counts.rows_read + n)")
    w.line("if first:")
    w.line(f"    header({[key for key, _i in extras]!r})")
    w.line("    first = False")
    if fmt == "json":
        w.line("    write('\\n  ')")
        w.line("else:")
        w.line("    write(',\\n  ')")
    # the figures, in SHOWN (Result.kpi_figures, _line_figures)
    w.line("setcontext(shown_ctx)")
    w.line("va = o[0]; pl = o[1]; at = o[2]")
    w.line("d = o[11]")
    w.line("if d is not None:")
    if divide:
        w.line("    if d is den:")
        groups = ("va", "pl", "at")
        for g in range(3):
            where = {i for gg, i in divide if gg == g}
            if where:
                items = ", ".join(f"{groups[g]}[{i}] / q{g * n_kpis + i}" if i in where
                                  else f"{groups[g]}[{i}]" for i in range(n_kpis))
                w.line(f"        {groups[g]} = ({items},)")
        w.line("    else:")
        w.line("        va, pl, at = shown_values(o)")
    else:
        w.line("    va, pl, at = shown_values(o)")
    w.line("la = o[7]")
    payouts = []
    for kpi in layout.kpis:
        lines = [i for i, (_p, line_kpi) in enumerate(layout.lines) if line_kpi == kpi]
        payouts.append(None if not lines else "ZERO + " + " + ".join(f"la[{i}]" for i in lines))
    for k, expr in enumerate(payouts):
        w.line(f"p{k} = {expr}")
    if fmt != "csv":
        w.line("sh = o[3]; fa = o[4]; fd = o[5]")
        for i in range(len(layout.lines)):
            w.line(f"x{i} = shown(sh[{i}])")
            w.line(f"f{i} = fa[{i}] if fd[{i}] is None else fa[{i}] / fd[{i}]")
    w.line("setcontext(odd)")
    w.line("pays = o[9]")
    if fmt == "csv":
        _csv_row(w, info, ruleset, extras, team_var)
    else:
        _json_object(w, info, extras, team_var, fmt)
    w.line("continue")
    w.indent = 2
    _write_back(w, names, reset=True)
    w.line("general(row, cells)")
    w.line("first = first and H['first_of']()")
    for k, fact in enumerate(names):
        w.line(f"s{k} = sums.get({fact!r}, ZERO)")
    w.line(f"ready = len(readings) >= {len(facts)}")
    w.indent = 1
    _write_back(w, names, reset=False)
    w.line("return first")
    return "\n".join(w.lines) + "\n"


def _write_back(w: _Source, names: list[str], reset: bool) -> None:
    """The loop's counts and totals-row sums handed back to the reader: before a record
    goes to the general path (`reset`: the loop starts counting afresh) and at the end."""
    w.line("if n:")
    w.line("    counts.rows_read += n; counts.evaluated += n")
    w.line("    summary.rows_read += n; summary.rows_ok += n" + ("; n = 0" if reset else ""))
    w.line("if dirty:")
    for k, fact in enumerate(names):
        w.line(f"    sums[{fact!r}] = s{k}")
    if reset:
        w.line("    dirty = False")


def _text_of(expr: str, json_text: bool = False) -> str:
    """The inline text of a figure: `str` where a Decimal has no exponent (plain_text)."""
    if json_text:
        return (f"('\"' + s + '\"' if type(y := {expr}) is Dec and 'E' not in (s := str(y)) "
                f"and 'e' not in s else jtext(y))")
    return (f"(s if type(y := {expr}) is Dec and 'E' not in (s := str(y)) and 'e' not in s "
            f"else text(y))")


def _csv_row(w: _Source, info: VariantInfo, ruleset: Ruleset | None,
             extras: list[tuple[str, int]], team_var: str) -> None:
    """The cells of `flat_columns(…, detailed=True)`, as `csvfile.flat_cells` makes them."""
    from .cli.render.model import flat_columns

    assert ruleset is not None
    layout = info.layout
    columns = flat_columns(ruleset, [key for key, _i in extras], detailed=True)
    extra_at = {f"extra:{key}": k for k, (key, _i) in enumerate(extras)}
    cells = []
    for column in columns:
        key = column.key
        kind, _, name = key.partition(":")
        if key == "employee":
            cells.append("employee")
        elif key in extra_at:
            cells.append(f"e{extra_at[key]}")
        elif key == "grade":
            cells.append(repr(info.name))
        elif key == "team":
            cells.append(f"({team_var} or '')" if team_var != "None" else "''")
        elif kind in ("kpi", "att", "pay") and name in layout.kpis:
            i = layout.kpis.index(name)
            if kind == "pay":
                cells.append(_text_of(f"p{i}") if _has_lines(layout, name) else "''")
            else:
                cells.append(_text_of(f"{'va' if kind == 'kpi' else 'at'}[{i}]"))
        elif kind == "component" and name in layout.pays:
            cells.append(_text_of(f"pays[{layout.pays.index(name)}]"))
        elif key == "total":
            cells.append(_text_of("o[10]"))
        else:
            cells.append("''")
    w.line("writerow([" + ", ".join(cells) + "])")


def _has_lines(layout: Any, kpi: str) -> bool:
    return any(line_kpi == kpi for _p, line_kpi in layout.lines)


def _json_object(w: _Source, info: VariantInfo, extras: list[tuple[str, int]],
                 team_var: str, fmt: str) -> None:
    """`Result.to_dict()` (with `extra`) as `json.JSONEncoder(ensure_ascii=False)` writes
    it: a template of the fixed text, the figures put in by `%`."""
    layout = info.layout

    def key(text: str) -> str:
        return _ENCODE_STR(text).replace("%", "%%") + ": "

    parts: list[str] = []  # template pieces, '%s' where a value goes
    values: list[str] = []

    def put(expr: str) -> None:
        parts.append("%s")
        values.append(expr)

    parts.append("{" + key("employee"))
    put("enc(employee)")
    parts.append(", " + key("grade") + _ENCODE_STR(info.name).replace("%", "%%") + ", "
                 + key("team"))
    put(f"(enc({team_var}) if {team_var} is not None else 'null')" if team_var != "None"
        else "'null'")
    parts.append(", " + key("kpis") + ("{" if layout.kpis else "{}"))
    for i, name in enumerate(layout.kpis):
        parts.append(("" if i == 0 else ", ") + key(name) + "{" + key("value"))
        put(_text_of(f"va[{i}]", True))
        parts.append(", " + key("plan"))
        put(_text_of(f"pl[{i}]", True))
        parts.append(", " + key("attainment"))
        put(_text_of(f"at[{i}]", True))
        parts.append(", " + key("payout"))
        put(_text_of(f"p{i}", True) if _has_lines(layout, name) else "'null'")
        parts.append("}")
    if layout.kpis:
        parts.append("}")
    parts.append(", " + key("lines") + ("[" if layout.lines else "[]"))
    for i, (payment, kpi) in enumerate(layout.lines):
        w.line(f"b = o[6][{i}]")
        w.line(f"bands{i} = bands[{i}].get(b) if b else "
               f"{_ENCODE_STR('outside every band')!r}")
        w.line(f"if bands{i} is None:")
        w.line(f"    bands{i} = band_text({i}, b)")
        parts.append(("" if i == 0 else ", ") + "{" + key("payment")
                     + _ENCODE_STR(payment).replace("%", "%%") + ", " + key("kpi")
                     + _ENCODE_STR(kpi).replace("%", "%%") + ", " + key("share"))
        put(_text_of(f"x{i}", True))
        parts.append(", " + key("factor"))
        put(_text_of(f"f{i}", True))
        parts.append(", " + key("band"))
        put(f"bands{i}")
        parts.append(", " + key("amount"))
        put(_text_of(f"la[{i}]", True))
        parts.append(", " + key("gate"))
        put(f"enc(o[8][{i}])")
        parts.append("}")
    if layout.lines:
        parts.append("]")
    parts.append(", " + key("components") + ("{" if layout.pays else "{}"))
    for i, name in enumerate(layout.pays):
        parts.append(("" if i == 0 else ", ") + key(name))
        put(_text_of(f"pays[{i}]", True))
    if layout.pays:
        parts.append("}")
    parts.append(", " + key("total"))
    put(_text_of("o[10]", True))
    parts.append(", " + key("notes") + "[]")
    if extras:
        parts.append(", " + key("extra") + "{")
        for k, (name, _i) in enumerate(extras):
            parts.append(("" if k == 0 else ", ") + key(name))
            put(f"enc(e{k})")
        parts.append("}")
    parts.append("}")
    template = "".join(parts)
    w.line(f"write({template!r} % ({', '.join(values)},))")
    if fmt == "jsonl":
        w.line("write('\\n')")
