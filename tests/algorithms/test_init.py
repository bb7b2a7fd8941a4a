"""Greedy k-means++ on rows: scikit-learn's draws on every path, thread-count
independence, the fallback for scorers without slab sums, and the memory budget."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import make_blobs

from kmeanskit._algorithms import init
from kmeanskit._algorithms.rows import as_rows


def _blobs(n, d, dtype=np.float64, seed=0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=7, cluster_std=1.5, random_state=seed)
    return X.astype(dtype)


def _weights(n, seed=0):
    w = np.random.RandomState(seed).uniform(0.5, 2.0, size=n)
    w[::5] = 0.0
    return w


# d=2 and d=8 (a small input): direct differences; d=30: BLAS dots, kept for
# about half the rows (KEEP_SHARE below); d=40: BLAS dots kept for all rows.
@pytest.mark.parametrize("d, keep_share", [(2, 0.25), (8, 0.25), (30, 0.13), (40, 0.25)])
def test_same_draws_as_sklearn_with_weights(d, keep_share, monkeypatch):
    monkeypatch.setattr(init, "KEEP_SHARE", keep_share)
    X = _blobs(3000, d)
    w = _weights(3000)
    rows = as_rows(X, w)
    scorer = init._DenseScorer(rows, np.full(3000, np.inf), 4)
    assert scorer.direct == (d <= 8)
    if d == 30:
        assert 0 < scorer.kept_dots_t.shape[1] < 3000
    for seed in range(3):
        ours = init.kmeans_plusplus_rows(rows, 9, np.random.RandomState(seed))[1]
        theirs = sk_kmeans_plusplus(X, 9, sample_weight=w, random_state=seed)[1]
        np.testing.assert_array_equal(ours, theirs)
        assert np.all(w[ours] > 0)


def test_same_draws_as_sklearn_csr():
    X = _blobs(2000, 6)
    X[np.abs(X) < 2.0] = 0.0
    Xs = sp.csr_matrix(X)
    w = _weights(2000, seed=1)
    for seed in range(2):
        ours = init.kmeans_plusplus_rows(as_rows(Xs, w), 8, np.random.RandomState(seed))[1]
        theirs = sk_kmeans_plusplus(Xs, 8, sample_weight=w, random_state=seed)[1]
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d, keep_share", [(2, 0.25), (12, 0.5)])
def test_bitwise_identical_for_any_thread_count(d, keep_share, dtype, monkeypatch, at_thread_counts):
    # Large enough for the parallel kernels (not their serial twins).
    monkeypatch.setattr(init, "KEEP_SHARE", keep_share)
    n = 300_000 // d
    X = _blobs(n, d, dtype)
    w = _weights(n).astype(dtype)
    (c1, i1), (c2, i2) = at_thread_counts(lambda: init.kmeans_plusplus_rows(as_rows(X, w), 12, np.random.RandomState(0)))
    assert c1.dtype == dtype
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(c1, c2)


class _NoSums(init._DenseScorer):
    """A scorer whose update does not return slab sums (as K-Medians' and the spherical one), round by round."""

    def __init__(self, *args):
        super().__init__(*args)
        self.run_rounds = None

    def update(self, center, candidate=None):
        super().update(center, candidate)


@pytest.mark.parametrize("d", [3, 20])
def test_scorer_without_slab_sums_draws_the_same(d):
    X = _blobs(4000, d, np.float32)
    rows = as_rows(X, _weights(4000).astype(np.float32))
    ours = init.greedy_plusplus(rows, 10, np.random.RandomState(4), init._DenseScorer)
    fallback = init.greedy_plusplus(rows, 10, np.random.RandomState(4), _NoSums)
    np.testing.assert_array_equal(ours[1], fallback[1])
    np.testing.assert_array_equal(ours[0], X[ours[1]])


@pytest.mark.parametrize("d, dtype, all_kept", [(32, np.float64, False), (48, np.float64, True),
                                                (28, np.float64, False), (64, np.float32, True),
                                                (3, np.float64, False)])
def test_seeding_memory_within_a_quarter_of_x(d, dtype, all_kept):
    n, t = 10_000, 6
    X = np.zeros((n, d), dtype=dtype)
    closest = np.full(n, np.inf)
    rows = as_rows(X, np.ones(n, dtype=dtype))
    scorer = init._DenseScorer(rows, closest, t)
    if scorer.direct:  # no squared norms, nothing kept: only ``closest``
        assert rows._x_sq is None and not hasattr(scorer, "kept_dots_t")
        return
    assert (scorer.kept_dots_t.shape[1] == n) == all_kept
    assert closest.nbytes + scorer.x_sq.nbytes + scorer.kept_dots_t.nbytes <= init.KEEP_SHARE * X.nbytes


@pytest.mark.parametrize("d, dtype", [(12, np.float64), (40, np.float32)])
def test_nearest_centers_found_on_the_way(d, dtype):
    # The first Lloyd pass's labels, from seeding's own distances (and the same draws).
    X = _blobs(3000, d, dtype)
    rows = as_rows(X, None)
    nearest = np.full(3000, -1, dtype=np.int32)
    centers, indices = init.kmeans_plusplus_rows(rows, 9, np.random.RandomState(0), nearest=nearest)
    np.testing.assert_array_equal(indices, init.kmeans_plusplus_rows(as_rows(X, None), 9, np.random.RandomState(0))[1])
    distances = ((X[:, None, :].astype(np.float64) - centers[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(nearest, distances.argmin(axis=1))


class _RoundByRound(init._DenseScorer):
    """The dense scorer with its rounds made one Python round at a time."""

    def __init__(self, *args):
        super().__init__(*args)
        assert self.run_rounds is not None  # the input is small: the rounds would run in one call
        self.run_rounds = None


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, d, k, keep_share", [(150, 4, 3, 0.2), (1797, 64, 10, 0.2), (1797, 64, 10, 0.05),
                                                 (5000, 5, 4, 0.2), (333, 784, 6, 0.2), (1000, 2, 3, 0.2),
                                                 (3000, 3, 40, 0.2), (150, 1, 9, 0.2), (2000, 24, 8, 0.2),
                                                 (2000, 25, 8, 0.2)])
def test_rounds_in_one_call_as_round_by_round(n, d, k, keep_share, dtype, weights, monkeypatch, at_thread_counts):
    # Small inputs run every round in one kernel call: the same draws and the same bits (centers, each
    # row's nearest center, the distances), by direct differences (d <= 24) or by dots kept for all rows
    # or some, at 1 and 2 threads (BLAS too).
    monkeypatch.setattr(init, "KEEP_SHARE", keep_share)
    X = _blobs(n, d, dtype)
    w = _weights(n).astype(dtype) if weights else None

    def seed(make_scorer):
        nearest, made = np.full(n, -1, dtype=np.int32), []

        def scorer(rows, closest, n_candidates):
            made.append(make_scorer(rows, closest, n_candidates, nearest))
            return made[-1]

        rows = as_rows(X, w)
        with init.single_threaded_blas():
            centers, indices = init.greedy_plusplus(rows, k, np.random.RandomState(3), scorer)
        return centers, indices, nearest, made[0].closest, made[0].slab_sums

    fused = at_thread_counts(lambda: seed(init._DenseScorer))
    rounds = at_thread_counts(lambda: seed(_RoundByRound))
    for got in [*fused, rounds[1]]:
        for a, b in zip(got, rounds[0], strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    theirs = sk_kmeans_plusplus(X, k, sample_weight=w, random_state=3)[1]
    np.testing.assert_array_equal(fused[0][1], theirs)


@pytest.mark.parametrize("n, d, n_candidates, direct", [
    (5000, 3, 1, True), (300_000, 3, 4, True),  # few features: always direct
    (5000, 4, 4, True), (5000, 24, 4, True), (5000, 25, 4, False),  # small inputs: direct up to 24 features
    (5000, 5, 1, False),  # one candidate a round: rounds in Python, BLAS dots
    (60_000, 5, 4, False),  # 2^18 values or more: the parallel kernels, BLAS dots
])
def test_which_scorer(n, d, n_candidates, direct):
    assert init.scores_directly(n, d, n_candidates) == direct


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, d", [(1000, 300), (400, 784)])
def test_mid_size_high_dimension_rounds_same_bits_at_any_thread_count(n, d, dtype, at_thread_counts):
    # Above SERIAL_MAX_VALUES the rounds run one by one through the parallel kernels, whose slabs are set
    # by n and whose chunks each make one BLAS call on one thread: the same draws, distances and nearest
    # centers at 1 and 2 threads (numba's and BLAS's), at 300 and 784 features (from 784 on, BLAS's
    # own bits change with its thread count), float32 and float64; scikit-learn's draws.
    X = _blobs(n, d, dtype)
    assert X.size >= init.SERIAL_MAX_VALUES

    def seed():
        nearest, made = np.full(n, -1, dtype=np.int32), []

        def scorer(rows, closest, n_candidates):
            made.append(init._DenseScorer(rows, closest, n_candidates, nearest))
            return made[-1]

        centers, indices = init.kmeans_plusplus_rows(as_rows(X, None), 8, np.random.RandomState(0), nearest=nearest)
        with init.single_threaded_blas():
            again = init.greedy_plusplus(as_rows(X, None), 8, np.random.RandomState(0), scorer)
        assert made[0].run_rounds is None  # round by round
        np.testing.assert_array_equal(again[1], indices)
        return centers, indices, nearest, made[0].closest, made[0].slab_sums, made[0].kept_dots_t

    one, two = at_thread_counts(seed)
    for a, b in zip(one, two, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one[1], sk_kmeans_plusplus(X, 8, random_state=0)[1])
