"""The Lloyd step over the blocks of a Dask array, for the one convergence loop.

Each call is one Dask computation: every block's Lloyd partial sums (see
:func:`~kmeanskit._algorithms.dask_blocks.group_lloyd`), added in a tree of
fixed shape. Labels stay on the workers with the blocks' bounds; the driver
holds k x d sums, never a value per row. Empty clusters take the farthest rows
of all blocks (:func:`~kmeanskit._algorithms.dask_blocks.far_rows`, merged
here) by the rule of :mod:`~kmeanskit._algorithms.relocation`, so a fit gives
the in-memory fit's centers.

Nothing here imports dask: the data object given to the step runs the
computations (``lloyd(centers, update)`` and ``far_rows(centers, n_rows)``).
"""

import logging
import time

import numpy as np

from kmeanskit._algorithms.lloyd import Assignment
from kmeanskit._algorithms.relocation import mean_centers, relocate
from kmeanskit._algorithms.step import Step

__all__ = ["DaskStep"]

logger = logging.getLogger("kmeanskit.dask")


class _BlockRows:
    """What the convergence loop knows of rows that live on the workers."""

    sparse = False

    def __init__(self, n, d, dtype):
        self.n, self.d, self.dtype = n, d, np.dtype(dtype)


class DaskStep(Step):
    """Lloyd passes over Dask blocks (mapped space), labels kept on the workers.

    Parameters
    ----------
    data : object
        ``data.lloyd(centers, update)`` returns ``(sums, weights, inertia)`` of
        one pass over every block (sums and weights None without ``update``);
        ``data.far_rows(centers, n_rows)`` returns the candidate rows for empty
        clusters as ``(dist, index, label, rows, weight)`` arrays, each block's
        ``n_rows`` farthest movable rows concatenated.
    n_samples, n_features : int
    dtype : numpy dtype
    n_clusters : int

    Attributes
    ----------
    last : tuple of (centers, weights, inertia)
        The centers of the last pass, the cluster weights it found (before
        any relocation) and its inertia.
    """

    # The labels are on the workers: a pass does not count their changes
    # (n_changed stays None), so a run stops on ``tol`` or ``max_iter``. From
    # unchanged labels the centers do not move, which is a ``tol`` stop at the
    # same iteration.
    counts_label_changes = True

    def __init__(self, data, n_samples, n_features, dtype, n_clusters):
        self.data = data
        self.rows = _BlockRows(n_samples, n_features, dtype)
        self.n_clusters = n_clusters
        self.n_iter = 0  # passes with update in this run, for the log
        self.last = None

    def new_labels(self):
        """No labels on the driver: they live on the workers."""
        return np.empty(0, dtype=np.int32)

    def __call__(self, centers, labels, update=True):
        """One pass over every block (``labels`` is not used: see :meth:`new_labels`).

        Every pass finds the cluster weights (kept in :attr:`last`, which the
        estimator reports); a pass without ``update`` from the centers of the
        last one (a run that stopped with its centers unchanged) is not
        computed again.
        """
        centers = np.ascontiguousarray(centers, dtype=self.rows.dtype)
        if not update:
            self.n_iter = 0  # a run ends with a pass without update
            if self.last is not None and np.array_equal(self.last[0], centers):
                return Assignment(self.last[2], None, None)
        start = time.perf_counter()
        sums, weights, inertia = self.data.lloyd(centers, update=True)
        self.last = (centers, weights.copy(), inertia)
        if not update:
            return Assignment(inertia, None, None)
        self.n_iter += 1
        logger.debug("Lloyd iteration %d: %.3f s", self.n_iter, time.perf_counter() - start)
        return Assignment(inertia, sums, weights)

    def update_centers(self, centers, labels, assignment):
        """Means of the sums; an empty cluster takes one of the farthest rows of all blocks."""
        sums, weights = assignment.sums, assignment.weights
        empty = np.flatnonzero(weights == 0)
        n_relocated = 0
        if empty.size:
            dist, index, far_labels, far_x, far_w = self.data.far_rows(centers, empty.size)
            moves = relocate(
                empty, dist, far_labels, lambda i: (far_x[i], far_w[i]), sums, weights, index=index,
            )
            n_relocated = len(moves)
        return mean_centers(centers, sums, weights, self.rows.dtype), n_relocated

    def inertia(self, centers, labels):
        """Inertia of the pass from ``centers`` (the labels are the workers')."""
        return self(centers, labels, update=False).inertia
