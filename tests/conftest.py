"""Shared test helpers: golden files (refresh with `pytest --update-golden`) and paths."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with a fixed seed, so a run is reproducible from its log;
# locally each run explores new examples.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Statements' footers carry the day they were made; golden files need one fixed day
# (2026-11-25, 00:00 UTC).
os.environ["SOURCE_DATE_EPOCH"] = "1795564800"

# The DuckDB engine's cache of generated SQL (kpidsl/sql/cache.py): a directory of the run's own,
# not the user's ~/.cache, and one per pytest-xdist worker (a worker inherits the environment
# of the process that started it, so the directory made there is recognised and not shared)
if os.environ.get("KPIDSL_CACHE_DIR", "") in ("", os.environ.get("KPIDSL_TEST_CACHE_DIR")):
    os.environ["KPIDSL_CACHE_DIR"] = tempfile.mkdtemp(
        prefix=f"kpidsl-test-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
    os.environ["KPIDSL_TEST_CACHE_DIR"] = os.environ["KPIDSL_CACHE_DIR"]
    atexit.register(shutil.rmtree, os.environ["KPIDSL_CACHE_DIR"], True)

ROOT = Path(__file__).resolve().parent.parent
RULESETS = ROOT / "rulesets"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden files from the current output")
    parser.addoption("--runslow", action="store_true", help="run the slow checks too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


class Golden:
    """Compares text with tests/golden/<name>.txt; --update-golden rewrites the file."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, name: str, actual: str) -> None:
        path = GOLDEN / f"{name}.txt"
        if self.update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            if not self.update:
                pytest.fail(f"golden file {path} did not exist; written, check it and re-run")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path} (pytest --update-golden refreshes)"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))
