"""Benchmark 1: evaluation throughput on the reference scheme vs hand-written Decimal code.

    python bench/throughput.py [--managers 100000] [--rounds 5]

Candidates, all over the same random managers, each in the decimal context kpidsl uses:
- hand-written: bench/baselines.py, the baseline (1.00×);
- compiled evaluator: `ruleset.infos['base'].function(facts, None, None)`, the total kept;
- the previous compiled evaluator (bench/previous_b2b_manager.py.txt: what codegen.py printed
  from the checked tree before the lowered form and the named record), run the same way, so
  the current one is measured against it in the same run;
- the evaluator recording a trace (`Result.trace()` runs it; explanations read it), on a
  sample: what asking for a trace costs (the evaluators a run uses record nothing);
- API: `list(ruleset.evaluate_many(rows))` (dicts, or FactRows as the facts readers yield),
  every Result kept, then every `.total` read;
- simpleeval and rule-engine (the `bench` extra), on a smaller sample: they are ~30× slower.
Before timing, every candidate's totals are checked equal to the hand-written ones.
"""

from __future__ import annotations

import argparse
import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal

from baselines import hand_written, optional_baselines
from harness import B2B, interleaved_best, per_second, random_managers, ratio, table, us

GOAL_RAW = 1.2
GOAL_API = 1.5
LIBRARY_SAMPLE = 5000


def run(managers: int = 100_000, rounds: int = 5, libraries: bool = True) -> str:
    import kpidsl
    from kpidsl.facts import FactRow
    from kpidsl.runtime import CONTEXT, ODD

    ruleset = kpidsl.load(B2B)
    function = ruleset.infos["base"].function
    facts = random_managers(managers)
    dict_rows = [dict(f, employee=f"m{i}") for i, f in enumerate(facts)]
    fact_rows = [FactRow("bench", i + 2, f"m{i}", None, None, dict(f), {})
                 for i, f in enumerate(facts)]
    libraries = optional_baselines() if libraries else {}
    sample = facts[:LIBRARY_SAMPLE]

    def with_context(body: Callable[[], object], context: decimal.Context = CONTEXT
                     ) -> Callable[[], object]:
        def timed() -> object:
            with decimal.localcontext(context):
                return body()
        return timed

    def api(rows: list) -> Callable[[], object]:  # type: ignore[type-arg]
        def timed() -> object:
            results = list(ruleset.evaluate_many(rows))
            return results, [r.total for r in results]
        return timed

    def library(evaluate: Callable[[Mapping[str, Decimal]], Decimal]) -> Callable[[], object]:
        return with_context(lambda: [evaluate(f) for f in sample])

    previous = previous_evaluator()
    traced = ruleset.infos["base"].traced()  # type: ignore[misc]

    def with_trace() -> object:
        from kpidsl.trace import Trace

        return [traced(f, None, None, Trace()).total for f in sample]

    candidates: dict[str, Callable[[], object]] = {
        "hand-written Decimal": with_context(lambda: [hand_written(f) for f in facts]),
        "kpidsl compiled evaluator": with_context(  # evaluators run in ODD (kpidsl.runtime)
            lambda: [function(f, None, None).total for f in facts], ODD),
        PREVIOUS: with_context(lambda: [previous(f, None, None)[5] for f in facts], ODD),
        TRACED: with_context(with_trace, ODD),
        "kpidsl API, dict rows": api(dict_rows),
        "kpidsl API, FactRow rows": api(fact_rows),
    }
    candidates.update({name: library(evaluate) for name, evaluate in libraries.items()})

    _check_equal(candidates, facts, sample, set(libraries))
    with decimal.localcontext(ODD):
        assert [previous(f, None, None)[5] for f in sample] == \
            [function(f, None, None).total for f in sample], "previous evaluator disagrees"
    best = interleaved_best(candidates, rounds)
    counts = {name: len(sample) if name in libraries or name == TRACED else managers
              for name in candidates}
    per = {name: best[name] / counts[name] for name in candidates}
    base = per["hand-written Decimal"]
    goals = {"kpidsl compiled evaluator": GOAL_RAW, "kpidsl API, dict rows": GOAL_API,
             "kpidsl API, FactRow rows": GOAL_API}
    rows = []
    for name in candidates:
        goal = goals.get(name)
        verdict = "" if goal is None else \
            f"≤ {goal}×: {'met' if per[name] / base <= goal else 'NOT met'}"
        rows.append((name, per_second(1, per[name]), us(per[name]), ratio(per[name], base),
                     verdict))
    now = per["kpidsl compiled evaluator"]
    notes = [f"Compiled evaluator vs the previous one (printed from the checked tree, "
             f"positional tuples): {now / per[PREVIOUS]:.2f}×; recording a trace: "
             f"{per[TRACED] / now:.2f}× the evaluator that records none.",
             f"{managers:,} random managers (rule libraries and the trace: the first "
             f"{len(sample):,}); "
             f"best of {rounds} interleaved rounds; totals of every candidate checked equal "
             "to the hand-written ones before timing.".replace(",", " ")]
    missing = {"simpleeval", "rule-engine"} - set(libraries)
    if missing and libraries:
        notes.append(f"Not installed, so not measured: {', '.join(sorted(missing))} "
                     "(pip install '.[bench]').")
    return table("1. Evaluation throughput (rulesets/b2b_manager.kpi)",
                 ("evaluator", "managers/s", "per manager", "time vs hand-written", "goal"),
                 rows, notes)


PREVIOUS = "previous compiled evaluator"
TRACED = "kpidsl evaluator recording a trace"


def previous_evaluator() -> Callable[..., tuple]:  # type: ignore[type-arg]
    """The baseline evaluator (bench/previous_b2b_manager.py.txt) in kpidsl's closed
    namespace, as the loader runs generated code."""
    from pathlib import Path

    from kpidsl.loader import SAFE_BUILTINS

    path = Path(__file__).resolve().parent / "previous_b2b_manager.py.txt"
    namespace: dict[str, object] = {"__builtins__": dict(SAFE_BUILTINS)}
    exec(compile(path.read_text("utf-8"), str(path), "exec"), namespace)
    return namespace["EVALUATORS"]["base"]  # type: ignore[index, no-any-return]


def _check_equal(candidates: dict[str, Callable[[], object]], facts: list,  # type: ignore[type-arg]
                 sample: list, libraries: set[str]) -> None:  # type: ignore[type-arg]
    """Every candidate computes the hand-written totals to the kopeck (on a sample)."""
    import kpidsl
    from kpidsl.runtime import CONTEXT, ODD

    ruleset = kpidsl.load(B2B)
    check = facts[:2000]
    with decimal.localcontext(CONTEXT):
        expected = [hand_written(f) for f in check]
    with decimal.localcontext(ODD):
        raw = [ruleset.infos["base"].function(f, None, None).total for f in check]
    api = [r.total for r in ruleset.evaluate_many(dict(f, employee="x") for f in check)]
    assert raw == expected, "compiled evaluator and hand-written code disagree"
    assert api == expected, "API and hand-written code disagree"
    reference = {"revenue": Decimal(3_300_000), "avg_check": Decimal(142_500),
                 "conversion": Decimal("0.021"), "calls": Decimal(950)}
    with decimal.localcontext(CONTEXT):
        assert hand_written(reference) == Decimal("119800.00"), "hand-written misses Ivanov"
    for name in libraries:
        with decimal.localcontext(CONTEXT):
            got = candidates[name]()
        assert got == [hand_written(f) for f in sample], f"{name} disagrees with hand-written"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-libraries", action="store_true",
                        help="skip the simpleeval and rule-engine baselines")
    args = parser.parse_args(argv)
    print(run(args.managers, args.rounds, not args.no_libraries))


if __name__ == "__main__":
    main()
