"""kmeanskit.metrics against scikit-learn, hand computations and bad input."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn.metrics as skm
from sklearn.datasets import load_digits, load_iris, make_blobs

import kmeanskit.metrics as km
from kmeanskit._estimators.kmeans import KMeans


def _blobs(n=600, d=4, k=4, seed=0, dtype=np.float64):
    X, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=1.5, random_state=seed)
    return X.astype(dtype), y


def _datasets():
    X, y = _blobs()
    yield "blobs", X, y
    yield "blobs-float32", X.astype(np.float32), y
    iris = load_iris()
    yield "iris", iris.data, iris.target
    digits = load_digits()
    yield "digits", digits.data[:700], digits.target[:700]  # 10 clusters, 64 features, integer data
    # labels that are not 0..k-1 (strings), with singleton clusters
    labels = np.array(["b", "a", "c"])[y % 3].astype(object)
    labels[5] = "lonely"
    labels[17] = "solo"
    yield "strings+singletons", X, labels
    # far from the origin, float32: centering keeps the precision
    yield "far-float32", (X + 1e4).astype(np.float32), y
    # negative, sparse-valued integer labels and duplicated rows
    Xd = np.repeat(X[:150], 2, axis=0)
    yield "duplicates", Xd, np.repeat(y[:150], 2) * -7 + 3
    rng = np.random.RandomState(0)
    yield "uniform-random-labels", rng.rand(400, 3), rng.randint(0, 6, 400)
    # many features: 256-row tiles in float64 too (three tiles here)
    Xw, yw = _blobs(n=700, d=800, k=12)
    yield "wide-800", Xw, yw
    yield "wide-800-float32", Xw.astype(np.float32), yw


def test_public_names():
    assert set(km.__all__) == {
        "adjusted_rand_score", "calinski_harabasz_score", "contingency_matrix", "davies_bouldin_score",
        "inertia", "mixed_silhouette_samples", "mixed_silhouette_score", "normalized_mutual_info_score",
        "purity_score", "silhouette_samples", "silhouette_score",
        "StabilityResult", "cluster_stability",
    }
    assert km.adjusted_rand_score is skm.adjusted_rand_score
    assert km.normalized_mutual_info_score is skm.normalized_mutual_info_score


@pytest.mark.parametrize("name, X, labels", list(_datasets()), ids=[d[0] for d in _datasets()])
def test_silhouette_matches_sklearn(name, X, labels):
    ours = km.silhouette_samples(X, labels)
    theirs = skm.silhouette_samples(X, labels)
    assert ours.dtype == np.float64 and ours.shape == (X.shape[0],)
    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
    assert abs(km.silhouette_score(X, labels) - skm.silhouette_score(X, labels)) < 1e-6


def test_silhouette_singletons_are_zero_and_input_untouched():
    X, y = _blobs(n=100)
    y = y.copy()
    y[0] = 99
    X_before, y_before = X.copy(), y.copy()
    s = km.silhouette_samples(X, y)
    assert s[0] == 0.0
    assert np.array_equal(X, X_before) and np.array_equal(y, y_before)


def test_silhouette_sample_size_draws_like_sklearn():
    X, y = _blobs(n=1500)
    for seed in (0, 7):
        ours = km.silhouette_score(X, y, sample_size=300, random_state=seed)
        theirs = skm.silhouette_score(X, y, sample_size=300, random_state=seed)
        assert abs(ours - theirs) < 1e-9
    assert km.silhouette_score(X, y, sample_size=300, random_state=0) != km.silhouette_score(
        X, y, sample_size=300, random_state=1
    )


@pytest.mark.parametrize("metric", ["manhattan", "cosine"])
def test_other_metrics_fall_back_to_sklearn(metric):
    X, y = _blobs(n=300)
    assert km.silhouette_score(X, y, metric=metric) == pytest.approx(skm.silhouette_score(X, y, metric=metric))


def test_precomputed_and_sparse_fall_back_to_sklearn():
    X, y = _blobs(n=200)
    D = skm.pairwise_distances(X)
    assert km.silhouette_score(D, y, metric="precomputed") == pytest.approx(skm.silhouette_score(X, y))
    Xs = sp.random(200, 30, density=0.2, format="csr", random_state=0)
    assert km.silhouette_score(Xs, y) == pytest.approx(skm.silhouette_score(Xs, y))


def test_dataframe_input():
    iris = load_iris(as_frame=True)
    assert km.silhouette_score(iris.data, iris.target) == pytest.approx(
        skm.silhouette_score(iris.data.to_numpy(), iris.target.to_numpy()), abs=1e-9
    )


@pytest.mark.parametrize("fn", [km.calinski_harabasz_score, km.davies_bouldin_score])
def test_ch_and_db_are_sklearns(fn):
    for _, X, labels in list(_datasets())[:4]:
        theirs = getattr(skm, fn.__name__)(X, labels)
        assert fn(X, labels) == pytest.approx(theirs, rel=1e-12)


# ----------------------------------------------------------------- bad input
SCORES = [km.silhouette_score, km.silhouette_samples, km.calinski_harabasz_score, km.davies_bouldin_score]


@pytest.mark.parametrize("fn", SCORES)
def test_single_cluster_is_refused(fn):
    X, _ = _blobs(n=50)
    with pytest.raises(ValueError, match="undefined for a single cluster"):
        fn(X, np.zeros(50))


@pytest.mark.parametrize("fn", SCORES)
def test_as_many_clusters_as_samples_is_refused(fn):
    X, _ = _blobs(n=20)
    with pytest.raises(ValueError, match="n_labels=20 distinct values for n_samples=20"):
        fn(X, np.arange(20))


@pytest.mark.parametrize("fn", SCORES + [km.inertia])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_refused(fn, bad):
    X, y = _blobs(n=50)
    X[3, 1] = bad
    with pytest.raises(ValueError, match="X contains .* every value must be finite"):
        fn(X, y)


@pytest.mark.parametrize("fn", SCORES + [km.inertia])
def test_labels_of_wrong_length_are_refused(fn):
    X, y = _blobs(n=50)
    with pytest.raises(ValueError, match="labels has 49 values but X has 50 samples"):
        fn(X, y[:49])


@pytest.mark.parametrize("fn", SCORES)
def test_constant_data_is_refused(fn):
    X = np.full((30, 3), 2.5)
    with pytest.raises(ValueError, match="undefined for constant data"):
        fn(X, np.arange(30) % 3)


def test_missing_labels_and_bad_sample_size_are_refused():
    X, y = _blobs(n=30)
    labels = y.astype(float)
    labels[2] = np.nan
    with pytest.raises(ValueError, match="labels contains NaN"):
        km.silhouette_score(X, labels)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="sample_size must be a positive int"):
            km.silhouette_score(X, y, sample_size=bad)


# ------------------------------------------------------------------- inertia
def test_inertia_with_own_means_and_with_model_centers():
    X, y = _blobs(n=500)
    model = KMeans(4, random_state=0).fit(X)
    assert km.inertia(X, model.labels_, model.cluster_centers_) == pytest.approx(model.inertia_, rel=1e-10)
    # without centers: the cluster means; by hand
    by_hand = sum(((X[y == j] - X[y == j].mean(axis=0)) ** 2).sum() for j in range(4))
    assert km.inertia(X, y) == pytest.approx(by_hand, rel=1e-12)
    # weights: weighted means and weighted squares
    w = np.random.RandomState(0).uniform(0.1, 3.0, 500)
    by_hand = 0.0
    for j in range(4):
        m = np.average(X[y == j], axis=0, weights=w[y == j])
        by_hand += (w[y == j] * ((X[y == j] - m) ** 2).sum(axis=1)).sum()
    assert km.inertia(X, y, sample_weight=w) == pytest.approx(by_hand, rel=1e-12)
    # sparse X gives the same as dense
    assert km.inertia(sp.csr_matrix(X), y) == pytest.approx(by_hand_unweighted(X, y), rel=1e-9)
    # one cluster is fine: the total sum of squares
    assert km.inertia(X, np.zeros(500)) == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())


def by_hand_unweighted(X, y):
    return sum(((X[y == j] - X[y == j].mean(axis=0)) ** 2).sum() for j in np.unique(y))


def test_inertia_bad_centers():
    X, y = _blobs(n=50)
    with pytest.raises(ValueError, match="centers has 3 features but X has 4"):
        km.inertia(X, y, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="labels must index the rows of centers"):
        km.inertia(X, y, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="integer indices"):
        km.inertia(X, np.array(["a", "b"] * 25), np.zeros((2, 4)))


# ---------------------------------------------------------- external scores
def test_purity_by_hand():
    true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
    pred = np.array(["x", "x", "y", "y", "y", "z", "z", "z", "x", "z"])
    # x: {0, 0, 2} -> 2; y: {0, 1, 1} -> 2; z: {2, 2, 2, 1} -> 3; purity = 7 / 10
    assert km.purity_score(true, pred) == pytest.approx(0.7)
    total, per = km.purity_score(true, pred, per_cluster=True)
    assert total == pytest.approx(0.7)
    assert per.index.name == "cluster" and per.name == "purity"
    pd.testing.assert_series_equal(
        per, pd.Series([2 / 3, 2 / 3, 3 / 4], index=pd.Index(["x", "y", "z"], name="cluster"), name="purity")
    )
    assert km.purity_score(true, true) == 1.0
    with pytest.raises(ValueError, match="labels_true has 10 values and labels_pred has 9"):
        km.purity_score(true, pred[:9])


def test_contingency_matrix():
    true = np.array(["a", "a", "b", "b", "b"])
    pred = np.array([5, 7, 7, 7, 9])
    table = km.contingency_matrix(true, pred)
    np.testing.assert_array_equal(table, skm.cluster.contingency_matrix(true, pred))
    frame = km.contingency_matrix(true, pred, as_frame=True)
    assert frame.index.name == "true" and frame.columns.name == "predicted"
    assert frame.loc["b", 7] == 2 and frame.loc["a", 9] == 0
    assert list(frame.columns) == [5, 7, 9]
    assert sp.issparse(km.contingency_matrix(true, pred, sparse=True))
    with pytest.raises(ValueError, match="cannot be combined with sparse=True"):
        km.contingency_matrix(true, pred, sparse=True, as_frame=True)
