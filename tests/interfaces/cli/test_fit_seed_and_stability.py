"""``kmeanskit fit``: the seed it used, more restarts on small data, each cluster's stability."""

import json

import numpy as np
import pandas as pd
import pytest

from kmeanskit import KMeans, cluster_stability
from kmeanskit._analysis.workflow import SMALL_FIT_SIZE, is_small_fit

from .running import assert_one_line_error, cluster_table, run


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def line(out, key):
    return next(text for text in out.splitlines() if text.startswith(f"{key}:"))


@pytest.fixture
def artefact_csv(tmp_path):
    """Three tight blobs and a thin uniform background: with k=4 one cluster is an artefact."""
    rng = np.random.default_rng(0)
    blobs = [rng.normal(center, 0.5, size=(200, 2)) for center in ((0, 0), (10, 0), (5, 8.66))]
    angle = rng.uniform(0, 2 * np.pi, 60)
    r = 30 * np.sqrt(rng.uniform(0, 1, 60))
    X = np.concatenate(blobs + [np.c_[5 + r * np.cos(angle), 2.9 + r * np.sin(angle)]])
    path = tmp_path / "artefact.csv"
    pd.DataFrame(X, columns=["x", "y"]).to_csv(path, index=False)
    return path


@pytest.fixture
def large_csv(tmp_path):
    """20,000 rows x 2 features: with k=7, above the small-data size."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 2)) + rng.integers(0, 7, size=(20_000, 1)) * 4
    path = tmp_path / "large.csv"
    pd.DataFrame(X, columns=["a", "b"]).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------- the seed
def test_a_drawn_seed_is_printed_and_repeats_the_run(capsys):
    code, out, err = run(capsys, "fit", "--stability", 0)
    assert code == 0 and err == ""
    shown = line(out, "seed")
    seed = int(shown.split()[1])
    assert f"(drawn at random; --seed {seed} repeats this run)" in shown
    first = run_json(capsys, "fit", "--seed", seed)
    again = run_json(capsys, "fit", "--seed", seed)
    assert first["seed"] == seed and first["random_state"] == seed and first["seed_drawn"] is False
    assert first["clusters"] == again["clusters"] and first["inertia"] == again["inertia"]


def test_json_reports_a_drawn_seed(capsys):
    payload = run_json(capsys, "fit", "--stability", 0)
    assert payload["seed_drawn"] is True
    assert isinstance(payload["seed"], int) and 0 <= payload["seed"] < 2**31
    assert payload["random_state"] == payload["seed"]


def test_a_given_seed_is_printed_plainly(capsys):
    _, out, _ = run(capsys, "fit", "--seed", 7, "--stability", 0)
    assert line(out, "seed") == "seed:       7"


# ---------------------------------------------------------------- restarts
def test_small_data_keeps_the_best_of_10_starts_and_says_so(capsys):
    assert is_small_fit(150, 4, 3) and not is_small_fit(SMALL_FIT_SIZE + 1, 1, 1)
    _, out, _ = run(capsys, "fit", "--seed", 0, "--stability", 0)
    assert line(out, "restarts") == "restarts:   best of 10 starts (small data; --n-init to choose)"
    payload = run_json(capsys, "fit", "--seed", 0, "--stability", 0)
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    iris = load_iris().data
    expected = KMeans(3, n_init=10, random_state=0).fit(StandardScaler().fit_transform(iris))
    assert payload["inertia"] == pytest.approx(expected.inertia_, rel=1e-12)


def test_n_init_given_is_kept_and_not_announced(capsys):
    _, out, _ = run(capsys, "fit", "--seed", 0, "--n-init", 1, "--stability", 0)
    assert "restarts:" not in out


def test_large_data_keeps_the_library_default(capsys, large_csv):
    _, out, _ = run(capsys, "fit", large_csv, "-k", 7, "--seed", 0)
    assert "restarts:" not in out and "stability:" not in out
    assert cluster_table(out)[0].split()[-1] != "stability"


# ---------------------------------------------------------------- stability
def test_stability_column_flags_the_artefact(capsys, artefact_csv):
    code, out, err = run(capsys, "fit", artefact_csv, "-k", 4, "--seed", 0, "--n-init", "auto")
    assert code == 0 and err == ""
    header, *rows = cluster_table(out)
    assert header.split()[-1] == "stability"
    by_size = {int(r.split()[1]): float(r.split()[-1]) for r in rows}
    small = min(by_size)
    assert by_size[small] < 0.6 and all(v > 0.85 for size, v in by_size.items() if size != small)
    shown = line(out, "stability")
    assert "mean Jaccard similarity over 20 bootstrap resamples" in shown
    assert "dissolves" in shown and "not to trust as they are: cluster" in shown


def test_stability_in_json_is_the_library_result(capsys, artefact_csv):
    payload = run_json(capsys, "fit", artefact_csv, "-k", 4, "--seed", 0, "--n-init", "auto", "--stability", 5)
    assert payload["stability"]["n_boot"] == 5 and payload["stability"]["method"] == "bootstrap"
    frame = pd.read_csv(artefact_csv)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), KMeans(4, random_state=0)).fit(frame)
    expected = cluster_stability(frame, pipe, n_boot=5, random_state=0)
    assert [c["stability"] for c in payload["clusters"]] == pytest.approx(expected.mean_jaccard.tolist(), abs=0)
    assert [c["stability_reading"] for c in payload["clusters"]] == expected.clusters["reading"].tolist()


def test_stability_is_opt_in_on_large_data(capsys, large_csv):
    payload = run_json(capsys, "fit", large_csv, "-k", 7, "--seed", 0, "--stability", 3)
    assert payload["stability"]["n_resampled_from"] == 10_000
    assert all(0 <= c["stability"] <= 1 for c in payload["clusters"])


def test_too_few_rows_skip_the_default_stability(capsys, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("a,b\n0,0\n0,1\n5,5\n5,6\n9,9\n")
    payload = run_json(capsys, "fit", path, "-k", 3, "--seed", 0)
    assert payload["stability"] is None


@pytest.mark.parametrize(("value", "message"), [
    ("1", "expected 0 (no stability) or at least 2 resamples, got '1'"),
    ("-3", "expected 0 (no stability) or at least 2 resamples, got '-3'"),
    ("many", "expected a number of resamples such as 20, or 0, got 'many'"),
])
def test_bad_stability_values(capsys, value, message):
    code, _, err = run(capsys, "fit", "--stability", value)
    assert code == 2 and message in err


def test_stability_refused_out_of_core(capsys, large_csv):
    code, _, err = run(capsys, "fit", large_csv, "-k", 3, "--out-of-core", "--stability", 20)
    assert code == 2
    assert_one_line_error(err, "--stability is not available with --out-of-core")
