"""Checking a big scheme again after an edit without checking all of it.

`kpidsl check` runs its passes over the whole scheme; on 5 000 KPIs that is some 600 ms of
CPU, too slow to follow typing. After an edit only the statements the edit can affect are
checked again, with the real checker (`check_ruleset`) on a smaller scheme, and every other
statement keeps the diagnostics it had (moved with it when lines were added or removed).

What a statement's diagnostics depend on is found from its words: a statement depends on
every statement that declares a name it writes (outside labels and comments). That is more
than the checker needs (a word in a formula that is not a name costs nothing: it declares
nothing), never less, so whatever the checker reads about another statement is in the
smaller scheme too. The statements checked again (`affected`) are
- the edited statements, and those that declared or now declare the same names;
- the facts an edited statement writes or wrote (whether a fact is used, KPI703, is decided
  by its users);
- every statement that depends, directly or not, on one of those (a unit, a constant's value
  or a cycle travels along that chain);
- a statement that moved and has a diagnostic naming a line number.
The smaller scheme holds those and everything they depend on (`context`, whose own
diagnostics are not taken from it: its users are not all there).

What depends on the whole scheme is computed on the whole scheme: look-alike names
(KPI106), examples (KPI8xx), the header (effective dates, rounding), how many KPIs an
employee is paid on (KPI704, through checks.methodology.kpis_per_employee); the method's
lints (KPI70x) are shown only when no statement has an error, as in `check`, but each
statement's (KPI703, KPI705, KPI707) are found whenever it is checked again, errors or not,
so that the edit that removes the last error shows them without checking the whole scheme.
"Did you mean" compares a misspelt name with every name of its kind: when the smaller scheme
has such a diagnostic it is checked again with every other declaration present as a stub
(its name, nothing to check). Where any of this could differ from `check` (grades, a team
part of the bonus, a rounding step that is not a number ...) the whole scheme is checked
instead; `reason` says why, for tests and measurements.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, deque
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import compress

from .. import ast
from ..checks import BASE, CheckedRuleset, Variant, check_ruleset, unique
from ..checks.examples import check_examples
from ..checks.lookalikes import check_lookalikes
from ..checks.methodology import check_methodology, kpis_per_employee
from ..checks.resolve import resolve
from ..curvekinds import BANDS
from ..diagnostics import Diagnostic, did_you_mean
from ..source import SourceFile
from .moving import moved_tree as _moved

# what a statement writes: labels and comments skipped whole, then words
_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[^\W\d]\w*')
_LINE_NUMBER = re.compile(r"\bline \d")

# diagnostics that depend on the whole scheme, computed over all of it
_WHOLE = {"KPI106", "KPI704", "KPI706", "KPI623", "KPI801", "KPI802", "KPI803", "KPI804"}
# the method's lints, which `check` runs only when the scheme has no error
_METHOD = {"KPI703", "KPI704", "KPI705", "KPI706", "KPI707"}
# diagnostics whose hint compares a name with every name of a kind ("did you mean")
_HINTED = {"KPI101", "KPI104"}
_CHECKED = (ast.Fact, ast.Constant, ast.Curve, ast.Kpi, ast.Pay, ast.Budget)

# Above this share of the statements checked again, the whole check is as quick.
MAX_SHARE = 0.3
MAX_EDITED = 64


@dataclass
class _Version:
    """What is kept of the version last checked."""

    chunks: list[str]  # the text of each statement, the header first
    lines: list[int]  # the first line of each
    diagnostics: list[list[Diagnostic]]  # each statement's own (not the whole scheme's)
    # each statement's lints of the method (KPI703, KPI705, KPI707), found even while an error
    # elsewhere keeps `check` from showing them; None where they are not known
    lints: list[list[Diagnostic]] | None
    declared: list[str]  # the name each statement declares ('' for the header, examples)
    facts: set[str]
    method_runs: bool  # no error anywhere: the method's lints were run
    nonempty: list[int]  # the statements with diagnostics or lints


class IncrementalCheck:
    """The diagnostics of a scheme after an edit, equal to `check`'s, from the last version's."""

    def __init__(self) -> None:
        self._last: _Version | None = None
        self._words: dict[str, frozenset[str]] = {}  # what each statement's text writes
        self._names: dict[str, str] = {}  # the name it declares
        self._facts: dict[str, bool] = {}  # whether it declares a fact
        self.reason = ""  # why the last call checked the whole scheme ('' when it did not)
        self._looked: tuple[object, list[Diagnostic]] = ((), [])
        self._variants: tuple[ast.Ruleset, dict[str, Variant], list[ast.Example]] | None = None
        self.checked = 0  # statements checked again by the last call (affected + context)

    # ---- the whole scheme, and what is kept of it
    def remember(self, source: SourceFile, ruleset: ast.Ruleset,
                 chunks: list[tuple[int, int]], diagnostics: list[Diagnostic],
                 checked: CheckedRuleset | None = None) -> None:
        """Keep what the next edit needs from a whole check of this version (`checked`, when
        given, tells the method's lints where an error kept `check` from running them)."""
        self._last = None
        reason = self.reason
        layout = self._layout(source, ruleset, chunks, [0] * len(ruleset.statements))
        self.reason = reason
        if layout is None:
            return
        texts, lines = layout
        own: list[list[Diagnostic]] = [[] for _ in texts]
        for d in diagnostics:
            if not d.line:
                return
            if d.code in _WHOLE or d.code in _METHOD:
                continue
            own[_index(lines, d.line)].append(d)
        method_runs = not any(_stops_method(d, lines) for d in diagnostics)
        lints: list[list[Diagnostic]] | None = None
        if method_runs:
            lints = _lints(diagnostics, lines, len(texts))
        elif checked is not None and BASE in checked.variants:
            lints = _lints(check_methodology(checked.base, source, ruleset.header,
                                             checked.examples), lines, len(texts))
        self._keep(source, ruleset, texts, lines, own, lints, method_runs)

    def _keep(self, source: SourceFile, ruleset: ast.Ruleset, texts: list[str],
              lines: list[int], own: list[list[Diagnostic]],
              lints: list[list[Diagnostic]] | None, method_runs: bool) -> None:
        declared = ["", *map(_declared, ruleset.statements)]
        facts = {s.name for s in ruleset.statements if isinstance(s, ast.Fact)}
        for index in (0, *(i for i, s in enumerate(ruleset.statements, 1)
                            if isinstance(s, ast.Example))):
            own[index] = []  # the header's and the examples' are the whole scheme's
            if lints is not None:
                lints[index] = []
        nonempty = [i for i, ds in enumerate(own) if ds or (lints is not None and lints[i])]
        self._last = _Version(texts, lines, own, lints, declared, facts, method_runs, nonempty)
        self._words = {t: self._words[t] if t in self._words else _words(t) for t in texts}
        self._names = dict(zip(texts, declared, strict=True))
        self._facts = {t: isinstance(s, ast.Fact) for t, s in zip(
            texts, (None, *ruleset.statements), strict=True)}

    def _layout(self, source: SourceFile, ruleset: ast.Ruleset, chunks: list[tuple[int, int]],
                shifts: list[int], known: tuple[list[str], list[int]] | None = None
                ) -> tuple[list[str], list[int]] | None:
        """Each statement's text and first line, when every statement is one this module
        knows (no grades, no `drop`) and each starts its own piece of text."""
        self.reason = ""
        if ruleset.grades:
            self.reason = "grades"
            return None
        if any(not isinstance(s, (*_CHECKED, ast.Example)) for s in ruleset.statements):
            self.reason = "a statement of another kind"
            return None
        if any(not isinstance(rule.step, ast.Literal) for rule in ruleset.header.rounding):
            self.reason = "a rounding step that is not a number"
            return None
        if len(chunks) != len(ruleset.statements) + 1:
            self.reason = "statements that do not start their own lines"
            return None
        if known is not None and len(known[0]) == len(known[1]) == len(chunks):
            return known  # the statement cache's: each chunk is one statement, at its line
        texts = [source.text[start:end] for start, end in chunks]
        lines = [source.position(start)[0] for start, _end in chunks]
        if any(s.span.line + shift != line for s, shift, line in zip(
                ruleset.statements, shifts, lines[1:], strict=True)):
            self.reason = "statements that do not start their own lines"
            return None
        return texts, lines

    # ---- after an edit
    def check(self, source: SourceFile, ruleset: ast.Ruleset, chunks: list[tuple[int, int]],
              shifts: list[int], layout: tuple[list[str], list[int]] | None = None
              ) -> list[Diagnostic] | None:
        """`check`'s diagnostics for this version, or None when only the whole check will do
        (`reason` says why; call `remember` with its result). Statement i of `ruleset` has
        the lines it was parsed at: it is `shifts[i]` lines further down now (what is read
        here is moved as it is read: a line break above 10 000 statements moves them all)."""
        last = self._last
        layout = self._layout(source, ruleset, chunks, shifts, layout)
        if layout is None:
            return None
        if last is None:
            self.reason = "no earlier version"
            return None
        texts, lines = layout
        if texts[0] != last.chunks[0]:
            self.reason = "the header changed"
            return None
        statements = ruleset.statements
        # The same text, in order, is the same statement (moved, perhaps). What is known of
        # each text is looked up with map() and zip(), which go over 10 000 statements in C:
        # Python loops over them took ~60 ms of an edit's ~100 on 5 000 KPIs.
        was, removed = _matched(last.chunks, texts)
        edited = [i for i, old in enumerate(was) if old is None]
        if len(edited) + len(removed) > MAX_EDITED:
            self.reason = "too many statements changed"
            return None
        words: list[frozenset[str]] = list(map(self._words.get, texts))  # type: ignore[arg-type]
        for index in edited:
            words[index] = _words(texts[index])
        declared: list[str] = list(map(self._names.get, texts))  # type: ignore[arg-type]
        for index in edited:
            declared[index] = _declared(statements[index - 1]) if index else ""
            self._names[texts[index]] = declared[index]
            self._facts[texts[index]] = index > 0 and isinstance(statements[index - 1],
                                                                 ast.Fact)
        facts = set(compress(declared, map(self._facts.get, texts)))
        counts = Counter(declared)
        single = dict(zip(declared, range(len(declared)), strict=True))

        def declarers(name: str) -> list[int]:
            """The statements that declare a name (a scan for a name declared twice)."""
            if counts.get(name, 0) > 1:
                return [i for i, n in enumerate(declared) if n == name]
            return [single[name]] if name in single and name else []

        inverse = dict(zip(was, range(len(was)), strict=True))  # last version's → this one's
        # what the edit touched: names declared, and facts written, before and after it
        names: set[str] = set()
        facts_written: set[str] = set()
        for index in edited:
            names.add(declared[index])
            facts_written |= words[index] & facts
        for index in removed:
            names.add(last.declared[index])
            facts_written |= (self._words.get(last.chunks[index]) or _words(last.chunks[index])
                              ) & (last.facts | facts)
        names.discard("")
        examples = {i for i, s in enumerate(statements, 1) if isinstance(s, ast.Example)}

        def users(found: set[str]) -> list[int]:
            """The statements that write one of these names (a scan is quicker than an index
            of every word: an edit needs the users of a few names)."""
            return [i for i, w in enumerate(words) if i and not w.isdisjoint(found)]

        affected = set(edited)
        for name in names | facts_written:
            affected.update(declarers(name))
        affected.update(users(names))
        now = [inverse.get(old) for old in last.nonempty]
        moved_with_diagnostics = [(index, old) for index, old in zip(now, last.nonempty,
                                                                     strict=True) if index]
        for index, old in moved_with_diagnostics:
            if lines[index] != last.lines[old] and any(
                    _LINE_NUMBER.search(d.message + d.hint) for d in last.diagnostics[old]):
                affected.add(index)
        if declared != last.declared:  # "did you mean" looks at every name of a kind
            affected.update(index for index, old in moved_with_diagnostics if any(
                d.code in _HINTED for d in last.diagnostics[old]))
        affected -= examples | {0}
        frontier = set(affected)
        while frontier:  # and whatever depends on them, level by level
            written = {declared[i] for i in frontier} - {""}
            frontier = set(users(written)) - affected - examples if written else set()
            affected |= frontier
        context = set(affected)
        _close(context, lambda i: (d for w in words[i] for d in declarers(w)))
        context -= examples
        self.checked = len(context)
        if len(context) > MAX_SHARE * len(statements) + 8:
            self.reason = f"{len(context)} statements depend on the edit"
            return None

        # the affected statements, checked in a scheme of those and what they depend on
        def part(stubs: bool) -> tuple[list[Diagnostic], list[Diagnostic] | None] | None:
            """The affected statements' diagnostics and the method's lints of them."""
            kept = []
            for index, (statement, shift) in enumerate(zip(statements, shifts, strict=True), 1):
                if index in context:
                    kept.append(_moved(statement, shift) if shift else statement)
                elif stubs and (stub := _stub(_moved(statement, shift) if shift
                                              else statement)) is not None:
                    kept.append(stub)
            smaller = ast.Ruleset(ruleset.span, ruleset.header, tuple(kept), (), source,
                                  ruleset.comments)
            found = []
            checked = check_ruleset(smaller, source)
            for d in checked.diagnostics:
                if not d.line:
                    return None
                if d.code not in _WHOLE and d.code not in _METHOD and \
                        _index(lines, d.line) in affected:
                    found.append(d)
            # the method's lints of the affected statements, run here even when an error
            # keeps `check` from running them: they show once the last error is gone
            lints = None if BASE not in checked.variants else [
                d for d in check_methodology(checked.base, source, ruleset.header,
                                             checked.examples)
                if d.code not in _WHOLE and d.line and _index(lines, d.line) in affected]
            return found, lints

        checked = part(stubs=False)
        if checked is not None and any(d.code in _HINTED for d in checked[0]):
            variants = self._resolved(ruleset, shifts, source)
            hinted = [_hinted(d, variants[BASE]) for d in checked[0]]
            if all(d is not None for d in hinted):
                checked = [d for d in hinted if d is not None], checked[1]
            else:  # a message this module does not know: every other name present as a stub
                checked = part(stubs=True)
        if checked is None:
            self.reason = "a diagnostic without a place"
            return None
        fresh, fresh_lints = checked
        own: list[list[Diagnostic]] = [[] for _ in texts]
        for d in fresh:
            own[_index(lines, d.line)].append(d)
        lints = _lints(fresh_lints, lines, len(texts)) if fresh_lints is not None else None
        nonempty = {_index(lines, d.line) for d in [*fresh, *(fresh_lints or ())]}
        for index, old in moved_with_diagnostics:  # the others' are empty
            if index not in affected:
                shift = lines[index] - last.lines[old]
                own[index] = [replace(d, line=d.line + shift) if shift else d
                              for d in last.diagnostics[old]]
                if lints is not None and last.lints is not None:
                    lints[index] = [replace(d, line=d.line + shift) if shift else d
                                    for d in last.lints[old]]
                nonempty.add(index)
        if last.lints is None:
            lints = None
        method_runs = not any(_stops_method(d, lines) for i in nonempty for d in own[i])
        if method_runs and lints is None:
            self.reason = "the last error is gone, and the method's lints were not known"
            return None
        whole = self._whole(source, ruleset, shifts, method_runs, words)
        if whole is None:
            return None
        self._last = _Version(texts, lines, own, lints, declared, facts, method_runs,
                              sorted(nonempty))
        for index in edited:
            self._words[texts[index]] = words[index]
        self._forget(texts)
        shown = [*whole, *(d for i in nonempty for d in own[i])]
        if method_runs and lints is not None:
            shown += (d for i in nonempty for d in lints[i])
        return unique(shown)

    def _forget(self, texts: list[str]) -> None:
        """What is known of texts no longer in the scheme goes, once it is most of it."""
        if len(self._words) > 2 * len(texts) + 1000:
            self._words = {t: self._words[t] for t in texts if t in self._words}
            self._names = {t: self._names[t] for t in texts if t in self._names}
            self._facts = {t: self._facts[t] for t in texts if t in self._facts}

    def _lookalikes(self, ruleset: ast.Ruleset, shifts: list[int], source: SourceFile
                    ) -> list[Diagnostic]:
        """KPI106 over every name, again only when a name or where it is written changed (or
        only a name, when no two names looked alike)."""
        if ruleset.header.name.isascii() and "".join(s.name for s in ruleset.statements
                                                     ).isascii():
            # two names in ASCII letters look alike only if they are one name (and are then
            # reported as declared twice): KPI106 needs a letter of another alphabet
            self._looked = ((), [])
            return []
        names = tuple((type(s), s.name) for s in ruleset.statements)
        key = (names, tuple(s.name_span.line + shift for s, shift in zip(
            ruleset.statements, shifts, strict=True))) if self._looked[1] else (names, ())
        if self._looked[0] != key:
            # what check_lookalikes reads of a statement: its name and where it is written
            named = replace(ruleset, statements=tuple(
                _name_moved(s, shift) for s, shift in zip(ruleset.statements, shifts,
                                                          strict=True)))
            found = check_lookalikes(named, source)
            key = (names, tuple(s.name_span.line for s in named.statements)) if found else \
                (names, ())
            self._looked = (key, found)
        return [replace(d, source_line=source.line_text(d.line)) for d in self._looked[1]]

    def _resolved(self, ruleset: ast.Ruleset, shifts: list[int], source: SourceFile
                  ) -> dict[str, Variant]:
        """The whole scheme's names (resolved once per version: some 8 ms on 5 000 KPIs);
        the examples, whose diagnostics are taken from it, in their places."""
        if self._variants is None or self._variants[0] is not ruleset:
            placed = replace(ruleset, statements=tuple(
                _moved(s, shift) if shift and isinstance(s, ast.Example) else s
                for s, shift in zip(ruleset.statements, shifts, strict=True)))
            variants, examples, _ = resolve(placed, source)
            self._variants = (ruleset, variants, examples)
        return self._variants[1]

    def _whole(self, source: SourceFile, ruleset: ast.Ruleset, shifts: list[int],
               method_runs: bool, words: list[frozenset[str]]) -> list[Diagnostic] | None:
        """The diagnostics that depend on the whole scheme."""
        header = check_ruleset(ast.Ruleset(ruleset.span, ruleset.header, (), (), source,
                                           ruleset.comments), source).diagnostics
        if any(d.code == "KPI208" for d in header):
            # `check` appends the header's rounding problems after sorting the rest
            self.reason = "a rounding step that is not positive"
            return None
        out = [*header, *self._lookalikes(ruleset, shifts, source)]
        if any(isinstance(s, ast.Example) for s in ruleset.statements):
            variants = self._resolved(ruleset, shifts, source)
            assert self._variants is not None
            out += check_examples(self._variants[2], variants, source)
        if method_runs:
            if any("team" in w for w in words):
                self.reason = "a team part of the bonus: its share is judged over every payment"
                return None
            # how many KPIs an employee is paid on, over every payment (what check_methodology
            # counts; its other lints are each statement's own); the first of two payments of
            # one name is the one that counts
            pooled: set[str] = set()
            seen: set[str] = set()
            for statement in ruleset.statements:
                if isinstance(statement, ast.Pay) and statement.name not in seen:
                    seen.add(statement.name)
                    pooled.update(item.kpi for item in statement.items)
            too_many = kpis_per_employee(pooled, source, ruleset.header)
            if too_many is not None:
                out.append(too_many)
        return out


def _name_moved(statement: ast.Statement, shift: int) -> ast.Statement:
    """A statement whose name's place is moved `shift` lines (nothing else of it is)."""
    if not shift:
        return statement
    copy = object.__new__(type(statement))
    copy.__dict__.update(statement.__dict__)
    copy.__dict__["name_span"] = _moved(statement.name_span, shift)
    return copy


def _lints(found: list[Diagnostic], lines: list[int], count: int) -> list[list[Diagnostic]]:
    """The method's lints of each statement (none yet where `found` has none)."""
    lints: list[list[Diagnostic]] = [[] for _ in range(count)]
    for d in found:
        if d.code in _METHOD and d.code not in _WHOLE and d.line:
            lints[_index(lines, d.line)].append(d)
    return lints


def _declared(statement: ast.Statement) -> str:
    return statement.name if isinstance(statement, _CHECKED) else ""


def _matched(earlier: list[str], texts: list[str]) -> tuple[list[int | None], list[int]]:
    """For each statement, the index of the same text in the last version (None for an
    edited one), and the last version's statements not found (removed or edited)."""
    index = dict(zip(earlier, range(len(earlier)), strict=True))
    if len(index) == len(earlier) and len(set(texts)) == len(texts):
        was: list[int | None] = [0, *map(index.get, texts[1:])]
        removed = sorted(set(range(1, len(earlier))).difference(was))
        return was, removed
    found: dict[str, deque[int]] = {}  # a text written twice: matched in order
    for i, text in enumerate(earlier):
        found.setdefault(text, deque()).append(i)
    was = [0]
    for text in texts[1:]:
        queue = found.get(text)
        was.append(queue.popleft() if queue else None)
    return was, sorted(i for queue in found.values() for i in queue if i)


def _words(text: str) -> frozenset[str]:
    """The names a statement may write. The parser reads a word that starts with the word the
    statement expects as the two ("fork29" after a payment's line is "for k29"), so each tail
    of a word from a letter on counts too: more names than written, never fewer."""
    words: set[str] = set()
    for match in _LEXEME.finditer(text):
        word = match.group(0)
        if word[0] not in '"#':
            words.update(word[i:] for i in range(len(word)) if word[i].isalpha() or word[i] == "_")
    return frozenset(words)


def _index(lines: list[int], line: int) -> int:
    """The statement a line belongs to (0: the header)."""
    return max(bisect_right(lines, line) - 1, 0)


def _close(found: set[int], step) -> None:  # type: ignore[no-untyped-def]
    """Add to `found` everything reachable from it by `step`."""
    queue = list(found)
    while queue:
        for other in step(queue.pop()):
            if other not in found:
                found.add(other)
                queue.append(other)


def _stops_method(d: Diagnostic, lines: list[int]) -> bool:
    """An error of the passes after which `check` runs the method's lints only if none is
    found (not one of the header, the examples, or a name declared twice in one section)."""
    if not d.is_error or d.code in _WHOLE or d.code.startswith("KPI6"):
        return False
    if d.code == "KPI103" and d.message.endswith("is defined twice"):
        return False
    return not (d.code == "KPI208" and _index(lines, d.line) == 0)


# what a diagnostic with a "did you mean" names, and which names it is compared with (the
# messages of checks/names.py and checks/pools.py)
_MISSPELT = [
    (re.compile(r"^unknown name '([^']+)' in (?:constant|fact|curve|budget) "), ("constants",)),
    (re.compile(r"^unknown name '([^']+)' in (?:KPI|payment) "),
     ("facts", "constants", "kpis")),
    (re.compile(r"^'(?:plan|attainment) of ([^']+)' names no KPI "), ("kpis",)),
    (re.compile(r"^unknown curve '([^']+)'"), ("curves",)),
    (re.compile(r"^team totals are taken over facts; '([^']+)' is not a fact$"), ("facts",)),
    (re.compile(r"^unknown KPI '([^']+)' in payment "), ("kpis",)),
    (re.compile(r"^budget '[^']+' caps unknown payment '([^']+)'$"), ("pays",)),
    (re.compile(r"^KPI '([^']+)' has no formula and there is no fact named "), ("facts",)),
]
_NOT_COMPARED = re.compile(r"^'attainment' alone is|can use only constants and 'attainment'|"
                           r"^'(?:plan|attainment) of' cannot be used|^team totals cannot be used")


def _hinted(d: Diagnostic, variant: Variant) -> Diagnostic | None:
    """The diagnostic with its "did you mean" compared with every name of the scheme (the
    smaller scheme has only some); None for a message not known here."""
    if d.code not in _HINTED or _NOT_COMPARED.search(d.message):
        return d
    for pattern, tables in _MISSPELT:
        match = pattern.match(d.message)
        if match:
            names = [n for table in tables for n in getattr(variant, table)]
            # a smaller scheme finds no suggestion only where the whole one finds none, and
            # then keeps the hint it gives instead (KPI104's 'write its formula ...')
            return replace(d, hint=did_you_mean(match.group(1), names) or
                           ("" if d.hint.startswith("did you mean") else d.hint))
    return None


_ZERO = ast.Literal(value=Decimal(0))


def _stub(statement: ast.Statement) -> ast.Statement | None:
    """A declaration reduced to its name: other statements' hints compare with it, and it
    has nothing to check that could be slow (its own diagnostics are not taken)."""
    if isinstance(statement, ast.Fact):
        return replace(statement, if_missing=None)
    if isinstance(statement, ast.Constant):
        return replace(statement, value=_ZERO, by_month=())
    if isinstance(statement, ast.Curve):
        return replace(statement, kind=BANDS, bands=(), points=(), spec=None, cap=None,
                       floor=None, uncapped=None)
    if isinstance(statement, ast.Kpi):
        return replace(statement, formula=_ZERO, plan=None, plan_by_month=(), attainment=None,
                       group=None)
    if isinstance(statement, ast.Pay):
        return replace(statement, formula=None, pool=None, gates=(), items=())
    return None  # budgets and examples: no hint compares with their names
