"""The rows of a list given to `evaluate_many`, evaluated by one generated loop.

A row taken one by one costs, besides its arithmetic, a call of the compiled evaluator, the
record of every KPI, line and band it returns (eight tuples and the record), the reading and
checking of its facts and a `Result`: on the reference scheme about a third of the
arithmetic again (bench/api_stream.py). Here the code generator's body of a variant's
evaluator (`backends.python.Body`: the same statements, from its facts to its payments) is
printed inside a loop over a slice of the rows, which makes each row's `Result` directly:
its employee, total, payments and facts, and no details — they are computed on first read
by the evaluator itself, identically (the evaluator is a pure function of the facts and the
month; results.py).

A row the loop does not take as it is (not a dict or FactRow of finite Decimals of the
variant's grade, or one whose arithmetic fails) ends the slice: the loop returns False and
`Evaluation` takes that row by every rule (its diagnostics are the evaluator's own), then
goes on with the next slice.

Safety: the loop is printed from fixed text around the body the code generator printed for
the evaluator (docs/architecture.md); nothing from the scheme or a row reaches it but that
body. It is compiled into the evaluator's own closed namespace (kpidsl.loader: min, max,
abs, no imports); everything else it uses (`type`, `str`, `map`, the Result class, the
getter of the facts) is handed to its factory as a value.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .backends.python import Body
from .loader import Compiled

# the factory's parameters, in order: what the loop may call or compare with
_GIVEN = ("Row", "new", "R", "info", "take", "is_finite", "Failure", "type", "dict", "str",
          "map")


def source(body: Body, name: str) -> str:
    """The factory `name(*_GIVEN)` of the loop over a variant's rows, as Python source."""
    lines = [f"def {name}({', '.join(_GIVEN)}):",
             "    def batch(rows, append, month, grade):",
             "        team = None  # a scheme that reads team aggregates is not batched",
             "        for row in rows:",
             "            try:",
             "                row_kind = type(row)",
             "                if row_kind is dict:",
             "                    if not grade and 'grade' in row and row['grade']:",
             "                        return False",
             "                    row_values = take(row)",
             "                    row_employee = row['employee'] if 'employee' in row else ''",
             "                    if type(row_employee) is not str:",
             "                        row_employee = str(row_employee)",
             "                    row_team = row['team'] if 'team' in row else None",
             "                    row_number = 0",
             "                elif row_kind is Row:",
             "                    if not grade and row.grade:",
             "                        return False",
             "                    row_values = take(row.values)",
             "                    row_employee, row_team, row_number = "
             "row.employee, row.team, row.row",
             "                else:",
             "                    return False",
             "                if False in map(is_finite, row_values):",
             "                    return False"]
    if body.facts:
        lines.append(f"                {''.join(f + ', ' for f in body.facts)}= row_values")
    lines += ["            " + line if line else "" for line in body.lines]
    lines += ["                row_total = " + body.total,
              "            except Failure:",
              "                return False",
              "            made = new(R)  # Result's slots (kpidsl/results.py)",
              "            made.info = info",
              "            made.employee = row_employee",
              "            made.total = row_total",
              "            made._raw = None",
              "            made._d = (row_team, row_number, None, None, month, True, "
              f"{''.join(p + ', ' for p in (*body.pays, *body.facts))})",
              "            made._more = None",
              "            append(made)",
              "        return True",
              "    return batch",
              ""]
    return "\n".join(lines)


Batch = Callable[[Any, Callable[[Any], None], "int | None", "str | None"], bool]


def batch_function(compiled: Compiled, info: Any) -> Batch | None:
    """The loop over `info`'s rows (compiled on first use, kept in the evaluator's
    namespace); None for a variant the code generator printed no body for."""
    from .evaluate import _getter
    from .facts import FactRow
    from .results import Result

    body = compiled.generated.bodies.get(info.name)
    if body is None:
        return None
    name = f"make_batch_{compiled.generated.functions[info.name]}"
    namespace = compiled.namespace
    factory = namespace.get(name)
    if factory is None:
        code = compile(source(body, name), f"{compiled.filename[:-1]}:batch>", "exec")
        exec(code, namespace)
        factory = namespace[name]
    made: Batch = factory(FactRow, Result.__new__, Result, info, _getter(tuple(info.facts)),
                          Decimal.is_finite, Exception, type, dict, str, map)
    return made
