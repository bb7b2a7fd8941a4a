"""Thread helpers: the background worker survives a fork; BLAS limits apply."""

import os
import subprocess
import sys
import textwrap

from kmeanskit._algorithms import threads


def test_background_executor_is_per_process(monkeypatch):
    first = threads.background()
    assert threads.background() is first
    pid = os.getpid()
    monkeypatch.setattr(threads.os, "getpid", lambda: pid + 1)  # as in a forked child
    assert threads.background() is not first


def test_fit_in_a_forked_child_does_not_hang():
    # GNU OpenMP (numba's default layer here) refuses fork after parallel work,
    # so the child uses the workqueue layer, as the README advises.
    script = textwrap.dedent(
        """
        import multiprocessing as mp
        import numpy as np
        from kmeanskit import KMeans

        X = np.random.RandomState(0).rand(3000, 128).astype(np.float32)

        def child(queue):
            queue.put(KMeans(130, random_state=0, n_init=1, max_iter=3).fit(X).inertia_)

        if __name__ == "__main__":
            parent = KMeans(130, random_state=0, n_init=1, max_iter=3).fit(X).inertia_
            ctx = mp.get_context("fork")
            queue = ctx.Queue()
            process = ctx.Process(target=child, args=(queue,))
            process.start()
            process.join(60)
            assert not process.is_alive(), "child hung"
            assert queue.get(timeout=5) == parent
            print("ok")
        """
    )
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_background_work_runs_with_the_callers_numba_thread_count():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:  # pragma: no cover - a one-core machine
        return
    previous = numba.get_num_threads()
    try:
        for n in (1, 2):
            numba.set_num_threads(n)
            assert threads.in_background(numba.get_num_threads).result() == n
    finally:
        numba.set_num_threads(previous)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_single_threaded_blas_limits_every_blas_and_restores_it_from_any_thread():
    import threading

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        outside = _blas_threads()
        assert outside and all(n == 2 for n in outside)
        with threads.single_threaded_blas():
            assert all(n == 1 for n in _blas_threads())
            with threads.single_threaded_blas():  # nested: still one, until the outer one ends
                assert all(n == 1 for n in _blas_threads())
            assert all(n == 1 for n in _blas_threads())
        assert _blas_threads() == outside
    # OpenBLAS's pool is process-wide; once no limit is in force in this thread, another thread's applies.
    default = _blas_threads()
    seen = []

    def other():
        with threads.single_threaded_blas():
            seen.append(_blas_threads())

    worker = threading.Thread(target=other)
    worker.start()
    worker.join()
    assert seen and all(n == 1 for n in seen[0])
    assert _blas_threads() == default


def _count_blas_settings(monkeypatch):
    """The thread counts every BLAS library is set to, in order, from now on."""
    calls = []
    for lib in threads._blas_libraries()[0]:
        original = lib.set_num_threads

        def counted(n, original=original):
            calls.append(n)
            return original(n)

        monkeypatch.setattr(lib, "set_num_threads", counted)
    return calls


def test_nested_single_threaded_blas_on_one_thread_sets_nothing(monkeypatch):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        calls = _count_blas_settings(monkeypatch)
        n_libraries = len(threads._blas_libraries()[0])
        with threads.single_threaded_blas():
            assert calls == [1] * n_libraries
            for _ in range(3):
                with threads.single_threaded_blas():
                    assert all(n == 1 for n in _blas_threads())
            assert calls == [1] * n_libraries
            try:
                with threads.single_threaded_blas():
                    raise KeyError("inner")
            except KeyError:
                pass
            assert all(n == 1 for n in _blas_threads())
        assert calls == [1] * n_libraries + [2] * n_libraries
        assert all(n == 2 for n in _blas_threads())
        with threads.single_threaded_blas():  # the depth fell back: the next use sets again
            pass
        assert len(calls) == 4 * n_libraries


def test_run_scope_holds_one_blas_thread_for_the_chunked_lloyd_step_only():
    import numpy as np
    from threadpoolctl import threadpool_limits

    from kmeanskit._algorithms.bounded import BoundedStep
    from kmeanskit._algorithms.distinct import DistinctStep, find_distinct
    from kmeanskit._algorithms.lloyd import CHUNKED_MIN_FEATURES, LloydStep
    from kmeanskit._algorithms.rows import as_rows

    rows = as_rows(np.random.RandomState(0).rand(200, CHUNKED_MIN_FEATURES), None)
    chunked = LloydStep(rows, 4)
    assert chunked.path == "chunked"
    direct = LloydStep(as_rows(np.random.RandomState(0).rand(200, 3), None), 4)
    assert direct.path == "direct"
    others = [BoundedStep(rows, 4), DistinctStep(rows, 4, find_distinct(rows, max_share=1.0))]
    with threadpool_limits(limits=2, user_api="blas"):
        with chunked.run_scope():
            assert all(n == 1 for n in _blas_threads())
            with chunked.run_scope():  # nested: still one, until the outer one ends
                assert all(n == 1 for n in _blas_threads())
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 2 for n in _blas_threads())
        for step in [direct, *others]:  # these make BLAS calls of their own, or none
            with step.run_scope():
                assert all(n == 2 for n in _blas_threads())


class _Clock:
    """A fake ``time`` for :class:`threads.SmallThreads`: kernels advance it by their cost."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now

    def monotonic(self):
        return self.now


def _small_threads_world(monkeypatch, serial_seconds, threaded_seconds):
    """A clock, and a kernel whose serial twin and parallel self record their calls and take the given times."""
    clock = _Clock()
    calls = []

    def kernel(*args):
        calls.append("threaded")
        clock.now += threaded_seconds[0]

    def twin(*args):
        calls.append("serial")
        clock.now += serial_seconds

    monkeypatch.setattr(threads, "time", clock)
    monkeypatch.setattr(threads, "_serial_until", 0.0)
    monkeypatch.setattr(threads, "_stall_backoff", threads.STALL_BACKOFF_SECONDS)
    monkeypatch.setattr(threads, "is_compiled", lambda kernel, args: True)
    monkeypatch.setattr(threads.serial, "sized", lambda kernel_, n_values: twin if n_values < threads.serial.SERIAL_MAX_VALUES else kernel_)
    return clock, calls, kernel


def test_small_threads_while_faster_with_the_serial_kernel_timed_now_and_then(monkeypatch):
    import numba

    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    threaded_seconds = [50e-6]
    clock, calls, kernel = _small_threads_world(monkeypatch, 100e-6, threaded_seconds)
    small = threads.SmallThreads()
    work = threads.SMALL_THREADED_MIN_WORK
    every = threads.REFRESH_CALLS
    for _ in range(1 + 2 * every):
        small(kernel, 1000, work, ())
    assert calls == ["serial"] + (["threaded"] * (every - 1) + ["serial"]) * 2
    # Threads that become slower (not a stall) send every small call back to serial for a while.
    threaded_seconds[0] = 150e-6
    del calls[:]
    for _ in range(3):
        small(kernel, 1000, work, ())
    assert calls == ["threaded", "serial", "serial"]
    other = threads.SmallThreads()  # another step (another fit), process-wide
    for _ in range(2):
        other(kernel, 1000, work, ())
    assert calls[3:] == ["serial", "serial"]
    clock.now += threads.LOSS_BACKOFF_SECONDS
    small(kernel, 1000, work, ())
    assert calls[-1] == "threaded"
    # Below the work threshold, or on one numba thread (asked once a step), every call is serial.
    clock.now += threads.LOSS_BACKOFF_SECONDS
    del calls[:]
    threads.SmallThreads()(kernel, 1000, work - 1, ())
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)
    one_thread = threads.SmallThreads()
    for _ in range(3):
        one_thread(kernel, 1000, work, ())
    assert calls == ["serial"] * 4


def test_stalled_threaded_calls_keep_small_calls_serial_longer_and_longer(monkeypatch):
    import numba

    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    threaded_seconds = [0.010]  # a scheduler slice: the second thread waited for a core
    clock, calls, kernel = _small_threads_world(monkeypatch, 100e-6, threaded_seconds)
    work = threads.SMALL_THREADED_MIN_WORK
    backoff = threads.STALL_BACKOFF_SECONDS
    for stall in range(3):  # a stall at each trial: 5 s of serial calls, then 10, then 20
        small = threads.SmallThreads()
        del calls[:]
        for _ in range(4):
            small(kernel, 1000, work, ())
        assert calls == ["serial", "threaded", "serial", "serial"]
        clock.now += backoff * 2**stall - 1.0
        small(kernel, 1000, work, ())
        assert calls[-1] == "serial"
        clock.now += 1.0
    # A threaded call that wins resets the back-off.
    threaded_seconds[0] = 10e-6
    small = threads.SmallThreads()
    del calls[:]
    for _ in range(3):
        small(kernel, 1000, work, ())
    assert calls == ["serial", "threaded", "threaded"]
    assert threads._stall_backoff == threads.STALL_BACKOFF_SECONDS
    # At or above the serial threshold: sized's choice (the parallel kernel), untimed.
    del calls[:]
    small(kernel, threads.serial.SERIAL_MAX_VALUES, work, ())
    assert calls == ["threaded"]


def test_small_threads_never_compile_the_parallel_kernel():
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True)
    def kernel(x, out):
        for i in prange(x.shape[0]):
            out[i] = 2.0 * x[i]

    x, out = np.arange(4.0), np.zeros(4)
    assert not threads.is_compiled(kernel, (x, out))
    kernel(x, out)
    assert threads.is_compiled(kernel, (x, out))
    assert not threads.is_compiled(kernel, (x.astype(np.float32), out))  # another type: not compiled


def test_lloyd_passes_on_two_threads_give_the_bits_of_serial_ones(monkeypatch):
    """Small inputs may now run the parallel direct and chunked kernels: a fit whose every small
    pass is threaded gives the bits of the serial passes."""
    import numba
    import numpy as np

    from kmeanskit import KMeans

    if numba.config.NUMBA_NUM_THREADS < 2:  # pragma: no cover - a one-core machine
        return
    rng = np.random.RandomState(0)
    previous = numba.get_num_threads()
    try:
        for X, k in ((rng.uniform(size=(3000, 5)), 4), (rng.uniform(size=(700, 30)), 6)):
            monkeypatch.setattr(threads.SmallThreads, "_pick", lambda self: False)
            numba.set_num_threads(1)
            serial = KMeans(k, random_state=0, algorithm="lloyd").fit(X)
            monkeypatch.setattr(threads.SmallThreads, "_pick", lambda self: True)
            monkeypatch.setattr(threads, "is_compiled", lambda kernel, args: True)
            numba.set_num_threads(2)
            threaded = KMeans(k, random_state=0, algorithm="lloyd").fit(X)
            np.testing.assert_array_equal(threaded.labels_, serial.labels_)
            np.testing.assert_array_equal(threaded.cluster_centers_, serial.cluster_centers_)
            assert threaded.inertia_ == serial.inertia_ and threaded.n_iter_ == serial.n_iter_
    finally:
        numba.set_num_threads(previous)
