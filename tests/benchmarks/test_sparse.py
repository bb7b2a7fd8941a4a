"""``python -m benchmarks sparse --grid --per-iteration``: the grid's span and the table on one tiny shape
(the structure, never the timings)."""

import numpy as np

from benchmarks import sparse
from benchmarks.__main__ import SUITES


def test_the_grid_spans_issue_20s_sparse_shapes():
    assert SUITES["sparse"] is sparse.main
    n, d, density, k, dtype = zip(*sparse.GRID.values(), strict=True)
    assert (min(n), max(n)) == (1_000, 50_000)
    assert (min(d), max(d)) == (500, 20_000)
    assert (min(density), max(density)) == (0.001, 0.05)
    assert (min(k), max(k)) == (2, 20)
    assert set(dtype) == {np.float32, np.float64}
    assert sum(kk <= 5 for kk in k) >= len(k) // 2  # mostly small k, where a pass is cheapest


def test_per_iteration_prints_one_row_per_shape_and_the_summary(capsys):
    sparse.main(["--grid", "--per-iteration", "--shapes", "1kx500-5%-k2", "--repeats", "1", "--calls", "2"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("one sparse Lloyd iteration, CPU time")
    (row,) = [line for line in out if line.startswith("| 1kx500-5%-k2 |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert (cells[1], cells[3], cells[4]) == ("1,000 x 500", "2", "float64") and int(cells[2].replace(",", "")) > 0
    assert cells[7].endswith("x") and float(cells[7][:-1]) > 0
    assert out[-1].startswith("geometric mean speed-up: ") and "worst: 1kx500-5%-k2" in out[-1]
