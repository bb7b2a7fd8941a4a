"""KPrototypes: kmeanskit vs the ``kmodes`` package, same data, same initial centers.

Data: ``--n`` rows (default 100,000) of 8 numeric columns (Gaussian blobs
around 8 centers) and 4 categorical columns of 4, 6, 10 and 16 levels that
follow the blob in 70% of the rows (uniformly random otherwise), as one float64
array, the categorical columns holding integer codes. Both libraries get that
array, ``categorical=[8, 9, 10, 11]``, the same ``gamma`` (Huang's proposal,
half the mean standard deviation of the numeric columns) and, for each seed,
the same initial centers: 8 rows drawn at random (kmodes takes them as
``init=[numeric, categorical]``, kmeanskit as an array in the table's layout).
Both stop when no point changes cluster, or after 300 iterations (``max_iter``
for both; kmeanskit with ``tol=0``: its default ``tol``, scikit-learn's, can
stop while the cost still falls slowly, as when two centers share a blob).
``kmodes`` updates centers after each moved point (Huang's online update),
kmeanskit after each pass (batch): the runs differ, the cost they minimise is
the same; the table compares the final costs and the times.

Memory: the peak of ``tracemalloc`` during kmeanskit's fit (NumPy's arrays are
traced; numba's kernels allocate nothing large) against the input's size.

``kmodes`` is not a dependency: without it, this says "not installed" and
times kmeanskit alone.

Run: ``python -m benchmarks kprototypes [--n N] [--repeats R] [--kmodes-repeats R]``.

With ``--missing SHARE`` (say 0.2): missing values instead. That share of the
entries, numeric and categorical, is removed at random (NaN; a row left empty
keeps its first value). The reference labels are kmeanskit's fit on the full
table; each method's ARI against them says how much of that clustering it
recovers from the gappy table, all from the same 8 rows and the same gamma:

- ``ignore``: ``KPrototypes(missing="ignore")`` (the cost over the observed entries);
- ``impute``: mean (numeric) and mode (categorical) imputation, then KPrototypes;
- ``kmodes``: the same imputation, then ``kmodes``' KPrototypes.

The initial centers are the imputed table's rows (what ``missing="ignore"``
gives a drawn row's gaps too). Seconds are whole fits, imputation included.
"""

import argparse
import time
import tracemalloc

import numpy as np

from kmeanskit._estimators.kprototypes import KPrototypes

K = 8
MAX_ITER = 300
N_NUMERIC = 8
LEVELS = (4, 6, 10, 16)
CATEGORICAL = list(range(N_NUMERIC, N_NUMERIC + len(LEVELS)))


def mixed_table(n, seed=0):
    """(n, 12) float64: 8 numeric blob columns, then 4 columns of integer codes."""
    rng = np.random.RandomState(seed)
    truth = rng.randint(0, K, n)
    numeric = rng.uniform(-4, 4, size=(K, N_NUMERIC))[truth] + rng.normal(size=(n, N_NUMERIC))
    codes = [np.where(rng.uniform(size=n) < 0.3, rng.randint(0, m, n), truth % m) for m in LEVELS]
    return np.column_stack([numeric, *codes])


def _ours(X, init, gamma):
    km = KPrototypes(K, categorical=CATEGORICAL, gamma=gamma, init=init, n_init=1, tol=0, max_iter=MAX_ITER)
    t0 = time.perf_counter()
    km.fit(X)
    return time.perf_counter() - t0, float(km.inertia_), km.n_iter_


def _theirs(X, init, gamma):
    from kmodes.kprototypes import KPrototypes as KModesKPrototypes

    km = KModesKPrototypes(K, gamma=gamma, init=[init[:, :N_NUMERIC], init[:, N_NUMERIC:].astype(int)], n_init=1,
                           max_iter=MAX_ITER, n_jobs=1)
    t0 = time.perf_counter()
    km.fit(X, categorical=CATEGORICAL)
    return time.perf_counter() - t0, float(km.cost_), km.n_iter_


def _peak_bytes(X, init, gamma):
    tracemalloc.start()
    try:
        KPrototypes(K, categorical=CATEGORICAL, gamma=gamma, init=init, n_init=1, tol=0, max_iter=MAX_ITER).fit(X)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def with_gaps(X, share, seed=0):
    """X with ``share`` of its entries set to NaN at random (a row left empty keeps its first value)."""
    rng = np.random.RandomState(seed + 1000)
    gappy = X.copy()
    gappy[rng.uniform(size=X.shape) < share] = np.nan
    empty = np.isnan(gappy).all(axis=1)
    gappy[empty, 0] = X[empty, 0]
    return gappy


def impute(X):
    """Mean imputation of the numeric columns, mode imputation of the categorical ones."""
    out = X.copy()
    for f in range(X.shape[1]):
        gaps = np.isnan(X[:, f])
        seen = X[~gaps, f]
        if f in CATEGORICAL:
            values, counts = np.unique(seen, return_counts=True)
            out[gaps, f] = values[np.argmax(counts)]
        else:
            out[gaps, f] = seen.mean()
    return out


def _timed(fit):
    t0 = time.perf_counter()
    labels = fit()
    return time.perf_counter() - t0, labels


def missing_main(args, have_kmodes):
    from sklearn.metrics import adjusted_rand_score

    def ours(X, init, gamma, missing="error"):
        return KPrototypes(K, categorical=CATEGORICAL, gamma=gamma, init=init, n_init=1, tol=0, max_iter=MAX_ITER,
                           missing=missing).fit(X).labels_

    def theirs(X, init, gamma):
        from kmodes.kprototypes import KPrototypes as KModesKPrototypes

        km = KModesKPrototypes(K, gamma=gamma, init=[init[:, :N_NUMERIC], init[:, N_NUMERIC:].astype(int)],
                               n_init=1, max_iter=MAX_ITER, n_jobs=1)
        return km.fit(X, categorical=CATEGORICAL).labels_

    X = mixed_table(args.n)
    gamma = 0.5 * float(np.mean(X[:, :N_NUMERIC].std(axis=0)))
    small = with_gaps(X[:1000], args.missing)
    ours(small, impute(small)[:K], gamma, "ignore")  # compile the kernels before timing
    ours(X[:1000], X[:K], gamma)
    print(f"{args.n} rows x {N_NUMERIC} numeric + {len(LEVELS)} categorical, k={K}, gamma={gamma:.4f}, "
          f"{args.missing:.0%} of the entries missing")
    methods = ["ignore", "impute"] + (["kmodes"] if have_kmodes else [])
    print(f"{'seed':>4} " + " ".join(f"{'ARI ' + m:>11} {'s ' + m:>9}" for m in methods))
    n_theirs = args.repeats if args.kmodes_repeats is None else args.kmodes_repeats
    results = {m: {"ari": [], "seconds": []} for m in methods}
    for seed in range(args.repeats):
        rows = np.random.RandomState(seed).choice(args.n, K, replace=False)
        full = ours(X, X[rows], gamma)
        gappy = with_gaps(X, args.missing, seed)
        init = impute(gappy)[rows]
        fits = {
            "ignore": lambda gappy=gappy, init=init: ours(gappy, init, gamma, "ignore"),
            "impute": lambda gappy=gappy, init=init: ours(impute(gappy), init, gamma),
            "kmodes": lambda gappy=gappy, init=init: theirs(impute(gappy), init, gamma),
        }
        line = f"{seed:>4} "
        for method in methods:
            if method == "kmodes" and seed >= n_theirs:
                line += f"{'-':>11} {'-':>9} "
                continue
            seconds, labels = _timed(fits[method])
            ari = adjusted_rand_score(full, labels)
            results[method]["ari"].append(ari)
            results[method]["seconds"].append(seconds)
            line += f"{ari:>11.3f} {seconds:>9.3f} "
        print(line, flush=True)
    print("median: " + ", ".join(
        f"{m} ARI {np.median(r['ari']):.3f} in {np.median(r['seconds']):.3f} s" for m, r in results.items() if r["ari"]
    ))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks kprototypes", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="seeds of the initial centers (default: %(default)s)")
    parser.add_argument("--kmodes-repeats", type=int, default=None,
                        help="seeds on which kmodes also runs (default: all; it is slow)")
    parser.add_argument("--missing", type=float, default=None, metavar="SHARE",
                        help="remove this share of the entries and compare missing='ignore' with imputation")
    args = parser.parse_args(argv)
    try:
        import kmodes  # noqa: F401

        have_kmodes = True
    except ImportError:
        have_kmodes = False
        print("kmodes: not installed (pip install kmodes); timing kmeanskit alone")
    if args.missing is not None:
        missing_main(args, have_kmodes)
        return
    X = mixed_table(args.n)
    gamma = 0.5 * float(np.mean(X[:, :N_NUMERIC].std(axis=0)))
    _ours(X[:1000], X[:K], gamma)  # compile the kernels before timing
    print(f"{args.n} rows x {N_NUMERIC} numeric + {len(LEVELS)} categorical, k={K}, gamma={gamma:.4f}")
    print(f"{'seed':>4} {'ours s':>8} {'kmodes s':>9} {'speed':>8} {'ours cost':>14} {'kmodes cost':>14} "
          f"{'cost ratio':>10} {'it':>4} {'kmodes it':>9}")
    ours_t, theirs_t, ratios = [], [], []
    n_theirs = args.repeats if args.kmodes_repeats is None else args.kmodes_repeats
    for seed in range(args.repeats):
        init = X[np.random.RandomState(seed).choice(args.n, K, replace=False)]
        t, cost, n_iter = _ours(X, init, gamma)
        ours_t.append(t)
        if have_kmodes and seed < n_theirs:
            t2, cost2, n_iter2 = _theirs(X, init, gamma)
            theirs_t.append(t2)
            ratios.append(cost / cost2)
            print(f"{seed:>4} {t:>8.3f} {t2:>9.2f} {t2 / t:>7.1f}x {cost:>14.1f} {cost2:>14.1f} {cost / cost2:>10.4f} "
                  f"{n_iter:>4} {n_iter2:>9}")
        else:
            print(f"{seed:>4} {t:>8.3f} {'-':>9} {'-':>8} {cost:>14.1f} {'-':>14} {'-':>10} {n_iter:>4} {'-':>9}")
    line = f"median: ours {np.median(ours_t):.3f} s"
    if theirs_t:
        line += (f", kmodes {np.median(theirs_t):.2f} s, speed {np.median(theirs_t) / np.median(ours_t[:len(theirs_t)]):.1f}x"
                 f", cost ratio ours/kmodes median {np.median(ratios):.4f} (worst {max(ratios):.4f})")
    print(line)
    peak = _peak_bytes(X, X[:K], gamma)
    print(f"memory: input {X.nbytes / 1e6:.1f} MB, fit's tracemalloc peak {peak / 1e6:.1f} MB "
          f"({peak / X.nbytes:.2f}x the input)")


if __name__ == "__main__":
    main()
