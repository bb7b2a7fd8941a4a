"""Fixtures shared by the test areas."""

import os

import numba
import pytest
from threadpoolctl import threadpool_limits

# The compiled kernels, in this process and the ones tests start (KMEANSKIT_KERNELS=numpy runs the suite on the
# NumPy twins); never a warmup in the background.
os.environ.setdefault("KMEANSKIT_KERNELS", "compiled")
os.environ["KMEANSKIT_BACKGROUND_COMPILE"] = "0"


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


@pytest.fixture(autouse=True)
def _output_to_a_pipe(monkeypatch):
    """The command line's output as in a pipe: no terminal width (pytest-xdist sets COLUMNS=80 in its
    workers, which would turn wide tables over). Tests of the terminal layout set COLUMNS themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)
