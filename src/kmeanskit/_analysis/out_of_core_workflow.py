"""The CLI's out-of-core workflow: :func:`fit_clusters_out_of_core` scales and fits a file in passes."""

from __future__ import annotations

import numpy as np

from kmeanskit._algorithms.streaming import Progress
from kmeanskit._estimators.out_of_core import check_counts as _check_counts
from kmeanskit._estimators.out_of_core import check_random_state as _check_random_state
from kmeanskit._estimators.out_of_core import fit_stream as _fit_stream
from kmeanskit._estimators.out_of_core import release_reader_memory as _release_reader_memory
from kmeanskit._estimators.out_of_core import survey_pass as _survey
from kmeanskit._io.chunked import TableStream

__all__ = ["fit_clusters_out_of_core"]

# ------------------------------------------------------- the CLI's workflow
# The keys of kmeanskit._analysis.workflow.SCALINGS (a test pins them equal); that
# module imports scikit-learn, which the passes do without.
_SCALINGS = ("standard", "minmax", "none")


class _Scaling:
    """The scaler of ``scale``, fitted on a :class:`Survey` of the raw rows, without scikit-learn.

    Its attributes are those that ``StandardScaler`` or ``MinMaxScaler``
    ``partial_fit`` would set chunk by chunk: the mean and variance are the
    survey's exact moments (equal up to rounding), the range is exact, and
    near-constant features keep a scale of 1 by scikit-learn's rules.
    :meth:`transform` does what the scaler's ``transform`` does, bit for bit,
    in place; :meth:`estimator` is the fitted scikit-learn scaler.
    """

    def __init__(self, scale, survey):
        self.scale = scale
        n, eps = survey.n, np.finfo(np.float64).eps
        if scale == "standard":
            mean, var = survey.mean.copy(), survey.variance
            # sklearn.preprocessing._data._is_constant_feature: zero up to the rounding of the variance.
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.attributes = {
                "mean_": mean, "var_": var, "scale_": np.where(constant, 1.0, np.sqrt(var)),
                "n_samples_seen_": np.float64(n),
            }
        elif scale == "minmax":
            low, high = survey.data_min.copy(), survey.data_max.copy()
            data_range = high - low
            # sklearn.preprocessing._data._handle_zeros_in_scale: a range near zero scales by 1.
            factor = 1.0 / np.where(data_range < 10 * eps, 1.0, data_range)
            self.attributes = {
                "min_": 0.0 - low * factor, "scale_": factor, "data_min_": low, "data_max_": high,
                "data_range_": data_range, "n_samples_seen_": n,
            }
        else:
            self.attributes = None

    def transform(self, chunk):
        """Scale ``chunk`` (float64, C-ordered) in place, as the scaler's ``transform`` does."""
        a = self.attributes
        if self.scale == "standard":
            chunk -= a["mean_"]
            chunk /= a["scale_"]
        elif self.scale == "minmax":
            chunk *= a["scale_"]
            chunk += a["min_"]
        return chunk

    def estimator(self, names):
        """The fitted ``StandardScaler`` or ``MinMaxScaler`` (``"passthrough"`` for no scaling)."""
        from kmeanskit._analysis.workflow import make_scaler

        scaler = make_scaler(self.scale)
        if self.attributes is not None:
            for name, value in self.attributes.items():
                setattr(scaler, name, value)
            scaler.n_features_in_ = len(names)
            scaler.feature_names_in_ = np.asarray(names, dtype=object)
        return scaler


class _ScaledStream:
    """A stream whose chunks go through a fitted :class:`_Scaling`."""

    kind = "scaled"
    has_names = False  # the scaler hands arrays on, as in a Pipeline

    def __init__(self, stream, scaling):
        self.stream, self.scaling = stream, scaling
        self.feature_names, self.dtype = stream.feature_names, stream.dtype
        self.n_rows, self.label = stream.n_rows, stream.label

    def chunks(self, name="a pass"):
        for start, chunk in self.stream.chunks(name):
            yield start, self.scaling.transform(chunk)


def fit_clusters_out_of_core(
    source, n_clusters, *, columns=None, layout=None, scale="standard", chunk_rows=65536, mini_batch=False,
    random_state=None, max_iter=300, tol=1e-4, progress=None, silhouette_sample_size=10_000,
):
    """:func:`kmeanskit._analysis.workflow.fit_clusters`, streaming: the file is never read whole.

    A first pass checks the values, computes the scaler's statistics (exact
    moments and range) and draws a uniform sample of ``silhouette_sample_size``
    rows for the silhouette; :func:`fit_out_of_core` then clusters the scaled
    stream, and its final labelling pass gives the cluster sizes.

    Parameters
    ----------
    source : str, path-like or pandas.DataFrame
        As for :func:`fit_out_of_core`.
    n_clusters : int
    columns : sequence of str, optional
    layout : TextLayout, optional
        Where the table starts in a text file (lines to skip, header or not).
    scale : {"standard", "minmax", "none"}, default="standard"
    chunk_rows : int, default=65536
    mini_batch : bool, default=False
    random_state : int or None, default=None
    max_iter : int, default=300
    tol : float, default=1e-4
    progress : bool or None, default=None
    silhouette_sample_size : int, default=10000

    Returns
    -------
    kmeanskit._analysis.workflow.FitResult
        As from ``fit_clusters``; ``pipeline`` ends in the fitted ``KMeans``
        (or ``MiniBatchKMeans``), ``labels`` come from the final pass.
    """
    import time

    if scale not in _SCALINGS:
        raise ValueError(f"scale must be one of {', '.join(map(repr, _SCALINGS))}; got {scale!r}")
    (n_clusters,) = _check_counts(n_clusters=n_clusters)
    (chunk_rows,) = _check_counts(chunk_rows=chunk_rows)
    (silhouette_sample_size,) = _check_counts(silhouette_sample_size=silhouette_sample_size)
    progress = Progress(progress)
    start_time = time.perf_counter()
    stream = TableStream(source, columns, chunk_rows, np.float64, layout=layout)
    names = stream.feature_names
    survey = _survey(stream, silhouette_sample_size, _check_random_state(random_state), progress, "scaling (pass 0)")
    survey.check()
    if n_clusters > survey.n:
        raise ValueError(
            f"the number of clusters (k, n_clusters) is {n_clusters}, more than the number of rows "
            f"({survey.n}): every cluster needs at least one row"
        )
    scaling = _Scaling(scale, survey)
    fitted = stream if scale == "none" else _ScaledStream(stream, scaling)
    fitted.n_rows = survey.n
    km = _fit_stream(
        fitted, n_clusters, init="k-means++", sample_size=None, max_iter=max_iter, tol=tol,
        mini_batch=mini_batch, random_state=random_state, progress=progress,
    )
    fit_seconds = time.perf_counter() - start_time

    import pandas as pd
    from sklearn.pipeline import Pipeline

    from kmeanskit._analysis.metrics import silhouette_or_reason
    from kmeanskit._analysis.workflow import fit_result

    scaler = scaling.estimator(names)
    sample = pd.DataFrame(survey.reservoir.rows(), columns=names)
    scaled_sample = sample.to_numpy() if isinstance(scaler, str) else scaler.transform(sample)
    labels = km.labels_
    sample_labels = km.predict(sample if isinstance(scaler, str) else scaled_sample)
    silhouette, note = silhouette_or_reason(scaled_sample, sample_labels, sample_size=None,
                                            random_state=random_state, sampled_from=survey.n)
    # Freed reader buffers and silhouette tiles stay in the process otherwise, under what comes next.
    _release_reader_memory()

    centers_scaled = np.asarray(km.cluster_centers_)
    centers_original = centers_scaled if isinstance(scaler, str) else scaler.inverse_transform(centers_scaled)
    return fit_result(
        Pipeline([("scale", scaler), ("kmeans", km)]), labels, centers_original, list(names), fit_seconds,
        silhouette, note, scale=scale, random_state=random_state,
    )
