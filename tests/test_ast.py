"""The tree's shared equality, hash and repr (kpidsl.ast.node) give what the methods
`@dataclass(frozen=True)` generates would give, for every node of every bundled scheme."""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from kpidsl import ast
from kpidsl.parser import parse
from kpidsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CLASSES = [v for v in vars(ast).values()
           if isinstance(v, type) and dataclasses.is_dataclass(v) and v.__module__ == ast.__name__]


def _twin(cls: type) -> Any:
    """The same fields in a class made by `dataclasses` with its generated methods."""
    return dataclasses.make_dataclass(cls.__name__, [
        (f.name, Any, dataclasses.field(compare=f.compare, repr=f.repr, hash=f.hash))
        for f in dataclasses.fields(cls)], frozen=True)


TWINS = {cls: _twin(cls) for cls in CLASSES}


def _nodes(value: object, out: list[Any]) -> None:
    if dataclasses.is_dataclass(value) and type(value) in TWINS:
        out.append(value)
        for f in dataclasses.fields(value):
            _nodes(getattr(value, f.name), out)
    elif isinstance(value, tuple | list):
        for item in value:
            _nodes(item, out)


def _as_twin(node: Any) -> Any:
    return TWINS[type(node)](**{f.name: getattr(node, f.name) for f in dataclasses.fields(node)})


def test_every_class_is_a_frozen_dataclass() -> None:
    assert len(CLASSES) >= 50
    node = ast.Ref(name="revenue")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.name = "calls"  # type: ignore[misc]
    assert ast.Ref.__doc__ == "A fact, constant or KPI by name."
    assert ast.PlanOf.__doc__ == "PlanOf(span, name)"


@pytest.mark.parametrize("path", sorted((ROOT / "rulesets").glob("*.kpi")), ids=lambda p: p.stem)
def test_equality_hash_and_repr_are_those_dataclasses_generates(path: Path) -> None:
    source = SourceFile(path.name, path.read_text(encoding="utf-8"))
    tree, _diagnostics = parse(source)
    again, _ = parse(SourceFile("again.kpi", "\n" + source.text))  # other spans, equal values
    found: list[Any] = []
    _nodes(tree, found)
    others: list[Any] = []
    _nodes(again, others)
    assert len(found) == len(others) > 20
    for node, other in zip(found, others, strict=True):
        twin, other_twin = _as_twin(node), _as_twin(other)
        assert repr(node) == repr(twin)
        assert hash(node) == hash(twin)
        assert (node == other) is (twin == other_twin) is True
    for node, other in pairwise(found):
        assert (node == other) == (_as_twin(node) == _as_twin(other))
        assert (node != other) == (_as_twin(node) != _as_twin(other))
