"""Packaging: the wheel carries the grammar (and templates), and an installed kpidsl finds
them from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    try:
        import hatchling.build as backend  # noqa: F401
    except ImportError:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                   str(ROOT)]
    else:
        command = [sys.executable, "-c",
                   "import sys, hatchling.build as b; print(b.build_wheel(sys.argv[1]))",
                   str(out)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {completed.stderr[-500:]}")
    [built] = out.glob("*.whl")
    return built


def test_wheel_ships_the_grammar(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "kpidsl/grammars/kpi.lark" in names
    assert "kpidsl/__main__.py" in names


def test_installed_package_finds_its_grammar_from_any_directory(wheel: Path,
                                                                 tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    scheme = (ROOT / "rulesets" / "b2b_manager.kpi").resolve()
    code = (
        "import kpidsl, sys; from pathlib import Path;"
        "assert Path(kpidsl.__file__).parent.parent == Path(sys.argv[1]), kpidsl.__file__;"
        "r = kpidsl.load(sys.argv[2]).evaluate({'revenue': '3300000', 'avg_check': '142500',"
        " 'conversion': '2.1%', 'calls': 950}); print(r.total)"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    completed = subprocess.run([sys.executable, "-c", code, str(site), str(scheme)],
                               cwd=elsewhere, env=env, capture_output=True, text=True, check=False)
    assert completed.stderr == ""
    assert completed.stdout == "119800.00\n"
