"""End-to-end ``fit``: kmeanskit vs scikit-learn, FAISS and sklearnex (time, inertia, memory).

For each case and seed every library fits with its default settings:
``kmeanskit.KMeans(k, random_state=s)``, scikit-learn's ``KMeans`` with
``algorithm="lloyd"`` and ``"elkan"``, ``faiss.Kmeans(d, k, niter=25, seed=s)``
(FAISS's defaults: it subsamples to ``256 * k`` points and starts from random
rows) and ``sklearnex.cluster.KMeans`` when scikit-learn-intelex is installed.
The libraries run alternately within each seed (this machine is shared and its
speed drifts); the tables give medians over the seeds.

Every library's final inertia is recomputed here in float64 from its final
centers with an exact assignment of *all* points (``exact_inertia``), so a
library that subsamples (FAISS) or reports the inertia of its last E-step is
judged on the same number. FAISS works on float32 only: float64 data is
converted inside the timed region (a user would have to), and it does not take
sparse input (shown as ``n/a``).

A second table compares one Lloyd iteration from the same initial centers with
FAISS (all points used, ``max_points_per_centroid`` large), measured as in
``lloyd_iteration.py``: the difference between ``1 + m`` and ``1`` iterations.

``--memory`` also runs each fit (first seed) in a fresh Python process and
reports its peak resident memory above the process's resident memory after
loading the data and warming up, in MB (slow: the data are loaded per process).

Run: ``python -m benchmarks e2e [--quick] [--cases NAME ...] [--memory] [--json PATH]``.
"""

import argparse
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans

from kmeanskit import KMeans

from .datasets import CASES, QUICK_CASES, is_sparse_case, load_case
from .lloyd_iteration import per_iteration

LIBRARIES = ("kmeanskit", "sklearn-lloyd", "sklearn-elkan", "faiss", "sklearnex")
FAISS_DEFAULT_NITER = 25
_REPO_ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- optional peers


def _import_faiss():
    """Return ``(faiss module or None, note)``."""
    try:
        import faiss
    except Exception as exc:  # ImportError, or a broken binary wheel
        return None, f"faiss not available ({type(exc).__name__}: {exc}); pip install faiss-cpu"
    return faiss, ""


def _import_sklearnex_kmeans():
    """Return ``(sklearnex KMeans class or None, note)``."""
    try:
        from sklearnex.cluster import KMeans as ExKMeans
    except Exception as exc:
        return None, (
            f"sklearnex not available ({type(exc).__name__}: {exc}); "
            "pip install scikit-learn-intelex"
        )
    return ExKMeans, ""


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------- measurements


def exact_inertia(X, centers, block=16384):
    """Sum over all rows of ``X`` of the squared distance to the nearest center.

    Computed in float64, block by block, for dense or CSR ``X``; the assignment
    is exact (every center is compared), whatever the library did.
    """
    C = np.asarray(centers, dtype=np.float64)
    c_sq = np.einsum("ij,ij->i", C, C)
    total = 0.0
    for start in range(0, X.shape[0], block):
        if sp.issparse(X):
            B = X[start:start + block].astype(np.float64)
            x_sq = np.asarray(B.multiply(B).sum(axis=1)).ravel()
            dots = np.asarray(B @ C.T)
        else:
            B = np.asarray(X[start:start + block], dtype=np.float64)
            x_sq = np.einsum("ij,ij->i", B, B)
            dots = B @ C.T
        d_sq = x_sq[:, None] - 2.0 * dots + c_sq[None, :]
        total += float(np.maximum(d_sq.min(axis=1), 0.0).sum())
    return total


def _fit(lib, X, k, seed, faiss_niter, max_iter=300):
    """Fit library ``lib`` once; return ``(seconds, centers, n_iter)``."""
    if lib == "faiss":
        faiss, note = _import_faiss()
        if faiss is None:
            raise RuntimeError(note)
        t0 = time.perf_counter()
        Xf = np.ascontiguousarray(X, dtype=np.float32)
        km = faiss.Kmeans(X.shape[1], k, niter=faiss_niter, seed=seed)
        km.train(Xf)
        seconds = time.perf_counter() - t0
        return seconds, np.array(km.centroids), faiss_niter
    if lib == "kmeanskit":
        km = KMeans(k, random_state=seed, max_iter=max_iter)
    elif lib in ("sklearn-lloyd", "sklearn-elkan"):
        km = SkKMeans(k, random_state=seed, algorithm=lib.split("-")[1], max_iter=max_iter)
    elif lib == "sklearnex":
        ExKMeans, note = _import_sklearnex_kmeans()
        if ExKMeans is None:
            raise RuntimeError(note)
        km = ExKMeans(k, random_state=seed, max_iter=max_iter)
    else:
        raise ValueError(f"unknown library {lib!r}")
    t0 = time.perf_counter()
    km.fit(X)
    seconds = time.perf_counter() - t0
    return seconds, np.asarray(km.cluster_centers_), int(km.n_iter_)


def _skip_reason(lib, case):
    if lib == "faiss":
        if is_sparse_case(case):
            return "n/a (FAISS takes dense input only)"
        return _import_faiss()[1] or None
    if lib == "sklearnex":
        return _import_sklearnex_kmeans()[1] or None
    return None


def _warm_up(lib, X, k, faiss_niter):
    """A short fit on the same data: JIT/cache loading, library initialisation, outside the timing.

    Two iterations on all the rows, so that every kernel the timed fits run is
    loaded (which kernels run depends on the data: serial twins below 2^18
    values, the distinct-rows step where rows repeat).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two iterations do not converge
        _fit(lib, X, k, 0, min(faiss_niter, 2), max_iter=2)


class _FaissAsEstimator:
    """FAISS k-means behind the constructor that ``lloyd_iteration`` helpers call.

    ``fit`` runs exactly ``max_iter`` FAISS iterations from ``init`` on all the
    points (no subsampling); ``n_iter_`` is ``max_iter``.
    """

    def __init__(self, n_clusters, init, n_init=1, max_iter=1, tol=0.0):
        self.n_clusters, self.init, self.max_iter = n_clusters, init, max_iter

    def fit(self, X):
        import faiss

        km = faiss.Kmeans(
            X.shape[1], self.n_clusters, niter=self.max_iter, nredo=1,
            max_points_per_centroid=X.shape[0] // self.n_clusters + 1,
            min_points_per_centroid=1,
        )
        km.train(X, init_centroids=self.init)
        self.cluster_centers_ = km.centroids
        self.n_iter_ = self.max_iter
        return self


def _per_iteration_vs_faiss(X, k, repeats, seconds):
    """Median ms per Lloyd iteration of (kmeanskit, FAISS) and median speed-up."""
    init = X[np.random.RandomState(0).choice(X.shape[0], k, replace=False)]
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    init_f = np.ascontiguousarray(init, dtype=np.float32)
    per_iteration(_FaissAsEstimator, Xf, init_f, 2)  # warm
    first = per_iteration(KMeans, X, init, 2)
    # Small cases need many iterations for the difference to rise above timer noise.
    extra = int(min(500, max(3, seconds / first))) if first > 0 else 3
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(per_iteration(KMeans, X, init, extra))
        theirs.append(per_iteration(_FaissAsEstimator, Xf, init_f, extra))
    ours_ms, theirs_ms = float(np.median(ours)) * 1e3, float(np.median(theirs)) * 1e3
    timed = ours_ms > 0 and theirs_ms > 0  # else lost in the noise of a shared machine
    return {
        "kmeanskit_ms": ours_ms if timed else None,
        "faiss_ms": theirs_ms if timed else None,
        "speedup": float(np.median(np.divide(theirs, ours))) if timed else None,
        "m": extra,
        "repeats": repeats,
        "faiss_on_float32_copy": X.dtype != np.float32,
    }


# ---------------------------------------------------------------- peak memory


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _memory_child(lib, case, seed, faiss_niter):
    """Run in a fresh process: print JSON with the peak MB of one fit above baseline."""
    warnings.filterwarnings("ignore")
    X, k = load_case(case)
    _warm_up(lib, X, k, faiss_niter)
    gc.collect()
    baseline = _status_kb("VmRSS")
    try:  # reset VmHWM to the current RSS (Linux >= 4.0), dropping the load's peak
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        baseline, reset = _status_kb("VmHWM"), False  # then only growth past the old peak shows
    _fit(lib, X, k, seed, faiss_niter)
    peak = _status_kb("VmHWM")
    print(json.dumps({"peak_mb": max(peak - baseline, 0) / 1024.0, "hwm_reset": reset}))


def _measure_memory(lib, case, seed, faiss_niter, timeout=3600):
    """Peak MB of one fit in a fresh process, or ``(None, note)``."""
    code = (
        "from benchmarks.end_to_end import _memory_child; "
        f"_memory_child({lib!r}, {case!r}, {seed!r}, {faiss_niter!r})"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    # A fixed mmap threshold: glibc otherwise raises it to the size of each large
    # block freed (up to 32 MB), and the warm-up fit's freed arrays stay in the
    # heap, counted in the baseline and reused by the measured fit unseen.
    env["MALLOC_MMAP_THRESHOLD_"] = str(1 << 17)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=_REPO_ROOT, env=env,
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, "memory run timed out"
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"memory run failed: {last}"
    result = json.loads(lines[-1])
    note = "" if result["hwm_reset"] else "peak above the loading peak only"
    return result["peak_mb"], note


# ---------------------------------------------------------------- the suite


def _run_case(name, libs, seeds, args):
    X, k = load_case(name)
    info = {
        "n_samples": X.shape[0], "n_features": X.shape[1], "k": k,
        "dtype": str(X.dtype), "sparse": bool(sp.issparse(X)), "libraries": {},
    }
    active = []
    for lib in libs:
        reason = _skip_reason(lib, name)
        entry = {"seconds": [], "inertia": [], "n_iter": [], "note": reason or ""}
        info["libraries"][lib] = entry
        if reason is None:
            try:
                _warm_up(lib, X, k, args.faiss_niter)
                active.append(lib)
            except Exception as exc:
                entry["note"] = f"failed: {type(exc).__name__}: {exc}"
    for seed in seeds:
        for lib in list(active):
            entry = info["libraries"][lib]
            try:
                seconds, centers, n_iter = _fit(lib, X, k, seed, args.faiss_niter)
            except Exception as exc:
                entry["note"] = f"failed: {type(exc).__name__}: {exc}"
                active.remove(lib)
                continue
            entry["seconds"].append(seconds)
            entry["inertia"].append(exact_inertia(X, centers))
            entry["n_iter"].append(n_iter)
            print(
                f"{name} seed {seed} {lib}: {seconds:.3f} s, inertia {entry['inertia'][-1]:.6g}, "
                f"{n_iter} iterations",
                flush=True,
            )
    for lib, entry in info["libraries"].items():
        ok = bool(entry["seconds"])
        entry["median_seconds"] = float(np.median(entry["seconds"])) if ok else None
        entry["median_inertia"] = float(np.median(entry["inertia"])) if ok else None
        entry["peak_mb"] = None
        if args.memory and ok:
            entry["peak_mb"], note = _measure_memory(lib, name, seeds[0], args.faiss_niter)
            entry["note"] = "; ".join(filter(None, [entry["note"], note]))
            print(f"{name} {lib}: peak {entry['peak_mb']} MB {note}", flush=True)
    info["ratios"] = _ratios(info["libraries"])
    info["per_iteration_vs_faiss"] = None
    if args.per_iteration and "faiss" in active and not info["sparse"]:
        info["per_iteration_vs_faiss"] = _per_iteration_vs_faiss(X, k, args.repeats, args.seconds)
        p = info["per_iteration_vs_faiss"]
        print(
            f"{name} per iteration: kmeanskit {_fmt(p['kmeanskit_ms'], '.2f', 0)} ms, "
            f"FAISS {_fmt(p['faiss_ms'], '.2f', 0)} ms",
            flush=True,
        )
    return info


def _ratios(entries):
    def median(lib, key):
        entry = entries.get(lib)
        return entry.get(key) if entry else None

    ours_t, ours_i = median("kmeanskit", "median_seconds"), median("kmeanskit", "median_inertia")
    sk_times = [t for t in (median("sklearn-lloyd", "median_seconds"), median("sklearn-elkan", "median_seconds")) if t]
    sk_i = median("sklearn-lloyd", "median_inertia") or median("sklearn-elkan", "median_inertia")
    fa_t, fa_i = median("faiss", "median_seconds"), median("faiss", "median_inertia")

    def div(a, b):
        return a / b if a is not None and b else None

    return {
        # > 1 means kmeanskit is faster / time ratio < 1 means kmeanskit is faster
        "speedup_vs_best_sklearn": div(min(sk_times), ours_t) if sk_times else None,
        "time_ratio_vs_best_sklearn": div(ours_t, min(sk_times)) if sk_times else None,
        "inertia_ratio_vs_sklearn": div(ours_i, sk_i),
        "speedup_vs_faiss": div(fa_t, ours_t),
        "inertia_ratio_vs_faiss": div(ours_i, fa_i),
    }


def _fmt(value, spec, width, suffix=""):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return f"{format(value, spec) + suffix:>{width}}"


def _print_tables(results, memory):
    print()
    header = f"{'case':<26}{'library':<15}{'fit s':>9}{'inertia':>14}{'vs ours':>9}{'iters':>7}"
    header += f"{'peak MB':>9}" if memory else ""
    print(header + "  note")
    for name, info in results.items():
        ours_i = info["libraries"].get("kmeanskit", {}).get("median_inertia")
        for lib, e in info["libraries"].items():
            rel = e["median_inertia"] / ours_i if e.get("median_inertia") and ours_i else None
            iters = float(np.median(e["n_iter"])) if e["n_iter"] else None
            line = (
                f"{name:<26}{lib:<15}{_fmt(e['median_seconds'], '.3f', 9)}"
                f"{_fmt(e['median_inertia'], '.6g', 14)}{_fmt(rel, '.4f', 9)}{_fmt(iters, '.0f', 7)}"
            )
            line += _fmt(e["peak_mb"], ".1f", 9) if memory else ""
            print(line + (f"  {e['note']}" if e["note"] else ""))
    print("(fit s, inertia: medians over seeds; inertia recomputed on all points, exact assignment;"
          " 'vs ours' = inertia / kmeanskit's)")

    print()
    print(f"{'case':<26}{'speed-up vs best sklearn':>25}{'inertia ours/sklearn':>22}"
          f"{'speed-up vs FAISS':>19}{'inertia ours/FAISS':>20}")
    for name, info in results.items():
        r = info["ratios"]
        print(
            f"{name:<26}{_fmt(r['speedup_vs_best_sklearn'], '.2f', 25, 'x')}"
            f"{_fmt(r['inertia_ratio_vs_sklearn'], '.4f', 22)}"
            f"{_fmt(r['speedup_vs_faiss'], '.2f', 19, 'x')}{_fmt(r['inertia_ratio_vs_faiss'], '.4f', 20)}"
        )

    rows = [(n, i["per_iteration_vs_faiss"]) for n, i in results.items() if i["per_iteration_vs_faiss"]]
    if rows:
        print()
        print(f"{'case':<26}{'kmeanskit ms/it':>16}{'FAISS ms/it':>13}{'speed-up':>10}  (same initial centers, all points)")
        for name, p in rows:
            notes = ["FAISS on a float32 copy"] if p["faiss_on_float32_copy"] else []
            if p["speedup"] is None:
                notes.append("too small to time per iteration")
            print(
                f"{name:<26}{_fmt(p['kmeanskit_ms'], '.2f', 16)}{_fmt(p['faiss_ms'], '.2f', 13)}"
                f"{_fmt(p['speedup'], '.2f', 10, 'x')}" + ("  " + "; ".join(notes) if notes else "")
            )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", choices=list(CASES), help="default: all (with --quick: "
                        + ", ".join(QUICK_CASES) + ")")
    parser.add_argument("--quick", action="store_true", help="the three small cases, one seed, one repeat")
    parser.add_argument("--seeds", nargs="*", type=int, help="default: 0 1 2 (with --quick: 0)")
    parser.add_argument("--libs", nargs="*", choices=LIBRARIES, default=list(LIBRARIES))
    parser.add_argument("--faiss-niter", type=int, default=FAISS_DEFAULT_NITER,
                        help="FAISS iterations (default: FAISS's own, %(default)s)")
    parser.add_argument("--memory", action="store_true",
                        help="also measure each fit's peak memory in a fresh process (slow)")
    parser.add_argument("--no-per-iteration", dest="per_iteration", action="store_false",
                        help="skip the per-iteration comparison with FAISS")
    parser.add_argument("--repeats", type=int, help="per-iteration repeats (default: 3, with --quick: 1)")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="about how long each timed per-iteration fit runs (sets m)")
    parser.add_argument("--json", metavar="PATH", help="write every number to this JSON file")
    args = parser.parse_args(argv)
    cases = args.cases or list(QUICK_CASES if args.quick else CASES)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    # Random starts can leave a cluster empty and FAISS warns on few points: expected here.
    warnings.filterwarnings("ignore", message="Number of distinct clusters")

    for lib in ("faiss", "sklearnex"):
        if lib in args.libs:
            note = _skip_reason(lib, "")
            if note:
                print(f"note: skipping {lib}: {note}", flush=True)

    results = {}
    for name in cases:
        results[name] = _run_case(name, args.libs, seeds, args)
    _print_tables(results, args.memory)

    if args.json:
        payload = {
            "suite": "e2e",
            "seeds": seeds,
            "faiss_niter": args.faiss_niter,
            "machine": {"platform": platform.platform(), "processor": platform.processor(),
                        "cpu_count": os.cpu_count(), "python": platform.python_version()},
            "versions": {d: _version(d) for d in ("kmeanskit", "numpy", "scikit-learn", "faiss-cpu",
                                                  "scikit-learn-intelex", "numba")},
            "cases": results,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
