"""Writing a text table back with columns added: every cell as the file writes it, in the file's layout."""

import csv
import gzip
import io
import os

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io.table_rules import TextLayout
from kmeanskit._io.tables import read_raw_table
from kmeanskit._io.write_back import TextOutput, is_text_table, text_output, write_text_back

from ..csv_records import raw_records, records

# Cells a typed read and a re-write would change: leading and trailing zeros, an integer in a float
# column, thousands separators, dates in several formats, markers, empty cells, spaces, and quoted
# fields holding the separator, quotes and a line break.
MESSY = [
    ["id", "zip", "amount", "price", "when", "note", "score"],
    ["0001", "02134", "1,234.50", "44643.30", "2024-01-05", "NA", "3"],
    ["0002", "10001", "12.00", "3", "05/01/2024", 'he said "hi", twice', "2.50"],
    ["0003", "", "1,000,000.00", "0.10", "Jan 5, 2024", "n/a", ""],
    ["0004", "00501", "7", "1e3", "5.1.2024", "two\nlines", "-0.0"],
    ["0005", "99950", "-1,234.5", "  8.0", "2024-01-05T10:30:00", " padded ", "None"],
]


def write_rows(path, rows, *, sep=",", encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle, delimiter=sep, lineterminator="\n").writerows(rows)
    return path


def added_columns(n):
    return pd.DataFrame({"cluster": np.arange(n) % 3, "distance": np.linspace(0.125, 2.5, n)})


@pytest.fixture
def messy(tmp_path):
    return write_rows(tmp_path / "messy.csv", MESSY)


def test_every_cell_is_written_as_the_file_writes_it(messy):
    out = io.StringIO()
    how = write_text_back(messy, added_columns(5), out, layout=TextLayout(thousands=","))
    assert how == TextOutput(",", ".", "utf-8", ())
    written = records(out.getvalue())
    assert [r[:7] for r in written] == MESSY  # header and every cell, character for character
    assert [r[7:] for r in written] == [["cluster", "distance"]] + [
        [str(c), repr(d)] for c, d in zip(added_columns(5)["cluster"], added_columns(5)["distance"], strict=True)]
    # A typed read would not give the text back (the reason the file is read again).
    typed = read_raw_table(messy, layout=TextLayout(thousands=","))
    assert typed["zip"].iloc[0] == 2134 and typed["amount"].iloc[0] == 1234.5 and pd.isna(typed["note"].iloc[0])


def test_the_bytes_of_each_line_are_kept_when_the_file_quotes_only_where_needed(messy):
    out = io.StringIO()
    write_text_back(messy, added_columns(5), out)
    lines, out_lines = raw_records(messy.read_text()), raw_records(out.getvalue())
    assert len(out_lines) == len(lines) == 6
    for line, out_line in zip(lines, out_lines, strict=True):
        assert out_line.startswith(line + ","), (line, out_line)


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 5, 6, 65536])
def test_chunks_give_the_same_text(messy, chunk_rows):
    whole, chunked = io.StringIO(), io.StringIO()
    write_text_back(messy, added_columns(5), whole)
    write_text_back(messy, added_columns(5), chunked, chunk_rows=chunk_rows)
    assert chunked.getvalue() == whole.getvalue()


@pytest.mark.parametrize("chunk_rows", [1, 2, 65536])
def test_columns_are_chosen_by_name_in_the_order_asked(messy, chunk_rows):
    out = io.StringIO()
    write_text_back(messy, added_columns(5), out, columns=["note", "id"], chunk_rows=chunk_rows)
    assert [r[:2] for r in records(out.getvalue())] == [[row[5], row[0]] for row in MESSY]
    only = io.StringIO()
    write_text_back(messy, added_columns(5), only, columns=[])
    assert records(only.getvalue())[0] == ["cluster", "distance"] and len(records(only.getvalue())) == 6


def test_a_decimal_comma_semicolon_file_stays_one(tmp_path):
    rows = [["x", "y", "label"], ["1,50", "02", "a;b"], ["3", "4,0", "c"]]
    data = write_rows(tmp_path / "eu.csv", rows, sep=";")
    layout = TextLayout(sep=";", decimal=",")
    target = tmp_path / "out.csv"
    how = write_text_back(data, added_columns(2), target, layout=layout)
    assert how == TextOutput(";", ",", "utf-8", ())
    text = target.read_text()
    assert text.splitlines()[1] == "1,50;02;\"a;b\";0;0,125"  # the distance with the file's decimal comma
    assert [r[:3] for r in records(text, ";")] == rows
    back = pd.read_csv(target, sep=";", decimal=",")
    assert back["distance"].tolist() == [0.125, 2.5]


def test_another_kind_of_text_asked_by_the_name_is_said(tmp_path):
    rows = [["x", "y"], ["1,50", "02"], ["3", "4,0"]]
    data = write_rows(tmp_path / "eu.csv", rows, sep=";")
    layout = TextLayout(sep=";", decimal=",")
    how = write_text_back(data, added_columns(2), tmp_path / "out.tsv.gz", layout=layout)
    assert how.sep == "\t" and how.decimal == ","
    assert how.changes == ("tab-separated as its name says ('eu.csv' is semicolon-separated)",)
    with gzip.open(tmp_path / "out.tsv.gz", "rt", newline="") as handle:
        assert [r[:2] for r in records(handle.read(), "\t")] == rows
    tsv = write_rows(tmp_path / "eu.tsv", rows, sep="\t")
    comma = text_output(tsv, TextLayout(decimal=","), tmp_path / "out.csv")
    assert comma == TextOutput(",", ".", "utf-8", (
        "comma-separated as its name says ('eu.tsv' is tab-separated)",
        "added numbers with a decimal point ('eu.tsv' has decimal commas)"))
    # Added integers alone (fit --labels' cluster) have no decimal mark to speak of.
    assert text_output(tsv, TextLayout(decimal=","), tmp_path / "out.csv", decimals=False).changes == (
        "comma-separated as its name says ('eu.tsv' is tab-separated)",)
    how = write_text_back(tsv, pd.DataFrame({"cluster": [0, 1]}), tmp_path / "labels.csv",
                          layout=TextLayout(decimal=","), columns=[])
    assert how.changes == ("comma-separated as its name says ('eu.tsv' is tab-separated)",)
    assert (tmp_path / "labels.csv").read_text() == "cluster\n0\n1\n"
    # The same kind, an unknown suffix or a stream: the file's own layout.
    assert text_output(data, layout, tmp_path / "out.csv") == TextOutput(";", ",", "utf-8", ())
    assert text_output(data, layout, tmp_path / "out.dat") == TextOutput(";", ",", "utf-8", ())
    assert text_output(data, layout) == TextOutput(";", ",", "utf-8", ())


def test_the_file_encoding_is_kept(tmp_path):
    data = write_rows(tmp_path / "latin.csv", [["name", "x"], ["José", "1.50"], ["Zoë", "2"]], encoding="latin-1")
    target = tmp_path / "out.csv"
    write_text_back(data, added_columns(2), target, layout=TextLayout(encoding="latin-1"))
    source_lines, out_lines = data.read_bytes().splitlines(), target.read_bytes().splitlines()
    assert [line.startswith(s + b",") for s, line in zip(source_lines, out_lines, strict=True)] == [True] * 3
    assert b"Jos\xe9,1.50," in target.read_bytes()


def test_layouts_without_header_with_skipped_lines_comments_and_spaces(tmp_path):
    data = tmp_path / "odd.csv"
    data.write_text("exported 2024-01-05\n# a comment\n1.10,007 # kept out\n\n2.0,\"08,9\"\n")
    layout = TextLayout(skip_rows=1, header=False, comment="#")
    assert len(read_raw_table(data, layout=layout)) == 2
    out = io.StringIO()
    write_text_back(data, added_columns(2), out, layout=layout)
    assert records(out.getvalue()) == [["column_1", "column_2", "cluster", "distance"],
                                      ["1.10", "007 ", "0", "0.125"], ["2.0", "08,9", "1", "2.5"]]
    out = io.StringIO()
    write_text_back(data, added_columns(2), out, layout=layout, columns=["column_2"], chunk_rows=1)
    assert [r[0] for r in records(out.getvalue())] == ["column_2", "007 ", "08,9"]
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("a   b  c\n 1.0  02   x\n3 4 y\n")
    out = io.StringIO()
    assert write_text_back(spaced, added_columns(2), out).sep == " "
    assert out.getvalue() == "a b c cluster distance\n1.0 02 x 0 0.125\n3 4 y 1 2.5\n"


def test_repeated_names_are_written_as_the_header_has_them(tmp_path):
    data = write_rows(tmp_path / "twice.csv", [["a", "a", "b"], ["1.0", "2.0", "x"]])
    assert list(read_raw_table(data).columns) == ["a", "a.1", "b"]
    out = io.StringIO()
    write_text_back(data, added_columns(1), out)
    assert records(out.getvalue())[0] == ["a", "a", "b", "cluster", "distance"]
    out = io.StringIO()
    write_text_back(data, added_columns(1), out, columns=["a.1"])
    assert records(out.getvalue()) == [["a", "cluster", "distance"], ["2.0", "0", "0.125"]]


def test_missing_added_values_are_empty_cells(messy):
    added = pd.DataFrame({"cluster": pd.array([0, pd.NA, 2, pd.NA, 1], dtype="Int64"),
                          "distance": [0.5, np.nan, 1.0, np.nan, 2.0]})
    out = io.StringIO()
    write_text_back(messy, added, out)
    assert [r[7:] for r in records(out.getvalue())[1:]] == [["0", "0.5"], ["", ""], ["2", "1.0"], ["", ""],
                                                           ["1", "2.0"]]


@pytest.mark.parametrize("n_rows", [4, 6])
def test_a_file_that_changed_is_refused_and_the_output_left_as_it_was(tmp_path, messy, n_rows):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(ValueError, match=r"'.*messy.csv' has (more|fewer) rows now than the "
                                         f"{n_rows} it had: it changed while it was read; run the command again"):
        write_text_back(messy, added_columns(n_rows), target, chunk_rows=2)
    assert target.read_text() == "old\n"
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


def test_arguments_are_checked(messy):
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer, got 0"):
        write_text_back(messy, added_columns(5), io.StringIO(), chunk_rows=0)
    with pytest.raises(ValueError, match=r"unknown column 'nope' in '.*messy.csv'; available columns: 'id'"):
        write_text_back(messy, added_columns(5), io.StringIO(), columns=["nope"])
    assert is_text_table(messy) and is_text_table("a.tsv.gz") and not is_text_table("a.parquet")
    assert not is_text_table(None)
