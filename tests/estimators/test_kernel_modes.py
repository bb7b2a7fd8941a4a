"""KMeans on the NumPy twins (a cold machine's first fits) gives the compiled kernels' bits."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine

from kmeanskit import KMeans, kmeans_plusplus
from kmeanskit._engine.compiling import compile_clock
from kmeanskit._engine.serial import kernels_mode


def _fitted(X, sample_weight, **params):
    model = KMeans(3, random_state=0, **params).fit(X, sample_weight=sample_weight)
    return (model.labels_, model.cluster_centers_, model.inertia_, model.n_iter_,
            model.predict(X), model.transform(X), model.score(X, sample_weight=sample_weight),
            model.fit_predict(X, sample_weight=sample_weight))


def _same_bits(a, b):
    for x, y in zip(a, b, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("load", [load_iris, load_wine])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("params", [{}, {"n_init": 3}, {"init": "random", "n_init": 2}, {"init": "array"},
                                    {"algorithm": "elkan"}])
@pytest.mark.parametrize("weighted", [False, True])
def test_numpy_twins_fit_the_bits_of_the_compiled_kernels(load, dtype, params, weighted):
    X = np.ascontiguousarray(load().data, dtype=dtype)
    if params.get("init") == "array":
        params = {"init": X[[0, 60, 120]], "n_init": 1}
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    with kernels_mode("compiled"):
        compiled = _fitted(X, sample_weight, **params)
    with kernels_mode("numpy"), compile_clock() as clock:
        twins = _fitted(X, sample_weight, **params)
    _same_bits(compiled, twins)
    if params.get("algorithm") != "elkan":  # the bounded step has no twins yet
        assert clock.kernels == []


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_plusplus_on_numpy_twins(dtype):
    X = np.ascontiguousarray(load_iris().data, dtype=dtype)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=X.shape[0])
    for sample_weight in (None, weights):
        with kernels_mode("compiled"):
            compiled = kmeans_plusplus(X, 5, sample_weight=sample_weight, random_state=3)
        with kernels_mode("numpy"):
            twins = kmeans_plusplus(X, 5, sample_weight=sample_weight, random_state=3)
        _same_bits(compiled, twins)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_chunked_path_on_numpy_twins(dtype):
    # digits (64 features): Lloyd's step takes the chunked BLAS path.
    from sklearn.datasets import load_digits

    X = np.ascontiguousarray(load_digits().data[:600], dtype=dtype)
    with kernels_mode("compiled"):
        compiled = _fitted(X, None, algorithm="lloyd")
    with kernels_mode("numpy"), compile_clock() as clock:
        twins = _fitted(X, None, algorithm="lloyd")
    _same_bits(compiled, twins)
    assert clock.kernels == []
