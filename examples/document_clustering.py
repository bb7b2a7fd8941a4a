"""Document clustering: Python's own help topics, by cosine similarity.

The help topics that ship with Python (``pydoc_data.topics``: the texts that
``help("with")`` or ``help("NUMBERS")`` print; no download) become TF-IDF
vectors, a sparse CSR matrix with one unit-norm row per topic. SphericalKMeans
clusters them by cosine similarity, straight on the sparse matrix (it is never
densified), and the script prints each cluster's top terms (the largest
weights of its unit-norm center) and its topics.

    python examples/document_clustering.py --clusters 8 --out /tmp/docs
"""

import argparse
import textwrap
from pathlib import Path
from pydoc_data.topics import topics

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from kmeanskit._estimators.spherical import SphericalKMeans

N_TERMS = 8


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=8, help="number of clusters (default 8)")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the figure (default: .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="fewer restarts (for smoke tests)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # figures go to files, never to a window
    args.out.mkdir(parents=True, exist_ok=True)

    names = sorted(topics)
    vectorizer = TfidfVectorizer(stop_words="english", min_df=2, max_df=0.5, token_pattern=r"(?u)\b[a-zA-Z_]{3,}\b")
    X = vectorizer.fit_transform(topics[name] for name in names)
    terms = vectorizer.get_feature_names_out()
    print(f"{X.shape[0]} help topics, {X.shape[1]:,} terms, CSR with {X.nnz:,} nonzeros "
          f"({X.nnz / (X.shape[0] * X.shape[1]):.1%} dense)")

    skm = SphericalKMeans(n_clusters=args.clusters, n_init=3 if args.quick else 20, random_state=args.seed).fit(X)
    cosine = 1.0 - skm.transform(X)[np.arange(X.shape[0]), skm.labels_]
    print(f"SphericalKMeans k={args.clusters}: mean cosine of a topic to its center {cosine.mean():.3f}, "
          f"inertia (sum of 1 - cos) {skm.inertia_:.2f}, {skm.n_iter_} iterations\n")

    order = np.argsort(-np.bincount(skm.labels_, minlength=args.clusters), kind="stable")
    top_terms = {}
    for j in order:
        members = [names[i] for i in np.flatnonzero(skm.labels_ == j)]
        top = np.argsort(-skm.cluster_centers_[j])[:N_TERMS]
        top_terms[j] = (terms[top], skm.cluster_centers_[j, top])
        print(f"cluster {j} ({len(members)} topics): {', '.join(terms[top])}")
        print(textwrap.fill(", ".join(members), width=100, break_on_hyphens=False, initial_indent="    ", subsequent_indent="    "))

    ncols = 4
    nrows = -(-args.clusters // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.6 * nrows), squeeze=False)
    for ax, j in zip(axes.ravel(), order, strict=False):
        words, weights = top_terms[j]
        ax.barh(np.arange(len(words))[::-1], weights, color=f"C{j % 10}")
        ax.set_yticks(np.arange(len(words))[::-1], words, fontsize=8)
        ax.set_title(f"cluster {j}: {np.sum(skm.labels_ == j)} topics", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes.ravel()[args.clusters:]:
        ax.axis("off")
    fig.suptitle("Python help topics: top terms of each SphericalKMeans center (TF-IDF weight)")
    fig.tight_layout()
    path = args.out / "document_clustering.png"
    fig.savefig(path, dpi=100)
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
