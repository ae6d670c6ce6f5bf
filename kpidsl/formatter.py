"""`kpidsl fmt`: a scheme's AST written back in one canonical layout, comments kept.

The layout, in short (docs/cli.md has the whole of it):

- the header's clauses one per line under `scheme`, in a fixed order;
- runs of facts, constants, KPIs, budgets and drops not separated by a blank line are
  aligned in columns (two spaces after the widest cell); a KPI with a formula writes it on
  its first line and its other clauses on a continuation line under the plan column;
- curves, payments and examples are blocks: bands and pool items aligned in columns,
  `given` and `expect` wrapped at 90 characters;
- one blank line between statements of different kinds and around blocks; a blank line the
  author put between two statements stays (at most one); blank lines inside a statement go;
- numbers keep the digits and grouping they were written with (`3_000_000`, `2.1%`), so that
  the formatted scheme parses to the same syntax tree; operators become × and −.

Comments: a comment on its own line stays before the code line that follows it (with that
line's indentation); a comment after code on a line stays at the end of that line's output.
Formatting is idempotent: fmt(fmt(x)) == fmt(x), and parse(fmt(x)) == parse(x).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast
from .diagnostics import KpiError
from .exprtext import Printer, literal_text
from .parser import parse
from .source import SourceFile
from .units import Unit

LIMIT = 100  # the line length aimed at
WRAP = LIMIT  # given/expect lists wrap here
INLINE = LIMIT  # `pay x = formula` stays on one line up to here
GAP = "  "

GROUPED = (ast.Fact, ast.Constant, ast.Kpi, ast.Budget, ast.Drop)


def format_source(text: str, name: str = "<string>") -> str:
    """The canonical text of a scheme; raises KpiError when it does not parse."""
    source = SourceFile(name, text)
    ruleset, diagnostics = parse(source)
    if ruleset is None:
        raise KpiError(diagnostics)
    return _Formatter(ruleset, source).run()


# ---------------------------------------------------------------- expressions


def write_expr(expr: ast.Expr) -> str:
    """An expression as parseable text; literals exactly as written."""
    return _WRITER.text(expr)


def _literal(e: ast.Literal) -> str:
    if not e.text:
        return literal_text(e.value, Unit.NUMBER if e.unit is Unit.ANY else e.unit, e.currency)
    if e.unit is Unit.MONEY:
        return f"{e.text} {e.currency}" if e.currency else e.text
    return e.text


_WRITER = Printer(_literal, short_round=True)


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(node: ast.Decl | ast.Header) -> str:
    """The label and its translations: '"Revenue" ru "Выручка"'."""
    return _join(_main_label(node), _translations(node))


def _main_label(node: ast.Decl | ast.Header) -> str:
    return _string(node.label) if node.label or node.translations else ""


def _translations(node: ast.Decl | ast.Header) -> str:
    return " ".join(f"{lang} {_string(text)}" for lang, text in node.translations)


def _memory_clauses(h: ast.Header) -> list[str]:
    """The ledger's clauses (kpidsl/ledger/): paid monthly, draws, negative balances, clawbacks."""
    clauses: list[str] = []
    m = h.memory
    if m is None:
        return clauses
    if m.paid_every:
        clauses.append(f"paid {m.paid_every}")
    if m.carry_negative:
        clauses.append("carry negative balance")
    if m.draw is not None:
        d = m.draw
        kind = "recoverable" if d.recoverable else "non-recoverable"
        clauses.append(_join("draw", write_expr(d.amount), "a", d.period, kind,
                             f"recovered at most {write_expr(d.recovered_at_most)} a {d.period}"
                             if d.recovered_at_most is not None else ""))
    if m.clawback is not None:
        c = m.clawback
        clauses.append(_join("clawback", "at original rate" if c.basis == "rate" else
                             "amount paid", f"within {c.within_days} days"
                             if c.within_days is not None else ""))
    return clauses


def _head(indent: int, words: str, node: ast.Decl | ast.Header, rest: str, first: int,
          last: int) -> list[Row]:
    """`curve x "label" ru "…"`; past LIMIT the translations go under the label."""
    line = _join(words, _label(node), rest)
    if indent + len(line) <= LIMIT or not node.translations:
        return [Row(indent, first, last, text=line)]
    top = _join(words, _main_label(node))
    under = " " * (len(words) + 1) + _join(_translations(node), rest)
    return [Row(indent, first, last, text=top), Row(indent, last, last, text=under)]


def _months(values: tuple[ast.MonthValue, ...]) -> str:
    if not values:
        return ""
    return "by month " + ", ".join(f"{mv.month} {write_expr(mv.value)}" for mv in values)


def _gate(gate: ast.Gate) -> str:
    if gate.kind == ast.GateKind.ONLY_IF:
        return f"only if {write_expr(gate.value)}"
    text = f"{gate.kind} {write_expr(gate.value)}"
    return text + (f" unless {write_expr(gate.unless)}" if gate.unless is not None else "")


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------- layout


@dataclass
class Row:
    """A code line in the making: aligned cells (grouped statements) or finished text."""

    indent: int
    first: int  # source lines this output line stands for (comments attach by them)
    last: int
    prefix: str = ""  # 'fact ', 'for '... written before the aligned cells
    cells: list[str] = field(default_factory=list)
    tail: str = ""  # free text after the cells, not measured (a KPI's formula)
    text: str = ""  # finished text (rows that are not aligned)
    aligned: bool = False


@dataclass
class Statement:
    node: object
    kind: str
    rows: list[Row]
    first: int
    last: int
    section: int  # 0 top level, n for the n-th grade
    grouped: bool = False


class _Formatter:
    def __init__(self, ruleset: ast.Ruleset, source: SourceFile) -> None:
        self.ruleset = ruleset
        self.source = source
        self.lines = source.text.split("\n")

    def run(self) -> str:
        statements = self.statements()
        for group in self.groups(statements):
            rows = [r for st in group for r in st.rows if r.aligned]
            _align(rows, GAP if len(group) > 1 else " ")
            if group[0].kind == "kpi" and any(r.indent + len(r.text) > LIMIT for r in rows):
                heads, rests = [], []
                for st in group:
                    head, middle, rest = self.kpi_split(st.node, st.rows[0].indent)  # type: ignore[arg-type]
                    st.rows = [head, *middle, *([rest] if rest else [])]
                    heads.append(head)
                    rests += [rest] if rest else []
                _align(heads)
                _align(rests)
                if any(r.indent + len(r.text) > LIMIT for r in rests):
                    for rest in rests:  # columns would only spread it further
                        rest.text = GAP.join(c for c in rest.cells if c)
        return self.emit(statements)

    def groups(self, statements: list[Statement]) -> list[list[Statement]]:
        """Runs of same-kind one-line statements with no blank line between them."""
        groups: list[list[Statement]] = []
        previous: Statement | None = None
        for st in statements:
            if not st.grouped:
                previous = None
                continue
            joined = (previous is not None and previous.kind == st.kind
                      and previous.section == st.section
                      and not _blank_between(self.lines, previous.last, st.first))
            if not joined:
                groups.append([])
            groups[-1].append(st)
            previous = st
        return groups

    def emit(self, statements: list[Statement]) -> str:
        entries = [(index, number, row) for index, st in enumerate(statements)
                   for number, row in enumerate(st.rows)]
        before, after, dangling, tail = self.place_comments([r for _, _, r in entries])
        out: list[str] = []
        last_line = 0  # the source line of what was written last
        free = False  # was that a comment (source blank lines after it are kept)?

        def blank_before(line: int, boundary: bool, starts: bool) -> bool:
            """Blank lines: between statements by kind; else only where the source had one,
            and then only before a statement or after a comment (not inside a statement)."""
            if not out:
                return False
            return boundary or ((free or starts)
                                and _blank_between(self.lines, last_line, line))

        for i, (index, number, row) in enumerate(entries):
            starts = number == 0
            pad = " " * row.indent
            text = pad + row.text if row.text else ""
            indent = text[: len(text) - len(text.lstrip())] or pad
            boundary = starts and self._boundary(statements, index)
            for k, comment in enumerate(before.get(i, [])):
                # blank lines inside the statement (before a comment within it) do not count
                if blank_before(min(comment.line, row.first), boundary and k == 0, starts):
                    out.append("")
                out.append(indent + comment.text)
                last_line, free = comment.line, True
            if blank_before(row.first, boundary and not before.get(i), starts):
                out.append("")
            out.append(text + "".join(f"  {c.text}" for c in after.get(i, [])))
            last_line, free = max(row.last, last_line), False
            for comment in dangling.get(i, []):
                out.append(" " * comment.indent + comment.text)
                last_line, free = comment.line, True
        for comment in tail:
            if out and _blank_between(self.lines, last_line, comment.line):
                out.append("")
            out.append(" " * comment.indent + comment.text)
            last_line = comment.line
        return "\n".join(out).rstrip("\n") + "\n"

    def place_comments(self, rows: list[Row]):  # type: ignore[no-untyped-def]
        """Which output line each comment goes before, after, or (dangling) under."""
        before: dict[int, list[_Comment]] = {}
        after: dict[int, list[_Comment]] = {}
        dangling: dict[int, list[_Comment]] = {}
        tail: list[_Comment] = []
        blocks: list[list[_Comment]] = []
        for comment in comments_of(self.source.text):
            if comment.trailing:
                target = next((i for i, r in enumerate(rows)
                               if r.first <= comment.line <= r.last), None)
                if target is None:
                    target = max((i for i, r in enumerate(rows) if r.first <= comment.line),
                                 default=None)
                if target is not None:
                    after.setdefault(target, []).append(comment)
                    continue
            if blocks and blocks[-1][-1].line == comment.line - 1:
                blocks[-1].append(comment)
            else:
                blocks.append([comment])
        for block in blocks:
            start, end = block[0].line, block[-1].line
            target = next((i for i, r in enumerate(rows) if r.last >= start), None)
            previous = target - 1 if target is not None else len(rows) - 1
            if target is None:
                tail.extend(block)
            elif (previous >= 0 and rows[target].first > end
                  and _blank_between(self.lines, end, rows[target].first)
                  and not _blank_between(self.lines, rows[previous].last, start)
                  and rows[previous].last < start):
                dangling.setdefault(previous, []).extend(block)  # it ends what came before
            else:
                before.setdefault(target, []).extend(block)
        return before, after, dangling, tail

    @staticmethod
    def _boundary(statements: list[Statement], index: int) -> bool:
        """Does a blank line separate this statement from the one before, by kind?"""
        if index == 0:
            return False
        a, b = statements[index - 1], statements[index]
        if b.kind == "grade":
            return True
        if a.kind == "grade" or b.section > 0:
            return False  # inside a grade, blank lines are where the author put them
        return a.kind != b.kind or not (a.grouped and b.grouped)

    # ---- statements to rows
    def statements(self) -> list[Statement]:
        r = self.ruleset
        out = [Statement(r.header, "header", self.header(r.header), r.header.span.line,
                         r.header.span.end_line, 0)]
        for node in r.statements:
            out.append(self.statement(node, 0, 0))
        for index, grade in enumerate(r.grades, start=1):
            first = grade.span.line
            rows = _head(0, f"grade {grade.name}", grade,
                         f"based on {grade.based_on}" if grade.based_on else "", first, first)
            out.append(Statement(grade, "grade", rows, first, first, index))
            for node in grade.statements:
                out.append(self.statement(node, 2, index))
        return out

    def statement(self, node: ast.Statement, indent: int, section: int) -> Statement:
        first, last = node.span.line, node.span.end_line
        kind = type(node).__name__.lower()
        method = getattr(self, f"s_{kind}")
        rows = method(node, indent, first, last)
        return Statement(node, kind, rows, first, last, section, isinstance(node, GROUPED))

    def header(self, h: ast.Header) -> list[Row]:
        first, last = h.span.line, h.span.end_line
        rows = _head(0, f"scheme {h.name}", h, "", first, h.name_span.end_line or first)
        clauses = []
        if h.currency:
            clauses.append(f"currency {h.currency}")
        if h.period:
            clauses.append(f"period {h.period}")
        if h.sector:
            clauses.append(f"sector {h.sector}")
        if h.version:
            clauses.append(f"version {_string(h.version)}")
        if h.effective_from:
            clauses.append(_join("effective from", h.effective_from,
                                 f"to {h.effective_to}" if h.effective_to else ""))
        for rule in h.rounding:
            mode = "" if rule.mode == "half up" else rule.mode
            clauses.append(_join("round", rule.target, "to", write_expr(rule.step), mode))
        if h.per_team:
            clauses.append("paid per team")
        clauses.extend(_memory_clauses(h))
        for clause in clauses:  # clauses have no spans of their own: they stand for the header
            rows.append(Row(2, min(rows[-1].last + 1, last), last, text=clause))
        return rows

    def s_fact(self, n: ast.Fact, indent: int, first: int, last: int) -> list[Row]:
        missing = f"if missing {write_expr(n.if_missing)}" if n.if_missing is not None else ""
        unit = f"{n.unit.value} {n.percent}" if n.percent else n.unit.value
        if n.aggregate is not None:  # computed from a source's rows: the aggregate under it
            from .sources.text import aggregate_text

            return [Row(indent, first, last, "fact ",
                        [n.name, unit, _main_label(n), _translations(n)], aligned=True),
                    Row(indent, last, last, "     ", ["", ""],
                        tail=_join(f"= {aggregate_text(n.aggregate)}", missing), aligned=True)]
        if not n.column:
            return [Row(indent, first, last, "fact ",
                        [n.name, unit, _main_label(n), _translations(n), missing],
                        aligned=True)]
        # the export's column name goes on its own line under the label: long, and read apart
        return [Row(indent, first, last, "fact ",
                    [n.name, unit, _main_label(n), _translations(n)], aligned=True),
                Row(indent, last, last, "     ", ["", ""],
                    tail=_join(f"from column {_string(n.column)}", missing), aligned=True)]

    def s_constant(self, n: ast.Constant, indent: int, first: int, last: int) -> list[Row]:
        value = _join(f"= {write_expr(n.value)}", _months(n.by_month))
        return [Row(indent, first, last, "constant ",
                    [n.name, _main_label(n), _translations(n), value], aligned=True)]

    def s_kpi(self, n: ast.Kpi, indent: int, first: int, last: int) -> list[Row]:
        """One line, with a formula continued under the plan column (see kpi_split)."""
        names = [n.name, _main_label(n), _translations(n)]
        clauses = _kpi_clauses(n)
        if n.formula is None:
            return [Row(indent, first, last, "kpi ", [*names, *clauses], aligned=True)]
        formula = f"= {write_expr(n.formula)}"
        if not any(clauses):
            return [Row(indent, first, last, "kpi ", names, tail=formula, aligned=True)]
        split = n.formula.span.end_line or first
        return [Row(indent, first, split, "kpi ", names, tail=formula, aligned=True),
                Row(indent, max(first, min(split + 1, last)), last, "    ",
                    ["", "", "", *clauses], aligned=True)]

    @staticmethod
    def kpi_split(n: ast.Kpi, indent: int) -> tuple[Row, list[Row], Row | None]:
        """The layout for long lines: name and labels, then `= formula`, then the clauses."""
        first, last = n.span.line, n.span.end_line
        clauses = _kpi_clauses(n)
        head_end = first
        head = Row(indent, first, head_end, "kpi ", [n.name, _main_label(n), _translations(n)],
                   aligned=True)
        middle = []
        if n.formula is not None:
            middle.append(Row(indent + 2, n.formula.span.line or first,
                              n.formula.span.end_line or first,
                              text=f"= {write_expr(n.formula)}"))
        rest = None
        if any(clauses):
            start = (middle[-1].last + 1) if middle else head_end + 1
            rest = Row(indent + 2, min(start, last), last, "", clauses, aligned=True)
        return head, middle, rest

    def s_budget(self, n: ast.Budget, indent: int, first: int, last: int) -> list[Row]:
        return [Row(indent, first, last, "budget ",
                    [n.name, _main_label(n), _translations(n), f"cap {write_expr(n.cap)}",
                     f"for {n.component}",
                     "per team" if n.per_team else ""], aligned=True)]

    def s_drop(self, n: ast.Drop, indent: int, first: int, last: int) -> list[Row]:
        return [Row(indent, first, last, text=f"drop {n.name}")]

    def s_curve(self, n: ast.Curve, indent: int, first: int, last: int) -> list[Row]:
        rows = _head(indent, f"curve {n.name}", n, "", first, first)
        body = n.kind.format_rows(n, indent + 2, first)  # the kind's lines (kpidsl/curvekinds)
        _align([r for r in body if r.cells], gap="   ")
        rows += body
        end = rows[-1].last
        for word, limit in (("cap", n.cap), ("floor", n.floor)):
            if limit is not None:
                line = limit.span.line or end
                rows.append(Row(indent + 2, line, limit.span.end_line or line,
                                text=f"{word} {write_expr(limit)}"))
        if n.uncapped is not None:
            line = n.uncapped.line or end
            rows.append(Row(indent + 2, line, line, text="uncapped"))
        return rows

    def s_source(self, n: ast.Source, indent: int, first: int, last: int) -> list[Row]:
        from .sources.text import source_lines

        rows = _head(indent, f"source {n.name}", n, "", first, first)
        for text in source_lines(n):
            rows.append(Row(indent + 2, rows[-1].last, last, text=text))
        return rows

    def s_pay(self, n: ast.Pay, indent: int, first: int, last: int) -> list[Row]:
        head = _join("pay", n.name, _label(n))
        rows: list[Row] = []
        if n.each is not None:  # paid per deal (kpidsl/sources/)
            from .sources.text import each_text

            rows += _head(indent, f"pay {n.name}", n, "", first, first)
            for text in each_text(n.each):
                rows.append(Row(indent + 2, rows[-1].last, last, text=text))
        elif n.pool is not None:
            rows += _head(indent, f"pay {n.name}", n, f"pool {write_expr(n.pool)}", first,
                          n.pool.span.end_line or first)
        elif n.formula is not None:
            formula = f"= {write_expr(n.formula)}"
            end = n.formula.span.end_line or first
            if indent + len(head) + 1 + len(formula) <= INLINE:
                rows.append(Row(indent, first, end, text=f"{head} {formula}"))
            else:
                rows += _head(indent, f"pay {n.name}", n, "", first, first)
                rows.append(Row(indent + 2, n.formula.span.line or first, end, text=formula))
        else:
            rows += _head(indent, f"pay {n.name}", n, "", first, first)
        for gate in n.gates:
            line = gate.span.line or rows[-1].last
            rows.append(Row(indent + 2, line, gate.span.end_line or line, text=_gate(gate)))
        items = [Row(indent + 2, i.span.line, _item_end(i), "for ",
                     [i.kpi,
                      f"weight {write_expr(i.weight)}" if i.weight is not None else
                      f"amount {write_expr(i.amount)}" if i.amount is not None else "",
                      f"curve {i.curve}" if i.curve else "",
                      " ".join(_gate(g) for g in i.gates)]) for i in n.items]
        _align(items)
        return rows + items

    def s_example(self, n: ast.Example, indent: int, first: int, last: int) -> list[Row]:
        given_line = n.given[0].span.line if n.given else first
        expect_line = n.expect[0].span.line if n.expect else last
        rows = _head(indent, f"example {n.name}", n,
                     _join(f"grade {n.grade}" if n.grade else "",
                           f"team {_string(n.team)}" if n.team is not None else ""),
                     first, first)
        pad = " " * (indent + 2)
        given = [f"{a.name} = {write_expr(a.value)}" for a in n.given]
        given_end = max([first] + [a.value.span.end_line for a in n.given])
        for text in _wrapped(f"{pad}given", given):
            rows.append(Row(0, max(first, given_line), given_end, text=text))
        expect = [f"{_target(e)} = {write_expr(e.value)}" for e in n.expect]
        for text in _wrapped(f"{pad}expect", expect):
            rows.append(Row(0, expect_line, last, text=text))
        return rows


def _kpi_clauses(n: ast.Kpi) -> list[str]:
    return [
        _join(f"plan {write_expr(n.plan)}" if n.plan is not None else "", _months(n.plan_by_month)),
        f"{n.direction} is better" if n.direction else "",
        f"attainment = {write_expr(n.attainment)}" if n.attainment is not None else "",
        f"group {n.group}" if n.group else "",
    ]


def _item_end(item: ast.PoolItem) -> int:
    ends = [item.span.end_line, item.curve_span.end_line] + [g.span.end_line for g in item.gates]
    return max(e for e in ends if e) if any(ends) else item.span.line


def _target(e: ast.Expectation) -> str:
    if e.target == "total":
        return "total"
    if e.target == "line":
        return f"{e.name} for {e.item}"
    if e.target in ("attainment", "plan"):
        return f"{e.target} of {e.name}"
    return e.name


def _wrapped(keyword: str, items: list[str]) -> list[str]:
    """`given a = 1, b = 2,` wrapped at WRAP, continuation lines under the first item."""
    if not items:
        return [keyword]
    lines = [f"{keyword} {items[0]}"]
    pad = " " * (len(keyword) + 1)
    for item in items[1:]:
        if len(lines[-1]) + 2 + len(item) <= WRAP:
            lines[-1] += f", {item}"
        else:
            lines[-1] += ","
            lines.append(pad + item)
    return lines


def _align(rows: list[Row], gap: str = GAP) -> None:
    """Lay cells out in columns: each column as wide as its widest cell plus two spaces.

    Columns empty in every row take no room; a row's free `tail` (a KPI's formula) starts
    where the next column would. Continuation rows (empty first cells) start under the first
    column they fill, their prefix blanked.
    """
    if not rows:
        return
    count = max(len(r.cells) for r in rows)
    widths = [max((len(r.cells[i]) for r in rows if i < len(r.cells)), default=0)
              for i in range(count)]
    starts, position = [], 0
    for width in widths:
        starts.append(position)
        position += width + len(gap) if width else 0
    for row in rows:
        if not row.cells:
            continue
        text = ""
        filled = [i for i, cell in enumerate(row.cells) if cell]
        for i in filled:
            text = text.ljust(starts[i]) + row.cells[i]
        if row.tail:
            nxt = len(row.cells)
            at = starts[nxt] if nxt < count else position
            if filled and at <= starts[filled[-1]] + len(row.cells[filled[-1]]):
                at = starts[filled[-1]] + len(row.cells[filled[-1]]) + len(gap)
            text = text.ljust(at) + row.tail
        prefix = row.prefix if filled and filled[0] == 0 else " " * len(row.prefix)
        row.text = (prefix + text).rstrip()


def _blank_between(lines: list[str], after: int, before: int) -> bool:
    """Is some source line strictly between `after` and `before` (1-based) blank?"""
    return any(not lines[i - 1].strip() for i in range(max(after + 1, 1),
                                                       min(before, len(lines) + 1)))


@dataclass
class _Comment:
    line: int
    text: str
    trailing: bool
    indent: int = 0  # as written (kept only for comments that close a section)


def comments_of(text: str) -> list[_Comment]:
    """Every comment, found as the lexer finds them: a # outside a double-quoted string."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        quoted = escaped = False
        for col, char in enumerate(line):
            if quoted:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    quoted = False
            elif char == '"':
                quoted = True
            elif char == "#":
                found.append(_Comment(number, line[col:].rstrip(), bool(line[:col].strip()),
                                      len(line[:col].expandtabs(2))))
                break
    return found
