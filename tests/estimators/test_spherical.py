"""SphericalKMeans: a plain NumPy reference implementation, dense against CSR, determinism (its kernels:
tests/engine/test_spherical.py; its scikit-learn contract: test_contract.py)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import cosine_distances

from kmeanskit._estimators.kmeans import kmeans_plusplus
from kmeanskit._estimators.spherical import SphericalKMeans

from ..engine.reference import unit_rows


# --------------------------------------------------------- NumPy reference
def reference_spherical_kmeans(X, centers_init, w=None, max_iter=300, tol=1e-4):
    """Spherical k-means in plain NumPy (float64), the loop semantics of KMeans."""
    Xn = unit_rows(X)
    n, d = Xn.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    # tol relative to the mean variance of the normalised features, as KMeans does for its data.
    tol_abs = tol * np.var(Xn, axis=0).mean()
    C = unit_rows(centers_init)
    labels_old = np.full(n, -1)
    history = []
    strict = False
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (returned)
        cos = Xn @ C.T
        labels = cos.argmax(axis=1)
        history.append(float(np.sum(w * (1.0 - cos[np.arange(n), labels]))))
        C_new = C.copy()
        for j in range(C.shape[0]):
            members = labels == j
            if w[members].sum() > 0:
                s = (w[members, None] * Xn[members]).sum(axis=0)
                C_new[j] = s / np.linalg.norm(s)
        shift = float(((C_new - C) ** 2).sum())
        C = C_new
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if shift <= tol_abs:
            break
        labels_old = labels
    if not strict:
        labels = (Xn @ C.T).argmax(axis=1)
    inertia = float(np.sum(w * (1.0 - (Xn @ C.T)[np.arange(n), labels])))
    return labels, C, inertia, n_iter, np.array(history)


def _directions(n=600, d=6, k=4, seed=0, spread=0.25, dtype=np.float64):
    """Rows scattered around k random directions, each with a random length."""
    rng = np.random.RandomState(seed)
    axes = unit_rows(rng.normal(size=(k, d)))
    y = rng.randint(k, size=n)
    X = axes[y] + spread * rng.normal(size=(n, d))
    X *= rng.uniform(0.5, 20.0, size=(n, 1))
    return X.astype(dtype), y


# ------------------------------------------------ the estimator vs the reference
@pytest.mark.parametrize("d, k", [(6, 4), (40, 5), (200, 100)], ids=["direct", "chunked", "blocks"])
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_matches_numpy_reference_from_the_same_initial_centers(d, k, tol):
    X, _ = _directions(n=1500, d=d, k=k, seed=d, spread=0.6)
    X = unit_rows(X)  # normalised data
    init = X[np.random.RandomState(1).choice(len(X), k, replace=False)] + 0.05
    skm = SphericalKMeans(k, init=init, tol=tol).fit(X)
    labels, centers, inertia, n_iter, history = reference_spherical_kmeans(X, init, tol=tol)
    np.testing.assert_array_equal(skm.labels_, labels)
    np.testing.assert_allclose(skm.cluster_centers_, centers, rtol=1e-10, atol=1e-12)
    assert skm.n_iter_ == n_iter
    assert skm.inertia_ == pytest.approx(inertia, rel=1e-10)
    np.testing.assert_allclose(skm.inertia_history_, history, rtol=1e-10)


def test_matches_reference_with_weights_on_raw_rows():
    X, _ = _directions(n=800, d=8, k=5, seed=3, spread=0.5)
    w = np.random.RandomState(4).uniform(0.1, 5.0, size=len(X))
    init = X[:5]
    skm = SphericalKMeans(5, init=init, tol=0).fit(X, sample_weight=w)
    labels, centers, inertia, n_iter, _ = reference_spherical_kmeans(X, init, w=w, tol=0)
    np.testing.assert_array_equal(skm.labels_, labels)
    np.testing.assert_allclose(skm.cluster_centers_, centers, rtol=1e-10, atol=1e-12)
    assert skm.inertia_ == pytest.approx(inertia, rel=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_dense_and_csr_give_the_same_result(dtype, init):
    rng = np.random.RandomState(5)
    # TF-IDF-like: non-negative, 95% zeros, every row with at least one term.
    X = sp.random(700, 300, density=0.05, format="csr", random_state=rng, dtype=dtype)
    X = (X + sp.csr_matrix((np.ones(700, dtype=dtype), (np.arange(700), rng.randint(300, size=700))), (700, 300)))
    X = X.tocsr()
    dense = SphericalKMeans(6, init=init, n_init=2, random_state=2).fit(X.toarray())
    sparse = SphericalKMeans(6, init=init, n_init=2, random_state=2).fit(X)
    np.testing.assert_array_equal(dense.labels_, sparse.labels_)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(dense.cluster_centers_, sparse.cluster_centers_, rtol=rtol, atol=rtol / 10)
    assert dense.inertia_ == pytest.approx(sparse.inertia_, rel=rtol)
    assert sparse.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(sparse.predict(X), sparse.labels_)
    np.testing.assert_allclose(sparse.transform(X), dense.transform(X.toarray()), atol=1e-5 if rtol > 1e-6 else 1e-12)


def test_kmeans_plusplus_draws_the_rows_kmeans_plusplus_draws_on_normalised_data():
    X, _ = _directions(n=500, d=10, k=6, seed=6)
    for seed in range(3):
        skm = SphericalKMeans(6, random_state=seed, max_iter=1).fit(X)
        _, indices = kmeans_plusplus(unit_rows(X), 6, random_state=seed)
        # One iteration from those seeds, by the reference.
        labels, centers, *_ = reference_spherical_kmeans(X, X[indices], max_iter=1)
        np.testing.assert_array_equal(skm.labels_, labels)
        np.testing.assert_allclose(skm.cluster_centers_, centers, rtol=1e-10, atol=1e-12)


def test_only_directions_count():
    # Scaling each row by any positive factor (even 1e-150 or 1e150) changes nothing.
    X, y = _directions(n=400, d=5, k=3, seed=7, spread=0.1)
    factors = 10.0 ** np.random.RandomState(8).uniform(-150, 150, size=(len(X), 1))
    a = SphericalKMeans(3, random_state=0).fit(X)
    b = SphericalKMeans(3, random_state=0).fit(X * factors)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12, atol=1e-14)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-9, abs=1e-12)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(y, a.labels_) == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_attributes_transform_score_predict(dtype):
    X, _ = _directions(n=500, d=7, k=4, seed=9, dtype=dtype)
    w = np.random.RandomState(0).uniform(0.2, 3.0, size=len(X))
    skm = SphericalKMeans(4, random_state=0).fit(X, sample_weight=w)
    C = skm.cluster_centers_
    assert C.dtype == dtype and C.shape == (4, 7)
    np.testing.assert_allclose(np.linalg.norm(C.astype(np.float64), axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-14)
    D = cosine_distances(X.astype(np.float64), C.astype(np.float64))
    T = skm.transform(X)
    assert T.dtype == dtype
    np.testing.assert_allclose(T, D, atol=1e-6 if dtype == np.float32 else 1e-13)
    np.testing.assert_array_equal(skm.labels_, D.argmin(axis=1))
    np.testing.assert_array_equal(skm.predict(X), skm.labels_)
    expected = float((w.astype(dtype).astype(np.float64) * D[np.arange(len(X)), skm.labels_]).sum())
    assert skm.inertia_ == pytest.approx(expected, rel=1e-9)
    assert skm.score(X, sample_weight=w) == pytest.approx(-skm.inertia_, rel=1e-12)
    # Half the squared Euclidean inertia of the normalised rows to the centers.
    Xn = unit_rows(X)
    half_sq = 0.5 * (w.astype(dtype) * ((Xn - C.astype(np.float64)[skm.labels_]) ** 2).sum(axis=1)).sum()
    assert skm.inertia_ == pytest.approx(half_sq, rel=1e-5 if dtype == np.float32 else 1e-9)
    h = skm.inertia_history_
    assert h.shape == (skm.n_iter_,) and np.all(np.diff(h) <= 1e-12 * h[0])
    assert skm.fit_predict(X, sample_weight=w).tolist() == skm.labels_.tolist()
    assert skm.get_feature_names_out().tolist() == [f"sphericalkmeans{j}" for j in range(4)]


def test_integer_weights_equal_repeated_rows():
    X, _ = _directions(n=200, d=4, k=3, seed=10, spread=0.4)
    counts = np.random.RandomState(1).randint(1, 4, size=len(X))
    init = X[[0, 1, 2]]
    a = SphericalKMeans(3, init=init, tol=0).fit(X, sample_weight=counts)
    b = SphericalKMeans(3, init=init, tol=0).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_array_equal(np.repeat(a.labels_, counts), b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("d, k", [(5, 6), (64, 8), (128, 200)], ids=["direct", "chunked", "blocks"])
def test_bitwise_identical_across_thread_counts(sparse, d, k, at_thread_counts):
    X, _ = _directions(n=3000, d=d, k=k, seed=11, spread=0.8, dtype=np.float32)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0) + np.eye(d, dtype=np.float32)[np.arange(len(X)) % d])
    def fit():
        skm = SphericalKMeans(k, random_state=7, max_iter=20).fit(X)
        return skm.cluster_centers_, skm.labels_, skm.inertia_, skm.inertia_history_

    (c1, l1, i1, h1), (c2, l2, i2, h2) = at_thread_counts(fit)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(l1, l2)
    assert i1 == i2
    np.testing.assert_array_equal(h1, h2)


def test_same_seed_same_result_and_n_init():
    X, _ = _directions(n=300, seed=12)
    a = SphericalKMeans(4, init="random", random_state=3).fit(X)
    b = SphericalKMeans(4, init="random", random_state=3).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a._resolve_n_init() == 10 and SphericalKMeans(4)._resolve_n_init() == 1
    with pytest.warns(RuntimeWarning, match="only one init"):
        SphericalKMeans(2, init=X[:2], n_init=3).fit(X)
    # More restarts never give a worse kept run.
    one = SphericalKMeans(4, init="random", n_init=1, random_state=3).fit(X)
    assert a.inertia_ <= one.inertia_ + 1e-12


def test_empty_cluster_takes_the_worst_fit_row():
    X = np.array([[1.0, 0.0], [1.0, 0.05], [0.0, 1.0], [0.05, 1.0], [-1.0, 0.1]])
    init = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # no row has a positive cosine with the third
    skm = SphericalKMeans(3, init=init, max_iter=10).fit(X)
    assert np.all(np.isfinite(skm.cluster_centers_))
    assert np.unique(skm.labels_).size == 3
    # Row 4 points away from every center: it was the worst fit and now has its own.
    assert skm.labels_[4] != skm.labels_[0] and skm.labels_[4] != skm.labels_[2]
    np.testing.assert_allclose(skm.cluster_centers_[skm.labels_[4]], unit_rows(X[4:5])[0], rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_fewer_directions_than_clusters_warns_and_stops(sparse):
    X = np.repeat(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]), [4, 3, 3], axis=0)
    X[::2] *= 5.0  # lengths differ, directions repeat
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\).*n_clusters \(5\)"):
        skm = SphericalKMeans(5, random_state=0).fit(sp.csr_matrix(X) if sparse else X)
    assert np.all(np.isfinite(skm.cluster_centers_))
    assert skm.n_iter_ <= 5
    assert skm.inertia_ == pytest.approx(0.0, abs=1e-12)


def test_antipodal_rows_keep_a_finite_center():
    # Two opposite rows in one cluster sum to zero: no mean direction; never NaN.
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.1, 1.0]])
    skm = SphericalKMeans(2, init=np.array([[0.0, -1.0], [0.0, 1.0]]), max_iter=5).fit(X)
    assert np.all(np.isfinite(skm.cluster_centers_))
    assert np.isfinite(skm.inertia_)


def test_tf_idf_clusters_by_topic():
    pytest.importorskip("sklearn.feature_extraction")
    from sklearn.feature_extraction.text import TfidfVectorizer

    topics = {
        "space": "rocket orbit planet launch moon astronaut satellite telescope star galaxy",
        "cooking": "recipe oven flour sugar butter bake dough salt pepper onion",
        "football": "goal match referee striker penalty league stadium coach team pitch",
    }
    rng = np.random.RandomState(0)
    docs, y = [], []
    for t, words in enumerate(topics.values()):
        vocab = words.split()
        for _ in range(30):
            docs.append(" ".join(rng.choice(vocab, size=rng.randint(4, 12))))
            y.append(t)
    X = TfidfVectorizer().fit_transform(docs)
    skm = SphericalKMeans(3, n_init=3, random_state=0).fit(X)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(y, skm.labels_) == 1.0
