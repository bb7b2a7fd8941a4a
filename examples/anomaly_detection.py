"""Anomaly detection with K-Means: flag readings far from every normal regime.

A machine's sensors (temperature, vibration, pressure, motor current) are
simulated in three operating regimes: idle, normal load, high load. K-Means
(k=3, on standardised features) learns the regimes from a clean training
period. Each cluster gets its own alarm threshold: the 99th percentile of
the training rows' distances to that cluster's center, so about 1% of normal
readings raise an alarm whatever the regime's spread. New readings, with
injected anomalies (spikes in one sensor, and readings that mix regimes, such
as the current of high load with the temperature of idle), are flagged when
their distance to the nearest center exceeds its cluster's threshold; the
script prints precision and recall against the injected anomalies.

    python examples/anomaly_detection.py --out /tmp/anomaly
"""

import argparse
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_score, recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit._estimators.kmeans import KMeans

SENSORS = ["temperature (C)", "vibration (mm/s)", "pressure (bar)", "current (A)"]
# Mean and standard deviation of each sensor in each regime.
REGIMES = {
    "idle": ([35.0, 0.5, 1.0, 2.0], [1.5, 0.1, 0.05, 0.3]),
    "normal load": ([60.0, 2.0, 4.0, 12.0], [2.5, 0.3, 0.2, 1.0]),
    "high load": ([80.0, 4.5, 6.5, 25.0], [3.0, 0.5, 0.3, 1.5]),
}
SHARES = [0.3, 0.5, 0.2]


def normal_readings(n, rng):
    regime = rng.choice(len(REGIMES), size=n, p=SHARES)
    means = np.array([m for m, _ in REGIMES.values()])
    stds = np.array([s for _, s in REGIMES.values()])
    return means[regime] + stds[regime] * rng.standard_normal((n, len(SENSORS)))


def inject_anomalies(X, fraction, rng):
    """Return a copy with ``fraction`` of its rows made anomalous, and the mask."""
    X = X.copy()
    n_bad = int(round(fraction * len(X)))
    bad = rng.choice(len(X), n_bad, replace=False)
    stds = np.array([s for _, s in REGIMES.values()]).max(axis=0)
    half = n_bad // 2
    # Spikes: one sensor off by 2 to 8 of its largest regime standard deviations.
    sensor = rng.randint(len(SENSORS), size=half)
    X[bad[:half], sensor] += rng.choice([-1, 1], size=half) * rng.uniform(2, 8, size=half) * stds[sensor]
    # Mixed regimes: the current of high load with everything else from idle.
    idle_mean, idle_std = (np.array(a) for a in REGIMES["idle"])
    mixed = bad[half:]
    X[mixed] = idle_mean + idle_std * rng.standard_normal((len(mixed), len(SENSORS)))
    X[mixed, 3] = REGIMES["high load"][0][3] + rng.standard_normal(len(mixed))
    is_anomaly = np.zeros(len(X), dtype=bool)
    is_anomaly[bad] = True
    return X, is_anomaly


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the figure (default: .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="less data (for smoke tests)")
    args = parser.parse_args(argv)
    matplotlib.use("Agg")  # figures go to files, never to a window
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(args.seed)
    n_train, n_test = (5_000, 2_000) if args.quick else (50_000, 20_000)

    X_train = normal_readings(n_train, rng)
    X_test, is_anomaly = inject_anomalies(normal_readings(n_test, rng), 0.02, rng)

    model = make_pipeline(StandardScaler(), KMeans(n_clusters=len(REGIMES), random_state=args.seed)).fit(X_train)
    kmeans = model[-1]
    train_labels = kmeans.labels_
    train_dist = model.transform(X_train)[np.arange(n_train), train_labels]
    thresholds = np.array([np.percentile(train_dist[train_labels == j], 99) for j in range(kmeans.n_clusters)])

    test_dist_all = model.transform(X_test)
    test_labels = test_dist_all.argmin(axis=1)
    test_dist = test_dist_all[np.arange(n_test), test_labels]
    flagged = test_dist > thresholds[test_labels]

    centers = model[0].inverse_transform(kmeans.cluster_centers_)
    print(f"training: {n_train:,} normal readings of {len(SENSORS)} sensors; K-Means k={kmeans.n_clusters}")
    print("regimes found (centers in sensor units) and their alarm thresholds (99th percentile of distance):")
    header = "".join(f"{s:>18}" for s in SENSORS)
    print(f"  cluster   rows{header}   threshold")
    for j in np.argsort(centers[:, 0]):
        values = "".join(f"{v:>18.2f}" for v in centers[j])
        print(f"  {j:>7} {np.sum(train_labels == j):>6}{values}   {thresholds[j]:9.3f}")
    tp = int(np.sum(flagged & is_anomaly))
    fp = int(np.sum(flagged & ~is_anomaly))
    fn = int(np.sum(~flagged & is_anomaly))
    print(f"test: {n_test:,} readings with {is_anomaly.sum()} injected anomalies; {flagged.sum()} flagged")
    print(f"  true alarms {tp}, false alarms {fp} ({fp / (~is_anomaly).sum():.2%} of normal readings), missed {fn}")
    print(f"  precision {precision_score(is_anomaly, flagged):.3f}, recall {recall_score(is_anomaly, flagged):.3f}")

    fig, (ax_scatter, ax_hist) = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = np.array(["C0", "C1", "C2"])
    ax_scatter.scatter(X_test[~flagged, 0], X_test[~flagged, 3], s=4, c=colors[test_labels[~flagged]], alpha=0.4)
    ax_scatter.scatter(X_test[flagged, 0], X_test[flagged, 3], s=22, facecolors="none", edgecolors="red",
                       label="flagged")
    ax_scatter.scatter(X_test[is_anomaly, 0], X_test[is_anomaly, 3], s=6, marker="x", c="black",
                       label="injected anomaly")
    ax_scatter.set_xlabel(SENSORS[0])
    ax_scatter.set_ylabel(SENSORS[3])
    ax_scatter.set_title("test readings by regime (colour), alarms in red")
    ax_scatter.legend(loc="upper left")
    ratio = test_dist / thresholds[test_labels]
    bins = np.linspace(0, min(ratio.max(), 8), 80)
    ax_hist.hist(ratio[~is_anomaly], bins=bins, alpha=0.6, label="normal")
    ax_hist.hist(ratio[is_anomaly], bins=bins, alpha=0.8, label="injected anomaly")
    ax_hist.axvline(1.0, color="red", linestyle="--", label="cluster threshold")
    ax_hist.set_yscale("log")
    ax_hist.set_xlabel("distance to nearest center / that cluster's threshold")
    ax_hist.set_ylabel("readings")
    ax_hist.legend()
    fig.tight_layout()
    path = args.out / "anomaly_detection.png"
    fig.savefig(path, dpi=100)
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
