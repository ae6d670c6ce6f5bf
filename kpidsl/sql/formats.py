"""`kpidsl eval --engine duckdb --format json|jsonl` and the CSV for a spreadsheet (`--excel`,
`--lang ru`): every item or line written by the query, byte for byte the Python engine's.

Both build on the figures kpidsl/sql/lines.py shows exactly (each KPI's fact with its
cell's digits or its formula's quotient, its attainment to 34 digits, amounts as counts of
the payout step). JSON adds each pay line: its share (known when compiling), its factor, band and
gate; the spreadsheet's CSV rounds values for display (amounts to the kopeck, percents to a
tenth, half even, as `excel_number` does), all from integers (a formula's value and
attainment from their exact fraction, which rounds as the shown 34 digits do wherever
2·10**places·|numerator| < 10**27; a row past it is the Python evaluator's).

A line's factor is shown as the Python engine divides it: the curve's value in the band ÷ the
plan (÷ the attainment's denominator for a formula or lower is better), in SHOWN. The
query writes it for bands that pay a constant (0 for a formula), the attainment, or the
attainment × a constant, and past a curve's cap the cap's own digits; each such band is
checked against the evaluator itself (facts inside the band, every exponent a cell can
have, a formula's divisor of several exponents) before the query is trusted with it. Rows
in any other band, where a gate acts, and every row the CSV sends to the Python evaluator,
are written by the Python evaluator in their place. A curve with a floor is not written.

The JSON array is streamed: '[' and each item as it comes, as `write_json` does; nothing is
held but a batch.
"""

from __future__ import annotations

import csv
import decimal
import io
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .. import lower as lo
from ..results import plain_text
from ..units import Unit
from .lines import (
    Figure,
    Plan,
    Shown,
    _lit,
    _q,
    csv_field,
    joined,
    money_text,
    quote_set,
    quotient_text,
    shown_figures,
    write_query,
)

if TYPE_CHECKING:
    from ..api import Ruleset
    from .native import NativeRun

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_MARK = re.compile(r'"\\u0000(\d+)\\u0000"')
# a text cell the JSON encoder writes as it is but for \ and ": no control character
_CONTROL = "regexp_matches({}, '[\\x00-\\x1f]')"


def json_text(text: str) -> str:
    """SQL: a text (without control characters) as a JSON string."""
    return f"('\"' || replace(replace({text}, '\\', '\\\\'), '\"', '\\\"') || '\"')"


def _quoted(sql: str) -> str:
    """SQL: a number's text (digits, '-', '.') as a JSON string."""
    return f"('\"' || {sql} || '\"')"


class _Template:
    """A JSON item with SQL in its places: built as a dictionary whose SQL values are
    markers, encoded once by the encoder the Python engine uses, and cut at the markers."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def put(self, sql: str) -> str:
        self.sql.append(sql)
        return f"\x00{len(self.sql) - 1}\x00"

    def line(self, b: Any, item: dict[str, Any], flags: list[str]) -> str:
        text = _ENCODE(item)
        parts = _MARK.split(text)
        out = []
        for i, part in enumerate(parts):
            if i % 2:
                out.append(self.sql[int(part)])
            elif part:
                out.append(_lit(part))
        return joined(b, out, flags)


# ---------------------------------------------------------------- pay lines' factors


def _form(pays: lo.Expr) -> tuple[str, Decimal | None] | None:
    """What a band pays, in the forms whose text the query writes: ('const', c),
    ('x', None) for the attainment, ('xc', c) for the attainment × c; None otherwise."""
    if isinstance(pays, lo.Number):
        return "const", pays.value
    if isinstance(pays, lo.CurveInput):
        return "x", None
    if isinstance(pays, lo.Binary) and pays.op == "*":
        left, right = pays.left, pays.right
        if isinstance(left, lo.CurveInput) and isinstance(right, lo.Number):
            return "xc", right.value
        if isinstance(right, lo.CurveInput) and isinstance(left, lo.Number):
            return "xc", left.value
    return None


def _samples(band: lo.Band) -> list[Decimal]:
    """Attainments inside a band (and on its closed ends)."""
    lower, upper = band.lower, band.upper
    out: list[Decimal] = []
    if lower is not None and upper is not None:
        out.append((lower + upper) / 2)
    elif lower is not None:
        out += [lower + Decimal("0.37"), lower * 3 + 1]
    elif upper is not None:
        out += [upper / 2, upper - Decimal("0.013")]
    if lower is not None and band.lower_inclusive:
        out.append(lower)
    if upper is not None and band.upper_inclusive:
        out.append(upper)
    return [t for t in out if t > 0]


def _factor_text(form: tuple[str, Decimal | None], value: Decimal, plan: Decimal) -> str:
    """The factor's text as the model of the form says (the evaluator is held to it)."""
    from ..runtime import ODD, SHOWN

    kind, c = form
    with decimal.localcontext(ODD):
        numerator = value if kind == "x" else c if kind == "const" else \
            value * c  # type: ignore[operator]
    with decimal.localcontext(SHOWN):
        shown = numerator / plan  # type: ignore[operator]
    return plain_text(shown)  # type: ignore[return-value]


def _checked_forms(native: NativeRun, shown: Shown
                   ) -> dict[int, dict[int, tuple[str, Decimal | None]]] | str:
    """Each pay line (by its place in the layout) → band → its form, for the bands whose
    factors the evaluator shows as the form says (capped at the curve's cap, shown as the
    cap), on facts inside the band at every exponent a cell can have (0 to -8; a formula's
    divisor of several exponents too); or why the lines cannot be written."""
    from ..runtime import ODD, SHOWN
    from .formula import facts_at

    info = native.info
    variant = next(iter(lo.lower(native.ruleset.checked).variants.values()))
    kpis = {k.name: k for k in shown.kpis}
    lowered = {(p.name, line.kpi): line for p in variant.payments for line in p.lines}
    base = {name: Decimal(i + 1) for i, name in enumerate(info.facts)}
    forms: dict[int, dict[int, tuple[str, Decimal | None]]] = {}
    for j, (payment, kpi_name) in enumerate(info.layout.lines):
        kpi = kpis.get(kpi_name)
        line = lowered.get((payment, kpi_name))
        curve = variant.curves.get(info.line_curves[(payment, kpi_name)])
        if kpi is None or line is None or curve is None or kpi.plan is None:
            return f"line {payment} for {kpi_name}: not a line on an attainment"
        if getattr(curve.kind, "name", "") != "bands":
            return f"line {payment} for {kpi_name}: a curve of kind {curve.kind.name}"
        if curve.floor is not None:
            return f"line {payment} for {kpi_name}: a curve with a floor"
        model = kpi.model
        if kpi.modelled and (model is None or model.attainment_model is None):
            return f"line {payment} for {kpi_name}: not a line on an attainment"
        bands: dict[int, tuple[str, Decimal | None]] = {}
        for number, band in enumerate(curve.bands, start=1):
            form = _form(band.pays)
            if form is None or (form[0] == "const" and (
                    (curve.cap is not None and form[1] is not None and form[1] > curve.cap)
                    or (kpi.modelled and form[1] != 0))):
                continue
            landed, agrees = False, True
            for t in _samples(band):
                for e in range(0, -9, -1):
                    for divisor in (Decimal(1), Decimal(7), Decimal("22.0"), Decimal("0.125")):
                        if model is not None and kpi.modelled:
                            made = facts_at(model, base, t, e, divisor)
                            if made is None:
                                continue
                            facts = made
                        elif divisor != 1:
                            break
                        else:
                            facts = dict(base)
                            facts[kpi.fact] = (t * kpi.plan).quantize(  # type: ignore[index]
                                Decimal(1).scaleb(e))
                        try:
                            with decimal.localcontext(ODD):
                                out = info.function(facts, None, native.month)
                        except Exception:
                            continue
                        if out.line_bands[j] != number or out.line_gates[j]:
                            continue  # a gate that acts: such a row is the Python evaluator's
                        landed = True
                        den = out.line_factor_dens[j]
                        if not kpi.modelled and (den is None or den != kpi.plan or
                                                 den.as_tuple() != kpi.plan.as_tuple()):
                            agrees = False
                            break
                        with decimal.localcontext(SHOWN):
                            factor = out.line_factors[j]
                            actual = plain_text(factor if den is None else factor / den)
                        if actual != _model_text(form, facts, kpi, curve.cap):
                            agrees = False
                            break
                    if not agrees:
                        break
                if not agrees:
                    break
            if landed and agrees:
                bands[number] = form
        forms[j] = bands
    return forms


def _model_text(form: tuple[str, Decimal | None], facts: dict[str, Decimal], kpi: Any,
                cap: Decimal | None) -> str | None:
    """A factor's text as the query writes it for these facts (the evaluator is held to it):
    the form's text, the cap's own where the form's value passes it."""
    from .formula import decimal_text

    kind, c = form
    if kpi.modelled:
        value, ideal, den_exponent = kpi.model.attainment_model(facts)
        c_exp = c.as_tuple().exponent if c is not None else 0
        assert isinstance(c_exp, int)
        if kind == "x":
            raw, text = value, decimal_text(value, ideal)
        elif kind == "xc":
            assert c is not None
            raw, text = value * Fraction(c), decimal_text(value * Fraction(c), ideal + c_exp)
        else:
            raw, text = Fraction(0), decimal_text(Fraction(0), c_exp - den_exponent)
    else:
        value_of = facts[kpi.fact]
        raw = Fraction(value_of) / Fraction(kpi.plan) * (
            Fraction(c) if kind == "xc" and c is not None else 1)
        if kind == "const":
            raw = Fraction(c) if c is not None else Fraction(0)
        text = _factor_text(form, value_of, kpi.plan)
    if cap is not None and raw > Fraction(cap):
        return plain_text(cap)
    return text


def _lines(native: NativeRun, shown: Shown) -> tuple[list[dict[str, str]], list[str]] | str:
    """Each pay line's JSON values (SQL, or constant text) and the flags of rows the query
    does not write."""
    from ..runtime import ODD, SHOWN

    forms = _checked_forms(native, shown)
    if isinstance(forms, str):
        return forms
    info = native.info
    variant = next(iter(lo.lower(native.ruleset.checked).variants.values()))
    out = native.full_query.output
    dialect = native.full_query.dialect.sqlglot
    b = shown.b
    kpis = {k.name: k for k in shown.kpis}
    by_pair: dict[tuple[str, str], Any] = {}
    for entry in out.lines:
        if (entry[0], entry[1]) in by_pair:
            return f"two lines of {entry[0]} for {entry[1]}"
        by_pair[(entry[0], entry[1])] = entry
    # a line's share, as the evaluator shows it, from one evaluation (it is a constant)
    facts = {name: Decimal(i + 1) for i, name in enumerate(info.facts)}
    with decimal.localcontext(ODD):
        probe = info.function(facts, None, native.month)
    items: list[dict[str, str]] = []
    flags: list[str] = []
    for j, (payment, kpi_name) in enumerate(info.layout.lines):
        found = by_pair.get((payment, kpi_name))
        if found is None:
            return f"line {payment} for {kpi_name}: not in the query"
        _pay, _kpi, share, _factor, band_int, units_int, gate_int = found
        static = share.static
        with decimal.localcontext(SHOWN):
            share_shown = probe.line_shares[j]
            if type(share_shown) is tuple:
                share_shown = share_shown[0] / share_shown[1]
        if static is None or Fraction(share_shown) != static:
            return f"line {payment} for {kpi_name}: a share the facts decide"
        kpi = kpis[kpi_name]
        band = b.append(band_int.e.sql(dialect=dialect))
        curve = info.line_curves[(payment, kpi_name)]
        texts = info.band_texts[curve]
        cases = []
        cap = variant.curves[curve].cap
        for number, form in sorted(forms[j].items()):
            kind, c = form
            c_exp = c.as_tuple().exponent if c is not None else 0
            assert isinstance(c_exp, int)
            if kind == "const" and kpi.modelled:  # 0 ÷ the attainment's denominator
                assert kpi.model is not None
                zero = f"({c_exp} - ({kpi.model.den_exponent}))"
                text = _quoted(f"CASE WHEN {zero} >= 0 THEN '0' ELSE '0.' || repeat('0', "
                               f"CAST(-{zero} AS INTEGER)) END")
            elif kind == "const":
                assert kpi.plan is not None
                text = _lit(_ENCODE(_factor_text(form, Decimal(0), kpi.plan)))
            elif kind == "x":
                text = _quoted(shown.figures[f"att:{kpi_name}"].text)
            elif kpi.modelled:  # the attainment n ÷ d × c: n·c ÷ d at its ideal + e(c)
                assert c is not None and kpi.model is not None
                exact = kpi.model.attainment
                assert exact is not None
                cf = Fraction(c)
                den: int | str = exact.den * cf.denominator if isinstance(exact.den, int) \
                    else f"({exact.den} * {cf.denominator})"
                figure = quotient_text(b, f"(CASE WHEN {band} = {number} THEN {exact.num} * "
                                          f"{cf.numerator} END)", den,
                                       f"({exact.ideal}) + ({c_exp})",
                                       exact.bound * abs(cf.numerator),
                                       exact.dbound * cf.denominator)
                if figure is None:
                    return f"line {payment} for {kpi_name}: a factor too long for 38 digits"
                flags += [f"({band} = {number} AND {f})" for f in figure.flags]
                text = _quoted(figure.text)
            else:
                assert c is not None and kpi.quotient is not None and kpi.plan is not None
                ratio = Fraction(c) / (10 ** 6 * Fraction(kpi.plan))
                p_exp = kpi.plan.as_tuple().exponent
                assert isinstance(p_exp, int)
                bound = kpi.quotient[3] * abs(ratio.numerator)
                # computed only in the band's rows: NULL elsewhere costs next to nothing
                figure = quotient_text(b, f"(CASE WHEN {band} = {number} THEN {kpi.units} * "
                                          f"{ratio.numerator} END)",
                                       ratio.denominator,
                                       f"(-{kpi.decimals} + ({c_exp}) - ({p_exp}))", bound)
                if figure is None:
                    return f"line {payment} for {kpi_name}: a factor too long for 38 digits"
                flags += [f"({band} = {number} AND {f})" for f in figure.flags]
                text = _quoted(figure.text)
            if cap is not None and kind != "const":  # past the cap: the cap, as it is
                assert kpi.quotient is not None
                a, d = kpi.quotient[0], kpi.quotient[1]
                times = (Fraction(c) if kind == "xc" and c is not None else Fraction(1)) / \
                    Fraction(cap)
                capped = (f"CAST({a} AS HUGEINT) * {times.numerator} > "
                          f"CAST({d} AS HUGEINT) * {times.denominator}")
                text = f"CASE WHEN {capped} THEN {_lit(_ENCODE(plain_text(cap)))} ELSE {text} END"
            cases.append(f"WHEN {band} = {number} THEN {text}")
        flags.append(f"{band} NOT IN ({', '.join(str(n) for n in forms[j]) or 'NULL'})"
                     if forms[j] else "true")
        factor = f"CASE {' '.join(cases)} END" if cases else "NULL"
        band_text = "CASE " + " ".join(
            f"WHEN {band} = {n} THEN {_lit(_ENCODE(t))}" for n, t in texts.items() if n) + \
            f" ELSE {_lit(_ENCODE('outside every band'))} END"
        from .generate import GATE_WORDS

        gate = b.append(gate_int.e.sql(dialect=dialect))
        # a gate that acts (withheld: the factor becomes 0; a limit on the factor: the
        # limit) changes the factor: such a row is the Python evaluator's
        flags.append(f"{gate} <> 0")
        gate_text = "CASE " + " ".join(f"WHEN {gate} = {n} THEN {_lit(_ENCODE(w))}"
                                       for w, n in GATE_WORDS.items()) + " END"
        amount = _quoted(money_text(b.append(units_int.e.sql(dialect=dialect)), shown.scale,
                                    units_int.bound))
        items.append({"payment": payment, "kpi": kpi_name,
                      "share": plain_text(share_shown),  # type: ignore[dict-item]
                      "factor": factor, "band": band_text, "amount": amount, "gate": gate_text})
    return items, flags


def json_plan(native: NativeRun) -> Plan | str:
    """The query's JSON item of each row (a line of JSON Lines, an item of the array), or
    why the query cannot write it."""
    from ..runtime import SHOWN

    shown = shown_figures(native)
    if isinstance(shown, str):
        return shown
    lines = _lines(native, shown)
    if isinstance(lines, str):
        return lines
    line_items, line_flags = lines
    info = native.info
    b, figures = shown.b, shown.figures
    t = _Template()
    flags = list(b.flags)
    kpis = {}
    for kpi in shown.kpis:
        name = kpi.name
        with decimal.localcontext(SHOWN):
            plan_text = plain_text(kpi.plan)
        attainment = None
        if kpi.quotient is not None:
            figure = figures[f"att:{name}"]
            flags += figure.flags
            attainment = t.put(_quoted(figure.text))
        kpis[name] = {"value": t.put(_quoted(figures[f"kpi:{name}"].text)),
                      "plan": plan_text, "attainment": attainment,
                      "payout": t.put(_quoted(figures[f"pay:{name}"].text)) if kpi.lines
                      else None}
    flags += line_flags
    team = b.append("trim(coalesce(\"_team_text\", ''))")
    flags.append("NOT regexp_full_match(coalesce(\"_team_text\", ''), '[ -~]*')")
    item: dict[str, Any] = {
        "employee": t.put(json_text('"_employee"')),
        "grade": info.name,
        "team": t.put(f"CASE WHEN {team} = '' THEN 'null' ELSE {json_text(team)} END"),
        "kpis": kpis,
        "lines": [{key: (t.put(v) if key in ("factor", "band", "amount", "gate") else v)
                   for key, v in line.items()} for line in line_items],
        "components": {pay: t.put(_quoted(figures[f"component:{pay}"].text))
                       for pay in info.layout.pays},
        "total": t.put(_quoted(figures["total"].text)),
        "notes": [],
    }
    if native.extras:
        extra = {}
        for key in native.extras:
            column = next(c for c in native.native.columns if c.role == "extra" and c.key == key)
            cell = _q("_x_" + column.sql)
            flags.append(_CONTROL.format(cell))
            extra[key] = t.put(json_text(cell))
        item["extra"] = extra
    line = t.line(b, item, flags)
    layers = [layer for layer in b.layers if layer]
    return Plan(b.appended, layers, line, " OR ".join(flags))


def write_json_items(write: Callable[[str], object], ruleset: Ruleset, run: Any,
                     array: bool) -> bool:
    """`eval --format json` (array) or `jsonl` of a run DuckDB reads, item by item as
    kpidsl/cli/render/jsonfile.py writes them. False when the query cannot write them: the
    renderer then writes them all."""
    from ..cli.render.jsonfile import _ENCODE as encode
    from ..cli.render.model import result_dict

    native: NativeRun = run.native
    found = json_plan(native)
    native.json_reason = found if isinstance(found, str) else None
    if isinstance(found, str):
        return False
    if not array:
        write_query(write, run, found, lambda item: encode(result_dict(item)) + "\n")
        return True
    # every item after ',\n  '; the first one's comma is dropped as it is written
    found.line = f"',' || chr(10) || '  ' || {found.line}"
    found.end = ""
    state = {"first": True}

    def once(text: str) -> object:
        if state["first"] and text:
            state["first"] = False
            text = text[1:]
        return write(text)

    write("[")
    write_query(once, run, found, lambda item: ",\n  " + encode(result_dict(item)))
    write("]\n" if state["first"] else "\n]\n")
    return True


# ---------------------------------------------------------------- the spreadsheet's CSV


def _rounded(units: str, divisor: int) -> str:
    """SQL: |units| ÷ divisor rounded half even, as an integer (units a count, divisor > 1)."""
    magnitude = f"abs({units})"
    q, r = f"({magnitude} // {divisor})", f"({magnitude} % {divisor})"
    return (f"({q} + CASE WHEN 2 * {r} > {divisor} OR (2 * {r} = {divisor} AND {q} % 2 = 1) "
            f"THEN 1 ELSE 0 END)")


def _rounded_q(n: str, d: int | str, places: int) -> str:
    """SQL: |n| ÷ d × 10**places rounded half even, as an integer (d > 0)."""
    magnitude = f"(abs({n}) * {10 ** places})"
    q, r = f"({magnitude} // {d})", f"({magnitude} % {d})"
    return (f"({q} + CASE WHEN 2 * {r} > {d} OR (2 * {r} = {d} AND {q} % 2 = 1) THEN 1 "
            f"ELSE 0 END)")


def _decimals(n: str, places: int, strip: bool) -> str:
    """SQL: a non-negative integer count of 10**-places as text; `strip`: trailing zeros
    and a bare point removed (Decimal.normalize, then 'f')."""
    one = 10 ** places
    whole = f"CAST({n} // {one} AS VARCHAR)"
    part = f"substr(CAST({n} % {one} + {one} AS VARCHAR), 2)"
    if not strip:
        return f"({whole} || '.' || {part})"
    return f"({whole} || CASE WHEN {n} % {one} = 0 THEN '' ELSE '.' || rtrim({part}, '0') END)"


def excel_plan(native: NativeRun, keys: Sequence[str], lang: str) -> Plan | str:
    """The query's line of the spreadsheet's CSV (people_columns), or why not."""
    shown = shown_figures(native)
    if isinstance(shown, str):
        return shown
    if shown.scale > 2:
        return "a payout step finer than 0.01 (the spreadsheet rounds amounts)"
    from ..checks import BASE
    from ..i18n import section

    info = native.info
    b, figures = shown.b, shown.figures
    delimiter = ";" if lang == "ru" else ","
    quoting = quote_set(delimiter, "\r\n")
    flags = list(b.flags)
    by_name = {k.name: k for k in shown.kpis}

    def decimal_sign(sql: str) -> str:
        return f"replace({sql}, '.', ',')" if lang == "ru" else sql

    def signed(units: str, magnitude: str, count: str) -> str:
        """'-' before a negative value (`magnitude` the text of `count`); a value that rounds
        to zero from below is '-0' in Python: the Python evaluator writes it."""
        flags.append(f"({units} < 0 AND {count} = 0)")
        return f"(CASE WHEN {units} < 0 THEN '-' ELSE '' END || {magnitude})"

    def amount(units: str) -> str:
        scaled = units if shown.scale == 2 else f"({units} * {10 ** (2 - shown.scale)})"
        return money_text(scaled, 2)

    def percent(n: str, units: str) -> str:
        """n: |value| × 1000 rounded half even (tenths of a percent)."""
        column = b.append(n)
        return signed(units, f"CASE WHEN {column} = 0 THEN '0' ELSE "
                             f"{_decimals(column, 1, True)} END", column) + " || '%'"

    def small(n: str, bound: int, places: int) -> str:
        """A quotient's numerator n where its value rounded to `places` decimals is the
        shown value's (that 34-digit Decimal, its ×100 even in 28 digits): where
        2·10**places·|n| < 10**27 the exact value and the shown one round alike (a value
        n ÷ d that is not a tie is 1 ÷ (2·10**places·d) or more from one, the shown one
        less than 10**(adjusted − 27) from it). Past it the row is the Python evaluator's
        (n is 0 there, so nothing overflows)."""
        limit = 10**27 // (2 * 10**places)
        if bound < limit:
            return n
        flags.append(f"abs({n}) >= {limit}")
        return f"(CASE WHEN abs({n}) < {limit} THEN {n} ELSE 0 END)"

    def modelled_value(q: Any, unit: Unit, shown_text: str) -> str:
        """A formula's value n ÷ d, rounded for display from integers as `excel_number`
        rounds its Decimal."""
        places = {Unit.PERCENT: 3, Unit.MONEY: 2, Unit.RATIO: 4}.get(unit, 0)
        n, d = small(q.num, q.bound, places), q.den
        if unit is Unit.PERCENT:
            return percent(_rounded_q(n, d, 3), n)
        if unit is Unit.MONEY:
            column = b.append(_rounded_q(n, d, 2))
            return signed(n, _decimals(column, 2, False), column)
        if unit is Unit.RATIO:
            column = b.append(_rounded_q(n, d, 4))
            return signed(n, f"CASE WHEN {column} = 0 THEN '0' ELSE "
                             f"{_decimals(column, 4, True)} END", column)
        whole = f"(CASE WHEN {n} < 0 THEN '-' ELSE '' END || CAST(abs({n}) // {d} AS VARCHAR))"
        return f"CASE WHEN {n} % {d} = 0 THEN {whole} ELSE {shown_text} END"

    cells: list[str] = []
    for key in keys:
        if key == "employee":
            cells.append(csv_field('"_employee"', quoting))
        elif key.startswith("extra:"):
            extra = next((c for c in native.native.columns if c.role == "extra"
                          and c.key == key[6:]), None)
            if extra is None:
                return f"a descriptive column {key[6:]} the file does not have"
            cells.append(csv_field(_q("_x_" + extra.sql), quoting))
        elif key == "grade":
            grade = section("TABLE", lang)["base_grade"] if info.name == BASE else info.name
            out = io.StringIO()
            csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow([grade, ""])
            cells.append(_lit(out.getvalue()[:-3]))
        elif key == "team":
            team = b.append("trim(coalesce(\"_team_text\", ''))")
            flags.append("NOT regexp_full_match(coalesce(\"_team_text\", ''), '[ -~]*')")
            cells.append(csv_field(team, quoting))
        elif key.startswith("kpi:"):
            kpi = by_name[key[4:]]
            unit = info.kpi_units[kpi.name]
            units = kpi.units
            if kpi.value_q is not None:
                cells.append(decimal_sign(modelled_value(kpi.value_q, unit, figures[key].text)))
                continue
            if unit is Unit.PERCENT:
                text = percent(_rounded(units, 1000), units)
            elif unit is Unit.MONEY:
                column = b.append(_rounded(units, 10 ** 4))
                text = signed(units, _decimals(column, 2, False), column)
            elif unit is Unit.RATIO:
                column = b.append(_rounded(units, 100))
                text = signed(units, f"CASE WHEN {column} = 0 THEN '0' ELSE "
                                     f"{_decimals(column, 4, True)} END", column)
            else:
                whole = f"(CASE WHEN {units} < 0 THEN '-' ELSE '' END || " \
                        f"CAST(abs({units}) // 1000000 AS VARCHAR))"
                text = (f"CASE WHEN {units} % 1000000 = 0 THEN {whole} ELSE "
                        f"{figures[key].text} END")
            cells.append(decimal_sign(text))
        elif key.startswith("att:"):
            kpi = by_name[key[4:]]
            if kpi.quotient is None:
                cells.append("''")
                continue
            a, d, _ideal, bound = kpi.quotient
            if kpi.modelled:
                a = small(a, bound, 3)
            elif bound >= 10 ** 20:
                return f"KPI {kpi.name}: an attainment too long to round for display exactly"
            magnitude = f"(abs({a}) * 1000)"
            q, r = f"({magnitude} // {d})", f"({magnitude} % {d})"
            n = f"({q} + CASE WHEN 2 * {r} > {d} OR (2 * {r} = {d} AND {q} % 2 = 1) THEN 1 " \
                f"ELSE 0 END)"
            cells.append(decimal_sign(percent(n, a)))
        elif key.startswith("pay:"):
            kpi = by_name[key[4:]]
            if not kpi.lines:
                cells.append("''")
                continue
            cells.append(decimal_sign(amount(_payout_units(native, shown, kpi.name))))
        elif key.startswith("component:"):
            pays = dict(native.full_query.output.pays)
            units_of = b.append(pays[key[10:]].e.sql(dialect=native.full_query.dialect.sqlglot))
            cells.append(decimal_sign(amount(units_of)))
        elif key == "total":
            cells.append(decimal_sign(amount('"total_units"')))
        else:
            return f"a column {key} the query does not write"
    parts = [cells[0]]
    for cell in cells[1:]:
        parts += [_lit(delimiter), cell]
    line = joined(b, parts, flags)
    layers = [layer for layer in b.layers if layer]
    return Plan(b.appended, layers, line, " OR ".join(flags) if flags else "false",
                "chr(13) || chr(10)")


def _payout_units(native: NativeRun, shown: Shown, kpi: str) -> str:
    """SQL: the sum of a KPI's pay lines in steps."""
    out = native.full_query.output
    dialect = native.full_query.dialect.sqlglot
    return "(" + " + ".join(f"CAST({shown.b.append(line[5].e.sql(dialect=dialect))} AS HUGEINT)"
                            for line in out.lines if line[1] == kpi) + ")"


def write_excel(write: Callable[[str], object], ruleset: Ruleset, run: Any, lang: str) -> bool:
    """The spreadsheet's CSV of a run DuckDB reads (kpidsl/cli/render/csvfile.py,
    `write_excel_csv`): the BOM and header, then every row as the query writes it. False when
    the query cannot write it."""
    from ..cli.render.model import excel_number, people_columns, people_row

    native: NativeRun = run.native
    columns = people_columns(ruleset, native.extras, lang)
    found = excel_plan(native, [c.key for c in columns], lang)
    native.excel_reason = found if isinstance(found, str) else None
    if isinstance(found, str):
        return False
    delimiter = ";" if lang == "ru" else ","
    header = io.StringIO()
    header.write("\ufeff")
    csv.writer(header, delimiter=delimiter, lineterminator="\r\n").writerow(
        [c.header for c in columns])
    write(header.getvalue())

    def row_text(item: Any) -> str:
        row = people_row(item, lang)
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(
            [excel_number(row.get(c.key), c.kind, row.get(f"unit:{c.key[4:]}"), lang)
             for c in columns])
        return out.getvalue()

    write_query(write, run, found, row_text)
    return True


__all__ = ["Figure", "excel_plan", "json_plan", "write_excel", "write_json_items"]
