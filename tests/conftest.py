"""Fixtures shared by the test areas."""

import numba
import pytest
from threadpoolctl import threadpool_limits


def _at_thread_counts(make, counts=(1, 2)):
    """``[make() with 1 thread, make() with 2 threads]``: numba's and BLAS's
    thread counts both set, numba's restored afterwards."""
    results = []
    for threads in counts:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            with threadpool_limits(threads):
                results.append(make())
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return results


@pytest.fixture
def at_thread_counts():
    """Run a callable once per thread count (see ``_at_thread_counts``); results
    must be bitwise equal (DESIGN.md: whatever the thread count)."""
    return _at_thread_counts
