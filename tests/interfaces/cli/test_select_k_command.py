"""``kmeanskit select-k``: the table and recommended k's of select_k, from a file."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from .running import assert_one_line_error, run

METHODS = "silhouette,calinski_harabasz,davies_bouldin"


@pytest.fixture(scope="module")
def table():
    """Three well-separated groups in two features on very different scales, and a text column."""
    X, _ = make_blobs(n_samples=120, centers=[[0, 0], [6, 6], [0, 8]], cluster_std=0.7, random_state=3)
    return pd.DataFrame({"age": X[:, 0], "name": [f"c{i}" for i in range(120)], "income": 1000 * X[:, 1]})


@pytest.fixture
def data_csv(tmp_path, table):
    path = tmp_path / "customers.csv"
    table.to_csv(path, index=False)
    return path


def test_select_k_prints_the_table_of_select_k_and_its_recommendations(capsys, data_csv, table):
    from kmeanskit._analysis.selection import select_k

    code, out, err = run(capsys, "select-k", data_csv, "--columns", "age,income", "--ks", "2,3,4",
                         "--methods", METHODS, "--seed", 0, "--json")
    assert code == 0, err
    assert err == ""  # no progress bar when stderr is not a terminal
    payload = json.loads(out)
    X = StandardScaler().fit_transform(table[["age", "income"]])
    expected = select_k(X, [2, 3, 4], methods=tuple(METHODS.split(",")), random_state=0)
    assert payload["ks"] == [2, 3, 4]
    assert payload["methods"] == METHODS.split(",")
    assert (payload["n_samples"], payload["features"], payload["scale"]) == (120, ["age", "income"], "standard")
    assert [row["k"] for row in payload["table"]] == [2, 3, 4]
    for column in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin"):
        np.testing.assert_allclose([row[column] for row in payload["table"]], expected.table[column], rtol=1e-12)
    assert payload["recommended"] == {m: expected.recommended[m] for m in METHODS.split(",")}
    assert payload["recommended"]["silhouette"] == 3  # three groups
    assert (payload["best_k"], payload["reason"]) == (expected.best_k, expected.reason)
    # silhouette and Calinski-Harabasz vote; Davies-Bouldin, not a voter, is left out of the reason
    assert payload["reason"] == "k = 3: the silhouette and Calinski-Harabasz both point to 3."


def test_select_k_answers_first_with_its_reason(capsys, data_csv, table):
    from kmeanskit._analysis.selection import select_k

    code, out, err = run(capsys, "select-k", data_csv, "--columns", "age,income", "--k-min", 2, "--k-max", 6,
                         "--n-refs", 4, "--seed", 0)
    assert code == 0, err
    X = StandardScaler().fit_transform(table[["age", "income"]])
    expected = select_k(X, range(2, 7), n_refs=4, random_state=0)
    assert expected.best_k == 3
    lines = out.splitlines()
    assert lines[0] == "best k = 3"
    assert " ".join(line.strip() for line in lines[1:lines.index("")]) == expected.reason
    assert "recommended by each method:" in lines
    assert any(line.split()[:4] == ["prediction_strength:", "k", "=", "3"] for line in lines)
    payload = json.loads(run(capsys, "select-k", data_csv, "--columns", "age,income", "--k-min", 2, "--k-max", 6,
                             "--n-refs", 4, "--seed", 0, "--json")[1])
    assert (payload["best_k"], payload["reason"], payload["gap_rule"]) == (3, expected.reason, "firstSEmax")
    assert payload["sample_note"] is None


def test_select_k_text_output(capsys, data_csv):
    code, out, err = run(capsys, "select-k", data_csv, "--columns", "age,income", "--k-min", 2, "--k-max", 4,
                         "--methods", "silhouette", "--seed", 0)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["best k = 3", "  k = 3: the silhouette points to 3."]
    assert lines[3] == f"{data_csv}: 120 rows x 2 features, k = 2..4, scaling: standard"
    header = lines[5].split()
    assert header[:3] == ["k", "inertia", "silhouette"]
    assert [line.split()[0] for line in lines[6:9]] == ["2", "3", "4"]
    assert any(line.split()[:3] == ["silhouette:", "k", "="] and line.split()[3] == "3" for line in lines)


def test_select_k_range_and_list_give_the_same_table(capsys, data_csv):
    common = ["select-k", data_csv, "--columns", "age,income", "--methods", "silhouette", "--seed", 1, "--json"]
    _, by_range, _ = run(capsys, *common, "--k-min", 2, "--k-max", 3)
    _, by_list, _ = run(capsys, *common, "--ks", "3,2")
    def without_times(out):
        return [{k: v for k, v in row.items() if k != "fit_seconds"} for row in json.loads(out)["table"]]

    assert without_times(by_range) == without_times(by_list)


def test_select_k_on_the_bundled_iris_data(capsys):
    code, out, err = run(capsys, "select-k", "--ks", "2,3", "--methods", "silhouette", "--scale", "none",
                         "--seed", 0, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["n_samples"] == 150 and payload["scale"] == "none"
    assert payload["recommended"]["silhouette"] == 2  # iris' well-known silhouette optimum


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--ks", "2,3", "--k-min", "2"], ["either --ks or --k-min/--k-max"]),
        (["--k-min", "5", "--k-max", "3"], ["--k-max (3) must not be smaller than --k-min (5)"]),
        (["--ks", "0,2"], ["--ks values must be at least 1"]),
        (["--ks", "2,500"], ["largest k (500)", "number of rows (120)"]),
        (["--n-refs", "0"], ["--n-refs must be at least 1"]),
        (["--columns", "age,name"], ["name"]),
    ],
)
def test_select_k_refuses_bad_options_in_one_line(capsys, data_csv, args, fragments):
    code, out, err = run(capsys, "select-k", data_csv, "--columns", "age,income", *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, *fragments)


def test_select_k_refuses_unknown_methods_and_lists(capsys, data_csv):
    code, _, err = run(capsys, "select-k", data_csv, "--methods", "elbow,magic")
    assert code == 2 and "expected comma-separated methods among elbow,silhouette,gap,prediction_strength" in err
    code, _, err = run(capsys, "select-k", data_csv, "--ks", "2,three")
    assert code == 2 and "comma-separated integers" in err


def test_select_k_help_has_examples(capsys):
    code, out, _ = run(capsys, "select-k", "--help")
    assert code == 0
    assert "examples:" in out and "kmeanskit select-k customers.csv" in out


def test_select_k_says_the_rows_missing_drop_left_out(capsys, tmp_path):
    # The numeric path with column roles (--id-column): the rows left out are said, and counted in --json.
    path = tmp_path / "f.csv"
    pd.DataFrame({"id": range(8), "a": [0.0, 0.1, 0.2, None, 5.0, 5.1, 5.2, 5.3],
                  "b": [1.0, 1.1, 1.2, 1.3, 9.0, 9.1, 9.2, 9.3]}).to_csv(path, index=False)
    args = ("select-k", path, "--id-column", "id", "--missing", "drop", "--methods", "elbow", "--ks", "2,3")
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "missing values: 1 rows with gaps left out (--missing drop)" in out.splitlines()
    assert "7 rows x 2 features" in out
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["n_samples"], payload["n_dropped"]) == (7, 1)


def test_select_k_help_keeps_its_paragraphs_apart(capsys):
    code, out, _ = run(capsys, "select-k", "--help")
    assert code == 0
    assert "--missing ignore --seed 0\n\nThe answer (\"best k\") comes first" in out
