"""A matrix product through numba, i.e. through SciPy's BLAS.

numba's ``np.dot`` calls the BLAS that SciPy ships. On this machine that build
is faster than NumPy's on the K-Means product shape (64k x 128 @ 128 x 256:
sgemm 64-66 against 55-59 GFLOP/s, dgemm 31-32 against 29; measured with
/tmp experiments reproduced by ``python -m benchmarks lloyd``), so large
blocks go through here.
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
