"""Facts files of the reference scheme (rulesets/b2b_manager.kpi) for the engines' differential
tests: the header, a writer, and hypothesis strategies for hostile rows (names a spreadsheet
must quote, cells on the rounding and display boundaries, percents in both readings), and why
the query leaves each bundled scheme to the Python evaluator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import strategies as st

import kpidsl
from kpidsl.run import FactsOptions, evaluate_files
from kpidsl.sql.native import NativeRun

HEADER = "employee,name,revenue,avg_check,conversion,calls"

# why the query does not write a bundled scheme's lines (None: it does), in every format
REASONS: dict[str, str | None] = {
    "b2b_manager": None,
    "b2b_manager_raw": None,
    "infobiz_manager": None,
    "long_cycle_b2b": None,
}



def write_facts(path: Path, rows: list[list[str]], header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def cell(value: str) -> str:
    """A cell as a spreadsheet exports it: quoted when it must be."""
    if any(c in value for c in ',"') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"),
                max_size=8)
MONEY = st.one_of(
    st.integers(0, 10**12).map(str),
    st.builds(lambda w, f: f"{w}.{f}", st.integers(0, 10**9), st.from_regex(r"[0-9]{1,6}",
                                                                           fullmatch=True)),
    # the lines' rounding boundaries (x.xx5 of a kopeck at the plan's multiples), the
    # display's ties (x.xx5, x.xxx5 %) and the curve's bounds
    st.sampled_from(["2400000", "2400000.00", "3000000", "3000000.00", "3000000.000001",
                     "2999999.999999", "3000300", "3001500", "4500000", "3113875", "2397000.50",
                     "100.005", "100.015", "0", "0.000", "1.5"]),
)
PERCENT = st.one_of(
    st.builds(lambda w, f: f"{w}.{f}%", st.integers(0, 99), st.from_regex(r"[0-9]{1,4}",
                                                                         fullmatch=True)),
    st.builds(lambda w: f"{w}%", st.integers(0, 300)),
    st.sampled_from(["0.02", "0.016", "0.0200", "1", "0", "0.0105", "0.0215", "2.005%"]),
)
# counts as a CRM exports them: zeros (÷0 takes the scheme's `otherwise`), trailing zeros
# and decimals (the quotient's ideal exponent), blanks (a missing fact fails the row)
COUNT = st.one_of(
    st.integers(0, 5000).map(str),
    st.builds(lambda w, f: f"{w}.{f}", st.integers(0, 999), st.from_regex(r"[0-9]{1,6}",
                                                                         fullmatch=True)),
    st.sampled_from(["0", "0.0", "0.000000", "1", "1.0", "2", "3", "7", "20", "22", "22.00",
                     "0.5", "0.000001", "999999999999", "1000", "999", "801", "180", "180.9",
                     "216.9", "179.1", "15", "12", ""]),
)
UNITS = {"money": MONEY, "percent": PERCENT}  # any other unit: COUNT
ROWS = st.lists(st.tuples(NAMES, MONEY, MONEY, PERCENT, st.integers(0, 5000).map(str)),
                min_size=1, max_size=30)


def random_facts(tmp_path: Path, rows: list[tuple[str, ...]], team: bool) -> Path:
    """ROWS written as a facts file, a team column cut from each name when `team`."""
    header = HEADER + (",team" if team else "")
    table = [[f"e{i}", cell(name), revenue, avg, conversion, calls]
             + ([cell(name[:3])] if team else [])
             for i, (name, revenue, avg, conversion, calls) in enumerate(rows)]
    return write_facts(tmp_path / "f.csv", table, header)


def scheme_rows(scheme: Path) -> tuple[str, st.SearchStrategy[list[list[str]]]]:
    """A bundled scheme's facts header and hostile rows for it (each fact by its unit)."""
    ruleset = kpidsl.load(scheme)
    variant = next(iter(ruleset.checked.variants.values()))
    facts = list(variant.facts)
    header = ",".join(["employee", "name", *facts, "team"])
    row = st.tuples(NAMES, *(UNITS.get(variant.facts[f].unit.value, COUNT) for f in facts))
    table = st.lists(row, min_size=1, max_size=25).map(
        lambda rows: [[f"e{i}", cell(r[0]), *r[1:], cell(r[0][:3])]
                      for i, r in enumerate(rows)])
    return header, table


@contextmanager
def native_run(scheme: Path, facts: Path) -> Iterator[tuple[kpidsl.Ruleset, NativeRun | None]]:
    """The scheme and DuckDB's run over the facts file (None when DuckDB does not read the file
    itself), closed afterwards: what the tests ask the query's plans of."""
    ruleset = kpidsl.load(scheme)
    native = evaluate_files(ruleset, [facts], FactsOptions(), engine="duckdb").native
    try:
        yield ruleset, native
    finally:
        if native is not None:
            native.close()
