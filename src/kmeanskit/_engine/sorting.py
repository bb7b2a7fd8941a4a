"""A stable argsort written out for numba, cheap to compile.

``np.argsort(v, kind="mergesort")`` inside a numba kernel compiles numba's
generic sort machinery (comparisons for every kind of value, NaN handling):
more than a second per dtype on a first call. The kernels that need a stable
order of finite values call :func:`stable_argsort` instead: the same indices
(a stable sort's result is unique), a fraction of the compile time.
"""

import numpy as np
from numba import njit

__all__ = ["stable_argsort"]

# Runs of this many elements are sorted by insertion before merging.
_RUN = 16


@njit(cache=True, nogil=True)
def stable_argsort(values):
    """Indices that sort ``values`` increasingly, equal values in their order.

    IN   values  (m,) float32 or float64, no NaN
    OUT  (m,) int64: ``np.argsort(values, kind="stable")`` (-0.0 and +0.0 are
         equal, hence kept in their order)

    Insertion sort of runs of ``_RUN`` elements, then bottom-up merges that take
    from the left run on ties.
    """
    m = values.shape[0]
    order = np.arange(m)
    for start in range(0, m, _RUN):
        stop = min(start + _RUN, m)
        for p in range(start + 1, stop):
            index = order[p]
            v = values[index]
            q = p - 1
            while q >= start and values[order[q]] > v:
                order[q + 1] = order[q]
                q -= 1
            order[q + 1] = index
    source = order
    target = np.empty(m, dtype=np.int64)
    width = _RUN
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            a = lo
            b = mid
            for out in range(lo, hi):
                if b < hi and (a >= mid or values[source[b]] < values[source[a]]):
                    target[out] = source[b]
                    b += 1
                else:
                    target[out] = source[a]
                    a += 1
        source, target = target, source
        width *= 2
    return source
