"""Whole default fits on sparse (CSR) TF-IDF-like matrices, against scikit-learn.

Each shape is a TF-IDF-like matrix (``datasets._tfidf``: Zipf term frequencies,
scikit-learn's ``TfidfTransformer``, l2-normalised rows) fitted with
``KMeans(k, random_state=seed)`` by both libraries (scikit-learn's ``lloyd``,
its only sparse algorithm), alternating, one seed per repeat. The table gives
the median times, the median of the per-repeat ratios (scikit-learn / ours),
the iterations and the inertia ratio; the geometric mean and the worst ratio
come last. ``--threads N`` limits both libraries (numba and OpenMP/BLAS) to N
threads: on a shared machine one thread each gives steadier ratios.

``--grid`` runs :data:`GRID` instead of :data:`SHAPES`: 20 shapes spanning n 1k-50k,
d 500-20k, density 0.1-5%, k 2-20, float32 and float64. ``--per-iteration`` times one
Lloyd iteration instead of whole fits: from the same centers (k-means++ then five of
scikit-learn's iterations), our pass with its center update (``LloydStep`` then
``update_centers``) against scikit-learn's ``lloyd_iter_chunked_sparse``, on one thread
by default, in CPU time (``time.process_time``: what a loaded machine disturbs least;
wall time with ``--threads`` above 1, where CPU time would add up the threads),
``--calls`` calls per round, rounds alternated, the median of the per-round ratios.

Run: ``python -m benchmarks sparse [--grid] [--per-iteration] [--shapes NAME ...] [--repeats R] [--threads N]``.
"""

import argparse
import time

import numpy as np

from .datasets import _tfidf

__all__ = ["GRID", "SHAPES", "main"]

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

# The grid of issue 20's sparse shapes: small k mostly (where a pass is cheapest,
# so per-value and per-pass overheads show), n 1k-50k, d 500-20k, density 0.1-5%.
GRID = {
    "1kx500-5%-k2": (1_000, 500, 0.05, 2, np.float64),
    "1kx20k-0.5%-k8-f32": (1_000, 20_000, 0.005, 8, np.float32),
    "2kx5k-1%-k3": (2_000, 5_000, 0.01, 3, np.float64),
    "2kx1k-2%-k20-f32": (2_000, 1_000, 0.02, 20, np.float32),
    "5kx500-5%-k10-f32": (5_000, 500, 0.05, 10, np.float32),
    "5kx1k-5%-k5": (5_000, 1_000, 0.05, 5, np.float64),
    "5kx2k-0.1%-k5": (5_000, 2_000, 0.001, 5, np.float64),
    "5kx20k-0.2%-k2-f32": (5_000, 20_000, 0.002, 2, np.float32),
    "10kx5k-0.5%-k3-f32": (10_000, 5_000, 0.005, 3, np.float32),
    "10kx20k-0.1%-k4": (10_000, 20_000, 0.001, 4, np.float64),
    "10kx1k-2%-k15": (10_000, 1_000, 0.02, 15, np.float64),
    "20kx2k-1%-k3-f32": (20_000, 2_000, 0.01, 3, np.float32),
    "20kx2k-1%-k5": (20_000, 2_000, 0.01, 5, np.float64),
    "20kx2k-1%-k20": (20_000, 2_000, 0.01, 20, np.float64),
    "20kx10k-0.1%-k2": (20_000, 10_000, 0.001, 2, np.float64),
    "20kx500-5%-k4-f32": (20_000, 500, 0.05, 4, np.float32),
    "50kx1k-1%-k5": (50_000, 1_000, 0.01, 5, np.float64),
    "50kx5k-0.2%-k2-f32": (50_000, 5_000, 0.002, 2, np.float32),
    "50kx20k-0.1%-k10-f32": (50_000, 20_000, 0.001, 10, np.float32),
    "50kx2k-0.5%-k20-f32": (50_000, 2_000, 0.005, 20, np.float32),
}


def _fit(cls, X, k, seed):
    t0 = time.perf_counter()
    model = cls(n_clusters=k, random_state=seed).fit(X)
    return time.perf_counter() - t0, model


def _iteration_timers(X, k, threads):
    """One Lloyd iteration of each library from the same centers: (ours, scikit-learn's), callables."""
    from sklearn.cluster import kmeans_plusplus
    from sklearn.cluster._k_means_lloyd import lloyd_iter_chunked_sparse

    from kmeanskit._algorithms.lloyd import LloydStep
    from kmeanskit._algorithms.rows import as_rows

    centers = kmeans_plusplus(X, k, random_state=0)[0].astype(X.dtype)
    weights, labels = np.ones(X.shape[0], dtype=X.dtype), np.zeros(X.shape[0], dtype=np.int32)
    new, in_clusters, shift = np.empty_like(centers), np.empty(k, dtype=X.dtype), np.empty(k, dtype=X.dtype)
    for _ in range(5):
        lloyd_iter_chunked_sparse(X, weights, centers, new, in_clusters, labels, shift, threads, True)
        centers, new = new.copy(), centers
    step, ours_labels, their_labels = LloydStep(as_rows(X, None), k), labels.copy(), labels.copy()

    def ours():
        step.update_centers(centers, ours_labels, step(centers, ours_labels, True))

    def theirs():
        lloyd_iter_chunked_sparse(X, weights, centers, new, in_clusters, their_labels, shift, threads, True)

    return ours, theirs


def _cpu_time(run, calls, clock=time.process_time):
    """Median time of ``calls`` calls of ``run`` by ``clock`` (CPU time by default)."""
    times = []
    for _ in range(calls):
        start = clock()
        run()
        times.append(clock() - start)
    return float(np.median(times))


def _per_iteration(shapes, args):
    """Print the per-iteration table of ``shapes`` (see the module docstring); returns the ratios."""
    import numba

    threads = numba.get_num_threads()
    # CPU time sums every thread's: it measures one thread's work only when there is one (else wall time).
    clock = time.process_time if threads == 1 else time.perf_counter
    print(f"one sparse Lloyd iteration, {'CPU' if threads == 1 else 'wall'} time, medians of {args.repeats} "
          f"alternated rounds of {args.calls} calls, threads: {threads}")
    print("| shape | n x d | nnz | k | dtype | kmeanskit ms | scikit-learn ms | speed-up |")
    print("|---|---|---:|---:|---|---:|---:|---:|")
    ratios = {}
    for name in args.shapes:
        n, d, density, k, dtype = shapes[name]
        X = _tfidf(n, d, density).astype(dtype)
        ours, theirs = _iteration_timers(X, k, threads)
        ours(), theirs()
        t_ours, t_theirs = [], []
        for _ in range(args.repeats):
            t_ours.append(_cpu_time(ours, args.calls, clock))
            t_theirs.append(_cpu_time(theirs, args.calls, clock))
        ratios[name] = float(np.median(np.array(t_theirs) / np.array(t_ours)))
        print(f"| {name} | {n:,} x {d:,} | {X.nnz:,} | {k} | {np.dtype(dtype).name} | {np.median(t_ours) * 1e3:.3f} | "
              f"{np.median(t_theirs) * 1e3:.3f} | {ratios[name]:.2f}x |", flush=True)
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks sparse", description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="the shapes of GRID instead of SHAPES")
    parser.add_argument("--shapes", nargs="*", default=None, choices=list(SHAPES) + list(GRID),
                        help="shapes to run (default: every shape of the suite, or of GRID with --grid)")
    parser.add_argument("--per-iteration", action="store_true", help="time one Lloyd iteration, not whole fits")
    parser.add_argument("--calls", type=int, default=11, help="calls per round with --per-iteration (default 11)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="alternated fits per library, seeds 0.. (default 5); rounds with --per-iteration")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: all; 1 with --per-iteration)")
    args = parser.parse_args(argv)
    if args.per_iteration and args.threads is None:
        args.threads = 1
    shapes = {**SHAPES, **GRID}
    if args.shapes is None:
        args.shapes = list(GRID if args.grid else SHAPES)

    from sklearn.cluster import KMeans as SkKMeans

    from kmeanskit import KMeans

    if args.threads is not None:
        import numba
        from threadpoolctl import threadpool_limits

        numba.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    if args.per_iteration:
        _summary(_per_iteration(shapes, args))
        return
    print(f"sparse KMeans fits, medians of {args.repeats} alternated repeats (seeds 0..{args.repeats - 1}), "
          f"threads: {args.threads or 'all'}")
    print("| shape | n x d | nnz | k | dtype | kmeanskit s | scikit-learn s | speed-up | iterations | inertia ours / sklearn |")
    print("|---|---|---:|---:|---|---:|---:|---:|---|---:|")
    ratios = {}
    for name in args.shapes:
        n, d, density, k, dtype = shapes[name]
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
    _summary(ratios)


def _summary(ratios):
    """Print the geometric mean and the worst of the ratios."""
    values = np.array(list(ratios.values()))
    worst = min(ratios, key=ratios.get)
    print(f"\ngeometric mean speed-up: {float(np.exp(np.log(values).mean())):.2f}x; worst: {worst} {ratios[worst]:.2f}x")


if __name__ == "__main__":
    main()
