"""Cluster stability and drift reports: their cost, and the measurements behind two choices.

1. ``cluster_stability`` (20 bootstrap resamples) on blobs of n x 8, k=8: its
   time against one ``KMeans.fit`` of the same data, alternated in each repeat
   (medians), with the default sample of 10,000 rows and without it.
2. Fresh starts against a warm start from the model's centers, on three tight
   blobs and a uniform background clustered with k=4 (the background's cluster
   is an artefact): the mean Jaccard of the artefact and of the real clusters.
3. ``drift_report`` on n new rows x 8 features (time), and the feature check's
   false alarms on new rows from the training distribution, with 5 or 10
   expected rows per bin.
4. Small fits: one run, 10 starts and the 20-resample stability with 10 starts
   per refit, around ``SMALL_FIT_SIZE`` (what ``kmeanskit fit`` does there).

Run: ``python -m benchmarks stability [--n N] [--repeats R] [--seeds S]``.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, cluster_stability, drift_report, fit_monitor
from kmeanskit._analysis.monitoring import drift as drift_module


def _artefact_data(seed):
    rng = np.random.default_rng(seed)
    blobs = [rng.normal(center, 0.5, size=(200, 2)) for center in ((0, 0), (10, 0), (5, 8.66))]
    angle = rng.uniform(0, 2 * np.pi, 60)
    r = 30 * np.sqrt(rng.uniform(0, 1, 60))
    return np.concatenate(blobs + [np.c_[5 + r * np.cos(angle), 2.9 + r * np.sin(angle)]])


def timing(n, repeats):
    X, _ = make_blobs(n_samples=n, n_features=8, centers=8, cluster_std=2.0, random_state=0)
    model = KMeans(8, random_state=0).fit(X)
    cluster_stability(X[:2000], model, n_boot=2, random_state=0)  # compiled kernels loaded
    fit, sampled, full = [], [], []
    for r in range(repeats):
        t = time.perf_counter()
        KMeans(8, random_state=r).fit(X)
        fit.append(time.perf_counter() - t)
        t = time.perf_counter()
        cluster_stability(X, model, n_boot=20, random_state=r)
        sampled.append(time.perf_counter() - t)
        t = time.perf_counter()
        cluster_stability(X, model, n_boot=20, random_state=r, sample_size=None)
        full.append(time.perf_counter() - t)
    print(f"cluster_stability, 20 resamples, {n} x 8, k=8 (medians of {repeats} alternated repeats)")
    print(f"  one KMeans.fit:              {np.median(fit):7.2f} s")
    print(f"  sample of 10,000 (default):  {np.median(sampled):7.2f} s  "
          f"({np.median(np.divide(sampled, fit)):.1f} fits)")
    print(f"  every row (sample_size=None): {np.median(full):6.2f} s  ({np.median(np.divide(full, fit)):.1f} fits)")


def warm_versus_fresh(seeds):
    print(f"\nartefact cluster (three blobs and a background, k=4), seeds 0-{seeds - 1}: mean Jaccard")
    print(f"{'seed':>4} {'fresh artefact':>15} {'fresh real min':>15} {'warm artefact':>14} {'warm real min':>14}")
    for seed in range(seeds):
        X = _artefact_data(seed)
        model = KMeans(4, random_state=seed).fit(X)
        warm = KMeans(4, init=model.cluster_centers_, n_init=1).fit(X)
        row = [seed]
        for fitted in (model, warm):
            table = cluster_stability(X, fitted, random_state=seed).clusters
            artefact = table["size"] < 100
            row += [table.loc[artefact, "mean_jaccard"].max(), table.loc[~artefact, "mean_jaccard"].min()]
        print(f"{row[0]:>4} {row[1]:>15.2f} {row[2]:>15.2f} {row[3]:>14.2f} {row[4]:>14.2f}")


def drift(n, seeds):
    X, _ = make_blobs(n_samples=n, n_features=8, centers=8, cluster_std=2.0, random_state=0)
    X_new, _ = make_blobs(n_samples=n, n_features=8, centers=8, cluster_std=2.0, random_state=0)
    X_new = X_new[np.random.default_rng(1).permutation(n)]
    model = KMeans(8, random_state=0).fit(X)
    profile = fit_monitor(model, X)
    drift_report(model, X_new[:1000], reference=profile)
    t = time.perf_counter()
    drift_report(model, X_new, reference=profile)
    print(f"\ndrift_report on {n} new rows x 8 features, k=8: {time.perf_counter() - t:.2f} s "
          f"(fit_monitor of the training rows: see the profile)")
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=6, size=(4, 3))
    train = centers[rng.integers(0, 4, 4000)] + rng.normal(size=(4000, 3))
    km = KMeans(4, random_state=0).fit(train)
    profile = fit_monitor(km, train)
    print(f"feature false alarms on new rows from the training distribution ({seeds} draws, alpha=0.01):")
    for expected in (5.0, 10.0):
        drift_module._FEATURE_MIN_EXPECTED = expected
        counts = []
        for size in (20, 50, 200):
            alarms = 0
            for seed in range(seeds):
                r = np.random.default_rng(10_000 + seed)
                new = centers[r.integers(0, 4, size)] + r.normal(size=(size, 3))
                alarms += drift_report(km, new, reference=profile).feature_drift
            counts.append(f"n={size}: {alarms / seeds:.1%}")
        print(f"  {expected:g} expected rows per bin: " + ", ".join(counts))
    drift_module._FEATURE_MIN_EXPECTED = 10.0


def small_fits(repeats):
    print("\nsmall fits (blobs; medians of repeats): n x d x k, one run, 10 starts, stability with 10 starts")
    rng = np.random.default_rng(0)
    for n, d, k in ((150, 4, 3), (1000, 8, 5), (5000, 10, 5), (10_000, 10, 10)):
        X = rng.normal(size=(n, d)) + rng.integers(0, k, size=(n, 1)) * 2
        one, ten, stab = [], [], []
        for r in range(repeats):
            t = time.perf_counter()
            KMeans(k, random_state=r).fit(X)
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            model = KMeans(k, n_init=10, random_state=r).fit(X)
            ten.append(time.perf_counter() - t)
            t = time.perf_counter()
            cluster_stability(X, model, random_state=r)
            stab.append(time.perf_counter() - t)
        print(f"  {n:>6} x {d:>2} x {k:>2} = {n * d * k:>9,}: {np.median(one):.3f} s, {np.median(ten):.3f} s, "
              f"{np.median(stab):.2f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks stability", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows (default 100000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the artefact comparison (default 10)")
    parser.add_argument("--alarm-draws", type=int, default=300, help="draws per size for the false alarms")
    args = parser.parse_args(argv)
    timing(args.n, args.repeats)
    warm_versus_fresh(args.seeds)
    drift(args.n, args.alarm_draws)
    small_fits(args.repeats)
