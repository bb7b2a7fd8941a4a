"""High dimension (d 300-800): where a default fit's time goes, on how many cores, and BLAS's bits.

``python -m benchmarks high-dim [--shapes NAME ...] [--fits 3] [--bits]``

- **Phases**: default fits (``KMeans(k, random_state=seed)``, seeds 0 .. fits - 1,
  after one warm-up fit), timed whole, then the same fits again with greedy
  k-means++'s scoring and lowering and the bounded step's passes timed apart
  (two reads of ``/proc`` a call, outside the whole fits' figures): calls, wall seconds, and CPU seconds of
  the calling thread and of all other threads (numba's workers, OpenBLAS's,
  the background reducer), read from ``/proc/self/task``. A phase on one core
  has nearly all its CPU on the calling thread.
- **Threads**: ``kmeans_plusplus(X, k)`` with numba on 1 and on 2 threads,
  alternating in one process (medians and minimums of ``--fits`` calls each).
- **Bits** (``--bits``): for each dtype, d in (300, 784, 1000) and columns t,
  how many of 4,000 rows get other dots than from one-thread BLAS calls of 256
  rows, when the same rows come in other calls (all at once, 333, 37 or 3
  rows a call) or on two BLAS threads (numba's ``np.dot``, the call the
  kernels make). A kernel's dots are its calls' shapes' and BLAS's thread
  count's: kmeanskit fixes both (slabs set by n, one BLAS thread inside
  kernels).

The shapes are :data:`benchmarks.grid.SHAPES`' (default: the three of 300 and
784 features). Linux only (per-thread CPU from ``/proc``).
"""

import argparse
import contextlib
import os
import statistics
import threading
import time

import numpy as np

from .grid import SHAPES

__all__ = ["main"]

DEFAULT_SHAPES = ("blobs-20kx300-k50", "blobs-10kx784-k10-f32", "blobs-10kx784-k100-f32")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_by_thread():
    """{thread id: CPU seconds} of this process's threads."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return out


class _Split:
    """Wall seconds and CPU seconds (calling thread, other threads) of the calls made inside ``measure``."""

    def __init__(self):
        self.main = threading.get_native_id()
        self.totals = {}

    @contextlib.contextmanager
    def measure(self, label):
        before, start = _cpu_by_thread(), time.perf_counter()
        try:
            yield
        finally:
            wall, after = time.perf_counter() - start, _cpu_by_thread()
            mine = after.get(self.main, 0.0) - before.get(self.main, 0.0)
            others = sum(v - before.get(t, 0.0) for t, v in after.items() if t != self.main)
            total = self.totals.setdefault(label, [0, 0.0, 0.0, 0.0])
            total[0] += 1
            total[1] += wall
            total[2] += mine
            total[3] += others

    def timed(self, owner, name, label):
        """``owner.name`` (a method) measured under ``label``; returns the original to restore."""
        original = getattr(owner, name)

        def method(*args, **kwargs):
            with self.measure(label):
                return original(*args, **kwargs)

        setattr(owner, name, method)
        return original


def phases(names, n_fits):
    from kmeanskit import KMeans
    from kmeanskit._algorithms import bounded, init

    split = _Split()
    patched = [(init._DenseScorer, "potentials", "seeding: scoring"), (init._DenseScorer, "update", "seeding: lowering"),
               (bounded.BoundedStep, "assign", "bounded passes")]
    print("phase                    calls   wall s   CPU calling thread s   CPU other threads s")
    for name in names:
        _, load, k = SHAPES[name]
        X = load()
        KMeans(k, random_state=0).fit(X)
        split.totals.clear()
        for seed in range(n_fits):  # unpatched: the phases' reads of /proc stay out of the whole fits' time
            with split.measure("whole fits"):
                KMeans(k, random_state=seed).fit(X)
        originals = [split.timed(owner, attr, label) for owner, attr, label in patched]
        try:
            for seed in range(n_fits):
                KMeans(k, random_state=seed).fit(X)
        finally:
            for (owner, attr, _), original in zip(patched, originals, strict=True):
                setattr(owner, attr, original)
        print(f"{name} ({n_fits} fits), load average {os.getloadavg()[0]:.1f}")
        for label, (calls, wall, mine, others) in split.totals.items():
            print(f"  {label:22s} {calls:5d} {wall:8.3f} {mine:22.3f} {others:21.3f}")


def threads(names, n_calls):
    import numba

    from kmeanskit import kmeans_plusplus

    most = numba.config.NUMBA_NUM_THREADS
    print(f"kmeans_plusplus, numba on 1 and {min(2, most)} threads, alternating (ms: median, min)")
    for name in names:
        _, load, k = SHAPES[name]
        X = load()
        kmeans_plusplus(X, k, random_state=0)
        seconds = {1: [], min(2, most): []}
        try:
            for call in range(n_calls):
                for n_threads in seconds:
                    numba.set_num_threads(n_threads)
                    start = time.perf_counter()
                    kmeans_plusplus(X, k, random_state=call)
                    seconds[n_threads].append(time.perf_counter() - start)
        finally:
            numba.set_num_threads(most)
        cells = ", ".join(f"{n} thread(s) {1e3 * statistics.median(v):.0f}, {1e3 * min(v):.0f}"
                          for n, v in seconds.items())
        print(f"  {name}: {cells} (load average {os.getloadavg()[0]:.1f})")


def bits():
    from threadpoolctl import threadpool_limits

    from kmeanskit._algorithms.threads import single_threaded_blas
    from kmeanskit._engine.blas import matmul_into

    n = 4000
    calls = [("all rows", n, True), ("333 rows", 333, True), ("37 rows", 37, True), ("3 rows", 3, True),
             ("all rows, 2 BLAS threads", n, False), ("333 rows, 2 BLAS threads", 333, False)]
    print(f"rows of {n} whose dots differ from one-thread calls of 256 rows: " + " | ".join(c[0] for c in calls))
    rng = np.random.RandomState(0)
    for dtype in (np.float32, np.float64):
        for d in (300, 784, 1000):
            X = rng.normal(size=(n, d)).astype(dtype)
            for t in (5, 6, 10, 100):
                centers_t = np.ascontiguousarray(rng.normal(size=(d, t)).astype(dtype))

                def dots(rows, one_thread, X=X, centers_t=centers_t):
                    out = np.empty((n, centers_t.shape[1]), dtype=X.dtype)
                    with single_threaded_blas() if one_thread else threadpool_limits(2, user_api="blas"):
                        for lo in range(0, n, rows):
                            matmul_into(X[lo:lo + rows], centers_t, out[lo:lo + rows])
                    return out

                reference = dots(256, True)
                counts = [int((dots(rows, one) != reference).any(axis=1).sum()) for _, rows, one in calls]
                print(f"  {np.dtype(dtype).name} d={d} t={t}: " + " | ".join(map(str, counts)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks high-dim", description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="*", choices=list(SHAPES), default=list(DEFAULT_SHAPES))
    parser.add_argument("--fits", type=int, default=3, help="fits (phases) and calls per thread count (default 3)")
    parser.add_argument("--bits", action="store_true", help="also the BLAS bits table")
    args = parser.parse_args(argv)
    phases(args.shapes, args.fits)
    threads(args.shapes, args.fits)
    if args.bits:
        bits()
