"""The stable argsort of the kernels: NumPy's stable argsort, index for index."""

import numpy as np
import pytest

from kmeanskit._engine.sorting import stable_argsort


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m", [0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 257, 1000, 4097])
def test_stable_argsort_is_numpys(dtype, m):
    rng = np.random.default_rng(m)
    cases = [
        rng.random(m),  # distinct values
        rng.integers(-3, 4, m).astype(float),  # many ties
        -rng.integers(0, 2, m).astype(float) * 0.0 * rng.choice([-1.0, 1.0], m),  # +0.0 and -0.0 mixed: equal
        np.arange(m, dtype=float)[::-1],  # decreasing
        np.full(m, 7.5),
    ]
    for values in cases:
        values = values.astype(dtype)
        got = stable_argsort(values)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.argsort(values, kind="stable"))


def test_stable_argsort_reads_a_slice_without_changing_it():
    values = np.array([3.0, 1.0, 2.0, 1.0, 0.5, 9.0])
    np.testing.assert_array_equal(stable_argsort(values[1:5]), [3, 0, 2, 1])
    np.testing.assert_array_equal(values, [3.0, 1.0, 2.0, 1.0, 0.5, 9.0])
