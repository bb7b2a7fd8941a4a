"""DataMapping: the one shift-and-scale of every Euclidean fit and prediction."""

import numpy as np
import pytest

from kmeanskit._algorithms.mapping import SAFE_MAGNITUDE, TINY_MAGNITUDE, DataMapping, abs_max, pow2_scale
from kmeanskit._algorithms.rows import prediction_rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pow2_scale_only_past_the_safe_magnitude(dtype):
    safe = SAFE_MAGNITUDE[np.dtype(dtype)]
    assert pow2_scale(safe, dtype) == 1.0
    scale = pow2_scale(safe * 4, dtype)
    assert scale < 1.0 and np.frexp(scale)[0] == 0.5  # a power of two
    assert 2.0**19 <= safe * 4 * scale < 2.0**21
    assert abs_max(np.zeros((0, 3))) == 0.0
    assert abs_max(np.array([[1.0, -7.0], [3.0, 2.0]])) == 7.0


@pytest.mark.parametrize(
    "dtype, magnitude",
    [(np.float64, 1.0), (np.float64, 1e4), (np.float64, 1e300), (np.float32, 1.0), (np.float32, 1e4),
     (np.float32, 1e37)],
)
def test_on_mean_is_the_mean_of_the_scaled_rows(dtype, magnitude):
    X = ((np.random.RandomState(0).rand(500, 4) + 2) * magnitude).astype(dtype)
    mapping = DataMapping.on_mean(X)
    s = X.dtype.type(mapping.scale)
    expected = X.mean(axis=0) if mapping.scale == 1.0 else (X * s).mean(axis=0) / s
    assert mapping.shift.tobytes() == expected.tobytes()
    assert mapping.scale == pow2_scale(abs_max(X), dtype)


@pytest.mark.parametrize("magnitude", [1.0, 1e300])
def test_centers_map_and_unmap_exactly(magnitude):
    rng = np.random.RandomState(1)
    X = (rng.rand(300, 3) + 5) * magnitude
    mapping = DataMapping.on_mean(X)
    centers = X[:4]
    mapped = mapping.map_centers(centers)
    s = mapping.scale
    assert mapped.tobytes() == ((centers - mapping.shift) * s).tobytes()
    assert mapping.unmap_centers(mapped).tobytes() == (mapped / s + mapping.shift).tobytes()
    assert mapping.unmap_inertia(2.0**-40) == 2.0**-40 / s / s


def test_identity_leaves_centers_alone():
    centers = np.ones((2, 3))
    assert DataMapping().is_identity
    assert DataMapping().map_centers(centers) is centers
    assert DataMapping().unmap_centers(centers) is centers


def test_prediction_mapping_guards_rows_and_centers():
    X = np.full((10, 2), 1e300)
    centers = np.array([[1e300, 1e300], [-1e300, 0.0]])
    unshifted = DataMapping.for_prediction(X, centers, None)
    assert unshifted.shift is None
    assert unshifted.scale == pow2_scale(1e300, np.float64) < 1.0
    shift = np.zeros(2)
    rows, mapped, scale = prediction_rows(X, None, centers, shift)
    assert scale == DataMapping.for_prediction(X, centers, shift).scale
    assert mapped.tobytes() == ((centers - shift) * scale).tobytes()
    assert np.all(np.isfinite(rows.block(0, 10)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow2_scale_also_below_the_tiny_magnitude_but_never_for_zero(dtype):
    tiny = TINY_MAGNITUDE[np.dtype(dtype)]
    assert pow2_scale(tiny, dtype) == 1.0 and pow2_scale(0.0, dtype) == 1.0
    scale = pow2_scale(tiny / 4, dtype)
    assert scale > 1.0 and np.frexp(scale)[0] == 0.5  # a power of two
    assert pow2_scale(np.inf, dtype) == np.ldexp(1.0, 20 - np.finfo(dtype).maxexp - 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_and_centers_near_the_limit_map_and_unmap_without_overflow(dtype):
    top = np.finfo(dtype).max
    X = np.array([[top, -top], [-top, top], [top, top]], dtype=dtype)
    mapping = DataMapping(np.array([-top / 3, top / 5], dtype=dtype), pow2_scale(abs_max(X) * 2, dtype))
    mapped = mapping.map_rows(X)
    assert np.isfinite(mapped).all() and np.array_equal(mapping.map_centers(X), mapped)
    # Ordinary values: the same bits as shifting first, the scale being a power of two.
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(50, 2)).astype(dtype)
    ordinary = DataMapping(Y.mean(axis=0), 2.0**-30)
    assert np.array_equal(ordinary.map_rows(Y), (Y - ordinary.shift) * dtype(2.0**-30))
    # A center one rounding past the limit comes back as the limit, not infinity.
    edge = DataMapping(None, 2.0**-1000 if dtype == np.float64 else 2.0**-100)
    centers = edge.map_centers(np.array([[top, -top]], dtype=dtype))
    centers = np.nextafter(centers, np.array([[np.inf, -np.inf]], dtype=dtype))
    assert np.array_equal(edge.unmap_centers(centers), [[top, -top]])
