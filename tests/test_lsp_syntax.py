"""A statement broken by an edit gets `kpidsl check`'s syntax errors from the statements around
it (kpidsl/lsp/syntax.py), not from parsing the whole scheme again; meanwhile the other
statements keep the diagnostics they had."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpidsl.api import check_source
from kpidsl.lsp import analysis as analysis_module
from kpidsl.lsp.analysis import Analysis, ParseCache, kept_diagnostics
from kpidsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from scaling import generated_scheme  # noqa: E402

SCHEMES = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "rulesets").glob("*.kpi"))}
SCHEMES["generated.kpi"] = generated_scheme(30)
# what typing in the middle of a statement leaves: half a formula, a stray word or quote, a
# statement word at the start of a line, a bracket opened or closed
BREAKING = ["+", "× ", "(", ")", '"', "=", ":", "kpi ", "\nkpi ", "\npay x", "plan", "otherwise",
            "\n  for ", "%", "junk ", "\n", "1", "'", "\ngrade ", "curve ", "if ", "\nfact "]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scheme=st.sampled_from(sorted(SCHEMES)),
       edits=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(BREAKING),
                                st.booleans()), min_size=1, max_size=4))
def test_syntax_errors_equal_check(scheme: str, edits: list[tuple[int, str, bool]],
                                   monkeypatch) -> None:
    monkeypatch.setattr("kpidsl.lsp.analysis.INCREMENTAL_FROM", 0)
    text = SCHEMES[scheme]
    cache = ParseCache()
    Analysis(text, scheme, cache)
    for where, inserted, remove in edits:
        at = where % (len(text) + 1)
        text = text[:at] + text[at + 1:] if remove else text[:at] + inserted + text[at:]
        analysis = Analysis(text, scheme, cache)
        expected = check_source(SourceFile(scheme, text))[1]
        assert [d.render() for d in analysis.diagnostics] == [d.render() for d in expected]


def test_a_broken_statement_is_reported_without_the_whole_parse(monkeypatch) -> None:
    """An unfinished formula: its errors come from a few statements (the whole parse is not
    run), and are check's; the other statements' warnings and errors are kept, moved with
    their lines, and the broken statement's own are not."""
    monkeypatch.setattr("kpidsl.lsp.analysis.INCREMENTAL_FROM", 0)
    text = generated_scheme(200).replace("= f14 / f15 otherwise", "= f14 / f15x otherwise")
    cache = ParseCache()
    good = Analysis(text, "g.kpi", cache)
    assert [d.code for d in good.diagnostics][:3] == ["KPI101", "KPI205", "KPI204"]
    calls: list[str] = []  # the texts parsed whole
    parse = analysis_module.parse
    monkeypatch.setattr(analysis_module, "parse",
                        lambda source: calls.append(source.text) or parse(source))
    # a line added above k3 and k3 left unfinished: k15's errors and the pools' warnings kept
    broken = text.replace("kpi k3 \"KPI 3\" = f2 / f3", "\nkpi k3 \"KPI 3\" = f2 / f3 +")
    analysis = Analysis(broken, "g.kpi", cache)
    assert broken not in calls
    expected = check_source(SourceFile("g.kpi", broken))[1]
    assert [d.render() for d in analysis.diagnostics] == [d.render() for d in expected]
    assert [d.code for d in expected] == ["KPI001"]
    assert [(d.code, d.line, d.message) for d in kept_diagnostics(good, analysis)] == [
        (d.code, d.line + 1, d.message) for d in good.diagnostics]
    # k15 itself unfinished: its own errors go, the rest stay where they were
    broken = text.replace("= f14 / f15x otherwise", "= f14 / f15x × otherwise")
    analysis = Analysis(broken, "g.kpi", cache)
    assert broken not in calls
    assert [d.code for d in analysis.diagnostics] == ["KPI001"]
    assert [(d.code, d.line) for d in kept_diagnostics(good, analysis)] == [
        (d.code, d.line) for d in good.diagnostics if d.code == "KPI702"]
