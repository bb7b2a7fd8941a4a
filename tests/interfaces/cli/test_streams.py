"""Tables from streams (``-`` for standard input, a named pipe) are saved once and read as files are."""

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pandas as pd
import pytest

from .running import assert_one_line_error, run

# Ids with leading zeros, a gap, a marker: read again (field counts, markers, ids written back).
TABLE = "id,x,y\n001,1,2\n002,,3\n003,2,NA\n004,3,5\n005,8,8\n006,7,9\n007,8,7\n"
FIT = ["-k", "2", "--seed", "0", "--n-init", "1", "--stability", "0", "--missing", "ignore"]


@pytest.fixture(autouse=True)
def spool_folder(tmp_path, monkeypatch):
    """Spools go to a folder of their own (as TMPDIR sets it), checked empty after each test."""
    folder = tmp_path / "spools"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert os.listdir(folder) == []


def stdin_of(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def feed(pipe, data: bytes):
    """Write `data` to the named pipe `pipe` once, from a thread (it waits for a reader)."""
    def write():
        try:
            with open(pipe, "wb") as handle:
                handle.write(data)
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def without_timing(out):
    found = json.loads(out)
    found.pop("fit_seconds")
    return found


@pytest.fixture
def table(tmp_path):
    (tmp_path / "rows.csv").write_text(TABLE)
    return tmp_path / "rows.csv"


def test_standard_input_fits_as_the_file_does_and_is_named_stdin(capsys, monkeypatch, table):
    code, out, err = run(capsys, "fit", table, *FIT, "--id-column", "id", "--json")
    assert code == 0, err
    expected = without_timing(out)
    stdin_of(monkeypatch, TABLE.encode())
    code, out, err = run(capsys, "fit", "-", *FIT, "--id-column", "id", "--json")
    assert code == 0, err
    found = without_timing(out)
    assert found.pop("data") == "<stdin>" and expected.pop("data") == str(table)
    assert found == expected


def test_a_pipe_with_gaps_ids_and_labels_is_read_once_and_written_back(capsys, tmp_path, table):
    model, labels, pipe = tmp_path / "m.kmk", tmp_path / "labels.csv", tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    feeder = feed(pipe, TABLE.encode())
    code, out, err = run(capsys, "fit", pipe, *FIT, "--id-column", "id", "--labels", labels, "-o", model)
    feeder.join(10)
    assert code == 0, err
    assert f"{pipe}: 7 rows x 2 features" in out and "1 cell 'NA' read as missing" in out
    assert [line.split(",")[0] for line in labels.read_text().splitlines()] == ["id"] + [f"{i:03d}" for i in
                                                                                          range(1, 8)]
    code, expected, err = run(capsys, "predict", model, table, "--missing", "ignore")
    assert code == 0, err
    assert expected.splitlines()[1].startswith("001,1,2,")  # as written, ids and markers kept
    for target in (None, tmp_path / "out.csv"):
        feeder = feed(pipe, TABLE.encode())
        code, out, err = run(capsys, "predict", model, pipe, "--missing", "ignore",
                             *([] if target is None else ["-o", target]))
        feeder.join(10)
        assert code == 0, err
        assert (out if target is None else target.read_text()) == expected
        assert "kmeanskit-spool" not in out + err
    feeder = feed(pipe, TABLE.encode())
    code, out, err = run(capsys, "fit", pipe, *FIT, "--id-column", "id", "--labels", tmp_path / "labels.tsv")
    feeder.join(10)
    assert code == 0, err
    assert "(tab-separated as its name says ('pipe.csv' is comma-separated))" in out


def test_report_and_out_of_core_fit_read_a_pipe(capsys, tmp_path):
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    complete = TABLE.replace(",,", ",1,").replace("NA", "3")
    feeder = feed(pipe, complete.encode())
    code, out, err = run(capsys, "report", pipe, "-k", "2", "--seed", "0", "--no-select-k", "-o",
                         tmp_path / "r.html")
    feeder.join(10)
    assert code == 0, err
    assert f"report on {pipe}: 7 rows" in out
    feeder = feed(pipe, complete.encode())
    code, out, err = run(capsys, "fit", pipe, "-k", "2", "--seed", "0", "--out-of-core", "--id-column", "id",
                         "--labels", tmp_path / "l.csv")
    feeder.join(10)
    assert code == 0, err
    assert pd.read_csv(tmp_path / "l.csv", dtype=str)["id"].tolist() == [f"{i:03d}" for i in range(1, 8)]


@pytest.mark.parametrize("name", ["-", "pipe.csv"])
def test_errors_name_the_stream_as_given(capsys, monkeypatch, tmp_path, name):
    data = b"a,b\n1,2\n3\n4,5\n"
    if name == "-":
        stdin_of(monkeypatch, data)
        shown = "<stdin>"
    else:
        name = shown = str(tmp_path / name)
        os.mkfifo(name)
        feed(name, data)
    code, _, err = run(capsys, "fit", name, "-k", "2")
    assert code == 2
    assert_one_line_error(err, f"line 3 of '{shown}' has 1 fields but the header (line 1) has 2")
    assert "kmeanskit-spool" not in err


def test_standard_input_by_its_content(capsys, monkeypatch, tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2, 8, 9], "y": [1.0, 1, 8, 8]})
    frame.to_parquet(tmp_path / "t.parquet")
    expected = None
    for data in (b"x;y\n1;1\n2;1\n8;8\n9;8\n", gzip.compress(b"x\ty\n1\t1\n2\t1\n8\t8\n9\t8\n"),
                 (tmp_path / "t.parquet").read_bytes()):
        stdin_of(monkeypatch, data)
        code, out, err = run(capsys, "fit", "-", "-k", "2", "--seed", "0", "--json")
        assert code == 0, err
        found = json.loads(out)["clusters"]
        assert found == (expected := found if expected is None else expected)
    stdin_of(monkeypatch, b"\x28\xb5\x2f\xfd" + b"\0" * 20)
    code, _, err = run(capsys, "fit", "-", "-k", "2")
    assert_one_line_error(err, "<stdin> is compressed with Zstandard", "zstd -dc FILE | kmeanskit")
    stdin_of(monkeypatch, gzip.compress(b"x,y\n1,2\n" * 100)[:30])
    code, _, err = run(capsys, "fit", "-", "-k", "2")
    assert code == 2
    assert_one_line_error(err, "<stdin> is truncated or damaged: could not decompress it")


def test_standard_input_once_and_never_a_terminal(capsys, monkeypatch, table):
    stdin_of(monkeypatch, TABLE.encode())
    code, _, err = run(capsys, "drift", table, "-", "--reference", "-")
    assert code == 2
    assert_one_line_error(err, "standard input ('-') can be read for one table only")

    class Terminal(io.TextIOWrapper):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))
    code, _, err = run(capsys, "fit", "-", "-k", "2")
    assert code == 2
    assert_one_line_error(err, "'-' reads the table from standard input, which is a terminal here: pipe a table in")


def test_killed_while_saving_standard_input_leaves_no_output_and_its_spool_is_removed_later(tmp_path,
                                                                                           spool_folder):
    env = {**os.environ, "TMPDIR": str(spool_folder)}
    out = tmp_path / "labels.csv"
    command = [sys.executable, "-m", "kmeanskit", "fit", "-", "-k", "2", "--labels", str(out)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    process.stdin.write(b"x,y\n" + b"1,2\n" * 750_000)  # 3 MB, and standard input left open
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not os.listdir(spool_folder) or os.path.getsize(spool_folder / os.listdir(spool_folder)[0]) < 1 << 20:
        assert time.monotonic() < deadline, "standard input was not saved"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    left = os.listdir(spool_folder)
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if "kmk-tmp" in p.name] == []
    assert len(left) == 1 and left[0].startswith("kmeanskit-spool-") and left[0].endswith("-stdin.txt")
    os.utime(spool_folder / left[0], (time.time() - 60,) * 2)  # (a spool seconds old may not be locked yet)
    done = subprocess.run(command[:-2], input=b"x,y\n1,2\n5,6\n9,9\n", capture_output=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert os.listdir(spool_folder) == []  # the dead process's spool, and this one's


def test_terminated_while_saving_standard_input_removes_its_spool(spool_folder):
    env = {**os.environ, "TMPDIR": str(spool_folder)}
    process = subprocess.Popen([sys.executable, "-m", "kmeanskit", "fit", "-", "-k", "2"], stdin=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env)
    process.stdin.write(b"x,y\n" + b"1,2\n" * 750_000)
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not os.listdir(spool_folder):
        assert time.monotonic() < deadline, "standard input was not saved"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 143
    assert os.listdir(spool_folder) == []
