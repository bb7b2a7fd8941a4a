"""Serial twins of the parallel kernels, for inputs too small to share out.

A ``parallel=True`` kernel pays for waking the worker threads on every call,
and much more when the cores are busy with other work. That can be more than
a whole pass over a small
input (iris, digits, one row to predict). Below ``SERIAL_MAX_VALUES`` values
(rows x features) the same kernel runs compiled without ``parallel=True``,
where ``prange`` is a plain ``range``: same code, same slabs, same order of
additions, hence the same bits.
"""

import types

from numba import njit

__all__ = ["SERIAL_MAX_VALUES", "numpy_twin", "numpy_twin_of", "serial_twin", "sized"]

SERIAL_MAX_VALUES = 1 << 18
_TWINS = {}
_NUMPY_TWINS = {}


def numpy_twin(kernel):
    """Register the decorated NumPy function as ``kernel``'s NumPy twin.

    A NumPy twin takes the kernel's arguments, writes the same outputs and
    returns the same value, with the same operations in the same order, hence
    the same bits as the kernel's serial twin; it needs no compiling, so small
    inputs can run it while the kernel has not been compiled on this machine.
    Each twin is tested bit for bit against the compiled kernel.
    """

    def register(func):
        _NUMPY_TWINS[kernel] = func
        return func

    return register


def numpy_twin_of(kernel):
    """``kernel``'s registered NumPy twin, or None."""
    return _NUMPY_TWINS.get(kernel)


def serial_twin(kernel):
    """``kernel`` (a numba dispatcher) compiled without ``parallel=True``.

    The twin has its own name, hence its own cache file next to the kernel's.
    """
    twin = _TWINS.get(kernel)
    if twin is None:
        func = kernel.py_func
        name = f"{func.__name__}_serial"
        code = func.__code__.replace(co_name=name, co_qualname=name)
        py_twin = types.FunctionType(code, func.__globals__, name, func.__defaults__, func.__closure__)
        py_twin.__qualname__ = name
        py_twin.__doc__ = func.__doc__
        twin = _TWINS[kernel] = njit(cache=True, nogil=True)(py_twin)
    return twin


def sized(kernel, n_values):
    """The kernel to call for an input of ``n_values`` values: its serial twin if small."""
    return serial_twin(kernel) if n_values < SERIAL_MAX_VALUES else kernel
