"""Customer segmentation: K-Means on standardised features, profiles in original units.

Synthetic customers (age, annual income, spending score, store visits per
month, online share of purchases) are drawn from five segments. A pipeline
``StandardScaler -> KMeans`` clusters them (scaling first, so that income in
dollars does not outweigh everything else), and ``kmeanskit._analysis.profiles`` turns
the result back into something a marketing team can read: each segment's
center, and each feature's mean, median and spread per segment, in years,
dollars and visits (with ANOVA / Kruskal-Wallis tests of whether the feature
differs between segments).

    python examples/customer_segmentation.py --out /tmp/customers
"""

import argparse
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit._analysis.profiles import centers_in_original_units, profile_clusters
from kmeanskit._estimators.kmeans import KMeans

# Segment -> (share, mean and standard deviation of each feature).
FEATURES = ["age", "income", "spending_score", "visits_per_month", "online_share"]
SEGMENTS = {
    "students": (0.20, [22, 18_000, 60, 6, 0.70], [2.5, 5_000, 12, 2, 0.12]),
    "young professionals": (0.25, [31, 62_000, 70, 4, 0.55], [4.0, 12_000, 10, 1.5, 0.15]),
    "families": (0.25, [42, 75_000, 45, 9, 0.25], [5.0, 15_000, 10, 2.5, 0.10]),
    "affluent": (0.10, [50, 160_000, 80, 3, 0.40], [7.0, 30_000, 8, 1.0, 0.15]),
    "retirees": (0.20, [69, 35_000, 30, 7, 0.10], [5.0, 9_000, 10, 2.0, 0.06]),
}


def make_customers(n, rng):
    names = list(SEGMENTS)
    shares = np.array([SEGMENTS[s][0] for s in names])
    segment = rng.choice(len(names), size=n, p=shares)
    means = np.array([SEGMENTS[s][1] for s in names], dtype=float)
    stds = np.array([SEGMENTS[s][2] for s in names], dtype=float)
    X = means[segment] + stds[segment] * rng.standard_normal((n, len(FEATURES)))
    X[:, 0] = np.clip(np.round(X[:, 0]), 18, 90)  # age in years
    X[:, 1] = np.clip(np.round(X[:, 1], -2), 0, None)  # income to the $100
    X[:, 2] = np.clip(X[:, 2], 1, 100)  # spending score 1..100
    X[:, 3] = np.clip(np.round(X[:, 3]), 0, None)  # visits
    X[:, 4] = np.clip(X[:, 4], 0, 1)  # share of purchases online
    return pd.DataFrame(X, columns=FEATURES), np.array(names)[segment]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=5, help="number of segments k (default 5)")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the figure (default: .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="fewer customers (for smoke tests)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # figures go to files, never to a window
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(args.seed)

    customers, true_segment = make_customers(2_000 if args.quick else 20_000, rng)
    pipe = make_pipeline(StandardScaler(), KMeans(n_clusters=args.clusters, n_init=10, random_state=args.seed))
    labels = pipe.fit_predict(customers)
    print(f"{len(customers):,} customers, {len(FEATURES)} features; StandardScaler -> KMeans k={args.clusters}")
    print(f"agreement with the generating segments: adjusted Rand index {adjusted_rand_score(true_segment, labels):.3f}")

    centers = centers_in_original_units(pipe)
    centers.insert(0, "customers", np.bincount(labels, minlength=args.clusters))
    # Name each cluster after the generating segment most of its customers come from.
    names = pd.crosstab(labels, true_segment).idxmax(axis=1)
    centers.insert(0, "mostly", names.reindex(centers.index).to_numpy())
    with pd.option_context("display.width", 140, "display.float_format", "{:,.2f}".format):
        print("\nsegment centers in original units:")
        print(centers.to_string())

    # The raw table is in original units already; for scaled data X_scaled, pass
    # profile_clusters(X_scaled, labels, scaler=pipe[:-1]) to map it back first.
    profile = profile_clusters(customers, labels)
    with pd.option_context("display.width", 140, "display.float_format", "{:,.2f}".format):
        print("\nmedian per segment (original units):")
        print(profile["median"].unstack("feature")[FEATURES].to_string())
        print("\nstandard deviation per segment:")
        print(profile["std"].unstack("feature")[FEATURES].to_string())
    tests = profile.xs(profile.index.get_level_values("cluster")[0], level="cluster")[["anova_f", "kruskal_p"]]
    print("\ndoes each feature differ between segments? (ANOVA F, Kruskal-Wallis p)")
    for feature, (f_stat, p_value) in tests.loc[FEATURES].iterrows():
        p_text = f"p = {p_value:.2g}" if p_value > 0 else "p < 1e-300"
        print(f"  {feature:<17} F = {f_stat:>10,.1f}   {p_text}")

    means = profile["mean"].unstack("feature")[FEATURES]
    relative = (means - customers[FEATURES].mean()) / customers[FEATURES].std()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    image = ax.imshow(relative.to_numpy(), cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    ax.set_xticks(range(len(FEATURES)), [f.replace("_", " ") for f in FEATURES])
    ax.set_yticks(range(len(relative)), [f"{c}: {names[c]}" for c in relative.index])
    for (i, j), value in np.ndenumerate(means.to_numpy()):
        text = f"${value / 1000:,.0f}k" if FEATURES[j] == "income" else (
            f"{value:.0%}" if FEATURES[j] == "online_share" else f"{value:,.0f}")
        dark = abs(relative.to_numpy()[i, j]) > 1.2
        ax.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if dark else "black")
    fig.colorbar(image, ax=ax, label="standard deviations from the overall mean")
    ax.set_title("customer segments: mean of each feature (original units in the cells)")
    fig.tight_layout()
    path = args.out / "customer_segmentation.png"
    fig.savefig(path, dpi=100)
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
