"""``kmeanskit explain`` and ``kmeanskit fit --explain``: descriptions and rules in original units."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from .running import assert_one_line_error, run


@pytest.fixture(scope="module")
def table():
    """Three groups of customers, separated on income (dollars) and age (years); visits is noise."""
    rng = np.random.default_rng(0)
    centers = np.array([[30_000.0, 25.0], [30_000.0, 60.0], [90_000.0, 40.0]])
    y = np.repeat([0, 1, 2], 60)
    X = centers[y] + rng.normal(size=(180, 2)) * [4_000.0, 3.0]
    return pd.DataFrame({"id": np.arange(180), "income": X[:, 0], "age": X[:, 1],
                         "visits": rng.poisson(5, 180)})


@pytest.fixture
def fitted(capsys, tmp_path, table):
    data = tmp_path / "customers.csv"
    table.to_csv(data, index=False)
    model = tmp_path / "model.kmk"
    code, _, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age,visits", "--seed", 0, "-o", model)
    assert code == 0, err
    return model, data


def _thresholds(rule, name):
    return [float(v.replace(",", "")) for v in re.findall(rf"{name} (?:<=|>) ([-\d,.]+)", rule)]


def test_explain_prints_a_description_and_a_rule_per_cluster(capsys, fitted):
    model, data = fitted
    code, out, err = run(capsys, "explain", model, data)
    assert code == 0, err
    assert "k=3" in out
    assert len(re.findall(r"^cluster \d \(60 rows, 33\.3%\): ", out, flags=re.M)) == 3
    rules = re.findall(r"^  rule: (.*)$", out, flags=re.M)
    assert len(rules) == 3
    # Thresholds in dollars and years, in the gaps between the groups.
    for rule in rules:
        assert "visits" not in rule
        assert all(45_000 < t < 75_000 for t in _thresholds(rule, "income"))
        assert all(32 < t < 53 for t in _thresholds(rule, "age"))
    assert "fidelity 100.0%, cost ratio 1.000" in out
    # The high-income group: one cut, and its description in sd of income over all rows.
    assert "income > 60,000\n" in out and ": income +2.1 sd\n" in out
    assert re.search(r"^  income: mean 89,9\d\d, other rows 29,4\d\d \(\+2\.10 sd, p = 1\.8e-111\)$", out, flags=re.M)


def test_explain_json_with_more_leaves(capsys, fitted):
    model, data = fitted
    code, out, err = run(capsys, "explain", model, data, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["method"] == "IMM" and payload["n_leaves"] == 3 and payload["fidelity"] == 1.0
    assert payload["features"] == ["income", "age", "visits"]
    assert [c["size"] for c in payload["clusters"]] == [60, 60, 60]
    code, out, err = run(capsys, "explain", model, data, "--json", "--max-leaves", 5)
    assert code == 0, err
    grown = json.loads(out)
    assert grown["n_leaves"] <= 5 and grown["cost_ratio"] <= payload["cost_ratio"] + 1e-12


def test_explain_refuses_too_few_leaves_and_missing_columns(capsys, fitted, tmp_path, table):
    model, data = fitted
    code, _, err = run(capsys, "explain", model, data, "--max-leaves", 2)
    assert code == 2
    assert_one_line_error(err, "--max-leaves must be at least the model's number of clusters (3), got 2")
    partial = tmp_path / "partial.csv"
    table.drop(columns="age").to_csv(partial, index=False)
    code, _, err = run(capsys, "explain", model, partial)
    assert code == 2
    assert_one_line_error(err, "lacks the feature column 'age'")


def test_fit_explain_adds_the_explanation(capsys, tmp_path, table):
    data = tmp_path / "customers.csv"
    table.to_csv(data, index=False)
    code, out, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age", "--seed", 0, "--explain")
    assert code == 0, err
    assert out.count("  rule: ") == 3 and "threshold tree (IMM, 3 leaves" in out
    code, out, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age", "--seed", 0, "--explain",
                         "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["explanation"]["n_leaves"] == 3 and payload["explanation"]["fidelity"] == 1.0
    code, _, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age", "--out-of-core", "--explain")
    assert code == 2
    assert_one_line_error(err, "--explain needs the rows in memory")


@pytest.mark.parametrize("scale", ["none", "minmax"])
def test_fit_explain_with_other_scalings_keeps_original_units(capsys, tmp_path, table, scale):
    data = tmp_path / "customers.csv"
    table.to_csv(data, index=False)
    code, out, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age", "--seed", 0, "--scale", scale,
                         "--explain")
    assert code == 0, err
    # No warning about feature names; unscaled income and age do get the warning about their scales.
    assert err == ("" if scale == "minmax" else
                   "kmeanskit: warning: features differ in scale by 10^3 (income: sd 2.9e4, age: sd 15); K-Means uses "
                   "Euclidean distance, so the largest scale dominates: scale them (--scale standard)\n")
    assert "rules in original units): fidelity 100.0%" in out
    assert "income > 60,000" in out


def test_explain_is_listed_and_has_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "explain   say what sets each cluster of a saved model apart" in out
    code, out, _ = run(capsys, "explain", "--help")
    assert code == 0
    for option in ("MODEL", "DATA", "--max-leaves", "--top", "--json", "kmeanskit explain customers.kmk"):
        assert option in out


@pytest.mark.parametrize("missing", ["drop", "ignore"])
def test_fit_explain_with_missing_values_explains_the_complete_rows_and_says_so(capsys, tmp_path, table, missing):
    data = tmp_path / "gaps.csv"
    gaps = table.copy()
    gaps.loc[::10, "age"] = np.nan
    gaps.to_csv(data, index=False)
    n_complete = int(gaps[["income", "age"]].notna().all(axis=1).sum())
    code, out, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age", "--seed", 0, "--missing", missing,
                         "--explain")
    assert code == 0, err
    assert "income > 60,000" in out
    note = (f"(explained on the {n_complete} of {len(gaps)} rows without missing values; the {len(gaps) - n_complete} "
            "with gaps (the first: row 1, line 2) are left out: differences and rules need every value of a row)")
    assert note in out.splitlines()  # the words of 'kmeanskit explain'
    code, out, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age", "--seed", 0, "--missing", missing,
                         "--explain", "--json")
    explained = json.loads(out)["explanation"]
    assert (explained["n_rows"], explained["n_rows_explained"], explained["rows_left_out"]) == (
        len(gaps), n_complete, note[1:-1])


def test_fit_explain_refuses_a_table_whose_every_row_has_a_gap_as_explain_does(capsys, tmp_path, table):
    data = tmp_path / "holes.csv"
    holes = table.copy()
    holes.loc[::2, "visits"] = np.nan
    holes.loc[1::2, "age"] = np.nan
    holes.to_csv(data, index=False)
    code, out, err = run(capsys, "fit", data, "-k", 3, "--columns", "income,age,visits", "--seed", 0, "--missing",
                         "ignore", "--explain")
    assert code == 2 and out == ""
    assert_one_line_error(err, f"every one of the 180 rows of '{data}' has a missing value (the first: row 1, line 2)",
                          "differences and rules need every value of a row")


@pytest.mark.parametrize("columns", ["income,age", "income,age,tier"])  # K-Means, then K-Prototypes
def test_explain_on_rows_with_gaps_explains_the_complete_rows_as_fit_does_and_names_the_first(
        capsys, tmp_path, table, columns):
    from kmeanskit import explain_clusters, load

    data = tmp_path / "gaps.csv"
    gaps = table.assign(tier=np.where(table["income"] > 60_000, "gold", "basic"))
    gaps.loc[[4, 30, 31], "age"] = np.nan
    gaps.to_csv(data, index=False)
    model = tmp_path / "gaps.kmk"
    code, fitted, err = run(capsys, "fit", data, "-k", 3, "--columns", columns, "--seed", 0, "--missing", "ignore",
                            "-o", model, "--explain")
    assert code == 0, err
    code, out, err = run(capsys, "explain", model, data)
    assert code == 0, err
    note = ("(explained on the 177 of 180 rows without missing values; the 3 with gaps (the first: row 5, line 6) "
            "are left out: differences and rules need every value of a row)")
    assert out.splitlines()[0] == f"{data}: 177 rows, k=3 (model {model})" and out.rstrip().endswith(note)
    # The same explanation as fit --explain's, and as the library's on the complete rows.
    assert out.split("\n\n", 1)[1].split("\n(")[0] in fitted
    complete = gaps[columns.split(",")].dropna()
    expected = explain_clusters(load(model), complete)
    assert all(f"): {description}" in out for description in expected.descriptions)
    code, out, err = run(capsys, "explain", model, data, "--json")
    payload = json.loads(out)
    assert payload["n_rows"] == 180 and payload["n_rows_explained"] == 177 and payload["n_samples"] == 177


def test_explain_refuses_a_table_whose_every_row_has_a_gap_naming_the_first(capsys, fitted, tmp_path, table):
    model, _ = fitted
    data = tmp_path / "holes.csv"
    holes = table.copy()
    holes.loc[::2, "visits"] = np.nan
    holes.loc[1::2, "age"] = np.nan
    holes.to_csv(data, index=False)
    code, out, err = run(capsys, "explain", model, data)
    assert code == 2 and out == ""
    assert_one_line_error(err, f"every one of the 180 rows of '{data}' has a missing value (the first: row 1, line 2)",
                          "differences and rules need every value of a row")
