"""The reading options of text files (separator, decimal and thousands marks, encoding, comments), applied
alike by the whole-table and the chunked readers; files written the way spreadsheets and locales write them."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from kmeanskit._io.chunked import TableStream
from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table, read_table

BUNDLED = Path(sklearn.__file__).parent / "datasets" / "data"


@pytest.fixture(params=["whole", "chunks"])
def reader(request):
    """Both readers read the same files the same way, and refuse the same ones with the same message."""
    if request.param == "whole":
        return lambda path, layout=None, columns=None: read_table(path, columns, layout=layout)

    def chunked(path, layout=None, columns=None):
        stream = TableStream(path, columns, 2, np.float64, layout=layout)
        values = np.vstack([chunk for _, chunk in stream.chunks()])
        return pd.DataFrame(values, columns=stream.feature_names)

    return chunked


def test_semicolons_and_decimal_commas_as_a_german_or_french_spreadsheet_saves_them(tmp_path, reader):
    path = tmp_path / "messwerte.csv"
    path.write_text("Länge;Breite;Gewicht\n1,5;2,25;1.234,5\n-0,75;3;12,0\n10;0,5;2.000\n", encoding="utf-8")
    frame = reader(path, TextLayout(sep=";", decimal=",", thousands="."))
    assert list(frame.columns) == ["Länge", "Breite", "Gewicht"]
    np.testing.assert_array_equal(frame.to_numpy(), [[1.5, 2.25, 1234.5], [-0.75, 3, 12.0], [10, 0.5, 2000]])


def test_a_semicolon_file_read_with_commas_is_refused_naming_the_separator(tmp_path, reader):
    path = tmp_path / "messwerte.csv"
    path.write_text("a;b;c\n1,5;2,25;3\n4;5;6\n")
    with pytest.raises(ValueError, match=r"was read with commas as the separator into 1 column, but its first lines "
                                         r"are separated by semicolons: pass --sep ';' \(sep=';'\)"):
        reader(path)


def test_tabs_in_a_csv_file(tmp_path, reader):
    path = tmp_path / "tabs.csv"
    path.write_text("x\ty\n1\t2\n3\t4\n")
    with pytest.raises(ValueError, match=r"separated by tabs: pass --sep '\\t'"):
        reader(path)
    np.testing.assert_array_equal(reader(path, TextLayout(sep="\t")).to_numpy(), [[1, 2], [3, 4]])


def test_a_latin_1_file_needs_its_encoding_named(tmp_path, reader):
    path = tmp_path / "latin.csv"
    path.write_bytes("température,débit\n1,2\n3,4\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"could not read .* as utf-8 text .*--encoding latin-1"):
        reader(path)
    frame = reader(path, TextLayout(encoding="latin-1"))
    assert list(frame.columns) == ["température", "débit"]


def test_comment_lines_and_trailing_comments_are_ignored(tmp_path, reader):
    path = tmp_path / "commented.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("# exported 2024-01-31\na,b\n1,2 # first\n# a note, with, commas\n3,4\n")
    np.testing.assert_array_equal(reader(path, TextLayout(comment="#")).to_numpy(), [[1, 2], [3, 4]])


def test_the_layout_checks_its_values():
    with pytest.raises(ValueError, match="thousands and decimal must differ, got ',' for both"):
        TextLayout(decimal=",", thousands=",")
    with pytest.raises(ValueError, match="sep and decimal must differ"):
        TextLayout(sep=",", decimal=",")
    with pytest.raises(ValueError, match="encoding must be a text encoding .* got 'klingon'"):
        TextLayout(encoding="klingon")
    with pytest.raises(ValueError, match="decimal must be one character"):
        TextLayout(decimal="..")


def test_decimal_commas_in_a_comma_separated_file_are_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"has commas as its separator, which cannot also be the decimal mark.*--sep ';'"):
        read_table(path, layout=TextLayout(decimal=","))


def test_read_raw_table_keeps_text_amounts_for_the_roles(tmp_path):
    path = tmp_path / "amounts.csv"
    path.write_text('id,amount\n1,"$77,714.41"\n2,"$1,000"\n')
    frame = read_raw_table(path, layout=TextLayout(thousands=","))
    assert frame["amount"].tolist() == ["$77,714.41", "$1,000"]


# Every CSV bundled with scikit-learn: read correctly (with the options the message names), or refused
# with a message that says what to do. (breast_cancer.csv, wine_data.csv: tests/io/test_field_counts.py.)
@pytest.mark.parametrize("name, refusal, layout, shape", [
    ("iris.csv", r"line 1 of .* looks like a line of metadata, not a header: it starts with two counts \(150 rows, "
                 r"4 features\?\) followed by names \('setosa', 'versicolor', 'virginica'\).*--skip-rows 1.*--no-header",
     TextLayout(skip_rows=1, header=False), (150, 5)),
    ("breast_cancer.csv", r"line 2 of .* has 31 fields but the header \(line 1\) has 4.*--skip-rows 1",
     TextLayout(skip_rows=1, header=False), (569, 31)),
    ("wine_data.csv", r"line 2 of .* has 14 fields but the header \(line 1\) has 5.*--skip-rows 1",
     TextLayout(skip_rows=1, header=False), (178, 14)),
    ("digits.csv.gz", "looks like data, not a header.*--no-header", TextLayout(header=False), (1797, 65)),
    ("diabetes_data_raw.csv.gz", r"separated by spaces: pass --sep ' ' \(sep=r'\\s\+'\)",
     TextLayout(sep=r"\s+", header=False), (442, 10)),
    ("diabetes_target.csv.gz", "looks like data, not a header.*--no-header", TextLayout(header=False), (442, 1)),
    ("linnerud_exercise.csv", r"separated by spaces: pass --sep ' '", TextLayout(sep=r"\s+"), (20, 3)),
    ("linnerud_physiological.csv", r"separated by spaces: pass --sep ' '", TextLayout(sep=r"\s+"), (20, 3)),
])
def test_every_csv_bundled_with_scikit_learn_is_refused_saying_what_to_do_then_read(reader, name, refusal, layout,
                                                                                     shape):
    path = BUNDLED / name
    with pytest.raises(ValueError, match=refusal):
        reader(path)
    values = reader(path, layout).to_numpy()
    assert values.shape == shape
    skip = layout.skip_rows + layout.header
    np.testing.assert_array_equal(values, np.loadtxt(path, delimiter="," if layout.sep is None else None,
                                                     skiprows=skip, ndmin=2))


def test_every_csv_bundled_with_scikit_learn_is_covered():
    covered = {"iris.csv", "breast_cancer.csv", "wine_data.csv", "digits.csv.gz", "diabetes_data_raw.csv.gz",
               "diabetes_target.csv.gz", "linnerud_exercise.csv", "linnerud_physiological.csv"}
    assert {p.name for p in BUNDLED.iterdir() if ".csv" in p.name} == covered


def test_refusals_read_as_sentences_without_a_stray_parameter_hint(tmp_path):
    path = tmp_path / "indexed.csv"
    pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}).to_csv(path)  # the index saved as an unnamed column
    with pytest.raises(ValueError) as info:
        read_table(path)
    assert str(info.value).endswith("choose the feature columns with --columns (the columns argument in Python)")
    with pytest.raises(ValueError) as info:
        read_table(path, ["a", "b"])
    assert "(columns=)" not in str(info.value)
    assert str(info.value).endswith("K-Means needs numeric features: encode them as numbers or leave them out")


def test_fit_out_of_core_takes_the_reading_options(tmp_path):
    from kmeanskit.streaming import fit_out_of_core

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (50, 2)), rng.normal(50, 1, (50, 2))]
    path = tmp_path / "werte.csv"
    pd.DataFrame(X, columns=["a", "b"]).to_csv(path, index=False, sep=";", decimal=",")
    km = fit_out_of_core(path, 2, sep=";", decimal=",", chunk_rows=30, random_state=0, progress=False)
    np.testing.assert_allclose(sorted(km.cluster_centers_[:, 0]), [X[:50, 0].mean(), X[50:, 0].mean()])
    parquet = tmp_path / "werte.parquet"
    pd.DataFrame(X, columns=["a", "b"]).to_parquet(parquet)
    with pytest.raises(ValueError, match="is a Parquet file: .*apply to text files only"):
        fit_out_of_core(parquet, 2, decimal=",")
