"""`kpidsl lsp` driven through the protocol: a subprocess speaking JSON-RPC over stdio.

Diagnostics must equal `kpidsl check` (codes, spans, messages, hints); hover, definition,
references, rename and completion are asserted on the bundled schemes, Cyrillic names
included, with positions in UTF-16 code units as LSP counts them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pygls")

from lsp_client import Client

from kpidsl import ast
from kpidsl.api import check_source
from kpidsl.lsp.analysis import Analysis, ParseCache
from kpidsl.lsp.positions import from_client, to_client
from kpidsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "checks").glob("*.kpi"))
RULESETS = sorted((ROOT / "rulesets").glob("*.kpi"))
B2B = ROOT / "rulesets" / "b2b_manager.kpi"
HUNTER = ROOT / "rulesets" / "hunter.kpi"


@pytest.fixture(scope="module")
def client():
    c = Client(debounce=0)
    yield c
    c.close()


def _utf16_to_column(line: str, units: int) -> int:
    """Independent of kpidsl.lsp.positions: walk the line counting UTF-16 units."""
    counted = 0
    for index, char in enumerate(line):
        if counted >= units:
            return index
        counted += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def _at(text: str, needle: str, nth: int = 0, offset: int = 0) -> dict[str, int]:
    """The LSP position (UTF-16) of the nth occurrence of `needle`, plus `offset` chars."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return {"line": line, "character": len(text[start:index].encode("utf-16-le")) // 2}


def _apply(text: str, edits: list[dict[str, Any]]) -> str:
    lines = text.split("\n")

    def offset(position: dict[str, int]) -> int:
        before = sum(len(line) + 1 for line in lines[: position["line"]])
        return before + _utf16_to_column(lines[position["line"]], position["character"])

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"],
                                             e["range"]["start"]["character"]), reverse=True):
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
        lines = text.split("\n")
    return text


def _doc(path: Path) -> dict[str, str]:
    return {"uri": path.resolve().as_uri()}


# ---------------------------------------------------------------- diagnostics


def test_diagnostics_equal_check_for_every_fixture(client: Client) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "kpidsl", "check", "--format", "json",
         *(str(p.relative_to(ROOT)) for p in FIXTURES)],
        cwd=ROOT, capture_output=True, text=True, check=False)
    expected = json.loads(checked.stdout)
    expected = expected["diagnostics"] if isinstance(expected, dict) else expected
    by_file: dict[str, list[tuple[Any, ...]]] = {}
    for d in expected:
        by_file.setdefault(Path(d["file"]).name, []).append(
            (d["code"], d["severity"], d["message"], d["hint"], d["line"], d["column"]))
    assert len(by_file) > 15
    for path in FIXTURES:
        text = path.read_text(encoding="utf-8")
        uri = path.resolve().as_uri()
        client.open(uri, text)
        published = client.diagnostics(uri)
        lines = text.split("\n")
        got = []
        for d in published:
            message, _, hint = d["message"].partition("\nhint: ")
            start = d["range"]["start"]
            severity = {1: "error", 2: "warning"}[d["severity"]]
            column = _utf16_to_column(lines[start["line"]], start["character"]) + 1 \
                if start["line"] < len(lines) else 0
            line = start["line"] + 1
            if (line, column) == (1, 1) and not any(
                    e[4] == 1 for e in by_file.get(path.name, [])):
                line = column = 0  # a diagnostic with no span is shown at the top
            got.append((d["code"], severity, message, hint, line, column))
        assert got == by_file.get(path.name, []), path.name
        # the end of each span too, against the API the CLI is built on
        api = check_source(SourceFile(str(path), text))[1]
        ends = [d["range"]["end"]["character"] for d in published]
        assert ends == [to_client(lines[d.line - 1], max(d.end_column, d.column) - 1)
                        if d.line else 0 for d in api], path.name


@pytest.mark.parametrize("path", FIXTURES + RULESETS, ids=lambda p: p.name)
def test_statement_cache_gives_checks_diagnostics(path: Path, monkeypatch) -> None:
    """Parsing statement by statement (what big schemes get) gives `check`'s diagnostics
    and the same syntax tree; a statement that does not parse alone falls back whole."""
    monkeypatch.setattr("kpidsl.lsp.analysis.INCREMENTAL_FROM", 0)
    text = path.read_text(encoding="utf-8")
    expected_checked, expected = check_source(SourceFile(str(path), text))
    cache = ParseCache()
    analysis = Analysis(text, str(path), cache)
    assert [d.render() for d in analysis.diagnostics] == [d.render() for d in expected]
    if expected_checked is None:
        return
    assert not analysis.incremental  # the first version is parsed whole, and fills the cache
    for edited in (re.sub(r"^(scheme.*)$", r"\1 ", text, count=1, flags=re.M),
                   re.sub(r"^(scheme.*)$", r"\1\n\n", text, count=1, flags=re.M),
                   text):
        # one character, then two lines that move every later statement down, then back
        again = Analysis(edited, str(path), cache)
        assert again.incremental and cache.parsed == 1
        whole_checked, whole = check_source(SourceFile(str(path), edited))
        assert [d.render() for d in again.diagnostics] == [d.render() for d in whole]
        assert again.ruleset == whole_checked.ruleset  # type: ignore[union-attr]
        assert _spans(again.ruleset) == _spans(whole_checked.ruleset)  # type: ignore[union-attr]


def _spans(node: ast.Ruleset) -> list[tuple[int, int, int, int]]:
    """Every span's lines and columns in a syntax tree (equality of nodes leaves them out)."""
    from dataclasses import fields, is_dataclass

    from kpidsl.source import Span

    out = []
    # a whole scheme's own span ends at its last token (comments after it not included)
    stack: list[object] = [node.header, node.statements, node.grades]
    while stack:
        item = stack.pop()
        if isinstance(item, Span):
            out.append((item.line, item.column, item.end_line, item.end_column))
        elif isinstance(item, tuple):
            stack.extend(item)
        elif is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in fields(item) if f.name != "source")
    return out


def test_diagnostics_follow_edits_with_debounce() -> None:
    c = Client(debounce=0.05)
    try:
        uri = "file:///tmp/edited.kpi"
        text = B2B.read_text(encoding="utf-8")
        c.open(uri, text)
        assert c.diagnostics(uri) == []
        where = _at(text, "max(revenue", offset=11)  # after 'revenue' in the commission
        c.change(uri, [{"range": {"start": where, "end": where}, "text": "x"}])
        found = c.diagnostics(uri)
        assert [(d["code"], d["message"].split("\n")[0]) for d in found] == [
            ("KPI101", "unknown name 'revenuex' in payment commission")]
        assert found[0]["message"].endswith("hint: did you mean 'revenue'?")
        assert found[0]["range"]["start"] == {"line": where["line"], "character": 8}
        # a statement left unfinished above it: check's syntax error, and the misspelt
        # name's diagnostic kept from the version that parsed, one line further down
        kpi = _at(text, "kpi calls", offset=0)
        c.change(uri, [{"range": {"start": kpi, "end": kpi}, "text": "kpi unfinished = calls +\n"}])
        shown = c.diagnostics(uri)
        at = text.index("max(revenue") + 11
        now = text[:at] + "x" + text[at:]
        at = now.index("kpi calls")
        now = now[:at] + "kpi unfinished = calls +\n" + now[at:]
        expected = check_source(SourceFile("edited.kpi", now))[1]
        assert expected[0].code == "KPI001"
        assert [(d["code"], d["range"]["start"]["line"]) for d in shown] == sorted(
            [(d.code, d.line - 1) for d in expected] + [("KPI101", where["line"] + 1)],
            key=lambda pair: pair[1])
    finally:
        c.close()


# ---------------------------------------------------------------- names


def test_hover_shows_labels_unit_plan_place_and_pay(client: Client) -> None:
    text = B2B.read_text(encoding="utf-8")
    client.open(_doc(B2B)["uri"], text)
    hover = client.request("textDocument/hover", {"textDocument": _doc(B2B),
                                                  "position": _at(text, "margin_rate ×")})
    value = hover["contents"]["value"]
    assert "**constant `margin_rate`** — Margin rate · ru: Маржинальность" in value
    assert "value: 30%" in value and "defined at line 16" in value
    assert "used in `payment commission`" in value
    hover = client.request("textDocument/hover", {
        "textDocument": _doc(B2B), "position": _at(text, "for calls", offset=5)})
    value = hover["contents"]["value"]
    assert "**KPI `calls`** — Successful calls · ru: Успешные звонки" in value
    assert "plan: 1000" in value and "unit: count" in value
    assert "pays in `bonus` for `calls`: weight 20%, curve `standard`" in value
    assert hover["range"] == {"start": _at(text, "for calls", offset=4),
                              "end": _at(text, "for calls", offset=9)}
    assert client.request("textDocument/hover", {
        "textDocument": _doc(B2B), "position": _at(text, "# The reference")}) is None


def test_definition_and_references_across_grades(client: Client) -> None:
    text = HUNTER.read_text(encoding="utf-8")
    client.open(_doc(HUNTER)["uri"], text)
    based = text.index("based on senior") + len("based on ")
    position = _at(text, "based on senior", offset=len("based on "))
    found = client.request("textDocument/definition", {"textDocument": _doc(HUNTER),
                                                       "position": position})
    assert [loc["range"]["start"] for loc in found] == [_at(text, "grade senior", offset=6)]
    assert based > 0
    # every use of a KPI, in the base scheme and in grades, comments and labels left out
    name = re.search(r"^kpi (\w+)", text, re.M).group(1)  # type: ignore[union-attr]
    found = client.request("textDocument/references", {
        "textDocument": _doc(HUNTER), "position": _at(text, f"kpi {name}", offset=4),
        "context": {"includeDeclaration": True}})
    code = [re.sub(r'"(?:[^"\\]|\\.)*"|#.*', lambda m: " " * len(m.group(0)), line)
            for line in text.split("\n")]
    expected = [(i, m.start()) for i, line in enumerate(code)
                for m in re.finditer(rf"(?<![\w]){name}(?!\w)", line)
                if not line[:m.start()].rstrip().endswith("example")]
    assert sorted((r["range"]["start"]["line"], r["range"]["start"]["character"])
                  for r in found) == expected
    without = client.request("textDocument/references", {
        "textDocument": _doc(HUNTER), "position": _at(text, f"kpi {name}", offset=4),
        "context": {"includeDeclaration": False}})
    assert len(without) < len(found)


def test_rename_to_a_cyrillic_name_and_use_it(client: Client) -> None:
    text = B2B.read_text(encoding="utf-8")
    uri = "file:///tmp/renamed.kpi"
    client.open(uri, text)
    edit = client.request("textDocument/rename", {
        "textDocument": {"uri": uri}, "position": _at(text, "fact revenue", offset=6),
        "newName": "выручка"})
    renamed = _apply(text, edit["changes"][uri])
    code_only = [re.sub(r"\brevenue\b", "выручка", line) if not line.startswith("#") else line
                 for line in text.split("\n")]
    assert renamed == "\n".join(code_only)
    assert check_source(SourceFile("renamed.kpi", renamed))[1] == []
    # positions after a character outside the BMP count two UTF-16 units
    renamed = renamed.replace('pay bonus "Bonus"', 'pay bonus "Bonus 🎯"').replace(
        "pool 50_000 RUB\n  for выручка", "pool 50_000 RUB  for выручка")
    client.change(uri, [{"text": renamed}])
    assert client.diagnostics(uri) == []
    position = _at(renamed, "for выручка", offset=4)
    line = renamed.split("\n")[position["line"]]
    assert position["character"] != _utf16_to_column(line, position["character"])
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": position})
    assert "**KPI `выручка`** — Revenue · ru: Выручка" in hover["contents"]["value"]
    assert "plan: 3_000_000 RUB" in hover["contents"]["value"]
    assert hover["range"]["start"] == position
    assert hover["range"]["end"]["character"] == position["character"] + len("выручка")
    found = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                       "position": position})
    assert [loc["range"]["start"] for loc in found] == [_at(renamed, "fact выручка", offset=5),
                                                        _at(renamed, "kpi выручка", offset=4)]
    refused = client.request("textDocument/rename", {
        "textDocument": {"uri": uri}, "position": position, "newName": "plan"})
    assert "word of the language" in refused["error"]["message"]
    refused = client.request("textDocument/rename", {
        "textDocument": {"uri": uri}, "position": position, "newName": "calls"})
    assert "already names" in refused["error"]["message"]


# ---------------------------------------------------------------- completion


def _labels(client: Client, uri: str, text: str, position: dict[str, int]) -> set[str]:
    client.change(uri, [{"text": text}]) if uri in client.versions else client.open(uri, text)
    found = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                       "position": position})
    return {item["label"] for item in found["items"]}


def test_completion_from_the_grammar(client: Client) -> None:
    from kpidsl.lsp.completion import keywords

    text = B2B.read_text(encoding="utf-8")
    uri = "file:///tmp/complete.kpi"
    # after `curve` in a pool line: the scheme's curves only
    assert _labels(client, uri, text, _at(text, "curve standard\n", offset=6)) == {"standard"}
    # a new line after a statement: every statement word, and what may continue the last one
    edited = text + "\n"
    end = {"line": edited.count("\n"), "character": 0}
    found = _labels(client, uri, edited, end)
    assert {"fact", "constant", "curve", "kpi", "pay", "budget", "example", "grade"} <= found
    assert found <= keywords()
    # after a fact's name: units; after an amount: currencies and the KPI's clauses
    edited = text + "fact leads "
    assert _labels(client, uri, edited, {"line": edited.count("\n"), "character": 11}) == {
        "money", "count", "percent", "ratio", "number", "minutes", "hours", "days"}
    edited = text + "kpi leads plan 100 "
    found = _labels(client, uri, edited, {"line": edited.count("\n"), "character": 19})
    assert {"RUB", "USD", "group", "higher", "lower", "attainment"} <= found
    # in a formula: names in scope (Cyrillic too) and the words that can start a value
    edited = text + "fact звонки count\nkpi leads = зв"
    found = _labels(client, uri, edited, {"line": edited.count("\n"), "character": 14})
    assert {"revenue", "calls", "margin_rate", "звонки", "plan", "attainment", "team",
            "if", "not", "round", "min", "max", "abs"} <= found
    assert "fact" not in found and "salary" not in found
    # after `plan of`: KPIs only
    edited = text + "kpi leads = plan of "
    found = _labels(client, uri, edited, {"line": edited.count("\n"), "character": 20})
    assert found == {"revenue", "avg_check", "conversion", "calls"}


# ---------------------------------------------------------------- the rest


def test_formatting_outline_and_quick_fixes(client: Client) -> None:
    from kpidsl.formatter import format_source

    text = B2B.read_text(encoding="utf-8")
    uri = "file:///tmp/format.kpi"
    messy = text.replace("kpi revenue     ", "kpi   revenue ")
    client.open(uri, messy)
    edits = client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert _apply(messy, edits) == format_source(messy)
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert [(s["name"], s["kind"]) for s in symbols][:6] == [
        ("revenue", 8), ("avg_check", 8), ("conversion", 8), ("calls", 8),
        ("margin_rate", 14), ("commission_rate", 14)]
    assert [s["name"] for s in symbols if s["kind"] == 6] == ["salary", "bonus", "commission"]
    hunter = HUNTER.read_text(encoding="utf-8")
    client.open(_doc(HUNTER)["uri"], hunter)
    symbols = client.request("textDocument/documentSymbol", {"textDocument": _doc(HUNTER)})
    grades = [s for s in symbols if s["kind"] == 3]
    assert [g["name"] for g in grades] == ["junior", "middle", "senior", "lead"]
    assert all(g["range"]["start"]["line"] <= c["range"]["start"]["line"]
               <= g["range"]["end"]["line"] for g in grades for c in g.get("children") or [])

    for name, title, fixed in (
            ("undefined_name.kpi", "Change 'revenu' to 'revenue'", "revenue / deals"),
            ("unknown_curve.kpi", "Change 'standart' to 'standard'", "curve standard"),
            ("division_by_zero.kpi", "Add 'otherwise 0'", "revenue / deals otherwise 0"),
            ("weight_without_percent.kpi", "Write 60%", "for revenue weight 60% curve")):
        path = ROOT / "tests" / "fixtures" / "checks" / name
        source = path.read_text(encoding="utf-8")
        client.open(path.resolve().as_uri(), source)
        found = client.diagnostics(path.resolve().as_uri())
        actions = client.request("textDocument/codeAction", {
            "textDocument": _doc(path), "range": found[0]["range"],
            "context": {"diagnostics": found}})
        assert [a["title"] for a in actions] == [title]
        result = _apply(source, actions[0]["edit"]["changes"][path.resolve().as_uri()])
        assert fixed in result
        assert not any(d.code == found[0]["code"]
                       for d in check_source(SourceFile(name, result))[1])
    assert result.count("%") == source.count("%") + 1  # the '%' is inserted, nothing else
    assert check_source(SourceFile(name, result))[1] == []


def test_plan_document_in_both_languages(client: Client) -> None:
    text = B2B.read_text(encoding="utf-8")
    client.open(_doc(B2B)["uri"], text)
    found = client.request("workspace/executeCommand", {
        "command": "kpidsl.planDocument", "arguments": [_doc(B2B)["uri"]]})
    assert "<html" in found["en"] and "<html" in found["ru"]
    assert "Salary" in found["en"] and "Оклад" in found["ru"]


def test_positions_convert_utf16_utf8_utf32() -> None:
    line = "  for выручка 🎯 x"
    assert to_client(line, 6) == 6 and to_client(line, 16, "utf-8") == 26
    assert to_client(line, 15) == 16 and from_client(line, 16) == 15
    assert from_client(line, 26, "utf-8") == 16 and to_client(line, 15, "utf-32") == 15


def test_lsp_without_pygls_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['pygls'] = None\n"
         "from kpidsl.cli import main; main(['lsp'])"],
        cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == \
        "kpidsl lsp needs the language-server extra: pip install 'kpidsl[lsp]'"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(
    ["", "x", " ", "\n", "%", "kpi ", "\nkpi z = revenue\n", "#", '"', "1", "grade g\n"])),
    min_size=1, max_size=4), scheme=st.sampled_from(["b2b_manager.kpi", "hunter.kpi"]))
def test_cached_parse_equals_check_after_any_edits(edits: list[tuple[int, str]], scheme: str,
                                                   monkeypatch) -> None:
    """Random typing (one character deleted or a few inserted, anywhere, one edit after
    another on the same cache) never makes the cached parse disagree with `check`."""
    monkeypatch.setattr("kpidsl.lsp.analysis.INCREMENTAL_FROM", 0)
    text = (ROOT / "rulesets" / scheme).read_text(encoding="utf-8")
    cache = ParseCache()
    Analysis(text, scheme, cache)
    for where, inserted in edits:
        at = where % (len(text) + 1)
        text = text[:at] + inserted + text[at:] if inserted else text[:at] + text[at + 1:]
        analysis = Analysis(text, scheme, cache)
        expected = check_source(SourceFile(scheme, text))[1]
        assert [d.render() for d in analysis.diagnostics] == [d.render() for d in expected]


@pytest.mark.slow
def test_five_thousand_kpis_get_diagnostics_after_an_edit() -> None:
    """bench/lsp_latency.py at full size: every edit's diagnostics arrive and are right (its
    figures are reported in docs/editors.md, not asserted)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from lsp_latency import KINDS, run

    report = run(5000, 1)
    for _kind, title in KINDS:  # each kind of edit measured, its diagnostics checked inside run
        assert title in report
