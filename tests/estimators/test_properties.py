"""Property tests of KMeans over random problems (hypothesis).

Each example draws a seed and a shape and builds the data with numpy (fast);
the kinds of data cover plain Gaussian clouds, separated blobs, integer grids
(many duplicate points and exact distance ties) and clouds far from the origin.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmeanskit import KMeans

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SETTINGS = settings(
    max_examples=35,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)

# Relative tolerances by dtype: monotonicity of the history, and inertia_ recomputed.
HISTORY_RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}
INERTIA_RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


def _make_data(rng, kind, n, d, dtype):
    if kind == "gauss":
        X = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-3, 3)
    elif kind == "blobs":
        n_blobs = int(rng.integers(1, 7))
        centers = rng.uniform(-10, 10, size=(n_blobs, d))
        X = centers[rng.integers(0, n_blobs, size=n)] + rng.standard_normal((n, d)) * rng.uniform(0.01, 1.0)
    elif kind == "grid":
        X = rng.integers(-3, 4, size=(n, d)).astype(np.float64)
    elif kind == "offset":
        top = 6 if np.dtype(dtype) == np.float64 else 3
        X = rng.standard_normal((n, d)) + 10.0 ** rng.uniform(1, top) * rng.choice([-1.0, 1.0], size=d)
    else:  # pragma: no cover
        raise AssertionError(kind)
    return np.ascontiguousarray(X, dtype=dtype)


@st.composite
def problems(draw, allow_sparse=False):
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 200))
    d = draw(st.integers(1, 8))
    k = draw(st.integers(1, min(n, 6)))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    kind = draw(st.sampled_from(["gauss", "blobs", "grid", "offset"]))
    weights = draw(st.sampled_from([None, "uniform", "wide"]))
    init = draw(st.sampled_from(["k-means++", "random"]))
    n_init = draw(st.sampled_from(["auto", 1, 2]))
    max_iter = draw(st.sampled_from([1, 2, 5, 300]))
    tol = draw(st.sampled_from([0.0, 1e-4]))
    sparse = allow_sparse and draw(st.booleans())

    rng = np.random.default_rng(seed)
    if sparse and kind == "offset":
        kind = "gauss"  # sparse rows are not centered; keep sparse data near the origin
    X = _make_data(rng, kind, n, d, dtype)
    if sparse:
        X[rng.random((n, d)) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    if weights is None:
        w = None
    elif weights == "uniform":
        w = rng.uniform(0.1, 2.0, size=n)
    else:
        w = 10.0 ** rng.uniform(-3, 3, size=n)
    params = dict(
        n_clusters=k, init=init, n_init=n_init, max_iter=max_iter, tol=tol,
        random_state=int(rng.integers(0, 2**31 - 1)),
    )
    return X, w, params


def _dense64(X):
    return X.toarray().astype(np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _inertia64(X, w, centers, labels):
    X64 = _dense64(X)
    w64 = np.ones(X64.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    diff = X64 - centers.astype(np.float64)[labels]
    return float(np.sum(w64 * np.einsum("ij,ij->i", diff, diff)))


def _abs_slack(X, w, dtype):
    """Rounding slack for a weighted sum of squared distances on this data.

    Dense data is centered before the distances are taken, in X's dtype: each
    coordinate of ``x - c`` carries an error of a few ulps of the data's
    magnitude ``M``, which changes each squared distance by about
    ``eps * M * spread``. Sparse rows are not centered and their distances
    come from ``|x|^2 - 2 x.c + |c|^2``: an error of about ``eps * M^2``.
    """
    X64 = _dense64(X)
    eps = np.finfo(dtype).eps
    magnitude = float(np.max(np.abs(X64)))
    spread = magnitude if sp.issparse(X) else float(np.max(np.ptp(X64, axis=0)))
    w_total = X64.shape[0] if w is None else float(np.sum(w))
    return 16.0 * eps * X64.shape[1] * w_total * magnitude * max(spread, magnitude * eps) + 1e-300


def _fit(X, w, params):
    return KMeans(**params).fit(X, sample_weight=w)


def _check_properties(X, w, params):
    km = _fit(X, w, params)
    n, d = X.shape
    k = params["n_clusters"]
    dtype = X.dtype

    # (c) labels in range; centers finite, of X's dtype, shape (k, d).
    labels = km.labels_
    assert labels.shape == (n,)
    assert np.all((labels >= 0) & (labels < k)), labels
    centers = km.cluster_centers_
    assert centers.shape == (k, d)
    assert centers.dtype == dtype, (centers.dtype, dtype)
    assert np.all(np.isfinite(centers)), centers
    assert np.isfinite(km.inertia_)

    # (e) one history entry per iteration, within max_iter.
    history = np.asarray(km.inertia_history_)
    assert km.n_iter_ == len(history), (km.n_iter_, history)
    assert 1 <= km.n_iter_ <= params["max_iter"], km.n_iter_

    # (a) the objective never increases, up to rounding.
    rtol = HISTORY_RTOL[np.dtype(dtype)]
    slack = rtol * abs(float(history[0])) + _abs_slack(X, w, dtype)
    steps = np.diff(history)
    assert np.all(steps <= slack), f"inertia_history_ increases: {history!r} (slack {slack})"
    assert km.inertia_ <= history[-1] + slack, (km.inertia_, history)

    # (b) predict(X) is labels_, exactly.
    predicted = km.predict(X)
    mismatch = np.flatnonzero(predicted != labels)
    assert mismatch.size == 0, (
        f"predict(X) != labels_ at rows {mismatch[:10]}: predict={predicted[mismatch[:10]]}, "
        f"labels_={labels[mismatch[:10]]}"
    )

    # (d) inertia_ is the weighted sum of squared distances to the assigned centers.
    expected = _inertia64(X, w, centers, labels)
    tol = INERTIA_RTOL[np.dtype(dtype)] * expected + _abs_slack(X, w, dtype)
    assert abs(km.inertia_ - expected) <= tol, (km.inertia_, expected, tol)
    return km


@SETTINGS
@given(problems())
def test_kmeans_properties(problem):
    X, w, params = problem
    _check_properties(X, w, params)


@SETTINGS
@given(problems(allow_sparse=True))
def test_kmeans_properties_sparse_or_dense(problem):
    X, w, params = problem
    _check_properties(X, w, params)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
@given(problems(allow_sparse=True))
def test_same_random_state_same_result(problem):
    # (f) bitwise identical on a second fit with the same random_state.
    X, w, params = problem
    a = _fit(X, w, params)
    b = _fit(X, w, params)
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_ or (np.isnan(a.inertia_) and np.isnan(b.inertia_))
    assert a.n_iter_ == b.n_iter_
    assert np.asarray(a.inertia_history_).tobytes() == np.asarray(b.inertia_history_).tobytes()
