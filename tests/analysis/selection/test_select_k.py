"""select_k: recommendations on well-separated blobs, the table, Kneedle and the gap statistic."""

import numpy as np
import pandas as pd
import pytest
from kneed import DataGenerator
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kmeanskit.metrics as km
from kmeanskit._analysis.selection import SelectKResult, elbow_k, gap_k, reference_sets, select_k
from kmeanskit._estimators.kmeans import KMeans

ALL = ("elbow", "silhouette", "gap", "prediction_strength", "calinski_harabasz", "davies_bouldin")


def _simplex_blobs(n_centers, per_cluster=30):
    # centers at 10 * e_i in 8-d: every pair equally far apart, well separated
    X, y = make_blobs(per_cluster * n_centers, centers=10 * np.eye(n_centers, 8), cluster_std=1.0,
                      random_state=n_centers)
    return X, y


@pytest.mark.parametrize("n_centers", [3, 5, 7])
def test_every_method_finds_the_true_k(n_centers):
    X, _ = _simplex_blobs(n_centers)
    result = select_k(X, range(2, 10), n_refs=3, random_state=0, progress=False)
    assert result.recommended == {method: n_centers for method in ALL}
    assert list(result.recommended) == list(ALL)
    assert result.best_k == n_centers and result.models[n_centers].n_clusters == n_centers
    assert result.reason == (
        f"k = {n_centers}: prediction strength, the gap statistic by firstSEmax, the silhouette and "
        f"Calinski-Harabasz all point to {n_centers}."
    )
    assert result.sample_note is None  # 30 rows a cluster: every estimate on every row


def test_table_models_and_values():
    X, y = _simplex_blobs(3)
    methods = ("silhouette", "davies_bouldin", "elbow")
    result = select_k(X, [4, 2, 3], methods=methods, random_state=0, progress=False)
    assert isinstance(result, SelectKResult) and result.methods == methods
    assert list(result.recommended) == list(methods)
    table = result.table
    assert table.index.name == "k" and list(table.index) == [2, 3, 4]
    assert list(table.columns) == ["inertia", "silhouette", "davies_bouldin", "fit_seconds"]
    for k in (2, 3, 4):
        model = result.models[k]
        same = KMeans(k, random_state=0).fit(X)  # the int seed is every k's seed
        np.testing.assert_array_equal(model.labels_, same.labels_)
        assert table.loc[k, "inertia"] == pytest.approx(model.inertia_)
        assert table.loc[k, "silhouette"] == pytest.approx(km.silhouette_score(X, model.labels_))
        assert table.loc[k, "davies_bouldin"] == pytest.approx(km.davies_bouldin_score(X, model.labels_))
        assert table.loc[k, "fit_seconds"] > 0


def test_k1_scores_are_nan_and_not_recommended():
    X, _ = _simplex_blobs(3, per_cluster=20)
    result = select_k(X, range(1, 5), methods=("silhouette", "calinski_harabasz"), n_refs=2, random_state=0,
                      progress=False)
    assert np.isnan(result.table.loc[1, "silhouette"]) and np.isnan(result.table.loc[1, "calinski_harabasz"])
    assert result.recommended == {"silhouette": 3, "calinski_harabasz": 3}


def test_pipeline_scores_in_the_clusterers_space_and_threads_agree():
    X, _ = _simplex_blobs(3, per_cluster=20)
    X = X * np.array([1, 100, 1, 1, 0.01, 1, 1, 1])  # scaling matters
    pipe = make_pipeline(StandardScaler(), SkKMeans(n_init=2))
    result = select_k(X, range(2, 5), methods=("silhouette", "gap"), estimator=pipe, n_refs=2,
                      random_state=0, progress=False)
    Xt = StandardScaler().fit_transform(X)
    model = result.models[3]
    assert model[-1].n_clusters == 3 and pipe[-1].n_clusters == 8  # the template is not touched
    assert result.table.loc[3, "silhouette"] == pytest.approx(km.silhouette_score(Xt, model[-1].labels_))
    assert result.table.loc[3, "inertia"] == pytest.approx(model[-1].inertia_)
    threaded = select_k(X, range(2, 5), methods=("silhouette", "gap"), estimator=pipe, n_refs=2,
                        random_state=0, progress=False, n_jobs=2)
    pd.testing.assert_frame_equal(threaded.table.drop(columns="fit_seconds"),
                                  result.table.drop(columns="fit_seconds"))


def test_sample_size_is_used_for_the_silhouette():
    X, _ = _simplex_blobs(3)
    result = select_k(X, [3], methods=("silhouette",), sample_size=40, random_state=5, progress=False)
    labels = result.models[3].labels_
    assert result.table.loc[3, "silhouette"] == pytest.approx(
        km.silhouette_score(X, labels, sample_size=40, random_state=5)
    )


# ------------------------------------------------------------------ Kneedle
def test_kneedle_reproduces_kneeds_documented_knees():
    # kneed's test of a convex decreasing curve: knee at x = 2
    x, y = DataGenerator.convex_decreasing()
    assert elbow_k(x, y) == 2
    # Figure 2 of Satopaa et al. (2011), y = -1/x + 5, knee at x = 0.222 (kneed's README);
    # mirrored (-y: concave increasing -> convex decreasing), x scaled by 9 to the integer grid 1..10
    x, y = DataGenerator.figure2()
    assert elbow_k(np.round(x * 9).astype(int) + 1, -y) == 3  # x = 0.222 -> 2/9 -> grid point 3
    assert elbow_k([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0]) is None  # a straight line has no knee
    assert elbow_k([2, 3], [5.0, 1.0]) is None


# ------------------------------------------------------------ gap statistic
def test_gap_rule_and_reference_box():
    ks = [1, 2, 3, 4]
    assert gap_k(ks, np.array([0.1, 0.5, 0.45, 0.6]), np.array([0.05, 0.05, 0.1, 0.05])) == 2
    assert gap_k(ks, np.array([0.1, 0.2, 0.3, 0.4]), np.full(4, 0.01)) is None
    # reference data fill the principal-axes box: a thin diagonal stick stays a thin diagonal stick
    rng = np.random.RandomState(0)
    t = rng.uniform(-5, 5, 500)
    X = np.c_[t, t] + rng.normal(scale=0.01, size=(500, 2))
    (Z,) = list(reference_sets(X, 1, np.random.RandomState(1)))
    assert Z.shape == X.shape
    across = (Z[:, 0] - Z[:, 1]) / np.sqrt(2)
    along = (Z[:, 0] + Z[:, 1]) / np.sqrt(2)
    assert np.abs(across).max() < 0.05 and np.ptp(along) > 13


def test_gap_matches_a_numpy_computation():
    X, _ = _simplex_blobs(3, per_cluster=15)
    result = select_k(X, [2, 3, 4], methods=("gap",), n_refs=4, random_state=0, progress=False)
    rng = np.random.RandomState(1)  # select_k draws references with seed + 1
    log_w = np.array([[np.log(KMeans(k, random_state=0).fit(Z).inertia_) for k in (2, 3, 4)]
                      for Z in reference_sets(X, 4, rng)])
    gap = log_w.mean(axis=0) - np.log(result.table["inertia"].to_numpy())
    np.testing.assert_allclose(result.table["gap"], gap, rtol=1e-10)
    np.testing.assert_allclose(result.table["gap_se"], log_w.std(axis=0) * np.sqrt(1 + 1 / 4), rtol=1e-10)


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"ks": [2, 2, 3]}, ValueError, "duplicates"),
        ({"ks": [0, 2]}, ValueError, r"between 1 and n_samples - 1 = 29; got \[0\]"),
        ({"ks": [2, 30]}, ValueError, r"got \[30\]"),
        ({"ks": [2.5]}, TypeError, "ks must hold ints"),
        ({"ks": []}, ValueError, "ks is empty"),
        ({"methods": ("elbow", "bic")}, ValueError, r"Unknown method\(s\) \['bic'\]"),
        ({"methods": ()}, ValueError, "methods is empty"),
        ({"n_refs": 0}, ValueError, "n_refs must be a positive int"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be None or a non-zero int"),
        ({"progress": "yes"}, ValueError, "progress must be True, False or None"),
        ({"sample_size": 1}, ValueError, "sample_size must be 'auto', None or an int >= 2; got 1"),
        ({"sample_size": "all"}, ValueError, "sample_size must be 'auto', None or an int >= 2; got 'all'"),
        ({"gap_rule": "tibs"}, ValueError, r"gap_rule must be one of \['firstSEmax', .*got 'tibs'"),
        ({"estimator": StandardScaler()}, TypeError, "n_clusters parameter"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    X = np.random.RandomState(0).normal(size=(30, 2))
    with pytest.raises(error, match=match):
        select_k(X, **{"ks": [2, 3], **kwargs})


def test_plot_calls_the_plotting_module(monkeypatch):
    import sys
    import types

    X, _ = _simplex_blobs(3, per_cluster=10)
    result = select_k(X, [2, 3], methods=("silhouette",), random_state=0, progress=False)
    calls = []
    fake = types.ModuleType("kmeanskit._presentation.plotting")
    axes = types.SimpleNamespace(figure="the figure")
    fake.plot_selection = lambda res, ax=None: calls.append((res, ax)) or np.array([axes, axes])
    monkeypatch.setitem(sys.modules, "kmeanskit._presentation.plotting", fake)
    assert result.plot(ax="my-ax") == "the figure" and calls == [(result, "my-ax")]


# ------------------------------------------------------------ best_k, k = 1, samples
def test_no_structure_gives_k1_with_its_model_and_says_so():
    X = np.random.RandomState(3).uniform(size=(400, 3))
    result = select_k(X, range(2, 7), n_refs=5, random_state=0, progress=False)
    assert result.best_k == 1 and result.reason.startswith("k = 1, no cluster structure:")
    assert list(result.gap_curve.index) == [1, 2, 3, 4, 5, 6] and list(result.table.index) == [2, 3, 4, 5, 6]
    assert result.recommended["prediction_strength"] == 1
    model = result.models[1]
    assert model.n_clusters == 1 and model.inertia_ == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())


def test_sampled_gap_and_prediction_strength_match_a_numpy_computation():
    X, _ = make_blobs(1500, centers=3, n_features=2, random_state=1)
    seed, m, ks = 4, 600, [2, 3, 4]
    result = select_k(X, ks, methods=("gap", "prediction_strength"), n_refs=3, random_state=seed,
                      sample_size=m, progress=False)
    assert result.sample_note == "gap and prediction strength on a random sample of 600 of 1,500 rows"
    assert result.reason.endswith("(Gap and prediction strength on a random sample of 600 of 1,500 rows.)")
    rows = np.sort(np.random.RandomState(seed + 2).choice(1500, size=m, replace=False))
    Xs = X[rows]
    log_w = np.log([((Xs - Xs.mean(axis=0)) ** 2).sum()]
                   + [km.inertia(Xs, result.models[k].labels_[rows]) for k in ks])
    refs = list(reference_sets(Xs, 3, np.random.RandomState(seed + 1)))
    log_w_ref = np.array([[np.log(((Z - Z.mean(axis=0)) ** 2).sum())]
                          + [np.log(KMeans(k, random_state=seed).fit(Z).inertia_) for k in ks] for Z in refs])
    np.testing.assert_allclose(result.gap_curve["gap"], log_w_ref.mean(axis=0) - log_w, rtol=1e-10)
    np.testing.assert_allclose(result.table["gap"], (log_w_ref.mean(axis=0) - log_w)[1:], rtol=1e-10)
    # two-fold prediction strength on the same sample's halves
    order = np.random.RandomState(seed + 3).permutation(m)
    a, b = Xs[order[: m // 2]], Xs[order[m // 2:]]
    for k in ks:
        fa, fb = KMeans(k, random_state=seed).fit(a), KMeans(k, random_state=seed).fit(b)
        expected = 0.5 * (_strength(fb.labels_, fa.predict(b)) + _strength(fa.labels_, fb.predict(a)))
        assert result.table.loc[k, "prediction_strength"] == pytest.approx(expected, rel=1e-12)
    assert result.best_k == 3


def _strength(test, predicted):
    shares = []
    for cluster in np.unique(test):
        member = test == cluster
        same = predicted[member][:, None] == predicted[member][None, :]
        n = member.sum()
        shares.append((same.sum() - n) / (n * (n - 1)))
    return min(shares)


def test_auto_sample_size_samples_above_five_thousand_rows():
    X, _ = make_blobs(5_050, centers=3, n_features=2, random_state=2)
    result = select_k(X, [2, 3, 4], methods=("silhouette", "calinski_harabasz"), random_state=0, progress=False)
    assert result.sample_note == "silhouette on a random sample of 5,000 of 5,050 rows"
    labels = result.models[3].labels_
    assert result.table.loc[3, "silhouette"] == pytest.approx(
        km.silhouette_score(X, labels, sample_size=5_000, random_state=0))
    small = select_k(X[:300], [2, 3], methods=("silhouette",), random_state=0, progress=False)
    assert small.sample_note is None


def test_html_puts_the_answer_first_and_plot_returns_a_figure_with_best_k():
    from matplotlib.figure import Figure

    X, _ = _simplex_blobs(3, per_cluster=20)
    result = select_k(X, range(2, 6), n_refs=3, random_state=0, progress=False)
    page = result._repr_html_()
    assert page.index("<strong>best k = 3</strong>") < page.index("<table")
    assert "prediction_strength</td><td>3" in page
    figure = result.plot()
    assert isinstance(figure, Figure)
    assert figure.get_suptitle() == "best k = 3 (solid line)"
    marks = [line for ax in figure.axes for line in ax.lines if line.get_gid() == "best-k"]
    titles = [ax.get_title().split("\n")[0] for ax in figure.axes]
    assert titles == ["Elbow: inertia", "Silhouette", "Calinski-Harabasz", "Davies-Bouldin", "Gap statistic",
                      "Prediction strength"]
    assert len(marks) == 6 and all(line.get_xdata()[0] == 3 for line in marks)


@pytest.mark.parametrize("estimator", [None, "kmodes"])
def test_ks_above_the_distinct_rows_are_not_fitted_and_the_reason_says_so(estimator):
    import warnings

    from kmeanskit import KModes

    X = np.repeat(np.array([[0.0, 0.0], [0.0, 5.0], [5.0, 0.0], [5.0, 5.0]]), 10, axis=0)
    if estimator == "kmodes":
        X, estimator = X.astype(int).astype(str).astype(object), KModes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = select_k(X, range(2, 8), estimator=estimator, random_state=0, progress=False)
    assert result.best_k == 4
    assert result.table.index.tolist() == [2, 3, 4, 5, 6, 7] and sorted(result.models) == [2, 3, 4]
    assert result.table.loc[[5, 6, 7]].isna().all().all() and result.table.loc[[2, 3, 4], "inertia"].notna().all()
    assert "o fit for k = 5, 6 and 7, above the 4 distinct rows of X, where some clusters would be empty." in (
        result.reason)
    with pytest.raises(ValueError, match=r"X has 4 distinct rows, fewer than every k of ks \[5, 6\]"):
        select_k(X, [5, 6], estimator=estimator, random_state=0, progress=False)


def test_without_a_seed_every_sampled_estimate_reads_the_same_rows(monkeypatch):
    """The silhouette, the gap and prediction strength of a sample use one draw, seeded or not."""
    from kmeanskit._analysis.selection import core

    seeds = {"silhouette": [], "rows": []}
    fit_one, sample_rows = core._fit_one, core._sample_rows

    def recording_fit_one(*args, **kwargs):
        seeds["silhouette"].append(args[8] if len(args) > 8 else kwargs.get("sample_seed"))
        return fit_one(*args, **kwargs)

    def recording_sample_rows(n_rows, sample_size, seed):
        seeds["rows"].append(seed)
        return sample_rows(n_rows, sample_size, seed)

    monkeypatch.setattr(core, "_fit_one", recording_fit_one)
    monkeypatch.setattr(core, "_sample_rows", recording_sample_rows)
    X, _ = make_blobs(300, centers=3, random_state=0)
    select_k(X, [2, 3], random_state=None, sample_size=100, methods=("silhouette", "gap"), n_refs=2, progress=False)
    assert len(set(seeds["silhouette"])) == 1 and seeds["silhouette"][0] is not None
    assert seeds["rows"] == seeds["silhouette"][:1]
