"""``kmeanskit fit``: cluster a table and describe the clusters."""

from __future__ import annotations

import argparse
import os
import sys

from kmeanskit._analysis.formatting import format_number
from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]


EPILOG = """\
examples:
  kmeanskit fit                                  # the bundled iris data, k=3
  kmeanskit fit customers.csv -k 5 --seed 0
  kmeanskit fit sales.parquet -k 4 --columns revenue,visits --scale minmax
  kmeanskit fit customers.csv -k 5 --labels clusters.csv --json > fit.json
  kmeanskit fit survey.csv -k 4 --missing ignore -o survey.kmk   # rows with gaps
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit predict customers.kmk new_customers.csv -o assigned.csv
  kmeanskit fit events.parquet -k 20 --out-of-core --seed 0    # larger than memory
  kmeanskit fit events.parquet -k 20 --out-of-core --mini-batch --chunk-rows 100000

--out-of-core reads the file in chunks, several times (one pass per
iteration), and never holds it whole: exact K-Means, as in memory.
--mini-batch runs mini-batch K-Means passes instead (faster on big data,
a slightly higher inertia).

Centers are shown in the original units of each column. Inertia and
silhouette are measured in the scaled space the clustering ran in.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit fit``."""
    common.add_data_argument(parser)
    common.add_layout_arguments(parser)
    common.add_n_clusters_argument(parser)
    common.add_columns_argument(parser)
    common.add_scale_argument(parser)
    common.add_missing_argument(parser, default="error")
    parser.add_argument(
        "--n-init",
        type=common.n_init_arg,
        default="auto",
        metavar="N",
        help="runs from different starts, the best is kept: an integer or 'auto' (default)",
    )
    common.add_seed_argument(parser)
    parser.add_argument(
        "--max-iter",
        type=int,
        default=300,
        metavar="N",
        help="iteration limit per run (default: %(default)s)",
    )
    parser.add_argument(
        "--algorithm",
        choices=("auto", "lloyd", "hamerly", "elkan"),
        default="auto",
        help="how iterations find the nearest centers; all give the same result (default: %(default)s)",
    )
    parser.add_argument(
        "--out-of-core",
        action="store_true",
        help="stream DATA in chunks instead of reading it into memory (one pass per iteration)",
    )
    parser.add_argument(
        "--mini-batch",
        action="store_true",
        help="mini-batch K-Means passes: faster on big data, slightly higher inertia",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=65536,
        metavar="N",
        help="rows per chunk with --out-of-core or --mini-batch (default: %(default)s)",
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
    common.add_json_argument(parser, "print the results as JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit fit`` with parsed arguments; return the exit code."""
    n_clusters = common.n_clusters_arg(args)
    labels_path = None
    if args.labels is not None:
        labels_path = common.check_output_path(args.labels, option="--labels", inputs=[args.data])
    model_path, key = None, None
    if args.output is not None:
        model_path = common.check_output_path(args.output, option="-o/--output", inputs=[args.data])
        key = common.signing_key()  # before the fit: an empty KMEANSKIT_MODEL_KEY is refused at once
        if labels_path is not None and _same_path(model_path, labels_path):
            raise common.CommandError(
                f"-o/--output and --labels are the same file '{args.output}'; choose two names"
            )

    streaming = args.out_of_core or args.mini_batch
    if streaming:
        _check_streaming_options(args, model_path)
        result, source, features = _fit_streaming(args, n_clusters)
    else:
        # Imported here: --out-of-core reads the file before scikit-learn is loaded.
        from kmeanskit._analysis.workflow import fit_clusters

        features, source = common.load_features(
            args.data, args.columns, common.text_layout(args), allow_missing=args.missing != "error"
        )
        common.warn_if_unscaled(args, features)
        result = fit_clusters(
            features,
            n_clusters,
            scale=args.scale,
            n_init=args.n_init,
            random_state=args.seed,
            max_iter=args.max_iter,
            algorithm=args.algorithm,
            missing=args.missing,
        )

    if labels_path is not None:
        import pandas as pd

        from kmeanskit._io.tables import write_delimited

        write_delimited(pd.DataFrame({"cluster": result.input_labels()}), labels_path)
    if model_path is not None:
        if args.out_of_core:
            from kmeanskit._io.persistence import save

            # The training rows are not in memory: no distance quantiles.
            steps = [(name, step) for name, step in result.pipeline.steps if not isinstance(step, str)]
            save(result.pipeline.__class__(steps), model_path, key=key)
        else:
            from kmeanskit._analysis.workflow import save_model

            save_model(result, model_path, features, key=key)

    if args.json:
        payload = {"data": source, **result.to_dict()}
        if labels_path is not None:
            payload["labels_path"] = str(labels_path)
        if model_path is not None:
            payload["model_path"] = str(model_path)
        common.print_json(payload)
    else:
        print(_render(result, source, labels_path, model_path, mode=_mode(args)))
    sys.stdout.flush()
    return common.EXIT_OK


def _check_streaming_options(args: argparse.Namespace, model_path) -> None:
    if args.chunk_rows < 1:
        raise common.CommandError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    flag = "--out-of-core" if args.out_of_core else "--mini-batch"
    if args.missing != "error":
        raise common.CommandError(
            f"--missing {args.missing} is not available with {flag}: drop or impute the rows "
            "with missing values first, or fit in memory"
        )
    if args.n_init not in ("auto", 1):
        raise common.CommandError(
            f"--n-init {args.n_init} is not available with {flag}: one run starts from "
            "k-means++ on a uniform sample of the rows"
        )
    if args.mini_batch and model_path is not None:
        raise common.CommandError(
            "-o/--output cannot save a mini-batch model yet (model files hold KMeans); "
            "fit without --mini-batch to save the model"
        )


def _fit_streaming(args: argparse.Namespace, n_clusters: int):
    """Fit with :mod:`kmeanskit.streaming`; the file is read whole only without --out-of-core."""
    from kmeanskit._analysis.out_of_core_workflow import fit_clusters_out_of_core

    if args.out_of_core and args.data is not None:
        features, source = None, args.data
    else:
        features, source = common.load_features(args.data, args.columns, common.text_layout(args))
        common.warn_if_unscaled(args, features)
    result = fit_clusters_out_of_core(
        source if features is None else features,
        n_clusters,
        columns=args.columns if features is None else None,
        layout=common.text_layout(args) if features is None else None,
        scale=args.scale,
        chunk_rows=args.chunk_rows,
        mini_batch=args.mini_batch,
        random_state=args.seed,
        max_iter=args.max_iter,
    )
    return result, source, features


def _mode(args: argparse.Namespace) -> str | None:
    if not (args.out_of_core or args.mini_batch):
        return None
    method = "mini-batch K-Means" if args.mini_batch else "exact K-Means (Lloyd)"
    if args.out_of_core and args.data is not None:
        return f"{method}, out of core (chunks of {args.chunk_rows} rows)"
    return method


def _render(result, source: str, labels_path, model_path=None, mode=None) -> str:
    header = (
        f"{source}: {_plural(result.n_samples, 'row')} x {_plural(result.n_features, 'feature')}, "
        f"k={result.n_clusters}, scaling: {result.scale}"
    )
    table = common.format_table(result.clusters, percent=["share"])
    if result.silhouette is None:
        silhouette = f"n/a ({result.silhouette_note})"
    else:
        silhouette = f"{result.silhouette:.3f} (from -1 to 1, higher is better separated"
        silhouette += f"; {result.silhouette_note})" if result.silhouette_note else ")"
    space = result.space.split(" (")[0]
    summary = [
        ("inertia", f"{format_number(result.inertia, significant=6)} (within-cluster sum of squares, {space})"),
        ("iterations", str(result.n_iter) + (" (passes over the data)" if mode and "mini-batch" in mode else "")),
        ("silhouette", silhouette),
        ("fit time", f"{result.fit_seconds:.3f} s"),
    ]
    if mode is not None:
        summary.append(("method", mode))
    if len(result.dropped):
        summary.append(("missing values", f"{_plural(len(result.dropped), 'row')} left out (--missing drop)"))
    elif result.n_incomplete:
        summary.append((
            "missing values",
            f"{_plural(result.n_incomplete, 'row')} clustered on their observed values (--missing ignore)",
        ))
    if labels_path is not None:
        summary.append(("labels", f"{result.n_samples} rows written to {labels_path}"))
    if model_path is not None:
        summary.append(("model", f"saved to {model_path}"))
    return "\n".join([header, "", table, "", *common.aligned(summary)])


def _same_path(a, b) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
