"""plot_categories: stacked bars of level shares per cluster."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from kmeanskit.plotting import plot_categories  # noqa: E402


def test_bars_are_the_level_shares_of_each_cluster():
    from matplotlib.figure import Figure

    frame = pd.DataFrame({"x": np.arange(8.0), "kind": list("aabbabbb"), "size": list("SSSSLLLL")})
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    axes = Figure().subplots(1, 2)
    out = plot_categories(frame, labels, ax=axes)
    assert len(out) == 2
    bars = [p for p in out[0].patches if p.get_gid() == "level b"]
    assert [b.get_width() for b in bars] == pytest.approx([0.5, 0.75])
    assert out[0].get_title().startswith("kind")
    with pytest.raises(ValueError, match="no categorical column"):
        plot_categories(frame[["x"]], labels)


def test_one_axes_is_the_panel_of_one_column():
    from matplotlib.figure import Figure

    frame = pd.DataFrame({"x": np.arange(8.0), "kind": list("aabbabbb")})
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    ax = Figure().subplots()
    (out,) = plot_categories(frame, labels, ax=ax)
    assert out is ax  # drawn here, not in a new figure
    assert [p.get_width() for p in ax.patches if p.get_gid() == "level a"] == pytest.approx([0.5, 0.25])
    with pytest.raises(ValueError, match="ax has 1 Axes but 2 are needed, one per categorical column"):
        plot_categories(frame.assign(size=list("SSSSLLLL")), labels, ax=ax)
