"""cluster_stability of KPrototypes and KModes models (tables with categorical columns)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from kmeanskit import KModes, KPrototypes
from kmeanskit._analysis.columns import LevelsLostError
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit.metrics import cluster_stability


def table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    group = np.repeat([0, 1, 2], n // 3)
    return pd.DataFrame({"amount": group * 100.0 + rng.normal(0, 10, n),
                         "store": np.array(["north", "south", "east"], dtype=object)[group],
                         "colour": rng.choice(["red", "blue"], n).astype(object)})


def test_real_groups_are_highly_stable_and_an_artefact_split_is_not():
    X = table()
    pipeline = Pipeline([("scale", NumericScaler(categorical=("store", "colour"))),
                         ("kprototypes", KPrototypes(3, categorical=("store", "colour"), random_state=0))])
    result = cluster_stability(X, pipeline.fit(X), n_boot=10, random_state=0)
    assert result.clusters["size"].tolist() == [100, 100, 100]
    assert result.clusters["mean_jaccard"].tolist() == [1.0, 1.0, 1.0]
    assert result.clusters["reading"].tolist() == ["highly stable"] * 3
    # Four clusters of three groups: a group cut in two is not found again.
    split = cluster_stability(X, KPrototypes(4, n_init=1, random_state=0), n_boot=10, random_state=0)
    assert isinstance(split.model, KPrototypes) and split.model.n_clusters == 4
    assert (split.clusters["mean_jaccard"] < 0.75).sum() >= 1


def test_kmodes_subsets_and_the_same_result_for_the_same_seed():
    X = table()[["store", "colour"]]
    first = cluster_stability(X, KModes(3, random_state=0), n_boot=5, method="subset", random_state=3)
    again = cluster_stability(X, KModes(3, random_state=0), n_boot=5, method="subset", random_state=3)
    assert np.array_equal(first.jaccard, again.jaccard)
    assert first.note == "subsets of 150 rows, resampled from all 300 rows"


def test_resamples_keep_two_levels_of_a_rare_category_or_the_column_is_named(monkeypatch):
    X = table(n=90)
    rare = np.array(["no"] * 90, dtype=object)
    rare[3] = "yes"  # half the subsets miss it, and KPrototypes refuses a column of one level: drawn again
    model = KPrototypes(3, random_state=0).fit(X.assign(vip=rare))
    result = cluster_stability(X.assign(vip=rare), model, n_boot=20, method="subset", random_state=0)
    assert result.jaccard.shape == (3, 20) and result.clusters["reading"].tolist() == ["highly stable"] * 3
    # With one draw allowed, a seed whose first subset misses the row: the column is named.
    from kmeanskit._analysis import stability

    monkeypatch.setattr(stability, "_LEVEL_DRAWS", 1)
    seed = next(s for s in range(100) if 3 not in np.random.RandomState(s).choice(90, 45, replace=False))
    with pytest.raises(LevelsLostError, match="column 'vip' kept a single level in 1 resamples in a row"):
        cluster_stability(X.assign(vip=rare), model, n_boot=2, method="subset", random_state=seed)


def test_a_resample_with_no_observed_entry_of_a_column_is_drawn_again():
    # Column 3 is observed in two rows only (missing="ignore"): many subsets hold neither of them.
    rng = np.random.RandomState(0)
    X = np.empty((40, 4), dtype=object)
    X[:, 0], X[:, 1] = rng.randn(40), rng.randn(40)
    X[:, 2] = rng.choice(["a", "b"], 40)
    X[:, 3] = None
    X[0, 3], X[1, 3] = "u", "v"
    model = KPrototypes(2, categorical=[2, 3], missing="ignore", random_state=0).fit(X)
    result = cluster_stability(X, model, n_boot=5, method="subset", random_state=0)
    assert result.jaccard.shape == (2, 5)
