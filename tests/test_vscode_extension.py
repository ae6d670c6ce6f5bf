"""The VS Code extension's JavaScript, run by Node (editors/vscode/test/): activation starts
the language client on `kpidsl lsp` for .kpi documents and registers the preview command; the
preview asks the server for the plan document and refreshes on save. The `vscode` module is
a stand-in (the real one exists only inside VS Code, which cannot be downloaded here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

VSCODE = Path(__file__).resolve().parent.parent / "editors" / "vscode"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_extension_activates_under_node() -> None:
    result = subprocess.run(["node", "--test", "test/"], cwd=VSCODE, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
    assert "# pass 4" in result.stdout or "# pass 5" in result.stdout  # 5: node_modules too
