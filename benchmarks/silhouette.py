"""Exact silhouette: kmeanskit's kernel vs scikit-learn's ``silhouette_score``.

Blobs of 20,000 x 16 with k=8 (the labels of the generating centers), in
float64 and float32. The two libraries are timed alternately in each repeat
(this machine is shared and its speed drifts); the table gives the median
times and the median of the per-repeat ratios, and checks the two scores agree.

``--grid`` runs the grid's shapes instead: many rows through ``sample_size``
(the same rows for both libraries: the same ``random_state``), up to 800
features, up to 100 clusters, float32 and float64, and a CSR matrix.

Run: ``python -m benchmarks silhouette [--n N] [--repeats R] [--dtypes float64 float32]``
or ``python -m benchmarks silhouette --grid [--repeats R]``.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score as sk_silhouette_score

from kmeanskit.metrics import silhouette_score

from .datasets import _tfidf

# name -> (make () -> (X, labels), sample_size)
GRID = {
    "blobs 20k x 16, k=8": (lambda: make_blobs(20_000, 16, centers=8, random_state=0), None),
    "blobs 1M x 8, k=20, sample 10k": (lambda: make_blobs(1_000_000, 8, centers=20, random_state=0), 10_000),
    "blobs 200k x 64, k=100, float32, sample 10k": (
        lambda: _astype(make_blobs(200_000, 64, centers=100, random_state=0), np.float32), 10_000),
    "blobs 10k x 800, k=10, float32": (
        lambda: _astype(make_blobs(10_000, 800, centers=10, random_state=0), np.float32), None),
    "blobs 10k x 800, k=100": (lambda: make_blobs(10_000, 800, centers=100, random_state=0), None),
    "TF-IDF CSR 20k x 2k, k=20, sample 10k": (
        lambda: (_tfidf(20_000, 2_000, 0.01), np.random.RandomState(0).randint(0, 20, 20_000)), 10_000),
}


def _astype(data, dtype):
    X, y = data
    return X.astype(dtype), y


def run_grid(repeats):
    """Time both libraries on each shape of :data:`GRID`, alternating; print a markdown table."""
    silhouette_score(np.random.RandomState(0).rand(300, 3), np.arange(300) % 3)  # load the compiled kernels
    print(f"silhouette_score on the grid's shapes; medians of {repeats} alternated repeats (random_state 0..)")
    print("| case | kmeanskit s | scikit-learn s | speed-up | max relative difference |")
    print("|---|---:|---:|---:|---:|")
    for name, (make, sample_size) in GRID.items():
        X, y = make()
        silhouette_score(X, y, sample_size=min(sample_size or 2000, 2000), random_state=0)  # the parallel kernel too
        ours, theirs, diff = [], [], 0.0
        for seed in range(repeats):
            t0 = time.perf_counter()
            s_ours = silhouette_score(X, y, sample_size=sample_size, random_state=seed)
            t1 = time.perf_counter()
            s_theirs = sk_silhouette_score(X, y, sample_size=sample_size, random_state=seed)
            t2 = time.perf_counter()
            ours.append(t1 - t0)
            theirs.append(t2 - t1)
            diff = max(diff, abs(s_ours - s_theirs) / abs(s_theirs))
        ratio = np.median(np.array(theirs) / np.array(ours))
        print(f"| {name} | {np.median(ours):.3f} | {np.median(theirs):.3f} | {ratio:.2f}x | {diff:.1e} |", flush=True)


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
    parser.add_argument("--grid", action="store_true", help="the grid's shapes (see the module docstring)")
    args = parser.parse_args(argv)
    if args.grid:
        return run_grid(args.repeats)

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
