import numpy as np
import pytest

from kmeanskit._engine.moments import mean_and_variances

from . import reference


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (20_001, 5), (3_000, 40)])
def test_mean_and_variances(shape, dtype):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=shape) * 1e3 + 5e3).astype(dtype)
    mean, variances = np.full(shape[1], np.nan), np.full(shape[1], np.nan)
    mean_and_variances(X, mean, variances)
    # The mean keeps numpy's bits (the fit centers X with it); the variances set tol.
    expected_mean, expected_variances = reference.mean_and_variances(X)
    assert mean.tobytes() == expected_mean.tobytes()
    np.testing.assert_allclose(variances, expected_variances, rtol=1e-10)


def test_mean_and_variances_of_a_strided_view():
    X = np.arange(60, dtype=np.float64).reshape(10, 6)[::2, ::3]
    mean, variances = np.empty(2), np.empty(2)
    mean_and_variances(X, mean, variances)
    expected_mean, expected_variances = reference.mean_and_variances(X)
    assert mean.tobytes() == expected_mean.tobytes()
    np.testing.assert_allclose(variances, expected_variances, rtol=1e-12)
