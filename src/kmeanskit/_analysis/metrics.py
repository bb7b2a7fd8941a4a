"""Metrics for judging a clustering: internal (from the data) and external (against known classes).

Internal scores need the data and the labels: :func:`inertia`, :func:`silhouette_score`
and :func:`silhouette_samples` (exact, on kmeanskit's own kernel for the Euclidean
metric), :func:`calinski_harabasz_score` and :func:`davies_bouldin_score`.
External scores compare two labellings: :func:`adjusted_rand_score`,
:func:`normalized_mutual_info_score` (scikit-learn's own functions, re-exported),
:func:`purity_score` and :func:`contingency_matrix`.

Signatures are scikit-learn's where scikit-learn has the function, so these are
drop-ins. Input is checked more strictly than scikit-learn does: a score that is
undefined for the input (a single cluster, as many clusters as samples, constant
data) raises a ``ValueError`` that says why, instead of returning a number that
means nothing.
"""

import functools
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import metrics as _sk
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, column_or_1d

from kmeanskit._algorithms.threads import single_threaded_blas
from kmeanskit._analysis.columns import table_columns, take_rows
from kmeanskit._engine.serial import sized
from kmeanskit._engine.silhouette import cluster_distance_sums, round_robin_pairs

__all__ = [
    "adjusted_rand_score",
    "calinski_harabasz_score",
    "contingency_matrix",
    "davies_bouldin_score",
    "inertia",
    "mixed_silhouette_samples",
    "mixed_silhouette_score",
    "normalized_mutual_info_score",
    "purity_score",
    "silhouette_samples",
    "silhouette_score",
]

#: Above this many rows, :func:`silhouette_or_reason` (and so every summary of a
#: clustering: ``kmeanskit fit``, ``evaluate``, the report) estimates the
#: silhouette on a seeded random sample of this size: its cost is quadratic in
#: the rows, and 10,000 rows estimate it to about +-0.01.
SILHOUETTE_SAMPLE_SIZE = 10_000

# Rows per tile of the silhouette kernel: a tile pair's dot products stay in
# cache (the sizes were chosen by timing, see benchmarks/README.md). Fixed by
# dtype and n only, so results never depend on the threads. Tiles are not
# made smaller than n/2048: the schedule holds (n/tile)^2 / 2 pairs.
_SILHOUETTE_TILE = {np.dtype(np.float64): 64, np.dtype(np.float32): 256}
# From this many features on, float64 tiles take 256 rows too: each pair's BLAS
# call is then long enough that larger tiles pay (d=800: 2x faster).
_SILHOUETTE_WIDE_FEATURES = 64
_SILHOUETTE_MAX_TILES = 2048
# Pairs with d2 < near * (|x|^2 + |y|^2) are recomputed exactly (see the kernel):
# where the dot-product identity has lost more than about 1e-5 (float32) or
# 1e-10 (float64) of the distance to cancellation.
_NEAR = {np.dtype(np.float32): 2.0**-6, np.dtype(np.float64): 2.0**-20}
_BLOCK_ROWS = 1 << 16
# Dissimilarities per block of the mixed silhouette (rows x n float64: 32 MB), and the most rows of a block
# (larger blocks were faster on 5,000 rows; benchmarks/README.md).
_MIXED_BLOCK_VALUES = 1 << 22
_MIXED_BLOCK_ROWS = 1024


# ----------------------------------------------------------------- validation
def check_labels(labels, n_samples, name="labels"):
    """1-d labels of the right length, without missing values; returns (labels, codes, classes)."""
    try:
        labels = column_or_1d(labels, warn=False)
    except ValueError:
        raise ValueError(
            f"{name} must be a 1-d array-like with one label per sample; got shape {np.shape(labels)}."
        ) from None
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {labels.shape[0]} values but X has {n_samples} samples; "
            "give exactly one label per sample."
        )
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(f"{name} contains NaN; every sample needs a cluster label.")
    if labels.dtype.kind == "O" and pd.isna(labels).any():
        raise ValueError(f"{name} contains missing values (None/NaN); every sample needs a cluster label.")
    classes, codes = np.unique(labels, return_inverse=True)
    return labels, codes.reshape(-1).astype(np.int64), classes


def _check_X(X, *, accept_sparse=False):
    """Float X (float32 stays float32) with a clear message on NaN or infinity."""
    X = check_array(
        X, accept_sparse=["csr", "csc"] if accept_sparse else False, dtype=[np.float64, np.float32],
        ensure_all_finite=False, ensure_min_samples=1, input_name="X",
    )
    values = X.data if sp.issparse(X) else X
    if not np.isfinite(values).all():
        n_nan = int(np.isnan(values).sum())
        n_inf = int(np.isinf(values).sum())
        raise ValueError(
            f"X contains {n_nan} NaN and {n_inf} infinite values; every value must be finite "
            "(drop or impute them first)."
        )
    return X


def _is_constant(X):
    """Whether all rows of X are identical."""
    high, low = X.max(axis=0), X.min(axis=0)
    if sp.issparse(X):
        high, low = high.toarray(), low.toarray()
    return bool(np.all(high == low))


def _plain(value):
    """A NumPy scalar as the Python value it holds (for messages: 'grp', not np.str_('grp'))."""
    return value.item() if isinstance(value, np.generic) else value


def _check_clustering(X, labels, score, *, accept_sparse=False, constant_check=True):
    """Validated (X, codes, classes) for an internal score defined for 2 <= n_labels < n_samples."""
    X = _check_X(X, accept_sparse=accept_sparse)
    n_samples = X.shape[0]
    labels, codes, classes = check_labels(labels, n_samples)
    n_labels = classes.size
    if n_labels < 2:
        raise ValueError(
            f"{score} is undefined for a single cluster: labels has 1 distinct value "
            f"({_plain(classes[0])!r}); it needs at least 2 clusters."
        )
    if n_labels >= n_samples:
        raise ValueError(
            f"{score} is undefined when every sample is its own cluster: labels has "
            f"n_labels={n_labels} distinct values for n_samples={n_samples}; it needs "
            "2 <= n_labels <= n_samples - 1."
        )
    if constant_check and _is_constant(X):
        raise ValueError(
            f"{score} is undefined for constant data: all {n_samples} rows of X are identical, "
            "so every distance is 0."
        )
    return X, codes, classes


# ----------------------------------------------------------------- inertia
def inertia(X, labels, centers=None, sample_weight=None):
    """Within-cluster sum of squares: ``sum_i w_i |x_i - c_{label_i}|^2``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Cluster of each sample. Without ``centers``, any hashable values; with
        ``centers``, integers in ``0..n_centers - 1`` indexing its rows.
    centers : array-like of shape (n_centers, n_features), default=None
        The centers to measure against (e.g. a model's ``cluster_centers_``).
        None: the (weighted) mean of each cluster, which gives the smallest
        inertia for these labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weight of each sample; None weighs all samples 1.

    Returns
    -------
    inertia : float
        Computed in float64 from the differences (not by the dot-product
        identity) for dense X, so it is exact to rounding.
    """
    X = _check_X(X, accept_sparse=True)
    n_samples, n_features = X.shape
    labels, codes, classes = check_labels(labels, n_samples)
    if sample_weight is None:
        w = np.ones(n_samples)
    else:
        w = column_or_1d(np.asarray(sample_weight, dtype=np.float64), warn=False)
        if w.shape[0] != n_samples:
            raise ValueError(f"sample_weight has {w.shape[0]} values but X has {n_samples} samples.")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("sample_weight must be finite and non-negative.")
    if centers is None:
        weights = np.bincount(codes, weights=w, minlength=classes.size)
        sums = _weighted_sums(X, codes, w, classes.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            centers64 = np.where(weights[:, None] > 0, sums / weights[:, None], 0.0)
        index = codes
    else:
        centers64 = check_array(centers, dtype=np.float64, input_name="centers")
        if centers64.shape[1] != n_features:
            raise ValueError(
                f"centers has {centers64.shape[1]} features but X has {n_features}; "
                f"expected shape (n_centers, {n_features})."
            )
        if labels.dtype.kind not in "iu" and not (
            labels.dtype.kind == "f" and np.array_equal(labels, np.round(labels))
        ):
            raise ValueError(
                f"With centers, labels must be integer indices of its rows; got labels of dtype {labels.dtype}."
            )
        index = labels.astype(np.int64)
        if index.min() < 0 or index.max() >= centers64.shape[0]:
            raise ValueError(
                f"labels must index the rows of centers (0..{centers64.shape[0] - 1}); got values "
                f"from {index.min()} to {index.max()}."
            )
    if sp.issparse(X):
        X = X.tocsr()
        x_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        dots = np.asarray(X.multiply(centers64[index]).sum(axis=1)).ravel()
        c_sq = np.einsum("ij,ij->i", centers64, centers64)[index]
        return float(np.dot(w, np.maximum(x_sq - 2.0 * dots + c_sq, 0.0)))
    total = 0.0
    for start in range(0, n_samples, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n_samples)
        diff = X[start:stop].astype(np.float64) - centers64[index[start:stop]]
        total += float(np.dot(w[start:stop], np.einsum("ij,ij->i", diff, diff)))
    return total


def _weighted_sums(X, codes, w, n_clusters):
    """(n_clusters, n_features) float64 weighted sums of the rows of each cluster."""
    if sp.issparse(X):
        onehot = sp.csr_matrix((w, (codes, np.arange(codes.size))), shape=(n_clusters, codes.size))
        return np.asarray((onehot @ X).todense(), dtype=np.float64)
    sums = np.zeros((n_clusters, X.shape[1]))
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, X.shape[0])
        np.add.at(sums, codes[start:stop], w[start:stop, None] * X[start:stop].astype(np.float64))
    return sums


# -------------------------------------------------------------- silhouette
def _check_metric(metric):
    if not (callable(metric) or isinstance(metric, str)):
        raise TypeError(f"metric must be a string or a callable; got {metric!r}.")


def silhouette_samples(X, labels, *, metric="euclidean"):
    """Silhouette coefficient of each sample.

    ``s_i = (b_i - a_i) / max(a_i, b_i)`` where ``a_i`` is the mean distance from
    sample i to the other samples of its cluster and ``b_i`` the smallest mean
    distance to the samples of another cluster. A sample alone in its cluster
    gets 0 (Rousseeuw's convention, as scikit-learn).

    For ``metric="euclidean"`` and dense X this is kmeanskit's own exact kernel:
    every pairwise distance is computed once, in cache-sized tiles reduced at
    once into per-cluster sums (memory O(n * k), never n x n), on all cores,
    with a result that does not depend on the number of threads. float32 data
    get float32 dot products with float64 sums. Other metrics, precomputed
    distances and sparse X use :func:`sklearn.metrics.silhouette_samples`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
            (n_samples, n_samples) with ``metric="precomputed"``
    labels : array-like of shape (n_samples,)
        Cluster of each sample (any hashable values).
    metric : str or callable, default="euclidean"
        As in :func:`sklearn.metrics.pairwise_distances`.

    Returns
    -------
    silhouette : ndarray of shape (n_samples,), float64

    Raises
    ------
    ValueError
        On a single cluster, as many clusters as samples, NaN or infinite
        values, labels of the wrong length or constant data.
    """
    _check_metric(metric)
    ours = isinstance(metric, str) and metric == "euclidean"
    X, codes, classes = _check_clustering(
        X, labels, "The silhouette", accept_sparse=True,
        constant_check=not (isinstance(metric, str) and metric == "precomputed"),
    )
    if isinstance(metric, str) and metric == "precomputed" and not np.any(X.data if sp.issparse(X) else X):
        raise ValueError("The silhouette is undefined for constant data: every precomputed distance is 0.")
    if not ours or sp.issparse(X):
        return _sk.silhouette_samples(X, codes, metric=metric)
    return _silhouette_euclidean(X, codes, classes.size)


def _silhouette_euclidean(X, codes, n_clusters):
    """Exact Euclidean silhouette of validated dense X and codes in 0..k-1 (all present)."""
    n = X.shape[0]
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    counts = np.bincount(sorted_codes, minlength=n_clusters)
    offsets = np.zeros(n_clusters + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # Centered (in float64, then back to X's dtype) so that the dot-product
    # identity keeps its precision far from the origin.
    mean = X.mean(axis=0, dtype=np.float64)
    Xs = np.empty(X.shape, dtype=X.dtype)
    x_sq = np.empty(n)
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        block = X[order[start:stop]].astype(np.float64) - mean
        Xs[start:stop] = block
        block = Xs[start:stop].astype(np.float64)
        x_sq[start:stop] = np.einsum("ij,ij->i", block, block)
    tile = _SILHOUETTE_TILE[X.dtype]
    if X.shape[1] >= _SILHOUETTE_WIDE_FEATURES:
        tile = max(tile, _SILHOUETTE_TILE[np.dtype(np.float32)])
    while -(-n // tile) > _SILHOUETTE_MAX_TILES:
        tile *= 2
    pairs = round_robin_pairs(-(-n // tile))
    sums = np.empty((n, n_clusters))
    # Its work is the pairs' (n^2 d / 2): below the serial threshold, the serial twin (same bits).
    kernel = sized(cluster_distance_sums, n * n * X.shape[1] // 2)
    with single_threaded_blas():
        kernel(Xs, x_sq, sorted_codes, offsets, tile, pairs, _NEAR[X.dtype], sums)
    out = np.empty(n)
    out[order] = _silhouette_from_sums(sums, sorted_codes, counts)
    return out


def _silhouette_from_sums(sums, codes, counts):
    """Each row's silhouette from its summed dissimilarities to the rows of every cluster.

    ``sums`` (n, k) is overwritten (divided by the cluster sizes); ``codes`` (n,) gives each row's
    cluster and ``counts`` (k,) the clusters' sizes (all positive). A row alone in its cluster gets
    0 (Rousseeuw), and so does a row with a = b = 0 (duplicate rows), as in scikit-learn.
    """
    rows = np.arange(codes.shape[0])
    own = counts[codes]
    intra = sums[rows, codes] / np.maximum(own - 1, 1)
    sums /= counts
    sums[rows, codes] = np.inf
    nearest = sums.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sil = (nearest - intra) / np.maximum(intra, nearest)
    sil[own == 1] = 0.0
    return np.nan_to_num(sil, nan=0.0)  # a = b = 0 (duplicate rows): 0, as scikit-learn


def silhouette_score(X, labels, *, metric="euclidean", sample_size=None, random_state=None):
    """Mean silhouette coefficient over all samples (or a random sample of them).

    See :func:`silhouette_samples`. From -1 to 1: near 1, dense and well
    separated clusters; near 0, overlapping clusters; negative, samples closer
    to another cluster than to their own.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    metric : str or callable, default="euclidean"
    sample_size : int, default=None
        Compute on this many rows drawn at random without replacement (the
        same rows as :func:`sklearn.metrics.silhouette_score` for the same
        ``random_state``); None uses all rows. The exact silhouette costs
        O(n^2 d): above a few tens of thousands of rows, a sample of 10,000
        estimates it to about +-0.01.
    random_state : int, RandomState instance or None, default=None
        Seed of the sample (only used with ``sample_size``).

    Returns
    -------
    silhouette : float
    """
    if sample_size is not None:
        X = _check_X(X, accept_sparse=True)
        labels = check_labels(labels, X.shape[0])[0]
        indices = _sample_indices(X.shape[0], sample_size, random_state)
        if isinstance(metric, str) and metric == "precomputed":
            X = X[indices][:, indices]
        else:
            X = X[indices]
        labels = labels[indices]
    return float(np.mean(silhouette_samples(X, labels, metric=metric)))


# --------------------------------------------------- silhouette of mixed tables
def _check_gamma(gamma):
    if isinstance(gamma, (bool, np.bool_)) or not isinstance(gamma, Real) or not 0 < gamma < np.inf:
        raise ValueError(f"gamma must be a positive finite number; got {gamma!r}.")
    return float(gamma)


def _mixed_parts(numeric, categorical, n_samples):
    """Validated numeric part (n, p) float64 and the categories one-hot (n, L) float64."""
    if numeric is None:
        numeric = np.empty((n_samples, 0))
    numeric = check_array(numeric, dtype=np.float64, ensure_all_finite=False, ensure_min_features=0,
                          ensure_min_samples=1, input_name="numeric")
    if not np.isfinite(numeric).all():
        raise ValueError(
            "numeric contains NaN or infinite values; the silhouette needs every value (a row with a gap has "
            "no full dissimilarity): drop or impute them first."
        )
    if categorical is None:
        categorical = np.empty((n_samples, 0), dtype=object)
    categorical = np.asarray(categorical, dtype=object)
    if categorical.ndim != 2:
        raise ValueError(f"categorical must be 2-dimensional (n_samples, n_categorical); got shape "
                         f"{categorical.shape}.")
    if categorical.shape[0] != numeric.shape[0]:
        raise ValueError(f"numeric has {numeric.shape[0]} rows and categorical {categorical.shape[0]}; give "
                         "both parts of the same rows.")
    if numeric.shape[1] + categorical.shape[1] == 0:
        raise ValueError("numeric and categorical have no column between them; give at least one.")
    if pd.isna(categorical).any():
        raise ValueError(
            "categorical contains missing values (None or NaN); the silhouette needs every value (a row with "
            "a gap has no full dissimilarity): drop or fill them first."
        )
    n = numeric.shape[0]
    columns = [pd.factorize(categorical[:, j])[0] for j in range(categorical.shape[1])]
    widths = [int(codes.max()) + 1 for codes in columns]
    onehot = np.zeros((n, sum(widths)))
    offset = 0
    for codes, width in zip(columns, widths, strict=True):
        onehot[np.arange(n), offset + codes] = 1.0
        offset += width
    return numeric, onehot


def mixed_silhouette_samples(numeric, categorical, labels, *, gamma=1.0):
    """Silhouette coefficient of each sample under K-Prototypes' dissimilarity.

    The dissimilarity of two rows is the one :class:`kmeanskit.KPrototypes`
    minimises (Huang 1998): the squared Euclidean distance of their numeric
    parts plus `gamma` times the number of categorical columns in which they
    differ (:class:`kmeanskit.KModes`: the mismatches alone, ``gamma=1``).
    This is the silhouette R's ``clustMixType::validation_kproto`` computes.
    ``s_i = (b_i - a_i) / max(a_i, b_i)`` as in :func:`silhouette_samples`.

    Parameters
    ----------
    numeric : array-like of shape (n_samples, n_numeric) or None
        The numeric columns, as the model clusters them (scaled); None or no
        column for categories alone.
    categorical : array-like of shape (n_samples, n_categorical) or None
        The categorical columns: any hashable values (text, codes), compared
        for equality.
    labels : array-like of shape (n_samples,)
        Cluster of each sample (any hashable values).
    gamma : float, default=1.0
        Weight of one mismatched category (a fitted model's ``gamma_``).

    Returns
    -------
    silhouette : ndarray of shape (n_samples,), float64

    Raises
    ------
    ValueError
        On a single cluster, as many clusters as samples, a missing or
        infinite value, parts of different lengths, or rows that are all
        identical.

    Notes
    -----
    Every dissimilarity is computed once, a block of rows at a time (memory
    O(block * n), never n x n), from one matrix product of the rows extended
    by their categories' one-hot codes times ``sqrt(gamma / 2)``: the
    mismatches of two rows are ``q - onehot_x . onehot_y``, so the dot-product
    identity of the extended rows gives the squared distance plus ``gamma``
    times the mismatches. Cost O(n^2 (p + L)) for L levels in all.
    """
    gamma = _check_gamma(gamma)
    if numeric is None and categorical is None:
        raise ValueError("numeric and categorical are both None; give at least one of them.")
    n_samples = (np.shape(numeric) if numeric is not None else np.shape(categorical))[0]
    numeric, onehot = _mixed_parts(numeric, categorical, n_samples)
    _, codes, classes = _check_clustering(np.zeros((numeric.shape[0], 1)), labels, "The silhouette",
                                          constant_check=False)
    if _is_constant_table(numeric, np.empty((codes.size, 0), dtype=object) if categorical is None
                          else np.asarray(categorical, dtype=object)):
        raise ValueError(
            f"The silhouette is undefined for constant data: all {codes.size} rows are identical, so every "
            "dissimilarity is 0."
        )
    return _mixed_silhouette(numeric, onehot, gamma, codes, classes.size)


def _mixed_silhouette(numeric, onehot, gamma, codes, n_clusters):
    """Silhouette under the mixed dissimilarity of validated parts, codes in 0..k-1 (all present)."""
    n = codes.size
    # Centered (the identity keeps its precision far from the origin); the one-hot codes weighted so that
    # |z_x - z_y|^2 = |x - y|^2 + gamma * (q - onehot_x . onehot_y) = the dissimilarity.
    extended = np.hstack([numeric - numeric.mean(axis=0), np.sqrt(gamma / 2.0) * onehot])
    squares = np.einsum("ij,ij->i", extended, extended)
    members = np.zeros((n, n_clusters))
    members[np.arange(n), codes] = 1.0
    sums = np.empty((n, n_clusters))
    rows = max(1, min(_MIXED_BLOCK_ROWS, _MIXED_BLOCK_VALUES // n))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        block = extended[start:stop] @ extended.T
        block *= -2.0
        block += squares[start:stop, None]
        block += squares[None, :]
        np.maximum(block, 0.0, out=block)
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        sums[start:stop] = block @ members
    return _silhouette_from_sums(sums, codes, np.bincount(codes, minlength=n_clusters))


def mixed_silhouette_score(numeric, categorical, labels, *, gamma=1.0, sample_size=None, random_state=None):
    """Mean silhouette under K-Prototypes' dissimilarity (or on a random sample of the rows).

    See :func:`mixed_silhouette_samples`; `sample_size` and `random_state`
    draw the rows as :func:`silhouette_score` draws them.

    Parameters
    ----------
    numeric : array-like of shape (n_samples, n_numeric) or None
    categorical : array-like of shape (n_samples, n_categorical) or None
    labels : array-like of shape (n_samples,)
    gamma : float, default=1.0
    sample_size : int, default=None
        Compute on this many rows drawn at random without replacement; None
        uses all rows (the cost is quadratic in them).
    random_state : int, RandomState instance or None, default=None
        Seed of the sample (only used with `sample_size`).

    Returns
    -------
    silhouette : float

    Examples
    --------
    >>> from kmeanskit.metrics import mixed_silhouette_score
    >>> numeric = [[0.0], [0.1], [5.0], [5.1]]
    >>> categorical = [["a"], ["a"], ["b"], ["b"]]
    >>> round(mixed_silhouette_score(numeric, categorical, [0, 0, 1, 1], gamma=2.0), 4)
    0.9996
    """
    if sample_size is not None:
        n_samples = (np.shape(numeric) if numeric is not None else np.shape(categorical))[0]
        indices = _sample_indices(n_samples, sample_size, random_state)
        numeric = None if numeric is None else np.asarray(numeric)[indices]
        categorical = None if categorical is None else np.asarray(categorical, dtype=object)[indices]
        labels = check_labels(labels, n_samples)[0][indices]
    return float(np.mean(mixed_silhouette_samples(numeric, categorical, labels, gamma=gamma)))


def _sample_indices(n_samples, sample_size, random_state):
    """The rows a silhouette on `sample_size` rows uses (scikit-learn's draw)."""
    if isinstance(sample_size, (bool, np.bool_)) or not isinstance(sample_size, Integral) or sample_size < 1:
        raise ValueError(f"sample_size must be a positive int or None; got {sample_size!r}.")
    return check_random_state(random_state).permutation(n_samples)[:sample_size]


def silhouette_or_reason(X, labels, *, sample_size=SILHOUETTE_SAMPLE_SIZE, random_state=None, sampled_from=None,
                         categorical=None, gamma=1.0):
    """The mean silhouette of a clustering, or the reason it is undefined.

    What a summary of a clustering shows: unlike :func:`silhouette_score`, an
    undefined silhouette is not an error but a note (the clustering itself
    is fine), and a silhouette estimated on a sample says so.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows in the space the model clusters in (Euclidean distances).
    labels : array-like of shape (n_samples,)
    sample_size : int or None, default=SILHOUETTE_SAMPLE_SIZE
        Above this many rows, estimate on a random sample of this size (the
        rows :func:`silhouette_score` draws); None uses every row.
    random_state : int, RandomState instance or None, default=None
        Seed of that sample.
    sampled_from : int or None, default=None
        When `X` is already a uniform sample, the number of rows it was drawn
        from (for the note).
    categorical : array-like of int or None, default=None
        Positions of the categorical columns of `X` (a table: a DataFrame or
        an object array), as a KPrototypes or KModes model's ``categorical_``
        gives them: the silhouette is then under that model's dissimilarity
        (:func:`mixed_silhouette_samples`), not Euclidean; a row with a gap
        has none, and the score is then not computed.
    gamma : float, default=1.0
        With `categorical`: the weight of one mismatched category (``gamma_``).

    Returns
    -------
    score : float or None
        None when the silhouette is undefined.
    note : str or None
        Why `score` is None, or on how many rows it was estimated; None for
        an exact score on every row.
    """
    labels = np.asarray(labels)
    n_samples = labels.shape[0]
    sampling = sample_size is not None and n_samples > sample_size
    if categorical is not None:
        if _has_gaps(X):
            return None, "not computed: rows with missing values have no full dissimilarities"
        # The sample first: only its rows are read as numbers and categories (the draw silhouette_score makes).
        rows = _sample_indices(n_samples, sample_size, random_state) if sampling else slice(None)
        numeric, categories = table_parts(X, categorical, rows)
    if sampling:
        sample = f"a random sample of {sample_size:,} of {n_samples:,} rows"
    elif sampled_from is not None and sampled_from > n_samples:
        sample = f"a random sample of {n_samples:,} of {sampled_from:,} rows"
    else:
        sample = None
    n_labels = np.unique(labels).size
    reason = None
    # It compares each row's distance to its own and to the nearest other cluster.
    if n_labels < 2:
        reason = "undefined with a single (non-empty) cluster"
    elif n_labels == n_samples:
        reason = "undefined when every row is alone in its cluster"
    elif categorical is None and _is_constant(_check_X(X)):
        reason = "undefined for constant data (every distance is 0)"
    elif categorical is not None and _is_constant_table(numeric, categories):
        if sampling:  # (the rows read: the sample)
            return None, f"undefined on {sample}"
        reason = "undefined for constant data (every distance is 0)"
    if reason is not None:
        return None, f"undefined on {sample}" if sample is not None and not sampling else reason
    if categorical is not None:  # (on the rows already drawn)
        score = functools.partial(mixed_silhouette_score, numeric, categories, labels[rows], gamma=gamma)
    elif sampling:
        score = functools.partial(silhouette_score, X, labels, sample_size=sample_size, random_state=random_state)
    else:
        score = functools.partial(silhouette_score, X, labels)
    if not sampling:
        return score(), None if sample is None else f"estimated on {sample}"
    try:
        found = score()
    except ValueError:  # the sample fell into a single cluster
        return None, f"undefined on {sample}"
    return found, f"estimated on {sample}"


def _is_constant_table(numeric, categories):
    """Whether all rows of a table (numeric and categorical parts, no gaps) are identical."""
    return _is_constant(numeric) and all(pd.unique(categories[:, j]).size == 1 for j in range(categories.shape[1]))


def _has_gaps(X) -> bool:
    """Whether a table (a DataFrame or an array) has a missing entry (NaN or None), read without copying it
    as text."""
    if isinstance(X, pd.DataFrame):
        return bool(X.isna().to_numpy().any())
    return bool(pd.isna(np.asarray(X)).any())


def table_parts(X, categorical, rows=slice(None)):
    """The numeric columns of the `rows` of table `X` as float64 (n, p) (NaN for a gap) and its categorical
    columns as an object array (n, q) (None for a gap), by the positions in `categorical`."""
    X = take_rows(X if isinstance(X, pd.DataFrame) else np.asarray(X), rows)
    columns, reason = table_columns(X, categorical=categorical)
    if columns is None:
        raise ValueError(f"X cannot be read as a table with categorical columns: {reason}.")
    n = X.shape[0]
    numeric = np.empty((n, len(columns.numeric())))
    for f, j in enumerate(columns.numeric()):
        numeric[:, f] = columns.column(j)
    categories = np.empty((n, len(columns.categories())), dtype=object)
    for c, j in enumerate(columns.categories()):
        categories[:, c] = columns.column(j)
    return numeric, categories


# ------------------------------------------------------- other internal scores
def calinski_harabasz_score(X, labels):
    """Calinski-Harabasz score (variance ratio criterion): higher is better.

    The ratio of the between-cluster to the within-cluster dispersion, each
    divided by its degrees of freedom. scikit-learn's function, after the
    checks of this module (a single cluster, as many clusters as samples, or
    constant data raise a ``ValueError`` instead of giving 1.0).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    score : float
    """
    X, codes, _ = _check_clustering(X, labels, "The Calinski-Harabasz score")
    return float(_sk.calinski_harabasz_score(X, codes))


def davies_bouldin_score(X, labels):
    """Davies-Bouldin score: the mean, over clusters, of the worst ratio of
    within-cluster spread to between-center distance. Lower is better (0 is the minimum).

    scikit-learn's function, after the checks of this module (a single
    cluster, as many clusters as samples, or constant data raise a
    ``ValueError`` instead of giving 0).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    score : float
    """
    X, codes, _ = _check_clustering(X, labels, "The Davies-Bouldin score")
    return float(_sk.davies_bouldin_score(X, codes))


# ------------------------------------------------------------ external scores
def _check_two_labellings(labels_true, labels_pred):
    labels_true = column_or_1d(labels_true, warn=False)
    labels_pred = column_or_1d(labels_pred, warn=False)
    if labels_true.shape[0] != labels_pred.shape[0]:
        raise ValueError(
            f"labels_true has {labels_true.shape[0]} values and labels_pred has "
            f"{labels_pred.shape[0]}; both need one label per sample."
        )
    if labels_true.shape[0] == 0:
        raise ValueError("labels_true and labels_pred are empty; need at least one sample.")
    check_labels(labels_true, labels_true.shape[0], "labels_true")
    check_labels(labels_pred, labels_pred.shape[0], "labels_pred")
    return labels_true, labels_pred


def contingency_matrix(labels_true, labels_pred, *, eps=None, sparse=False, dtype=np.int64, as_frame=False):
    """Contingency matrix: how many samples of each true class fall in each predicted cluster.

    :func:`sklearn.metrics.cluster.contingency_matrix`, optionally as a labelled table.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
    labels_pred : array-like of shape (n_samples,)
    eps : float, default=None
        Added to every cell (dense output only).
    sparse : bool, default=False
        Return a SciPy CSR matrix (not with ``as_frame``).
    dtype : numeric type, default=np.int64
    as_frame : bool, default=False
        Return a DataFrame with the true classes as its index (named "true")
        and the predicted clusters as its columns (named "predicted"), both in
        sorted order.

    Returns
    -------
    contingency : ndarray or sparse matrix of shape (n_classes_true, n_clusters_pred), or DataFrame
    """
    labels_true, labels_pred = _check_two_labellings(labels_true, labels_pred)
    if as_frame and sparse:
        raise ValueError("as_frame=True gives a dense DataFrame; it cannot be combined with sparse=True.")
    table = _sk.cluster.contingency_matrix(labels_true, labels_pred, eps=eps, sparse=sparse, dtype=dtype)
    if not as_frame:
        return table
    return pd.DataFrame(
        table,
        index=pd.Index(np.unique(labels_true), name="true"),
        columns=pd.Index(np.unique(labels_pred), name="predicted"),
    )


def purity_score(labels_true, labels_pred, *, per_cluster=False):
    """Purity: the share of samples that belong to the majority class of their cluster.

    ``purity = (1 / n) * sum over clusters of (count of the cluster's most common
    class)``. From 1/n_classes-ish to 1; it always rises with more clusters (each
    sample alone is pure), so compare it at equal k or read it with ARI/NMI.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
    labels_pred : array-like of shape (n_samples,)
    per_cluster : bool, default=False
        Also return the purity of each predicted cluster.

    Returns
    -------
    purity : float
    per_cluster : pandas.Series, only with ``per_cluster=True``
        Indexed by predicted cluster (sorted; index name "cluster"), named
        "purity": the share of the cluster's samples in its majority class.
    """
    table = contingency_matrix(labels_true, labels_pred, as_frame=True)
    majority = table.max(axis=0)
    total = float(majority.sum() / table.to_numpy().sum())
    if not per_cluster:
        return total
    series = (majority / table.sum(axis=0)).astype(np.float64)
    series.index.name = "cluster"
    series.name = "purity"
    return total, series


# The names of the estimators that minimise another distance than the Euclidean one.
OTHER_GEOMETRY = {"SphericalKMeans": "cosine", "KMedians": "L1 (Manhattan)"}


def check_euclidean(estimator) -> None:
    """Refuse an estimator whose clusters the Euclidean metrics would misjudge.

    Inertia, silhouette, Calinski-Harabasz and Davies-Bouldin are Euclidean:
    they do not measure what a cosine or L1 model optimises.

    Raises
    ------
    ValueError
        For a SphericalKMeans or a KMedians.
    """
    metric = OTHER_GEOMETRY.get(type(estimator).__name__)
    if metric is not None:
        raise ValueError(
            f"the report and evaluate measure clusters in Euclidean geometry (inertia, silhouette, "
            f"Calinski-Harabasz, Davies-Bouldin); a {type(estimator).__name__} clusters by {metric} distance, "
            "so they are not computed for it"
        )

# ------------------------------------------------------- a clustering's summary
def clustering_metrics(Xt, labels, centers, labels_true=None, *, sample_size=None, random_state=0) -> dict:
    """Internal (and, with known classes, external) metrics of a clustering.

    What the report and ``kmeanskit evaluate`` show.

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features)
        Rows in the space the model clusters in.
    labels : ndarray of shape (n_samples,)
        Cluster of each row.
    centers : ndarray of shape (n_clusters, n_features)
        The model's centers, in the same space.
    labels_true : array-like of shape (n_samples,), optional
        Known classes.
    sample_size : int or None, default=None
        Above this many rows the silhouette is estimated on a seeded random
        sample of this size (see :func:`silhouette_or_reason`); None for
        :data:`SILHOUETTE_SAMPLE_SIZE`.
    random_state : int, default=0
        Seed of that sample.

    Returns
    -------
    dict
        ``n_samples``, ``n_clusters``, ``cluster_sizes`` (list indexed by
        cluster), ``inertia``, ``silhouette`` (None when undefined),
        ``silhouette_note`` (why None, or how it was estimated),
        ``calinski_harabasz``, ``davies_bouldin`` (None when the silhouette
        is); with `labels_true` also ``adjusted_rand``,
        ``normalized_mutual_info``, ``purity`` and ``contingency``
        (DataFrame: classes x clusters).
    """
    n_samples, n_clusters = len(labels), len(centers)
    if sample_size is None:
        sample_size = SILHOUETTE_SAMPLE_SIZE
    score, note = silhouette_or_reason(Xt, labels, sample_size=sample_size, random_state=random_state)
    defined = score is not None
    found = {
        "n_samples": n_samples,
        "n_clusters": n_clusters,
        "cluster_sizes": [int(n) for n in np.bincount(labels, minlength=n_clusters)],
        "inertia": float(inertia(Xt, labels, centers=centers)),
        "silhouette": score,
        "silhouette_note": note,
        "calinski_harabasz": float(calinski_harabasz_score(Xt, labels)) if defined else None,
        "davies_bouldin": float(davies_bouldin_score(Xt, labels)) if defined else None,
    }
    if labels_true is not None:
        found.update(external_metrics(labels_true, labels))
    return found


def external_metrics(labels_true, labels) -> dict:
    """How a clustering matches known classes: ``adjusted_rand``, ``normalized_mutual_info``,
    ``purity`` and ``contingency`` (DataFrame: classes x clusters); no feature is needed.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Known classes.
    labels : ndarray of shape (n_samples,)
        Cluster of each row.
    """
    return {
        "adjusted_rand": float(adjusted_rand_score(labels_true, labels)),
        "normalized_mutual_info": float(normalized_mutual_info_score(labels_true, labels)),
        "purity": float(purity_score(labels_true, labels)),
        "contingency": contingency_matrix(labels_true, labels, as_frame=True),
    }
