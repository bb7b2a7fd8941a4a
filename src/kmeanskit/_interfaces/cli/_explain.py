"""``kmeanskit explain``: what sets each cluster of a saved model apart, in words and rules."""

from __future__ import annotations

import argparse
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "complete_rows", "run", "render_explanation"]

EPILOG = """\
examples:
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit explain customers.kmk customers.csv
  kmeanskit explain customers.kmk customers.csv --max-leaves 10
  kmeanskit explain customers.kmk customers.csv --json > explain.json
  kmeanskit fit customers.csv -k 5 --seed 0 --explain     # the same, right after fitting

Per cluster: a description (the features whose mean differs most from the
other rows', in standard deviations of the feature, when Welch's t-test gives
p < 0.01 and the difference is at least 0.5 sd) and a rule from a threshold
tree (IMM, Dasgupta et al. 2020: one leaf per cluster; with --max-leaves
above k, grown by ExKMC), in the original units of the columns. Fidelity is
the share of rows whose rule gives their cluster; the cost ratio compares the
rules' clusters with K-Means' (1 is as good). For a model of categorical
columns (K-Prototypes, K-Modes), a column's level that sets a cluster apart
reads "store = north (82% of the cluster, 30% overall)", and rules such as
"store in {east, north}".

Rows with missing values are left out, as 'fit --explain' leaves them out,
and said so: a rule routes a row by cuts on every feature, and the
differences, fidelity and cost ratio would each describe different rows.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit explain``."""
    common.add_model_argument(parser)
    common.add_table_argument(parser)
    parser.add_argument(
        "--max-leaves", type=int, metavar="N",
        help="leaves of the rules' tree: k (one rule per cluster, the default) or more, for closer rules",
    )
    parser.add_argument(
        "--top", type=int, default=3, metavar="N",
        help="differences listed per cluster, strongest first (default: %(default)s)",
    )
    common.add_json_argument(parser, "print the explanation as JSON instead of text")


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit explain`` with parsed arguments; return the exit code."""
    from kmeanskit._analysis.explain import explain_clusters
    from kmeanskit._analysis.workflow import model_input
    from kmeanskit._estimators.pipeline import final_estimator
    from kmeanskit._io.tables import read_raw_table

    if args.top < 0:
        raise common.CommandError(f"--top must be at least 0, got {args.top}")
    model, manifest = common.load_model(args.model, with_manifest=True)
    k = int(final_estimator(model).n_clusters)
    if args.max_leaves is not None and args.max_leaves < k:
        raise common.CommandError(
            f"--max-leaves must be at least the model's number of clusters ({k}), got {args.max_leaves}: "
            "the rules' tree needs a leaf per cluster"
        )
    source = f"'{args.data}'"
    roles = common.model_roles(manifest)
    # Read as for the fit (the model file's column roles and missing-value markers: text amounts parsed, dates as
    # days, categories as text).
    frame = read_raw_table(args.data, layout=common.model_layout(args, roles))
    first_line = common.first_data_line(args)
    features = model_input(model, frame, source=source, roles=roles, first_line=first_line, allow_missing=True)
    features, counts, left_out = complete_rows(features, source, first_line)
    explanation = explain_clusters(model, features, max_leaves=args.max_leaves)
    if args.json:
        common.print_json({"model": args.model, "data": args.data, **explanation.to_dict(), **counts})
    else:
        print(f"{args.data}: {explanation.n_samples} rows, k={explanation.n_clusters} (model {args.model})\n")
        print(render_explanation(explanation, top=args.top))
        if left_out is not None:
            print(f"({left_out})")
    sys.stdout.flush()
    return common.EXIT_OK


def complete_rows(features, source: str, first_line: int | None):
    """The rows of `features` (an array or a DataFrame) that ``explain`` and ``fit --explain`` explain:
    differences and rules need every value of a row, so rows with gaps are left out, and said.

    Returns ``(rows, counts, left_out)``: the rows without missing values (a DataFrame's index reset),
    the JSON fields ``n_rows``, ``n_rows_explained`` (and ``rows_left_out``, when rows are left out), and
    the note on the rows left out (None when none is). A CommandError, naming the first row (and its line,
    `first_line` being the line of the first row), when every row has a gap.
    """
    import numpy as np
    import pandas as pd

    gaps = pd.DataFrame(features).isna().any(axis=1).to_numpy()
    counts = {"n_rows": int(gaps.size), "n_rows_explained": int((~gaps).sum())}
    if not gaps.any():
        return features, counts, None
    row = int(np.flatnonzero(gaps)[0])
    where = f"row {row + 1}" + ("" if first_line is None else f", line {first_line + row}")
    if gaps.all():
        raise common.CommandError(
            f"every one of the {gaps.size} rows of {source} has a missing value (the first: {where}): "
            "differences and rules need every value of a row; give rows without gaps (fill them, or "
            "explain a table of the complete rows)")
    left_out = (f"explained on the {int((~gaps).sum())} of {gaps.size} rows without missing values; the "
                f"{int(gaps.sum())} with gaps (the first: {where}) are left out: differences and rules "
                "need every value of a row")
    rows = features[~gaps] if isinstance(features, np.ndarray) else features[~gaps].reset_index(drop=True)
    return rows, {**counts, "rows_left_out": left_out}, left_out


def render_explanation(explanation, *, top: int = 3) -> str:
    """The explanation's text for the terminal (also under ``kmeanskit fit --explain``)."""
    return explanation.summary(top=top)
