"""The benchmark grid: default fits on the shapes users have, against scikit-learn (and peers where installed).

Each shape is fitted with every library's defaults, ``KMeans(k, random_state=seed)``:
kmeanskit against scikit-learn's ``algorithm="lloyd"`` and ``"elkan"`` (the
faster of the two counts; sparse input: lloyd only), and sklearnex and FAISS
(its defaults) when they import. A warm-up runs first, outside the timings:
kmeanskit's first default fit in the process (compiling its kernels, or loading
them from numba's cache: its time is the ``first call s`` column), two
iterations for the others.
The libraries then run alternately for each seed (this machine is shared and
its speed drifts); a fit of milliseconds is repeated, alternately, to about
``MIN_SECONDS`` per seed and library, and its median kept (a single run of a
millisecond fit is one scheduler hiccup away from doubling). Times and inertias
are medians over the seeds, and every
inertia is recomputed exactly on all rows (``end_to_end.exact_inertia``).

- ``speed-up``: scikit-learn's best median time / kmeanskit's (> 1: faster);
- ``inertia``: kmeanskit's median inertia / scikit-learn's (< 1: lower).

The geometric mean of the speed-ups and the worst shape are printed last.

``--seeding`` then times kmeanskit's default seeding alone (greedy k-means++,
``kmeans_plusplus(X, k, random_state=seed)``, the same seeds and repeats) on each
shape: ``bound`` is scikit-learn's whole fit / that seeding, about the most any
fit from this seeding could gain on the shape, however fast its iterations (the
public function validates its input too, which a fit does once: on tiny inputs
the bound is a little low).

Run: ``python -m benchmarks grid [--quick] [--shapes NAME ...] [--seeds S ...] [--markdown] [--json PATH] [--seeding]``.
"""

import argparse
import json
import math
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris, load_sample_image, load_wine, make_blobs

from .datasets import _tfidf
from .end_to_end import _fit, _import_faiss, _import_sklearnex_kmeans, _version, exact_inertia

__all__ = ["QUICK_SHAPES", "SHAPES", "geometric_mean", "main", "run_grid"]

FAISS_NITER = 25  # FAISS's own default
MIN_SECONDS = 0.2  # each seed's fits of a library are repeated to about this long ...
MAX_REPEATS = 25  # ... at most this many times (the median is kept)


def _blobs(n, d, k, dtype=np.float64, std=1.0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=0)
    return np.ascontiguousarray(X, dtype=dtype)


def _uniform(n, d, dtype=np.float64):
    return np.random.RandomState(0).uniform(size=(n, d)).astype(dtype)


def _pixels(image, n=None):
    """The pixels of a scikit-learn sample image, scaled to [0, 1]; ``n`` of them drawn at random if given."""
    X = np.asarray(load_sample_image(image), dtype=np.float64).reshape(-1, 3) / 255.0
    if n is not None:
        X = X[np.random.RandomState(0).choice(X.shape[0], n, replace=False)]
    return X


def _lonlat(n, k):
    """Points on a map: ``k`` towns of very different sizes (Zipf), spread in longitude and latitude."""
    rng = np.random.RandomState(0)
    towns = np.column_stack([rng.uniform(-10, 30, k), rng.uniform(35, 60, k)])
    sizes = 1.0 / np.arange(1, k + 1)
    which = rng.choice(k, size=n, p=sizes / sizes.sum())
    return towns[which] + rng.normal(scale=0.05, size=(n, 2))


# name -> (what it stands for, loader, k)
SHAPES = {
    # tiny and small tables
    "blobs-1kx2-k3": ("tiny table", lambda: _blobs(1_000, 2, 3), 3),
    "blobs-5kx10-k8": ("small table", lambda: _blobs(5_000, 10, 8), 8),
    "blobs-10kx20-k10-f32": ("small table, float32", lambda: _blobs(10_000, 20, 10, np.float32, 3.0), 10),
    "uniform-5kx5-k4": ("small table without clusters", lambda: _uniform(5_000, 5), 4),
    # real tables and images
    "iris-150x4-k3": ("real table", lambda: load_iris().data, 3),
    "wine-178x13-k3": ("real table", lambda: load_wine().data, 3),
    "digits-1797x64-k10": ("real table", lambda: load_digits().data, 10),
    "china-273kx3-k16": ("image pixels", lambda: _pixels("china.jpg"), 16),
    "china-273kx3-k64": ("image pixels", lambda: _pixels("china.jpg"), 64),
    "flower-273kx3-k16": ("image pixels", lambda: _pixels("flower.jpg"), 16),
    "flower-273kx3-k64": ("image pixels", lambda: _pixels("flower.jpg"), 64),
    # high dimension
    "blobs-10kx784-k10-f32": ("high dimension, float32", lambda: _blobs(10_000, 784, 10, np.float32, 8.0), 10),
    "blobs-10kx784-k100-f32": ("high dimension, float32", lambda: _blobs(10_000, 784, 100, np.float32, 8.0), 100),
    "blobs-20kx300-k50": ("high dimension", lambda: _blobs(20_000, 300, 50, np.float64, 6.0), 50),
    # low dimension, many clusters
    "lonlat-100kx2-k500": ("many clusters, d=2", lambda: _lonlat(100_000, 2_000), 500),
    "blobs-30kx3-k1000-f32": ("many clusters, d=3, float32", lambda: _blobs(30_000, 3, 1_000, np.float32), 1000),
    # vector quantisation
    "china-50kx3-k256": ("vector quantisation", lambda: _pixels("china.jpg", 50_000), 256),
    "flower-20kx3-k1024": ("vector quantisation", lambda: _pixels("flower.jpg", 20_000), 1024),
    # no clusters
    "uniform-100kx10-k100": ("no clusters", lambda: _uniform(100_000, 10), 100),
    "uniform-50kx2-k50-f32": ("no clusters, float32", lambda: _uniform(50_000, 2, np.float32), 50),
    # sparse
    "tfidf-20kx2k-k20-sparse": ("sparse text-like (CSR, 1%)", lambda: _tfidf(20_000, 2_000, 0.01), 20),
}

# A smoke test of the machinery on tiny shapes, dense and sparse (seconds, not minutes).
QUICK_SHAPES = {
    "blobs-1kx2-k3": SHAPES["blobs-1kx2-k3"],
    "iris-150x4-k3": SHAPES["iris-150x4-k3"],
    "blobs-2kx8-k5-f32": ("tiny table, float32", lambda: _blobs(2_000, 8, 5, np.float32), 5),
    "tfidf-1kx500-k4-sparse": ("tiny sparse (CSR, 1%)", lambda: _tfidf(1_000, 500, 0.01), 4),
}


def _peers():
    """``{library: note}`` of the optional peers: an empty note when it imports."""
    return {
        "sklearnex": "" if _import_sklearnex_kmeans()[0] is not None else "not installed",
        "faiss": "" if _import_faiss()[0] is not None else "not installed",
    }


def geometric_mean(values):
    """The geometric mean of positive ``values``."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.exp(np.mean(np.log(values))))


def _median(values):
    return float(np.median(values)) if values else None


def _run_shape(name, what, X, k, libs, seeds):
    """Time the default fits of ``libs`` on ``X``; the row of the table."""
    sparse = sp.issparse(X)
    libs = [lib for lib in libs if not (sparse and lib in ("sklearn-elkan", "faiss"))]
    first = {}
    for lib in libs:  # the warm-up, outside the timings: kmeanskit's first fit compiles or loads its kernels
        start = time.perf_counter()
        if lib == "kmeanskit":
            _fit(lib, X, k, seeds[0], FAISS_NITER)
        else:
            _fit(lib, X, k, 0, 2, max_iter=2)
        first[lib] = time.perf_counter() - start
    seconds = {lib: [] for lib in libs}
    inertia = {lib: [] for lib in libs}
    for seed in seeds:
        spent = {lib: [] for lib in libs}
        for lib in libs:  # interleaved: each seed runs every library before the next seed
            once, centers, _ = _fit(lib, X, k, seed, FAISS_NITER)
            spent[lib].append(once)
            inertia[lib].append(exact_inertia(X, centers))
        # Fits of milliseconds are repeated (the same fit: same seed) and the median kept: one
        # scheduler hiccup is then not the shape's figure.
        repeats = min(MAX_REPEATS, math.ceil(MIN_SECONDS / max(max(t) for t in spent.values())))
        for _ in range(repeats - 1):
            for lib in libs:
                spent[lib].append(_fit(lib, X, k, seed, FAISS_NITER)[0])
        for lib in libs:
            seconds[lib].append(_median(spent[lib]))
    time_ = {lib: _median(seconds[lib]) for lib in libs}
    sklearn = {lib: time_[lib] for lib in ("sklearn-lloyd", "sklearn-elkan") if lib in time_}
    best = min(sklearn, key=sklearn.get)
    row = {
        "shape": name, "what": what, "n_samples": X.shape[0], "n_features": X.shape[1], "k": k,
        "dtype": str(X.dtype), "sparse": sparse,
        "kmeanskit_s": time_["kmeanskit"], "kmeanskit_first_s": first["kmeanskit"],
        "sklearn_s": sklearn[best], "sklearn_algorithm": best.split("-")[1],
        "speedup": sklearn[best] / time_["kmeanskit"],
        "inertia_ratio": _median(inertia["kmeanskit"]) / _median(inertia["sklearn-lloyd"]),
        "seconds": seconds, "inertia": inertia,
    }
    for peer in ("sklearnex", "faiss"):
        if peer in time_:
            row[f"speedup_vs_{peer}"] = time_[peer] / time_["kmeanskit"]
            row[f"inertia_ratio_vs_{peer}"] = _median(inertia["kmeanskit"]) / _median(inertia[peer])
    return row


def run_grid(shapes, seeds=(0, 1, 2), log=print):
    """Run the grid on ``shapes`` (name -> (what, loader, k)); the list of rows."""
    peers = [lib for lib, note in _peers().items() if not note]
    libs = ["kmeanskit", "sklearn-lloyd", "sklearn-elkan", *peers]
    rows = []
    with warnings.catch_warnings():
        # Two warm-up iterations do not converge; random starts may leave a cluster empty.
        warnings.simplefilter("ignore")
        for name, (what, loader, k) in shapes.items():
            X = loader()
            rows.append(_run_shape(name, what, X, k, libs, list(seeds)))
            r = rows[-1]
            log(f"{name}: kmeanskit {r['kmeanskit_s']:.4f} s, scikit-learn ({r['sklearn_algorithm']}) "
                f"{r['sklearn_s']:.4f} s, {r['speedup']:.2f}x, inertia {r['inertia_ratio']:.4f}")
    return rows


def time_seeding(shapes, rows, seeds=(0, 1, 2)):
    """Add kmeanskit's greedy k-means++ time alone (``seeding_s``) and ``seeding_bound`` to each row."""
    from kmeanskit import kmeans_plusplus

    for row in rows:
        _, loader, k = shapes[row["shape"]]
        X = loader()
        kmeans_plusplus(X, k, random_state=seeds[0])  # loads the kernels
        per_seed = []
        for seed in seeds:
            spent = []
            while not spent or (sum(spent) < MIN_SECONDS and len(spent) < MAX_REPEATS):
                start = time.perf_counter()
                kmeans_plusplus(X, k, random_state=seed)
                spent.append(time.perf_counter() - start)
            per_seed.append(_median(spent))
        row["seeding_s"] = _median(per_seed)
        row["seeding_bound"] = row["sklearn_s"] / row["seeding_s"]
    return rows


def format_seeding(rows):
    """The seeding's share of each fit and the bound it sets, with the bounds' geometric mean last."""
    lines = [f"{'shape':26s} {'seeding s':>11s} {'of our fit':>10s} {'bound':>8s} {'speed-up':>8s}"]
    for r in rows:
        lines.append(f"{r['shape']:26s} {_seconds(r['seeding_s']):>11s} {r['seeding_s'] / r['kmeanskit_s']:>10.0%} "
                     f"{r['seeding_bound']:>7.2f}x {r['speedup']:>7.2f}x")
    bounds = [r["seeding_bound"] for r in rows]
    return "\n".join(lines + ["", f"geometric mean of the seeding bounds over {len(rows)} shapes: "
                                   f"{geometric_mean(bounds):.2f}x"])


def _seconds(value):
    return f"{value:.3f}" if value >= 0.01 else f"{value * 1e3:.2f} ms"


def format_table(rows, markdown=False):
    """The grid as text (or a markdown table), the geometric mean and the worst shape last."""
    header = ["shape", "n x d", "k", "dtype", "kmeanskit s", "scikit-learn s", "speed-up", "inertia ours / sklearn",
              "first call s"]
    peers = [p for p in ("sklearnex", "faiss") if any(f"speedup_vs_{p}" in r for r in rows)]
    header += [f"speed-up vs {p}" for p in peers]
    body = []
    for r in rows:
        cells = [r["shape"], f"{r['n_samples']:,} x {r['n_features']:,}", str(r["k"]),
                 r["dtype"] + (" CSR" if r["sparse"] else ""), _seconds(r["kmeanskit_s"]),
                 f"{_seconds(r['sklearn_s'])} ({r['sklearn_algorithm']})", f"{r['speedup']:.2f}x",
                 f"{r['inertia_ratio']:.4f}", f"{r['kmeanskit_first_s']:.2f}"]
        cells += [f"{r[f'speedup_vs_{p}']:.2f}x" if f"speedup_vs_{p}" in r else "-" for p in peers]
        body.append(cells)
    speedups = [r["speedup"] for r in rows]
    worst = min(rows, key=lambda r: r["speedup"])
    summary = [
        f"geometric mean speed-up over {len(rows)} shapes: {geometric_mean(speedups):.2f}x",
        f"worst: {worst['shape']} {worst['speedup']:.2f}x",
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines + [""] + [f"**{line}**" if i == 0 else line for i, line in enumerate(summary)])
    widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(header)]

    def line(cells):  # the shape's name to the left, numbers to the right
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    lines = [line(header)] + [line(cells) for cells in body]
    return "\n".join(lines + [""] + summary)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks grid", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: tiny shapes (" + ", ".join(QUICK_SHAPES) + "), one seed")
    parser.add_argument("--shapes", nargs="*", choices=[*SHAPES, *QUICK_SHAPES], help="default: all")
    parser.add_argument("--seeds", nargs="*", type=int, help="default: 0 1 2 (with --quick: 0)")
    parser.add_argument("--markdown", action="store_true", help="print the table in markdown")
    parser.add_argument("--json", metavar="PATH", help="write every number to this JSON file")
    parser.add_argument("--seeding", action="store_true",
                        help="then time kmeanskit's seeding alone: the most a fit from it could gain per shape")
    args = parser.parse_args(argv)
    table = {**SHAPES, **QUICK_SHAPES}
    shapes = {n: table[n] for n in args.shapes} if args.shapes else (QUICK_SHAPES if args.quick else SHAPES)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    for peer, note in _peers().items():
        if note:
            print(f"{peer}: {note}", flush=True)
    rows = run_grid(shapes, seeds, log=lambda line: print(line, flush=True))
    print()
    print(format_table(rows, markdown=args.markdown))
    if args.seeding:
        time_seeding(shapes, rows, seeds)
        print()
        print(format_seeding(rows))
    if args.json:
        payload = {"suite": "grid", "seeds": seeds, "machine": {"platform": platform.platform()},
                   "versions": {d: _version(d) for d in ("numpy", "scikit-learn", "numba")}, "rows": rows}
        Path(args.json).write_text(json.dumps(payload, indent=2))
        print(f"\nwrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
