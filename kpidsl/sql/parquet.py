"""Parquet facts: read by the rules (and refused with the diagnostics) of the file's CSV export.

A Parquet file opens as a facts reader of its CSV export, written by DuckDB into a
temporary file in the system's temporary directory only when the Python reader first reads
it (memory stays flat: DuckDB writes as it reads). `eval --engine duckdb` on a plain file
never needs it: kpidsl/sql/native.py scans the Parquet file itself (`read_parquet`), each
cell as the text the export would hold, and checks it by the same survey as a CSV file;
anything unusual goes to the Python reader, which then reads the export. Rows are numbered
as in the export: the header is row 1, the first employee row 2. DECIMAL and integer
columns are exact; a FLOAT or DOUBLE column for a fact is refused (a float is not exact
money).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..facts import FactsReader

FLOATS = ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8")


@dataclasses.dataclass
class ParquetSource:
    """The Parquet file behind a facts reader, and its CSV export (written on first need)."""

    path: Path  # the Parquet file
    text: Path  # the export, empty until `write`
    columns: list[tuple[str, str]]  # (name, DuckDB type) as DESCRIBE gives them
    written: bool = False

    def write(self) -> None:
        """The export, once: what the Python reader reads."""
        if self.written:
            return
        import duckdb

        con = duckdb.connect()
        try:
            con.execute(f"COPY (SELECT * FROM read_parquet(?)) TO '{_escape(self.text)}' "
                        "(FORMAT csv, HEADER true)", [str(self.path)])
        finally:
            con.close()
        self.written = True


_SOURCES: weakref.WeakKeyDictionary[Any, ParquetSource] = weakref.WeakKeyDictionary()


def parquet_source(reader: Any) -> ParquetSource | None:
    """The Parquet file a facts reader was opened on (None for any other reader)."""
    return _SOURCES.get(reader)


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def parquet_rows(path: Path) -> int | None:
    """A Parquet file's rows from its metadata (no scan); None when it cannot be read."""
    import duckdb

    con = duckdb.connect()
    try:
        found = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0]
    except (duckdb.Error, OSError):
        return None
    finally:
        con.close()
    return int(found[0])


def parquet_reader(path: Path, open_csv: Callable[[Path], FactsReader]) -> FactsReader:
    """A facts reader of a Parquet file (FactsFileError when it cannot be read): its rows
    as CSV text, read by `open_csv` (the run's options), diagnostics naming `path`."""
    import duckdb

    from ..diagnostics import error
    from ..facts import FactsFileError

    con = duckdb.connect()
    try:
        described: list[Any] = con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                           [str(path)]).fetchall()
    except (duckdb.Error, OSError) as exc:
        made = error("KPI507", f"cannot read the Parquet file: {str(exc).splitlines()[0]}",
                     hint="check that the file is Parquet and complete")
        raise FactsFileError(dataclasses.replace(made, file=str(path))) from None
    finally:
        con.close()
    handle, name = tempfile.mkstemp(prefix="kpidsl-parquet-", suffix=".csv")
    os.close(handle)
    text = Path(name)
    atexit.register(_remove, text)
    reader = open_csv(text)
    reader.file = str(path)
    source = ParquetSource(Path(path), text, [(str(c), str(k)) for c, k, *_r in described])
    _SOURCES[reader] = source
    reader.before_reading = source.write
    for column, kind in source.columns:
        role, key = reader._target(column.strip())
        if role == "fact" and kind.upper() in FLOATS:
            raise reader._file_error(
                f"column '{column}' of the Parquet file is {kind}: a float is not exact, and "
                f"fact '{key}' is read only from exact numbers",
                hint="write the column as DECIMAL (for money DECIMAL(18, 2)) or as text")
    return reader
