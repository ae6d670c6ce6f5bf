"""Compile generated source and run it in a closed namespace; cached by source hash.

The namespace's builtins are only min, max and abs, plus an `__import__` that admits exactly
`decimal` and `kpidsl.runtime`: an evaluator can neither open files, nor import, nor reach
anything else, whatever the scheme says.
"""

from __future__ import annotations

import decimal
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from types import CodeType
from typing import Any

from . import runtime
from .backends.python import Generated, generate
from .checks import CheckedRuleset
from .diagnostics import KpiError, error

_ALLOWED_MODULES = {"decimal": decimal, "kpidsl": None, "kpidsl.runtime": runtime}


def _restricted_import(name: str, globals: Any = None, locals: Any = None,
                       fromlist: Any = (), level: int = 0) -> Any:
    if level != 0 or name not in _ALLOWED_MODULES:
        raise ImportError(f"generated evaluators may import only decimal and kpidsl.runtime, "
                          f"not {name!r}")
    if name == "kpidsl":
        if tuple(fromlist or ()) != ("runtime",):
            raise ImportError("only kpidsl.runtime may be imported")
        return _RuntimePackage
    return _ALLOWED_MODULES[name]


class _RuntimePackage:
    """Stands in for the kpidsl package so `from kpidsl import runtime` sees nothing else."""

    runtime = runtime


SAFE_BUILTINS = {"min": min, "max": max, "abs": abs, "__import__": _restricted_import}


@dataclass
class Compiled:
    generated: Generated
    filename: str
    namespace: dict[str, Any]

    @property
    def evaluators(self) -> dict[str, Any]:
        return self.namespace["EVALUATORS"]


# A few recently compiled schemes, least recently used first: a process that loads many
# schemes (a server, a fuzz run) must not keep every evaluator it ever compiled.
_CACHE: OrderedDict[str, Compiled] = OrderedDict()
CACHE_SIZE = 64


def compile_ruleset(checked: CheckedRuleset, trace: bool = False) -> Compiled:
    """The scheme's evaluators; with `trace`, the ones that record a trace (a module of its
    own, compiled when first asked for)."""
    generated = generate(checked, trace)
    key = hashlib.sha256(generated.source.encode("utf-8")).hexdigest()
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        # Same code, maybe other names: schemes that differ only in non-ASCII names generate
        # the same source, so the evaluators are shared but the layouts are this scheme's.
        return Compiled(generated, cached.filename, cached.namespace)
    filename = f"<kpidsl:{key[:12]}>"
    try:
        code: CodeType = compile(generated.source, filename, "exec")
    except (RecursionError, MemoryError):  # a scheme too large for Python's compiler
        raise KpiError([error(
            "KPI007", "the scheme is too large to compile: its generated evaluator is beyond "
            "what Python's compiler accepts", checked.source,
            hint="split it into smaller schemes, or curves into fewer bands")]) from None
    namespace: dict[str, Any] = {"__builtins__": dict(SAFE_BUILTINS), "__name__": "kpidsl_scheme"}
    exec(code, namespace)
    compiled = Compiled(generated, filename, namespace)
    _CACHE[key] = compiled
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled
