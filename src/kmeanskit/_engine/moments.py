"""Numba kernel for the feature means and variances a fit starts from."""

import numpy as np
from numba import njit

from kmeanskit._engine.serial import numpy_twin

__all__ = ["mean_and_variances", "mean_and_variances_numpy"]


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


@numpy_twin(mean_and_variances)
def mean_and_variances_numpy(X, mean, variances):
    """:func:`mean_and_variances` in NumPy, with the same bits (its NumPy twin).

    The rows are added in order (``np.add.accumulate``; ``sum`` may add
    pairwise); adding 0.0 at the end turns an all-zero column's -0.0 into the
    kernel's 0.0 (its sum starts at 0.0) and changes nothing else.
    """
    n = X.shape[0]
    X64 = X.astype(np.float64)
    mean[:] = (np.add.accumulate(X64, axis=0)[-1] + 0.0) / n
    e = X64 - mean
    variances[:] = (np.add.accumulate(e * e, axis=0)[-1] + 0.0) / n
