"""What keeps the out-of-core fit's memory down (GitHub issue 6), pinned.

- Parquet columns are copied from their Arrow buffers: ``pyarrow.Array.to_numpy``
  would import pandas (about 45 MB), and ``kmeanskit._io.tables`` imports it lazily;
- the Lloyd step counts the labels it changes, so the convergence loop keeps
  no copy of the labels (4 bytes per row), with the same iterations.
"""

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.datasets import make_blobs

from kmeanskit._algorithms.lloyd import LloydStep
from kmeanskit._algorithms.loop import run_kmeans
from kmeanskit._algorithms.rows import DenseRows
from kmeanskit._algorithms.step import Step
from kmeanskit._algorithms.streaming import Progress, StreamLloydStep
from kmeanskit._io.chunked import TableStream

from ..fresh_python import run_python


def test_io_module_imports_without_pandas():
    out = run_python("""
        import sys
        import kmeanskit._io.tables
        print("pandas" in sys.modules)
    """)
    assert out.strip() == "False"


@pytest.mark.parametrize("call", [
    "fit_out_of_core(path, 3, chunk_rows=700, random_state=0, progress=False)",
    "fit_clusters_out_of_core(path, 3, chunk_rows=700, random_state=0)",
])
def test_parquet_passes_run_without_pandas(tmp_path, call):
    X, _ = make_blobs(n_samples=2000, n_features=3, centers=3, random_state=0)
    path = tmp_path / "rows.parquet"
    pd.DataFrame(X, columns=list("abc")).to_parquet(path, row_group_size=900)
    out = run_python(f"""
        import sys
        from kmeanskit._algorithms import streaming
        from kmeanskit._analysis.out_of_core_workflow import fit_clusters_out_of_core
        from kmeanskit.streaming import fit_out_of_core

        seen, passes_of = [], streaming.Progress.passes
        def passes_seen(self, stream, desc, total):
            yield from passes_of(self, stream, desc, total)
            seen.append("pandas" in sys.modules)
        streaming.Progress.passes = passes_seen
        path = {str(path)!r}
        {call}
        print(seen)
    """)
    seen = eval(out)  # a list of booleans printed by the child
    assert len(seen) >= 4 and not any(seen), seen


def _values(array, dtype=np.float64):
    stream = TableStream(pd.DataFrame({"x": [0.0]}), None, 10, dtype)
    return stream._arrow_values(array, pa.from_numpy_dtype(np.dtype(dtype)))


@pytest.mark.parametrize("array", [
    pa.array([1.5, -2.0, 3.25, 1e300, -0.0]),
    pa.array([1.5, None, 3.25, None, 7.0]),
    pa.array([1, -2, 3, 2**40, 0], pa.int64()),
    pa.array([1, None, 3, 4, 5], pa.int32()),
    pa.array([True, False, None, True, True]),
    pa.array([1.5, 2.5, None, 0.25, 8.0], pa.float32()),
    pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.5"), decimal.Decimal("0"), decimal.Decimal("2")]),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_arrow_values_are_what_to_numpy_gives(array, dtype):
    target = pa.from_numpy_dtype(np.dtype(dtype))
    expected = pc.cast(array, target, safe=False).to_numpy(zero_copy_only=False)  # nulls become NaN
    for part in (array, array.slice(1), array.slice(2, 2)):  # slices start inside the buffer
        got = _values(part, dtype)
        want = expected[part.offset:part.offset + len(part)]
        assert got.dtype == dtype and got.shape == (len(part),)
        np.testing.assert_array_equal(got, want)
        assert np.isnan(got).sum() == part.null_count
    if pa.types.is_integer(array.type):  # large integers round as NumPy rounds them
        np.testing.assert_array_equal(_values(array.fill_null(0), dtype), array.fill_null(0).to_numpy().astype(dtype))


def test_parquet_chunks_across_batches_and_row_groups(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "i": rng.integers(-50, 50, 20_000), "f": rng.normal(size=20_000), "b": rng.random(20_000) < 0.5,
    })
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=3001)
    stream = TableStream(tmp_path / "t.parquet", ["f", "i", "b"], 8999, np.float64)
    starts, chunks = zip(*[(start, chunk.copy()) for start, chunk in stream.chunks()], strict=True)
    assert starts == (0, 8999, 17998)
    np.testing.assert_array_equal(np.concatenate(chunks), frame[["f", "i", "b"]].to_numpy(dtype=np.float64))


class CountingStep(Step):
    """A ``LloydStep`` that counts the labels each call changes, as ``StreamLloydStep`` does."""

    counts_label_changes = True

    def __init__(self, rows, k):
        self.inner, self.rows = LloydStep(rows, k), rows

    def __call__(self, centers, labels, update=True):
        old = labels.copy()
        assignment = self.inner(centers, labels, update=update)
        self.n_changed = int(np.count_nonzero(labels != old))
        return assignment

    def update_centers(self, centers, labels, assignment):
        return self.inner.update_centers(centers, labels, assignment)

    def inertia(self, centers, labels):
        return self.inner.inertia(centers, labels)


@pytest.mark.parametrize("tol", [0.0, 1e-2])  # strict convergence, then a tol stop
def test_counting_labels_changes_keeps_the_iterations(tol):
    X, _ = make_blobs(n_samples=3000, n_features=4, centers=6, cluster_std=3.0, random_state=1)
    rows = DenseRows(np.ascontiguousarray(X), np.ones(len(X)))
    centers = X[:6].copy()
    ref = run_kmeans(LloydStep(rows, 6), centers, max_iter=300, tol=tol)
    got = run_kmeans(CountingStep(rows, 6), centers, max_iter=300, tol=tol)
    assert got.n_iter == ref.n_iter > 2 and got.converged == ref.converged
    np.testing.assert_array_equal(got.labels, ref.labels)
    np.testing.assert_array_equal(got.centers, ref.centers)
    np.testing.assert_array_equal(got.inertia_history, ref.inertia_history)
    assert got.inertia == ref.inertia


def test_stream_step_counts_changed_labels():
    X, _ = make_blobs(n_samples=1000, n_features=2, centers=3, random_state=2)
    stream = TableStream(X, None, 300, np.float64)
    step = StreamLloydStep(stream, len(X), 3, np.zeros(2), 1.0, Progress(False))
    labels = np.full(len(X), -1, dtype=np.int32)
    centers = X[:3].copy()
    step(centers, labels)
    assert step.n_changed == len(X)
    before = labels.copy()
    moved = centers + np.array([[5.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    step(moved, labels)
    assert step.n_changed == np.count_nonzero(labels != before) > 0
    step(moved, labels)
    assert step.n_changed == 0


def test_the_seeding_sample_grows_with_the_rows_and_is_bounded_by_bytes():
    from kmeanskit._algorithms.streaming import Reservoir
    from kmeanskit._estimators.out_of_core import SAMPLE_BYTES, default_sample_size

    reservoir = Reservoir(65536, 10_000, np.float64, np.random.RandomState(0))
    reservoir.add(np.ones((200, 10_000)))
    assert reservoir.sample.shape[0] <= 1024 and reservoir.rows().shape == (200, 10_000)
    reservoir.add(np.zeros((3000, 10_000)))  # grows past its first allocation, rows kept in order
    assert reservoir.rows().shape == (3200, 10_000)
    assert (reservoir.rows()[:200] == 1).all() and (reservoir.rows()[200:] == 0).all()
    # 200 rows x 10,000 columns once reserved 4.9 GiB for 65,536 rows; now the default fits 256 MiB.
    rows = default_sample_size(8, 10_000, np.float64)
    assert rows * 10_000 * 8 <= SAMPLE_BYTES and rows == SAMPLE_BYTES // 80_000
    assert default_sample_size(8, 10, np.float64) == 65536
    assert default_sample_size(5000, 10_000, np.float32) == 40_000  # never fewer than 8 rows per cluster
