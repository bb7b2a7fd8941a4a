"""Many clusters: the group-bounded step (Yinyang) against the bounded step (Hamerly) and Lloyd.

Two tables, the libraries and steps alternating in one run, medians over the repeats:

- ``--crossover`` (the rule of ``algorithm="auto"``): the convergence loop from
  the same k-means++ centers, at most ``--iterations`` passes, with the bounded
  and the group-bounded steps on blobs of ``--rows`` rows for each d and k
  (both reach the same result; only time differs). ``hamerly / yinyang`` > 1:
  the group bounds are faster.
- ``--steps`` (the whole rule of ``algorithm="auto"``, on the grid's dense
  shapes above its Lloyd threshold): whole default fits with each step,
  ``KMeans(k, random_state=s, algorithm=...)`` for "lloyd", "hamerly",
  "yinyang" (fewer than 24 features) and "auto", on one thread (numba and
  BLAS), timed in process CPU seconds, which a busy machine moves far less
  than wall time; every step gives the same fit (checked: the inertias agree).
- ``--center-values`` (the rule's Lloyd side: clusters x features per row):
  whole default fits, "lloyd" against "hamerly", on ``--rows`` uniform
  (float32) rows and blobs (float64) for each d and k, one thread, CPU seconds.
- the default (whole fits on the grid's many-cluster shapes):
  ``KMeans(k, random_state=s, algorithm=...)`` for "hamerly", "yinyang" and
  "auto", and scikit-learn's faster of "lloyd" and "elkan", seeds 0, 1, 2.

Run: ``python -m benchmarks yinyang [--crossover | --steps | --center-values] [--repeats R] [--shapes NAME ...]``.
"""

import argparse
import os
import time

import numba
import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from kmeanskit import KMeans, kmeans_plusplus
from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.lloyd import CHUNKED_MIN_FEATURES
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.registry import AUTO_LLOYD_MAX_WORK, fit_step
from kmeanskit._algorithms.rows import as_rows
from kmeanskit._algorithms.yinyang import YinyangStep

from .grid import SHAPES

__all__ = ["main"]

MANY_CLUSTER_SHAPES = [
    "lonlat-100kx2-k500", "blobs-30kx3-k1000-f32", "china-50kx3-k256", "flower-20kx3-k1024",
    "uniform-100kx10-k100", "uniform-50kx2-k50-f32",
]
STEPS = {"hamerly": BoundedStep, "yinyang": YinyangStep}
# The grid's dense shapes on which "auto" does not run Lloyd (work above AUTO_LLOYD_MAX_WORK).
STEP_SHAPES = [
    "china-273kx3-k16", "china-273kx3-k64", "flower-273kx3-k64", "blobs-10kx784-k10-f32",
    "blobs-10kx784-k100-f32", "blobs-20kx300-k50", *MANY_CLUSTER_SHAPES,
]


def _load():
    return f"{os.getloadavg()[0]:.1f}"


def crossover(rows_n, dims, ks, repeats, iterations):
    print("| d | k | hamerly ms | yinyang ms | hamerly / yinyang | passes | load |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for d in dims:
        for k in ks:
            X, _ = make_blobs(n_samples=rows_n, n_features=d, centers=k, cluster_std=1.0, random_state=0)
            init, _ = kmeans_plusplus(X, k, random_state=0)
            times = {name: [] for name in STEPS}
            for _ in range(repeats):
                for name, step_class in STEPS.items():
                    step = step_class(as_rows(X, None), k)
                    start = time.perf_counter()
                    run = run_kmeans(step, init, max_iter=iterations, tol=0)
                    times[name].append(time.perf_counter() - start)
            h, y = (1e3 * np.median(times[name]) for name in STEPS)
            print(f"| {d} | {k} | {h:.0f} | {y:.0f} | {h / y:.2f}x | {run.n_iter} | {_load()} |", flush=True)


def whole_fits(shapes, seeds):
    print("| shape | hamerly s | yinyang s | auto s | scikit-learn s | hamerly / yinyang | sklearn / auto | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in shapes:
        _, load, k = SHAPES[name]
        X = load()
        for algorithm in ("hamerly", "yinyang"):  # warm-up: kernels loaded
            KMeans(k, random_state=0, algorithm=algorithm, max_iter=2).fit(X)
        times = {lib: [] for lib in ("hamerly", "yinyang", "auto", "sklearn-lloyd", "sklearn-elkan")}
        for seed in seeds:
            for lib in times:
                if lib.startswith("sklearn"):
                    km = SkKMeans(k, random_state=seed, algorithm=lib.split("-")[1])
                else:
                    km = KMeans(k, random_state=seed, algorithm=lib)
                start = time.perf_counter()
                km.fit(X)
                times[lib].append(time.perf_counter() - start)
        med = {lib: float(np.median(ts)) for lib, ts in times.items()}
        sk = min(med["sklearn-lloyd"], med["sklearn-elkan"])
        print(f"| {name} | {med['hamerly']:.3f} | {med['yinyang']:.3f} | {med['auto']:.3f} | {sk:.3f} | "
              f"{med['hamerly'] / med['yinyang']:.2f}x | {sk / med['auto']:.2f}x | {_load()} |", flush=True)


def steps_table(shapes, seeds):
    """Whole default fits with each step on one thread, process CPU seconds (medians over ``seeds``)."""
    print("| shape | n x d | k | lloyd s | hamerly s | yinyang s | auto s | lloyd / auto | auto runs | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    numba.set_num_threads(1)
    with threadpool_limits(1):
        for name in shapes:
            _, load, k = SHAPES[name]
            X = load()
            n, d = X.shape
            assert n * d * k >= AUTO_LLOYD_MAX_WORK, name
            algorithms = ["lloyd", "hamerly", "yinyang", "auto"]
            if d >= CHUNKED_MIN_FEATURES:  # "yinyang" runs the bounded step there
                algorithms.remove("yinyang")
            for algorithm in algorithms:  # warm-up: kernels loaded
                KMeans(k, random_state=0, algorithm=algorithm, max_iter=2).fit(X)
            times = {algorithm: [] for algorithm in algorithms}
            for seed in seeds:
                inertias = set()
                for algorithm in algorithms:
                    start = time.process_time()
                    km = KMeans(k, random_state=seed, algorithm=algorithm).fit(X)
                    times[algorithm].append(time.process_time() - start)
                    inertias.add(km.inertia_)
                assert len(inertias) == 1, (name, seed, inertias)  # the same fit, whatever the step
            med = {algorithm: float(np.median(ts)) for algorithm, ts in times.items()}
            y = f"{med['yinyang']:.3f}" if "yinyang" in med else "-"
            runs = fit_step(as_rows(X, None), k, "auto").path  # e.g. "bounded-direct", "yinyang-distinct"
            print(f"| {name} | {n:,} x {d} | {k} | {med['lloyd']:.3f} | {med['hamerly']:.3f} | {y} | "
                  f"{med['auto']:.3f} | {med['lloyd'] / med['auto']:.2f}x | {runs} | {_load()} |", flush=True)


def center_values(rows_n, dims, ks, repeats):
    """Lloyd against the bounded step, whole default fits on one thread (CPU seconds, medians over seeds)."""
    print("| data | d | k | k x d | lloyd ms | hamerly ms | lloyd / hamerly | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    numba.set_num_threads(1)
    with threadpool_limits(1):
        for kind in ("uniform", "blobs"):
            for d in dims:
                for k in ks:
                    if kind == "uniform":
                        X = np.random.RandomState(0).uniform(size=(rows_n, d)).astype(np.float32)
                    else:
                        X = make_blobs(n_samples=rows_n, n_features=d, centers=k, random_state=0)[0]
                    times = {"lloyd": [], "hamerly": []}
                    for algorithm in times:  # warm-up: kernels loaded
                        KMeans(k, random_state=0, algorithm=algorithm, max_iter=2).fit(X)
                    for seed in range(repeats):
                        for algorithm in times:
                            start = time.process_time()
                            KMeans(k, random_state=seed, algorithm=algorithm).fit(X)
                            times[algorithm].append(time.process_time() - start)
                    lloyd, hamerly = (1e3 * np.median(times[a]) for a in times)
                    print(f"| {kind} | {d} | {k} | {k * d} | {lloyd:.0f} | {hamerly:.0f} | {lloyd / hamerly:.2f}x | "
                          f"{_load()} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks yinyang", description=__doc__.splitlines()[0])
    parser.add_argument("--crossover", action="store_true", help="the auto rule's table (steps from the same start)")
    parser.add_argument("--steps", action="store_true",
                        help="the whole auto rule's table: every step, one thread, CPU seconds")
    parser.add_argument("--center-values", action="store_true",
                        help="Lloyd against the bounded step by clusters x features (the rule's Lloyd side)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3, 8, 16])
    parser.add_argument("--ks", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), help="default: the mode's shapes")
    args = parser.parse_args(argv)
    if args.center_values:
        center_values(args.rows, args.dims, args.ks, args.repeats)
    elif args.steps:
        steps_table(args.shapes or STEP_SHAPES, list(range(args.repeats)))
    elif args.crossover:
        crossover(args.rows, args.dims, args.ks, args.repeats, args.iterations)
    else:
        whole_fits(args.shapes or MANY_CLUSTER_SHAPES, list(range(args.repeats)))
