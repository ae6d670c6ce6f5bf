"""Determinism: the same inputs give byte-identical outputs across runs and hash seeds.

Each check runs every bundled scheme through the API (generated code, diagnostics,
Result.to_dict as JSON) and the CLI (check, compile, eval in every format, doc, statement,
explain, compare) in fresh Python processes with different PYTHONHASHSEED values, and compares
the bytes. String hashing changes set iteration order between processes, so anything that
prints a set (or a dict built from one) in arbitrary order shows up here.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kpidsl

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ("0", "4242")

CHILD = r'''
import hashlib, io, json, re, sys, tempfile, zipfile
from pathlib import Path
from click.testing import CliRunner
import kpidsl
from kpidsl.cli import main
from kpidsl.facts import FactRow, read_facts

root = Path(sys.argv[1])
outputs = {}


def api(scheme_path, facts_path):
    name = scheme_path.stem
    text = scheme_path.read_text(encoding="utf-8")
    outputs[f"api/{name}/check"] = "\n".join(d.render() for d in kpidsl.check(text, name))
    scheme = kpidsl.loads(text, scheme_path.name)
    outputs[f"api/{name}/python_source"] = scheme.python_source
    outputs[f"api/{name}/fact_specs"] = repr(sorted(scheme.fact_specs.items()))
    if facts_path.exists():
        rows = (r for r in read_facts(facts_path, scheme.fact_specs) if isinstance(r, FactRow))
        failures = []
        results = scheme.evaluate_many(rows, on_error=lambda e, r, d: failures.append(
            (e, r, [x.render() for x in d])))
        outputs[f"api/{name}/results"] = "\n".join(
            json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=False) for r in results)
        outputs[f"api/{name}/failures"] = repr(failures)


def cli(key, *args, tmp=""):
    result = CliRunner().invoke(main, [str(a) for a in args])
    text = f"exit {result.exit_code}\n{result.stdout}\n--- stderr\n{result.stderr}"
    outputs[f"cli/{key}"] = text.replace(tmp, "<tmp>") if tmp else text


def normalized_xlsx(data):
    """An XLSX is a zip: compare its members, not the zip's own timestamps; the document
    properties (docProps/core.xml) are compared without their created/modified times."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            member = archive.read(name)
            if name == "docProps/core.xml":
                member = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\1", member)
            out[name] = hashlib.sha256(member).hexdigest()
    return out


schemes = sorted((root / "rulesets").glob("*.kpi"))
for scheme_path in schemes:
    facts_path = scheme_path.with_suffix(".facts.csv")
    api(scheme_path, facts_path)
    name = scheme_path.stem
    cli(f"{name}/check-text", "check", scheme_path, "--grades")
    cli(f"{name}/check-json", "check", scheme_path, "--format", "json")
    cli(f"{name}/compile", "compile", scheme_path)
    for lang in ("en", "ru"):
        cli(f"{name}/doc-md-{lang}", "doc", scheme_path, "--lang", lang)
    cli(f"{name}/doc-html", "doc", scheme_path, "--format", "html", "--lang", "ru")
    if not facts_path.exists():
        continue
    for fmt in ("table", "csv", "json", "jsonl"):
        cli(f"{name}/eval-{fmt}", "eval", scheme_path, facts_path, "--format", fmt)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.xlsx"
        cli(f"{name}/eval-xlsx", "eval", scheme_path, facts_path, "--format", "xlsx", "-o", out,
            tmp=tmp)
        if out.exists():
            outputs[f"cli/{name}/eval-xlsx-bytes"] = hashlib.sha256(out.read_bytes()).hexdigest()
            outputs[f"cli/{name}/eval-xlsx-members"] = repr(normalized_xlsx(out.read_bytes()))
    first = facts_path.read_text(encoding="utf-8-sig").splitlines()[1]
    employee = first.replace(";", ",").split(",")[0]
    cli(f"{name}/explain-en", "explain", scheme_path, facts_path, "-e", employee)
    cli(f"{name}/explain-ru", "explain", scheme_path, facts_path, "-e", employee, "--lang", "ru")
    cli(f"{name}/statement-html", "statement", scheme_path, facts_path, "-e", employee,
        "--format", "html", "--lang", "ru")
versions = root / "rulesets" / "versions"
if (versions / "2025-h1.kpi").exists():
    for fmt in ("table", "json", "csv"):
        cli(f"compare-{fmt}", "compare", versions / "2025-h1.kpi", versions / "2025-h2.kpi",
            versions / "b2b_seasonal.facts.csv", "--format", fmt)
json.dump(outputs, sys.stdout, ensure_ascii=False, sort_keys=True)
'''


def run_child(seed: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, str]]:
    children = {seed: run_child(seed) for seed in SEEDS}  # in parallel
    out = {}
    for seed, child in children.items():
        stdout, stderr = child.communicate(timeout=600)
        assert child.returncode == 0, stderr[-3000:]
        out[seed] = json.loads(stdout)
    return out


def test_every_output_was_produced(runs: dict[str, dict[str, str]]) -> None:
    outputs = runs[SEEDS[0]]
    kinds = {key.split("/")[-1].rsplit("-", 1)[0] for key in outputs}
    assert {"python_source", "results", "check", "compile", "eval", "doc-md", "explain",
            "statement"} <= kinds, sorted(kinds)
    assert not [k for k, v in outputs.items() if k.startswith("cli/") and "Traceback" in v]


def test_outputs_are_byte_identical_across_hash_seeds(runs: dict[str, dict[str, str]]) -> None:
    first, *others = SEEDS
    for seed in others:
        differing = sorted(k for k in runs[first]
                           if k.endswith("xlsx-bytes") is False and
                           runs[first][k] != runs[seed].get(k))
        assert differing == [], f"PYTHONHASHSEED={first} and {seed} differ in {differing}"
        assert runs[first].keys() == runs[seed].keys()


def test_xlsx_contents_are_identical_across_runs(runs: dict[str, dict[str, str]]) -> None:
    """Workbooks are compared member by member: the zip container and the document
    properties carry the time the file was written; everything else is identical."""
    members = {seed: {k: v for k, v in out.items() if k.endswith("xlsx-members")}
               for seed, out in runs.items()}
    assert members[SEEDS[0]], "no workbook was written"
    assert all(m == members[SEEDS[0]] for m in members.values())


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_same_process_gives_the_same_bytes_twice() -> None:
    """No state leaks from one load or evaluation to the next (caches, counters, contexts)."""
    text = (ROOT / "rulesets" / "b2b_manager.kpi").read_text(encoding="utf-8")
    facts = {"revenue": "3300000", "avg_check": "142500", "conversion": "2.1%", "calls": 950}

    def once() -> tuple[str, str]:
        scheme = kpidsl.loads(text, "b2b_manager.kpi")
        return digest(scheme.python_source), digest(json.dumps(scheme.evaluate(facts).to_dict()))

    first = once()
    kpidsl.loads(text.replace("60_000", "61_000"))  # something else in between
    with decimal.localcontext() as context:
        context.prec = 6
        assert once() == first
    assert once() == first
