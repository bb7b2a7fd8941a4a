"""``python -m benchmarks before-after``: its table on one tiny shape, this tree against itself
(the structure, never the timings)."""

from pathlib import Path

from benchmarks import before_after, grid
from benchmarks.__main__ import SUITES

SRC = Path(before_after.__file__).resolve().parent.parent / "src"


def test_the_default_shapes_are_grid_shapes():
    assert SUITES["before-after"] is before_after.main
    assert set(before_after.DEFAULT_SHAPES) <= set(grid.SHAPES)


def test_one_shape_each_kind_between_two_load_averages(capsys):
    before_after.main(["--before", str(SRC), "--shapes", "iris-150x4-k3", "--kinds", *before_after.KINDS,
                       "--rounds", "2", "--repeats", "1"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("load average ") and out[-1].startswith("load average ")
    rows = [line.split() for line in out[2:-1]]
    assert [row[:2] for row in rows] == [["iris-150x4-k3", kind] for kind in before_after.KINDS]
    for row in rows:
        assert all(float(value.rstrip(",")) > 0 for value in row[2:])
