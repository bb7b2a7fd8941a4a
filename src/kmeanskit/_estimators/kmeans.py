"""``KMeans``: a drop-in for :class:`sklearn.cluster.KMeans` on kmeanskit's engine."""

import dataclasses
import warnings
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import check_array

from kmeanskit._algorithms.init import kmeans_plusplus_rows
from kmeanskit._algorithms.mapping import DataMapping, abs_max, pow2_scale
from kmeanskit._algorithms.random_state import check_random_state
from kmeanskit._algorithms.registry import SEEDERS, fit_step
from kmeanskit._algorithms.rows import DenseRows, as_rows
from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._engine.serial import SERIAL_MAX_VALUES
from kmeanskit._estimators._base import (
    COUNT,
    SHARED_CONSTRAINTS,
    CentersMixin,
    NearestCenterMixin,
    callable_init_centers,
    check_weights,
    densify_if_dense,
    init_constraint,
    mean_and_variances,
    tolerance,
)
from kmeanskit._estimators.missing import MISSING_CONSTRAINT, fit_masked, has_gaps, validate_allowing_missing

__all__ = ["KMeans", "k_means", "kmeans_plusplus"]

# Data are centered (a copy of X) when the mean's squared norm exceeds this
# many times the total variance: the rounding of |x|^2 - 2 x.c + |c|^2 grows
# with |x|^2, so data near the origin lose nothing by staying where they are.
_CENTER_ABOVE = 1.0
# init='auto' seeds with k-means|| from these sizes on (see _use_parallel_init).
PARALLEL_INIT_MIN_ROWS = 50_000
PARALLEL_INIT_MIN_FEATURES = 16
PARALLEL_INIT_MIN_ROWS_PER_CLUSTER = 100


class KMeans(
    CentersMixin, NearestCenterMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """K-Means clustering, exact and fast: a drop-in for scikit-learn's ``KMeans``.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of centroids to find.
    init : {'auto', 'k-means++', 'k-means||', 'random'}, callable or \
            array-like of shape (n_clusters, n_features), default='auto'
        How the initial centers are chosen.

        - 'k-means++': greedy k-means++ (``2 + int(ln k)`` local trials per
          center), as scikit-learn: ``k - 1`` passes over the data.
        - 'k-means||': scalable k-means++ (Bahmani et al. 2012): two passes
          that draw about ``2 k`` candidates each, then greedy k-means++ and
          Lloyd on the weighted candidates (best of 10). Much faster on large
          data, and it reached a lower final inertia than 'k-means++' on
          every blob case of ``python -m benchmarks seeding``.
        - 'auto': 'k-means||' for dense data of at least 50,000 rows, 16
          features and 100 rows a cluster, 'k-means++' otherwise (the
          benchmark table behind this rule is in the README, "Speed").
        - 'random': ``n_clusters`` distinct rows drawn with probability
          proportional to ``sample_weight``.
        - An array gives the initial centers; a callable is called as
          ``init(X, n_clusters, random_state=rs)`` on the (mean-centered)
          data and returns the centers.
    n_init : 'auto' or int, default='auto'
        Number of runs from different initial centers; the one with the lowest
        inertia is kept. 'auto' is 1 for 'auto', 'k-means++', 'k-means||' and
        an array, 10 otherwise.
    max_iter : int, default=300
        Maximum number of iterations of one run.
    tol : float, default=1e-4
        Convergence tolerance on the squared shift of the centers, relative to
        the mean variance of the features.
    verbose : int, default=0
        Print scikit-learn's progress lines: "Initialization complete" after
        each seeding, "Iteration i, inertia x." at each iteration and how the
        run converged ("strict convergence", or the center shift within the
        tolerance).
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation; an int makes results reproducible (and
        bitwise identical whatever the number of threads).
    copy_x : bool, default=True
        Dense X far from the origin (squared norm of the mean above the total
        variance) is centered for accuracy, on a copy; if False, in place, and
        restored afterwards (up to rounding). Data near the origin are used as
        they are, never copied.
    algorithm : {'auto', 'lloyd', 'hamerly', 'elkan', 'yinyang'}, default='auto'
        How each iteration finds the nearest centers; all give the same
        result from the same initial centers (labels, centers, ``n_iter_``).

        - 'lloyd': every distance, every iteration (GEMM-based).
        - 'hamerly': skips the rows whose nearest center triangle-inequality
          bounds already prove (one bound per row, no n-by-k array).
        - 'elkan': accepted for compatibility with scikit-learn; runs 'hamerly'.
        - 'yinyang' (kmeanskit's own): one bound per group of about ten
          centers (Ding et al. 2015), for many clusters; with 24 features or
          more it runs 'hamerly'.
        - 'auto': for dense data 'lloyd' on small inputs (rows x clusters x
          features below 2^22) and where clusters x features is below 160
          (unless most rows are repeats), 'yinyang' from 1000 clusters with
          fewer than 24 features, 'hamerly' otherwise; 'lloyd' for sparse data.
    missing : {'error', 'ignore'}, default='error'
        What NaN entries of X mean.

        - 'error': they are refused, as by scikit-learn.
        - 'ignore': they are missing values. The objective is the
          within-cluster sum of squares over the observed entries (k-POD,
          Chi, Chi & Baraniuk 2016): rows are assigned by their observed
          coordinates, and each center coordinate is the mean of the
          observed entries of its cluster in that feature (a coordinate
          with none keeps its previous value). Seeding is k-means++ on
          these partial distances ('k-means||' and 'auto' too), a drawn
          row's gaps taking the feature's observed mean. ``predict``,
          ``transform`` and ``score`` take rows with gaps; ``transform``
          then gives distances over each row's observed entries, which are
          not comparable between rows with different numbers of observed
          entries. A row with no observed entry, or a feature with no
          observed value in the training data, is an error. Data without
          NaN are clustered exactly as with 'error'. Dense X only.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Coordinates of the cluster centers, in X's dtype.
    labels_ : ndarray of shape (n_samples,), int32
        Label of each training point (what ``predict`` returns on X).
    inertia_ : float
        Weighted sum of squared distances of the samples to their center.
    n_iter_ : int
        Number of iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia of each iteration of the kept run: the cost of the assignment
        made with the centers entering that iteration. It never increases
        (up to rounding); ``inertia_`` is the cost of the final centers.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    """

    _parameter_constraints: dict = {
        **SHARED_CONSTRAINTS,
        "init": init_constraint({"auto", "k-means++", "k-means||", "random"}, callable_init=True),
        "verbose": ["verbose"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"auto", "lloyd", "hamerly", "elkan", "yinyang"})],
        "missing": MISSING_CONSTRAINT,
    }

    _PLUSPLUS = staticmethod(kmeans_plusplus_rows)

    def __init__(
        self,
        n_clusters=8,
        *,
        init="auto",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="auto",
        missing="error",
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.missing = missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "ignore"
        return tags

    # ----------------------------------------------------------------- fitting
    def _initial_centers(self, rows, X, random_state, step):
        init = self.init
        if isinstance(init, str) and init == "auto":
            init = "k-means||" if _use_parallel_init(rows, self.n_clusters) else "k-means++"
        # Seeding finds each row's nearest center on the way; a step that can
        # start from them skips most of its first pass (same result).
        takes_labels = step.takes_seed_labels
        if isinstance(init, str) and init == "k-means||":
            nearest = np.empty(rows.n, dtype=np.int32)
            centers = SEEDERS["k-means||"](rows, self.n_clusters, random_state, nearest)
            if centers is not None:
                rows.forget_w()
                return (centers, nearest) if takes_labels else centers
            # Fewer distinct candidates than clusters (few distinct rows).
            del nearest
            init = "k-means++"
        if isinstance(init, str) and init == "k-means++":
            nearest = np.empty(rows.n, dtype=np.int32) if takes_labels else None
            centers = SEEDERS["k-means++"](rows, self.n_clusters, random_state, nearest=nearest, distinct=step.distinct)
            if not rows.sparse:
                rows.forget_x_sq()  # 8 bytes a row the Lloyd passes do not read
            rows.forget_w()  # unit weights seeding materialised: the passes read one 1
            return centers if nearest is None else (centers, nearest)
        if isinstance(init, str) and init == "random":
            centers = self._random_centers(rows, random_state)
            rows.forget_w()
            return centers
        return callable_init_centers(init, X, self.n_clusters, random_state)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training instances. Integer data is converted to float64; float32
            stays float32. Sparse input is used as CSR.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each observation (not all zero), used by the
            seeding, the center updates and the inertia. It is not used by a
            user-given initialisation (array or callable).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X_given = X
        # No copy yet: X is only written to (scaled, centered) when it must be.
        X = validate_allowing_missing(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
            copy=False, accept_large_sparse=False,
        )
        X = densify_if_dense(X)
        self._check_counts(X.shape[0])
        # None stays None: unit weights take no memory per row (see _algorithms/rows.py).
        sample_weight = None if sample_weight is None else check_weights(sample_weight, X)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()
        init_array = self._validated_init_array(X) if self._init_is_array() else None
        if self.missing == "ignore" and has_gaps(X):
            init = self.init if callable(self.init) else None
            return fit_masked(
                self, X, sample_weight, random_state, n_init, init_array,
                init and (lambda: callable_init_centers(init, X, self.n_clusters, random_state)),
            )

        # Dense data far from the origin are centered (distances by the GEMM
        # identity keep their precision) and huge data are scaled by a power of
        # two (no overflow); only then is X copied (or, copy_x=False, changed).
        X_mean, scale = None, 1.0
        if sp.issparse(X):
            tol = tolerance(X, self.tol)
        else:
            scale = pow2_scale(abs_max(X), X.dtype)
            if scale == 1.0:
                mean, variances = mean_and_variances(X)
                transform = float(mean @ mean) > _CENTER_ABOVE * float(variances.sum())
            if scale == 1.0 and transform and self._must_copy(X, X_given):
                # For float64 data the mean just computed has the bits of X.mean(axis=0).
                X_mean = mean if X.dtype == np.float64 else X.mean(axis=0)
                # One pass where a copy, then a subtraction in place, made two (the same values).
                X = X - X_mean
            elif scale != 1.0 or transform:
                X = self._writable(X, X_given)
                if scale != 1.0:
                    X *= X.dtype.type(scale)
                    mean, variances = mean_and_variances(X)
                X_mean = mean if X.dtype == np.float64 else X.mean(axis=0)
                X -= X_mean
            if X_mean is not None:
                if init_array is not None:
                    init_array *= init_array.dtype.type(scale)
                    init_array -= X_mean
            tol = float(variances.sum() / variances.size * self.tol)  # np.mean's bits, without its overhead
        rows = as_rows(X, sample_weight)
        step = fit_step(rows, self.n_clusters, self._resolve_algorithm())

        # A small input's kernels run on this thread and call BLAS on one thread: set
        # once for the fit, not around each seeding and pass (each setting costs 5-15 us).
        # Not around a callable init: the user's code runs with the user's BLAS.
        small = X.shape[0] * X.shape[1] < SERIAL_MAX_VALUES and not callable(self.init)
        with single_threaded_blas() if small else nullcontext():
            best = self._best_run(
                step, n_init, init_array, lambda: self._initial_centers(rows, X, random_state, step), tol
            )

        centers, inertia, history = best.centers, best.inertia, best.inertia_history
        if X_mean is not None:
            dtype_scale = X.dtype.type(scale)
            # The mean in the units of X, as predict() uses it (dividing by a power of two is exact).
            mapping = DataMapping(X_mean / dtype_scale, scale)
            centers = mapping.unmap_centers(centers)
            # predict() maps data and centers with this mean; make labels_ exactly what it returns.
            recentered = mapping.map_centers(centers)
            if not np.array_equal(recentered, best.centers):
                inertia = step(recentered, best.labels, update=False).inertia
            inertia, history = mapping.unmap_inertia(inertia), mapping.unmap_inertia(history)  # may be inf: honest
            if not self.copy_x:
                X += X_mean
                X /= dtype_scale
            X_mean = mapping.shift

        run = dataclasses.replace(best, centers=centers, inertia=inertia, inertia_history=history)
        return self._set_fitted(run, _X_mean=X_mean)

    def _resolve_algorithm(self):
        """``algorithm``, but 'lloyd' for 'elkan' with one cluster, as scikit-learn (with its warning)."""
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
                stacklevel=4,  # _resolve_algorithm, fit, scikit-learn's _fit_context, the caller
            )
            return "lloyd"
        return self.algorithm

    def _writable(self, X, X_given):
        """X, or a copy of it, that the fit may change in place (and restore if copy_x=False)."""
        return X.copy() if self._must_copy(X, X_given) else X

    def _must_copy(self, X, X_given):
        """Whether the fit must not change X in place (see :meth:`_writable`)."""
        if not X.flags.writeable:
            return True  # read-only input (memmap): never write to it
        if not self.copy_x:
            return False
        # False when validation already made a private converted copy.
        return not (X is not X_given and isinstance(X_given, np.ndarray) and not np.shares_memory(X, X_given))


def _use_parallel_init(rows, n_clusters):
    """Whether init='auto' seeds with k-means|| rather than greedy k-means++.

    k-means|| is faster and ends lower wherever the data have clusters; on
    data without clusters (image pixels and patches) the two are even within
    the seeds' spread, and on few features k-means++ can end lower: hence at
    least 16 features. Below 50,000 rows greedy k-means++ is fast anyway and
    keeps scikit-learn's draws; 100 rows a cluster keep the ~4k candidates a
    small share of the rows. CSR rows have no pruned kernel (every candidate
    distance is computed). The measurements behind these thresholds are in
    benchmarks/README.md ("Estimators: init='auto'").
    """
    return (
        not rows.sparse
        and rows.n >= PARALLEL_INIT_MIN_ROWS
        and rows.d >= PARALLEL_INIT_MIN_FEATURES
        and rows.n >= PARALLEL_INIT_MIN_ROWS_PER_CLUSTER * n_clusters
    )


@validate_params(
    {"X": ["array-like", "sparse matrix"], "sample_weight": ["array-like", None], "return_n_iter": [bool]},
    prefer_skip_nested_validation=False,
)
def k_means(
    X, n_clusters, *, sample_weight=None, init="auto", n_init="auto", max_iter=300,
    verbose=0, tol=1e-4, random_state=None, copy_x=True, algorithm="auto",
    return_n_iter=False, missing="error",
):
    """Perform K-Means clustering (functional form of :class:`KMeans`).

    Parameters are those of :class:`KMeans`, plus ``X`` and ``sample_weight``
    of :meth:`KMeans.fit`.

    Returns
    -------
    centroid : ndarray of shape (n_clusters, n_features)
    label : ndarray of shape (n_samples,)
    inertia : float
    best_n_iter : int
        Only returned if ``return_n_iter`` is True.
    """
    est = KMeans(
        n_clusters=n_clusters, init=init, n_init=n_init, max_iter=max_iter, verbose=verbose,
        tol=tol, random_state=random_state, copy_x=copy_x, algorithm=algorithm, missing=missing,
    ).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [COUNT],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [COUNT, None],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus(
    X, n_clusters, *, sample_weight=None, x_squared_norms=None, random_state=None, n_local_trials=None
):
    """Initial centers by greedy k-means++, as :func:`sklearn.cluster.kmeans_plusplus`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for compatibility and checked for shape; norms are recomputed
        on mean-centered data, which is more accurate.
    random_state : int, RandomState instance or None, default=None
    n_local_trials : int, default=None
        Candidates per center; ``2 + int(ln(n_clusters))`` when None.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        Rows of X (in X's dtype).
    indices : ndarray of shape (n_clusters,)
        Their row indices in X.
    """
    X = densify_if_dense(check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C"))
    if X.shape[0] < n_clusters:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}.")
    shape = None if x_squared_norms is None else np.shape(x_squared_norms)
    if shape is not None and shape != (X.shape[0],):
        if shape and shape[0] != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {shape[0]} should be equal to the length of "
                f"n_samples {X.shape[0]}: x_squared_norms has shape {shape}; expected {(X.shape[0],)}."
            )
        raise ValueError(
            f"x_squared_norms must hold one squared norm per sample, of shape {(X.shape[0],)}; "
            f"got shape {shape}."
        )
    sample_weight = check_weights(sample_weight, X)
    random_state = check_random_state(random_state)
    if sp.issparse(X):
        rows = as_rows(X, sample_weight)
    else:
        # Mapped once (seeding reads the rows several times; the same bits as mapping them block by block).
        rows = DenseRows(DataMapping.on_mean(X).map_rows(X), sample_weight)
    _, indices = kmeans_plusplus_rows(rows, n_clusters, random_state, n_local_trials)
    centers = X[indices].toarray() if sp.issparse(X) else X[indices]
    return centers, indices
