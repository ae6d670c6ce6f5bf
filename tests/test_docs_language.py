"""Every `kpi` code block in docs/language.md and README.md is valid syntax."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kpidsl

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = [
    (path.name, index, block)
    for path in (ROOT / "docs" / "language.md", ROOT / "README.md")
    for index, block in enumerate(re.findall(r"```kpi\n(.*?)```", path.read_text("utf-8"), re.S))
]


@pytest.mark.parametrize(("doc", "index", "block"), BLOCKS,
                         ids=[f"{d}-{i}" for d, i, _ in BLOCKS])
def test_documented_syntax_parses(doc: str, index: int, block: str) -> None:
    text = block if block.lstrip().startswith("scheme") else 'scheme doc "Doc"\n' + block
    syntax = [d for d in kpidsl.check(text, f"{doc}#{index}") if d.code < "KPI100"]
    assert syntax == []


def test_readme_tour_is_the_bundled_scheme() -> None:
    [tour] = [b for d, _i, b in BLOCKS if d == "README.md"]
    diagnostics = kpidsl.check(tour)
    assert [d for d in diagnostics if d.is_error] == []
