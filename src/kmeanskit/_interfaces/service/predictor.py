"""The served model: predictions and anomaly flags for a batch, on one worker thread.

Rows reach the model as plain arrays in its feature order; the thresholds of
the anomaly scores are computed once, at start. The model's libraries are
imported on first use, so that importing the service costs FastAPI only.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["Predictor"]

# Up to this many row x center pairs, labels are the argmin of the distances (see monitoring.assign).
_SMALL_BATCH = 4096


class Predictor:
    """The model and its training quantiles; computes predictions on one worker thread."""

    def __init__(self, model, profile, anomaly_level: float, threads: int | None):
        from kmeanskit._estimators.pipeline import clusters_categories, fitted_final_estimator

        self.model = model
        self.final = fitted_final_estimator(model, purpose="serving it")
        self.n_clusters = int(self.final.cluster_centers_.shape[0])
        self.n_features = int(model.n_features_in_)
        # Rows with gaps (JSON null -> NaN) are assigned by their observed values.
        self.accepts_missing = getattr(self.final, "missing", "error") == "ignore"
        names = getattr(model, "feature_names_in_", None)
        self.feature_names = None if names is None else [str(n) for n in names]
        # KPrototypes and KModes: the levels of each categorical column, by position (rows reach
        # such a model as a table, categories as they are).
        self.levels = None
        if clusters_categories(self.final):
            self.levels = {int(j): list(levels) for j, levels in zip(self.final.categorical_.tolist(),
                                                                        self.final.categories_, strict=True)}
            # Unseen categories are refused by validation for a model of handle_unknown='error'.
            self.accepts_unseen = getattr(self.final, "handle_unknown", "warn") != "error"
        # Rows reach the model as arrays already in its feature order (records are mapped by
        # name), so a copy without feature names skips building a DataFrame per request and
        # scikit-learn's name checks, the larger part of a small request's time.
        self.array_model = model if self.levels is not None else _without_feature_names(model)
        self.profile = profile
        self.thresholds = None
        self.anomaly_level = None
        if profile is not None and profile.has_quantiles:
            self.thresholds = profile.quantile(anomaly_level)
            self.anomaly_level = float(anomaly_level)
        self._threads = threads
        self._executor = None
        self.max_abs_value = self._input_bound()

    def _input_bound(self) -> float:
        """A power of ten B such that rows of values within +-B are answered with finite distances.

        Probes the model itself with rows at corners of the box [-10**e, 10**e]^d
        (all +, all -, alternating signs) for the largest e in 0..300 that
        gives finite distances, then keeps a factor of 10 of margin. Published
        in the request schema, so that every value the schema allows can be
        answered rather than refused after validation.
        """

        d = self.n_features
        signs = np.array([[1.0] * d, [-1.0] * d, [(-1.0) ** i for i in range(d)], [(-1.0) ** (i + 1) for i in range(d)]])

        def fits(exponent: int) -> bool:
            try:
                with np.errstate(all="ignore"):
                    _, distances, D = self._assign(signs * 10.0 ** exponent, all_distances=True)
            except (ValueError, TypeError, OverflowError, FloatingPointError):
                return False
            return bool(np.all(np.isfinite(D)))

        low, high = 0, 300
        if not fits(low):
            return 1.0
        while low < high:  # the largest exponent that fits (finite up to there, in practice)
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        return 10.0 ** max(low - 1, 0)

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmeanskit-predict",
                                                initializer=self._init_thread)
        return self._executor

    def _init_thread(self):
        if self._threads is not None:
            import numba

            # Thread-local in numba: applies to the prediction thread only.
            numba.set_num_threads(min(self._threads, numba.config.NUMBA_NUM_THREADS))

    def shutdown(self):
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def frame(self, rows):
        """The rows as an array of shape (n_rows, n_features), for `array_model`; for a model of
        categorical columns, a DataFrame (numbers as float64, categories as they are)."""
        if self.levels is None:
            return np.asarray(rows, dtype=np.float64).reshape(len(rows), self.n_features)
        import pandas as pd

        values = np.empty((len(rows), self.n_features), dtype=object)
        if len(rows):
            values[:] = rows  # (object cells: text stays text, numbers stay numbers)
        frame = pd.DataFrame(values, columns=self.feature_names or range(self.n_features))
        for j in range(self.n_features):
            if j not in self.levels:  # (null, a missing value where the model allows it: NaN)
                frame.isetitem(j, pd.to_numeric(values[:, j]).astype(np.float64))
        return frame

    def _assign(self, X, all_distances: bool, labels_from: str = "predict"):
        """:func:`~kmeanskit._analysis.monitoring.assignment.assign` on rows given as numbers (``frame``'s
        input; categorical columns of a probe hold 0, read as their first level)."""
        from kmeanskit._analysis.monitoring.assignment import assign

        if self.levels is not None and not hasattr(X, "iloc"):  # a probe: the numbers, and the first levels
            X = self.frame([[self.levels[j][0] if j in self.levels else v for j, v in enumerate(row)]
                            for row in np.asarray(X).tolist()])
        # (Unseen categories are not warned about by assign: counted in the response instead.)
        return assign(self.array_model, X, all_distances=all_distances, labels_from=labels_from)

    def unseen(self, X) -> dict[str, int] | None:
        """Per categorical column, the values of the rows never seen in training (None without categories)."""
        if self.levels is None:
            return None
        from kmeanskit._analysis.mixed_workflow import unseen_categories

        return unseen_categories(self.model, X)

    def predict(self, rows, return_distances: bool) -> dict[str, Any]:
        from kmeanskit._analysis.monitoring.anomaly import threshold_scores

        X = self.frame(rows)
        # Small batches: labels from the distances, one call to the model instead of two.
        labels_from = "distances" if len(rows) * self.n_clusters <= _SMALL_BATCH else "predict"
        labels, distances, D = self._assign(X, all_distances=return_distances, labels_from=labels_from)
        if not np.all(np.isfinite(distances)) or (D is not None and not np.all(np.isfinite(D))):
            raise ValueError("values too large: the distances to the centers overflow; check the units of the input")
        out = {"n_rows": int(labels.size), "labels": labels.tolist(), "distances": distances.tolist()}
        anomalies = None
        if self.thresholds is not None:
            scores = threshold_scores(distances, labels, self.thresholds)
            anomalies = scores > 1
            out["anomaly_scores"] = [s if math.isfinite(s) else None for s in scores.tolist()]
            out["anomalies"] = anomalies.tolist()
        else:
            out["anomaly_scores"] = out["anomalies"] = None
        out["anomaly_level"] = self.anomaly_level
        if D is not None:
            out["center_distances"] = D.tolist()
        unseen = self.unseen(X)
        if unseen is not None:
            out["unseen_categories"] = unseen
        return out, labels, anomalies


def _without_feature_names(model):
    """A deep copy of `model` whose steps record no feature names (it then takes plain arrays)."""
    import copy

    if getattr(model, "feature_names_in_", None) is None:
        return model
    bare = copy.deepcopy(model)
    steps = [step for _, step in bare.steps] if hasattr(bare, "steps") else [bare]
    for step in steps:
        if hasattr(step, "__dict__") and "feature_names_in_" in step.__dict__:
            del step.feature_names_in_
    return bare

