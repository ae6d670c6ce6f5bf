"""Every diagnostic code the package can emit is documented in docs/diagnostics.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_code_is_catalogued() -> None:
    used = set()
    for path in (ROOT / "kpidsl").rglob("*.py"):
        used |= set(re.findall(r"[\"'](KPI\d{3})[\"']", path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^\| (KPI\d{3}) \|", (ROOT / "docs" / "diagnostics.md")
                                .read_text(encoding="utf-8"), flags=re.M))
    assert used, "the package emits diagnostics"
    assert sorted(used - documented) == []
