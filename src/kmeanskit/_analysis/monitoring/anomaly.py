"""Anomaly scores: a row's distance to its center over its cluster's training distance quantile.

Shared with the HTTP service, which scores each batch against thresholds
computed once (:func:`check_level`, :func:`threshold_scores`).
"""

import numpy as np

from kmeanskit._analysis.monitoring.assignment import assign
from kmeanskit._analysis.monitoring.profile import resolve_reference

__all__ = ["anomaly_scores", "check_level", "threshold_scores"]


def check_level(level) -> float:
    """`level` (a quantile level strictly between 0 and 1) as a float, or a ValueError."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, such as 0.99; got {level!r}")
    return float(level)


def threshold_scores(distances, labels, thresholds):
    """distance / threshold of the row's cluster: > 1 is beyond the threshold.

    A zero threshold (every training row on its center) gives 0 for a row on
    the center and inf otherwise; an unknown one (NaN) gives NaN.
    """
    t = thresholds[labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = distances / t
    scores[(t == 0) & (distances == 0)] = 0.0
    return scores


def anomaly_scores(model, X, *, reference=None, level: float = 0.99) -> np.ndarray:
    """How far each row is from its center, relative to the training rows of its cluster.

    The score of a row is its distance to its nearest center divided by the
    `level` quantile of the training distances of that cluster: a score
    above 1 means the row is farther out than ``level`` (99% by default) of
    the training rows of its cluster were. On data like the training data,
    about ``1 - level`` of the rows score above 1.

    Parameters
    ----------
    model : KMeans, Pipeline, str or os.PathLike
        A fitted model, or the path of a ``.kmk`` file (the model and, unless
        `reference` is given, its training profile are read from it).
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Rows to score, as the model takes them. Not modified.
    reference : TrainingProfile, array-like or None, default=None
        The training profile (see :func:`fit_monitor`) or the training rows;
        None uses the profile of the model file.
    level : float, default=0.99
        Quantile of the training distances that scores 1; one of the stored
        levels (0.5, 0.9, 0.95, 0.99 by default).

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        Non-negative; ``inf`` in a cluster whose training rows all sat on
        its center, NaN in a cluster that had no training rows.

    Raises
    ------
    ValueError
        If no profile is available, the profile has no quantiles (a file
        saved without ``X``) or lacks `level`, or the model refuses `X`.
    """
    level = check_level(level)
    model, profile = resolve_reference(model, reference)
    thresholds = profile.quantile(level)
    labels, distances, _ = assign(model, X)
    return threshold_scores(distances, labels, thresholds)
