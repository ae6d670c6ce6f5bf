"""What the language server knows about one scheme, with no protocol in it.

Diagnostics come from the same `parse` and `check_ruleset` as `kpidsl check`. A big scheme
is parsed statement by statement and each statement's syntax tree is kept, keyed by its text
and first line, so after a one-character edit only the edited statement is parsed again
(and only the text around the edit is split into statements again); a statement that does
not parse on its own gets `check`'s syntax errors from the statements around it (syntax.py),
and only when they find none is the whole text parsed as `check` parses it. Such a
scheme is then checked again only where the edit reaches (incremental.py); the diagnostics
are always `check`'s.

Positions here are 0-based lines and 0-based columns counted in code points; positions.py
turns them into the client's units.
"""

from __future__ import annotations

import decimal
import re
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from .. import ast
from ..checks import BASE, CheckedRuleset, Variant, check_ruleset
from ..checks.names import expressions
from ..checks.walk import references
from ..diagnostics import Diagnostic, sort_key
from ..exprtext import describe_expr
from ..parser import RESERVED_WORDS, STATEMENT_WORDS, parse
from ..runtime import CONTEXT
from ..source import SourceFile, Span
from ..units import Unit, describe
from .incremental import IncrementalCheck
from .moving import moved_tree
from .syntax import syntax_errors

NAME = re.compile(r"[^\W\d]\w*")
# what a scheme's text is made of, for finding names: labels and comments are skipped whole
_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[^\W\d]\w*')
_STATEMENT_START = re.compile(r"^[ \t]*(?:" + "|".join(STATEMENT_WORDS) + r")\b", re.M)
_GRADE = re.compile(r"[ \t]*grade\b")
_COMMENT_OR_LABEL = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
# Below this size the whole text is parsed on every change: at 20 000 characters (about
# 150 KPIs) that takes some 40 ms, and it is exactly what `check` does.
INCREMENTAL_FROM = 20_000

KIND_WORDS = {
    ast.Fact: "fact", ast.Constant: "constant", ast.Curve: "curve", ast.Kpi: "kpi",
    ast.Pay: "pay", ast.Budget: "budget", ast.Example: "example", ast.GradeSection: "grade",
}
VALUE_KINDS = ("fact", "constant", "curve", "kpi", "pay", "budget")


@dataclass(frozen=True)
class Place:
    """A stretch of one line: 0-based line, 0-based start and end columns in code points."""

    line: int
    start: int
    end: int

    def contains(self, line: int, column: int) -> bool:
        return line == self.line and self.start <= column <= self.end


def place_of(span: Span, source: SourceFile) -> Place:
    end = span.end_column if span.end_line == span.line else \
        len(source.line_text(span.line)) + 1
    return Place(span.line - 1, span.column - 1, max(end, span.column) - 1)


@dataclass(frozen=True)
class Symbol:
    """A declaration: a fact, constant, curve, KPI, payment, budget, example or grade."""

    kind: str
    name: str
    grade: str  # '' in the base scheme, else the grade section it is written in
    node: ast.Decl
    place: Place

    @property
    def namespace(self) -> str:
        return "value" if self.kind in VALUE_KINDS else self.kind


@dataclass(frozen=True)
class Occurrence:
    """A name written in the text (declaration or use) in one of three namespaces."""

    namespace: str  # value | grade | example
    name: str
    place: Place


# ---------------------------------------------------------------- parsing, cached


@dataclass
class _Parsed:
    """A version parsed statement by statement (a scheme without grades)."""

    text: str
    chunks: list[tuple[int, int]]
    starts: list[int]
    texts: list[str]
    lines: list[int]
    header: ast.Header
    statements: list[ast.Statement]
    shifts: list[int]
    comments: list[tuple[int, str]]


def _same_start(a: str, b: str) -> int:
    """How many characters two texts begin with alike (compared 4 096 at a time)."""
    n, at = min(len(a), len(b)), 0
    while at < n and a[at:at + 4096] == b[at:at + 4096]:
        at += 4096
    at = min(at, n)
    while at < n and a[at] == b[at]:
        at += 1
    return at


def _same_end(a: str, b: str, most: int) -> int:
    """How many characters two texts end with alike, at most `most`."""
    at = 0
    while at < most and at + 4096 <= min(len(a), len(b)) and \
            a[len(a) - at - 4096:len(a) - at] == b[len(b) - at - 4096:len(b) - at]:
        at += 4096
    at = min(at, most)
    while at < most and a[len(a) - at - 1] == b[len(b) - at - 1]:
        at += 1
    return at


class ParseCache:
    """Statements parsed one at a time, kept by their text between edits.

    Spans carry lines and columns, which are all a diagnostic or the server reads, so a
    statement that moved up or down gets its cached tree with its lines shifted instead of
    being parsed again. The cache is filled from the whole parse of the first version, and
    given up (for a whole parse again) when more than MAX_PARSED statements changed at once.
    """

    MAX_PARSED = 64

    def __init__(self) -> None:
        self._chunks: dict[str, tuple[int, ast.Ruleset]] = {}
        self.lock = threading.Lock()
        self.checker = IncrementalCheck()
        self.parsed = 0  # statements parsed by the last call, for tests and measurements
        self._last_chunks: tuple[str, list[tuple[int, int]] | None] = ("", None)
        self.broken: list[int] = []  # the statements that did not parse alone, last call
        self.lines: list[int] = []  # each statement's first line, last call
        self.texts: list[str] = []  # each statement's text, last call (when it parsed)
        self._last: _Parsed | None = None  # the last version parsed, when it has no grades

    def chunks(self, text: str) -> list[tuple[int, int]] | None:
        """Where each statement starts and ends (the last text's, kept: 600 000 characters
        take some 15 ms to split)."""
        if self._last_chunks[0] is not text:
            self._last_chunks = (text, self._chunks_of(text))
        return self._last_chunks[1]

    @staticmethod
    def _chunks_of(text: str) -> list[tuple[int, int]] | None:
        if "\x00" in text:
            return None
        starts = [m.start() for m in _STATEMENT_START.finditer(text)]
        if not starts:
            return None
        starts[0] = 0  # whatever comes before the header is read with it
        return list(zip(starts, [*starts[1:], len(text)], strict=True))

    def seed(self, source: SourceFile, ruleset: ast.Ruleset) -> None:
        """Fill the cache from a whole parse: each statement under the text it was read from."""
        chunks = self.chunks(source.text)
        self._last = None
        by_line: dict[int, ast.Ruleset] = {ruleset.header.span.line: ast.Ruleset(
            header=ruleset.header)}
        for statement in ruleset.statements:
            by_line[statement.span.line] = ast.Ruleset(header=ruleset.header,
                                                       statements=(statement,))
        for grade in ruleset.grades:
            by_line[grade.span.line] = ast.Ruleset(header=ruleset.header,
                                                   grades=(replace(grade, statements=()),))
            for statement in grade.statements:
                by_line[statement.span.line] = ast.Ruleset(header=ruleset.header,
                                                           statements=(statement,))
        expected = 1 + len(ruleset.statements) + sum(1 + len(g.statements)
                                                     for g in ruleset.grades)
        if chunks is None or len(chunks) != expected or len(by_line) != expected:
            self._chunks = {}
            return
        seeded = {}
        for index, (start, end) in enumerate(chunks):
            line = source.position(start)[0]
            tree = by_line.get(ruleset.header.span.line if index == 0 else line)
            if tree is None or (index == 0) != (not tree.statements and not tree.grades):
                self._chunks = {}
                return
            seeded[source.text[start:end]] = (line, tree)
        self._chunks = seeded
        if not ruleset.grades:  # the first edit after this goes over the text around it only
            self._last = _Parsed(source.text, chunks, [start for start, _end in chunks],
                                 [source.text[start:end] for start, end in chunks],
                                 [source.position(start)[0] for start, _end in chunks],
                                 ruleset.header, list(ruleset.statements),
                                 [0] * len(ruleset.statements), list(ruleset.comments))

    def parse(self, source: SourceFile) -> ast.Ruleset | None:
        """The scheme's AST from cached statements, or None when only a whole parse will do."""
        found = self.parse_lazily(source)
        return None if found is None else moved(*found)

    def parse_lazily(self, source: SourceFile) -> tuple[ast.Ruleset, list[int]] | None:
        """`parse`, but a statement that moved keeps the lines it was parsed at, and the
        second value says by how many lines each statement of the scheme moved (`moved`
        applies them). A line typed above 10 000 statements moves all of them: copying
        their trees took ~400 ms, and an edit's check needs a few of them."""
        text = source.text
        self.parsed = 0
        self.broken = []
        self.lines = []
        self.texts = []
        if self._last is not None and self._chunks:
            found = self._parse_edited(source, self._last)
            if found is not False:
                return found
        self._last = None
        chunks = self.chunks(text)
        if chunks is None or not self._chunks:
            return None
        kept: dict[str, tuple[int, ast.Ruleset]] = {}
        header: ast.Header | None = None
        statements: list[ast.Statement] = []
        shifts: list[int] = []
        grades: list[ast.GradeSection] = []
        grade_head: ast.GradeSection | None = None
        grade_statements: list[ast.Statement] = []
        for index, (start, end) in enumerate(chunks):
            chunk = text[start:end]
            line = source.position(start)[0]
            self.lines.append(line)
            self.texts.append(chunk)
            cached = self._chunks.get(chunk) or kept.get(chunk)
            shift = 0
            if cached is not None:
                tree = cached[1]
                if cached[0] != line and (index == 0 or tree.grades or grade_head is not None):
                    # the header and grades move now; a statement of the scheme when asked
                    tree = moved_tree(tree, line - cached[0]) if index == 0 else replace(
                        tree, statements=moved_tree(tree.statements, line - cached[0]),
                        grades=moved_tree(tree.grades, line - cached[0]))
                    cached = (line, tree)
                shift = line - cached[0]
            else:
                self.parsed += 1
                if self.parsed > self.MAX_PARSED:
                    self.broken = []
                    return None
                parsed = self._parse_chunk(source.name, chunk, line, first=index == 0)
                if parsed is None:
                    self.broken.append(index)  # syntax.py finds its errors
                    continue
                tree = parsed
                cached = (line, tree)
            kept[chunk] = cached
            if self.broken:
                continue
            if index == 0:
                if tree.statements or tree.grades:
                    self.broken = []
                    return None
                header = tree.header
            elif tree.grades and not tree.statements and not tree.grades[0].statements:
                if grade_head is not None:
                    grades.append(replace(grade_head, statements=tuple(grade_statements)))
                grade_head, grade_statements = tree.grades[0], []
            elif len(tree.statements) == 1 and not tree.grades:
                if grade_head is not None:
                    grade_statements.append(tree.statements[0])
                else:
                    statements.append(tree.statements[0])
                    shifts.append(shift)
            else:
                self.broken = []
                return None
        if self.broken:
            return None
        if grade_head is not None:
            grades.append(replace(grade_head, statements=tuple(grade_statements)))
        self._chunks = kept
        assert header is not None
        comments = [(source.position(m.start())[0], m.group(0))
                    for m in _COMMENT_OR_LABEL.finditer(text) if m.group(0)[0] == "#"]
        if not grades:
            self._last = _Parsed(text, chunks, [start for start, _end in chunks], self.texts,
                                 self.lines, header, statements, shifts, comments)
        return ast.Ruleset(source.span(0, len(text)), header, tuple(statements), tuple(grades),
                           source, tuple(comments)), shifts

    def _parse_edited(self, source: SourceFile, last: _Parsed
                      ) -> tuple[ast.Ruleset, list[int]] | Literal[False] | None:
        """`parse_lazily` from the last version: the text before the edit and after it is the
        same, so only the statements around it are split, looked up or parsed again; the
        rest keep their places (those after it moved by the lines the edit added). On 5 000
        KPIs going over every statement took ~55 ms of an edit's ~160. False where the whole
        text must be gone over (an edit of the header or its first statement, a grade)."""
        text, old = source.text, last.text
        if "\x00" in text or text is old:
            return False
        same = _same_start(old, text)
        end_old = len(old) - _same_end(old, text, min(len(old), len(text)) - same)
        first = bisect_right(last.starts, same - 1) - 2  # a statement whose line is untouched
        if first < 1:
            return False
        after = bisect_right(last.starts, end_old)  # the first statement after the edit, if any
        grow = len(text) - len(old)
        start = last.starts[first]
        stop = last.starts[after] + grow if after < len(last.starts) else len(text)
        starts = [m.start() for m in _STATEMENT_START.finditer(text, start, stop)]
        if not starts or starts[0] != start or len(starts) > self.MAX_PARSED:
            return False
        lines_moved = text.count("\n", same, len(text) - (len(old) - end_old)) - \
            old.count("\n", same, end_old)
        chunks = list(zip(starts, [*starts[1:], stop], strict=True))
        texts, lines, statements, shifts = [], [], [], []
        line, at = last.lines[first], start
        for index, (begin, end) in enumerate(chunks, first):
            line += text.count("\n", at, begin)
            at = begin
            chunk = text[begin:end]
            texts.append(chunk)
            lines.append(line)
            cached = self._chunks.get(chunk)
            if cached is None:
                self.parsed += 1
                parsed = self._parse_chunk(source.name, chunk, line, first=False)
                if parsed is None:
                    self.broken.append(index)
                    continue
                cached = self._chunks[chunk] = (line, parsed)
            tree = cached[1]
            if len(tree.statements) != 1 or tree.grades:
                self.broken = []
                return False  # a grade begins: every statement after it is the grade's
            statements.append(tree.statements[0])
            shifts.append(line - cached[0])
        all_chunks = [*last.chunks[:first], *chunks,
                      *((begin + grow, end + grow) for begin, end in last.chunks[after:])]
        self._last_chunks = (text, all_chunks)
        self.lines = [*last.lines[:first], *lines, *(n + lines_moved for n in last.lines[after:])]
        if self.broken:
            return None
        self.texts = [*last.texts[:first], *texts, *last.texts[after:]]
        all_statements = [*last.statements[:first - 1], *statements,
                          *last.statements[after - 1:]]
        all_shifts = [*last.shifts[:first - 1], *shifts,
                      *(n + lines_moved for n in last.shifts[after - 1:])]
        # comments: those before the statements gone over, theirs, those after (moved)
        lines_of = [n for n, _ in last.comments]
        below = last.lines[after] if after < len(last.lines) else 1 << 62
        comments = [*last.comments[:bisect_right(lines_of, last.lines[first] - 1)]]
        for m in _COMMENT_OR_LABEL.finditer(text, start, stop):
            if m.group(0)[0] == "#":
                comments.append((source.position(m.start())[0], m.group(0)))
        comments += ((n + lines_moved, c) for n, c in
                     last.comments[bisect_right(lines_of, below - 1):])
        self._last = _Parsed(text, all_chunks, [begin for begin, _end in all_chunks],
                             self.texts, self.lines, last.header, all_statements, all_shifts,
                             comments)
        return ast.Ruleset(source.span(0, len(text)), last.header, tuple(all_statements), (),
                           source, tuple(comments)), all_shifts

    def syntax_errors(self, source: SourceFile) -> list[Diagnostic] | None:
        """After `parse_lazily` found statements that do not parse alone: `check`'s syntax
        errors, from those statements and their neighbours (syntax.py), or None when only
        the whole parse will tell."""
        chunks = self.chunks(source.text)
        if not self.broken or chunks is None or len(self.lines) != len(chunks):
            return None
        grades = [i for i, (start, _end) in enumerate(chunks) if i and _GRADE.match(
            source.text, start)]
        return syntax_errors(source.text, source.name, chunks, self.lines, self.broken, grades)

    @staticmethod
    def _parse_chunk(name: str, chunk: str, line: int, first: bool) -> ast.Ruleset | None:
        # a statement alone is not a scheme: a header line goes first, and newlines put the
        # statement on its own line, so every span it gets has the right line and column
        text = "\n" * (line - 1) + chunk if first else "scheme s" + "\n" * (line - 1) + chunk
        with decimal.localcontext(CONTEXT):
            tree, diagnostics = parse(SourceFile(name, text))
        return tree if tree is not None and not diagnostics else None


# ---------------------------------------------------------------- the analysis


class Analysis:
    """One version of one scheme: its diagnostics, declarations and names."""

    def __init__(self, text: str, name: str = "<string>", cache: ParseCache | None = None
                 ) -> None:
        self.source = SourceFile(name, text)
        self._cache = cache
        self.incremental = False  # parsed from the statement cache
        self.rechecked: int | None = None  # statements checked again (None: the whole scheme)
        ruleset: ast.Ruleset | None = None
        self._ruleset: ast.Ruleset | None = None
        self._unmoved: tuple[ast.Ruleset, list[int]] | None = None
        self._checked: CheckedRuleset | None = None
        self.diagnostics: list[Diagnostic] = []
        incremental = cache is not None and len(text) >= INCREMENTAL_FROM
        shifts: list[int] | None = None
        if cache is not None and incremental:
            with cache.lock:
                found = cache.parse_lazily(self.source)
            if found is not None:
                ruleset, shifts = found
            self.incremental = ruleset is not None
        if ruleset is None and cache is not None and incremental:
            with cache.lock:
                errors = cache.syntax_errors(self.source)
            if errors is not None:  # statements that do not parse: their errors, at once
                self.diagnostics = errors
                return
        if ruleset is None:
            with decimal.localcontext(CONTEXT):
                ruleset, diagnostics = parse(self.source)
            if ruleset is None:
                self.diagnostics = diagnostics
                return
            if cache is not None and incremental:
                with cache.lock:
                    cache.seed(self.source, ruleset)
        if shifts is not None and any(shifts):
            self._unmoved = (ruleset, shifts)
        else:
            self._ruleset = ruleset
        result: list[Diagnostic] | None = None
        chunks = cache.chunks(text) if cache is not None and incremental else None
        with decimal.localcontext(CONTEXT):
            if cache is not None and chunks is not None and shifts is not None:
                with cache.lock:
                    result = cache.checker.check(self.source, ruleset, chunks, shifts,
                                                 (cache.texts, cache.lines))
                    self.rechecked = cache.checker.checked if result is not None else None
            if result is None:
                whole = self.ruleset
                assert whole is not None
                self._checked = check_ruleset(whole, self.source)
                result = self._checked.diagnostics
                if cache is not None and chunks is not None:
                    with cache.lock:
                        cache.checker.remember(self.source, whole, chunks, result,
                                               self._checked)
        self.diagnostics = result

    @cached_property
    def statements(self) -> tuple[list[str], list[int]]:
        """Each statement's text and first line (1-based), the header first: how an earlier
        version's diagnostics are matched with this one's statements."""
        text = self.text
        chunks = self._cache.chunks(text) if self._cache is not None else None
        if chunks is None:
            chunks = ParseCache._chunks_of(text) or [(0, len(text))]
        texts, lines, line, at = [], [], 1, 0
        for start, end in chunks:
            line += text.count("\n", at, start)
            at = start
            texts.append(text[start:end])
            lines.append(line)
        return texts, lines

    @property
    def parses(self) -> bool:
        """The text parses (its diagnostics are the checker's, not syntax errors)."""
        return self._ruleset is not None or self._unmoved is not None

    @property
    def ruleset(self) -> ast.Ruleset | None:
        """The scheme's syntax tree (statements that moved get their lines when first asked)."""
        if self._ruleset is None and self._unmoved is not None:
            self._ruleset = moved(*self._unmoved)
            self._unmoved = None
        return self._ruleset

    @property
    def checked(self) -> CheckedRuleset | None:
        """The whole scheme checked (hover reads units and pay from it); after an edit that
        was checked statement by statement, this checks the whole scheme once."""
        if self._checked is None and self.ruleset is not None:
            with decimal.localcontext(CONTEXT):
                self._checked = check_ruleset(self.ruleset, self.source)
        return self._checked

    @property
    def text(self) -> str:
        return self.source.text

    # ---- declarations and names
    @cached_property
    def recovered(self) -> ast.Ruleset | None:
        """The scheme without its statements that have syntax errors, so that names declared
        elsewhere can still be completed, shown and found while one statement is half typed."""
        if self.ruleset is not None:
            return self.ruleset
        text, found = self.text, self.diagnostics
        for _ in range(3):
            lines = sorted({d.line for d in found if d.line}, reverse=True)
            if not lines:
                return None
            for line in lines:
                offset = min(_offset_of_line(text, line - 1), len(text))
                start = statement_start(text, offset)
                following = _STATEMENT_START.search(text, offset + 1)
                end = following.start() if following else len(text)
                text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]
            with decimal.localcontext(CONTEXT):
                ruleset, found = parse(SourceFile(self.source.name, text))
            if ruleset is not None:
                return ruleset
        return None

    @cached_property
    def symbols(self) -> list[Symbol]:
        ruleset = self.recovered
        if ruleset is None:
            return []
        out = [self._symbol(s, "") for s in ruleset.statements]
        for grade in ruleset.grades:
            out.append(self._symbol(grade, ""))
            out += [self._symbol(s, grade.name) for s in grade.statements]
        return [s for s in out if s is not None]

    def _symbol(self, node: ast.Decl, grade: str) -> Symbol | None:
        kind = KIND_WORDS.get(type(node))
        if kind is None or not node.name_span.line:
            return None
        return Symbol(kind, node.name, grade, node, place_of(node.name_span, self.source))

    @cached_property
    def occurrences(self) -> list[Occurrence]:
        """Every declared name where it is written; the namespace comes from the word before
        it (`grade`, `based on`: a grade; `example`: an example; otherwise a value)."""
        declared = {(s.namespace, s.name) for s in self.symbols}
        out: list[Occurrence] = []
        before = ("", "")
        for index, line in enumerate(self.text.split("\n")):
            for match in _LEXEME.finditer(line):
                word = match.group(0)
                if word[0] in '"#':
                    before = ("", "")
                    continue
                if before[1] == "grade" or before == ("based", "on"):
                    namespace = "grade"
                elif before[1] == "example":
                    namespace = "example"
                else:
                    namespace = "value"
                if (namespace, word) in declared and before[1] != "scheme":
                    out.append(Occurrence(namespace, word,
                                          Place(index, match.start(), match.end())))
                before = (before[1], word)
        return out

    def occurrence_at(self, line: int, column: int) -> Occurrence | None:
        for occurrence in self.occurrences:
            if occurrence.place.contains(line, column):
                return occurrence
        return None

    def declarations(self, occurrence: Occurrence) -> list[Symbol]:
        return [s for s in self.symbols
                if s.namespace == occurrence.namespace and s.name == occurrence.name]

    def uses(self, occurrence: Occurrence, with_declarations: bool = True) -> list[Place]:
        declared = {s.place for s in self.declarations(occurrence)}
        return [o.place for o in self.occurrences
                if o.namespace == occurrence.namespace and o.name == occurrence.name
                and (with_declarations or o.place not in declared)]

    def rename(self, line: int, column: int, new_name: str) -> list[Place]:
        """Where to write `new_name`; raises ValueError when it cannot be a name here."""
        occurrence = self.occurrence_at(line, column)
        if occurrence is None:
            raise ValueError("there is no declared name here to rename")
        if not NAME.fullmatch(new_name):
            raise ValueError(f"'{new_name}' is not a name: start with a letter, then letters, "
                             "digits or '_'")
        if new_name in RESERVED_WORDS:
            raise ValueError(f"'{new_name}' is a word of the language and cannot be a name")
        if new_name != occurrence.name and any(
                s.namespace == occurrence.namespace and s.name == new_name for s in self.symbols):
            raise ValueError(f"'{new_name}' already names something in this scheme")
        return self.uses(occurrence)

    # ---- hover
    def hover(self, line: int, column: int) -> tuple[str, Place] | None:
        occurrence = self.occurrence_at(line, column)
        if occurrence is None:
            return None
        parts = [self._describe(symbol) for symbol in self.declarations(occurrence)]
        return "\n\n---\n\n".join(parts), occurrence.place

    def _variant(self, grade: str) -> Variant | None:
        if self.checked is None:
            return None
        return self.checked.variants.get(grade or BASE)

    def _describe(self, symbol: Symbol) -> str:
        node = symbol.node
        title = {"kpi": "KPI", "pay": "payment"}.get(symbol.kind, symbol.kind)
        lines = [f"**{title} `{symbol.name}`**" + _labels(node)]
        where = f"line {symbol.place.line + 1}"
        lines.append(f"defined at {where}" + (f", in grade `{symbol.grade}`" if symbol.grade
                                              else ""))
        variant = self._variant(symbol.grade)
        currency = self.checked.currency if self.checked else ""
        if isinstance(node, ast.Fact):
            lines.append(f"unit: {describe(node.unit, currency)}")
            if node.if_missing is not None:
                lines.append(f"if missing: {describe_expr(node.if_missing)}")
        elif isinstance(node, ast.Constant):
            lines.append(f"value: {describe_expr(node.value)}")
            if variant is not None and symbol.name in variant.units:
                lines.append(f"unit: {describe(variant.units[symbol.name], currency)}")
        elif isinstance(node, ast.Kpi):
            if node.formula is not None:
                lines.append(f"= {describe_expr(node.formula)}")
            elif symbol.name:
                lines.append("read from the fact of the same name")
            if variant is not None and symbol.name in variant.units:
                lines.append(f"unit: {describe(variant.units[symbol.name], currency)}")
            if node.plan is not None:
                lines.append(f"plan: {describe_expr(node.plan)}")
            if node.direction == "lower":
                lines.append("lower is better")
        elif isinstance(node, ast.Curve):
            lines.append(f"a {node.kind} curve: " + node.kind.summary(node))
        elif isinstance(node, ast.Pay):
            lines.append(f"unit: {describe(Unit.MONEY, currency)}")
            lines += _pay_lines(node)
        elif isinstance(node, ast.Budget):
            lines.append(f"cap {describe_expr(node.cap)} for `{node.component}`"
                         + (" per team" if node.per_team else ""))
        elif isinstance(node, ast.GradeSection):
            if node.based_on:
                lines.append(f"based on `{node.based_on}`")
            grade_variant = self._variant(node.name)
            if grade_variant is not None:
                lines += [f"- {change.describe()}" for change in grade_variant.changes]
        if variant is not None and symbol.kind in ("fact", "constant", "kpi", "curve"):
            lines += self._what_it_pays(symbol.name, variant)
        return "  \n".join(lines)

    def _what_it_pays(self, name: str, variant: Variant) -> list[str]:
        out = []
        for pay, item in variant.pooled_kpis():
            if item.kpi == name or item.curve == name:
                share = (f"weight {describe_expr(item.weight)}" if item.weight is not None else
                         f"amount {describe_expr(item.amount)}" if item.amount is not None else "")
                curve = f", curve `{item.curve}`" if item.curve else ""
                out.append(f"pays in `{pay.name}` for `{item.kpi}`: {share}{curve}".rstrip(": "))
        used: list[str] = []
        for where, expr, _ in expressions(variant):
            if any(n == name for _, n, _ in references(expr)) and where not in used:
                used.append(where)
        if used:
            out.append("used in " + ", ".join(f"`{w}`" for w in used))
        return out

    # ---- outline
    def outline(self) -> list[tuple[Symbol, Place, list[tuple[Symbol, Place]]]]:
        """(symbol, the whole statement, children) for the document's outline."""
        ruleset = self.recovered
        if ruleset is None:
            return []
        by_node = {id(s.node): s for s in self.symbols}
        out: list[tuple[Symbol, Place, list[tuple[Symbol, Place]]]] = []
        for statement in ruleset.statements:
            if id(statement) in by_node:
                out.append((by_node[id(statement)], self._whole(statement.span), []))
        for grade in ruleset.grades:
            children = [(by_node[id(s)], self._whole(s.span)) for s in grade.statements
                        if id(s) in by_node]
            end = max([grade.span] + [s.span for s in grade.statements],
                      key=lambda s: s.end_line)
            whole = Place(grade.span.line - 1, grade.span.end_line - 1, end.end_line - 1)
            out.append((by_node[id(grade)], whole, children))
        return out

    @staticmethod
    def _whole(span: Span) -> Place:
        # the lines a statement covers: (first line, first line again, last line)
        return Place(span.line - 1, span.line - 1, span.end_line - 1)

    # ---- names for completion
    def names(self, kinds: Iterable[str]) -> list[Symbol]:
        wanted = set(kinds)
        seen: dict[tuple[str, str], Symbol] = {}
        for symbol in self.symbols:
            if symbol.kind in wanted:
                seen.setdefault((symbol.kind, symbol.name), symbol)
        return list(seen.values())


def _labels(node: ast.Decl) -> str:
    if not node.label:
        return ""
    text = f" — {node.label}"
    for lang, label in node.translations:
        text += f" · {lang}: {label}"
    return text


def _pay_lines(node: ast.Pay) -> Iterator[str]:
    if node.formula is not None:
        yield f"= {describe_expr(node.formula)}"
    if node.pool is not None:
        yield f"pool {describe_expr(node.pool)}"
    for item in node.items:
        share = (f"weight {describe_expr(item.weight)}" if item.weight is not None else
                 f"amount {describe_expr(item.amount)}" if item.amount is not None else "")
        curve = f" curve {item.curve}" if item.curve else ""
        yield f"- for `{item.kpi}` {share}{curve}".rstrip()


def kept_diagnostics(earlier: Analysis, now: Analysis) -> list[Diagnostic]:
    """While a statement does not parse, `check` reports only its syntax errors; the editor
    keeps showing the other statements' diagnostics from the last version that parsed
    (`earlier`): those of every statement whose text is unchanged, moved with it. The
    broken statement's and any edited statement's are dropped (they may no longer hold)."""
    if now.parses or not earlier.parses:
        return []
    old_texts, old_lines = earlier.statements
    texts, lines = now.statements
    where: dict[str, deque[int]] = {}
    for index, text in enumerate(texts):
        where.setdefault(text, deque()).append(index)
    shift: dict[int, int] = {}
    for index, text in enumerate(old_texts):
        found = where.get(text)
        if found:
            shift[index] = lines[found.popleft()] - old_lines[index]
    out = []
    for d in earlier.diagnostics:
        index = bisect_right(old_lines, d.line) - 1
        if d.line and index in shift:
            out.append(replace(d, line=d.line + shift[index]) if shift[index] else d)
    return sorted(out, key=sort_key)


def moved(ruleset: ast.Ruleset, shifts: list[int]) -> ast.Ruleset:
    """The scheme with each statement `shifts[i]` lines further down (`parse_lazily`)."""
    if not any(shifts):
        return ruleset
    return replace(ruleset, statements=tuple(
        moved_tree(statement, shift) if shift else statement
        for statement, shift in zip(ruleset.statements, shifts, strict=True)))


def _offset_of_line(text: str, line: int) -> int:
    """Offset of a 0-based line (the text's length when there are fewer lines)."""
    offset = 0
    for _ in range(line):
        found = text.find("\n", offset)
        if found == -1:
            return len(text)
        offset = found + 1
    return offset


def statement_start(text: str, offset: int) -> int:
    """Offset of the line that starts the statement around `offset` (0 before the first)."""
    start = 0
    for match in _STATEMENT_START.finditer(text):
        if match.start() > offset:
            break
        start = match.start()
    return start

