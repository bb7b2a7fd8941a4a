"""Compiling on first use: the clock that sees it, what a small fit compiles, and a read-only install's cache."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from numba import njit

from kmeanskit._engine.compiling import compile_clock

from ..fresh_python import run_python

SRC = Path(__file__).resolve().parents[2] / "src"


def _fresh_kernels():
    """Two kernels numba has never compiled (no cache): ``outer`` compiles ``inner`` with it."""

    @njit
    def inner(x):
        return x + 1.0

    @njit
    def outer(x):
        return inner(x) * 2.0

    @njit
    def other(x):
        return x - 1.0

    return outer, other


def test_the_clock_counts_outermost_compilations_and_calls_on_first_once():
    outer, other = _fresh_kernels()
    told = []
    with compile_clock(on_first=lambda: told.append(True)) as clock:
        assert outer(1.0) == 4.0
        assert other(1.0) == 0.0
        assert outer(2.0) == 6.0  # compiled already
    assert told == [True]
    assert clock.n_compiled == 2 and clock.kernels == [("outer", False), ("other", False)]
    assert clock.seconds > 0.0
    with compile_clock() as again:
        assert outer(3.0) == 8.0
    assert again.n_compiled == 0 and again.seconds == 0.0 and again.kernels == []


_SMALL_FITS = """
    import json
    import numpy as np
    from sklearn.datasets import load_wine
    from kmeanskit import KMeans, KMedians, MiniBatchKMeans, SphericalKMeans, kmeans_plusplus
    from kmeanskit._engine.compiling import compile_clock
    from kmeanskit.metrics import silhouette_score

    X = np.ascontiguousarray(load_wine().data)
    calls = {
        "KMeans": lambda: KMeans(3, random_state=0).fit(X),
        "MiniBatchKMeans": lambda: MiniBatchKMeans(3, random_state=0, n_init=1).fit(X),
        "KMedians": lambda: KMedians(3, random_state=0).fit(X),
        "SphericalKMeans": lambda: SphericalKMeans(3, random_state=0).fit(X),
        "kmeans_plusplus": lambda: kmeans_plusplus(X, 3, random_state=0),
        "silhouette_score": lambda: silhouette_score(X, np.arange(X.shape[0]) % 3),
    }
    kernels = {}
    for name, call in calls.items():
        with compile_clock() as clock:
            call()
        kernels[name] = clock.kernels
    print(json.dumps(kernels))
"""


def _env(**values):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(values)
    return env


def test_small_fits_compile_only_small_serial_kernels_once(tmp_path):
    # The first fit on a machine compiles what it runs: on 178 rows, serial kernels only (no
    # parallel=True kernel, and not the bounded step's, Lloyd's result with more code to compile);
    # a second process loads them all from the cache.
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(SRC), KMEANSKIT_KERNELS="compiled")
    first = json.loads(run_python(_SMALL_FITS, env=env, timeout=1800))
    assert first["KMeans"] and first["KMedians"] and first["SphericalKMeans"] and first["silhouette_score"]
    compiled = [kernel for kernels in first.values() for kernel in kernels]
    assert not [name for name, parallel in compiled if parallel], first
    names = [name for name, _ in first["KMeans"]]
    assert "assign_accumulate_direct_serial" in names
    assert not any("bounded" in name or "sort_neighbours" in name for name in names), names
    assert json.loads(run_python(_SMALL_FITS, env=env, timeout=1800)) == {name: [] for name in first}


def test_a_read_only_install_still_caches():
    # site-packages not writable: numba caches in its user-wide directory ($XDG_CACHE_HOME/numba).
    code = """
        import numpy as np
        from kmeanskit._engine.compiling import compile_clock
        from kmeanskit._engine.moments import mean_and_variances

        with compile_clock() as clock:
            mean_and_variances(np.ones((3, 2)), np.empty(2), np.empty(2))
        print(clock.n_compiled)
    """
    prefix = ()
    if os.geteuid() == 0:  # root writes anywhere: its interpreters run without capabilities, as file modes say
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a directory read-only")
        prefix = ("setpriv", "--bounding-set=-all", "--inh-caps=-all")
    root = Path(tempfile.mkdtemp(prefix="kmeanskit-read-only-"))
    site, cache = root / "site", root / "cache"
    try:
        shutil.copytree(SRC / "kmeanskit", site / "kmeanskit", ignore=shutil.ignore_patterns("__pycache__"))
        cache.mkdir()
        for path in (*site.rglob("*"), site):
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        env = _env(PYTHONPATH=str(site), XDG_CACHE_HOME=str(cache), HOME=str(cache))
        writable = f"import os; print(os.access({str(site / 'kmeanskit' / '_engine')!r}, os.W_OK))"
        assert run_python(writable, env=env, prefix=prefix).strip() == "False"
        assert int(run_python(code, env=env, prefix=prefix, timeout=600)) >= 1
        assert int(run_python(code, env=env, prefix=prefix, timeout=600)) == 0
        assert not list(site.rglob("*.nbi"))
        assert list((cache / "numba").rglob("moments.mean_and_variances-*.nbi"))
    finally:
        for path in (site, *site.rglob("*")):
            if path.is_dir():
                os.chmod(path, 0o755)
        shutil.rmtree(root)
