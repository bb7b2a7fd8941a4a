"""Data near the limits of floating point: clustered correctly or refused clearly, by every estimator.

Labels are always in ``[0, k)`` and equal to ``predict`` on the training data,
centers are finite; an inertia whose true value is beyond the dtype's range is
infinite (honest), never NaN. Huge and tiny data are fitted times a power of two
(exact), so their labels are those of the same data at an ordinary scale.
"""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, KMedians, MiniBatchKMeans, SphericalKMeans

F64, F32 = np.finfo(np.float64).max, np.finfo(np.float32).max


def _blobs(scale, dtype=np.float64):
    X, _ = make_blobs(300, n_features=3, centers=3, cluster_std=0.5, random_state=0)
    return (X * scale).astype(dtype)


DATA = {
    "+-max float64": np.vstack([np.full((50, 3), F64), np.full((50, 3), -F64)]),
    "+-max float32": np.vstack([np.full((50, 3), F32), np.full((50, 3), -F32)]).astype(np.float32),
    "ordinary rows and max rows": np.vstack([np.random.default_rng(0).normal(size=(100, 3)), np.full((5, 3), F64)]),
    "blobs at 1e300": _blobs(1e300),
    "blobs at 1e-300": _blobs(1e-300),
    "blobs at 1e-30 float32": _blobs(1e-30, np.float32),
    "blobs at 1e35 float32": _blobs(1e35, np.float32),
}
ESTIMATORS = {
    "KMeans lloyd": lambda k: KMeans(k, algorithm="lloyd", random_state=0),
    "KMeans elkan": lambda k: KMeans(k, algorithm="elkan", random_state=0),
    "MiniBatchKMeans": lambda k: MiniBatchKMeans(k, batch_size=64, random_state=0, n_init=3),
    "KMedians": lambda k: KMedians(k, random_state=0),
    "SphericalKMeans": lambda k: SphericalKMeans(k, random_state=0),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
# scikit-learn's finiteness check (validate_data) sums X, which overflows to inf - inf on +-max data.
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=ESTIMATORS.keys())
@pytest.mark.parametrize("data", DATA, ids=DATA.keys())
def test_extreme_data_is_clustered_correctly_or_refused(estimator, data):
    X = DATA[data]
    k = 2 if "max" in data else 3
    model = ESTIMATORS[estimator](k)
    try:
        model.fit(X)
    except ValueError as exc:
        # Only cosine can refuse: a row whose norm is beyond the dtype's range has no direction.
        assert estimator == "SphericalKMeans" and "norm exceeds the range of" in str(exc), exc
        return
    labels = model.labels_
    assert labels.min() >= 0 and labels.max() < k
    assert np.array_equal(labels, model.predict(X))
    assert np.isfinite(model.cluster_centers_).all()
    assert model.cluster_centers_.dtype == X.dtype
    assert not np.isnan(model.inertia_)
    if data.startswith("+-max") or data.startswith("blobs"):
        assert len(np.unique(labels)) == k  # the groups are found, not merged


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans, KMedians])
@pytest.mark.parametrize("factor", [2.0**600, 2.0**-600, 1e300, 1e-300])
def test_huge_and_tiny_data_get_the_labels_of_ordinary_data(cls, factor):
    X, _ = make_blobs(2000, centers=6, cluster_std=2.5, random_state=1)
    ordinary = cls(6, init="random", n_init=1, random_state=0).fit(X)
    scaled = cls(6, init="random", n_init=1, random_state=0).fit(X * factor)
    assert scaled.n_iter_ == ordinary.n_iter_
    assert np.array_equal(scaled.labels_, ordinary.labels_)
    assert np.allclose(scaled.cluster_centers_ / factor, ordinary.cluster_centers_, rtol=1e-12)
