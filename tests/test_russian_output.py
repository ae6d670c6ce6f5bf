"""`--lang ru` output has no English words but the names the scheme and the facts gave.

Every command that speaks a language is run in Russian on the bundled scheme, including a
bad facts file (diagnostics) and a forecast; any Latin word that is not a name of the scheme
(facts, KPIs, payments, curves, constants, grades, the scheme's own name), an employee id,
a currency code, a diagnostic code or a path fails the test with the words it found.
"""

from __future__ import annotations

import contextlib
import functools
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
EXPORTS = RULESETS / "exports"
MAP = ["--id", "Сотрудник", "--map", "Выручка=revenue", "--map", "Средний чек=avg_check",
       "--map", "Конверсия=conversion", "--map", "Звонки=calls"]
# not English: codes and units the reader knows as they are
ALLOWED = {"KPI", "RUB", "SHA", "Excel", "CRM", "kpidsl", "csv", "md", "html", "kpi"}


def scheme_names(path: Path, facts: Path = FACTS) -> set[str]:
    ruleset = kpidsl.load(path)
    names = {ruleset.name, ruleset.label, *ruleset.grades, ruleset.currency}
    for variant in ruleset.checked.variants.values():
        for table in (variant.kpis, variant.pays, variant.facts, variant.curves,
                      variant.constants, variant.budgets):
            names.update(table)
    for line in facts.read_text("utf-8").splitlines()[1:]:
        names.add(line.split(",")[0])
    return {part for name in names for part in re.split(r"[^A-Za-z]+", name) if part}


@functools.lru_cache(maxsize=1)
def every_name() -> set[str]:
    """The names of every bundled scheme and employee (an explanation of any of them)."""
    names = set()
    for path in RULESETS.glob("*.kpi"):
        names |= scheme_names(path, path.with_suffix(".facts.csv"))
    for path in (ROOT / "tests" / "fixtures" / "cli").glob("*.kpi"):
        with contextlib.suppress(kpidsl.KpiError):  # a broken scheme: BROKEN_NAMES
            names |= scheme_names(path, FACTS)
    return names


# the broken schemes: the names they give (a misspelt name is the scheme's own word)
BROKEN = ROOT / "tests" / "fixtures" / "checks"
BROKEN_NAMES = {"revenu", "calsl", "standrd", "salry", "senoir", "cals", "deals", "calls",
                "standard", "salary", "odd", "stops", "before", "tiers", "stop", "both",
                "mixed", "by", "amount", "attainment", "fund", "wrong", "ivanov", "junior",
                "middle", "commission", "avg", "check", "square", "margin", "conversion",
                "bonus", "revenue", "ghost", "base", "a", "b", "standart"}
# the words of the language, quoted or in a hint's code ('pays', kpi revenue plan ...)
LANGUAGE = {"pays", "kpi", "fact", "constant", "curve", "pay", "example", "grade", "plan",
            "through", "above", "below", "from", "to", "at", "linear", "tiers", "rate",
            "cap", "uncapped", "given", "expect", "weight", "for", "otherwise", "of",
            "team", "total", "average", "min", "max", "abs", "if", "only", "unless",
            "higher", "lower", "money", "count", "percent", "ratio", "number", "minutes",
            "hours", "days", "month", "quarter", "year", "week", "half", "up", "even",
            "down", "ceiling", "floor", "payouts", "marginal", "whole", "activity",
            "efficiency", "result", "jan", "dec", "USD", "EUR", "pool", "round", "drop",
            "based", "on", "budget", "effective", "version", "scheme", "currency", "period",
            "sector", "infobusiness", "group", "is", "better", "missing", "by"}


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
    "target-independent": ["target", str(SCHEME), str(FACTS), "--employee", "ivanov",
                           "--earn", "130000", "--vary", "avg_check", "--lang", "ru"],
    "check-broken": ["check", str(ROOT / "tests" / "fixtures" / "cli" / "broken.kpi"),
                     "--lang", "ru"],
    "test-failing": ["test", str(ROOT / "tests" / "fixtures" / "cli" / "failing.kpi"),
                     "--lang", "ru"],
    "statement-all": ["statement", str(SCHEME), str(FACTS), "--all", "-o", "OUT",
                      "--lang", "ru"],
    "statement-all-bad": ["statement", str(SCHEME), str(BAD), *MAP, "--all", "-o", "OUT",
                          "--lang", "ru"],
    "test-coverage": ["test", str(SCHEME), "--coverage", "--lang", "ru"],
    "test-coverage-missing": ["test", str(ROOT / "tests" / "fixtures" / "cli" / "failing.kpi"),
                              "--coverage", "--lang", "ru"],
    "eval-period": ["eval", str(SCHEME), str(FACTS), "--period", "2025-07", "--lang", "ru"],
    "close": ["close", str(SCHEME), str(FACTS), "--period", "2025-07", "--ledger", "DB",
              "--lang", "ru"],
    "ledger": ["close", str(SCHEME), str(FACTS), "--period", "2025-07", "--ledger", "DB",
               "THEN", "ledger", "DB", "--lang", "ru"],
    "ledger-employee": ["close", str(SCHEME), str(FACTS), "--period", "2025-07", "--ledger",
                        "DB", "THEN", "ledger", "DB", "-e", "ivanov", "--lang", "ru"],
    "explain-ledger": ["close", str(SCHEME), str(FACTS), "--period", "2025-07", "--ledger",
                       "DB", "THEN", "explain", str(SCHEME), str(FACTS), "-e", "ivanov",
                       "--period", "2025-08", "--ledger", "DB", "--lang", "ru"],
    "eval-sources": ["eval", str(EXPORTS / "b2b_deals.kpi"), str(EXPORTS / "b2b_deals.deals.csv"),
                     str(EXPORTS / "b2b_deals.calls.csv"), "--period", "2025-07", "--lang", "ru"],
}
# every bundled scheme's explanations: the word table (caps, floors, tiers, team...)
for _path in sorted(RULESETS.glob("*.kpi")):
    _rows = [line.split(",") for line in
             _path.with_suffix(".facts.csv").read_text("utf-8").splitlines()]
    _column = _rows[0].index("team") if "paid per team" in _path.read_text("utf-8") else 0
    for _who in dict.fromkeys(row[_column] for row in _rows[1:4]):
        COMMANDS[f"explain-{_path.stem}-{_who}"] = [
            "explain", str(_path), str(_path.with_suffix(".facts.csv")), "-e", _who,
            "--lang", "ru"]


def english_words(text: str, allowed: set[str]) -> set[str]:
    text = re.sub(r"<svg.*?</svg>|<[^>]*>", " ", text, flags=re.S)  # charts and markup
    text = re.sub(r"(?m)^ *\d* \|.*$", " ", text)  # the scheme's own lines under a caret
    text = re.sub(r'"[^"\n]*"', " ", text)  # labels the scheme wrote
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
    places = {"PILOT": str(pilot), "OUT": str(tmp_path / "out"), "DB": str(tmp_path / "pay.db")}
    args = [places.get(a, a) for a in COMMANDS[name]]
    while "THEN" in args:  # an earlier command (a closed month) the one under test reads
        before = args[:args.index("THEN")]
        args = args[args.index("THEN") + 1:]
        assert CliRunner().invoke(main, before).exit_code == 0
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    allowed = every_name() | ALLOWED | BROKEN_NAMES
    found = english_words(result.stdout + "\n" + result.stderr, allowed)
    assert found == set(), f"{name}: {sorted(found)}"


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.kpi")), ids=lambda p: p.stem)
def test_check_of_a_broken_scheme_speaks_russian(path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(path), "--lang", "ru"])
    assert result.exit_code in (0, 1), result.output
    text = result.stdout + "\n" + result.stderr
    text = re.sub(r"(?m)^ *\d* \|.*$", " ", text)  # the scheme's own lines under the caret
    text = re.sub(r"'[^'\n]*'", " ", text)  # quoted names, cells and words of the language
    text = re.sub(r"(напишите|например|пишите|задайте формулу|добавьте[^:]*):.*", " ", text)
    found = english_words(text, BROKEN_NAMES | LANGUAGE | ALLOWED | every_name())
    assert found == set(), f"{path.name}: {sorted(found)}"


USAGE = {  # usage errors (exit 2) speak the command's language too
    "rank": (["eval", str(SCHEME), str(FACTS), "--rank", "revenu"],
             "ошибка: --rank: 'revenu' — не 'total' и не KPI схемы b2b_manager (может быть, "
             "'revenue'?)\n"),
    "grade": (["eval", str(SCHEME), str(FACTS), "--grade", "x"],
              "ошибка: неизвестный грейд 'x': в схеме нет грейдов\n"),
    "statement": (["statement", str(SCHEME), str(FACTS)],
                  "ошибка: укажите либо --employee ID, либо --all\n"),
    "forecast": (["eval", str(SCHEME), str(FACTS), "--elapsed", "3"],
                 "ошибка: для прогноза нужны и --elapsed, и --total-days (или --as-of ДАТА)\n"),
}


@pytest.mark.parametrize("name", sorted(USAGE))
def test_usage_errors_speak_russian(name: str) -> None:
    args, expected = USAGE[name]
    result = CliRunner().invoke(main, [*args, "--lang", "ru"])
    assert result.exit_code == 2
    assert result.stderr == expected
    english = CliRunner().invoke(main, args)
    assert english.stderr.startswith("error: ") and "ошибка" not in english.stderr
