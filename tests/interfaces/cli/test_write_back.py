"""``predict`` and ``fit --labels`` write DATA's cells back as DATA writes them, in its layout."""

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from ...csv_records import raw_records, records
from .running import run

SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"

# Cells a typed read and a re-write would change: trailing zeros, integers in a float column, thousands
# separators (quoted), ZIP codes with leading zeros, dates in several formats, markers, quoted fields
# holding the separator, quotes and line breaks.
HEADER = ["customer_id", "zip", "x", "amount", "signup", "note"]
DATES = ["2024-01-05", "05/01/2024", "Jan 5, 2024", "5.1.2024", "2024-01-05T10:30:00"]
NOTES = ["NA", 'said "hi", twice', "two\nlines", "n/a", "", "plain", "a;b", " padded "]


def messy_rows(n=60):
    rng = np.random.default_rng(3)
    rows = [HEADER]
    for i in range(n):
        group = i % 3
        x = f"{10 * group + rng.normal():.2f}0" if i % 7 else str(10 * group)  # "3.140" and "10"
        amount = f"{1000 * (group + 1) + int(rng.integers(1000)):,}.{int(rng.integers(100)):02d}"
        rows.append([f"{i:05d}", f"{int(rng.integers(0, 3000)):05d}", x, amount, DATES[i % 5], NOTES[i % 8]])
    return rows


def write_rows(path, rows, sep=","):
    with open(path, "w", newline="") as handle:
        csv.writer(handle, delimiter=sep, lineterminator="\n").writerows(rows)
    return path


def assert_written_back(source_text, output_text, sep=",", n_added=2):
    """Every record of the output is its record of the source, byte for byte, then `n_added` cells."""
    source, output = raw_records(source_text), raw_records(output_text)
    assert len(output) == len(source)
    for line, out in zip(source, output, strict=True):
        assert out.startswith(line + sep), (line, out)
        assert len(records(out + "\n", sep)[0]) == len(records(line + "\n", sep)[0]) + n_added


@pytest.fixture
def messy(tmp_path):
    return write_rows(tmp_path / "customers.csv", messy_rows())


@pytest.fixture
def model(capsys, tmp_path, messy):
    path = tmp_path / "model.kmk"
    code, _, err = run(capsys, "fit", messy, "-k", 3, "--seed", 0, "--columns", "x,amount", "--thousands", ",",
                       "--n-init", 1, "-o", path)
    assert code == 0, err
    return path


def test_predict_writes_every_cell_as_written(capsys, tmp_path, messy, model):
    code, out, err = run(capsys, "predict", model, messy, "--thousands", ",")
    assert code == 0, err
    assert_written_back(messy.read_text(), out)
    assert records(out)[0] == [*HEADER, "cluster", "distance"]
    assert [r[:6] for r in records(out)] == messy_rows()
    target = tmp_path / "assigned.csv"
    code, out, err = run(capsys, "predict", model, messy, "--thousands", ",", "-o", target)
    assert code == 0, err
    assert out.strip() == f"60 rows with 'cluster' and 'distance' written to {target}"
    assert_written_back(messy.read_text(), target.read_text())
    assigned = pd.read_csv(target, thousands=",")
    assert sorted(assigned["cluster"].unique()) == [0, 1, 2]


def test_a_decimal_comma_semicolon_file_is_written_back_as_one(capsys, tmp_path):
    rows = [["id", "x", "y"]] + [[f"{i:03d}", f"{i % 2 * 10 + i / 100:.2f}".replace(".", ","), f"{i % 2},50"]
                                 for i in range(30)]
    data = write_rows(tmp_path / "eu.csv", rows, sep=";")
    model = tmp_path / "m.kmk"
    options = ["--sep", ";", "--decimal", ","]
    code, _, err = run(capsys, "fit", data, "-k", 2, "--seed", 0, *options, "--columns", "x,y", "-o", model,
                       "--labels", tmp_path / "labels.csv", "--id-column", "id")
    assert code == 0, err
    code, out, err = run(capsys, "predict", model, data, *options)
    assert code == 0, err
    assert_written_back(data.read_text(), out, sep=";")
    assigned = pd.read_csv(io.StringIO(out), sep=";", decimal=",", dtype={"id": str})
    assert assigned["distance"].dtype == np.float64 and assigned["id"].tolist() == [r[0] for r in rows[1:]]
    labels = (tmp_path / "labels.csv").read_text().splitlines()
    assert labels[0] == "id;cluster" and [line.split(";")[0] for line in labels[1:]] == [r[0] for r in rows[1:]]
    assert [int(line.split(";")[1]) for line in labels[1:]] == assigned["cluster"].tolist()


def test_another_format_asked_by_the_output_name_is_said(capsys, tmp_path, messy, model):
    tsv = tmp_path / "assigned.tsv"
    code, out, err = run(capsys, "predict", model, messy, "--thousands", ",", "-o", tsv)
    assert code == 0, err
    assert out.strip() == (f"60 rows with 'cluster' and 'distance' written to {tsv} "
                           "(tab-separated as its name says ('customers.csv' is comma-separated))")
    assert [r[:6] for r in records(tsv.read_text(), "\t")] == messy_rows()
    parquet = tmp_path / "assigned.parquet"
    code, out, err = run(capsys, "predict", model, messy, "--thousands", ",", "-o", parquet, "--json")
    assert code == 0, err
    assert json.loads(out)["output_notes"] == [
        f"Parquet: the number columns of '{messy}' as numbers, not as written; its other columns as written"]
    table = pd.read_parquet(parquet)
    assert table["zip"].iloc[1] == int(messy_rows()[2][1])  # a number column keeps its type
    # Text as written, markers too; an empty cell is a missing value (null).
    assert table["note"].fillna("").tolist() == [r[5] for r in messy_rows()[1:]]
    code, out, err = run(capsys, "predict", model, messy, "--thousands", ",", "-o", tmp_path / "a.csv", "--json")
    assert code == 0 and "output_notes" not in json.loads(out)


@pytest.mark.parametrize("streamed", [False, True])
def test_labels_write_the_id_column_as_written(capsys, tmp_path, messy, streamed):
    labels = tmp_path / "labels.csv"
    extra = ["--out-of-core", "--chunk-rows", 7] if streamed else ["--n-init", 1]
    code, _, err = run(capsys, "fit", messy, "-k", 3, "--seed", 0, "--columns", "x", "--id-column",
                       "customer_id", "--labels", labels, *extra)
    assert code == 0, err
    written = records(labels.read_text())
    assert written[0] == ["customer_id", "cluster"]
    assert [r[0] for r in written[1:]] == [r[0] for r in messy_rows()[1:]]  # "00000", not 0
    assert {r[1] for r in written[1:]} == {"0", "1", "2"}


@pytest.mark.parametrize(("name", "options", "exclude"), [
    ("iris.csv", ["--skip-rows", 1, "--no-header"], "column_5"),
    ("wine_data.csv", ["--skip-rows", 1, "--no-header"], "column_14"),
    ("breast_cancer.csv", ["--skip-rows", 1, "--no-header"], "column_31"),
    ("digits.csv.gz", ["--no-header"], "column_65"),
    ("linnerud_exercise.csv", ["--sep", "space"], None),
    ("diabetes_data_raw.csv.gz", ["--sep", "space", "--no-header"], None),
])
def test_sklearn_bundled_tables_come_back_as_written(capsys, tmp_path, name, options, exclude):
    data = SKLEARN_DATA / name
    model = tmp_path / "m.kmk"
    chosen = [] if exclude is None else ["--exclude", exclude]
    code, _, err = run(capsys, "fit", data, "-k", 3, "--seed", 0, "--n-init", 1, "--stability", 0, *options,
                       *chosen, "-o", model)
    assert code == 0, err
    code, out, err = run(capsys, "predict", model, data, *options)
    assert code == 0, err
    text = gzip.open(data, "rt").read() if name.endswith(".gz") else data.read_text()
    lines = text.splitlines(keepends=True)
    skipped = 1 if "--skip-rows" in options else 0
    header = 0 if "--no-header" in options else 1
    sep = " " if "space" in options else ","
    body = out.splitlines(keepends=True)[1:]
    assert_written_back("".join(lines[skipped + header:]), "".join(body), sep=sep)


def test_labels_of_another_kind_of_text_say_so(capsys, tmp_path, messy):
    labels = tmp_path / "labels.tsv"
    code, out, err = run(capsys, "fit", messy, "-k", 3, "--seed", 0, "--columns", "x", "--id-column",
                         "customer_id", "--labels", labels, "--n-init", 1)
    assert code == 0, err
    assert (f"60 rows written to {labels} (tab-separated as its name says ('customers.csv' is comma-separated))"
            in out)
    assert [line.split("\t")[0] for line in labels.read_text().splitlines()] == [r[0] for r in messy_rows()]
    code, out, err = run(capsys, "fit", messy, "-k", 3, "--seed", 0, "--columns", "x", "--id-column",
                         "customer_id", "--labels", labels, "--n-init", 1, "--json")
    assert code == 0, err
    assert json.loads(out)["labels_notes"] == ["tab-separated as its name says ('customers.csv' is comma-separated)"]
