"""Time of one Lloyd iteration from the same initial centers: kmeanskit vs scikit-learn.

kmeanskit runs twice: ``algorithm="lloyd"`` (every distance, every iteration) and
the default ``"auto"`` (the bounded step, which skips rows its bounds settle; its
time per iteration falls as the fit converges, so it depends on ``m``).

Per-iteration time is measured through the public API as the difference between
a fit with ``max_iter=1 + m`` and one with ``max_iter=1`` (``tol=0``), divided by
the extra iterations actually run, so validation, centering and the final
inertia pass cancel out. The two libraries are measured alternately in each
repeat (this machine is shared and its speed drifts); the table gives medians
over ``--repeats`` and the median of the per-repeat ratios. Also prints NumPy's
GEMM throughput on the same product shape, for context.

Run: ``python -m benchmarks lloyd [--cases NAME ...] [--repeats R]``; ``--direct-kernel`` prints
instead the nanoseconds a row of the serial direct pass kernel on small shapes (CPU time of the
calling thread, medians).
"""

import argparse
import functools
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans as SkKMeans

from kmeanskit import KMeans

from .datasets import DENSE_CASES, load_case


def _fit_seconds(cls, X, init, max_iter):
    km = cls(n_clusters=init.shape[0], init=init, n_init=1, max_iter=max_iter, tol=0.0)
    t0 = time.perf_counter()
    km.fit(X)
    return time.perf_counter() - t0, km.n_iter_


def per_iteration(cls, X, init, extra):
    """Seconds per Lloyd iteration of estimator class ``cls`` (one measurement)."""
    t1, n1 = _fit_seconds(cls, X, init, 1)
    tm, nm = _fit_seconds(cls, X, init, 1 + extra)
    return (tm - t1) / (nm - n1) if nm > n1 else float("nan")


def gemm_gflops(X, k, repeats=3):
    """NumPy GEMM throughput on (n, d) @ (d, k), in 64k-row blocks, GFLOP/s."""
    C = np.ascontiguousarray(X[:k].T)
    out = np.empty((min(65536, X.shape[0]), k), dtype=X.dtype)
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for start in range(0, X.shape[0], out.shape[0]):
            block = X[start:start + out.shape[0]]
            np.dot(block, C, out=out[: block.shape[0]])
        best.append(time.perf_counter() - t0)
    return 2.0 * X.shape[0] * X.shape[1] * k / np.median(best) / 1e9, float(np.median(best))


DIRECT_KERNEL_SHAPES = ((5000, 5, 4, np.float64), (5000, 5, 4, np.float32), (1000, 2, 3, np.float64),
                        (150, 4, 3, np.float64), (5000, 10, 8, np.float64))


def direct_kernel_ns(repeats=400):
    """Nanoseconds a row of the serial direct pass kernel (``assign_accumulate_direct``, sums updated, unit weights)."""
    from kmeanskit._algorithms.rows import n_slabs, slab_bounds
    from kmeanskit._engine.assign import assign_accumulate_direct
    from kmeanskit._engine.serial import serial_twin

    kernel = serial_twin(assign_accumulate_direct)
    for n, d, k, dtype in DIRECT_KERNEL_SHAPES:
        X = (np.random.RandomState(0).uniform(size=(n, d)) - 0.5).astype(dtype)
        centers = X[:k].copy()
        bounds = slab_bounds(n, n_slabs(n, 8 * k * d))
        args = (X, np.ones(1, dtype), centers, np.ascontiguousarray(centers.T), np.einsum("ij,ij->i", centers, centers),
                np.empty(n, np.int32), np.empty(n), np.zeros((bounds.shape[0] - 1, k, d)),
                np.zeros((bounds.shape[0] - 1, k)), bounds, True)
        kernel(*args)
        times = []
        for _ in range(repeats):
            start = time.thread_time_ns()
            kernel(*args)
            times.append(time.thread_time_ns() - start)
        print(f"direct pass kernel {n} x {d}, k={k}, {np.dtype(dtype).name}: {np.median(times) / n:.2f} ns a row "
              f"(median; minimum {np.min(times) / n:.2f})", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks lloyd", description=__doc__.splitlines()[0])
    parser.add_argument("--direct-kernel", action="store_true",
                        help="nanoseconds a row of the serial direct pass kernel on small shapes, and stop")
    parser.add_argument("--cases", nargs="*", default=list(DENSE_CASES), choices=list(DENSE_CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="about how long each timed fit runs (sets m)"
    )
    args = parser.parse_args(argv)
    if args.direct_kernel:
        return direct_kernel_ns()
    # One or two iterations from random rows can leave a cluster empty: expected here.
    warnings.filterwarnings("ignore", message="Number of distinct clusters")

    KMeans(2, n_init=1).fit(np.random.RandomState(0).rand(100, 3))  # compile outside the timing
    rows = []
    for name in args.cases:
        X, k = load_case(name)
        init = X[np.random.RandomState(0).choice(X.shape[0], k, replace=False)]
        # warm both (JIT for this dtype/shape, page faults) and size m
        _fit_seconds(SkKMeans, X, init, 2)
        lloyd = functools.partial(KMeans, algorithm="lloyd")
        first = per_iteration(lloyd, X, init, 2)
        extra = int(min(50, max(3, args.seconds / first)))
        ours, auto, theirs = [], [], []
        for _ in range(args.repeats):
            ours.append(per_iteration(lloyd, X, init, extra))
            auto.append(per_iteration(KMeans, X, init, extra))
            theirs.append(per_iteration(SkKMeans, X, init, extra))
        ratio = float(np.median(np.divide(theirs, ours)))
        ratio_auto = float(np.median(np.divide(theirs, auto)))
        ours, auto, theirs = float(np.median(ours)), float(np.median(auto)), float(np.median(theirs))
        gflops, gemm_s = gemm_gflops(X, k)
        rows.append((name, ours * 1e3, auto * 1e3, theirs * 1e3, ratio, ratio_auto, gemm_s * 1e3, gflops))
        print(
            f"{name}: kmeanskit lloyd {ours * 1e3:.1f} ms/iter, auto {auto * 1e3:.1f} ms/iter, "
            f"scikit-learn {theirs * 1e3:.1f} ms/iter (m={extra}, {args.repeats} repeats)",
            flush=True,
        )

    print()
    print(
        f"{'case':<26}{'lloyd ms/it':>12}{'auto ms/it':>11}{'sklearn ms/it':>14}{'lloyd x':>9}{'auto x':>9}"
        f"{'GEMM ms':>9}{'GEMM GF/s':>10}{'lloyd/GEMM':>11}"
    )
    for name, ours, auto, theirs, ratio, ratio_auto, gemm_ms, gflops in rows:
        print(
            f"{name:<26}{ours:>12.1f}{auto:>11.1f}{theirs:>14.1f}{ratio:>8.2f}x{ratio_auto:>8.2f}x"
            f"{gemm_ms:>9.1f}{gflops:>10.1f}{gemm_ms / ours:>10.0%}"
        )
    return rows


if __name__ == "__main__":
    main()
