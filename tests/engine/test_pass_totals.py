"""The end of a Lloyd pass in one kernel: the bits of the NumPy calls it replaces, its twin's, any thread count."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import n_slabs, slab_bounds
from kmeanskit._engine.pass_totals import pass_totals
from kmeanskit._engine.serial import serial_twin

from . import reference
from .twins import assert_twin_matches, same_bits

# (rows, clusters, features, step slabs): one slab, a fit's, many; clusters left empty in some
CASES = [(1, 1, 1, 1), (7, 3, 2, 2), (150, 3, 4, 1), (178, 3, 13, 3), (1000, 8, 5, 4), (5000, 4, 5, 20),
         (3000, 20, 40, 7)]


def _inputs(n, k, d, n_step_slabs, dtype, weights, empty, seed, n_sum_slabs=None):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n).astype(np.int32)
    if empty and k > 1:
        labels[labels == k - 1] = 0  # cluster k - 1 gets no row
    before = labels.copy()
    flip = rng.random(n) < 0.3
    before[flip] = rng.integers(-1, k, size=int(flip.sum()))
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 1e3, size=d)
    if weights == "unit":
        w = np.ones(1, dtype=dtype)
    else:
        w = rng.uniform(0.0, 3.0, size=n).astype(dtype)
        if weights == "zeros":
            w[::3] = 0.0
    bounds = slab_bounds(n, n_step_slabs)
    sums, weight_sums = np.zeros((n_step_slabs, k, d)), np.zeros((n_step_slabs, k))
    w64 = np.broadcast_to(w.astype(np.float64), (n,))
    reference.accumulate(sums, weight_sums, X, w64, labels, bounds)
    sq_dist = rng.uniform(0.0, 10.0, size=n) ** 3
    sum_bounds = slab_bounds(n, min(n, n_sum_slabs or n_slabs(n)))
    return sums, weight_sums, w, sq_dist, sum_bounds, labels, before


def _outputs(k, d, dtype):
    return np.full((k, d), np.nan), np.full(k, np.nan), np.full((k, d), np.nan, dtype=dtype)


@pytest.mark.parametrize("n, k, d, n_step_slabs", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["unit", "given", "zeros"])
@pytest.mark.parametrize("empty", [False, True])
# the inertia's slabs: a fit's, and counts that are not a multiple of the interleaved lanes, of unequal lengths
@pytest.mark.parametrize("n_sum_slabs", [None, 7, 13])
def test_pass_totals_gives_the_bits_of_the_numpy_calls_and_its_twin_the_kernels(n, k, d, n_step_slabs, dtype,
                                                                                weights, empty, n_sum_slabs):
    inputs = _inputs(n, k, d, n_step_slabs, dtype, weights, empty, seed=n + k, n_sum_slabs=n_sum_slabs)
    sums_out, weights_out, means_out = _outputs(k, d, dtype)
    inertia, n_changed, filled = serial_twin(pass_totals)(*inputs, sums_out, weights_out, means_out)
    merged, merged_weights, ref_inertia, ref_changed, ref_means = reference.pass_totals(*inputs, dtype)
    assert same_bits(sums_out, merged) and same_bits(weights_out, merged_weights)
    assert same_bits(np.float64(inertia), np.float64(ref_inertia))
    assert n_changed == ref_changed
    assert filled == (ref_means is not None)
    if filled:
        assert same_bits(means_out, ref_means)
    else:  # left to the caller, who relocates first
        assert np.isnan(means_out).all()
    assert_twin_matches(pass_totals, *inputs, *_outputs(k, d, dtype))


@pytest.mark.parametrize("n", [5000, 300_000])
def test_pass_totals_bits_do_not_depend_on_the_thread_count(n, at_thread_counts):
    k, d = 5, 3
    inputs = _inputs(n, k, d, 9, np.float64, "given", False, seed=3)

    def run():
        outputs = _outputs(k, d, np.float64)
        totals = pass_totals(*inputs, *outputs)
        return (np.float64(totals[0]), totals[1], *outputs)

    one, two = at_thread_counts(run)
    assert all(same_bits(a, b) for a, b in zip(one, two, strict=True))
    assert same_bits(one[0], np.float64(reference.pass_totals(*inputs, np.float64)[2]))
