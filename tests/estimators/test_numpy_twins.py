"""Estimators with the kernels' NumPy twins give the compiled kernels' results, bit for bit.

Every ``sized(kernel, n)`` call is sent to the kernel's NumPy twin when it has
one (the kernels without a twin run compiled, as before): labels, centers,
inertia and the number of iterations must be the same bits.
"""

import sys

import numpy as np
import pytest

from kmeanskit import KMedians, MiniBatchKMeans, SphericalKMeans
from kmeanskit._engine import serial

from ..engine.twins import same_bits


@pytest.fixture
def numpy_twins(monkeypatch):
    """A context in which every kernel with a NumPy twin runs its twin."""
    original = serial.sized

    def forced(kernel, n_values):
        twin = serial.numpy_twin_of(kernel)
        return twin if twin is not None else original(kernel, n_values)

    def patch():
        for name, module in list(sys.modules.items()):
            if name.startswith("kmeanskit.") and getattr(module, "sized", None) is original:
                monkeypatch.setattr(module, "sized", forced)

    return patch


def _data(dtype, weights, n=160, d=4, seed=0):
    rng = np.random.RandomState(seed)
    X = (rng.normal(size=(4, d)) * 3)[rng.randint(0, 4, n)] + rng.normal(size=(n, d))
    X = X.astype(dtype)
    w = None if weights == "unit" else rng.uniform(0.2, 3.0, n)
    return X, w


def _fitted(estimator, X, w):
    est = estimator.fit(X, sample_weight=w)
    return est.labels_, est.cluster_centers_, np.float64(est.inertia_), est.n_iter_, est.predict(X), est.transform(X)


def _assert_same_bits(expected, got):
    for position, (e, g) in enumerate(zip(expected, got, strict=True)):
        assert same_bits(e, g), position


ESTIMATORS = [
    lambda: KMedians(3, random_state=0),
    lambda: KMedians(5, init="random", n_init=2, random_state=1),
    lambda: SphericalKMeans(3, random_state=0),
    lambda: SphericalKMeans(4, n_init=2, random_state=2),
    lambda: MiniBatchKMeans(3, random_state=0, batch_size=64, n_init=1),
]


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["unit", "rows"])
def test_estimators(numpy_twins, make, dtype, weights):
    X, w = _data(dtype, weights)
    expected = _fitted(make(), X, w)
    numpy_twins()
    _assert_same_bits(expected, _fitted(make(), X, w))


def test_minibatch_partial_fit(numpy_twins):
    X, _ = _data(np.float64, "unit")

    def run():
        est = MiniBatchKMeans(3, random_state=0)
        for start in range(0, X.shape[0], 40):
            est.partial_fit(X[start : start + 40])
        return est.cluster_centers_, est.predict(X), np.float64(est.score(X))

    expected = run()
    numpy_twins()
    _assert_same_bits(expected, run())
