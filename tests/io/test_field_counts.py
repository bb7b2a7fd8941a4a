"""Every line of a text table has as many fields as its header, or the file is refused (never read shifted)."""

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from kmeanskit._interfaces.cli import main
from kmeanskit._io.chunked import TableStream
from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table, read_table

BUNDLED = Path(sklearn.__file__).parent / "datasets" / "data"


def read_in_chunks(path, layout=None, columns=None):
    stream = TableStream(path, columns, 2, np.float64, layout=layout)
    return np.vstack([chunk for _, chunk in stream.chunks()]), stream.feature_names


@pytest.fixture(params=["whole", "chunks"])
def reader(request):
    """Both readers refuse the same files with the same message."""
    if request.param == "whole":
        return lambda path, layout=None: read_table(path, layout=layout).to_numpy()
    return lambda path, layout=None: read_in_chunks(path, layout)[0]


@pytest.mark.parametrize("text, line, found, expected", [
    ("a,b,c\n1,2,3\n4,5\n6,7,8\n", 3, 2, 3),  # short: pandas pads it with a missing value
    ("a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n", 3, 4, 3),  # long in the middle
    ("a,b,c\n1,2,3,9\n4,5,6\n", 2, 4, 3),  # long first row: pandas shifts every row left
    ("a,b\n1,2,3\n4,5,6\n", 2, 3, 2),  # every row long: pandas makes the first field an index
])
def test_a_line_of_another_length_is_refused_with_its_number_and_both_counts(tmp_path, reader, text, line, found,
                                                                             expected):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"line {line} of '.*t.csv' has {found} fields but the header "
                                         f"\\(line 1\\) has {expected}"):
        reader(path)


def test_the_skip_rows_hint_only_when_the_first_line_is_the_odd_one(tmp_path):
    odd_first = tmp_path / "odd_first.csv"
    odd_first.write_text("2,3,x\n1,2,3,4\n5,6,7,8\n")
    with pytest.raises(ValueError, match=r"skip it with --skip-rows 1 \(skip_rows=1\)"):
        read_table(odd_first)
    one_long = tmp_path / "one_long.csv"
    one_long.write_text("a,b,c\n1,2,3,4\n5,6,7\n")
    with pytest.raises(ValueError) as info:
        read_table(one_long)
    assert "--skip-rows" not in str(info.value)


@pytest.mark.parametrize("name, fields, header", [("breast_cancer.csv", 31, 4), ("wine_data.csv", 14, 5)])
def test_scikit_learns_bundled_csvs_are_refused_then_read_with_skip_rows_and_no_header(reader, name, fields, header):
    path = BUNDLED / name
    with pytest.raises(ValueError, match=f"line 2 of .* has {fields} fields but the header \\(line 1\\) has {header}"
                                         ".*--skip-rows 1.*--no-header"):
        reader(path)
    values = reader(path, TextLayout(skip_rows=1, header=False))
    expected = np.loadtxt(path, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(values, expected)  # every row and column, in order


def test_a_header_of_numbers_is_data_not_a_header(reader):
    path = BUNDLED / "digits.csv.gz"  # no header line: read as one, the first image would be lost
    with pytest.raises(ValueError, match="line 1 of .* looks like data, not a header: every field is a number"):
        reader(path)
    values = reader(path, TextLayout(header=False))
    assert values.shape == (1797, 65)
    np.testing.assert_array_equal(values, np.loadtxt(path, delimiter=","))


def test_no_header_names_the_columns_in_order(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2\n3,4\n")
    frame = read_table(path, layout=TextLayout(header=False))
    assert list(frame.columns) == ["column_1", "column_2"] and frame.shape == (2, 2)
    assert read_in_chunks(path, TextLayout(header=False))[1] == ["column_1", "column_2"]


def test_gaps_in_lines_of_the_right_length_are_missing_values_not_ragged(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,,3\n4,5,6\n")
    with pytest.raises(ValueError, match="missing values"):
        read_table(path)
    values = read_in_chunks(path)[0]  # the out-of-core survey counts them (tests/estimators/test_out_of_core.py)
    assert values.shape == (2, 3) and np.isnan(values[0, 1])


def test_quoted_fields_with_separators_and_newlines_count_as_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b,note\n1,2,"x, y"\n3,4,"two\nlines"\n5,6,z\n')
    frame = read_raw_table(path)
    assert frame.shape == (3, 3)
    assert read_in_chunks(path, columns=["a", "b"])[0].shape == (3, 2)


def test_compressed_and_whitespace_files_are_checked_too(tmp_path, reader):
    gz = tmp_path / "t.csv.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write("a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(ValueError, match="line 3 of .* has 2 fields"):
        reader(gz)
    txt = tmp_path / "t.txt"
    txt.write_text("a  b  c\n1  2  3\n4  5  6  7\n")
    with pytest.raises(ValueError, match="line 3 of .* has 4 fields"):
        reader(txt)


def test_skip_rows_and_no_header_are_refused_for_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(ValueError, match="Parquet file: skipping lines, --no-header and the other options of text files .* apply to text files only"):
        read_table(path, layout=TextLayout(skip_rows=1))
    with pytest.raises(ValueError, match="Parquet file"):
        TableStream(path, None, 10, np.float64, layout=TextLayout(header=False))


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_layout_values_are_checked(value):
    with pytest.raises((ValueError, TypeError), match="skip_rows"):
        TextLayout(skip_rows=value)


def test_the_command_line_refuses_then_reads_a_bundled_csv(capsys):
    path = str(BUNDLED / "breast_cancer.csv")
    assert main(["fit", path, "-k", "2", "--seed", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has 31 fields but the header (line 1) has 4" in err
    assert main(["fit", path, "-k", "2", "--seed", "0", "--skip-rows", "1", "--no-header"]) == 0
    assert "569 rows x 31 features" in capsys.readouterr().out
    assert main(["fit", "--skip-rows", "1"]) == 2
    assert "apply to a DATA file" in capsys.readouterr().err
    assert main(["fit", path, "-k", "2", "--skip-rows", "1", "--no-header", "--out-of-core", "--seed", "0"]) == 0
    assert "569 rows x 31 features" in capsys.readouterr().out


def test_files_are_left_as_they_were(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2,3\n")
    before = (path.read_bytes(), os.stat(path).st_mtime_ns)
    with pytest.raises(ValueError):
        read_table(path)
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before
