"""What every estimator shares: parameter constraints and checks, ``n_init``, the
initial centers a user gives (array or callable), the fit's bookkeeping, and
``predict`` / ``transform`` / ``score``.

The estimators (KMeans, MiniBatchKMeans, KMedians, SphericalKMeans and the Dask
KMeans) differ in their steps and their distance, not in how they validate
parameters, resolve ``n_init``, keep the best run or answer ``predict``: that
is written once here.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import row_norms
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.registry import SEEDERS
from kmeanskit._algorithms.rows import as_rows, prediction_rows
from kmeanskit._engine import moments
from kmeanskit._engine.serial import sized
from kmeanskit._estimators.missing import has_gaps, masked_assign, masked_distances, validate_allowing_missing
from kmeanskit._estimators.validation import RememberedParamsMixin

__all__ = [
    "COUNT",
    "DENSIFY_ABOVE",
    "SHARED_CONSTRAINTS",
    "CentersMixin",
    "CenterInferenceMixin",
    "NearestCenterMixin",
    "callable_init_centers",
    "check_centers_shape",
    "check_init_array",
    "check_int_param",
    "check_weights",
    "densify_if_dense",
    "init_constraint",
    "is_arraylike_not_scalar",
    "mean_and_variances",
    "tolerance",
    "warn_if_fewer_clusters",
]

# ------------------------------------------------------------ parameters
COUNT = Interval(Integral, 1, None, closed="left")
# The parameters every estimator has, constrained alike (scikit-learn's validation).
SHARED_CONSTRAINTS = {
    "n_clusters": [COUNT],
    "n_init": [StrOptions({"auto"}), COUNT],
    "max_iter": [COUNT],
    "tol": [Interval(Real, 0, None, closed="left")],
    "random_state": ["random_state"],
}

# CSR input denser than this is clustered as a dense array: it takes no more
# memory, runs faster, and centering keeps it accurate far from the origin.
DENSIFY_ABOVE = 0.5
_TRANSFORM_BLOCK_ROWS = 1 << 16
# Squared distances recomputed from the differences at most this many at a time.
_EXACT_CHUNK = 1 << 14


def init_constraint(options, *, callable_init=False):
    """The constraint of ``init``: one of ``options``, an array of centers, or (if allowed) a callable."""
    return [StrOptions(set(options)), *([callable] if callable_init else []), "array-like"]


def check_int_param(name, value):
    """Refuse a bool where a count is expected (it passes scikit-learn's Integral constraint)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The '{name}' parameter must be an int, got the bool {value!r}.")


def is_arraylike_not_scalar(x):
    return (hasattr(x, "__len__") or hasattr(x, "shape") or hasattr(x, "__array__")) and not isinstance(x, str)


def check_weights(sample_weight, X):
    """Validated weights in X's dtype: non-negative, finite, not all zero."""
    w = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinity; every weight must be finite.")
    if not w.any():
        raise ValueError(
            f"sample_weight sums to zero over all {X.shape[0]} samples; at least one "
            "weight must be positive."
        )
    return w


def densify_if_dense(X):
    """CSR X as a dense array when more than half its values are stored."""
    if sp.issparse(X) and X.nnz > DENSIFY_ABOVE * X.shape[0] * X.shape[1]:
        return X.toarray()
    return X


def mean_and_variances(X):
    """Feature means and variances of dense X (at least one row), float64, without a temporary the size of X."""
    mean, variances = np.empty(X.shape[1]), np.empty(X.shape[1])
    sized(moments.mean_and_variances, X.size)(X, mean, variances)
    return mean, variances


def tolerance(X, tol):
    """``tol`` scaled by the mean feature variance, as scikit-learn does."""
    if tol == 0:
        return 0.0
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        variances = mean_variance_axis(X, axis=0)[1]
    else:
        variances = mean_and_variances(X)[1]
    return float(np.mean(variances) * tol)


# -------------------------------------------------------- initial centers
def check_centers_shape(centers, n_clusters, n_features, requirement):
    """scikit-learn's errors for initial centers of the wrong shape, with ``requirement`` said after them."""
    expected = (
        f"{requirement} (n_clusters, n_features) for n_clusters={n_clusters} and "
        f"n_features={n_features}; expected {(n_clusters, n_features)}"
    )
    if centers.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match the number of "
            f"clusters {n_clusters}: {expected}."
        )
    if centers.shape[1] != n_features:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match the number of "
            f"features of the data {n_features}: {expected}."
        )


def check_init_array(init, n_clusters, n_features, dtype):
    """The ``init`` array as a C-ordered copy in ``dtype``, of shape ``(n_clusters, n_features)``."""
    init = check_array(init, dtype=dtype, copy=True, order="C", input_name="init")
    check_centers_shape(init, n_clusters, n_features, "init must have shape")
    return init


def callable_init_centers(init, X, n_clusters, random_state):
    """The centers ``init(X, n_clusters, random_state=random_state)`` returns, checked (X's dtype, C order)."""
    centers = init(X, n_clusters, random_state=random_state)
    if sp.issparse(centers):
        centers = centers.toarray()
    centers = check_array(centers, dtype=X.dtype, order="C", input_name="init(...) result")
    check_centers_shape(centers, n_clusters, X.shape[1], "a callable init must return shape")
    return centers


def _is_same_clustering(labels1, labels2, n_clusters):
    """Whether two labellings are equal up to a permutation of cluster ids."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    mapping[labels1] = labels2
    return bool(np.array_equal(mapping[labels1], labels2))


def warn_if_fewer_clusters(distinct, n_clusters, stacklevel):
    """scikit-learn's warning when fewer distinct clusters than ``n_clusters`` were found."""
    if distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than "
            f"n_clusters ({n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=stacklevel + 1,
        )


class CentersMixin(RememberedParamsMixin):
    """The fit's bookkeeping that the estimators share around their own steps
    (and scikit-learn's parameter validation, skipped for settings that passed it before).

    A class sets ``_ONE_RUN_INITS`` (the ``init`` values for which
    ``n_init='auto'`` is one run), ``_AUTO_N_INIT`` (the runs otherwise) and
    ``_PLUSPLUS``, its greedy k-means++ seeder (in its own distance), as
    ``staticmethod(seeder)`` with ``seeder(rows, n_clusters, random_state)``
    returning ``(centers, indices)``.
    """

    _ONE_RUN_INITS = ("auto", "k-means++", "k-means||")
    _AUTO_N_INIT = 10
    _PLUSPLUS = None

    def _init_is_array(self):
        return is_arraylike_not_scalar(self.init) and not callable(self.init)

    def _resolve_n_init(self):
        """The number of runs, also kept as ``_n_init`` (scikit-learn's private attribute).

        Called from ``fit`` (under scikit-learn's ``_fit_context``): the
        warning points at the line that called ``fit``.
        """
        init_is_array = self._init_is_array()
        if self.n_init == "auto":
            one_run = init_is_array or (isinstance(self.init, str) and self.init in self._ONE_RUN_INITS)
            self._n_init = 1 if one_run else self._AUTO_N_INIT
        elif init_is_array and self.n_init != 1:
            warnings.warn(
                f"Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={self.n_init}.",
                RuntimeWarning,
                stacklevel=4,
            )
            self._n_init = 1
        else:
            self._n_init = self.n_init
        return self._n_init

    def _validated_init_array(self, X):
        return check_init_array(self.init, self.n_clusters, X.shape[1], X.dtype)

    def _check_counts(self, n_samples):
        for name in ("n_clusters", "max_iter", "n_init"):
            check_int_param(name, getattr(self, name))
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")

    def _random_centers(self, rows, random_state, n_clusters=None):
        n_clusters = self.n_clusters if n_clusters is None else n_clusters
        n_positive = int(np.count_nonzero(rows.w))
        if n_positive < n_clusters:
            raise ValueError(
                f"init='random' draws n_clusters={n_clusters} distinct samples with "
                f"probability proportional to sample_weight, but only {n_positive} samples "
                "have a positive weight; use init='k-means++' or fewer clusters."
            )
        return SEEDERS["random"](rows, n_clusters, random_state)

    def _seeded_centers(self, rows, random_state, init=None, n_clusters=None):
        """Initial centers for ``init`` 'k-means++' (the class's seeder) or 'random'
        (``init`` and ``n_clusters`` default to the estimator's)."""
        init = self.init if init is None else init
        n_clusters = self.n_clusters if n_clusters is None else n_clusters
        if init == "k-means++":
            return self._PLUSPLUS(rows, n_clusters, random_state)[0]
        return self._random_centers(rows, random_state, n_clusters)

    def _best_run(self, step, n_init, init_array, initial_centers, tol):
        """The run of lowest inertia over ``n_init`` starts (scikit-learn's rule:
        a run replaces the best only if it is a different clustering)."""
        best = None
        verbose = getattr(self, "verbose", 0)
        for _ in range(n_init):
            seed = init_array if init_array is not None else initial_centers()
            if verbose:
                print("Initialization complete")
            # (centers, each row's nearest center) when seeding found those too
            centers_init, labels = seed if isinstance(seed, tuple) else (seed, None)
            run = run_kmeans(step, centers_init, max_iter=self.max_iter, tol=tol, verbose=verbose, labels=labels)
            if best is None or (
                run.inertia < best.inertia and not _is_same_clustering(run.labels, best.labels, self.n_clusters)
            ):
                best = run
        distinct = int(np.count_nonzero(np.bincount(best.labels, minlength=self.n_clusters)))
        warn_if_fewer_clusters(distinct, self.n_clusters, stacklevel=4)
        return best

    def _set_fitted(self, run, **state):
        """Store a finished run (a ``KMeansRun`` in X's units) as the fitted attributes.

        Every fitted estimator of a run, in memory or out of core, is built
        here; ``state`` is the private state its inference reads (``_X_mean``:
        the shift of the Euclidean estimators' :class:`DataMapping`, or None).
        """
        for name, value in state.items():
            setattr(self, name, value)
        self.cluster_centers_ = run.centers
        self._n_features_out = self.n_clusters
        self.labels_ = run.labels
        self.inertia_ = float(run.inertia)
        self.n_iter_ = run.n_iter
        self.inertia_history_ = run.inertia_history
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return the label of each training sample (``labels_``)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of X to the centers (see ``transform``)."""
        return self.fit(X, sample_weight=sample_weight).transform(X)


# -------------------------------------------------------------- inference
class CenterInferenceMixin(TransformerMixin):
    """``predict``, ``transform`` and ``score`` from three hooks of the estimator:
    ``_prepare_test_data(X)`` (after validation), ``_assign(X, sample_weight)``
    -> ``(labels, inertia)`` and ``_distances(X)``, in its own distance.

    ``_ACCEPT_SPARSE`` is the ``accept_sparse`` of validation ("csr" or False).
    A TransformerMixin itself, so that scikit-learn's ``set_output`` wraps the
    ``transform`` defined here (it wraps only methods in a class's own dict).
    """

    _ACCEPT_SPARSE = "csr"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = bool(self._ACCEPT_SPARSE)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _prepare_test_data(self, X):
        return X

    def _check_test_data(self, X):
        # scikit-learn's check (and message) unless the centers, which every fit sets, are there.
        if "cluster_centers_" not in vars(self) or hasattr(self, "__sklearn_is_fitted__"):
            check_is_fitted(self)
        # int64-indexed CSR is refused (the kernels take int32 indices); when no
        # sparse input is accepted, scikit-learn's own TypeError says so first.
        # NaN passes only for a model of missing='ignore' (see _estimators/missing.py).
        X = validate_allowing_missing(
            self, X, accept_sparse=self._ACCEPT_SPARSE, reset=False, dtype=self.cluster_centers_.dtype,
            order="C", accept_large_sparse=not self._ACCEPT_SPARSE,
        )
        return self._prepare_test_data(X)

    def predict(self, X):
        """Index of the closest cluster center (in the estimator's distance) for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        X = self._check_test_data(X)
        return self._assign(X)[0]

    def transform(self, X):
        """Distance from each sample to every cluster center, in the estimator's distance.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters), X's dtype
        """
        X = self._check_test_data(X)
        return self._distances(X)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of X on the fitted centers (higher is better).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        X = self._check_test_data(X)
        return -self._assign(X, sample_weight)[1]


class NearestCenterMixin(CenterInferenceMixin):
    """Inference of the Euclidean estimators (KMeans, MiniBatchKMeans): rows are
    mapped as in the fit (``_X_mean``, power-of-two scaling) and assigned by the Lloyd step.

    Also scikit-learn's private seeding hook of these two estimators,
    ``_init_centroids``, which code written against scikit-learn calls.
    """

    def _prepare_test_data(self, X):
        return densify_if_dense(X)

    def _init_centroids(
        self, X, x_squared_norms, init, random_state, sample_weight, init_size=None, n_centroids=None
    ):
        """Initial centers, with the signature of scikit-learn's ``_BaseKMeans._init_centroids``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Validated data (float32 or float64; dense in C order, or CSR),
            seeded on as given.
        x_squared_norms : ndarray of shape (n_samples,)
            Accepted for scikit-learn's signature; the seeders compute the
            norms they need from X.
        init : {'k-means++', 'random'}, callable or ndarray of shape (n_centroids, n_features)
            scikit-learn's values: greedy k-means++ (the rows scikit-learn
            draws), distinct rows drawn with probability proportional to
            ``sample_weight``, ``init(X, n_centroids, random_state=random_state)``,
            or the centers themselves.
        random_state : RandomState instance
        sample_weight : ndarray of shape (n_samples,)
            Used by 'k-means++' and 'random', not by a callable or an array.
        init_size : int, default=None
            Seed on this many rows drawn at random (with replacement) when
            fewer than ``n_samples``.
        n_centroids : int, default=None
            Number of centers; ``n_clusters`` when None.

        Returns
        -------
        centers : ndarray of shape (n_centroids, n_features), X's dtype
        """
        n_centroids = self.n_clusters if n_centroids is None else n_centroids
        if init_size is not None and init_size < X.shape[0]:
            subset = random_state.randint(0, X.shape[0], init_size)
            X, sample_weight = X[subset], sample_weight[subset]
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(
                    f"_init_centroids takes scikit-learn's values of init: 'k-means++', 'random', "
                    f"a callable or an array; got init={init!r}."
                )
            rows = as_rows(X, np.asarray(sample_weight, dtype=X.dtype))
            return self._seeded_centers(rows, random_state, init, n_centroids)
        if callable(init):
            return callable_init_centers(init, X, n_centroids, random_state)
        return check_init_array(init, n_centroids, X.shape[1], X.dtype)

    def _rows_and_centers(self, X, sample_weight):
        """Rows mapped as in fit (block by block, X is not copied) and mapped centers.

        Returns the rows, the mapped centers and the scale (distances in the
        mapped space are ``scale`` times the true ones).
        """
        if sp.issparse(X):
            return as_rows(X, sample_weight), self.cluster_centers_, 1.0
        return prediction_rows(X, sample_weight, self.cluster_centers_, self._X_mean)

    def _has_gaps(self, X):
        return getattr(self, "missing", "error") == "ignore" and has_gaps(X)

    def _assign(self, X, sample_weight=None):
        w = None if sample_weight is None else check_weights(sample_weight, X)  # None: unit weights
        if self._has_gaps(X):
            return masked_assign(X, self.cluster_centers_, w, self._X_mean)
        rows, centers, scale = self._rows_and_centers(X, w)
        labels = np.empty(X.shape[0], dtype=np.int32)
        assignment = LloydStep(rows, self.n_clusters)(centers, labels, update=False)
        return labels, assignment.inertia / scale / scale

    def _distances(self, X):
        """Euclidean distances, block by block in the mapped space; a row equal to a center is at 0 (rows with
        gaps: over their observed entries)."""
        if self._has_gaps(X):
            return masked_distances(X, self.cluster_centers_, self._X_mean)
        rows, centers, scale = self._rows_and_centers(X, None)
        out = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        centers64 = centers.astype(np.float64)
        # The float64 squared norms scikit-learn computes for its identity (the same
        # bits), computed once here and given to it; the cancellation test reads them too.
        c_sq = row_norms(centers64, squared=True)
        for start, stop, Xb in rows.blocks(_TRANSFORM_BLOCK_ROWS):
            x_sq = row_norms(Xb.astype(np.float64, copy=False), squared=True)
            sq = euclidean_distances(Xb, centers, X_norm_squared=x_sq, Y_norm_squared=c_sq, squared=True)
            _resolve_cancellation(Xb, x_sq, centers64, c_sq, sq)
            out[start:stop] = np.sqrt(sq, out=sq)
        if scale != 1.0:
            out /= X.dtype.type(scale)
        return out


def _resolve_cancellation(Xb, x_sq, centers64, c_sq, sq):
    """Recompute from the differences the squared distances ``sq`` (INOUT) that
    ``|x|^2 - 2 x.c + |c|^2`` cannot resolve: those within its rounding,
    ``2 (d + 2) eps (|x|^2 + |c|^2)``, of zero. A row equal to a center gets
    exactly 0, as the direct difference gives (scikit-learn gets 0 only when
    X is the centers array itself).

    Parameters
    ----------
    Xb : {ndarray, CSR matrix} of shape (b, d)
    x_sq : ndarray of shape (b,), float64 squared norms of the rows
    centers64 : ndarray of shape (k, d), float64
    c_sq : ndarray of shape (k,), float64 squared norms of the centers
    sq : ndarray of shape (b, k), squared distances
    """
    sparse = sp.issparse(Xb)
    slack = 2 * (Xb.shape[1] + 2) * np.finfo(np.float64).eps
    # One elementwise read of sq against the block's largest bound finds the
    # candidates; each is then held to its own bound.
    rows, cols = np.divmod(np.flatnonzero(sq <= slack * (x_sq.max() + c_sq.max())), sq.shape[1])
    keep = sq[rows, cols] <= slack * (x_sq[rows] + c_sq[cols])
    rows, cols = rows[keep], cols[keep]
    for start in range(0, rows.size, _EXACT_CHUNK):
        r, c = rows[start : start + _EXACT_CHUNK], cols[start : start + _EXACT_CHUNK]
        # Only these rows in float64 (no copy of the block).
        diff = np.asarray(Xb[r].toarray() if sparse else Xb[r], dtype=np.float64) - centers64[c]
        sq[r, c] = np.einsum("ij,ij->i", diff, diff)
