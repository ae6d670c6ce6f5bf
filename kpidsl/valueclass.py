"""Dataclasses without the code `dataclasses` writes and `exec`s for each class.

`@dataclass` writes each method it generates as source text and compiles it (`exec`): six
for a frozen class, about 0.3 ms each, and for the 50 classes of the tree (kpidsl/ast.py)
and the 8 others `kpidsl check` imports (a source file and its spans, diagnostics, the
checked scheme) that was the biggest part of its own start-up. `valueclass` makes the same
classes without writing code: the fields are collected as dataclasses collects them (the
same `Field` objects in `__dataclass_fields__`, so `fields`, `replace`, `asdict` and
subclasses made by `@dataclass` work as before) and the methods are shared by every class:
`__init__` fills the fields in order from the arguments, the defaults and the factories
(then calls `__post_init__`, if the class has one); a frozen class's
`__setattr__`/`__delattr__` refuse as a frozen dataclass's do; `__eq__`, `__hash__` and
`__repr__` give the generated ones' results (equal fields compared as one tuple, the hash
of that tuple — none for a mutable class, as dataclasses leaves it — and `Name(field=value,
...)`); a class without a docstring is given its fields as one. A class that defines its
own `__init__` keeps it. tests/test_ast.py and tests/test_valueclass.py compare these classes
with the same classes made by dataclasses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, Field, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

_T = TypeVar("_T", bound=type)
# What dataclasses itself marks a field and a default made by a factory with (the sentinel
# shows as `<factory>` in a signature, as in the generated `__init__`'s).
_FIELD: Any = getattr(dataclasses, "_FIELD", None)
_FACTORY: Any = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", MISSING)


def _params(frozen: bool) -> Any:
    """`__dataclass_params__` of `@dataclass(frozen=frozen, eq=False, repr=False)` (the
    methods dataclasses would write for eq and repr are shared ones here)."""
    wanted = {"init": True, "repr": False, "eq": False, "order": False, "unsafe_hash": False,
              "frozen": frozen, "match_args": True, "kw_only": False, "slots": False,
              "weakref_slot": False}
    kind: Any = getattr(dataclasses, "_DataclassParams", None)
    try:
        return kind(**{name: wanted[name] for name in kind.__slots__})
    except (AttributeError, KeyError, TypeError):  # another layout: ask dataclasses once
        probe: Any = dataclasses.dataclass(frozen=frozen, eq=False, repr=False)(
            type("_Probe", (), {}))
        return probe.__dataclass_params__


def _make(cls: _T, frozen: bool) -> _T:
    own = cls.__dict__
    every: dict[str, Field[Any]] = {}
    for base in cls.__mro__[-1:0:-1]:
        every.update(getattr(base, "__dataclass_fields__", None) or {})
    for name, written in own.get("__annotations__", {}).items():
        default = own.get(name, MISSING)
        made: Any = default if isinstance(default, Field) else field(default=default)
        made.name, made.type, made._field_type = name, written, _FIELD
        if made.kw_only is MISSING:
            made.kw_only = False
        every[name] = made
        if isinstance(default, Field):  # the class keeps the default, not the Field
            if made.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, made.default)
    listed = tuple(every.values())
    made_cls: Any = cls
    made_cls.__dataclass_fields__ = every
    made_cls.__dataclass_params__ = _PARAMS[frozen]
    made_cls._positional = tuple(f.name for f in listed if f.init and not f.kw_only)
    made_cls.__match_args__ = made_cls._positional  # type: ignore[misc]
    made_cls._keywords = frozenset(f.name for f in listed if f.init)
    # what the generated __init__ sets before the arguments: every field it sets, in order
    # (an init=False field without a default is left unset, as it leaves it)
    made_cls._defaults = {f.name: _FACTORY if f.default is MISSING else f.default
                          for f in listed if f.init or f.default is not MISSING
                          or f.default_factory is not MISSING}
    made_cls._required = tuple(f.name for f in listed if f.init and f.default is MISSING
                               and f.default_factory is MISSING)
    made_cls._factories = tuple((f.name, f.default_factory) for f in listed
                                if f.default_factory is not MISSING)
    made_cls._post_init = getattr(cls, "__post_init__", None) is not None
    if "__init__" not in own:
        made_cls.__init__ = _init
        made_cls.__signature__ = _SIGNATURE
    if frozen:
        made_cls.__setattr__, made_cls.__delattr__ = _frozen_setattr, _frozen_delattr
    if cls.__doc__ is None:
        made_cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in listed)})"
    made_cls._compared = staticmethod(_values(tuple(f.name for f in listed if f.compare)))
    made_cls._shown = tuple(f.name for f in listed if f.repr)
    made_cls.__eq__, made_cls.__repr__ = _eq, _repr
    if frozen:
        made_cls._hashed = staticmethod(_values(tuple(
            f.name for f in listed if (f.compare if f.hash is None else f.hash))))
        made_cls.__hash__ = _hash
    else:
        made_cls.__hash__ = None  # equal by value and mutable: unhashable, as dataclasses
    return cls


if TYPE_CHECKING:  # what these classes are, for the type checker: dataclasses
    from dataclasses import dataclass as valueclass
else:
    def valueclass(cls: Any = None, /, *, frozen: bool = False) -> Any:
        """`@dataclass` or `@dataclass(frozen=True)`, made as this module's docstring says."""
        if cls is None:
            return lambda made: _make(made, frozen)
        return _make(cls, frozen)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    """A value class's `__init__`: what the one dataclasses generates does, for any class."""
    positional = self._positional
    if len(args) > len(positional):
        raise TypeError(_too_many(self.__class__.__qualname__, len(self._required) + 1,
                                  len(positional) + 1, len(args) + 1))
    state = self.__dict__
    state.update(self._defaults)  # every field, in order (as the generated one sets them)
    state.update(zip(positional, args, strict=False))  # the rest keep their defaults
    if kwargs:
        for name in kwargs:
            if name not in self._keywords:
                raise TypeError(f"{self.__class__.__qualname__}.__init__() got an unexpected "
                                f"keyword argument {name!r}")
            if name in positional[:len(args)]:
                raise TypeError(f"{self.__class__.__qualname__}.__init__() got multiple "
                                f"values for argument {name!r}")
        state.update(kwargs)
    required = self._required
    if required and len(args) < len(required):
        missing = [name for name in required if state[name] is _FACTORY]
        if missing:
            raise TypeError(_missing(self.__class__.__qualname__, missing))
    for name, factory in self._factories:
        if state[name] is _FACTORY:
            state[name] = factory()
    if self._post_init:
        self.__post_init__()


def _too_many(name: str, least: int, most: int, given: int) -> str:
    """Python's message for too many positional arguments."""
    takes = f"{most} positional argument{'s' if most > 1 else ''}" if least == most else \
        f"from {least} to {most} positional arguments"
    return f"{name}.__init__() takes {takes} but {given} were given"


def _missing(name: str, missing: list[str]) -> str:
    """Python's message for required arguments not given."""
    quoted = [repr(m) for m in missing]
    if len(quoted) < 3:
        listed = " and ".join(quoted)
    else:
        listed = ", ".join(quoted[:-1]) + ", and " + quoted[-1]
    plural = "argument" if len(missing) == 1 else "arguments"
    return f"{name}.__init__() missing {len(missing)} required positional {plural}: {listed}"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


class _Signature:
    """`inspect.signature(ValueClass)`: the generated `__init__`'s, made when asked for."""

    def __get__(self, instance: Any, owner: type) -> Any:
        import inspect

        every = [f for f in dataclasses.fields(owner) if f.init]
        return inspect.Signature([
            inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY if f.kw_only
                              else inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=_FACTORY if f.default_factory is not MISSING
                              else f.default if f.default is not MISSING
                              else inspect.Parameter.empty,
                              annotation=f.type)
            for f in sorted(every, key=lambda f: bool(f.kw_only))], return_annotation=None)


_SIGNATURE = _Signature()
_PARAMS = {True: _params(True), False: _params(False)}


def _values(names: tuple[str, ...]) -> Any:
    """A function giving an instance's fields `names` as one tuple (as the generated methods
    compare and hash them)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda node: (one(node),)
    return lambda node: ()


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        values = self._compared
        return values(self) == values(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self._hashed(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
    return f"{self.__class__.__qualname__}({shown})"
