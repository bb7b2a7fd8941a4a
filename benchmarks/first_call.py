"""The first call on a new install: each in a fresh interpreter with an empty numba cache.

Every case runs twice in its own fresh Python process, with ``NUMBA_CACHE_DIR``
pointing at a new empty directory: the first run compiles whatever it needs
(what a user sees the first time), the second loads the cache the first wrote
(every later time). Reported: the seconds of the call itself (data loaded and
``kmeanskit`` imported before the clock starts), and for ``kmeanskit fit`` the
whole command's wall time and the fit time it reports. ``--before SRC`` runs
each case from another source tree (say, an older commit's ``src``) just
before this one's, so that both see the same load on a shared machine.
``--warmup`` adds, per case, a third fresh cache in which ``kmeanskit warmup``
runs first (what a user gets after the README's install command): its own time
in the note, then the case's first run.

Small inputs run NumPy twins of the kernels while the machine is cold, and the
first of them starts ``kmeanskit warmup`` in the background: here it is off
(``KMEANSKIT_BACKGROUND_COMPILE=0``) so that it does not load the next case.
``--background`` measures it on its own: ``kmeanskit fit`` with it on, the
seconds until the background warmup has marked the machine warm, then a run
after that.

Run: ``python -m benchmarks first-call [--cases NAME ...] [--before SRC] [--warmup] [--background]``.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent

# name -> code run in a fresh interpreter; it sets ``call`` (a function of no arguments).
_SETUP = """
import numpy as np
from sklearn.datasets import load_wine
X = np.ascontiguousarray(load_wine().data)
codes = (X[:, :3] > np.median(X[:, :3], axis=0)).astype(float)
"""
CASES = {
    "KMeans": "from kmeanskit import KMeans\ncall = lambda: KMeans(3, random_state=0).fit(X)",
    "MiniBatchKMeans": "from kmeanskit import MiniBatchKMeans\ncall = lambda: MiniBatchKMeans(3, random_state=0).fit(X)",
    "KMedians": "from kmeanskit import KMedians\ncall = lambda: KMedians(3, random_state=0).fit(X)",
    "SphericalKMeans": "from kmeanskit import SphericalKMeans\ncall = lambda: SphericalKMeans(3, random_state=0).fit(X)",
    "KPrototypes": (
        "from kmeanskit import KPrototypes\n"
        "call = lambda: KPrototypes(3, categorical=[3, 4, 5], random_state=0).fit(np.hstack([X[:, 5:8], codes]))"
    ),
    "KModes": "from kmeanskit import KModes\ncall = lambda: KModes(3, random_state=0).fit(codes)",
    "kmeans_plusplus": "from kmeanskit import kmeans_plusplus\ncall = lambda: kmeans_plusplus(X, 3, random_state=0)",
    "silhouette_score": (
        "from kmeanskit.metrics import silhouette_score\n"
        "labels = np.arange(X.shape[0]) % 3\ncall = lambda: silhouette_score(X, labels)"
    ),
}
CLI = "kmeanskit fit"

_CHILD = """
import time, json
{setup}
{case}
start = time.perf_counter()
call()
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""


def _env(cache_dir, src, background="0"):
    env = {key: value for key, value in os.environ.items() if key != "KMEANSKIT_KERNELS"}
    env.update(NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(src), KMEANSKIT_BACKGROUND_COMPILE=background)
    return env


def _run_case(code, cache_dir, src):
    done = subprocess.run([sys.executable, "-c", _CHILD.format(setup=_SETUP, case=code)], env=_env(cache_dir, src),
                          capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def _run_cli(cache_dir, src, background="0"):
    """Wall seconds of ``kmeanskit fit`` (iris), the fit time it reports, and its stderr."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kmeanskit", "fit"], env=_env(cache_dir, src, background),
                          capture_output=True, text=True, timeout=1200, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    match = re.search(r"fit time:\s+([0-9.]+) s", done.stdout)
    return wall, float(match.group(1)) if match else None, done.stderr.strip()


def _run_warmup(cache_dir, src):
    """Wall seconds of ``kmeanskit warmup``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kmeanskit", "warmup", "--quiet"], env=_env(cache_dir, src),
                          capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return time.perf_counter() - start


def _measure_after_warmup(name, src):
    """``(seconds of kmeanskit warmup, then of case name's first run)`` in a new cache."""
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        warmup = _run_warmup(cache_dir, src)
        return warmup, _run_cli(cache_dir, src)[0] if name == CLI else _run_case(CASES[name], cache_dir, src)


def _measure(name, src):
    """``(first seconds, cached seconds, note)`` of case ``name`` run from source tree ``src``."""
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        if name == CLI:
            first, again = _run_cli(cache_dir, src), _run_cli(cache_dir, src)
            note = f"whole command; fit time reported {first[1]} s, then {again[1]} s"
            if first[2]:
                note += f"; stderr: {first[2].splitlines()[-1]!r}"
            return first[0], again[0], note
        return _run_case(CASES[name], cache_dir, src), _run_case(CASES[name], cache_dir, src), "wine 178 x 13, k=3"


def _measure_background(src):
    """``(first run, seconds until the background warmup marked the machine warm, run after)`` of ``kmeanskit fit``."""
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        stamp = subprocess.run(
            [sys.executable, "-c", "from kmeanskit._engine.compiling import warm_stamp_path; print(warm_stamp_path())"],
            env=_env(cache_dir, src), capture_output=True, text=True, check=True,
        ).stdout.strip()
        if stamp == "None":
            raise RuntimeError("numba's cache folder was not found: no warm stamp to wait for.")
        start = time.perf_counter()
        first = _run_cli(cache_dir, src, background="1")[0]
        while not Path(stamp).exists():
            if time.perf_counter() - start > 1800:
                raise RuntimeError(f"the background warmup wrote no stamp ({stamp}) in 30 minutes.")
            time.sleep(0.1)
        warm = time.perf_counter() - start
        return first, warm, _run_cli(cache_dir, src)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks first-call", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", choices=[CLI, *CASES], help="default: all")
    parser.add_argument("--before", metavar="SRC", help="also run each case from this source tree, just before")
    parser.add_argument("--warmup", action="store_true", help="also run each case after 'kmeanskit warmup'")
    parser.add_argument("--background", action="store_true",
                        help="also time kmeanskit fit's background compile, and a run after it")
    args = parser.parse_args(argv)
    cases = args.cases or [CLI, *CASES]
    trees = ([("before", Path(args.before))] if args.before else []) + [("", _REPO_ROOT / "src")]
    print(f"{'case':<20}{'':<8}{'first s':>10}{'cached s':>10}  note", flush=True)
    for name in cases:
        for label, src in trees:
            first, again, note = _measure(name, src)
            print(f"{name:<20}{label:<8}{first:>10.2f}{again:>10.2f}  {note}", flush=True)
        if args.warmup:
            warmup, first = _measure_after_warmup(name, _REPO_ROOT / "src")
            print(f"{name:<20}{'warmup':<8}{first:>10.2f}{'':>10}  first run after kmeanskit warmup ({warmup:.1f} s)",
                  flush=True)
    if args.background:
        first, warm, after = _measure_background(_REPO_ROOT / "src")
        print(f"{CLI:<20}{'backgr.':<8}{first:>10.2f}{after:>10.2f}  background compile on: warm {warm:.1f} s "
              "after the first run started; 'cached s': a run after that", flush=True)


if __name__ == "__main__":
    main()
