"""The DuckDB engine's cache of generated SQL: a scheme seen before runs without sqlglot,
with the same bytes; a corrupt, foreign or unsafe entry is never used, and a cache that
cannot be written costs nothing but its time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kpidsl
from kpidsl.sql import queries
from kpidsl.sql.cache import CachedQuery, native_query

ROOT = Path(__file__).resolve().parents[1]
B2B = ROOT / "rulesets" / "b2b_manager.kpi"
FACTS = ROOT / "rulesets" / "b2b_manager.facts.csv"
CARRY = ("_employee", "_team_text")

# one process's run: the output, and whether sqlglot was imported
RUN = """
import sys
from click.testing import CliRunner
from kpidsl.cli import main
result = CliRunner().invoke(main, ["eval", sys.argv[1], sys.argv[2], "--engine", "duckdb",
                                   *sys.argv[3:]])
sys.stdout.write(result.stdout + "\\n@@" + result.stderr + "\\n@@"
                 + str(any(m.startswith("sqlglot") for m in sys.modules)))
"""


def _run(cache: Path | None, *options: str, off: bool = False) -> tuple[str, str, bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPIDSL_")}
    env["PYTHONPATH"] = str(ROOT)
    if cache is not None:
        env["KPIDSL_CACHE_DIR"] = str(cache)
    if off:
        env["KPIDSL_NO_CACHE"] = "1"
    done = subprocess.run([sys.executable, "-c", RUN, str(B2B), str(FACTS), *options], env=env,
                          capture_output=True, text=True, check=True, cwd=ROOT)
    out, err, imported = done.stdout.split("\n@@")
    return out, err, imported == "True"


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def test_a_second_run_takes_the_query_from_the_cache_without_sqlglot(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run(cache)
    assert first[2]  # built: sqlglot imported
    assert (cache.stat().st_mode & 0o777) == 0o700
    [entry] = _entries(cache)
    assert (entry.stat().st_mode & 0o777) == 0o600
    second = _run(cache)
    assert not second[2]
    assert second[:2] == first[:2]
    ruleset = kpidsl.load(B2B)
    stored = json.loads(entry.read_text(encoding="utf-8"))
    assert stored["layout"]["carry"][:2] == list(CARRY)
    query = queries(ruleset.checked, "duckdb", table="facts",
                    carry=tuple(stored["layout"]["carry"]), budgets=False)[0]
    assert stored["sql"] == query.sql(pretty=False)
    assert stored["pays"] == [[p, u.value, u.bound] for p, u in query.output.pays]


@pytest.mark.parametrize("options", [("--format", "csv"), ("--format", "json"),
                                     ("--format", "jsonl"),
                                     ("--format", "csv", "--excel", "--lang", "ru")])
def test_csv_and_json_from_the_cache_import_no_sqlglot(tmp_path: Path,
                                                       options: tuple[str, ...]) -> None:
    """The query writing these formats (kpidsl/sql/lines.py, formats.py) is stored too: a
    second run writes the same bytes as the first and as the Python engine, without sqlglot."""
    cache = tmp_path / "cache"
    first = _run(cache, *options)
    assert first[2]
    assert len(_entries(cache)) == 2  # the scheme's query, and the format's plan with it
    second = _run(cache, *options)
    assert not second[2]
    assert second[:2] == first[:2]
    python = _run(cache, *options, "--engine", "python")
    assert python[0] == second[0]
    third = _run(cache, *options)  # the plan is read, not written again
    assert third == second and len(_entries(cache)) == 2


@pytest.mark.parametrize("damage", ["not json", "[1, 2]", '{"format": 1, "key": "other"}',
                                    '{"format": 1, "key": "KEY", "sql": 5}', ""])
def test_a_corrupt_or_foreign_entry_is_ignored_and_written_again(tmp_path: Path,
                                                                 damage: str) -> None:
    cache = tmp_path / "cache"
    os.environ["KPIDSL_CACHE_DIR"], saved = str(cache), os.environ.get("KPIDSL_CACHE_DIR")
    try:
        checked = kpidsl.load(B2B).checked
        built = native_query(checked, None, CARRY)
        [entry] = _entries(cache)
        good = entry.read_text(encoding="utf-8")
        entry.write_text(damage.replace("KEY", entry.stem), encoding="utf-8")
        again = native_query(checked, None, CARRY)
        assert not isinstance(again, CachedQuery)
        assert again.sql(pretty=False) == built.sql(pretty=False)
        assert entry.read_text(encoding="utf-8") == good
        cached = native_query(checked, None, CARRY)
        assert isinstance(cached, CachedQuery) and cached.sql() == built.sql(pretty=False)
        # another month, other carried columns: another entry
        native_query(checked, 3, CARRY)
        assert len(_entries(cache)) == 2
    finally:
        os.environ["KPIDSL_CACHE_DIR"] = saved or ""


def test_a_directory_others_may_write_is_not_read(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run(cache)
    [entry] = _entries(cache)
    stored = json.loads(entry.read_text(encoding="utf-8"))
    stored["sql"] = "SELECT 1/0"  # what someone else could have put there
    entry.write_text(json.dumps(stored), encoding="utf-8")
    cache.chmod(0o777)
    run = _run(cache)
    assert run[2] and run[:2] == first[:2]
    cache.chmod(0o700)


def test_an_unwritable_cache_and_no_cache_run_the_same(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    reference = _run(None, off=True)
    assert reference[2] and "Traceback" not in reference[1]
    unwritable = _run(blocker / "cache")  # its parent is a file: it cannot be made
    assert unwritable == reference
    cache = tmp_path / "cache"
    assert _run(cache, off=True) == reference and not cache.exists()


def test_a_cached_query_builds_the_rest_when_asked(tmp_path: Path) -> None:
    os.environ["KPIDSL_CACHE_DIR"], saved = str(tmp_path), os.environ.get("KPIDSL_CACHE_DIR")
    try:
        checked = kpidsl.load(B2B).checked
        native_query(checked, None, CARRY)
        cached = native_query(checked, None, CARRY)
        assert isinstance(cached, CachedQuery)
        real = queries(checked, "duckdb", table="facts", carry=CARRY, budgets=False)[0]
        assert [k[0] for k in cached.output.kpis] == [k[0] for k in real.output.kpis]
        assert cached.sql(pretty=True) == real.sql(pretty=True)
    finally:
        os.environ["KPIDSL_CACHE_DIR"] = saved or ""
