"""Jinja2 environments and the render functions for plan documents and statements.

Templates ship in the package (kpidsl/docs/templates); a directory given with
`template_dir` is searched first, so a consultant can restyle one template and keep the
rest. Undefined names are errors (StrictUndefined), never blanks in a signed document.
Every template, bundled or the user's, renders in Jinja's immutable sandbox: a template
from a consultant's folder can read the context it is given and nothing else (no dunder
attributes, no `os` or `subprocess` through `__globals__`, no changing lists in place).
HTML is autoescaped; Markdown output escapes the characters Markdown would read as markup,
so a label like "Calls | Meetings" cannot break a table.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..api import Ruleset
from ..escape import visible, visible_value
from ..results import Result
from .context import plan_context, statement_context

FORMATS = ("md", "html")
LANGUAGES = ("ru", "en")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(value: Any) -> Any:
    """Escape Markdown markup in text; Markup (an inline SVG) passes as it is."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _MD_SPECIAL.sub(r"\\\1", visible(value))


def _loader(template_dir: str | None) -> BaseLoader:
    package = PackageLoader("kpidsl.docs", "templates")
    if template_dir is None:
        return package
    return ChoiceLoader([FileSystemLoader(template_dir), package])


@cache
def environment(fmt: str, template_dir: str | None = None) -> Environment:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    common: dict[str, Any] = {"loader": _loader(template_dir), "undefined": StrictUndefined,
                              "trim_blocks": True, "lstrip_blocks": True,
                              "keep_trailing_newline": True}
    if fmt == "html":
        return ImmutableSandboxedEnvironment(autoescape=True, finalize=visible_value, **common)
    return ImmutableSandboxedEnvironment(autoescape=False, finalize=md_escape, **common)


def _render(name: str, fmt: str, context: dict[str, Any], template_dir: str | Path | None) -> str:
    env = environment(fmt, str(template_dir) if template_dir is not None else None)
    text = env.get_template(f"{name}.{fmt}.j2").render(**context)
    return text.rstrip("\n") + "\n"


EXAMPLES = ("none", "appendix")


def render_plan(ruleset: Ruleset, grade: str | None = None, lang: str = "en", fmt: str = "md",
                template_dir: str | Path | None = None, *, examples: str = "none") -> str:
    """The plan document of one grade (None: the base scheme) in a language and format.

    The scheme's worked examples are an appendix on request (`examples="appendix"`): the
    document an employee signs is the rules, not the test cases."""
    _check_lang(lang)
    if examples not in EXAMPLES:
        raise ValueError(f"examples: 'none' or 'appendix', not {examples!r}")
    return _render("plan", fmt, plan_context(ruleset, grade, lang, examples), template_dir)


def render_statement(ruleset: Ruleset, result: Result, lang: str = "en", fmt: str = "md",
                     template_dir: str | Path | None = None, *, name: str = "",
                     month: int | None = None, period: str | None = None,
                     generated: str | None = None, ledger: dict[str, Any] | None = None) -> str:
    """One employee's statement from a Result the evaluator returned; `period` ('2025-03')
    is the month paid, `generated` ('2025-04-02') the date in its footer; `ledger` the
    period as a ledger closed it (kpidsl.ledger.document.ledger_context)."""
    _check_lang(lang)
    context = statement_context(ruleset, result, lang, name=name, month=month, period=period,
                                generated=generated)
    context["ledger"] = ledger
    return _render("statement", fmt, context, template_dir)


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; use one of {', '.join(LANGUAGES)}")
