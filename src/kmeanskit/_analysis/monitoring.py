"""Watch a deployed clustering model: anomaly scores and drift reports.

Both compare new rows with a *training profile* of the model: how many
training rows each cluster received and the quantiles of their distances to
their center. The profile comes from one of two places:

- a ``.kmk`` model file saved with ``save(model, path, X=X_train)``: its
  training summary holds the cluster sizes and the per-cluster distance
  quantiles at levels 0.5, 0.9, 0.95, 0.99 and 1.0. Pass the *path* (or use
  :func:`load_monitored`) and the profile is read from the same file;
- :func:`fit_monitor` ``(model, X_train)`` for a model that was never saved
  (or saved without ``X``); it also records the mean distance per cluster,
  which the model file does not store.

Functions taking ``reference=`` accept either a :class:`TrainingProfile` or
the reference rows themselves (profiled with :func:`fit_monitor`).

Distances are what the estimator's ``transform`` returns (Euclidean; cosine
``1 - cos`` for SphericalKMeans; L1 for KMedians) in the space the model
clusters in, i.e. after the scalers of a pipeline.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kmeanskit._analysis.distance_summary import QUANTILE_LEVELS, summarize_distances
from kmeanskit._estimators.pipeline import fitted_final_estimator, to_final_space

__all__ = [
    "DEFAULT_QUANTILE_LEVELS",
    "DriftReport",
    "TrainingProfile",
    "anomaly_scores",
    "assign",
    "drift_report",
    "fit_monitor",
    "load_monitored",
]

#: Distance quantile levels stored per cluster (the same as in a ``.kmk`` file).
DEFAULT_QUANTILE_LEVELS = QUANTILE_LEVELS

# Proportions are floored here in the PSI, so that a bin empty on one side
# gives a large but finite contribution (the usual convention).
_PSI_FLOOR = 1e-4
# Cochran's rule: a chi-square test needs about 5 expected rows per bin.
_MIN_EXPECTED = 5.0


# ----------------------------------------------------------------- profile
@dataclass(frozen=True, eq=False)
class TrainingProfile:
    """What a model's training (or reference) rows looked like, per cluster.

    Attributes
    ----------
    n_samples : int
        Rows profiled.
    cluster_sizes : ndarray of shape (n_clusters,), int64
        Rows assigned to each cluster.
    quantile_levels : tuple of float
        Increasing levels in [0, 1] of `distance_quantiles`.
    distance_quantiles : ndarray of shape (n_clusters, n_levels) or None
        Quantiles of the distances of each cluster's rows to its center; a row
        of NaN for a cluster without rows. None when unknown (a model file
        saved without ``X``): then only cluster shares can be compared.
    mean_distances : ndarray of shape (n_clusters,) or None
        Mean distance to the center per cluster (NaN without rows); None when
        the profile comes from a model file, which does not store it.
    source : str
        ``"model file"`` or ``"reference data"``.
    centers_digest : str or None
        SHA-256 of the model's centers, to refuse a profile of another model.
    """

    n_samples: int
    cluster_sizes: np.ndarray
    quantile_levels: tuple
    distance_quantiles: np.ndarray | None
    mean_distances: np.ndarray | None = None
    source: str = "reference data"
    centers_digest: str | None = field(default=None, repr=False)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.cluster_sizes.shape[0])

    @property
    def shares(self) -> np.ndarray:
        """Fraction of rows in each cluster, ndarray of shape (n_clusters,)."""
        return self.cluster_sizes / max(self.n_samples, 1)

    @property
    def has_quantiles(self) -> bool:
        """Whether distance quantiles are known (needed for anomaly scores)."""
        return self.distance_quantiles is not None

    def quantile(self, level: float) -> np.ndarray:
        """Distance quantile of each cluster at a stored `level`.

        Parameters
        ----------
        level : float
            One of `quantile_levels`.

        Returns
        -------
        ndarray of shape (n_clusters,)
            NaN for a cluster without rows.

        Raises
        ------
        ValueError
            If the quantiles are unknown or `level` is not stored.
        """
        if self.distance_quantiles is None:
            raise ValueError(
                "the training profile has no distance quantiles: the model file was saved without its "
                "training data. Save it with save(model, path, X=X_train), or pass reference=X_train "
                "(or a profile from fit_monitor(model, X_train))."
            )
        for i, stored in enumerate(self.quantile_levels):
            if math.isclose(stored, level, rel_tol=0, abs_tol=1e-12):
                return self.distance_quantiles[:, i]
        levels = ", ".join(f"{v:g}" for v in self.quantile_levels)
        raise ValueError(f"level={level!r} is not stored in the training profile; available levels: {levels}.")

    @classmethod
    def from_summary(cls, summary: Any, *, centers_digest: str | None = None) -> TrainingProfile:
        """Build a profile from the training summary of a model file's manifest.

        Parameters
        ----------
        summary : dict
            ``manifest["summary"]`` of :func:`kmeanskit._io.persistence.load_with_manifest`.
        centers_digest : str, optional
            Digest of the model's centers (see :func:`fit_monitor`).

        Raises
        ------
        kmeanskit.ModelFileError
            If the summary is malformed. The manifest is not covered by the
            checksums of the arrays, so it is checked here.
        """
        from kmeanskit._io.persistence import ModelFileError

        def bad(what):
            return ModelFileError(f"invalid training summary in the model file: {what}")

        if not isinstance(summary, dict):
            raise bad("not an object")
        sizes = summary.get("cluster_sizes")
        if not isinstance(sizes, list) or not sizes or not all(_is_count(s) for s in sizes):
            raise bad(f"cluster_sizes must be a non-empty list of counts, got {sizes!r:.80}")
        n_samples = summary.get("n_samples")
        if not _is_count(n_samples) or n_samples != sum(sizes) or n_samples == 0:
            raise bad(f"n_samples {n_samples!r} is not the positive sum of the cluster sizes")
        levels = summary.get("distance_quantile_levels")
        if (not isinstance(levels, list) or not levels or not all(_is_number(v) and 0 <= v <= 1 for v in levels)
                or not _increasing(levels)):
            raise bad(f"distance_quantile_levels must be increasing numbers in [0, 1], got {levels!r:.80}")
        quantiles = summary.get("distance_quantiles")
        table = None
        if quantiles is not None:
            if not isinstance(quantiles, list) or len(quantiles) != len(sizes):
                raise bad("distance_quantiles must hold one entry per cluster")
            table = np.full((len(sizes), len(levels)), np.nan)
            for j, (row, size) in enumerate(zip(quantiles, sizes, strict=True)):
                if row is None and size == 0:
                    continue
                if (not isinstance(row, list) or len(row) != len(levels)
                        or not all(_is_number(v) and math.isfinite(v) and v >= 0 for v in row)
                        or not _increasing(row, strictly=False)):
                    raise bad(f"the distance quantiles of cluster {j} must be {len(levels)} non-decreasing "
                              f"distances, got {row!r:.80}")
                table[j] = row
        return cls(
            n_samples=int(n_samples),
            cluster_sizes=np.asarray(sizes, dtype=np.int64),
            quantile_levels=tuple(float(v) for v in levels),
            distance_quantiles=table,
            mean_distances=None,
            source="model file",
            centers_digest=centers_digest,
        )

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain JSON values (NaN as None)."""
        return {
            "source": self.source,
            "n_samples": self.n_samples,
            "cluster_sizes": self.cluster_sizes.tolist(),
            "quantile_levels": list(self.quantile_levels),
            "distance_quantiles": None if self.distance_quantiles is None
            else [[_json_number(v) for v in row] for row in self.distance_quantiles],
            "mean_distances": None if self.mean_distances is None
            else [_json_number(v) for v in self.mean_distances],
        }


def _increasing(values, *, strictly=True) -> bool:
    steps = np.diff(np.asarray(values, dtype=float))
    return bool(np.all(steps > 0) if strictly else np.all(steps >= 0))


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fit_monitor(model, X, *, quantile_levels=DEFAULT_QUANTILE_LEVELS) -> TrainingProfile:
    """Profile a fitted model on its training (or any reference) rows.

    Parameters
    ----------
    model : KMeans or Pipeline
        A fitted K-Means model (an estimator with ``cluster_centers_``,
        ``predict`` and ``transform``), or a pipeline ending in one.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The rows, as the model takes them. Not modified.
    quantile_levels : sequence of float, default=(0.5, 0.9, 0.95, 0.99, 1.0)
        Increasing levels in [0, 1] of the distance quantiles to store.

    Returns
    -------
    TrainingProfile
        With ``source="reference data"``.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeanskit import KMeans
    >>> from kmeanskit.monitoring import anomaly_scores, fit_monitor
    >>> X = np.random.default_rng(0).normal(size=(1000, 2))
    >>> km = KMeans(3, random_state=0).fit(X)
    >>> profile = fit_monitor(km, X)
    >>> scores = anomaly_scores(km, X, reference=profile)
    >>> bool(0.005 < np.mean(scores > 1) < 0.02)
    True
    """
    levels = tuple(float(v) for v in quantile_levels)
    if not levels or any(not 0 <= v <= 1 for v in levels) or not _increasing(levels):
        raise ValueError(f"quantile_levels must be increasing numbers in [0, 1], got {quantile_levels!r}")
    final = fitted_final_estimator(model, purpose="monitoring it")
    labels, distances, _ = assign(model, X)
    summary = summarize_distances(labels, distances, int(final.cluster_centers_.shape[0]), levels)
    return TrainingProfile(
        n_samples=int(labels.shape[0]),
        cluster_sizes=summary.sizes,
        quantile_levels=levels,
        distance_quantiles=summary.quantiles,
        mean_distances=summary.means,
        source="reference data",
        centers_digest=_centers_digest(final),
    )


def load_monitored(path) -> tuple[Any, TrainingProfile]:
    """Load a ``.kmk`` model file and the training profile stored in it.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : KMeans or Pipeline
    profile : TrainingProfile
        ``profile.has_quantiles`` is False when the file was saved without ``X``.

    Raises
    ------
    kmeanskit.ModelFileError
        If the file or its training summary is invalid.
    """
    from kmeanskit._io.persistence import load_with_manifest

    model, manifest = load_with_manifest(path)
    return model, profile_from_manifest(model, manifest, path)


def profile_from_manifest(model, manifest, path, *, required=True) -> TrainingProfile | None:
    """The training profile stored in a model file, from what ``load_with_manifest`` returned.

    Parameters
    ----------
    model : KMeans or Pipeline
        The loaded model.
    manifest : dict
        Its manifest.
    path : str or os.PathLike
        The file, for messages.
    required : bool, default=True
        When False, a file that declares it has no profile gives None
        instead of raising.

    Raises
    ------
    kmeanskit.ModelFileError
        If the summary is invalid, or absent while `required`.
    """
    from kmeanskit._io.persistence import ModelFileError

    summary = manifest.get("summary")
    if isinstance(summary, dict) and "cluster_sizes" in summary and summary["cluster_sizes"] is None:
        # Written for a MiniBatchKMeans whose labels_ do not cover its training rows.
        if not required:
            return None
        raise ModelFileError(
            f"{path} holds no training profile (cluster sizes): its model was trained with partial_fit or "
            "compute_labels=False and saved without X. Save it with save(model, path, X=X_train) (a "
            "representative sample will do), or pass reference=X_train."
        )
    final = fitted_final_estimator(model, purpose="monitoring it")
    k = final.cluster_centers_.shape[0]
    try:
        profile = TrainingProfile.from_summary(manifest.get("summary"), centers_digest=_centers_digest(final))
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    if profile.n_clusters != k:
        raise ModelFileError(f"{path}: invalid training summary: {profile.n_clusters} cluster sizes for "
                             f"{k} clusters")
    return profile


# ------------------------------------------------------------- assignment
def _centers_digest(final) -> str:
    centers = np.ascontiguousarray(final.cluster_centers_)
    return hashlib.sha256(centers.dtype.str.encode() + repr(centers.shape).encode() + centers.tobytes()).hexdigest()


def assign(model, X, *, all_distances: bool = False, labels_from: str = "predict"):
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

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
        The nearest cluster of each row.
    distances : ndarray of shape (n_samples,), float64
        Distance of each row to the center of its cluster, in the space the
        model clusters in (after its preprocessing steps).
    center_distances : ndarray of shape (n_samples, n_clusters), float64, or None
        Distances to every center when `all_distances` is True.
    """
    if labels_from not in ("predict", "distances"):
        raise ValueError(f"labels_from must be 'predict' or 'distances', got {labels_from!r}")
    final = fitted_final_estimator(model, purpose="monitoring it")
    Xt = to_final_space(model, X)
    D = np.asarray(final.transform(Xt), dtype=np.float64)
    if labels_from == "predict":
        labels = np.asarray(final.predict(Xt), dtype=np.int64)
    else:
        labels = np.argmin(D, axis=1).astype(np.int64)
    distances = D[np.arange(labels.shape[0]), labels]
    return labels, distances, (D if all_distances else None)


def resolve_reference(model, reference):
    """The model and its training profile, from what the public functions take.

    Parameters
    ----------
    model : KMeans, Pipeline, str or os.PathLike
        A fitted model, or the path of a ``.kmk`` file.
    reference : TrainingProfile, array-like or None
        A profile of this model, the rows to profile, or None for the
        profile stored in the model file.

    Returns
    -------
    model, profile : the model (loaded from the file) and a TrainingProfile
    """
    file_profile = None
    if isinstance(model, (str, os.PathLike)):
        if reference is None:
            model, file_profile = load_monitored(model)
        else:  # the file's own profile is not used (and may be absent)
            from kmeanskit._io.persistence import load

            model = load(model)
    final = fitted_final_estimator(model, purpose="monitoring it")
    if reference is None:
        if file_profile is None:
            raise ValueError(
                "no training profile for this model: pass the path of a model file saved with "
                "save(model, path, X=X_train), or reference=X_train, or reference=fit_monitor(model, X_train)"
            )
        return model, file_profile
    if isinstance(reference, TrainingProfile):
        k = final.cluster_centers_.shape[0]
        if reference.n_clusters != k or (
            reference.centers_digest is not None and reference.centers_digest != _centers_digest(final)
        ):
            raise ValueError(
                "reference is a TrainingProfile of another model (its clusters or centers differ from this "
                "model's); build it with fit_monitor(model, X_train) for this model"
            )
        return model, reference
    return model, fit_monitor(model, reference)


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


# ------------------------------------------------------------------ drift
@dataclass
class DriftReport:
    """The result of :func:`drift_report`.

    Attributes
    ----------
    verdict : {"no drift", "drift"}
    drift : bool
        ``verdict == "drift"``.
    reasons : list of str
        One sentence per check that found drift (empty without drift).
    clusters : pandas.DataFrame of shape (n_clusters, 12)
        Per cluster: ``cluster``; ``train_share`` and ``new_share`` (fraction
        of rows; "train" is the reference: the training summary or the
        reference data); ``psi`` (the cluster's PSI contribution);
        ``train_mean_distance`` (NaN when the profile comes from a model file,
        which stores quantiles, not means) and ``new_mean_distance``;
        ``train_median_distance`` and ``new_median_distance``; ``n_new``
        (new rows); ``anomaly_rate`` (fraction of the cluster's new rows
        beyond the training `anomaly_level` quantile); ``distance_psi`` and
        ``distance_p_value`` (the cluster's distances against its training
        quantile bins; NaN when not tested).
    psi : float
        Population stability index of the cluster shares.
    chi2_statistic, chi2_p_value : float
        Chi-square goodness-of-fit test of the new cluster counts against the
        training shares.
    anomaly_rate : float or None
        Fraction of new rows beyond their cluster's training `anomaly_level`
        distance quantile; None without distance quantiles.
    expected_anomaly_rate : float
        ``1 - anomaly_level``.
    n_anomalies : int
    anomaly_p_value : float or None
        One-sided binomial test of the anomaly count against the expected rate.
    distance_checked : bool
        Whether distances were compared (the profile has quantiles).
    share_drift, distance_drift, anomaly_drift : bool
        Which check found drift.
    n_reference, n_new, n_clusters : int
    reference_source : str
    alpha, psi_threshold, anomaly_factor, anomaly_level : float
        The settings used.
    """

    verdict: str
    drift: bool
    reasons: list
    clusters: pd.DataFrame
    psi: float
    chi2_statistic: float
    chi2_p_value: float
    anomaly_rate: float | None
    expected_anomaly_rate: float
    n_anomalies: int
    anomaly_p_value: float | None
    distance_checked: bool
    share_drift: bool
    distance_drift: bool
    anomaly_drift: bool
    n_reference: int
    n_new: int
    n_clusters: int
    reference_source: str
    alpha: float
    psi_threshold: float
    anomaly_factor: float
    anomaly_level: float

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values (NaN and inf as None), for :func:`json.dumps`."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "clusters":
                value = [
                    {key: _json_value(v) for key, v in row.items()}
                    for row in value.to_dict(orient="records")
                ]
            else:
                value = _json_value(value)
            out[name] = value
        return out


def _json_value(value):
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _json_number(value)
    return value


def _json_number(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _psi_terms(expected: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """PSI contribution of each bin: (o - e) * ln(o / e), proportions floored at 1e-4."""
    e = np.maximum(expected, _PSI_FLOOR)
    o = np.maximum(observed, _PSI_FLOOR)
    return (o - e) * np.log(o / e)


def _chisquare(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Chi-square goodness of fit; bins expected empty must be observed empty too."""
    support = expected > 0
    if np.any(observed[~support] > 0):  # rows where the reference had none: impossible under "no drift"
        return math.inf, 0.0
    if support.sum() < 2:
        return 0.0, 1.0
    result = stats.chisquare(observed[support], expected[support])
    return float(result.statistic), float(result.pvalue)


def _distance_bins(quantiles, levels, n):
    """Bin edges and probabilities from one cluster's quantiles, for n new rows.

    Levels below 1 give the edges (the maximum is not an edge: rows beyond it
    are expected but rarely). Tied quantiles are merged (the bin keeps the
    highest level), then bins from the tail down are merged until each
    expects at least 5 of the n rows. Returns None when fewer than 2 bins remain.
    """
    edges, cumulative = [], []
    for q, level in zip(quantiles, levels, strict=True):
        if level >= 1.0 or level <= 0.0:
            continue
        if edges and q <= edges[-1]:
            cumulative[-1] = level
        else:
            edges.append(float(q))
            cumulative.append(level)
    probs = np.diff(np.concatenate([[0.0], cumulative, [1.0]]))
    # Bin i is (edges[i-1], edges[i]]. Merge from the tail, where expected counts are small;
    # each group is (probability, index of its lowest bin).
    groups, acc = [], 0.0
    for i in range(probs.size - 1, 0, -1):
        acc += probs[i]
        if n * acc >= _MIN_EXPECTED:
            groups.append((acc, i))
            acc = 0.0
    acc += probs[0]
    if n * acc < _MIN_EXPECTED and groups:
        acc += groups.pop()[0]
    groups.append((acc, 0))
    if len(groups) < 2:
        return None
    groups.reverse()
    return np.asarray([edges[i - 1] for _, i in groups[1:]]), np.asarray([prob for prob, _ in groups])


def drift_report(
    model,
    X_new,
    *,
    reference=None,
    alpha: float = 0.01,
    psi_threshold: float = 0.2,
    anomaly_factor: float = 3.0,
    anomaly_level: float = 0.99,
) -> DriftReport:
    """Tell whether new rows still look like the training data of a model.

    Three checks; any one of them finding drift gives the verdict ``"drift"``:

    1. **Cluster shares.** The population stability index (PSI) of the
       shares of rows per cluster, ``sum((new - train) * ln(new / train))``,
       is above `psi_threshold` (0.2 is the usual "significant shift"; 0.1 to
       0.2 is a moderate one) *and* a chi-square test of the new counts
       against the training shares gives ``p < alpha``. The test keeps small
       samples (whose PSI is large by chance, about ``(k - 1) / n``) from
       raising alarms; the PSI keeps large samples from raising alarms over
       shifts too small to matter.
    2. **Distances within clusters.** For each cluster, the distances of its
       new rows are binned at the training distance quantiles (50%, 90%,
       95%, 99%: bins that should receive 50%, 40%, 5%, 4% and 1% of the
       rows; tail bins are merged until each expects 5 rows) and compared
       the same way: PSI of the bins above `psi_threshold` and chi-square
       ``p < alpha / k`` (Bonferroni over the k clusters). This finds
       clusters that moved or spread even when no row changed cluster.
    3. **Anomalies.** The fraction of new rows beyond their cluster's
       training `anomaly_level` quantile is at least `anomaly_factor` times
       the expected ``1 - anomaly_level`` *and* a one-sided binomial test
       gives ``p < alpha``.

    Checks 2 and 3 need distance quantiles: a model file saved with its
    training data has them, or pass `reference`.

    Parameters
    ----------
    model : KMeans, Pipeline, str or os.PathLike
        A fitted model or the path of a ``.kmk`` model file.
    X_new : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The new rows, as the model takes them (at least one). Not modified.
    reference : TrainingProfile, array-like or None, default=None
        The training profile, or reference rows to profile with
        :func:`fit_monitor`; None uses the training summary of the model file.
    alpha : float, default=0.01
        Significance level of the tests, in (0, 1).
    psi_threshold : float, default=0.2
        PSI above which a shift is large enough to report.
    anomaly_factor : float, default=3.0
        How many times the expected anomaly rate counts as drift (at least 1).
    anomaly_level : float, default=0.99
        Training distance quantile beyond which a row is an anomaly.

    Returns
    -------
    DriftReport

    Raises
    ------
    ValueError
        If a setting is out of range, no training profile is available, or
        the model refuses `X_new`.
    """
    for name, value, low, high in (("alpha", alpha, 0.0, 1.0), ("anomaly_level", anomaly_level, 0.0, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not low < value < high:
            raise ValueError(f"{name} must be a number strictly between {low:g} and {high:g}, got {value!r}")
    if isinstance(psi_threshold, bool) or not isinstance(psi_threshold, (int, float, np.floating)) \
            or not psi_threshold > 0 or not math.isfinite(psi_threshold):
        raise ValueError(f"psi_threshold must be a positive number such as 0.2, got {psi_threshold!r}")
    if isinstance(anomaly_factor, bool) or not isinstance(anomaly_factor, (int, float, np.floating)) \
            or not anomaly_factor >= 1 or not math.isfinite(anomaly_factor):
        raise ValueError(f"anomaly_factor must be a number >= 1 such as 3, got {anomaly_factor!r}")
    n_rows = X_new.shape[0] if hasattr(X_new, "shape") else len(X_new)
    if n_rows < 1:
        raise ValueError("X_new has no rows: drift needs at least one new row")

    model, profile = resolve_reference(model, reference)
    labels, distances, _ = assign(model, X_new)
    k, n = profile.n_clusters, labels.shape[0]
    counts = np.bincount(labels, minlength=k)
    train_share, new_share = profile.shares, counts / n

    # 1. cluster shares
    psi_terms = _psi_terms(train_share, new_share)
    psi = float(psi_terms.sum())
    chi2, chi2_p = _chisquare(counts.astype(float), train_share * n)
    share_drift = psi > psi_threshold and chi2_p < alpha

    # Per cluster distance summaries: one sort, then contiguous slices.
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    per_cluster = [distances[order[bounds[j]:bounds[j + 1]]] for j in range(k)]
    new_mean = np.array([d.mean() if d.size else np.nan for d in per_cluster])
    new_median = np.array([np.median(d) if d.size else np.nan for d in per_cluster])
    train_mean = profile.mean_distances if profile.mean_distances is not None else np.full(k, np.nan)
    train_median = np.full(k, np.nan)
    anomaly_rate_per_cluster = np.full(k, np.nan)
    distance_psi = np.full(k, np.nan)
    distance_p = np.full(k, np.nan)

    expected_rate = 1.0 - float(anomaly_level)
    anomaly_rate = anomaly_p = None
    n_anomalies = 0
    distance_drift = anomaly_drift = False
    if profile.has_quantiles:
        if 0.5 in profile.quantile_levels:
            train_median = profile.quantile(0.5)
        # 3. anomalies (rows of clusters without training rows have no threshold)
        thresholds = profile.quantile(anomaly_level)
        known = ~np.isnan(thresholds[labels])
        beyond = known & (distances > np.where(np.isnan(thresholds), np.inf, thresholds)[labels])
        n_known = int(known.sum())
        n_anomalies = int(beyond.sum())
        for j in range(k):
            if counts[j] and not np.isnan(thresholds[j]):
                anomaly_rate_per_cluster[j] = float(np.mean(per_cluster[j] > thresholds[j]))
        if n_known:
            anomaly_rate = n_anomalies / n_known
            anomaly_p = float(stats.binomtest(n_anomalies, n_known, expected_rate, alternative="greater").pvalue)
            anomaly_drift = anomaly_rate >= anomaly_factor * expected_rate and anomaly_p < alpha

        # 2. distances within each cluster
        tested = []
        for j in range(k):
            if not counts[j] or np.isnan(profile.distance_quantiles[j, 0]):
                continue
            bins = _distance_bins(profile.distance_quantiles[j], profile.quantile_levels, counts[j])
            if bins is None:
                continue
            edges, probs = bins
            observed = np.bincount(np.searchsorted(edges, per_cluster[j], side="left"), minlength=probs.size)
            distance_psi[j] = float(_psi_terms(probs, observed / counts[j]).sum())
            distance_p[j] = _chisquare(observed.astype(float), probs * counts[j])[1]
            tested.append(j)
        if tested:
            corrected = alpha / len(tested)
            distance_drift = any(distance_psi[j] > psi_threshold and distance_p[j] < corrected for j in tested)

    reasons = []
    if share_drift:
        reasons.append(f"cluster shares shifted: PSI {psi:.3f} > {psi_threshold:g} and chi-square "
                       f"p = {chi2_p:.2g} < {alpha:g}")
    if distance_drift:
        moved = [j for j in range(k) if distance_psi[j] > psi_threshold and distance_p[j] < alpha / len(tested)]
        reasons.append(
            f"distances to the center changed in cluster{'s' if len(moved) > 1 else ''} "
            f"{', '.join(map(str, moved))}: distance PSI {max(distance_psi[moved]):.3f} > {psi_threshold:g} "
            f"and chi-square p < {alpha:g}/{len(tested)}"
        )
    if anomaly_drift:
        reasons.append(f"anomaly rate {anomaly_rate:.2%} is {anomaly_rate / expected_rate:.1f} times the expected "
                       f"{expected_rate:.2%} (binomial p = {anomaly_p:.2g} < {alpha:g})")
    drift = share_drift or distance_drift or anomaly_drift

    clusters = pd.DataFrame({
        "cluster": np.arange(k),
        "train_share": train_share,
        "new_share": new_share,
        "psi": psi_terms,
        "train_mean_distance": train_mean,
        "new_mean_distance": new_mean,
        "train_median_distance": train_median,
        "new_median_distance": new_median,
        "n_new": counts.astype(np.int64),
        "anomaly_rate": anomaly_rate_per_cluster,
        "distance_psi": distance_psi,
        "distance_p_value": distance_p,
    })
    return DriftReport(
        verdict="drift" if drift else "no drift",
        drift=bool(drift),
        reasons=reasons,
        clusters=clusters,
        psi=psi,
        chi2_statistic=chi2,
        chi2_p_value=chi2_p,
        anomaly_rate=anomaly_rate,
        expected_anomaly_rate=expected_rate,
        n_anomalies=n_anomalies,
        anomaly_p_value=anomaly_p,
        distance_checked=profile.has_quantiles,
        share_drift=bool(share_drift),
        distance_drift=bool(distance_drift),
        anomaly_drift=bool(anomaly_drift),
        n_reference=profile.n_samples,
        n_new=int(n),
        n_clusters=k,
        reference_source=profile.source,
        alpha=float(alpha),
        psi_threshold=float(psi_threshold),
        anomaly_factor=float(anomaly_factor),
        anomaly_level=float(anomaly_level),
    )
