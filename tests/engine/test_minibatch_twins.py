"""The NumPy twins of the mini-batch kernels give the bits of the compiled serial kernels."""

import numpy as np
import pytest

from kmeanskit._engine.minibatch import gather_rows, minibatch_update

from .twins import assert_twin_matches


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "d", "b"), [(1, 1, 1), (10, 3, 25), (3000, 40, 1024), (500, 7, 64)])
def test_gather_rows(dtype, n, d, b):
    rng = np.random.RandomState(n + d)
    X = (rng.normal(size=(n, d)) * 1e3 + 1e6).astype(dtype)
    indices = rng.randint(0, n, b).astype(np.int64)
    shift = X.mean(axis=0).astype(dtype)
    for scale in (1.0, 2.0**-10, 2.0**7):
        assert_twin_matches(gather_rows, X, indices, shift, scale, np.empty((b, d), dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("k", "d", "slabs"), [(1, 1, 1), (3, 4, 1), (8, 40, 3), (20, 2, 4)])
@pytest.mark.parametrize("weights", ["unit", "rows"])
def test_minibatch_update(dtype, k, d, slabs, weights):
    rng = np.random.RandomState(k * d + slabs)
    centers = rng.normal(size=(k, d)).astype(dtype)
    counts = np.where(rng.uniform(size=k) < 0.3, 0.0, rng.randint(1, 500, k).astype(np.float64))
    if weights == "rows":
        counts = counts * rng.uniform(0.1, 2.0, k)
    weight_sums = rng.randint(0, 30, size=(slabs, k)).astype(np.float64)
    if weights == "rows":
        weight_sums *= rng.uniform(0.1, 2.0, size=(slabs, k))
    weight_sums[:, 0] = 0.0  # a center without batch weight is copied
    sums = rng.normal(size=(slabs, k, d)) * weight_sums[:, :, None]
    assert_twin_matches(minibatch_update, centers, counts, sums, weight_sums, np.empty_like(centers))
