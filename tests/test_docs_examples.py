"""docs/examples is up to date, its HTML is valid HTML5 and prints in a real browser, and
the templates ship with the package."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import html5lib
import pytest

from kpidsl.docs.regenerate import documents, main, stale, write

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    return documents(ROOT / "rulesets")


def test_docs_examples_are_up_to_date(expected: dict[str, str]) -> None:
    differ, extra = stale(EXAMPLES, expected)
    assert (differ, extra) == ([], []), "run: python -m kpidsl.docs.regenerate"


def test_every_scheme_and_grade_has_four_documents(expected: dict[str, str]) -> None:
    assert {"b2b_manager.ru.html", "b2b_manager.en.md", "b2b_manager.ru.md",
            "b2b_manager.en.html"} <= set(expected)
    import kpidsl

    for path in (ROOT / "rulesets").rglob("*.kpi"):
        stem = path.relative_to(ROOT / "rulesets").with_suffix("").as_posix()
        for grade in ["", *kpidsl.load(path).grades]:
            name = f"{stem}.{grade}" if grade else stem
            for suffix in ("ru.md", "ru.html", "en.md", "en.html"):
                assert f"{name}.{suffix}" in expected


def test_regenerate_writes_removes_and_checks(tmp_path: Path) -> None:
    rulesets = tmp_path / "rulesets"
    rulesets.mkdir()
    (rulesets / "b2b.kpi").write_text((ROOT / "rulesets" / "b2b_manager.kpi").read_text("utf-8"),
                                      encoding="utf-8")
    out = tmp_path / "examples"
    (out / "old").mkdir(parents=True)
    (out / "old" / "gone.en.md").write_text("stale", encoding="utf-8")
    args = ["--rulesets", str(rulesets), "--out", str(out)]
    assert main([*args, "--check"]) == 1
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "b2b.en.html", "b2b.en.md", "b2b.ru.html", "b2b.ru.md"]
    assert main([*args, "--check"]) == 0
    (out / "b2b.en.md").write_text("edited by hand", encoding="utf-8")
    assert main([*args, "--check"]) == 1
    assert write(out, documents(rulesets)) == (["b2b.en.md"], [])


def test_regenerate_without_rulesets_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["--rulesets", str(tmp_path / "none")]) == 2


def test_example_html_is_valid_html5(expected: dict[str, str]) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for name, text in expected.items():
        if name.endswith(".html"):
            document = parser.parse(text)
            charts = document.findall(".//{http://www.w3.org/2000/svg}svg")
            assert len(charts) == text.count("<svg "), name
            assert document.find("head/style") is not None, name


def test_templates_are_package_data() -> None:
    templates = resources.files("kpidsl.docs") / "templates"
    names = {entry.name for entry in templates.iterdir()}
    assert {"plan.md.j2", "plan.html.j2", "statement.md.j2", "statement.html.j2",
            "calc.md.j2", "calc.html.j2", "style.css.j2"} <= names


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: HTML is checked by "
                    "html5lib only")
def test_russian_plan_prints_to_pdf_in_a_real_browser(tmp_path: Path,
                                                      expected: dict[str, str]) -> None:
    page = tmp_path / "plan.html"
    page.write_text(expected["b2b_manager.ru.html"], encoding="utf-8")
    pdf = tmp_path / "plan.pdf"
    with tempfile.TemporaryDirectory() as profile:
        completed = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
             "--no-pdf-header-footer", page.as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "HOME": profile})
    assert completed.returncode == 0, completed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert 2 <= pages <= 12
    sizes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data))
    assert {(round(float(w)), round(float(h))) for w, h in sizes} == {(595, 842)}  # A4
