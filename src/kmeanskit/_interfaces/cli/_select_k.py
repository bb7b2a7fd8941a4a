"""``kmeanskit select-k``: compare values of k on a table; one answer, its reason, and each method's k."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap

from kmeanskit._interfaces.cli import _common as common
from kmeanskit._interfaces.cli._report import reads_as_table

__all__ = ["EPILOG", "add_arguments", "run"]

METHODS = ("elbow", "silhouette", "gap", "prediction_strength", "calinski_harabasz", "davies_bouldin")
#: The methods for categorical columns (the library's ``MIXED_METHODS``).
MIXED_METHODS = ("elbow", "silhouette", "prediction_strength")
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

# ... and for categorical columns, where the scores are the clusterer's own.
MIXED_METHOD_RULES = {
    "elbow": "knee of the cost curve (Kneedle)",
    "silhouette": "highest mean silhouette in the cost's dissimilarity",
}

EPILOG = """\
examples:
  kmeanskit select-k                                # the bundled iris data, k = 2..10
  kmeanskit select-k customers.csv --seed 0
  kmeanskit select-k customers.csv --k-min 2 --k-max 15 --methods silhouette,gap
  kmeanskit select-k sales.parquet --ks 3,4,5,8 --scale minmax --json > ks.json
  kmeanskit select-k big.parquet --sample-size 20000 --gap-rule globalSEmax

Every k is fitted on the scaled features (see --scale); every score is
measured in that space.

A table with text columns (or with --categorical, --exclude, --id-column,
--dates, or --missing other than error) is read as 'kmeanskit fit' reads it:
every column gets a role, said before the result. Categorical columns are
clustered by K-Prototypes (K-Modes when all are categorical) and k is chosen
as 'fit -k auto' chooses it there: by the elbow of their cost, the
silhouette in their dissimilarity (squared distance plus gamma per category
that differs) and prediction strength; the gap statistic, Calinski-Harabasz
and Davies-Bouldin have no meaning for categories and are left out, said in
the reason.

  kmeanskit select-k customers.csv --id-column id --seed 0
  kmeanskit select-k survey.csv --categorical zone --missing ignore --seed 0

The answer ("best k") comes first, with its reason:
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
    common.add_role_arguments(parser)
    parser.add_argument(
        "--categorical", type=common.column_list_arg, metavar="A,B,...",
        help="columns clustered as categories whatever they hold (integer codes, say), as in 'kmeanskit fit'",
    )
    parser.add_argument(
        "--gamma", type=float, metavar="X",
        help="K-Prototypes' weight of one category that differs from the cluster's mode (default: Huang's, as "
             "in 'kmeanskit fit')",
    )
    common.add_missing_argument(parser, default="error")
    parser.add_argument(
        "--methods",
        type=method_list_arg,
        default=None,
        metavar="M,M,...",
        help=f"methods to run, among {','.join(METHODS)} (default: all that apply; for categorical columns "
             f"{','.join(MIXED_METHODS)})",
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
    if args.gamma is not None and not args.gamma > 0:
        raise common.CommandError(f"--gamma must be a positive number, got {args.gamma}")
    roles, n_dropped = None, 0
    if reads_as_table(args):  # column roles, as 'kmeanskit fit' reads DATA
        features, source, roles, _ = common.load_to_fit(args)
        if roles.categorical_features:
            return _run_mixed(args, ks, features, source, roles)
        if args.gamma is not None:
            raise common.CommandError("--gamma weighs categorical columns, and DATA has none clustered; name them "
                                      "with --categorical, or leave out --gamma")
        if args.missing == "ignore":
            raise common.CommandError(
                "--missing ignore: the scores of K-Means' k (silhouette, gap, Calinski-Harabasz, Davies-Bouldin) "
                "need complete rows; --missing drop leaves the rows with gaps out")
        complete = features.dropna().reset_index(drop=True)  # (--missing drop; error refused them)
        n_dropped, features = len(features) - len(complete), complete
    else:
        if args.gamma is not None:
            raise common.CommandError("--gamma weighs categorical columns, and DATA has none; name them with "
                                      "--categorical, or leave out --gamma")
        features, source = common.load_features(args.data, args.columns, common.text_layout(args))
    common.check_ks_below_rows(ks, len(features))
    common.warn_if_unscaled(args, features)
    scaler = make_scaler(args.scale)
    X = features.to_numpy() if isinstance(scaler, str) else scaler.fit_transform(features)
    result = select_k(
        X,
        ks,
        methods=tuple(args.methods or METHODS),
        n_refs=args.n_refs,
        random_state=args.seed,
        sample_size="auto" if args.sample_size is None else args.sample_size,
        progress=common.progress_wanted(),
        gap_rule=args.gap_rule,
    )

    if args.json:
        payload = _payload(result, source, features, args, ks)
        if roles is not None:
            payload.update(columns=roles.to_dict()["columns"], n_dropped=n_dropped)
        common.print_json(payload)
    else:
        if roles is not None:
            lines = common.roles_lines(roles, args.scale, common.detected_separator(args))
            if n_dropped:
                lines.append(_dropped_line(n_dropped))
            print("\n".join([*lines, ""]))
        print(_render(result, source, features, args.scale, SCALINGS[args.scale], ks))
    sys.stdout.flush()
    return common.EXIT_OK


def _run_mixed(args, ks, features, source, roles) -> int:
    """select-k on a table with categorical columns: K-Prototypes (K-Modes) scored in its own cost."""
    from kmeanskit._analysis.mixed_workflow import GAMMA_DEFAULT, select_k_mixed
    from kmeanskit._analysis.workflow import SCALINGS
    from kmeanskit._estimators.pipeline import final_estimator

    categorical = roles.categorical_features
    if args.gamma is not None and len(categorical) == features.shape[1]:
        raise common.CommandError("--gamma weighs categories against numeric columns, and every clustered column "
                                  "of DATA is categorical (K-Modes counts the categories that differ)")
    refused = [m for m in args.methods or () if m not in MIXED_METHODS]
    if refused:
        raise common.CommandError(
            f"--methods {','.join(refused)}: not computed for categorical columns ({', '.join(categorical)}): the "
            "gap's reference data are uniform in a box, which categories have no meaning in, and Calinski-Harabasz "
            f"and Davies-Bouldin are Euclidean; choose among {','.join(MIXED_METHODS)}")
    numeric = features.drop(columns=list(categorical))
    if numeric.shape[1]:
        common.warn_if_unscaled(args, numeric)
    n_rows = len(features) if args.missing != "drop" else int(features.notna().all(axis=1).sum())
    common.check_ks_below_rows(ks, n_rows)
    with common.compiling_notice():
        result, dropped = select_k_mixed(
            features, ks, categorical=categorical, scale=args.scale, gamma=args.gamma, missing=args.missing,
            methods=None if args.methods is None else tuple(args.methods), random_state=args.seed,
            sample_size="auto" if args.sample_size is None else args.sample_size,
            progress=common.progress_wanted())
    clusterer = final_estimator(next(iter(result.models.values())))
    name = type(clusterer).__name__
    if name == "KModes":
        cost = "the number of categories that differ from the cluster's modes"
        gamma_note = "1 per category that differs (K-Modes: categorical columns only)"
    else:
        space = SCALINGS[args.scale].split(" (")[0]
        cost = (f"squared Euclidean distance in {space} plus gamma = {clusterer.gamma_:.4g} per category that "
                "differs from the cluster's mode")
        gamma_note = f"{clusterer.gamma_:.4g} (" + ("--gamma" if args.gamma is not None else GAMMA_DEFAULT) + ")"
    kept = features.drop(index=features.index[dropped]) if len(dropped) else features
    if args.json:
        payload = _payload(result, source, kept, args, ks)
        payload.update(columns=roles.to_dict()["columns"], estimator=name, cost=cost,
                       gamma=common.json_number(float(clusterer.gamma_)), categorical=list(categorical),
                       n_dropped=int(len(dropped)))
        common.print_json(payload)
    else:
        lines = common.roles_lines(roles, args.scale, common.detected_separator(args), f"{name}, gamma {gamma_note}")
        if len(dropped):
            lines.append(_dropped_line(len(dropped)))
        elif args.missing == "ignore" and features.isna().any(axis=None):
            lines.append(f"missing values: {int(features.isna().any(axis=1).sum())} rows clustered on their "
                         "observed values (--missing ignore); the silhouette needs every value: not computed")
        print("\n".join([*lines, ""]))
        print(_render(result, source, kept, args.scale, f"the {name} cost: {cost}", ks, cost_column=True))
    sys.stdout.flush()
    return common.EXIT_OK


def _dropped_line(n: int) -> str:
    """The note under the roles block on the rows --missing drop left out."""
    return f"missing values: {n} rows with gaps left out (--missing drop)"


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
        "methods": list(result.methods),
        "table": rows,
        "best_k": None if result.best_k is None else int(result.best_k),
        "reason": result.reason,
        "gap_rule": result.gap_rule,
        "sample_note": result.sample_note,
        "recommended": {
            method: None if k is None else int(k) for method, k in result.recommended.items()
        },
    }


def _render(result, source, features, scale, space, ks, *, cost_column=False) -> str:
    """The answer, its reason, the table of scores per k and each method's k; with `cost_column`, the
    inertia column is the clusterer's cost (K-Prototypes, K-Modes) and named so."""
    n, d = features.shape
    span = f"{ks[0]}..{ks[-1]}" if ks == list(range(ks[0], ks[-1] + 1)) else ",".join(map(str, ks))
    header = (
        f"{source}: {n} row{'s' * (n != 1)} x {d} feature{'s' * (d != 1)}, "
        f"k = {span}, scaling: {scale}"
    )
    shown = result.table.reset_index()
    table = common.format_table(shown.rename(columns={"inertia": "cost"}) if cost_column else shown)
    width = max(len(m) for m in result.recommended) + 1 if result.recommended else 0
    lines = []
    for method, k in result.recommended.items():
        choice = "no clear choice" if k is None else f"k = {int(k)}"
        rule = METHOD_RULES.get(method, "").format(gap_rule=result.gap_rule)
        if cost_column:
            rule = MIXED_METHOD_RULES.get(method, rule)
        lines.append(f"  {method + ':':<{width}} {choice:<16} {rule}")
    note = (f"Measured in {space}" if cost_column else f"Measured in {space.split(' (')[0]}") + \
        "; fit_seconds is the time to fit each k."
    answer = "best k: none" if result.best_k is None else f"best k = {int(result.best_k)}"
    width = max(40, shutil.get_terminal_size((100, 24)).columns - 1)
    reason = textwrap.fill(result.reason, width=width, initial_indent="  ", subsequent_indent="  ")
    return "\n".join([answer, reason, "", header, "", table, "", "recommended by each method:",
                      *lines, "", note])
