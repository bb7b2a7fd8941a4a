"""``KMedians``: K-Medians clustering (L1 distance, coordinate-wise weighted medians)."""

import dataclasses

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context

from kmeanskit._algorithms.manhattan import ManhattanStep, kmedians_plusplus_rows
from kmeanskit._algorithms.mapping import DataMapping, abs_max, pow2_scale
from kmeanskit._algorithms.random_state import check_random_state
from kmeanskit._algorithms.rows import DenseRows, n_slabs, slab_bounds
from kmeanskit._engine.manhattan import l1_distances
from kmeanskit._engine.serial import sized
from kmeanskit._estimators._base import (
    SHARED_CONSTRAINTS,
    CenterInferenceMixin,
    CentersMixin,
    check_weights,
    init_constraint,
    tolerance,
)
from kmeanskit._estimators.validation import validate_float_data

__all__ = ["KMedians"]


class KMedians(
    CentersMixin, CenterInferenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """K-Medians clustering: L1 (Manhattan) distance, coordinate-wise medians.

    Each iteration assigns every sample to the center nearest in L1 distance
    (the first on ties), then moves each center to the coordinate-wise
    weighted median of its samples, which is the center minimising the
    cluster's weighted L1 cost. Medians make the centers robust to outliers.
    The convergence loop is the one :class:`KMeans` uses.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of centers to find.
    init : {'k-means++', 'random'} or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        'k-means++' is greedy k-means++ seeding with L1 distances: candidates
        are drawn with probability proportional to ``w_i * D(x_i)``, ``D`` the
        L1 distance to the closest chosen center, ``2 + int(ln k)`` local
        trials per center. 'random' draws ``n_clusters`` distinct samples with
        probability proportional to ``sample_weight``; an array gives the
        initial centers.
    n_init : 'auto' or int, default='auto'
        Number of runs from different initial centers; the one with the lowest
        inertia is kept. 'auto' is 1 for 'k-means++' and an array, 10 for 'random'.
    max_iter : int, default=300
        Maximum number of iterations of one run.
    tol : float, default=1e-4
        Convergence tolerance on the sum of squared shifts of the centers,
        relative to the mean variance of the features (as in :class:`KMeans`).
        A run also stops when the labels no longer change.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation; an int makes results reproducible (and
        bitwise identical whatever the number of threads).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Coordinates of the cluster centers, in X's dtype. Each coordinate is
        the lower weighted median of the cluster's values: the smallest value
        at which the cumulative weight reaches half of the cluster's weight.
    labels_ : ndarray of shape (n_samples,), int32
        Label of each training point (what ``predict`` returns on X).
    inertia_ : float
        Weighted sum of the L1 distances of the samples to their center.
    n_iter_ : int
        Number of iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia of each iteration of the kept run (the cost of the assignment
        made with the centers entering that iteration); it never increases.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    See Also
    --------
    KMeans : squared Euclidean distance and means.

    Notes
    -----
    Only dense input is supported; sparse matrices are refused with a
    ``TypeError`` (convert with ``.toarray()``).

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import KMedians
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0], [10, 90]])
    >>> km = KMedians(n_clusters=2, init=[[0, 0], [9, 9]]).fit(X)
    >>> km.cluster_centers_.tolist()  # the far point does not move the median
    [[1.0, 2.0], [10.0, 2.0]]
    >>> km.inertia_
    96.0
    """

    _parameter_constraints: dict = {**SHARED_CONSTRAINTS, "init": init_constraint({"k-means++", "random"})}
    _ACCEPT_SPARSE = False  # sparse matrices are refused (TypeError)
    _PLUSPLUS = staticmethod(kmedians_plusplus_rows)

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300, tol=1e-4, random_state=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # ----------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-medians clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training instances. Integer data is converted to float64; float32
            stays float32. Sparse matrices are refused (``TypeError``).
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each observation (not all zero), used by the
            seeding, the weighted medians and the inertia.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_float_data(self, X, accept_sparse=False, dtype=[np.float64, np.float32], order="C")
        self._check_counts(X.shape[0])
        sample_weight = check_weights(sample_weight, X)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()
        init_array = self._validated_init_array(X) if self._init_is_array() else None
        # Values so large or small that squared center shifts (and the tolerance, from the variances)
        # would overflow or vanish are fitted times a power of two: exact, medians scale with it.
        mapping = DataMapping(None, pow2_scale(abs_max(X), X.dtype))
        if not mapping.is_identity:
            X = mapping.map_rows(X)
            init_array = None if init_array is None else mapping.map_rows(init_array)
        tol = tolerance(X, self.tol)
        rows = DenseRows(X, sample_weight)
        step = ManhattanStep(rows, self.n_clusters)

        best = self._best_run(step, n_init, init_array, lambda: self._seeded_centers(rows, random_state), tol)
        if not mapping.is_identity:
            with np.errstate(over="ignore"):  # an L1 inertia beyond the range is infinite: honest
                best = dataclasses.replace(
                    best, centers=mapping.unmap_centers(best.centers), inertia=best.inertia / mapping.scale,
                    inertia_history=np.asarray(best.inertia_history) / mapping.scale)
        return self._set_fitted(best)

    # -------------------------------------------------------------- inference
    # predict, transform and score: CenterInferenceMixin, in L1 distance.
    def _assign(self, X, sample_weight=None):
        w = np.ones(X.shape[0], dtype=X.dtype) if sample_weight is None else check_weights(sample_weight, X)
        step = ManhattanStep(DenseRows(X, w), self.n_clusters)
        labels = np.empty(X.shape[0], dtype=np.int32)
        return labels, step(self.cluster_centers_, labels, update=False).inertia

    def _distances(self, X):
        """L1 (Manhattan) distance from each sample to every cluster center."""
        out = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        bounds = slab_bounds(X.shape[0], n_slabs(X.shape[0]))
        sized(l1_distances, X.size)(X, np.ascontiguousarray(self.cluster_centers_, dtype=X.dtype), bounds, out)
        return out
