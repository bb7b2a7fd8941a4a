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
