"""kmeanskit against an earlier kmeanskit: the same calls from two source trees, interleaved.

Speed changes on a shared machine are measured as ratios of the same work run by
both trees in the same minutes: two worker processes (one per tree, each with its
own ``PYTHONPATH``) take turns, call by call, and which of the two runs first
alternates. For each grid shape (:data:`benchmarks.grid.SHAPES`) and each kind of
call this prints medians and minimums over ``--rounds`` x ``--repeats`` calls, and
the new tree's ratio to the old one. Kinds:

- ``plusplus``: ``kmeans_plusplus(X, k, random_state=0)``;
- ``fit``: a default fit, ``KMeans(k, random_state=0).fit(X)``;
- ``setup``: ``KMeans(k, init=X[:k], max_iter=1).fit(X)``: validation and set-up
  with one pass.

Both workers run the compiled kernels (``KMEANSKIT_KERNELS=compiled``) and warm
up first. The load average is printed first and last: minimums say more than
medians on a busy machine.

Run: ``python -m benchmarks before-after --before SRC [--shapes NAME ...] [--kinds KIND ...]
[--rounds R] [--repeats N]``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

__all__ = ["KINDS", "main"]

KINDS = ("plusplus", "fit", "setup")
_REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHAPES = ["iris-150x4-k3", "wine-178x13-k3", "digits-1797x64-k10", "uniform-5kx5-k4", "blobs-1kx2-k3",
                  "blobs-5kx10-k8"]

# The worker: reads "kind shape repeats" lines, answers with the seconds of each call (JSON).
_WORKER = """
import json, sys, time
import numpy as np
from benchmarks.grid import SHAPES
from kmeanskit import KMeans, kmeans_plusplus

data = {}
def call(kind, shape):
    if shape not in data:
        data[shape] = (np.ascontiguousarray(SHAPES[shape][1]()), SHAPES[shape][2])
    X, k = data[shape]
    if kind == "plusplus":
        start = time.perf_counter(); kmeans_plusplus(X, k, random_state=0)
    elif kind == "fit":
        start = time.perf_counter(); KMeans(k, random_state=0).fit(X)
    else:
        init = X[:k].copy()
        start = time.perf_counter(); KMeans(k, init=init, max_iter=1).fit(X)
    return time.perf_counter() - start

print("ready", flush=True)
for line in sys.stdin:
    kind, shape, repeats = line.split()
    print(json.dumps([call(kind, shape) for _ in range(int(repeats))]), flush=True)
"""


def _worker(src):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), str(_REPO_ROOT)]), KMEANSKIT_KERNELS="compiled",
               KMEANSKIT_BACKGROUND_COMPILE="0")
    process = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=env)
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the worker for {src} did not start")
    return process


def _ask(process, kind, shape, repeats):
    process.stdin.write(f"{kind} {shape} {repeats}\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"a worker stopped during {kind} on {shape}")
    return json.loads(line)


def _load():
    return f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"


def main(argv=None):
    from .grid import SHAPES

    parser = argparse.ArgumentParser(prog="python -m benchmarks before-after", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", metavar="SRC", required=True, help="the earlier tree's src folder")
    parser.add_argument("--after", metavar="SRC", default=str(_REPO_ROOT / "src"), help="default: this tree's src")
    parser.add_argument("--shapes", nargs="*", choices=list(SHAPES), default=DEFAULT_SHAPES)
    parser.add_argument("--kinds", nargs="*", choices=KINDS, default=["plusplus", "fit"])
    parser.add_argument("--rounds", type=int, default=15, help="turns of each worker (default 15)")
    parser.add_argument("--repeats", type=int, default=3, help="calls a turn (default 3)")
    args = parser.parse_args(argv)

    workers = {"before": _worker(args.before), "after": _worker(args.after)}
    print(_load(), flush=True)
    print(f"{'shape':26s} {'kind':9s} {'before med':>11s} {'min':>9s} {'after med':>11s} {'min':>9s}  after/before "
          "med, min (ms)")
    try:
        for shape in args.shapes:
            for kind in args.kinds:
                for process in workers.values():
                    _ask(process, kind, shape, 2)  # compiled kernels loaded, data made
                times = {"before": [], "after": []}
                for turn in range(args.rounds):
                    for name in (("before", "after") if turn % 2 == 0 else ("after", "before")):
                        times[name] += _ask(workers[name], kind, shape, args.repeats)
                (b_med, b_min), (a_med, a_min) = ((statistics.median(times[n]) * 1e3, min(times[n]) * 1e3)
                                                  for n in ("before", "after"))
                print(f"{shape:26s} {kind:9s} {b_med:11.3f} {b_min:9.3f} {a_med:11.3f} {a_min:9.3f}  "
                      f"{a_med / b_med:.3f}, {a_min / b_min:.3f}", flush=True)
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait()
    print(_load())
