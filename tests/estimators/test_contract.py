"""The contract every estimator keeps: scikit-learn's estimator checks, and the
promises of DESIGN.md (same random_state -> the same bits at any thread count;
float32 stays float32; the caller's arrays are never modified; bad input is
named in the error).

One parametrized test per promise runs KMeans, MiniBatchKMeans, KMedians,
SphericalKMeans (KPrototypes and KModes: scikit-learn's checks here, the
promises in test_kprototypes.py) and, where it applies, the Dask KMeans (which returns lazy dask
arrays, so scikit-learn's checks do not apply to it).
"""

import inspect

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from kmeanskit import KMeans, KMedians, KModes, KPrototypes, MiniBatchKMeans, SphericalKMeans, k_means

# scikit-learn's own KMeans and MiniBatchKMeans are excused from these two as
# well: they compare a weighted fit on shuffled data with a fit on repeated
# rows, which order-dependent random seeding (or random batches) cannot reproduce.
_ROW_ORDER = {
    "check_sample_weight_equivalence_on_dense_data": "random seeding depends on row order",
    "check_sample_weight_equivalence_on_sparse_data": "random seeding depends on row order",
}
EXPECTED_FAILED = {
    "KMeans": _ROW_ORDER,
    "MiniBatchKMeans": {
        "check_sample_weight_equivalence_on_dense_data": "random batches depend on row order",
        "check_sample_weight_equivalence_on_sparse_data": "random batches depend on row order",
    },
    "KMedians": _ROW_ORDER,
    "KPrototypes": _ROW_ORDER,
    "KModes": {
        **_ROW_ORDER,
        # The check clusters continuous blobs: read as categories, every value
        # is its own level and all rows are equally far apart in Hamming distance.
        "check_clustering": "continuous values read as categories: every value is its own level",
    },
    "SphericalKMeans": {
        **_ROW_ORDER,
        # These checks' data have rows of zeros (sparse: X[X < .6] = 0 over 3
        # features; dtypes: 3 * uniform cast to int): the cosine is undefined
        # there, and SphericalKMeans refuses such rows by design (a ValueError
        # naming them; tested in test_spherical_bad_input.py).
        "check_estimator_sparse_array": "rows of zeros: cosine undefined (refused with a ValueError)",
        "check_estimator_sparse_matrix": "rows of zeros: cosine undefined (refused with a ValueError)",
        "check_estimator_sparse_tag": "rows of zeros: cosine undefined (refused with a ValueError)",
        "check_estimators_dtypes": "int data with a row of zeros: cosine undefined (refused with a ValueError)",
    },
}


@parametrize_with_checks(
    # KPrototypes reads column 0 as categories (every value a level), the others as numbers.
    [KMeans(), KMeans(missing="ignore"), MiniBatchKMeans(), KMedians(), SphericalKMeans(), KPrototypes(categorical=[0]),
     KPrototypes(categorical=[0], missing="ignore"), KModes(), KModes(missing="ignore")],
    expected_failed_checks=lambda est: EXPECTED_FAILED[type(est).__name__],
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ------------------------------------------------------------- the promises
def _dask_kmeans(n_clusters, **params):
    dask_module = pytest.importorskip("kmeanskit.dask")
    return dask_module.KMeans(n_clusters, **params)


ESTIMATORS = {
    "KMeans": lambda k, **p: KMeans(k, **p),
    "KMeans-lloyd": lambda k, **p: KMeans(k, algorithm="lloyd", **p),
    "MiniBatchKMeans": lambda k, **p: MiniBatchKMeans(k, batch_size=256, **p),
    "KMedians": lambda k, **p: KMedians(k, **p),
    "SphericalKMeans": lambda k, **p: SphericalKMeans(k, **p),
    "DaskKMeans": _dask_kmeans,
}


def _data(dtype=np.float64, n=3000, d=6, seed=0):
    """Blobs away from the origin (so the Euclidean fits center them), no row of zeros."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(5, 50, size=(5, d))
    X = centers[rng.randint(0, 5, n)] + rng.normal(size=(n, d))
    return X.astype(dtype), rng.uniform(0.5, 2.0, n).astype(dtype)


def _computed(a):
    """A result as a NumPy array (the Dask KMeans returns dask arrays)."""
    return np.asarray(a.compute() if hasattr(a, "compute") else a)


def _results(est, X, w):
    est.fit(X, sample_weight=w)
    Y = X[:200] * 1.01
    return {
        "centers": est.cluster_centers_,
        "labels": _computed(est.labels_),
        "inertia": est.inertia_,
        "predict": _computed(est.predict(Y)),
        "transform": _computed(est.transform(Y)),
        "score": est.score(Y),
    }


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_bits_at_any_thread_count(name, dtype, at_thread_counts):
    X, w = _data(dtype)
    a, b = at_thread_counts(lambda: _results(ESTIMATORS[name](5, random_state=0), X, w))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert np.asarray(a[key]).tobytes() == np.asarray(b[key]).tobytes(), key


@pytest.mark.parametrize("name", ESTIMATORS)
def test_float32_stays_float32(name):
    X, w = _data(np.float32)
    results = _results(ESTIMATORS[name](5, random_state=0), X, w)
    assert results["centers"].dtype == np.float32
    assert results["transform"].dtype == np.float32


@pytest.mark.parametrize("name", ESTIMATORS)
def test_callers_arrays_are_not_modified(name):
    X, w = _data()
    init = X[:5].copy()
    X_before, w_before, init_before = X.copy(), w.copy(), init.copy()
    est = ESTIMATORS[name](5, init=init, n_init=1)
    _results(est, X, w)
    for given, before in ((X, X_before), (w, w_before), (init, init_before)):
        assert given.tobytes() == before.tobytes()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input_is_named(name):
    X, w = _data()
    X_nan = X.copy()
    X_nan[7, 2] = np.nan
    with pytest.raises(ValueError, match="X"):
        _computed(ESTIMATORS[name](5, random_state=0).fit(X_nan).labels_)
    with pytest.raises(ValueError, match="sample_weight"):
        _computed(ESTIMATORS[name](5, random_state=0).fit(X, sample_weight=-w).labels_)
    est = ESTIMATORS[name](5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        _computed(est.predict(X[:, :3]))
    with pytest.raises(ValueError, match="n_clusters"):
        ESTIMATORS[name](len(X) + 1, random_state=0).fit(X)


# ----------------------------------------------------- the functional form
def test_k_means_and_kmeans_agree_on_every_default():
    function = inspect.signature(k_means).parameters
    estimator = inspect.signature(KMeans).parameters
    assert set(estimator) <= set(function)  # every parameter of the class, plus X, sample_weight, return_n_iter
    # n_clusters is required, as in scikit-learn's k_means; every other parameter has the class's default.
    assert function["n_clusters"].default is inspect.Parameter.empty
    for name in set(estimator) - {"n_clusters"}:
        assert function[name].default == estimator[name].default, name
        assert type(function[name].default) is type(estimator[name].default), name


def test_k_means_gives_the_fit_of_kmeans_with_defaults():
    X, w = _data(n=60_000, d=16)  # large enough for init='auto' to choose k-means||
    centers, labels, inertia = k_means(X, 5, sample_weight=w, random_state=0)
    est = KMeans(5, random_state=0).fit(X, sample_weight=w)
    assert centers.tobytes() == est.cluster_centers_.tobytes()
    np.testing.assert_array_equal(labels, est.labels_)
    assert inertia == est.inertia_
