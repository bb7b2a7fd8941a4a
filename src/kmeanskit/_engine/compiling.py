"""Numba compiling on first use: how long it takes, and a way to say so.

Every kernel is compiled with ``cache=True``: the first call on a machine
compiles it (seconds) and writes the machine code to numba's cache, beside the
module in ``__pycache__`` or, where that is not writable (a read-only
install), in numba's user-wide cache directory (``NUMBA_CACHE_DIR`` if set).
Later calls, in any process, load it. Numba announces each compilation (not a
load from the cache) as a ``"numba:compile"`` event; :func:`compile_clock`
listens to them.
"""

import threading
import time
from contextlib import contextmanager

from numba.core import event

__all__ = ["CompileClock", "compile_clock"]


class CompileClock(event.Listener):
    """Time spent compiling kernels while the clock runs (see :func:`compile_clock`).

    Attributes
    ----------
    seconds : float
        Wall time spent in outermost compilations (a kernel's compilation
        includes the helpers it compiles; they are not counted twice).
    n_compiled : int
        Number of outermost compilations.
    kernels : list of (str, bool)
        The name of each kernel compiled (outermost), and whether it is a
        ``parallel=True`` one.
    """

    def __init__(self, on_first=None):
        self.seconds = 0.0
        self.n_compiled = 0
        self.kernels = []
        self._on_first = on_first
        self._local = threading.local()

    def on_start(self, event):  # numba's Listener interface, for a "numba:compile" event
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth == 0:
            if not self.kernels and self._on_first is not None:
                self._on_first()
            dispatcher = event.data["dispatcher"]
            self.kernels.append((dispatcher.py_func.__name__, bool(dispatcher.targetoptions.get("parallel"))))
            self._local.start = time.perf_counter()

    def on_end(self, event):
        self._local.depth -= 1
        if self._local.depth == 0:
            self.seconds += time.perf_counter() - self._local.start
            self.n_compiled += 1


@contextmanager
def compile_clock(on_first=None):
    """Measure the kernels numba compiles inside the ``with`` block.

    Parameters
    ----------
    on_first : callable, optional
        Called with no argument when the first compilation in the block
        starts (for instance to tell the user before the wait).

    Yields
    ------
    CompileClock
        Its ``seconds`` and ``n_compiled`` grow as kernels compile; loading a
        kernel from numba's cache is not a compilation.
    """
    clock = CompileClock(on_first)
    with event.install_listener("numba:compile", clock):
        yield clock
