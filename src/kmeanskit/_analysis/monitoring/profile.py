"""The training profile of a model: rows per cluster and the quantiles of their distances to the center.

Built from reference rows (:func:`fit_monitor`) or read from the training
summary of a ``.kmk`` model file (:func:`load_monitored`,
:func:`profile_from_manifest`); :func:`resolve_reference` turns what the public
functions accept as ``reference=`` into a profile of the model at hand.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kmeanskit._analysis.distance_summary import QUANTILE_LEVELS, summarize_distances
from kmeanskit._analysis.formatting import json_number
from kmeanskit._analysis.monitoring.assignment import assign
from kmeanskit._analysis.monitoring.features import FeatureSummary, summarize_features
from kmeanskit._estimators.pipeline import fitted_final_estimator

__all__ = [
    "DEFAULT_QUANTILE_LEVELS",
    "TrainingProfile",
    "fit_monitor",
    "load_monitored",
    "model_feature_names",
    "profile_from_manifest",
    "resolve_reference",
]

#: Distance quantile levels stored per cluster (the same as in a ``.kmk`` file).
DEFAULT_QUANTILE_LEVELS = QUANTILE_LEVELS


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
    features : FeatureSummary or None
        Per-feature statistics of the rows in the model's input units, overall
        and per cluster (what drift reports name features from); None when
        unknown, see `features_note`.
    features_note : str or None
        Why `features` is None.
    distance_at_or_below : ndarray of shape (n_clusters, n_levels) or None
        Share of each cluster's rows at or below each of its quantiles (more
        than the level where distances tie); None from model files written
        before it was stored, where the levels stand in for it.
    """

    n_samples: int
    cluster_sizes: np.ndarray
    quantile_levels: tuple
    distance_quantiles: np.ndarray | None
    mean_distances: np.ndarray | None = None
    source: str = "reference data"
    centers_digest: str | None = field(default=None, repr=False)
    features: FeatureSummary | None = field(default=None, repr=False)
    features_note: str | None = None
    distance_at_or_below: np.ndarray | None = field(default=None, repr=False)

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
        shares = None
        if table is not None and summary.get("distance_at_or_below") is not None:  # from format 4 on
            stored = summary["distance_at_or_below"]
            if not isinstance(stored, list) or len(stored) != len(sizes):
                raise bad("distance_at_or_below must hold one entry per cluster")
            shares = np.full(table.shape, np.nan)
            for j, (row, size) in enumerate(zip(stored, sizes, strict=True)):
                if row is None and size == 0:
                    continue
                if (not isinstance(row, list) or len(row) != len(levels)
                        or not all(_is_number(v) and 0 < v <= 1 for v in row)
                        or not _increasing(row, strictly=False)):
                    raise bad(f"the shares at or below the distance quantiles of cluster {j} must be "
                              f"{len(levels)} non-decreasing shares in (0, 1], got {row!r:.80}")
                shares[j] = row
        sizes = np.asarray(sizes, dtype=np.int64)
        features, note = None, None
        if summary.get("features") is None:
            note = ("the model file holds no per-feature statistics (saved without X, from sparse or very wide "
                    "data, or by an older kmeanskit): pass reference=X_train to name the features that moved")
        else:
            try:
                features = FeatureSummary.from_dict(summary["features"], sizes)
            except ValueError as exc:
                raise bad(str(exc)) from None
        return cls(
            n_samples=int(n_samples),
            cluster_sizes=sizes,
            quantile_levels=tuple(float(v) for v in levels),
            distance_quantiles=table,
            mean_distances=None,
            source="model file",
            centers_digest=centers_digest,
            features=features,
            features_note=note,
            distance_at_or_below=shares,
        )

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain JSON values (NaN as None)."""
        return {
            "source": self.source,
            "n_samples": self.n_samples,
            "cluster_sizes": self.cluster_sizes.tolist(),
            "quantile_levels": list(self.quantile_levels),
            "distance_quantiles": None if self.distance_quantiles is None
            else [[json_number(v) for v in row] for row in self.distance_quantiles],
            "mean_distances": None if self.mean_distances is None
            else [json_number(v) for v in self.mean_distances],
            "distance_at_or_below": None if self.distance_at_or_below is None
            else [[json_number(v) for v in row] for row in self.distance_at_or_below],
            "features": None if self.features is None else self.features.to_dict(),
            "features_note": self.features_note,
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
        With ``source="reference data"``, and per-feature statistics of X
        (in the model's input units) when X is a dense numeric table
        (``features_note`` says why not otherwise).

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
    k = int(final.cluster_centers_.shape[0])
    summary = summarize_distances(labels, distances, k, levels)
    features, note = summarize_features(X, labels, k, names=model_feature_names(model),
                                        categorical=getattr(final, "categorical_", None))
    return TrainingProfile(
        n_samples=int(labels.shape[0]),
        cluster_sizes=summary.sizes,
        quantile_levels=levels,
        distance_quantiles=summary.quantiles,
        mean_distances=summary.means,
        source="reference data",
        centers_digest=_centers_digest(final),
        features=features,
        features_note=None if note is None else f"no per-feature statistics: {note}",
        distance_at_or_below=summary.at_or_below,
    )


def model_feature_names(model) -> list[str] | None:
    """The feature names a model (or its pipeline) was fitted with, or None."""
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


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


def _centers_digest(final) -> str:
    """SHA-256 of the centers (dtype, shape and bytes): ties a profile to the model it was made for."""
    centers = np.ascontiguousarray(final.cluster_centers_)
    return hashlib.sha256(centers.dtype.str.encode() + repr(centers.shape).encode() + centers.tobytes()).hexdigest()


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
