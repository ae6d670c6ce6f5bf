"""Each employee's payslip is one A4 page, printed as PDF (WeasyPrint) and from the HTML
(Chromium's print), in both languages, for every bundled scheme.

The default run renders each scheme's longest payslip (the most pay lines, then the
longest name) as PDF, and prints the fullest one from the browser; `--runslow` renders
every employee's and prints every scheme's. A page is counted by pypdf.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import RULESETS

import kpidsl
from kpidsl.docs import render_statement
from kpidsl.docs.pdf import available as pdf_available

SCHEMES = sorted(p.stem for p in RULESETS.glob("*.kpi"))
CHROMIUM = Path("/usr/bin/chromium")
needs_pdf = pytest.mark.skipif(not pdf_available(), reason="WeasyPrint is not installed")


def payslips(stem: str, every: bool) -> list[tuple[kpidsl.Ruleset, kpidsl.Result, str]]:
    scheme = kpidsl.load(RULESETS / f"{stem}.kpi")
    items = list(scheme.run([RULESETS / f"{stem}.facts.csv"]).items)
    assert items, stem
    items.sort(key=lambda i: (-len(i.result.lines), -len(i.extra.get("name", ""))))
    return [(scheme, item.result, item.extra.get("name", ""))
            for item in (items if every else items[:1])]


def html(scheme: kpidsl.Ruleset, result: kpidsl.Result, name: str, lang: str) -> str:
    return render_statement(scheme, result, lang, "html", name=name, period="2025-03",
                            generated="2025-04-02")


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def weasyprint_pages(document: str) -> int:
    from kpidsl.docs.pdf import html_to_pdf

    return pdf_pages(html_to_pdf(document))


@needs_pdf
@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("stem", SCHEMES)
def test_the_longest_payslip_of_every_scheme_is_one_pdf_page(stem: str, lang: str) -> None:
    (scheme, result, name), = payslips(stem, every=False)
    assert weasyprint_pages(html(scheme, result, name, lang)) == 1, (stem, result.employee)


@needs_pdf
@pytest.mark.slow
@pytest.mark.parametrize("stem", SCHEMES)
def test_every_payslip_is_one_pdf_page(stem: str) -> None:
    long = [(lang, result.employee) for scheme, result, name in payslips(stem, every=True)
            for lang in ("ru", "en") if weasyprint_pages(html(scheme, result, name, lang)) != 1]
    assert long == [], stem


# a browser start costs ~4 s: the default run prints the fullest payslip (info-business,
# 7 pay lines beside the chart), --runslow every scheme's
TIGHTEST = "infobiz_manager"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium")
@pytest.mark.parametrize("stem", [s if s == TIGHTEST else pytest.param(s, marks=pytest.mark.slow)
                                  for s in SCHEMES])
def test_the_longest_payslip_prints_on_one_page_from_the_browser(stem: str,
                                                                 tmp_path: Path) -> None:
    (scheme, result, name), = payslips(stem, every=False)
    pages = {}
    for lang in ("ru", "en"):
        page = tmp_path / f"{lang}.html"
        page.write_text(html(scheme, result, name, lang), "utf-8")
        printed = tmp_path / f"{lang}.pdf"
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", f"--user-data-dir={profile}", "--no-pdf-header-footer",
                 f"--print-to-pdf={printed}", page.as_uri()],
                capture_output=True, text=True, timeout=120, check=False,
                env={**os.environ, "HOME": profile})
        assert done.returncode == 0, done.stderr[-2000:]
        pages[lang] = pdf_pages(printed.read_bytes())
    assert pages == {"ru": 1, "en": 1}, (stem, result.employee)
