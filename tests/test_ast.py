"""The tree's shared equality, hash and repr (kpidsl.ast.node) give what the methods
`@dataclass(frozen=True)` generates would give, for every node of every bundled scheme."""

from __future__ import annotations

import dataclasses
import sys
import types
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


def _made_by_dataclasses() -> dict[str, Any]:
    """kpidsl/ast.py run again with its classes made by `@dataclass(frozen=True)` itself."""
    source = Path(ast.__file__).read_text(encoding="utf-8")
    assert source.count("        return _node\n") == 1
    source = source.replace("        return _node\n", "        return dataclass(frozen=True)\n")
    module = types.ModuleType("kpidsl._ast_twin")
    module.__package__ = "kpidsl"
    sys.modules[module.__name__] = module  # dataclasses looks the module up while it works
    try:
        exec(compile(source, ast.__file__, "exec"), vars(module))
    finally:
        del sys.modules[module.__name__]
    return vars(module)


REAL = _made_by_dataclasses()


def _shown(value: Any) -> str:
    return getattr(value, "__qualname__", None) or repr(value)


def _call(make: Any, *args: Any, **kwargs: Any) -> str:
    try:
        made = make(*args, **kwargs)
    except TypeError as exc:
        return f"TypeError: {exc}"
    return repr([(name, repr(value)) for name, value in vars(made).items()])


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_class_is_what_dataclasses_makes_of_it(cls: type) -> None:
    """Fields, defaults, signature, construction (and its errors), freezing and params."""
    import inspect

    real = REAL[cls.__name__]
    assert dataclasses.is_dataclass(real) and real is not cls

    def described(fields: tuple[dataclasses.Field[Any], ...]) -> list[tuple[Any, ...]]:
        return [(f.name, f.type, repr(f.default), _shown(f.default_factory), f.init, f.repr,
                 f.hash, f.compare, dict(f.metadata), f.kw_only,
                 f._field_type is dataclasses._FIELD)  # type: ignore[attr-defined]
                for f in fields]

    assert described(dataclasses.fields(cls)) == described(dataclasses.fields(real))
    assert cls.__match_args__ == real.__match_args__  # type: ignore[attr-defined]
    assert str(inspect.signature(cls)) == str(inspect.signature(real))
    for f in dataclasses.fields(cls):  # a default stays on the class, a Field does not
        assert (f.name in vars(cls)) == (f.name in vars(real))
        assert repr(vars(cls).get(f.name)) == repr(vars(real).get(f.name))
    ours, theirs = cls.__dataclass_params__, real.__dataclass_params__  # type: ignore[attr-defined]
    for name in ("init", "order", "unsafe_hash", "frozen", "match_args", "kw_only", "slots"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name
    names = [f.name for f in dataclasses.fields(cls)]
    positional = [f.name for f in dataclasses.fields(cls) if not f.kw_only]
    values = [f"v{i}" for i in range(len(names))]
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), {}), (tuple(values[: len(positional)]), {}),
        ((), dict(zip(names, values, strict=True))),
        (tuple(values[:1]), dict(zip(names[1:], values[1:], strict=True))),
        ((*values[: len(positional)], "extra"), {}),
        ((), {"no_such_field": 1}),
        (tuple(values[:1]), {names[0]: "twice"}),
    ]
    for args, kwargs in calls:
        assert _call(cls, *args, **kwargs) == _call(real, *args, **kwargs), (args, kwargs)
    node, twin = cls(), real()
    for attempt in (lambda n: setattr(n, names[-1], 1), lambda n: delattr(n, names[-1]),
                    lambda n: setattr(n, "other", 1)):
        with pytest.raises(dataclasses.FrozenInstanceError) as ours_raised:
            attempt(node)
        with pytest.raises(dataclasses.FrozenInstanceError) as theirs_raised:
            attempt(twin)
        assert str(ours_raised.value) == str(theirs_raised.value)
    assert repr(dataclasses.replace(node)) == repr(node)
