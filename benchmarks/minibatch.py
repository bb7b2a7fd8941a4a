"""MiniBatchKMeans: kmeanskit vs scikit-learn on blobs 1M x 32, k=64 (float64).

For each seed the two libraries are fitted alternately with the default
parameters (``MiniBatchKMeans(64, random_state=seed)``), and the table gives
the medians of:

- fit time (validation, seeding, the mini-batch steps, and the final labelling
  pass over all rows that ``compute_labels=True`` does);
- final inertia, relative to a full ``kmeanskit.KMeans(64, random_state=0)``;
- time to reach a common inertia target: each library is also fitted with
  ``max_no_improvement`` in ``--patience`` (shorter and longer runs); the
  target is the larger of the two libraries' median default inertias, and a
  library's time to it is the shortest fit that ends at or below it (median
  over seeds).

``--threads N`` runs both libraries on N threads (numba's, and scikit-learn's
OpenMP and BLAS through threadpoolctl): on a shared, overloaded machine
OpenMP threads that wait for each other while descheduled make scikit-learn's
fits tens of times slower, which says nothing about the algorithms.

Run: ``python -m benchmarks minibatch [--repeats R] [--n N] [--threads N]``.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans

from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.minibatch import MiniBatchKMeans

from .datasets import _blobs


def _fit(cls, X, seed, patience):
    km = cls(64, random_state=seed, max_no_improvement=patience)
    t0 = time.perf_counter()
    km.fit(X)
    return time.perf_counter() - t0, float(km.inertia_)


def _time_to(target, runs):
    """Shortest fit time among ``(seconds, inertia)`` runs ending at or below ``target``."""
    times = [t for t, inertia in runs if inertia <= target]
    return min(times) if times else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks minibatch", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="seeds (default: %(default)s)")
    parser.add_argument("--n", type=int, default=1_000_000, help="rows (default: %(default)s)")
    parser.add_argument("--patience", type=int, nargs="*", default=[3, 10, 30],
                        help="max_no_improvement values for the time-to-inertia runs")
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: all)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        import numba
        from threadpoolctl import threadpool_limits

        numba.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    warnings.filterwarnings("ignore", message="Number of distinct clusters")

    X = _blobs(args.n, 32, 64, np.float64)
    MiniBatchKMeans(2, random_state=0).fit(X[:5000])  # compile / load kernels outside the timing
    SkMiniBatchKMeans(2, random_state=0, n_init=1).fit(X[:5000])
    t0 = time.perf_counter()
    full = KMeans(64, random_state=0).fit(X)
    full_seconds = time.perf_counter() - t0
    print(f"full KMeans (kmeanskit): inertia {full.inertia_:.6g}, {full.n_iter_} iterations, {full_seconds:.2f} s",
          flush=True)

    libraries = {"kmeanskit": MiniBatchKMeans, "scikit-learn": SkMiniBatchKMeans}
    runs = {name: {p: [] for p in args.patience} for name in libraries}
    for seed in range(args.repeats):
        for patience in args.patience:
            for name, cls in libraries.items():  # alternate: the machine's speed drifts
                runs[name][patience].append(_fit(cls, X, seed, patience))
        default = {name: runs[name][10][-1] if 10 in runs[name] else None for name in libraries}
        print(f"seed {seed}: " + ", ".join(
            f"{name} {t:.2f} s, inertia/full {inertia / full.inertia_:.4f}"
            for name, (t, inertia) in default.items() if default[name] is not None), flush=True)

    base = 10 if 10 in args.patience else args.patience[0]
    stats = {}
    for name in libraries:
        seconds = [t for t, _ in runs[name][base]]
        inertias = [i for _, i in runs[name][base]]
        stats[name] = (float(np.median(seconds)), float(np.median(inertias)))
    target = max(inertia for _, inertia in stats.values())
    print()
    threads = "all" if args.threads is None else args.threads
    print(f"blobs {args.n} x 32, k=64, float64; {args.repeats} seeds; threads: {threads}; "
          f"full KMeans inertia {full.inertia_:.6g}")
    print(f"{'library':<14}{'fit s':>8}{'inertia/full':>14}{'s to target':>13}")
    for name in libraries:
        seconds, inertia = stats[name]
        to_target = [
            _time_to(target, [runs[name][p][s] for p in args.patience]) for s in range(args.repeats)
        ]
        print(f"{name:<14}{seconds:>8.2f}{inertia / full.inertia_:>14.4f}{np.nanmedian(to_target):>13.2f}")
    speed = stats["scikit-learn"][0] / stats["kmeanskit"][0]
    print(f"\ntarget inertia {target:.6g} ({target / full.inertia_:.4f} x full); fit speed-up {speed:.2f}x")
    return stats


if __name__ == "__main__":
    main()
