"""``kmeanskit drift``: a report, and an exit code a cron job can act on (0 no drift, 3 drift, 2 bad input)."""

import json

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KMeans, save
from kmeanskit.cli import main

from .running import run

CENTERS = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])


def draw(n, seed, shift=None):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    X = CENTERS[y] + rng.normal(size=(n, 3))
    if shift is not None:
        X[y == shift] += 2.0
    return pd.DataFrame(X, columns=["a", "b", "c"])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("drift_cli")
    train = draw(3000, seed=0)
    train.to_csv(d / "train.csv", index=False)
    draw(1500, seed=1).to_csv(d / "same.csv", index=False)
    shifted = draw(1500, seed=2, shift=1)
    shifted.insert(1, "note", "x")  # other columns are ignored
    shifted.to_parquet(d / "shifted.parquet")
    return d


@pytest.fixture(scope="module")
def model(files):
    path = files / "model.kmk"
    assert main(["fit", str(files / "train.csv"), "-k", "4", "--seed", "0", "-o", str(path)]) == 0
    return path


def test_same_distribution_exits_0_with_a_report(capsys, files, model):
    code, out, err = run(capsys, "drift", model, files / "same.csv")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "NO DRIFT"
    assert "'same.csv'" in out.replace(str(files) + "/", "") and "(1500 rows)" in out
    assert "training summary" in out and "(3000 rows)" in out
    assert "train share" in out and "beyond p99" in out
    assert out.count("\n       ") >= 4  # one table row per cluster


def test_shifted_cluster_exits_3(capsys, files, model):
    code, out, _ = run(capsys, "drift", model, files / "shifted.parquet")
    assert code == 3
    assert out.startswith("DRIFT: distances to the center changed in cluster")


def test_json_report(capsys, files, model):
    code, out, _ = run(capsys, "drift", model, files / "shifted.parquet", "--json")
    assert code == 3
    payload = json.loads(out)
    assert payload["verdict"] == "drift" and payload["drift"] is True and payload["distance_drift"] is True
    assert payload["n_new"] == 1500 and payload["n_reference"] == 3000 and len(payload["clusters"]) == 4
    assert payload["model"] == str(model)


def test_reference_file_and_columns_for_a_model_without_names(capsys, tmp_path, files):
    train = draw(3000, seed=0)
    path = tmp_path / "bare.kmk"
    save(KMeans(4, random_state=0).fit(train.to_numpy()), path)  # no names, no quantiles
    table = draw(1500, seed=2, shift=1)
    table["extra"] = 1.0
    table.to_csv(tmp_path / "new.csv", index=False)
    code, out, _ = run(capsys, "drift", path, tmp_path / "new.csv", "--columns", "a,b,c")
    assert code == 0 and "distances:  not checked" in out  # shares alone do not move
    code, out, _ = run(capsys, "drift", path, tmp_path / "new.csv", "--columns", "a,b,c",
                       "--reference", files / "train.csv")
    assert code == 3 and "'" + str(files / "train.csv") + "' (3000 rows)" in out
    code, _, err = run(capsys, "drift", path, tmp_path / "new.csv")
    assert code == 2 and "has 4 feature columns but the model" in err and "--columns" in err


@pytest.mark.parametrize("args, message", [
    (["MODEL", "missing.csv"], "no such file"),
    (["NOTAMODEL", "same.csv"], "not a valid .kmk model file"),
    (["MODEL", "same.csv", "--columns", "a,b"], "takes its features by name"),
    (["MODEL", "same.csv", "--alpha", "2"], "strictly between 0 and 1"),
    (["MODEL", "same.csv", "--psi-threshold", "-1"], "positive number"),
])
def test_bad_input_exits_2_with_one_line(capsys, files, model, args, message):
    (files / "notamodel.kmk").write_text("hello")
    args = [str(model) if a == "MODEL" else str(files / "notamodel.kmk") if a == "NOTAMODEL"
            else str(files / a) if a.endswith(".csv") else a for a in args]
    code, _, err = run(capsys, "drift", *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 or "usage:" in err


def test_help_has_examples_and_exit_codes(capsys):
    code, out, _ = run(capsys, "drift", "--help")
    assert code == 0 and "kmeanskit drift customers.kmk" in out and "0 no drift, 3 drift" in out
    code, out, _ = run(capsys, "--help")
    assert "3    drift found" in out and "drift" in out


def test_reference_rows_serve_a_model_saved_without_a_training_summary(capsys, files, tmp_path):
    from kmeanskit import MiniBatchKMeans

    train = pd.read_csv(files / "train.csv")
    mb = MiniBatchKMeans(4, random_state=0, n_init=3)
    for start in range(0, len(train), 500):  # partial_fit: no labels cover the training rows
        mb.partial_fit(train.iloc[start:start + 500])
    path = tmp_path / "mb.kmk"
    save(mb, path)
    code, _, err = run(capsys, "drift", path, files / "same.csv")
    assert code == 2 and "--reference" in err  # no summary to compare with: says what to pass
    code, out, err = run(capsys, "drift", path, files / "same.csv", "--reference", files / "train.csv")
    assert code == 0 and err == "" and out.splitlines()[0] == "NO DRIFT"
    code, out, _ = run(capsys, "drift", path, files / "shifted.parquet", "--reference", files / "train.csv")
    assert code == 3 and out.startswith("DRIFT:")


# ------------------------------------------------------------ features that moved
def test_the_features_that_moved_are_named(capsys, files, model, tmp_path):
    moved = draw(1500, seed=5)
    moved["b"] += 3.0  # about 0.7 training sd
    moved.to_csv(tmp_path / "moved.csv", index=False)
    code, out, _ = run(capsys, "drift", model, tmp_path / "moved.csv")
    assert code == 3
    assert "feature moved: b +" in out.splitlines()[0]
    block = out.split("features:")[1]
    assert block.splitlines()[0].startswith("   1 of 3 moved: b (strongest shift first")
    header, first = block.split("\n\n")[1].splitlines()[:2]
    assert header.split()[:4] == ["feature", "train", "mean", "new"]
    assert first.split()[0] == "b" and "yes" in first.split()
    payload = json.loads(run(capsys, "drift", model, tmp_path / "moved.csv", "--json")[1])
    assert payload["feature_drift"] is True and payload["features"][0]["feature"] == "b"
    assert payload["features"][0]["shift"] == pytest.approx(moved["b"].mean() - draw(3000, seed=0)["b"].mean())


def test_no_feature_moved_on_the_same_distribution(capsys, files, model):
    code, out, _ = run(capsys, "drift", model, files / "same.csv")
    assert code == 0 and "features:   none of 3 moved" in out


def test_an_old_model_file_says_why_features_are_not_named(capsys, tmp_path):
    from pathlib import Path

    v1 = Path(__file__).parents[2] / "io" / "persistence" / "data" / "kmeans_v1.kmk"
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(1000, 10, size=(50, 5)), columns=list("vwxyz")).to_csv(tmp_path / "new.csv", index=False)
    _, out, err = run(capsys, "drift", v1, tmp_path / "new.csv")
    assert err == ""
    line = next(text for text in out.splitlines() if text.startswith("features:"))
    assert "the model file holds no per-feature statistics" in line and "pass --reference TRAIN" in line
