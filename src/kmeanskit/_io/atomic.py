"""Atomic file writes: a reader of the target sees the old file or the new one, never a part.

Every file kmeanskit writes (model files, reports, quantized images, tables
and labels from the command line) goes through :func:`atomic_write`:

1. a temporary file named ``.{target}.kmk-tmp-{random}`` is created in the
   target's folder (so that the final rename stays on one file system) with
   ``O_EXCL``, which never follows or clobbers anything already there, and
   mode ``0o666`` filtered by the umask, the permissions a plain ``open()``
   gives a new file;
2. the caller writes to it; it is flushed and ``fsync``'d;
3. it is renamed over the target (:func:`os.replace`, atomic on POSIX and
   Windows), and the folder is ``fsync``'d so that the rename survives a
   power loss.

If anything fails before the rename, KeyboardInterrupt included, the
temporary file is removed and the target is left as it was. A process killed
outright leaves its temporary file behind: the next write to the same target
removes it, unless another process is still writing it (it holds a lock on
its temporary file while it writes).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

try:  # POSIX: a writer locks its temporary file, so that no cleaner removes it
    import fcntl
except ImportError:  # Windows refuses to remove a file that is open
    fcntl = None

__all__ = ["TEMP_MARK", "atomic_write", "remove_stale_files", "write_bytes"]

#: What every temporary file of ours has in its name, after ``.{target}``.
TEMP_MARK = ".kmk-tmp-"
_TOKEN_BYTES = 8
# A temporary file this recent may belong to a writer that has created it but
# not yet locked it: leave it for a later write to remove.
_STALE_AFTER_SECONDS = 10.0


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file for writing that replaces `path` once the block ends.

    Parameters
    ----------
    path : str or os.PathLike
        The target (a symbolic link: the file it points to). Its folder must exist. It is replaced only when the
        ``with`` block ends without an exception; until then it stays
        exactly as it was.

    Yields
    ------
    handle : binary file object
        The temporary file, open for writing. Do not close it: the block
        flushes, syncs and closes it.

    Examples
    --------
    >>> from kmeanskit._io.atomic import atomic_write
    >>> with atomic_write("model.bin") as handle:  # doctest: +SKIP
    ...     handle.write(b"...")
    """
    # A link is followed, as a shell redirection would: the file it points to
    # is replaced and the link stays.
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    folder = target.parent
    _remove_stale_temps(folder, target.name)
    fd, temp = _create_temp(folder, target.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_folder(folder)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (see :func:`atomic_write`)."""
    with atomic_write(path) as handle:
        handle.write(data)


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp = folder / f".{name}{TEMP_MARK}{secrets.token_hex(_TOKEN_BYTES)}"
        try:
            # 0o666: the umask applies, as to a file opened with open().
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:  # 2**-64 odds; never reuse a name someone holds
            continue


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Remove temporary files of earlier writes to ``folder/name`` whose writer is gone."""
    remove_stale_files(folder, re.compile(re.escape(f".{name}{TEMP_MARK}") + f"[0-9a-f]{{{2 * _TOKEN_BYTES}}}"))


def remove_stale_files(folder: Path, pattern: re.Pattern) -> None:
    """Remove the files of `folder` whose whole name matches `pattern` and that no live process holds
    (locks) and that are older than a few seconds: what a process killed outright left behind."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat().st_mtime < _STALE_AFTER_SECONDS:
                continue
            _remove_if_unlocked(Path(entry.path))
        except OSError:
            continue  # gone meanwhile, or not ours to remove: never a reason to fail the write


def _remove_if_unlocked(temp: Path) -> None:
    if fcntl is None:
        os.unlink(temp)
        return
    fd = os.open(temp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError while its writer runs
        os.unlink(temp)
    finally:
        os.close(fd)


def _remove_quietly(temp: Path) -> None:
    try:
        os.unlink(temp)
    except FileNotFoundError:
        pass


def _fsync_folder(folder: Path) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
