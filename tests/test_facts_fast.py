"""The facts reader's fast path for clean rows reads exactly what the full rules read.

`FactsReader._clean_row` takes the common row (plain numbers, signed percents, an id not
seen before) at once and hands everything else to `_make_row`'s full reading. Whatever the
cells, a file read with the fast path must give the same rows, the same errors with the
same diagnostics, the same warnings and the same detected locale as with it turned off.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl.facts import FactRow, FactSpec, FactsReader, RowError, read_facts_text
from kpidsl.units import Unit

SPECS = {
    "revenue": FactSpec("revenue", Unit.MONEY, currency="RUB"),
    "calls": FactSpec("calls", Unit.COUNT),
    "conversion": FactSpec("conversion", Unit.PERCENT),
    "ratio": FactSpec("ratio", Unit.RATIO, required=False, default=Decimal("0.5")),
    "minutes": FactSpec("minutes", Unit.MINUTES, required=False),
}

CELLS = st.one_of(
    st.sampled_from(["142500", "3297204.59", "142.500", "1.500", "0.500", "1,5", "2.42%",
                     "1.500%", "0.500%", "142,500", "1 000,50", "", " ", "950", "950.0",
                     "950.5", "-5", "1e5", "=A1", "#N/A", "2.1", "0.021", "12%", "100%",
                     "3 300 000", "$100", "100 ₽", "00012", "0", "0.0", "7.123%",
                     "1" * 25, "1." + "1" * 25, "1" * 19 + "." + "1" * 19 + "%"]),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4})?%?", fullmatch=True),
)
IDS = st.sampled_from(["ivanov", "petrov", "Ivanov", "ivanоv", "m1", "m2", "", " m3 ",
                       "Итого", "total", "sidorov", "ｍ1"])


def _read(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch, **options: object
          ) -> tuple[list[object], list[object], str | None]:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(FactsReader, "_clean_row", lambda self, row, cells: None)
        reader = read_facts_text(text, SPECS, **options)  # type: ignore[arg-type]
        rows = list(reader)
    return rows, list(reader.warnings), reader.detected_locale


@settings(max_examples=400)
@given(rows=st.lists(st.tuples(IDS, CELLS, CELLS, CELLS, CELLS, CELLS,
                               st.sampled_from(["Ann", "", "Итого"])), min_size=1,
                     max_size=8),
       header=st.sampled_from(["employee;revenue;calls;conversion;ratio;minutes",
                               "employee;revenue;calls;conversion;ratio",
                               "employee;calls;conversion;revenue;minutes;ratio;name"]),
       options=st.sampled_from([{}, {"locale": "en"}, {"locale": "ru"},
                                {"percent": "points"}, {"percent": "fraction"},
                                {"keep_totals": True}]))
def test_fast_path_reads_what_the_full_rules_read(rows: list[tuple[str, ...]], header: str,
                                                 options: dict[str, object]) -> None:
    width = header.count(";") + 1
    text = header + "\n" + "".join(";".join(r[:width]) + "\n" for r in rows)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = _read(text, True, monkeypatch, **options)
        full = _read(text, False, monkeypatch, **options)
    assert fast == full


def test_clean_rows_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clean file of the benchmarks is read by `_clean_row` from its second row on (the
    first row settles each column's reading by the full rules)."""
    taken: list[int] = []
    original = FactsReader._clean_row

    def counting(self: FactsReader, row: int, cells: list[object]) -> FactRow | None:
        made = original(self, row, cells)
        if made is not None:
            taken.append(row)
        return made

    monkeypatch.setattr(FactsReader, "_clean_row", counting)
    text = ("employee,revenue,calls,conversion,ratio,minutes\n"
            + "".join(f"m{i},3297204.59,950,2.42%,0.85,90\n" for i in range(5)))
    rows = list(read_facts_text(text, SPECS))
    assert taken == [3, 4, 5, 6]
    assert all(isinstance(r, FactRow) for r in rows)
    assert rows[-1].values == {"revenue": Decimal("3297204.59"), "calls": Decimal(950),
                               "conversion": Decimal("0.0242"), "ratio": Decimal("0.85"),
                               "minutes": Decimal(90)}


def test_a_duplicate_after_clean_rows_is_still_kpi504() -> None:
    text = "employee,revenue,calls,conversion\nm1,1,2,3%\nm2,1,2,3%\nM1,1,2,3%\n"
    rows = list(read_facts_text(text, {k: SPECS[k] for k in ("revenue", "calls",
                                                             "conversion")}))
    assert isinstance(rows[2], RowError)
    assert rows[2].diagnostic.code == "KPI504"
    assert "already appears on row 2 as 'm1'" in rows[2].diagnostic.message
