"""The Lloyd step on CSR rows: the few-cluster kernel (and its NumPy twin) gives the general kernel's fits,
bit for bit."""

import numpy as np
import pytest
import scipy.sparse as sp

import kmeanskit._algorithms.lloyd as lloyd
from kmeanskit import KMeans
from kmeanskit._engine.serial import kernels_mode


def _tfidf_like(n, d, density, dtype, seed=0):
    """Non-negative CSR rows of unit norm, some empty, as TF-IDF gives."""
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    X = (sp.diags((np.arange(n) % 11 != 0).astype(np.float64)) @ X).tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags(1.0 / norms) @ X).tocsr().astype(dtype)


def _fit(X, k, w):
    model = KMeans(k, random_state=1, n_init=2).fit(X, sample_weight=w)
    return model.cluster_centers_, model.labels_, model.inertia_, model.inertia_history_, model.predict(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [2, 5, 9, lloyd.CSR_FEW_CLUSTERS])
@pytest.mark.parametrize("weighted", [False, True])
# 3,000 x 300 at 4%: the serial kernel; 30,000 x 300 at 4%: the parallel one.
@pytest.mark.parametrize("n", [3_000, 30_000])
def test_few_cluster_fits_have_the_general_kernels_bits(dtype, k, weighted, n, monkeypatch, at_thread_counts):
    X = _tfidf_like(n, 300, 0.04, dtype)
    w = np.random.RandomState(2).uniform(0.5, 2.0, n) if weighted else None
    fits = at_thread_counts(lambda: _fit(X, k, w))
    monkeypatch.setattr(lloyd, "CSR_FEW_CLUSTERS", 0)  # every k on the general kernel
    fits.append(_fit(X, k, w))
    for centers, labels, inertia, history, predicted in fits[:-1]:
        expected = fits[-1]
        assert centers.tobytes() == expected[0].tobytes()
        np.testing.assert_array_equal(labels, expected[1])
        assert inertia == expected[2]
        assert history.tobytes() == expected[3].tobytes()
        np.testing.assert_array_equal(predicted, expected[4])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [3, lloyd.CSR_FEW_CLUSTERS])
@pytest.mark.parametrize("weighted", [False, True])
def test_few_cluster_fits_on_the_numpy_twin_have_the_compiled_bits(dtype, k, weighted):
    X = _tfidf_like(2_000, 300, 0.04, dtype)  # below the serial threshold: the twin runs in mode "numpy"
    w = np.random.RandomState(3).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    with kernels_mode("compiled"):
        compiled = _fit(X, k, w)
    with kernels_mode("numpy"):
        twins = _fit(X, k, w)
    for a, b in zip(compiled, twins, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
