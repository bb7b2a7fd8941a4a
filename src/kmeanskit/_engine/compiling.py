"""Numba compiling on first use: how long it takes, and a way to say so.

Every kernel is compiled with ``cache=True``: the first call on a machine
compiles it (seconds) and writes the machine code to numba's cache, beside the
module in ``__pycache__`` or, where that is not writable (a read-only
install), in numba's user-wide cache directory (``NUMBA_CACHE_DIR`` if set).
Later calls, in any process, load it. Numba announces each compilation (not a
load from the cache) as a ``"numba:compile"`` event; :func:`compile_clock`
listens to them.

Until a machine is *warm* (``kmeanskit warmup`` has completed for this
kmeanskit and numba, and left its stamp beside numba's cache of the engine),
small inputs run the NumPy twins of kernels not yet compiled
(:mod:`kmeanskit._engine.serial`); the first such call in a process starts the
warmup in the background (:func:`ran_numpy_twin`), unless
``KMEANSKIT_BACKGROUND_COMPILE=0``.
"""

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np
from numba.core import event

__all__ = [
    "CompileClock",
    "compile_clock",
    "is_compiled",
    "machine_is_warm",
    "mark_warm",
    "ran_numpy_twin",
    "start_background_compile",
    "warm_stamp_path",
    "warmup_lock",
]

_TWIN_EVENT = "kmeanskit:numpy-twin"
RECHECK_SECONDS = 30.0
_READY = set()  # (dispatcher, _types_key) with a compiled version in this process
_MISSED = {}  # (dispatcher, _types_key) without one -> (its number of versions then, time.monotonic() then)
_state = {"warm": None, "started": False}


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
    numpy_twins : list of str
        The kernels whose NumPy twin ran instead (not compiled yet on a cold
        machine), each named once, in the order of their first run.
    background_compile : bool
        Whether one of those runs started the warmup in the background.
    """

    def __init__(self, on_first=None):
        self.seconds = 0.0
        self.n_compiled = 0
        self.kernels = []
        self.numpy_twins = []
        self.background_compile = False
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
    with event.install_listener("numba:compile", clock), event.install_listener(_TWIN_EVENT, _TwinListener(clock)):
        yield clock


class _TwinListener(event.Listener):
    """Notes on a :class:`CompileClock` each kernel whose NumPy twin ran."""

    def __init__(self, clock):
        self.clock = clock

    def on_start(self, event):  # a twin's run is one start event (no end)
        name, started = event.data
        if name not in self.clock.numpy_twins:
            self.clock.numpy_twins.append(name)
        self.clock.background_compile |= started

    def on_end(self, event):
        pass


def _types_key(args):
    """A cheap stand-in for numba's types of ``args``: what ``typeof`` reads of each.

    An array's dtype, dimensions, layout (C, F or any), writeability and
    alignment; the Python type of anything else that numba types by its
    type alone (numbers, booleans, None); None (no stand-in) for anything
    else, such as a tuple, whose numba type needs its contents.
    """
    key = []
    for arg in args:
        if isinstance(arg, np.ndarray):
            flags = arg.flags
            key.append((arg.dtype, arg.ndim, flags.c_contiguous, flags.f_contiguous, flags.writeable, flags.aligned))
        elif arg is None or isinstance(arg, (bool, int, float, np.generic)):
            key.append(type(arg))
        else:
            return None
    return tuple(key)


def is_compiled(dispatcher, args, load=False):
    """Whether ``dispatcher`` runs ``args`` without compiling: compiled in this process, or (``load``) loaded now from numba's cache.

    Never compiles. numba's ``typeof`` of every argument costs microseconds
    each, so its answer is kept per dispatcher and :func:`_types_key` of the
    arguments: a compiled version stays compiled; a miss in numba's cache is
    looked for again only after ``RECHECK_SECONDS`` (a background warmup may
    have written it since). Loading is numba's ``Dispatcher.compile``
    without its last step, on numba's private API (``typeof_pyval``,
    ``overloads``, the cache's index, ``_cache.load_overload``,
    ``add_overload``); if that API is missing, the answer is False (a small
    input then runs its NumPy twin or its serial kernel).
    """
    key = _types_key(args)
    memo = (dispatcher, key)
    if key is not None:
        if memo in _READY:
            return True
        missed = _MISSED.get(memo)
        if missed is not None and (not load or time.monotonic() - missed[1] < RECHECK_SECONDS):
            if len(dispatcher.overloads) == missed[0]:  # nothing compiled since the miss
                return False
    try:
        sig = tuple(dispatcher.typeof_pyval(arg) for arg in args)
        ready = sig in dispatcher.overloads or (load and _load_from_cache(dispatcher, sig))
    except (AttributeError, TypeError, ImportError):
        return False
    if key is not None:
        if ready:
            _READY.add(memo)
        else:
            _MISSED[memo] = (len(dispatcher.overloads), time.monotonic())
    return ready


def _load_from_cache(dispatcher, sig):
    """Load ``dispatcher``'s version for ``sig`` from numba's cache; whether it was there."""
    from numba.core.compiler_lock import global_compiler_lock

    cache = dispatcher._cache
    # The index first: loading refreshes numba's target (most of a second), worth it only for a hit.
    if not any(key[0] == sig for key in cache._cache_file._load_index()):
        return False
    with global_compiler_lock:
        if sig in dispatcher.overloads:
            return True
        cres = cache.load_overload(sig, dispatcher.targetctx)
        if cres is None:
            return False
        if not cres.objectmode:
            dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        dispatcher.add_overload(cres)
        return True


def warm_stamp_path():
    """The stamp ``kmeanskit warmup`` writes when it completes, or None when numba's cache is not found.

    Beside numba's cache of the engine's kernels (``__pycache__`` of the
    installed package, its user-wide cache when that is read-only, or
    ``NUMBA_CACHE_DIR``), named after this kmeanskit and this numba: another
    version of either is a cold machine again.
    """
    from kmeanskit import __version__
    from kmeanskit._engine.moments import mean_and_variances

    try:
        folder = mean_and_variances._cache.cache_path
    except AttributeError:
        return None
    return Path(folder) / f"kmeanskit-{__version__}-numba-{numba.__version__}.warm"


def machine_is_warm():
    """Whether ``kmeanskit warmup`` has completed on this machine (its stamp is there); checked once a process.

    Without a known cache folder, warm: kernels compile on first use, as they
    always did.
    """
    if _state["warm"] is None:
        stamp = warm_stamp_path()
        _state["warm"] = stamp is None or stamp.is_file()
    return _state["warm"]


def mark_warm():
    """Write the warm stamp (atomically: a reader sees it whole or not at all)."""
    from kmeanskit._io.atomic import write_bytes

    stamp = warm_stamp_path()
    if stamp is not None:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(stamp, f"warmup completed {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
        _state["warm"] = True


@contextmanager
def warmup_lock(wait, on_wait=None):
    """Hold the warmup's lock (a file beside the stamp) in the ``with`` block; yields whether it is held.

    Parameters
    ----------
    wait : bool
        Wait for another warmup to finish (True), or yield False at once
        when one holds the lock (a background warmup: it exits quietly).
        Without ``fcntl`` (Windows), the lock is always granted.
    on_wait : callable, optional
        Called with no argument before waiting for another warmup.
    """
    stamp = warm_stamp_path()
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if stamp is None or fcntl is None:
        yield True
        return
    stamp.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(stamp.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def start_background_compile():
    """Start ``python -m kmeanskit warmup --background`` detached, once a process; whether it started now.

    Not when ``KMEANSKIT_BACKGROUND_COMPILE=0``. The warmup runs with kernel
    mode ``compiled``, prints nothing, takes the warmup's lock (a second one
    exits) and writes the warm stamp when it completes.
    """
    if _state["started"] or os.environ.get("KMEANSKIT_BACKGROUND_COMPILE", "1").strip() == "0":
        return False
    _state["started"] = True
    env = dict(os.environ, KMEANSKIT_KERNELS="compiled", KMEANSKIT_BACKGROUND_COMPILE="0")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "kmeanskit", "warmup", "--background"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True, env=env,
        )
    except OSError:
        return False
    # Kept, and waited for by a daemon thread: reaped if it ends first; left running if this process does.
    _state["process"] = process
    threading.Thread(target=process.wait, name="kmeanskit-background-compile", daemon=True).start()
    return True


def ran_numpy_twin(name):
    """Say that kernel ``name``'s NumPy twin ran (to :func:`compile_clock`); start the background compile."""
    start_background_compile()
    event.start_event(_TWIN_EVENT, data=(name, _state["started"]))
