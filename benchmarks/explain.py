"""Threshold-tree rules (IMM, ExKMC): fidelity, cost ratio and time on real tables, against the authors' code.

Each table is standardised and clustered with KMeans (n_init=10, seed 0);
``explain_clusters`` then builds IMM (k leaves) and ExKMC (2k leaves) trees.
Per table: IMM's mistakes, each tree's fidelity (share of rows whose rule
gives their K-Means cluster) and cost ratio (k-means cost of the rules'
clusters over K-Means' inertia), and the time of ``explain_clusters`` over
the time of the K-Means fit (medians of the repeats, measured in the same run).

With ``--reference DIR`` (a folder holding the ``ExKMC`` package of Frost et
al., ``pip download exkmc==0.0.3``; its compiled cut finder does not build on
Python 3.11, so ``ExKMC/splitters/__init__.py`` is pointed at its pure-Python
``py_cut_finder``), the authors' trees are built on the same model and
measured the same way (on the small tables only: their Python loops are slow).

Run: ``python -m benchmarks.explain [--repeats R] [--reference DIR]``.
"""

import argparse
import statistics
import sys
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, explain_clusters


def _blobs():
    X, _ = make_blobs(n_samples=100_000, n_features=8, centers=8, cluster_std=2.0, random_state=0)
    return X


# name -> (loader, k, compare with the authors' code)
TABLES = {
    "iris 150x4": (lambda: load_iris().data, 3, True),
    "wine 178x13": (lambda: load_wine().data, 3, True),
    "breast cancer 569x30": (lambda: load_breast_cancer().data, 2, True),
    "digits 1797x64": (lambda: load_digits().data, 10, True),
    "blobs 100000x8": (_blobs, 8, False),
}


def _timed(fn, repeats):
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def _reference(Xs, kmeans, k, max_leaves):
    from ExKMC.Tree import Tree

    tree = Tree(k=k, max_leaves=max_leaves).fit(Xs, kmeans)
    labels = kmeans.predict(Xs)
    fidelity = float(np.mean(tree.predict(Xs).astype(int) == labels))
    return tree._size() // 2 + 1, fidelity, tree.score(Xs) / float(kmeans.inertia_)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explain", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference", metavar="DIR", help="folder holding the authors' ExKMC package")
    args = parser.parse_args(argv)
    if args.reference:
        sys.path.insert(0, args.reference)
    print(f"{'table':<22}{'k':>3} {'IMM mistakes':>12} {'IMM fidelity':>12} {'IMM cost':>9} "
          f"{'2k leaves':>9} {'fidelity':>9} {'cost':>7} {'explain s':>10} {'fit s':>7} {'ratio':>6}")
    for name, (load, k, compare) in TABLES.items():
        X = np.asarray(load(), dtype=np.float64)
        model = make_pipeline(StandardScaler(), KMeans(k, n_init=10, random_state=0))
        fit_s, model = _timed(lambda model=model, X=X: model.fit(X), args.repeats)
        explain_s, imm = _timed(lambda model=model, X=X: explain_clusters(model, X), args.repeats)
        grown = explain_clusters(model, X, max_leaves=2 * k)
        print(f"{name:<22}{k:>3} {imm.n_mistakes:>12} {imm.fidelity:>12.3f} {imm.cost_ratio:>9.3f} "
              f"{grown.n_leaves:>9} {grown.fidelity:>9.3f} {grown.cost_ratio:>7.3f} {explain_s:>10.3f} "
              f"{fit_s:>7.3f} {explain_s / fit_s:>6.2f}")
        if args.reference and compare:
            Xs, kmeans = model[0].transform(X), model[-1]
            leaves, fidelity, cost = _reference(Xs, kmeans, k, k)
            grown_leaves, grown_fidelity, grown_cost = _reference(Xs, kmeans, k, 2 * k)
            print(f"{'  authors ExKMC 0.0.3':<22}{k:>3} {'':>12} {fidelity:>12.3f} {cost:>9.3f} "
                  f"{grown_leaves:>9} {grown_fidelity:>9.3f} {grown_cost:>7.3f}   (IMM leaves: {leaves})")


if __name__ == "__main__":
    main()
