"""The CLI says once, on a terminal's stderr, when kernels compile (the first run on a machine)."""

import io
import re

from numba import njit

from kmeanskit._interfaces.cli import _common as common


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_one_line_for_every_compilation_in_the_block():
    @njit
    def first(x):
        return x + 1

    @njit
    def second(x):
        return x * 2

    stderr = _Terminal()
    with common.compiling_notice(stderr) as clock:
        assert first(1) == 2 and second(2) == 4
    assert re.fullmatch(r"compiling kernels for this machine, once: about \d+(\.\d)? s "
                        r"\('kmeanskit warmup' compiles every estimator's, ahead of time\)\n", stderr.getvalue())
    assert clock.n_compiled == 2


def test_nothing_said_when_nothing_compiles():
    @njit
    def kernel(x):
        return x + 1

    kernel(1)
    stderr = _Terminal()
    with common.compiling_notice(stderr) as clock:
        assert kernel(2) == 3
    assert stderr.getvalue() == "" and clock.n_compiled == 0


def test_nothing_said_to_a_script(capsys):
    @njit
    def kernel(x):
        return x - 1

    with common.compiling_notice() as clock:  # sys.stderr, captured: not a terminal
        assert kernel(2) == 1
    assert capsys.readouterr().err == "" and clock.n_compiled == 1


def test_a_run_on_numpy_twins_says_so_once(monkeypatch):
    from kmeanskit._engine import compiling

    monkeypatch.setitem(compiling._state, "started", True)  # this run started the warmup in the background
    stderr = _Terminal()
    with common.compiling_notice(stderr) as clock:
        compiling.ran_numpy_twin("assign_accumulate_direct_serial")
        compiling.ran_numpy_twin("weighted_slab_sums_serial")
        compiling.ran_numpy_twin("assign_accumulate_direct_serial")
    assert stderr.getvalue() == ("first run on this machine: kernels are compiling in the background, once; "
                                 "this run used NumPy kernels (the same results)\n")
    assert clock.numpy_twins == ["assign_accumulate_direct_serial", "weighted_slab_sums_serial"]


def test_twins_without_a_background_compile_point_to_warmup(monkeypatch):
    from kmeanskit._engine import compiling

    monkeypatch.setitem(compiling._state, "started", False)
    monkeypatch.setenv("KMEANSKIT_BACKGROUND_COMPILE", "0")
    stderr = _Terminal()
    with common.compiling_notice(stderr):
        compiling.ran_numpy_twin("draw_rows")
    assert stderr.getvalue() == ("first run on this machine: this run used NumPy kernels (the same results); "
                                 "'kmeanskit warmup' compiles the kernels, once\n")
