"""``KMeans``: a drop-in for :class:`sklearn.cluster.KMeans` on kmeanskit's engine."""

import dataclasses
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, validate_data

from kmeanskit._algorithms.init import kmeans_plusplus_rows
from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.registry import SEEDERS, fit_step
from kmeanskit._algorithms.rows import DenseRows, as_rows, prediction_rows
from kmeanskit._algorithms.rows import abs_max as _abs_max
from kmeanskit._algorithms.rows import pow2_scale as _pow2_scale
from kmeanskit._engine.moments import mean_and_variances

__all__ = ["KMeans", "k_means", "kmeans_plusplus"]

_TRANSFORM_BLOCK_ROWS = 1 << 16
# Past these magnitudes squared distances could overflow the dtype: the data
# are then scaled by an exact power of two, which changes no label.
# Data are centered (a copy of X) when the mean's squared norm exceeds this
# many times the total variance: the rounding of |x|^2 - 2 x.c + |c|^2 grows
# with |x|^2, so data near the origin lose nothing by staying where they are.
_CENTER_ABOVE = 1.0
# init='auto' seeds with k-means|| from these sizes on (see _use_parallel_init).
PARALLEL_INIT_MIN_ROWS = 50_000
PARALLEL_INIT_MIN_FEATURES = 16
PARALLEL_INIT_MIN_ROWS_PER_CLUSTER = 100
# init values for which n_init='auto' means one run (scikit-learn: 'k-means++').
_ONE_RUN_INITS = ("auto", "k-means++", "k-means||")
# CSR input denser than this is clustered as a dense array: it takes no more
# memory, runs faster, and centering keeps it accurate far from the origin.
_DENSIFY_ABOVE = 0.5


def _densify_if_dense(X):
    if sp.issparse(X) and X.nnz > _DENSIFY_ABOVE * X.shape[0] * X.shape[1]:
        return X.toarray()
    return X


def _check_int_param(name, value):
    # bool passes scikit-learn's Integral constraint but is no count.
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The '{name}' parameter must be an int, got the bool {value!r}.")


def _is_arraylike_not_scalar(x):
    return (hasattr(x, "__len__") or hasattr(x, "shape") or hasattr(x, "__array__")) and not isinstance(x, str)


def _tolerance(X, tol):
    """``tol`` scaled by the mean feature variance, as scikit-learn does."""
    if tol == 0:
        return 0.0
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        variances = mean_variance_axis(X, axis=0)[1]
    else:
        variances = _mean_and_variances(X)[1]
    return float(np.mean(variances) * tol)


def _mean_and_variances(X):
    """Feature means and variances of dense X (at least one row), float64, without a temporary the size of X."""
    mean, variances = np.empty(X.shape[1]), np.empty(X.shape[1])
    mean_and_variances(X, mean, variances)
    return mean, variances


def _check_weights(sample_weight, X):
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


def _is_same_clustering(labels1, labels2, n_clusters):
    """Whether two labellings are equal up to a permutation of cluster ids."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    mapping[labels1] = labels2
    return bool(np.array_equal(mapping[labels1], labels2))


class _CentersMixin:
    """What KMeans and KMedians share around their own fit, transform and score."""

    def _resolve_n_init(self):
        init_is_array = _is_arraylike_not_scalar(self.init) and not callable(self.init)
        if self.n_init == "auto":
            return 1 if (init_is_array or (isinstance(self.init, str) and self.init in _ONE_RUN_INITS)) else 10
        if init_is_array and self.n_init != 1:
            warnings.warn(
                f"Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={self.n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            return 1
        return self.n_init

    def _validated_init_array(self, X):
        init = check_array(self.init, dtype=X.dtype, copy=True, order="C", input_name="init")
        if init.shape != (self.n_clusters, X.shape[1]):
            raise ValueError(
                f"The shape of the initial centers {init.shape} does not match "
                f"n_clusters={self.n_clusters} and n_features={X.shape[1]}; expected "
                f"{(self.n_clusters, X.shape[1])}."
            )
        return init

    def _writable(self, X, X_given):
        """X, or a copy of it, that the fit may change in place (and restore if copy_x=False)."""
        if not X.flags.writeable:
            return X.copy()  # read-only input (memmap): never write to it
        if not self.copy_x:
            return X
        if isinstance(X_given, np.ndarray) and not np.shares_memory(X, X_given):
            return X  # validation already made a private converted copy
        return X.copy()

    def _check_counts(self, n_samples):
        for name in ("n_clusters", "max_iter", "n_init"):
            _check_int_param(name, getattr(self, name))
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")

    def _random_centers(self, rows, random_state):
        n_positive = int(np.count_nonzero(rows.w))
        if n_positive < self.n_clusters:
            raise ValueError(
                f"init='random' draws n_clusters={self.n_clusters} distinct samples with "
                f"probability proportional to sample_weight, but only {n_positive} samples "
                "have a positive weight; use init='k-means++' or fewer clusters."
            )
        return SEEDERS["random"](rows, self.n_clusters, random_state)

    def _best_run(self, step, n_init, init_array, initial_centers, tol):
        """The run of lowest inertia over ``n_init`` starts (scikit-learn's rule:
        a run replaces the best only if it is a different clustering)."""
        best = None
        for _ in range(n_init):
            seed = init_array if init_array is not None else initial_centers()
            # (centers, each row's nearest center) when seeding found those too
            centers_init, labels = seed if isinstance(seed, tuple) else (seed, None)
            run = run_kmeans(
                step, centers_init, max_iter=self.max_iter, tol=tol, verbose=getattr(self, "verbose", 0),
                labels=labels,
            )
            if best is None or (
                run.inertia < best.inertia and not _is_same_clustering(run.labels, best.labels, self.n_clusters)
            ):
                best = run
        distinct = int(np.count_nonzero(np.bincount(best.labels, minlength=self.n_clusters)))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=4,
            )
        return best

    def _set_fitted(self, run):
        """Store the kept run (a ``KMeansRun`` in X's units) as the fitted attributes."""
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


class _NearestCenterMixin(TransformerMixin):
    """Inference shared by the Euclidean estimators (KMeans, MiniBatchKMeans): rows are
    mapped as in the fit (``_X_mean``, power-of-two scaling) and assigned by the Lloyd step.

    A TransformerMixin itself, so that scikit-learn's ``set_output`` wraps the
    ``transform`` defined here (it wraps only methods in a class's own dict).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _check_test_data(self, X):
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", reset=False, dtype=self.cluster_centers_.dtype,
            order="C", accept_large_sparse=False,
        )
        return _densify_if_dense(X)

    def _rows_and_centers(self, X, sample_weight):
        """Rows mapped as in fit (block by block, X is not copied) and mapped centers.

        Returns the rows, the mapped centers and the scale (distances in the
        mapped space are ``scale`` times the true ones).
        """
        centers = self.cluster_centers_
        if sp.issparse(X):
            return as_rows(X, sample_weight), centers, 1.0
        if self._X_mean is None:  # fitted where it lay: only guard against overflow
            scale = _pow2_scale(max(_abs_max(centers), _abs_max(X)), X.dtype)
            if scale == 1.0:
                return as_rows(X, sample_weight), centers, 1.0
            mapped = centers * X.dtype.type(scale)
            return DenseRows(X, sample_weight, scale=scale), mapped, scale
        return prediction_rows(X, sample_weight, centers, self._X_mean)

    def _assign(self, X, sample_weight=None):
        w = None if sample_weight is None else _check_weights(sample_weight, X)  # None: unit weights
        rows, centers, scale = self._rows_and_centers(X, w)
        labels = np.empty(X.shape[0], dtype=np.int32)
        assignment = LloydStep(rows, self.n_clusters)(centers, labels, update=False)
        return labels, assignment.inertia / scale / scale

    def predict(self, X):
        """Index of the closest cluster center for each sample.

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
        """Euclidean distance from each sample to every cluster center.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters), X's dtype
        """
        X = self._check_test_data(X)
        rows, centers, scale = self._rows_and_centers(X, None)
        out = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        for start, stop, Xb in rows.blocks(_TRANSFORM_BLOCK_ROWS):
            out[start:stop] = euclidean_distances(Xb, centers)
        if scale != 1.0:
            out /= X.dtype.type(scale)
        return out

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


class KMeans(
    _CentersMixin, _NearestCenterMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
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
        Print the inertia at each iteration.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation; an int makes results reproducible (and
        bitwise identical whatever the number of threads).
    copy_x : bool, default=True
        Dense X far from the origin (squared norm of the mean above the total
        variance) is centered for accuracy, on a copy; if False, in place, and
        restored afterwards (up to rounding). Data near the origin are used as
        they are, never copied.
    algorithm : {'auto', 'lloyd', 'hamerly', 'elkan'}, default='auto'
        How each iteration finds the nearest centers; all give the same
        result from the same initial centers (labels, centers, ``n_iter_``).

        - 'lloyd': every distance, every iteration (GEMM-based).
        - 'hamerly': skips the rows whose nearest center triangle-inequality
          bounds already prove (one bound per row, no n-by-k array).
        - 'elkan': accepted for compatibility with scikit-learn; runs 'hamerly'.
        - 'auto': 'hamerly' for dense data, 'lloyd' for sparse data.

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
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "k-means++", "k-means||", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"auto", "lloyd", "hamerly", "elkan"})],
    }

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
        centers = init(X, self.n_clusters, random_state=random_state)
        if sp.issparse(centers):
            centers = centers.toarray()
        centers = check_array(centers, dtype=X.dtype, order="C", input_name="init(...) result")
        if centers.shape != (self.n_clusters, X.shape[1]):
            raise ValueError(
                f"The callable init returned centers of shape {centers.shape}; expected "
                f"{(self.n_clusters, X.shape[1])}."
            )
        return centers

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
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
            copy=False, accept_large_sparse=False,
        )
        X = _densify_if_dense(X)
        self._check_counts(X.shape[0])
        # None stays None: unit weights take no memory per row (see _algorithms/rows.py).
        sample_weight = None if sample_weight is None else _check_weights(sample_weight, X)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()
        init_array = None
        if _is_arraylike_not_scalar(self.init) and not callable(self.init):
            init_array = self._validated_init_array(X)

        # Dense data far from the origin are centered (distances by the GEMM
        # identity keep their precision) and huge data are scaled by a power of
        # two (no overflow); only then is X copied (or, copy_x=False, changed).
        X_mean, scale = None, 1.0
        if sp.issparse(X):
            tol = _tolerance(X, self.tol)
        else:
            scale = _pow2_scale(_abs_max(X), X.dtype)
            if scale == 1.0:
                mean, variances = _mean_and_variances(X)
                transform = float(mean @ mean) > _CENTER_ABOVE * float(variances.sum())
            if scale != 1.0 or transform:
                X = self._writable(X, X_given)
                if scale != 1.0:
                    X *= X.dtype.type(scale)
                    mean, variances = _mean_and_variances(X)
                # For float64 data the mean just computed has the bits of X.mean(axis=0).
                X_mean = mean if X.dtype == np.float64 else X.mean(axis=0)
                X -= X_mean
                if init_array is not None:
                    init_array *= init_array.dtype.type(scale)
                    init_array -= X_mean
            tol = float(np.mean(variances) * self.tol)
        rows = as_rows(X, sample_weight)
        step = fit_step(rows, self.n_clusters, self.algorithm)

        best = self._best_run(
            step, n_init, init_array, lambda: self._initial_centers(rows, X, random_state, step), tol
        )

        centers, inertia, history = best.centers, best.inertia, best.inertia_history
        if X_mean is not None:
            dtype_scale = X.dtype.type(scale)
            centers = (centers + X_mean) / dtype_scale
            X_mean = X_mean / dtype_scale  # in the units of X, as predict() uses it
            # predict() maps data and centers with this mean; make labels_ exactly what it returns.
            recentered = (centers - X_mean) * dtype_scale
            if not np.array_equal(recentered, best.centers):
                inertia = step(recentered, best.labels, update=False).inertia
            inertia, history = inertia / scale / scale, history / scale / scale  # may be inf: honest
            if not self.copy_x:
                X += X_mean * dtype_scale
                X /= dtype_scale

        self._X_mean = X_mean
        return self._set_fitted(dataclasses.replace(best, centers=centers, inertia=inertia, inertia_history=history))



def _use_parallel_init(rows, n_clusters):
    """Whether init='auto' seeds with k-means|| rather than greedy k-means++.

    ``python -m benchmarks seeding`` (whole fits, medians over seeds 0-2;
    inertia: k-means|| / k-means++ of the medians, then of the worst seed):

      case                          ++ s    || s   speed  ++ it  || it  inertia  worst
      china 273k x 3, k=64         0.836   0.626   1.34x     59     50   1.0044  1.0206
      blobs 200k x 8, k=32         0.377   0.185   2.04x     31     17   0.9509  1.0000
      blobs 200k x 16, k=64, f32   0.507   0.194   2.61x     27      3   0.9016  0.9329
      overlapping 200k x 20, k=50  0.877   0.256   3.43x     40      3   0.9297  0.9600
      china 3x3 patches 68k x 27   1.217   1.114   1.09x     73    108   0.9999  1.0150
      blobs 200k x 32, k=100       1.321   0.296   4.46x     22      2   0.9240  0.9427
      blobs 300k x 64, k=128, f32  2.618   0.948   2.76x     37      2   0.8964  0.9277

    Seeds 3-7: china 0.9944 (worst 0.9996), patches 1.0016 (worst 1.0041).

    k-means|| ends lower wherever the data have clusters (the blobs, even
    overlapping ones); on image data without clusters (china's pixels and
    patches) the two are even within the seeds' spread, and on china's 3
    features seeds 0-2 ended 0.4% higher: hence at least 16 features. Below
    50,000 rows greedy k-means++ is fast anyway and keeps scikit-learn's
    draws; 100 rows a cluster keep the ~4k candidates a small share of the
    rows. CSR rows have no pruned kernel (every candidate distance is computed).
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
    X, n_clusters, *, sample_weight=None, init="k-means++", n_init="auto", max_iter=300,
    verbose=False, tol=1e-4, random_state=None, copy_x=True, algorithm="auto",
    return_n_iter=False,
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
        tol=tol, random_state=random_state, copy_x=copy_x, algorithm=algorithm,
    ).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
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
    X = _densify_if_dense(check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C"))
    if X.shape[0] < n_clusters:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}.")
    if x_squared_norms is not None and np.shape(x_squared_norms) != (X.shape[0],):
        raise ValueError(
            f"x_squared_norms has shape {np.shape(x_squared_norms)}; expected {(X.shape[0],)}."
        )
    sample_weight = _check_weights(sample_weight, X)
    random_state = check_random_state(random_state)
    if sp.issparse(X):
        rows = as_rows(X, sample_weight)
    else:
        scale = _pow2_scale(_abs_max(X), X.dtype)
        shift = X.mean(axis=0) if scale == 1.0 else (X * X.dtype.type(scale)).mean(axis=0) / X.dtype.type(scale)
        rows = DenseRows(X, sample_weight, shift=shift, scale=scale)
    _, indices = kmeans_plusplus_rows(rows, n_clusters, random_state, n_local_trials)
    centers = X[indices].toarray() if sp.issparse(X) else X[indices]
    return centers, indices
