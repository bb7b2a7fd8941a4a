"""The step interface: what the convergence loop asks of an assignment step.

:func:`~kmeanskit._algorithms.loop.run_kmeans` is written once, for any
object that implements :class:`Step`: the Lloyd step and its exact
accelerations (bounded, distinct), the L1 step of K-Medians, the cosine step
of Spherical K-Means, the step over a stream of chunks and the step over
Dask blocks. A step decides how rows are assigned and how centers are formed
from an assignment; the loop decides when to stop.

The optional capabilities (starting from seeding's labels, counting the labels
a call changed, holding something while a run lasts) are declared here with
their defaults, so the loop never probes for them.
"""

import contextlib
from abc import ABC, abstractmethod

import numpy as np

__all__ = ["Step", "einsum"]

# ``np.einsum`` without optimisation calls this C function with the same arguments
# (the same bits): called directly it skips the Python wrapper's dispatch, a third of
# a small call's cost, paid twice a Lloyd iteration (benchmarks/README.md, "The Lloyd
# step keeps its blocks"). Imported where NumPy keeps it (``numpy._core`` from 2.0,
# ``numpy.core`` before), else the wrapper.
try:
    from numpy._core.multiarray import c_einsum as einsum
except ImportError:
    try:
        from numpy.core.multiarray import c_einsum as einsum
    except ImportError:
        einsum = np.einsum


class Step(ABC):
    """An assignment step over some rows, for a fixed number of clusters.

    Attributes
    ----------
    rows : object
        The rows assigned: at least ``n``, ``d``, ``dtype`` and ``sparse``
        (``DenseRows``, ``CsrRows``, normalised rows, or a description of rows
        that live elsewhere).
    n_clusters : int
    counts_label_changes : bool, default=False
        Whether each call sets :attr:`n_changed`. The loop then detects strict
        convergence from it and keeps no copy of the labels (4 bytes a row).
    n_changed : int or None, default=None
        Labels the last call changed; None when not known (the loop then never
        declares strict convergence and stops on ``tol`` or ``max_iter``).
    takes_seed_labels : bool, default=False
        Whether :meth:`start_from` pays, so that seeding should keep each row's
        nearest initial center for it.
    distinct : Distinct or None, default=None
        The distinct rows the step assigns, which seeding may share.
    """

    counts_label_changes = False
    n_changed = None
    takes_seed_labels = False
    distinct = None

    @abstractmethod
    def __call__(self, centers, labels, update=True):
        """Assign rows to ``centers`` (writes ``labels``, int32, INOUT).

        Parameters
        ----------
        centers : ndarray of shape (n_clusters, n_features)
        labels : ndarray of shape (n_samples,), int32
        update : bool
            Also accumulate what :meth:`update_centers` needs.

        Returns
        -------
        Assignment
        """

    @abstractmethod
    def update_centers(self, centers, labels, assignment):
        """New centers from the last call's ``assignment``, empty clusters relocated
        (see :mod:`kmeanskit._algorithms.relocation`).

        Returns
        -------
        new_centers : ndarray of shape (n_clusters, n_features), the rows' dtype
        n_relocated : int
        """

    @abstractmethod
    def inertia(self, centers, labels):
        """The objective of a given labelling, without reassigning."""

    def center_shift(self, old, new):
        """What the loop compares with ``tol``: by default the sum of squared
        shifts of the centers, in float64."""
        diff = np.subtract(new, old, dtype=np.float64)
        return float(einsum("ij,ij->", diff, diff))

    def run_scope(self):
        """A context manager the loop holds while a run's passes last: what the
        step would otherwise set up and undo around every pass. By default none."""
        return contextlib.nullcontext()

    def new_labels(self):
        """The labels array a run starts from: -1 for every row (no label yet)."""
        return np.full(self.rows.n, -1, dtype=np.int32)

    def start_from(self, labels, centers):
        """Make the next call from ``centers`` start from ``labels`` (each row's
        nearest center as seeding found it). Returns whether the step took them;
        by default it does not, and the run starts from :meth:`new_labels`."""
        return False
