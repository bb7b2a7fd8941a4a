"""Missing values (NaN) in an estimator's input: the ``missing`` parameter.

``missing="error"`` (the default) is scikit-learn's behaviour: NaN is refused
with scikit-learn's message, extended by one sentence that names the option.
``missing="ignore"`` clusters on the observed entries (k-POD's objective, see
:mod:`kmeanskit._algorithms.masked`): this module validates such input, fits
on it and answers predict / transform / score for rows with gaps. Complete
data never come here: they take the estimator's ordinary path, bit for bit.
"""

import dataclasses

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _assert_all_finite, validate_data

from kmeanskit._algorithms.mapping import DataMapping, pow2_scale
from kmeanskit._algorithms.masked import MaskedRows, masked_sq_distances_of
from kmeanskit._algorithms.registry import MASKED_SEEDERS, STEPS
from kmeanskit._estimators.validation import plain_float_array

__all__ = [
    "MISSING_CONSTRAINT",
    "check_observed",
    "check_rows_observed",
    "fit_masked",
    "has_gaps",
    "masked_assign",
    "masked_distances",
    "missing_hint",
    "validate_allowing_missing",
]

MISSING_CONSTRAINT = [StrOptions({"error", "ignore"})]
# Rows (or columns) named in an error, at most.
_NAMED = 5


def missing_hint(estimator):
    """The sentence appended to a NaN error: how to cluster on the observed entries instead."""
    return f"\nOr pass missing='ignore' to {type(estimator).__name__} to cluster on the observed entries."


def validate_allowing_missing(estimator, X, **kwargs):
    """``validate_data(estimator, X, **kwargs)``, NaN allowed when ``estimator.missing == "ignore"``.

    Infinity is always refused (scikit-learn's message). With
    ``missing="error"``, scikit-learn's NaN message is raised with one more
    sentence naming the option. Estimators without a ``missing`` parameter get
    scikit-learn's behaviour unchanged. A finite float array in C order takes
    :func:`~kmeanskit._estimators.validation.plain_float_array`'s fast path (the same result).
    """
    plain = plain_float_array(estimator, X, **kwargs)
    if plain is not None:
        return plain
    missing = getattr(estimator, "missing", None)
    if missing != "ignore":
        try:
            return validate_data(estimator, X, **kwargs)
        except ValueError as error:
            if missing is None or "contains NaN" not in str(error):
                raise
            raise ValueError(f"{error}{missing_hint(estimator)}") from None
    X = validate_data(estimator, X, ensure_all_finite="allow-nan", **kwargs)
    values = X.data if sp.issparse(X) else X
    _assert_all_finite(values, allow_nan=True, input_name="X", estimator_name=type(estimator).__name__)
    if sp.issparse(X) and has_gaps(X):
        raise ValueError(
            f"missing='ignore' clusters dense data, but X is a sparse matrix with "
            f"{int(np.isnan(X.data).sum())} NaN entries; pass X.toarray() or impute them."
        )
    return X


def has_gaps(X):
    """Whether validated X (dense or CSR) holds a NaN."""
    values = X.data if sp.issparse(X) else X
    return bool(np.isnan(values).any())


def _some(indices):
    shown = ", ".join(str(int(i)) for i in indices[:_NAMED])
    return shown + (f" and {indices.size - _NAMED} more" if indices.size > _NAMED else "")


def check_observed(X, feature_names=None, *, columns=True):
    """Refuse rows (and, if ``columns``, features) of X without an observed entry.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), with NaN gaps
    feature_names : ndarray of str or None
        Names of the features (``feature_names_in_``), for the message.
    columns : bool, default=True
        Also refuse features with no observed value (a fit cannot place its
        centers there; a prediction can).
    """
    observed = ~np.isnan(X)
    check_rows_observed(observed.any(axis=1))
    if columns:
        empty_cols = np.flatnonzero(~observed.any(axis=0))
        if empty_cols.size:
            named = _some(empty_cols)
            if feature_names is not None:
                named = ", ".join(repr(str(feature_names[j])) for j in empty_cols[:_NAMED]) + f" (column(s) {named})"
            raise ValueError(
                f"{empty_cols.size} feature(s) of X have no observed value (every value is NaN): "
                f"{named}. A center coordinate needs observed values; drop these features."
            )


def check_rows_observed(row_observed, missing="NaN"):
    """Refuse rows without an observed entry; ``row_observed`` (n,) bool says which have one,
    ``missing`` how the message names a missing value."""
    empty_rows = np.flatnonzero(~row_observed)
    if empty_rows.size:
        raise ValueError(
            f"{empty_rows.size} row(s) of X have no observed entry (every value is {missing}): "
            f"row(s) {_some(empty_rows)}. With missing='ignore' a row is assigned by its observed "
            "entries, so it needs at least one; drop these rows."
        )


def fit_masked(estimator, X, sample_weight, random_state, n_init, init_array, callable_init):
    """Fit ``estimator`` (a Euclidean ``CentersMixin``) on X with gaps: Lloyd on the observed entries.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64, with NaN gaps (validated)
    sample_weight : ndarray of shape (n_samples,) or None
    random_state : numpy.random.RandomState
    n_init : int
    init_array : ndarray of shape (n_clusters, n_features) or None
        Initial centers given by the user.
    callable_init : callable or None
        ``callable_init()`` returns the centers of a callable ``init`` (called on X, gaps included).

    ``init`` 'auto', 'k-means++' and 'k-means||' seed with greedy k-means++
    on partial distances; 'random' draws rows. Either way a drawn row's gaps
    take the feature's mean over its observed entries.
    """
    check_observed(X, getattr(estimator, "feature_names_in_", None))
    # Rows are shifted by the observed mean (distances from matrix products keep their
    # precision) and scaled by a power of two against overflow.
    scale = pow2_scale(float(np.nanmax(np.abs(X))), X.dtype)
    scaled = X if scale == 1.0 else X * X.dtype.type(scale)
    shift = (np.nanmean(scaled, axis=0, dtype=np.float64) / scale).astype(X.dtype)
    del scaled
    mapping = DataMapping(shift, scale)
    rows = MaskedRows(X, sample_weight, mapping)
    tol = float(np.mean(_observed_variances(rows)) * estimator.tol)
    step = STEPS["masked"](rows, estimator.n_clusters)
    if init_array is not None:
        init_array = mapping.map_centers(init_array)

    def seed():
        if callable_init is not None:
            return mapping.map_centers(callable_init())
        if estimator.init == "random":
            return estimator._random_centers(rows, random_state)  # the rows' take fills the gaps
        return MASKED_SEEDERS["k-means++"](rows, estimator.n_clusters, random_state)

    best = estimator._best_run(step, n_init, init_array, seed, tol)
    centers, inertia = mapping.unmap_centers(best.centers), best.inertia
    # predict() maps rows and centers with this mapping: make labels_ exactly what it returns.
    recentered = mapping.map_centers(centers)
    if not np.array_equal(recentered, best.centers):
        inertia = step(recentered, best.labels, update=False).inertia
    run = dataclasses.replace(
        best,
        centers=centers,
        inertia=mapping.unmap_inertia(inertia),
        inertia_history=mapping.unmap_inertia(best.inertia_history),
    )
    return estimator._set_fitted(run, _X_mean=shift)


def _observed_variances(rows):
    """Each feature's variance over its observed entries, of the mapped rows (float64; the rows are
    shifted by the observed mean, so the one-pass formula loses nothing)."""
    counts = rows.M.sum(axis=0, dtype=np.int64)
    X0 = rows.X0
    mean = X0.sum(axis=0, dtype=np.float64) / counts
    return np.einsum("ij,ij->j", X0, X0, dtype=np.float64) / counts - mean * mean


def _prediction_rows(X, centers, sample_weight, shift):
    check_observed(X, columns=False)
    mapping = DataMapping.for_prediction(np.nan_to_num(X, nan=0.0), centers, shift)
    return MaskedRows(X, sample_weight, mapping), mapping.map_centers(centers, X.dtype), mapping.scale


def masked_assign(X, centers, sample_weight=None, shift=None):
    """Labels and objective (over observed entries) of rows X with gaps on fitted ``centers``.

    ``shift``: the fit's shift (``_X_mean``), or None; rows and centers are mapped as in the fit.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int32
    inertia : float, ``sum_i w_i`` times the partial squared distance to the nearest center
    """
    rows, mapped, scale = _prediction_rows(X, centers, sample_weight, shift)
    step = STEPS["masked"](rows, centers.shape[0])
    labels = np.empty(X.shape[0], dtype=np.int32)
    inertia = step(mapped, labels, update=False).inertia
    return labels, inertia / scale / scale


def masked_distances(X, centers, shift=None):
    """(n_samples, n_clusters) Euclidean distances over each row's observed entries, X's dtype."""
    rows, mapped, scale = _prediction_rows(X, centers, None, shift)
    out = np.sqrt(masked_sq_distances_of(rows, mapped)).astype(X.dtype, copy=False)
    if scale != 1.0:
        out /= X.dtype.type(scale)
    return out
