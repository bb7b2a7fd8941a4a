"""The silhouette of a clustering of a table with categorical columns, as a fit's summary computes it.

``silhouette_or_reason(X, labels, categorical=..., sample_size=...)`` (what ``kmeanskit fit``,
``evaluate``, the report and ``select_k`` per k call) on a table of two numeric and two
categorical columns, random labels in 4 clusters: its seconds, medians over ``--repeats``
calls. With ``--before SRC`` the same call from another source tree's ``metrics.py`` (loaded
from SRC, the rest of kmeanskit from this tree) runs interleaved, call by call, and the
median of the per-repeat ratios old/new is printed (every repeat's two scores must be equal).

Run: ``python -m benchmarks mixed-silhouette [--rows N ...] [--sample-size S] [--repeats R] [--before SRC]``.
"""

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main"]


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"amount": rng.normal(size=n), "age": rng.normal(size=n),
                          "store": rng.choice(["North", "South", "East", "West"], n).astype(object),
                          "region": rng.choice(["urban", "rural"], n).astype(object)})
    return frame, rng.integers(0, 4, n)


def _metrics_from(src):
    spec = importlib.util.spec_from_file_location("before_metrics", Path(src) / "kmeanskit/_analysis/metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks mixed-silhouette", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sample-size", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="SRC", help="an earlier tree's src/ directory, timed interleaved")
    args = parser.parse_args(argv)
    from kmeanskit._analysis import metrics

    trees = {"new": metrics}
    if args.before:
        trees = {"old": _metrics_from(args.before), **trees}
    print(f"| rows | sample | {' | '.join(f'{name} (s)' for name in trees)} |" + (" old/new |" if args.before else ""))
    print("|---:|---:|" + "---:|" * (len(trees) + bool(args.before)))
    for n in args.rows:
        frame, labels = _table(n)
        seconds = {name: [] for name in trees}
        for r in range(args.repeats):
            order = list(trees) if r % 2 == 0 else list(reversed(trees))
            scores = {}
            for name in order:
                start = time.perf_counter()
                scores[name] = trees[name].silhouette_or_reason(frame, labels, sample_size=args.sample_size,
                                                                random_state=0, categorical=[2, 3], gamma=0.5)[0]
                seconds[name].append(time.perf_counter() - start)
            if args.before:  # every repeat's scores, not only the last
                assert scores["old"] == scores["new"], (r, scores)
        medians = {name: statistics.median(values) for name, values in seconds.items()}
        row = f"| {n:,} | {args.sample_size:,} | " + " | ".join(f"{medians[name]:.3f}" for name in trees) + " |"
        if args.before:  # the median of the paired (same repeat) ratios
            ratio = statistics.median(old / new for old, new in zip(seconds["old"], seconds["new"], strict=True))
            row += f" {ratio:.1f}x |"
        print(row)
