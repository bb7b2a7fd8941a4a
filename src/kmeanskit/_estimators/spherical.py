"""``SphericalKMeans``: K-Means on the unit sphere (cosine similarity), dense or CSR.

The pieces for the shared convergence loop (the normalised rows, the cosine
step and seeding on the sphere) are in :mod:`kmeanskit._algorithms.spherical`.
"""


import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context

from kmeanskit._algorithms.random_state import check_random_state
from kmeanskit._algorithms.rows import n_slabs, slab_bounds
from kmeanskit._algorithms.spherical import SphericalStep, UnitRows, center_inverse_norms, spherical_plusplus_rows
from kmeanskit._engine.serial import sized
from kmeanskit._engine.spherical import row_norms_csr, row_norms_dense
from kmeanskit._estimators._base import (
    SHARED_CONSTRAINTS,
    CenterInferenceMixin,
    CentersMixin,
    check_weights,
    init_constraint,
)
from kmeanskit._estimators.validation import validate_float_data

__all__ = ["SphericalKMeans"]

_BLOCK_ROWS = 1 << 16  # rows per block of the seeding and transform products
_MAX_ROWS_SHOWN = 10


# ----------------------------------------------------------------- row norms
def _row_norms(X):
    """Euclidean norm of each row of dense or CSR X, float64 (overflow-safe)."""
    out = np.empty(X.shape[0])
    bounds = slab_bounds(X.shape[0], n_slabs(X.shape[0]))
    if sp.issparse(X):
        sized(row_norms_csr, X.nnz)(X.data, X.indptr, bounds, out)
    else:
        sized(row_norms_dense, X.size)(X, bounds, out)
    return out


def _show_rows(indices):
    shown = ", ".join(str(int(i)) for i in indices[:_MAX_ROWS_SHOWN])
    return shown + (f", ... ({indices.size - _MAX_ROWS_SHOWN} more)" if indices.size > _MAX_ROWS_SHOWN else "")


def _inverse_row_norms(X, input_name="X"):
    """1 / |x_i| for every row, float64; a clear error for rows that cannot be normalised."""
    norms = _row_norms(X)
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise ValueError(
            f"{input_name} has {zero.size} row(s) of zero norm, for which the cosine similarity is "
            f"undefined: row(s) {_show_rows(zero)}. Drop them (or give them a nonzero feature) "
            "before clustering by cosine."
        )
    with np.errstate(divide="ignore", over="ignore"):
        inv = 1.0 / norms
    tiny = np.flatnonzero(~np.isfinite(inv))
    if tiny.size:
        raise ValueError(
            f"{input_name} has {tiny.size} row(s) whose norm is too small to normalise in float64 "
            f"(below {np.finfo(np.float64).tiny / 4:.1e}): row(s) {_show_rows(tiny)}. Rescale X."
        )
    limit = np.finfo(X.dtype).max
    huge = np.flatnonzero(~(norms <= limit))
    if huge.size:
        hint = "convert X to float64" if X.dtype == np.float32 else "rescale X"
        raise ValueError(
            f"{input_name} has {huge.size} row(s) whose norm exceeds the range of {X.dtype} "
            f"({limit:.3g}): row(s) {_show_rows(huge)}; {hint}."
        )
    return inv


def _normalised(A, input_name):
    """Rows of dense A scaled to unit norm (a new array, A's dtype)."""
    inv = _inverse_row_norms(A, input_name)
    return (A.astype(np.float64) * inv[:, None]).astype(A.dtype)


def _tolerance(rows, tol):
    """``tol`` times the mean variance of the features of the normalised rows.

    Unit rows make it closed-form: the variances sum to ``1 - |m|^2``, ``m``
    the mean of the normalised rows (unweighted, as :class:`KMeans` does).
    """
    if tol == 0:
        return 0.0
    X, inv = rows.X, rows.inv_norm
    if rows.sparse:
        scaled = X.data * np.repeat(inv, np.diff(X.indptr))
        total = np.bincount(X.indices, weights=scaled, minlength=rows.d)
    else:
        total = np.zeros(rows.d)
        for start, stop, Xb in rows.blocks(_BLOCK_ROWS):
            # einsum, not BLAS: a fixed summation order whatever the threads.
            total += np.einsum("i,ij->j", inv[start:stop], Xb, dtype=np.float64)
    mean = total / rows.n
    return float(tol * max(1.0 - float(mean @ mean), 0.0) / rows.d)


# --------------------------------------------------------------- estimator
class SphericalKMeans(
    CentersMixin, CenterInferenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Spherical K-Means: clusters of directions, by cosine similarity.

    Every row is seen normalised to unit Euclidean norm (so only its direction
    counts: a document's length or a signal's amplitude does not), and the
    centers are unit vectors. Each iteration assigns every sample to the
    center of largest cosine similarity (the first on ties), then moves each
    center to its cluster's normalised weighted mean direction,
    ``c_j = s_j / |s_j|`` with ``s_j = sum_{i in j} w_i x_i / |x_i|``, which
    maximises the cluster's weighted sum of cosines. This is K-Means on the
    normalised rows with centers kept on the sphere (Dhillon & Modha, 2001),
    the usual way to cluster TF-IDF vectors and embeddings.

    Dense arrays and SciPy CSR matrices are accepted. X is never copied,
    normalised in memory or densified: each row's norm is computed once and
    applied on the fly, and sparse rows are multiplied with the dense centers
    directly. The convergence loop is the one :class:`KMeans` uses.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters to form and of centers to find.
    init : {'k-means++', 'random'} or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        'k-means++' is greedy k-means++ on the normalised rows (squared
        Euclidean distance between unit vectors, ``2 - 2 cos``; ``2 +
        int(ln k)`` local trials per center): it draws the same rows as
        :func:`kmeans_plusplus` on the normalised data. 'random' draws
        ``n_clusters`` distinct samples with probability proportional to
        ``sample_weight``. An array gives the initial centers; its rows are
        normalised (a copy) and must not be zero.
    n_init : 'auto' or int, default='auto'
        Number of runs from different initial centers; the one with the lowest
        inertia is kept. 'auto' is 1 for 'k-means++' and an array, 10 for 'random'.
    max_iter : int, default=300
        Maximum number of iterations of one run.
    tol : float, default=1e-4
        Convergence tolerance on the sum of squared shifts of the (unit)
        centers, relative to the mean variance of the features of the
        normalised rows, as :class:`KMeans` does for its data. A run also
        stops when the labels no longer change.
    verbose : int, default=0
        Print the inertia at each iteration.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation; an int makes results reproducible (and
        bitwise identical whatever the number of threads).
    copy_x : bool, default=True
        Accepted for compatibility with :class:`KMeans`. Both values behave
        the same: X is never modified, nor copied to be normalised. (Integer
        data is converted to float64, and a CSR matrix with duplicate entries
        is summed into a copy, as validation requires in any case.)

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Unit-norm centers (the normalised mean directions), in X's dtype.
    labels_ : ndarray of shape (n_samples,), int32
        Label of each training point (what ``predict`` returns on X).
    inertia_ : float
        The objective: the weighted sum of cosine distances of the samples to
        their center, ``sum_i w_i (1 - cos(x_i, c_{l_i}))`` with
        ``cos(x, c) = x . c / (|x| |c|)``, computed in float64. It lies in
        ``[0, 2 sum_i w_i]`` and equals half the K-Means inertia (sum of
        squared Euclidean distances) of the normalised rows to the centers.
    n_iter_ : int
        Number of iterations of the kept run.
    inertia_history_ : ndarray of shape (n_iter_,)
        Inertia of each iteration of the kept run (the cost of the assignment
        made with the centers entering that iteration); it never increases
        (up to rounding).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    See Also
    --------
    KMeans : squared Euclidean distance to means.

    Notes
    -----
    The cosine similarity of a row of zeros is undefined: such rows (in fit,
    predict, transform or score) raise a ``ValueError`` that lists them.

    References
    ----------
    I. S. Dhillon and D. S. Modha, "Concept decompositions for large sparse
    text data using clustering", Machine Learning 42, 143-175 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import SphericalKMeans
    >>> X = np.array([[1, 0.1], [10, 0.5], [3, 0.2], [0.1, 2], [0.2, 30], [0, 5]])
    >>> skm = SphericalKMeans(n_clusters=2, random_state=0).fit(X)
    >>> skm.labels_[0] == skm.labels_[1] == skm.labels_[2] != skm.labels_[3]
    True
    >>> bool(np.allclose(np.linalg.norm(skm.cluster_centers_, axis=1), 1.0))
    True
    """

    _parameter_constraints: dict = {
        **SHARED_CONSTRAINTS,
        "init": init_constraint({"k-means++", "random"}),
        "verbose": ["verbose"],
        "copy_x": ["boolean"],
    }
    _PLUSPLUS = staticmethod(spherical_plusplus_rows)

    def __init__(
        self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300, tol=1e-4, verbose=0,
        random_state=None, copy_x=True,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _canonical(X):
        if sp.issparse(X) and not X.has_canonical_format:
            X = X.copy()  # duplicate entries would make the norms wrong; never touch the caller's
            X.sum_duplicates()
        return X

    def _rows(self, X, sample_weight=None):
        w = np.ones(X.shape[0], dtype=X.dtype) if sample_weight is None else check_weights(sample_weight, X)
        return UnitRows(X, w, _inverse_row_norms(X))

    # ----------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute spherical k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training instances; no row may be all zeros. Integer data is
            converted to float64; float32 stays float32. Sparse input is used
            as CSR, without densifying it.
        y : Ignored
            Not used, present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each observation (not all zero), used by the
            seeding, the mean directions and the inertia. It is not used by a
            user-given initialisation (array).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = validate_float_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", accept_large_sparse=False
        )
        X = self._canonical(X)
        self._check_counts(X.shape[0])
        sample_weight = check_weights(sample_weight, X)
        random_state = check_random_state(self.random_state)
        n_init = self._resolve_n_init()
        init_array = _normalised(self._validated_init_array(X), "init") if self._init_is_array() else None
        rows = UnitRows(X, sample_weight, _inverse_row_norms(X))
        tol = _tolerance(rows, self.tol)
        step = SphericalStep(rows, self.n_clusters)

        best = self._best_run(step, n_init, init_array, lambda: self._seeded_centers(rows, random_state), tol)
        return self._set_fitted(best)

    # -------------------------------------------------------------- inference
    # predict, transform and score: CenterInferenceMixin, in cosine distance.
    def _prepare_test_data(self, X):
        return self._canonical(X)

    def _assign(self, X, sample_weight=None):
        step = SphericalStep(self._rows(X, sample_weight), self.n_clusters)
        labels = np.empty(X.shape[0], dtype=np.int32)
        return labels, step(self.cluster_centers_, labels, update=False).inertia

    def _distances(self, X):
        """Cosine distance ``1 - cos(x, c_j)``: the values of ``sklearn.metrics.pairwise.cosine_distances(X,
        cluster_centers_)``, in [0, 2]; computed block by block from ``X @ centers.T`` (sparse rows stay sparse)."""
        rows = self._rows(X)
        centers = self.cluster_centers_
        centers_t = np.ascontiguousarray(centers.T, dtype=X.dtype)
        center_inv = center_inverse_norms(centers)
        out = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        for start, stop, Xb in rows.blocks(_BLOCK_ROWS):
            cos = np.asarray(Xb @ centers_t, dtype=np.float64)
            cos *= rows.inv_norm[start:stop, None]
            cos *= center_inv
            out[start:stop] = np.clip(1.0 - cos, 0.0, 2.0)
        return out
