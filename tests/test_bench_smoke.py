"""The benchmark scripts run (tiny sizes) and print their four tables; no timing is judged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLES = ("### 1. Evaluation throughput", "### 2. Start-up", "### 3. Scaling with ruleset size",
          "### 4. End to end")


def test_bench_run_quick_prints_all_four_tables() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    for title in TITLES:
        assert title in run.stdout, f"{title!r} missing from:\n{run.stdout[-2000:]}"
    assert "kpidsl compiled evaluator" in run.stdout
    assert "kpidsl eval --format csv" in run.stdout
    assert "Heavy libraries imported: none" in run.stdout  # no Jinja/openpyxl/Babel on check


def test_generated_schemes_are_valid_and_grow_as_asked() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from scaling import generated_scheme
    finally:
        sys.path.remove(str(ROOT / "bench"))
    import kpidsl

    scheme = kpidsl.loads(generated_scheme(20), "generated.kpi")
    assert len(scheme.fact_specs) == 20
    assert [d.code for d in scheme.diagnostics if d.is_error] == []
