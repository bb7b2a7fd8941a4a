"""``python -m benchmarks [lloyd|e2e|grid|small|before-after|first-call|high-dim|seeding|silhouette|sparse|k-selection|missing|yinyang|...] [options]``: run a benchmark suite (default: lloyd)."""

import sys

from . import (
    before_after,
    bounded_passes,
    dask_vs_daskml,
    end_to_end,
    first_call,
    grid,
    high_dim,
    k_selection,
    kprototypes,
    lloyd_iteration,
    loadtest,
    markers_read,
    minibatch,
    missing_values,
    mixed_silhouette,
    out_of_core,
    seeding,
    silhouette,
    small_tables,
    sparse,
    stability,
    write_back,
    yinyang,
)

SUITES = {"lloyd": lloyd_iteration.main, "e2e": end_to_end.main, "seeding": seeding.main, "silhouette": silhouette.main,
          "loadtest": loadtest.main, "minibatch": minibatch.main,
          "dask": dask_vs_daskml.main, "out-of-core": out_of_core.main, "stability": stability.main,
          "k-selection": k_selection.main, "grid": grid.main, "first-call": first_call.main,
          "missing": missing_values.main, "kprototypes": kprototypes.main, "small": small_tables.main,
          "sparse": sparse.main, "yinyang": yinyang.main, "markers": markers_read.main,
          "before-after": before_after.main, "write-back": write_back.main,
          "mixed-silhouette": mixed_silhouette.main, "high-dim": high_dim.main,
          "bounded-passes": bounded_passes.main}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv.pop(0) if argv and argv[0] in SUITES else "lloyd"
    SUITES[name](argv)


if __name__ == "__main__":
    main()
