"""``kmeanskit evaluate``: how good are a saved model's clusters on a table?"""

from __future__ import annotations

import argparse
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit evaluate customers.kmk customers.csv
  kmeanskit evaluate customers.kmk labelled.csv --labels-column segment
  kmeanskit evaluate customers.kmk labelled.csv --labels-column segment --json > eval.json

Internal metrics (inertia, silhouette, Calinski-Harabasz, Davies-Bouldin) are
measured in the space the model clusters in (after its scaler). For a model of
categorical columns (K-Prototypes, K-Modes), inertia is its cost and the
silhouette is in its dissimilarity (squared distance plus gamma per category
that differs; not computed when rows have gaps); Calinski-Harabasz and
Davies-Bouldin, Euclidean, are left out, said so. With
--labels-column, the clusters are compared with those known classes: adjusted
Rand index, normalized mutual information, purity and the contingency matrix.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit evaluate``."""
    common.add_model_argument(parser)
    common.add_table_argument(parser)
    parser.add_argument(
        "--labels-column",
        metavar="COLUMN",
        help="column of DATA holding the known class of each row (any values; not a feature)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the silhouette's sample above 10,000 rows (default: %(default)s)",
    )
    common.add_json_argument(parser, "print the results as JSON instead of text")


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit evaluate`` with parsed arguments; return the exit code."""
    import numpy as np

    from kmeanskit._analysis.metrics import clustering_metrics
    from kmeanskit._analysis.workflow import table_in_model_space
    from kmeanskit._estimators.pipeline import final_estimator
    from kmeanskit._io.tables import read_raw_table

    model, manifest = common.load_model(args.model, with_manifest=True)
    mixed = _is_mixed(model)
    source = f"'{args.data}'"
    roles = common.model_roles(manifest)
    frame = read_raw_table(args.data, layout=common.model_layout(args, roles))
    names = getattr(model, "feature_names_in_", None)
    if names is not None and args.labels_column is not None and args.labels_column in set(map(str, names)):
        raise common.CommandError(
            f"--labels-column {args.labels_column!r} is one of the model's features; "
            "known classes must be a separate column"
        )
    features_frame, labels_true = common.split_labels(frame, args.labels_column, source=source)
    if mixed:  # KPrototypes/KModes: the cost, the silhouette in its dissimilarity, the known classes
        from kmeanskit._analysis.mixed_workflow import mixed_metrics

        found = mixed_metrics(model, features_frame, None if labels_true is None else labels_true.to_numpy(),
                              source=source, roles=roles, random_state=args.seed)
        found["cost_name"] = f"{type(final_estimator(model)).__name__} cost"
    else:
        Xt, labels, kmeans = table_in_model_space(model, features_frame, source=source)
        centers = np.asarray(kmeans.cluster_centers_, dtype=np.float64)
        found = clustering_metrics(
            Xt, labels, centers, None if labels_true is None else labels_true.to_numpy(), random_state=args.seed
        )

    if args.json:
        common.print_json(_payload(found, args))
    else:
        print(_render(found, args))
    sys.stdout.flush()
    return common.EXIT_OK


def _is_mixed(model) -> bool:
    """Whether `model` clusters categorical columns (KPrototypes, KModes)."""
    from kmeanskit._estimators.pipeline import clusters_categories

    return clusters_categories(model)


def _payload(found: dict, args) -> dict:
    payload = {
        "model": args.model,
        "data": args.data,
        "n_samples": found["n_samples"],
        "n_clusters": found["n_clusters"],
        "cluster_sizes": found["cluster_sizes"],
        "inertia": common.json_number(found["inertia"]),
        "silhouette": common.json_number(found["silhouette"]),
        "silhouette_note": found["silhouette_note"],
        "calinski_harabasz": common.json_number(found["calinski_harabasz"]),
        "davies_bouldin": common.json_number(found["davies_bouldin"]),
    }
    if "euclidean_note" in found:  # a model of categorical columns
        payload.update(cost_name=found["cost_name"], euclidean_note=found["euclidean_note"])
    if "contingency" in found:
        table = found["contingency"]
        payload.update(
            labels_column=args.labels_column,
            adjusted_rand=common.json_number(found["adjusted_rand"]),
            normalized_mutual_info=common.json_number(found["normalized_mutual_info"]),
            purity=common.json_number(found["purity"]),
            contingency={
                "classes": [_plain(c) for c in table.index],
                "clusters": [_plain(c) for c in table.columns],
                "counts": [[int(v) for v in row] for row in table.to_numpy()],
            },
        )
    return payload


def _plain(value):
    """A class or cluster label as a JSON value (numpy scalars unwrapped)."""
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def _render(found: dict, args) -> str:
    sizes = found["cluster_sizes"]
    header = f"{args.data}: {found['n_samples']} rows, k={found['n_clusters']} (model {args.model})"
    what = found.get("cost_name")
    what = "within-cluster sum of squares" if what is None else f"the {what}: the sum of the rows' costs"
    lines = [("inertia", f"{found['inertia']:.6g} ({what}, in the model's space)")]
    if found["silhouette"] is None:
        lines.append(("silhouette", f"n/a ({found['silhouette_note']})"))
    else:
        note = found["silhouette_note"]
        lines.append(("silhouette", f"{found['silhouette']:.3f} (from -1 to 1, higher is better separated"
                      + (f"; {note})" if note else ")")))
        if "euclidean_note" not in found:
            lines += [
                ("Calinski-Harabasz", f"{found['calinski_harabasz']:.6g} (higher is better)"),
                ("Davies-Bouldin", f"{found['davies_bouldin']:.3f} (lower is better, 0 is best)"),
            ]
    if "euclidean_note" in found:  # a model of categorical columns
        lines.append(("Calinski-Harabasz, Davies-Bouldin", f"n/a ({found['euclidean_note']})"))
    lines.append(("cluster sizes", " ".join(str(n) for n in sizes)))
    empty = [i for i, n in enumerate(sizes) if n == 0]
    if empty:
        lines.append(("empty clusters", ", ".join(map(str, empty)) + " (no row of DATA assigned)"))
    out = [header, "", *common.aligned(lines)]
    if "contingency" in found:
        out += ["", f"known classes ({args.labels_column}):", *common.aligned([
            ("adjusted Rand index", f"{found['adjusted_rand']:.3f} (0 for chance, 1 for the same partition)"),
            ("normalized mutual info", f"{found['normalized_mutual_info']:.3f} (0 to 1)"),
            ("purity", f"{found['purity']:.3f} (share of rows in their cluster's majority class)"),
        ])]
        table = found["contingency"]
        shown = table.copy()
        shown.columns = [f"cluster {c}" for c in shown.columns]
        shown.insert(0, "class", [str(c) for c in table.index])
        out += ["", "contingency matrix (rows: classes, columns: clusters):", "",
                common.format_table(shown.reset_index(drop=True))]
    return "\n".join(out)
