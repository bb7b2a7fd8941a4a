"""The k-means|| kernels against plain NumPy references."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._engine.oversampling import greedy_plusplus_small, lower_closest_pruned
from kmeanskit._engine.seeding import GROUP


def _grouped(new, index_of_first):
    """new (m, d) as the kernel takes it: groups of GROUP, transposed, +inf padding."""
    m, d = new.shape
    slots = -(-m // GROUP) * GROUP
    padded = np.full((slots, d), np.inf)
    padded[:m] = new
    new_t = np.ascontiguousarray(padded.reshape(-1, GROUP, d).transpose(0, 2, 1))
    index_of = np.zeros(slots, dtype=np.int32)
    index_of[:m] = index_of_first + np.arange(m)
    return new_t, index_of, slots


def _state(X, earlier):
    """Each row's nearest earlier candidate and exact squared distance."""
    d2 = cdist(X.astype(np.float64), earlier.astype(np.float64), "sqeuclidean")
    nearest = d2.argmin(axis=1).astype(np.int32)
    return d2[np.arange(len(X)), nearest], nearest


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d, n_new", [(3, 5), (16, 24), (33, 41)])
def test_lower_closest_pruned_is_the_nearest_of_all(dtype, d, n_new):
    rng = np.random.RandomState(d)
    centers = rng.uniform(-20, 20, size=(12, d))
    X = (centers[rng.randint(12, size=3000)] + rng.normal(size=(3000, d))).astype(dtype)
    earlier = X[rng.choice(3000, 7, replace=False)]
    new = X[rng.choice(3000, n_new, replace=False)]
    closest, nearest = _state(X, earlier)
    new_t, index_of, slots = _grouped(new, 7)
    gap = np.full((7, slots), np.inf)
    gap[:, :n_new] = cdist(earlier.astype(np.float64), new.astype(np.float64), "sqeuclidean")
    lower_closest_pruned(X, new_t, gap, index_of, closest, nearest, slab_bounds(3000, 5))

    every = cdist(X.astype(np.float64), np.concatenate([earlier, new]).astype(np.float64), "sqeuclidean")
    np.testing.assert_allclose(closest, every.min(axis=1), rtol=1e-12, atol=1e-9)
    # The nearest is the reference's wherever the minimum is not a tie.
    second = np.sort(every, axis=1)[:, 1]
    clear = second > every.min(axis=1) * (1 + 1e-9)
    np.testing.assert_array_equal(nearest[clear], every.argmin(axis=1)[clear])
    # Rows drawn as candidates sit on one: distance 0.
    assert closest.min() == 0.0


def test_lower_closest_pruned_skips_only_what_the_triangle_inequality_rules_out():
    # One earlier candidate at the origin; rows at distance 1 from it; new
    # candidates at distance 1.5 (within 2: measured) and 3 (skipped, and it is
    # indeed no closer).
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    earlier_gap = np.array([[1.5**2, 3.0**2]])
    new = np.array([[1.5, 0.0], [0.0, -3.0]])
    new_t, index_of, slots = _grouped(new, 1)
    gap = np.full((1, slots), np.inf)
    gap[:, :2] = earlier_gap
    closest = np.array([1.0, 1.0])
    nearest = np.zeros(2, dtype=np.int32)
    lower_closest_pruned(X, new_t, gap, index_of, closest, nearest, slab_bounds(2, 1))
    np.testing.assert_allclose(closest, [0.25, 1.0])
    np.testing.assert_array_equal(nearest, [1, 0])


def test_lower_closest_pruned_same_bits_for_any_thread_count(at_thread_counts):
    rng = np.random.RandomState(3)
    X = rng.normal(size=(40_000, 12)).astype(np.float32)
    earlier, new = X[:5], X[5:60]
    closest0, nearest0 = _state(X, earlier)
    new_t, index_of, slots = _grouped(new, 5)
    gap = np.full((5, slots), np.inf)
    gap[:, :55] = cdist(earlier.astype(np.float64), new.astype(np.float64), "sqeuclidean")

    def lower():
        closest, nearest = closest0.copy(), nearest0.copy()
        lower_closest_pruned(X, new_t, gap, index_of, closest, nearest, slab_bounds(40_000, 64))
        return closest, nearest

    results = at_thread_counts(lower)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def _sklearn_draws(X, w, k, seed):
    """What greedy_plusplus_small is given for one run seeded as scikit-learn's."""
    rs = np.random.RandomState(seed)
    first = rs.choice(len(X), p=w / w.sum())
    n_trials = 2 + int(np.log(k))
    return first, rs.uniform(size=(k - 1, n_trials))


def test_greedy_plusplus_small_draws_as_sklearn():
    # Integer rows and weights: every distance and potential is an exact
    # integer in float64 whichever way it is summed, so the draws must agree.
    rng = np.random.RandomState(0)
    X = rng.randint(-50, 50, size=(400, 5)).astype(np.float64)
    w = rng.randint(1, 4, size=400).astype(np.float64)
    k = 9
    runs = [_sklearn_draws(X, w, k, seed) for seed in range(3)]
    firsts = np.array([r[0] for r in runs], dtype=np.int64)
    uniforms = np.stack([r[1] for r in runs])
    out = np.empty((3, k), dtype=np.int64)
    greedy_plusplus_small(X, w, firsts, uniforms, out)
    for seed in range(3):
        theirs = sk_kmeans_plusplus(X, k, sample_weight=w, random_state=seed)[1]
        np.testing.assert_array_equal(out[seed], theirs)


def test_greedy_plusplus_small_never_picks_zero_weight_rows():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 4))
    w = rng.uniform(0.5, 2, size=300)
    w[::3] = 0.0
    w[0] = 1.0
    firsts = np.zeros(4, dtype=np.int64)
    uniforms = rng.uniform(size=(4, 19, 4))
    out = np.empty((4, 20), dtype=np.int64)
    greedy_plusplus_small(X, w, firsts, uniforms, out)
    assert np.all(w[out] > 0)
    assert all(np.unique(run).size == 20 for run in out)
