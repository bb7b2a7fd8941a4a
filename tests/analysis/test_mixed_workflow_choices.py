"""fit_mixed_clusters: k chosen by select_k (the methods of the mixed cost), stability, and the silhouette in the
model's own dissimilarity."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KPrototypes, select_k
from kmeanskit._analysis.mixed_workflow import fit_mixed_clusters
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit.metrics import cluster_stability, mixed_silhouette_score


@pytest.fixture
def table():
    rng = np.random.default_rng(5)
    group = np.repeat([0, 1, 2, 3], 60)
    store = np.array(["n", "s", "e", "w"], dtype=object)[group]
    flip = rng.random(group.size) < 0.1
    store[flip] = rng.choice(["n", "s", "e", "w"], flip.sum())
    return pd.DataFrame({"amount": group * 50.0 + rng.normal(0, 8, group.size), "store": store,
                         "age": (group % 2) * 20 + rng.normal(40, 3, group.size)})


def test_auto_keeps_the_model_select_k_chose_on_the_scaled_table(table):
    result = fit_mixed_clusters(table, "auto", categorical=["store"], n_init=3, random_state=0)
    scaled = NumericScaler(categorical=("store",)).fit_transform(table)
    selection = select_k(scaled, range(2, 11), estimator=KPrototypes(categorical=("store",), n_init=3),
                         random_state=0, progress=False)
    assert result.n_clusters == selection.best_k == result.selection.best_k == 4
    assert result.selection.reason == selection.reason
    assert np.array_equal(result.labels, selection.models[4].labels_)
    assert result.inertia == selection.models[4].inertia_
    # The silhouette of the fit: in its own dissimilarity, on the scaled numeric columns.
    score = mixed_silhouette_score(scaled[["amount", "age"]], scaled[["store"]], result.labels,
                                   gamma=result.gamma)
    assert result.silhouette == pytest.approx(score, rel=1e-12)
    assert result.silhouette_note == ("in K-Prototypes' dissimilarity: squared distance plus gamma per mismatched "
                                      "category")
    assert result.to_dict()["silhouette"] == pytest.approx(score, rel=1e-12)


def test_stability_refits_the_whole_pipeline(table):
    result = fit_mixed_clusters(table, 4, categorical=["store"], random_state=0, stability=6)
    again = cluster_stability(table, result.pipeline, n_boot=6, random_state=0)
    assert np.array_equal(result.stability.jaccard, again.jaccard)
    assert result.to_dict()["clusters"][0]["stability"] == result.stability.mean_jaccard[0]


def test_auto_needs_three_distinct_rows(table):
    with pytest.raises(ValueError, match="n_clusters='auto' needs at least 3 distinct rows to compare values of k; "
                                         "got 2"):
        fit_mixed_clusters(pd.DataFrame({"c": ["a", "b"] * 10}), "auto", categorical=["c"])
