"""Choosing k: each method of ``select_k`` and its ``best_k`` on data sets with a known k.

The suite (``SUITE``) holds data sets of the kinds the answer must get right:
separated blobs of many shapes (k = 2..12, d = 2..50), blobs that touch (5 to 6
standard deviations apart), unequal sizes, unequal
spreads, anisotropic (linearly transformed) blobs, data without clusters
(uniform boxes, one Gaussian: the right answer is k = 1), and real tables with
known classes that K-Means can see (scikit-learn's bundled iris, wine and
breast-cancer tables, standardized; no download). Every data set is generated
from a fixed seed.

A method is right on a data set when its k is one of the data set's right
answers (iris: 3 classes, but versicolor and virginica touch, so 2 counts too).
The table gives, per method, the share of data sets it gets right; ``best_k``
is the answer :func:`kmeanskit.select_k` gives.

``--mixed`` runs the suite of tables with categorical columns instead
(``MIXED_SUITE``): numeric blobs with a categorical column that follows the
cluster (each row keeps its cluster's level with a given probability), noise
columns of both kinds, and tables of categories alone; clustered as ``kmeanskit
fit -k auto`` clusters them (the numeric columns standardized, K-Prototypes, or
K-Modes without numeric columns; ``n_init=10``) over k = 2..10, with the methods
that apply (elbow, silhouette under the K-Prototypes dissimilarity, prediction
strength).

Run: ``python -m benchmarks k-selection [--mixed] [--k-max K] [--n-refs B] [--seed S] [--data-shift N] [--only NAME ...]
[--verbose]`` (``--data-shift``: the same kinds of data drawn afresh, to check the rule off the data it was
chosen on)
and ``python -m benchmarks k-selection --speed [--n N] [--d D] [--baseline-src PATH]`` for
the time of ``select_k`` over k = 2..10 with every method on N x D blobs (against
another checkout's, run alternately, when given).
"""

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.preprocessing import StandardScaler

from kmeanskit import select_k
from kmeanskit._analysis.selection import GAP_RULES, gap_k

__all__ = ["SUITE", "main"]


@dataclass(frozen=True)
class Case:
    """A data set with its right answers for k."""

    name: str
    kind: str
    right: tuple
    make: object  # (shift) -> ndarray; generated data sets draw with their seed + shift


def _centers(k, d, separation, rng):
    """k centers at least `separation` apart (uniform in a box, rejection)."""
    side = separation * max(1.0, k ** (1.0 / d)) * 1.5
    centers = [rng.uniform(-side, side, d)]
    while len(centers) < k:
        c = rng.uniform(-side, side, d)
        if min(np.linalg.norm(c - o) for o in centers) >= separation:
            centers.append(c)
    return np.array(centers)


def _blobs(k, d, seed, *, sizes=None, stds=None, separation=None, transform=False):
    def make(shift=0):
        rng = np.random.RandomState(seed + shift)
        std = np.ones(k) if stds is None else np.asarray(stds, dtype=float)
        centers = _centers(k, d, separation or 8.0 * std.max(), rng)
        counts = [100] * k if sizes is None else list(sizes)
        X = np.vstack([rng.normal(c, s, size=(n, d)) for c, s, n in zip(centers, std, counts, strict=True)])
        if transform:  # one linear map for all: anisotropic blobs, as scikit-learn's example
            X = X @ (np.eye(d) + 0.6 * rng.normal(size=(d, d)))
        return X

    return make


def _uniform(n, d, seed):
    return lambda shift=0: np.random.RandomState(seed + shift).uniform(size=(n, d))


def _gaussian(n, d, seed, anisotropic=False):
    def make(shift=0):
        rng = np.random.RandomState(seed + shift)
        X = rng.normal(size=(n, d))
        return X @ np.diag(np.linspace(1.0, 4.0, d)) if anisotropic else X

    return make


def _real(loader):
    return lambda shift=0: StandardScaler().fit_transform(loader().data)


SUITE = [
    # separated isotropic blobs, k = 2..12, d = 2..50
    *[Case(f"blobs k={k} d={d}", "blobs", (k,), _blobs(k, d, seed=10 + k + d))
      for k, d in [(2, 2), (3, 2), (4, 5), (5, 2), (6, 10), (7, 8), (8, 3), (9, 4), (10, 20), (11, 5),
                   (12, 50), (2, 30), (3, 15)]],
    # blobs closer together (5 to 6 standard deviations apart): they touch
    Case("close k=3 d=2", "close", (3,), _blobs(3, 2, 81, separation=5.0)),
    Case("close k=4 d=4", "close", (4,), _blobs(4, 4, 82, separation=5.0)),
    Case("close k=6 d=6", "close", (6,), _blobs(6, 6, 83, separation=5.5)),
    Case("close k=5 d=10", "close", (5,), _blobs(5, 10, 84, separation=5.0)),
    Case("close k=8 d=5", "close", (8,), _blobs(8, 5, 85, separation=6.0)),
    # unequal sizes
    Case("sizes 50/200/600 d=2", "sizes", (3,), _blobs(3, 2, 31, sizes=(50, 200, 600))),
    Case("sizes 40..400 k=4 d=5", "sizes", (4,), _blobs(4, 5, 32, sizes=(40, 100, 200, 400))),
    Case("sizes 30..300 k=5 d=3", "sizes", (5,), _blobs(5, 3, 33, sizes=(30, 60, 120, 200, 300))),
    Case("sizes 30..250 k=6 d=8", "sizes", (6,), _blobs(6, 8, 34, sizes=(30, 50, 80, 120, 180, 250))),
    # unequal spreads
    Case("spreads 0.5..2 k=3 d=2", "spreads", (3,), _blobs(3, 2, 41, stds=(0.5, 1.0, 2.0))),
    Case("spreads 0.5..2.5 k=4 d=4", "spreads", (4,), _blobs(4, 4, 42, stds=(0.5, 1.0, 1.5, 2.5))),
    Case("spreads 0.5..2 k=5 d=6", "spreads", (5,), _blobs(5, 6, 43, stds=(0.5, 0.8, 1.2, 1.6, 2.0))),
    Case("spreads 0.5..2 k=8 d=10", "spreads", (8,), _blobs(8, 10, 44, stds=np.linspace(0.5, 2.0, 8))),
    # unequal sizes and spreads
    Case("sizes+spreads k=3 d=2", "sizes+spreads", (3,),
         _blobs(3, 2, 51, sizes=(60, 150, 400), stds=(2.0, 1.0, 0.5))),
    Case("sizes+spreads k=6 d=5", "sizes+spreads", (6,),
         _blobs(6, 5, 52, sizes=(40, 60, 100, 150, 200, 300), stds=np.linspace(0.6, 1.8, 6))),
    # anisotropic: blobs under one random linear map
    Case("anisotropic k=3 d=2", "anisotropic", (3,), _blobs(3, 2, 61, transform=True)),
    Case("anisotropic k=4 d=3", "anisotropic", (4,), _blobs(4, 3, 62, transform=True)),
    Case("anisotropic k=5 d=5", "anisotropic", (5,), _blobs(5, 5, 63, transform=True)),
    Case("anisotropic k=6 d=10", "anisotropic", (6,), _blobs(6, 10, 64, transform=True)),
    Case("anisotropic k=8 d=6", "anisotropic", (8,), _blobs(8, 6, 65, transform=True)),
    # no cluster structure: the answer is k = 1
    Case("uniform square", "none", (1,), _uniform(600, 2, 71)),
    Case("uniform box d=5", "none", (1,), _uniform(600, 5, 72)),
    Case("uniform box d=10", "none", (1,), _uniform(800, 10, 73)),
    Case("one Gaussian d=2", "none", (1,), _gaussian(600, 2, 74)),
    Case("one Gaussian d=8", "none", (1,), _gaussian(800, 8, 75)),
    Case("one elongated Gaussian d=5", "none", (1,), _gaussian(600, 5, 76, anisotropic=True)),
    # real tables with known classes, standardized
    Case("iris (scaled)", "real", (2, 3), _real(load_iris)),
    Case("wine (scaled)", "real", (3,), _real(load_wine)),
    Case("breast cancer (scaled)", "real", (2,), _real(load_breast_cancer)),
]

def _mixed(k, d, seed, *, purity=0.8, levels=None, noise_numeric=0, noise_categorical=1, separation=6.0,
           sizes=None, n_categorical=1, numeric=True):
    """A table with a known k: numeric blobs (d columns, `separation` sd apart; none without `numeric`),
    `n_categorical` columns whose level is the row's cluster's with probability `purity` (else a level drawn
    uniformly), and noise columns of both kinds (uniform levels; standard normal numbers)."""
    def make(shift=0):
        rng = np.random.RandomState(seed + shift)
        counts = [100] * k if sizes is None else list(sizes)
        group = np.repeat(np.arange(k), counts)
        n = group.size
        columns = {}
        if numeric:
            centers = _centers(k, d, separation, rng)
            values = centers[group] + rng.normal(size=(n, d))
            columns.update({f"x{j}": values[:, j] for j in range(d)})
        n_levels = levels or k
        for c in range(n_categorical):
            # Each cluster's own level (clusters may share one when there are fewer levels than clusters).
            own = rng.permutation(max(n_levels, k))[:k] % n_levels
            keep = rng.random_sample(n) < purity
            codes = np.where(keep, own[group], rng.randint(0, n_levels, n))
            columns[f"c{c}"] = np.array([f"L{v}" for v in codes], dtype=object)
        for j in range(noise_numeric):
            columns[f"noise{j}"] = rng.normal(size=n)
        for j in range(noise_categorical):
            columns[f"other{j}"] = np.array([f"M{v}" for v in rng.randint(0, 4, n)], dtype=object)
        return pd.DataFrame(columns)

    return make


MIXED_SUITE = [
    # numeric blobs, one categorical column that follows them (80%), one categorical noise column
    *[Case(f"mixed k={k} d={d}", "mixed", (k,), _mixed(k, d, seed=100 + k + d)) for k, d in
      [(2, 2), (3, 2), (4, 3), (5, 2), (6, 4), (8, 3)]],
    # blobs that touch (4 sd apart): the categories help
    Case("mixed close k=3 d=2", "mixed close", (3,), _mixed(3, 2, 121, separation=4.0)),
    Case("mixed close k=4 d=3", "mixed close", (4,), _mixed(4, 3, 122, separation=4.0, n_categorical=2)),
    Case("mixed close k=5 d=2", "mixed close", (5,), _mixed(5, 2, 123, separation=4.0, n_categorical=2)),
    # noise columns of both kinds
    Case("mixed noise k=3 d=2", "mixed noise", (3,), _mixed(3, 2, 131, noise_numeric=2, noise_categorical=2)),
    Case("mixed noise k=4 d=4", "mixed noise", (4,), _mixed(4, 4, 132, noise_numeric=2, noise_categorical=2)),
    Case("mixed noise k=6 d=3", "mixed noise", (6,), _mixed(6, 3, 133, noise_numeric=1, noise_categorical=3)),
    # unequal sizes
    Case("mixed sizes 50/150/400", "mixed sizes", (3,), _mixed(3, 2, 141, sizes=(50, 150, 400))),
    Case("mixed sizes k=5", "mixed sizes", (5,), _mixed(5, 3, 142, sizes=(40, 80, 120, 200, 300))),
    # a categorical column with fewer levels than clusters, and a purer one
    Case("mixed 2 levels k=4 d=2", "mixed levels", (4,), _mixed(4, 2, 151, levels=2)),
    Case("mixed purity 0.95 k=5 d=2", "mixed levels", (5,), _mixed(5, 2, 152, purity=0.95)),
    # categories alone (K-Modes): several columns that follow the clusters, one noise column
    Case("categories k=3 q=5", "categories", (3,), _mixed(3, 0, 161, n_categorical=5, numeric=False, purity=0.7)),
    Case("categories k=4 q=6", "categories", (4,), _mixed(4, 0, 162, n_categorical=6, numeric=False, purity=0.7)),
    Case("categories k=5 q=8", "categories", (5,), _mixed(5, 0, 163, n_categorical=8, numeric=False, purity=0.7,
                                                          levels=6)),
    Case("categories k=6 q=8", "categories", (6,), _mixed(6, 0, 164, n_categorical=8, numeric=False, purity=0.8,
                                                          levels=8)),
    Case("categories k=3 q=4 pure", "categories", (3,), _mixed(3, 0, 165, n_categorical=4, numeric=False,
                                                               purity=0.9)),
]

METHOD_ORDER = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "prediction_strength",
                *(f"gap {rule}" for rule in GAP_RULES))


def answers(result):
    """Method -> k: select_k's recommendations and every maxSE rule on the gap curve."""
    found = {m: k for m, k in result.recommended.items() if m != "gap"}
    curve = result.gap_curve
    for rule in GAP_RULES:
        found[f"gap {rule}"] = gap_k(curve.index, curve["gap"], curve["gap_se"], rule)
    found["best_k"] = result.best_k
    return found


MIXED_METHOD_ORDER = ("elbow", "silhouette", "prediction_strength")


def _mixed_template(frame):
    """What ``kmeanskit fit -k auto`` clusters a table with categories by (standardized numeric columns)."""
    from sklearn.pipeline import Pipeline

    from kmeanskit import KModes, KPrototypes
    from kmeanskit._estimators.numeric_scaler import NumericScaler

    categorical = tuple(c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]))
    if len(categorical) == frame.shape[1]:
        return KModes(n_init=10)
    return Pipeline([("scale", NumericScaler("standard", categorical=categorical)),
                     ("kprototypes", KPrototypes(categorical=categorical, n_init=10))])


def run_mixed_suite(k_max=10, only=None, verbose=False, seed=0, data_shift=0):
    """Run select_k on every table of MIXED_SUITE; return [(case, answers, seconds, result)]."""
    rows = []
    for case in MIXED_SUITE:
        if only and not any(o.lower() in case.name.lower() for o in only):
            continue
        frame = case.make(data_shift)
        t0 = time.perf_counter()
        result = select_k(frame, range(2, k_max + 1), estimator=_mixed_template(frame), random_state=seed,
                          progress=False)
        seconds = time.perf_counter() - t0
        found = {**result.recommended, "best_k": result.best_k}
        rows.append((case, found, seconds, result))
        if verbose:
            print(f"{case.name:<28} right={case.right} best_k={found['best_k']} "
                  + " ".join(f"{m}={found[m]}" for m in MIXED_METHOD_ORDER) + f"  ({seconds:.1f} s)", flush=True)
            print(f"    {result.reason}", flush=True)
    return rows


def run_suite(k_max=15, n_refs=10, only=None, verbose=False, seed=0, data_shift=0):
    """Run select_k on every case; return [(case, answers, seconds)]."""
    rows = []
    for case in SUITE:
        if only and not any(o.lower() in case.name.lower() for o in only):
            continue
        X = case.make(data_shift)
        t0 = time.perf_counter()
        result = select_k(X, range(2, k_max + 1), n_refs=n_refs, random_state=seed, progress=False)
        seconds = time.perf_counter() - t0
        found = answers(result)
        rows.append((case, found, seconds, result))
        if verbose:
            print(f"{case.name:<28} right={case.right} best_k={found['best_k']} "
                  + " ".join(f"{m}={found[m]}" for m in METHOD_ORDER) + f"  ({seconds:.1f} s)", flush=True)
            print(f"    {result.reason}", flush=True)
    return rows


def print_accuracy(rows, methods=METHOD_ORDER):
    methods = (*methods, "best_k")
    print(f"\n{len(rows)} data sets; share right per method (right on k=1 data: of "
          f"{sum(c.right == (1,) for c, *_ in rows)} without structure)")
    print(f"{'method':<22} {'right':>7} {'share':>7} {'k=1 data':>9}")
    for m in methods:
        right = sum(found[m] in case.right for case, found, *_ in rows)
        none = [found[m] == 1 for case, found, *_ in rows if case.right == (1,)]
        print(f"{m:<22} {right:>4}/{len(rows):<2} {right / len(rows):7.0%} {sum(none):>5}/{len(none)}")
    print(f"time: {sum(seconds for _, _, seconds, _ in rows):.1f} s in all")
    wrong = [(case.name, found["best_k"]) for case, found, *_ in rows if found["best_k"] not in case.right]
    print("best_k wrong on: " + (", ".join(f"{n} (gave {k})" for n, k in wrong) or "none"))


_TIMED = """
import sys, time
from sklearn.datasets import make_blobs
from kmeanskit import select_k
n, d, seed, sample = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
kwargs = {} if sample == "default" else {"sample_size": int(sample)}
X, _ = make_blobs(n_samples=n, n_features=d, centers=6, cluster_std=1.0, random_state=0)
select_k(X[:2000], range(2, 4), random_state=0, progress=False, **kwargs)  # compile and load outside the timing
t0, c0 = time.perf_counter(), time.process_time()
result = select_k(X, range(2, 11), random_state=seed, progress=False, **kwargs)
print(time.perf_counter() - t0, time.process_time() - c0, getattr(result, "best_k", None), ",".join(result.methods))
"""


def _timed(src, n, d, seed, sample):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", _TIMED, str(n), str(d), str(seed), sample], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), out[2], out[3]


def speed(n, d, repeats, baseline_src=None, baseline_sample="10000"):
    """Wall and CPU seconds of select_k over k = 2..10, every method; each run in a fresh process.

    With a baseline checkout (its ``src``), the two alternate in each repeat and the
    ratio of their wall times is taken per repeat (the machine is shared).
    """
    import pathlib

    ours_src = str(pathlib.Path(__file__).resolve().parents[1] / "src")
    print(f"select_k on {n:,} x {d} blobs (6 centers), k = 2..10, every method; median of {repeats} repeats")
    ours, theirs = [], []
    for r in range(repeats):
        ours.append(_timed(ours_src, n, d, r, "default"))
        if baseline_src:
            theirs.append(_timed(baseline_src, n, d, r, baseline_sample))
    wall, cpu = np.median([o[0] for o in ours]), np.median([o[1] for o in ours])
    print(f"  this checkout (defaults): wall {wall:.2f} s, CPU {cpu:.2f} s; best_k = {ours[-1][2]}; "
          f"methods {ours[-1][3]}")
    if baseline_src:
        wall_b, cpu_b = np.median([t[0] for t in theirs]), np.median([t[1] for t in theirs])
        ratio = np.median([t[0] / o[0] for o, t in zip(ours, theirs, strict=True)])
        print(f"  baseline {baseline_src} (sample_size={baseline_sample}): wall {wall_b:.2f} s, CPU {cpu_b:.2f} s;"
              f" methods {theirs[-1][3]}")
        print(f"  speed-up (median of per-repeat wall ratios): {ratio:.1f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks k-selection", description=__doc__.splitlines()[0])
    parser.add_argument("--k-max", type=int, default=15, help="ks tried: 2..K (default 15)")
    parser.add_argument("--n-refs", type=int, default=10, help="gap reference sets (default 10)")
    parser.add_argument("--only", nargs="*", help="run the cases whose name contains one of these")
    parser.add_argument("--verbose", action="store_true", help="print every case's answers and reason")
    parser.add_argument("--seed", type=int, default=0, help="select_k's random_state (default 0)")
    parser.add_argument("--data-shift", type=int, default=0,
                        help="draw every generated data set with its seed + this: fresh data, same kinds")
    parser.add_argument("--speed", action="store_true", help="time select_k on large blobs instead")
    parser.add_argument("--mixed", action="store_true",
                        help="the suite of tables with categorical columns (K-Prototypes, K-Modes), k = 2..K-MAX "
                             "(default 10)")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-src", help="with --speed: the src folder of another checkout to compare with")
    parser.add_argument("--baseline-sample", default="10000",
                        help="with --baseline-src: its select_k's sample_size ('default' for none given)")
    args = parser.parse_args(argv)
    if args.speed:
        speed(args.n, args.d, args.repeats, args.baseline_src, args.baseline_sample)
        return
    if args.mixed:
        rows = run_mixed_suite(10 if args.k_max == 15 else args.k_max, args.only, args.verbose, args.seed,
                               args.data_shift)
        print_accuracy(rows, MIXED_METHOD_ORDER)
        return
    rows = run_suite(args.k_max, args.n_refs, args.only, args.verbose, args.seed, args.data_shift)
    print_accuracy(rows)


if __name__ == "__main__":
    main()
