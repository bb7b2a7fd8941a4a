"""Choosing k: one answer and its reason, and every method's k side by side.

Synthetic data with a known answer (5 groups of different spreads in 4
dimensions, one pair close together) go through ``kmeanskit._analysis.selection.select_k``,
which fits K-Means for every k from 1 to 10 (1 to 7 with --quick) and recommends a k by each
method (among them: the elbow (the knee of the inertia curve), the silhouette (largest
mean silhouette) and the gap statistic of Tibshirani, Walther and Hastie
(2001; read with R's clusGap rule "firstSEmax": the smallest k whose gap is
within one standard error of the first local maximum), prediction strength, Calinski-Harabasz and
Davies-Bouldin). The script prints select_k's
answer (``best_k``) and its reason, the table of scores and each method's k,
and saves the Figure that ``result.plot()`` returns.

    python examples/choosing_k.py --out /tmp/choosing_k
"""

import argparse
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs

from kmeanskit._analysis.selection import select_k

TRUE_K = 5


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the figure (default: .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="fewer rows and reference sets (for smoke tests)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # figures go to files, never to a window
    args.out.mkdir(parents=True, exist_ok=True)

    centers = np.array([[0, 0, 0, 0], [8, 0, 0, 0], [0, 8, 0, 0], [0, 0, 8, 0], [3.5, 0, 0, 3]], dtype=float)
    X, _ = make_blobs(
        n_samples=400 if args.quick else 1_500, centers=centers, cluster_std=[1.0, 1.5, 0.8, 1.2, 1.0],
        random_state=args.seed,
    )
    ks = range(1, 8) if args.quick else range(1, 11)
    result = select_k(X, ks, n_refs=2 if args.quick else 10, random_state=args.seed)
    print(f"{X.shape[0]:,} points in {X.shape[1]} dimensions drawn from {TRUE_K} groups; "
          f"K-Means for k = {ks.start}..{ks.stop - 1}")
    with pd.option_context("display.float_format", "{:,.3f}".format, "display.width", 120):
        print(result.table.to_string())
    print("\nrecommended k:")
    for method, k in result.recommended.items():
        print(f"  {method:<19} {k if k is not None else 'none found'}")
    print(f"\nanswer: {result.reason}")

    figure = result.plot()
    figure.suptitle(f"choosing k ({TRUE_K} groups generated): best k = {result.best_k}")
    path = args.out / "choosing_k.png"
    figure.savefig(path, dpi=100)
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
