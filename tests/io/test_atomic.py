"""The one atomic write every file of kmeanskit goes through (``kmeanskit._io.atomic``)."""

import gzip
import os
import stat
import tarfile
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io import atomic
from kmeanskit._io.atomic import TEMP_MARK, atomic_write, write_bytes
from kmeanskit._io.tables import write_table

fcntl = pytest.importorskip("fcntl")


def stale_temp(target, token="0123456789abcdef", age=3600.0):
    """A temporary file as a killed writer of ``target`` would have left it, ``age`` seconds ago."""
    temp = target.parent / f".{target.name}{TEMP_MARK}{token}"
    temp.write_bytes(b"half a file")
    then = time.time() - age
    os.utime(temp, (then, then))
    return temp


def test_writes_the_bytes_and_replaces_the_target(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "out.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    write_bytes(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["out.bin"]


@pytest.mark.parametrize("error", [ValueError("writer failed"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_the_old_file_stays_whole_and_no_temp_is_left_when_the_writer_raises(tmp_path, error):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old and whole")
    with pytest.raises(type(error)):
        with atomic_write(target) as handle:
            handle.write(b"half of the new")
            handle.flush()
            assert len(list(tmp_path.iterdir())) == 2  # the target and the temporary file beside it
            raise error
    assert target.read_bytes() == b"old and whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_write(tmp_path / "new.bin"):
            raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_file_is_created_exclusively_in_the_target_folder(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    taken = tmp_path / f".out.bin{TEMP_MARK}{'0' * 16}"
    taken.write_bytes(b"someone else's")
    tokens = ["0" * 16, "1" * 16]
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: tokens.pop(0))
    with atomic_write(target) as handle:
        handle.write(b"new")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([taken.name, f".out.bin{TEMP_MARK}{'1' * 16}"])
    assert tokens == []  # the name already taken was passed over
    assert taken.read_bytes() == b"someone else's"  # never opened, never clobbered
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask_like_a_plain_open(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_bytes(tmp_path / "atomic.bin", b"x")
        with open(tmp_path / "plain.bin", "wb") as handle:
            handle.write(b"x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "atomic.bin").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain.bin").st_mode) == 0o666 & ~mask


def test_a_stale_temp_of_the_same_target_is_removed_on_the_next_write(tmp_path):
    target = tmp_path / "model.kmk"
    stale = stale_temp(target)
    other_target = stale_temp(tmp_path / "other.kmk")
    unrelated = tmp_path / f".model.kmk{TEMP_MARK}not-ours"
    unrelated.write_bytes(b"keep")
    write_bytes(target, b"new")
    assert not stale.exists()
    assert other_target.exists() and unrelated.exists()  # only temps of ours, beside this target
    assert target.read_bytes() == b"new"


def test_a_temp_still_being_written_is_not_removed(tmp_path):
    target = tmp_path / "model.kmk"
    busy = stale_temp(target)
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as its writer holds it
        write_bytes(target, b"new")
        assert busy.exists()
    finally:
        os.close(fd)
    write_bytes(target, b"newer")  # its writer is gone now
    assert not busy.exists()


def test_a_just_created_temp_is_not_removed(tmp_path):
    # Its writer may not have locked it yet.
    target = tmp_path / "model.kmk"
    young = stale_temp(target, age=0.0)
    write_bytes(target, b"new")
    assert young.exists()


FRAME = pd.DataFrame({"a": [1.5, -2.0, 3.25], "name": ["x", "y", "z"]})


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.txt", "t.csv.gz", "t.tsv.bz2", "t.csv.xz", "t.csv.zip",
                                  "T.CSV.ZIP", "t.csv.tar", "t.csv.tar.gz", "t.parquet", "t.pq"])
def test_a_table_is_the_file_pandas_writes_to_that_name(tmp_path, name):
    (tmp_path / "ours").mkdir()
    (tmp_path / "pandas").mkdir()
    ours, theirs = tmp_path / "ours" / name, tmp_path / "pandas" / name
    write_table(FRAME, ours)
    if name.endswith(("parquet", "pq")):
        FRAME.to_parquet(theirs, index=False)
    else:
        FRAME.to_csv(theirs, index=False, sep="\t" if ".tsv" in name else ",")
    if ours.read_bytes() == theirs.read_bytes():
        return
    # Archives and gzip headers hold a time; what a reader sees must be the same.
    if name.endswith(".gz") and ".tar" not in name:
        with gzip.open(ours) as a, gzip.open(theirs) as b:
            assert a.read() == b.read()
        assert ours.read_bytes()[10:] == theirs.read_bytes()[10:]  # same name in the header
    elif ".zip" in name.lower():
        with zipfile.ZipFile(ours) as a, zipfile.ZipFile(theirs) as b:
            assert a.namelist() == b.namelist() and a.read(a.namelist()[0]) == b.read(b.namelist()[0])
    elif ".tar" in name:
        with tarfile.open(ours) as a, tarfile.open(theirs) as b:
            assert a.getnames() == b.getnames()
            assert a.extractfile(a.getnames()[0]).read() == b.extractfile(b.getnames()[0]).read()
    else:
        pytest.fail(f"{name}: the bytes differ from pandas' own file")
    assert [p.name for p in ours.parent.iterdir()] == [name]


def test_a_failed_table_write_keeps_the_old_table(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    write_table(FRAME, target)
    before = target.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_table(FRAME.assign(a=np.arange(3.0)), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
