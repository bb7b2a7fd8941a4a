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
