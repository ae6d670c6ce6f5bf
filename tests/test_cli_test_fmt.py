"""`kpidsl test` and `kpidsl fmt` through click's CliRunner, each with its exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kpidsl.cli import main
from kpidsl.cli.common import FINDINGS, OK, USAGE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(args: list[str], code: int, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


# ---------------------------------------------------------------- test


def test_bundled_examples_pass() -> None:
    result = run(["test", "rulesets/"], OK)
    last = result.stdout.splitlines()[-1]
    assert last.endswith(" passed, 0 failed")
    assert int(last.split()[0]) >= 7
    assert "rulesets/b2b_manager.kpi: 8 passed\n" in result.stdout


def test_a_failing_example_shows_expected_actual_line_and_calculation(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["test", "tests/fixtures/cli/failing.kpi", "--lang", "ru"], FINDINGS)
    assert result.stdout.splitlines()[-1] == "пройдено: 1, не пройдено: 1"
    assert ("tests/fixtures/cli/failing.kpi:19:10: bonus за revenue: ожидалось 26\u00a0300, "
            "получено 26\u00a0400 (+100)") in result.stdout
    assert "      Выручка: 110 % > 100 %, коэффициент 1,2: 20 000 × 1,1 × 1,2 = 26 400" \
        in result.stdout
    golden.check("cli/test_failing", result.stdout)


def test_a_scheme_that_does_not_compile_fails() -> None:
    result = run(["test", "tests/fixtures/cli/broken.kpi"], FINDINGS)
    assert "tests/fixtures/cli/broken.kpi: does not compile" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed"


def test_boundary_coverage_table(golden) -> None:  # type: ignore[no-untyped-def]
    result = run(["test", "--coverage", "rulesets/b2b_manager.kpi"], OK)
    golden.check("cli/test_coverage", result.stdout)


def test_min_coverage_fails_below_the_threshold(tmp_path: Path) -> None:
    text = (ROOT / "rulesets" / "b2b_manager.kpi").read_text(encoding="utf-8")
    partial = tmp_path / "b2b_manager.kpi"  # without the examples just above 80 % and below 100 %
    partial.write_text(text[: text.index("example just_above_cut_off")], encoding="utf-8")
    result = run(["test", "--min-coverage", "80", str(partial)], FINDINGS)
    assert (f"{partial}: boundary coverage 66.7 % is below the minimum 80 %"
            in result.stdout)
    assert result.stdout.splitlines()[-1] == "5 passed, 0 failed"
    run(["test", "--min-coverage", "60", str(partial)], OK)
    run(["test", "--min-coverage", "100", "rulesets"], OK)


def test_verbose_names_every_example() -> None:
    result = run(["test", "-v", "rulesets/b2b_manager.kpi"], OK)
    assert "  ok     ivanov\n" in result.stdout


# ---------------------------------------------------------------- fmt


def _copy(tmp_path: Path, name: str = "rulesets/b2b_manager.kpi") -> Path:
    """A bundled scheme with its layout undone (every line flush left)."""
    target = tmp_path / Path(name).name
    text = (ROOT / name).read_text(encoding="utf-8")
    target.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n",
                      encoding="utf-8")
    return target


def test_bundled_schemes_are_in_canonical_layout() -> None:
    run(["fmt", "--check", str(ROOT / "rulesets")], OK)


def test_fmt_rewrites_then_check_passes(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    run(["fmt", "--check", str(path)], FINDINGS)
    result = run(["fmt", str(path)], OK)
    assert result.stderr == f"reformatted {path}\n"
    run(["fmt", "--check", str(path)], OK)
    again = run(["fmt", str(path)], OK)
    assert again.stderr == ""


def test_fmt_diff_changes_nothing(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = path.read_text(encoding="utf-8")
    result = run(["fmt", "--diff", str(path)], FINDINGS)
    assert result.stdout.startswith(f"--- {path}\n+++ {path} (formatted)\n")
    assert path.read_text(encoding="utf-8") == before


def test_fmt_stdin_to_stdout() -> None:
    result = run(["fmt", "-"], OK, stdin="scheme s\nfact revenue money\n")
    assert result.stdout == "scheme s\n\nfact revenue money\n"


def test_fmt_refuses_a_file_that_does_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "bad.kpi"
    path.write_text("scheme s\nfact revenue money 'Revenue'\n", encoding="utf-8")
    result = run(["fmt", str(path)], USAGE)
    assert "error KPI002" in result.stderr
    assert path.read_text(encoding="utf-8") == "scheme s\nfact revenue money 'Revenue'\n"
