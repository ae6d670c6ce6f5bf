"""Long runs: the table streams past its buffer, or shows the top and bottom N."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import RULESETS

from kpidsl.cli import main

SCHEME = str(RULESETS / "b2b_manager.kpi")
FACTS = str(RULESETS / "b2b_manager.facts.csv")


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_limit_shows_the_best_and_lowest_and_says_how_many_are_left_out() -> None:
    lines = run("eval", SCHEME, FACTS, "--limit", "2", "--lang", "ru").splitlines()
    body = [line.split()[0] for line in lines[4:]]
    assert body[:2] == ["volkov", "smirnov"]
    assert lines[6] == "… ещё 4 не показаны (--limit 2) …"
    assert body[3:5] == ["morozova", "kuznetsova"]
    assert lines[-1].startswith("Итого (8 сотр.)")
    assert lines[-1].endswith("850\u00a0406,67")  # the total is everyone's, not the shown rows'


def test_limit_above_the_count_shows_everyone_by_total() -> None:
    lines = run("eval", SCHEME, FACTS, "--limit", "5").splitlines()
    assert [line.split()[0] for line in lines[4:12]] == [
        "volkov", "smirnov", "ivanov", "popova", "petrova", "sidorov", "morozova",
        "kuznetsova"]
    assert "not shown" not in "\n".join(lines)


def test_a_table_past_its_buffer_streams_with_the_same_rows_and_total(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kpidsl.cli.render import table

    whole = run("eval", SCHEME, FACTS).splitlines()
    monkeypatch.setattr(table, "BUFFER", 3)
    streamed = run("eval", SCHEME, FACTS).splitlines()
    assert len(streamed) == len(whole)
    def words(lines: list[str]) -> list[list[str]]:
        return [line.split() for line in lines if not line.startswith("─")]

    assert words(streamed) == words(whole)
