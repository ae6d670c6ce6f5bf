"""Text → Lark tree → typed AST. Syntax errors become diagnostics in plain words.

Parsing and transforming are separate passes, so every node keeps its position. After a
syntax error the failing statement is blanked out (offsets kept) and parsing resumes, so one
run reports every broken statement, not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

import lark
from lark import Token, Tree

from . import ast
from .curvekinds import for_body
from .diagnostics import Diagnostic, error
from .grammar import collector_paused, describe_terminal, parser
from .numbers import bound_error
from .source import SourceFile, Span
from .units import Unit

MAX_NESTING = 100
MAX_SYNTAX_ERRORS = 25
MAX_DIGITS = 60  # beyond this the text is not even converted (a 10 000-digit literal)
STATEMENT_WORDS = (
    "scheme", "fact", "constant", "curve", "kpi", "pay", "budget", "example", "drop", "grade",
    "source",
)
_STATEMENT_START = re.compile(r"^[ \t]*(" + "|".join(STATEMENT_WORDS) + r")\b", re.M)
RESERVED_WORDS = frozenset(
    """scheme currency period effective from to version round payouts paid per team fact if
    missing constant by month curve below at most above through pays linear tiers rate cap
    floor kpi plan is better attainment group pay pool for weight amount curve only unless
    budget example grade given expect total of drop based on then else or and not size min
    max abs otherwise higher lower money count percent ratio number minutes hours days
    activity efficiency result marginal whole average uncapped steps step plus""".split()
)


class ParseFailure(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("syntax errors")
        self.diagnostics = diagnostics


@collector_paused  # a big scheme's tree would be traversed by every collection, to no avail
def parse(source: SourceFile) -> tuple[ast.Ruleset | None, list[Diagnostic]]:
    """Parse a scheme; returns the AST (None when the text has syntax errors) and diagnostics."""
    text = source.text
    diagnostics: list[Diagnostic] = []
    if "\x00" in text:
        offset = text.index("\x00")
        diagnostics.append(error("KPI004", "the file contains a NUL byte", source,
                                 source.span(offset, offset + 1),
                                 hint="save the scheme as plain UTF-8 text"))
        text = text.replace("\x00", " ")
    parentheses = _too_many_parentheses(text, source)
    if parentheses:
        return None, [*diagnostics, parentheses]
    tree, found, _stuck = parse_tree(source, text)
    diagnostics += found
    if diagnostics or tree is None:
        return None, diagnostics
    depth_problem = _too_deep(tree, source)
    if depth_problem:
        return None, [depth_problem]
    try:
        ruleset = _Builder(source).ruleset(tree)
    except ParseFailure as failure:
        return None, failure.diagnostics
    return ruleset, []


def parse_tree(source: SourceFile, text: str, limit: int = MAX_SYNTAX_ERRORS
               ) -> tuple[Tree | None, list[Diagnostic], bool]:
    """Lark's tree of `text` (the source's text, NUL bytes blanked), or its syntax errors:
    after each one the failing statement is blanked out and the text parsed again, at most
    `limit` times. The flag says the search stopped early, blanking having changed nothing.
    A tree that parses may still carry errors: words glued together (KPI008).
    Public for the language server, which runs it on the statements an edit broke."""
    diagnostics: list[Diagnostic] = []
    for _ in range(limit):
        try:
            tree = parser().parse(text)
        except lark.exceptions.UnexpectedInput as exc:
            offset = getattr(exc, "pos_in_stream", None) or 0
            unfinished = _unfinished_before(text, offset, source)
            if unfinished is not None:  # blame the statement that swallowed the keyword
                diagnostics.append(unfinished[0])
                offset = unfinished[1]
            else:
                diagnostics.append(_syntax_diagnostic(exc, source))
            blanked = _blank_statement(text, offset)
            if blanked == text:
                return None, diagnostics, True
            text = blanked
            continue
        glued = _glued_words(tree, text, source)
        return tree, sorted(diagnostics + glued, key=lambda d: (d.line, d.column)), False
    return None, diagnostics, False


def _glued_words(tree: Tree, text: str, source: SourceFile) -> list[Diagnostic]:
    """A word of the language written against the name or number after it: the parser,
    which looks for `for` where only `for` may come, reads `fork29` as `for k29` and `cap60`
    as `cap 60`. That is what was meant, but not the one way to write it, and a reader (or a
    rename in the editor, which finds whole words) sees a name `fork29`. A name or number
    cannot begin right after a letter unless the lexer split one word in two, so each token
    of the tree that starts with a letter, digit or '_' right after a letter is one."""
    found: list[Diagnostic] = []
    stack: list[Tree] = [tree]
    while stack:
        node = stack.pop()
        for child in node.children:
            if isinstance(child, Tree):
                stack.append(child)
                continue
            start = child.start_pos
            if not start or not (child.value[:1].isalnum() or child.value[:1] == "_"):
                continue
            before = text[start - 1]
            if not (before.isalpha() or before == "_"):
                continue
            word_start = start - 1
            while word_start and (text[word_start - 1].isalnum() or text[word_start - 1] == "_"):
                word_start -= 1
            keyword, rest = text[word_start:start], str(child.value)
            found.append(error(
                "KPI008", f"'{keyword}{rest}' reads as '{keyword} {rest}': a space is missing "
                f"after '{keyword}'", source, source.span(word_start, child.end_pos or start),
                hint=f"write '{keyword} {rest}'"))
    return found


def _unfinished_before(text: str, offset: int, source: SourceFile
                       ) -> tuple[Diagnostic, int] | None:
    """An error on the word after a statement's first word (`kpi revenue`) where the text
    before that line ends inside a formula (`= 2% ×`): the formula took `kpi` for a name.
    Blaming the new statement would blank it and meet the same on the next one: an
    unfinished formula followed by ten statements gave eleven errors. This gives the one
    error, at the end of the unfinished statement, and where to blank (its last line)."""
    line_start = text.rfind("\n", 0, offset) + 1
    match = _STATEMENT_START.match(text, line_start)
    if match is None or match.end() > offset or text[match.end():offset].strip():
        return None
    before = text[:line_start]
    try:
        parser().parse(before)
        return None
    except lark.exceptions.UnexpectedToken as exc:
        if exc.token.type != "$END":
            return None
        expected = _expected_words(exc.expected, _statement_at(before, line_start) == "curve")
    except lark.exceptions.UnexpectedInput:
        return None
    end = len(before.rstrip())
    word, line = match.group(1), text.count("\n", 0, line_start) + 1
    message = (f"the {_statement_at(before, end)} statement ends too early: '{word}' on "
               f"line {line} begins the next one")
    if expected:
        message += "; expected " + ", ".join(expected[:8]) + (", ..." if len(expected) > 8
                                                              else "")
    return error("KPI001", message, source, source.span(max(end - 1, 0), end),
                 hint="finish the statement, or remove what is left over at its end"), end - 1


def _blank_statement(text: str, offset: int) -> str:
    """Replace the statement around `offset` with spaces (newlines kept) to resume parsing."""
    offset = min(max(offset, 0), len(text))
    starts = [m.start(1) for m in _STATEMENT_START.finditer(text)]
    before = [s for s in starts if s <= offset]
    after = [s for s in starts if s > offset]
    start = before[-1] if before else 0
    end = after[0] if after else len(text)
    if start == end:
        return text
    chunk = re.sub(r"[^\n]", " ", text[start:end])
    return text[:start] + chunk + text[end:]


def _syntax_diagnostic(exc: lark.exceptions.UnexpectedInput, source: SourceFile) -> Diagnostic:
    offset = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            offset = len(source.text.rstrip())
            span = source.span(max(offset - 1, 0), offset)
            message = "the scheme ends too early"
        else:
            offset = token.start_pos or 0
            span = source.span(offset, token.end_pos or offset + len(token))
            message = f"unexpected {_describe_token(token)}"
        in_curve = _statement_at(source.text, offset or 0) == "curve"
        expected = _expected_words(exc.expected, in_curve)
        hint = _hint_for(token, source, exc.expected)
    else:
        offset = offset or 0
        char = source.text[offset : offset + 1]
        span = source.span(offset, offset + 1)
        message = f"unexpected character {char!r}"
        expected = _expected_words(getattr(exc, "allowed", ()) or (),
                                   _statement_at(source.text, offset) == "curve")
        hint = _hint_for_char(char, source, offset)
    if expected:
        shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
        message += f"; expected {shown}"
    return error("KPI001" if isinstance(exc, lark.exceptions.UnexpectedToken) else "KPI002",
                 message, source, span, hint=hint)


_VALUE_STARTS = {"NUMBER", "PERCENT", "NAME", "LPAR", "FUNCTION", "ROUND", "PLAN", "TEAM",
                 "ATTAINMENT", "ADD_OP", "IF", "NOT"}
_STATEMENT_TERMINALS = {w.upper() for w in STATEMENT_WORDS}


def _statement_at(text: str, offset: int) -> str:
    """The statement word ('curve', 'pay' ...) of the statement around `offset`."""
    starts = [m for m in _STATEMENT_START.finditer(text) if m.start(1) <= offset]
    return starts[-1].group(1) if starts else ""


def _expected_words(terminals: Iterable[str], in_curve: bool = False) -> list[str]:
    """What the parser wanted, grouped: 'a value' and 'a new statement' instead of long lists.

    After a value the parser's states are merged, so the list there is everything that can
    follow any value; 'pays' is named only inside a curve, where it is what is missing."""
    names = {t for t in terminals if not t.startswith("__")}
    if "PAYS" in names and in_curve:
        return ["'pays' and what the band pays"]
    words: list[str] = []
    if {"NUMBER", "NAME"} <= names and names & {"PERCENT", "LPAR"}:
        words.append("a value (a number, 80%, 60_000 RUB, a name or a formula)")
        names -= _VALUE_STARTS
    if len(names & _STATEMENT_TERMINALS) >= 4:
        return [*words, "a new statement (fact, constant, curve, kpi, pay, example, grade ...)"]
    names -= {"ADD_OP", "MUL_OP", "DIV_OP", "COMPARE", "AND", "OR", "OTHERWISE"}
    return words + sorted(describe_terminal(t) for t in names)


def _describe_token(token: Token) -> str:
    value = str(token)
    if token.type == "NAME" or value.isalpha():
        return f"word '{value}'"
    return f"'{value}'"


def _hint_for(token: Token, source: SourceFile, expected: set[str]) -> str:
    value = str(token)
    if "NAME" in expected and value in RESERVED_WORDS:
        return f"'{value}' is a word of the language and cannot be a name; choose another name"
    if value == "," and token.start_pos is not None:
        before = source.text[max(0, token.start_pos - 1) : token.start_pos]
        after = source.text[token.end_pos : (token.end_pos or 0) + 1]
        if before.isdigit() and after.isdigit():
            return "write thousands with underscores (3_000_000) and decimals with a point (2.1%)"
    start = token.start_pos or 0
    if token.type == "NAME" and start and source.text[start - 1].isdigit():
        return "a number is written with digits, '_' and one decimal point: 3_000_000, 2.5%"
    if "PAYS" in expected and token.type in ("NUMBER", "PERCENT", "NAME") and \
            _statement_at(source.text, start) == "curve":
        return f"say what the band pays: ... pays {value}"
    if value == ":":
        return "no colon is needed: write the parts one after another, e.g. 'below 80% pays 0'"
    if token.type == "NUMBER" and "PERCENT" in expected:
        return f"a weight or threshold is a percentage: write {value}%"
    if "CURRENCY" in expected or (token.type == "NAME" and value.isupper()):
        return "currencies are written after the amount: 60_000 RUB"
    if token.type == "STRING":
        return "a label comes right after the name it describes: kpi revenue \"Revenue\" ..."
    return ""


def _hint_for_char(char: str, source: SourceFile, offset: int) -> str:
    if char == "'":
        return 'labels are written in double quotes: "Revenue"'
    if char == ";":
        return "statements need no separator; start each on its own line"
    if char == ":":
        return "no colon is needed: write the parts one after another, e.g. 'below 80% pays 0'"
    if char.isspace() or not char.isprintable():
        return "remove the invisible character (it may come from copying out of a document)"
    return ""


_PAREN_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*+"|#[^\n]*|[()]')


def _too_many_parentheses(text: str, source: SourceFile) -> Diagnostic | None:
    """Parentheses leave no trace in the tree, so their depth is measured on the text."""
    depth = 0
    for match in _PAREN_SCAN.finditer(text):
        char = match.group()
        if char == "(":
            depth += 1
            if depth > MAX_NESTING:
                return error("KPI003", f"an expression is nested more than {MAX_NESTING} levels "
                             "deep", source, source.span(match.start(), match.end()),
                             hint="split it into several KPIs or constants")
        elif char == ")":
            depth = max(depth - 1, 0)
    return None


def _too_deep(tree: Tree, source: SourceFile) -> Diagnostic | None:
    """Nesting deeper than MAX_NESTING is refused before anything recursive walks the tree."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            meta = node.meta
            span = source.span(meta.start_pos, meta.end_pos) if not meta.empty else None
            return error("KPI003", f"an expression is nested more than {MAX_NESTING} levels deep",
                         source, span, hint="split it into several KPIs or constants")
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + 1))
    return None


# ---------------------------------------------------------------- tree → AST

_MEMORY_CLAUSES = ("paid_every_clause", "carry_clause", "draw_clause", "clawback_clause")
_COMMENT_OR_LABEL = re.compile(r'"(?:[^"\\\n]|\\.)*+"|#[^\n]*')  # a '#' inside a label is text
_OPS = {"−": "-", "×": "*", "÷": "/", "≥": ">=", "≤": "<=", "≠": "!="}


class _Builder:
    """Turns a Lark tree into AST nodes, carrying spans from the tree's meta."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []

    def span(self, item: Tree | Token) -> Span:
        if isinstance(item, Token):
            return self.source.span(item.start_pos or 0, item.end_pos or 0)
        if item.meta.empty:
            return self.source.span(0, 0)
        return self.source.span(item.meta.start_pos, item.meta.end_pos)

    # ---- top level
    def ruleset(self, tree: Tree) -> ast.Ruleset:
        header = self.header(tree.children[0])
        statements = []
        grades = []
        for child in tree.children[1:]:
            if child.data == "grade_section":
                grades.append(self.grade(child))
            else:
                statements.append(self.statement(child))
        if self.problems:
            raise ParseFailure(self.problems)
        comments = tuple(
            (self.source.position(m.start())[0], m.group(0))
            for m in _COMMENT_OR_LABEL.finditer(self.source.text) if m.group(0)[0] == "#"
        )
        return ast.Ruleset(self.span(tree), header, tuple(statements), tuple(grades),
                           self.source, comments)

    def header(self, tree: Tree) -> ast.Header:
        name_token = tree.children[0]
        fields: dict[str, object] = {"label": ""}
        memory: dict[str, object] = {}
        rounding = []
        for child in tree.children[1:]:
            data = child.data
            if data == "label":
                fields["label"] = self.label(child)
                fields["translations"] = self.translations(child)
            elif data == "currency_clause":
                fields["currency"] = _currency(child.children[0])
            elif data == "period_clause":
                fields["period"] = str(child.children[0])
            elif data == "effective_clause":
                fields["effective_from"] = str(child.children[0])
                if len(child.children) > 1:
                    fields["effective_to"] = str(child.children[1])
            elif data == "version_clause":
                fields["version"] = _unquote(child.children[0])
            elif data == "rounding_clause":
                mode = _mode(child.children[2]) if len(child.children) > 2 else \
                    ast.RoundingMode.HALF_UP
                rounding.append(ast.RoundingRule(self.span(child), str(child.children[0]),
                                                 self.expr(child.children[1]), mode))
            elif data == "per_team_clause":
                fields["per_team"] = True
            elif data == "sector_clause":
                fields["sector"] = str(child.children[0])
            elif data in _MEMORY_CLAUSES:
                memory.update(getattr(self, data)(child))
        if memory:
            fields["memory"] = ast.Memory(self.span(tree), **memory)  # type: ignore[arg-type]
        return ast.Header(self.span(tree), str(name_token), rounding=tuple(rounding),
                          name_span=self.span(name_token), **fields)  # type: ignore[arg-type]

    # ---- periods with memory (kpidsl/ledger/)
    def paid_every_clause(self, tree: Tree) -> dict[str, object]:
        return {"paid_every": str(tree.children[0])}

    def carry_clause(self, _tree: Tree) -> dict[str, object]:
        return {"carry_negative": True}

    def draw_clause(self, tree: Tree) -> dict[str, object]:
        amount, period, kind, *recovery = tree.children
        at_most = None
        if recovery:
            at_most = self.expr(recovery[0].children[0])
            self._same_period(recovery[0].children[1], str(period))  # type: ignore[arg-type]
        return {"draw": ast.Draw(self.span(tree), self.expr(amount), str(period),
                                 str(kind) == "recoverable", at_most)}

    def _same_period(self, token: Token, period: str) -> None:
        if str(token) != period:
            self.problems.append(error(
                "KPI001", f"a draw of so much a {period} is recovered so much a {token}",
                self.source, self.span(token), hint=f"write: recovered at most ... a {period}"))

    def clawback_clause(self, tree: Tree) -> dict[str, object]:
        basis = "rate" if tree.children[0].data == "clawback_at_rate" else "paid"
        days = None
        if len(tree.children) > 1:
            number, unit = tree.children[1].children
            if str(unit) != "days" or "." in str(number):
                self.problems.append(error(
                    "KPI001", f"a clawback window is a whole number of days, not "
                    f"'{number} {unit}'", self.source, self.span(tree.children[1]),
                    hint="write: clawback at original rate within 90 days"))
            else:
                days = int(str(number).replace("_", ""))
        return {"clawback": ast.Clawback(self.span(tree), basis, days)}

    def grade(self, tree: Tree) -> ast.GradeSection:
        name = tree.children[0]
        label, based_on, statements = "", None, []
        translations: tuple[tuple[str, str], ...] = ()
        for child in tree.children[1:]:
            if child.data == "label":
                label = self.label(child)
                translations = self.translations(child)
            elif child.data == "based_on":
                based_on = str(child.children[0])
            else:
                statements.append(self.statement(child))
        return ast.GradeSection(self.span(tree), str(name), label, self.span(name), based_on,
                                tuple(statements), translations=translations)

    def label(self, tree: Tree) -> str:
        return _unquote(tree.children[0])

    def translations(self, tree: Tree) -> tuple[tuple[str, str], ...]:
        return tuple((str(t.children[0]), _unquote(t.children[1])) for t in tree.children[1:])

    def statement(self, tree: Tree) -> ast.Statement:
        node = getattr(self, "s_" + tree.data)(tree)
        label = next((c for c in tree.children if isinstance(c, Tree) and c.data == "label"),
                     None)
        if label is not None and len(label.children) > 1:
            node = replace(node, translations=self.translations(label))
        return node

    def _named(self, tree: Tree) -> tuple[Any, str, list[Any]]:
        name = tree.children[0]
        rest = list(tree.children[1:])
        label = ""
        if rest and isinstance(rest[0], Tree) and rest[0].data == "label":
            label = self.label(rest.pop(0))
        return name, label, rest

    def s_fact_decl(self, tree: Tree) -> ast.Fact:
        name = tree.children[0]
        unit = Unit(str(tree.children[1]))
        label, missing, column, percent = "", None, "", None
        aggregate: ast.SourceAggregate | None = None
        for child in tree.children[2:]:
            if child.data == "label":
                label = self.label(child)
            elif child.data == "column_clause":
                column = _unquote(child.children[0])
            elif child.data == "source_aggregate":
                aggregate = self.source_aggregate(child)
            elif child.data in ("points", "fraction"):
                percent = str(child.data)
                if unit is not Unit.PERCENT:  # how a percent is written: nothing else has it
                    self.problems.append(error(
                        "KPI001", f"'{percent}' says how a percent fact is written, but "
                        f"'{name}' is {unit.value}", self.source, self.span(child),
                        hint=f"write: fact {name} percent {percent}"))
            else:
                missing = self.expr(child.children[0])
        return ast.Fact(self.span(tree), str(name), label, self.span(name), unit, missing, column,
                        percent, aggregate)

    # ---- sources (deal, call, lead exports: kpidsl/sources/)
    def s_source_decl(self, tree: Tree) -> ast.Source:
        name, label, rest = self._named(tree)
        columns: dict[str, str] = {}
        fields = []
        for child in rest:
            if child.data == "source_field":
                fname, kind, *column = child.children
                fields.append(ast.SourceField(self.span(child), str(fname), str(kind),
                                              _unquote(column[0]) if column else str(fname),
                                              self.span(fname)))
            else:
                columns[str(child.data).removeprefix("source_") + "_column"] = \
                    _unquote(child.children[0])
        return ast.Source(self.span(tree), str(name), label, self.span(name),
                          fields=tuple(fields), **columns)  # type: ignore[arg-type]

    def source_aggregate(self, tree: Tree) -> ast.SourceAggregate:
        kind, source, *rest = tree.children
        field_token = rest.pop(0) if rest and isinstance(rest[0], Token) else None
        where = self.condition(rest[0].children[0]) if rest else None
        return ast.SourceAggregate(self.span(tree), " ".join(str(kind).split()), str(source),
                                   str(field_token or ""), where, self.span(source),
                                   self.span(field_token) if field_token else self.span(source))

    def condition(self, tree: Tree) -> ast.Condition:
        data = tree.data
        if data in ("condition_and", "condition_or"):
            left, right = tree.children
            return ast.BothOrEither(self.span(tree), data.removeprefix("condition_"),
                                    self.condition(left), self.condition(right))
        if data == "condition_not":
            return ast.NotCondition(self.span(tree), self.condition(tree.children[0]))
        name, *rest = tree.children
        op = {"test_is": "is", "test_is_not": "is not", "test_one_of": "one of",
              "test_equals": "="}.get(str(data))
        if op is None:  # test_compare
            op = _OPS.get(str(rest[0]), str(rest[0]))
            rest = rest[1:]
        values = tuple(self.field_value(v) for v in rest)
        return ast.FieldTest(self.span(tree), str(name), op, values)

    def field_value(self, tree: Tree) -> ast.Expr | str:
        value = tree.children[-1]
        if isinstance(value, Token):
            return _unquote(value) if value.type == "STRING" else str(value)  # text or a date
        made = self.expr(value)
        sign = tree.children[0] if len(tree.children) > 1 else None
        if sign is not None and str(sign) in ("-", "−") and isinstance(made, ast.Literal):
            made = replace(made, value=-made.value, text="-" + made.text)
        return made

    def s_constant_decl(self, tree: Tree) -> ast.Constant:
        name, label, rest = self._named(tree)
        by_month = self.monthly(rest[1]) if len(rest) > 1 else ()
        return ast.Constant(self.span(tree), str(name), label, self.span(name),
                            self.expr(rest[0]), by_month)

    def monthly(self, tree: Tree) -> tuple[ast.MonthValue, ...]:
        return tuple(
            ast.MonthValue(self.span(mv), str(mv.children[0]), self.expr(mv.children[1]))
            for mv in tree.children
        )

    def s_curve_decl(self, tree: Tree) -> ast.Curve:
        name, label, rest = self._named(tree)
        body = rest[0]
        cap = floor = uncapped = None
        for limit in rest[1:]:
            if limit.data == "curve_cap":
                cap = self.expr(limit.children[0])
            elif limit.data == "curve_uncapped":
                uncapped = self.span(limit)
            else:
                floor = self.expr(limit.children[0])
        kind = for_body(body)  # the kind reads its own body (kpidsl/curvekinds)
        return ast.Curve(self.span(tree), str(name), label, self.span(name), kind=kind,
                         cap=cap, floor=floor, uncapped=uncapped, **kind.parse(self, body))

    def band(self, tree: Tree) -> ast.Band:
        rng, pays = tree.children
        kind = rng.data
        bounds = [self.expr(c) for c in rng.children]
        lower = upper = None
        lower_inclusive, upper_inclusive = True, False
        if kind == "range_below":
            upper = bounds[0]
        elif kind == "range_at_most":
            upper, upper_inclusive = bounds[0], True
        elif kind == "range_from":
            lower = bounds[0]
        elif kind == "range_above":
            lower, lower_inclusive = bounds[0], False
        else:
            lower, upper = bounds
            lower_inclusive = kind.startswith("range_from")
            upper_inclusive = kind.endswith("through")
        return ast.Band(self.span(tree), lower, lower_inclusive, upper, upper_inclusive,
                        self.expr(pays))

    def s_kpi_decl(self, tree: Tree) -> ast.Kpi:
        name, label, rest = self._named(tree)
        fields: dict[str, object] = {}
        for clause in rest:
            data = clause.data
            if data == "kpi_formula":
                fields["formula"] = self.expr(clause.children[0])
            elif data == "kpi_plan":
                fields["plan"] = self.expr(clause.children[0])
                if len(clause.children) > 1:
                    fields["plan_by_month"] = self.monthly(clause.children[1])
            elif data == "kpi_direction":
                fields["direction"] = str(clause.children[0])
            elif data == "kpi_attainment":
                fields["attainment"] = self.expr(clause.children[0])
            elif data == "kpi_group":
                fields["group"] = str(clause.children[0])
        return ast.Kpi(self.span(tree), str(name), label, self.span(name),
                       **fields)  # type: ignore[arg-type]

    def gate(self, tree: Tree) -> ast.Gate:
        kind = {"gate_only_if": ast.GateKind.ONLY_IF, "gate_cap": ast.GateKind.CAP,
                "gate_floor": ast.GateKind.FLOOR}[tree.data]
        unless = self.expr(tree.children[1]) if len(tree.children) > 1 else None
        return ast.Gate(self.span(tree), kind, self.expr(tree.children[0]), unless)

    def s_pay_decl(self, tree: Tree) -> ast.Pay:
        name, label, rest = self._named(tree)
        formula = pool = None
        each: ast.EachDeal | None = None
        gates, items = [], []
        for child in rest:
            if child.data == "pay_formula":
                formula = self.expr(child.children[0])
            elif child.data == "pay_pool":
                pool = self.expr(child.children[0])
            elif child.data == "pay_each":
                each = self.each_deal(child)
            elif child.data == "pool_item":
                items.append(self.pool_item(child))
            else:
                gates.append(self.gate(child))
        return ast.Pay(self.span(tree), str(name), label, self.span(name), formula, pool,
                       tuple(gates), tuple(items), each)

    def each_deal(self, tree: Tree) -> ast.EachDeal:
        noun, source, *rest = tree.children
        where: ast.Condition | None = None
        order: tuple[str, ...] = ()
        while rest and isinstance(rest[0], Tree):
            part = rest.pop(0)
            if part.data == "where_clause":
                where = self.condition(part.children[0])
            else:
                order = tuple(str(n) for n in part.children)
        minimum = self.expr(rest.pop().children[0]) \
            if isinstance(rest[-1], Tree) and rest[-1].data == "each_minimum" else None
        curve, running, kpi = rest
        return ast.EachDeal(self.span(tree), str(noun), str(source), where, order, str(curve),
                            str(running), str(kpi), self.span(source), self.span(curve),
                            self.span(kpi), minimum)

    def pool_item(self, tree: Tree) -> ast.PoolItem:
        kpi = tree.children[0]
        weight = amount = None
        curve, curve_span = None, self.span(kpi)
        gates = []
        for child in tree.children[1:]:
            if child.data == "item_weight":
                weight = self.expr(child.children[0])
            elif child.data == "item_amount":
                amount = self.expr(child.children[0])
            elif child.data == "item_curve":
                curve, curve_span = str(child.children[0]), self.span(child.children[0])
            else:
                gates.append(self.gate(child))
        return ast.PoolItem(self.span(kpi), str(kpi), weight, amount, curve, tuple(gates),
                            curve_span)

    def s_budget_decl(self, tree: Tree) -> ast.Budget:
        name, label, rest = self._named(tree)
        # "per" "team" are anonymous tokens the tree leaves out: the statement going on past
        # the payment's name is what says they were written
        per_team = tree.meta.end_pos > (rest[1].end_pos or 0)
        return ast.Budget(self.span(tree), str(name), label, self.span(name), self.expr(rest[0]),
                          str(rest[1]), per_team)

    def s_example_decl(self, tree: Tree) -> ast.Example:
        name, label, rest = self._named(tree)
        grade = team = None
        given: list[ast.Assignment] = []
        expect: list[ast.Expectation] = []
        for child in rest:
            if child.data == "example_grade":
                grade = str(child.children[0])
            elif child.data == "example_team":
                team = _unquote(child.children[0])
            elif child.data == "given":
                given = [
                    ast.Assignment(self.span(a.children[0]), str(a.children[0]),
                                   self.expr(a.children[1]))
                    for a in child.children
                ]
            else:
                expect = [self.expectation(e) for e in child.children]
        return ast.Example(self.span(tree), str(name), label, self.span(name), grade, team,
                           tuple(given), tuple(expect))

    def expectation(self, tree: Tree) -> ast.Expectation:
        target, value = tree.children
        kind = target.data.removeprefix("target_")
        names = [str(c) for c in target.children]
        name = names[0] if names else ""
        item = names[1] if len(names) > 1 else ""
        return ast.Expectation(self.span(tree), kind, name, item, self.expr(value))

    def s_drop_decl(self, tree: Tree) -> ast.Drop:
        name = tree.children[0]
        return ast.Drop(self.span(tree), str(name), "", self.span(name))

    # ---- expressions
    def expr(self, node: Tree | Token) -> ast.Expr:
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
            raise TypeError(node)
        return getattr(self, "e_" + node.data)(node)

    def e_number(self, tree: Tree) -> ast.Expr:
        token = tree.children[0]
        return ast.Literal(self.span(tree), self.decimal(token), Unit.ANY, str(token))

    def e_percent(self, tree: Tree) -> ast.Expr:
        token = tree.children[0]
        digits = str(token).rstrip("%").strip()
        value = self.decimal(token, digits).scaleb(-2)
        return ast.Literal(self.span(tree), value, Unit.PERCENT, str(token).replace(" ", ""))

    def e_money(self, tree: Tree) -> ast.Expr:
        number, currency = tree.children
        return ast.Literal(self.span(tree), self.decimal(number), Unit.MONEY, str(number),
                           _currency(currency))

    def decimal(self, token: Any, text: str | None = None) -> Decimal:
        digits = (text if text is not None else str(token)).replace("_", "")
        if len(digits.replace(".", "")) > MAX_DIGITS:
            self.problems.append(error(
                "KPI005", f"a number with more than {MAX_DIGITS} digits", self.source,
                self.span(token), hint="amounts and plans need far fewer digits"))
            return Decimal(0)
        try:
            value = Decimal(digits)
        except InvalidOperation:  # pragma: no cover - the grammar admits only digits
            return Decimal(0)
        why = bound_error(value)  # the limit facts and --earn share (kpidsl.numbers)
        if why is not None:
            self.problems.append(error(
                "KPI005", f"the number {_clipped(digits)} {why}", self.source, self.span(token),
                hint="amounts and plans need far fewer digits"))
            return Decimal(0)
        return value

    def e_reference(self, tree: Tree) -> ast.Expr:
        return ast.Ref(self.span(tree), str(tree.children[0]))

    def e_plan_of(self, tree: Tree) -> ast.Expr:
        return ast.PlanOf(self.span(tree), str(tree.children[0]))

    def e_attainment_of(self, tree: Tree) -> ast.Expr:
        return ast.AttainmentOf(self.span(tree), str(tree.children[0]))

    def e_curve_input(self, tree: Tree) -> ast.Expr:
        return ast.CurveInput(self.span(tree))

    def e_team_aggregate(self, tree: Tree) -> ast.Expr:
        return ast.TeamAggregate(self.span(tree), ast.Aggregate(str(tree.children[0])),
                                 str(tree.children[1]))

    def e_team_size(self, tree: Tree) -> ast.Expr:
        return ast.TeamSize(self.span(tree))

    def e_unary(self, tree: Tree) -> ast.Expr:
        op, operand = tree.children
        return ast.Unary(self.span(tree), ast.UnaryOp(_OPS.get(str(op), str(op))),
                         self.expr(operand))

    def e_binary(self, tree: Tree) -> ast.Expr:
        left, op, right = tree.children
        return ast.Binary(self.span(tree), ast.BinaryOp(_OPS.get(str(op), str(op))),
                          self.expr(left), self.expr(right))

    def e_division(self, tree: Tree) -> ast.Expr:
        left, _, right = tree.children
        return ast.Division(self.span(tree), self.expr(left), self.expr(right))

    def e_guarded_division(self, tree: Tree) -> ast.Expr:
        left, _, right, otherwise = tree.children
        return ast.Division(self.span(tree), self.expr(left), self.expr(right),
                            self.expr(otherwise))

    def e_comparison(self, tree: Tree) -> ast.Expr:
        left, op, right = tree.children
        return ast.Compare(self.span(tree), ast.CompareOp(_OPS.get(str(op), str(op))),
                           self.expr(left), self.expr(right))

    def e_equals(self, tree: Tree) -> ast.Expr:
        left, right = tree.children
        return ast.Compare(self.span(tree), ast.CompareOp.EQ, self.expr(left), self.expr(right))

    def e_and_(self, tree: Tree) -> ast.Expr:
        return ast.Logical(self.span(tree), ast.LogicOp.AND, *map(self.expr, tree.children))

    def e_or_(self, tree: Tree) -> ast.Expr:
        return ast.Logical(self.span(tree), ast.LogicOp.OR, *map(self.expr, tree.children))

    def e_not_(self, tree: Tree) -> ast.Expr:
        return ast.Not(self.span(tree), self.expr(tree.children[0]))

    def e_if_then_else(self, tree: Tree) -> ast.Expr:
        return ast.IfThenElse(self.span(tree), *map(self.expr, tree.children))

    def e_function_call(self, tree: Tree) -> ast.Expr:
        function, *args = tree.children
        return ast.Call(self.span(tree), ast.Function(str(function)), tuple(map(self.expr, args)))

    def e_round_call(self, tree: Tree) -> ast.Expr:
        value, step, *mode = tree.children
        return ast.Round(self.span(tree), self.expr(value), self.expr(step),
                         _mode(mode[0]) if mode else ast.RoundingMode.HALF_UP)

    def e_curve_call(self, tree: Tree) -> ast.Expr:
        name, arg = tree.children
        return ast.CurveCall(self.span(tree), str(name), self.expr(arg))


def _unquote(token: Any) -> str:
    text = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", text)


def _currency(token: Any) -> str:
    return {"₽": "RUB", "€": "EUR"}.get(str(token), str(token))


def _mode(tree: Tree) -> ast.RoundingMode:
    return ast.RoundingMode(" ".join(str(tree.children[0]).split()))


def _clipped(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
