"""Tables given as streams (standard input, a named pipe), saved once to a temporary file.

A stream can be read once, but a table is read more than once: the separator
of a ``.txt`` file is detected from its first lines, a table with gaps is read
again to tell short lines and missing-value markers from gaps, ``predict``
writes each input cell back as the file writes it, an out-of-core fit passes
over the file many times. The command line therefore saves each table argument
that is a stream, once, when it starts (:func:`spooled`): copied in blocks
(bounded memory) to a file in the folder of temporary files (``TMPDIR``), which
every reader then reads as a regular file. The file is removed when the command
ends, on an error or an interrupt too.

The file is named ``kmeanskit-spool-{random}-{name}`` and locked while its
command runs; one left by a process killed outright is removed by the next
spool (:func:`kmeanskit._io.atomic.remove_stale_files`). Messages name the
table as the user gave it (:meth:`SpooledTable.named`): its path, or ``<stdin>``.

Standard input (``-``), or a stream whose name has no suffix (``/dev/fd/63``
from a shell's ``<(...)``), is read by its content: Parquet (``PAR1``), text
compressed with gzip, bzip2 or xz (decompressed as it is saved), or else text
whose separator is detected (as a ``.txt`` file's is, unless ``--sep`` says).
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import lzma
import os
import re
import secrets
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kmeanskit._io.atomic import remove_stale_files

try:  # POSIX: a spool is locked while its command runs, so that no later spool removes it
    import fcntl
except ImportError:
    fcntl = None

__all__ = ["BIG_SPOOL_BYTES", "SPOOL_MARK", "STDIN", "STDIN_NAME", "SpooledTable", "is_stream", "spooled"]

#: The name of standard input as a table argument.
STDIN = "-"
#: How messages name standard input.
STDIN_NAME = "<stdin>"
#: The start of every spool's file name, in the folder of temporary files.
SPOOL_MARK = "kmeanskit-spool-"
#: A spool larger than this is said (where it is kept, and that TMPDIR chooses the folder).
BIG_SPOOL_BYTES = 1 << 30

_TOKEN_BYTES = 8
_SPOOL_NAME = re.compile(re.escape(SPOOL_MARK) + f"[0-9a-f]{{{2 * _TOKEN_BYTES}}}-.+", re.DOTALL)
_BLOCK = 1 << 20
# The first bytes of what a stream without a suffix may hold: (magic, suffix, how to decompress).
_PARQUET_MAGIC = b"PAR1"
_DECOMPRESS = ((b"\x1f\x8b", "gzip", gzip.GzipFile), (b"BZh", "bzip2", bz2.BZ2File),
               (b"\xfd7zXZ\x00", "xz", lzma.LZMAFile))
_REFUSED = ((b"\x28\xb5\x2f\xfd", "Zstandard", "zstd -dc FILE"), (b"PK\x03\x04", "zip", "unzip -p FILE"))


class SpooledTable(os.PathLike):
    """A table read from a stream and saved to a temporary file.

    ``os.fspath`` gives the file (for readers), ``str`` the name the user gave
    (for messages): ``<stdin>`` for standard input, else the stream's path.

    Attributes
    ----------
    name : str
    path : pathlib.Path
    size : int
        Bytes saved (after decompression).
    """

    def __init__(self, name: str, path: Path, size: int):
        self.name, self.path, self.size = name, path, size

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"SpooledTable({self.name!r}, {str(self.path)!r})"

    def named(self, text: str) -> str:
        """`text` (a message) with the temporary file named as the user named the table."""
        return text.replace(str(self.path), self.name)


def is_stream(given: str) -> bool:
    """Whether the table argument `given` is a stream: ``-`` (standard input), a named pipe or a character
    device (``/dev/stdin``); a regular file, a folder or nothing there is not."""
    if given == STDIN:
        return True
    try:
        mode = os.stat(given).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


@contextmanager
def spooled(given: str, *, notice: Callable[[str], None] | None = None,
            folder: str | os.PathLike | None = None) -> Iterator[SpooledTable]:
    """Save the stream `given` (``-`` for standard input, or a path :func:`is_stream`) to a temporary file,
    removed when the block ends.

    Parameters
    ----------
    given : str
        The table argument as the user wrote it.
    notice : callable, optional
        Called once with a sentence when the saved table passes :data:`BIG_SPOOL_BYTES`.
    folder : path-like, optional
        Where to save it; the folder of temporary files by default (``TMPDIR``).

    Yields
    ------
    SpooledTable

    Raises
    ------
    ValueError
        If standard input is a terminal (or closed), if a stream without a
        suffix is compressed in a way not read here (zip, Zstandard), or if
        the folder has no room for it.
    """
    folder = Path(tempfile.gettempdir() if folder is None else folder)
    name = STDIN_NAME if given == STDIN else str(Path(given))
    with _opened(given) as source:
        suffix, decompressed = (Path(given).suffix if given != STDIN else ""), False
        if not suffix:  # read by its content
            suffix, source, decompressed = _by_content(source, name)
        base = "stdin" if given == STDIN else Path(given).name
        remove_stale_files(folder, _SPOOL_NAME)
        path, fd = _create(folder, base if base.endswith(suffix) else base + suffix)
        try:
            with os.fdopen(fd, "wb") as target:
                if fcntl is not None:
                    fcntl.flock(target.fileno(), fcntl.LOCK_EX)
                size = _copy(source, target, name, folder, notice, decompressed)
                target.flush()
                yield SpooledTable(name, path, size)
        finally:
            _remove_quietly(path)


@contextmanager
def _opened(given):
    if given != STDIN:
        if os.path.exists(given) and stat.S_ISCHR(os.stat(given).st_mode) and _is_terminal(given):
            raise ValueError(f"'{given}' is a terminal, not a table: give a file, or pipe a table in")
        with open(given, "rb") as handle:
            yield handle
        return
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        raise ValueError("'-' reads the table from standard input, which is closed here: give a file")
    if stdin.isatty():
        raise ValueError("'-' reads the table from standard input, which is a terminal here: pipe a table in "
                         "(e.g. cat data.csv | kmeanskit fit - -k 3) or give a file")
    yield stdin.buffer


def _is_terminal(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _by_content(source, name: str):
    """The suffix a stream without one gets from its first bytes, what to copy from (the whole stream,
    decompressed or not) and whether it is decompressed."""
    head = source.read(6)
    whole = _Chained(head, source)
    if head.startswith(_PARQUET_MAGIC):
        return ".parquet", whole, False
    for magic, _, opener in _DECOMPRESS:
        if head.startswith(magic):
            return ".txt", opener(fileobj=whole), True
    for magic, kind, command in _REFUSED:
        if head.startswith(magic):
            raise ValueError(f"{name} is compressed with {kind}, which is not read from a stream: decompress it "
                             f"into the pipe (e.g. {command} | kmeanskit ...)")
    return ".txt", whole, False


class _Chained(io.RawIOBase):
    """The bytes `head` already read from `rest`, then the rest."""

    def __init__(self, head: bytes, rest):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read1(len(buffer)) if hasattr(self._rest, "read1") else self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _create(folder: Path, base: str) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        path = folder / f"{SPOOL_MARK}{secrets.token_hex(_TOKEN_BYTES)}-{base}"
        try:
            return path, os.open(path, flags, 0o600)
        except FileExistsError:
            continue


def _copy(source, target, name: str, folder: Path, notice, decompressed: bool) -> int:
    """Copy `source` to `target` in blocks; the bytes copied."""
    size, said = 0, notice is None
    try:
        while block := source.read(_BLOCK):
            target.write(block)
            size += len(block)
            if not said and size > BIG_SPOOL_BYTES:
                said = True
                notice(f"{name} is over {BIG_SPOOL_BYTES >> 30} GB: it is kept in '{folder}' until the command "
                       "ends (TMPDIR chooses the folder)")
        return size
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise ValueError(f"no room in '{folder}' to save {name} ({size} bytes read): set TMPDIR to a folder "
                             "with room, or save it to a file first") from exc
        if exc.errno is not None or not decompressed:
            raise
        damaged = exc  # a decompressor's own error (BadGzipFile, bzip2's "Invalid data stream")
    except (EOFError, lzma.LZMAError) as exc:
        damaged = exc
    raise ValueError(f"{name} is truncated or damaged: could not decompress it ({damaged})") from damaged


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
