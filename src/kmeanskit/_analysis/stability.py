"""Trust, per cluster: clusterwise stability under resampling (Hennig 2007, R's ``fpc::clusterboot``).

A cluster that is a real group is found again when the clustering is run on
perturbed data; an artefact of the chosen k (a blob split in two, a catch-all
cluster of background points) is not. :func:`cluster_stability` measures this
as ``fpc::clusterboot`` does:

1. the clustering to judge is the model's: its cluster of each row of X;
2. each of `n_boot` times, a resample of the rows is drawn (a bootstrap sample
   without its repeated points, or a subset of half the rows without
   replacement) and the clustering method is run on it afresh;
3. for each original cluster, its rows in the resample are compared with every
   cluster of the refit by the Jaccard similarity ``|A & B| / |A | B|``,
   counted on the resampled rows only, and the best match is kept (0 for a
   cluster with no row in the resample);
4. a cluster's stability is the mean of those best Jaccard similarities;
   clusterboot also counts how often it was *dissolved* (Jaccard <= 0.5) and
   *recovered* (Jaccard > 0.75).

Hennig's reading of the mean: below 0.6 the cluster dissolves (do not trust
it); from 0.6 to 0.75 it points at a pattern, but which rows belong to it is
doubtful; from 0.75 a valid, stable cluster; from 0.85 a highly stable one.

Reference: C. Hennig (2007), Cluster-wise assessment of cluster stability,
Computational Statistics & Data Analysis 52, 258-271.
"""

from __future__ import annotations

import html
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from kmeanskit._analysis.columns import LevelsLostError, resample_keeps_levels
from kmeanskit._estimators.pipeline import clusters_categories, final_estimator, param_prefix, to_final_space

__all__ = [
    "DISSOLUTION",
    "MIN_ROWS_PER_CLUSTER",
    "RECOVER",
    "STABILITY_SAMPLE_SIZE",
    "StabilityResult",
    "cluster_stability",
    "stability_reading",
]

#: A resample *dissolves* a cluster when its best Jaccard similarity is at most this (clusterboot's default).
DISSOLUTION = 0.5
#: A resample *recovers* a cluster when its best Jaccard similarity is above this (clusterboot's default).
RECOVER = 0.75
#: :func:`cluster_stability` needs at least this many rows per cluster to resample from.
MIN_ROWS_PER_CLUSTER = 2
#: Rows :func:`cluster_stability` resamples from by default: a uniform sample of larger data.
STABILITY_SAMPLE_SIZE = 10_000
#: Draws of one resample, at most, for a model of categorical columns: each must keep two levels of them.
_LEVEL_DRAWS = 100

# Hennig's reading of a mean Jaccard similarity: (lower bound, words), highest first.
_READINGS = (
    (0.85, "highly stable"),
    (0.75, "valid"),
    (0.6, "pattern, doubtful membership"),
    (-np.inf, "dissolves"),
)
_METHODS = ("bootstrap", "subset")


def stability_reading(mean_jaccard: float) -> str:
    """Hennig's reading of a cluster's mean Jaccard similarity, in words.

    Parameters
    ----------
    mean_jaccard : float
        A cluster's mean best Jaccard similarity under resampling, in [0, 1].

    Returns
    -------
    str
        ``"dissolves"`` below 0.6, ``"pattern, doubtful membership"`` from 0.6,
        ``"valid"`` from 0.75, ``"highly stable"`` from 0.85; ``"no rows"``
        for NaN (a cluster with no row in the data).
    """
    if not np.isfinite(mean_jaccard):
        return "no rows"
    return next(words for low, words in _READINGS if mean_jaccard >= low)


@dataclass
class StabilityResult:
    """The result of :func:`cluster_stability`.

    Attributes
    ----------
    clusters : pandas.DataFrame of shape (n_clusters, 6)
        Per cluster of the model: ``cluster``; ``size`` (rows of it among the
        rows resampled from); ``mean_jaccard`` (clusterboot's ``bootmean`` or
        ``subsetmean``; NaN for a cluster without rows); ``dissolved`` and
        ``recovered`` (resamples whose best Jaccard was <= 0.5, > 0.75:
        clusterboot's ``bootbrd`` and ``bootrecover``); ``reading`` (see
        :func:`stability_reading`).
    jaccard : ndarray of shape (n_clusters, n_boot)
        The best Jaccard similarity of each cluster in each resample
        (clusterboot's ``bootresult``).
    model : estimator or Pipeline
        The model judged: the one given, or the estimator given, fitted on X.
    method : {"bootstrap", "subset"}
    n_boot : int
    n_samples : int
        Rows of X.
    n_resampled_from : int
        Rows the resamples were drawn from: all of X, or a uniform sample of
        `sample_size` of them.
    sample_size : int or None
        The setting used.
    random_state : int, RandomState instance or None
        The setting used.
    note : str
        How the resamples were made, in words.
    """

    clusters: pd.DataFrame
    jaccard: np.ndarray
    model: Any = field(repr=False)
    method: str
    n_boot: int
    n_samples: int
    n_resampled_from: int
    sample_size: int | None
    random_state: Any = field(repr=False)
    note: str

    @property
    def mean_jaccard(self) -> np.ndarray:
        """Mean best Jaccard similarity of each cluster, ndarray of shape (n_clusters,)."""
        return self.clusters["mean_jaccard"].to_numpy()

    def summary(self) -> str:
        """The per-cluster table and how it was made, as plain text."""
        table = self.clusters.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        return "\n".join([
            f"Cluster stability: mean Jaccard similarity over {self.n_boot} resamples ({self.note})",
            "",
            table,
            "",
            _READING_TEXT,
        ])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        table = self.clusters.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
        return (
            f"<div><strong>Cluster stability</strong>: mean Jaccard similarity over {self.n_boot} resamples "
            f"({html.escape(self.note)})<br>{table}<small>{html.escape(_READING_TEXT)}</small></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON values (NaN as None); the per-resample similarities are left out."""
        clusters = []
        for row in self.clusters.itertuples(index=False):
            mean = float(row.mean_jaccard)
            clusters.append({
                "cluster": int(row.cluster),
                "size": int(row.size),
                "mean_jaccard": mean if np.isfinite(mean) else None,
                "dissolved": int(row.dissolved),
                "recovered": int(row.recovered),
                "reading": row.reading,
            })
        return {
            "method": self.method,
            "n_boot": self.n_boot,
            "n_samples": self.n_samples,
            "n_resampled_from": self.n_resampled_from,
            "sample_size": self.sample_size,
            "note": self.note,
            "dissolution": DISSOLUTION,
            "recover": RECOVER,
            "clusters": clusters,
        }


_READING_TEXT = (
    "Reading (Hennig 2007): below 0.6 the cluster dissolves, 0.6-0.75 a pattern with doubtful membership, "
    "from 0.75 valid, from 0.85 highly stable."
)


def cluster_stability(X, model_or_estimator, *, n_boot: int = 20, method: str = "bootstrap",
                      random_state=None, sample_size: int | None = STABILITY_SAMPLE_SIZE) -> StabilityResult:
    """How stable each cluster is under resampling (Hennig 2007, R's ``fpc::clusterboot``).

    Each resample of the rows is clustered afresh, with a clone of the model
    (same parameters, same ``init`` and ``n_init``, a new seed each time, so
    that the starts vary as in clusterboot's runs of ``kmeans``); each
    original cluster is matched to its most similar refit cluster by the
    Jaccard similarity on the resampled rows. The refits do *not* start from
    the model's centers: a warm start would find an artefact split of a blob
    again from where it was made, and report it as stable.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The rows, as the model takes them (before a pipeline's scalers). Not
        modified.
    model_or_estimator : estimator or Pipeline
        A fitted clustering model (kmeanskit's or scikit-learn's KMeans,
        MiniBatchKMeans, KPrototypes, KModes, ..., or a Pipeline ending in
        one): its clusters are judged, and its clones refit. For a KPrototypes
        or KModes, X is the table with its categories, and a resample is
        drawn again while a categorical column of two or more levels keeps a
        single one in it (they refuse such a column). Or an unfitted one: it is cloned and
        fitted on X first (the fitted model is in the result). A fitted model
        needs ``predict``; a Pipeline refits its scalers with each resample.
    n_boot : int, default=20
        Resamples (clusterboot's ``B``), at least 2.
    method : {"bootstrap", "subset"}, default="bootstrap"
        ``"bootstrap"``: n rows drawn with replacement, repeated ones counted
        once (clusterboot's ``bootmethod="boot"`` with ``multipleboot=FALSE``,
        about 63% of the rows); ``"subset"``: half the rows, drawn without
        replacement (``bootmethod="subset"``).
    random_state : int, RandomState instance or None, default=None
        Seed of the resamples, the refits' seeds and the sample of large
        data; an int gives the same result on every run.
    sample_size : int or None, default=10000
        With more rows than this, the resamples are drawn from a uniform
        sample of `sample_size` rows (drawn once), judged by the model's
        clusters on them: the cost no longer grows with n. None resamples
        from every row.

    Returns
    -------
    StabilityResult
        ``clusters`` holds the mean Jaccard similarity of each cluster with
        its reading; ``jaccard`` every resample's similarities.

    Raises
    ------
    ValueError
        If a setting is out of range, X has fewer than 2 rows, or (categorical
        columns) 100 draws of a resample all left a column a single level.
    TypeError
        If `model_or_estimator` cannot cluster (no ``fit``), or is fitted but
        has no ``predict``.

    See Also
    --------
    kmeanskit.select_k : choosing k, stability among the criteria.

    Examples
    --------
    Three blobs and a thin background of scattered rows, clustered with k=4:
    the fourth cluster, a catch-all of background rows, dissolves.

    >>> import numpy as np
    >>> from kmeanskit import KMeans
    >>> from kmeanskit.metrics import cluster_stability
    >>> rng = np.random.default_rng(0)
    >>> blobs = [rng.normal(c, 0.5, size=(200, 2)) for c in ((0, 0), (10, 0), (5, 8.66))]
    >>> X = np.concatenate(blobs + [rng.uniform(-25, 35, size=(60, 2))])
    >>> result = cluster_stability(X, KMeans(4, random_state=0), random_state=0)
    >>> print(result.clusters[["size", "reading"]].sort_values("size").to_string(index=False))
     size       reading
       19     dissolves
      207 highly stable
      214 highly stable
      220 highly stable
    """
    _check_settings(n_boot, method, sample_size)
    if not hasattr(model_or_estimator, "fit"):
        raise TypeError(f"model_or_estimator must be a clustering estimator or a Pipeline ending in one, "
                        f"got {type(model_or_estimator).__name__}")
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    n_samples = X.shape[0]
    if n_samples < 2:
        raise ValueError(f"X has {n_samples} row(s); cluster stability needs at least 2")
    rng = check_random_state(random_state)

    model = model_or_estimator
    if not _is_fitted(model):
        model = clone(model).fit(X)
    elif not hasattr(model, "predict"):
        raise TypeError(f"the fitted {type(model).__name__} has no predict, so its clusters of X are unknown: "
                        "pass the unfitted estimator instead")

    if sample_size is not None and n_samples > sample_size:
        rows = np.sort(rng.choice(n_samples, sample_size, replace=False))
        data = _take(X, rows)
        note = f"resampled from a uniform sample of {sample_size:,} of the {n_samples:,} rows"
    else:
        data = X
        note = f"resampled from all {n_samples:,} rows"
    n = n_samples if data is X else sample_size
    labels = np.asarray(model.predict(data), dtype=np.int64)
    n_clusters = _n_clusters(model, labels)
    if n < MIN_ROWS_PER_CLUSTER * n_clusters:
        raise ValueError(f"cluster stability needs at least {MIN_ROWS_PER_CLUSTER} rows per cluster to resample "
                         f"from ({MIN_ROWS_PER_CLUSTER * n_clusters} for {n_clusters} clusters), got {n}")
    note = (f"bootstrap samples without repeated rows, {note}" if method == "bootstrap"
            else f"subsets of {n // 2:,} rows, {note}")

    keeps = None
    if clusters_categories(model):
        keeps = resample_keeps_levels(to_final_space(model, data), final_estimator(model).categorical_)
    jaccard = np.empty((n_clusters, n_boot))
    template = clone(model)
    seed_name = f"{param_prefix(model)}random_state"
    has_seed = seed_name in template.get_params()
    for b in range(n_boot):
        picked = _resample(rng, n, method, n_clusters, keeps)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        refit = clone(template)
        if has_seed:
            refit.set_params(**{seed_name: seed})
        with warnings.catch_warnings():
            # The model's own fit said what there was to say (e.g. fewer distinct rows than clusters).
            warnings.simplefilter("ignore")
            refit_labels = np.asarray(refit.fit_predict(_take(data, picked)))
        jaccard[:, b] = _best_jaccard(labels[picked], refit_labels, n_clusters)

    sizes = np.bincount(labels, minlength=n_clusters)
    means = np.where(sizes > 0, jaccard.mean(axis=1), np.nan)
    clusters = pd.DataFrame({
        "cluster": np.arange(n_clusters),
        "size": sizes.astype(np.int64),
        "mean_jaccard": means,
        "dissolved": (jaccard <= DISSOLUTION).sum(axis=1).astype(np.int64),
        "recovered": (jaccard > RECOVER).sum(axis=1).astype(np.int64),
        "reading": [stability_reading(m) for m in means],
    })
    return StabilityResult(
        clusters=clusters, jaccard=jaccard, model=model, method=method, n_boot=int(n_boot),
        n_samples=int(n_samples), n_resampled_from=int(n), sample_size=sample_size,
        random_state=random_state, note=note,
    )


def _resample(rng, n: int, method: str, n_clusters: int, keeps=None) -> np.ndarray:
    """Sorted row positions of one resample: distinct rows of a bootstrap sample, or a half subset.

    A bootstrap sample with fewer distinct rows than clusters (only possible
    for a handful of rows) is drawn again: the clustering cannot run on it.
    So is a resample where a categorical column keeps a single level (`keeps`,
    see :func:`resample_keeps_levels`), up to ``_LEVEL_DRAWS`` times.
    """
    for _ in range(_LEVEL_DRAWS):
        if method == "subset":
            picked = np.sort(rng.choice(n, n // 2, replace=False))
        else:
            picked = np.unique(rng.randint(0, n, size=n))  # sorted: the order of rows does not matter
            while picked.size < n_clusters:
                picked = np.unique(rng.randint(0, n, size=n))
        if keeps is None or keeps(picked):
            return picked
    raise LevelsLostError(
        f"cluster stability refits on resamples that keep two levels of every categorical column; column "
        f"{keeps.column(picked)!r} kept a single level in {_LEVEL_DRAWS} resamples in a row (its other levels are in "
        "very few rows): leave that column out"
    )


def _check_settings(n_boot, method, sample_size) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer of at least 2 (resamples), got {n_boot!r}")
    if method not in _METHODS:
        raise ValueError(f"method must be 'bootstrap' or 'subset', got {method!r}")
    if sample_size is not None and (isinstance(sample_size, bool) or not isinstance(sample_size, numbers.Integral)
                                    or sample_size < 10):
        raise ValueError(f"sample_size must be None or an integer of at least 10, got {sample_size!r}")


def _is_fitted(model) -> bool:
    try:
        check_is_fitted(final_estimator(model))
    except NotFittedError:
        return False
    return True


def _n_clusters(model, labels) -> int:
    centers = getattr(final_estimator(model), "cluster_centers_", None)
    if centers is not None:
        return int(centers.shape[0])
    return int(labels.max()) + 1 if labels.size else 0


def _take(X, rows):
    """Rows of an array, sparse matrix or DataFrame, by position."""
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def _best_jaccard(original: np.ndarray, refit: np.ndarray, n_clusters: int) -> np.ndarray:
    """For each original cluster, the Jaccard similarity to its most similar refit cluster.

    Parameters
    ----------
    original : ndarray of shape (m,), int64
        Original cluster of each resampled row, in ``[0, n_clusters)``.
    refit : ndarray of shape (m,)
        Cluster of each resampled row in the refit (any labels).
    n_clusters : int

    Returns
    -------
    ndarray of shape (n_clusters,)
        ``max_j |A_i & B_j| / |A_i | B_j|``; 0 for a cluster with no resampled
        row (clusterboot's ``zerobyzero=0``).
    """
    _, codes = np.unique(refit, return_inverse=True)
    codes = codes.reshape(-1)
    n_refit = int(codes.max()) + 1 if codes.size else 0
    both = np.bincount(original * n_refit + codes, minlength=n_clusters * n_refit)
    both = both.reshape(n_clusters, n_refit).astype(np.float64)
    union = both.sum(axis=1)[:, None] + both.sum(axis=0)[None, :] - both
    with np.errstate(invalid="ignore", divide="ignore"):
        similarity = np.where(union > 0, both / union, 0.0)
    return similarity.max(axis=1) if n_refit else np.zeros(n_clusters)
