"""``kmeanskit report``: cluster a table and write an HTML report to open in a browser."""

from __future__ import annotations

import argparse
import secrets
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]


EPILOG = """\
examples:
  kmeanskit report -o iris.html                     # the bundled iris data, k=3, species as classes
  kmeanskit report customers.csv -k 5 -o customers.html --seed 0
  kmeanskit report labelled.csv -k 4 -o report.html --labels-column segment
  kmeanskit report big.parquet -k 8 -o big.html --ks 4,6,8,10
  kmeanskit report big.parquet -k 8 -o big.html --no-select-k

The report is one HTML file with its plots embedded (no network, no scripts):
the data, the choice of k (select-k for k = 2..10 unless told otherwise), the
clusters and their profiles in original units, the silhouette diagram and
the metrics; with --labels-column, how the clusters match the known classes.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit report``."""
    common.add_data_argument(parser, iris_note=" (species as known classes)")
    common.add_layout_arguments(parser)
    common.add_n_clusters_argument(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="REPORT.html", help="where to write the HTML report"
    )
    common.add_columns_argument(parser, default="all but --labels-column")
    common.add_scale_argument(parser)
    parser.add_argument(
        "--labels-column",
        metavar="COLUMN",
        help="column of DATA with the known class of each row, to compare the clusters with",
    )
    common.add_ks_arguments(parser)
    parser.add_argument(
        "--no-select-k",
        action="store_true",
        help="leave out the comparison of values of k (faster on large data)",
    )
    parser.add_argument("--title", help="title of the report (default: 'Clustering report: DATA')")
    common.add_seed_argument(parser)
    common.add_json_argument(parser, "print a JSON summary instead of a line of text")


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit report`` with parsed arguments; return the exit code."""
    from kmeanskit._analysis.workflow import fit_clusters
    from kmeanskit._presentation.report import report

    n_clusters = common.n_clusters_arg(args)
    if args.no_select_k and (args.ks is not None or args.k_min is not None or args.k_max is not None):
        raise common.CommandError("--no-select-k cannot be combined with --ks, --k-min or --k-max")
    ks = None if args.no_select_k else common.resolve_ks(args)
    output = common.check_output_path(args.output, option="-o/--output", inputs=[args.data])

    features, labels_true, source = _load(args)
    if ks is not None:
        common.check_ks_below_rows(ks, len(features), what=" to compare", hint=", or pass --no-select-k")
    common.warn_if_unscaled(args, features)
    # The seed is always known and said, so that the report can be made again (as in 'kmeanskit fit').
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    result = fit_clusters(features, n_clusters, scale=args.scale, random_state=seed)
    title = args.title if args.title is not None else f"Clustering report: {source}"
    path = report(
        features,
        result.pipeline,
        output,
        ks=ks,
        labels_true=labels_true,
        title=title,
        progress=common.progress_wanted(),
        random_state=seed,
    )
    if args.json:
        payload = {"data": source, "report_path": str(path), **_summary(result), "seed": seed,
                   "seed_drawn": args.seed is None}
        common.print_json(payload)
    else:
        repeat = f" (drawn at random; --seed {seed} repeats it)" if args.seed is None else ""
        print(f"report on {source}: {result.n_samples} rows, k={result.n_clusters}, seed {seed}{repeat}; "
              f"written to {path}")
    sys.stdout.flush()
    return common.EXIT_OK


def _load(args):
    """(features, known classes or None, source name) from DATA or the bundled iris data."""
    if args.data is None:
        if args.labels_column is not None:
            raise common.CommandError("--labels-column needs DATA (the iris data use their species)")
        from sklearn.datasets import load_iris

        features, source = common.load_features(None, args.columns)
        iris = load_iris()
        return features, iris.target_names[iris.target], source
    from kmeanskit._io.tables import read_raw_table, select_features

    source = f"'{args.data}'"
    frame, labels_true = common.split_labels(read_raw_table(args.data, layout=common.text_layout(args)), args.labels_column, source=source)
    if args.columns is not None and args.labels_column in args.columns:
        raise common.CommandError(f"--labels-column {args.labels_column!r} cannot also be a feature in --columns")
    features = select_features(frame, args.columns, source=source)
    return features, None if labels_true is None else labels_true.to_numpy(), args.data


def _summary(result) -> dict:
    found = result.to_dict()
    keep = ("n_samples", "n_features", "n_clusters", "scale", "random_state", "inertia", "silhouette")
    return {key: found[key] for key in keep}
