"""The k-means++ kernels against plain NumPy references."""

import numpy as np
import pytest

from kmeanskit._algorithms.rows import slab_bounds
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.seeding import (
    GROUP,
    candidate_potentials_dense,
    candidate_potentials_direct,
    candidate_potentials_from_dots,
    draw_rows,
    lower_closest,
    update_closest_direct,
    update_closest_from_dots,
    weighted_slab_sums,
)

from . import reference


def _problem(n, d, dtype, seed=0, zero_weights=False):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.uniform(0, 3, size=n).astype(dtype)
    if zero_weights:
        w[::7] = 0
    closest = rng.uniform(0, 4 * d, size=n)
    return X, w, closest


def _padded_t(candidates):
    n_cand, d = candidates.shape
    cand_t = np.zeros((d, -(-n_cand // GROUP) * GROUP))
    cand_t[:, :n_cand] = candidates.T
    return cand_t


def _rtol(dtype):
    return 1e-5 if dtype == np.float32 else 1e-10


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_from_dots_match_reference(dtype):
    X, w, closest = _problem(500, 6, dtype)
    candidates = X[[3, 70, 400]]
    x_sq = (X.astype(np.float64) ** 2).sum(1)
    cand_sq = (candidates.astype(np.float64) ** 2).sum(1)
    bounds = slab_bounds(500, 3)
    out = np.empty((3, 3))
    candidate_potentials_from_dots(x_sq, w, closest, X @ candidates.T, cand_sq, bounds, out)
    np.testing.assert_allclose(out.sum(0), reference.candidate_potentials(X, w, closest, candidates), rtol=_rtol(dtype))


def test_update_closest_from_dots_only_lowers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    center = X[5]
    closest = rng.uniform(0, 8, size=200)
    before = closest.copy()
    update_closest_from_dots((X**2).sum(1), X @ center, float(center @ center), closest)
    expected = reference.update_closest(before, X, center)
    np.testing.assert_allclose(closest, expected, rtol=1e-10, atol=1e-12)
    assert closest[5] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n_cand", [3, GROUP, GROUP + 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_direct_match_reference(n_cand, dtype):
    # Chunks (50 rows) shorter than the slabs and candidates beyond one group.
    X, w, closest = _problem(700, 3, dtype, seed=1, zero_weights=True)
    candidates = X[np.arange(n_cand) * 61]
    bounds = slab_bounds(700, 3)
    out = np.full((3, n_cand), np.nan)
    candidate_potentials_direct(X, w, closest, _padded_t(candidates.astype(np.float64)), bounds, 50, out)
    expected = np.array([
        reference.candidate_potentials(X[a:b], w[a:b], closest[a:b], candidates)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ])
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize("n_cand", [6, 11])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_direct_three_features_keep_the_general_bits(n_cand, dtype):
    # Three features (RGB pixels) have their own loop; a fourth feature of zeros
    # adds 0.0 to every distance, so the general loop must give the same bits.
    X, w, closest = _problem(700, 3, dtype, seed=4, zero_weights=True)
    candidates = X[np.arange(n_cand) * 53].astype(np.float64)
    bounds = slab_bounds(700, 3)
    out3, out4 = np.empty((3, n_cand)), np.empty((3, n_cand))
    candidate_potentials_direct(X, w, closest, _padded_t(candidates), bounds, 50, out3)
    X4 = np.hstack([X, np.zeros((700, 1), dtype=dtype)])
    candidates4 = np.hstack([candidates, np.zeros((n_cand, 1))])
    candidate_potentials_direct(X4, w, closest, _padded_t(candidates4), bounds, 50, out4)
    assert out3.tobytes() == out4.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_update_closest_direct_is_the_potentials_winner(dtype):
    X, w, closest = _problem(600, 2, dtype, seed=2, zero_weights=True)
    candidates = X[[10, 300, 599]].astype(np.float64)
    bounds = slab_bounds(600, 4)
    out = np.empty((4, 3))
    candidate_potentials_direct(X, w, closest, _padded_t(candidates), bounds, 64, out)
    before = closest.copy()
    sums = np.full(4, np.nan)
    nearest = np.full(600, -1, dtype=np.int32)
    update_closest_direct(X, w, candidates[1], closest, 5, nearest, bounds, sums)
    np.testing.assert_allclose(closest, reference.update_closest(before, X, candidates[1]), rtol=1e-12)
    np.testing.assert_array_equal(nearest, np.where(closest < before, 5, -1))  # where it came strictly closer
    assert closest[300] == 0.0
    np.testing.assert_array_equal(sums, reference.weighted_slab_sums(w, closest, bounds))
    # Same distances, same order of additions: the winner's potential, bit for bit.
    np.testing.assert_array_equal(sums, out[:, 1])


@pytest.mark.parametrize("n_kept", [0, 333, 700])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_candidate_potentials_dense_and_lower_closest(n_kept, dtype):
    X, w, closest = _problem(700, 5, dtype, seed=3, zero_weights=True)
    candidates = X[[3, 70, 400, 650]]
    x_sq = (X.astype(np.float64) ** 2).sum(1)
    cand_sq = (candidates.astype(np.float64) ** 2).sum(1)
    bounds = slab_bounds(700, 3)
    out = np.empty((3, 4))
    kept = np.full((4, n_kept), np.nan, dtype=dtype)
    with single_threaded_blas():
        candidate_potentials_dense(
            X, x_sq, w, closest, np.ascontiguousarray(candidates.T), cand_sq, bounds, 64, out, kept
        )
    rtol = _rtol(dtype)
    np.testing.assert_allclose(out.sum(0), reference.candidate_potentials(X, w, closest, candidates), rtol=rtol)
    dots = X.astype(np.float64) @ candidates.astype(np.float64).T
    np.testing.assert_allclose(kept, dots[:n_kept].T, rtol=rtol, atol=1e-4 if dtype == np.float32 else 1e-10)

    before = closest.copy()
    sums = np.full(3, np.nan)
    nearest = np.full(700, 3, dtype=np.int32)
    lower_closest(X, w, x_sq, candidates[2], float(cand_sq[2]), kept[2], closest, 7, nearest, bounds, sums)
    np.testing.assert_array_equal(nearest, np.where(closest < before, 7, 3))
    # Without an array for the nearest centers, the same distances and sums.
    again, sums_again = before.copy(), np.full(3, np.nan)
    lower_closest(X, w, x_sq, candidates[2], float(cand_sq[2]), kept[2], again, 7, np.empty(0, dtype=np.int32),
                  bounds, sums_again)
    np.testing.assert_array_equal(again, closest)
    np.testing.assert_array_equal(sums_again, sums)
    d2 = np.maximum(x_sq + cand_sq[2] - 2.0 * dots[:, 2], 0.0)
    np.testing.assert_allclose(closest, np.minimum(before, d2), rtol=rtol, atol=1e-3 if dtype == np.float32 else 1e-9)
    # Kept rows: exactly the arithmetic of the potentials (from the kept dots).
    from_kept = np.maximum(x_sq[:n_kept] + cand_sq[2] - 2.0 * kept[2].astype(np.float64), 0.0)
    np.testing.assert_array_equal(closest[:n_kept], np.minimum(before[:n_kept], from_kept))
    np.testing.assert_array_equal(sums, reference.weighted_slab_sums(w, closest, bounds))
    if n_kept == 700:
        np.testing.assert_array_equal(sums, out[:, 2])


def test_weighted_slab_sums_are_sequential_sums():
    _, w, closest = _problem(1000, 1, np.float32, seed=4, zero_weights=True)
    bounds = slab_bounds(1000, 7)
    out = np.empty(7)
    weighted_slab_sums(w, closest, bounds, out)
    np.testing.assert_array_equal(out, reference.weighted_slab_sums(w, closest, bounds))


def _draw(w, closest, bounds, values):
    sums = reference.weighted_slab_sums(w, closest, bounds)
    out = np.empty(len(values), dtype=np.int64)
    draw_rows(w, closest, bounds, sums, np.asarray(values, dtype=np.float64), out)
    return out


def test_draw_rows_with_one_slab_is_searchsorted_on_cumsum():
    _, w, closest = _problem(3000, 1, np.float64, seed=5, zero_weights=True)
    total = np.cumsum(w * closest)[-1]
    values = np.concatenate([
        np.random.RandomState(0).uniform(size=500) * total, [0.0, total, np.nextafter(total, np.inf), 2 * total],
    ])
    ids = _draw(w, closest, slab_bounds(3000, 1), values)
    np.testing.assert_array_equal(ids, reference.draw_rows(w, closest, values))
    assert ids[-1] == ids[-2] == 2999  # past the end: the last row, as scikit-learn clips


def test_draw_rows_across_slabs_matches_the_global_search():
    # Integer terms: every partial sum is exact, so the two-level search must
    # land exactly where the search on the global cumulative sum does.
    rng = np.random.RandomState(6)
    w = rng.randint(0, 4, size=5000).astype(np.float64)
    closest = rng.randint(0, 50, size=5000).astype(np.float64)
    cum = np.cumsum(w * closest)
    values = np.concatenate([rng.uniform(size=400) * cum[-1], cum[::97], cum[::89] + 0.5, [0.0, cum[-1]]])
    for slabs in (1, 2, 13, 64):
        np.testing.assert_array_equal(
            _draw(w, closest, slab_bounds(5000, slabs), values), reference.draw_rows(w, closest, values)
        )


def test_draw_rows_never_draws_zero_weight_rows_for_positive_values():
    _, w, closest = _problem(4000, 1, np.float32, seed=7, zero_weights=True)
    closest[1::5] = 0.0
    bounds = slab_bounds(4000, 9)
    total = reference.weighted_slab_sums(w, closest, bounds).sum()
    values = np.random.RandomState(1).uniform(1e-9, 1, size=2000) * total
    ids = _draw(w, closest, bounds, values)
    assert np.all(w[ids] * closest[ids] > 0)


def test_draw_rows_target_rounded_past_the_slab():
    # A slab total a little above its rows' sum (as rounding can make it):
    # a draw in the gap goes to the slab's last row of positive weight.
    w = np.ones(8)
    closest = np.array([1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 0.0])
    bounds = np.array([0, 4, 8], dtype=np.int64)
    sums = np.array([6.5, 15.0])
    out = np.empty(3, dtype=np.int64)
    draw_rows(w, closest, bounds, sums, np.array([6.2, 6.5, 7.0]), out)
    np.testing.assert_array_equal(out, [2, 2, 4])
