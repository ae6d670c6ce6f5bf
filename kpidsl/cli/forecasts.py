"""eval with a forecast: the facts so far are evaluated by the run; the projection here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .common import fail

if TYPE_CHECKING:
    from ..api import Ruleset
    from ..forecast import Pace
    from ..run import Evaluated, FactsOptions
    from .options import PlanOptions
    from .render.base import Renderer


def forecast(renderer: Renderer, ruleset: Ruleset, items: list[Evaluated], pace: Pace,
             plan: PlanOptions, month: int | None, facts_paths: Iterable[str],
             facts: FactsOptions) -> None:
    """Project each employee to period end and render it.

    A scheme paid per team is projected from its members' rows, read again from the files
    (bad rows were reported by the first reading).
    """
    from ..forecast import forecasts_of
    from ..run import read_rows

    unknown = [h for h in plan.hold if h not in ruleset.fact_specs]
    if unknown:
        fail(f"--hold: '{unknown[0]}' is not a fact of {ruleset.name}")
    members = None
    if ruleset.checked.header.per_team:
        members = read_rows(ruleset.fact_specs, facts_paths, facts)
    forecasts = list(forecasts_of(ruleset, [i.result for i in items], pace, month=month,
                                  hold=plan.hold, members=members, grade=facts.grade))
    renderer.forecast(ruleset, items, forecasts, pace)
