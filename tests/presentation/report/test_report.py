"""kmeanskit._presentation.report: one self-contained HTML file, checked as text and in headless Chromium."""

import base64
import importlib
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_iris
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("matplotlib")

from kmeanskit import KMeans  # noqa: E402
from kmeanskit._presentation.report import _fmt, report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
TITLE = 'Iris <script>alert("x")</script> & "friends"'


class Page(HTMLParser):
    """Tags, attributes, section ids and visible text of a page."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.images, self.sections, self.links, self.chunks = [], [], [], [], []
        self.in_style = False
        self.feed(text)
        self.text = " ".join(" ".join(self.chunks).split())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.in_style = tag == "style"
        if tag == "img":
            self.images.append(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        for key in ("href", "src", "action"):
            if key in attrs:
                self.links.append(attrs[key])

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if not self.in_style:
            self.chunks.append(data)


@pytest.fixture(scope="module")
def iris():
    data = load_iris(as_frame=True)
    return data.data, np.asarray(data.target_names)[data.target]


@pytest.fixture(scope="module")
def pipeline(iris):
    X, _ = iris
    return make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)


@pytest.fixture(scope="module")
def selection(iris, pipeline):
    from kmeanskit._analysis.selection import select_k

    X, _ = iris
    return select_k(pipeline[0].transform(X), range(2, 6), methods=("elbow", "silhouette", "davies_bouldin"),
                    random_state=0)


@pytest.fixture(scope="module")
def written(tmp_path_factory, iris, pipeline):
    """The full report on iris: select_k (every method) on k = 2, 3 run by report itself, known species."""
    X, species = iris
    path = tmp_path_factory.mktemp("report") / "iris report.html"
    returned = report(X, pipeline, path, ks=range(2, 4), labels_true=species, title=TITLE)
    return returned, path


def test_report_returns_the_path_and_writes_one_self_contained_page(written):
    returned, path = written
    assert Path(returned) == path
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert "script" not in page.tags  # no JavaScript at all
    # Nothing is fetched: only in-page anchors and data: images.
    assert all(link.startswith(("#", "data:image/png;base64,")) for link in page.links), page.links
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:)?//", text)
    assert "default-src 'none'" in text  # the CSP forbids loading anything
    assert page.sections == ["data", "model", "selection", "clusters", "explanations", "silhouette", "metrics",
                             "classes", "stability"]
    assert len(page.images) == 6  # criteria, elbow, scatter, box plots, silhouette, contingency
    for image in page.images:
        from PIL import Image

        png = Image.open(io.BytesIO(base64.b64decode(image["src"].split(",", 1)[1])))
        assert png.format == "PNG" and png.size[0] > 200 and png.size[1] > 150
        assert image["alt"]


def test_report_escapes_text(written):
    _, path = written
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "<title>Iris &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;friends&quot;</title>" in text


def test_report_numbers_match_scikit_learn(written, iris, pipeline):
    X, species = iris
    page = Page(written[1].read_text(encoding="utf-8"))
    Xt = pipeline[0].transform(X)
    labels = pipeline.predict(X)
    for value in (silhouette_score(Xt, labels), calinski_harabasz_score(Xt, labels),
                  davies_bouldin_score(Xt, labels), adjusted_rand_score(species, labels)):
        assert _fmt(value) in page.text
    assert f"rows {len(X):,} features 4" in page.text
    # centers in original units: the scaler's inverse of the model's centers
    centers = pipeline[0].inverse_transform(pipeline[-1].cluster_centers_)
    for value in centers.ravel():
        assert _fmt(value) in page.text
    # the data summary is in original units too
    assert _fmt(X["petal length (cm)"].mean()) in page.text
    for name in ("setosa", "versicolor", "virginica"):
        assert name in page.text


def test_report_in_headless_chromium_has_no_errors_and_renders(written, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from PIL import Image

    _, path = written
    errors, requests = [], []
    shot = tmp_path / "report.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            n_loaded = page.evaluate(
                "Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length"
            )
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert n_loaded == 6
    image = Image.open(shot).convert("RGB")
    assert image.width >= 1200 and image.height > 3000  # every section laid out, one under another
    colours = image.resize((image.width // 4, image.height // 4)).getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100  # text, tables and plots, not a blank page


def test_report_without_k_selection_and_with_a_given_selection(tmp_path, iris, pipeline, selection, monkeypatch):
    X, _ = iris
    path = report(X, pipeline, tmp_path / "no-selection.html", ks=None)
    page = Page(path.read_text(encoding="utf-8"))
    assert "selection" not in page.sections and "classes" not in page.sections
    assert "Clustering report" in page.text

    selection_module = importlib.import_module("kmeanskit._analysis.selection")

    def refuse(*args, **kwargs):
        raise AssertionError("select_k must not run when a selection is given")

    monkeypatch.setattr(selection_module, "select_k", refuse)
    path = report(X, pipeline, tmp_path / "given.html", selection=selection)
    page = Page(path.read_text(encoding="utf-8"))
    assert "selection" in page.sections
    for value in selection.table["silhouette"]:
        assert _fmt(value) in page.text
    assert selection.best_k == 2 and selection.reason in page.text  # the answer, before the table
    assert page.text.index("Best k") < page.text.index(selection.reason) < page.text.index(
        _fmt(selection.table["silhouette"].iloc[0]))


def test_report_on_a_plain_kmeans_and_an_array(tmp_path):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.3, size=(25, 2)) for c in (0.0, 3.0, 6.0)])
    X_before = X.copy()
    km = KMeans(3, random_state=0).fit(X)
    path = report(X, km, tmp_path / "plain.html", ks=None, feature_names=["<b>width</b>", "depth & height"])
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert "&lt;b&gt;width&lt;/b&gt;" in text and "depth &amp; height" in text
    assert "none (original units)" in page.text
    np.testing.assert_array_equal(X, X_before)


class Halve(TransformerMixin, BaseEstimator):
    """A preprocessing step without inverse_transform."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) / 2


def test_report_shows_cluster_means_when_the_scaler_cannot_be_inverted(tmp_path, iris):
    X, _ = iris
    model = make_pipeline(Halve(), KMeans(3, random_state=0)).fit(X.to_numpy())
    labels = model.predict(X.to_numpy())
    page = Page(report(X, model, tmp_path / "halved.html", ks=None).read_text(encoding="utf-8"))
    assert "the centers shown are the means of each cluster's rows" in page.text
    for value in X.to_numpy()[labels == 0].mean(axis=0):
        assert _fmt(value) in page.text


def test_report_estimates_the_silhouette_on_a_sample_above_the_limit(tmp_path, iris, pipeline, monkeypatch):
    # One sample size for every summary of a clustering (report, evaluate, fit).
    monkeypatch.setattr(importlib.import_module("kmeanskit._analysis.metrics"), "SILHOUETTE_SAMPLE_SIZE", 100)
    X, _ = iris
    page = Page(report(X, pipeline, tmp_path / "sampled.html", ks=None).read_text(encoding="utf-8"))
    assert "estimated on a random sample of 100 of 150 rows" in page.text


def test_report_replaces_a_file_atomically_and_leaves_nothing_on_failure(tmp_path, iris, pipeline, monkeypatch):
    module = importlib.import_module("kmeanskit._presentation.report")  # the module, not the function kmeanskit._presentation.report

    X, _ = iris
    target = tmp_path / "report.html"
    target.write_text("old report")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(module, "_img", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        report(X, pipeline, target, ks=None)
    assert target.read_text() == "old report"
    monkeypatch.undo()
    report(X, pipeline, target, ks=None)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary file left


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"model": KMeans(3)}, ValueError, "model is not fitted"),
        ({"model": StandardScaler()}, TypeError, "model must be a fitted K-Means estimator"),
        ({"labels_true": [0, 1]}, ValueError, "labels_true has 2 entries but X has 150 rows"),
        ({"feature_names": ["a", "b"]}, ValueError, "feature_names has 2 names"),
        ({"path": "/no/such/dir/r.html"}, ValueError, "directory '/no/such/dir' does not exist"),
        ({"X": np.zeros((5, 3))}, ValueError, "X has 3 features but the model was fitted on 4"),
        ({"title": 3}, TypeError, "title must be a string"),
        ({"selection": "k=3"}, TypeError, "selection must be a SelectKResult"),
    ],
)
def test_report_refuses_bad_input_by_name(tmp_path, iris, pipeline, change, error, message):
    X, _ = iris
    arguments = {"X": X, "model": pipeline, "path": tmp_path / "r.html", "ks": None, **change}
    with pytest.raises(error, match=re.escape(message)):
        report(arguments.pop("X"), arguments.pop("model"), arguments.pop("path"), **arguments)
    assert not (tmp_path / "r.html").exists()


def test_report_takes_the_model_columns_by_name_from_a_wider_frame(tmp_path, iris, pipeline):
    X, _ = iris
    wider = pd.concat([X.iloc[:, ::-1], pd.Series(range(len(X)), name="id")], axis=1)
    page = Page(report(wider, pipeline, tmp_path / "wide.html", ks=None).read_text(encoding="utf-8"))
    assert "features 4" in page.text and " id " not in f" {page.text} "


def test_box_plots_show_the_features_that_separate_the_clusters_most_and_say_so(tmp_path, monkeypatch):
    # 20 features, in file order: 17 of noise, then three that carry the clusters (weak, medium, strong).
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 60)
    columns = {f"noise_{j}": rng.normal(size=180) for j in range(17)}
    for name, gap in (("weak", 0.6), ("medium", 2.0), ("strong", 8.0)):
        columns[name] = labels * gap + rng.normal(size=180)
    X = pd.DataFrame(columns)
    model = KMeans(3, random_state=0).fit(X)
    report_module = importlib.import_module("kmeanskit._presentation.report")
    monkeypatch.setattr(report_module, "_MAX_PROFILE_PLOTS", 4)
    path = report(X, model, tmp_path / "wide.html", ks=None)
    page = Page(path.read_text(encoding="utf-8"))
    caption = page.text.split("The distribution per cluster (original units) of the 4 of 20 features", 1)[1]
    assert caption.startswith(" that separate the clusters most: those with the largest eta squared")
    shown = caption.split("Shown, strongest first: ", 1)[1].split(".", 1)[0].split(", ")
    assert shown[:3] == ["strong", "medium", "weak"] and len(shown) == 4


def test_report_explains_each_cluster_with_a_description_and_a_rule(written, iris, pipeline):
    from kmeanskit import explain_clusters

    X, _ = iris
    _, path = written
    page = Page(path.read_text(encoding="utf-8"))
    explanation = explain_clusters(pipeline, X)
    for description, rule in zip(explanation.descriptions, explanation.rules, strict=True):
        assert description in page.text and rule in page.text
    assert f"{100 * explanation.fidelity:.1f}% of rows get their K-Means cluster from the rules" in page.text
    assert f"cost ratio {_fmt(explanation.cost_ratio)}" in page.text


def test_report_stability_section_is_cluster_stability(tmp_path, iris, pipeline):
    from kmeanskit import cluster_stability

    X, _ = iris
    path = report(X, pipeline, tmp_path / "stability.html", ks=None, stability=6, random_state=3)
    page = Page(path.read_text(encoding="utf-8"))
    assert page.sections[-1] == "stability"
    expected = cluster_stability(X, pipeline, n_boot=6, random_state=3)
    for value, reading in zip(expected.mean_jaccard, expected.clusters["reading"], strict=True):
        assert _fmt(value) in page.text and reading in page.text
    assert "fpc::clusterboot" in page.text and "20 resamples" not in page.text
    path = report(X, pipeline, tmp_path / "none.html", ks=None, stability=None)
    assert "stability" not in Page(path.read_text(encoding="utf-8")).sections


def test_report_drift_section_names_the_features(tmp_path, iris, pipeline):
    from kmeanskit import drift_report

    X, _ = iris
    new = X.copy()
    new["petal length (cm)"] += 0.8
    found = drift_report(pipeline, new, reference=X)
    path = report(X, pipeline, tmp_path / "drift.html", ks=None, stability=None, drift=found)
    page = Page(path.read_text(encoding="utf-8"))
    assert page.sections[-1] == "drift"
    drift_text = page.text.split("feature moved: ")[1]
    assert drift_text.startswith("petal length (cm) +")
    assert "training decile bins" in page.text
