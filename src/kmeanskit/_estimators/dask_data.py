"""The data of a Dask fit: the input as a Dask array of row blocks, where each block lives, and the passes over them.

:class:`DaskData` is what :class:`kmeanskit._algorithms.dask_step.DaskStep` drives: it
persists the (mapped) blocks, groups them by the worker that holds them, keeps
each group's Lloyd state there between iterations, and adds the blocks' partial
results in a tree of fixed shape, so the result does not depend on which
worker ran what. The conversions of a Dask DataFrame or a NumPy array to row
blocks, and the client and thread settings, are here too.
"""

import logging
import os
import time
from contextlib import contextmanager
from contextlib import nullcontext as _no_context

import dask
import dask.array as da
import numpy as np
import pandas as pd

from kmeanskit._algorithms import dask_blocks as blocks

__all__ = [
    "DaskBlocks", "DaskData", "as_dask_array", "compute", "current_client", "float_dtype", "is_dask_dataframe",
    "numpy_to_dask", "persist", "threads_per_task", "timed", "tree",
]

logger = logging.getLogger("kmeanskit.dask")  # the public module's name

# Partial results are added this many at a time (a tree of fixed shape).
_SPLIT_EVERY = 8


# ------------------------------------------------------------------ inputs
def is_dask_dataframe(X):
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask[dataframe] is part of the extra
        return False
    return isinstance(X, (dd.DataFrame, dd.Series))


def dataframe_to_array(X, lengths):
    """A dask DataFrame of numeric columns as a dask array (and its column names)."""
    import dask.dataframe as dd

    if isinstance(X, dd.Series):
        raise ValueError("Expected a 2-D input: got a dask Series; use a DataFrame (e.g. series.to_frame()).")
    dtypes = X.dtypes
    bad = [name for name, dtype in dtypes.items() if not (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ) or pd.api.types.is_complex_dtype(dtype)]
    if bad:
        shown = ", ".join(f"{name!r} ({dtypes[name]})" for name in bad[:10])
        raise TypeError(
            f"Every column of X must be numeric (or boolean); {len(bad)} are not: {shown}"
            f"{' ...' if len(bad) > 10 else ''}. Select the numeric columns first, e.g. X[[...]]."
        )
    columns = list(X.columns)
    array = X.to_dask_array(lengths=lengths)
    if array.dtype == object or array.dtype.kind not in "biuf":
        # Mixed numeric columns (e.g. nullable Int64) may come out as object.
        array = array.astype(np.float64)
    return array, columns


def float_dtype(dtype, name):
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype.kind in "biuf":
        return np.dtype(np.float64)
    raise TypeError(f"{name} must hold numbers (bool, int or float); got dtype {dtype}.")


def as_dask_array(X, lengths=True):
    """A dask array or DataFrame as a float32/float64 dask array with whole rows per block.

    Returns the array and the DataFrame's column names (None for an array).
    Integers and booleans become float64; a DataFrame's columns must be numeric.
    """
    names = None
    if is_dask_dataframe(X):
        X, names = dataframe_to_array(X, lengths)
    if not isinstance(X, da.Array):
        raise TypeError(f"Expected a dask array or dask DataFrame, got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array of shape (n_samples, n_features), got {X.ndim} dimension(s) "
            f"(shape {X.shape}); reshape a single feature with X.reshape(-1, 1)."
        )
    meta = getattr(X, "_meta", None)
    if meta is not None and not isinstance(meta, np.ndarray):
        raise TypeError(
            f"The blocks of X must be NumPy arrays; got {type(meta).__module__}.{type(meta).__name__} "
            "blocks (sparse or GPU blocks are not supported)."
        )
    dtype = float_dtype(X.dtype, "X")
    if dtype != X.dtype:
        X = X.astype(dtype)
    if X.shape[1] == 0:
        raise ValueError("X has 0 features; at least one is required.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # the kernels need whole rows
    return X, names


def rows_per_block(n_rows, n_features, itemsize):
    """Row blocks of about dask's chunk size, and at least one per core."""
    from dask.system import CPU_COUNT
    from dask.utils import parse_bytes

    target = parse_bytes(dask.config.get("array.chunk-size"))
    by_size = max(1, target // max(1, n_features * itemsize))
    by_cores = max(1, -(-n_rows // CPU_COUNT))
    return int(max(1, min(by_size, by_cores)))


def numpy_to_dask(X):
    return da.from_array(X, chunks=(rows_per_block(X.shape[0], X.shape[1], X.itemsize), X.shape[1]))


def current_client():
    """The distributed Client dask.compute would use now, or None (local scheduler)."""
    scheduler = dask.base.get_scheduler()
    client = getattr(scheduler, "__self__", None)
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is part of the extra
        return None
    return client if isinstance(client, Client) else None


def threads_per_task(client, n_blocks):
    """numba threads for each task: the cores of a host shared by its task slots."""
    if client is None:
        from dask.system import CPU_COUNT

        slots = dask.config.get("num_workers", None) or CPU_COUNT
        return max(1, CPU_COUNT // max(1, min(slots, n_blocks)))
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        cores = client.run(os.cpu_count)
    except Exception:  # noqa: BLE001 - an old or unusual scheduler: be conservative
        return 1
    threads_on_host, cores_on_host = {}, {}
    for address, info in workers.items():
        host = info.get("host", address)
        threads_on_host[host] = threads_on_host.get(host, 0) + int(info.get("nthreads", 1))
        cores_on_host[host] = int(cores.get(address) or 1)
    if not threads_on_host:
        return 1
    return max(1, min(cores_on_host[h] // max(1, threads_on_host[h]) for h in threads_on_host))


def killed_worker_types():
    try:
        from distributed import KilledWorker

        return (KilledWorker,)
    except ImportError:  # pragma: no cover
        return ()


@contextmanager
def timed(what):
    """Log how long a phase of the fit took (``logging.getLogger("kmeanskit.dask")``, DEBUG)."""
    start = time.perf_counter()
    yield
    logger.debug("%s: %.3f s", what, time.perf_counter() - start)


def compute(*objects):
    """``dask.compute`` that turns a worker lost for good into a clear error."""
    try:
        return dask.compute(*objects, optimize_graph=False)
    except killed_worker_types() as error:
        raise RuntimeError(
            "kmeanskit.dask.KMeans: workers died repeatedly while running a task of the fit "
            f"({error}); the fit was stopped and no result was kept. Check the workers' memory "
            "limits and logs, then fit again."
        ) from error


def persist(*objects):
    return dask.persist(*objects, optimize_graph=False)


def tree(parts, combine, local=False):
    """``parts`` added in a tree of fixed shape (deterministic): one delayed result,
    or with ``local`` the value itself, added here in the same order."""
    if not local:
        combine = dask.delayed(combine, pure=False)
    while len(parts) > 1:
        parts = [combine(*parts[i : i + _SPLIT_EVERY]) for i in range(0, len(parts), _SPLIT_EVERY)]
    return parts[0]


class DaskBlocks:
    """Non-empty row blocks of a persisted X (and weights), as delayed objects."""

    def __init__(self, X, w):
        x_parts = X.to_delayed(optimize_graph=False).ravel()
        w_parts = [None] * len(x_parts) if w is None else list(w.to_delayed(optimize_graph=False).ravel())
        sizes = np.asarray(X.chunks[0], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        keep = [i for i in range(len(x_parts)) if sizes[i] > 0]
        self.x = [x_parts[i] for i in keep]
        self.w = [w_parts[i] for i in keep]
        self.sizes = sizes[keep]
        self.starts = starts[keep]

    def __len__(self):
        return len(self.x)

    def map(self, func, *args, extra=None):
        """One delayed ``func(x_block, w_block, *args, *extra[i])`` per block."""
        task = dask.delayed(func, pure=False)
        return [
            task(x, w, *args, *(extra[i] if extra is not None else ()))
            for i, (x, w) in enumerate(zip(self.x, self.w, strict=True))
        ]

    def groups(self, client):
        """``(worker address or None, block indices)`` groups: one per worker thread holding them.

        A group's Lloyd pass is one task, so a pass costs one task per worker
        thread instead of one per block (each task has a fixed cost of a few
        ms on a cluster). Without a distributed client (dask's local threads,
        where tasks are cheap) every block is its own group.
        """
        alone = [(None, [i]) for i in range(len(self))]
        if client is None:
            return alone
        try:
            from distributed import wait

            wait(self.x)  # persisted blocks are placed as they are computed
            holders = client.who_has(self.x)
            workers = client.scheduler_info(n_workers=-1)["workers"]
        except Exception:  # noqa: BLE001 - an unusual scheduler: one block per task, as before
            return alone
        by_worker = {}
        for i, x in enumerate(self.x):
            where = sorted(holders.get(x.key, ())) or [None]
            by_worker.setdefault(where[0], []).append(i)
        groups = []
        for worker, members in sorted(by_worker.items(), key=lambda item: item[1][0]):
            n = max(1, min(int(workers.get(worker, {}).get("nthreads", 1)), len(members)))
            groups.extend((worker, [int(i) for i in part]) for part in np.array_split(np.asarray(members), n))
        return groups


class DaskData:
    """What a fit knows about its data: the blocks, how tasks map them, the tolerance."""

    def __init__(self, blocks_, mapping, dtype, shift, scale, n_samples, tol, n_threads, weighted):
        self.blocks = blocks_
        self.mapping = mapping
        self.dtype = dtype
        self.shift = shift
        self.scale = scale
        self.n_samples = n_samples
        self.tol = tol
        self.n_threads = n_threads
        self.weighted = weighted
        self.groups = None  # persisted BlockGroups, while Lloyd passes run
        self.workers = None  # the worker each group was made on (None: anywhere)
        self.members = None  # the block indices of each group

    def start_groups(self, client, n_clusters):
        """Persist the blocks' Lloyd state (bounds, labels) in groups where the blocks live."""
        b = self.blocks
        plan = b.groups(client)
        make = dask.delayed(blocks.make_group, pure=False)
        groups = []
        for worker, members in plan:
            flat = [part for i in members for part in (b.x[i], b.w[i])]
            # Made (and so kept) on the worker that holds its blocks: nothing is copied.
            with dask.annotate(workers=[worker], allow_other_workers=True) if worker else _no_context():
                groups.append(make(n_clusters, *self.mapping, *flat))
        self.groups = persist(*groups)
        self.workers = [worker for worker, _ in plan]
        self.members = [members for _, members in plan]

    def stop_groups(self):
        self.groups = self.workers = self.members = None

    def lloyd(self, centers, update=True):
        """One Lloyd pass over all blocks (after :meth:`start_groups`): sums, weights, inertia."""
        task = dask.delayed(blocks.group_lloyd, pure=False)
        passes = []
        for group, worker in zip(self.groups, self.workers, strict=True):
            # Where the group lives (moving it costs a copy of its blocks and its bounds).
            with dask.annotate(workers=[worker], allow_other_workers=True) if worker else _no_context():
                passes.append(task(group, centers, self.n_threads, update))
        results = compute(*passes)
        parts = [None] * len(self.blocks)
        for members, partials in zip(self.members, results, strict=True):
            for i, partial in zip(members, partials, strict=True):
                parts[i] = partial
        # Added per block in a tree of fixed shape: the same sums whatever the grouping.
        return tree(parts, blocks.add_partials, local=True)

    def far_rows(self, centers, n_rows):
        """Each block's ``n_rows`` farthest movable rows (the candidates for empty
        clusters), concatenated: ``(dist, index, label, rows, weight)``."""
        b = self.blocks
        parts = b.map(
            blocks.far_rows, centers, *self.mapping, self.n_threads,
            extra=[(int(start), n_rows) for start in b.starts],
        )
        found = compute(*parts)
        return tuple(np.concatenate([p[j] for p in found]) for j in range(5))


# --------------------------------------------------------------- estimator
