"""select_k on tables with categorical columns: KPrototypes and KModes scored in their own cost."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from kmeanskit import KModes, KPrototypes, select_k
from kmeanskit._analysis.columns import LevelsLostError
from kmeanskit._analysis.selection import MIXED_METHODS
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit.metrics import mixed_silhouette_score


def shop(n=240, k=4, seed=0):
    """k groups: an amount that follows them, a store that follows them 85% of the time, a noise column."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(k), n // k)
    store = np.array(["north", "south", "east", "west"], dtype=object)[group % 4]
    flip = rng.random(group.size) < 0.15
    store[flip] = rng.choice(["north", "south", "east", "west"], flip.sum())
    return pd.DataFrame({"amount": group * 6.0 + rng.normal(0, 1, group.size),
                         "visits": (group % 2) * 4.0 + rng.normal(0, 1, group.size),
                         "store": store,
                         "colour": rng.choice(["red", "blue"], group.size).astype(object)})


def test_kprototypes_is_scored_by_its_cost_its_silhouette_and_prediction_strength():
    X = shop()
    result = select_k(X, range(2, 7), estimator=KPrototypes(n_init=3), random_state=0, progress=False)
    assert result.methods == MIXED_METHODS == ("elbow", "silhouette", "prediction_strength")
    assert list(result.table.columns) == ["inertia", "silhouette", "prediction_strength", "fit_seconds"]
    for k in range(2, 7):
        reference = KPrototypes(k, n_init=3, random_state=0).fit(X)
        model = result.models[k]
        assert np.array_equal(model.labels_, reference.labels_)
        assert result.table.loc[k, "inertia"] == reference.inertia_
        assert result.table.loc[k, "silhouette"] == pytest.approx(mixed_silhouette_score(
            X[["amount", "visits"]], X[["store", "colour"]], reference.labels_, gamma=reference.gamma_), rel=1e-12)
        assert 0 <= result.table.loc[k, "prediction_strength"] <= 1
    assert result.best_k == 4 and result.recommended["prediction_strength"] == 4
    assert result.reason.startswith("k = 4: ")
    assert result.reason.endswith("(The gap statistic, Calinski-Harabasz and Davies-Bouldin are not computed for a "
                                  "KPrototypes: the gap's reference data are uniform in a box, which categories have "
                                  "no meaning in, and the other two are Euclidean.)")


def test_a_pipeline_with_the_numeric_scaler_keeps_its_models_and_a_sample_is_said():
    X = shop(n=400)
    template = Pipeline([("scale", NumericScaler(categorical=("store", "colour"))),
                         ("kprototypes", KPrototypes(categorical=("store", "colour"), n_init=2))])
    result = select_k(X, [3, 4, 5], estimator=template, random_state=1, sample_size=150, progress=False)
    assert isinstance(result.models[4], Pipeline) and result.best_k == 4
    assert result.sample_note == "silhouette and prediction strength on a random sample of 150 of 400 rows"
    assert "(Silhouette and prediction strength on a random sample of 150 of 400 rows.)" in result.reason


def test_kmodes_on_categories_alone():
    rng = np.random.default_rng(2)
    group = np.repeat(np.arange(3), 100)
    columns = {}
    for c in range(5):
        own = np.array(["a", "b", "c", "d"], dtype=object)[(group + c) % 4]
        noise = rng.choice(["a", "b", "c", "d"], group.size).astype(object)
        columns[f"q{c}"] = np.where(rng.random(group.size) < 0.8, own, noise)
    X = pd.DataFrame(columns)
    result = select_k(X, range(2, 6), estimator=KModes(n_init=5), random_state=0, progress=False)
    assert result.best_k == 3 and result.recommended["silhouette"] == 3
    assert result.table.loc[3, "inertia"] == KModes(3, n_init=5, random_state=0).fit(X).inertia_
    assert "not computed for a KModes" in result.reason


@pytest.mark.parametrize("methods", [["gap"], ["silhouette", "calinski_harabasz", "davies_bouldin"]])
def test_euclidean_methods_are_refused_for_categories_naming_them(methods):
    refused = [m for m in methods if m not in MIXED_METHODS]
    with pytest.raises(ValueError, match=re.escape(f"methods {refused!r} are undefined for a KPrototypes, which "
                                                   "clusters categorical columns (the gap's reference data")):
        select_k(shop(), [2, 3], estimator=KPrototypes(), methods=methods, progress=False)


def test_halves_keep_two_levels_of_every_category_or_say_which_column_cannot():
    X = shop(n=120)
    rare = np.array(["no"] * 120, dtype=object)
    rare[[5, 70, 100]] = "yes"  # halves with one level are drawn again
    result = select_k(X.assign(vip=rare), [2, 3, 4], estimator=KPrototypes(n_init=2), random_state=0,
                      methods=["prediction_strength"], progress=False)
    assert np.isfinite(result.table["prediction_strength"]).all()
    rare[[5, 70, 100]] = ["yes", "no", "no"]  # one row of "yes": one half always has a single level
    with pytest.raises(LevelsLostError, match="prediction strength needs two levels of every categorical column in each "
                                         "half of the rows; column 'vip' had one level"):
        select_k(X.assign(vip=rare), [2, 3], estimator=KPrototypes(), random_state=0, progress=False)


def test_unscaled_numeric_columns_are_warned_about_not_the_categories():
    X = shop().assign(amount=lambda f: f["amount"] * 1e4)
    with pytest.warns(UserWarning, match="amount"):
        select_k(X, [2, 3], estimator=KPrototypes(), random_state=0, methods=["elbow"], progress=False)


def test_every_k_scores_its_silhouette_on_the_same_sample_without_a_seed(monkeypatch):
    from kmeanskit._analysis import metrics

    seeds = []
    original = metrics.silhouette_or_reason
    monkeypatch.setattr(metrics, "silhouette_or_reason",
                        lambda *a, **kw: (seeds.append(kw["random_state"]), original(*a, **kw))[1])
    result = select_k(shop(n=400), [2, 3, 4], estimator=KPrototypes(n_init=1), sample_size=100,
                      methods=("silhouette",), progress=False)
    assert len(seeds) == 3 and len(set(seeds)) == 1 and isinstance(seeds[0], int)
    assert result.table["silhouette"].notna().all()
