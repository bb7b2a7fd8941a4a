"""Seeding: greedy k-means++ against k-means||, end to end, time and final inertia.

``python -m benchmarks seeding [--cases ...] [--seeds 0 1 2]``

For each case and seed, ``KMeans(k, init=..., random_state=seed).fit(X)`` with
each seeding (the rest as by default): seconds, iterations, final inertia.
The table gives medians over the seeds and k-means||'s ratios to greedy
k-means++. This is the table behind ``init='auto'`` (``_kmeans._use_parallel_init``).

``python -m benchmarks seeding --scorers [--features 4 8 ...] [--rows 150 5000 ...] [--clusters 4 10]``
times greedy k-means++ on uniform rows by BLAS dots and by direct differences
(``_algorithms/init.py: scores_directly``, the rule's bound
``SMALL_DIRECT_MAX_FEATURES`` forced either way), the two alternated, CPU time
of the calling thread (medians), and checks that both draw the same rows.

Beyond the suite's cases it has some that locate the rule's boundaries: blobs
with 8 and 16 features, blobs that overlap (spreads from 0.5 to 4), and 3x3
patches of china.jpg (27 features of real image structure, not blobs).
"""

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_sample_image, make_blobs

from kmeanskit import KMeans

from .datasets import CASES, load_case

__all__ = ["main"]

INITS = ("k-means++", "k-means||")


def _china_patches():
    image = np.asarray(load_sample_image("china.jpg"), dtype=np.float64) / 255.0
    h, w, _ = image.shape
    patches = np.lib.stride_tricks.sliding_window_view(image, (3, 3, 3))[::2, ::2, 0]
    return np.ascontiguousarray(patches.reshape(-1, 27)[: (h // 2) * (w // 2)])


def _blobs(n, d, k, dtype, spread=2.0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=spread, random_state=0)
    return X.astype(dtype)


def _overlapping(n, d, k):
    spreads = np.random.RandomState(0).uniform(0.5, 4.0, size=k)
    return _blobs(n, d, k, np.float64, spreads)


EXTRA_CASES = {
    "blobs-200kx8-k32-f64": (lambda: _blobs(200_000, 8, 32, np.float64), 32),
    "blobs-200kx16-k64-f32": (lambda: _blobs(200_000, 16, 64, np.float32), 64),
    "overlap-200kx20-k50-f64": (lambda: _overlapping(200_000, 20, 50), 50),
    "china-patches-68kx27-k64": (_china_patches, 64),
}
DEFAULT_CASES = (
    "china-273kx3-k64", "blobs-200kx8-k32-f64", "blobs-200kx16-k64-f32", "overlap-200kx20-k50-f64",
    "china-patches-68kx27-k64", "blobs-200kx32-k100-f64", "blobs-300kx64-k128-f32",
)


def _load(name):
    if name in EXTRA_CASES:
        loader, k = EXTRA_CASES[name]
        return loader(), k
    return load_case(name)


def _fit(X, k, init, seed):
    start = time.perf_counter()
    km = KMeans(k, init=init, random_state=seed).fit(X)
    return time.perf_counter() - start, km.n_iter_, km.inertia_


def run_case(name, seeds):
    """``{init: {"seconds": [...], "n_iter": [...], "inertia": [...]}}`` over the seeds."""
    X, k = _load(name)
    for init in INITS:  # compile and load every kernel before timing
        KMeans(k, init=init, random_state=0, max_iter=2).fit(X[: max(4 * k, min(len(X), 1 << 16))])
    out = {init: {"seconds": [], "n_iter": [], "inertia": []} for init in INITS}
    for seed in seeds:
        for init in INITS:
            seconds, n_iter, inertia = _fit(X, k, init, seed)
            out[init]["seconds"].append(seconds)
            out[init]["n_iter"].append(n_iter)
            out[init]["inertia"].append(inertia)
    out["shape"] = list(X.shape)
    out["k"] = k
    return out


def _row(name, result):
    pp, par = result["k-means++"], result["k-means||"]
    med = statistics.median
    return (
        f"{name:26s} {med(pp['seconds']):8.3f} {med(par['seconds']):8.3f} "
        f"{med(pp['seconds']) / med(par['seconds']):7.2f}x "
        f"{med(pp['n_iter']):6.0f} {med(par['n_iter']):6.0f} "
        f"{med(par['inertia']) / med(pp['inertia']):9.4f} "
        f"{max(p / q for p, q in zip(par['inertia'], pp['inertia'], strict=True)):9.4f}"
    )


def _scorers(features, rows, clusters, rounds=3):
    """Dense (BLAS dots) against direct scoring of small inputs: a table of CPU microseconds."""
    from kmeanskit._algorithms import init
    from kmeanskit._algorithms.mapping import DataMapping
    from kmeanskit._algorithms.random_state import check_random_state
    from kmeanskit._algorithms.rows import DenseRows

    bound = init.SMALL_DIRECT_MAX_FEATURES

    def seed(X, k, direct):
        init.SMALL_DIRECT_MAX_FEATURES = 1 << 30 if direct else 0
        return init.kmeans_plusplus_rows(DenseRows(X, None), k, check_random_state(0))[1]

    print(f"{'rows':>7s} {'d':>4s} {'k':>4s} {'dots us':>9s} {'direct us':>10s} {'dots/direct':>12s} same draws")
    try:
        for n, d, k in ((n, d, k) for n in rows for d in features for k in clusters):
            X = np.random.RandomState(0).uniform(size=(n, d))
            X = DataMapping.on_mean(X).map_rows(X)
            same = np.array_equal(seed(X, k, False), seed(X, k, True))
            repeats = max(5, min(61, int(3e6 / (n * d * k))))
            times = {False: [], True: []}
            for _ in range(rounds):
                for direct in (False, True):
                    for _ in range(repeats):
                        start = time.thread_time()
                        seed(X, k, direct)
                        times[direct].append(time.thread_time() - start)
            dots, direct = (statistics.median(times[m]) * 1e6 for m in (False, True))
            print(f"{n:7d} {d:4d} {k:4d} {dots:9.1f} {direct:10.1f} {dots / direct:11.2f}x {same}", flush=True)
    finally:
        init.SMALL_DIRECT_MAX_FEATURES = bound


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks seeding", description=__doc__.splitlines()[0])
    parser.add_argument("--scorers", action="store_true", help="dense against direct scoring of small inputs")
    parser.add_argument("--features", nargs="*", type=int, default=[4, 5, 8, 12, 16, 24, 32])
    parser.add_argument("--rows", nargs="*", type=int, default=[150, 1000, 5000])
    parser.add_argument("--clusters", nargs="*", type=int, default=[4, 10])
    choices = list(CASES) + list(EXTRA_CASES)
    parser.add_argument("--cases", nargs="*", choices=choices, help="default: " + ", ".join(DEFAULT_CASES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--json", metavar="PATH", help="write every number to this JSON file")
    args = parser.parse_args(argv)
    if args.scorers:
        return _scorers(args.features, args.rows, args.clusters)
    warnings.filterwarnings("ignore", message="Number of distinct clusters")
    print("seconds and iterations: medians over seeds " + " ".join(map(str, args.seeds))
          + "; inertia: k-means|| / k-means++ of the medians, and the worst seed's ratio", flush=True)
    print(f"{'case':26s} {'++ s':>8s} {'|| s':>8s} {'speed':>8s} {'++ it':>6s} {'|| it':>6s} "
          f"{'inertia':>9s} {'worst':>9s}", flush=True)
    results = {}
    for name in args.cases or DEFAULT_CASES:
        results[name] = run_case(name, args.seeds)
        print(_row(name, results[name]), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"suite": "seeding", "seeds": args.seeds, "results": results}, fh, indent=1)
