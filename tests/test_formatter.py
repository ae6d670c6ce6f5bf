"""The formatter: golden layouts, idempotence and an unchanged syntax tree, by property too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpidsl.diagnostics import KpiError
from kpidsl.formatter import comments_of, format_source
from kpidsl.parser import parse
from kpidsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "rulesets").rglob("*.kpi")) + sorted(
    (ROOT / "tests" / "fixtures" / "cli").glob("*.kpi"))
BUNDLED = [p for p in SOURCES if p.name != "broken.kpi"]


def tree(text: str):  # type: ignore[no-untyped-def]
    ruleset, diagnostics = parse(SourceFile("<test>", text))
    assert ruleset is not None, [d.render() for d in diagnostics]
    return ruleset


def comment_texts(text: str) -> list[str]:
    return [c.text for c in comments_of(text)]


def assert_formats_well(text: str) -> str:
    formatted = format_source(text)
    assert format_source(formatted) == formatted  # idempotent
    assert tree(formatted) == tree(text)  # same meaning (spans aside)
    assert sorted(comment_texts(formatted)) == sorted(comment_texts(text))  # comments kept
    assert all(not line.endswith((" ", "\t")) for line in formatted.splitlines())
    return formatted


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_layout(path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    formatted = assert_formats_well(path.read_text(encoding="utf-8"))
    golden.check(f"fmt/{path.stem}", formatted)


def test_a_small_scheme_exactly() -> None:
    text = ('scheme s "S"  currency RUB\nfact revenue money "Revenue"  # from the CRM\n'
            "fact calls count\nkpi revenue plan 3_000_000 RUB\n"
            'pay bonus pool 10_000 RUB for revenue weight 100% curve c\n'
            "curve c below 80% pays 0 from 80% pays attainment*1.2\n")
    assert format_source(text) == (
        'scheme s "S"\n'
        "  currency RUB\n"
        "\n"
        'fact revenue  money  "Revenue"  # from the CRM\n'
        "fact calls    count\n"
        "\n"
        "kpi revenue plan 3_000_000 RUB\n"
        "\n"
        "pay bonus pool 10_000 RUB\n"
        "  for revenue  weight 100%  curve c\n"
        "\n"
        "curve c\n"
        "  below 80%   pays 0\n"
        "  from 80%    pays attainment × 1.2\n")


def test_comments_in_strings_are_not_comments() -> None:
    text = 'scheme s "Plan #1"\nfact revenue money "a \\" # quoted"  # real\n'
    formatted = assert_formats_well(text)
    assert comment_texts(formatted) == ["# real"]
    assert 'fact revenue money "a \\" # quoted"  # real' in formatted


def test_comment_closing_a_grade_stays_in_it() -> None:
    text = ('scheme s\nfact revenue money\nkpi revenue plan 1 RUB\n\ngrade middle "Middle"\n'
            "  # nothing changes\n\ngrade senior\n  kpi revenue plan 2 RUB\n")
    formatted = assert_formats_well(text)
    assert 'grade middle "Middle"\n  # nothing changes\n\ngrade senior\n' in formatted


def test_numbers_keep_their_digits() -> None:
    formatted = assert_formats_well("scheme s\nconstant c = 3000000\nconstant d = 2.10%\n")
    assert "= 3000000" in formatted and "= 2.10%" in formatted


def test_syntax_errors_are_raised_as_diagnostics() -> None:
    with pytest.raises(KpiError) as caught:
        format_source("scheme s\nfact revenue money 'Revenue'\n", "bad.kpi")
    assert caught.value.diagnostics[0].code == "KPI002"


# ---------------------------------------------------------------- properties

_SEGMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[ \t\n]+|[^ \t\n"#]+')
_SPACES = [" ", "  ", "\t", "\n", "\n  ", "\n\n    ", " \n\t "]
_NEWLINES = ["\n", "\n  ", "\n\t    "]


@st.composite
def perturbed(draw: st.DrawFn, text: str) -> str:
    """The same scheme with other whitespace, other operator signs and extra comments."""
    out: list[str] = []
    previous = ""
    for piece in _SEGMENT.findall(text):
        if piece[0] in " \t\n":
            if "\n" in piece:  # a line stays a line: trailing comments keep their code
                # a blank line is the author's paragraph break, which the formatter keeps
                blank = "\n" if piece.count("\n") > 1 else ""
                piece = blank + draw(st.sampled_from(_NEWLINES))
            elif previous in ("half", "is") or previous.endswith(("half",)):
                piece = " "
            else:
                piece = draw(st.sampled_from(_SPACES))
            if "\n" in piece and draw(st.integers(0, 9)) == 0:
                piece = f"{piece}# note {draw(st.integers(0, 99))}\n"
        elif not piece.startswith(('"', "#")) and draw(st.booleans()):
            piece = piece.replace("×", "*").replace("−", "-")
        out.append(piece)
        previous = piece
    return "".join(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_bundled_schemes_in_any_layout(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(BUNDLED))
    original = path.read_text(encoding="utf-8")
    text = data.draw(perturbed(original))
    formatted = assert_formats_well(text)
    assert format_source(original) == format_source(formatted) or comment_texts(text) != \
        comment_texts(original)


_NAMES = st.sampled_from(["revenue", "calls", "deals", "margin", "nps", "leads", "visits"])
_LABEL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                 max_size=12).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"')
                                  + '"')
_NUMBER = st.integers(0, 10_000_000).map(str) | st.sampled_from(["1_000", "2.5", "0.125"])


@st.composite
def schemes(draw: st.DrawFn) -> str:
    """Small random schemes: facts, constants, a curve, KPIs, a pool, comments anywhere."""
    names = draw(st.lists(_NAMES, min_size=1, max_size=4, unique=True))
    lines = [f"scheme s {draw(_LABEL)} currency RUB"]
    for name in names:
        label = draw(st.none() | _LABEL)
        lines.append(f"fact {name} money {label or ''}")
        if draw(st.booleans()):
            lines.append(f"# about {name}")
    lines.append(f"constant k = {draw(_NUMBER)}%")
    lines.append("curve c below 80% pays 0 from 80% pays attainment * k")
    for name in names:
        formula = f"= {name} * 2 " if draw(st.booleans()) else ""
        lines.append(f"kpi {name} {formula}plan {draw(_NUMBER)} RUB "
                     + draw(st.sampled_from(["", "group result", "lower is better"])))
    items = " ".join(f"for {n} weight {100 // len(names)}% curve c" for n in names)
    lines.append(f"pay bonus pool {draw(_NUMBER)} RUB {items}")
    separators = [draw(st.sampled_from(["\n", "\n\n", "  # trailing\n"])) for _ in lines]
    return "".join(line + sep for line, sep in zip(lines, separators, strict=True))


@settings(max_examples=60, deadline=None)
@given(schemes())
def test_generated_schemes(text: str) -> None:
    assert_formats_well(text)
