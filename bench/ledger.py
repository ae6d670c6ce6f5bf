"""What closing a month costs next to evaluating it: `close_period` against `evaluate_files`.

Both read the same facts file through the same scheme (a recoverable draw, so every
employee carries a balance); the close also reads the balances of the month before, settles,
and writes every line, balance and fact in one SQLite transaction (synchronous=FULL). A
re-run (compare, nothing written) is timed too. Printed as ratios to the evaluation measured
in the same run, best of N rounds, interleaved.

    python bench/ledger.py --employees 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import kpidsl  # noqa: E402
from kpidsl.ledger import close_period  # noqa: E402
from kpidsl.run import evaluate_files  # noqa: E402

SCHEME = """\
scheme rep "Sales rep on a draw"
  currency RUB
  period month
  draw 5_000 RUB a month recoverable recovered at most 1_500 RUB a month
fact revenue money "Revenue"
pay commission "Commission" = revenue × 7%
pay salary "Salary" = 10_000 RUB
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scheme = kpidsl.loads(SCHEME, "rep.kpi")
    randomness = random.Random(17)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        facts = tmp / "month.csv"
        facts.write_text("employee,revenue\n" + "".join(
            f"e{i},{randomness.randint(0, 150_000)}\n" for i in range(args.employees)))
        best = {"evaluate": float("inf"), "close": float("inf"), "compare": float("inf")}
        for round_ in range(args.rounds):
            db = tmp / f"pay{round_}.db"
            close_period(db, scheme, [str(facts)], None, "2025-06")  # balances to carry in
            start = time.perf_counter()
            total = sum(item.result.total for item in evaluate_files(scheme, [facts]))
            best["evaluate"] = min(best["evaluate"], time.perf_counter() - start)
            start = time.perf_counter()
            outcome = close_period(db, scheme, [str(facts)], None, "2025-07")
            best["close"] = min(best["close"], time.perf_counter() - start)
            assert outcome.status == "closed" and sum(s.earned for s in outcome.settlements) \
                == total
            start = time.perf_counter()
            assert close_period(db, scheme, [str(facts)], None, "2025-07").status == "same"
            best["compare"] = min(best["compare"], time.perf_counter() - start)
    base = best["evaluate"]
    print(f"{args.employees} employees, best of {args.rounds} (wall time)")
    print("| | time | ratio to evaluating |")
    print("|---|---|---|")
    for name, label in (("evaluate", "evaluate the month"), ("close", "close it (write)"),
                        ("compare", "close it again (compare)")):
        print(f"| {label} | {best[name]:.3f} s | {best[name] / base:.2f}× |")


if __name__ == "__main__":
    main()
