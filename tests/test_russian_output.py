"""`--lang ru` output has no English words but the names the scheme and the facts gave.

Every command that speaks a language is run in Russian on the bundled scheme, including a
bad facts file (diagnostics) and a forecast; any Latin word that is not a name of the scheme
(facts, KPIs, payments, curves, constants, grades, the scheme's own name), an employee id,
a currency code, a diagnostic code or a path fails the test with the words it found.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEME = RULESETS / "b2b_manager.kpi"
FACTS = RULESETS / "b2b_manager.facts.csv"
BAD = ROOT / "tests" / "fixtures" / "cli" / "crm_export.csv"
MAP = ["--id", "Сотрудник", "--map", "Выручка=revenue", "--map", "Средний чек=avg_check",
       "--map", "Конверсия=conversion", "--map", "Звонки=calls"]
# not English: codes and units the reader knows as they are
ALLOWED = {"KPI", "RUB", "SHA", "Excel", "CRM", "kpidsl", "csv", "md", "html", "kpi"}


def scheme_names(path: Path) -> set[str]:
    ruleset = kpidsl.load(path)
    names = {ruleset.name, *ruleset.grades, ruleset.currency}
    for variant in ruleset.checked.variants.values():
        for table in (variant.kpis, variant.pays, variant.facts, variant.curves,
                      variant.constants):
            names.update(table)
    for line in FACTS.read_text("utf-8").splitlines()[1:]:
        names.add(line.split(",")[0])
    return {part for name in names for part in re.split(r"[^A-Za-z]+", name) if part}


COMMANDS = {
    "check": ["check", str(SCHEME), "--lang", "ru"],
    "eval": ["eval", str(SCHEME), str(FACTS), "--lang", "ru"],
    "eval-csv": ["eval", str(SCHEME), str(FACTS), "--lang", "ru", "--format", "csv"],
    "eval-limit": ["eval", str(SCHEME), str(FACTS), "--lang", "ru", "--limit", "2"],
    "eval-rank": ["eval", str(SCHEME), str(FACTS), "--lang", "ru", "--rank", "revenue"],
    "eval-bad-rows": ["eval", str(SCHEME), str(BAD), *MAP, "--lang", "ru"],
    "forecast": ["eval", str(SCHEME), str(FACTS), "--lang", "ru", "--elapsed", "10",
                 "--total-days", "21"],
    "explain": ["explain", str(SCHEME), str(FACTS), "-e", "morozova", "--lang", "ru"],
    "test": ["test", str(SCHEME), "--lang", "ru"],
    "doc": ["doc", str(SCHEME), "--lang", "ru"],
    "statement": ["statement", str(SCHEME), str(FACTS), "-e", "ivanov", "--lang", "ru"],
    "compare": ["compare", str(SCHEME), "PILOT", str(FACTS), "--lang", "ru"],
    "target": ["target", str(SCHEME), str(FACTS), "--employee", "ivanov", "--earn", "130000",
               "--vary", "revenue", "--lang", "ru"],
    "target-unreachable": ["target", str(SCHEME), str(FACTS), "--employee", "ivanov",
                           "--earn", "10000000", "--vary", "calls", "--lang", "ru"],
}


def english_words(text: str, allowed: set[str]) -> set[str]:
    text = re.sub(r"<svg.*?</svg>|<[^>]*>", " ", text, flags=re.S)  # charts and markup
    text = re.sub(r"\b[0-9a-f]{8,}\b", " ", text)  # digests
    text = re.sub(r"\bkpidsl [a-z]+", " ", text)  # a command named in a sentence
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths
    text = re.sub(r"\bKPI\d{3}\b", " ", text)
    text = re.sub(r"--[a-z-]+", " ", text)  # options named in hints
    text = re.sub(r"\w+\.(?:kpi|csv|md|html|xlsx)\b", " ", text)
    words = set(re.findall(r"[A-Za-z]{2,}", text))
    return {w for w in words if w not in allowed and w.lower() not in allowed}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_russian_output_has_no_english(name: str, tmp_path: Path) -> None:
    pilot = tmp_path / "pilot.kpi"
    pilot.write_text(SCHEME.read_text("utf-8").replace("attainment × 1.2", "attainment × 1.5"),
                     "utf-8")
    args = [str(pilot) if a == "PILOT" else a for a in COMMANDS[name]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    allowed = scheme_names(SCHEME) | ALLOWED
    found = english_words(result.stdout + "\n" + result.stderr, allowed)
    assert found == set(), f"{name}: {sorted(found)}"
