"""A matrix product through numba, i.e. through SciPy's BLAS.

numba's ``np.dot`` calls the BLAS that SciPy ships, which was faster than
NumPy's on the K-Means product shape where it was measured
(benchmarks/README.md), so large blocks go through here.
"""

import numpy as np
from numba import njit

__all__ = ["matmul_into"]


@njit(cache=True, nogil=True)
def matmul_into(a, b, out):
    """``out = a @ b``.

    IN   a    (m, p) C-contiguous, float32 or float64
    IN   b    (p, n) C-contiguous, a's dtype
    OUT  out  (m, n) C-contiguous, a's dtype
    """
    np.dot(a, b, out)
