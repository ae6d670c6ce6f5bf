"""Parquet facts: DuckDB reads the file and hands it on as CSV text, so a Parquet file is
read by exactly the rules (and refused with exactly the diagnostics) of its CSV export.

The text goes to a temporary file in the system's temporary directory, written by DuckDB as
it reads (memory stays flat); `eval --engine duckdb` then reads that file with DuckDB again
(kpidsl/sql/native.py), and the Python engine with the Python reader. Rows are numbered as
in the CSV export: the header is row 1, the first employee row 2. DECIMAL and integer columns
are exact; a FLOAT or DOUBLE column for a fact is refused (a float is not exact money).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..facts import FactsReader

FLOATS = ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8")


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def parquet_reader(path: Path, open_csv: Callable[[Path], FactsReader]) -> FactsReader:
    """A facts reader of a Parquet file (FactsFileError when it cannot be read): its rows
    as CSV text, read by `open_csv` (the run's options), diagnostics naming `path`."""
    import duckdb

    from ..diagnostics import error
    from ..facts import FactsFileError

    con = duckdb.connect()
    source = "read_parquet(?)"
    try:
        described: list[Any] = con.execute(f"DESCRIBE SELECT * FROM {source}",
                                           [str(path)]).fetchall()
    except (duckdb.Error, OSError) as exc:
        con.close()
        made = error("KPI507", f"cannot read the Parquet file: {str(exc).splitlines()[0]}",
                     hint="check that the file is Parquet and complete")
        raise FactsFileError(dataclasses.replace(made, file=str(path))) from None
    handle, name = tempfile.mkstemp(prefix="kpidsl-parquet-", suffix=".csv")
    os.close(handle)
    text = Path(name)
    atexit.register(_remove, text)
    try:
        con.execute(f"COPY (SELECT * FROM {source}) TO '{name}' (FORMAT csv, HEADER true)",
                    [str(path)])
    finally:
        con.close()
    reader = open_csv(text)
    reader.file = str(path)
    for column, kind, *_rest in described:
        role, key = reader._target(str(column).strip())
        if role == "fact" and str(kind).upper() in FLOATS:
            raise reader._file_error(
                f"column '{column}' of the Parquet file is {kind}: a float is not exact, and "
                f"fact '{key}' is read only from exact numbers",
                hint="write the column as DECIMAL (for money DECIMAL(18, 2)) or as text")
    return reader
