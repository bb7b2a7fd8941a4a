"""The table arguments of the commands: reading options (--sep, --decimal, --thousands, --encoding,
--comment), column roles said before the result (--exclude, --id-column, --dates, --columns as a JSON list),
the id column in every output, and the roles kept by the model file for ``predict``."""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from kmeanskit._io.persistence import read_manifest

from .running import assert_one_line_error, run

BUNDLED = Path(sklearn.__file__).parent / "datasets" / "data"
N = 90


@pytest.fixture
def customers():
    """Three groups of customers, as a shop system exports them: an id, a region, a sign-up date, an amount
    with a currency sign and thousands separators, a constant column and a name with a comma."""
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], N // 3)
    amount = np.array([1_000.0, 40_000.0, 90_000.0])[group] + rng.normal(0, 500, N).round(2)
    days = np.array([19_000, 19_400, 19_800])[group] + rng.integers(-20, 20, N)
    return pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(N)],
        "region": rng.choice(["north", "south", "east"], N),
        "signup": pd.to_datetime(days, unit="D").strftime("%Y-%m-%d"),
        "amount": [f"${v:,.2f}" for v in amount],
        "visits, monthly": np.array([2, 10, 30])[group] + rng.integers(0, 2, N),
        "plan": ["basic"] * N,
    }), amount, days


@pytest.fixture
def customers_csv(tmp_path, customers):
    path = tmp_path / "customers.csv"
    customers[0].to_csv(path, index=False)
    return path


def blocks(out):
    return out.split("\n\n")


def test_fit_says_what_was_done_with_every_column_before_the_result(capsys, customers_csv):
    code, out, err = run(capsys, "fit", customers_csv, "-k", 3, "--seed", 0)
    assert code == 0 and err == ""
    header, columns = blocks(out)[:2]
    # The categorical column is clustered with the numeric one: K-Prototypes, its gamma said.
    assert header.endswith("90 rows x 2 features, k=3, scaling: standard")
    assert columns.splitlines() == [
        "columns: 2 of 6 clustered",
        "  customer_id      identifier   unique per row: pass --id-column to carry it into outputs",
        "  region           categorical  3 levels: clustered",
        "  signup           date         pass --dates to cluster it as days since 1970-01-01",
        "  amount           text         amounts written as text (e.g. $1,062.87): pass --thousands , to read "
        "them as numbers",
        "  visits, monthly  numeric      scaled",
        "  plan             constant     one value (basic) in every row: dropped",
        "clustered by KPrototypes, gamma 0.5 (Huang's default: half the mean standard deviation of the numeric "
        "columns, as clustered)",
    ]


def test_amounts_dates_and_the_id_column_in_the_labels_file(capsys, tmp_path, customers_csv, customers):
    frame, amount, days = customers
    labels_path = tmp_path / "labels.csv"
    code, out, err = run(capsys, "fit", customers_csv, "-k", 3, "--seed", 0, "--thousands", ",", "--dates",
                         "--id-column", "customer_id", "--labels", labels_path)
    assert code == 0 and err == ""
    columns = blocks(out)[1].splitlines()
    assert columns[0] == "columns: 4 of 6 clustered"
    assert "  region           categorical  3 levels: clustered" in columns
    assert "  customer_id      id           the id column: carried into outputs" in columns
    assert "  amount           numeric      scaled; 90 values converted from text amounts" in columns
    assert "  signup           date         scaled; as days since 1970-01-01 (--dates)" in columns
    labels = pd.read_csv(labels_path)
    assert list(labels.columns) == ["customer_id", "cluster"]
    assert labels["customer_id"].tolist() == frame["customer_id"].tolist()
    # The three groups, told apart by amount, dates and visits alike.
    truth = np.repeat([0, 1, 2], N // 3)
    assert pd.crosstab(labels["cluster"], truth).gt(0).sum(axis=1).eq(1).all()
    # Centers are in original units: dollars and days since 1970-01-01.
    payload = json.loads(run(capsys, "fit", customers_csv, "-k", 3, "--seed", 0, "--thousands", ",", "--dates",
                             "--id-column", "customer_id", "--json")[1])
    centers = sorted((c["center"]["amount"], c["center"]["signup"]) for c in payload["clusters"])
    expected = sorted(zip(pd.Series(amount).groupby(truth).mean(), pd.Series(days).groupby(truth).mean(),
                          strict=True))
    np.testing.assert_allclose(centers, expected, rtol=1e-9)


def test_json_carries_the_roles(capsys, customers_csv):
    code, out, _ = run(capsys, "fit", customers_csv, "-k", 2, "--seed", 0, "--json", "--id-column", "customer_id")
    payload = json.loads(out)
    assert payload["id_column"] == "customer_id"
    roles = {c["name"]: c for c in payload["columns"]}
    assert roles["region"] == {"name": "region", "role": "categorical", "clustered": True,
                               "reason": "3 levels: clustered", "n_levels": 3,
                               "levels": ["east", "north", "south"]}
    assert [c["name"] for c in payload["columns"] if c["clustered"]] == payload["features"] == [
        "region", "visits, monthly"]
    assert payload["estimator"] == "KPrototypes" and payload["gamma"] == 0.5 and not payload["gamma_given"]


def test_a_column_whose_name_holds_a_comma_is_named_in_a_json_list(capsys, customers_csv):
    code, out, err = run(capsys, "fit", customers_csv, "-k", 2, "--seed", 0, "--thousands", ",",
                         "--exclude", '["visits, monthly"]', "--json")
    assert code == 0, err
    assert json.loads(out)["features"] == ["region", "amount"]
    code, out, err = run(capsys, "fit", customers_csv, "-k", 2, "--seed", 0, "--columns", '["visits, monthly"]',
                         "--json")
    assert code == 0, err
    assert json.loads(out)["features"] == ["visits, monthly"]
    code, _, err = run(capsys, "fit", customers_csv, "-k", 2, "--columns", '["visits, monthly"')
    assert code == 2 and "expected a JSON list of column names" in err


def test_a_semicolon_file_with_decimal_commas(capsys, tmp_path, customers):
    frame, amount, _ = customers
    german = frame.assign(amount=[f"{v:,.2f} €".replace(",", " ").replace(".", ",").replace(" ", ".", 1)
                                  if v >= 1000 else f"{v:.2f} €".replace(".", ",") for v in amount])
    path = tmp_path / "kunden.csv"
    german.to_csv(path, index=False, sep=";")
    code, _, err = run(capsys, "fit", path, "-k", 3)
    assert code == 2
    assert_one_line_error(err, "was read with commas as the separator into 2 columns, but its first lines are "
                               "separated by semicolons: pass --sep ';'")
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--sep", ";", "--decimal", ",",
                         "--thousands", ".", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert {c["name"]: c.get("converted") for c in payload["columns"]}["amount"] == N
    truth = np.repeat([0, 1, 2], N // 3)
    expected = sorted(pd.Series(amount).groupby(truth).mean())
    np.testing.assert_allclose(sorted(c["center"]["amount"] for c in payload["clusters"]), expected, rtol=1e-9)


def test_predict_reads_a_new_table_with_the_roles_of_the_model(capsys, tmp_path, customers_csv, customers):
    model = tmp_path / "customers.kmk"
    labels_path = tmp_path / "labels.csv"
    code, _, err = run(capsys, "fit", customers_csv, "-k", 3, "--seed", 0, "--thousands", ",", "--dates",
                       "--id-column", "customer_id", "--labels", labels_path, "-o", model)
    assert code == 0, err
    table = read_manifest(model)["table"]
    assert table["features"] == ["region", "signup", "amount", "visits, monthly"]
    assert table["id_column"] == "customer_id" and table["thousands"] == ","
    # New customers: the same file's last rows, without the constant column, in another order.
    new = customers[0].iloc[::-1].drop(columns="plan")
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    out_path = tmp_path / "assigned.csv"
    code, _, err = run(capsys, "predict", model, new_path, "-o", out_path)
    assert code == 0, err
    assigned = pd.read_csv(out_path)
    assert list(assigned.columns) == [*new.columns, "cluster", "distance"]
    fitted = pd.read_csv(labels_path).set_index("customer_id")["cluster"]
    assert assigned.set_index("customer_id")["cluster"].equals(fitted.loc[assigned["customer_id"]])


def test_the_metadata_line_of_scikit_learns_iris_csv_is_refused_naming_skip_rows(capsys):
    code, out, err = run(capsys, "fit", BUNDLED / "iris.csv", "-k", 3)
    assert code == 2 and out == ""
    assert_one_line_error(err, "line 1 of", "looks like a line of metadata, not a header",
                          "skip it with --skip-rows 1", "--no-header")
    code, out, err = run(capsys, "fit", BUNDLED / "iris.csv", "-k", 3, "--skip-rows", 1, "--no-header",
                         "--exclude", "column_5", "--seed", 0)
    assert code == 0, err
    assert "  column_5  excluded  listed in --exclude" in blocks(out)[1].splitlines()


@pytest.mark.parametrize("options, message", [
    (["--decimal", ","], "has commas as its separator, which cannot also be the decimal mark: give the "
                         "separator of a file with decimal commas, e.g. --sep ';'"),
    (["--sep", ";", "--decimal", ",", "--thousands", ","], "--thousands and --decimal must differ, got ',' for both"),
    (["--encoding", "klingon"], "--encoding must be a text encoding such as 'utf-8' or 'latin-1', got 'klingon'"),
])
def test_reading_options_that_cannot_work_are_refused_by_their_names(capsys, customers_csv, options, message):
    code, _, err = run(capsys, "fit", customers_csv, "-k", 2, *options)
    assert code == 2
    assert_one_line_error(err, message)


def test_an_option_value_that_is_not_a_separator(capsys, customers_csv):
    code, _, err = run(capsys, "fit", customers_csv, "-k", 2, "--sep", "ab")
    assert code == 2 and "expected one separator character such as ',', ';', '|', or 'tab' or 'space'" in err


def test_encoding_and_comments(capsys, tmp_path):
    path = tmp_path / "mesures.csv"
    rows = "\n".join(f"{x},{2 * x}" for x in range(10))
    path.write_bytes(f"# relevé du 31/01\ntempérature,débit\n{rows}\n".encode("latin-1"))
    code, _, err = run(capsys, "fit", path, "-k", 2)
    assert code == 2
    assert_one_line_error(err, "as utf-8 text", "give its encoding with --encoding, e.g. --encoding latin-1")
    code, out, err = run(capsys, "fit", path, "-k", 2, "--encoding", "latin-1", "--comment", "#", "--json")
    assert code == 0, err
    assert json.loads(out)["features"] == ["température", "débit"]


def test_out_of_core_applies_the_same_options_and_roles(capsys, tmp_path, customers):
    frame, _, _ = customers
    path = tmp_path / "kunden.tsv"
    frame.assign(**{"visits, monthly": frame["visits, monthly"] + 0.5}).to_csv(path, index=False, sep="\t",
                                                                               decimal=",")
    labels_path = tmp_path / "labels.csv"
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--decimal", ",", "--out-of-core",
                         "--id-column", "customer_id", "--labels", labels_path)
    assert code == 0, err
    assert "  visits, monthly  numeric      scaled" in blocks(out)[1].splitlines()
    labels = pd.read_csv(labels_path)
    assert labels["customer_id"].tolist() == frame["customer_id"].tolist()
    code, _, err = run(capsys, "fit", path, "-k", 3, "--out-of-core", "--dates")
    assert code == 2
    assert_one_line_error(err, "--dates is not available with --out-of-core")


def test_an_id_column_named_cluster_cannot_go_beside_the_labels(capsys, tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"cluster": range(20), "x": np.arange(20.0)}).to_csv(path, index=False)
    code, _, err = run(capsys, "fit", path, "-k", 2, "--id-column", "cluster", "--labels", tmp_path / "l.csv")
    assert code == 2
    assert_one_line_error(err, "--id-column 'cluster' has the name of the labels file's cluster column")


def test_column_roles_of_an_edited_model_file_are_refused(capsys, tmp_path, customers_csv):
    from kmeanskit._interfaces.cli._common import CommandError, model_roles

    assert model_roles({}) is None  # files saved before roles were stored
    with pytest.raises(CommandError, match="the model file's column roles cannot be read"):
        model_roles({"table": {"columns": [{"name": "x"}]}})
    with pytest.raises(CommandError, match="unknown column role"):
        model_roles({"table": {"columns": [{"name": "x", "role": "magic", "clustered": True}]}})


def test_a_detected_separator_is_said(capsys, tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("a|b\n" + "".join(f"{i}|{i % 5}\n" for i in range(30)))
    code, out, err = run(capsys, "fit", path, "-k", 2, "--seed", 0)
    assert code == 0, err
    assert blocks(out)[1].splitlines()[0] == "columns: 2 of 2 clustered (fields separated by '|', detected; --sep to choose)"


def test_predict_reads_with_the_same_options(capsys, tmp_path):
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    values = np.r_[np.zeros(10), np.full(10, 100.5)]
    pd.DataFrame({"x": values}).to_csv(train, index=False, sep=";", decimal=",")
    pd.DataFrame({"x": [0.25, 100.25]}).to_csv(new, index=False, sep=";", decimal=",")
    model = tmp_path / "m.kmk"
    code, _, err = run(capsys, "fit", train, "-k", 2, "--seed", 0, "--sep", ";", "--decimal", ",", "-o", model)
    assert code == 0, err
    code, out, err = run(capsys, "predict", model, new, "--sep", ";", "--decimal", ",")
    assert code == 0, err
    # Written back in the file's layout: semicolons, decimal commas (the distance too), each cell as written.
    assert out.splitlines()[1].startswith("0,25;")
    assigned = pd.read_csv(io.StringIO(out), sep=";", decimal=",")
    assert assigned["x"].tolist() == [0.25, 100.25]
    assert assigned["cluster"].nunique() == 2
    assert assigned["distance"].dtype == np.float64
