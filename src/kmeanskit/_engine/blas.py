"""A matrix product through numba, i.e. through SciPy's BLAS.

numba's ``np.dot`` calls the BLAS that SciPy ships, which was faster than
NumPy's on the K-Means product shape where it was measured
(benchmarks/README.md), so large blocks go through here.
"""

import numpy as np
from numba import njit

from kmeanskit._engine.numpy_twins import numba_dot
from kmeanskit._engine.serial import numpy_twin

__all__ = ["matmul_into", "matmul_into_numpy"]


@njit(cache=True, nogil=True)
def matmul_into(a, b, out):
    """``out = a @ b``.

    IN   a    (m, p) C-contiguous, float32 or float64
    IN   b    (p, n) C-contiguous, a's dtype
    OUT  out  (m, n) C-contiguous, a's dtype
    """
    np.dot(a, b, out)


@numpy_twin(matmul_into)
def matmul_into_numpy(a, b, out):
    """:func:`matmul_into` without compiling: the same BLAS calls, hence the same bits.

    numba's ``np.dot(a, b, out)`` on C-ordered arrays asks SciPy's BLAS for
    ``out.T = b.T @ a.T`` in BLAS's column order (``gemm("n", "n", n, m, p,
    1, b, n, a, p, 0, out, n)``), or, for a single column or row, ``gemv``
    (``dot`` for both), and fills zeros when a dimension is 0; SciPy's
    wrappers of the same functions make those calls on transposed views,
    without copies.
    """
    numba_dot(a, b, out)
