"""``kmeanskit drift``: do new rows still look like the training data of a saved model?"""

from __future__ import annotations

import argparse
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "EXIT_DRIFT", "add_arguments", "run"]

#: Exit code when drift is found (0: no drift, 2: bad input).
EXIT_DRIFT = 3

EPILOG = """\
examples:
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit drift customers.kmk this_week.csv
  kmeanskit drift customers.kmk this_week.parquet --json > drift.json
  kmeanskit drift old_model.kmk new.csv --reference train.csv
  kmeanskit drift customers.kmk new.csv || echo "retrain?"   # in cron: exit code 3 on drift

Four checks, any of which means drift:
  shares     PSI of the cluster shares > 0.2 and chi-square p < alpha
  distances  within a cluster, PSI of the distances binned at the training
             quantiles > 0.2 and chi-square p < alpha / k
  anomalies  rows beyond their cluster's training 99th percentile: at least
             3 times the expected 1% and binomial p < alpha
  features   per feature, PSI of the values binned at the training deciles
             > 0.2 and chi-square p < alpha / n_features; the table names
             each feature's shift (original units, training sd), strongest
             first, and the clusters it moves
The tests keep small samples from raising false alarms; the PSI keeps large
samples from raising them over shifts too small to matter.

exit codes: 0 no drift, 3 drift, 2 bad input, 1 internal error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit drift``."""
    common.add_model_argument(parser)
    common.add_table_argument(parser, metavar="NEWDATA")
    parser.add_argument(
        "--columns", type=common.column_list_arg, metavar="A,B,...",
        help=("feature columns of NEWDATA (and --reference), in the model's feature order; only for models "
              "saved without feature names (others take their features by name)"),
    )
    parser.add_argument(
        "--reference", metavar="PATH",
        help=("reference rows (e.g. the training data) to compare with, instead of the training summary "
              "stored in MODEL; needed for the distance checks when MODEL was saved without its data"),
    )
    parser.add_argument("--alpha", type=_fraction, default=0.01, metavar="P",
                        help="significance level of the tests (default: %(default)s)")
    parser.add_argument("--psi-threshold", type=_positive, default=0.2, metavar="PSI",
                        help="PSI above which a shift counts (default: %(default)s)")
    common.add_json_argument(parser, "print the report as JSON")


def _fraction(text: str) -> float:
    return _float_between(text, 0.0, 1.0, "a number between 0 and 1", "a number strictly between 0 and 1")


def _positive(text: str) -> float:
    return _float_between(text, 0.0, float("inf"), "a positive number", "a positive number")


def _float_between(text: str, low: float, high: float, number: str, in_range: str) -> float:
    """``float(text)`` strictly between `low` and `high`; the messages name what was expected."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {number}, got {text!r}") from None
    if not low < value < high:
        raise argparse.ArgumentTypeError(f"expected {in_range}, got {text!r}")
    return value


def _features(model, path: str, columns, layout=None, roles=None):
    """The feature rows of a table, as the model takes them: with the column `roles` stored in
    the model file, read as for the fit (categories as text, amounts parsed, dates as days)."""
    from kmeanskit._estimators.pipeline import final_estimator
    from kmeanskit._io.tables import read_table

    # Gaps are kept for a model that clusters rows on their observed values.
    allow_missing = getattr(final_estimator(model), "missing", "error") == "ignore"
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        if columns is not None and sorted(columns) != sorted(names):
            raise common.CommandError(
                f"--columns: the model takes its features by name ({', '.join(names)}); "
                "--columns is only for models saved without feature names"
            )
        if roles is not None:
            from kmeanskit._analysis.workflow import model_input
            from kmeanskit._io.tables import read_raw_table

            return model_input(model, read_raw_table(path, layout=layout), source=f"'{path}'", roles=roles,
                               allow_missing=allow_missing)
        return read_table(path, names, layout=layout, allow_missing=allow_missing)
    frame = read_table(path, columns, layout=layout)
    expected = int(model.n_features_in_)
    if frame.shape[1] != expected:
        raise common.CommandError(
            f"'{path}' has {frame.shape[1]} feature columns but the model, which records no feature names, "
            f"expects {expected}; choose them with --columns"
        )
    return frame.to_numpy()


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit drift`` with parsed arguments; return the exit code (0, or 3 on drift)."""
    from kmeanskit._analysis.monitoring.drift import drift_report
    from kmeanskit._analysis.monitoring.profile import profile_from_manifest
    from kmeanskit._io.persistence import ModelFileError

    model, manifest = common.load_model(args.model, with_manifest=True)
    try:
        # With --reference the file's training summary is not needed (it may have none).
        profile = None if args.reference is not None else profile_from_manifest(
            model, manifest, args.model, required=False)
    except ModelFileError as exc:
        raise common.CommandError(" ".join(str(exc).split())) from None
    if args.reference is None and profile is None:
        raise common.CommandError(
            f"'{args.model}' holds no training profile (its model was trained with partial_fit or "
            "compute_labels=False and saved without X): pass --reference TRAIN"
        )
    roles = common.model_roles(manifest)
    X_new = _features(model, args.data, args.columns, common.model_layout(args, roles), roles)
    if args.reference is not None:
        reference = _features(model, args.reference, args.columns, common.model_layout(args, roles, args.reference),
                              roles)
        source = f"'{args.reference}' ({len(reference)} rows)"
    else:
        reference = profile
        source = f"the training summary in '{args.model}' ({profile.n_samples} rows)"
    # (Categories never seen in training are counted in the report's categories table.)
    report = drift_report(model, X_new, reference=reference, alpha=args.alpha, psi_threshold=args.psi_threshold)

    if args.json:
        payload = {"model": args.model, "data": args.data, "reference": args.reference, **report.to_dict()}
        common.print_json(payload)
    else:
        print(_render(report, args.data, source))
    sys.stdout.flush()
    return EXIT_DRIFT if report.drift else common.EXIT_OK


def _render(report, data: str, source: str) -> str:
    import numpy as np
    import pandas as pd

    c = report.clusters
    table = pd.DataFrame({
        "cluster": c["cluster"],
        "train share": c["train_share"],
        "new share": c["new_share"],
        "psi": c["psi"],
    })
    if report.distance_checked:
        table["train median dist"] = c["train_median_distance"]
        table["new median dist"] = c["new_median_distance"]
        table["beyond p99"] = c["anomaly_rate"].fillna(0.0)
        table["dist psi"] = c["distance_psi"]
    percent = ["train share", "new share", "beyond p99"]
    shown = common.format_table(table, percent=percent).replace(" nan", " n/a")

    lines = [report.headline, ""]
    width = 11
    lines.append(f"{'new data:':<{width}} '{data}' ({report.n_new} rows)")
    lines.append(f"{'reference:':<{width}} {source}")
    lines += ["", shown, ""]
    lines.append(f"{'shares:':<{width}} PSI {report.psi:.3f} (drift above {report.psi_threshold:g}), chi-square "
                 f"{report.chi2_statistic:.4g}, p = {report.chi2_p_value:.3g}")
    if report.distance_checked:
        tested = c["distance_p_value"].notna()
        if tested.any():
            worst = int(c.loc[tested, "distance_psi"].idxmax())
            lines.append(f"{'distances:':<{width}} largest within-cluster PSI {c['distance_psi'][worst]:.3f} "
                         f"(cluster {worst}), smallest p = {np.nanmin(c['distance_p_value']):.3g}")
        else:
            lines.append(f"{'distances:':<{width}} not tested: no cluster has two bins of at least 5 "
                         "expected new rows (too few new rows, or training distances that all tie)")
        if report.anomaly_rate is not None:
            lines.append(f"{'anomalies:':<{width}} {report.anomaly_rate:.2%} beyond the training "
                         f"{report.anomaly_level:.0%} quantile (expected {report.expected_anomaly_rate:.2%}), "
                         f"binomial p = {report.anomaly_p_value:.3g}")
    else:
        lines.append(f"{'distances:':<{width}} not checked: the model file has no training distance quantiles "
                     "(saved without X); pass --reference TRAIN")
    lines += _features_block(report, width)
    lines += _categories_block(report, width)
    return "\n".join(lines)


#: Features listed by ``kmeanskit drift`` (strongest shift first); --json has all.
_SHOWN_FEATURES = 10


def _features_block(report, width: int) -> list[str]:
    """The features that moved, then the table of the strongest shifts."""
    import pandas as pd

    from kmeanskit._analysis.monitoring.drift import text_cells

    if report.features is None:
        note = report.features_note
        if "reference=X_train" in note:
            note = note.replace("pass reference=X_train", "pass --reference TRAIN")
        return [f"{'features:':<{width}} {note}"]
    if report.features.empty and report.categories is not None:
        return []  # (K-Modes: categorical columns alone, in their own table)
    head = _moved(report.features)  # (categorical columns: their own table)
    f = text_cells(report.features.head(_SHOWN_FEATURES))
    table = pd.DataFrame({
        "feature": f["feature"],
        "train mean": f["train_mean"],
        "new mean": f["new_mean"],
        "shift": f["shift"],
        "shift (sd)": [f"{v:+.2f}" for v in f["shift_sd"]],
        "psi": f["psi"],
        "p": [f"{v:.2g}" for v in f["p_value"]],
        "moved": f["drifted"],
        "clusters moved": f["clusters"],
    })
    percent = []
    if "train_missing" in f:  # a model of rows with gaps: the share of missing entries, and whether it moved
        table = _with_missing_columns(table, f)
        percent = ["train missing", "new missing"]
    lines = ["", f"{'features:':<{width}} {head} (strongest shift first; shift in original units and in training "
             "standard deviations)", "", common.format_table(table, percent=percent).replace(" nan", " n/a")]
    if len(report.features) > _SHOWN_FEATURES:
        lines.append(f"... and {len(report.features) - _SHOWN_FEATURES} more (--json lists every feature)")
    return lines


def _categories_block(report, width: int) -> list[str]:
    """The categorical columns whose level shares moved, then their table (strongest shift first)."""
    import pandas as pd

    from kmeanskit._analysis.monitoring.drift import text_cells

    if report.categories is None:
        return []
    head = _moved(report.categories)
    raw = report.categories.head(_SHOWN_FEATURES)
    c = text_cells(raw)
    table = pd.DataFrame({
        "column": c["feature"],
        "levels": c["n_levels"],
        "psi": c["psi"],
        "p": [f"{v:.2g}" for v in c["p_value"]],
        "moved": c["drifted"],
        "level moved most": c["level"],
        "train share": c["train_share"],
        "new share": c["new_share"],
        "unseen": [f"{n} ({', '.join(map(str, levels[:3]))}{', ...' if len(levels) > 3 else ''})" if n else "0"
                   for n, levels in zip(raw["n_unseen"], raw["unseen_levels"], strict=True)],
    })
    table = _with_missing_columns(table, c)
    lines = ["", f"{'categories:':<{width}} {head} (strongest shift first; shares of the observed entries; "
             "unseen: new rows with a level the training rows never had)", "",
             common.format_table(table, percent=["train share", "new share", "train missing", "new missing"])
             .replace(" nan", " n/a")]
    if len(report.categories) > _SHOWN_FEATURES:
        lines.append(f"... and {len(report.categories) - _SHOWN_FEATURES} more (--json lists every column)")
    return lines


def _moved(table) -> str:
    """``"2 of 5 moved: a, b"`` (or ``"none of 5 moved"``) for a table of features with ``drifted``."""
    moved = table.loc[table["drifted"], "feature"].tolist()
    return f"{len(moved)} of {len(table)} moved: {', '.join(moved)}" if moved else f"none of {len(table)} moved"


def _with_missing_columns(table, rows):
    """`table` with the shares of missing entries of `rows` (a drift table's :func:`text_cells`: training, new)
    and whether that share moved."""
    return table.assign(**{
        "train missing": rows["train_missing"].to_numpy(),
        "new missing": rows["new_missing"].to_numpy(),
        "missing moved": rows["missing_moved"].to_numpy(),
    })
