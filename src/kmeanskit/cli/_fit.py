"""``kmeanskit fit``: cluster a table and describe the clusters."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from kmeanskit.cli._common import (
    EXIT_OK,
    CommandError,
    check_output_path,
    column_list_arg,
    format_table,
    load_features,
    n_init_arg,
)

__all__ = ["add_parser", "run"]

_DEFAULT_K_IRIS = 3

_EPILOG = """\
examples:
  kmeanskit fit                                  # the bundled iris data, k=3
  kmeanskit fit customers.csv -k 5 --seed 0
  kmeanskit fit sales.parquet -k 4 --columns revenue,visits --scale minmax
  kmeanskit fit customers.csv -k 5 --labels clusters.csv --json > fit.json
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit predict customers.kmk new_customers.csv -o assigned.csv

Centers are shown in the original units of each column. Inertia and
silhouette are measured in the scaled space the clustering ran in.
"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list) -> argparse.ArgumentParser:
    """Register the ``fit`` subcommand."""
    parser = subparsers.add_parser(
        "fit",
        parents=parents,
        help="cluster a CSV or Parquet table and describe the clusters",
        description=(
            "Scale the features, run K-Means and print one row per cluster\n"
            "(size, share of rows, center in original units), then inertia,\n"
            "iterations, silhouette and fit time."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help=(
            "CSV (.csv, .tsv, .txt) or Parquet (.parquet, .pq) file with a header; "
            "default: the iris data bundled with scikit-learn"
        ),
    )
    parser.add_argument(
        "-k",
        "--n-clusters",
        type=int,
        metavar="K",
        help=f"number of clusters (required with DATA; {_DEFAULT_K_IRIS} for iris)",
    )
    parser.add_argument(
        "--columns",
        type=column_list_arg,
        metavar="A,B,...",
        help="comma-separated feature columns (default: all; they must be numeric)",
    )
    parser.add_argument(
        "--scale",
        choices=("standard", "minmax", "none"),
        default="standard",
        help="scaling before clustering (default: %(default)s)",
    )
    parser.add_argument(
        "--n-init",
        type=n_init_arg,
        default="auto",
        metavar="N",
        help="runs from different starts, the best is kept: an integer or 'auto' (default)",
    )
    parser.add_argument("--seed", type=int, help="random seed, for reproducible results")
    parser.add_argument(
        "--max-iter",
        type=int,
        default=300,
        metavar="N",
        help="iteration limit per run (default: %(default)s)",
    )
    parser.add_argument(
        "--algorithm",
        choices=("lloyd", "elkan"),
        default="lloyd",
        help="K-Means algorithm; both give the same result (default: %(default)s)",
    )
    parser.add_argument(
        "--labels",
        metavar="PATH",
        help="write the cluster of each input row, in input order, to this CSV (column 'cluster')",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="MODEL.kmk",
        help=(
            "save the fitted model (scaler and centers) to this .kmk file, "
            "for 'kmeanskit predict'"
        ),
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of a table"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit fit`` with parsed arguments; return the exit code."""
    from kmeanskit._workflow import fit_clusters, save_model

    n_clusters = args.n_clusters
    if n_clusters is None:
        if args.data is not None:
            raise CommandError("-k/--n-clusters is required when DATA is given")
        n_clusters = _DEFAULT_K_IRIS
    labels_path = None
    if args.labels is not None:
        labels_path = check_output_path(args.labels, option="--labels", inputs=[args.data])
    model_path = None
    if args.output is not None:
        model_path = check_output_path(args.output, option="-o/--output", inputs=[args.data])
        if labels_path is not None and _same_path(model_path, labels_path):
            raise CommandError(
                f"-o/--output and --labels are the same file '{args.output}'; choose two names"
            )

    features, source = load_features(args.data, args.columns)
    result = fit_clusters(
        features,
        n_clusters,
        scale=args.scale,
        n_init=args.n_init,
        random_state=args.seed,
        max_iter=args.max_iter,
        algorithm=args.algorithm,
    )

    if labels_path is not None:
        import pandas as pd

        pd.DataFrame({"cluster": result.labels}).to_csv(labels_path, index=False)
    if model_path is not None:
        save_model(result, model_path, features)

    if args.json:
        payload = {"data": source, **result.to_dict()}
        if labels_path is not None:
            payload["labels_path"] = str(labels_path)
        if model_path is not None:
            payload["model_path"] = str(model_path)
        print(json.dumps(payload, indent=2, allow_nan=False))
    else:
        print(_render(result, source, labels_path, model_path))
    sys.stdout.flush()
    return EXIT_OK


def _render(result, source: str, labels_path, model_path=None) -> str:
    header = (
        f"{source}: {_plural(result.n_samples, 'row')} x {_plural(result.n_features, 'feature')}, "
        f"k={result.n_clusters}, scaling: {result.scale}"
    )
    table = format_table(result.clusters, percent=["share"])
    if result.silhouette is None:
        silhouette = f"n/a ({result.silhouette_note})"
    else:
        silhouette = f"{result.silhouette:.3f} (from -1 to 1, higher is better separated"
        silhouette += f"; {result.silhouette_note})" if result.silhouette_note else ")"
    space = result.space.split(" (")[0]
    summary = [
        ("inertia", f"{_number(result.inertia)} (within-cluster sum of squares, {space})"),
        ("iterations", str(result.n_iter)),
        ("silhouette", silhouette),
        ("fit time", f"{result.fit_seconds:.3f} s"),
    ]
    if labels_path is not None:
        summary.append(("labels", f"{result.n_samples} rows written to {labels_path}"))
    if model_path is not None:
        summary.append(("model", f"saved to {model_path}"))
    width = max(len(key) for key, _ in summary) + 1
    lines = [f"{key + ':':<{width}} {value}" for key, value in summary]
    return "\n".join([header, "", table, "", *lines])


def _same_path(a, b) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _number(value: float, significant: int = 6) -> str:
    """Fixed-point with `significant` digits; scientific only when extreme."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if not -4 <= magnitude < 15:
        return f"{value:.{significant}g}"
    return f"{value:.{max(0, significant - 1 - magnitude)}f}"
