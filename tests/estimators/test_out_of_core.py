"""fit_out_of_core: the in-memory result from a stream, with bounded memory."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from kmeanskit._algorithms.streaming import Reservoir, Survey
from kmeanskit._estimators.kmeans import KMeans
from kmeanskit._estimators.minibatch import MiniBatchKMeans
from kmeanskit._io.chunked import TableStream
from kmeanskit._io.tables import read_table
from kmeanskit.streaming import fit_out_of_core


def _frame(n=6000, d=4, k=5, seed=0, std=2.5):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return pd.DataFrame(X + 50.0, columns=[f"f{i}" for i in range(d)])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ooc")
    frame = _frame()
    frame.to_parquet(root / "data.parquet", row_group_size=1000)
    frame.to_csv(root / "data.csv", index=False)
    return frame, root


@pytest.mark.parametrize("name", ["data.parquet", "data.csv"])
def test_equals_the_in_memory_lloyd_fit_from_the_same_centers(files, name):
    frame, root = files
    X = frame.to_numpy()
    # One start far from the data: its cluster is empty at once and takes the
    # farthest row of the pass, which the stream must find as memory does.
    init = X[[0, 1, 2, 3, 4]].copy()
    init[4] = 1e3
    memory = KMeans(5, init=init, n_init=1, algorithm="lloyd").fit(read_table(root / name))
    stream = fit_out_of_core(root / name, 5, init=init, chunk_rows=777)  # ragged chunks
    assert isinstance(stream, KMeans)
    assert stream.n_iter_ == memory.n_iter_ > 3
    np.testing.assert_array_equal(stream.labels_, memory.labels_)
    # Only the summation order differs (chunked means and sums): rounding level.
    np.testing.assert_allclose(stream.cluster_centers_, memory.cluster_centers_, rtol=1e-12)
    np.testing.assert_allclose(stream.inertia_history_, memory.inertia_history_, rtol=1e-10)
    assert stream.inertia_ == pytest.approx(memory.inertia_, rel=1e-10)
    assert list(stream.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(stream.predict(frame), stream.labels_)


def test_seeded_fit_matches_memory_and_ignores_chunk_size(files):
    frame, root = files
    path = root / "data.parquet"
    # Fewer rows than the sample: the sample is the whole data, drawn in order,
    # so k-means++ draws the rows KMeans draws in memory for the same seed.
    a = fit_out_of_core(path, 5, random_state=3, chunk_rows=500)
    b = fit_out_of_core(path, 5, random_state=3, chunk_rows=4096)
    memory = KMeans(5, random_state=3).fit(frame)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.labels_, memory.labels_)
    np.testing.assert_allclose(a.cluster_centers_, memory.cluster_centers_, rtol=1e-12)


def test_reservoir_is_uniform_and_chunking_free():
    n, size = 300, 30
    rows = np.arange(n, dtype=np.float64)[:, None]
    counts = np.zeros(n)
    for seed in range(400):
        r = Reservoir(size, 1, np.float64, np.random.RandomState(seed))
        for start in range(0, n, 64):
            r.add(rows[start:start + 64])
        sample = r.rows()[:, 0]
        assert np.unique(sample).size == size  # without replacement
        counts[sample.astype(int)] += 1
        if seed < 5:
            other = Reservoir(size, 1, np.float64, np.random.RandomState(seed))
            for start in range(0, n, 7):
                other.add(rows[start:start + 7])
            np.testing.assert_array_equal(other.rows(), r.rows())
    # Each row is kept with probability size / n = 0.1: 40 of 400 times.
    # Binomial sd ~6; the first and last rows are no different from the others.
    assert abs(counts.mean() - 40) < 1e-9
    assert np.abs(counts - 40).max() < 30
    assert abs(counts[:100].mean() - counts[200:].mean()) < 4
    small = Reservoir(50, 1, np.float64, np.random.RandomState(0))
    small.add(rows[:20])
    np.testing.assert_array_equal(small.rows(), rows[:20])


def test_survey_moments_are_exact(files):
    frame, root = files
    stream = TableStream(root / "data.csv", None, 999, np.float64)
    survey = Survey(stream, 100, np.random.RandomState(0))
    for _, chunk in stream.chunks():
        survey.add(chunk)
    survey.check()
    X = frame.to_numpy()
    assert survey.n == X.shape[0]
    np.testing.assert_allclose(survey.mean, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(survey.variance, X.var(axis=0), rtol=1e-11)


def test_mini_batch_passes(files):
    frame, root = files
    km = fit_out_of_core(root / "data.parquet", 5, mini_batch=True, random_state=0)
    assert isinstance(km, MiniBatchKMeans)
    full = KMeans(5, random_state=0).fit(frame).inertia_
    assert km.inertia_ <= 1.05 * full
    np.testing.assert_array_equal(km.predict(frame), km.labels_)
    assert km.n_steps_ >= 1 and km.n_iter_ >= 1


def test_float32_and_column_selection(files):
    frame, root = files
    km = fit_out_of_core(root / "data.parquet", 5, columns=["f2", "f0"], dtype=np.float32, random_state=0)
    assert km.cluster_centers_.dtype == np.float32
    assert list(km.feature_names_in_) == ["f2", "f0"]
    ref = fit_out_of_core(root / "data.parquet", 5, columns=["f2", "f0"], random_state=0)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-4)


def test_booleans_integers_and_arrays(tmp_path):
    frame = pd.DataFrame({"a": np.arange(100) % 7, "flag": np.arange(100) % 2 == 0, "x": np.linspace(0, 1, 100)})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    expected = KMeans(3, random_state=0).fit(read_table(tmp_path / "t.parquet"))
    for name in ("t.parquet", "t.csv"):
        km = fit_out_of_core(tmp_path / name, 3, random_state=0, chunk_rows=30)
        np.testing.assert_array_equal(km.labels_, expected.labels_)
    from_array = fit_out_of_core(frame.to_numpy(dtype=float), 3, random_state=0, chunk_rows=30)
    assert not hasattr(from_array, "feature_names_in_")
    np.testing.assert_array_equal(from_array.labels_, expected.labels_)


def test_progress_bar_per_pass(files, capsys):
    _, root = files
    fit_out_of_core(root / "data.parquet", 3, random_state=0, max_iter=2, progress=True)
    err = capsys.readouterr().err
    assert "survey (pass 0)" in err and "Lloyd (pass 1)" in err and "labels (last pass)" in err
    fit_out_of_core(root / "data.parquet", 3, random_state=0, max_iter=2)  # not a TTY: silent
    assert capsys.readouterr().err == ""


def _same_error(path, columns=None, **fit_kwargs):
    """read_table and fit_out_of_core refuse ``path`` with the same message."""
    with pytest.raises(ValueError) as a:
        read_table(path, columns)
    with pytest.raises(ValueError) as b:
        fit_out_of_core(path, 2, columns=columns, **fit_kwargs)
    assert str(a.value) == str(b.value)
    return str(a.value)


def test_refuses_what_read_table_refuses(tmp_path):
    frame = _frame(n=300)
    frame.loc[[5, 250], "f1"] = np.nan  # in two different chunks: counted over the file
    frame.loc[7, "f3"] = np.nan
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    frame.to_parquet(tmp_path / "gaps.parquet")
    for name in ("gaps.csv", "gaps.parquet"):
        path = tmp_path / name
        message = _same_error(path, chunk_rows=100)
        assert "'f1' (2 missing), 'f3' (1 missing)" in message
    text = _frame(n=50)
    text["name"] = "x"
    text.to_parquet(tmp_path / "text.parquet")
    text.to_csv(tmp_path / "text.csv", index=False)
    for name in ("text.parquet", "text.csv"):
        path = tmp_path / name
        message = _same_error(path)
        assert "non-numeric column: 'name'" in message
        _same_error(path, ["nope"])
    inf = _frame(n=50)
    inf.loc[3, "f0"] = np.inf
    inf.to_parquet(tmp_path / "inf.parquet")
    _same_error(tmp_path / "inf.parquet")


def test_bad_arguments(files, tmp_path):
    _, root = files
    path = root / "data.parquet"
    with pytest.raises(FileNotFoundError, match="no such file"):
        fit_out_of_core(tmp_path / "missing.parquet", 2)
    with pytest.raises(ValueError, match="unsupported file extension .json"):
        (tmp_path / "a.json").write_text("{}")
        fit_out_of_core(tmp_path / "a.json", 2)
    with pytest.raises(ValueError, match="chunk_rows must be at least 1, got 0"):
        fit_out_of_core(path, 2, chunk_rows=0)
    with pytest.raises(TypeError, match="n_clusters must be an int"):
        fit_out_of_core(path, 2.5)
    with pytest.raises(ValueError, match="n_samples=6000 should be >= n_clusters=7000"):
        fit_out_of_core(path, 7000)
    with pytest.raises(ValueError, match="init must be 'k-means\\+\\+', 'random'"):
        fit_out_of_core(path, 2, init="kmeans")
    with pytest.raises(ValueError, match="init must be 'k-means\\+\\+', 'random'"):
        fit_out_of_core(path, 2, init=lambda X, k, random_state: X[:k])
    with pytest.raises(ValueError, match="shape of the initial centers"):
        fit_out_of_core(path, 2, init=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="tol must be a non-negative number"):
        fit_out_of_core(path, 2, tol=-1)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        fit_out_of_core(path, 2, dtype=np.int64)


def test_mini_batch_chunks_smaller_than_a_batch(files):
    # 300-row chunks, 1024-row batches: rows carry over to the next chunk.
    frame, root = files
    km = fit_out_of_core(root / "data.csv", 5, mini_batch=True, chunk_rows=300, random_state=1, max_iter=3)
    assert km.n_steps_ >= 5
    assert km.inertia_ <= 1.5 * KMeans(5, random_state=0).fit(frame).inertia_
