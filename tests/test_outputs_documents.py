"""What people receive: the plan an employee signs, the payslip, their PDFs, and their
layout in a real browser (Chromium screenshots: no overflow, page count, fonts present)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULESETS

import kpidsl
from kpidsl.cli import main
from kpidsl.docs import render_plan, render_statement
from kpidsl.docs.context import check_code
from kpidsl.docs.pdf import available as pdf_available

SCHEME = RULESETS / "b2b_manager.kpi"
FACTS = RULESETS / "b2b_manager.facts.csv"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def b2b() -> kpidsl.Ruleset:
    return kpidsl.load(SCHEME)


def ivanov(scheme: kpidsl.Ruleset) -> kpidsl.Result:
    return next(r for r in scheme.run([FACTS]).results() if r.employee == "ivanov")


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------- the plan document


def test_examples_are_an_appendix_on_request_only(b2b: kpidsl.Ruleset) -> None:
    plain = run("doc", str(SCHEME), "--lang", "ru")
    assert "Примеры расчёта" not in plain
    appendix = run("doc", str(SCHEME), "--lang", "ru", "--examples", "appendix")
    headings = re.findall(r"^## (.+)$", appendix, re.M)
    assert headings[-1] == "Приложение. Примеры расчёта"
    assert headings[:-1] == re.findall(r"^## (.+)$", plain, re.M)
    html = render_plan(b2b, lang="ru", fmt="html", examples="appendix")
    assert '<section id="examples" class="appendix">' in html
    assert html.index('id="examples"') > html.index('id="rounding"')


def test_the_conditions_column_shows_only_when_a_line_has_conditions(b2b: kpidsl.Ruleset) -> None:
    assert "Условия" not in render_plan(b2b, lang="ru")
    assert "<th>Условия</th>" not in render_plan(b2b, lang="ru", fmt="html")
    gated = kpidsl.loads(SCHEME.read_text("utf-8").replace(
        "  for revenue     weight 40%  curve standard\n",
        "  for revenue     weight 40%  curve standard\n"
        "    only if attainment of revenue >= 70%\n", 1), "gated.kpi")
    text = render_plan(gated, lang="ru")
    assert "  | KPI | Вес | Доля в деньгах | Шкала | Условия |" in text
    assert "| выплачивается, только если выполнение «Выручка» ≥ 70\u00a0% |" in text
    assert "<th>Условия</th>" in render_plan(gated, lang="ru", fmt="html")


def test_who_it_applies_to_reads_as_a_sentence(b2b: kpidsl.Ruleset) -> None:
    assert ("Положение распространяется на сотрудников, работающих по схеме «Менеджер по "
            "продажам B2B».") in render_plan(b2b, lang="ru")


def test_headings_are_kept_with_what_follows() -> None:
    css = (Path(kpidsl.__file__).parent / "docs" / "templates" / "style.css.j2").read_text()
    assert "h2 + *, h3 + * { break-before: avoid;" in css
    assert re.search(r"h2 \{[^}]*break-after: avoid", css)


# ---------------------------------------------------------------- the payslip


def test_the_payslip_has_labels_and_numbers_not_code(b2b: kpidsl.Ruleset) -> None:
    for lang in ("ru", "en"):
        text = render_statement(b2b, ivanov(b2b), lang, "md", period="2025-03")
        assert "plan of" not in text and "_rate" not in text and "revenue" not in text
    en = render_statement(b2b, ivanov(b2b), "en", "md", period="2025-03")
    assert "max(Revenue − plan for Revenue, 0) × Margin rate × Commission on margin" in en
    ru = render_statement(b2b, ivanov(b2b), "ru", "md", period="2025-03")
    assert "- Расчётный период: март 2025" in ru
    assert "за март 2025" in ru
    assert "макс(Выручка − план «Выручка»; 0) × Маржинальность × Процент с маржи" in ru


def test_the_period_is_always_shown(b2b: kpidsl.Ruleset) -> None:
    assert "- Period: month" in render_statement(b2b, ivanov(b2b), "en", "md")
    assert "- Paid for: March" in render_statement(b2b, ivanov(b2b), "en", "md", month=3)
    text = run("statement", str(SCHEME), str(FACTS), "-e", "ivanov", "--period", "2025-07")
    assert "- Paid for: July 2025" in text


def test_the_footer_says_version_date_and_a_check_code(b2b: kpidsl.Ruleset) -> None:
    result = ivanov(b2b)
    text = render_statement(b2b, result, "ru", "md", generated="2025-04-02")
    code = check_code(b2b, result)
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}", code)
    assert text.rstrip().endswith(
        f"Рассчитано программой kpidsl {kpidsl.__version__} по схеме «Менеджер по продажам "
        f"B2B», версия 2025.1, 2 апреля 2025. Код проверки {code}: он меняется при любом "
        "изменении схемы, фактов или сумм.")
    other = b2b.evaluate({**result.facts, "calls": result.facts["calls"] + 1}, employee="ivanov")
    assert check_code(b2b, other) != code


def test_the_employee_sits_on_the_payout_curve(b2b: kpidsl.Ruleset) -> None:
    html = render_statement(b2b, ivanov(b2b), "ru", "html")
    figure = html[html.index('<figure class="employee-chart">'):]
    assert figure.count('class="marker"') == 4  # one point per KPI paid through the curve
    assert "1 — Выручка (110\u00a0%); 2 — Средний чек (95\u00a0%)" in figure


# ---------------------------------------------------------------- PDF

pdf = pytest.mark.skipif(not pdf_available(), reason="WeasyPrint or Pango is not installed")


@pdf
def test_pdf_plan_and_payslip(tmp_path: Path) -> None:
    from pypdf import PdfReader

    plan, slip = tmp_path / "plan.pdf", tmp_path / "slip.pdf"
    run("doc", str(SCHEME), "--lang", "ru", "--format", "pdf", "-o", str(plan))
    run("statement", str(SCHEME), str(FACTS), "-e", "ivanov", "--lang", "ru", "--period",
        "2025-03", "--format", "pdf", "-o", str(slip))
    plan_pdf, slip_pdf = PdfReader(plan), PdfReader(slip)
    assert 2 <= len(plan_pdf.pages) <= 4  # 10 pages when the examples were in it
    text = " ".join(page.extract_text() for page in plan_pdf.pages)
    assert "Положение о премировании" in text and "Сколько вы заработаете" in text
    assert len(slip_pdf.pages) == 1  # a typical scheme's payslip is one A4 page
    slip_text = slip_pdf.pages[0].extract_text()
    assert "Расчётный период" in slip_text and "март 2025" in slip_text
    assert "119 800,00 ₽" in slip_text.replace("\u00a0", " ") and "Код" in slip_text
    box = slip_pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    fonts = {str(font) for page in slip_pdf.pages
             for font in page["/Resources"]["/Font"].values()
             for font in [font.get_object()["/BaseFont"]]}
    assert any("DejaVu" in font for font in fonts), fonts


def test_pdf_needs_an_output_file() -> None:
    result = CliRunner().invoke(main, ["doc", str(SCHEME), "--format", "pdf"])
    assert result.exit_code == 2
    assert result.stderr == "error: --format pdf writes a file: give it with -o FILE\n"


# ---------------------------------------------------------------- a real browser

browser = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium")

PROBE = """<script>
window.addEventListener("load", async () => {
  await document.fonts.ready;
  const wide = [...document.querySelectorAll("body *")].filter(
    e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible"
      || e.getBoundingClientRect().right > document.documentElement.clientWidth + 1);
  const out = {page: document.documentElement.scrollWidth <= window.innerWidth,
               wide: wide.map(e => e.tagName + "." + e.className),
               font: document.fonts.check("10pt 'DejaVu Sans'")};
  document.body.setAttribute("data-layout", JSON.stringify(out));
});
</script>"""


def chromium(*args: str, page: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             f"--user-data-dir={profile}", "--window-size=794,1123", *args, page.as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "HOME": profile})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@browser
@pytest.mark.parametrize("kind", ["plan", "statement"])
def test_html_layout_in_chromium(kind: str, tmp_path: Path, b2b: kpidsl.Ruleset) -> None:
    html = (render_plan(b2b, lang="ru", fmt="html") if kind == "plan"
            else render_statement(b2b, ivanov(b2b), "ru", "html", period="2025-03"))
    page = tmp_path / f"{kind}.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), "utf-8")
    dom = chromium("--dump-dom", "--virtual-time-budget=5000", page=page)
    layout = json.loads(re.search(r'data-layout="([^"]*)"', dom).group(1)  # type: ignore[union-attr]
                        .replace("&quot;", '"'))
    assert layout == {"page": True, "wide": [], "font": True}
    shot = tmp_path / f"{kind}.png"
    chromium(f"--screenshot={shot}", page=page)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (794, 1123) and len(data) > 20_000  # drawn, not blank
    printed = tmp_path / f"{kind}.pdf"
    chromium(f"--print-to-pdf={printed}", "--no-pdf-header-footer", page=page)
    from pypdf import PdfReader

    pages = len(PdfReader(printed).pages)
    assert pages == 1 if kind == "statement" else 2 <= pages <= 4


def test_the_readme_payslip_excerpt_is_the_real_output() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    excerpt = readme.split("An excerpt of the Markdown")[1].split("```text\n")[1].split("```")[0]
    real = run("statement", str(SCHEME), str(FACTS), "-e", "ivanov", "--lang", "ru",
               "--period", "2025-03").replace("\u00a0", " ")
    for line in excerpt.splitlines():
        assert line in real.splitlines(), line
