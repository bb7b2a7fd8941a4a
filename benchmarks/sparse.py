"""Whole default fits on sparse (CSR) TF-IDF-like matrices, against scikit-learn.

Each shape is a TF-IDF-like matrix (``datasets._tfidf``: Zipf term frequencies,
scikit-learn's ``TfidfTransformer``, l2-normalised rows) fitted with
``KMeans(k, random_state=seed)`` by both libraries (scikit-learn's ``lloyd``,
its only sparse algorithm), alternating, one seed per repeat. The table gives
the median times, the median of the per-repeat ratios (scikit-learn / ours),
the iterations and the inertia ratio; the geometric mean and the worst ratio
come last. ``--threads N`` limits both libraries (numba and OpenMP/BLAS) to N
threads: on a shared machine one thread each gives steadier ratios.

Run: ``python -m benchmarks sparse [--shapes NAME ...] [--repeats R] [--threads N]``.
"""

import argparse
import time

import numpy as np

from .datasets import _tfidf

__all__ = ["SHAPES", "main"]

# name -> (rows, columns, density, k, dtype)
SHAPES = {
    "2kx5k-1%-k3": (2_000, 5_000, 0.01, 3, np.float64),
    "5kx1k-5%-k5": (5_000, 1_000, 0.05, 5, np.float64),
    "5kx1k-5%-k10": (5_000, 1_000, 0.05, 10, np.float64),
    "20kx2k-1%-k5": (20_000, 2_000, 0.01, 5, np.float64),
    "20kx2k-1%-k9-f32": (20_000, 2_000, 0.01, 9, np.float32),
    "20kx2k-1%-k20": (20_000, 2_000, 0.01, 20, np.float64),
    "20kx2k-1%-k20-f32": (20_000, 2_000, 0.01, 20, np.float32),
    "50kx5k-0.5%-k50-f32": (50_000, 5_000, 0.005, 50, np.float32),
    "20kx50k-0.1%-k10": (20_000, 50_000, 0.001, 10, np.float64),
    "100kx10k-0.1%-k100-f32": (100_000, 10_000, 0.001, 100, np.float32),
}


def _fit(cls, X, k, seed):
    t0 = time.perf_counter()
    model = cls(n_clusters=k, random_state=seed).fit(X)
    return time.perf_counter() - t0, model


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks sparse", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--repeats", type=int, default=5, help="alternated fits per library, seeds 0.. (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: all)")
    args = parser.parse_args(argv)

    from sklearn.cluster import KMeans as SkKMeans

    from kmeanskit import KMeans

    if args.threads is not None:
        import numba
        from threadpoolctl import threadpool_limits

        numba.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    print(f"sparse KMeans fits, medians of {args.repeats} alternated repeats (seeds 0..{args.repeats - 1}), "
          f"threads: {args.threads or 'all'}")
    print("| shape | n x d | nnz | k | dtype | kmeanskit s | scikit-learn s | speed-up | iterations | inertia ours / sklearn |")
    print("|---|---|---:|---:|---|---:|---:|---:|---|---:|")
    ratios = {}
    for name in args.shapes:
        n, d, density, k, dtype = SHAPES[name]
        X = _tfidf(n, d, density).astype(dtype)
        # Load every kernel a fit runs before timing (numba's cache, scikit-learn's first call).
        KMeans(n_clusters=k, random_state=0, max_iter=2).fit(X)
        SkKMeans(n_clusters=k, random_state=0, max_iter=2).fit(X)
        ours, theirs, pair, iters, inertia = [], [], [], [], []
        for seed in range(args.repeats):
            t_ours, m_ours = _fit(KMeans, X, k, seed)
            t_theirs, m_theirs = _fit(SkKMeans, X, k, seed)
            ours.append(t_ours)
            theirs.append(t_theirs)
            pair.append(t_theirs / t_ours)
            iters.append((m_ours.n_iter_, m_theirs.n_iter_))
            inertia.append(m_ours.inertia_ / m_theirs.inertia_)
        ratios[name] = float(np.median(pair))
        it_ours, it_theirs = np.median(np.array(iters), axis=0)
        print(
            f"| {name} | {n:,} x {d:,} | {X.nnz:,} | {k} | {np.dtype(dtype).name} | {np.median(ours):.3f} | "
            f"{np.median(theirs):.3f} | {ratios[name]:.2f}x | {it_ours:.0f} / {it_theirs:.0f} | {np.median(inertia):.4f} |",
            flush=True,
        )
    values = np.array(list(ratios.values()))
    worst = min(ratios, key=ratios.get)
    print(f"\ngeometric mean speed-up: {float(np.exp(np.log(values).mean())):.2f}x; worst: {worst} {ratios[worst]:.2f}x")


if __name__ == "__main__":
    main()
