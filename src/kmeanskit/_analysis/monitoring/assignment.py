"""The nearest cluster of each row and its distance to that cluster's center.

Monitoring compares distances in the space the model clusters in (after the
scalers of a pipeline), as the final estimator's ``transform`` gives them:
profiles, anomaly scores, drift reports, ``predict_table`` and the HTTP service
all assign rows here.
"""

import contextlib
import warnings

import numpy as np

from kmeanskit._estimators.pipeline import clusters_categories, fitted_final_estimator, to_final_space

__all__ = ["assign"]


def assign(model, X, *, all_distances: bool = False, labels_from: str = "predict", final=None):
    """Nearest cluster of each row and its distance to that cluster's center.

    Parameters
    ----------
    model : KMeans or Pipeline
        A fitted K-Means model, or a pipeline of transformers ending in one.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Rows as the model takes them; validated by the model. Not modified.
    all_distances : bool, default=False
        Also return the distances to every center.
    labels_from : {"predict", "distances"}, default="predict"
        ``"predict"``: the labels ``model.predict(X)`` gives (bitwise). ``"distances"``:
        the argmin of ``transform(X)``, one pass over the data instead of two (for
        small batches, where the fixed cost of each call dominates); the two
        differ only for a row equidistant from two centers up to rounding.
    final : fitted estimator, optional
        The final estimator to assign with instead of `model`'s (e.g. a copy
        with another ``missing`` policy); `model`'s transformers still apply.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
        The nearest cluster of each row.
    distances : ndarray of shape (n_samples,), float64
        Distance of each row to the center of its cluster, in the space the
        model clusters in (after its preprocessing steps).
    center_distances : ndarray of shape (n_samples, n_clusters), float64, or None
        Distances to every center when `all_distances` is True.

    Notes
    -----
    For a model of categorical columns (KPrototypes, KModes), a category never
    seen at fit matches no center's mode; it is not warned about here (no
    :class:`~kmeanskit.UnseenCategoryWarning`): the callers count such values
    (``unseen_categories``, the drift report's categories table).
    """
    from kmeanskit._estimators.kprototypes import UnseenCategoryWarning

    if labels_from not in ("predict", "distances"):
        raise ValueError(f"labels_from must be 'predict' or 'distances', got {labels_from!r}")
    if final is None:
        final = fitted_final_estimator(model, purpose="monitoring it")
    Xt = to_final_space(model, X)
    categorical = clusters_categories(final)
    # Only models of categories warn of unseen ones; warning filters are process-wide (the service's threads),
    # so they are left alone for the others.
    with warnings.catch_warnings() if categorical else contextlib.nullcontext():
        if categorical:
            warnings.simplefilter("ignore", UnseenCategoryWarning)
        D = np.asarray(final.transform(Xt), dtype=np.float64)
        labels = (np.asarray(final.predict(Xt), dtype=np.int64) if labels_from == "predict"
                  else np.argmin(D, axis=1).astype(np.int64))
    distances = D[np.arange(labels.shape[0]), labels]
    return labels, distances, (D if all_distances else None)
