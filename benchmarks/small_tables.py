"""Small dense tables: the assignment kernel alone, and whole default fits against scikit-learn.

The grid's seven small dense shapes (:data:`SMALL_DENSE_SHAPES`) are where fixed
costs decide: a pass over 5,000 rows of 5 features takes tens of microseconds, about
what the Python around it costs. For each shape this prints

- ``kernel``: one pass of the direct assignment kernel (``assign_accumulate_direct``,
  with accumulation) from the shape's first k rows, nanoseconds per row: its serial
  twin, and the parallel kernel on 2 threads (the crossover that
  ``_engine/serial.py``'s ``SERIAL_MAX_VALUES`` stands for; shapes of 24 features
  or more take the chunked-BLAS path in a fit, and are timed here with the direct
  kernel only for reference);
- ``fit``: a default fit, ``KMeans(k, random_state=seed)``, against scikit-learn's
  faster of ``lloyd`` and ``elkan``, medians over ``--repeats`` fits (seeds 0, 1, 2
  in turn), the libraries alternating, and which of the two runs first alternating
  too (scikit-learn's OpenMP threads keep spinning for a while after a fit, and slow
  whatever runs next on a shared core).

The load average is printed first and last: figures from a busy machine say little.

``--passes`` (instead of the above) replays each shape's default fit (its Lloyd run from the fit's own
initial centers, one numba thread) and prints microseconds per pass: the whole pass
(the run's time over its passes, the fastest of ``--repeats`` runs), the pass's
assignment kernel alone (its serial twin on the same arguments) and the rest, the
Python around the kernel. Run it with another ``PYTHONPATH`` for an older tree.

``--before SRC`` (instead of the above) times whole default fits of this tree against
the tree whose ``src`` is SRC: one worker process per tree, each fitting a shape
five times in turn, ``--repeats`` rounds, results checked bitwise equal; medians and
minimums of both, and their ratios (after / before). ``--predict 1 100`` adds
``predict`` on the first 1 and 100 rows of the first shape (20 calls a round, each timed).

``--auto-rule`` times ``algorithm="lloyd"`` against ``"hamerly"`` (the bounded step,
what ``"auto"`` runs from ``_algorithms/registry.py``'s ``AUTO_LLOYD_MAX_WORK`` on)
on small shapes around that threshold (:data:`AUTO_RULE_SHAPES`): the table behind it.

Run: ``python -m benchmarks small [--shapes NAME ...] [--repeats R] [--crossover] [--passes] [--before SRC [--predict ROWS ...]] [--auto-rule]``.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np
from sklearn.cluster import KMeans as SkKMeans

from kmeanskit import KMeans

from .grid import SHAPES

__all__ = [
    "AUTO_RULE_SHAPES", "SMALL_DENSE_SHAPES", "auto_rule_ratio", "fit_ratio", "kernel_ns_per_row", "main",
    "pass_microseconds", "trees_ratio",
]

SMALL_DENSE_SHAPES = [
    "blobs-1kx2-k3", "blobs-5kx10-k8", "blobs-10kx20-k10-f32", "uniform-5kx5-k4",
    "iris-150x4-k3", "wine-178x13-k3", "digits-1797x64-k10",
]
# (features, clusters) and rows for --crossover: serial twin against 2 threads by size.
CROSSOVER_SHAPES = [(2, 3), (5, 4), (10, 8), (20, 10)]
CROSSOVER_ROWS = [2_000, 5_000, 10_000, 20_000, 50_000, 100_000]
# (data, rows, features, clusters) for --auto-rule: "blobs" (make_blobs with k centers),
# "uniform", or "digits" (its first rows).
AUTO_RULE_SHAPES = [
    ("digits", 1797, 64, 10), ("blobs", 5000, 16, 16), ("uniform", 5000, 16, 16), ("blobs", 5000, 32, 8),
    ("uniform", 5000, 32, 8), ("uniform", 10000, 8, 16), ("blobs", 5000, 5, 50), ("blobs", 5000, 10, 32),
    ("uniform", 5000, 10, 32), ("blobs", 10000, 20, 10), ("uniform", 10000, 20, 10), ("blobs", 2000, 64, 16),
    ("uniform", 2000, 64, 16), ("blobs", 10000, 10, 24), ("uniform", 10000, 10, 24), ("blobs", 20000, 8, 16),
    ("uniform", 20000, 8, 16), ("digits", 1797, 64, 50), ("blobs", 3000, 20, 100), ("blobs", 3000, 64, 32),
    ("uniform", 3000, 64, 32), ("uniform", 10000, 20, 32), ("blobs", 10000, 20, 50), ("blobs", 20000, 8, 64),
    ("uniform", 20000, 8, 64), ("blobs", 20000, 3, 256), ("blobs", 5000, 64, 8), ("blobs", 20000, 16, 16),
    ("uniform", 20000, 16, 16), ("uniform", 20000, 64, 4), ("blobs", 20000, 20, 16),
]


def _kernel_call(X, k):
    """The direct kernel and its arguments for one accumulating pass over X from its first k rows."""
    from kmeanskit._algorithms.rows import n_slabs, slab_bounds
    from kmeanskit._engine.assign import assign_accumulate_direct

    n, d = X.shape
    centers = np.ascontiguousarray(X[:k])
    slabs = n_slabs(n, 8 * k * d)
    args = (
        X, np.ones(1, dtype=X.dtype), centers, np.ascontiguousarray(centers.T),
        np.einsum("ij,ij->i", centers, centers), np.empty(n, dtype=np.int32), np.empty(n),
        np.zeros((slabs, k, d)), np.zeros((slabs, k)), slab_bounds(n, slabs), True,
    )
    return assign_accumulate_direct, args


def kernel_ns_per_row(X, k, repeats=51):
    """Median nanoseconds per row of one direct-kernel pass: (serial twin, parallel on 2 threads)."""
    from kmeanskit._engine.serial import serial_twin

    kernel, args = _kernel_call(np.ascontiguousarray(X), k)
    serial = serial_twin(kernel)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        serial(*args), kernel(*args)  # compile or load, outside the timings
        times = {serial: [], kernel: []}
        for _ in range(repeats):
            for fn in (serial, kernel):
                start = time.perf_counter()
                fn(*args)
                times[fn].append(time.perf_counter() - start)
    finally:
        numba.set_num_threads(previous)
    n = X.shape[0]
    return float(np.median(times[serial])) / n * 1e9, float(np.median(times[kernel])) / n * 1e9


def fit_ratio(X, k, repeats):
    """Medians over ``repeats`` default fits: (kmeanskit s, scikit-learn's best s, median per-repeat ratio)."""
    libraries = {
        "kmeanskit": lambda seed: KMeans(k, random_state=seed),
        "sklearn-lloyd": lambda seed: SkKMeans(k, random_state=seed),
        "sklearn-elkan": lambda seed: SkKMeans(k, random_state=seed, algorithm="elkan"),
    }
    for make in libraries.values():
        make(0).fit(X)  # warm-up: kernels loaded, caches filled
    ours, theirs = [], []
    for r in range(repeats):
        order = list(libraries) if r % 2 else list(libraries)[::-1]
        seconds = {}
        for name in order:
            estimator = libraries[name](r % 3)
            start = time.perf_counter()
            estimator.fit(X)
            seconds[name] = time.perf_counter() - start
        ours.append(seconds["kmeanskit"])
        theirs.append(min(seconds["sklearn-lloyd"], seconds["sklearn-elkan"]))
    ours, theirs = np.array(ours), np.array(theirs)
    return float(np.median(ours)), float(np.median(theirs)), float(np.median(theirs / ours))


def _auto_rule_data(kind, n, d, k):
    from sklearn.datasets import load_digits, make_blobs

    if kind == "digits":
        return np.ascontiguousarray(load_digits().data[:n], dtype=np.float64)
    if kind == "blobs":
        return np.ascontiguousarray(make_blobs(n_samples=n, n_features=d, centers=k, random_state=0)[0])
    return np.random.RandomState(0).uniform(size=(n, d))


def auto_rule_ratio(X, k, repeats):
    """Medians over ``repeats`` alternating fits (seeds 0, 1, 2): (lloyd s, bounded s, median per-repeat
    lloyd / bounded)."""
    for algorithm in ("lloyd", "hamerly"):
        KMeans(k, random_state=0, algorithm=algorithm).fit(X)
    times = {"lloyd": [], "hamerly": []}
    for r in range(repeats):
        for algorithm in ("lloyd", "hamerly") if r % 2 else ("hamerly", "lloyd"):
            start = time.perf_counter()
            KMeans(k, random_state=r % 3, algorithm=algorithm).fit(X)
            times[algorithm].append(time.perf_counter() - start)
    lloyd, bounded = np.array(times["lloyd"]), np.array(times["hamerly"])
    return float(np.median(lloyd)), float(np.median(bounded)), float(np.median(lloyd / bounded))


def pass_microseconds(X, k, repeats):
    """A default fit's Lloyd run replayed on one numba thread: (passes, µs a pass, the kernel's µs, the rest's µs).

    The run starts from the fit's own initial centers with the fit's step; the
    pass is the fastest run's time over its passes (the final reassignment
    counted as one), the kernel the step's assignment kernel (serial twin) on
    the arguments of a pass.
    """
    from unittest import mock

    import kmeanskit._estimators._base as base
    from kmeanskit._algorithms.loop import run_kmeans
    from kmeanskit._engine.assign import assign_accumulate_chunked_gemm, assign_accumulate_direct
    from kmeanskit._engine.serial import serial_twin

    seen = {}

    def spy(step, centers_init, **kwargs):
        seen.update(step=step, centers=np.array(centers_init), max_iter=kwargs["max_iter"], tol=kwargs["tol"])
        return run_kmeans(step, centers_init, **kwargs)

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with mock.patch.object(base, "run_kmeans", spy):
            KMeans(k, random_state=0, algorithm="lloyd").fit(X)
        step, centers = seen["step"], seen["centers"]
        run = run_kmeans(step, centers, max_iter=seen["max_iter"], tol=seen["tol"])
        passes = run.n_iter + 1
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            run_kmeans(step, centers, max_iter=seen["max_iter"], tol=seen["tol"])
            runs.append(time.perf_counter() - start)
        rows, c = step.rows, np.ascontiguousarray(run.centers, dtype=step.rows.dtype)
        bounds = step._slabs(rows.n)
        common = (rows.X, rows.kernel_w(), c, np.ascontiguousarray(c.T), np.einsum("ij,ij->i", c, c),
                  np.empty(rows.n, dtype=np.int32), np.empty(rows.n), np.zeros(step._sums.shape),
                  np.zeros(step._weight_sums.shape), bounds)
        if step.path == "chunked":
            kernel, args = serial_twin(assign_accumulate_chunked_gemm), (*common, 256, True)
        else:
            kernel, args = serial_twin(assign_accumulate_direct), (*common, True)
        kernel(*args)
        calls = []
        for _ in range(repeats * passes):
            start = time.perf_counter()
            kernel(*args)
            calls.append(time.perf_counter() - start)
    finally:
        numba.set_num_threads(previous)
    per_pass, kernel_us = min(runs) / passes * 1e6, min(calls) * 1e6
    return passes, per_pass, kernel_us, per_pass - kernel_us


def _worker():
    """Answer lines ``shape repeats first_seed`` on stdin with the fits' times, iterations and an md5 of their results;
    lines ``predict shape rows repeats`` with the times of ``predict`` on the shape's first rows (a model of seed 0),
    the rows' count for iterations and an md5 of the labels."""
    warnings.simplefilter("ignore")
    data = {}
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        name = words[1] if words[0] == "predict" else words[0]
        if name not in data:
            _, load, k = SHAPES[name]
            data[name] = (np.ascontiguousarray(load()), k)
            for seed in range(3):  # warm-up: kernels loaded, caches filled
                KMeans(k, random_state=seed).fit(data[name][0])
        X, k = data[name]
        if words[0] == "predict":
            n_rows, repeats = int(words[2]), int(words[3])
            model, Xp = KMeans(k, random_state=0).fit(X), np.ascontiguousarray(X[:n_rows])
            model.predict(Xp)
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                labels = model.predict(Xp)
                seconds.append(time.perf_counter() - start)
            print(json.dumps([seconds, [n_rows], hashlib.md5(labels.tobytes()).hexdigest()]), flush=True)
            continue
        name, repeats, first_seed = words
        seconds, iterations, digest = [], [], hashlib.md5()
        for seed in range(int(first_seed), int(first_seed) + int(repeats)):
            start = time.perf_counter()
            model = KMeans(k, random_state=seed).fit(X)
            seconds.append(time.perf_counter() - start)
            iterations.append(model.n_iter_)
            for part in (model.labels_, model.cluster_centers_, np.float64(model.inertia_), model.inertia_history_):
                digest.update(np.ascontiguousarray(part).tobytes())
        print(json.dumps([seconds, iterations, digest.hexdigest()]), flush=True)


def trees_ratio(shapes, before, after, rounds, batch=5, predict_rows=()):
    """Whole default fits of two source trees in paired worker processes, alternating.

    Returns ``{shape: {"before": seconds, "after": seconds, "iterations": (before, after)}}``;
    raises if a batch's results differ between the trees. With ``predict_rows``, also
    ``predict`` on the first rows of the first shape (``"predict-<rows>"`` entries, 20
    calls a batch, each timed).
    """
    def start(src):
        env = dict(os.environ, PYTHONPATH=str(src))
        worker = subprocess.Popen([sys.executable, "-m", "benchmarks.small_tables", "--worker"], env=env, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[1])
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the worker on {src} did not start")
        return worker

    workers = {"before": start(before), "after": start(after)}
    tasks = {name: f"{name} {batch} {{seed}}" for name in shapes}
    tasks.update({f"predict-{n}": f"predict {shapes[0]} {n} 20" for n in predict_rows})
    out = {name: {"before": [], "after": [], "iterations": ([], [])} for name in tasks}
    try:
        for r in range(rounds):
            for name, task in tasks.items():
                digests = {}
                for tree in (("before", "after") if r % 2 == 0 else ("after", "before")):
                    workers[tree].stdin.write(task.format(seed=r * batch % 20) + "\n")
                    workers[tree].stdin.flush()
                    seconds, iterations, digests[tree] = json.loads(workers[tree].stdout.readline())
                    out[name][tree] += seconds
                    out[name]["iterations"][tree == "after"].extend(iterations)
                if digests["before"] != digests["after"]:
                    raise AssertionError(f"{name}: the two trees' fits differ (seeds {r * batch % 20}+)")
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()
    return out


def _load():
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks small", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="*", choices=SMALL_DENSE_SHAPES, default=SMALL_DENSE_SHAPES)
    parser.add_argument("--repeats", type=int, default=9, help="fits per library and shape (default: 9)")
    parser.add_argument("--crossover", action="store_true",
                        help="also time the serial twin against 2 threads on uniform data of growing size")
    parser.add_argument("--passes", action="store_true",
                        help="time each shape's Lloyd passes instead of whole fits: the pass, the kernel alone, the rest")
    parser.add_argument("--before", metavar="SRC",
                        help="time whole default fits of this tree against the tree whose src is SRC, instead")
    parser.add_argument("--predict", type=int, nargs="*", default=[], metavar="ROWS",
                        help="with --before: also time predict on the first ROWS rows of the first shape")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--auto-rule", action="store_true",
                        help="also time algorithm='lloyd' against the bounded step on the shapes around AUTO_LLOYD_MAX_WORK")
    args = parser.parse_args(argv)
    if args.worker:
        return _worker()
    warnings.simplefilter("ignore")
    print(_load())
    rows = []
    if args.before:
        import kmeanskit

        after = Path(kmeanskit.__file__).parents[1]
        print(f"before: {args.before}\nafter:  {after}")
        timed = trees_ratio(args.shapes, args.before, after, args.repeats, predict_rows=args.predict)
        for name, times in timed.items():
            b, a = np.array(times["before"]) * 1e3, np.array(times["after"]) * 1e3
            rows.append({"shape": name, "before_ms": float(np.median(b)), "after_ms": float(np.median(a))})
            print(f"{name:22s} {'rows' if name.startswith('predict') else 'iterations'} "
                  f"{np.mean(times['iterations'][0]):5.1f} | before median {np.median(b):7.3f} "
                  f"min {b.min():7.3f} ms | after median {np.median(a):7.3f} min {a.min():7.3f} ms | after / before "
                  f"{np.median(a) / np.median(b):.3f} (medians) {a.min() / b.min():.3f} (minimums)", flush=True)
        print(_load())
        return rows
    if args.passes:
        print("Lloyd passes of a default fit's run, one numba thread, microseconds a pass (fastest run)")
        for name in args.shapes:
            _, load, k = SHAPES[name]
            passes, per_pass, kernel_us, rest = pass_microseconds(np.ascontiguousarray(load()), k, args.repeats * 3)
            rows.append({"shape": name, "passes": passes, "pass_us": per_pass, "kernel_us": kernel_us, "rest_us": rest})
            print(f"{name:22s} {passes:3d} passes: {per_pass:7.1f} us a pass = kernel {kernel_us:7.1f} + rest {rest:6.1f}",
                  flush=True)
        print(_load())
        return rows
    print(f"{'shape':22s} {'kernel serial':>14s} {'2 threads':>10s} {'kmeanskit':>10s} {'sklearn':>10s} {'speed-up':>9s}")
    for name in args.shapes:
        _, load, k = SHAPES[name]
        X = np.ascontiguousarray(load())
        serial_ns, parallel_ns = kernel_ns_per_row(X, k)
        ours, theirs, ratio = fit_ratio(X, k, args.repeats)
        rows.append({"shape": name, "kernel_serial_ns": serial_ns, "kernel_2_threads_ns": parallel_ns,
                     "kmeanskit_s": ours, "sklearn_s": theirs, "speedup": ratio})
        print(f"{name:22s} {serial_ns:9.1f} ns/row {parallel_ns:6.1f} ns {ours * 1e3:7.2f} ms {theirs * 1e3:7.2f} ms "
              f"{ratio:8.2f}x", flush=True)
    if args.crossover:
        print("\nserial twin against 2 threads (uniform data), microseconds per pass")
        for d, k in CROSSOVER_SHAPES:
            for n in CROSSOVER_ROWS:
                X = np.random.RandomState(0).uniform(size=(n, d))
                serial_ns, parallel_ns = kernel_ns_per_row(X, k, repeats=21)
                print(f"d={d:2d} k={k:2d} n={n:7,d} (n*d={n * d:9,d}): serial {serial_ns * n / 1e3:8.1f} us, "
                      f"2 threads {parallel_ns * n / 1e3:8.1f} us, ratio {serial_ns / parallel_ns:5.2f}", flush=True)
    if args.auto_rule:
        print("\n| data | n x d | k | n·k·d | lloyd ms | bounded ms | lloyd / bounded |\n|---|---|---:|---:|---:|---:|---:|")
        for kind, n, d, k in sorted(AUTO_RULE_SHAPES, key=lambda shape: shape[1] * shape[2] * shape[3]):
            lloyd, bounded, ratio = auto_rule_ratio(_auto_rule_data(kind, n, d, k), k, args.repeats)
            print(f"| {kind} | {n:,} x {d} | {k} | {n * k * d:,} | {lloyd * 1e3:.2f} | {bounded * 1e3:.2f} | {ratio:.2f} |",
                  flush=True)
    print(_load())
    return rows


if __name__ == "__main__":
    main()
