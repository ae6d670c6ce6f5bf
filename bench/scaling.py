"""Benchmark 3: check and compile time against ruleset size (10 … 10 000 KPIs).

    python bench/scaling.py [--sizes 10,100,1000,10000] [--rounds 3]

Each generated scheme has N facts and N KPIs (half read a fact, half are ratios of two facts
with `otherwise`), one standard curve, a salary and N/10 bonus pools of ten lines each. Stages
are timed separately, each the best of a few rounds: parse, check (what `kpidsl check`
does after reading the file), generate (Python source) and compile (Python's compiler and
loading the module). Linear growth means a constant time per KPI; the table prints it and
its ratio to the 100-KPI scheme measured in the same run.
"""

from __future__ import annotations

import argparse
import time

from harness import human, interleaved_best, parse_sizes, table, us

BASELINE_SIZE = 100


def generated_scheme(kpis: int) -> str:
    """A valid scheme with `kpis` KPIs (a multiple of 10: pools of ten lines, 10 % each)."""
    if kpis % 10:
        raise ValueError("sizes must be multiples of 10")
    out = ['scheme generated "Generated scheme"', "  currency RUB", "  period month", "",
           'curve standard "Cut-off at 80 %, accelerator 1.2 above 100 %"',
           "  below 80%               pays 0",
           "  from 80% through 100%   pays attainment",
           "  above 100%              pays attainment × 1.2",
           "  cap 200%", ""]
    out += [f'fact f{i} money "Fact {i}"' for i in range(kpis)]
    out.append("")
    for i in range(kpis):
        if i % 2 == 0:
            out.append(f'kpi k{i} "KPI {i}" = f{i} plan {1000 + i} RUB')
        else:
            out.append(f'kpi k{i} "KPI {i}" = f{i - 1} / f{i} otherwise 0% plan 100%')
    out += ["", 'pay salary "Salary" = 60_000 RUB']
    for pool in range(kpis // 10):
        out.append(f'pay bonus{pool} "Bonus {pool}" pool 10_000 RUB')
        out += [f"  for k{i} weight 10% curve standard" for i in range(pool * 10, pool * 10 + 10)]
    return "\n".join(out) + "\n"


def _stages(text: str, rounds: int) -> dict[str, float]:
    from kpidsl import loader
    from kpidsl.backends.python import generate
    from kpidsl.checks import check_ruleset
    from kpidsl.diagnostics import has_errors
    from kpidsl.parser import parse
    from kpidsl.source import SourceFile

    source = SourceFile("generated.kpi", text)
    ruleset, diagnostics = parse(source)
    assert ruleset is not None and not has_errors(diagnostics), diagnostics
    checked = check_ruleset(ruleset, source)
    assert not has_errors(checked.diagnostics), [d.message for d in checked.diagnostics][:3]
    python = generate(checked).source

    def compile_python() -> object:
        namespace = {"__builtins__": dict(loader.SAFE_BUILTINS), "__name__": "kpidsl_scheme"}
        exec(compile(python, "<generated>", "exec"), namespace)  # our own generated source
        return namespace

    return interleaved_best({
        "parse": lambda: parse(SourceFile("generated.kpi", text)),
        "check": lambda: check_ruleset(ruleset, source),
        "generate": lambda: generate(checked),
        "compile": compile_python,
    }, rounds)


def run(sizes: list[int] | None = None, rounds: int = 3) -> str:
    sizes = sizes or [10, 100, 1000, 10_000]
    measured: dict[int, dict[str, float]] = {}
    for size in sorted(set(sizes) | {BASELINE_SIZE}):
        size_rounds = rounds if size <= 1000 else max(1, rounds - 1)
        start = time.perf_counter()
        measured[size] = _stages(generated_scheme(size), size_rounds)
        measured[size]["wall"] = time.perf_counter() - start
    stages = ("parse", "check", "generate", "compile")
    base = {s: measured[BASELINE_SIZE][s] / BASELINE_SIZE for s in stages}
    rows = []
    for size in sorted(measured):
        if size not in sizes and size == BASELINE_SIZE:
            continue
        per = {s: measured[size][s] / size for s in stages}
        check_total = per["parse"] + per["check"]
        compile_total = per["generate"] + per["compile"]
        base_check = base["parse"] + base["check"]
        base_compile = base["generate"] + base["compile"]
        rows.append((human(size), *(us(per[s]) for s in stages),
                     f"{(measured[size]['parse'] + measured[size]['check']) * 1000:.0f} ms",
                     f"{check_total / base_check:.2f}×", f"{compile_total / base_compile:.2f}×"))
    notes = [f"Per-KPI times (CPU, best of {rounds} rounds; {max(1, rounds - 1)} above 1 000 "
             f"KPIs). The last two columns divide the per-KPI time of parse + check and of "
             f"generate + compile by the same at {BASELINE_SIZE} KPIs: linear growth keeps them "
             "near 1.00×; a column growing tenfold per row would be quadratic."]
    return table("3. Scaling with ruleset size (generated schemes)",
                 ("KPIs", "parse / KPI", "check / KPI", "generate / KPI", "compile / KPI",
                  "check total", "check vs 100", "compile vs 100"), rows, notes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(run(parse_sizes(args.sizes), args.rounds))


if __name__ == "__main__":
    main()
