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

Both sources also hold per-feature statistics of the training rows (means,
standard deviations, decile bins, per-cluster means), from which drift
reports name the features that moved; model files saved before they were
stored, or without ``X``, have none, and the report says so.

Functions taking ``reference=`` accept either a :class:`TrainingProfile` or
the reference rows themselves (profiled with :func:`fit_monitor`).

Distances are what the estimator's ``transform`` returns (Euclidean; cosine
``1 - cos`` for SphericalKMeans; L1 for KMedians) in the space the model
clusters in, i.e. after the scalers of a pipeline.

The package gathers the public names of its modules:

- :mod:`.assignment`: :func:`assign`, the nearest cluster of each row and its
  distance, in the space the model clusters in (what everything here compares);
- :mod:`.profile`: the :class:`TrainingProfile`, built from reference rows
  (:func:`fit_monitor`) or read from a model file (:func:`load_monitored`);
- :mod:`.anomaly`: :func:`anomaly_scores`, a row's distance over its
  cluster's training quantile;
- :mod:`.features`: the per-feature statistics of a profile;
- :mod:`.drift`: :func:`drift_report` and the statistics behind its verdict.
"""

from kmeanskit._analysis.monitoring.anomaly import anomaly_scores
from kmeanskit._analysis.monitoring.assignment import assign
from kmeanskit._analysis.monitoring.drift import DriftReport, drift_report
from kmeanskit._analysis.monitoring.profile import (
    DEFAULT_QUANTILE_LEVELS,
    TrainingProfile,
    fit_monitor,
    load_monitored,
)

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
