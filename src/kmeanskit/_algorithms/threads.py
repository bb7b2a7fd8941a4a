"""Thread control: BLAS calls made from inside numba's parallel regions, and
all threads for small inputs while that is faster."""

import os
import threading
import time
from contextlib import contextmanager
from functools import lru_cache

from kmeanskit._engine import serial
from kmeanskit._engine.compiling import is_compiled

__all__ = ["SmallThreads", "background", "in_background", "single_threaded_blas"]

# Below serial.SERIAL_MAX_VALUES values the kernels run serially (_engine/serial.py:
# waking the other threads costs tens of milliseconds when the cores are busy).
# A step's small kernel calls with at least this much distance work (rows x
# clusters x features) may run on all threads instead, while that is faster (on
# an idle machine two threads halve a pass: benchmarks/README.md) ...
SMALL_THREADED_MIN_WORK = 1 << 16
# ... the serial kernel being timed again every REFRESH_CALLS calls. A threaded
# call slower than the last serial one keeps small calls serial for
# LOSS_BACKOFF_SECONDS, process-wide; one slower than twice the serial one plus
# STALL_SECONDS (its threads waited for a core) for STALL_BACKOFF_SECONDS,
# doubled at each stall in a row up to MAX_BACKOFF_SECONDS.
REFRESH_CALLS = 8
LOSS_BACKOFF_SECONDS = 1.0
STALL_SECONDS = 5e-4
STALL_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 600.0
_serial_until = 0.0  # time.monotonic() until which small calls stay serial
_stall_backoff = STALL_BACKOFF_SECONDS  # the back-off of the next stall


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


# How many single_threaded_blas() are active on each thread: an inner one finds
# every BLAS library on one thread already, set by the outer one (same thread).
_held = threading.local()


@contextmanager
def single_threaded_blas():
    """Context manager: every BLAS library on one thread while it is active.

    Each numba thread makes its own small BLAS calls; a multi-threaded BLAS
    would put 2 x n_threads threads on the cores, which is much slower. And a
    BLAS call's bits depend on BLAS's thread count (benchmarks/README.md), so
    calls made by kernels stay on one thread whatever the caller's limits. The
    libraries' thread counts are set and restored directly: threadpoolctl's
    ``limit`` takes a new inventory each time, which cost more than a whole
    Lloyd pass over a small table (figures in benchmarks/README.md). Nested
    on one thread, the inner uses set nothing: the outermost sets and restores
    (a fit of a small input holds it once, and its passes nest).
    """
    depth = getattr(_held, "depth", 0)
    _held.depth = depth + 1
    try:
        if depth:
            yield
            return
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
    finally:
        _held.depth = depth


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


class SmallThreads:
    """A step's calls of a kernel on small inputs: serial or on all threads, whichever is faster.

    One per step (its calls have the same size pass after pass). Below
    ``SERIAL_MAX_VALUES`` values a call runs the kernel's serial twin
    (``sized``), unless it has at least ``SMALL_THREADED_MIN_WORK`` distance
    work, numba has two threads or more and the parallel kernel is compiled
    for the arguments' types in this process (never compiled here: a first
    fit stays serial). Then the step's first call runs serially and the next
    ones on all threads, the serial kernel again every ``REFRESH_CALLS``
    calls, while threaded calls are faster than the last serial one: a slower
    one keeps every small call serial for a while, process-wide (see the
    constants above). Any thread count gives the same bits: slabs are fixed by
    the input's size.
    """

    def __init__(self):
        self._seconds = {False: None, True: None}  # last call's time, serial and threaded
        self._calls = 0
        # Asked once a step (its passes are alike), not once a pass:
        self._compiled = {}  # kernel -> whether its parallel version is compiled
        self._sized = {}  # (kernel, n_values) -> serial.sized(kernel, n_values)
        self._n_threads = None  # numba's thread count

    def __call__(self, kernel, n_values, work, args):
        """``kernel(*args)`` on ``n_values`` values with ``work`` distance work, serial or threaded."""
        sized = self._sized.get((kernel, n_values))
        if sized is None:
            sized = self._sized[kernel, n_values] = serial.sized(kernel, n_values)
        small = n_values < serial.SERIAL_MAX_VALUES
        if not small or work < SMALL_THREADED_MIN_WORK or not self._threads_may_pay(kernel, args):
            return sized(*args)
        threaded = self._pick()
        start = time.perf_counter()
        result = (kernel if threaded else sized)(*args)
        seconds = self._seconds[threaded] = time.perf_counter() - start
        if threaded and self._seconds[False] is not None:
            _threaded_took(seconds, self._seconds[False])
        return result

    def _threads_may_pay(self, kernel, args):
        if self._n_threads is None:
            import numba

            self._n_threads = numba.get_num_threads()
        if self._n_threads < 2:
            return False
        compiled = self._compiled.get(kernel)
        if compiled is None:
            compiled = self._compiled[kernel] = is_compiled(kernel, args)
        return compiled

    def _pick(self):
        """Whether the next call runs threaded."""
        if self._seconds[False] is None or time.monotonic() < _serial_until:
            return False
        self._calls += 1
        return self._calls % REFRESH_CALLS != 0


def _threaded_took(seconds, serial_seconds):
    """Back off to serial small calls after a threaded call slower than the serial one."""
    global _serial_until, _stall_backoff
    now = time.monotonic()
    if seconds > 2.0 * serial_seconds + STALL_SECONDS:
        _serial_until = now + _stall_backoff
        _stall_backoff = min(2.0 * _stall_backoff, MAX_BACKOFF_SECONDS)
    elif seconds >= serial_seconds:
        _serial_until = max(_serial_until, now + LOSS_BACKOFF_SECONDS)
    else:
        _stall_backoff = STALL_BACKOFF_SECONDS


