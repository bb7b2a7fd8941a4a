"""profile_clusters and centers_in_original_units against pandas groupby and scipy by hand."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from kmeanskit._analysis.profiles import centers_in_original_units, feature_separation, profile_clusters
from kmeanskit._estimators.kmeans import KMeans


@pytest.fixture(scope="module")
def iris_fit():
    iris = load_iris(as_frame=True)
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(iris.data)
    return iris.data, pipe


def test_profile_in_original_units_matches_groupby_and_scipy(iris_fit):
    data, pipe = iris_fit
    scaled = pd.DataFrame(pipe[:-1].transform(data), columns=data.columns)
    labels = pipe[-1].labels_
    profile = profile_clusters(scaled, labels, scaler=pipe[:-1])

    assert list(profile.columns) == [
        "size", "share", "mean", "std", "median", "anova_f", "anova_p", "kruskal_p", "eta_squared"]
    assert profile.index.names == ["cluster", "feature"]
    assert list(profile.index.get_level_values("feature")[:4]) == list(data.columns)

    grouped = data.groupby(labels)
    pd.testing.assert_frame_equal(
        profile["mean"].unstack("feature")[list(data.columns)], grouped.mean(), check_names=False, atol=1e-10
    )
    pd.testing.assert_frame_equal(
        profile["std"].unstack("feature")[list(data.columns)], grouped.std(), check_names=False, atol=1e-10
    )
    pd.testing.assert_frame_equal(
        profile["median"].unstack("feature")[list(data.columns)], grouped.median(), check_names=False, atol=1e-10
    )
    sizes = np.bincount(labels)
    for c in range(3):
        rows = profile.xs(c, level="cluster")
        assert (rows["size"] == sizes[c]).all()
        assert np.allclose(rows["share"], sizes[c] / 150)
    for name in data.columns:
        groups = [data[name].to_numpy()[labels == c] for c in range(3)]
        anova = stats.f_oneway(*groups)
        rows = profile.xs(name, level="feature")
        assert np.allclose(rows["anova_f"], anova.statistic)
        assert np.allclose(rows["anova_p"], anova.pvalue)
        assert np.allclose(rows["kruskal_p"], stats.kruskal(*groups).pvalue)
        # eta squared: between-cluster over total sum of squares, and F = (eta2 / (k - 1)) / ((1 - eta2) / (n - k)).
        values = data[name].to_numpy()
        between = sum(g.size * (g.mean() - values.mean()) ** 2 for g in groups)
        eta2 = between / ((values - values.mean()) ** 2).sum()
        assert np.allclose(rows["eta_squared"], eta2)
        assert np.isclose(anova.statistic, (eta2 / 2) / ((1 - eta2) / 147))


def test_feature_names_and_plain_arrays():
    X = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [10.0, 10.0], [12.0, 10.0]])
    labels = np.array(["a", "a", "a", "b", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # constant feature: NaN, no warning spam
        profile = profile_clusters(X, labels, feature_names=["height", "flat"])
    assert profile.loc[("a", "height"), "mean"] == 2.0
    assert profile.loc[("b", "height"), "median"] == 11.0
    assert profile.loc[("b", "height"), "std"] == pytest.approx(np.std([10.0, 12.0], ddof=1))
    assert np.isnan(profile.loc[("a", "flat"), "anova_f"]) and np.isnan(profile.loc[("a", "flat"), "kruskal_p"])
    assert not np.isnan(profile.loc[("a", "height"), "anova_p"])
    default = profile_clusters(X, labels)
    assert list(default.index.get_level_values("feature").unique()) == ["x0", "x1"]


def test_single_cluster_and_singletons_give_nan_quietly():
    X = np.random.RandomState(0).normal(size=(6, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = profile_clusters(X, np.zeros(6))
        lonely = profile_clusters(X, [0, 0, 0, 1, 1, 2])
    assert one[["anova_f", "anova_p", "kruskal_p"]].isna().all().all()
    assert one["size"].iloc[0] == 6 and one["share"].iloc[0] == 1.0
    assert np.isnan(lonely.loc[(2, "x0"), "std"])
    assert np.isfinite(lonely.loc[(2, "x0"), "anova_p"])


def test_bad_input():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="labels has 3 values but X has 4 samples"):
        profile_clusters(X, [0, 1, 0])
    with pytest.raises(ValueError, match="feature_names has 1 names but X has 2 features"):
        profile_clusters(X, [0, 1, 0, 1], feature_names=["a"])
    with pytest.raises(TypeError, match="scaler must be a fitted transformer with inverse_transform"):
        profile_clusters(X, [0, 1, 0, 1], scaler=KMeans(2))
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="X contains infinite values; every value must be finite"):
        profile_clusters(X, [0, 1, 0, 1])


def test_centers_in_original_units(iris_fit):
    data, pipe = iris_fit
    centers = centers_in_original_units(pipe)
    assert list(centers.columns) == list(data.columns) and centers.index.name == "cluster"
    # K-Means centers are cluster means, and the scaler is affine: the means in original units
    means = data.groupby(pipe[-1].labels_).mean().to_numpy()
    np.testing.assert_allclose(centers.to_numpy(), means, rtol=1e-3)
    two_steps = make_pipeline(StandardScaler(), MinMaxScaler(), KMeans(3, random_state=0)).fit(data)
    np.testing.assert_allclose(
        centers_in_original_units(two_steps).to_numpy(),
        data.groupby(two_steps[-1].labels_).mean().to_numpy(), rtol=1e-3,
    )
    bare = KMeans(2, random_state=0).fit(data.to_numpy())
    assert list(centers_in_original_units(bare).columns) == ["x0", "x1", "x2", "x3"]


def test_feature_names_come_from_the_model_or_scaler_when_x_is_an_array(iris_fit):
    data, pipe = iris_fit
    scaled = pipe[:-1].transform(data)  # an array: the names are lost here
    labels = pipe[-1].labels_
    expected = list(data.columns)
    from_pipeline = profile_clusters(scaled, labels, model=pipe)
    from_scaler = profile_clusters(scaled, labels, scaler=pipe[:-1])
    for profile in (from_pipeline, from_scaler):
        assert list(profile.index.get_level_values("feature").unique()) == expected
    # Explicit names win; a model with other features' names is not used.
    named = profile_clusters(scaled, labels, model=pipe, feature_names=["a", "b", "c", "d"])
    assert list(named.index.get_level_values("feature").unique()) == ["a", "b", "c", "d"]
    other = KMeans(2, random_state=0).fit(data.iloc[:, :2])
    assert list(profile_clusters(scaled, labels, model=other).index.get_level_values("feature").unique()) == [
        "x0", "x1", "x2", "x3"]


def test_feature_separation_ranks_by_eta_squared(iris_fit):
    data, pipe = iris_fit
    profile = profile_clusters(data, pipe[-1].labels_)
    ranking = feature_separation(profile)
    assert list(ranking.columns) == ["eta_squared", "anova_f", "anova_p", "kruskal_p"]
    assert ranking.index.name == "feature" and sorted(ranking.index) == sorted(data.columns)
    assert np.all(np.diff(ranking["eta_squared"].to_numpy()) <= 0)
    # With n and k fixed, F grows with eta squared: the same order.
    assert np.all(np.diff(ranking["anova_f"].to_numpy()) <= 0)
    # Petal measurements separate the iris clusters; sepal width least.
    assert set(ranking.index[:2]) == {"petal length (cm)", "petal width (cm)"}
    assert ranking.index[-1] == "sepal width (cm)"


def test_feature_separation_puts_constant_features_last_and_refuses_other_tables():
    # "mixed": within-cluster spread larger than the gap (eta squared 0.2); "apart": 225 of 226 between.
    X = np.array([[1.0, 0.0, 5.0], [1.0, 2.0, 6.0], [1.0, 1.0, 20.0], [1.0, 3.0, 21.0]])
    ranking = feature_separation(profile_clusters(X, [0, 0, 1, 1], feature_names=["flat", "mixed", "apart"]))
    assert list(ranking.index) == ["apart", "mixed", "flat"]
    np.testing.assert_allclose(ranking["eta_squared"].iloc[:2], [225 / 226, 0.2])
    assert np.isnan(ranking.loc["flat", "eta_squared"])
    with pytest.raises(TypeError, match="profile must be the DataFrame returned by profile_clusters"):
        feature_separation(pd.DataFrame({"a": [1.0]}))
