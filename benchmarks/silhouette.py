"""Exact silhouette: kmeanskit's kernel vs scikit-learn's ``silhouette_score``.

Blobs of 20,000 x 16 with k=8 (the labels of the generating centers), in
float64 and float32. The two libraries are timed alternately in each repeat
(this machine is shared and its speed drifts); the table gives the median
times and the median of the per-repeat ratios, and checks the two scores agree.

Run: ``python -m benchmarks silhouette [--n N] [--repeats R] [--dtypes float64 float32]``.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score as sk_silhouette_score

from kmeanskit.metrics import silhouette_score


def _seconds(fn, X, y):
    t0 = time.perf_counter()
    value = fn(X, y)
    return time.perf_counter() - t0, value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks silhouette", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="rows (default 20000)")
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtypes", nargs="*", default=["float64", "float32"], choices=["float64", "float32"])
    args = parser.parse_args(argv)

    X64, y = make_blobs(n_samples=args.n, n_features=args.features, centers=args.k, random_state=0)
    silhouette_score(X64[:500], y[:500])  # load the compiled kernel outside the timing
    silhouette_score(X64[:500].astype(np.float32), y[:500])
    print(f"silhouette of blobs {args.n} x {args.features}, k={args.k}; medians of {args.repeats} alternated repeats")
    print(f"{'dtype':>8} {'kmeanskit s':>12} {'sklearn s':>10} {'speed-up':>9} {'|diff|':>9}")
    for dtype in args.dtypes:
        X = X64.astype(dtype)
        ours, theirs, ratios, diff = [], [], [], 0.0
        for _ in range(args.repeats):
            t_ours, s_ours = _seconds(silhouette_score, X, y)
            t_theirs, s_theirs = _seconds(sk_silhouette_score, X, y)
            ours.append(t_ours)
            theirs.append(t_theirs)
            ratios.append(t_theirs / t_ours)
            diff = max(diff, abs(s_ours - s_theirs))
        print(
            f"{dtype:>8} {np.median(ours):12.3f} {np.median(theirs):10.3f} "
            f"{np.median(ratios):8.2f}x {diff:9.1e}"
        )


if __name__ == "__main__":
    main()
