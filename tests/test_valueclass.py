"""The classes made by kpidsl.valueclass behave as the same classes made by `dataclasses`
(the tree's classes: tests/test_ast.py), and `path_text` names a file as pathlib does."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kpidsl.checks.model import Change, CheckedRuleset, Variant
from kpidsl.cli.common import PlanOptions
from kpidsl.curvekinds.steps import LoweredSteps
from kpidsl.diagnostics import Diagnostic, Severity
from kpidsl.source import SourceFile, Span, path_text

SPAN = Span(1, 2, 3, 4, 5, 6)
# each class, whether frozen, and the arguments of two instances (equal fields but one)
CASES: list[tuple[type, bool, tuple[Any, ...], tuple[Any, ...]]] = [
    (Span, True, (1, 2, 3, 4, 5, 6), (1, 2, 3, 4, 5, 7)),
    (SourceFile, True, ("a.kpi", "x\ny\n"), ("a.kpi", "x\n")),
    (Diagnostic, True, ("KPI101", Severity.ERROR, "m", "a.kpi", 1, 2, 3, "x", "h"),
     ("KPI101", Severity.WARNING, "m")),
    (PlanOptions, True, (1, 30), (2, 30)),
    (Change, True, ("plan of calls", "1", "2", SPAN), ("plan of calls", "1", "3", SPAN)),
    (LoweredSteps, True, (Decimal(1), Decimal(2), Decimal(3), Decimal(4)),
     (Decimal(1), Decimal(2), Decimal(3), Decimal(5))),
    (Variant, False, ("base", "Base", None), ("hunter", "Hunter", "base")),
    (CheckedRuleset, False, (None, None, {}, [], []), (None, None, {}, [], [1])),
]


def _twin(cls: type, frozen: bool) -> Any:
    """The same class made by `dataclasses` with its generated methods."""
    namespace = {name: value for name, value in vars(cls).items()  # its own methods
                 if not name.startswith("_") or name == "__post_init__"}
    made: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(cls):
        made.append((f.name, f.type, dataclasses.field(
            default=f.default, default_factory=f.default_factory, init=f.init, repr=f.repr,
            hash=f.hash, compare=f.compare)))
    return dataclasses.make_dataclass(cls.__name__, made, namespace=namespace,
                                      frozen=frozen)


def _call(make: Any, *args: Any, **kwargs: Any) -> str:
    try:
        made = make(*args, **kwargs)
    except TypeError as exc:
        return f"TypeError: {str(exc).split('__init__()')[-1]}"
    return repr(sorted((name, repr(value)) for name, value in vars(made).items()))


@pytest.mark.parametrize(("cls", "frozen", "one", "other"), CASES,
                         ids=[case[0].__name__ for case in CASES])
def test_each_class_is_what_dataclasses_makes_of_it(cls: type, frozen: bool,
                                                    one: tuple[Any, ...],
                                                    other: tuple[Any, ...]) -> None:
    real = _twin(cls, frozen)
    assert str(inspect.signature(cls)) == str(inspect.signature(real))
    assert cls.__match_args__ == real.__match_args__  # type: ignore[attr-defined]
    assert cls.__dataclass_params__.frozen is frozen  # type: ignore[attr-defined]
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    for args, kwargs in [(one, {}), (other, {}), ((), {}), (one[:1], {}),
                         (one[:1], dict(zip(names[1:], one[1:], strict=False))),
                         ((*one, *names), {}), (one, {"no_such_field": 1}),
                         (one, {names[0]: "twice"})]:
        assert _call(cls, *args, **kwargs) == _call(real, *args, **kwargs), (args, kwargs)
    a, b, a_again = cls(*one), cls(*other), cls(*one)
    ra, rb, ra_again = real(*one), real(*other), real(*one)
    assert repr(a).replace(cls.__qualname__, "X") == repr(ra).replace(real.__qualname__, "X")
    assert (a == a_again, a == b, a != b) == (ra == ra_again, ra == rb, ra != rb)
    assert (a == a_again) is True and (a == b) is False
    assert (cls.__hash__ is None) is (real.__hash__ is None) is (not frozen)
    if frozen:
        assert hash(a) == hash(ra) == hash(a_again)
        for attempt in (lambda n: setattr(n, names[-1], 1), lambda n: delattr(n, names[-1])):
            with pytest.raises(dataclasses.FrozenInstanceError) as ours:
                attempt(a)
            with pytest.raises(dataclasses.FrozenInstanceError) as theirs:
                attempt(ra)
            assert str(ours.value) == str(theirs.value)
    assert dataclasses.replace(a) == a
    assert dataclasses.asdict(a) == dataclasses.asdict(ra)


def test_a_source_file_keeps_its_lines_out_of_equality_and_repr() -> None:
    source = SourceFile("a.kpi", "x\ny\n")
    assert source.position(2) == (2, 1)
    assert repr(source) == "SourceFile(name='a.kpi', text='x\\ny\\n')"
    assert dataclasses.replace(source, text="z").line_text(1) == "z"


def test_a_file_is_named_as_pathlib_names_it() -> None:
    parts = ["", ".", "..", "a", "/", "//", "b.kpi", " ", "x/.", "\\"]
    for count in range(1, 5):
        for combination in itertools.product(parts, repeat=count):
            text = "".join(combination)
            if text:
                assert path_text(text) == str(Path(text)), text
    assert path_text(Path("rulesets/b2b_manager.kpi")) == "rulesets/b2b_manager.kpi"
