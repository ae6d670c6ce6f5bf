"""Statements with a ledger (`kpidsl statement ... --ledger pay.db --period 2025-03`): the
lines a period with memory adds, each clawback beside the line it reverses, the balances
carried in and out; golden files in both languages and every format.

The scheme of tests/fixtures/ledger/annual pays a year to date monthly, on a recoverable
draw, with clawbacks: January earns 4 000 (draw +1 000, owed 1 000); February 10 000 year to
date with a deal paid 100.00 (6 100 due, 1 000 recovered); March 9 000 year to date (below
what was paid: −1 000 carried) and the deal reversed (−100.00 at 2 000 × 5 %), topped up to
the draw (+5 100, owed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kpidsl.cli import main
from kpidsl.cli.common import OK, USAGE
from kpidsl.docs.pdf import available as pdf_available

ROOT = Path(__file__).resolve().parent.parent
ANNUAL = ROOT / "tests" / "fixtures" / "ledger" / "annual"


def run(args: list[object], code: int) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three months closed in a ledger (a copy of the fixture directory)."""
    where = tmp_path_factory.mktemp("annual")
    for path in ANNUAL.iterdir():
        shutil.copy(path, where / path.name)
    db, scheme = where / "pay.db", where / "annual.kpi"
    run(["close", scheme, where / "jan.csv", "--period", "2025-01", "--ledger", db], OK)
    run(["close", scheme, where / "feb.csv", "--period", "2025-02", "--ledger", db, "--deals",
         where / "feb-deals.csv"], OK)
    run(["close", scheme, where / "mar.csv", "--period", "2025-03", "--ledger", db,
         "--reversals", where / "mar-rev.csv"], OK)
    return where


def statement(where: Path, *options: object, code: int = OK) -> Result:
    return run(["statement", where / "annual.kpi", where / "mar.csv", "-e", "ivanov",
                "--period", "2025-03", "--ledger", where / "pay.db", *options], code)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_statement_with_the_ledger_golden(closed: Path, golden: object, lang: str,
                                          fmt: str) -> None:
    text = statement(closed, "--lang", lang, "--format", fmt).stdout
    golden.check(f"docs/annual.statement.ledger.ivanov.{lang}.{fmt}", text)  # type: ignore


def test_the_statement_shows_balances_and_the_clawback_with_its_line(closed: Path) -> None:
    text = statement(closed).stdout
    ledger = text.split("as closed in the ledger:")[1]
    rows = [line.replace("\xa0", " ") for line in ledger.splitlines() if line.startswith("| ")]
    assert rows[-6:] == [
        "| Paid in | Deal | Line paid | Credit | Rate | Taken back |",
        "| 2025-02 | D-1 | RUB 100.00 | RUB 2,000.00 | 5% | RUB 100.00 |",
        "| Balance | Carried in | Carried out |",
        "| draw owed | RUB 0.00 | RUB 5,100.00 |",
        "| counted as paid this year | RUB 10,000.00 | RUB 10,000.00 |",
        "| year to date earned − paid | RUB 0.00 | -RUB 1,000.00 |"]
    # 9 000 earned − 10 000 paid before + 1 000 carried − 100 clawed back + 5 100 draw
    assert "| **Paid for the period** | **RUB\xa05,000.00** |" in ledger


@pytest.mark.skipif(not pdf_available(), reason="WeasyPrint or Pango is not installed")
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_statement_with_the_ledger_pdf_golden(closed: Path, golden: object, lang: str,
                                              tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "slip.pdf"
    statement(closed, "--lang", lang, "--format", "pdf", "-o", out)
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    golden.check(f"docs/annual.statement.ledger.ivanov.{lang}.pdf", text)  # type: ignore


def test_a_statement_needs_the_period_closed_as_the_facts_say(closed: Path,
                                                              tmp_path: Path) -> None:
    scheme, db = closed / "annual.kpi", closed / "pay.db"
    err = run(["statement", scheme, closed / "mar.csv", "-e", "ivanov", "--ledger", db],
              USAGE).stderr
    assert err == "error: --ledger shows a closed period: give it with --period YYYY-MM\n"
    err = run(["statement", scheme, closed / "mar.csv", "-e", "ivanov", "--period", "2025-04",
               "--ledger", db], USAGE).stderr
    assert err.splitlines()[0] == f"{db}: error KPI661: 2025-04 is not closed in the ledger {db}"
    other = tmp_path / "mar.csv"
    other.write_text("employee,revenue\nivanov,95000\n", encoding="utf-8")
    err = run(["statement", scheme, other, "-e", "ivanov", "--period", "2025-03", "--ledger",
               db, "--lang", "ru"], USAGE).stderr
    assert err.splitlines()[0] == (f"{db}: ошибка KPI661: по фактам commission = 9500.00, а "
                                   f"период 2025-03 закрыт в {db} с суммой 9000.00")
