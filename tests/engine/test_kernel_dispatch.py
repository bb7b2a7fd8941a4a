"""Which kernel small inputs run (``sized``): serial, NumPy twin, or per call on a cold machine; and the
loading from numba's cache that decides it, on numba's private API (pinned here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from kmeanskit._engine import compiling, serial
from kmeanskit._engine.assign import assign_accumulate_direct, assign_accumulate_direct_numpy
from kmeanskit._engine.compiling import compile_clock, is_compiled
from kmeanskit._engine.moments import mean_and_variances

from ..fresh_python import run_python

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def cold(monkeypatch):
    """Mode auto on a machine no warmup has completed on; no background compile."""
    monkeypatch.setattr(serial, "_env_mode", "auto")
    monkeypatch.setitem(compiling._state, "warm", False)
    monkeypatch.setenv("KMEANSKIT_BACKGROUND_COMPILE", "0")


def test_modes_choose_the_serial_kernel_or_the_numpy_twin(monkeypatch):
    small, large = 1000, serial.SERIAL_MAX_VALUES
    monkeypatch.setattr(serial, "_env_mode", "compiled")
    assert serial.sized(assign_accumulate_direct, small) is serial.serial_twin(assign_accumulate_direct)
    monkeypatch.setattr(serial, "_env_mode", "numpy")
    assert serial.sized(assign_accumulate_direct, small) is assign_accumulate_direct_numpy
    assert serial.sized(assign_accumulate_direct, large) is assign_accumulate_direct  # twins are for small inputs
    monkeypatch.setattr(serial, "_env_mode", "auto")
    monkeypatch.setitem(compiling._state, "warm", True)  # warm: kernels not compiled yet compile, as always
    assert serial.sized(assign_accumulate_direct, small) is serial.serial_twin(assign_accumulate_direct)
    with serial.kernels_mode("numpy"):
        assert serial.sized(assign_accumulate_direct, small) is assign_accumulate_direct_numpy
    assert serial.serial_twin(mean_and_variances) is mean_and_variances  # a serial kernel is its own twin


def test_a_bad_mode_is_refused_with_what_is_allowed(monkeypatch):
    monkeypatch.setenv("KMEANSKIT_KERNELS", "fast")
    monkeypatch.setattr(serial, "_env_mode", None)  # read again
    with pytest.raises(ValueError, match=r"^KMEANSKIT_KERNELS must be one of 'auto', 'compiled', 'numpy'; got 'fast'\.$"):
        serial.kernel_mode()


def test_cold_machine_runs_the_twin_until_the_kernel_is_compiled(cold):
    ran = []

    @njit(cache=False)
    def kernel(x, out):
        out[0] = x[0] + 1.0

    def twin(x, out):
        ran.append(True)
        out[0] = x[0] + 1.0

    calls = serial._FirstCalls(kernel, twin)
    out = np.zeros(1)
    with compile_clock() as clock:
        calls(np.ones(1), out)
    assert out[0] == 2.0 and ran == [True]
    assert clock.kernels == [] and clock.numpy_twins == ["kernel"] and not clock.background_compile
    kernel(np.ones(1), out)  # compiled now (for float64 arrays): the serial kernel runs
    calls(np.full(1, 2.0), out)
    assert out[0] == 3.0 and ran == [True]


def test_is_compiled_never_compiles():
    @njit(cache=False)
    def kernel(x):
        return x + 1.0

    with compile_clock() as clock:
        assert not is_compiled(kernel, (1.0,), load=True)
    assert clock.n_compiled == 0 and not kernel.overloads
    kernel(1.0)
    assert is_compiled(kernel, (2.0,), load=True)
    assert not is_compiled(kernel, (np.ones(2),), load=True)  # another type: not compiled


def test_is_compiled_loads_from_numbas_cache_in_a_new_process(tmp_path):
    # numba's private API it reads (a numba upgrade that changes it fails here, not silently).
    assert callable(mean_and_variances.typeof_pyval) and callable(mean_and_variances.add_overload)
    assert isinstance(mean_and_variances.overloads, dict) and mean_and_variances.targetctx is not None
    assert callable(mean_and_variances._cache.load_overload)
    assert callable(mean_and_variances._cache._cache_file._load_index)
    code = """
        import json
        import numpy as np
        from kmeanskit._engine.compiling import compile_clock, is_compiled
        from kmeanskit._engine.moments import mean_and_variances

        X64, X32, mean, var = np.ones((3, 2)), np.ones((3, 2), np.float32), np.empty(2), np.empty(2)
        with compile_clock() as clock:
            found = [is_compiled(mean_and_variances, (X64, mean, var), load=True),
                     is_compiled(mean_and_variances, (X32, mean, var), load=True)]
            if found[0]:
                mean_and_variances(X64, mean, var)
        print(json.dumps({"found": found, "compiled": clock.n_compiled}))
        mean_and_variances(X64, mean, var)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(SRC))
    assert json.loads(run_python(code, env=env, timeout=600)) == {"found": [False, False], "compiled": 0}
    assert json.loads(run_python(code, env=env, timeout=600)) == {"found": [True, False], "compiled": 0}


def test_a_cold_machine_fits_without_compiling(tmp_path):
    # An empty numba cache, mode auto: KMeans and k-means++ on iris compile nothing and say which twins ran.
    code = """
        import json
        import numpy as np
        from sklearn.datasets import load_iris
        from kmeanskit import KMeans, kmeans_plusplus
        from kmeanskit._engine.compiling import compile_clock

        X = np.ascontiguousarray(load_iris().data)
        with compile_clock() as clock:
            model = KMeans(3, random_state=0).fit(X)
            model.predict(X), model.score(X)
            kmeans_plusplus(X, 3, random_state=0)
        print(json.dumps({"compiled": clock.kernels, "twins": sorted(clock.numpy_twins),
                          "background": clock.background_compile}))
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_", "KMEANSKIT_"))}
    env.update(NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(SRC), KMEANSKIT_BACKGROUND_COMPILE="0")
    assert json.loads(run_python(code, env=env, timeout=600)) == {
        "compiled": [], "background": False,
        "twins": ["assign_accumulate_direct_serial", "greedy_rounds_direct", "mean_and_variances",
                  "pass_totals_serial", "update_closest_direct_serial", "weighted_slab_sums_serial",
                  "weighted_sq_distances_dense_serial"],
    }


def test_the_background_compile_is_a_detached_quiet_warmup_started_once(monkeypatch):
    started = []
    class Process:
        def __init__(self, *args, **kwargs):
            started.append((args, kwargs))

        def wait(self):
            return 0

    monkeypatch.setattr(compiling.subprocess, "Popen", Process)
    monkeypatch.setitem(compiling._state, "process", None)
    monkeypatch.setitem(compiling._state, "started", False)
    monkeypatch.setenv("KMEANSKIT_BACKGROUND_COMPILE", "0")
    assert not compiling.start_background_compile() and started == []
    monkeypatch.delenv("KMEANSKIT_BACKGROUND_COMPILE")
    assert compiling.start_background_compile()
    assert not compiling.start_background_compile()  # once a process
    [(args, kwargs)] = started
    assert args == ([sys.executable, "-m", "kmeanskit", "warmup", "--background"],)
    assert kwargs["start_new_session"] and kwargs["close_fds"]
    assert kwargs["stdin"] == kwargs["stdout"] == kwargs["stderr"] == subprocess.DEVNULL
    assert kwargs["env"]["KMEANSKIT_KERNELS"] == "compiled" and kwargs["env"]["KMEANSKIT_BACKGROUND_COMPILE"] == "0"
