"""``kmeanskit fit`` on tables with categorical columns (K-Prototypes, K-Modes), the model file, and
``kmeanskit predict`` on new tables with gaps and categories never seen."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from kmeanskit import KPrototypes
from kmeanskit._io.persistence import load, read_manifest

from .running import assert_one_line_error, cluster_table, run

N = 120


@pytest.fixture
def shop():
    """Three groups of customers: an id, two numeric columns, a region (text) and a store (integer codes)."""
    rng = np.random.default_rng(3)
    group = np.repeat([0, 1, 2], N // 3)
    region = np.asarray(["north", "south", "east"], dtype=object)[group]
    region[rng.random(N) < 0.15] = "west"
    return pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(N)],
        "amount": np.array([100.0, 400.0, 900.0])[group] + rng.normal(0, 30, N).round(2),
        "visits": np.array([2, 6, 12])[group] + rng.integers(0, 3, N),
        "region": region,
        "store": rng.integers(1, 4, N),
    })


@pytest.fixture
def shop_csv(tmp_path, shop):
    path = tmp_path / "shop.csv"
    shop.to_csv(path, index=False)
    return path


def test_categorical_columns_are_clustered_by_kprototypes_with_modes_and_shares(capsys, shop_csv, shop):
    code, out, err = run(capsys, "fit", shop_csv, "-k", 3, "--seed", 0, "--categorical", "store",
                         "--id-column", "customer_id")
    assert code == 0, err
    columns = out.split("\n\n")[1].splitlines()
    assert columns == [
        "columns: 4 of 5 clustered",
        "  customer_id  id           the id column: carried into outputs",
        "  amount       numeric      scaled",
        "  visits       numeric      scaled",
        "  region       categorical  4 levels: clustered",
        "  store        categorical  3 levels: clustered",
        "clustered by KPrototypes, gamma 0.5 (Huang's default: half the mean standard deviation of the "
        "numeric columns, as clustered)",
    ]
    table = cluster_table(out)
    # Small data: each cluster's stability, as for K-Means.
    assert table[0].split() == ["cluster", "size", "share", "amount", "visits", "region", "region", "share",
                                "store", "store", "share", "stability"]
    # The same fit by hand: the numeric columns standardized, KPrototypes on them and the categories as text.
    X = shop[["amount", "visits", "region", "store"]].astype({"store": str})
    scaled = X.assign(**dict(zip(["amount", "visits"], StandardScaler().fit_transform(X[["amount", "visits"]]).T,
                                 strict=True)))
    reference = KPrototypes(3, categorical=("region", "store"), n_init=10, random_state=0).fit(scaled)
    payload = json.loads(run(capsys, "fit", shop_csv, "-k", 3, "--seed", 0, "--categorical", "store",
                             "--id-column", "customer_id", "--json")[1])
    assert payload["estimator"] == "KPrototypes" and payload["gamma"] == reference.gamma_ == 0.5
    assert payload["inertia"] == pytest.approx(reference.inertia_, rel=1e-12)
    labels = reference.labels_
    for entry in payload["clusters"]:
        rows = shop[labels == entry["cluster"]]
        assert entry["size"] == len(rows)
        assert entry["center"]["amount"] == pytest.approx(rows["amount"].mean(), rel=1e-9)
        mode = rows["region"].value_counts().sort_index().idxmax()  # ties: the first level
        assert entry["center"]["region"] == mode
        assert entry["mode_shares"]["region"] == pytest.approx((rows["region"] == mode).mean())
        assert entry["center"]["store"] == str(reference.cluster_centers_[entry["cluster"], 3])


def test_all_categorical_columns_use_kmodes(capsys, tmp_path, shop):
    path = tmp_path / "codes.csv"
    shop[["region", "store"]].to_csv(path, index=False)
    code, out, err = run(capsys, "fit", path, "-k", 2, "--seed", 0, "--categorical", "store", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["estimator"] == "KModes" and payload["gamma"] == 1.0
    assert payload["features"] == ["region", "store"]
    code, _, err = run(capsys, "fit", path, "-k", 2, "--categorical", "store", "--gamma", 2)
    assert code == 2
    assert_one_line_error(err, "--gamma weighs categories against numeric columns, and every clustered column of "
                               "DATA is categorical")


@pytest.mark.parametrize("options, message", [
    (["-k", 3, "--algorithm", "elkan"], "--algorithm elkan chooses a K-Means algorithm; tables with categorical "
                                        "columns (region)"),
    (["-k", 3, "--out-of-core", "--categorical", "store"], "--categorical is not available with --out-of-core"),
    (["-k", 3, "--exclude", "region", "--gamma", 1], "--gamma weighs categorical columns, and DATA has none"),
    (["-k", 3, "--gamma", 0], "expected a positive finite number, got '0'"),
    (["-k", 3, "--categorical", "nowhere"], "nowhere"),
])
def test_options_kmeans_alone_has_are_refused_naming_the_option(capsys, shop_csv, options, message):
    code, out, err = run(capsys, "fit", shop_csv, *options)
    assert code == 2 and out == ""
    assert message in err, err


def test_exclude_keeps_kmeans_and_its_options(capsys, shop_csv):
    code, out, err = run(capsys, "fit", shop_csv, "-k", 3, "--seed", 0, "--exclude", "region", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert "estimator" not in payload and payload["features"] == ["amount", "visits", "store"]


def test_model_file_and_predict_with_gaps_and_unseen_categories(capsys, tmp_path, shop_csv, shop):
    model = tmp_path / "shop.kmk"
    labels = tmp_path / "labels.csv"
    code, _, err = run(capsys, "fit", shop_csv, "-k", 3, "--seed", 0, "--categorical", "store", "--id-column",
                       "customer_id", "-o", model, "--labels", labels)
    assert code == 0, err
    manifest = read_manifest(model)
    assert manifest["format_version"] == 4 and manifest["estimator"]["class"] == "kmeanskit.KPrototypes"
    assert {c["name"]: c.get("levels") for c in manifest["table"]["columns"]}["store"] == ["1", "2", "3"]
    # The training rows again: the labels of the fit.
    assigned_path = tmp_path / "assigned.csv"
    code, out, err = run(capsys, "predict", model, shop_csv, "-o", assigned_path)
    assert code == 0 and err == "" and "never seen" not in out
    assigned = pd.read_csv(assigned_path)
    assert assigned["cluster"].tolist() == pd.read_csv(labels)["cluster"].tolist()
    # New rows: unseen categories, a gap in a category, a store code never seen.
    new = shop.head(6).copy()
    new.loc[0, "region"] = "mars"
    new.loc[1, "region"] = "moon"
    new.loc[2, "store"] = 9
    new.loc[3, "region"] = None
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    code, out, err = run(capsys, "predict", model, new_path)
    assert code == 2
    assert_one_line_error(err, "categorical column 'region'", "has a missing value in row 4 (line 5), 1 in all",
                          "--missing drop")
    code, out, err = run(capsys, "predict", model, new_path, "--missing", "drop", "-o", assigned_path)
    assert code == 0, err
    assert "categories never seen in training (they match no center's mode): 'region' 2, 'store' 1" in out
    assigned = pd.read_csv(assigned_path)
    assert assigned["cluster"].isna().tolist() == [False, False, False, True, False, False]
    # An unseen category adds gamma to the cost to every center: the row goes where its other values say.
    loaded = load(model)
    rows = new.drop(index=3).drop(columns="customer_id").astype({"store": str})
    kp = loaded[-1]
    scaled = loaded[0].transform(rows)
    numeric = scaled[["amount", "visits"]].to_numpy()
    modes = kp.cluster_centers_
    cost = ((numeric[:, None, :] - modes[None, :, :2].astype(float)) ** 2).sum(axis=2)
    cost += kp.gamma_ * (rows[["region", "store"]].to_numpy()[:, None, :] != modes[None, :, 2:]).sum(axis=2)
    expected = assigned["distance"].dropna().to_numpy()
    np.testing.assert_allclose(cost.min(axis=1), expected, rtol=1e-12)
    assert assigned["cluster"].dropna().astype(int).tolist() == cost.argmin(axis=1).tolist()
    code, out, err = run(capsys, "predict", model, new_path, "--missing", "drop", "--json")
    assert json.loads(out)["unseen_categories"] == {"region": 2, "store": 1}


def test_predict_names_the_column_and_line_of_text_where_the_model_had_numbers(capsys, tmp_path, shop_csv, shop):
    model = tmp_path / "shop.kmk"
    assert run(capsys, "fit", shop_csv, "-k", 3, "--seed", 0, "-o", model)[0] == 0
    bad = shop.head(5).astype({"visits": object})
    bad.loc[2, "visits"] = "many"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    code, _, err = run(capsys, "predict", model, path)
    assert code == 2
    assert_one_line_error(err, "column 'visits'", "holds text where the model has numbers: 'many' in row 3 "
                               "(line 4), 1 such value in all")


def test_evaluate_scores_a_kprototypes_model_in_its_own_dissimilarity(capsys, tmp_path, shop_csv, shop):
    from kmeanskit._analysis.metrics import silhouette_or_reason
    from kmeanskit._estimators.pipeline import to_final_space
    from kmeanskit._io.persistence import load

    model = tmp_path / "shop.kmk"
    assert run(capsys, "fit", shop_csv, "-k", 3, "--seed", 0, "-o", model)[0] == 0
    code, out, err = run(capsys, "evaluate", model, shop_csv, "--json")
    assert code == 0, err
    found = json.loads(out)
    pipeline = load(model)
    features = shop[list(pipeline.feature_names_in_)].astype({"region": str})
    labels = pipeline.predict(features)
    expected, _ = silhouette_or_reason(to_final_space(pipeline, features), labels,
                                       categorical=pipeline[-1].categorical_, gamma=pipeline[-1].gamma_)
    assert found["silhouette"] == pytest.approx(expected, rel=1e-12)
    assert found["silhouette_note"] == ("in K-Prototypes' dissimilarity: squared distance plus gamma per "
                                        "mismatched category")
    assert found["calinski_harabasz"] is None and found["davies_bouldin"] is None
    assert found["euclidean_note"].startswith("not computed for categorical columns: both measure spread")
    assert found["cost_name"] == "KPrototypes cost"
    code, out, err = run(capsys, "evaluate", model, shop_csv)
    assert code == 0 and "Calinski-Harabasz, Davies-Bouldin: n/a (not computed for categorical columns" in out
