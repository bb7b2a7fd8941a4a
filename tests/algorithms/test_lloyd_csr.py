"""The Lloyd step on CSR rows: the few-cluster kernel (and its NumPy twin) gives the general kernel's fits,
bit for bit; the center sums keep the bits of the slabs the shape sets, whatever the thread count."""

import numpy as np
import pytest
import scipy.sparse as sp

import kmeanskit._algorithms.lloyd as lloyd
from kmeanskit import KMeans
from kmeanskit._algorithms.rows import CSR_SUM_SHARE, MAX_SLABS, as_rows, n_csr_sum_slabs, slab_bounds
from kmeanskit._engine.assign import assign_accumulate_csr
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


@pytest.mark.parametrize(
    ("n_rows", "nnz", "n_features", "expected"),
    [
        (2_000, 92_406, 5_000, 1),  # the sparse suite's 2k x 5k at 1%: one slab
        (20_000, 377_893, 2_000, 5),  # 20k x 2k at 1%: nnz / (32 d)
        (100_000, 5_000_000, 50_000, 3),
        (1_000_000, 100_000_000, 10_000, MAX_SLABS),  # many values a feature: capped
        (1_000, 1_000_000, 10, 4),  # few rows: at least 256 rows a slab
        (3, 0, 7, 1),  # no stored value
    ],
)
def test_csr_sum_slabs_are_set_by_the_shape(n_rows, nnz, n_features, expected):
    slabs = n_csr_sum_slabs(n_rows, nnz, n_features)
    assert slabs == expected
    # The merge (slabs x k x d) is at most 1/CSR_SUM_SHARE of the pass's nnz x k, beyond one slab.
    assert slabs == 1 or slabs * n_features * CSR_SUM_SHARE <= nnz


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [3, 20])  # the few-cluster kernel, the general one
@pytest.mark.parametrize("weighted", [False, True])
def test_csr_pass_sums_have_the_bits_of_the_shapes_slabs_at_any_thread_count(dtype, k, weighted, at_thread_counts):
    n, d = 30_000, 300
    X = _tfidf_like(n, d, 0.04, dtype)
    w = np.random.RandomState(4).uniform(0.5, 2.0, n).astype(dtype) if weighted else None
    bounds = as_rows(X, w).center_sum_slabs()
    assert bounds.tolist() == slab_bounds(n, n_csr_sum_slabs(n, X.nnz, d)).tolist()
    assert bounds.shape[0] - 1 == X.nnz // (CSR_SUM_SHARE * d) > 1  # several slabs, fewer than 64
    centers = X[1:k + 1].toarray()

    def one_pass():
        labels = np.zeros(n, dtype=np.int32)
        assignment = lloyd.LloydStep(as_rows(X, w), k)(centers, labels, update=True)
        return assignment.sums, assignment.weights, labels

    passes = at_thread_counts(one_pass)
    # The fused kernel's per-slab sums on these slabs, merged in slab order.
    slabs = bounds.shape[0] - 1
    slab_sums, slab_weights = np.zeros((slabs, k, d)), np.zeros((slabs, k))
    labels, sq_dist = np.empty(n, dtype=np.int32), np.empty(n)
    assign_accumulate_csr(
        X.data, X.indices, X.indptr, as_rows(X, w).x_sq, np.ones(1, dtype=dtype) if w is None else w,
        np.ascontiguousarray(centers.T),
        np.einsum("ij,ij->i", centers, centers), labels, sq_dist, slab_sums, slab_weights, bounds, True,
    )
    expected, expected_weights = np.add.reduce(slab_sums, axis=0), np.add.reduce(slab_weights, axis=0)
    for sums, weights, pass_labels in passes:
        np.testing.assert_array_equal(pass_labels, labels)
        assert sums.tobytes() == expected.tobytes()
        assert weights.tobytes() == expected_weights.tobytes()
