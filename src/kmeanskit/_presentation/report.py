"""A clustering report: one self-contained HTML file to open in any browser.

:func:`report` describes the data, the choice of k, the clusters (in the
original units of each feature), their silhouette and the quality metrics,
and, given known classes, how well the clusters recover them. Plots are
embedded as base64 PNG images; the page loads nothing from anywhere (its
Content-Security-Policy forbids it) and runs no script.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
import warnings
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array

from kmeanskit._analysis.formatting import format_number
from kmeanskit._analysis.metrics import check_euclidean, clustering_metrics
from kmeanskit._estimators.pipeline import fitted_final_estimator, preprocessing_steps, to_final_space
from kmeanskit._io.atomic import write_bytes
from kmeanskit._presentation.html import html_table

__all__ = ["report"]

# Above these sizes a sample is drawn (seeded, so a report is reproducible): a
# silhouette diagram or a scatter of millions of points says no more. (The mean
# silhouette's sample: kmeanskit._analysis.metrics.SILHOUETTE_SAMPLE_SIZE.)
_SILHOUETTE_PLOT_SAMPLE = 3_000
_SCATTER_SAMPLE = 5_000
_MAX_PROFILE_PLOTS = 16
_DPI = 96

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 1.8em; margin: 0 0 4px; }
h2 { font-size: 1.35em; margin: 40px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1em; margin: 24px 0 6px; }
p.meta, p.note, figcaption { color: var(--muted); font-size: 0.92em; }
nav { margin: 12px 0 0; font-size: 0.95em; }
nav a { color: var(--accent); text-decoration: none; margin-right: 16px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.9em; }
th, td { border: 1px solid var(--line); padding: 4px 10px; }
th { background: var(--band); text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #dafbe1; }
.scroll { overflow-x: auto; max-width: 100%; }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; }
"""


# --------------------------------------------------------------------------- public


def report(
    X,
    model,
    path,
    *,
    ks: Iterable[int] | None = range(2, 11),
    labels_true=None,
    feature_names=None,
    title: str | None = None,
    selection=None,
    progress=None,
    random_state: int = 0,
    stability: int | None = 20,
    drift=None,
) -> Path:
    """Write an HTML report on a clustering to `path` and return the path.

    The page has: a data summary (rows, features, per-feature statistics);
    the choice of k (the table and plots of
    :func:`kmeanskit.select_k`); the clusters (sizes, centers and
    profiles in original units, a scatter plot, per-feature box plots); the
    silhouette diagram; the metrics (silhouette, Calinski-Harabasz,
    Davies-Bouldin, inertia) and, with `labels_true`, the agreement with the
    known classes (ARI, NMI, purity, contingency matrix and heatmap).

    Distances (inertia, silhouette, k selection) are measured in the space
    the model clusters in, i.e. after the pipeline's scaler; centers and
    profiles are given in the original units of `X`.

    A KPrototypes or KModes model (or a pipeline ending in one; `X` its
    table) gets these sections in its own cost: the choice of k by the
    methods of :func:`~kmeanskit.select_k` for that cost, the level shares
    of each categorical column per cluster, what sets each cluster apart
    (levels as shares, rules on levels and numbers; the rows without gaps),
    the silhouette and its diagram in its dissimilarity (not on rows with
    gaps), stability and known classes. The scatter plot of principal
    components and Calinski-Harabasz and Davies-Bouldin, which need numbers
    or Euclidean distances, are left out and the page says why. A
    ``KMeans(missing="ignore")`` model of rows with gaps gets the profiles,
    missing shares and cost (and known classes), the rest left out, said.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data in original units, as `model` takes it (a DataFrame's column
        names are used as feature names).
    model : KMeans or sklearn.pipeline.Pipeline
        A fitted :class:`kmeanskit.KMeans`, or a fitted pipeline of
        transformers (e.g. a scaler) ending in one.
    path : str or os.PathLike
        Where to write the HTML file; it is replaced atomically (a reader
        never sees a half-written file).
    ks : iterable of int or None, default=range(2, 11)
        The values of k to compare with :func:`~kmeanskit.select_k`
        (all its methods); None leaves the k-selection section out. Ignored
        when `selection` is given.
    labels_true : array-like of shape (n_samples,), optional
        Known class of each row, for the external metrics.
    feature_names : sequence of str, optional
        Name of each feature; by default the DataFrame's columns, the model's
        ``feature_names_in_``, or ``x0, x1, ...``.
    title : str, optional
        Title of the page; "Clustering report" by default.
    selection : SelectKResult, optional
        A result of :func:`~kmeanskit.select_k` on the model's
        (scaled) input to show instead of running it again.
    progress : bool or None, default=None
        Passed to :func:`~kmeanskit.select_k`: show its progress bar.
    random_state : int, default=0
        Seed of the samples drawn on large data (silhouette above 10,000
        rows, plots) and of :func:`~kmeanskit.select_k`.
    stability : int or None, default=20
        Resamples for each cluster's stability (:func:`~kmeanskit.cluster_stability`,
        on a sample of 10,000 rows of larger data); None leaves the section out.
    drift : DriftReport, optional
        A result of :func:`~kmeanskit.drift_report` to show: its verdict and
        the features that moved.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install 'kmeanskit[plot]'``).
    TypeError
        If `model` is not a KMeans or a pipeline ending in one, or
        `selection` is not a SelectKResult.
    ValueError
        If `model` is not fitted, `X` is not numeric and finite or does not
        match the model, `labels_true` or `feature_names` has the wrong
        length, or the directory of `path` does not exist.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from kmeanskit import KMeans
    >>> from kmeanskit import report
    >>> iris = load_iris(as_frame=True)
    >>> model = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(iris.data)
    >>> report(iris.data, model, "iris.html", labels_true=iris.target)  # doctest: +SKIP
    PosixPath('iris.html')
    """
    from kmeanskit._presentation.plotting import require_matplotlib

    require_matplotlib()  # fail before any work when matplotlib is missing
    target = _check_path(path)
    kmeans = fitted_final_estimator(model, purpose="report")
    check_euclidean(kmeans)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")
    if _is_table_model(kmeans):
        frame = _table_frame(X, model, feature_names)
        if frame is not None:  # categorical columns or gaps: the sections that describe such tables
            return _table_report(frame, model, kmeans, target, title, drift, ks=ks, selection=selection,
                                 labels_true=labels_true, progress=progress, random_state=random_state,
                                 stability=stability)
    frame = _data_frame(X, model, feature_names)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")
    if selection is not None and not (hasattr(selection, "table") and hasattr(selection, "recommended")):
        raise TypeError(f"selection must be a SelectKResult from select_k, got {type(selection).__name__}")
    if labels_true is not None:
        labels_true = _check_labels_true(labels_true, len(frame))

    start = time.perf_counter()
    model_input = frame if getattr(model, "feature_names_in_", None) is not None else frame.to_numpy()
    labels = np.asarray(model.predict(model_input))
    Xt = np.asarray(to_final_space(model, model_input), dtype=np.float64)
    if selection is None and ks is not None:
        from kmeanskit._analysis.selection import select_k

        selection = select_k(Xt, ks, estimator=_selection_template(kmeans), random_state=random_state,
                             progress=progress)

    centers = np.asarray(kmeans.cluster_centers_, dtype=np.float64)
    found = clustering_metrics(Xt, labels, centers, labels_true, random_state=random_state)
    context = _Context(frame=frame, Xt=Xt, labels=labels, model=model, kmeans=kmeans, metrics=found,
                       labels_true=labels_true, rng_seed=random_state, model_input=model_input)
    sections = [
        ("data", "Data", _data_section(context)),
        ("model", "Model", _model_section(context)),
    ]
    if selection is not None:
        sections.append(("selection", "Choosing k", _selection_section(selection, kmeans.n_clusters)))
    sections += [
        ("clusters", "Clusters", _clusters_section(context)),
        ("explanations", "What sets each cluster apart", _explanations_section(context)),
        ("silhouette", "Silhouette", _silhouette_section(context)),
        ("metrics", "Metrics", _metrics_section(context)),
    ]
    if labels_true is not None:
        sections.append(("classes", "Known classes", _classes_section(context)))
    return _finish(target, title, sections, start, model_input, model, stability, random_state, drift)


def _finish(target, title, sections, start, model_input, model, stability, random_state, drift) -> Path:
    """Add the stability (unless `stability` is None) and drift sections, and write the page to `target`."""
    if stability is not None:
        from kmeanskit._analysis.stability import cluster_stability

        found_stability = cluster_stability(model_input, model, n_boot=stability, random_state=random_state)
        sections.append(("stability", "Stability", _stability_section(found_stability)))
    if drift is not None:
        sections.append(("drift", "Drift", _drift_section(drift)))
    page = _page(title or "Clustering report", sections, time.perf_counter() - start, len(model_input))
    write_bytes(target, page.encode("utf-8"))
    return target


# --------------------------------------------------------------------------- tables with categories or gaps


def _is_table_model(kmeans) -> bool:
    """Whether the model takes categorical columns (KPrototypes, KModes) or missing entries."""
    return getattr(kmeans, "categorical_", None) is not None or getattr(kmeans, "missing", None) == "ignore"


def _table_frame(X, model, feature_names) -> pd.DataFrame | None:
    """X as a DataFrame with its own dtypes and one name per feature, or None for a complete numeric table
    (which the full report describes)."""
    from kmeanskit._analysis.profiles import feature_names_of

    kmeans = fitted_final_estimator(model, purpose="report")
    n_features = np.shape(X)[1] if len(np.shape(X)) == 2 else None
    if n_features is None:
        raise ValueError(f"X must be a 2-d table, got shape {np.shape(X)}")
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and n_features != expected:
        raise ValueError(f"X has {n_features} features but the model was fitted on {expected}")
    names = feature_names_of(X, feature_names, n_features, fitted=(model,))
    if isinstance(X, pd.DataFrame):
        frame = X.set_axis(names, axis=1).reset_index(drop=True)
    else:
        array = np.asarray(X)
        frame = pd.DataFrame(array if array.dtype.kind in "fiu" else array.astype(object), columns=names)
    if getattr(kmeans, "categorical_", None) is None:
        values = check_array(frame, dtype=np.float64, input_name="X", ensure_all_finite="allow-nan")
        if not np.isnan(values).any():
            return None
    return frame


def _table_report(frame, model, kmeans, target, title, drift, *, ks=None, selection=None, labels_true=None,
                  progress=None, random_state=0, stability=None) -> Path:
    """The report of a model on a table with categorical columns or missing entries.

    A KPrototypes/KModes model gets the sections of the full report in its own cost: the choice of k
    (select_k's methods for its cost), the silhouette in its dissimilarity, what sets each cluster apart
    (levels and numbers, rules on both), stability and known classes; what has no meaning for categories
    (a scatter plot of principal components, Calinski-Harabasz, Davies-Bouldin) is left out, and said so.
    """
    from kmeanskit._analysis.profiles import profile_categories, profile_clusters

    start = time.perf_counter()
    model_input = frame if getattr(model, "feature_names_in_", None) is not None else frame.to_numpy()
    categorical = getattr(kmeans, "categorical_", None)
    mixed = categorical is not None and len(categorical) > 0
    if mixed:  # each row's cluster and its cost to it, the table through the preprocessing once
        from kmeanskit._estimators.kprototypes import UnseenCategoryWarning

        space = to_final_space(model, model_input)
        labels = np.asarray(kmeans.predict(space), dtype=np.int64)  # warns of categories never seen at fit
        with warnings.catch_warnings():  # ... once
            warnings.simplefilter("ignore", UnseenCategoryWarning)
            costs = np.asarray(kmeans.transform(space), dtype=np.float64)[np.arange(labels.shape[0]), labels]
    else:
        labels = np.asarray(model.predict(model_input))
    if labels_true is not None:
        labels_true = _check_labels_true(labels_true, len(frame))
    numeric = profile_clusters(frame, labels, model=model) if categorical is None or \
        len(categorical) < frame.shape[1] else None
    levels = profile_categories(frame, labels, model=model) if mixed else None
    ctx = _Context(frame=frame, labels=labels, model=model, kmeans=kmeans, labels_true=labels_true,
                   rng_seed=random_state, model_input=model_input)
    if mixed:
        from kmeanskit._analysis.mixed_workflow import assigned_metrics

        ctx.metrics = assigned_metrics(kmeans, space, labels, costs, labels_true, random_state=random_state)
        if selection is None and ks is not None:
            from sklearn.base import clone

            from kmeanskit._analysis.selection import select_k

            selection = select_k(model_input, ks, estimator=clone(model), random_state=random_state,
                                 progress=progress)
    elif labels_true is not None:
        from kmeanskit._analysis.metrics import external_metrics

        ctx.metrics = external_metrics(labels_true, labels)
    sections = [
        ("data", "Data", _table_data_section(frame, numeric, levels)),
        ("model", "Model", _model_section(ctx)),
    ]
    if mixed and selection is not None:
        sections.append(("selection", "Choosing k", _selection_section(selection, kmeans.n_clusters, cost=True)))
    sections.append(("clusters", "Clusters", _table_clusters_section(ctx, numeric, levels)))
    if mixed:
        sections += [("explanations", "What sets each cluster apart", _explanations_section(ctx)),
                     ("silhouette", "Silhouette", _mixed_silhouette_section(ctx))]
    sections.append(("metrics", "Metrics", _table_metrics_section(ctx, mixed)))
    if labels_true is not None:
        sections.append(("classes", "Known classes", _classes_section(ctx)))
    return _finish(target, title, sections, start, model_input, model, stability if mixed else None, random_state,
                   drift)


_COST_MEANING = {
    "KMeans": "within-cluster sum of squared distances over the observed entries (lower is tighter)",
    "KPrototypes": "squared Euclidean distance of the numeric columns plus gamma times the mismatched "
                   "categories, summed over the rows (lower is tighter)",
    "KModes": "mismatched categories, summed over the rows (lower is tighter)",
}
_TABLE_NOTE = ("The choice of k, the silhouette, the explanations and the stability are measured in Euclidean "
               "geometry on complete numeric rows, so this report on a table with missing entries leaves them out.")
#: What the report of a KPrototypes/KModes model leaves out, and what it shows instead.
_MIXED_NOTE = ("Left out: the scatter plot of the rows on their first two principal components (a projection "
               "needs every column as a number, and categories have none: the level shares per cluster above, "
               "and the per-cluster statistics of the numeric columns, show the clusters instead), and "
               "Calinski-Harabasz and Davies-Bouldin ({why}).")


def _table_metrics_section(ctx, mixed) -> str:
    """The cost; for a KPrototypes/KModes model also its silhouette, and why the Euclidean scores are left out."""
    kmeans = ctx.kmeans
    name = type(kmeans).__name__
    rows = [("cost", _fmt(kmeans.inertia_), _COST_MEANING.get(name, _COST_MEANING["KMeans"]))]
    if not mixed:
        return html_table(pd.DataFrame(rows, columns=["metric", "value", "meaning"]), index=False) + \
            f'<p class="note">{_TABLE_NOTE}</p>'
    found = ctx.metrics
    if found["silhouette"] is None:
        rows.append(("silhouette", "n/a", found["silhouette_note"]))
    else:
        rows.append(("silhouette", _fmt(found["silhouette"]),
                     f"from -1 to 1, higher is better separated; {found['silhouette_note']}"))
    rows.append(("Calinski-Harabasz, Davies-Bouldin", "n/a", found["euclidean_note"]))
    return html_table(pd.DataFrame(rows, columns=["metric", "value", "meaning"]), index=False) + \
        f'<p class="note">{html.escape(_MIXED_NOTE.format(why=found["euclidean_note"]))}</p>'


def _mixed_silhouette_section(ctx) -> str:
    """The silhouette diagram in a KPrototypes/KModes model's dissimilarity (on a sample of large tables)."""
    from kmeanskit._analysis.columns import take_rows
    from kmeanskit._analysis.metrics import mixed_silhouette_samples, table_parts

    if ctx.metrics["silhouette"] is None:  # a single cluster, rows with gaps, identical rows: said why
        return f'<p class="note">The silhouette is {html.escape(ctx.metrics["silhouette_note"])}.</p>'

    def values_of(rows):
        # (the sample's rows alone through the preprocessing, which scales each row by itself)
        numeric, categories = table_parts(to_final_space(ctx.model, take_rows(ctx.model_input, rows)),
                                          ctx.kmeans.categorical_)
        return mixed_silhouette_samples(numeric if numeric.shape[1] else None, categories, ctx.labels[rows],
                                        gamma=ctx.kmeans.gamma_)  # (ValueError for identical rows)

    return _silhouette_diagram(
        ctx, values_of, "Silhouette diagram in the model's dissimilarity",
        "Each band is a cluster, its rows sorted by silhouette (from -1, misplaced, to 1, well placed), "
        f"in the {type(ctx.kmeans).__name__} dissimilarity (squared distance of the scaled numeric "
        "columns plus gamma per category that differs); the dashed line is the average. Clusters whose "
        "band stays left of it, or bands of very different thickness, suggest another k.")


def _table_data_section(frame, numeric, levels) -> str:
    parts = [_kv([("rows", f"{len(frame):,}"), ("columns", str(frame.shape[1]))])]
    if numeric is not None:
        names = list(dict.fromkeys(numeric.index.get_level_values("feature")))
        described = frame[names].apply(pd.to_numeric, errors="coerce").describe().T
        described.insert(0, "feature", described.index)
        described.insert(1, "missing", 1 - described["count"] / len(frame))
        described = described.drop(columns="count")
        parts += ["<h3>Numeric columns (original units, over the observed entries)</h3>",
                  html_table(described, index=False, percent=("missing",), scale_by="row")]
    if levels is not None:
        rows = []
        for feature, part in levels.groupby(level="feature", sort=False):
            counts = part["count"].groupby(level="level", sort=False).sum()
            missing = int(part["n_missing"].groupby(level="cluster").first().sum())
            rows.append({"column": feature, "levels shown": len(counts), "most frequent": counts.idxmax(),
                         "its share": counts.max() / max(counts.sum(), 1), "missing": missing / len(frame)})
        parts += ["<h3>Categorical columns</h3>",
                  html_table(pd.DataFrame(rows), index=False, percent=("its share", "missing"))]
    return "".join(parts)


def _table_clusters_section(ctx, numeric, levels) -> str:
    from kmeanskit._presentation.plotting import draw_category_profile

    labels, k = ctx.labels, int(ctx.kmeans.n_clusters)
    sizes = np.bincount(labels, minlength=k)
    centers = pd.DataFrame(np.asarray(ctx.kmeans.cluster_centers_, dtype=object), columns=ctx.frame.columns)
    for column in centers.columns:
        if pd.api.types.is_numeric_dtype(ctx.frame[column].dtype) or (
                levels is None or column not in levels.index.get_level_values("feature")):
            centers[column] = pd.to_numeric(centers[column], errors="coerce")
    centers_note = _table_centers_in_original_units(ctx, centers)
    centers.insert(0, "share", sizes / len(labels))
    centers.insert(0, "size", sizes)
    centers.insert(0, "cluster", np.arange(k))
    parts = ["<h3>Sizes and centers (original units; modes of categorical columns)</h3>",
             '<div class="scroll">' + html_table(centers, index=False, percent=("share",)) + "</div>", centers_note]
    if numeric is not None:
        parts += _profile_tables(numeric)
        if "missing_share" in numeric.columns:
            missing = numeric["missing_share"].unstack("cluster")
            missing.columns = [f"cluster {c}" for c in missing.columns]
            missing.insert(0, "feature", missing.index)
            parts += ["<h3>Missing entries per cluster</h3>",
                      '<p class="note">The share of each cluster\'s rows missing the feature; the statistics '
                      "above are over the observed entries.</p>",
                      '<div class="scroll">' + html_table(missing.reset_index(drop=True), index=False,
                                                          percent=tuple(missing.columns[1:])) + "</div>"]
    if levels is not None:
        parts += _category_tables(levels)
        features = list(dict.fromkeys(levels.index.get_level_values("feature")))
        shown = features[:_MAX_PROFILE_PLOTS]
        fig, axes = _figure(len(shown), ncols=min(3, len(shown)), panel=(4.6, 1.6 + 0.35 * min(k, 20)))
        draw_category_profile(levels[levels.index.get_level_values("feature").isin(shown)], ax=axes)
        parts += ["<h3>Categorical columns per cluster</h3>",
                  _img(fig, "Stacked bars of the level shares of each categorical column per cluster",
                       "Each bar is a cluster, split by the shares of the column's levels among its observed "
                       "entries; the title gives Cramer's V and the chi-square p-value.")]
    return "".join(parts)


def _table_centers_in_original_units(ctx, centers: pd.DataFrame) -> str:
    """Map the numeric columns of `centers` (the model's, in its space) back through the pipeline's scaler, in
    place; return a note when a step cannot be inverted (the centers then stay in the model's units)."""
    if not preprocessing_steps(ctx.model):
        return ""
    categorical = getattr(ctx.kmeans, "categorical_", None)
    try:
        if categorical is None:  # K-Means of rows with gaps: every column numeric
            from kmeanskit._analysis.profiles import centers_in_original_units

            centers[:] = np.asarray(centers_in_original_units(ctx.model), dtype=np.float64)
        else:  # the numeric columns, through the NumericScaler
            from kmeanskit._analysis.mixed_workflow import numeric_centers_in_original_units

            numeric = [c for j, c in enumerate(centers.columns) if j not in set(categorical.tolist())]
            if numeric:
                means = numeric_centers_in_original_units(ctx.model, centers[numeric].to_numpy(dtype=np.float64))
                if means is None:
                    return ('<p class="note">The preprocessing is not a single NumericScaler, so the numeric '
                            "centers are in the units the model clusters in.</p>")
                centers[numeric] = means
    except (TypeError, AttributeError, ValueError):
        return ('<p class="note">A preprocessing step cannot be inverted, so the numeric centers are in the units '
                "the model clusters in.</p>")
    return ""


def _category_tables(levels: pd.DataFrame) -> list[str]:
    """The tidy profile of :func:`kmeanskit.profile_categories` as a test table and a shares table."""
    from kmeanskit._analysis.formatting import format_number

    tests = levels.groupby(level="feature", sort=False)[
        ["chi2", "chi2_dof", "chi2_p", "cramers_v", "min_expected", "low_expected_share"]].first()
    notes = []
    for row in tests.itertuples():
        if np.isnan(row.chi2_p):
            notes.append("undefined: a single cluster or level")
        elif row.min_expected < 1 or row.low_expected_share > 0.2:
            notes.append(f"expected counts below 5 in {100 * row.low_expected_share:.0f}% of cells (smallest "
                         f"{format_number(row.min_expected)}): the approximation may be poor")
        else:
            notes.append("")
    tests = tests.rename(columns={"chi2": "chi-square", "chi2_dof": "dof", "chi2_p": "chi-square p",
                                  "cramers_v": "Cramer's V", "min_expected": "smallest expected",
                                  "low_expected_share": "expected < 5"})
    tests.insert(0, "column", tests.index)
    tests["note"] = notes
    shares = levels["share"].unstack("cluster")
    counts = levels["count"].unstack("cluster")
    table = pd.DataFrame({"column": shares.index.get_level_values("feature"),
                          "level": shares.index.get_level_values("level")})
    for cluster in shares.columns:
        table[f"cluster {cluster}"] = shares[cluster].to_numpy()
        table[f"cluster {cluster} rows"] = counts[cluster].to_numpy()
    order = {f: i for i, f in enumerate(dict.fromkeys(levels.index.get_level_values("feature")))}
    table = table.iloc[np.argsort(table["column"].map(order).to_numpy(), kind="stable")]
    return [
        "<h3>Which categorical columns separate the clusters</h3>",
        '<p class="note">Pearson\'s chi-square test of independence of cluster and level (Yates\' correction '
        "for a 2 x 2 table, as R's chisq.test) and Cramer's V, its effect size from 0 (independent) to 1 (each "
        "level in one cluster). As with the ANOVA, clustering makes clusters differ: read V as a ranking.</p>",
        '<div class="scroll">' + html_table(tests.reset_index(drop=True), index=False,
                                            percent=("expected < 5",)) + "</div>",
        "<h3>Level shares per cluster</h3>",
        '<p class="note">The share of each level among each cluster\'s observed entries of the column, and its '
        "rows (the less frequent levels pooled as \"other\").</p>",
        '<div class="scroll">' + html_table(table.reset_index(drop=True), index=False,
                                            percent=tuple(c for c in table.columns[2:] if not c.endswith(" rows")))
        + "</div>",
    ]


# --------------------------------------------------------------------------- inputs


class _Context:
    """What the sections share (plain attributes; built once per report)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def sample(self, size: int) -> np.ndarray | None:
        """Indices of a seeded sample of at most `size` rows, or None for all rows."""
        n = len(self.labels)
        if n <= size:
            return None
        rng = np.random.default_rng(self.rng_seed)
        return np.sort(rng.choice(n, size=size, replace=False))


def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    target = Path(path)
    if not target.parent.is_dir():
        raise ValueError(f"cannot write the report to '{target}': directory '{target.parent}' does not exist")
    if target.is_dir():
        raise ValueError(f"cannot write the report to '{target}': it is a directory")
    return target


def _data_frame(X, model, feature_names) -> pd.DataFrame:
    """X as a DataFrame in original units with one name per feature."""
    model_names = getattr(model, "feature_names_in_", None)
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if model_names is not None and set(map(str, model_names)) <= set(names):
            names = [str(n) for n in model_names]  # the model's columns, in its order
            X = X.set_axis([str(c) for c in X.columns], axis=1)[names]
    else:
        names = None
    values = check_array(X, dtype=np.float64, input_name="X")
    n_expected = getattr(model, "n_features_in_", None)
    if n_expected is not None and values.shape[1] != n_expected:
        raise ValueError(f"X has {values.shape[1]} features but the model was fitted on {n_expected}")
    if feature_names is not None:
        from kmeanskit._presentation.plotting import check_feature_names

        names = check_feature_names(feature_names, values.shape[1])
        if model_names is not None and names != [str(n) for n in model_names]:
            raise ValueError(
                f"feature_names {names} differ from the names the model was fitted with "
                f"{[str(n) for n in model_names]}"
            )
    elif names is None:
        names = [str(n) for n in model_names] if model_names is not None else [f"x{i}" for i in range(values.shape[1])]
    if len(set(names)) != len(names):
        raise ValueError(f"feature names must be unique, got {names}")
    return pd.DataFrame(values, columns=names)


def _check_labels_true(labels_true, n_samples: int) -> np.ndarray:
    labels = np.asarray(labels_true)
    if labels.ndim != 1:
        raise ValueError(f"labels_true must be 1-dimensional, got an array of shape {labels.shape}")
    if len(labels) != n_samples:
        raise ValueError(f"labels_true has {len(labels)} entries but X has {n_samples} rows")
    if pd.isna(labels).any():
        raise ValueError(f"labels_true has {int(pd.isna(labels).sum())} missing values")
    return labels


def _selection_template(kmeans):
    """An unfitted copy of the model's estimator, for select_k to refit per k."""
    from sklearn.base import clone

    return clone(kmeans)


# --------------------------------------------------------------------------- sections


def _data_section(ctx) -> str:
    frame = ctx.frame
    described = frame.describe().T
    described.insert(0, "feature", described.index)
    described = described.drop(columns="count")
    return "".join([
        _kv([("rows", f"{len(frame):,}"), ("features", str(frame.shape[1]))]),
        "<h3>Features (original units)</h3>",
        html_table(described, index=False, scale_by="row"),
    ])


def _model_section(ctx) -> str:
    kmeans = ctx.kmeans
    steps = [type(step).__name__ for step in preprocessing_steps(ctx.model)]
    items = [
        ("estimator", type(kmeans).__name__),
        ("clusters (k)", str(int(kmeans.n_clusters))),
        ("preprocessing", ", ".join(steps) if steps else "none (original units)"),
    ]
    for attribute, name in (("algorithm", "algorithm"), ("n_init", "restarts (n_init)"),
                            ("random_state", "random_state")):
        value = getattr(kmeans, attribute, None)
        if value is not None and not hasattr(value, "rand"):
            items.append((name, str(value)))
    if hasattr(kmeans, "n_iter_"):
        items.append(("iterations", str(int(kmeans.n_iter_))))
    return _kv(items) + (
        '<p class="note">Distances (inertia, silhouette, the choice of k) are measured in the space the '
        f"model clusters in{' (after ' + html.escape(', '.join(steps)) + ')' if steps else ''}; centers and "
        "profiles are in the original units.</p>"
    )


def _selection_section(selection, chosen_k: int, *, cost: bool = False) -> str:
    """select_k's answer, each method's k, the table and plots; with `cost`, the inertia column is the model's
    cost (KPrototypes, KModes) and named so in the table."""
    from kmeanskit._presentation.plotting import plot_elbow, plot_selection

    table = selection.table.rename(columns={"inertia": "cost"}) if cost else selection.table.copy()
    ks = list(table.index)
    recommended = {m: k for m, k in dict(selection.recommended or {}).items()}
    parts = []
    best_k = getattr(selection, "best_k", None)
    if best_k is not None:
        parts.append(f'<p class="answer"><strong>Best k</strong>: {html.escape(selection.reason)}</p>')
    if recommended:
        parts.append(_kv([(_METHOD_NAMES.get(m, m), "no clear choice" if k is None else f"k = {int(k)}")
                          for m, k in recommended.items()]))
    table.insert(0, "k", ks)
    parts.append('<div class="scroll">' + html_table(table, index=False, highlight_rows=[
        i for i, k in enumerate(ks) if int(k) == int(chosen_k)]) + "</div>")
    parts.append(f'<p class="note">The highlighted row is the k of this model ({int(chosen_k)}).</p>')
    criteria = [c for c in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap",
                            "prediction_strength") if c in selection.table.columns]
    if criteria:
        fig, axes = _figure(len(criteria), ncols=min(3, len(criteria)), panel=(4.2, 3.4))
        plot_selection(selection, ax=axes)
        parts.append(_img(fig, "The k-selection criteria against k, with each method's recommended k dashed",
                          "Each criterion against k; dashed lines mark each method's recommended k."))
    if "inertia" in selection.table.columns:
        fig, (ax,) = _figure(1, panel=(6.5, 4))
        plot_elbow(selection, ax=ax)
        parts.append(_img(fig, "Inertia against k with the knee marked and the fit time",
                          "Elbow: inertia against k (knee by Kneedle), fit time on the right axis."))
    return "".join(parts)


_METHOD_NAMES = {
    "elbow": "elbow (Kneedle)",
    "silhouette": "silhouette (highest)",
    "calinski_harabasz": "Calinski-Harabasz (highest)",
    "davies_bouldin": "Davies-Bouldin (lowest)",
    "gap": "gap statistic (Tibshirani)",
    "prediction_strength": "prediction strength (Tibshirani & Walther)",
}


def _clusters_section(ctx) -> str:
    from kmeanskit._analysis.profiles import centers_in_original_units, feature_separation, profile_clusters
    from kmeanskit._presentation.plotting import plot_clusters, plot_profiles

    frame, labels, k = ctx.frame, ctx.labels, int(ctx.kmeans.n_clusters)
    sizes = np.bincount(labels, minlength=k)
    try:
        centers = np.asarray(centers_in_original_units(ctx.model), dtype=np.float64)
        centers_note = ""
    except TypeError:  # a preprocessing step without inverse_transform
        centers = np.array([frame.to_numpy()[labels == c].mean(axis=0) if sizes[c] else
                            np.full(frame.shape[1], np.nan) for c in range(k)])
        centers_note = ("<p class=\"note\">A preprocessing step cannot be inverted, so the centers shown are "
                        "the means of each cluster's rows in original units.</p>")
    overview = pd.DataFrame(centers, columns=frame.columns)
    overview.insert(0, "share", sizes / len(labels))
    overview.insert(0, "size", sizes)
    overview.insert(0, "cluster", np.arange(k))
    parts = [
        "<h3>Sizes and centers (original units)</h3>",
        '<div class="scroll">' + html_table(overview, index=False, percent=("share",)) + "</div>",
        centers_note,
    ]
    profile = profile_clusters(frame, labels)
    parts += _profile_tables(profile)

    sample = ctx.sample(_SCATTER_SAMPLE)
    rows = slice(None) if sample is None else sample
    note = "" if sample is None else f" A random sample of {len(sample):,} of {len(labels):,} rows is shown."
    fig, (ax,) = _figure(1, panel=(7, 5.5))
    if frame.shape[1] == 2:
        plot_clusters(frame.iloc[rows], labels[rows], centers=centers, ax=ax, model=ctx.model)
        caption = "The rows in original units, coloured by cluster; shading: the region each cluster claims."
    else:
        plot_clusters(ctx.Xt[rows], labels[rows], centers=np.asarray(ctx.kmeans.cluster_centers_), ax=ax)
        caption = ("The rows coloured by cluster, in the model's space"
                   + (" projected on its first two principal components; shading: nearest projected center."
                      if frame.shape[1] > 2 else "."))
    parts += ["<h3>Scatter plot</h3>", _img(fig, "Scatter plot of the rows coloured by cluster", caption + note)]

    separation = feature_separation(profile)
    shown = min(_MAX_PROFILE_PLOTS, frame.shape[1])
    fig, axes = _figure(shown, ncols=min(4, shown), panel=(3.2 + 0.3 * min(k, 10), 2.8))
    plot_profiles(frame, labels, ax=axes, max_features=shown)
    why = "eta squared, the share of a feature's variance that lies between the clusters (table above)"
    if shown == frame.shape[1]:
        caption = f"Each feature's distribution per cluster (original units), by {why}, largest first."
    else:
        caption = (f"The distribution per cluster (original units) of the {shown} of {frame.shape[1]} features "
                   f"that separate the clusters most: those with the largest {why}. Shown, strongest first: "
                   + ", ".join(map(str, separation.index[:shown])) + ".")
    parts += ["<h3>Feature distributions</h3>",
              _img(fig, "Box plots of the features that separate the clusters most, per cluster", caption)]
    return "".join(parts)


def _profile_tables(profile: pd.DataFrame) -> list[str]:
    """The tidy profile of :func:`kmeanskit.profile_clusters` as two readable tables."""
    from kmeanskit._analysis.profiles import feature_separation

    features = list(dict.fromkeys(profile.index.get_level_values("feature")))
    tests = feature_separation(profile).rename(columns={
        "eta_squared": "eta squared", "anova_f": "ANOVA F", "anova_p": "ANOVA p", "kruskal_p": "Kruskal-Wallis p"})
    tests.insert(0, "feature", tests.index)
    stats = {}
    for cluster in dict.fromkeys(profile.index.get_level_values("cluster")):
        part = profile.xs(cluster, level="cluster").loc[features]
        for column in ("mean", "std", "median"):
            stats[f"cluster {cluster} {column}"] = part[column].to_numpy()
    wide = pd.DataFrame(stats)
    wide.insert(0, "feature", features)
    return [
        "<h3>Which features separate the clusters</h3>",
        '<p class="note">Eta squared (the share of the feature\'s variance that lies between the clusters, 0 to '
        "1), the one-way ANOVA F statistic and p-value, and the Kruskal-Wallis p-value (no normality assumed) "
        "of each feature across the clusters; strongest first. K-Means makes clusters differ, so small "
        "p-values are expected: read eta squared as a ranking, not as a test.</p>",
        '<div class="scroll">' + html_table(tests.reset_index(drop=True), index=False) + "</div>",
        "<h3>Per-cluster statistics (original units)</h3>",
        '<p class="note">Mean, standard deviation and median of each feature within each cluster.</p>',
        '<div class="scroll">' + html_table(wide, index=False, scale_by="row") + "</div>",
    ]


def _explanations_section(ctx) -> str:
    """Per cluster: its description and rule (:func:`kmeanskit.explain_clusters`), the tree's quality."""
    from kmeanskit._analysis.explain import explain_clusters
    from kmeanskit._analysis.explain.explanation import COST_NOTE, LEVEL_NOTE, MIXED_COST_NOTE, SD_NOTE, TEST_NOTE

    rows = ctx.model_input
    complete = ~pd.DataFrame(rows).isna().to_numpy().any(axis=1)
    if not complete.all():  # (a model of rows with gaps)
        if not complete.any():
            return ('<p class="note">Not explained: every row has a missing value, and the differences and '
                    "rules need every value of a row.</p>")
        rows = rows[complete]
    try:
        explanation = explain_clusters(ctx.model, rows, feature_names=list(ctx.frame.columns))
    except ValueError as exc:  # e.g. a pipeline whose steps explain_clusters cannot read
        return f'<p class="note">Not explained: {html.escape(str(exc))}</p>'
    k = explanation.n_clusters
    overview = pd.DataFrame({
        "cluster": np.arange(k),
        "size": explanation.sizes,
        "what sets it apart": explanation.descriptions,
        "rule": [rule if rule is not None else "none (no leaf gives it)" for rule in explanation.rules],
    })
    top = explanation.differences.groupby(level="cluster", sort=True).head(3).reset_index()
    if "level" in top.columns:  # a categorical column: its level, and shares for means
        top["feature"] = [f if not isinstance(level, str) else f"{f} = {level}"
                          for f, level in zip(top["feature"], top["level"], strict=True)]
    top = top[["cluster", "feature", "cluster_mean", "rest_mean", "difference", "difference_sd", "p_value"]]
    top.columns = ["cluster", "feature", "cluster mean", "others' mean", "difference", "difference (sd)", "Welch p"]
    mixed = bool(explanation.categorical)
    name = explanation.estimator if mixed else "K-Means"
    quality = [
        ("rules", f"a threshold tree ({explanation.method}, {explanation.n_leaves} leaves), in "
                  f"{explanation.rule_space}"),
        ("fidelity", f"{100 * explanation.fidelity:.1f}% of rows get their {name} cluster from the rules"),
        ("cost ratio", f"{_fmt(explanation.cost_ratio)} (the rules' {'cost' if mixed else 'k-means cost'} / "
                       f"{name}' {'cost' if mixed else 'inertia'}; 1 is as good)"),
    ]
    if len(rows) < len(ctx.model_input):
        quality.append(("rows explained", f"the {len(rows):,} of {len(ctx.model_input):,} rows without missing "
                                          "values (differences and rules need every value of a row)"))
    cost_note = MIXED_COST_NOTE.format(name=name) if mixed else COST_NOTE
    notes = [explanation.rule_space_note, cost_note + ".", SD_NOTE + ".", LEVEL_NOTE + "." if mixed else None,
             TEST_NOTE]
    return "".join([
        '<div class="scroll">' + html_table(overview, index=False) + "</div>",
        _kv(quality),
        "".join(f'<p class="note">{html.escape(note)}</p>' for note in notes if note),
        "<h3>Strongest differences from the other rows (original units)</h3>",
        '<div class="scroll">' + html_table(top, index=False) + "</div>",
    ])


def _silhouette_section(ctx) -> str:
    from kmeanskit._presentation.plotting import _silhouette_samples

    n_labels = len(np.unique(ctx.labels))
    if not 2 <= n_labels <= len(ctx.labels) - 1:
        return f'<p class="note">The silhouette is undefined with {n_labels} non-empty cluster(s).</p>'
    return _silhouette_diagram(
        ctx, lambda rows: _silhouette_samples(ctx.Xt[rows], ctx.labels[rows], "euclidean"), "Silhouette diagram",
        "Each band is a cluster, its rows sorted by silhouette (from -1, misplaced, to 1, well placed); "
        "the dashed line is the average. Clusters whose band stays left of it, or bands of very "
        "different thickness, suggest another k.")


def _silhouette_diagram(ctx, values_of, alt, caption) -> str:
    """The silhouette diagram of ``values_of(rows)``, the silhouette values of those rows (on a seeded sample
    of large data), or a note when they are undefined (a ValueError's message)."""
    from kmeanskit._presentation.plotting import draw_silhouette

    sample = ctx.sample(_SILHOUETTE_PLOT_SAMPLE)
    rows = slice(None) if sample is None else sample
    if sample is not None and len(np.unique(ctx.labels[rows])) < 2:
        return '<p class="note">The silhouette diagram is undefined on the sample drawn.</p>'
    try:
        values = np.asarray(values_of(rows), dtype=np.float64)
    except ValueError as exc:
        return f'<p class="note">{html.escape(str(exc))}</p>'
    fig, (ax,) = _figure(1, panel=(7, 5))
    draw_silhouette(values, ctx.labels[rows], ax=ax)
    note = "" if sample is None else f" Computed on a random sample of {len(sample):,} of {len(ctx.labels):,} rows."
    return _img(fig, alt, caption + note)


def _metrics_section(ctx) -> str:
    found = ctx.metrics
    rows: list[tuple[str, str, str]] = [
        ("inertia", _fmt(found["inertia"]), "within-cluster sum of squared distances (lower is tighter)"),
    ]
    if found["silhouette"] is None:
        rows.append(("silhouette, Calinski-Harabasz, Davies-Bouldin", "n/a", found["silhouette_note"]))
    else:
        note = found["silhouette_note"]
        rows += [
            ("silhouette", _fmt(found["silhouette"]),
             "from -1 to 1, higher is better separated" + (f"; {note}" if note else "")),
            ("Calinski-Harabasz", _fmt(found["calinski_harabasz"]),
             "between- over within-cluster dispersion, higher is better"),
            ("Davies-Bouldin", _fmt(found["davies_bouldin"]),
             "average similarity of each cluster with its closest one, lower is better (0 is best)"),
        ]
    return html_table(pd.DataFrame(rows, columns=["metric", "value", "meaning"]), index=False)


def _classes_section(ctx) -> str:
    from kmeanskit._presentation.plotting import plot_contingency

    found = ctx.metrics
    rows = [
        ("adjusted Rand index (ARI)", _fmt(found["adjusted_rand"]),
         "agreement on pairs of rows: 0 for chance, 1 for identical partitions"),
        ("normalized mutual information (NMI)", _fmt(found["normalized_mutual_info"]),
         "shared information, 0 to 1"),
        ("purity", _fmt(found["purity"]),
         "share of rows in their cluster's majority class, 0 to 1 (rises with k)"),
    ]
    table = found["contingency"]
    shown = table.copy()
    shown.index = [str(c) for c in shown.index]
    shown.index.name = "true class"
    shown.columns = [f"cluster {c}" for c in shown.columns]
    n_classes, n_clusters = table.shape
    fig, (ax,) = _figure(1, panel=(max(4.0, 0.55 * n_clusters + 2.5), max(3.0, 0.45 * n_classes + 1.8)))
    plot_contingency(ctx.labels_true, ctx.labels, ax=ax)
    return "".join([
        html_table(pd.DataFrame(rows, columns=["metric", "value", "meaning"]), index=False),
        "<h3>Contingency matrix</h3>",
        '<div class="scroll">' + html_table(shown, index=True) + "</div>",
        _img(fig, "Heatmap of rows per class and cluster",
             "Rows of each known class (row) in each cluster (column)."),
    ])


# --------------------------------------------------------------------------- HTML


def _page(title: str, sections, seconds: float, n_rows: int) -> str:
    from kmeanskit import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{key}">{html.escape(name)}</a>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{html.escape(name)}</h2>{content}</section>'
                   for key, name, content in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        # Nothing may be fetched: images are data: URIs, styles inline, no scripts.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1>"
        f"<p class=\"meta\">{n_rows:,} rows &middot; made by kmeanskit {html.escape(__version__)} on "
        f"{html.escape(stamp)} in {seconds:.1f} s</p><nav>{nav}</nav></header>\n"
        f"<main>{body}</main>\n</body>\n</html>\n"
    )


def _stability_section(result) -> str:
    table = result.clusters.rename(columns={"mean_jaccard": "mean Jaccard"})
    return (
        '<div class="scroll">' + html_table(table, index=False) + "</div>"
        + f'<p class="note">Each cluster\'s mean Jaccard similarity to its best match when {result.n_boot} '
        f"resamples are clustered afresh ({html.escape(result.note)}; Hennig 2007, R's fpc::clusterboot). "
        "Below 0.6 the cluster dissolves (not a real group), 0.6-0.75 a pattern with doubtful "
        "membership, from 0.75 valid, from 0.85 highly stable; dissolved and recovered count the resamples "
        "with a Jaccard similarity of at most 0.5 and above 0.75.</p>"
    )


def _drift_section(report) -> str:
    from kmeanskit._analysis.monitoring.drift import text_cells

    parts = [f"<p><strong>{html.escape(report.headline)}</strong></p>",
             _kv([("new rows", f"{report.n_new:,}"),
                  ("reference", f"{report.n_reference:,} rows ({report.reference_source})")])]
    if report.features is None:
        parts.append(f'<p class="note">{html.escape(report.features_note or "")}</p>')
    else:
        parts.append('<div class="scroll">' + html_table(text_cells(report.features), index=False,
                                                      percent=("train_missing", "new_missing")) + "</div>")
        parts.append('<p class="note">Each feature of the new rows against the training rows, strongest shift '
                     "first: the shift of its mean in original units and in training standard deviations, "
                     "the PSI of its training decile bins and the chi-square p-value; drifted: PSI "
                     f"above {report.psi_threshold:g} and p below {report.alpha:g} / the number of features). "
                     "Clusters: those whose rows' mean of the feature moved by at least 0.2 training sd.</p>")
    if report.categories is not None:
        parts.append('<div class="scroll">' + html_table(text_cells(report.categories), index=False, percent=(
            "train_share", "new_share", "train_missing", "new_missing")) + "</div>")
        parts.append('<p class="note">Each categorical column of the new rows against the training rows: the PSI '
                     "of its level shares among the observed entries and the chi-square p-value; the level whose "
                     "share moved most; the levels the training rows never had (unseen).</p>")
    parts.append('<div class="scroll">' + html_table(report.clusters, index=False,
                                                  percent=("train_share", "new_share")) + "</div>")
    return "".join(parts)


def _kv(items) -> str:
    rows = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in items)
    return f'<dl class="kv">{rows}</dl>'


def _fmt(value) -> str:
    """A metric's value: four significant digits, thousands grouped."""
    return format_number(value, thousands=True)


def _figure(n_panels: int, *, ncols: int = 1, panel=(6.0, 4.0)):
    """A figure of `n_panels` Axes, made without pyplot (no global state, nothing to close)."""
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    grid = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for extra in grid[n_panels:]:
        fig.delaxes(extra)
    return fig, list(grid[:n_panels])


def _img(fig, alt: str, caption: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, facecolor="white")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    width, height = (int(round(v * _DPI)) for v in fig.get_size_inches())
    return (f'<figure><img src="data:image/png;base64,{data}" width="{width}" height="{height}" '
            f'alt="{html.escape(alt)}"><figcaption>{html.escape(caption)}</figcaption></figure>')
