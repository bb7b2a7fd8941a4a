"""The bounded step's passes of a default fit, one by one, and its full-GEMM rule old against new.

``python -m benchmarks bounded-passes [--shapes NAME ...] [--fits 6]``

For each shape (:data:`benchmarks.grid.SHAPES`; default the three of 300 and
784 features), one default fit (``KMeans(k, random_state=0)``) prints, per
pass, counts that do not depend on the load: whether it took one full GEMM,
rows recomputed (full arg-min), labels changed, and the largest and median
center drift. Then ``--fits`` fits alternate between the rule before
2026-12-08 (a pass after one that recomputed more than 40% of rows takes a
full GEMM) and the current one (only while the bounds, dropped by this
pass's drifts, still fail 40% of rows): medians and minimums of the whole fit
and of its passes (ms), and each pass's median. Both rules give the same bits
(checked here too).
"""

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks.grid import SHAPES
from kmeanskit import KMeans
from kmeanskit._algorithms import bounded

__all__ = ["main"]

DEFAULT_SHAPES = ["blobs-20kx300-k50", "blobs-10kx784-k10-f32", "blobs-10kx784-k100-f32"]


def _old_rule(self, labels, drift, half_sep):
    """Every row counted as failing: the last pass's share decides alone."""
    return labels.shape[0]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks bounded-passes")
    parser.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES, choices=sorted(SHAPES))
    parser.add_argument("--fits", type=int, default=6)
    args = parser.parse_args(argv)
    log = []
    assign, matmul_into, new_rule = bounded.BoundedStep.assign, bounded.matmul_into, bounded.BoundedStep._rows_bounds_fail
    calls = []

    def timed_assign(self, centers, labels, update):
        previous = self._centers
        calls.clear()
        start = time.perf_counter()
        assign(self, centers, labels, update)
        seconds = time.perf_counter() - start
        drift = np.zeros(1) if previous is None else np.sqrt(((self._centers - previous) ** 2).sum(axis=1))
        log.append((bool(calls), int(self.recomputed.sum()), self.n_changed, drift.max(), np.median(drift), seconds))

    bounded.BoundedStep.assign = timed_assign
    bounded.matmul_into = lambda *a: calls.append(1) or matmul_into(*a)
    try:
        for name in args.shapes:
            _, make, k = SHAPES[name]
            X = make()
            KMeans(k, random_state=0).fit(X)  # warm-up
            log.clear()
            KMeans(k, random_state=0).fit(X)
            print(f"{name}: pass, full GEMM, rows recomputed, labels changed, drift max, drift median")
            for i, (gemm, recomputed, changed, top, median, _) in enumerate(log):
                print(f"  {i + 1}  {'yes' if gemm else 'no ':3s}  {recomputed:7d}  {changed:6d}  {top:8.2f}  {median:8.2f}")
            times, bits = {"old": [], "new": []}, set()
            for fit in range(args.fits):
                order = (("old", _old_rule), ("new", new_rule))
                for rule, count in order if fit % 2 else order[::-1]:
                    bounded.BoundedStep._rows_bounds_fail = count
                    log.clear()
                    start = time.perf_counter()
                    km = KMeans(k, random_state=0).fit(X)
                    times[rule].append([1e3 * (time.perf_counter() - start), 1e3 * sum(e[-1] for e in log)]
                                       + [1e3 * e[-1] for e in log])
                    bits.add((km.labels_.tobytes(), km.cluster_centers_.tobytes(), km.inertia_, km.n_iter_))
            for rule, rows in times.items():
                fits, passes = [r[0] for r in rows], [r[1] for r in rows]
                each = " ".join(f"{statistics.median(p):.1f}" for p in zip(*[r[2:] for r in rows], strict=True))
                print(f"  {rule}: fit median {statistics.median(fits):.0f} min {min(fits):.0f}; passes median "
                      f"{statistics.median(passes):.0f} min {min(passes):.0f}; per pass {each}")
            print(f"  same bits under both rules: {len(bits) == 1}")
    finally:
        bounded.BoundedStep.assign, bounded.matmul_into = assign, matmul_into
        bounded.BoundedStep._rows_bounds_fail = new_rule


if __name__ == "__main__":
    sys.exit(main())
