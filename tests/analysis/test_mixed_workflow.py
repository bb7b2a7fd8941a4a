"""``fit_mixed_clusters`` and ``predict_table`` on tables with categorical columns (the Python path)."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit import load
from kmeanskit._analysis.mixed_workflow import fit_mixed_clusters, unseen_categories
from kmeanskit._analysis.workflow import predict_table, prediction_summary, save_model


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(2)
    group = rng.integers(0, 3, 150)
    return pd.DataFrame({
        "amount": np.array([1.0, 5.0, 9.0])[group] + rng.normal(0, 0.5, 150),
        "color": np.asarray(["red", "green", "blue"], dtype=object)[(group + (rng.random(150) < 0.2)) % 3],
    })


def test_modes_and_their_shares_are_those_of_each_clusters_rows(table):
    result = fit_mixed_clusters(table, 3, categorical=["color"], random_state=0, n_init=3)
    assert result.estimator == "KPrototypes" and not result.gamma_given
    # Huang's default on standardized columns: half the mean standard deviation, 0.5.
    assert result.gamma == 0.5
    for k in range(3):
        rows = table[result.labels == k]
        counts = rows["color"].value_counts().sort_index()
        assert result.centers.loc[k, "color"] == counts.idxmax()
        assert result.mode_shares.loc[k, "color"] == pytest.approx(counts.max() / len(rows))
        assert result.centers.loc[k, "amount"] == pytest.approx(rows["amount"].mean(), rel=1e-12)
    assert list(result.clusters.columns) == ["cluster", "size", "share", "amount", "color", "color share"]
    assert result.to_dict()["clusters"][0]["mode_shares"]["color"] == result.mode_shares.loc[0, "color"]


def test_python_predict_of_a_saved_model_counts_unseen_categories_and_drops_gaps(tmp_path, table):
    result = fit_mixed_clusters(table, 3, categorical=["color"], random_state=0, gamma=2.0)
    assert result.gamma == 2.0 and result.gamma_given
    save_model(result, tmp_path / "m.kmk", table)
    model = load(tmp_path / "m.kmk")
    new = table.head(6).assign(color=["red", "purple", None, "blue", "purple", "green"])
    with pytest.raises(ValueError, match="missing"):
        predict_table(model, new)
    predicted = predict_table(model, new, missing="drop")
    assert predicted["cluster"].isna().tolist() == [False, False, True, False, False, False]
    assert predicted.attrs["unseen_categories"] == {"color": 2} == unseen_categories(model, new.dropna())
    assert prediction_summary(model, predicted)["unseen_categories"] == {"color": 2}
    same = predict_table(model, table)
    assert same["cluster"].tolist() == result.labels.tolist()


def test_missing_ignore_clusters_rows_with_gaps_on_their_observed_values(table):
    gappy = table.copy()
    gappy.loc[::6, "color"] = None
    gappy.loc[3::6, "amount"] = np.nan
    result = fit_mixed_clusters(gappy, 3, categorical=["color"], random_state=0, n_init=3, missing="ignore")
    model = result.pipeline[-1]
    assert model.missing == "ignore" and result.n_incomplete == int(gappy.isna().any(axis=1).sum())
    assert len(result.labels) == len(gappy) and len(result.dropped) == 0
    for k in range(3):
        colors = gappy.loc[result.labels == k, "color"].dropna()
        assert result.mode_shares.loc[k, "color"] == pytest.approx((colors == result.centers.loc[k, "color"]).mean())
        amounts = gappy.loc[result.labels == k, "amount"].dropna()
        assert result.centers.loc[k, "amount"] == pytest.approx(amounts.mean(), rel=1e-12)
