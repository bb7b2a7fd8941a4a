"""kmeanskit.plotting: the artists each plot draws, checked against the numbers behind them."""

import ast
import importlib
import inspect
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_samples, silhouette_score
from sklearn.metrics.cluster import contingency_matrix
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402

from kmeanskit import KMeans, plotting  # noqa: E402

# The module, even once the package exports the function ``report`` under the same name.
report_module = importlib.import_module("kmeanskit._presentation.report")

KS = np.arange(2, 8)
INERTIA = np.array([100.0, 40.0, 30.0, 25.0, 22.0, 20.0])
SECONDS = np.array([0.01, 0.012, 0.015, 0.02, 0.022, 0.03])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=90, n_features=4, centers=3, cluster_std=0.8, random_state=0)
    km = KMeans(3, random_state=0).fit(X)
    return X, y, km


@pytest.fixture(scope="module")
def blobs2d():
    X, _ = make_blobs(n_samples=60, n_features=2, centers=3, random_state=1)
    return X, KMeans(3, random_state=0).fit(X)


def selection_result(columns=("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap"),
                     recommended=None):
    """A stand-in with the shape of SelectKResult (table indexed by k, recommended)."""
    values = {
        "inertia": INERTIA,
        "silhouette": [0.5, 0.7, 0.6, 0.5, 0.45, 0.4],
        "calinski_harabasz": [150.0, 300.0, 250.0, 200.0, 190.0, 180.0],
        "davies_bouldin": [0.9, 0.5, 0.7, 0.8, 0.85, 0.9],
        "gap": [0.5, 1.2, 1.25, 1.3, 1.3, 1.32],
        "gap_se": [0.05] * 6,
        "fit_seconds": SECONDS,
    }
    cols = list(columns) + (["gap_se"] if "gap" in columns else []) + ["fit_seconds"]
    table = pd.DataFrame({c: values[c] for c in cols}, index=pd.Index(KS, name="k"))
    if recommended is None:
        recommended = {"elbow": 3, "silhouette": 3, "calinski_harabasz": 3, "davies_bouldin": 3, "gap": None}
    return SimpleNamespace(table=table, recommended=recommended, models={}, methods=tuple(recommended))


def line_with_gid(ax, gid):
    found = [line for line in ax.lines if line.get_gid() == gid]
    assert len(found) == 1, [line.get_gid() for line in ax.lines]
    return found[0]


# ------------------------------------------------------------------ import and backend


@pytest.mark.parametrize("module", [plotting, report_module])
def test_modules_import_matplotlib_lazily_and_never_choose_a_backend(module):
    # Checked on the source: a subprocess import costs seconds, and in this
    # process pyplot is already loaded by the tests.
    tree = ast.parse(inspect.getsource(module))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [alias.name for node in top_level for alias in node.names]
    names += [node.module for node in top_level if isinstance(node, ast.ImportFrom) and node.module]
    assert not [name for name in names if name.startswith("matplotlib")]
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)]
    assert not [c for c in calls if c.func.attr in ("use", "switch_backend")]


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'kmeanskit\[plot\]'"):
        plotting.plot_elbow(KS, INERTIA)


# ------------------------------------------------------------------ elbow and selection


def test_plot_elbow_marks_the_knee_and_draws_fit_time_on_a_twin_axis():
    fig, ax = plt.subplots()
    returned = plotting.plot_elbow(KS, INERTIA, knee=3, fit_seconds=SECONDS, ax=ax)
    assert returned is ax
    curve = line_with_gid(ax, "inertia")
    np.testing.assert_array_equal(curve.get_xdata(), KS)
    np.testing.assert_array_equal(curve.get_ydata(), INERTIA)
    knee = line_with_gid(ax, "knee")
    assert list(knee.get_xdata()) == [3, 3]
    assert "k = 3" in knee.get_label()
    assert len(fig.axes) == 2  # the twin axis of the fit time
    twin = fig.axes[1]
    np.testing.assert_array_equal(line_with_gid(twin, "fit-seconds").get_ydata(), SECONDS)
    assert twin.get_ylabel() == "fit time (s)"
    assert "knee at k = 3" in ax.get_title()
    assert ax.get_xlabel() == "number of clusters k"


def test_plot_elbow_without_knee_or_time_draws_only_the_curve():
    ax = plotting.plot_elbow(list(KS), list(INERTIA))
    assert [line.get_gid() for line in ax.lines] == ["inertia"]
    assert len(ax.figure.axes) == 1


def test_plot_elbow_takes_knee_and_times_from_a_selection_result():
    ax = plotting.plot_elbow(selection_result(recommended={"elbow": 4}))
    assert list(line_with_gid(ax, "knee").get_xdata()) == [4, 4]
    np.testing.assert_array_equal(line_with_gid(ax.figure.axes[1], "fit-seconds").get_ydata(), SECONDS)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"inertia": None}, "inertia is required"),
        ({"inertia": INERTIA[:-1]}, "one value per k"),
        ({"inertia": INERTIA, "knee": 9}, "knee must be one of the ks"),
        ({"inertia": INERTIA, "fit_seconds": SECONDS[:2]}, "fit_seconds"),
    ],
)
def test_plot_elbow_refuses_inconsistent_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_elbow(KS, **kwargs)


def test_plot_elbow_refuses_unordered_ks_and_a_bad_ax():
    with pytest.raises(ValueError, match="increasing"):
        plotting.plot_elbow([3, 2, 4], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plotting.plot_elbow(KS, INERTIA, ax="left")


def test_plot_selection_draws_one_panel_per_criterion_with_the_recommended_k():
    result = selection_result()
    axes = plotting.plot_selection(result)
    assert len(axes) == 5 and len(axes[0].figure.axes) == 5
    for ax, column in zip(axes, ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "gap"],
                          strict=True):
        np.testing.assert_allclose(line_with_gid(ax, column).get_ydata(), result.table[column])
    assert list(line_with_gid(axes[0], "recommended-elbow").get_xdata()) == [3, 3]
    assert list(line_with_gid(axes[3], "recommended-davies_bouldin").get_xdata()) == [3, 3]
    # gap: no recommendation, so no marker; its error bars are drawn
    assert not [line for line in axes[4].lines if (line.get_gid() or "").startswith("recommended")]
    assert axes[4].containers and "Gap" in axes[4].get_title()


def test_plot_selection_only_draws_the_criteria_in_the_table():
    result = selection_result(columns=("silhouette",), recommended={"silhouette": 3})
    axes = plotting.plot_selection(result)
    assert len(axes) == 1 and len(axes[0].figure.axes) == 1
    assert "Silhouette" in axes[0].get_title()


def test_plot_selection_on_given_axes_and_on_one_axes():
    result = selection_result()
    fig, grid = plt.subplots(2, 3)
    axes = plotting.plot_selection(result, ax=grid)
    assert list(axes) == list(grid.ravel()[:5])
    fig, ax = plt.subplots()
    assert plotting.plot_selection(result, ax=ax) is ax
    # one curve per criterion scaled to [0, 1], a star per recommended k
    curves = [line for line in ax.lines if line.get_gid() in result.table.columns]
    assert len(curves) == 5
    for line in curves:
        assert min(line.get_ydata()) == 0 and max(line.get_ydata()) == 1
    stars = [line for line in ax.lines if (line.get_gid() or "").startswith("recommended-")]
    assert len(stars) == 4 and all(line.get_xdata()[0] == 3 for line in stars)


def test_plot_selection_refuses_too_few_axes_and_non_results():
    fig, pair = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="2 Axes but 5 are needed"):
        plotting.plot_selection(selection_result(), ax=pair)
    with pytest.raises(TypeError, match="SelectKResult"):
        plotting.plot_selection({"table": None})
    empty = selection_result(columns=())
    empty.table = empty.table.drop(columns="fit_seconds")
    with pytest.raises(ValueError, match="none of the criteria"):
        plotting.plot_selection(empty)


# ------------------------------------------------------------------ silhouette


def test_plot_silhouette_draws_one_sorted_band_per_cluster_and_the_average(blobs):
    X, _, km = blobs
    labels = km.labels_
    ax = plotting.plot_silhouette(X, labels)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3
    expected = silhouette_samples(X, labels)
    for cluster, band in enumerate(bands):
        vertices = band.get_paths()[0].vertices
        size = int((labels == cluster).sum())
        heights = vertices[:, 1]
        assert heights.max() - heights.min() == size - 1  # one row per member
        np.testing.assert_allclose(vertices[:, 0].max(), expected[labels == cluster].max())
    average = line_with_gid(ax, "silhouette-average")
    np.testing.assert_allclose(average.get_xdata()[0], silhouette_score(X, labels))
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "2"]
    assert ax.get_xlabel() == "silhouette coefficient"


def test_plot_silhouette_needs_two_clusters(blobs):
    X, _, _ = blobs
    with pytest.raises(ValueError, match="2 to n_samples - 1"):
        plotting.plot_silhouette(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="labels has 5 entries but X has 90 rows"):
        plotting.plot_silhouette(X, np.arange(5))


# ------------------------------------------------------------------ clusters


def test_plot_clusters_projects_on_pca_with_centers_and_nearest_center_regions(blobs):
    X, _, km = blobs
    X_before = X.copy()
    ax = plotting.plot_clusters(X, km.labels_, km.cluster_centers_)
    projected = PCA(2, random_state=0).fit(X)
    points = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid().startswith("cluster-")]
    assert len(points) == 3
    for cluster, collection in enumerate(points):
        np.testing.assert_allclose(collection.get_offsets(), projected.transform(X[km.labels_ == cluster]))
    (centers,) = [c for c in ax.collections if c.get_gid() == "centers"]
    np.testing.assert_allclose(centers.get_offsets(), projected.transform(km.cluster_centers_))
    assert ax.get_xlabel().startswith("PC1 (") and "% of variance" in ax.get_ylabel()
    (regions,) = ax.images
    assert regions.get_gid() == "decision-regions"
    np.testing.assert_array_equal(X, X_before)


def test_plot_clusters_2d_regions_come_from_the_model(blobs2d):
    X, km = blobs2d
    ax = plotting.plot_clusters(X, km.labels_, model=km)
    (regions,) = ax.images
    image = np.asarray(regions.get_array())
    left, right, bottom, top = regions.get_extent()
    rows, cols = image.shape
    # The pixel under each center belongs to that center's cluster.
    for cluster, (cx, cy) in enumerate(km.cluster_centers_):
        col = int((cx - left) / (right - left) * cols)
        row = int((cy - bottom) / (top - bottom) * rows)
        assert image[row, col] == cluster
    # and every pixel agrees with model.predict at its center
    xs = left + (np.arange(cols) + 0.5) * (right - left) / cols
    ys = bottom + (np.arange(rows) + 0.5) * (top - bottom) / rows
    probe = np.array([[xs[c], ys[r]] for r in range(0, rows, 37) for c in range(0, cols, 41)])
    predicted = km.predict(probe).reshape(len(range(0, rows, 37)), len(range(0, cols, 41)))
    assert np.mean(image[::37, ::41] == predicted) > 0.97  # grid vs pixel centers may differ on a border
    (centers,) = [c for c in ax.collections if c.get_gid() == "centers"]
    np.testing.assert_allclose(centers.get_offsets(), km.cluster_centers_)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x1")


def test_plot_clusters_with_a_pipeline_on_a_dataframe_uses_names_and_original_units(blobs2d):
    X, _ = blobs2d
    frame = pd.DataFrame(X * [1.0, 1000.0], columns=["age", "income"])
    model = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(frame)
    labels = model.predict(frame)
    ax = plotting.plot_clusters(frame, labels, model=model)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("age", "income")
    (centers,) = [c for c in ax.collections if c.get_gid() == "centers"]
    expected = model[0].inverse_transform(model[-1].cluster_centers_)
    np.testing.assert_allclose(centers.get_offsets(), expected)
    assert len(ax.images) == 1


def test_plot_clusters_without_centers_or_model_draws_no_regions(blobs2d):
    X, km = blobs2d
    ax = plotting.plot_clusters(X, km.labels_, decision_regions=True)
    assert not ax.images
    assert not [c for c in ax.collections if c.get_gid() == "centers"]
    ax = plotting.plot_clusters(X, km.labels_, km.cluster_centers_, decision_regions=False)
    assert not ax.images


def test_plot_clusters_one_feature_is_a_strip_plot(blobs):
    X, _, km = blobs
    ax = plotting.plot_clusters(X[:, :1], km.labels_, km.cluster_centers_[:, :1])
    points = [c for c in ax.collections if (c.get_gid() or "").startswith("cluster-")]
    assert len(points) == 3
    np.testing.assert_allclose(points[1].get_offsets()[:, 0], X[km.labels_ == 1, 0])
    assert ax.get_ylabel() == "cluster"


def test_plot_clusters_refuses_mismatched_centers(blobs):
    X, _, km = blobs
    with pytest.raises(ValueError, match="centers has 2 columns but X has 4"):
        plotting.plot_clusters(X, km.labels_, km.cluster_centers_[:, :2])
    with pytest.raises(TypeError, match="predict"):
        plotting.plot_clusters(X, km.labels_, model=object())


# ------------------------------------------------------------------ profiles and contingency


def test_plot_profiles_draws_one_box_per_cluster_and_feature_at_the_medians(blobs):
    X, _, km = blobs
    names = ["a", "b", "c", "d"]
    axes = plotting.plot_profiles(X, km.labels_, feature_names=names)
    assert len(axes) == 4
    for j, ax in enumerate(axes):
        assert ax.get_title() == names[j]
        boxes = [p for p in ax.patches if isinstance(p, PathPatch)]
        assert len(boxes) == 3
        medians = [line for line in ax.lines if line.get_gid() == "median"]
        assert len(medians) == 3
        for cluster, median in enumerate(medians):
            np.testing.assert_allclose(median.get_ydata()[0], np.median(X[km.labels_ == cluster, j]))


def test_plot_profiles_on_one_axes_groups_standardised_features(blobs):
    X, _, km = blobs
    frame = pd.DataFrame(X, columns=["w", "x", "y", "z"])
    fig, ax = plt.subplots()
    assert plotting.plot_profiles(frame, km.labels_, ax=ax) is ax
    assert len([p for p in ax.patches if isinstance(p, PathPatch)]) == 4 * 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w", "x", "y", "z"]
    assert "z-score" in ax.get_ylabel()


def test_plot_profiles_with_max_features_draws_the_most_separating_ones_and_says_so():
    # Six features: two carry the clusters (one strongly, one weakly), four are noise, listed first.
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 100)
    noise = rng.normal(size=(300, 4))
    strong = labels * 10.0 + rng.normal(size=300)
    weak = labels * 1.0 + rng.normal(size=300)
    X = np.column_stack([noise, weak, strong])
    names = ["n0", "n1", "n2", "n3", "weak", "strong"]
    axes = plotting.plot_profiles(X, labels, feature_names=names, max_features=2)
    assert len(axes) == 2
    eta = {}
    for j, name in ((5, "strong"), (4, "weak")):
        column = X[:, j]
        between = sum(100 * (column[labels == c].mean() - column.mean()) ** 2 for c in range(3))
        eta[name] = between / ((column - column.mean()) ** 2).sum()
    assert [ax.get_title() for ax in axes] == [f"strong (eta² = {eta['strong']:.2f})",
                                               f"weak (eta² = {eta['weak']:.2f})"]
    medians = [line.get_ydata()[0] for line in axes[0].lines if line.get_gid() == "median"]
    np.testing.assert_allclose(medians, [np.median(strong[labels == c]) for c in range(3)])
    # On one Axes: the same two, strongest first.
    fig, ax = plt.subplots()
    plotting.plot_profiles(X, labels, feature_names=names, ax=ax, max_features=2)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["strong", "weak"]
    # More than there are: every feature, ranked.
    assert len(plotting.plot_profiles(X, labels, feature_names=names, max_features=10)) == 6
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_features must be a positive integer or None"):
            plotting.plot_profiles(X, labels, max_features=bad)


def test_plot_profiles_refuses_wrong_feature_names(blobs):
    X, _, km = blobs
    with pytest.raises(ValueError, match="feature_names has 2 names but X has 4 columns"):
        plotting.plot_profiles(X, km.labels_, feature_names=["a", "b"])
    with pytest.raises(TypeError, match="single string"):
        plotting.plot_profiles(X, km.labels_, feature_names="abcd")


def test_plot_contingency_shows_the_counts(blobs):
    _, y, km = blobs
    classes = np.array(["setosa", "versicolor", "virginica"])[y]
    ax = plotting.plot_contingency(classes, km.labels_)
    expected = contingency_matrix(classes, km.labels_)
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), expected)
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(expected.ravel().tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["setosa", "versicolor", "virginica"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("cluster", "true class")


def test_plot_contingency_refuses_different_lengths():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        plotting.plot_contingency([0, 1, 1], [0, 1])
