"""Thread control for BLAS calls made from inside numba's parallel regions."""

import os
from contextlib import contextmanager
from functools import lru_cache

__all__ = ["background", "in_background", "single_threaded_blas"]


@lru_cache(maxsize=1)
def _controller():
    # numba's np.dot calls SciPy's BLAS: load it before the controller takes
    # its (one-time) inventory of BLAS libraries.
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@lru_cache(maxsize=1)
def _blas_libraries():
    """The BLAS libraries' controllers (threadpoolctl's inventory, taken once), and
    threadpoolctl's per-thread count of limits in force (None before threadpoolctl
    3.6: no such count). OpenBLAS's thread pool is process-wide: the thread that
    sets it controls it until that count falls back to zero, as in ``limit``."""
    import threadpoolctl

    libraries = tuple(lib for lib in _controller().lib_controllers if lib.user_api == "blas")
    return libraries, getattr(threadpoolctl, "CONTROLLING_THREAD_OWNERSHIP", None)


@contextmanager
def single_threaded_blas():
    """Context manager: every BLAS library on one thread while it is active.

    Each numba thread makes its own small BLAS calls; a multi-threaded BLAS
    would put 2 x n_threads threads on the cores, which is much slower. The
    libraries' thread counts are set and restored directly: threadpoolctl's
    ``limit`` takes a new inventory each time, which cost more than a whole
    Lloyd pass over a small table (figures in benchmarks/README.md).
    """
    libraries, ownership = _blas_libraries()
    if ownership is not None:
        ownership.increment()
    try:
        before = [lib.num_threads for lib in libraries]
        for lib, n_threads in zip(libraries, before, strict=True):
            if n_threads != 1:
                lib.set_num_threads(1)
        try:
            yield
        finally:
            for lib, n_threads in zip(libraries, before, strict=True):
                if n_threads != 1:
                    lib.set_num_threads(n_threads)
    finally:
        if ownership is not None:
            ownership.decrement()


_background = (None, None)  # (pid, executor)


def background():
    """One worker thread (made on first use) to overlap numba kernels with BLAS.

    Both release the GIL. Work is submitted one item at a time and waited for
    in order, so results do not depend on timing. A forked child gets its own
    executor: the parent's worker thread does not exist there, and work queued
    to it would wait forever.
    """
    global _background
    pid, executor = _background
    if executor is None or pid != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmeanskit")
        _background = (os.getpid(), executor)
    return executor


def in_background(fn, *args):
    """``background().submit(fn, *args)`` with the caller's numba thread count.

    numba's thread count is per thread: without this, a kernel run in the
    background thread would use every core even when the caller was limited
    (a dask task's share of a worker's cores, or ``numba.set_num_threads``).
    """
    import numba

    n_threads = numba.get_num_threads()

    def call():
        numba.set_num_threads(n_threads)
        return fn(*args)

    return background().submit(call)
