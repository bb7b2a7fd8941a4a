"""``python -m benchmarks small``: its table on one tiny shape (the structure, never the timings)."""

from benchmarks import grid, small_tables
from benchmarks.__main__ import SUITES


def test_the_small_shapes_are_the_grids_small_dense_tables():
    assert SUITES["small"] is small_tables.main
    assert set(small_tables.SMALL_DENSE_SHAPES) <= set(grid.SHAPES)
    for name in small_tables.SMALL_DENSE_SHAPES:
        _, load, k = grid.SHAPES[name]
        assert not name.endswith("sparse") and k <= 10


def test_one_shape_prints_the_kernel_and_the_fit_between_two_load_averages(capsys):
    rows = small_tables.main(["--shapes", "iris-150x4-k3", "--repeats", "1"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("load average ") and out[-1].startswith("load average ")
    assert [row["shape"] for row in rows] == ["iris-150x4-k3"]
    assert any(line.startswith("iris-150x4-k3") and line.endswith("x") for line in out)
    (row,) = rows
    for key in ("kernel_serial_ns", "kernel_2_threads_ns", "kmeanskit_s", "sklearn_s", "speedup"):
        assert row[key] > 0


def test_before_times_fits_and_predict_of_two_trees_on_the_same_results(capsys):
    from pathlib import Path

    import kmeanskit

    src = str(Path(kmeanskit.__file__).parents[1])
    rows = small_tables.main(
        ["--shapes", "iris-150x4-k3", "--repeats", "1", "--before", src, "--predict", "1", "100"]
    )
    assert [row["shape"] for row in rows] == ["iris-150x4-k3", "predict-1", "predict-100"]
    out = capsys.readouterr().out
    assert "predict-100            rows 100.0 |" in out
    for row in rows:
        assert row["before_ms"] > 0 and row["after_ms"] > 0
