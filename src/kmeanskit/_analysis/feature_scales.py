"""Features on scales that differ by orders of magnitude, clustered unscaled: say so.

K-Means measures Euclidean distance, so a feature whose standard deviation
is a thousand times another's decides the clusters alone. :func:`warn_if_unscaled`
warns when the features about to be clustered are like that; the analysis
functions and the command line call it (``select_k``, ``kmeanskit fit --scale
none``), while the estimators stay silent, as scikit-learn's do.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["SCALE_RATIO", "FeatureScaleWarning", "scale_spread", "warn_if_unscaled"]


class FeatureScaleWarning(UserWarning):
    """Features on scales that differ by orders of magnitude are clustered unscaled."""

#: Largest ratio of two features' standard deviations that clusters without a warning.
SCALE_RATIO = 100.0

# Rows read to estimate the standard deviations (evenly spaced, deterministic).
_MAX_ROWS = 100_000
_REMEDY = "scale them (e.g. sklearn.preprocessing.StandardScaler in a pipeline)"


def scale_spread(X, feature_names=None):
    """The features with the largest and the smallest standard deviation, and the ratio of the two.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric data (a DataFrame's columns name the features). Sparse data
        and features that are constant or not finite are left out.
    feature_names : sequence of str, optional
        Names of the features; X's columns or ``x0, x1, ...`` by default.

    Returns
    -------
    spread : tuple (ratio, (name, sd), (name, sd)) or None
        The ratio of the largest to the smallest positive standard deviation,
        and the two features; None with fewer than two non-constant features.
    """
    if hasattr(X, "tocsr") or hasattr(X, "todense"):  # sparse: no dense copy for a hint
        return None
    names = feature_names
    if names is None and hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    values = np.asarray(X)
    if values.ndim != 2 or values.dtype.kind not in "iuf" or values.shape[0] < 2:
        return None
    if names is None or len(names) != values.shape[1]:
        names = [f"x{j}" for j in range(values.shape[1])]
    step = max(1, values.shape[0] // _MAX_ROWS)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(np.asarray(values[::step], dtype=np.float64), axis=0)
    usable = np.flatnonzero(np.isfinite(sd) & (sd > 0))
    if usable.size < 2:
        return None
    high = usable[np.argmax(sd[usable])]
    low = usable[np.argmin(sd[usable])]
    return float(sd[high] / sd[low]), (str(names[high]), float(sd[high])), (str(names[low]), float(sd[low]))


def _rough(value: float) -> str:
    """Two significant digits, powers of ten written short: 1e4, 0.1, 35."""
    text = f"{value:.2g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def warn_if_unscaled(X, feature_names=None, *, remedy: str = _REMEDY, stacklevel: int = 2) -> str | None:
    """Warn when X's features differ in scale by orders of magnitude (a ratio of standard deviations >= 100).

    The warning is a :class:`FeatureScaleWarning` (a ``UserWarning``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data as K-Means will see it.
    feature_names : sequence of str, optional
        Names of the features; X's columns or ``x0, x1, ...`` by default.
    remedy : str
        What to do, in the caller's words, e.g. ``"scale them (--scale standard)"``.
    stacklevel : int, default=2
        Passed to :func:`warnings.warn`, to point at the caller's caller.

    Returns
    -------
    message : str or None
        The warning's message, or None when no warning was given.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.normal(0, 1e4, 500), rng.normal(0, 0.1, 500)])
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     message = warn_if_unscaled(X, ["income", "rate"])
    >>> message.split(";")[0]
    'features differ in scale by 10^5 (income: sd 1e4, rate: sd 0.094)'
    """
    spread = scale_spread(X, feature_names)
    if spread is None or spread[0] < SCALE_RATIO:
        return None
    ratio, (high, sd_high), (low, sd_low) = spread
    message = (
        f"features differ in scale by 10^{math.floor(math.log10(ratio))} "
        f"({high}: sd {_rough(sd_high)}, {low}: sd {_rough(sd_low)}); "
        f"K-Means uses Euclidean distance, so the largest scale dominates: {remedy}"
    )
    warnings.warn(message, FeatureScaleWarning, stacklevel=stacklevel + 1)
    return message
