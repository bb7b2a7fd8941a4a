"""``kmeanskit select-k`` on tables with categorical columns: k chosen as ``fit -k auto`` chooses it there
(K-Prototypes or K-Modes scored in their own cost), one answer with its reason, and the scores per k."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from kmeanskit import KModes, KPrototypes, select_k
from kmeanskit._estimators.numeric_scaler import NumericScaler

from .running import assert_one_line_error, run

LEFT_OUT = ("(The gap statistic, Calinski-Harabasz and Davies-Bouldin are not computed for a KPrototypes: the gap's "
            "reference data are uniform in a box, which categories have no meaning in, and the other two are "
            "Euclidean.)")


@pytest.fixture
def shops(tmp_path):
    """Three groups of customers: an id, a store and a region that follow the group, amounts and ages."""
    rng = np.random.default_rng(0)
    n = 180
    group = np.repeat([0, 1, 2], n // 3)
    store = np.array(["North", "South", "East"], dtype=object)[group]
    flip = rng.random(n) < 0.1
    store[flip] = rng.choice(["North", "South", "East", "West"], flip.sum())
    table = pd.DataFrame({"id": [f"C{i:03d}" for i in range(n)], "store": store,
                          "region": np.where(group == 2, "rural", "urban"),
                          "amount": np.array([50.0, 200.0, 120.0])[group] + rng.normal(0, 15, n),
                          "age": np.array([30.0, 45.0, 65.0])[group] + rng.normal(0, 5, n)})
    path = tmp_path / "shops.csv"
    table.to_csv(path, index=False)
    return path, table


def test_the_mixed_answer_its_reason_and_the_scores_of_select_k_on_the_pipeline_of_fit(capsys, shops):
    path, table = shops
    code, out, err = run(capsys, "select-k", path, "--id-column", "id", "--ks", "2,3,4,5", "--seed", 0, "--json")
    assert code == 0, err
    payload = json.loads(out)
    features = table[["store", "region", "amount", "age"]]
    categorical = ("store", "region")
    template = Pipeline([("scale", NumericScaler(categorical=categorical)),
                         ("kprototypes", KPrototypes(categorical=categorical))])
    expected = select_k(features, [2, 3, 4, 5], estimator=template, random_state=0, progress=False)
    assert payload["best_k"] == expected.best_k == 3
    assert payload["reason"] == expected.reason and payload["reason"].endswith(LEFT_OUT)
    assert payload["methods"] == ["elbow", "silhouette", "prediction_strength"]
    assert [row["k"] for row in payload["table"]] == [2, 3, 4, 5]
    assert [row["inertia"] for row in payload["table"]] == expected.table["inertia"].tolist()
    assert [row["silhouette"] for row in payload["table"]] == expected.table["silhouette"].tolist()
    assert payload["estimator"] == "KPrototypes" and payload["categorical"] == ["store", "region"]
    assert payload["gamma"] == expected.models[3][-1].gamma_
    assert {c["name"]: c["role"] for c in payload["columns"]}["id"] == "id"


def test_the_text_names_the_roles_the_cost_and_each_methods_rule(capsys, shops):
    path, _ = shops
    code, out, err = run(capsys, "select-k", path, "--id-column", "id", "--ks", "2,3,4", "--seed", 0)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "columns: 4 of 5 clustered"
    assert any(line.startswith("clustered by KPrototypes, gamma ") for line in lines)
    assert "best k = 3" in lines
    header = next(line for line in lines if line.split()[:2] == ["k", "cost"])
    assert header.split() == ["k", "cost", "silhouette", "prediction_strength", "fit_seconds"]
    assert "  elbow:               " in out and "knee of the cost curve (Kneedle)" in out
    assert "Measured in the KPrototypes cost: squared Euclidean distance in standardized units plus gamma = " in out


def test_categories_alone_are_compared_by_kmodes(capsys, shops):
    path, table = shops
    code, out, err = run(capsys, "select-k", path, "--columns", "store,region", "--ks", "2,3", "--seed", 0, "--json")
    assert code == 0, err
    payload = json.loads(out)
    expected = select_k(table[["store", "region"]], [2, 3], estimator=KModes(), random_state=0, progress=False)
    assert payload["estimator"] == "KModes" and payload["best_k"] == expected.best_k
    assert [row["inertia"] for row in payload["table"]] == expected.table["inertia"].tolist()


def test_rows_with_gaps_are_clustered_on_their_observed_values_and_the_silhouette_says_why(capsys, shops, tmp_path):
    _, table = shops
    table = table.copy()
    table.loc[[3, 70], "age"] = np.nan
    table.loc[5, "store"] = None
    path = tmp_path / "gaps.csv"
    table.to_csv(path, index=False)
    code, out, err = run(capsys, "select-k", path, "--id-column", "id", "--ks", "2,3,4", "--seed", 0,
                         "--missing", "ignore")
    assert code == 0, err
    assert ("missing values: 3 rows clustered on their observed values (--missing ignore); the silhouette needs "
            "every value: not computed") in out
    assert "best k = 3" in out and "prediction strength points to 3" in out


@pytest.mark.parametrize("args, fragments", [
    (["--methods", "gap,elbow"], ["--methods gap: not computed for categorical columns (store, region)",
                                  "choose among elbow,silhouette,prediction_strength"]),
    (["--columns", "store,region", "--gamma", "1"], ["--gamma weighs categories against numeric columns"]),
    (["--columns", "amount,age", "--gamma", "1"], ["--gamma weighs categorical columns, and DATA has none"]),
])
def test_what_has_no_meaning_is_refused_naming_it(capsys, shops, args, fragments):
    path, _ = shops
    code, _, err = run(capsys, "select-k", path, "--id-column", "id", "--ks", "2,3", *args)
    assert code == 2
    assert_one_line_error(err, *fragments)
