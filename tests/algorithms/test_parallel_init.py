"""k-means|| seeding on rows: the blob structure found, thread-count
independence, weights, CSR rows, few distinct rows, and the seeded labels."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from kmeanskit._algorithms import parallel_init
from kmeanskit._algorithms.rows import as_rows


def _blobs(n, d, k, dtype=np.float64, seed=0):
    X, y = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=1.0, center_box=(-40, 40), random_state=seed)
    return X.astype(dtype), y


def _nearest(X, centers):
    d2 = ((X[:, None, :].astype(np.float64) - centers[None].astype(np.float64)) ** 2).sum(-1)
    return d2.argmin(axis=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [3, 30])
def test_one_center_per_blob_and_labels_of_their_candidates(dtype, d):
    X, y = _blobs(6000, d, 12, dtype)
    for seed in range(3):
        nearest = np.empty(6000, dtype=np.int32)
        centers = parallel_init.kmeans_parallel_rows(as_rows(X, None), 12, np.random.RandomState(seed), nearest)
        assert centers.shape == (12, d) and centers.dtype == dtype
        # Well separated blobs: each center in its own blob.
        assert adjusted_rand_score(y, _nearest(X, centers)) == 1.0
        # The guess of the first labels: each row's candidate's center, here
        # the row's nearest center.
        np.testing.assert_array_equal(nearest, _nearest(X, centers))


def test_same_bits_for_any_thread_count(at_thread_counts):
    # Large enough for the parallel kernels, not their serial twins.
    X, _ = _blobs(40_000, 24, 30, np.float32)

    def seed():
        nearest = np.empty(len(X), dtype=np.int32)
        centers = parallel_init.kmeans_parallel_rows(as_rows(X, None), 30, np.random.RandomState(5), nearest)
        return centers, nearest

    results = at_thread_counts(seed)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_zero_weight_rows_draw_no_candidate():
    X, y = _blobs(4000, 5, 6)
    w = np.ones(4000)
    far = np.zeros((50, 5)) + 1e4  # a far blob of weightless rows
    Xw = np.concatenate([X, far])
    ww = np.concatenate([w, np.zeros(50)])
    nearest = np.empty(len(Xw), dtype=np.int32)
    centers = parallel_init.kmeans_parallel_rows(as_rows(Xw, ww), 6, np.random.RandomState(0), nearest)
    assert np.abs(centers).max() < 100
    assert adjusted_rand_score(y, _nearest(X, centers)) == 1.0


def test_csr_rows():
    X, y = _blobs(3000, 8, 5)
    X[np.abs(X) < 5] = 0.0
    Xs = sp.csr_matrix(X)
    nearest = np.empty(3000, dtype=np.int32)
    centers = parallel_init.kmeans_parallel_rows(as_rows(Xs, None), 5, np.random.RandomState(0), nearest)
    assert centers.shape == (5, 8)
    labels = _nearest(X, centers)
    assert adjusted_rand_score(y, labels) == 1.0
    np.testing.assert_array_equal(nearest, labels)


def test_fewer_distinct_rows_than_clusters_returns_none():
    X = np.repeat(np.arange(5.0)[:, None], 200, axis=0)
    nearest = np.empty(1000, dtype=np.int32)
    assert parallel_init.kmeans_parallel_rows(as_rows(X, None), 6, np.random.RandomState(0), nearest) is None
    # As many distinct rows as clusters: each of them.
    centers = parallel_init.kmeans_parallel_rows(as_rows(X, None), 5, np.random.RandomState(0), nearest)
    np.testing.assert_array_equal(np.sort(centers[:, 0]), np.arange(5.0))


def test_draw_probability_is_l_w_d2_over_phi():
    # closest = phi / l on half the rows: drawn with probability 1; 0 elsewhere.
    rows = as_rows(np.zeros((1000, 2)), np.ones(1000))
    closest = np.zeros(1000)
    closest[::2] = 1.0
    phi = 500.0
    picked = parallel_init._draw(rows, closest, phi, 500.0, np.random.RandomState(0))
    np.testing.assert_array_equal(picked, np.arange(0, 1000, 2))
    # Probability 1/4 on every row: about a quarter drawn.
    picked = parallel_init._draw(as_rows(np.zeros((40_000, 2)), None), np.ones(40_000), 40_000.0, 1e4,
                                 np.random.RandomState(0))
    assert abs(picked.size / 40_000 - 0.25) < 0.01
