"""Input faults in tables are the user's to fix: exit 2 and one short line, never an internal error.

Each fault goes through the three ways a table is read: ``read_table`` (the
in-memory path), ``TableStream`` (the out-of-core path, chunk by chunk) and
the command line, which must exit with 2 and print one line of bounded
length. None of these cases reaches a kernel: they are refused while reading.
"""

import bz2
import gzip
import io
import lzma
import zipfile

import numpy as np
import pytest

from kmeanskit._io.chunked import TableStream
from kmeanskit._io.tables import read_table
from kmeanskit.cli import main

# "kmeanskit: error: " and at most 500 characters of message.
_MAX_LINE = len("kmeanskit: error: ") + 500

_BODY = "a,b\n" + "".join(f"{i},{2 * i}\n" for i in range(3000))


def _stream(path, chunk_rows=1000):
    return np.vstack([chunk for _, chunk in TableStream(path, None, chunk_rows, np.float64).chunks()])


def _refused_by_cli(capsys, path, *options):
    """Run ``kmeanskit fit path [options]``; check exit 2 and one bounded line; return the line."""
    code = main(["fit", str(path), "-k", "2", *options])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("kmeanskit: error: ")
    assert len(err) - 1 <= _MAX_LINE
    return err


# -- integers beyond int64 ------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1" + "0" * 30, "-1" + "0" * 30, "18446744073709551616"])
def test_integers_beyond_int64_are_read_as_pandas_reads_floats(tmp_path, value):
    path = tmp_path / "wide.csv"
    path.write_text(f"a,b\n1,2\n{value},3\n")
    got = read_table(path)
    assert got["a"].dtype == np.float64 and got["b"].dtype == np.int64
    np.testing.assert_array_equal(got["a"], [1.0, float(value)])
    np.testing.assert_array_equal(_stream(path), [[1.0, 2.0], [float(value), 3.0]])


def test_integers_beyond_int64_with_gaps_are_missing_values(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("a,b\n1,2\n,3\n" + "1" + "0" * 30 + ",4\n")
    with pytest.raises(ValueError, match=r"missing values in 1 of 2 columns: 'a' \(1 missing\)"):
        read_table(path)


def test_stream_reads_wide_integers_found_after_the_first_chunks(tmp_path):
    # The overflow shows in the third chunk of the first pass: the pass goes
    # on from there, and a second pass reads the same values.
    rows = [f"{i},{i}" for i in range(7)] + ["1" + "0" * 25 + ",7"]
    path = tmp_path / "late.csv"
    path.write_text("a,b\n" + "\n".join(rows) + "\n")
    stream = TableStream(path, None, 3, np.float64)
    first = [(start, chunk.copy()) for start, chunk in stream.chunks()]
    second = list(stream.chunks())
    assert [start for start, _ in first] == [0, 3, 6]
    assert [len(chunk) for _, chunk in first] == [3, 3, 2]
    for (_, a), (_, b) in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.vstack([c for _, c in first]), read_table(path).to_numpy(dtype=np.float64))


@pytest.mark.parametrize("digits", [400, 4000])
def test_integers_beyond_float64_are_refused_by_column(tmp_path, capsys, digits):
    path = tmp_path / "huge.csv"
    path.write_text(f"a,b\n1,2\n3,{'9' * digits}\n")
    message = r"integers beyond the float64 range .* in column 'b', e\.g\. 9{17}\.\.\. \(" + str(digits) + " digits\\)"
    with pytest.raises(ValueError, match=message):
        read_table(path)
    with pytest.raises(ValueError, match=message):
        _stream(path)
    assert "column 'b'" in _refused_by_cli(capsys, path)


# -- truncated and damaged archives ---------------------------------------------------------------

def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("table.csv", data)
    return buffer.getvalue()


_COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress, ".zip": _zip}


def _zstd(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("suffix", [*_COMPRESSORS, ".zst"])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_truncated_or_damaged_archives_are_named(tmp_path, capsys, suffix, damage):
    compress = _zstd if suffix == ".zst" else _COMPRESSORS[suffix]
    packed = compress(_BODY.encode())
    data = packed[: len(packed) // 2] if damage == "truncated" else packed[:4] + b"\x00garbage" * 64
    path = tmp_path / f"table.csv{suffix}"
    path.write_bytes(data)
    message = f"'{path}' is truncated or damaged"
    with pytest.raises(ValueError, match=message):
        read_table(path)
    with pytest.raises(ValueError, match=message):
        _stream(path)
    assert message in _refused_by_cli(capsys, path)


# -- missing files and broken links ---------------------------------------------------------------

def test_a_broken_link_is_named_with_its_target(tmp_path, capsys):
    link = tmp_path / "data.csv"
    link.symlink_to(tmp_path / "gone.csv")
    message = f"'{link}' is a link to '{tmp_path / 'gone.csv'}', which does not exist"
    with pytest.raises(FileNotFoundError, match=message):
        read_table(link)
    with pytest.raises(FileNotFoundError, match=message):
        TableStream(link, None, 10, np.float64)
    assert message in _refused_by_cli(capsys, link)


def test_a_missing_file_is_still_no_such_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: '.*nowhere.csv'"):
        read_table(tmp_path / "nowhere.csv")


# -- huge lines: messages stay short --------------------------------------------------------------

def test_a_header_of_one_huge_number_is_quoted_in_short(tmp_path, capsys):
    path = tmp_path / "line.csv"
    path.write_text("1" * 1_000_000 + ",2\n3,4\n")
    with pytest.raises(ValueError, match=r"looks like data.*\('1{57}\.\.\.', '2'\)") as info:
        read_table(path)
    assert len(str(info.value)) < 500
    _refused_by_cli(capsys, path)


def test_a_huge_text_value_is_quoted_in_short(tmp_path):
    path = tmp_path / "text.csv"
    path.write_text("a,b\n" + "x" * 1_000_000 + ",1\n")
    with pytest.raises(ValueError, match=r"non-numeric column: 'a' \(.*, e\.g\. 'x{57}\.\.\.'\)") as info:
        read_table(path)
    assert len(str(info.value)) < 500


def test_many_columns_make_one_capped_line_on_the_command_line(tmp_path, capsys):
    # 5,000 text columns with long names: the message lists 20 of them, and
    # the command line cuts it to 500 characters.
    names = [f"column_with_a_rather_long_name_{i:05d}" for i in range(5000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("text" for _ in names) + "\n")
    with pytest.raises(ValueError, match="and 4980 more"):
        read_table(path)
    err = _refused_by_cli(capsys, path)
    assert len(err) - 1 == _MAX_LINE and err.rstrip("\n").endswith("...")


def test_a_parse_error_quotes_a_short_excerpt(tmp_path, capsys):
    # An unclosed quote makes the C parser fail; its message is cut.
    path = tmp_path / "quote.csv"
    path.write_text('a,b\n1,"' + "y" * 1_000_000 + "\n")
    with pytest.raises(ValueError) as info:
        read_table(path)
    assert len(str(info.value)) < 500
    _refused_by_cli(capsys, path)


# -- reading options and column roles ---------------------------------------------------------------

def _fit(capsys, *args):
    code = main(["fit", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_amount_beyond_the_float_range_is_refused_as_infinite(tmp_path, capsys):
    path = tmp_path / "amounts.csv"
    path.write_text("amount,b\n" + "".join(f'"${i:,}.50",{i}\n' for i in range(1000, 1010)) + f'"${"9" * 400}",1\n')
    code, out, err = _fit(capsys, path, "-k", 2, "--thousands", ",")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "has infinite values: 'amount' (1 infinite)" in err


def test_binary_bytes_read_as_latin_1_are_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 400)
    code, out, err = _fit(capsys, path, "-k", 2, "--encoding", "latin-1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and len(err) - 1 <= _MAX_LINE


def test_a_huge_column_name_is_said_in_short_in_the_roles(tmp_path, capsys):
    path = tmp_path / "names.csv"
    name = "n" * 1_000_000
    path.write_text(f"{name},b\n" + "".join(f"t{i},{i % 7}\n" for i in range(50)))
    code, out, err = _fit(capsys, path, "-k", 2, "--seed", 0)
    assert code == 0, err
    roles = out.split("\n\n")[1].splitlines()
    assert roles[1].startswith("  " + "n" * 57 + "...  identifier  unique per row")
    assert max(map(len, out.splitlines())) < 200


@pytest.mark.parametrize("first", [True, False], ids=["first row", "last row"])
def test_integers_past_pythons_digit_limit_are_said_to_be_beyond_float64(tmp_path, capsys, first):
    # 5,000 digits: past Python's 4,300-digit limit for int(), where pandas leaves the column as text.
    huge = "9" * 5000
    path = tmp_path / "huge.csv"
    path.write_text(f"a,b\n1,{huge}\n2,3\n" if first else f"a,b\n1,3\n2,{huge}\n")
    code = main(["fit", str(path), "-k", "2", "--seed", "0"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    assert "b  text     numbers beyond the range of float64 (e.g. '99999999999999999...', 5000 characters)" in out
    assert "column 'b'" in _refused_by_cli(capsys, path, "--columns", "a,b")


def test_zstandard_files_without_the_package_say_what_to_install(tmp_path, capsys, monkeypatch):
    path = tmp_path / "table.csv.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 16)  # a Zstandard frame's magic number
    monkeypatch.setitem(__import__("sys").modules, "zstandard", None)  # as if not installed
    for args in ([], ["--out-of-core"]):
        code = main(["fit", str(path), "-k", "2", *args])
        _, err = capsys.readouterr()
        assert code == 2
        assert err.strip() == (f"kmeanskit: error: '{path}' is compressed with Zstandard (.zst), which needs the "
                               "zstandard package: pip install zstandard (or decompress the file first)")
