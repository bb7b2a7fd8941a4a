"""``python -m benchmarks grid``: the table's structure on the quick shapes (never its timings)."""

import re

import numpy as np
import pytest

from benchmarks import grid
from benchmarks.__main__ import SUITES


def test_geometric_mean():
    assert grid.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert grid.geometric_mean([0.5, 2.0, 1.0]) == pytest.approx(1.0)


def test_the_grid_spans_the_shapes_users_have():
    shapes = {name: (loader, k) for name, (_, loader, k) in grid.SHAPES.items()}
    assert len(shapes) >= 12
    assert {"iris-150x4-k3", "wine-178x13-k3", "digits-1797x64-k10"} <= set(shapes)
    assert any(name.startswith("china") for name in shapes) and any(name.startswith("flower") for name in shapes)
    assert any(name.endswith("sparse") for name in shapes)
    assert any(name.startswith("uniform") for name in shapes)
    ks = [k for _, k in shapes.values()]
    assert max(ks) >= 1000 and min(ks) <= 3


def test_quick_mode_prints_the_table_the_geometric_mean_and_the_worst_last(capsys):
    assert SUITES["grid"] is grid.main
    rows = grid.main(["--quick"])
    out = capsys.readouterr().out
    for peer, note in grid._peers().items():  # "not installed" is said, not silently skipped
        assert (f"{peer}: {note}" in out) == bool(note)

    assert [r["shape"] for r in rows] == list(grid.QUICK_SHAPES)
    for r in rows:
        assert r["speedup"] > 0 and r["kmeanskit_s"] > 0 and r["sklearn_s"] > 0
        # Every seed's time and inertia, for each library that ran.
        libs = {"kmeanskit", "sklearn-lloyd"} | (set() if r["sparse"] else {"sklearn-elkan"})
        assert set(r["seconds"]) == libs and all(len(v) == 1 for v in r["seconds"].values())
        assert r["sklearn_s"] == min(r["seconds"][lib][0] for lib in libs - {"kmeanskit"})
        assert r["speedup"] == pytest.approx(r["sklearn_s"] / r["kmeanskit_s"])
        # Easy shapes: kmeanskit ends where scikit-learn does.
        assert r["inertia_ratio"] == pytest.approx(1.0, rel=1e-6)
    assert rows[-1]["sparse"] and rows[-1]["sklearn_algorithm"] == "lloyd"

    lines = out.rstrip().splitlines()
    expected = grid.geometric_mean([r["speedup"] for r in rows])
    assert lines[-2] == f"geometric mean speed-up over {len(rows)} shapes: {expected:.2f}x"
    worst = min(rows, key=lambda r: r["speedup"])
    assert lines[-1] == f"worst: {worst['shape']} {worst['speedup']:.2f}x"
    header = next(i for i, line in enumerate(lines) if line.startswith("shape "))
    assert re.split(r"\s{2,}", lines[header]) == [
        "shape", "n x d", "k", "dtype", "kmeanskit s", "scikit-learn s", "speed-up", "inertia ours / sklearn",
        "first call s"]
    table = lines[header + 1: header + 1 + len(rows)]
    assert [line.split()[0] for line in table] == [r["shape"] for r in rows]


def test_markdown_table():
    rows = [{"shape": "a", "n_samples": 1000, "n_features": 2, "k": 3, "dtype": "float64", "sparse": False,
             "kmeanskit_s": 0.002, "kmeanskit_first_s": 1.0, "sklearn_s": 0.004, "sklearn_algorithm": "lloyd",
             "speedup": 2.0, "inertia_ratio": 1.0},
            {"shape": "b", "n_samples": 10, "n_features": 5, "k": 2, "dtype": "float32", "sparse": True,
             "kmeanskit_s": 0.5, "kmeanskit_first_s": 1.0, "sklearn_s": 0.25, "sklearn_algorithm": "lloyd",
             "speedup": 0.5, "inertia_ratio": 0.99}]
    text = grid.format_table(rows, markdown=True).splitlines()
    assert text[0].startswith("| shape | n x d | k |") and text[1].startswith("|---|")
    assert text[2] == "| a | 1,000 x 2 | 3 | float64 | 2.00 ms | 4.00 ms (lloyd) | 2.00x | 1.0000 | 1.00 |"
    assert text[3] == "| b | 10 x 5 | 2 | float32 CSR | 0.500 | 0.250 (lloyd) | 0.50x | 0.9900 | 1.00 |"
    assert text[-2] == f"**geometric mean speed-up over 2 shapes: {np.sqrt(2.0 * 0.5):.2f}x**"
    assert text[-1] == "worst: b 0.50x"


def test_seeding_bounds_follow_the_grid_rows(capsys):
    rows = grid.main(["--shapes", "iris-150x4-k3", "blobs-1kx2-k3", "--seeds", "0", "--seeding"])
    out = capsys.readouterr().out
    for r in rows:
        assert 0 < r["seeding_s"] and r["seeding_bound"] == pytest.approx(r["sklearn_s"] / r["seeding_s"])
    lines = out.rstrip().splitlines()
    expected = grid.geometric_mean([r["seeding_bound"] for r in rows])
    assert lines[-1] == f"geometric mean of the seeding bounds over 2 shapes: {expected:.2f}x"
    assert [line.split()[0] for line in lines[-4:-2]] == ["iris-150x4-k3", "blobs-1kx2-k3"]
