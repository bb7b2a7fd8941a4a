"""The CLI says once, on stderr, when kernels compile (the first run on a machine)."""

import re

from numba import njit

from kmeanskit._interfaces.cli import _common as common


def test_one_line_for_every_compilation_in_the_block(capsys):
    @njit
    def first(x):
        return x + 1

    @njit
    def second(x):
        return x * 2

    with common.compiling_notice() as clock:
        assert first(1) == 2 and second(2) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(r"compiling kernels for this machine, once: about \d+(\.\d)? s\n", captured.err)
    assert clock.n_compiled == 2


def test_nothing_said_when_nothing_compiles(capsys):
    @njit
    def kernel(x):
        return x + 1

    kernel(1)
    with common.compiling_notice() as clock:
        assert kernel(2) == 3
    assert capsys.readouterr().err == "" and clock.n_compiled == 0
