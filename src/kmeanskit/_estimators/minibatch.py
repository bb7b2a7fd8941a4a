"""``MiniBatchKMeans``: a drop-in for :class:`sklearn.cluster.MiniBatchKMeans` on kmeanskit's engine.

Each step samples a batch, assigns it with the fused kernels of
:mod:`kmeanskit._engine.assign` and moves the centers with the per-center
learning rate of :func:`kmeanskit._engine.minibatch.minibatch_update`.
Semantics follow scikit-learn: the same parameters and defaults, the same
random reassignment of low-count centers, the same early stopping on an
exponentially weighted average (EWA) of the batch inertia.

Differences, all for speed or accuracy, none in the results' meaning:

- dense data are centered on their mean (in ``fit``) or on the first batch's
  mean (in ``partial_fit``) before any distance is computed, so float32 stays
  accurate far from the origin; ``predict`` uses the same shift;
- counts and center updates are computed in float64;
- batches are drawn with ``randint`` (unit weights) or a binary search in the
  cumulative weights, O(batch_size) per step instead of O(n_samples).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval

from kmeanskit._algorithms.init import kmeans_plusplus_rows
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.mapping import DataMapping
from kmeanskit._algorithms.minibatch import BatchStep
from kmeanskit._algorithms.random_state import check_random_state
from kmeanskit._algorithms.rows import CsrRows, DenseRows
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.minibatch import gather_rows
from kmeanskit._engine.serial import sized
from kmeanskit._estimators._base import (
    COUNT,
    SHARED_CONSTRAINTS,
    CentersMixin,
    NearestCenterMixin,
    callable_init_centers,
    check_int_param,
    check_weights,
    densify_if_dense,
    init_constraint,
    tolerance,
)
from kmeanskit._estimators.validation import validate_float_data

__all__ = ["MiniBatchKMeans"]


class MiniBatchKMeans(
    CentersMixin, NearestCenterMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Mini-batch K-Means: a drop-in for scikit-learn's ``MiniBatchKMeans``.

    Much faster than full K-Means on large data, at the price of a slightly
    higher inertia: each step moves the centers towards the means of a small
    random batch, with a per-center learning rate that decreases as the
    center sees more points.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of centroids to find.
    init : {'k-means++', 'random'}, callable or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        Initialisation, on a random subset of ``init_size`` rows: greedy
        k-means++, ``n_clusters`` distinct rows drawn with probability
        proportional to ``sample_weight``, a callable
        ``init(X_subset, n_clusters, random_state=rs)``, or the centers.
    max_iter : int, default=100
        Maximum number of passes over the data (``max_iter * n_samples /
        batch_size`` steps) before stopping, independently of early stopping.
    batch_size : int, default=1024
        Rows per mini-batch.
    verbose : int, default=0
        Print scikit-learn's progress lines: each init and its inertia on the
        validation rows, the batch and EWA inertia at each step, random
        reassignments and why the steps stopped.
    compute_labels : bool, default=True
        Compute ``labels_`` and the exact ``inertia_`` over the whole data once
        the centers have converged (one pass); otherwise ``inertia_`` is the
        EWA estimate.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the batch sampling and the reassignments;
        an int makes results reproducible and bitwise identical whatever the
        number of threads.
    tol : float, default=0.0
        Stop when the squared shift of the centers in one step is at most
        ``tol`` times the mean feature variance (0 disables this test).
    max_no_improvement : int or None, default=10
        Stop when the EWA inertia has not improved for this many steps
        (None disables this test).
    init_size : int or None, default=None
        Rows sampled for the initialisation and to choose the best of
        ``n_init`` starts; ``3 * batch_size`` by default (at least
        ``3 * n_clusters``), at most ``n_samples``.
    n_init : 'auto' or int, default='auto'
        Number of initialisations, the best on a validation subset is kept:
        'auto' is 1 for 'k-means++' and an array, 3 otherwise.
    reassignment_ratio : float, default=0.01
        Centers whose count is below this fraction of the largest count are
        moved to random batch rows (every ``10 * n_clusters`` rows seen, and
        whenever a center has seen no row).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Coordinates of the cluster centers, in X's dtype.
    labels_ : ndarray of shape (n_samples,), int32
        Labels of the training data (of the last batch for ``partial_fit``),
        when ``compute_labels``.
    inertia_ : float
        Weighted sum of squared distances of the samples to their closest
        center when ``compute_labels`` (else the EWA estimate).
    n_iter_ : int
        Number of passes over the whole data.
    n_steps_ : int
        Number of mini-batches processed.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]])
    >>> km = MiniBatchKMeans(n_clusters=2, batch_size=6, random_state=0).fit(X)
    >>> km.cluster_centers_.shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **SHARED_CONSTRAINTS,
        "init": init_constraint({"k-means++", "random"}, callable_init=True),
        "verbose": ["verbose"],
        "batch_size": [COUNT],
        "compute_labels": ["boolean"],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
        "init_size": [COUNT, None],
        "reassignment_ratio": [Interval(Real, 0, None, closed="left")],
    }
    # n_init='auto' is one run for these, three otherwise (scikit-learn's rule).
    _ONE_RUN_INITS = ("k-means++",)
    _AUTO_N_INIT = 3
    _PLUSPLUS = staticmethod(kmeans_plusplus_rows)

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio

    # Inference (predict, transform, score) is KMeans's: NearestCenterMixin.

    # ------------------------------------------------------------ parameters
    def _check_params_vs_input(self, X):
        self._check_counts(X.shape[0])
        for name in ("batch_size", "max_no_improvement", "init_size"):
            check_int_param(name, getattr(self, name))
        self._batch_size = min(self.batch_size, X.shape[0])
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * self._batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warnings.warn(
                f"init_size={init_size} should be larger than n_clusters={self.n_clusters}. "
                "Setting it to min(3*n_clusters, n_samples)",
                RuntimeWarning,
                stacklevel=4,  # this method, fit, scikit-learn's _fit_context, the caller
            )
            init_size = 3 * self.n_clusters
        self._init_size = min(init_size, X.shape[0])

    # ------------------------------------------------------------- mapping
    def _mapping(self, sparse=False):
        """The fit's :class:`DataMapping` (CSR rows are never mapped: the identity)."""
        return DataMapping() if sparse else DataMapping(self._X_mean, self._scale)

    def _map_rows(self, X):
        """Mapped dense rows (a new array) or CSR rows as they are."""
        if sp.issparse(X) or self._X_mean is None:
            return X
        out = np.empty(X.shape, dtype=X.dtype)
        sized(gather_rows, X.size)(
            X, np.arange(X.shape[0], dtype=np.int64), self._X_mean.astype(X.dtype), self._scale, out
        )
        return out

    def _start_steps(self, mapping, tol, batch_size):
        """Set the state the steps carry (mapping, tolerance, counts, early stopping).

        ``fit``, the first ``partial_fit`` and the out-of-core fit start here.
        """
        self._X_mean, self._scale = mapping.shift, mapping.scale
        self._tol = tol
        self._batch_size = batch_size
        self._counts = np.zeros(self.n_clusters)
        self._n_since_last_reassign = 0
        self._reset_convergence()

    def _set_centers(self, centers, sparse, dtype):
        """Store the mapped ``centers`` of the last step as ``cluster_centers_`` (in ``dtype``)."""
        self.cluster_centers_ = np.ascontiguousarray(self._mapping(sparse).unmap_centers(centers), dtype=dtype)
        self._n_features_out = self.n_clusters

    def _initial_centers(self, X, sample_weight, init_array, random_state):
        """Centers from ``init`` on a random subset of ``init_size`` rows, mapped."""
        n = X.shape[0]
        sparse = sp.issparse(X)
        if self._init_size < n:
            subset = random_state.randint(0, n, self._init_size)
            X, sample_weight = X[subset], sample_weight[subset]
        if init_array is not None:
            return self._mapping(sparse).map_centers(init_array)
        if callable(self.init):
            centers = callable_init_centers(self.init, X, self.n_clusters, random_state)
            return self._mapping(sparse).map_centers(centers)
        if not sample_weight.any():
            sample_weight = np.ones_like(sample_weight)  # the subset drew only zero weights
        Xm = self._map_rows(X)
        rows = CsrRows(Xm, sample_weight) if sparse else DenseRows(Xm, sample_weight)
        return self._seeded_centers(rows, random_state)

    @staticmethod
    def _rows_inertia(rows, centers):
        labels = np.empty(rows.n, dtype=np.int32)
        return LloydStep(rows, centers.shape[0])(centers, labels, update=False).inertia

    def _step(self, step, Xb, wb, centers, random_state, row_sq=None):
        """One :class:`BatchStep` with this estimator's counts and reassignment schedule
        (``fit``, ``partial_fit`` and the out-of-core mini-batch passes all step here)."""
        return step(
            Xb, wb, centers, self._counts, row_sq=row_sq, random_state=random_state,
            reassign=self._random_reassign(), verbose=self.verbose,
        )

    # --------------------------------------------------------- convergence
    def _random_reassign(self):
        """Whether to reassign now: every ``10 * n_clusters`` rows, or when a center saw none."""
        self._n_since_last_reassign += self._batch_size
        if (self._counts == 0).any() or self._n_since_last_reassign >= 10 * self.n_clusters:
            self._n_since_last_reassign = 0
            return True
        return False

    def _mini_batch_convergence(self, step, n_steps, n_samples, centers_squared_diff, batch_inertia):
        """scikit-learn's early stopping: tol on the center shift, or no EWA improvement."""
        batch_inertia /= self._batch_size
        step = step + 1
        # The first step's inertia is that of the initialisation.
        if step == 1:
            if self.verbose:
                print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}")
            return False
        if self._ewa_inertia is None:
            self._ewa_inertia = batch_inertia
        else:
            alpha = min(self._batch_size * 2.0 / (n_samples + 1), 1)
            self._ewa_inertia = self._ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if self.verbose:
            print(
                f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}, "
                f"ewa inertia: {self._ewa_inertia}"
            )
        if self._tol > 0.0 and centers_squared_diff <= self._tol:
            if self.verbose:
                print(f"Converged (small centers change) at step {step}/{n_steps}")
            return True
        if self._ewa_inertia_min is None or self._ewa_inertia < self._ewa_inertia_min:
            self._no_improvement = 0
            self._ewa_inertia_min = self._ewa_inertia
        else:
            self._no_improvement += 1
        if self.max_no_improvement is not None and self._no_improvement >= self.max_no_improvement:
            if self.verbose:
                print(f"Converged (lack of improvement in inertia) at step {step}/{n_steps}")
            return True
        return False

    def _reset_convergence(self):
        self._ewa_inertia = None
        self._ewa_inertia_min = None
        self._no_improvement = 0

    # -------------------------------------------------------------- fitting
    def _validate_fit_input(self, X, sample_weight, reset):
        X = validate_float_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
            accept_large_sparse=False, reset=reset,
        )
        X = densify_if_dense(X)
        return X, check_weights(sample_weight, X)

    @staticmethod
    def _fit_mapping(X):
        """Dense rows are centered on their mean (and scaled if huge); CSR rows are used as they are."""
        return DataMapping() if sp.issparse(X) else DataMapping.on_mean(X)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centroids on X by chunking it into mini-batches.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training instances. Integer data is converted to float64; float32
            stays float32. Sparse input is used as CSR. X is never copied
            whole (dense batches are gathered and centered as they are drawn).
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (not all zero). Batches are drawn with
            probability proportional to the weights (each drawn row then counts
            once), and the weights enter the initialisation (except a
            user-given array or callable) and ``inertia_``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, sample_weight = self._validate_fit_input(X, sample_weight, reset=True)
        self._check_params_vs_input(X)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()
        n_samples, n_features = X.shape
        sparse = sp.issparse(X)
        init_array = self._validated_init_array(X) if self._init_is_array() else None

        mapping = self._fit_mapping(X)
        tol = tolerance(X, self.tol) * mapping.scale**2 if self.tol else 0.0
        self._start_steps(mapping, tol, self._batch_size)
        x_sq = CsrRows(X, sample_weight).x_sq if sparse else None

        # A validation subset chooses the best of the n_init starts.
        valid = random_state.randint(0, n_samples, self._init_size)
        X_valid, w_valid = self._map_rows(X[valid]), sample_weight[valid]
        valid_rows = CsrRows(X_valid, w_valid) if sparse else DenseRows(X_valid, w_valid)
        centers = self._best_init(X, sample_weight, init_array, random_state, valid_rows, n_init)
        centers = np.ascontiguousarray(centers, dtype=X.dtype)

        step = BatchStep(self.n_clusters, n_features, X.dtype, sparse, self.reassignment_ratio)
        b = self._batch_size
        n_steps = (self.max_iter * n_samples) // b
        unit_weights = np.ones(b, dtype=X.dtype)
        w64 = sample_weight.astype(np.float64)
        uniform = bool(np.all(w64 == w64[0]))
        cumulative = None if uniform else np.cumsum(w64)
        Xb = None if sparse else np.empty((b, n_features), dtype=X.dtype)
        shift = None if sparse else self._X_mean.astype(X.dtype)

        i = -1
        with single_threaded_blas():
            for i in range(n_steps):
                # Rows drawn with probability proportional to their weight
                # (with replacement); each then counts once in the update.
                if uniform:
                    indices = random_state.randint(0, n_samples, b).astype(np.int64)
                else:
                    draws = random_state.uniform(0.0, cumulative[-1], b)
                    indices = np.minimum(np.searchsorted(cumulative, draws, side="right"), n_samples - 1)
                if sparse:
                    Xb, row_sq = X[indices], x_sq[indices]
                else:
                    sized(gather_rows, Xb.size)(X, indices, shift, self._scale, Xb)
                    row_sq = None
                batch_inertia, centers, sq_shift = self._step(step, Xb, unit_weights, centers, random_state, row_sq)
                if self._mini_batch_convergence(i, n_steps, n_samples, sq_shift if self._tol > 0 else 0, batch_inertia):
                    break

        self._set_centers(centers, sparse, X.dtype)
        self.n_steps_ = i + 1
        self.n_iter_ = int(np.ceil((i + 1) * b / n_samples))
        if self.compute_labels:
            # No warning when some centers end with no row: scikit-learn's
            # MiniBatchKMeans gives none (only KMeans warns of "distinct clusters"),
            # and mini-batch steps leave centers empty on data without duplicates too.
            labels, inertia = self._assign(X, sample_weight)
            self.labels_, self.inertia_ = labels, float(inertia)
        else:
            ewa = self._ewa_inertia if self._ewa_inertia is not None else batch_inertia / b
            self.inertia_ = float(ewa * w64.sum() / self._scale**2)
        return self

    def _best_init(self, X, sample_weight, init_array, random_state, valid_rows, n_init):
        """The initial centers (mapped) of lowest inertia on the validation rows."""
        best_inertia, best = None, None
        for run in range(n_init):
            if self.verbose:
                print(f"Init {run + 1}/{n_init} with method {self.init}")
            candidate = self._initial_centers(X, sample_weight, init_array, random_state)
            inertia = self._rows_inertia(valid_rows, candidate)
            if self.verbose:
                print(f"Inertia for init {run + 1}/{n_init}: {inertia}")
            if best_inertia is None or inertia < best_inertia:
                best, best_inertia = candidate, inertia
        return best

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the centers with one mini-batch: all of X.

        The first call initialises the centers on X (on ``init_size`` of its
        rows) and fixes the shift that centers later batches (X's mean).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The batch. After the first call it is converted to the dtype of
            ``cluster_centers_``.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the update (not used by a user-given init).

        Returns
        -------
        self : object
            Updated estimator.
        """
        has_centers = hasattr(self, "cluster_centers_")
        if has_centers:
            X = validate_float_data(
                self, X, accept_sparse="csr", dtype=self.cluster_centers_.dtype, order="C",
                accept_large_sparse=False, reset=False,
            )
            X = densify_if_dense(X)
            sample_weight = check_weights(sample_weight, X)
        else:
            X, sample_weight = self._validate_fit_input(X, sample_weight, reset=True)
        self._random_state = getattr(self, "_random_state", None) or check_random_state(self.random_state)
        self.n_steps_ = getattr(self, "n_steps_", 0)
        sparse = sp.issparse(X)

        if not has_centers:
            self._check_params_vs_input(X)
            self._resolve_n_init()  # one init here; scikit-learn's _n_init (and its warning for an array)
            init_array = self._validated_init_array(X) if self._init_is_array() else None
            self._start_steps(self._fit_mapping(X), 0.0, self._batch_size)
            centers = self._initial_centers(X, sample_weight, init_array, self._random_state)
            self._set_centers(centers, sparse, X.dtype)

        mapped_centers = self._mapping(sparse).map_centers(self.cluster_centers_)
        step = BatchStep(self.n_clusters, X.shape[1], X.dtype, sparse, self.reassignment_ratio)
        row_sq = CsrRows(X, sample_weight).x_sq if sparse else None
        with single_threaded_blas():
            _, centers, _ = self._step(step, self._map_rows(X), sample_weight, mapped_centers, self._random_state, row_sq)
        self._set_centers(centers, sparse, X.dtype)
        if self.compute_labels:
            self.labels_, self.inertia_ = self._assign(X, sample_weight)
            self.inertia_ = float(self.inertia_)
        self.n_steps_ += 1
        return self
