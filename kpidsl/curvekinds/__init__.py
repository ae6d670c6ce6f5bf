"""The kinds of curve, one module each; `kind(word)` and `for_body(tree)` find them.

Every module of this package but `base` defines `KIND`, a `base.CurveKind`: adding a kind of
curve is a module here plus its `curve_body` alternative in grammars/kpi.lark (docs/
architecture.md, "Adding a kind of curve"). The modules are found by listing the package, so
no table names them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from .base import CurveKind

if TYPE_CHECKING:
    from lark import Tree


def _load() -> dict[str, CurveKind]:
    found: dict[str, CurveKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base":
            continue
        made = importlib.import_module(f"{__name__}.{info.name}").KIND
        found[made.name] = made
    return found


KINDS: dict[str, CurveKind] = _load()
BANDS = KINDS["bands"]  # a curve of plain bands: what a curve is unless its body says more


def runtime_helpers() -> dict[str, Any]:
    """What the kinds give generated evaluators to call (`rt.steps_q`): kpidsl.runtime
    exports them beside its own."""
    return {name: helper for k in KINDS.values() for name, helper in k.runtime.items()}


def messages(lang: str) -> dict[str, tuple[tuple[str, Any], ...]]:
    """The kinds' own diagnostics in `lang`, by code (kpidsl/i18n/diagnostics.py adds them to
    the language's catalogue)."""
    out: dict[str, tuple[tuple[str, Any], ...]] = {}
    for k in KINDS.values():
        for code, rows in k.messages.get(lang, {}).items():
            out[code] = out.get(code, ()) + rows
    return out


def kind(name: str) -> CurveKind:
    """The kind a scheme's word names ('bands', 'linear', 'marginal', ...)."""
    return KINDS[name]


def for_body(body: Tree) -> CurveKind:
    """The kind a `curve_body` parse tree is."""
    for candidate in KINDS.values():
        if candidate.matches(body):
            return candidate
    raise ValueError(f"no kind of curve parses {body.data!r}")


__all__ = ["BANDS", "KINDS", "CurveKind", "for_body", "kind", "messages", "runtime_helpers"]
