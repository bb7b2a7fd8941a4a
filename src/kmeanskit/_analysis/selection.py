"""Choosing the number of clusters: fit every k, score each fit, recommend a k per method.

``select_k(X, range(2, 11))`` fits one clustering per k and scores it five ways:

- ``"elbow"``: the knee of the inertia curve, by Kneedle (Satopaa et al., 2011;
  the ``kneed`` package, ``curve="convex", direction="decreasing"``).
- ``"silhouette"``: the k of the largest mean silhouette (Rousseeuw, 1987).
- ``"calinski_harabasz"``: the k of the largest variance ratio (Calinski and Harabasz, 1974).
- ``"davies_bouldin"``: the k of the smallest Davies-Bouldin index (1979).
- ``"gap"``: the gap statistic of Tibshirani, Walther and Hastie (2001), with
  reference data uniform over the principal-component-aligned bounding box of
  the data, and their rule: the smallest k with ``Gap(k) >= Gap(k+1) - s(k+1)``.

Methods often disagree on real data; the table holds every score so that the
choice can be argued (and plotted: ``result.plot()``).
"""

import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from kmeanskit._analysis import metrics
from kmeanskit._analysis.feature_scales import warn_if_unscaled
from kmeanskit._estimators.pipeline import final_estimator, param_prefix, to_final_space

__all__ = ["SelectKResult", "select_k"]

METHODS = ("elbow", "silhouette", "gap", "calinski_harabasz", "davies_bouldin")
_COLUMNS = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap", "gap_se", "fit_seconds")


@dataclass
class SelectKResult:
    """What :func:`select_k` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per k (index named "k", increasing). Columns, in this order and
        only for the methods asked for: "inertia" (always), "silhouette",
        "calinski_harabasz", "davies_bouldin", "gap", "gap_se" (the s_k of
        Tibshirani et al.), "fit_seconds" (always; the fit of the model, not
        of the gap's reference sets). Scores undefined at k=1 are NaN.
    recommended : dict
        Method name -> recommended k (int), or None when the method finds none
        (no knee in the inertia curve; a gap still growing at the largest k).
        Keys in the order of ``methods``.
    models : dict
        k -> the fitted estimator (or pipeline) for that k.
    methods : tuple of str
        The methods that were run.
    """

    table: pd.DataFrame
    recommended: dict
    models: dict = field(repr=False)
    methods: tuple

    def plot(self, ax=None):
        """Plot every score against k (see :func:`kmeanskit.plotting.plot_selection`)."""
        from kmeanskit._presentation.plotting import plot_selection

        return plot_selection(self, ax=ax)


# ------------------------------------------------------------------ checks
def _check_methods(methods):
    if isinstance(methods, str):
        methods = (methods,)
    try:
        methods = tuple(methods)
    except TypeError:
        raise TypeError(f"methods must be a sequence of method names; got {methods!r}.") from None
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown} in methods; choose from {list(METHODS)}.")
    if not methods:
        raise ValueError(f"methods is empty; choose at least one of {list(METHODS)}.")
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods has duplicates: {list(methods)}; give each method once.")
    return methods


def _check_ks(ks, n_samples):
    if isinstance(ks, (Integral, np.integer)) and not isinstance(ks, (bool, np.bool_)):
        ks = [ks]
    try:
        values = list(ks)
    except TypeError:
        raise TypeError(f"ks must be an iterable of ints (e.g. range(2, 11)); got {ks!r}.") from None
    if not values:
        raise ValueError("ks is empty; give at least one number of clusters, e.g. range(2, 11).")
    for k in values:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (Integral, np.integer)):
            raise TypeError(f"ks must hold ints; got {k!r} of type {type(k).__name__}.")
    values = [int(k) for k in values]
    if len(set(values)) != len(values):
        raise ValueError(f"ks has duplicates: {values}; give each k once.")
    bad = [k for k in values if k < 1 or k >= n_samples]
    if bad:
        raise ValueError(
            f"ks must be between 1 and n_samples - 1 = {n_samples - 1}; got {bad} "
            f"(X has {n_samples} samples)."
        )
    return sorted(values)


def _random_state_param(estimator):
    params = final_estimator(estimator).get_params(deep=False)
    return param_prefix(estimator) + "random_state" if "random_state" in params else None


def _make_estimator(estimator, seed):
    if estimator is None:
        from kmeanskit._estimators.kmeans import KMeans

        return KMeans(n_init="auto", random_state=seed)
    if not hasattr(estimator, "fit") or "n_clusters" not in final_estimator(estimator).get_params(deep=False):
        raise TypeError(
            "estimator must be a clusterer with an n_clusters parameter (such as KMeans), or a "
            f"Pipeline ending in one; got {type(estimator).__name__}."
        )
    return estimator


# --------------------------------------------------------------- the fits
def _labels_and_space(model, X):
    """Training labels and X in the space the clusterer saw."""
    clusterer = final_estimator(model)
    Xt = to_final_space(model, X)
    labels = getattr(clusterer, "labels_", None)
    if labels is None:
        labels = clusterer.predict(Xt)
    return np.asarray(labels), Xt


def _fit_one(template, k, X, seed, rs_param, scored, sample_size):
    model = clone(template).set_params(**{param_prefix(template) + "n_clusters": k})
    if rs_param is not None and seed is not None:
        model.set_params(**{rs_param: seed})
    t0 = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - t0
    labels, Xt = _labels_and_space(model, X)
    Xt = check_array(Xt, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    clusterer = final_estimator(model)
    value = getattr(clusterer, "inertia_", None)
    row = {"inertia": float(value) if value is not None else metrics.inertia(Xt, labels)}
    distinct = np.unique(labels).size
    defined = 2 <= distinct < Xt.shape[0] and not metrics._is_constant(Xt)
    if "silhouette" in scored:
        row["silhouette"] = (
            metrics.silhouette_score(Xt, labels, sample_size=sample_size, random_state=seed)
            if defined else np.nan
        )
    if "calinski_harabasz" in scored:
        row["calinski_harabasz"] = metrics.calinski_harabasz_score(Xt, labels) if defined else np.nan
    if "davies_bouldin" in scored:
        row["davies_bouldin"] = metrics.davies_bouldin_score(Xt, labels) if defined else np.nan
    row["fit_seconds"] = seconds
    return model, row, Xt


def reference_sets(X, n_refs, random_state):
    """Gap-statistic reference data: uniform over the PCA-aligned bounding box of X.

    Tibshirani, Walther & Hastie (2001), method (b): rotate the centered data
    onto its principal axes (SVD), draw uniformly in the box spanned there,
    rotate back and add the mean.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_refs : int
    random_state : RandomState

    Yields
    ------
    Z : ndarray of shape (n_samples, n_features), X's dtype
    """
    X64 = np.asarray(X, dtype=np.float64)
    mean = X64.mean(axis=0)
    centered = X64 - mean
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    rotated = centered @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    for _ in range(n_refs):
        Z = random_state.uniform(low, high, size=rotated.shape) @ vt + mean
        yield Z.astype(X.dtype, copy=False)


def _gap(Xt, ks, inertias, template, n_refs, seed, rs_param, tick):
    """Gap(k) and s_k for every k (Tibshirani et al. 2001, with W_k = inertia)."""
    if sp.issparse(Xt):
        raise ValueError(
            "The gap statistic needs dense data (its reference sets are drawn in the principal-axes "
            "box of X); densify X or leave 'gap' out of methods."
        )
    clusterer = final_estimator(template)
    log_w_ref = np.empty((n_refs, len(ks)))
    rng = check_random_state(None if seed is None else seed + 1)
    for b, Z in enumerate(reference_sets(Xt, n_refs, rng)):
        for j, k in enumerate(ks):
            model = clone(clusterer).set_params(n_clusters=k)
            if rs_param is not None and seed is not None:
                model.set_params(random_state=seed)
            model.fit(Z)
            value = getattr(model, "inertia_", None)
            w = float(value) if value is not None else metrics.inertia(Z, model.labels_)
            log_w_ref[b, j] = np.log(w) if w > 0 else -np.inf
            tick()
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(inertias, dtype=np.float64))
    gap = log_w_ref.mean(axis=0) - log_w
    sd = log_w_ref.std(axis=0)  # 1/B, as in the paper
    return gap, sd * np.sqrt(1.0 + 1.0 / n_refs)


# ---------------------------------------------------------- recommendations
def elbow_k(ks, inertias):
    """The knee of a decreasing, convex curve (Kneedle, via ``kneed``), or None.

    Parameters
    ----------
    ks : sequence of int, increasing
    inertias : sequence of float

    Returns
    -------
    k : int or None
    """
    from kneed import KneeLocator

    ks = np.asarray(ks, dtype=np.float64)
    y = np.asarray(inertias, dtype=np.float64)
    finite = np.isfinite(y)
    if finite.sum() < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kneed warns when it finds no knee: None says so
        knee = KneeLocator(ks[finite], y[finite], curve="convex", direction="decreasing").knee
    return None if knee is None else int(round(float(knee)))


def gap_k(ks, gap, gap_se):
    """Tibshirani's rule: the smallest k with ``Gap(k) >= Gap(k') - s(k')``, k' the next k tried.

    Returns None when no k satisfies it (the gap still grows at the largest k).
    """
    for j in range(len(ks) - 1):
        if np.isfinite(gap[j]) and gap[j] >= gap[j + 1] - gap_se[j + 1]:
            return int(ks[j])
    return None


def _best(ks, values, largest):
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).any():
        return None
    index = np.nanargmax(values) if largest else np.nanargmin(values)
    return int(ks[index])


# -------------------------------------------------------------------- main
def _progress_bar(progress, total):
    if progress is False or (progress is None and not _stderr_is_tty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="select_k", unit="fit", leave=False)


def _stderr_is_tty():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def select_k(
    X,
    ks=range(2, 11),
    *,
    methods=METHODS,
    estimator=None,
    n_refs=10,
    random_state=None,
    sample_size=None,
    progress=None,
    n_jobs=None,
):
    """Fit a clustering for every k in ``ks`` and recommend k by several methods.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data, as the estimator takes it (a pipeline's raw input). Scores
        are computed in the space the clusterer sees (after a pipeline's
        preprocessing steps).
    ks : iterable of int, default=range(2, 11)
        Numbers of clusters to try: unique ints, 1 <= k < n_samples (sorted
        here). Silhouette, Calinski-Harabasz and Davies-Bouldin need k >= 2
        (NaN at k=1); the gap statistic and the elbow can use k=1. The gap
        rule compares each k with the next k tried, so use consecutive ks.
    methods : sequence of str, default=("elbow", "silhouette", "gap", "calinski_harabasz", "davies_bouldin")
        Which recommendations to make (and which columns to compute).
    estimator : estimator or Pipeline, default=None
        None: ``kmeanskit.KMeans(n_init="auto", random_state=...)``. Otherwise a
        clusterer with ``n_clusters`` (or a pipeline ending in one), cloned for
        every k with ``n_clusters=k``.
    n_refs : int, default=10
        Reference data sets of the gap statistic (B in the paper). Each costs
        one fit per k on data as large as X.
    random_state : int, RandomState instance or None, default=None
        Seed of the fits (every k gets the same int seed, so ``models[k]`` is
        what ``KMeans(k, random_state=seed).fit(X)`` gives), of the gap's
        reference data and of the silhouette sample. When None, a given
        estimator's own ``random_state`` is kept.
    sample_size : int, default=None
        Silhouette on this many rows drawn at random (see
        :func:`kmeanskit.metrics.silhouette_score`); None: all rows, exact,
        O(n^2) per k. Above about 20,000 rows, 10,000 is a good choice.
    progress : bool or None, default=None
        Show a tqdm progress bar over the fits; None: only when stderr is a terminal.
    n_jobs : int or None, default=None
        Fit this many ks at a time in threads (the kernels release the GIL);
        None or 1: one at a time. Results do not depend on it.

    Returns
    -------
    SelectKResult
        ``.table`` (scores per k), ``.recommended`` (method -> k or None),
        ``.models`` (k -> fitted estimator), ``.methods``; ``.plot()``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from kmeanskit import select_k
    >>> X, _ = make_blobs(600, centers=4, random_state=0)
    >>> result = select_k(X, range(2, 8), n_refs=3, random_state=0)
    >>> result.recommended["silhouette"]
    4
    """
    methods = _check_methods(methods)
    if isinstance(n_refs, (bool, np.bool_)) or not isinstance(n_refs, Integral) or n_refs < 1:
        raise ValueError(f"n_refs must be a positive int; got {n_refs!r}.")
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, Integral) or n_jobs == 0
    ):
        raise ValueError(f"n_jobs must be None or a non-zero int (-1: one per core); got {n_jobs!r}.")
    if progress not in (None, True, False):
        raise ValueError(f"progress must be True, False or None (auto); got {progress!r}.")
    n_samples = getattr(X, "shape", (len(X),))[0]
    ks = _check_ks(ks, n_samples)

    template = _make_estimator(estimator, None)
    if random_state is None:
        seed = None
    elif isinstance(random_state, Integral) and not isinstance(random_state, (bool, np.bool_)):
        seed = int(random_state)
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    if estimator is None:
        template = _make_estimator(None, seed)
    rs_param = _random_state_param(template)

    scored = set(methods)
    n_fits = len(ks) * (1 + (n_refs if "gap" in scored else 0))
    bar = _progress_bar(progress, n_fits)

    def tick():
        if bar is not None:
            bar.update(1)

    def run(k):
        out = _fit_one(template, k, X, seed, rs_param, scored, sample_size)
        tick()
        return out

    try:
        workers = 1 if n_jobs is None else (n_jobs if n_jobs > 0 else max(1, (_cpu_count() + 1 + n_jobs)))
        if workers > 1 and len(ks) > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="select_k") as pool:
                results = list(pool.map(run, ks))
        else:
            results = [run(k) for k in ks]
        models = {k: model for k, (model, _, _) in zip(ks, results, strict=True)}
        rows = [row for _, row, _ in results]
        gap = gap_se = None
        if "gap" in scored:
            Xt = results[0][2]
            gap, gap_se = _gap(Xt, ks, [r["inertia"] for r in rows], template, n_refs, seed, rs_param, tick)
    finally:
        if bar is not None:
            bar.close()

    warn_if_unscaled(results[0][2], getattr(X, "columns", None), stacklevel=2)
    table = pd.DataFrame(rows, index=pd.Index(ks, name="k"))
    if gap is not None:
        table["gap"], table["gap_se"] = gap, gap_se
    table = table[[c for c in _COLUMNS if c in table.columns]]

    recommended = {}
    for method in methods:
        if method == "elbow":
            recommended[method] = elbow_k(ks, table["inertia"])
        elif method == "gap":
            recommended[method] = gap_k(ks, gap, gap_se)
        else:
            recommended[method] = _best(ks, table[method], largest=method != "davies_bouldin")
    return SelectKResult(table=table, recommended=recommended, models=models, methods=methods)


def _cpu_count():
    import os

    return os.cpu_count() or 1
