"""``kmeanskit fit``: cluster a table and describe the clusters."""

from __future__ import annotations

import argparse
import os
import secrets
import sys

from kmeanskit._analysis.formatting import format_number
from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]


EPILOG = """\
examples:
  kmeanskit fit                                  # the bundled iris data, k=3
  kmeanskit fit customers.csv -k 5 --seed 0
  kmeanskit fit customers.csv -k auto --seed 0   # k chosen by select-k, with its reason
  kmeanskit fit sales.parquet -k 4 --columns revenue,visits --scale minmax
  kmeanskit fit customers.csv -k 5 --labels clusters.csv --json > fit.json
  kmeanskit fit customers.csv -k 4 --thousands , --dates --id-column customer_id --labels clusters.csv
  kmeanskit fit kunden.csv -k 4 --sep ';' --decimal , --thousands . --exclude '["Umsatz, netto"]'
  kmeanskit fit survey.csv -k 4 --missing ignore -o survey.kmk   # rows with gaps
  kmeanskit fit customers.csv -k 4 --categorical store --gamma 1 -o customers.kmk  # K-Prototypes
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit predict customers.kmk new_customers.csv -o assigned.csv
  kmeanskit fit events.parquet -k 20 --out-of-core --seed 0    # larger than memory
  kmeanskit fit events.parquet -k 20 --out-of-core --mini-batch --chunk-rows 100000

--out-of-core reads the file in chunks, several times (one pass per
iteration), and never holds it whole: exact K-Means, as in memory.
--mini-batch runs mini-batch K-Means passes instead (faster on big data,
a slightly higher inertia).

Before the result, every column of DATA is listed with its role: numeric
(clustered), date, categorical, identifier, free text, constant, the id
column, or excluded, and why.

Categorical columns (text with few levels, or those named in --categorical)
are clustered with the numeric ones by K-Prototypes (Huang: squared
Euclidean distance on the scaled numeric columns plus gamma per category
that differs from the cluster's mode; gamma by default half the mean
standard deviation of the scaled numeric columns, --gamma to choose), or by
K-Modes when every clustered column is categorical. Each cluster shows its
mode in each categorical column and the share of its rows that have it.
With -k auto, k is chosen by the methods that have a meaning for that cost
(prediction strength and the silhouette in its dissimilarity vote; the gap
statistic is left out); --stability refits the whole model on resamples;
--explain says which levels set each cluster apart ("store = north (82% of
the cluster, 30% overall)") with rules such as "store in {east, north}".

Centers are shown in the original units of each column. Inertia and
silhouette are measured in the scaled space the clustering ran in.

The seed is always printed: without --seed one is drawn, and --seed with
it repeats the run. On small data (rows x features x k up to 250,000) fit
keeps the best of 10 starts (--n-init to choose) and shows each cluster's
stability: its mean Jaccard similarity to the best match when 20 bootstrap
resamples are clustered afresh (Hennig's clusterboot; below 0.6 the cluster
dissolves, from 0.75 valid, from 0.85 highly stable). Above that size it is
opt-in: --stability 20.
"""

#: Starts ``kmeanskit fit`` keeps the best of on small data (the library keeps scikit-learn's n_init).
SMALL_DATA_N_INIT = 10
#: Resamples of the stability column on small data.
SMALL_DATA_STABILITY = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit fit``."""
    common.add_data_argument(parser)
    common.add_layout_arguments(parser)
    common.add_n_clusters_argument(parser, auto=True)
    common.add_columns_argument(parser, which="numeric, amounts, or dates with --dates")
    common.add_role_arguments(parser)
    parser.add_argument(
        "--categorical", type=common.column_list_arg, metavar="A,B,...",
        help="columns clustered as categories whatever they hold (integer codes, say): comma-separated, "
             "or a JSON list",
    )
    parser.add_argument(
        "--gamma", type=_positive_float, metavar="X",
        help="K-Prototypes' weight of one category that differs from the cluster's mode, against the squared "
             "distance of the scaled numeric columns (default: Huang's, half their mean standard deviation)",
    )
    common.add_scale_argument(parser)
    common.add_missing_argument(parser, default="error")
    parser.add_argument(
        "--n-init",
        type=common.n_init_arg,
        default=None,
        metavar="N",
        help=(f"runs from different starts, the best is kept: an integer or 'auto' (default: "
              f"{SMALL_DATA_N_INIT} on small data, else 'auto')"),
    )
    common.add_seed_argument(parser)
    parser.add_argument(
        "--stability",
        type=_resamples,
        default=None,
        metavar="N",
        help=(f"each cluster's stability over N bootstrap resamples, 0 for none (default: "
              f"{SMALL_DATA_STABILITY} on small data, else none)"),
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=300,
        metavar="N",
        help="iteration limit per run (default: %(default)s)",
    )
    parser.add_argument(
        "--algorithm",
        choices=("auto", "lloyd", "hamerly", "elkan", "yinyang"),
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
        help=("write the cluster of each input row, in input order, to this CSV (column 'cluster'), after "
              "--id-column's cells as DATA writes them, with DATA's separator"),
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
        "--explain",
        action="store_true",
        help="also say what sets each cluster apart, with a rule per cluster (as 'kmeanskit explain')",
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

    if labels_path is not None and args.id_column == "cluster":
        raise common.CommandError(
            "--id-column 'cluster' has the name of the labels file's cluster column; rename the column first"
        )
    # The seed is always known, so that any run can be repeated.
    seed_drawn = args.seed is None
    seed = secrets.randbelow(2**31) if seed_drawn else args.seed
    streaming = args.out_of_core or args.mini_batch
    if args.explain and args.out_of_core and args.data is not None:
        raise common.CommandError(
            "--explain needs the rows in memory; with --out-of-core, save the model (-o) and run "
            "'kmeanskit explain MODEL DATA' on a sample of the rows"
        )
    restarts = None
    if streaming and n_clusters == "auto":
        raise common.CommandError(
            f"-k auto is not available with {'--out-of-core' if args.out_of_core else '--mini-batch'}: "
            "choosing k fits every k in memory; run 'kmeanskit select-k' on a sample and give -k"
        )
    roles = ids = None
    if streaming:
        _check_streaming_options(args, model_path)
        result, source, features, roles, ids = _fit_streaming(args, n_clusters, seed)
    else:
        # Categorical columns are clustered (K-Prototypes, K-Modes) when there are any.
        features, source, roles, ids = common.load_to_fit(args)
    if not streaming and roles.categorical_features:
        result, restarts = _fit_mixed(args, n_clusters, seed, features, roles)
    elif not streaming:
        if args.gamma is not None:
            raise common.CommandError("--gamma weighs categorical columns, and DATA has none clustered; "
                                      "name them with --categorical, or leave out --gamma")
        n_init, restarts, stability = _starts(args, features, n_clusters)
        result = common.fit_in_memory(args, features, n_clusters, seed, n_init=n_init, max_iter=args.max_iter,
                                      algorithm=args.algorithm, stability=stability or None)

    labels_notes = ()
    if labels_path is not None:
        labels_notes = _write_labels(args, result, ids, labels_path, streaming)
    if model_path is not None:
        if args.out_of_core:
            from kmeanskit._io.persistence import write_model

            # The training rows are not in memory: no distance quantiles.
            steps = [(name, step) for name, step in result.pipeline.steps if not isinstance(step, str)]
            write_model(result.pipeline.__class__(steps), model_path, key=key,
                        table=None if roles is None else roles.to_dict())
        else:
            from kmeanskit._analysis.workflow import save_model

            save_model(result, model_path, features, key=key, roles=roles)

    explanation, explained, left_out = None, None, None
    if args.explain:
        from kmeanskit._analysis.explain import explain_clusters
        from kmeanskit._interfaces.cli._explain import complete_rows

        # Differences and rules need every value: rows with gaps (--missing) are left out of them, and said so,
        # as 'kmeanskit explain' does.
        label = f"'{args.data}'" if args.data is not None else "the iris data"
        complete, explained, left_out = complete_rows(features, label, common.first_data_line(args))
        explanation = explain_clusters(result.pipeline, complete)
    if args.json:
        payload = {"data": source}
        if roles is not None:
            payload["columns"] = roles.to_dict()["columns"]
            payload["id_column"] = roles.id_column
        payload.update(result.to_dict())
        payload.update(seed=seed, seed_drawn=seed_drawn)
        if labels_path is not None:
            payload["labels_path"] = str(labels_path)
            if labels_notes:
                payload["labels_notes"] = list(labels_notes)
        if model_path is not None:
            payload["model_path"] = str(model_path)
        if explanation is not None:
            payload["explanation"] = {**explanation.to_dict(), **explained}
        common.print_json(payload)
    else:
        print(_render(result, source, labels_path, model_path, mode=_mode(args),
                      seed=(seed, seed_drawn), restarts=restarts, roles=roles,
                      separator=common.detected_separator(args), labels_notes=labels_notes))
        if explanation is not None:
            from kmeanskit._interfaces.cli._explain import render_explanation

            print("\n" + render_explanation(explanation))
            if left_out is not None:
                print(f"({left_out})")
    sys.stdout.flush()
    return common.EXIT_OK


def _fit_mixed(args: argparse.Namespace, n_clusters, seed: int, features, roles):
    """Fit K-Prototypes (or K-Modes) on a table with categorical columns: ``(result, restarts)``.

    As for K-Means: ``-k auto`` chooses k (by the methods that apply to their cost), and small data get
    the best of ``SMALL_DATA_N_INIT`` starts and each cluster's stability unless told otherwise.
    """
    from kmeanskit._analysis.columns import LevelsLostError

    categorical = roles.categorical_features
    said = f"categorical columns ({', '.join(categorical)}); --exclude them to use it"
    if args.algorithm != "auto":
        raise common.CommandError(f"--algorithm {args.algorithm} chooses a K-Means algorithm; tables with {said}")
    if args.gamma is not None and len(categorical) == features.shape[1]:
        raise common.CommandError("--gamma weighs categories against numeric columns, and every clustered column "
                                  "of DATA is categorical (K-Modes counts the categories that differ)")
    n_init, restarts, stability = _starts(args, features, n_clusters)  # (as for K-Means)
    try:
        result = common.fit_in_memory(args, features, n_clusters, seed, categorical=categorical, gamma=args.gamma,
                                      n_init=n_init, max_iter=args.max_iter, stability=stability or None)
    except LevelsLostError as exc:
        raise common.CommandError(f"{exc} (--exclude it, or give -k and --stability 0)") from None
    return result, restarts


def _starts(args, features, n_clusters):
    """``(n_init, restarts, stability)`` of a fit in memory of `features` (K-Means or K-Prototypes).

    ``--n-init`` as given, else the best of ``SMALL_DATA_N_INIT`` starts on small data (`restarts` said in
    the output as "small data") and scikit-learn's ``"auto"`` otherwise; ``--stability`` as given, else
    ``SMALL_DATA_STABILITY`` bootstrap resamples on small data with enough rows per cluster, 0 otherwise.
    Small data are sized by the largest k that -k auto may choose.
    """
    # Imported here: --out-of-core reads the file before scikit-learn is loaded.
    from kmeanskit._analysis.stability import MIN_ROWS_PER_CLUSTER
    from kmeanskit._analysis.workflow import AUTO_KS, is_small_fit

    largest_k = max(AUTO_KS) if n_clusters == "auto" else n_clusters
    small = is_small_fit(*features.shape, largest_k)
    if args.n_init is not None:
        n_init, restarts = args.n_init, None
    else:
        n_init, restarts = (SMALL_DATA_N_INIT, "small data") if small else ("auto", None)
    stability = args.stability
    if stability is None:
        stability = SMALL_DATA_STABILITY if small and len(features) >= MIN_ROWS_PER_CLUSTER * largest_k else 0
    return n_init, restarts, stability


def _positive_float(text: str) -> float:
    """Parse ``--gamma X``: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number such as 0.5, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _check_streaming_options(args: argparse.Namespace, model_path) -> None:
    if args.categorical or args.gamma is not None:
        raise common.CommandError(
            f"{'--categorical' if args.categorical else '--gamma'} is not available with "
            f"{'--out-of-core' if args.out_of_core else '--mini-batch'}: categorical columns are clustered "
            "in memory (K-Prototypes); fit without it")
    if args.dates and args.out_of_core:
        raise common.CommandError("--dates is not available with --out-of-core: fit in memory to cluster dates")
    if args.chunk_rows < 1:
        raise common.CommandError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    flag = "--out-of-core" if args.out_of_core else "--mini-batch"
    if args.missing != "error":
        raise common.CommandError(
            f"--missing {args.missing} is not available with {flag}: drop or impute the rows "
            "with missing values first, or fit in memory"
        )
    if args.stability:
        raise common.CommandError(
            f"--stability is not available with {flag}: it refits the clustering on resamples held in memory"
        )
    if args.n_init not in (None, "auto", 1):
        raise common.CommandError(
            f"--n-init {args.n_init} is not available with {flag}: one run starts from "
            "k-means++ on a uniform sample of the rows"
        )
    if args.mini_batch and model_path is not None:
        raise common.CommandError(
            "-o/--output cannot save a mini-batch model yet (model files hold KMeans); "
            "fit without --mini-batch to save the model"
        )


def _resamples(text: str) -> int:
    """Parse ``--stability N``: 0 (none) or at least 2 resamples."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of resamples such as 20, or 0, got {text!r}") from None
    if value < 0 or value == 1:
        raise argparse.ArgumentTypeError(f"expected 0 (no stability) or at least 2 resamples, got {text!r}")
    return value


def _write_labels(args: argparse.Namespace, result, ids, path, streaming: bool) -> tuple[str, ...]:
    """Write --labels: the cluster of every input row, beside the --id-column's cells as DATA writes them.

    A text DATA is read again as text, chunk by chunk (``--chunk-rows`` when
    streamed), and the labels are written in its layout; returns what differs
    from it, in words.
    """
    import pandas as pd

    from kmeanskit._io.tables import write_table
    from kmeanskit._io.write_back import DEFAULT_CHUNK_ROWS, write_text_back

    labels = pd.DataFrame({"cluster": result.input_labels()})
    if common.labels_as_written(args, path):
        columns = [] if args.id_column is None else [args.id_column]
        return write_text_back(args.data, labels, path, layout=common.text_layout(args), columns=columns,
                               chunk_rows=args.chunk_rows if streaming else DEFAULT_CHUNK_ROWS).changes
    if ids is not None:
        labels.insert(0, args.id_column, ids.array)  # (its type kept: integers with a gap stay integers)
    write_table(labels, path)
    return ()


def _fit_streaming(args: argparse.Namespace, n_clusters: int, seed: int):
    """Fit with :mod:`kmeanskit.streaming`; the file is read whole only without --out-of-core."""
    from kmeanskit._analysis.out_of_core_workflow import fit_clusters_out_of_core

    if args.out_of_core and args.data is not None:
        features, source, roles, ids = None, args.data, *common.load_first_rows_roles(args)
    else:
        features, source, roles, ids = common.load_with_roles(args)
        common.warn_if_unscaled(args, features)
    result = fit_clusters_out_of_core(
        source if features is None else features,
        n_clusters,
        columns=roles.features if features is None else None,
        layout=common.text_layout(args) if features is None else None,
        scale=args.scale,
        chunk_rows=args.chunk_rows,
        mini_batch=args.mini_batch,
        random_state=seed,
        max_iter=args.max_iter,
    )
    return result, source, features, roles, ids


def _mode(args: argparse.Namespace) -> str | None:
    if not (args.out_of_core or args.mini_batch):
        return None
    method = "mini-batch K-Means" if args.mini_batch else "exact K-Means (Lloyd)"
    if args.out_of_core and args.data is not None:
        return f"{method}, out of core (chunks of {args.chunk_rows} rows)"
    return method


def _render(result, source: str, labels_path, model_path=None, mode=None, seed=None, restarts=None, roles=None,
            separator=None, labels_notes=()) -> str:
    header = (
        f"{source}: {_plural(result.n_samples, 'row')} x {_plural(result.n_features, 'feature')}, "
        f"k={result.n_clusters}, scaling: {result.scale}"
    )
    clusters = result.clusters
    if result.stability is not None:
        clusters = clusters.copy()
        # A feature may itself be called "stability".
        clusters.insert(clusters.shape[1], "stability", result.stability.mean_jaccard, allow_duplicates=True)
    mixed = getattr(result, "categorical", None)
    shares = [f"{name} share" for name in mixed] if mixed else []
    table = common.format_table(clusters, percent=["share", *shares])
    chosen = getattr(result, "selection", None)
    if chosen is not None:
        header += f"\nk chosen automatically (select-k over k = {_span(list(chosen.table.index))}): {chosen.reason}"
    if result.silhouette is None:
        silhouette = f"n/a ({result.silhouette_note})"
    else:
        silhouette = f"{result.silhouette:.3f} (from -1 to 1, higher is better separated"
        silhouette += f"; {result.silhouette_note})" if result.silhouette_note else ")"
    space = result.space.split(" (")[0]
    what = f"{result.estimator} cost: {space}" if mixed else f"within-cluster sum of squares, {space}"
    summary = [
        ("inertia", f"{format_number(result.inertia, significant=6)} ({what})"),
        ("iterations", str(result.n_iter) + (" (passes over the data)" if mode and "mini-batch" in mode else "")),
        ("silhouette", silhouette),
        ("fit time", f"{result.fit_seconds:.3f} s"),
    ]
    if seed is not None:
        value, drawn = seed
        summary.append(("seed", f"{value} (drawn at random; --seed {value} repeats this run)" if drawn
                        else f"{value}"))
    if restarts is not None:
        runs = result.pipeline[-1].n_init
        summary.append(("restarts", f"best of {runs} starts ({restarts}; --n-init to choose)"))
    if result.stability is not None:
        summary.append(("stability", _stability_line(result.stability)))
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
        said = f" ({'; '.join(labels_notes)})" if labels_notes else ""
        summary.append(("labels", f"{result.n_samples} rows written to {labels_path}{said}"))
    if model_path is not None:
        summary.append(("model", f"saved to {model_path}"))
    # What was done with each column comes before the clusters (said even when all are numeric).
    clustered_by = f"{result.estimator}, gamma {result.gamma_note}" if mixed else None
    columns = [] if roles is None else [*common.roles_lines(roles, result.scale, separator, clustered_by), ""]
    return "\n".join([header, "", *columns, table, "", *common.aligned(summary)])


def _stability_line(stability) -> str:
    """What the stability column means, and the clusters not to trust."""
    table = stability.clusters
    line = (f"mean Jaccard similarity over {stability.n_boot} bootstrap resamples (Hennig: below 0.6 the "
            "cluster dissolves, from 0.75 valid, from 0.85 highly stable)")
    if stability.n_resampled_from < stability.n_samples:
        line += f"; resampled from {stability.n_resampled_from:,} of the rows"
    weak = table[table["reading"].isin(["dissolves", "pattern, doubtful membership"])]
    if len(weak):
        words = ", ".join(f"{int(c)} {r}" for c, r in zip(weak["cluster"], weak["reading"], strict=True))
        line += f"; not to trust as they are: cluster {words}"
    return line


def _span(ks) -> str:
    return f"{ks[0]}..{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) else ",".join(map(str, ks))


def _same_path(a, b) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
