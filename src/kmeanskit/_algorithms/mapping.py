"""The data mapping ``x -> (x - shift) * scale`` that every Euclidean fit and prediction uses.

Distances are computed by the GEMM identity ``|x|^2 - 2 x.c + |c|^2``, whose
rounding grows with ``|x|^2``: dense data far from the origin are therefore
shifted by their mean first. Values so large that squared distances could
overflow the dtype, or so small that they would underflow to zero, are
multiplied by a power of two, which is exact and changes no label. :class:`DataMapping` is that pair, with the arithmetic that maps
centers into the space of the mapped rows and back; the rows themselves are
mapped block by block by :class:`kmeanskit._algorithms.rows.DenseRows` (or in
place, by ``KMeans.fit``), so X is never copied whole for it.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["SAFE_MAGNITUDE", "SCALED_MAGNITUDE_EXPONENT", "TINY_MAGNITUDE", "DataMapping", "abs_max", "pow2_scale"]

# Rows are scaled by a power of two (exact) when values this large could
# overflow squared distances in the dtype, or so small that squared differences
# at the dtype's resolution (magnitude * eps) would be subnormal or zero; the
# scale brings them near 2**SCALED_MAGNITUDE_EXPONENT.
SAFE_MAGNITUDE = {np.dtype(np.float64): 2.0**480, np.dtype(np.float32): 2.0**50}
TINY_MAGNITUDE = {np.dtype(np.float64): 2.0**-400, np.dtype(np.float32): 2.0**-40}
SCALED_MAGNITUDE_EXPONENT = 20


def abs_max(X):
    """Largest absolute value of X (0.0 when empty)."""
    return float(max(X.max(), -X.min())) if X.size else 0.0


def pow2_scale(magnitude, dtype):
    """1.0, or the power of two that brings ``magnitude`` near 2**20 if it is too large or too small
    (but not zero) for squared distances in ``dtype``."""
    dtype = np.dtype(dtype)
    if not (magnitude > SAFE_MAGNITUDE[dtype] or 0.0 < magnitude < TINY_MAGNITUDE[dtype]):
        return 1.0
    # A magnitude summed past the dtype's range (a value minus a shift) is below twice its limit.
    exponent = int(np.frexp(magnitude)[1]) if np.isfinite(magnitude) else np.finfo(dtype).maxexp + 1
    return float(np.ldexp(1.0, SCALED_MAGNITUDE_EXPONENT - exponent))


@dataclass(frozen=True)
class DataMapping:
    """Rows are used as ``(x - shift) * scale``; centers are mapped the same way.

    Parameters
    ----------
    shift : ndarray of shape (n_features,) or None
        The training mean (in the units of X), or None: rows stay where they are.
    scale : float, default=1.0
        A power of two (1.0 unless magnitudes could overflow squared distances).
        Distances in the mapped space are ``scale`` times the true ones.
    """

    shift: np.ndarray | None = None
    scale: float = 1.0

    @classmethod
    def on_mean(cls, X):
        """Dense X shifted by its mean (computed on the scaled rows when a scale is needed)."""
        scale = pow2_scale(abs_max(X), X.dtype)
        if scale == 1.0:
            return cls(X.mean(axis=0), 1.0)
        s = X.dtype.type(scale)
        return cls((X * s).mean(axis=0) / s, scale)

    @classmethod
    def from_moments(cls, mean, magnitude, dtype):
        """The mapping of data of this ``mean`` (float64) and largest absolute value, in ``dtype``.

        For data seen in passes (a file, Dask blocks), whose moments were summed as they went.
        """
        return cls(mean.astype(dtype), pow2_scale(magnitude, dtype))

    @classmethod
    def for_prediction(cls, X, centers, shift):
        """The mapping of new rows X for a model fitted with ``shift`` (None: not shifted).

        The scale is chosen on X and the centers together, so that neither the
        mapped rows nor the mapped centers can overflow.
        """
        if shift is None:
            return cls(None, pow2_scale(max(abs_max(centers), abs_max(X)), X.dtype))
        shift = shift.astype(X.dtype, copy=False)
        with np.errstate(over="ignore"):  # an infinite magnitude asks for the smallest scale
            magnitude = max(abs_max(centers - shift), abs_max(X) + abs_max(shift))
        return cls(shift, pow2_scale(magnitude, X.dtype))

    @property
    def is_identity(self):
        return self.shift is None and self.scale == 1.0

    def map_rows(self, rows, *, in_place=False):
        """``(rows - shift) * scale`` in the rows' dtype: a new array, or ``rows`` changed when ``in_place``.

        Scaled first (the same bits as after the shift, the scale being a power
        of two), so that rows near the dtype's limit minus the shift cannot
        overflow.
        """
        if self.is_identity:
            return rows
        out = rows if in_place else None
        if self.scale != 1.0:
            s = rows.dtype.type(self.scale)
            rows = np.multiply(rows, s, out=out)
            if self.shift is not None:
                rows -= self.shift.astype(rows.dtype, copy=False) * s
            return rows
        return np.subtract(rows, self.shift.astype(rows.dtype, copy=False), out=out)

    def map_centers(self, centers, dtype=None):
        """``(centers - shift) * scale``, the scale in ``dtype`` (the centers' by default).

        Computed as ``centers * scale - shift * scale``: the same bits (the
        scale is a power of two), and no overflow for values near the
        dtype's limit, whose difference with the shift may not be finite.
        """
        if self.is_identity:
            return centers
        s = np.dtype(dtype or centers.dtype).type(self.scale)
        if self.shift is None:
            return centers * s
        return centers - self.shift if self.scale == 1.0 else centers * s - self.shift * s

    def unmap_centers(self, centers):
        """Mapped centers back in the units of X: ``centers / scale + shift``, within the dtype's range.

        A center is a mean of rows within the range; rounding can carry it one
        ulp past the largest finite value, where it is held.
        """
        if self.is_identity:
            return centers
        with np.errstate(over="ignore"):
            out = centers / centers.dtype.type(self.scale)
            if self.shift is not None:
                out += self.shift
        limit = np.finfo(out.dtype).max
        # np.clip's values (NaN and signed zeros kept), without its wrapper's cost on a small array.
        np.minimum(out, limit, out=out)
        return np.maximum(out, -limit, out=out)

    def unmap_inertia(self, inertia):
        """An inertia (sum of squared distances, or an array of them) in the units of X: infinite when
        the true value is beyond the dtype's range."""
        with np.errstate(over="ignore"):
            return inertia / self.scale / self.scale
