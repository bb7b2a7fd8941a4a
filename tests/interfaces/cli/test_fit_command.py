"""``kmeanskit fit``: the command line end to end, and the workflow behind it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import kmeanskit
from kmeanskit import KMeans
from kmeanskit._analysis.workflow import fit_clusters
from kmeanskit.cli import main

from .running import assert_one_line_error, cluster_table, run

IRIS = load_iris(as_frame=True).data
# Well separated groups whose features live on very different scales, so that
# centers in original units and centers in scaled units cannot be confused.
TRUE_CENTERS = np.array([[0.0, 1000.0], [10.0, 2000.0], [20.0, 3000.0]])


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def table_rows(out):
    """The cluster rows of the human output, split on whitespace."""
    return [row.split() for row in cluster_table(out)[1:]]  # row 0: the column names


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat([0, 1, 2], 100))
    X = TRUE_CENTERS[y] + rng.normal(size=(300, 2)) * np.array([0.5, 20.0])
    return pd.DataFrame({"age": X[:, 0], "income": X[:, 1]}), y


def group_means(blobs):
    """The exact centers of the generating groups, sorted like sorted_centers."""
    frame, y = blobs
    return np.array(sorted(frame.groupby(y).mean().to_numpy().tolist()))


@pytest.fixture
def blobs_csv(tmp_path, blobs):
    frame, _ = blobs
    path = tmp_path / "customers.csv"
    frame.assign(name=[f"c{i}" for i in range(len(frame))]).to_csv(path, index=False)
    return path


def sorted_centers(payload):
    centers = [list(c["center"].values()) for c in payload["clusters"]]
    return np.array(sorted(centers))


# --- default data -----------------------------------------------------------


def test_default_iris_run(capsys):
    code, out, err = run(capsys, "fit", "--seed", 0)
    assert code == 0 and err == ""
    header, roles, table = out.split("\n\n")[:3]
    assert roles.splitlines() == [
        "columns: 4 of 4 clustered",
        "  sepal length (cm)  numeric  scaled",
        "  sepal width (cm)   numeric  scaled",
        "  petal length (cm)  numeric  scaled",
        "  petal width (cm)   numeric  scaled",
    ]
    assert header == "iris (bundled with scikit-learn): 150 rows x 4 features, k=3, scaling: standard"
    assert "sepal length (cm)" in table.splitlines()[0]
    rows = table_rows(out)
    assert [int(r[0]) for r in rows] == [0, 1, 2]
    sizes = [int(r[1]) for r in rows]
    assert sum(sizes) == 150
    shares = [float(r[2].rstrip("%")) for r in rows]
    np.testing.assert_allclose(shares, [100 * s / 150 for s in sizes], atol=0.05)
    # Small data: the last column is each cluster's stability (mean Jaccard, 0 to 1).
    assert cluster_table(out)[0].split()[-1] == "stability"
    assert all(0 <= float(r[-1]) <= 1 for r in rows)
    centers = np.array([[float(v) for v in r[3:-1]] for r in rows])
    assert centers.shape == (3, 4)
    # Original units (cm), not standardized values around 0.
    assert np.all(centers >= IRIS.min().to_numpy()) and np.all(centers <= IRIS.max().to_numpy())
    assert centers[:, 0].min() > 4  # sepal lengths are 4.3 to 7.9 cm
    assert "inertia:" in out and "standardized units" in out
    assert "iterations:" in out and "silhouette:" in out and "fit time:" in out


def test_json_matches_the_table_and_a_direct_pipeline_fit(capsys):
    _, out, _ = run(capsys, "fit", "--seed", 0)
    payload = run_json(capsys, "fit", "--seed", 0)
    assert payload["data"] == "iris (bundled with scikit-learn)"
    assert payload["n_samples"] == 150 and payload["n_features"] == 4
    assert payload["features"] == list(IRIS.columns)
    rows = table_rows(out)
    for row, cluster in zip(rows, payload["clusters"], strict=True):
        assert int(row[1]) == cluster["size"]
        np.testing.assert_allclose(
            [float(v) for v in row[3:-1]], list(cluster["center"].values()), atol=5e-4
        )
        assert float(row[-1]) == pytest.approx(cluster["stability"], abs=5e-4)

    # Small data: the command keeps the best of 10 starts.
    pipeline = Pipeline([("scale", StandardScaler()), ("kmeans", KMeans(3, n_init=10, random_state=0))]).fit(
        IRIS
    )
    kmeans = pipeline.named_steps["kmeans"]
    assert payload["inertia"] == pytest.approx(kmeans.inertia_, rel=1e-12)
    assert payload["n_iter"] == kmeans.n_iter_
    expected = pipeline.named_steps["scale"].inverse_transform(kmeans.cluster_centers_)
    got = np.array([list(c["center"].values()) for c in payload["clusters"]])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert payload["silhouette"] == pytest.approx(0.46, abs=0.01)  # the known iris value, k=3
    shown = next(line for line in out.splitlines() if line.startswith("inertia:"))
    assert float(shown.split()[1]) == pytest.approx(payload["inertia"], rel=1e-5)


def test_centers_are_the_means_of_their_rows(capsys, tmp_path):
    labels_path = tmp_path / "labels.csv"
    payload = run_json(capsys, "fit", "--seed", 1, "--labels", labels_path)
    labels = pd.read_csv(labels_path)["cluster"].to_numpy()
    for cluster in payload["clusters"]:
        members = IRIS.to_numpy()[labels == cluster["cluster"]]
        np.testing.assert_allclose(
            list(cluster["center"].values()), members.mean(axis=0), atol=0.05
        )


def test_python_dash_m_runs_the_default_data():
    src = Path(kmeanskit.__file__).resolve().parents[1]
    env = {
        **os.environ,
        # Find this source tree even when kmeanskit is not installed.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "kmeanskit", "fit", "--seed", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("iris (bundled with scikit-learn): 150 rows x 4 features, k=3")
    assert sum(int(r[1]) for r in table_rows(proc.stdout)) == 150


# --- files ------------------------------------------------------------------


def test_csv_with_selected_columns(capsys, blobs_csv, blobs):
    _, y = blobs
    payload = run_json(capsys, "fit", blobs_csv, "-k", 3, "--columns", "age,income", "--seed", 0)
    assert payload["data"] == str(blobs_csv)
    assert payload["features"] == ["age", "income"]
    assert sorted(c["size"] for c in payload["clusters"]) == sorted(np.bincount(y))
    np.testing.assert_allclose(sorted_centers(payload), group_means(blobs), rtol=1e-9)
    np.testing.assert_allclose(sorted_centers(payload), TRUE_CENTERS, rtol=0.02, atol=0.3)
    assert sum(c["share"] for c in payload["clusters"]) == pytest.approx(1.0)


def test_column_selection_order_and_subset(capsys, blobs_csv):
    payload = run_json(capsys, "fit", blobs_csv, "-k", 2, "--columns", " income ", "--seed", 0)
    assert payload["features"] == ["income"] and payload["n_features"] == 1
    for cluster in payload["clusters"]:
        assert 500 < cluster["center"]["income"] < 3500


def test_parquet_input(capsys, tmp_path, blobs):
    frame, _ = blobs
    path = tmp_path / "customers.parquet"
    frame.to_parquet(path)
    payload = run_json(capsys, "fit", path, "-k", 3, "--seed", 0)
    assert payload["features"] == ["age", "income"] and payload["n_samples"] == 300
    np.testing.assert_allclose(sorted_centers(payload), group_means(blobs), rtol=1e-9)


@pytest.mark.parametrize(
    "scale, space", [("none", "original units"), ("minmax", "min-max scaled")]
)
def test_other_scalings_report_centers_in_original_units(capsys, tmp_path, blobs, scale, space):
    frame, _ = blobs
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    payload = run_json(capsys, "fit", path, "-k", 3, "--seed", 0, "--scale", scale)
    assert payload["scale"] == scale and payload["inertia_space"].startswith(space)
    np.testing.assert_allclose(sorted_centers(payload), group_means(blobs), rtol=1e-9)
    _, out, _ = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--scale", scale)
    assert f"scaling: {scale}" in out.splitlines()[0]
    assert space in out


def test_unscaled_inertia_is_in_original_units(capsys, tmp_path, blobs):
    frame, _ = blobs
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    labels_path = tmp_path / "labels.csv"
    payload = run_json(
        capsys, "fit", path, "-k", 3, "--seed", 0, "--scale", "none", "--labels", labels_path
    )
    labels = pd.read_csv(labels_path)["cluster"].to_numpy()
    centers = np.array([list(c["center"].values()) for c in payload["clusters"]])
    expected = ((frame.to_numpy() - centers[labels]) ** 2).sum()
    assert payload["inertia"] == pytest.approx(expected, rel=1e-6)


def test_labels_file_has_one_row_per_input_row_in_order(capsys, tmp_path, blobs_csv, blobs):
    _, y = blobs
    labels_path = tmp_path / "out" / "labels.csv"
    labels_path.parent.mkdir()
    code, out, err = run(
        capsys,
        "fit",
        blobs_csv,
        "-k",
        3,
        "--columns",
        "age,income",
        "--seed",
        0,
        "--labels",
        labels_path,
    )
    assert code == 0, err
    labels = pd.read_csv(labels_path)
    assert list(labels.columns) == ["cluster"] and len(labels) == 300
    # Same partition as the generating groups (cluster numbers may differ).
    assert pd.crosstab(labels["cluster"], y).gt(0).sum(axis=1).eq(1).all()
    sizes = [int(r[1]) for r in table_rows(out)]
    assert np.bincount(labels["cluster"], minlength=3).tolist() == sizes
    assert f"300 rows written to {labels_path}" in out


def test_labels_refused_when_the_directory_is_missing(capsys, tmp_path):
    target = tmp_path / "missing" / "labels.csv"
    code, out, err = run(capsys, "fit", "--labels", target)
    assert code == 2 and out == ""
    assert_one_line_error(err, "does not exist", "missing")
    assert not target.exists()


def test_labels_never_overwrite_the_input(capsys, blobs_csv):
    before = blobs_csv.read_bytes()
    code, _, err = run(
        capsys, "fit", blobs_csv, "-k", 3, "--columns", "age,income", "--labels", blobs_csv
    )
    assert code == 2
    assert_one_line_error(err, "would overwrite the input")
    assert blobs_csv.read_bytes() == before


# --- saving the model (-o/--output) -------------------------------------------


@pytest.mark.parametrize("scale", ["standard", "minmax", "none"])
def test_output_saves_a_model_that_predicts_the_fitted_labels(
    capsys, tmp_path, blobs_csv, blobs, scale
):
    model_path = tmp_path / "model.kmk"
    labels_path = tmp_path / "labels.csv"
    code, out, err = run(
        capsys, "fit", blobs_csv, "-k", 3, "--columns", "age,income", "--seed", 0,
        "--scale", scale, "--labels", labels_path, "-o", model_path,
    )
    assert code == 0 and err == ""
    assert f"model:      saved to {model_path}" in out.splitlines()
    model = kmeanskit.load(model_path)
    assert list(model.feature_names_in_) == ["age", "income"]
    frame, _ = blobs
    labels = pd.read_csv(labels_path)["cluster"].to_numpy()
    np.testing.assert_array_equal(model.predict(frame), labels)


def test_output_in_json_and_distance_quantiles_are_stored(capsys, tmp_path):
    model_path = tmp_path / "iris.kmk"
    payload = run_json(capsys, "fit", "--seed", 0, "--output", model_path)
    assert payload["model_path"] == str(model_path)
    import zipfile

    with zipfile.ZipFile(model_path) as archive:
        summary = json.loads(archive.read("manifest.json"))["summary"]
    assert summary["cluster_sizes"] == [c["size"] for c in payload["clusters"]]
    assert all(q is not None for q in summary["distance_quantiles"])  # X was given


def test_output_refused_when_the_directory_is_missing(capsys, tmp_path):
    target = tmp_path / "missing" / "model.kmk"
    code, out, err = run(capsys, "fit", "-o", target)
    assert code == 2 and out == ""
    assert_one_line_error(err, "-o/--output", "does not exist", "missing")
    assert not target.exists()


def test_output_never_overwrites_the_input(capsys, blobs_csv):
    before = blobs_csv.read_bytes()
    code, out, err = run(
        capsys, "fit", blobs_csv, "-k", 3, "--columns", "age,income", "-o", blobs_csv
    )
    assert code == 2 and out == ""
    assert_one_line_error(err, "would overwrite the input")
    assert blobs_csv.read_bytes() == before


def test_output_and_labels_must_differ(capsys, tmp_path):
    target = tmp_path / "same"
    code, out, err = run(capsys, "fit", "-o", target, "--labels", target)
    assert code == 2 and out == ""
    assert_one_line_error(err, "-o/--output and --labels")
    assert not target.exists()


# --- bad input: one line on stderr, exit code 2 ------------------------------


def test_a_text_column_unique_per_row_is_said_to_be_an_identifier_and_not_clustered(capsys, blobs_csv):
    code, out, err = run(capsys, "fit", blobs_csv, "-k", 3)
    assert code == 0 and err == ""
    assert out.split("\n\n")[1].splitlines() == [
        "columns: 2 of 3 clustered",
        "  age     numeric     scaled",
        "  income  numeric     scaled",
        "  name    identifier  unique per row: pass --id-column to carry it into outputs",
    ]


def test_selected_non_numeric_column_is_refused(capsys, blobs_csv):
    code, _, err = run(capsys, "fit", blobs_csv, "-k", 3, "--columns", "age,name")
    assert code == 2
    assert_one_line_error(err, "'name'")


def test_unknown_column(capsys, blobs_csv):
    code, _, err = run(capsys, "fit", blobs_csv, "-k", 3, "--columns", "age,salary")
    assert code == 2
    assert_one_line_error(
        err, "unknown column 'salary'", "available columns: 'age', 'income', 'name'"
    )


def test_unknown_iris_column(capsys):
    code, _, err = run(capsys, "fit", "--columns", "petal length")
    assert code == 2
    assert_one_line_error(err, "unknown column 'petal length'", "'petal length (cm)'")


def test_missing_file(capsys, tmp_path):
    path = tmp_path / "nope.csv"
    code, _, err = run(capsys, "fit", path, "-k", 3)
    assert code == 2
    assert_one_line_error(err, "no such file", str(path))


def test_missing_values(capsys, tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n1,2\n,3\n4,\n5,6\n7,\n")
    code, _, err = run(capsys, "fit", path, "-k", 2)
    assert code == 2
    assert_one_line_error(err, "missing values", "'a' (1 missing)", "'b' (2 missing)")


def test_k_is_required_with_data(capsys, blobs_csv):
    code, out, err = run(capsys, "fit", blobs_csv, "--columns", "age")
    assert code == 2 and out == ""
    assert_one_line_error(err, "-k/--n-clusters is required")


@pytest.mark.parametrize(
    "k, fragments",
    [
        (0, ["at least 1", "got 0"]),
        (-2, ["at least 1"]),
        (301, ["301", "more than the number of rows (300)"]),
    ],
)
def test_impossible_k(capsys, blobs_csv, k, fragments):
    code, out, err = run(capsys, "fit", blobs_csv, "-k", k, "--columns", "age,income")
    assert code == 2 and out == ""
    assert_one_line_error(err, *fragments)


def test_estimator_parameter_errors_are_one_line(capsys):
    code, _, err = run(capsys, "fit", "--max-iter", 0)
    assert code == 2
    assert_one_line_error(err, "max_iter")


def test_unsupported_extension(capsys, tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK")
    code, _, err = run(capsys, "fit", path, "-k", 2)
    assert code == 2
    assert_one_line_error(err, "unsupported file extension .xlsx")


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "--scale", "zscore"],
        ["fit", "--n-init", "many"],
        ["fit", "-k", "three"],
        ["fit", "--columns", "a,,b"],
        ["nope"],
    ],
)
def test_usage_errors_exit_2(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert "usage: kmeanskit" in err and "error:" in err


def test_no_command_prints_help_and_exits_2(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "fit" in err and "exit codes" in err


# --- warnings, internal errors, help ---------------------------------------


def test_convergence_warning_is_one_line(capsys, tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("a,b\n1,1\n1,1\n1,1\n2,2\n2,2\n")  # two distinct points, k=3
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0)
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kmeanskit: warning: ")
    assert "distinct clusters (2)" in lines[0]
    assert "Warning:" not in err  # no Python warning dump with file and line
    assert sum(int(r[1]) for r in table_rows(out)) == 5


def test_internal_errors_exit_1_in_one_line(capsys, monkeypatch):
    import kmeanskit._analysis.workflow

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(kmeanskit._analysis.workflow, "fit_clusters", broken)
    code, _, err = run(capsys, "fit")
    assert code == 1
    assert_one_line_error(
        err, "internal error", "RuntimeError", "engine exploded", "KMEANSKIT_DEBUG"
    )
    monkeypatch.setenv("KMEANSKIT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="engine exploded"):
        main(["fit"])


def test_debug_flag_re_raises_user_errors(capsys, tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["fit", str(tmp_path / "nope.csv"), "-k", "2", "--debug"])


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"kmeanskit {kmeanskit.__version__}"


@pytest.mark.parametrize("args", [["--help"], ["fit", "--help"]])
def test_help_has_examples(capsys, args):
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "examples:" in out and "kmeanskit fit" in out


def test_top_level_help_documents_exit_codes(capsys):
    _, out, _ = run(capsys, "--help")
    assert "exit codes:" in out
    for line in (
        "0    success",
        "1    unexpected internal error",
        "2    usage error or bad input",
    ):
        assert line in out


# --- silhouette and the workflow --------------------------------------------


def test_single_cluster_has_no_silhouette(capsys):
    payload = run_json(capsys, "fit", "-k", 1)
    assert (
        payload["silhouette"] is None
        and "single (non-empty) cluster" in payload["silhouette_note"]
    )
    assert payload["clusters"][0]["size"] == 150
    np.testing.assert_allclose(
        list(payload["clusters"][0]["center"].values()), IRIS.mean(), rtol=1e-9
    )
    _, out, _ = run(capsys, "fit", "-k", 1)
    assert "silhouette: n/a (undefined with a single (non-empty) cluster)" in out


def test_every_row_alone_has_no_silhouette():
    data = pd.DataFrame({"x": [0.0, 1.0, 5.0, 9.0]})
    result = fit_clusters(data, 4, random_state=0)
    assert result.silhouette is None and "every row is alone" in result.silhouette_note
    assert sorted(result.centers["x"]) == pytest.approx([0.0, 1.0, 5.0, 9.0])


def test_silhouette_is_sampled_above_the_limit(blobs):
    frame, _ = blobs
    full = fit_clusters(frame, 3, random_state=0)
    sampled = fit_clusters(frame, 3, random_state=0, silhouette_sample_size=100)
    assert full.silhouette_note is None
    assert sampled.silhouette_note == "estimated on a random sample of 100 of 300 rows"
    assert sampled.silhouette == pytest.approx(full.silhouette, abs=0.05)
    assert full.silhouette > 0.8  # well separated groups


def test_fit_result_fields_and_json(blobs):
    frame, _ = blobs
    result = fit_clusters(frame, 3, scale="minmax", random_state=0)
    assert result.labels.shape == (300,)
    assert list(result.clusters.columns) == ["cluster", "size", "share", "age", "income"]
    assert result.clusters["size"].sum() == 300
    np.testing.assert_allclose(result.pipeline.predict(frame), result.labels)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["n_clusters"] == 3 and payload["random_state"] == 0
    assert payload["inertia"] == pytest.approx(result.inertia)
    assert result.fit_seconds > 0


def test_features_named_like_table_columns():
    data = pd.DataFrame({"size": [1.0, 1.1, 9.0, 9.1], "share": [0.0, 0.1, 5.0, 5.1]})
    payload = fit_clusters(data, 2, random_state=0).to_dict()
    assert sorted(c["size"] for c in payload["clusters"]) == [2, 2]
    assert sorted(c["center"]["size"] for c in payload["clusters"]) == pytest.approx([1.05, 9.05])


def test_bad_scale_is_refused():
    with pytest.raises(
        ValueError, match="scale must be one of 'standard', 'minmax', 'none'; got 'log'"
    ):
        fit_clusters(IRIS, 3, scale="log")


def test_input_frame_is_not_modified():
    data = IRIS.copy()
    fit_clusters(data, 3, random_state=0)
    pd.testing.assert_frame_equal(data, IRIS)


# --- --out-of-core, --mini-batch, --chunk-rows ----------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("scale", ["standard", "none"])
def test_out_of_core_prints_what_the_in_memory_fit_prints(capsys, tmp_path, blobs, suffix, scale):
    frame, _ = blobs
    path = tmp_path / f"customers{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    memory = run_json(capsys, "fit", path, "-k", 3, "--seed", 0, "--scale", scale)
    stream = run_json(capsys, "fit", path, "-k", 3, "--seed", 0, "--scale", scale, "--out-of-core",
                      "--chunk-rows", 64)
    # 300 rows fit in the seeding sample: the same k-means++ draws, then exact Lloyd.
    assert [c["size"] for c in stream["clusters"]] == [c["size"] for c in memory["clusters"]]
    np.testing.assert_allclose(sorted_centers(stream), sorted_centers(memory), rtol=1e-9)
    assert stream["inertia"] == pytest.approx(memory["inertia"], rel=1e-9)
    assert stream["n_iter"] == memory["n_iter"]
    assert stream["silhouette"] == pytest.approx(memory["silhouette"], rel=1e-9)
    assert stream["n_samples"] == 300 and stream["features"] == ["age", "income"]
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--out-of-core")
    assert code == 0 and err == ""
    assert "method:     exact K-Means (Lloyd), out of core (chunks of 65536 rows)" in out.splitlines()


def test_out_of_core_labels_and_model(capsys, tmp_path, blobs):
    frame, _ = blobs
    path = tmp_path / "customers.parquet"
    frame.to_parquet(path)
    labels_path, model_path = tmp_path / "labels.csv", tmp_path / "model.kmk"
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--out-of-core", "--chunk-rows", 50,
                         "--labels", labels_path, "-o", model_path)
    assert code == 0 and err == ""
    labels = pd.read_csv(labels_path)["cluster"].to_numpy()
    sizes = [int(r[1]) for r in table_rows(out)]
    np.testing.assert_array_equal(np.bincount(labels, minlength=3), sizes)
    model = kmeanskit.load(model_path)
    np.testing.assert_array_equal(model.predict(frame), labels)
    # Groups recovered: each true group is one cluster.
    _, y = blobs
    assert len({(a, b) for a, b in zip(y, labels, strict=True)}) == 3


def test_mini_batch_in_memory_and_out_of_core(capsys, tmp_path, blobs):
    payload = run_json(capsys, "fit", "--seed", 0, "--mini-batch")
    assert sum(c["size"] for c in payload["clusters"]) == 150
    assert payload["silhouette"] == pytest.approx(0.46, abs=0.02)  # the iris value, k=3
    frame, y = blobs
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    code, out, err = run(capsys, "fit", path, "-k", 3, "--seed", 0, "--mini-batch", "--out-of-core")
    assert code == 0 and err == ""
    assert "method:     mini-batch K-Means, out of core (chunks of 65536 rows)" in out
    assert sorted(int(r[1]) for r in table_rows(out)) == [100, 100, 100]


@pytest.mark.parametrize(
    "extra, fragments",
    [
        (["--out-of-core", "--chunk-rows", "0"], ["--chunk-rows must be at least 1, got 0"]),
        (["--out-of-core", "--n-init", "3"], ["--n-init 3 is not available with --out-of-core"]),
        (["--mini-batch", "-o", "m.kmk"], ["cannot save a mini-batch model"]),
        (["--out-of-core", "--columns", "nope"], ["unknown column 'nope'"]),
    ],
)
def test_streaming_option_errors_are_one_line(capsys, blobs_csv, extra, fragments, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "fit", blobs_csv, "-k", 3, *extra)
    assert code == 2
    assert_one_line_error(err, *fragments)


def test_out_of_core_gives_text_columns_the_roles_of_the_in_memory_fit(capsys, blobs_csv):
    _, memory, _ = run(capsys, "fit", blobs_csv, "-k", 3, "--seed", 0)
    code, stream, err = run(capsys, "fit", blobs_csv, "-k", 3, "--seed", 0, "--out-of-core")
    assert code == 0 and err == ""
    said = [block.splitlines() for block in (memory.split("\n\n")[1], stream.split("\n\n")[1])]
    assert said[0][:3] == said[1][:3]  # the numeric columns
    assert said[1][3] == said[0][3] + " (judged on the first 300 rows)"
