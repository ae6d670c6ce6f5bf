"""Files kpidsl writes: complete or not at all, and never over one of its own inputs.

Every output file (``eval -o``, ``doc -o``, ``statement -o``, ``compare -o``,
``compile -o``, ``fmt`` in place) goes through :func:`output`:

- it refuses a path that is one of the run's inputs — the same file by device and inode, so
  a symlink or a hard link to the facts file is caught as well as the same name
  (``kpidsl eval S.kpi f.csv -o f.csv`` used to empty the facts file before reading it);
- it opens a temporary file beside the target *before* any work is done, so an unwritable
  path (no such folder, no permission, a read-only file, a directory) is an error before the
  evaluation starts, not after it;
- the text is written to that temporary file, flushed to disk, and renamed over the target
  only when the block ends without an exception. A failure mid-file, Ctrl-C, or a full disk
  leaves the old file (or none) — never a truncated file that looks complete. A process killed
  outright can leave only the temporary file (``.NAME.XXXXXXXX.tmp``) behind.

A target that exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a named
pipe) cannot be replaced by a rename; it is written directly. A symlink is followed: the file
it points to is replaced and the link kept. A new file gets the usual permissions (0666 less
the umask); a replaced file keeps its own.

Errors are ``OSError`` subclasses carrying the target's name, so callers that already report
``OSError`` as "error: PATH: reason" need nothing new.
"""

from __future__ import annotations

import atexit
import errno
import io
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeVar, overload

__all__ = ["OutputIsInput", "check_output", "output", "write_bytes", "write_text"]

PathLike = str | os.PathLike[str]
S = TypeVar("S")


class OutputIsInput(OSError):
    """The output path names a file the same run reads."""

    def __init__(self, target: PathLike, source: PathLike) -> None:
        same = os.fspath(source)
        reason = "this file is also an input of the command" + (
            "" if os.path.abspath(same) == os.path.abspath(os.fspath(target))
            else f" ({same})") + "; write the output to another file"
        super().__init__(errno.EEXIST, reason, os.fspath(target))


def _identity(path: PathLike) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


def _input_files(inputs: Iterable[PathLike]) -> Iterator[Path]:
    for item in inputs:
        path = Path(item)
        if os.fspath(item) == "-":
            continue
        if path.is_dir():  # a directory of scheme versions: every file in it is read
            yield from (p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def check_output(path: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """The real path to write (symlinks followed); OSError if it may not be written.

    Refuses a directory, a path that is one of `inputs` (same device and inode), and an
    existing file without write permission. Does not create anything.
    """
    target = Path(os.path.realpath(os.fspath(path)))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file name",
                                os.fspath(path))
    identity = _identity(target)
    if identity is not None:
        for source in _input_files(inputs):
            if _identity(source) == identity:
                raise OutputIsInput(path, source)
        if not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is read-only", os.fspath(path))
    return target


class _Pending:
    """A temporary file beside the target, renamed over it by commit()."""

    def __init__(self, path: PathLike, inputs: Iterable[PathLike], make_parents: bool) -> None:
        self.name = os.fspath(path)
        self.target = check_output(path, inputs)
        self.temporary: Path | None = None
        try:
            mode = os.stat(self.target).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise _named(exc, self.name) from None
        if mode is not None and not stat.S_ISREG(mode):
            self.fd = self._open(self.target, os.O_WRONLY | os.O_TRUNC)  # /dev/null, a pipe
            self.keep_mode = None
            return
        self.keep_mode = stat.S_IMODE(mode) if mode is not None else None
        if make_parents:
            try:
                self.target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _named(exc, self.name) from None
        for _attempt in range(100):
            candidate = self.target.with_name(f".{self.target.name[:200]}."
                                              f"{secrets.token_hex(4)}.tmp")
            try:
                # 0o666: the umask applies, as for any new file
                self.fd = self._open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            self.temporary = candidate
            _unfinished.add(candidate)
            return
        raise FileExistsError(errno.EEXIST, "no free temporary name beside it", self.name)

    def _open(self, path: Path, flags: int, mode: int = 0o666) -> int:
        try:
            return os.open(path, flags | getattr(os, "O_BINARY", 0), mode)
        except OSError as exc:
            raise _named(exc, self.name) from None

    def commit(self, stream: IO[bytes]) -> None:
        stream.flush()
        if self.temporary is None:
            stream.close()
            return
        os.fsync(stream.fileno())
        stream.close()
        if self.keep_mode is not None:
            os.chmod(self.temporary, self.keep_mode)
        os.replace(self.temporary, self.target)
        _unfinished.discard(self.temporary)
        self.temporary = None

    def discard(self, stream: IO[bytes]) -> None:
        with suppress(OSError):
            stream.close()
        if self.temporary is not None:
            with suppress(OSError):
                self.temporary.unlink()
            _unfinished.discard(self.temporary)
            self.temporary = None


_unfinished: set[Path] = set()  # temporary files not yet renamed or removed


@atexit.register
def _remove_unfinished() -> None:
    """A command that exits between opening its output and finishing it leaves nothing."""
    for path in list(_unfinished):
        with suppress(OSError):
            path.unlink()
    _unfinished.clear()


def _named(exc: OSError, name: str) -> OSError:
    """The same error, naming the file the user asked for (not a temporary one)."""
    return type(exc)(exc.errno, exc.strerror or str(exc), name)


@overload
def output(path: PathLike, *, inputs: Iterable[PathLike] = (), binary: Literal[False] = False,
           encoding: str = "utf-8", newline: str | None = "",
           make_parents: bool = False) -> _Output[IO[str]]: ...


@overload
def output(path: PathLike, *, inputs: Iterable[PathLike] = (), binary: Literal[True],
           encoding: str = "utf-8", newline: str | None = "",
           make_parents: bool = False) -> _Output[IO[bytes]]: ...


@overload
def output(path: PathLike, *, inputs: Iterable[PathLike] = (), binary: bool,
           encoding: str = "utf-8", newline: str | None = "",
           make_parents: bool = False) -> _Output[Any]: ...


def output(path: PathLike, *, inputs: Iterable[PathLike] = (), binary: bool = False,
           encoding: str = "utf-8", newline: str | None = "",
           make_parents: bool = False) -> _Output[Any]:
    """A file to write, checked and opened now, in place only when the `with` block succeeds.

    >>> with output("results.csv", inputs=["facts.csv"]) as stream:  # doctest: +SKIP
    ...     stream.write("employee,total\\n")

    Opening happens in this call (not at `with`), so a command can call it before any
    evaluation and fail early on a path it cannot write.
    """
    return _Output(path, inputs, binary, encoding, newline, make_parents)


class _Output(Generic[S]):
    def __init__(self, path: PathLike, inputs: Iterable[PathLike], binary: bool, encoding: str,
                 newline: str | None, make_parents: bool) -> None:
        self.pending = _Pending(path, inputs, make_parents)
        self.raw: IO[bytes] = open(self.pending.fd, "wb", closefd=True)  # noqa: SIM115
        self.stream: IO[str] | IO[bytes] = self.raw if binary else io.TextIOWrapper(
            self.raw, encoding=encoding, newline=newline, write_through=False)
        self.done = False

    @property
    def path(self) -> Path:
        """The file that will be replaced (symlinks followed)."""
        return self.pending.target

    def __enter__(self) -> S:
        return self.stream  # type: ignore[return-value]

    def __exit__(self, kind: object, _value: object, _traceback: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def commit(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.stream.flush()
            if self.stream is not self.raw:
                self.stream.detach()  # type: ignore[union-attr]
            self.pending.commit(self.raw)
        except BaseException:
            self.pending.discard(self.raw)
            raise

    def discard(self) -> None:
        """Leave the target as it was (used on any failure)."""
        if self.done:
            return
        self.done = True
        if self.stream is not self.raw:
            with suppress(OSError, ValueError):
                self.stream.close()  # flushes into the temporary file, removed next
        self.pending.discard(self.raw)

    def __del__(self) -> None:
        if not getattr(self, "done", True):  # opened, never finished: nothing lands
            self.discard()


def write_text(path: PathLike, text: str, *, inputs: Iterable[PathLike] = (),
               newline: str | None = "", make_parents: bool = False) -> None:
    """The whole text, replacing the file in one rename (or leaving it as it was)."""
    with output(path, inputs=inputs, newline=newline, make_parents=make_parents) as stream:
        stream.write(text)


def write_bytes(path: PathLike, data: bytes, *, inputs: Iterable[PathLike] = (),
                make_parents: bool = False) -> None:
    with output(path, inputs=inputs, binary=True, make_parents=make_parents) as stream:
        stream.write(data)
