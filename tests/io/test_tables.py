"""kmeanskit._io.tables: reading feature tables from CSV and Parquet, and refusing bad ones."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table, read_table, select_features


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "height": [1.5, 1.7, 1.8, 1.6],
            "weight": [50, 70, 80, 60],
            "name": ["ann", "bob", "cy", "di"],
        }
    )


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "suffix, sep", [(".csv", ","), (".tsv", "\t"), (".txt", ";"), (".txt", "\t")]
)
def test_delimited_files_read_with_selected_columns(tmp_path, frame, suffix, sep):
    path = tmp_path / f"people{suffix}"
    frame.to_csv(path, sep=sep, index=False)
    got = read_table(path, columns=["weight", "height"])
    assert list(got.columns) == ["weight", "height"]  # the order asked for
    np.testing.assert_array_equal(got["weight"], [50, 70, 80, 60])
    np.testing.assert_allclose(got["height"], [1.5, 1.7, 1.8, 1.6])
    assert got["weight"].dtype == np.int64 and got["height"].dtype == np.float64


def test_whitespace_separated_txt(tmp_path):
    path = tmp_path / "points.txt"
    path.write_text("x y\n1.0  2.0\n3.0 4.0\n")
    got = read_table(path)
    np.testing.assert_allclose(got.to_numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_single_column_txt(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("x\n1\n2\n3\n")
    assert read_table(path)["x"].tolist() == [1, 2, 3]


def test_compressed_csv(tmp_path, frame):
    path = tmp_path / "people.csv.gz"
    frame[["height", "weight"]].to_csv(path, index=False)
    assert read_table(path).shape == (4, 2)


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_keeps_dtypes_and_drops_the_pandas_index(tmp_path, frame, suffix):
    frame = frame.assign(small=np.float32([1, 2, 3, 4]))
    frame.index = [10, 11, 12, 13]  # stored as a column by pandas; not a feature
    path = tmp_path / f"people{suffix}"
    frame.to_parquet(path)
    got = read_table(path, columns=["height", "small"])
    assert list(got.columns) == ["height", "small"]
    assert got["small"].dtype == np.float32  # float32 stays float32
    assert list(got.index) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="'name'"):
        read_table(path)  # all columns: the text one is refused, the index is not listed


def test_parquet_directory_of_parts(tmp_path, frame):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "people.parquet"
    table = pa.Table.from_pandas(frame[["height", "weight"]], preserve_index=False)
    pq.write_to_dataset(table, path)
    pq.write_to_dataset(table, path)  # a second part file
    got = read_table(path)
    assert got.shape == (8, 2)
    assert sorted(got["weight"]) == sorted([50, 70, 80, 60] * 2)


def test_first_rows_are_the_rows_of_the_whole_read(tmp_path, frame):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv, parquet, parts = tmp_path / "p.csv", tmp_path / "p.parquet", tmp_path / "parts.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), parts, partition_cols=["name"])
    for path in (csv, parquet, parts):
        whole = read_raw_table(path)
        head = read_raw_table(path, n_rows=3)
        pd.testing.assert_frame_equal(head, whole.head(3))
        assert list(read_raw_table(path, ["weight", "height"], n_rows=2).columns) == ["weight", "height"]
    # A partitioned directory: its partition column is read, in the first rows too (as pyarrow reads it).
    assert list(read_raw_table(parts, n_rows=1).columns) == list(pq.read_table(parts).column_names)


def test_text_options_are_refused_for_parquet_first_rows_too(tmp_path, frame):
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(ValueError, match="is a Parquet file: skipping lines, --no-header"):
        read_raw_table(path, layout=TextLayout(skip_rows=1), n_rows=10)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"n_rows must be None or a positive integer, got {bad!r}"):
            read_raw_table(path, n_rows=bad)


def test_csv_path_that_is_a_directory(tmp_path):
    (tmp_path / "data.csv").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        read_table(tmp_path / "data.csv")


def test_parquet_nullable_and_decimal_types_become_numpy(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "typed.parquet"
    table = pa.table(
        {
            "count": pa.array([1, 2, 3], pa.int32()),
            "price": pa.array(
                [decimal.Decimal("1.25"), decimal.Decimal("2.50"), decimal.Decimal("4.00")]
            ),
        }
    )
    pq.write_table(table, path)
    got = read_table(path)
    assert got["count"].dtype == np.int32
    assert got["price"].dtype == np.float64
    np.testing.assert_allclose(got["price"], [1.25, 2.5, 4.0])


def test_booleans_are_zero_one_features(tmp_path):
    path = tmp_path / "flags.csv"
    path.write_text("member,spend\nTrue,10\nFalse,20\nTrue,30\n")
    got = read_table(path)
    assert got["member"].dtype == np.float64
    assert got["member"].tolist() == [1.0, 0.0, 1.0]


def test_non_numeric_columns_are_refused_by_name(tmp_path, frame):
    path = tmp_path / "people.csv"
    frame.assign(city=["a", "b", "c", "d"]).to_csv(path, index=False)
    with pytest.raises(ValueError) as info:
        read_table(path)
    message = str(info.value)
    assert "'name'" in message and "'city'" in message and "--columns" in message
    assert "'height'" not in message  # numeric columns are not blamed
    # Selecting a text column explicitly is refused too, never dropped.
    with pytest.raises(ValueError, match="non-numeric column: 'name'"):
        read_table(path, columns=["height", "name"])


def test_dates_are_refused(tmp_path):
    path = tmp_path / "dated.parquet"
    pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-02-01"]), "x": [1, 2]}).to_parquet(
        path
    )
    with pytest.raises(ValueError, match=r"'when' \(date/time"):
        read_table(path)


def test_unknown_column_lists_available_ones(tmp_path, frame):
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError) as info:
        read_table(path, columns=["height", "age"])
    message = str(info.value)
    assert "unknown column 'age'" in message
    assert "available columns: 'height', 'weight', 'name'" in message


def test_unknown_column_in_parquet(tmp_path, frame):
    path = tmp_path / "people.parquet"
    frame.to_parquet(path)
    with pytest.raises(ValueError, match=r"unknown column 'age'.*'height', 'weight', 'name'"):
        read_table(path, columns=["age"])


@pytest.mark.parametrize(
    "columns, match",
    [([], "no columns selected"), (["height", "height"], "more than once: 'height'")],
)
def test_bad_selections(tmp_path, frame, columns, match):
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        read_table(path, columns=columns)


def test_a_string_is_not_a_column_list(frame):
    with pytest.raises(TypeError, match="list of column names"):
        select_features(frame, "height")


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        read_table(path)


@pytest.mark.parametrize("name", ["data.xlsx", "data", "data.json"])
def test_unknown_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"unsupported file extension.*\.csv.*\.parquet"):
        read_table(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv' is empty"):
        read_table(path)


def test_header_only_means_no_rows(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match="has no rows"):
        read_table(path)


def test_no_columns_in_memory():
    with pytest.raises(ValueError, match="has no columns"):
        select_features(pd.DataFrame(index=range(3)))


def test_missing_values_are_counted_per_column(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,c\n1,,x\n2,5,\nNA,6,z\n,7,w\n")
    with pytest.raises(ValueError) as info:
        read_table(path, columns=["a", "b"])
    message = str(info.value)
    assert "missing values in 2 of 2 columns" in message
    # One of a's two is the marker NA (the other an empty cell): named, with the option that chooses markers.
    assert "'a' (2 missing; 1 cell 'NA' read as missing)" in message and "'b' (1 missing)" in message
    assert "(--na-values chooses which text is read as missing)" in message


def test_missing_integer_and_boolean_values_are_missing_not_text(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("n,flag\n1,True\n,False\n3,\n")
    with pytest.raises(ValueError, match=r"'n' \(1 missing\), 'flag' \(1 missing\)"):
        read_table(path)


def test_infinite_values_are_refused(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("a,b\n1,inf\n2,-inf\n3,4\n")
    with pytest.raises(ValueError, match=r"infinite values: 'b' \(2 infinite\)"):
        read_table(path)


def test_saved_index_is_not_taken_as_a_feature(tmp_path):
    path = tmp_path / "indexed.csv"
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_csv(path)  # index=True by default
    with pytest.raises(ValueError, match=r"no name in the header.*'Unnamed: 0'.*--columns"):
        read_table(path)
    assert list(read_table(path, columns=["a", "b"]).columns) == ["a", "b"]


def test_unparsable_parquet(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match=r"could not read .*broken\.parquet' as Parquet"):
        read_table(path)


def test_files_are_never_modified(tmp_path, frame):
    paths = [tmp_path / "p.csv", tmp_path / "p.parquet"]
    frame.to_csv(paths[0], index=False)
    frame.to_parquet(paths[1])
    before = [(_digest(p), p.stat().st_mtime_ns) for p in paths]
    for path in paths:
        read_table(path, columns=["height", "weight"])
        with pytest.raises(ValueError):
            read_table(path)
    assert [(_digest(p), p.stat().st_mtime_ns) for p in paths] == before


def test_select_features_copies_and_leaves_the_input_alone(frame):
    original = frame.copy()
    got = select_features(frame, ["height"])
    got.iloc[0, 0] = 99.0
    pd.testing.assert_frame_equal(frame, original)
