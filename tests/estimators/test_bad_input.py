"""Bad input gets a clear error; odd but valid input gets a valid result;
nothing the caller passed is modified.

Promise (DESIGN.md): "Bad input gets a clear error naming what is wrong;
nothing crashes, hangs, or returns silent garbage; nothing the user gave is
modified unless they asked."
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import adjusted_rand_score

from kmeanskit import KMeans, k_means, kmeans_plusplus

N, D = 20, 3


@pytest.fixture
def X():
    return np.random.RandomState(0).randn(N, D)


@pytest.fixture
def fitted(X):
    return KMeans(n_clusters=2, random_state=0).fit(X)


def _with(X, i, j, value):
    X = X.copy()
    X[i, j] = value
    return X


# --------------------------------------------------------------------------- X
@pytest.mark.parametrize(
    "value, match",
    [(np.nan, r"X contains NaN"), (np.inf, r"X contains infinity"), (-np.inf, r"X contains infinity")],
)
def test_non_finite_X_fit(X, value, match):
    with pytest.raises(ValueError, match=match):
        KMeans(n_clusters=2).fit(_with(X, 3, 1, value))


@pytest.mark.parametrize("value, match", [(np.nan, r"X contains NaN"), (np.inf, r"X contains infinity")])
def test_non_finite_X_fit_sparse(X, value, match):
    with pytest.raises(ValueError, match=match):
        KMeans(n_clusters=2).fit(sp.csr_matrix(_with(X, 3, 1, value)))


@pytest.mark.parametrize("value, match", [(np.nan, r"X contains NaN"), (np.inf, r"X contains infinity")])
@pytest.mark.parametrize("method", ["predict", "transform", "score"])
def test_non_finite_X_after_fit(fitted, X, value, match, method):
    with pytest.raises(ValueError, match=match):
        getattr(fitted, method)(_with(X, 3, 1, value))


def test_non_finite_X_float32(X):
    with pytest.raises(ValueError, match=r"X contains NaN"):
        KMeans(n_clusters=2).fit(_with(X, 0, 0, np.nan).astype(np.float32))


def test_empty_rows():
    with pytest.raises(ValueError, match=r"0 sample\(s\).*shape=\(0, 3\)"):
        KMeans(n_clusters=2).fit(np.empty((0, 3)))


def test_empty_features():
    with pytest.raises(ValueError, match=r"0 feature\(s\).*shape=\(5, 0\)"):
        KMeans(n_clusters=2).fit(np.empty((5, 0)))


def test_empty_rows_predict(fitted):
    with pytest.raises(ValueError, match=r"0 sample\(s\).*shape=\(0, 3\)"):
        fitted.predict(np.empty((0, 3)))


def test_1d_X():
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array"):
        KMeans(n_clusters=2).fit(np.arange(5.0))


def test_1d_X_predict(fitted, X):
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array"):
        fitted.predict(X[0])


def test_3d_X():
    with pytest.raises(ValueError, match=r"dim 3"):
        KMeans(n_clusters=2).fit(np.zeros((5, 2, 2)))


@pytest.mark.parametrize(
    "data",
    [
        np.array([["a", "b"], ["c", "d"], ["e", "f"]]),
        np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object),
        [["a", "b"], ["c", "d"], ["e", "f"]],
    ],
    ids=["unicode", "object", "list"],
)
def test_strings(data):
    with pytest.raises((ValueError, TypeError), match=r"string to float.*'a'"):
        KMeans(n_clusters=2).fit(data)


def test_strings_predict(fitted):
    with pytest.raises((ValueError, TypeError), match=r"string to float.*'x'"):
        fitted.predict(np.array([["x", "y", "z"]], dtype=object))


def test_complex(X):
    with pytest.raises(ValueError, match=r"[Cc]omplex data not supported"):
        KMeans(n_clusters=2).fit(X + 1j)


def test_complex_predict(fitted, X):
    with pytest.raises(ValueError, match=r"[Cc]omplex data not supported"):
        fitted.predict(X + 1j)


# ------------------------------------------------------------------ n_clusters
def test_more_clusters_than_samples(X):
    with pytest.raises(ValueError, match=rf"n_samples={N}.*n_clusters=30"):
        KMeans(n_clusters=30).fit(X)


@pytest.mark.parametrize("k", [0, -1])
def test_n_clusters_not_positive(X, k):
    with pytest.raises(ValueError, match=rf"n_clusters.*range \[1, inf\).*Got {k}"):
        KMeans(n_clusters=k).fit(X)


@pytest.mark.parametrize("k, shown", [(2.5, r"2\.5"), ("3", r"'3'"), (2.0, r"2\.0"), (None, "None")])
def test_n_clusters_not_integer(X, k, shown):
    with pytest.raises((ValueError, TypeError), match=rf"n_clusters.*int.*Got {shown}"):
        KMeans(n_clusters=k).fit(X)


def test_n_clusters_bool(X):
    # A bool is not a number of clusters: the error must name n_clusters,
    # not come from deep inside numpy.
    with pytest.raises((ValueError, TypeError), match=r"n_clusters"):
        KMeans(n_clusters=True).fit(X)


# ------------------------------------------------------- other hyper-parameters
def test_unknown_init(X):
    with pytest.raises(ValueError, match=r"init.*'k-means\+\+'.*Got 'kmeans'"):
        KMeans(n_clusters=2, init="kmeans").fit(X)


def test_unknown_algorithm(X):
    with pytest.raises(ValueError, match=r"algorithm.*'lloyd'.*Got 'fast'"):
        KMeans(n_clusters=2, algorithm="fast").fit(X)


@pytest.mark.parametrize(
    "param, value, shown",
    [("n_init", 0, "0"), ("n_init", -2, "-2"), ("n_init", "many", "'many'"), ("max_iter", 0, "0"),
     ("max_iter", -5, "-5"), ("tol", -1e-3, r"-0\.001")],
)
def test_bad_numeric_parameter(X, param, value, shown):
    with pytest.raises(ValueError, match=rf"'{param}' parameter.*Got {shown}"):
        KMeans(n_clusters=2, **{param: value}).fit(X)


# ------------------------------------------------------------------ init array
def test_init_array_wrong_k(X):
    with pytest.raises(ValueError, match=r"\(3, 3\).*n_clusters=2.*expected \(2, 3\)"):
        KMeans(n_clusters=2, init=X[:3]).fit(X)


def test_init_array_wrong_n_features(X):
    with pytest.raises(ValueError, match=r"\(2, 2\).*n_features=3.*expected \(2, 3\)"):
        KMeans(n_clusters=2, init=X[:2, :2]).fit(X)


@pytest.mark.parametrize("value, match", [(np.nan, r"init contains NaN"), (np.inf, r"init contains infinity")])
def test_init_array_non_finite(X, value, match):
    with pytest.raises(ValueError, match=match):
        KMeans(n_clusters=2, init=_with(X[:2], 0, 0, value)).fit(X)


def test_init_callable_bad_result(X):
    with pytest.raises(ValueError, match=r"init.*contains NaN"):
        KMeans(n_clusters=2, init=lambda X, k, random_state: np.full((k, X.shape[1]), np.nan)).fit(X)
    with pytest.raises(ValueError, match=r"\(3, 3\).*expected \(2, 3\)"):
        KMeans(n_clusters=2, init=lambda X, k, random_state: np.zeros((k + 1, X.shape[1]))).fit(X)


def test_init_array_1d(X):
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array"):
        KMeans(n_clusters=1, init=X[0]).fit(X)


# --------------------------------------------------------------- sample_weight
def _weights(value=None, n=N, at=2):
    w = np.ones(n)
    if value is not None:
        w[at] = value
    return w


def test_negative_weights(X):
    with pytest.raises(ValueError, match=r"[Nn]egative.*sample_weight"):
        KMeans(n_clusters=2).fit(X, sample_weight=_weights(-1.0))


def test_all_zero_weights(X):
    with pytest.raises(ValueError, match=r"[Ss]ample.?weight.*(non-zero|positive)"):
        KMeans(n_clusters=2).fit(X, sample_weight=np.zeros(N))


@pytest.mark.parametrize(
    "value, match", [(np.nan, r"sample_weight contains NaN"), (np.inf, r"sample_weight contains inf")]
)
def test_non_finite_weights(X, value, match):
    with pytest.raises(ValueError, match=match):
        KMeans(n_clusters=2).fit(X, sample_weight=_weights(value))


@pytest.mark.parametrize("n", [N - 1, N + 1])
def test_weights_wrong_length(X, n):
    with pytest.raises(ValueError, match=rf"sample_weight.*\({n},\).*\({N},\)"):
        KMeans(n_clusters=2).fit(X, sample_weight=np.ones(n))


def test_weights_2d(X):
    with pytest.raises(ValueError, match=r"1D.*got 2D"):
        KMeans(n_clusters=2).fit(X, sample_weight=np.ones((N, 1)))


def test_score_bad_weights(fitted, X):
    with pytest.raises(ValueError, match=r"[Nn]egative.*sample_weight"):
        fitted.score(X, sample_weight=_weights(-1.0))
    with pytest.raises(ValueError, match=rf"sample_weight.*\(3,\).*\({N},\)"):
        fitted.score(X, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"sample_weight contains NaN"):
        fitted.score(X, sample_weight=_weights(np.nan))


# ----------------------------------------------------------------- not fitted
@pytest.mark.parametrize("method", ["predict", "transform", "score"])
def test_not_fitted(X, method):
    with pytest.raises(NotFittedError, match=r"KMeans.*not fitted"):
        getattr(KMeans(n_clusters=2), method)(X)
    assert issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("method", ["predict", "transform", "score"])
@pytest.mark.parametrize("d", [2, 4])
def test_wrong_number_of_features_after_fit(fitted, method, d):
    with pytest.raises(ValueError, match=rf"X has {d} features.*expecting 3 features"):
        getattr(fitted, method)(np.ones((4, d)))


def test_wrong_feature_names_after_fit(X):
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    km = KMeans(n_clusters=2, random_state=0).fit(df)
    with pytest.raises(ValueError, match=r"feature names.*d"):
        km.predict(pd.DataFrame(X, columns=["a", "b", "d"]))


# -------------------------------------------------- fewer distinct points than k
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
def test_fewer_distinct_points_than_clusters(init, dtype, sparse):
    points = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], dtype=dtype)
    X = np.repeat(points, [4, 3, 3], axis=0)
    Xin = sp.csr_matrix(X) if sparse else X
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\).*n_clusters \(5\)"):
        km = KMeans(n_clusters=5, init=init, random_state=0).fit(Xin)
    assert km.cluster_centers_.shape == (5, 2)
    assert km.cluster_centers_.dtype == dtype
    assert np.all(np.isfinite(km.cluster_centers_))
    assert km.labels_.shape == (10,)
    assert np.all((km.labels_ >= 0) & (km.labels_ < 5))
    assert np.isfinite(km.inertia_) and 0.0 <= km.inertia_ <= 1e-10
    # Each point sits on its own center; the three distinct points are in three clusters.
    np.testing.assert_allclose(km.cluster_centers_[km.labels_], X, atol=1e-6)
    assert len({km.labels_[0], km.labels_[4], km.labels_[7]}) == 3
    np.testing.assert_array_equal(km.predict(Xin), km.labels_)


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("tol", [1e-4, 0.0])
def test_fewer_distinct_points_converges(init, dtype, sparse, tol):
    # Once every distinct point has its own center there is nothing left to do:
    # the run must stop (scikit-learn stops after 1-2 iterations), not relocate
    # "empty" clusters back and forth until max_iter.
    points = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], dtype=dtype)
    X = np.repeat(points, [4, 3, 3], axis=0)
    Xin = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(n_clusters=5, init=init, n_init=1, tol=tol, random_state=0).fit(Xin)
    assert km.n_iter_ <= 5, (km.n_iter_, km.inertia_history_[:6])


def test_fewer_distinct_points_k_means_function():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), [4, 3, 3], axis=0)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters"):
        centers, labels, inertia = k_means(X, 5, random_state=0)
    assert np.all(np.isfinite(centers)) and np.all((labels >= 0) & (labels < 5))
    assert 0.0 <= inertia <= 1e-10


def test_all_points_identical():
    X = np.full((7, 3), 2.5)
    with pytest.warns(ConvergenceWarning):
        km = KMeans(n_clusters=3, random_state=0).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, np.full((3, 3), 2.5))
    assert km.inertia_ == 0.0


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_fewer_positive_weights_than_clusters(init):
    # Valid input (weights non-negative, not all zero; n_samples >= n_clusters),
    # but only 2 samples carry weight for 3 clusters. Either a valid result with
    # a ConvergenceWarning, or a clear ValueError naming the weights and k -- never
    # an error from deep inside numpy.
    X = np.random.RandomState(0).randn(10, 2)
    w = np.zeros(10)
    w[:2] = 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = KMeans(n_clusters=3, init=init, random_state=0).fit(X, sample_weight=w)
    except ValueError as exc:
        message = str(exc)
        assert "sample_weight" in message or "weight" in message, message
        assert "3" in message and "2" in message, message
    else:
        assert np.all(np.isfinite(km.cluster_centers_))
        assert np.all((km.labels_ >= 0) & (km.labels_ < 3))
        assert km.inertia_ == pytest.approx(0.0, abs=1e-12)


def test_kmeans_plusplus_fewer_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), [4, 3, 3], axis=0)
    centers, indices = kmeans_plusplus(X, 5, random_state=0)
    assert centers.shape == (5, 2) and np.all(np.isfinite(centers))
    assert np.all((indices >= 0) & (indices < 10))
    np.testing.assert_array_equal(centers, X[indices])


# ------------------------------------------------------------------ huge values
def _blobs():
    return make_blobs(n_samples=300, centers=3, n_features=4, cluster_std=0.5, random_state=0)


HUGE = {
    "scaled": lambda X: X * 1e150,
    "offset": lambda X: 1e150 + X * 1e140,
}


@pytest.mark.parametrize("kind", sorted(HUGE))
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_huge_values(kind, init, sparse):
    X0, y = _blobs()
    X = HUGE[kind](X0)
    Xin = sp.csr_matrix(X) if sparse else X
    km = KMeans(n_clusters=3, init=init, random_state=0).fit(Xin)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert np.isfinite(km.inertia_)
    assert adjusted_rand_score(y, km.labels_) == 1.0
    # The inertia is that of the true partition at this scale.
    scale = 1e150 if kind == "scaled" else 1e140
    ref = sum(((X0[y == c] - X0[y == c].mean(axis=0)) ** 2).sum() for c in range(3)) * scale**2
    assert km.inertia_ == pytest.approx(ref, rel=1e-6)
    np.testing.assert_array_equal(km.predict(Xin), km.labels_)
    assert np.all(np.isfinite(km.transform(Xin)))
    assert np.isfinite(km.score(Xin))


@pytest.mark.parametrize("kind", sorted(HUGE))
def test_huge_values_functions(kind):
    X0, y = _blobs()
    X = HUGE[kind](X0)
    centers, labels, inertia = k_means(X, 3, random_state=0)
    assert np.all(np.isfinite(centers)) and np.isfinite(inertia)
    assert adjusted_rand_score(y, labels) == 1.0
    centers, indices = kmeans_plusplus(X, 3, random_state=0)
    assert np.all(np.isfinite(centers))
    # Well separated blobs: greedy k-means++ picks one seed from each.
    assert sorted(y[indices]) == [0, 1, 2]


@pytest.mark.parametrize("scale", [1e155, 1e200])
def test_values_whose_squares_overflow(scale):
    # Beyond ~1e154 squared distances overflow float64. Finite input must then
    # get either a clear error or a correct clustering -- not silent garbage.
    X0, y = _blobs()
    X = X0 * scale
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = KMeans(n_clusters=3, random_state=0).fit(X)
    except (ValueError, OverflowError) as exc:
        assert re.search(r"overflow|too large|scale", str(exc)), str(exc)
    else:
        assert np.all(np.isfinite(km.cluster_centers_))
        assert adjusted_rand_score(y, km.labels_) == 1.0


@pytest.mark.parametrize("kind", sorted(HUGE))
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_huge_values_no_overflow_warning(kind, init, sparse):
    X0, _ = _blobs()
    X = HUGE[kind](X0)
    if sparse:
        X = sp.csr_matrix(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tested above, not here
        warnings.simplefilter("error", RuntimeWarning)
        km = KMeans(n_clusters=3, init=init, n_init=2, random_state=0).fit(X)
        km.predict(X)
        km.transform(X)
        km.score(X)
        k_means(X, 3, random_state=0)
        kmeans_plusplus(X, 3, random_state=0)


# ----------------------------------------------- nothing the caller gave is modified
def _bitwise_equal(a, b):
    if sp.issparse(a):
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and all(
                np.array_equal(getattr(a, f).view(np.uint8), getattr(b, f).view(np.uint8))
                for f in ("data", "indices", "indptr")
            )
        )
    if isinstance(a, pd.DataFrame):
        return (
            a.columns.equals(b.columns)
            and a.index.equals(b.index)
            and list(a.dtypes) == list(b.dtypes)
            and _bitwise_equal(a.to_numpy(), b.to_numpy())
        )
    a, b = np.asarray(a), np.asarray(b)
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))
    )


def _inputs():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3) * 3 + 7  # off the origin: fitting centers the data
    return {
        "float64": X,
        "float32": X.astype(np.float32),
        "float64_fortran": np.asfortranarray(X),
        "int64": np.round(X * 10).astype(np.int64),
        "dataframe": pd.DataFrame(X, columns=["a", "b", "c"]),
        "csr": sp.csr_matrix(np.where(X > 7, X, 0.0)),
        "csr_float32": sp.csr_matrix(np.where(X > 7, X, 0.0).astype(np.float32)),
    }


def _dense(X):
    if sp.issparse(X):
        return X.toarray()
    return np.asarray(X, dtype=np.float64)


@pytest.mark.parametrize("name", sorted(_inputs()))
@pytest.mark.parametrize("use_init", [False, True], ids=["kmeans++", "init_array"])
def test_inputs_not_modified(name, use_init):
    X = _inputs()[name]
    X_orig = X.copy()
    w = np.random.RandomState(1).rand(X.shape[0]) + 0.1
    w_orig = w.copy()
    init = _dense(X)[:3] + 0.5 if use_init else "k-means++"
    init_orig = init.copy() if use_init else None

    km = KMeans(n_clusters=3, init=init, random_state=0).fit(X, sample_weight=w)
    km.predict(X)
    km.transform(X)
    km.score(X, sample_weight=w)
    km.fit_predict(X, sample_weight=w)
    km.fit_transform(X, sample_weight=w)

    assert _bitwise_equal(X, X_orig)
    assert _bitwise_equal(w, w_orig)
    if use_init:
        assert _bitwise_equal(init, init_orig)
    # The fitted model does not share memory with the caller's arrays.
    if isinstance(X, np.ndarray):
        assert not np.shares_memory(km.cluster_centers_, X)
    if use_init:
        assert not np.shares_memory(km.cluster_centers_, init)


@pytest.mark.parametrize("name", ["int64", "dataframe", "float64_fortran", "csr", "csr_float32"])
def test_inputs_not_modified_copy_x_false(name):
    # Inputs that cannot be centered in place (converted, or sparse) stay bitwise unchanged.
    X = _inputs()[name]
    X_orig = X.copy()
    km = KMeans(n_clusters=3, copy_x=False, random_state=0).fit(X)
    km.predict(X)
    assert _bitwise_equal(X, X_orig)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_copy_x_false_writable_restored(dtype):
    # Documented: centered in place and restored up to rounding.
    X = _inputs()["float64"].astype(dtype)
    X_orig = X.copy()
    km = KMeans(n_clusters=3, copy_x=False, random_state=0).fit(X)
    np.testing.assert_allclose(X, X_orig, rtol=np.finfo(dtype).eps * 8)
    ref = KMeans(n_clusters=3, copy_x=True, random_state=0).fit(X_orig)
    np.testing.assert_array_equal(km.labels_, ref.labels_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("copy_x", [False, True])
def test_read_only_array(dtype, copy_x):
    X = _inputs()["float64"].astype(dtype)
    X.flags.writeable = False
    X_orig = X.copy()
    w = np.ones(X.shape[0])
    w.flags.writeable = False
    init = X[:3] + 0.5
    init.flags.writeable = False
    for km in (
        KMeans(n_clusters=3, copy_x=copy_x, random_state=0).fit(X, sample_weight=w),
        KMeans(n_clusters=3, init=init, copy_x=copy_x).fit(X, sample_weight=w),
    ):
        assert km.cluster_centers_.dtype == dtype
        km.predict(X)
        km.transform(X)
        km.score(X, sample_weight=w)
    assert _bitwise_equal(X, X_orig)
    ref = KMeans(n_clusters=3, random_state=0).fit(X_orig)
    np.testing.assert_array_equal(
        KMeans(n_clusters=3, copy_x=copy_x, random_state=0).fit(X).cluster_centers_, ref.cluster_centers_
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("copy_x", [False, True])
def test_read_only_memmap(tmp_path, dtype, copy_x):
    X0 = _inputs()["float64"].astype(dtype)
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=dtype, mode="w+", shape=X0.shape)
    mm[:] = X0
    mm.flush()
    del mm
    before = path.read_bytes()
    X = np.memmap(path, dtype=dtype, mode="r", shape=X0.shape)
    km = KMeans(n_clusters=3, copy_x=copy_x, random_state=0).fit(X)
    km.predict(X)
    km.transform(X)
    km.score(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert _bitwise_equal(np.asarray(X), X0)
    assert path.read_bytes() == before
    c, labels, inertia = k_means(X, 3, copy_x=copy_x, random_state=0)
    kmeans_plusplus(X, 3, random_state=0)
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["float64", "float32", "int64", "dataframe", "csr"])
def test_k_means_function_does_not_modify(name):
    X = _inputs()[name]
    X_orig = X.copy()
    w = np.random.RandomState(1).rand(X.shape[0])
    w_orig = w.copy()
    init = _dense(X)[:3] + 0.5
    init_orig = init.copy()
    k_means(X, 3, sample_weight=w, random_state=0)
    k_means(X, 3, sample_weight=w, init=init)
    assert _bitwise_equal(X, X_orig)
    assert _bitwise_equal(w, w_orig)
    assert _bitwise_equal(init, init_orig)


@pytest.mark.parametrize("name", ["float64", "float32", "int64", "dataframe", "csr"])
def test_kmeans_plusplus_does_not_modify(name):
    X = _inputs()[name]
    X_orig = X.copy()
    w = np.random.RandomState(1).rand(X.shape[0])
    w_orig = w.copy()
    norms = np.ones(X.shape[0])
    centers, indices = kmeans_plusplus(X, 3, sample_weight=w, x_squared_norms=norms, random_state=0)
    assert _bitwise_equal(X, X_orig)
    assert _bitwise_equal(w, w_orig)
    # The returned centers are copies, so writing to them leaves X alone.
    centers[:] = -1
    assert _bitwise_equal(X, X_orig)
    np.testing.assert_array_equal(centers.shape, (3, 3))


# ------------------------------------------- k_means() and kmeans_plusplus() errors
def test_k_means_function_errors(X):
    with pytest.raises(ValueError, match=r"X contains NaN"):
        k_means(_with(X, 0, 0, np.nan), 2)
    with pytest.raises(ValueError, match=rf"n_samples={N}.*n_clusters=30"):
        k_means(X, 30)
    with pytest.raises(ValueError, match=r"n_clusters.*Got 0"):
        k_means(X, 0)
    with pytest.raises(ValueError, match=r"n_clusters.*Got 2\.5"):
        k_means(X, 2.5)
    with pytest.raises(ValueError, match=r"init.*Got 'kmeans'"):
        k_means(X, 2, init="kmeans")
    with pytest.raises(ValueError, match=r"[Ss]ample.?weight.*(non-zero|positive)"):
        k_means(X, 2, sample_weight=np.zeros(N))
    with pytest.raises(ValueError, match=r"[Nn]egative.*sample_weight"):
        k_means(X, 2, sample_weight=_weights(-1.0))
    with pytest.raises(ValueError, match=r"\(3, 3\).*expected \(2, 3\)"):
        k_means(X, 2, init=X[:3])
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array"):
        k_means(X[:, 0], 2)


def test_kmeans_plusplus_errors(X):
    with pytest.raises(ValueError, match=r"contains NaN"):
        kmeans_plusplus(_with(X, 0, 0, np.nan), 2)
    with pytest.raises(ValueError, match=r"contains infinity"):
        kmeans_plusplus(_with(X, 0, 0, np.inf), 2)
    with pytest.raises(ValueError, match=rf"n_samples={N}.*n_clusters=30"):
        kmeans_plusplus(X, 30)
    with pytest.raises(ValueError, match=r"n_clusters.*Got 0"):
        kmeans_plusplus(X, 0)
    with pytest.raises(ValueError, match=r"n_clusters.*Got 2\.5"):
        kmeans_plusplus(X, 2.5)
    with pytest.raises(ValueError, match=r"[Ss]ample.?weight.*(non-zero|positive)"):
        kmeans_plusplus(X, 2, sample_weight=np.zeros(N))
    with pytest.raises(ValueError, match=r"[Nn]egative.*sample_weight"):
        kmeans_plusplus(X, 2, sample_weight=_weights(-1.0))
    with pytest.raises(ValueError, match=r"sample_weight contains NaN"):
        kmeans_plusplus(X, 2, sample_weight=_weights(np.nan))
    with pytest.raises(ValueError, match=rf"sample_weight.*\(5,\).*\({N},\)"):
        kmeans_plusplus(X, 2, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match=rf"x_squared_norms.*\(5,\).*\({N},\)"):
        kmeans_plusplus(X, 2, x_squared_norms=np.ones(5))
    with pytest.raises(ValueError, match=r"n_local_trials.*Got 0"):
        kmeans_plusplus(X, 2, n_local_trials=0)
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        kmeans_plusplus(np.empty((0, 3)), 2)
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array"):
        kmeans_plusplus(X[:, 0], 2)
    with pytest.raises(ValueError, match=r"[Cc]omplex data not supported"):
        kmeans_plusplus(X + 1j, 2)
    with pytest.raises((ValueError, TypeError), match=r"string to float.*'a'"):
        kmeans_plusplus(np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object), 2)
