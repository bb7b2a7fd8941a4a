"""SphericalKMeans under the bad-input rules of KMeans (tests/test_bad_input.py):
a clear error naming the problem, valid results for odd but valid input, and
nothing the caller passed is modified. Plus its own rule: rows of zeros (whose
cosine is undefined) are refused by row number."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from kmeanskit._estimators.spherical import SphericalKMeans

N, D = 20, 3


@pytest.fixture
def X():
    return np.random.RandomState(0).randn(N, D)


@pytest.fixture
def fitted(X):
    return SphericalKMeans(n_clusters=2, random_state=0).fit(X)


def _with(X, i, j, value):
    X = X.copy()
    X[i, j] = value
    return X


def _zero_rows(X, rows):
    X = X.copy()
    X[rows] = 0.0
    return X


# --------------------------------------------------------------- rows of zeros
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_zero_rows_are_refused_by_number(X, sparse):
    Xz = _zero_rows(X, [3, 11])
    with pytest.raises(ValueError, match=r"X has 2 row\(s\) of zero norm.*cosine.*undefined.*row\(s\) 3, 11\."):
        SphericalKMeans(n_clusters=2).fit(sp.csr_matrix(Xz) if sparse else Xz)


@pytest.mark.parametrize("method", ["predict", "transform", "score", "fit_predict", "fit_transform"])
def test_zero_rows_after_fit(fitted, X, method):
    with pytest.raises(ValueError, match=r"row\(s\) of zero norm.*row\(s\) 0\."):
        getattr(fitted, method)(_zero_rows(X, [0]))


def test_many_zero_rows_are_listed_briefly():
    X = np.zeros((40, 2))
    X[::3] = 1.0
    with pytest.raises(ValueError, match=r"26 row\(s\).*row\(s\) 1, 2, 4, 5, 7, 8, 10, 11, 13, 14, \.\.\. \(16 more\)"):
        SphericalKMeans(n_clusters=2).fit(X)


def test_csr_explicit_zeros_count_as_zero_rows():
    X = sp.csr_matrix((np.array([0.0, 1.0, 2.0]), np.array([0, 1, 0]), np.array([0, 1, 2, 3])), shape=(3, 2))
    with pytest.raises(ValueError, match=r"1 row\(s\) of zero norm.*row\(s\) 0\."):
        SphericalKMeans(n_clusters=2).fit(X)


def test_init_with_a_zero_row(X):
    init = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"init has 1 row\(s\) of zero norm.*row\(s\) 1\."):
        SphericalKMeans(n_clusters=2, init=init).fit(X)


def test_norm_beyond_float32_range():
    X = np.array([[3e38, 3e38], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"1 row\(s\) whose norm exceeds the range of float32.*row\(s\) 0;.*float64"):
        SphericalKMeans(n_clusters=2).fit(X)
    # In float64 the same rows are fine.
    skm = SphericalKMeans(n_clusters=2, random_state=0).fit(X.astype(np.float64))
    assert np.all(np.isfinite(skm.cluster_centers_))


@pytest.mark.parametrize("scale", [1e-300, 1e300])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_tiny_and_huge_rows_cluster_as_any_other(X, scale, sparse):
    ref = SphericalKMeans(n_clusters=3, random_state=0).fit(X)
    Xs = X * scale
    skm = SphericalKMeans(n_clusters=3, random_state=0).fit(sp.csr_matrix(Xs) if sparse else Xs)
    np.testing.assert_array_equal(skm.labels_, ref.labels_)
    np.testing.assert_allclose(skm.cluster_centers_, ref.cluster_centers_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(skm.transform(Xs), ref.transform(X), atol=1e-12)


# --------------------------------------------------------------------------- X
@pytest.mark.parametrize("value, match", [(np.nan, r"X contains NaN"), (np.inf, r"X contains infinity")])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_non_finite_X(X, value, match, sparse):
    Xb = _with(X, 3, 1, value)
    with pytest.raises(ValueError, match=match):
        SphericalKMeans(n_clusters=2).fit(sp.csr_matrix(Xb) if sparse else Xb)


@pytest.mark.parametrize("method", ["predict", "transform", "score"])
def test_non_finite_X_after_fit(fitted, X, method):
    with pytest.raises(ValueError, match=r"X contains NaN"):
        getattr(fitted, method)(_with(X, 3, 1, np.nan))


@pytest.mark.parametrize(
    "data, match",
    [
        (np.empty((0, 3)), r"0 sample\(s\).*shape=\(0, 3\)"),
        (np.empty((5, 0)), r"0 feature\(s\).*shape=\(5, 0\)"),
        (np.arange(5.0), r"Expected 2D array, got 1D array"),
        (np.zeros((5, 2, 2)), r"dim 3"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object), r"string to float.*'a'"),
        (np.ones((4, 2)) + 1j, r"[Cc]omplex data not supported"),
    ],
    ids=["no-rows", "no-features", "1d", "3d", "strings", "complex"],
)
def test_malformed_X(data, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SphericalKMeans(n_clusters=2).fit(data)


def test_malformed_X_predict(fitted, X):
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        fitted.predict(np.empty((0, 3)))
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array"):
        fitted.predict(X[0])
    with pytest.raises(ValueError, match=r"[Cc]omplex data not supported"):
        fitted.predict(X + 1j)


def test_large_sparse_indices_are_refused_clearly(X):
    Xs = sp.csr_matrix(X)
    Xs.indices = Xs.indices.astype(np.int64)
    Xs.indptr = Xs.indptr.astype(np.int64)
    with pytest.raises(ValueError, match=r"int64.*(indices|large sparse)|[Ll]arge sparse|64-bit"):
        SphericalKMeans(n_clusters=2).fit(Xs)


# --------------------------------------------------------------- parameters
def test_more_clusters_than_samples(X):
    with pytest.raises(ValueError, match=rf"n_samples={N}.*n_clusters=30"):
        SphericalKMeans(n_clusters=30).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, r"n_clusters.*range \[1, inf\).*Got 0"),
        ({"n_clusters": 2.5}, r"n_clusters.*int.*Got 2\.5"),
        ({"n_clusters": True}, r"n_clusters"),
        ({"init": "kmeans"}, r"init.*'k-means\+\+'.*Got 'kmeans'"),
        ({"n_init": 0}, r"'n_init' parameter.*Got 0"),
        ({"n_init": "many"}, r"'n_init' parameter.*Got 'many'"),
        ({"max_iter": -5}, r"'max_iter' parameter.*Got -5"),
        ({"tol": -1e-3}, r"'tol' parameter.*Got -0\.001"),
        ({"copy_x": "yes"}, r"'copy_x' parameter.*Got 'yes'"),
    ],
)
def test_bad_parameters(X, params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        SphericalKMeans(**{"n_clusters": 2, **params}).fit(X)


@pytest.mark.parametrize(
    "init, match",
    [
        (np.ones((3, 3)), r"\(3, 3\).*n_clusters=2.*expected \(2, 3\)"),
        (np.ones((2, 2)), r"\(2, 2\).*n_features=3.*expected \(2, 3\)"),
        (np.array([[np.nan, 1, 1], [1, 1, 1]]), r"init contains NaN"),
        (np.array([[np.inf, 1, 1], [1, 1, 1]]), r"init contains infinity"),
        (np.ones(3), r"Expected 2D array, got 1D array"),
    ],
)
def test_bad_init_array(X, init, match):
    with pytest.raises(ValueError, match=match):
        SphericalKMeans(n_clusters=2, init=init).fit(X)


def test_callable_init_is_not_accepted(X):
    with pytest.raises(ValueError, match=r"init.*Got"):
        SphericalKMeans(n_clusters=2, init=lambda X, k, random_state: X[:k]).fit(X)


# --------------------------------------------------------------- sample_weight
@pytest.mark.parametrize(
    "w, match",
    [
        (np.r_[-1.0, np.ones(N - 1)], r"[Nn]egative.*sample_weight"),
        (np.zeros(N), r"[Ss]ample.?weight.*(non-zero|positive)"),
        (np.r_[np.nan, np.ones(N - 1)], r"sample_weight contains NaN"),
        (np.r_[np.inf, np.ones(N - 1)], r"sample_weight contains inf"),
        (np.ones(N + 1), rf"sample_weight.*\({N + 1},\).*\({N},\)"),
        (np.ones((N, 1)), r"1D.*got 2D"),
    ],
    ids=["negative", "all-zero", "nan", "inf", "length", "2d"],
)
def test_bad_weights(X, fitted, w, match):
    with pytest.raises(ValueError, match=match):
        SphericalKMeans(n_clusters=2).fit(X, sample_weight=w)
    with pytest.raises(ValueError, match=match):
        fitted.score(X, sample_weight=w)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_fewer_positive_weights_than_clusters(init):
    X = np.random.RandomState(0).randn(10, 2)
    w = np.zeros(10)
    w[:2] = 1.0
    if init == "random":
        with pytest.raises(ValueError, match=r"n_clusters=3.*only 2 samples have a positive weight"):
            SphericalKMeans(n_clusters=3, init=init, random_state=0).fit(X, sample_weight=w)
    else:
        with pytest.warns(Warning):
            skm = SphericalKMeans(n_clusters=3, init=init, random_state=0).fit(X, sample_weight=w)
        assert np.all(np.isfinite(skm.cluster_centers_))
        assert skm.inertia_ == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------- not fitted
@pytest.mark.parametrize("method", ["predict", "transform", "score"])
def test_not_fitted(X, method):
    with pytest.raises(NotFittedError, match=r"SphericalKMeans.*not fitted"):
        getattr(SphericalKMeans(n_clusters=2), method)(X)


@pytest.mark.parametrize("method", ["predict", "transform", "score"])
def test_wrong_number_of_features_after_fit(fitted, method):
    with pytest.raises(ValueError, match=r"X has 4 features.*expecting 3 features"):
        getattr(fitted, method)(np.ones((4, 4)))


def test_wrong_feature_names_after_fit(X):
    skm = SphericalKMeans(n_clusters=2, random_state=0).fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"feature names.*d"):
        skm.predict(pd.DataFrame(X, columns=["a", "b", "d"]))


# ----------------------------------------------- nothing the caller gave is modified
def _bitwise_equal(a, b):
    if sp.issparse(a):
        return a.shape == b.shape and all(
            np.array_equal(getattr(a, f).view(np.uint8), getattr(b, f).view(np.uint8))
            for f in ("data", "indices", "indptr")
        )
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and _bitwise_equal(a.to_numpy(), b.to_numpy())
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def _inputs():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3) * 3 + 7
    sparse = np.where(X > 7, X, 0.0)
    sparse[:, 0] = X[:, 0]  # no row of zeros
    duplicated = sp.csr_matrix(
        (np.r_[1.0, 2.0, 3.0, 1.0, 1.0, 4.0], np.r_[0, 0, 1, 2, 1, 0], np.r_[0, 3, 5, 6]), shape=(3, 3)
    )
    return {
        "float64": X,
        "float32": X.astype(np.float32),
        "float64_fortran": np.asfortranarray(X),
        "int64": np.round(X * 10).astype(np.int64),
        "dataframe": pd.DataFrame(X, columns=["a", "b", "c"]),
        "csr": sp.csr_matrix(sparse),
        "csr_float32": sp.csr_matrix(sparse.astype(np.float32)),
        "csr_duplicates": duplicated,
    }


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


@pytest.mark.parametrize("name", sorted(_inputs()))
@pytest.mark.parametrize("copy_x", [True, False])
def test_inputs_not_modified(name, copy_x):
    X = _inputs()[name]
    X_orig = X.copy()
    w = np.random.RandomState(1).rand(X.shape[0]) + 0.1
    w_orig = w.copy()
    init = _dense(X)[:2] + 0.5
    init_orig = init.copy()
    for skm in (
        SphericalKMeans(n_clusters=2, random_state=0, copy_x=copy_x).fit(X, sample_weight=w),
        SphericalKMeans(n_clusters=2, init=init, copy_x=copy_x).fit(X, sample_weight=w),
    ):
        skm.predict(X)
        skm.transform(X)
        skm.score(X, sample_weight=w)
        skm.fit_predict(X, sample_weight=w)
        skm.fit_transform(X, sample_weight=w)
        if isinstance(X, np.ndarray):
            assert not np.shares_memory(skm.cluster_centers_, X)
        assert not np.shares_memory(skm.cluster_centers_, init)
    assert _bitwise_equal(X, X_orig)
    assert _bitwise_equal(w, w_orig)
    assert _bitwise_equal(init, init_orig)


@pytest.mark.parametrize("name", ["float64", "csr"])
def test_copy_x_is_accepted_and_changes_nothing(name):
    """copy_x is accepted for API compatibility with KMeans: X is never modified
    nor copied to be normalised, so both values give the same bits."""
    X = _inputs()[name]
    fits = [SphericalKMeans(n_clusters=2, random_state=0, copy_x=copy_x).fit(X) for copy_x in (True, False)]
    assert _bitwise_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    assert _bitwise_equal(fits[0].labels_, fits[1].labels_)
    assert fits[0].inertia_ == fits[1].inertia_


def test_duplicate_csr_entries_are_summed():
    X = _inputs()["csr_duplicates"]
    skm = SphericalKMeans(n_clusters=2, init=np.eye(3)[:2]).fit(X)
    ref = SphericalKMeans(n_clusters=2, init=np.eye(3)[:2]).fit(X.toarray())
    np.testing.assert_array_equal(skm.labels_, ref.labels_)
    np.testing.assert_allclose(skm.cluster_centers_, ref.cluster_centers_, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_read_only_memmap(tmp_path, dtype):
    X0 = _inputs()["float64"].astype(dtype)
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=dtype, mode="w+", shape=X0.shape)
    mm[:] = X0
    mm.flush()
    del mm
    before = path.read_bytes()
    X = np.memmap(path, dtype=dtype, mode="r", shape=X0.shape)
    skm = SphericalKMeans(n_clusters=3, copy_x=False, random_state=0).fit(X)
    skm.predict(X)
    skm.transform(X)
    skm.score(X)
    assert skm.cluster_centers_.dtype == dtype
    assert path.read_bytes() == before
    ref = SphericalKMeans(n_clusters=3, random_state=0).fit(X0)
    np.testing.assert_array_equal(skm.cluster_centers_, ref.cluster_centers_)
