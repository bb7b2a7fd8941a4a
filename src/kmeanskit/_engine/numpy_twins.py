"""What the NumPy twins of the kernels share: sums in a kernel's order, BLAS calls as numba makes them.

A NumPy twin (see :func:`kmeanskit._engine.serial.numpy_twin`) gives the bits
of its kernel's serial twin, so it repeats the kernel's additions in their
order: ``np.sum`` adds pairwise, hence never here; ``np.cumsum`` adds first to
last, hence :func:`sum_in_order` and :func:`slab_sums_in_order`. And a kernel's
``np.dot`` is a BLAS call whose bits depend on which routine is called (dot,
gemv or gemm) and how; :func:`numba_dot` makes the call numba makes, to the
same library (SciPy's BLAS, which numba calls).
"""

import numpy as np

__all__ = ["chunked_dots", "numba_dot", "slab_sums_in_order", "sum_in_order"]


def sum_in_order(values, axis=0, start=0.0):
    """``start + values[0] + values[1] + ...`` along ``axis``, first to last.

    Parameters
    ----------
    values : ndarray
    axis : int
    start : float or ndarray broadcastable to ``values`` without ``axis``

    Returns
    -------
    ndarray (``values`` without ``axis``), float64 when ``values`` and ``start`` are
        The loop ``acc = start; for v in values: acc += v``, vectorised over the
        other axes.
    """
    values = np.moveaxis(np.asarray(values), axis, 0)
    first = np.broadcast_to(np.asarray(start, dtype=np.result_type(values, start)), values.shape[1:])
    return np.cumsum(np.concatenate([first[None], values]), axis=0)[-1]


def slab_sums_in_order(values, slab_bounds):
    """Each slab's sum of ``values`` over its rows, from 0.0, in row order: a kernel's running sum.

    What ``acc = 0.0; for i in slab: acc += values[i]`` gives, for every slab
    at once (numpy's ``sum`` adds pairwise: other bits).

    Parameters
    ----------
    values : ndarray of shape (slab_bounds[-1] - slab_bounds[0], ...), float64
        The rows of the slabs, the first slab's first row first.
    slab_bounds : ndarray of shape (S + 1,), int64

    Returns
    -------
    ndarray of shape (S, ...), float64
    """
    lengths = np.diff(slab_bounds)
    n_slabs = lengths.shape[0]
    longest = int(lengths.max()) if n_slabs else 0
    # (position in the slab + 1, slab): a leading row of zeros, the rows, zeros after a short slab (adding
    # 0.0 changes no running sum that starts at 0.0: it is never -0.0).
    padded = np.zeros((longest + 1, n_slabs, *values.shape[1:]))
    slab = np.repeat(np.arange(n_slabs), lengths)
    position = np.arange(slab.shape[0]) - (slab_bounds[slab] - slab_bounds[0])
    padded[position + 1, slab] = values
    return np.add.accumulate(padded, axis=0)[-1]


def _layout(a):
    """numba's layout of an array argument: "C", "F" or "A"."""
    if a.flags.c_contiguous:
        return "C"
    return "F" if a.flags.f_contiguous else "A"


def numba_dot(x, y, out, x_layout=None, y_layout=None):
    """``np.dot(x, y, out)`` for 2-D arrays, through the BLAS call a numba kernel makes.

    numba calls dot when both ``x`` and ``y`` are vectors in disguise ((1, k)
    and (k, 1)), gemv when one is, and gemm otherwise, each with transposition
    flags from the arrays' layouts (``out`` is C-contiguous); this calls the
    same routine of SciPy's BLAS the same way, hence the same bits.

    Parameters
    ----------
    x : ndarray of shape (m, k), float32 or float64
    y : ndarray of shape (k, n), x's dtype
    out : ndarray of shape (m, n), x's dtype, C-contiguous (OUT)
    x_layout, y_layout : {"C", "F"} or None
        The layout numba typed each operand with inside the kernel (a slice of a
        C array's rows is "C", its transpose "F"); None: from the array's flags.
    """
    from scipy.linalg import blas  # noqa: PLC0415  (only the twins need it)

    x_layout = x_layout or _layout(x)
    y_layout = y_layout or _layout(y)
    if "A" in (x_layout, y_layout):
        raise ValueError("numba_dot needs C- or F-contiguous operands.")
    m, k = x.shape
    n = y.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        out[:] = 0
        return
    prefix = "s" if x.dtype == np.float32 else "d"
    # An F operand is passed as itself, transposed by BLAS; a C one as its
    # transpose's F view (the memory numba hands to Fortran BLAS).
    if n == 1 and m == 1:
        out[0, 0] = getattr(blas, prefix + "dot")(x[0], y[:, 0])
    elif n == 1:
        gemv = getattr(blas, prefix + "gemv")
        if x_layout == "C":
            out[:, 0] = gemv(1.0, x.T, y[:, 0], trans=1)
        else:
            out[:, 0] = gemv(1.0, x, y[:, 0], trans=0)
    elif m == 1:
        gemv = getattr(blas, prefix + "gemv")
        if y_layout == "C":
            out[0] = gemv(1.0, y.T, x[0], trans=0)
        else:
            out[0] = gemv(1.0, y, x[0], trans=1)
    else:
        gemm = getattr(blas, prefix + "gemm")
        a, trans_a = (y.T, 0) if y_layout == "C" else (y, 1)
        b, trans_b = (x.T, 0) if x_layout == "C" else (x, 1)
        out[:] = gemm(1.0, a, b, trans_a=trans_a, trans_b=trans_b).T


def chunked_dots(X, b_t, slab_bounds, chunk_rows):
    """``X[rows] @ b_t`` for the rows of the slabs, by the BLAS calls a chunked kernel makes.

    One call per chunk of ``chunk_rows`` rows of each slab (a slab's last
    chunk may be shorter), on C-contiguous operands, as the ``*_chunked_gemm``
    kernels call ``np.dot``: hence their bits.

    Parameters
    ----------
    X : ndarray of shape (n, d), C-contiguous, float32 or float64
    b_t : ndarray of shape (d, m), C-contiguous, X's dtype
    slab_bounds : ndarray of shape (S + 1,), int64
    chunk_rows : int

    Returns
    -------
    ndarray of shape (slab_bounds[-1] - slab_bounds[0], m), X's dtype
    """
    start, stop = int(slab_bounds[0]), int(slab_bounds[-1])
    dots = np.empty((stop - start, b_t.shape[1]), dtype=X.dtype)
    for s in range(slab_bounds.shape[0] - 1):
        for lo in range(slab_bounds[s], slab_bounds[s + 1], chunk_rows):
            hi = min(lo + chunk_rows, slab_bounds[s + 1])
            numba_dot(X[lo:hi], b_t, dots[lo - start : hi - start], "C", "C")
    return dots
