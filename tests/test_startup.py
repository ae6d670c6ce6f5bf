"""What `kpidsl check` loads, and what was changed to load less (bench/startup.py measures
the time): no module it has no use for, and the same answers as before."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from kpidsl.checks.dates import parse_period

ROOT = Path(__file__).resolve().parent.parent
# Modules a check of a scheme printed as text does not need (each was imported once):
# output formats, the SQL backend's exact fractions, the evaluator, documents.
NOT_ON_THE_CHECK_PATH = ("json", "fractions", "calendar", "kpidsl.evaluate", "kpidsl.evaluator",
                         "kpidsl.codegen", "kpidsl.facts", "jinja2", "openpyxl", "babel",
                         "kpidsl.cli.evaluate", "kpidsl.cli.docs")


def test_check_imports_only_what_it_uses() -> None:
    script = ("import sys\nfrom kpidsl.cli import main\n"
              "try:\n    main(['check', 'rulesets/b2b_manager.kpi'])\n"
              "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
              "print(' '.join(sorted(sys.modules)))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    loaded = set(run.stdout.split("\n")[-2].split())
    assert "kpidsl.checks" in loaded and "lark" in loaded
    assert not loaded & set(NOT_ON_THE_CHECK_PATH), loaded & set(NOT_ON_THE_CHECK_PATH)


def test_the_last_day_of_a_month_is_calendars() -> None:
    for year in (1, 4, 100, 1900, 2000, 2023, 2024, 2025, 2100, 2400, 9999):
        for month in range(1, 13):
            text = f"{year:04d}-{month:02d}"
            assert parse_period(text) == dt.date(year, month, 1)
            last = calendar.monthrange(year, month)[1]
            assert parse_period(text, end=True) == dt.date(year, month, last), text


def test_a_check_called_from_python_leaves_the_collector_as_it_was() -> None:
    """The collector is paused while checking and, in the `kpidsl` program only, left paused
    and every object frozen at exit (kpidsl/cli/__init__.py, `run`); `main` called from
    Python gives the caller back the collector as it was."""
    import gc

    from click.testing import CliRunner

    from kpidsl.cli import main

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["check", str(ROOT / "rulesets" / "b2b_manager.kpi")])
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    run = subprocess.run([sys.executable, "-m", "kpidsl", "check", "rulesets/b2b_manager.kpi"],
                         cwd=ROOT, capture_output=True, text=True, check=False,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (run.returncode, run.stdout, run.stderr) == (0, result.output, "")
