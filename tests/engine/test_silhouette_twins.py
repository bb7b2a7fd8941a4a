"""The NumPy twin of the silhouette kernel gives the bits of the compiled serial kernel."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.serial import numpy_twin_of
from kmeanskit._engine.silhouette import _LANES_BY_CPU, _target_cpu, cluster_distance_sums, round_robin_pairs

from .twins import assert_twin_matches

pytestmark = pytest.mark.skipif(
    _target_cpu() not in _LANES_BY_CPU, reason="no NumPy twin of the silhouette kernel for this CPU"
)

NEAR = {np.dtype(np.float32): 2.0**-6, np.dtype(np.float64): 2.0**-20}


def _args(n, d, k, dtype, tile, seed, duplicates=False):
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, k, n)
    labels[: min(k, n)] = np.arange(min(k, n))
    labels.sort()
    X = rng.normal(scale=3.0, size=(k, d))[labels] + rng.normal(size=(n, d))
    if duplicates:  # repeated and nearly repeated rows: the exact recomputation
        X[1::3] = X[0::3][: X[1::3].shape[0]]
        X[2::5] += 1e-9
    X = np.ascontiguousarray((X - X.mean(axis=0)).astype(dtype))
    counts = np.bincount(labels, minlength=k)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    x_sq = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    pairs = round_robin_pairs(-(-n // tile))
    return X, x_sq, labels.astype(np.int64), offsets, tile, pairs, NEAR[X.dtype], np.empty((n, k))


CASES = [(n, d, k, tile) for n, d, k, tile in [
    (1, 1, 1, 64), (2, 3, 2, 64), (5, 2, 2, 4), (37, 4, 3, 16), (150, 4, 3, 64), (150, 4, 3, 256),
    (301, 13, 7, 64), (700, 40, 20, 64), (1000, 2, 5, 256), (3000, 8, 4, 256), (260, 1, 1, 64),
]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "d", "k", "tile"), CASES)
@pytest.mark.parametrize("duplicates", [False, True])
def test_cluster_distance_sums(dtype, n, d, k, tile, duplicates):
    with single_threaded_blas():
        assert_twin_matches(cluster_distance_sums, *_args(n, d, k, dtype, tile, n + d, duplicates))


def test_sums_in_compiled_order_covers_every_width():
    """Runs of every width from 0 to 100 columns (main loop, epilogue, single values)."""
    rng = np.random.RandomState(1)
    for width in range(0, 101):
        n = width + 1
        args = list(_args(n, 3, 1, np.float64, 128, width))
        args[0] = np.ascontiguousarray(rng.normal(size=(n, 3)) * rng.uniform(0.01, 100.0, size=(n, 1)))
        args[1] = np.einsum("ij,ij->i", args[0], args[0])
        with single_threaded_blas():
            assert_twin_matches(cluster_distance_sums, *args)


@pytest.mark.parametrize("cpu", ["haswell", "skylake-avx512"])
def test_other_vector_widths(cpu):
    """The kernel compiled for a CPU of each vector width in the table (run here) and the twin agree."""
    if _target_cpu() not in ("znver4", "sapphirerapids", "graniterapids", "emeraldrapids"):
        pytest.skip("compiling for another CPU needs a host that runs its instructions")
    script = textwrap.dedent("""
        import numpy as np
        from kmeanskit._algorithms.threads import single_threaded_blas
        from tests.engine.test_silhouette_twins import _args
        from tests.engine.twins import assert_twin_matches
        from kmeanskit._engine.silhouette import cluster_distance_sums
        with single_threaded_blas():
            for dtype in (np.float64, np.float32):
                for n, d, k, tile in [(150, 4, 3, 64), (301, 13, 7, 64), (700, 5, 2, 256)]:
                    assert_twin_matches(cluster_distance_sums, *_args(n, d, k, dtype, tile, n, True))
        print("ok")
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, NUMBA_CPU_NAME=cpu, NUMBA_DISABLE_CACHE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), root) if p)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_registered():
    assert numpy_twin_of(cluster_distance_sums) is not None
