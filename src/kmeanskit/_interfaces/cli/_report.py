"""``kmeanskit report``: cluster a table and write an HTML report to open in a browser."""

from __future__ import annotations

import argparse
import secrets
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "reads_as_table", "run"]


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

A table with text columns (or with --categorical, --exclude, --id-column,
--dates, or --missing other than error) is read as 'kmeanskit fit' reads
it: every column gets a role, said before the result (identifiers, dates,
free text and constant columns are left out); categorical columns are
clustered by K-Prototypes (K-Modes when all are categorical), and --missing
ignore clusters rows on their observed values. The report then shows each
cluster's level shares and modes, the numeric profiles and the shares of
missing entries; with categorical columns also the choice of k (the methods
of their cost), what sets each cluster apart ("store = North (82% of the
cluster, 30% overall)", rules such as "store in {East, North}"), the
silhouette in the model's dissimilarity, stability and, with
--labels-column, the known classes. It says what it leaves out and why: no
scatter plot of principal components (categories are no numbers: the level
shares per cluster show the clusters instead), no Calinski-Harabasz or
Davies-Bouldin (Euclidean), no silhouette on rows with gaps.

  kmeanskit report customers.csv -k 4 --thousands , --id-column id --missing ignore -o customers.html
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
    common.add_role_arguments(parser)
    parser.add_argument(
        "--categorical", type=common.column_list_arg, metavar="A,B,...",
        help="columns clustered as categories whatever they hold (integer codes, say), as in 'kmeanskit fit'",
    )
    common.add_scale_argument(parser)
    common.add_missing_argument(parser, default="error")
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
    from kmeanskit._presentation.report import report

    n_clusters = common.n_clusters_arg(args)
    if args.no_select_k and (args.ks is not None or args.k_min is not None or args.k_max is not None):
        raise common.CommandError("--no-select-k cannot be combined with --ks, --k-min or --k-max")
    ks = None if args.no_select_k else common.resolve_ks(args)
    output = common.check_output_path(args.output, option="-o/--output", inputs=[args.data])

    # The seed is always known and said, so that the report can be made again (as in 'kmeanskit fit').
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    roles = None
    if reads_as_table(args):
        labels_true, read = None, None
        if args.labels_column is not None:  # the known classes: a column of DATA, never clustered
            if args.labels_column in (args.columns or ()):
                raise common.CommandError(
                    f"--labels-column {args.labels_column!r} cannot also be a feature in --columns")
            from kmeanskit._io.tables import read_raw_table

            # DATA read once: the labels taken from it, the rest given roles (the column excluded).
            read = read_raw_table(args.data, layout=common.text_layout(args), return_markers=True)
            labels_true = common.split_labels(read[0], args.labels_column, source=f"'{args.data}'")[1].to_numpy()
            args.exclude = [*(args.exclude or ()), args.labels_column]
        features, source, roles, _ = common.load_to_fit(args, read=read)
        if not roles.categorical_features:
            ks = None  # (numeric columns with gaps: no choice of k; said in the report)
    else:
        features, labels_true, source = _load(args)
    if ks is not None:
        common.check_ks_below_rows(ks, len(features), what=" to compare", hint=", or pass --no-select-k")
    result = common.fit_in_memory(args, features, n_clusters, seed,
                                  categorical=() if roles is None else roles.categorical_features)
    if len(result.dropped):  # --missing drop: the report describes the rows clustered
        features = features.drop(index=features.index[result.dropped]).reset_index(drop=True)
        if labels_true is not None:
            import numpy as np

            labels_true = np.delete(labels_true, result.dropped)
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
        if roles is not None:
            payload["columns"] = roles.to_dict()["columns"]
            payload["estimator"] = getattr(result, "estimator", "KMeans")
        common.print_json(payload)
    else:
        if roles is not None:
            clustered_by = getattr(result, "estimator", None)
            if clustered_by is not None:
                clustered_by += f", gamma {result.gamma_note}"
            print("\n".join([*common.roles_lines(roles, args.scale, common.detected_separator(args),
                                                 clustered_by), ""]))
        repeat = f" (drawn at random; --seed {seed} repeats it)" if args.seed is None else ""
        print(f"report on {source}: {result.n_samples} rows, k={result.n_clusters}, seed {seed}{repeat}; "
              f"written to {path}")
    sys.stdout.flush()
    return common.EXIT_OK


def reads_as_table(args) -> bool:
    """Whether DATA is read with column roles, as 'kmeanskit fit' reads it: an option asks for it, or
    a candidate feature column holds something other than numbers (``report`` and ``select-k``)."""
    if args.data is None:
        return False
    if args.categorical or args.exclude or args.id_column or args.dates or args.missing != "error":
        return True
    labels_column = getattr(args, "labels_column", None)
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    from kmeanskit._io.tables import read_raw_table

    head = read_raw_table(args.data, layout=common.text_layout(args), n_rows=_ROWS_LOOKED_AT)
    if labels_column is not None and (labels_column not in head.columns or labels_column in (args.columns or ())):
        return False  # (refused by _load, naming the option)
    names = args.columns if args.columns is not None else [c for c in head.columns if c != labels_column]
    return any(name in head.columns and (not is_numeric_dtype(head[name].dtype) or is_bool_dtype(head[name].dtype))
               for name in names)


#: Rows of DATA whose types decide whether it is read with column roles (:func:`reads_as_table`).
_ROWS_LOOKED_AT = 1000


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
