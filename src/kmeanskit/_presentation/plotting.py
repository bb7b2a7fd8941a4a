"""Plots for choosing k and judging clusters (matplotlib, the optional extra ``plot``).

Every function draws on the Axes it is given (``ax=``) or, without one, on a
new figure, and returns what it drew on, so plots compose with the user's own
figures. Nothing here picks a matplotlib backend or changes global settings:
:mod:`matplotlib.pyplot` is imported only when a function needs a new figure.

Artists that carry meaning have a ``gid`` (kept in SVG output as element
ids), e.g. ``"knee"``, ``"recommended-silhouette"``, ``"silhouette-average"``,
``"centers"``, ``"decision-regions"``.

Examples
--------
>>> from kmeanskit.plotting import plot_clusters, plot_silhouette  # doctest: +SKIP
>>> plot_silhouette(X, km.labels_)                                  # doctest: +SKIP
>>> plot_clusters(X, km.labels_, model=km)                          # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = [
    "plot_categories",
    "plot_clusters",
    "plot_contingency",
    "plot_elbow",
    "plot_profiles",
    "plot_selection",
    "plot_silhouette",
]

_MISSING_MATPLOTLIB = "kmeanskit.plotting needs matplotlib: pip install 'kmeanskit[plot]'"

# Selection criteria in the order select_k's table lists them:
# column -> (panel title, method name in SelectKResult.recommended, how to read it).
_CRITERIA = {
    "inertia": ("Elbow: inertia", "elbow", "lower; the knee of the curve"),
    "silhouette": ("Silhouette", "silhouette", "higher is better"),
    "calinski_harabasz": ("Calinski-Harabasz", "calinski_harabasz", "higher is better"),
    "davies_bouldin": ("Davies-Bouldin", "davies_bouldin", "lower is better"),
    "gap": ("Gap statistic", "gap", "the k of its maxSE rule (clusGap)"),
    "prediction_strength": ("Prediction strength", "prediction_strength", "largest k at or above 0.8"),
}

# Above this many cells a heatmap's numbers would be unreadable; colours remain.
_MAX_ANNOTATED_CELLS = 400
_GRID_POINTS = 300


# --------------------------------------------------------------------------- helpers


def require_matplotlib():
    """Import matplotlib (no backend is chosen here), or say how to install it."""
    try:
        import matplotlib
        import matplotlib.colors  # noqa: F401 - used through the module
    except ImportError as exc:
        raise ImportError(_MISSING_MATPLOTLIB) from exc
    return matplotlib


def _pyplot():
    """:mod:`matplotlib.pyplot`, needed only to make new figures."""
    require_matplotlib()
    import matplotlib.pyplot as plt

    return plt


def _new_axes(nrows: int = 1, ncols: int = 1, *, figsize=None):
    plt = _pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    return fig, axes.ravel()


def _is_axes(obj) -> bool:
    require_matplotlib()
    from matplotlib.axes import Axes

    return isinstance(obj, Axes)


def _check_ax(ax, name: str = "ax"):
    if ax is not None and not _is_axes(ax):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _axes_list(ax, needed: int, what: str) -> list | None:
    """A sequence of at least `needed` Axes from `ax`, or None when `ax` is None or one Axes."""
    if ax is None or _is_axes(ax):
        return None
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if not all(_is_axes(a) for a in axes):
        raise TypeError(f"ax must be a matplotlib Axes, a sequence of Axes or None; got {type(ax).__name__}")
    if len(axes) < needed:
        raise ValueError(f"ax has {len(axes)} Axes but {needed} are needed, one per {what}")
    return axes[:needed]


def _cluster_colors(n: int) -> list:
    """`n` distinct colours: tab10, tab20, then evenly spaced hues."""
    mpl = require_matplotlib()
    if n <= 10:
        cmap = mpl.colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    if n <= 20:
        cmap = mpl.colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    cmap = mpl.colormaps["hsv"]
    return [cmap(i / n) for i in range(n)]


def _is_selection(obj) -> bool:
    return hasattr(obj, "table") and hasattr(obj, "recommended")


def _check_labels(labels, n_samples: int | None = None, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {labels.shape}")
    if n_samples is not None and len(labels) != n_samples:
        raise ValueError(f"{name} has {len(labels)} entries but X has {n_samples} rows")
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return labels


def check_feature_names(feature_names, n_columns: int) -> list[str]:
    """`feature_names` (a sequence, one name per column of X) as a list of str."""
    if isinstance(feature_names, str):
        raise TypeError("feature_names must be a sequence of names, not a single string")
    names = [str(n) for n in feature_names]
    if len(names) != n_columns:
        raise ValueError(f"feature_names has {len(names)} names but X has {n_columns} columns")
    return names


def _feature_matrix(X, feature_names=None) -> tuple[np.ndarray, list[str]]:
    """X as a finite 2-D float array and the name of each column."""
    names = None
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
    X = check_array(X, dtype=np.float64, ensure_min_samples=1, input_name="X")
    if feature_names is not None:
        names = check_feature_names(feature_names, X.shape[1])
    if names is None:
        names = [f"x{i}" for i in range(X.shape[1])]
    return X, names


def _label_text(value) -> str:
    return str(value.item() if isinstance(value, np.generic) else value)


def _mark_k(ax, k, *, gid: str, label: str, color="C3"):
    line = ax.axvline(k, color=color, linestyle="--", linewidth=1.5, label=label)
    line.set_gid(gid)
    return line


# --------------------------------------------------------------------------- choosing k


def _curve(values, name: str, n: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) != n:
        raise ValueError(f"{name} must be 1-dimensional with one value per k ({n}), got shape {values.shape}")
    return values


def _check_ks(ks) -> np.ndarray:
    ks = np.asarray(list(ks) if not hasattr(ks, "__array__") else ks)
    if ks.ndim != 1 or len(ks) == 0:
        raise ValueError(f"ks must be a non-empty 1-dimensional sequence of integers, got shape {ks.shape}")
    if ks.dtype.kind not in "iu" and not (ks.dtype.kind == "f" and np.all(ks == np.round(ks))):
        raise ValueError(f"ks must hold integers, got {ks.tolist()!r}")
    ks = ks.astype(np.int64)
    if np.any(ks < 1) or np.any(np.diff(ks) <= 0):
        raise ValueError(f"ks must be increasing integers of at least 1, got {ks.tolist()}")
    return ks


def plot_elbow(result_or_ks, inertia=None, *, knee=None, fit_seconds=None, ax=None):
    """Plot inertia against k with the knee marked, and fit time on a second axis.

    Parameters
    ----------
    result_or_ks : SelectKResult or array-like of shape (n_ks,)
        A result of :func:`kmeanskit.select_k` whose table has an
        ``inertia`` column (its knee and fit times are used unless given), or
        the values of k.
    inertia : array-like of shape (n_ks,), optional
        Inertia for each k; required when `result_or_ks` holds the ks, and
        must be None with a result.
    knee : int, optional
        The k to mark, one of the ks (e.g. from Kneedle). With a result, its
        ``recommended["elbow"]`` by default.
    fit_seconds : array-like of shape (n_ks,), optional
        Fit time of each k, drawn on a twin y axis.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
        The Axes of the inertia curve (the fit time is on ``ax.twinx()``).
    """
    require_matplotlib()
    _check_ax(ax)
    if _is_selection(result_or_ks):
        if inertia is not None:
            raise ValueError("inertia must be None when a SelectKResult is given: it comes from the result")
        table = result_or_ks.table
        if "inertia" not in table.columns:
            raise ValueError("the SelectKResult has no 'inertia' column: run select_k with 'elbow' in methods")
        ks = _check_ks(table.index.to_numpy())
        inertia = table["inertia"].to_numpy(dtype=np.float64)
        if knee is None:
            knee = result_or_ks.recommended.get("elbow")
        if fit_seconds is None and "fit_seconds" in table.columns:
            fit_seconds = table["fit_seconds"].to_numpy(dtype=np.float64)
    else:
        if inertia is None:
            raise ValueError("inertia is required when result_or_ks holds the values of k")
        ks = _check_ks(result_or_ks)
    inertia = _curve(inertia, "inertia", len(ks))
    if knee is not None and int(knee) not in set(ks.tolist()):
        raise ValueError(f"knee must be one of the ks {ks.tolist()}, got {knee!r}")
    if ax is None:
        _, (ax,) = _new_axes(figsize=(6, 4))

    (curve,) = ax.plot(ks, inertia, "o-", color="C0", label="inertia")
    curve.set_gid("inertia")
    handles = [curve]
    if knee is not None:
        knee = int(knee)
        handles.append(_mark_k(ax, knee, gid="knee", label=f"knee: k = {knee}"))
        ax.plot([knee], [inertia[list(ks).index(knee)]], "o", markersize=12, markerfacecolor="none",
                markeredgecolor="C3", markeredgewidth=2)
    if fit_seconds is not None:
        seconds = _curve(fit_seconds, "fit_seconds", len(ks))
        twin = ax.twinx()
        (timing,) = twin.plot(ks, seconds, "s:", color="C2", alpha=0.8, label="fit time")
        timing.set_gid("fit-seconds")
        twin.set_ylabel("fit time (s)", color="C2")
        twin.tick_params(axis="y", colors="C2")
        # Keep the times in the lower half, below the legend and the start of the inertia curve.
        twin.set_ylim(0, 2.0 * max(float(np.nanmax(seconds)), 1e-9))
        handles.append(timing)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("inertia (within-cluster sum of squares)")
    ax.set_xticks(ks)
    ax.set_title("Elbow method" + (f": knee at k = {knee}" if knee is not None else ""))
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    return ax


def plot_selection(result, ax=None):
    """Plot every k-selection criterion of a :func:`~kmeanskit.select_k` result.

    One panel per criterion in the result's table (inertia, silhouette,
    Calinski-Harabasz, Davies-Bouldin, gap with its standard error), each
    with the k its method recommends marked by a dashed line.

    Parameters
    ----------
    result : SelectKResult
        What :func:`kmeanskit.select_k` returned.
    ax : matplotlib Axes, sequence of Axes, or None
        None: a new figure with one Axes per criterion. A sequence: one Axes
        per criterion, in table order. A single Axes: every criterion scaled
        to [0, 1] (0 the worst k, 1 the best) on it, recommended ks as
        markers.

    Returns
    -------
    ax : matplotlib Axes or ndarray of Axes
        The single Axes given, or the Axes of the panels in table order.
    """
    require_matplotlib()
    if not _is_selection(result):
        raise TypeError(f"result must be a SelectKResult from select_k, got {type(result).__name__}")
    table = result.table
    columns = [c for c in _CRITERIA if c in table.columns]
    if not columns:
        raise ValueError(
            f"the SelectKResult has none of the criteria {', '.join(_CRITERIA)} in its table "
            f"(columns: {', '.join(map(str, table.columns)) or 'none'})"
        )
    if len(table) == 0:
        raise ValueError("the SelectKResult's table has no rows")
    ks = _check_ks(table.index.to_numpy())
    recommended = dict(result.recommended or {})

    if ax is not None and _is_axes(ax):
        return _plot_selection_overlay(ax, result, ks, columns, recommended)
    axes = _axes_list(ax, len(columns), "criterion")
    if axes is None:
        ncols = min(len(columns), 3)
        nrows = math.ceil(len(columns) / ncols)
        fig, grid = _new_axes(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows))
        for extra in grid[len(columns):]:
            fig.delaxes(extra)
        axes = list(grid[: len(columns)])

    for panel, column in zip(axes, columns, strict=True):
        title, method, reading = _CRITERIA[column]
        values = table[column].to_numpy(dtype=np.float64)
        if column == "gap" and "gap_se" in table.columns:
            container = panel.errorbar(ks, values, yerr=table["gap_se"].to_numpy(dtype=np.float64), fmt="o-",
                                       color="C0", capsize=3, label=column)
            container.lines[0].set_gid(column)
        else:
            (line,) = panel.plot(ks, values, "o-", color="C0", label=column)
            line.set_gid(column)
        k = recommended.get(method)
        if k is not None:
            _mark_k(panel, int(k), gid=f"recommended-{method}", label=f"k = {int(k)}")
            panel.legend(loc="best", fontsize="small")
        panel.set_title(f"{title}\n({reading})", fontsize="medium")
        panel.set_xlabel("k")
        panel.set_xticks(ks)
        panel.set_ylabel(column.replace("_", " "))
    _mark_best_k(axes, getattr(result, "best_k", None), ks)
    return np.asarray(axes, dtype=object)


def _mark_best_k(axes, best_k, ks):
    """A solid line at the answer of select_k on every panel, and the answer in the figure's title."""
    if best_k is None:
        return
    for panel in axes:
        if int(best_k) in ks:
            panel.axvline(int(best_k), color="black", linewidth=2.0, alpha=0.35).set_gid("best-k")
    text = "best k = 1: no cluster structure" if int(best_k) == 1 else f"best k = {int(best_k)}"
    axes[0].figure.suptitle(f"{text} (solid line)" if int(best_k) in ks else text, fontweight="bold")


def _plot_selection_overlay(ax, result, ks, columns, recommended):
    """All criteria on one Axes, each min-max scaled to [0, 1] over the ks."""
    table = result.table
    for i, column in enumerate(columns):
        title, method, reading = _CRITERIA[column]
        values = table[column].to_numpy(dtype=np.float64)
        low, high = np.nanmin(values), np.nanmax(values)
        scaled = np.zeros_like(values) if high == low else (values - low) / (high - low)
        color = f"C{i}"
        (line,) = ax.plot(ks, scaled, "o-", color=color, label=f"{title} ({reading.split(';')[0]})")
        line.set_gid(column)
        k = recommended.get(method)
        if k is not None and int(k) in ks:
            (mark,) = ax.plot([int(k)], [scaled[list(ks).index(int(k))]], "*", markersize=16, color=color,
                              markeredgecolor="black")
            mark.set_gid(f"recommended-{method}")
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("criterion, scaled to [0, 1] over the ks")
    ax.set_xticks(ks)
    ax.set_title("Choosing k (stars: recommended k)")
    ax.legend(loc="best", fontsize="small")
    _mark_best_k([ax], getattr(result, "best_k", None), ks)
    return ax


# --------------------------------------------------------------------------- judging clusters


def _silhouette_samples(X, labels, metric):
    from kmeanskit._analysis.metrics import silhouette_samples

    return silhouette_samples(X, labels, metric=metric)


def plot_silhouette(X, labels, *, ax=None, metric="euclidean"):
    """Draw the silhouette diagram: each cluster's sorted silhouette values.

    As in scikit-learn's example "Selecting the number of clusters with
    silhouette analysis": one filled band per cluster (its rows sorted by
    silhouette, band height = cluster size) and a dashed red line at the
    average silhouette. Bands that fall short of the line, or thin bands,
    point to a poor k.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data in the space the clustering ran in (e.g. after scaling).
        The cost is quadratic in n_samples: pass a sample of large data.
    labels : array-like of shape (n_samples,)
        Cluster of each row; 2 to n_samples - 1 distinct values.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    metric : str or callable, default="euclidean"
        Distance, as in :func:`sklearn.metrics.silhouette_samples`.

    Returns
    -------
    ax : matplotlib Axes
        One ``PolyCollection`` per cluster in ``ax.collections`` (in sorted
        label order) and the average line with gid ``"silhouette-average"``.
    """
    require_matplotlib()
    _check_ax(ax)
    X, _ = _feature_matrix(X)
    labels = _check_labels(labels, X.shape[0])
    classes = np.unique(labels)
    if not 2 <= len(classes) <= X.shape[0] - 1:
        raise ValueError(
            f"the silhouette needs 2 to n_samples - 1 = {X.shape[0] - 1} distinct labels, got {len(classes)}"
        )
    values = np.asarray(_silhouette_samples(X, labels, metric), dtype=np.float64)
    return draw_silhouette(values, labels, ax=ax)


def draw_silhouette(values, labels, *, ax=None):
    """Draw the silhouette diagram of :func:`plot_silhouette` from the silhouette values of the rows
    (computed under any dissimilarity, e.g. :func:`kmeanskit.metrics.mixed_silhouette_samples`).

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
        Each row's silhouette coefficient.
    labels : ndarray of shape (n_samples,)
        Each row's cluster; at least 2 distinct values.
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    average = float(values.mean())
    if ax is None:
        _, (ax,) = _new_axes(figsize=(6, 4.5))

    colors = _cluster_colors(len(classes))
    gap = max(2, round(0.02 * len(values)))
    y_lower = gap
    for color, cls in zip(colors, classes, strict=True):
        band = np.sort(values[labels == cls])
        y = np.arange(y_lower, y_lower + len(band))
        poly = ax.fill_betweenx(y, 0, band, facecolor=color, edgecolor=color, alpha=0.75)
        poly.set_gid(f"silhouette-cluster-{_label_text(cls)}")
        ax.text(-0.02, y_lower + 0.5 * len(band), _label_text(cls), ha="right", va="center", fontsize="small")
        y_lower += len(band) + gap
    line = ax.axvline(average, color="red", linestyle="--", label=f"average: {average:.3f}")
    line.set_gid("silhouette-average")
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    ax.set_ylim(0, y_lower)
    ax.set_yticks([])
    ax.set_xlabel("silhouette coefficient")
    ax.set_ylabel("cluster (band height = size)")
    ax.set_title(f"Silhouette of {len(classes)} clusters (average {average:.3f})")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def _model_centers(model, n_features: int):
    """Centers of `model` in the units of the data given to it, or None."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        from kmeanskit._analysis.profiles import centers_in_original_units

        try:
            centers = centers_in_original_units(model)
        except TypeError:  # a step without inverse_transform: no centers in the data's units
            return None
    else:
        centers = getattr(model, "cluster_centers_", None)
    if centers is None:
        return None
    centers = np.asarray(centers, dtype=np.float64)
    return centers if centers.ndim == 2 and centers.shape[1] == n_features else None


def plot_clusters(X, labels, centers=None, *, ax=None, decision_regions=True, model=None):
    """Scatter the rows coloured by cluster, with the centers marked.

    Two features are plotted as they are; more are projected on their first
    two principal components (PCA fitted on `X`, each axis labelled with the
    share of variance it explains); one feature is a strip plot per cluster.
    Decision regions are shaded behind the points: with two features and a
    `model`, from ``model.predict`` on a grid (exact); otherwise from the
    nearest (projected) center, which in PCA space is an approximation.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data, in the units `model` expects; DataFrame column names label
        the axes.
    labels : array-like of shape (n_samples,)
        Cluster of each row.
    centers : array-like of shape (n_clusters, n_features), optional
        Centers in the units of `X`; by default those of `model` (for a
        pipeline, mapped back to original units), if any. Center i gets the
        colour of label i.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    decision_regions : bool, default=True
        Shade the region each cluster would claim (needs `model` or centers).
    model : fitted estimator with ``predict``, optional
        E.g. a :class:`kmeanskit.KMeans` or a pipeline ending in one, fitted
        on data like `X`.

    Returns
    -------
    ax : matplotlib Axes
        One ``PathCollection`` per cluster (sorted label order), then the
        centers (gid ``"centers"``); the regions are an image (gid
        ``"decision-regions"``).
    """
    require_matplotlib()
    _check_ax(ax)
    frame_columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
    X, names = _feature_matrix(X)
    n_samples, n_features = X.shape
    labels = _check_labels(labels, n_samples)
    if model is not None and not hasattr(model, "predict"):
        raise TypeError(f"model must be a fitted estimator with a predict method, got {type(model).__name__}")
    if centers is None and model is not None:
        centers = _model_centers(model, n_features)
    if centers is not None:
        centers = check_array(centers, dtype=np.float64, input_name="centers")
        if centers.shape[1] != n_features:
            raise ValueError(f"centers has {centers.shape[1]} columns but X has {n_features}")

    # Colour index of each label: with centers and labels 0..k-1, label i is center i.
    if centers is not None and labels.dtype.kind in "iu" and len(labels) and labels.min() >= 0 \
            and labels.max() < len(centers):
        classes = np.arange(len(centers))
    else:
        classes = np.unique(labels)
    colors = _cluster_colors(len(classes))
    if ax is None:
        _, (ax,) = _new_axes(figsize=(6.5, 5))

    if n_features == 1:
        return _strip_plot(ax, X[:, 0], labels, classes, colors, centers, names[0])
    if n_features == 2:
        coords, coords_centers, pca = X, centers, None
        xlabel, ylabel = names
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=0).fit(X)
        coords = pca.transform(X)
        coords_centers = None if centers is None else pca.transform(centers)
        share = pca.explained_variance_ratio_
        xlabel = f"PC1 ({100 * share[0]:.1f}% of variance)"
        ylabel = f"PC2 ({100 * share[1]:.1f}% of variance)"

    if decision_regions and (coords_centers is not None or (model is not None and n_features == 2)):
        _shade_regions(ax, coords, coords_centers, classes, colors,
                       model=model if n_features == 2 else None, frame_columns=frame_columns)
    size = float(np.clip(2000 / max(n_samples, 1) ** 0.5, 2, 30))
    for color, cls in zip(colors, classes, strict=True):
        mask = labels == cls
        points = ax.scatter(coords[mask, 0], coords[mask, 1], s=size, color=color, alpha=0.8, linewidths=0,
                            label=f"cluster {_label_text(cls)} ({int(mask.sum())})")
        points.set_gid(f"cluster-{_label_text(cls)}")
    if coords_centers is not None:
        marks = ax.scatter(coords_centers[:, 0], coords_centers[:, 1], s=220, marker="X",
                           c=colors[: len(coords_centers)] if len(coords_centers) <= len(colors) else "black",
                           edgecolors="black", linewidths=1.5, label="centers", zorder=3)
        marks.set_gid("centers")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{len(np.unique(labels))} clusters" + (" (PCA projection)" if pca is not None else ""))
    if len(classes) <= 12:
        ax.legend(loc="best", fontsize="small", markerscale=max(1.0, 6 / size ** 0.5))
    return ax


def _shade_regions(ax, coords, centers, classes, colors, *, model, frame_columns):
    mpl = require_matplotlib()
    low, high = coords.min(axis=0), coords.max(axis=0)
    if centers is not None:
        low, high = np.minimum(low, centers.min(axis=0)), np.maximum(high, centers.max(axis=0))
    pad = 0.05 * np.where(high > low, high - low, 1.0)
    low, high = low - pad, high + pad
    gx = np.linspace(low[0], high[0], _GRID_POINTS)
    gy = np.linspace(low[1], high[1], _GRID_POINTS)
    grid = np.column_stack([np.repeat(gx[None, :], len(gy), 0).ravel(), np.repeat(gy, len(gx))])
    if model is not None:
        grid_input = pd.DataFrame(grid, columns=frame_columns) if frame_columns is not None and \
            getattr(model, "feature_names_in_", None) is not None else grid
        predicted = np.asarray(model.predict(grid_input))
    else:
        # Nearest center by squared distance in the plotted plane.
        d2 = ((grid[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        predicted = np.argmin(d2, axis=1)
    index = np.searchsorted(classes, predicted)
    known = (index < len(classes)) & (classes[np.minimum(index, len(classes) - 1)] == predicted)
    image = np.where(known, index, -1).astype(np.float64).reshape(len(gy), len(gx))
    image[image < 0] = np.nan
    cmap = mpl.colors.ListedColormap(colors)
    shaded = ax.imshow(image, extent=(low[0], high[0], low[1], high[1]), origin="lower", aspect="auto",
                       interpolation="nearest", cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, alpha=0.18,
                       zorder=0)
    shaded.set_gid("decision-regions")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])


def _strip_plot(ax, values, labels, classes, colors, centers, name):
    rng = np.random.default_rng(0)  # fixed jitter: the same data draw the same picture
    for position, (color, cls) in enumerate(zip(colors, classes, strict=True)):
        mask = labels == cls
        jitter = position + rng.uniform(-0.25, 0.25, int(mask.sum()))
        points = ax.scatter(values[mask], jitter, s=8, color=color, alpha=0.7, linewidths=0,
                            label=f"cluster {_label_text(cls)}")
        points.set_gid(f"cluster-{_label_text(cls)}")
    if centers is not None:
        marks = ax.scatter(centers[:, 0], np.arange(len(centers)), s=220, marker="X", c="black", label="centers",
                           zorder=3)
        marks.set_gid("centers")
    ax.set_yticks(range(len(classes)), [_label_text(c) for c in classes])
    ax.set_xlabel(name)
    ax.set_ylabel("cluster")
    ax.set_title(f"{len(np.unique(labels))} clusters")
    return ax


def plot_profiles(X, labels, *, feature_names=None, ax=None, max_features=None):
    """Box plots of each feature's distribution in each cluster.

    With `max_features`, only the features that separate the clusters most
    are drawn, strongest first: those with the largest eta squared, the
    share of the feature's variance that lies between the clusters (the
    one-way ANOVA's effect size, from :func:`kmeanskit.profile_clusters`).
    Each of their panels says so in its title (``income (eta² = 0.82)``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data, best in original units (the profile reads in them).
    labels : array-like of shape (n_samples,)
        Cluster of each row.
    feature_names : sequence of str, optional
        Name of each column; DataFrame columns or ``x0, x1, ...`` by default.
    ax : matplotlib Axes, sequence of Axes, or None
        None: a new figure with one Axes per feature (up to 4 per row). A
        sequence: one Axes per feature. A single Axes: all features on it,
        each standardised (z-scores over all rows) so that they share a
        scale, one box per cluster within each feature's group.
    max_features : int or None, default=None
        Draw at most this many features, those with the largest eta squared
        (strongest first); None draws every feature in X's order.

    Returns
    -------
    ax : matplotlib Axes or ndarray of Axes
        The single Axes given, or one Axes per feature drawn. Each box is a
        patch in ``ax.patches`` (``boxplot(patch_artist=True)``), one per
        cluster, and its median a line with gid ``"median"``.

    See Also
    --------
    kmeanskit.profile_clusters : the numbers behind the boxes, and eta squared.
    """
    require_matplotlib()
    X, names = _feature_matrix(X, feature_names)
    labels = _check_labels(labels, X.shape[0])
    titles = names
    if max_features is not None:
        X, names, titles = _separating_features(X, labels, names, max_features)
    classes = np.unique(labels)
    colors = _cluster_colors(len(classes))
    groups = [labels == cls for cls in classes]
    tick_labels = [_label_text(c) for c in classes]

    if ax is not None and _is_axes(ax):
        return _profiles_overlay(ax, X, names, groups, classes, colors)
    axes = _axes_list(ax, len(names), "feature")
    if axes is None:
        ncols = min(len(names), 4)
        nrows = math.ceil(len(names) / ncols)
        _, grid = _new_axes(nrows, ncols, figsize=(3.2 * ncols + 0.4 * len(classes), 2.8 * nrows))
        for extra in grid[len(names):]:
            extra.set_visible(False)
        axes = list(grid[: len(names)])
    for panel, title, column in zip(axes, titles, X.T, strict=True):
        _boxes(panel, [column[mask] for mask in groups], np.arange(len(classes)), colors, width=0.6)
        panel.set_xticks(np.arange(len(classes)), tick_labels)
        panel.set_title(title, fontsize="medium")
        panel.set_xlabel("cluster")
    return np.asarray(axes, dtype=object)


def plot_categories(X, labels, *, feature_names=None, model=None, ax=None, max_levels=8):
    """Stacked bars of the shares of each level of each categorical column, one bar per cluster.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The table; its categorical columns are drawn (see
        :func:`kmeanskit.profile_categories` for which columns are).
    labels : array-like of shape (n_samples,)
        Cluster of each row.
    feature_names : sequence of str, optional
        Name of each column; DataFrame columns or ``x0, x1, ...`` by default.
    model : fitted estimator, optional
        The model that made `labels` (its ``categorical_`` names the categorical columns).
    ax : matplotlib Axes, sequence of Axes, or None
        One Axes per categorical column (a single Axes for a single column);
        None makes a figure (up to 3 per row).
    max_levels : int, default=8
        Levels drawn per column; the rest are pooled as "other".

    Returns
    -------
    ax : ndarray of Axes
        One per categorical column; each bar segment is a patch with gid
        ``"level <name>"``, its width the level's share among the cluster's
        observed entries; the title gives Cramer's V and the chi-square p.

    See Also
    --------
    kmeanskit.profile_categories : the numbers behind the bars, and the test.
    """
    from kmeanskit._analysis.profiles import profile_categories

    require_matplotlib()
    profile = profile_categories(X, labels, feature_names=feature_names, model=model, max_levels=max_levels)
    return draw_category_profile(profile, ax=ax)


def draw_category_profile(profile, *, ax=None):
    """:func:`plot_categories` of a profile already made by :func:`kmeanskit.profile_categories`
    (its levels as pooled there); for the report, which shows the same profile as tables."""
    from kmeanskit._analysis.formatting import format_p_value

    require_matplotlib()
    features = list(dict.fromkeys(profile.index.get_level_values("feature")))
    # One Axes is the panel of a single column (it was replaced by a new figure before).
    axes = _axes_list([ax] if _is_axes(ax) else ax, len(features), "categorical column")
    if axes is None:
        ncols = min(len(features), 3)
        nrows = math.ceil(len(features) / ncols)
        _, grid = _new_axes(nrows, ncols, figsize=(4.2 * ncols, 0.5 + 0.35 * len(set(profile.index.get_level_values(
            "cluster"))) * nrows + 1.2 * nrows))
        for extra in grid[len(features):]:
            extra.set_visible(False)
        axes = list(grid[: len(features)])
    for panel, feature in zip(axes, features, strict=True):
        part = profile.xs(feature, level="feature")
        shares = part["share"].unstack("level").fillna(0.0)
        levels = list(dict.fromkeys(part.index.get_level_values("level")))
        shares = shares[levels]
        left = np.zeros(len(shares))
        positions = np.arange(len(shares))
        for i, level in enumerate(levels):
            bars = panel.barh(positions, shares[level].to_numpy(), left=left, color=f"C{i % 10}", label=level,
                              edgecolor="white", linewidth=0.5)
            for bar in bars:
                bar.set_gid(f"level {level}")
            left += shares[level].to_numpy()
        panel.set_yticks(positions, [_label_text(c) for c in shares.index])
        panel.invert_yaxis()
        panel.set_xlim(0, 1)
        panel.set_xlabel("share of the cluster's rows")
        panel.set_ylabel("cluster")
        first = part.iloc[0]
        test = "" if np.isnan(first["chi2_p"]) else (
            f" (V = {first['cramers_v']:.2f}, {format_p_value(first['chi2_p'], with_p=True)})")
        panel.set_title(f"{feature}{test}", fontsize="medium")
        panel.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=min(len(levels), 4), fontsize="small",
                     frameon=False)
    return np.asarray(axes, dtype=object)


def _separating_features(X, labels, names, max_features):
    """The columns of the `max_features` features with the largest eta squared (strongest first), their names
    and panel titles."""
    from numbers import Integral

    from kmeanskit._analysis.profiles import feature_separation, profile_clusters

    if isinstance(max_features, bool) or not isinstance(max_features, Integral) or max_features < 1:
        raise ValueError(f"max_features must be a positive integer or None, got {max_features!r}")
    ranking = feature_separation(profile_clusters(X, labels, feature_names=names)).iloc[: int(max_features)]
    chosen = [str(n) for n in ranking.index]
    titles = [name if math.isnan(e) else f"{name} (eta² = {e:.2f})"
              for name, e in zip(chosen, ranking["eta_squared"], strict=True)]
    return X[:, [names.index(name) for name in chosen]], chosen, titles


def _boxes(ax, data, positions, colors, *, width):
    parts = ax.boxplot(data, positions=positions, widths=width, patch_artist=True, manage_ticks=False,
                       flierprops={"markersize": 2, "alpha": 0.5}, medianprops={"color": "black"})
    for box, median, color in zip(parts["boxes"], parts["medians"], colors, strict=True):
        box.set_facecolor(color)
        box.set_alpha(0.8)
        median.set_gid("median")
    return parts


def _profiles_overlay(ax, X, names, groups, classes, colors):
    mpl = require_matplotlib()
    std = X.std(axis=0)
    z = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    k = len(classes)
    width = 0.8 / k
    for j in range(len(names)):
        positions = j + (np.arange(k) - (k - 1) / 2) * width
        _boxes(ax, [z[mask, j] for mask in groups], positions, colors, width=width * 0.9)
    ax.set_xticks(np.arange(len(names)), names, rotation=30 if len(names) > 4 else 0, ha="right"
                  if len(names) > 4 else "center")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("standardised value (z-score)")
    ax.set_title("Feature distributions per cluster")
    handles = [mpl.patches.Patch(facecolor=c, label=f"cluster {_label_text(cls)}")
               for c, cls in zip(colors, classes, strict=True)]
    if k <= 12:
        ax.legend(handles=handles, loc="best", fontsize="small")
    return ax


def _contingency_frame(labels_true, labels_pred) -> pd.DataFrame:
    from kmeanskit._analysis.metrics import contingency_matrix

    return contingency_matrix(labels_true, labels_pred, as_frame=True)


def plot_contingency(labels_true, labels_pred, *, ax=None):
    """Heatmap of the contingency matrix: rows are true classes, columns clusters.

    Each cell shows how many rows of a class fell in a cluster (numbers are
    written in the cells up to 400 cells). A clustering that recovers the
    classes has one dominant cell per row and per column.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Known class of each row (any hashable values).
    labels_pred : array-like of shape (n_samples,)
        Cluster of each row.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
        The heatmap is ``ax.images[0]``; the numbers are ``ax.texts``.
    """
    require_matplotlib()
    _check_ax(ax)
    labels_true = _check_labels(labels_true, name="labels_true")
    labels_pred = _check_labels(labels_pred, name="labels_pred")
    check_consistent_length(labels_true, labels_pred)
    if len(labels_true) == 0:
        raise ValueError("labels_true and labels_pred are empty")
    table = _contingency_frame(labels_true, labels_pred)
    counts = table.to_numpy()
    n_rows, n_cols = counts.shape
    if ax is None:
        _, (ax,) = _new_axes(figsize=(max(4.0, 0.55 * n_cols + 2.5), max(3.0, 0.45 * n_rows + 1.8)))
    image = ax.imshow(counts, cmap="Blues", aspect="auto", interpolation="nearest", vmin=0)
    image.set_gid("contingency")
    if counts.size <= _MAX_ANNOTATED_CELLS:
        threshold = counts.max() / 2 if counts.max() > 0 else 1
        for (i, j), value in np.ndenumerate(counts):
            ax.text(j, i, str(int(value)), ha="center", va="center", fontsize="small",
                    color="white" if value > threshold else "black")
    ax.set_xticks(np.arange(n_cols), [_label_text(c) for c in table.columns])
    ax.set_yticks(np.arange(n_rows), [_label_text(c) for c in table.index])
    ax.set_xlabel("cluster")
    ax.set_ylabel("true class")
    ax.set_title("Contingency: rows per class and cluster")
    return ax
