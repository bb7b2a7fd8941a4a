"""Running a kernel's serial twin and its NumPy twin on the same inputs, bit for bit."""

import numpy as np

from kmeanskit._engine.serial import numpy_twin_of, serial_twin


def same_bits(a, b):
    """Whether two arrays (or scalars) hold the same dtype, shape and bits (-0.0 is not 0.0)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    a, b = np.ascontiguousarray(np.atleast_1d(a)), np.ascontiguousarray(np.atleast_1d(b))
    return np.array_equal(a.view(np.uint8), b.view(np.uint8))


def assert_twin_matches(kernel, *args):
    """Call ``kernel``'s compiled serial twin and its NumPy twin on copies of ``args``.

    Every array argument (what the kernel writes, and what it must leave alone)
    and the return value must be the same bits. Returns the serial twin's
    arguments after the call, for further checks.
    """
    twin = numpy_twin_of(kernel)
    assert twin is not None, f"{kernel.py_func.__name__} has no NumPy twin"
    compiled_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    numpy_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    expected = serial_twin(kernel)(*compiled_args)
    got = twin(*numpy_args)
    for position, (e, g) in enumerate(zip(compiled_args, numpy_args, strict=True)):
        if isinstance(e, np.ndarray):
            assert same_bits(e, g), f"{kernel.py_func.__name__}: argument {position} differs"
    if expected is None:
        assert got is None
    else:
        assert type(got) is type(expected) or np.asarray(got).dtype == np.asarray(expected).dtype
        assert same_bits(np.float64(expected) if isinstance(expected, float) else expected,
                         np.float64(got) if isinstance(got, float) else got), kernel.py_func.__name__
    return compiled_args
