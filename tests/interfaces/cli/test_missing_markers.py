"""Missing-value markers at the command line: said per column, chosen with --na-values, written back as they were."""

import csv
import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest

from .running import assert_one_line_error, run

N_ROWS = 90


def customers():
    """Rows as written in the file: markers (NA, n/a, None) and empty cells in numbers and categories.

    ``country`` holds ``NA`` for Namibia, which the default markers read as missing.
    """
    rng = np.random.default_rng(7)
    rows = []
    for i in range(N_ROWS):
        group = i % 3
        status = ["gold", "silver", "bronze"][group] if rng.random() > 0.2 else "n/a"
        country = ["NA", "DE", "FR"][int(rng.integers(3))]
        age = str(20 + 20 * group + int(rng.integers(5))) if rng.random() > 0.15 else ["NA", "", "None"][i % 3]
        income = f"{1000 * (group + 1) + int(rng.integers(100))}.5"
        rows.append([f"c{i:03d}" if i != 4 else "None", status, country, age, income])
    return [["customer_id", "status", "country", "age", "income"], *rows]


@pytest.fixture
def data_csv(tmp_path):
    path = tmp_path / "customers.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(customers())
    return path


def written(path):
    """Every cell of a CSV file as it is written (no marker read as missing)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def count(column, text):
    return int((column == text).sum())


def test_fit_says_per_column_which_markers_were_read_as_missing(capsys, data_csv):
    cells = written(data_csv)
    code, out, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                         "--missing", "ignore", "--n-init", 1)
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    n_status, n_country = count(cells["status"], "n/a"), count(cells["country"], "NA")
    na, none = count(cells["age"], "NA"), count(cells["age"], "None")
    assert n_status and n_country and na and none
    assert lines["status"].endswith(f"3 levels: clustered; {n_status} cells 'n/a' read as missing")
    assert lines["country"].endswith(f"2 levels: clustered; {n_country} cells 'NA' read as missing")
    first, second = sorted([(na, "NA"), (none, "None")], key=lambda c: (-c[0], c[1]))
    assert lines["age"].endswith(f"scaled; {first[0]} cells '{first[1]}' and {second[0]} cells '{second[1]}' "
                                 "read as missing")
    assert lines["income"].endswith("scaled")  # no marker: nothing said
    assert lines["customer_id"].endswith("1 cell 'None' read as missing")


def test_fit_json_counts_the_markers(capsys, data_csv):
    cells = written(data_csv)
    code, out, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                         "--missing", "ignore", "--n-init", 1, "--json")
    assert code == 0, err
    columns = {c["name"]: c for c in json.loads(out)["columns"]}
    assert columns["status"]["missing_markers"] == {"n/a": count(cells["status"], "n/a")}
    assert columns["country"]["missing_markers"] == {"NA": count(cells["country"], "NA")}
    assert "missing_markers" not in columns["income"]


def test_refusal_of_missing_values_names_the_marker(capsys, data_csv):
    cells = written(data_csv)
    code, _, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id")
    assert code == 2
    first = int(np.flatnonzero(cells["status"] == "n/a")[0])
    assert_one_line_error(
        err, f"categorical column 'status' of '{data_csv}' has a missing value in row {first + 1}",
        f"({count(cells['status'], 'n/a')} cells 'n/a' read as missing: --na-values chooses which text is read "
        "as missing)")


def test_na_values_keep_a_category_named_na(capsys, data_csv):
    code, out, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                         "--missing", "ignore", "--n-init", 1, "--json", "--na-values", "n/a, None")
    assert code == 0, err
    columns = {c["name"]: c for c in json.loads(out)["columns"]}
    assert columns["country"]["levels"] == ["DE", "FR", "NA"] and "missing_markers" not in columns["country"]
    assert list(columns["age"]["missing_markers"]) == ["None"]  # NA in numbers is text now
    assert columns["age"]["role"] == "text"
    assert columns["age"]["reason"].startswith("numbers, but ")
    assert columns["age"]["reason"].endswith("(e.g. 'NA'): clean them, or mark them as missing (--na-values)")


def test_na_values_as_a_json_list_and_for_empty_cells_only(capsys, data_csv):
    code, out, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                         "--missing", "ignore", "--n-init", 1, "--json", "--na-values", '["n/a", "NA", "None"]')
    assert code == 0, err
    code, out, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                         "--exclude", "age", "--n-init", 1, "--json", "--na-values", "")
    assert code == 0, err  # nothing is missing now: no --missing needed
    columns = {c["name"]: c for c in json.loads(out)["columns"]}
    assert columns["status"]["levels"] == ["bronze", "gold", "n/a", "silver"]
    assert not any("missing_markers" in c for c in columns.values())


@pytest.fixture
def model(capsys, tmp_path, data_csv):
    path, labels = tmp_path / "model.kmk", tmp_path / "labels.csv"
    code, _, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                       "--missing", "ignore", "--n-init", 1, "-o", path, "--labels", labels)
    assert code == 0, err
    return path, labels


def test_predict_writes_every_cell_back_as_it_was(capsys, tmp_path, data_csv, model):
    cells = written(data_csv)
    model_path, labels = model
    code, out, err = run(capsys, "predict", model_path, data_csv)
    assert code == 0 and err == ""
    result = pd.read_csv(StringIO(out), dtype=str, keep_default_na=False)
    assert list(result.columns) == [*cells.columns, "cluster", "distance"]
    pd.testing.assert_frame_equal(result[cells.columns], cells)  # every cell, byte for byte
    np.testing.assert_array_equal(result["cluster"].astype(int), pd.read_csv(labels)["cluster"])
    # The same in a file, and with rows left without a cluster.
    for extra in ((), ("--missing", "drop")):
        out_path = tmp_path / "out.csv"
        code, _, err = run(capsys, "predict", model_path, data_csv, "-o", out_path, *extra)
        assert code == 0
        result = written(out_path)
        assert len(result) == N_ROWS
        pd.testing.assert_frame_equal(result[cells.columns], cells)
    assert (result["cluster"] == "").sum() == (cells[["status", "country", "age"]].isin(["NA", "n/a", "None", ""])
                                               .any(axis=1).sum())


def test_predict_to_parquet_keeps_the_types_of_number_columns(capsys, tmp_path, data_csv, model):
    cells = written(data_csv)
    out_path = tmp_path / "out.parquet"
    code, _, err = run(capsys, "predict", model[0], data_csv, "-o", out_path)
    assert code == 0, err
    result = pd.read_parquet(out_path)
    for name in ("customer_id", "status", "country"):  # text columns: every cell as written
        assert result[name].tolist() == cells[name].tolist()
    age = cells["age"]
    assert result["age"].isna().tolist() == age.isin(["NA", "None", ""]).tolist()  # numbers: real nulls
    assert result["age"].dropna().astype(int).astype(str).tolist() == age[~age.isin(["NA", "None", ""])].tolist()


def test_labels_write_the_id_column_back_as_it_was(capsys, data_csv, model):
    labels = written(model[1])
    assert labels["customer_id"].tolist() == written(data_csv)["customer_id"].tolist()
    assert labels["customer_id"][4] == "None"


def test_parquet_labels_keep_a_number_id_column_with_a_marker_as_numbers(capsys, tmp_path):
    # A number --id-column with a marker: its numbers stay numbers and the marker a null in a Parquet --labels
    # (the marker's text put back made a column of ints and "NA" that pyarrow could not write).
    path, labels = tmp_path / "i.csv", tmp_path / "li.parquet"
    path.write_text("id,x,y\n1,1,2\nNA,5,3\n2,2,4\n3,3,5\n4,8,8\n")
    code, _, err = run(capsys, "fit", path, "-k", 2, "--seed", 0, "--id-column", "id", "--labels", labels)
    assert code == 0, err
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert pq.read_schema(labels).field("id").type == pa.int64()
    result = pd.read_parquet(labels)
    assert result.columns.tolist() == ["id", "cluster"]
    assert result["id"].isna().tolist() == [False, True, False, False, False]
    assert result["id"].dropna().tolist() == [1, 2, 3, 4]
    # A text --id-column keeps its marker's text.
    path.write_text("id,x,y\na,1,2\nNA,5,3\nb,2,4\nc,3,5\nd,8,8\n")
    code, _, err = run(capsys, "fit", path, "-k", 2, "--seed", 0, "--id-column", "id", "--labels", labels)
    assert code == 0, err
    assert pd.read_parquet(labels)["id"].tolist() == ["a", "NA", "b", "c", "d"]


@pytest.mark.parametrize("output", [None, "out.csv", "out.parquet"])
def test_predict_refusing_missing_values_names_the_marker(capsys, tmp_path, output):
    train, data = tmp_path / "train.csv", tmp_path / "data.csv"
    train.write_text("x,y\n1,2\n5,3\n2,4\n3,5\n8,8\n")
    data.write_text("x,y\n1,2\nNA,3\n2,4\n")
    code, _, err = run(capsys, "fit", train, "-k", 2, "--seed", 0, "-o", tmp_path / "m.kmk")
    assert code == 0, err
    code, _, err = run(capsys, "predict", tmp_path / "m.kmk", data, *(() if output is None else ("-o", tmp_path / output)))
    assert code == 2
    assert_one_line_error(err, f"'{data}' has missing values in 1 of 2 columns: 'x' (1 missing; 1 cell 'NA' read "
                               "as missing) (--na-values chooses which text is read as missing)")


def test_commands_of_a_model_read_with_the_markers_of_its_fit(capsys, tmp_path, data_csv):
    model_path, labels = tmp_path / "model.kmk", tmp_path / "labels.csv"
    code, _, err = run(capsys, "fit", data_csv, "-k", 3, "--seed", 0, "--id-column", "customer_id",
                       "--missing", "ignore", "--n-init", 1, "-o", model_path, "--labels", labels,
                       "--na-values", "n/a,None,")
    assert code == 0, err
    # Read with the fit's markers: NA (Namibia) is a category the model knows, and every row gets its cluster.
    code, out, err = run(capsys, "predict", model_path, data_csv)
    assert code == 0 and err == ""
    result = pd.read_csv(StringIO(out), dtype=str, keep_default_na=False)
    np.testing.assert_array_equal(result["cluster"].astype(int), pd.read_csv(labels)["cluster"])
    # --na-values at predict reads NA as missing again (those rows are assigned on their other values),
    # and writes it back as it was.
    code, out, err = run(capsys, "predict", model_path, data_csv, "--na-values", "NA,n/a,None")
    assert code == 0, err
    again = pd.read_csv(StringIO(out), dtype=str, keep_default_na=False)
    assert again["country"].tolist() == written(data_csv)["country"].tolist()
    code, out, err = run(capsys, "drift", model_path, data_csv)
    assert code == 0, err


def test_na_values_apply_to_text_files_only(capsys, tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0) ** 2}).to_parquet(path)
    code, _, err = run(capsys, "fit", path, "-k", 2, "--na-values", "n/a")
    assert code == 2
    assert_one_line_error(err, "is a Parquet file", "missing-value markers) apply to text files only")
    code, _, err = run(capsys, "fit", "--na-values", "n/a")
    assert code == 2
    assert_one_line_error(err, "--na-values apply to a DATA file, not to the bundled iris data")
    code, _, err = run(capsys, "fit", path, "-k", 2, "--na-values", "[1]")
    assert code == 2 and "expected a JSON list of strings" in err
