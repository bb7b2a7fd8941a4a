"""Numba kernel for the feature means and variances a fit starts from."""

import numpy as np
from numba import njit

__all__ = ["mean_and_variances"]


@njit(cache=True, nogil=True)
def mean_and_variances(X, mean, variances):
    """Feature means and (population) variances of dense rows, in float64, in two passes.

    IN   X          (n, d) float32 or float64, n >= 1
    OUT  mean       (d,) float64: the bits of ``X.mean(axis=0, dtype=np.float64)``
                    (numpy adds the rows of a C-ordered array one after the other too)
    OUT  variances  (d,) float64 mean of ``(x - mean)^2``, added in row order

    Numpy's reductions over the rows of a narrow array are slow; this is one
    read of X, with no temporary.
    """
    n, d = X.shape
    mean[:] = 0.0
    for i in range(n):
        for f in range(d):
            mean[f] += np.float64(X[i, f])
    for f in range(d):
        mean[f] /= n
    variances[:] = 0.0
    for i in range(n):
        for f in range(d):
            e = np.float64(X[i, f]) - mean[f]
            variances[f] += e * e
    for f in range(d):
        variances[f] /= n
