"""A stream saved once to a temporary file (``_io/spool.py``), and streams refused where a file is read in passes."""

import fcntl
import os
import re
import threading
import time

import pytest

from kmeanskit import fit_out_of_core
from kmeanskit._io.spool import SPOOL_MARK, SpooledTable, is_stream, spooled


def fifo(path, data: bytes):
    """A named pipe at `path` that a thread writes `data` to, once, when it is opened to be read."""
    os.mkfifo(path)

    def write():
        with open(path, "wb") as handle:
            handle.write(data)

    threading.Thread(target=write, daemon=True).start()
    return path


def test_streams_are_told_from_files(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    os.mkfifo(tmp_path / "p.csv")
    assert is_stream("-") and is_stream(str(tmp_path / "p.csv"))
    assert not is_stream(str(tmp_path / "a.csv")) and not is_stream(str(tmp_path)) and not is_stream("nothing")


def test_a_spool_is_named_as_given_and_removed_on_an_error(tmp_path):
    pipe = fifo(tmp_path / "rows.csv", b"x,y\n1,2\n")
    folder = tmp_path / "tmp"
    folder.mkdir()
    with pytest.raises(KeyboardInterrupt), spooled(str(pipe), folder=folder) as table:
        assert isinstance(table, SpooledTable) and table.size == 8
        assert table.path.read_bytes() == b"x,y\n1,2\n" and table.path.name.endswith("-rows.csv")
        assert str(table) == str(pipe) and table.named(f"line 3 of '{table.path}'") == f"line 3 of '{pipe}'"
        raise KeyboardInterrupt
    assert os.listdir(folder) == []


def test_the_next_spool_removes_what_a_killed_one_left_not_a_live_one(tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    dead, live = (folder / f"{SPOOL_MARK}{c * 16}-stdin.txt" for c in "ab")
    for path in (dead, live):
        path.write_text("x\n")
        os.utime(path, (time.time() - 60,) * 2)
    held = os.open(live, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_SH)  # as a running command holds its spool
    pipe = fifo(tmp_path / "rows.csv", b"x\n1\n")
    try:
        with spooled(str(pipe), folder=folder) as table:
            assert sorted(os.listdir(folder)) == sorted([live.name, table.path.name])
    finally:
        os.close(held)
    assert os.listdir(folder) == [live.name]


def test_out_of_core_fit_refuses_a_pipe_without_waiting_on_it(tmp_path):
    pipe = tmp_path / "rows.csv"
    os.mkfifo(pipe)  # nobody writes to it: an open would wait
    with pytest.raises(ValueError, match=re.escape(f"'{pipe}' is not a regular file (a pipe or a device): it is "
                                                   "read once per pass; save it to a file first")):
        fit_out_of_core(pipe, 2)


def test_a_big_spool_is_said_once(tmp_path, monkeypatch):
    from kmeanskit._io import spool

    monkeypatch.setattr(spool, "BIG_SPOOL_BYTES", 4)
    said = []
    pipe = fifo(tmp_path / "rows.csv", b"x\n1\n2\n3\n")
    with spooled(str(pipe), notice=said.append, folder=tmp_path) as table:
        assert table.size == 8
    assert said == [f"{pipe} is over 0 GB: it is kept in '{tmp_path}' until the command ends (TMPDIR chooses the "
                    "folder)"]
