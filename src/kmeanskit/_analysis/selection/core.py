"""Choosing the number of clusters: fit every k, score each fit, give one answer and its reason.

``select_k(X, range(2, 11))`` fits one clustering per k, scores it several ways
and recommends a k per method:

- ``"elbow"``: the knee of the inertia curve, by Kneedle (Satopaa et al., 2011;
  the ``kneed`` package, ``curve="convex", direction="decreasing"``).
- ``"silhouette"``: the k of the largest mean silhouette (Rousseeuw, 1987).
- ``"gap"``: the gap statistic of Tibshirani, Walther and Hastie (2001) as R's
  ``cluster::clusGap`` computes it, read with one of ``maxSE``'s rules
  (``"firstSEmax"`` by default; see :mod:`.gap`). k = 1 is always on its curve.
- ``"prediction_strength"``: Tibshirani and Walther (2005): the largest k whose
  clusters of one half of the data the other half predicts (strength >= 0.8);
  1 when none (see :mod:`.prediction_strength`).
- ``"calinski_harabasz"``: the k of the largest variance ratio (Calinski and Harabasz, 1974).
- ``"davies_bouldin"``: the k of the smallest Davies-Bouldin index (1979).

For a clusterer of tables with categorical columns (KPrototypes, KModes, or a
pipeline ending in one), the methods are those its cost gives a meaning to
(``MIXED_METHODS``): the elbow of its cost, the silhouette under its own
dissimilarity (:func:`kmeanskit.metrics.mixed_silhouette_score`) and
prediction strength. The gap statistic (its reference data are uniform in a
box: categories have none) and Calinski-Harabasz and Davies-Bouldin
(Euclidean) are left out, and ``reason`` says so.

Methods often disagree; :mod:`.answer` combines those that held up on the
k-selection suite (``benchmarks/k_selection.py``) into ``best_k`` and a
sentence saying why. The table holds every score, so the choice can be argued
(and plotted: ``result.plot()``).
"""

import html
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
from kmeanskit._analysis.columns import draw_keeping_levels, resample_keeps_levels
from kmeanskit._analysis.columns import take_rows as _take
from kmeanskit._analysis.feature_scales import warn_if_unscaled
from kmeanskit._analysis.selection.answer import choose_k, join_words
from kmeanskit._analysis.selection.gap import GAP_RULES, gap_k, reference_sets, total_sum_of_squares
from kmeanskit._analysis.selection.prediction_strength import co_membership_strength, prediction_strength_k
from kmeanskit._estimators.kprototypes import UnseenCategoryWarning
from kmeanskit._estimators.pipeline import (
    clusters_categories_template,
    final_estimator,
    param_prefix,
    to_final_space,
)

__all__ = ["MIXED_METHODS", "SelectKResult", "select_k"]

METHODS = ("elbow", "silhouette", "gap", "prediction_strength", "calinski_harabasz", "davies_bouldin")
#: The methods for a clusterer of tables with categorical columns (KPrototypes, KModes): those its cost
#: gives a meaning to.
MIXED_METHODS = ("elbow", "silhouette", "prediction_strength")
#: Why the other methods are left out for such a clusterer (said in the reason and in a refusal).
_WHY_NOT_MIXED = ("the gap's reference data are uniform in a box, which categories have no meaning in, and the "
                  "other two are Euclidean")
_NOT_MIXED = "the gap statistic, Calinski-Harabasz and Davies-Bouldin are not computed for a {name}: " + _WHY_NOT_MIXED
#: Random halves prediction strength draws, at most, for halves that keep two levels of every categorical column.
_HALF_DRAWS = 100
#: select_k counts the distinct rows among this many first rows, and reads on only when they are too few.
_DISTINCT_HEAD = 10_000
_COLUMNS = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap", "gap_se",
            "prediction_strength", "fit_seconds")
#: The estimates made on a sample of the rows (when X has more than `sample_size`), as the note names them.
_SAMPLED = (("silhouette", "silhouette"), ("gap", "gap"), ("prediction_strength", "prediction strength"))
#: Rows the sampled estimates use by default ("auto"), when X has more. The silhouette's cost
#: is quadratic in them and is paid once per k; on 5,000 rows a mean silhouette has a
#: standard error near 0.003, far below the differences between ks that decide.
AUTO_SAMPLE_SIZE = 5_000


@dataclass
class SelectKResult:
    """What :func:`select_k` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per k (index named "k", increasing). Columns, in this order and
        only for the methods asked for: "inertia" (always), "silhouette",
        "calinski_harabasz", "davies_bouldin", "gap", "gap_se" (the s_k of
        Tibshirani et al.), "prediction_strength", "fit_seconds" (always; the
        fit of the model, not of the gap's reference sets). Scores undefined
        at k=1 are NaN.
    recommended : dict
        Method name -> recommended k (int), or None when the method finds none
        (no knee in the inertia curve; a gap still growing at the largest k).
        The gap may answer 1 (its curve includes k = 1); prediction strength
        answers 1 when no k reaches 0.8. Keys in the order of ``methods``.
    models : dict
        k -> the fitted estimator (or pipeline) for that k; it also holds k=1
        when ``best_k`` is 1 and 1 was not among the ks.
    methods : tuple of str
        The methods that were run.
    best_k : int or None
        The answer: the k the methods that held up agree on (see ``reason``);
        1 means no cluster structure was found. ``models[best_k]`` is its
        fitted model.
    reason : str
        One sentence: which methods agreed, on what, why this k, and which
        estimates were made on a sample.
    gap_curve : pandas.DataFrame or None
        Gap(k) and s_k (columns "gap", "gap_se") over k = 1 and the ks: the
        curve the gap rule read (k=1 included even when ks starts at 2).
    gap_rule : str or None
        The ``maxSE`` rule behind ``recommended["gap"]``.
    sample_note : str or None
        Which estimates used a sample of the rows, and how large; None when
        every estimate used every row.
    """

    table: pd.DataFrame
    recommended: dict
    models: dict = field(repr=False)
    methods: tuple
    best_k: int | None = None
    reason: str = ""
    gap_curve: pd.DataFrame | None = field(default=None, repr=False)
    gap_rule: str | None = None
    sample_note: str | None = None

    def plot(self, ax=None):
        """Plot every score against k, ``best_k`` marked; return the Figure.

        See :func:`kmeanskit.plotting.plot_selection` for ``ax``.

        Returns
        -------
        figure : matplotlib.figure.Figure
        """
        from kmeanskit._presentation.plotting import plot_selection

        axes = plot_selection(self, ax=ax)
        first = axes if hasattr(axes, "figure") else np.ravel(axes)[0]
        return first.figure

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{html.escape(method)}</td><td>{'no clear choice' if k is None else int(k)}</td></tr>"
            for method, k in self.recommended.items()
        )
        answer = "no answer" if self.best_k is None else f"best k = {int(self.best_k)}"
        return (
            '<div class="kmeanskit-select-k">'
            f"<p><strong>{html.escape(answer)}</strong>: {html.escape(self.reason)}</p>"
            "<table><thead><tr><th>method</th><th>recommended k</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"{self.table.to_html(float_format=lambda v: f'{v:.4g}')}</div>"
        )


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


def _resolve_methods(methods, template, mixed):
    """The methods to run: all that apply by default (None), else those given, checked for the clusterer."""
    if not mixed:
        return METHODS if methods is None else methods
    if methods is None:
        return MIXED_METHODS
    refused = [m for m in methods if m not in MIXED_METHODS]
    if refused:
        name = type(final_estimator(template)).__name__
        raise ValueError(
            f"methods {refused} are undefined for a {name}, which clusters categorical columns ({_WHY_NOT_MIXED}); "
            f"choose from {list(MIXED_METHODS)}."
        )
    return methods


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


def _fit_one(template, k, X, seed, rs_param, scored, sample_size, mixed=False, sample_seed=None):
    """Fit k clusters; ``(model, row of scores, X in the clusterer's space, labels)``. `sample_seed` draws the
    silhouette's sample (the same rows for every k)."""
    model = clone(template).set_params(**{param_prefix(template) + "n_clusters": k})
    if rs_param is not None and seed is not None:
        model.set_params(**{rs_param: seed})
    t0 = time.perf_counter()
    model.fit(X)
    seconds = time.perf_counter() - t0
    labels, Xt = _labels_and_space(model, X)
    if mixed:  # a table with categories: its cost and its own silhouette
        clusterer = final_estimator(model)
        row = {"inertia": float(clusterer.inertia_)}
        if "silhouette" in scored:
            score = metrics.silhouette_or_reason(Xt, labels, sample_size=sample_size, random_state=sample_seed,
                                                 categorical=clusterer.categorical_, gamma=clusterer.gamma_)[0]
            row["silhouette"] = np.nan if score is None else score
        row["fit_seconds"] = seconds
        return model, row, Xt, labels
    Xt = check_array(Xt, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    clusterer = final_estimator(model)
    value = getattr(clusterer, "inertia_", None)
    row = {"inertia": float(value) if value is not None else metrics.inertia(Xt, labels)}
    distinct = np.unique(labels).size
    defined = 2 <= distinct < Xt.shape[0] and not metrics._is_constant(Xt)
    if "silhouette" in scored:
        row["silhouette"] = (
            metrics.silhouette_score(Xt, labels, sample_size=sample_size, random_state=sample_seed)
            if defined else np.nan
        )
    if "calinski_harabasz" in scored:
        row["calinski_harabasz"] = metrics.calinski_harabasz_score(Xt, labels) if defined else np.nan
    if "davies_bouldin" in scored:
        row["davies_bouldin"] = metrics.davies_bouldin_score(Xt, labels) if defined else np.nan
    row["fit_seconds"] = seconds
    return model, row, Xt, labels


def _clusterer(template, k, seed, rs_param):
    """A fresh clone of the template's clusterer with k clusters (and the seed)."""
    model = clone(final_estimator(template)).set_params(n_clusters=k)
    if rs_param is not None and seed is not None:
        model.set_params(random_state=seed)
    return model


def _fitted_inertia(model, Z):
    value = getattr(model, "inertia_", None)
    return float(value) if value is not None else metrics.inertia(Z, model.labels_)


def _gap(Xs, ks, log_w, template, n_refs, seed, rs_param, tick):
    """Gap(k) and s_k for k = 1 and every k of ``ks`` (Tibshirani et al. 2001, with W_k = inertia).

    ``Xs``: the rows in the clusterer's space (all, or a sample); ``log_w``:
    log W_k of those rows for k = 1 and each k of ``ks``.
    """
    curve_ks = [1, *[k for k in ks if k != 1]]
    log_w_ref = np.empty((n_refs, len(curve_ks)))
    rng = check_random_state(None if seed is None else seed + 1)
    for b, Z in enumerate(reference_sets(Xs, n_refs, rng)):
        for j, k in enumerate(curve_ks):
            if k == 1:
                w = total_sum_of_squares(Z)
            else:
                w = _fitted_inertia(_clusterer(template, k, seed, rs_param).fit(Z), Z)
                tick()
            log_w_ref[b, j] = np.log(w) if w > 0 else -np.inf
    gap = log_w_ref.mean(axis=0) - log_w
    sd = log_w_ref.std(axis=0)  # 1/B, as in the paper
    return pd.DataFrame({"gap": gap, "gap_se": sd * np.sqrt(1.0 + 1.0 / n_refs)},
                        index=pd.Index(curve_ks, name="k"))


def _prediction_strength(Xs, ks, template, seed, rs_param, tick, keeps=None):
    """Two-fold prediction strength (Tibshirani & Walther 2005) of every k on the rows Xs.

    ``keeps``: for a clusterer of categorical columns, the test that a half keeps two levels of each of
    them (see :func:`resample_keeps_levels`); halves are drawn again until both do.
    """
    rng = check_random_state(None if seed is None else seed + 3)
    half = Xs.shape[0] // 2

    def split():
        order = rng.permutation(Xs.shape[0])
        return order[:half], order[half:]

    rows_a, rows_b = draw_keeping_levels(split, keeps, _HALF_DRAWS, lambda column: (
        f"prediction strength needs two levels of every categorical column in each half of the rows; "
        f"column {column!r} had one level in a half of each of {_HALF_DRAWS} random splits (its other "
        "levels are in very few rows): leave 'prediction_strength' out of methods, or that column out"
    ))
    halves = (_take(Xs, rows_a), _take(Xs, rows_b))
    strength = np.full(len(ks), np.nan)
    for j, k in enumerate(ks):
        if k == 1:
            strength[j] = 1.0
            continue
        if k > min(h.shape[0] for h in halves) - 1:
            continue  # a half too small to hold k clusters with a pair in each
        first, second = (_clusterer(template, k, seed, rs_param).fit(h) for h in halves)
        with warnings.catch_warnings():
            if keeps is not None:  # a level of one half alone matches no mode of the other's: as it should
                warnings.simplefilter("ignore", UnseenCategoryWarning)
            strength[j] = 0.5 * (
                co_membership_strength(np.asarray(second.labels_), np.asarray(first.predict(halves[1])))
                + co_membership_strength(np.asarray(first.labels_), np.asarray(second.predict(halves[0])))
            )
        tick()
    return strength


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
    methods=None,
    estimator=None,
    n_refs=10,
    random_state=None,
    sample_size="auto",
    progress=None,
    n_jobs=None,
    gap_rule="firstSEmax",
):
    """Fit a clustering for every k in ``ks``, recommend k by several methods and give one answer.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data, as the estimator takes it (a pipeline's raw input). Scores
        are computed in the space the clusterer sees (after a pipeline's
        preprocessing steps).
    ks : iterable of int, default=range(2, 11)
        Numbers of clusters to try: unique ints, 1 <= k < n_samples (sorted
        here). Silhouette, Calinski-Harabasz and Davies-Bouldin need k >= 2
        (NaN at k=1); the gap statistic always adds k=1 to its curve. The gap
        rules compare neighbouring ks, so use consecutive ks. A k above the
        number of distinct rows of X is not fitted (some of its clusters would
        be empty): its row of the table is NaN, and ``reason`` says so.
    methods : sequence of str or None, default=None
        Which recommendations to make (and which columns to compute). None:
        every method that applies, ``("elbow", "silhouette", "gap",
        "prediction_strength", "calinski_harabasz", "davies_bouldin")``, or
        for a clusterer of categorical columns ``MIXED_METHODS``
        ``("elbow", "silhouette", "prediction_strength")``. ``best_k``
        combines those among them that held up on the k-selection suite (see
        ``reason``).
    estimator : estimator or Pipeline, default=None
        None: ``kmeanskit.KMeans(n_init="auto", random_state=...)``. Otherwise a
        clusterer with ``n_clusters`` (or a pipeline ending in one), cloned for
        every k with ``n_clusters=k``. A KPrototypes or KModes (X a table
        with its categories) is scored in its own cost: ``inertia`` is its
        cost, the silhouette is under its dissimilarity (squared Euclidean
        distance on the numeric columns plus ``gamma_`` per mismatched
        category).
    n_refs : int, default=10
        Reference data sets of the gap statistic (B in the paper). Each costs
        one fit per k on data as large as X (or as the sample, see `sample_size`).
    random_state : int, RandomState instance or None, default=None
        Seed of the fits (every k gets the same int seed, so ``models[k]`` is
        what ``KMeans(k, random_state=seed).fit(X)`` gives), of the gap's
        reference data, of the samples and of the prediction-strength halves.
        When None, a given estimator's own ``random_state`` is kept. Every k's
        silhouette is estimated on the same sample (drawn once when None).
    sample_size : "auto", int or None, default="auto"
        Rows, drawn at random, on which the estimates that do not need every
        row are made: the silhouette (see
        :func:`kmeanskit.metrics.silhouette_score`), the gap statistic (the
        sample's W_k under each fit's clusters against reference sets of the
        sample's size) and prediction strength (halves of the sample). The
        fits, inertia, Calinski-Harabasz and Davies-Bouldin always use every
        row. "auto": 5,000 rows when X has more, else every row; None: every
        row (the silhouette then costs O(n^2) per k). ``sample_note`` and
        ``reason`` say what was sampled.
    progress : bool or None, default=None
        Show a tqdm progress bar over the fits; None: only when stderr is a terminal.
    n_jobs : int or None, default=None
        Fit this many ks at a time in threads (the kernels release the GIL);
        None or 1: one at a time. Results do not depend on it.
    gap_rule : {"firstSEmax", "Tibs2001SEmax", "globalSEmax", "firstmax", "globalmax"}, default="firstSEmax"
        The rule of R's ``cluster::maxSE`` that reads the gap's k off its
        curve (see :func:`kmeanskit._analysis.selection.gap.max_se`).

    Returns
    -------
    SelectKResult
        ``.best_k`` and ``.reason`` (the answer), ``.table`` (scores per k),
        ``.recommended`` (method -> k or None), ``.models`` (k -> fitted
        estimator), ``.methods``, ``.gap_curve``; ``.plot()``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from kmeanskit import select_k
    >>> X, _ = make_blobs(600, centers=4, random_state=0)
    >>> result = select_k(X, range(2, 8), n_refs=3, random_state=0)
    >>> result.recommended["silhouette"], result.best_k
    (4, 4)
    """
    methods = None if methods is None else _check_methods(methods)
    if isinstance(n_refs, (bool, np.bool_)) or not isinstance(n_refs, Integral) or n_refs < 1:
        raise ValueError(f"n_refs must be a positive int; got {n_refs!r}.")
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, Integral) or n_jobs == 0
    ):
        raise ValueError(f"n_jobs must be None or a non-zero int (-1: one per core); got {n_jobs!r}.")
    if progress not in (None, True, False):
        raise ValueError(f"progress must be True, False or None (auto); got {progress!r}.")
    if gap_rule not in GAP_RULES:
        raise ValueError(f"gap_rule must be one of {list(GAP_RULES)}; got {gap_rule!r}.")
    n_samples = getattr(X, "shape", (len(X),))[0]
    ks = _check_ks(ks, n_samples)
    asked, capped = ks, None
    distinct = _distinct_rows(X, ks[-1])
    if distinct is not None:
        ks = [k for k in asked if k <= distinct]
        if not ks:
            raise ValueError(f"X has {distinct} distinct rows, fewer than every k of ks {asked}: some clusters would "
                             f"be empty; give ks of at most {distinct}.")
        capped = (f"no fit for k = {join_words([str(k) for k in asked if k > distinct])}, above the {distinct} "
                  "distinct rows of X, where some clusters would be empty")
    sample_size = _check_sample_size(sample_size, n_samples)

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
    mixed = clusters_categories_template(template)
    methods = _resolve_methods(methods, template, mixed)

    scored = set(methods)
    fitted_ks = [k for k in ks if k != 1]
    n_fits = len(ks) + len(fitted_ks) * (
        (n_refs if "gap" in scored else 0) + (1 if "prediction_strength" in scored else 0)
    )
    bar = _progress_bar(progress, n_fits)

    def tick():
        if bar is not None:
            bar.update(1)

    # The silhouette's sample: the same rows for every k (drawn once when there is no seed).
    sample_seed = seed if seed is not None else int(check_random_state(None).randint(np.iinfo(np.int32).max))

    def run(k):
        out = _fit_one(template, k, X, seed, rs_param, scored, sample_size, mixed, sample_seed)
        tick()
        return out

    try:
        workers = 1 if n_jobs is None else (n_jobs if n_jobs > 0 else max(1, (_cpu_count() + 1 + n_jobs)))
        if workers > 1 and len(ks) > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="select_k") as pool:
                results = list(pool.map(run, ks))
        else:
            results = [run(k) for k in ks]
        models = {k: model for k, (model, _, _, _) in zip(ks, results, strict=True)}
        categorical = final_estimator(models[ks[0]]).categorical_ if mixed else None
        rows = [row for _, row, _, _ in results]
        Xt = results[0][2]
        rows_used = _sample_rows(Xt.shape[0], sample_size, sample_seed)  # (the silhouette's seed)
        Xs = Xt if rows_used is None else _take(Xt, rows_used)
        gap_curve = strength = None
        if "gap" in scored:
            if sp.issparse(Xs):
                raise ValueError(
                    "The gap statistic needs dense data (its reference sets are drawn in the principal-axes "
                    "box of X); densify X or leave 'gap' out of methods."
                )
            if rows_used is None:  # every row: the fits' own inertias
                inertias = {k: row["inertia"] for k, row in zip(ks, rows, strict=True)}
            else:  # the sample's within-cluster sum of squares under each fit's clusters
                inertias = {k: metrics.inertia(Xs, result[3][rows_used]) for k, result in zip(ks, results, strict=True)}
            w_1 = inertias[1] if 1 in inertias else total_sum_of_squares(Xs)
            with np.errstate(divide="ignore"):
                log_w = np.log(np.array([w_1, *[inertias[k] for k in fitted_ks]], dtype=np.float64))
            gap_curve = _gap(Xs, fitted_ks, log_w, template, n_refs, seed, rs_param, tick)
        if "prediction_strength" in scored:
            keeps = resample_keeps_levels(Xs, categorical) if mixed else None
            strength = _prediction_strength(Xs, ks, template, seed, rs_param, tick, keeps)
    finally:
        if bar is not None:
            bar.close()

    if mixed:  # the numeric columns, as the clusterer sees them
        frame = pd.DataFrame(Xt)
        space = frame.drop(columns=frame.columns[categorical])
        if space.shape[1]:
            warn_if_unscaled(space.to_numpy(dtype=np.float64), [str(c) for c in space.columns], stacklevel=2)
    else:
        warn_if_unscaled(results[0][2], getattr(X, "columns", None), stacklevel=2)
    table = pd.DataFrame(rows, index=pd.Index(ks, name="k"))
    if gap_curve is not None:
        table["gap"], table["gap_se"] = gap_curve.loc[ks, "gap"].to_numpy(), gap_curve.loc[ks, "gap_se"].to_numpy()
    if strength is not None:
        table["prediction_strength"] = strength
    table = table[[c for c in _COLUMNS if c in table.columns]]

    recommended = {}
    for method in methods:
        if method == "elbow":
            recommended[method] = elbow_k(ks, table["inertia"])
        elif method == "gap":
            recommended[method] = gap_k(gap_curve.index, gap_curve["gap"], gap_curve["gap_se"], gap_rule)
        elif method == "prediction_strength":
            recommended[method] = prediction_strength_k(ks, strength)
        else:
            recommended[method] = _best(ks, table[method], largest=method != "davies_bouldin")
    sampled = [name for method, name in _SAMPLED if method in scored]
    sample_note = None
    if rows_used is not None and sampled:
        sample_note = f"{join_words(sampled)} on a random sample of {sample_size:,} of {n_samples:,} rows"
    left_out = _NOT_MIXED.format(name=type(final_estimator(template)).__name__) if mixed else None
    left_out = "; ".join(note for note in (left_out, capped) if note) or None
    best_k, reason = choose_k(ks, recommended, gap_curve, gap_rule if "gap" in scored else None, sample_note,
                              left_out)
    if capped is not None:
        table = table.reindex(pd.Index(asked, name="k"))
    if best_k == 1 and 1 not in models:
        models[1] = _fit_one(template, 1, X, seed, rs_param, set(), None, mixed)[0]
    return SelectKResult(table=table, recommended=recommended, models=models, methods=methods,
                         best_k=best_k, reason=reason, gap_curve=gap_curve,
                         gap_rule=gap_rule if "gap" in scored else None, sample_note=sample_note)


def _distinct_rows(X, enough):
    """The number of distinct rows of X, or None when it has at least `enough` (told by its first rows if
    they suffice, without reading the rest)."""
    if not (isinstance(X, (pd.DataFrame, np.ndarray)) or sp.issparse(X)):
        X = np.asarray(X, dtype=object)
    n = X.shape[0]
    found = _count_distinct(_take(X, slice(0, min(n, _DISTINCT_HEAD))))
    if found < enough and n > _DISTINCT_HEAD:
        found = _count_distinct(X)
    return None if found >= enough else found


def _count_distinct(X) -> int:
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        X.sum_duplicates()
        X.eliminate_zeros()
        X.sort_indices()
        return len({(X.indices[a:b].tobytes(), X.data[a:b].tobytes())
                    for a, b in zip(X.indptr[:-1], X.indptr[1:], strict=True)})
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    return int(len(frame.drop_duplicates()))


def _check_sample_size(sample_size, n_samples):
    """The rows of the sampled estimates: an int below n_samples, or None for every row."""
    if isinstance(sample_size, str) and sample_size == "auto":
        return AUTO_SAMPLE_SIZE if n_samples > AUTO_SAMPLE_SIZE else None
    if sample_size is None:
        return None
    if isinstance(sample_size, (bool, np.bool_)) or not isinstance(sample_size, Integral) or sample_size < 2:
        raise ValueError(f"sample_size must be 'auto', None or an int >= 2; got {sample_size!r}.")
    return int(sample_size) if sample_size < n_samples else None


def _sample_rows(n_rows, sample_size, seed):
    """Sorted random rows for the sampled estimates, or None for every row."""
    if sample_size is None:
        return None
    rng = check_random_state(None if seed is None else seed + 2)
    return np.sort(rng.choice(n_rows, size=sample_size, replace=False))


def _cpu_count():
    import os

    return os.cpu_count() or 1
