"""The reading rule for missing-value markers: which cells are read as missing for their text, said and kept."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io.chunked import TableStream
from kmeanskit._io.markers import DEFAULT_NA_VALUES, MissingMarkers, markers_text
from kmeanskit._io.roles import ColumnRoles, assign_roles
from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table, read_table

# Numbers and categories with the usual markers: NA, n/a, None and empty cells; "-" is not one of pandas' markers.
MARKED = (
    "id,age,status,score\n"
    "a1,34,gold,1.5\n"
    "a2,NA,n/a,2\n"
    "a3,,silver,None\n"
    "a4,51,None,-\n"
    "a5,None,gold,\n"
    "a6,28,NA,3.25\n"
    "a7,40,-,4\n"
)
# The same with ten more rows: enough for the status column to be categories.
MORE = MARKED + "".join(f"b{i},{30 + i},{'gold' if i % 2 else 'silver'},{i}.5\n" for i in range(10))


@pytest.fixture
def marked(tmp_path):
    path = tmp_path / "marked.csv"
    path.write_text(MARKED)
    return path


@pytest.fixture
def more(tmp_path):
    path = tmp_path / "more.csv"
    path.write_text(MORE)
    return path


def cells(markers, name):
    rows, texts = markers.cells[name]
    return rows.tolist(), texts.tolist()


def test_default_markers_are_pandas_list():
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(DEFAULT_NA_VALUES) == STR_NA_VALUES - {""}
    assert "-" not in DEFAULT_NA_VALUES


def test_markers_are_recorded_with_their_rows_and_text(marked):
    frame, markers = read_raw_table(marked, return_markers=True)
    pd.testing.assert_frame_equal(frame, read_raw_table(marked))  # the values read are the same
    assert list(markers.cells) == ["age", "status", "score"]  # score is text ("-"), its None a marker all the same
    assert cells(markers, "age") == ([1, 4], ["NA", "None"])
    assert cells(markers, "status") == ([1, 3, 5], ["n/a", "None", "NA"])
    assert markers.counts("status") == (("NA", 1), ("None", 1), ("n/a", 1))
    assert cells(markers, "score") == ([2], ["None"])
    assert markers.counts("id") == ()
    assert frame["age"].isna().tolist() == [False, True, True, False, True, False, False]


def test_a_text_column_counts_its_markers_too(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1,n/a\n2,b\n3,n/a\n4,NULL\n5,\n")
    frame, markers = read_raw_table(path, return_markers=True)
    assert frame["y"].isna().tolist() == [True, False, True, True, True]
    assert markers.counts("y") == (("n/a", 2), ("NULL", 1))
    assert markers_text(markers.counts("y")) == "2 cells 'n/a' and 1 cell 'NULL' read as missing"


def test_na_values_replace_the_default_list(marked):
    frame, markers = read_raw_table(marked, layout=TextLayout(na_values=("n/a", "-")), return_markers=True)
    # NA and None are text now; n/a and - are missing; empty cells always are.
    assert frame["status"].isna().tolist() == [False, True, False, False, False, False, True]
    assert cells(markers, "status") == ([1, 6], ["n/a", "-"])
    assert frame["score"].isna().tolist() == [False, False, False, True, True, False, False]
    assert cells(markers, "score") == ([3], ["-"])
    assert "age" not in markers.cells and frame["age"].isna().sum() == 1  # the empty cell only


def test_empty_cells_only(more):
    frame, markers = read_raw_table(more, layout=TextLayout(na_values=()), return_markers=True)
    assert not markers
    assert frame["status"].tolist()[1] == "n/a"
    assert frame["status"].isna().sum() == 0
    roles = assign_roles(frame, mixed=True, id_column="id")
    # "NA" and "None" are categories now; the column of ages with NA and None is numbers with text.
    assert roles["status"].levels == ("-", "NA", "None", "gold", "n/a", "silver")
    assert roles["age"].role == "text"
    assert roles["age"].reason == ("numbers, but 2 values are not (e.g. 'NA'): clean them, or mark them as "
                                   "missing (--na-values)")


def test_text_layout_checks_na_values():
    assert TextLayout(na_values=["NA", "", "NA", "n/a"]).na_values == ("NA", "n/a")
    assert TextLayout(na_values=()).pandas_options()["na_values"] == [""]
    assert "na_values" not in TextLayout().pandas_options()
    with pytest.raises(ValueError, match="na_values must be None or a sequence of strings"):
        TextLayout(na_values="NA")
    with pytest.raises(ValueError, match="na_values must be None or a sequence of strings"):
        TextLayout(na_values=[1])


def test_roles_count_the_markers_of_every_column(more):
    frame, markers = read_raw_table(more, return_markers=True)
    roles = assign_roles(frame, id_column="id", mixed=True, markers=markers)
    assert roles["age"].missing_markers == (("NA", 1), ("None", 1))
    assert roles["status"].missing_markers == (("NA", 1), ("None", 1), ("n/a", 1))
    assert roles["id"].missing_markers == ()
    payload = roles.to_dict()
    assert payload["columns"][1]["missing_markers"] == {"NA": 1, "None": 1}
    assert "missing_markers" not in payload["columns"][0] and "na_values" not in payload
    assert ColumnRoles.from_dict(payload) == roles


def test_roles_keep_the_markers_they_were_read_with(more):
    layout = TextLayout(na_values=("n/a",))
    frame, markers = read_raw_table(more, layout=layout, return_markers=True)
    roles = assign_roles(frame, layout=layout, markers=markers, id_column="id", mixed=True)
    assert roles.na_values == ("n/a",)
    assert roles.to_dict()["na_values"] == ["n/a"]
    assert ColumnRoles.from_dict(roles.to_dict()).na_values == ("n/a",)
    with pytest.raises(ValueError, match="na_values must be a list of strings"):
        ColumnRoles.from_dict({**roles.to_dict(), "na_values": "n/a"})


def test_refusals_name_the_markers(marked, more):
    frame, markers = read_raw_table(more, return_markers=True)
    roles = assign_roles(frame, id_column="id", mixed=True, markers=markers, exclude=["score"])
    with pytest.raises(ValueError) as info:
        roles.features_frame(frame, source="'marked.csv'", markers=markers, first_line=2)
    assert str(info.value) == (
        "categorical column 'status' of 'marked.csv' has a missing value in row 2 (line 3), 3 in all (1 cell 'NA', "
        "1 cell 'None' and 1 cell 'n/a' read as missing: --na-values chooses which text is read as missing): "
        "fill them, leave such rows out (--missing drop), or cluster rows on their observed values "
        "(--missing ignore)")
    with pytest.raises(ValueError, match=r"'age' \(3 missing; 1 cell 'NA' and 1 cell 'None' read as missing\) "
                                         r"\(--na-values chooses which text is read as missing\)"):
        read_table(marked, columns=["age"])


def test_restore_writes_every_cell_back_as_it_was(tmp_path):
    text = "name,n,x,kind\nA,1,1.5,NA\nB,NA,2.5,n/a\nNone,3,,b\nD,,N/A,NA\nE,5,nan,\n"
    path = tmp_path / "t.csv"
    path.write_text(text)
    frame, markers = read_raw_table(path, return_markers=True)
    restored = markers.restore(frame)
    assert restored.to_csv(index=False) == text  # byte for byte
    pd.testing.assert_frame_equal(frame, read_raw_table(path))  # the frame read is not modified
    # Only text columns: the number columns keep their types (a Parquet output).
    typed = markers.restore(frame, text_columns_only=True)
    assert typed["n"].dtype == frame["n"].dtype and typed["x"].dtype == frame["x"].dtype
    assert typed["kind"].tolist()[:2] == ["NA", "n/a"] and typed["name"][2] == "None"
    assert markers.restore(frame[["x"]]).columns.tolist() == ["x"]  # columns left out stay out


def test_markers_follow_the_layout(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("# made by hand\n1;NA;x\n# a comment line\n2;3,5;n/a\n4;;y\n")
    layout = TextLayout(skip_rows=1, header=False, sep=";", decimal=",", comment="#")
    frame, markers = read_raw_table(path, layout=layout, return_markers=True)
    assert frame.shape == (3, 3) and frame["column_2"].tolist()[1] == 3.5
    assert cells(markers, "column_2") == ([0], ["NA"])
    assert cells(markers, "column_3") == ([1], ["n/a"])
    frame, markers = read_raw_table(path, ["column_3", "column_2"], layout=layout, return_markers=True)
    assert list(markers.cells) == ["column_3", "column_2"]
    frame, markers = read_raw_table(path, layout=layout, n_rows=1, return_markers=True)
    assert list(markers.cells) == ["column_2"]


def test_markers_of_selected_columns_of_a_file_with_a_header(marked):
    frame, markers = read_raw_table(marked, ["status", "id"], return_markers=True)
    assert list(frame.columns) == ["status", "id"]
    assert cells(markers, "status") == ([1, 3, 5], ["n/a", "None", "NA"])


def test_parquet_has_real_nulls_and_keeps_its_text(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({
        "x": pd.array([1.0, None, 3.0, 4.0, 5.0, 6.0], dtype="Float64"),
        "kind": ["a", "n/a", None, "b", "n/a", "a"],
    }).iloc[np.arange(24) % 6].reset_index(drop=True).to_parquet(path)
    frame, markers = read_raw_table(path, return_markers=True)
    assert not markers and isinstance(markers, MissingMarkers)
    assert frame["x"].isna().tolist()[:6] == [False, True, False, False, False, False]
    assert frame["kind"].isna().tolist()[:6] == [False, False, True, False, False, False]
    roles = assign_roles(frame, mixed=True)
    assert roles["kind"].levels == ("a", "b", "n/a")  # text, as stored
    assert roles["kind"].missing_markers == ()
    with pytest.raises(ValueError, match="Parquet file: .*missing-value markers\\) apply to text files only"):
        read_raw_table(path, layout=TextLayout(na_values=("n/a",)))


def test_streamed_chunks_read_the_same_markers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,?\n2,3\nNA,4\n")
    for layout, a, b in ((TextLayout(na_values=("?", "NA")), [1, 2, np.nan], [np.nan, 3, 4]),
                         (TextLayout(), [1, 2, np.nan], None)):
        stream = TableStream(path, ["a"] if b is None else None, 10, np.float64, layout=layout)
        (_, chunk), = stream.chunks()
        np.testing.assert_array_equal(chunk[:, 0], a)
        if b is not None:
            np.testing.assert_array_equal(chunk[:, 1], b)


# scikit-learn's bundled CSVs: (file, layout, shape). They have no gaps, hence no markers and no second read.
SKLEARN_DATA = Path(__import__("sklearn").__file__).parent / "datasets" / "data"
BUNDLED = [
    ("iris.csv", TextLayout(skip_rows=1, header=False), (150, 5)),
    ("wine_data.csv", TextLayout(skip_rows=1, header=False), (178, 14)),
    ("breast_cancer.csv", TextLayout(skip_rows=1, header=False), (569, 31)),
    ("digits.csv.gz", TextLayout(header=False), (1797, 65)),
    ("diabetes_data_raw.csv.gz", TextLayout(header=False, sep=r"\s+"), (442, 10)),
    ("diabetes_target.csv.gz", TextLayout(header=False), (442, 1)),
    ("linnerud_exercise.csv", TextLayout(sep=r"\s+"), (20, 3)),
    ("linnerud_physiological.csv", TextLayout(sep=r"\s+"), (20, 3)),
]


@pytest.mark.parametrize(("name", "layout", "shape"), BUNDLED, ids=[b[0] for b in BUNDLED])
def test_sklearn_bundled_csvs_read_as_before(name, layout, shape):
    path = SKLEARN_DATA / name
    frame, markers = read_raw_table(path, layout=layout, return_markers=True)
    assert frame.shape == shape and not markers
    # pandas' own read with the same options (pandas' markers): the same columns, values and dtypes.
    options = {**layout.pandas_options(), "sep": "," if layout.sep is None else layout.sep}
    expected = pd.read_csv(path, dtype_backend="pyarrow", index_col=False, **options)
    np.testing.assert_array_equal(frame.to_numpy(dtype=np.float64), expected.to_numpy(dtype=np.float64))
    assert frame.dtypes.tolist() == expected.dtypes.tolist()
    # And --na-values '' (empty cells only) reads them the same: they have no text at all.
    pd.testing.assert_frame_equal(read_raw_table(path, layout=replace(layout, na_values=())), frame)
