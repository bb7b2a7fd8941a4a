"""Mini-batch kernels against plain NumPy and against scikit-learn's step."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster._kmeans import _mini_batch_step

from kmeanskit._algorithms.minibatch import BatchStep
from kmeanskit._algorithms.rows import CsrRows
from kmeanskit._engine.minibatch import gather_rows, minibatch_update

from . import reference


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatch_update_matches_reference(dtype):
    rng = np.random.default_rng(0)
    k, d, slabs = 7, 5, 3
    centers = rng.normal(size=(k, d)).astype(dtype)
    counts = rng.uniform(0, 50, size=k)
    counts[0] = 0.0  # a center that never saw a row takes the batch mean
    weight_sums = rng.uniform(0.5, 3.0, size=(slabs, k))
    weight_sums[:, 3] = 0.0  # a center with no row in this batch stays put
    sums = rng.normal(size=(slabs, k, d)) * weight_sums[:, :, None]
    expected, expected_counts = reference.minibatch_update(centers, counts, sums, weight_sums)
    out = np.empty_like(centers)
    shift = minibatch_update(centers, counts, sums, weight_sums, out)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(counts, expected_counts)
    np.testing.assert_array_equal(out[3], centers[3])
    np.testing.assert_allclose(out[0], sums[:, 0].sum(axis=0) / weight_sums[:, 0].sum(), rtol=rtol)
    diff = out.astype(np.float64) - centers
    assert shift == pytest.approx(float((diff * diff).sum()), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gather_rows_maps_the_drawn_rows(dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4)).astype(dtype)
    indices = np.array([3, 3, 49, 0, 17], dtype=np.int64)
    shift = X.mean(axis=0)
    out = np.empty((5, 4), dtype=dtype)
    gather_rows(X, indices, shift, 0.5, out)
    np.testing.assert_array_equal(out, reference.gather_rows(X, indices, shift, 0.5))


def _batch(sparse, dtype, n=600, d=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1)) * 3.0
    if sparse:
        X[rng.random(X.shape) < 0.7] = 0.0
        return sp.csr_matrix(X.astype(dtype))
    return np.ascontiguousarray(X, dtype=dtype)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [5, 30])  # direct and chunked dense paths
@pytest.mark.parametrize("reassign", [False, True])
def test_batch_step_matches_sklearn_mini_batch_step(sparse, dtype, n_features, reassign):
    X = _batch(sparse, dtype, d=n_features)
    w = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    k = 9
    centers = (X[:k].toarray() if sparse else X[:k]).astype(dtype) + dtype(0.1)
    centers[5] = 1e3  # gets no row: its count stays 0 and it is reassigned when asked
    counts = np.random.default_rng(3).uniform(0, 40, k)
    counts[5] = 0.0
    sk_counts = counts.astype(dtype)
    sk_new = np.empty_like(centers)
    sk_inertia = _mini_batch_step(
        X, w, centers, sk_new, sk_counts, np.random.RandomState(7), random_reassign=reassign,
        reassignment_ratio=0.01,
    )
    step = BatchStep(k, X.shape[1], dtype, sparse, reassignment_ratio=0.01)
    row_sq = CsrRows(X, w).x_sq if sparse else None
    inertia, new, _ = step(X, w, centers, counts, row_sq=row_sq, random_state=np.random.RandomState(7),
                           reassign=reassign)
    rtol = 2e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(new, sk_new, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(counts, sk_counts, rtol=rtol)
    assert inertia == pytest.approx(sk_inertia, rel=rtol)
    if reassign:
        rows = X.toarray() if sparse else X
        assert (np.abs(rows - new[5]).max(axis=1) == 0).any()  # moved onto a batch row
    else:
        np.testing.assert_array_equal(new[5], centers[5])
