"""Handwritten digits: how well do K-Means clusters match the true digits?

K-Means (k=10) clusters scikit-learn's 1,797 8x8 images of handwritten digits
(64 grey levels each) without seeing the labels; the script then compares the
clusters with the true digits using ``kmeanskit.metrics``: purity (the share of
images in their cluster's majority digit, per cluster too), the adjusted Rand
index and the normalised mutual information, and prints the contingency matrix
(true digit x cluster). The figure shows each cluster's center as an image,
titled with its majority digit and purity.

    python examples/digits.py --out /tmp/digits
"""

import argparse
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from kmeanskit._estimators.kmeans import KMeans
from kmeanskit.metrics import adjusted_rand_score, contingency_matrix, normalized_mutual_info_score, purity_score


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the figure (default: .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="fewer restarts (for smoke tests)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # figures go to files, never to a window
    args.out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits(return_X_y=True)
    km = KMeans(n_clusters=10, n_init=2 if args.quick else 10, random_state=args.seed).fit(X)
    labels = km.labels_

    purity, per_cluster = purity_score(y, labels, per_cluster=True)
    table = contingency_matrix(y, labels, as_frame=True)
    majority = table.idxmax(axis=0)  # majority digit of each cluster
    print(f"digits: {X.shape[0]:,} images of {X.shape[1]} pixels; K-Means k=10, inertia {km.inertia_:,.0f}")
    print(f"purity {purity:.3f}   adjusted Rand index {adjusted_rand_score(y, labels):.3f}   "
          f"normalized mutual information {normalized_mutual_info_score(y, labels):.3f}")
    print("\ncontingency matrix (rows: true digit, columns: cluster):")
    print(table.to_string())
    print("\nper cluster: majority digit and purity")
    for cluster in per_cluster.index:
        print(f"  cluster {cluster}: digit {majority[cluster]}  purity {per_cluster[cluster]:.3f}  "
              f"({table[cluster].sum()} images)")
    missing = sorted(set(range(10)) - set(majority))
    if missing:
        print(f"digits that are no cluster's majority: {', '.join(map(str, missing))}")

    fig, axes = plt.subplots(2, 6, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1, 0.05]})
    order = sorted(per_cluster.index, key=lambda c: (majority[c], -per_cluster[c]))
    image = None
    for ax, cluster in zip(axes[:, :5].ravel(), order, strict=True):
        image = ax.imshow(km.cluster_centers_[cluster].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_title(f"cluster {cluster}: '{majority[cluster]}' {per_cluster[cluster]:.0%}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1, 5].axis("off")
    fig.colorbar(image, cax=axes[0, 5], label="grey level")
    fig.suptitle(f"K-Means centers of the digits (majority digit, purity); overall purity {purity:.0%}")
    fig.tight_layout()
    path = args.out / "digits.png"
    fig.savefig(path, dpi=100)
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
