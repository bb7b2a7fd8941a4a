"""``kmeanskit select-k``: compare values of k on a table; one answer, its reason, and each method's k."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]

METHODS = ("elbow", "silhouette", "gap", "prediction_strength", "calinski_harabasz", "davies_bouldin")
GAP_RULES = ("firstSEmax", "Tibs2001SEmax", "globalSEmax", "firstmax", "globalmax")

# How each method picks its k, for the summary under the table.
METHOD_RULES = {
    "elbow": "knee of the inertia curve (Kneedle)",
    "silhouette": "highest mean silhouette",
    "gap": "{gap_rule} rule of R's clusGap on the gap curve, k = 1 included (Tibshirani et al.)",
    "prediction_strength": "largest k whose clusters the other half predicts, >= 0.8 (Tibshirani & Walther)",
    "calinski_harabasz": "highest Calinski-Harabasz score",
    "davies_bouldin": "lowest Davies-Bouldin score",
}

EPILOG = """\
examples:
  kmeanskit select-k                                # the bundled iris data, k = 2..10
  kmeanskit select-k customers.csv --seed 0
  kmeanskit select-k customers.csv --k-min 2 --k-max 15 --methods silhouette,gap
  kmeanskit select-k sales.parquet --ks 3,4,5,8 --scale minmax --json > ks.json
  kmeanskit select-k big.parquet --sample-size 20000 --gap-rule globalSEmax

Every k is fitted on the scaled features (see --scale); every score is
measured in that space. The answer ("best k") comes first, with its reason:
the methods that agree (prediction strength, the gap statistic, silhouette,
Calinski-Harabasz), or k = 1 when there is no cluster structure. Each method's
own k follows the table. Above 5,000 rows the silhouette, the gap statistic
and prediction strength are estimated on a random sample (see --sample-size).
"""


def method_list_arg(text: str) -> list[str]:
    """Parse ``--methods a,b`` and check each name."""
    names = [name.strip().lower().replace("-", "_") for name in text.split(",")]
    unknown = [name for name in names if name not in METHODS]
    if not text.strip() or unknown or any(not name for name in names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated methods among {','.join(METHODS)}; got {text!r}"
        )
    return list(dict.fromkeys(names))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit select-k``."""
    common.add_data_argument(parser)
    common.add_layout_arguments(parser)
    common.add_columns_argument(parser)
    common.add_scale_argument(parser)
    common.add_ks_arguments(parser)
    parser.add_argument(
        "--methods",
        type=method_list_arg,
        default=list(METHODS),
        metavar="M,M,...",
        help=f"methods to run, among {','.join(METHODS)} (default: all)",
    )
    parser.add_argument(
        "--n-refs",
        type=int,
        default=10,
        metavar="N",
        help="reference data sets of the gap statistic (default: %(default)s)",
    )
    parser.add_argument(
        "--gap-rule",
        choices=GAP_RULES,
        default=GAP_RULES[0],
        help="the rule of R's clusGap that reads k off the gap curve (default: %(default)s)",
    )
    parser.add_argument(
        "--sample-size",
        type=int,
        metavar="N",
        help=(
            "estimate the silhouette, the gap statistic and prediction strength on a random sample of "
            "N rows (default: 5000 when the table has more rows, else all rows)"
        ),
    )
    common.add_seed_argument(parser)
    common.add_json_argument(parser, "print the results as JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit select-k`` with parsed arguments; return the exit code."""
    from kmeanskit._analysis.selection import select_k
    from kmeanskit._analysis.workflow import SCALINGS, make_scaler

    ks = common.resolve_ks(args)
    if args.n_refs < 1:
        raise common.CommandError(f"--n-refs must be at least 1, got {args.n_refs}")
    if args.sample_size is not None and args.sample_size < 2:
        raise common.CommandError(f"--sample-size must be at least 2, got {args.sample_size}")
    features, source = common.load_features(args.data, args.columns, common.text_layout(args))
    common.check_ks_below_rows(ks, len(features))
    common.warn_if_unscaled(args, features)
    scaler = make_scaler(args.scale)
    X = features.to_numpy() if isinstance(scaler, str) else scaler.fit_transform(features)
    result = select_k(
        X,
        ks,
        methods=tuple(args.methods),
        n_refs=args.n_refs,
        random_state=args.seed,
        sample_size="auto" if args.sample_size is None else args.sample_size,
        progress=common.progress_wanted(),
        gap_rule=args.gap_rule,
    )

    if args.json:
        common.print_json(_payload(result, source, features, args, ks))
    else:
        print(_render(result, source, features, args.scale, SCALINGS[args.scale], ks))
    sys.stdout.flush()
    return common.EXIT_OK


def _payload(result, source, features, args, ks) -> dict:
    table = result.table.reset_index()
    rows = [
        {str(name): common.json_number(value) for name, value in row.items()}
        for row in table.to_dict(orient="records")
    ]
    return {
        "data": source,
        "n_samples": int(len(features)),
        "n_features": int(features.shape[1]),
        "features": [str(c) for c in features.columns],
        "scale": args.scale,
        "random_state": args.seed,
        "ks": [int(k) for k in ks],
        "methods": list(args.methods),
        "table": rows,
        "best_k": None if result.best_k is None else int(result.best_k),
        "reason": result.reason,
        "gap_rule": result.gap_rule,
        "sample_note": result.sample_note,
        "recommended": {
            method: None if k is None else int(k) for method, k in result.recommended.items()
        },
    }


def _render(result, source, features, scale, space, ks) -> str:
    n, d = features.shape
    span = f"{ks[0]}..{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) else ",".join(map(str, ks))
    header = (
        f"{source}: {n} row{'s' * (n != 1)} x {d} feature{'s' * (d != 1)}, "
        f"k = {span}, scaling: {scale}"
    )
    table = common.format_table(result.table.reset_index())
    width = max(len(m) for m in result.recommended) + 1 if result.recommended else 0
    lines = []
    for method, k in result.recommended.items():
        choice = "no clear choice" if k is None else f"k = {int(k)}"
        rule = METHOD_RULES.get(method, "").format(gap_rule=result.gap_rule)
        lines.append(f"  {method + ':':<{width}} {choice:<16} {rule}")
    note = f"Measured in {space.split(' (')[0]}; fit_seconds is the time to fit each k."
    answer = "best k: none" if result.best_k is None else f"best k = {int(result.best_k)}"
    width = max(40, shutil.get_terminal_size((100, 24)).columns - 1)
    reason = textwrap.fill(result.reason, width=width, initial_indent="  ", subsequent_indent="  ")
    return "\n".join([answer, reason, "", header, "", table, "", "recommended by each method:",
                      *lines, "", note])
