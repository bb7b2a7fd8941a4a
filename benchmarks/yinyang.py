"""Many clusters: the group-bounded step (Yinyang) against the bounded step (Hamerly) and Lloyd.

Two tables, the libraries and steps alternating in one run, medians over the repeats:

- ``--crossover`` (the rule of ``algorithm="auto"``): the convergence loop from
  the same k-means++ centers, at most ``--iterations`` passes, with the bounded
  and the group-bounded steps on blobs of ``--rows`` rows for each d and k
  (both reach the same result; only time differs). ``hamerly / yinyang`` > 1:
  the group bounds are faster.
- the default (whole fits on the grid's many-cluster shapes):
  ``KMeans(k, random_state=s, algorithm=...)`` for "hamerly", "yinyang" and
  "auto", and scikit-learn's faster of "lloyd" and "elkan", seeds 0, 1, 2.

Run: ``python -m benchmarks yinyang [--crossover] [--repeats R] [--shapes NAME ...]``.
"""

import argparse
import os
import time

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, kmeans_plusplus
from kmeanskit._algorithms.bounded import BoundedStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.rows import as_rows
from kmeanskit._algorithms.yinyang import YinyangStep

from .grid import SHAPES

__all__ = ["main"]

MANY_CLUSTER_SHAPES = [
    "lonlat-100kx2-k500", "blobs-30kx3-k1000-f32", "china-50kx3-k256", "flower-20kx3-k1024",
    "uniform-100kx10-k100", "uniform-50kx2-k50-f32",
]
STEPS = {"hamerly": BoundedStep, "yinyang": YinyangStep}


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks yinyang", description=__doc__.splitlines()[0])
    parser.add_argument("--crossover", action="store_true", help="the auto rule's table (steps from the same start)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3, 8, 16])
    parser.add_argument("--ks", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--shapes", nargs="+", default=MANY_CLUSTER_SHAPES, choices=list(SHAPES))
    args = parser.parse_args(argv)
    if args.crossover:
        crossover(args.rows, args.dims, args.ks, args.repeats, args.iterations)
    else:
        whole_fits(args.shapes, list(range(args.repeats)))
