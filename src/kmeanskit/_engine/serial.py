"""Serial twins of the parallel kernels, for inputs too small to share out.

A ``parallel=True`` kernel pays for waking the worker threads on every call,
and much more when the cores are busy with other work. That can be more than
a whole pass over a small
input (iris, digits, one row to predict). Below ``SERIAL_MAX_VALUES`` values
(rows x features) the same kernel runs compiled without ``parallel=True``,
where ``prange`` is a plain ``range``: same code, same slabs, same order of
additions, hence the same bits.

Small inputs may also run a kernel's *NumPy twin* (:func:`numpy_twin`): the
same operations in the same order, vectorised across rows, hence the same bits
again, with nothing to compile. :func:`sized` runs it while the machine is
cold (no ``kmeanskit warmup`` has completed for these versions, see
:mod:`kmeanskit._engine.compiling`) and the serial kernel is neither compiled
in this process nor in numba's cache for the arguments' types; the first such
call starts the warmup in the background. ``KMEANSKIT_KERNELS`` chooses:
``auto`` (that rule, the default), ``compiled`` (never the twins: the test
suite and the warmup itself) or ``numpy`` (the twins wherever there is one:
their tests).
"""

import contextlib
import os
import types

from numba import njit

from kmeanskit._engine import compiling

__all__ = [
    "KERNEL_MODES",
    "SERIAL_MAX_VALUES",
    "kernel_mode",
    "kernels_mode",
    "numpy_twin",
    "numpy_twin_of",
    "serial_twin",
    "sized",
]

SERIAL_MAX_VALUES = 1 << 18
KERNEL_MODES = ("auto", "compiled", "numpy")
_env_mode = None  # KMEANSKIT_KERNELS, once read
_TWINS = {}
_NUMPY_TWINS = {}
_FIRST_CALLS = {}
_forced_mode = None


def numpy_twin(kernel):
    """Register the decorated NumPy function as ``kernel``'s NumPy twin.

    A NumPy twin takes the kernel's arguments, writes the same outputs and
    returns the same value, with the same operations in the same order, hence
    the same bits as the kernel's serial twin; it needs no compiling, so small
    inputs can run it while the kernel has not been compiled on this machine.
    Each twin is tested bit for bit against the compiled kernel, but one: the
    silhouette's kernel lets LLVM reassociate its sums (their last bits depend
    on the CPU), and its twin agrees with it to rounding.
    """

    def register(func):
        _NUMPY_TWINS[kernel] = func
        return func

    return register


def numpy_twin_of(kernel):
    """``kernel``'s registered NumPy twin, or None."""
    return _NUMPY_TWINS.get(kernel)


def serial_twin(kernel):
    """``kernel`` (a numba dispatcher) compiled without ``parallel=True`` (a serial kernel is its own).

    The twin has its own name, hence its own cache file next to the kernel's.
    """
    if not kernel.targetoptions.get("parallel"):
        return kernel  # serial already
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


def kernel_mode():
    """Which kernels small inputs run: ``KMEANSKIT_KERNELS`` (default ``"auto"``), read here only, once a process.

    Returns
    -------
    str
        ``"auto"``, ``"compiled"`` or ``"numpy"`` (see the module docstring);
        inside :func:`kernels_mode`, the mode it sets.
    """
    global _env_mode
    if _forced_mode is not None:
        return _forced_mode
    if _env_mode is None:  # read once a process: sized() asks on every call, and os.environ is slow next to a small kernel
        raw = os.environ.get("KMEANSKIT_KERNELS", "auto")
        mode = raw.strip().lower() or "auto"
        if mode not in KERNEL_MODES:
            allowed = ", ".join(repr(m) for m in KERNEL_MODES)
            raise ValueError(f"KMEANSKIT_KERNELS must be one of {allowed}; got {raw!r}.")
        _env_mode = mode
    return _env_mode


@contextlib.contextmanager
def kernels_mode(mode):
    """Run the ``with`` block in kernel ``mode`` whatever ``KMEANSKIT_KERNELS`` says (the warmup: ``"compiled"``)."""
    global _forced_mode
    if mode not in KERNEL_MODES:
        raise ValueError(f"mode must be one of {KERNEL_MODES}; got {mode!r}.")
    previous, _forced_mode = _forced_mode, mode
    try:
        yield
    finally:
        _forced_mode = previous


class _FirstCalls:
    """A kernel's serial twin where it is ready for the arguments' types, else its NumPy twin.

    Ready: compiled in this process or loaded from numba's cache (never
    compiled here). The first call that runs the NumPy twin starts the
    background warmup and tells :func:`~kmeanskit._engine.compiling.compile_clock`.
    """

    def __init__(self, serial, twin):
        self.serial = serial
        self.twin = twin

    def __call__(self, *args):
        if compiling.is_compiled(self.serial, args, load=True):
            return self.serial(*args)
        compiling.ran_numpy_twin(self.serial.py_func.__name__)
        return self.twin(*args)


def sized(kernel, n_values):
    """The kernel to call for an input of ``n_values`` values.

    The parallel kernel at or above ``SERIAL_MAX_VALUES``; below, its serial
    twin, or in kernel mode ``"numpy"`` its NumPy twin, or in mode ``"auto"``
    on a cold machine a callable that picks between them per call (see the
    module docstring). All give the same bits.
    """
    if n_values >= SERIAL_MAX_VALUES:
        return kernel
    serial = serial_twin(kernel)
    twin = _NUMPY_TWINS.get(kernel)
    if twin is None:
        return serial
    mode = kernel_mode()
    if mode == "compiled":
        return serial
    if mode == "numpy":
        return twin
    if compiling.machine_is_warm():
        return serial
    first_calls = _FIRST_CALLS.get(kernel)
    if first_calls is None:
        first_calls = _FIRST_CALLS[kernel] = _FirstCalls(serial, twin)
    return first_calls
