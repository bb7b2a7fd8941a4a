"""``kmeanskit warmup``: after it, first fits (Python and ``kmeanskit fit``) compile nothing; it marks the machine
warm when it completes (never when killed midway), and two never run at once."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ...fresh_python import run_python

SRC = Path(__file__).resolve().parents[3] / "src"

_FIRST_FITS = """
    import contextlib, io, json
    import numpy as np
    from sklearn.datasets import load_wine
    from kmeanskit import KMeans, KMedians, KModes, KPrototypes, MiniBatchKMeans, SphericalKMeans, kmeans_plusplus
    from kmeanskit._engine.compiling import compile_clock
    from kmeanskit.cli import main
    from kmeanskit.metrics import silhouette_score

    import scipy.sparse as sp
    X = np.ascontiguousarray(load_wine().data)
    X32 = X.astype(np.float32)
    S = sp.csr_matrix(np.where(X > np.median(X, axis=0), X, 0.0))
    codes = (X[:, :3] > np.median(X[:, :3], axis=0)).astype(float)
    calls = {
        "KMeans": lambda: KMeans(3, random_state=0).fit(X),
        "MiniBatchKMeans": lambda: MiniBatchKMeans(3, random_state=0).fit(X),
        "KMedians": lambda: KMedians(3, random_state=0).fit(X),
        "SphericalKMeans": lambda: SphericalKMeans(3, random_state=0).fit(X),
        "KPrototypes": lambda: KPrototypes(3, categorical=[3, 4, 5], random_state=0).fit(np.hstack([X[:, 5:8], codes])),
        "KModes": lambda: KModes(3, random_state=0).fit(codes),
        "kmeans_plusplus": lambda: kmeans_plusplus(X, 3, random_state=0),
        "silhouette_score": lambda: silhouette_score(X, np.arange(X.shape[0]) % 3),
        "kmeanskit fit": lambda: main(["fit", "--seed", "0"]),
        "KMeans 2 features": lambda: KMeans(3, random_state=0).fit(X[:, :2]),
        "KMeans 26 features": lambda: KMeans(3, random_state=0).fit(np.hstack([X, X])),
        "KMeans float32": lambda: KMeans(3, random_state=0).fit(X32),
        "KMeans float32, 2 features": lambda: KMeans(3, random_state=0).fit(X32[:, 2:4]),
        "KMeans float32, 26 features": lambda: KMeans(3, random_state=0).fit(np.hstack([X32, X32])),
        "MiniBatchKMeans float32": lambda: MiniBatchKMeans(3, random_state=0).fit(X32),
        "KMedians float32": lambda: KMedians(3, random_state=0).fit(X32),
        "SphericalKMeans float32": lambda: SphericalKMeans(3, random_state=0).fit(X32),
        "kmeans_plusplus float32": lambda: kmeans_plusplus(X32, 3, random_state=0),
        "silhouette_score float32": lambda: silhouette_score(X32, np.arange(X.shape[0]) % 3),
        "KMeans sparse": lambda: KMeans(3, random_state=0).fit(S),
        "MiniBatchKMeans sparse": lambda: MiniBatchKMeans(3, random_state=0).fit(S),
        "SphericalKMeans sparse": lambda: SphericalKMeans(3, random_state=0).fit(S),
    }
    kernels = {}
    for name, call in calls.items():
        with compile_clock() as clock, contextlib.redirect_stdout(io.StringIO()):
            call()
        kernels[name] = clock.kernels
    print(json.dumps(kernels))
"""


def _warmup(env):
    done = subprocess.run([sys.executable, "-m", "kmeanskit", "warmup"], capture_output=True, text=True,
                          env=env, timeout=1800, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.splitlines()


def _stamp(env):
    return Path(run_python("from kmeanskit._engine.compiling import warm_stamp_path; print(warm_stamp_path())",
                           env=env).strip())


def _kill_while_compiling(env, cache):
    """Start a warmup, kill -9 it once it has compiled a first kernel."""
    process = subprocess.Popen([sys.executable, "-m", "kmeanskit", "warmup"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not list(cache.rglob("*.nbi")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL


def test_after_warmup_first_fits_compile_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(SRC))
    stamp = _stamp(env)
    _kill_while_compiling(env, tmp_path / "cache")
    assert list((tmp_path / "cache").rglob("*.nbi")) and not stamp.exists()  # killed midway: still cold
    first = _warmup(env)
    assert stamp.is_file()
    assert first[0].startswith("KMeans: ") and " kernels compiled in " in first[0]
    assert first[-1].startswith(tuple(f"{n} kernels compiled in " for n in range(10, 100))), first
    assert json.loads(run_python(_FIRST_FITS, env=env, timeout=1800)) == {
        name: [] for name in ("KMeans", "MiniBatchKMeans", "KMedians", "SphericalKMeans", "KPrototypes", "KModes",
                              "kmeans_plusplus", "silhouette_score", "kmeanskit fit", "KMeans 2 features",
                              "KMeans 26 features", "KMeans float32", "KMeans float32, 2 features",
                              "KMeans float32, 26 features",
                              "MiniBatchKMeans float32", "KMedians float32", "SphericalKMeans float32",
                              "kmeans_plusplus float32", "silhouette_score float32", "KMeans sparse",
                              "MiniBatchKMeans sparse", "SphericalKMeans sparse")
    }
    again = _warmup(env)
    assert len(again) == 1 and again[0].startswith("nothing to compile: every kernel was in numba's cache ("), again


def test_a_second_warmup_in_the_background_exits_while_one_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(SRC))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from kmeanskit._engine.compiling import warmup_lock\n"
         "with warmup_lock(True):\n    print('held', flush=True)\n    time.sleep(600)"],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        done = subprocess.run([sys.executable, "-m", "kmeanskit", "warmup", "--background"], capture_output=True,
                              text=True, env=env, timeout=600, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
        assert not list((tmp_path / "cache").rglob("*.nbi")) and not _stamp(env).exists()  # it compiled nothing
        waiting = subprocess.Popen([sys.executable, "-m", "kmeanskit", "warmup"], env=env, stdout=subprocess.PIPE,
                                   text=True)  # in the foreground: says so, and waits
        assert waiting.stdout.readline() == ("another warmup is running (started by a first fit, in the background): "
                                             "waiting for it\n")
        assert waiting.poll() is None
        waiting.kill()
        waiting.wait()
    finally:
        holder.kill()
        holder.wait()
