"""Plan documents and employee statements, rendered from the scheme the engine evaluates.

    from kpidsl.docs import render_plan, render_statement
    render_plan(ruleset, grade=None, lang="ru", fmt="html")   # the signed plan document
    render_statement(ruleset, result, lang="en", fmt="md")     # one employee's month

Stages, one module each: text.py (numbers and formulas in words), earnings.py (the earnings
table through the compiled evaluator), charts.py (curve charts as SVG), calc.py and
changes.py (tables of a month, what a grade changes), context.py (all a template sees),
render.py (Jinja2), regenerate.py (docs/examples). Templates live in templates/.
"""

from __future__ import annotations

from .context import plan_context, statement_context
from .earnings import earnings
from .render import FORMATS, LANGUAGES, render_plan, render_statement

__all__ = ["FORMATS", "LANGUAGES", "earnings", "plan_context", "render_plan",
           "render_statement", "statement_context"]
