"""The fused loop (kpidsl/fused.py) writes what the general path writes, byte for byte.

`kpidsl eval` runs twice over the same random facts file: as it is (one CSV file of a
streaming scheme: the fused loop), and with the fused loop switched off (`fusable` says no:
the reader, `evaluate_many` and the renderers). stdout, stderr, the output file and the
exit code must be equal, for every bundled scheme, every output format and both languages,
over files with dirty cells, duplicate and look-alike ids, totals rows, blank and ragged
rows, grades, teams and descriptive columns.
"""

from __future__ import annotations

import ast
import contextlib
import random
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl import fused
from kpidsl.cli import main
from kpidsl.units import Unit

ROOT = Path(__file__).resolve().parent.parent
B2B = (ROOT / "rulesets" / "b2b_manager.kpi").read_text(encoding="utf-8")
# every bundled scheme; the reference scheme with a grade (rows of it leave the loop); a
# plan read from the facts (a zero plan fails in the evaluator: KPI901, handed over)
SCHEMES = [*((p.name, p.read_text(encoding="utf-8"))
             for p in sorted((ROOT / "rulesets").glob("*.kpi"))),
           ("graded.kpi", B2B + '\ngrade senior "Senior" ru "Старший"\n'
                                '  kpi revenue plan 4_000_000 RUB\n'),
           ("target.kpi", 'scheme s "S"\n  currency RUB\nfact revenue money\n'
                          'fact target money\nkpi revenue plan target\n'
                          'curve c\n  from 0% pays attainment\n  cap 150%\n'
                          'pay bonus "Bonus" pool 100 RUB\n  for revenue weight 100% curve c\n')]
FORMATS = ("csv", "jsonl", "json", "table")

# cells that are not clean: each is read by every rule (or refused) on the general path
DIRTY = ("1 234,5", "1.234", "142,500", "abc", "", "-5", "2,5%", "NaN", "1e5", " 12",
         "0.0000001", "3,300,000", "12.5", "١٢", "1.500%", "2.42", "100000000000000000000000",
         "0.000000000000000000001", "'7", "12 %", "₽ 1 000", "inf")
# ids: duplicates, look-alikes (Cyrillic а, full-width, case), totals words, blanks
IDS = ("m1", "m2", "M1", " m1", "mа1", "ｍ1", "Итого", "total", "", "ivanov", "sum",
       "Всего:", "m\u200b2")


@contextlib.contextmanager
def general_path() -> Iterator[None]:
    with mock.patch.object(fused, "fusable", lambda ruleset: None):
        yield


def clean_cell(rng: random.Random, unit: Unit) -> str:
    if unit is Unit.PERCENT:
        return f"{rng.randrange(0, 400) / 100:.2f}%"
    if unit is Unit.COUNT:
        return str(rng.randrange(0, 2000))
    if rng.random() < 0.5:
        return str(rng.randrange(0, 5_000_000))
    return f"{rng.randrange(0, 500_000_000) / 100:.2f}"


def facts_text(scheme: kpidsl.Ruleset, seed: int, dirt: float, shape: dict[str, bool],
               rows: int | None = None) -> str:
    """A CSV facts file of the scheme: random columns order, clean and dirty rows."""
    rng = random.Random(seed)
    specs = scheme.fact_specs
    columns = ["employee", *specs]
    if shape["name"]:
        columns.append("name")
    if shape["team"]:
        columns.append("team")
    if shape["grade"]:
        columns.append("grade")
    if shape["unknown"]:
        columns.append("note")
    rng.shuffle(columns)
    grades = [g for g in scheme.grades] if shape["grade"] else []
    lines = [",".join(columns)]
    sums = {f: Decimal(0) for f in specs}
    for i in range(rng.randrange(0, 14) if rows is None else rows):
        roll = rng.random() if dirt else 1.0  # blank and ragged rows: dirty files only
        if roll < 0.03:
            lines.append("")  # a blank row
            continue
        row = []
        for column in columns:
            if column == "employee":
                row.append(rng.choice(IDS) if rng.random() < dirt else f"e{i}")
            elif column in specs:
                unit = specs[column].unit
                text = rng.choice(DIRTY) if rng.random() < dirt / 3 else \
                    ("0%" if unit is Unit.PERCENT else "0") if rng.random() < 0.1 else \
                    clean_cell(rng, unit)
                row.append(text)
                with contextlib.suppress(ArithmeticError, ValueError):
                    sums[column] += Decimal(text.rstrip("%"))
            elif column == "name":
                row.append(rng.choice(("Иван Иванов", "Anna, \"the\" best", "x", "")))
            elif column == "team":
                row.append(rng.choice(("Север", "South", "", "Итого")))
            elif column == "grade":
                row.append(rng.choice([*grades, "", "base", "nope"]) if rng.random() < 0.3
                           else "")
            else:
                row.append(rng.choice(("", "a note", "1;2")))
        if roll < 0.06:
            row = row[:-1]  # ragged: a cell short
        elif roll < 0.08:
            row.append("extra")  # a cell too many
        lines.append(",".join(f'"{c}"' if ("," in c or '"' in c) and '""' not in c
                              else c for c in (r.replace('"', '""') if '"' in r else r
                                               for r in row)))
    if shape["totals"]:  # an empty id beside the column sums: a totals row
        lines.append(",".join("" if c not in specs else str(sums[c]) for c in columns))
    if shape["unclosed"]:
        lines.append('e99,"12')
    return "\n".join(lines) + "\n"


def run_both(scheme_path: Path | str, text: str, fmt: str, lang: str, to_file: bool, keep: bool,
             tmp: Path) -> None:
    facts = tmp / "facts.csv"
    facts.write_text(text, encoding="utf-8")
    out = tmp / "out.txt"
    args = ["eval", str(scheme_path), str(facts), "--format", fmt, "--lang", lang,
            "--engine", "python", *(["-o", str(out)] if to_file else []),
            *(["--keep-totals"] if keep else [])]
    seen = []
    for path in ("general", "fused"):
        out.unlink(missing_ok=True)
        with general_path() if path == "general" else contextlib.nullcontext():
            result = CliRunner().invoke(main, args, catch_exceptions=False)
        seen.append((result.exit_code, result.stdout, result.stderr,
                     out.read_bytes() if out.exists() else None))
    general, fast = seen
    assert "Traceback" not in fast[2]
    assert fast == general, (text, args)


FILES = st.fixed_dictionaries({
    "scheme": st.sampled_from(SCHEMES), "seed": st.integers(0, 2**32),
    "dirt": st.sampled_from((0.0, 0.1, 0.4)), "fmt": st.sampled_from(FORMATS),
    "lang": st.sampled_from(("en", "ru")), "to_file": st.booleans(), "keep": st.booleans(),
    "shape": st.fixed_dictionaries({k: st.booleans() for k in (
        "name", "team", "grade", "unknown", "totals", "unclosed")})})


def differential(tmp_path: Path, case: dict[str, Any]) -> None:
    name, text = case["scheme"]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    ruleset = kpidsl.load(path)
    run_both(path, facts_text(ruleset, case["seed"], case["dirt"], case["shape"]), case["fmt"],
             case["lang"], case["to_file"], case["keep"], tmp_path)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=FILES)
def test_the_fused_loop_writes_what_the_general_path_writes(
        tmp_path: Path, case: dict[str, Any]) -> None:
    differential(tmp_path, case)


@pytest.mark.slow
@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=FILES)
def test_the_fused_loop_writes_what_the_general_path_writes_at_length(
        tmp_path: Path, case: dict[str, Any]) -> None:
    differential(tmp_path, case)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_a_clean_file_takes_the_fused_loop(tmp_path: Path, fmt: str) -> None:
    """The reference scheme's clean rows never reach the general path's evaluation, but
    for the first (which settles how each column reads, as `_clean_row` needs)."""
    ruleset = kpidsl.load(ROOT / "rulesets" / "b2b_manager.kpi")
    text = facts_text(ruleset, 7, 0.0, dict.fromkeys(
        ("name", "team", "grade", "unknown", "totals", "unclosed"), False), rows=50)
    facts = tmp_path / "facts.csv"
    facts.write_text(text, encoding="utf-8")
    real = kpidsl.Ruleset.evaluate_many
    with mock.patch.object(kpidsl.Ruleset, "evaluate_many", autospec=True,
                           side_effect=real) as spy:
        result = CliRunner().invoke(main, ["eval", str(ROOT / "rulesets" / "b2b_manager.kpi"),
                                           str(facts), "--format", fmt, "--engine", "python"],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    rows = text.count("\n") - 1
    assert rows > 2 and f"{rows} rows read, {rows} evaluated, 0 failed" in result.stderr
    assert spy.call_count == 1


def test_hostile_names_stay_literals(tmp_path: Path) -> None:
    """Column titles and descriptive values that look like code reach the generated loop
    only as data: the output is the general path's."""
    scheme = ROOT / "rulesets" / "b2b_manager.kpi"
    text = ("employee,revenue,avg_check,conversion,calls,\"x'); import os #\",\"%s{}\\\"\"\n"
            "a1,3000000,150000,2%,1000,\"'); raise SystemExit #\",%d\n"
            "a2,3300000,142500,2.1%,950,\"\"\"\",\"\\u0000\"\n")
    for fmt in ("csv", "jsonl", "json"):
        run_both(scheme, text, fmt, "en", False, False, tmp_path)
    from kpidsl.facts import read_facts_text

    ruleset = kpidsl.load(scheme)
    reader = read_facts_text(text, ruleset.fact_specs)
    list(reader)
    source = fused.generate(reader._row_plan(), ruleset.infos["base"], "json",
                            ruleset=ruleset)
    tree = ast.parse(source)
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.isascii()
               for name in names)
    assert "SystemExit" not in names and "os" not in names


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_rows_handed_over_between_clean_rows(tmp_path: Path, fmt: str) -> None:
    """A failed first row, a row of another grade (evaluated by `evaluate_many`) and a
    zero plan (the evaluator fails: KPI901) between clean rows: the header once, the rows
    in file order, the diagnostics where the general path puts them."""
    graded = dict(SCHEMES)["graded.kpi"]
    target = dict(SCHEMES)["target.kpi"]
    files = [
        (graded, "employee,grade,revenue,avg_check,conversion,calls\n"
                 "a,,abc,1,2%,3\nb,senior,3000000,150000,2%,1000\nc,,3000000,150000,2%,1000\n"
                 "d,,1,1,1%,1\n,,3000001,150001,5%,1001\n"),
        (target, "employee,revenue,target\nx,,1\na,10,0\nb,10,20\nc,5,0\nd,7,7\n"),
        (target, "employee,revenue,target\na,10,20\nb,1,0\nc,5,5\n"),
    ]
    for k, (scheme, text) in enumerate(files):
        path = tmp_path / f"s{k}.kpi"
        path.write_text(scheme, encoding="utf-8")
        for to_file in (False, True):
            run_both(path, text, fmt, "en", to_file, False, tmp_path)
