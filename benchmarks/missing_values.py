"""Missing values: ``KMeans(missing="ignore")`` against mean imputation + KMeans, quality and time.

``python -m benchmarks missing [--cases ...] [--seeds 0 1 2]``
``python -m benchmarks missing --kernels``: the masked step's two assignment paths, per shape

Each case is blobs (``make_blobs``, spread 2) with a share of entries removed
at random (a row left empty keeps its first entry). The reference labels are
those of ``KMeans(k)`` on the full data; each method's ARI against them says
how much of the full-data clustering it recovers from the gappy table:

- ``ignore``: ``KMeans(k, missing="ignore")`` (k-POD on the observed entries);
- ``impute``: ``make_pipeline(SimpleImputer(), KMeans(k))`` (mean imputation).

Seconds are whole fits (imputation included), medians over the seeds, and the
ratio is ignore's time over impute's, measured in the same run.
"""

import argparse
import json
import statistics
import time

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline

from kmeanskit import KMeans

__all__ = ["main"]

# name -> (n, d, k, share of entries removed)
CASES = {
    "10kx5-k3-5%": (10_000, 5, 3, 0.05),
    "10kx5-k3-40%": (10_000, 5, 3, 0.40),
    "10kx20-k8-20%": (10_000, 20, 8, 0.20),
    "10kx50-k20-20%": (10_000, 50, 20, 0.20),
    "100kx5-k8-20%": (100_000, 5, 8, 0.20),
    "100kx20-k8-5%": (100_000, 20, 8, 0.05),
    "100kx20-k20-40%": (100_000, 20, 20, 0.40),
    "100kx50-k20-20%": (100_000, 50, 20, 0.20),
}


def make_case(n, d, k, share, seed):
    """(full X, X with gaps) for a case and seed."""
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=seed)
    rng = np.random.RandomState(seed)
    Xm = X.copy()
    Xm[rng.uniform(size=X.shape) < share] = np.nan
    empty = np.isnan(Xm).all(axis=1)
    Xm[empty, 0] = X[empty, 0]
    return X, Xm


def _timed(fit):
    start = time.perf_counter()
    labels = fit()
    return time.perf_counter() - start, labels


def run_case(name, seeds):
    n, d, k, share = CASES[name]
    out = {"ignore": {"seconds": [], "ari": []}, "impute": {"seconds": [], "ari": []}}
    for seed in seeds:
        X, Xm = make_case(n, d, k, share, seed)
        full = KMeans(k, random_state=seed).fit(X).labels_
        fits = {
            "ignore": lambda Xm=Xm, seed=seed: KMeans(k, random_state=seed, missing="ignore").fit(Xm).labels_,
            "impute": lambda Xm=Xm, seed=seed: (
                make_pipeline(SimpleImputer(), KMeans(k, random_state=seed)).fit(Xm)[-1].labels_
            ),
        }
        for method, fit in fits.items():
            seconds, labels = _timed(fit)
            out[method]["seconds"].append(seconds)
            out[method]["ari"].append(adjusted_rand_score(full, labels))
    return out


KERNEL_SHAPES = ((100_000, 8, 8), (100_000, 20, 20), (50_000, 50, 20), (50_000, 64, 64), (50_000, 128, 64),
                 (20_000, 128, 256), (20_000, 256, 256), (10_000, 512, 256))


def kernel_paths(repeats=5):
    """ms per MaskedStep pass from the same centers: direct scores against matrix products."""
    from kmeanskit._algorithms import masked

    print(f"{'n x d, k':<18} {'direct ms':>9} {'products ms':>11} {'ratio':>6}")
    saved = masked.MASKED_DOTS_MIN_PRODUCT
    try:
        for n, d, k in KERNEL_SHAPES:
            _, Xm = make_case(n, d, k, 0.2, 0)
            rows = masked.MaskedRows(Xm, None)
            centers = rows.take(np.arange(k))
            labels = np.empty(n, dtype=np.int32)
            times = {"direct": [], "products": []}
            for _ in range(repeats):
                for path, threshold in (("direct", 1 << 62), ("products", 1)):
                    masked.MASKED_DOTS_MIN_PRODUCT = threshold
                    step = masked.MaskedStep(rows, k)
                    seconds, _ = _timed(lambda step=step, centers=centers, labels=labels: step(centers, labels))
                    times[path].append(seconds * 1e3)
            a, b = statistics.median(times["direct"]), statistics.median(times["products"])
            print(f"{f'{n // 1000}k x {d}, k={k}':<18} {a:>9.1f} {b:>11.1f} {b / a:>6.2f}", flush=True)
    finally:
        masked.MASKED_DOTS_MIN_PRODUCT = saved


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks missing", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--kernels", action="store_true", help="time the masked step's two assignment paths")
    args = parser.parse_args(argv)
    if args.kernels:
        kernel_paths()
        return
    # Compile and load every kernel before timing.
    _, Xm = make_case(2000, 5, 3, 0.2, 0)
    KMeans(3, random_state=0, missing="ignore").fit(Xm)
    KMeans(3, random_state=0).fit(np.nan_to_num(Xm))
    results = {}
    print(f"{'case':<18} {'ARI ignore':>10} {'ARI impute':>10} {'s ignore':>9} {'s impute':>9} {'time ratio':>10}")
    ratios = []
    for name in args.cases:
        res = results[name] = run_case(name, args.seeds)
        med = {m: {key: statistics.median(v) for key, v in res[m].items()} for m in res}
        ratio = med["ignore"]["seconds"] / med["impute"]["seconds"]
        ratios.append(ratio)
        print(
            f"{name:<18} {med['ignore']['ari']:>10.3f} {med['impute']['ari']:>10.3f} "
            f"{med['ignore']['seconds']:>9.3f} {med['impute']['seconds']:>9.3f} {ratio:>10.2f}",
            flush=True,
        )
    geo = float(np.exp(np.mean(np.log(ratios))))
    print(f"time ratio ignore/impute: geometric mean {geo:.2f}, worst {max(ratios):.2f}")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
