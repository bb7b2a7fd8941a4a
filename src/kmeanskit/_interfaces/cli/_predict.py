"""``kmeanskit predict``: assign the rows of a table to the clusters of a saved model."""

from __future__ import annotations

import argparse
import sys

from kmeanskit._interfaces.cli import _common as common

__all__ = ["EPILOG", "add_arguments", "run"]

EPILOG = """\
examples:
  kmeanskit fit customers.csv -k 5 --seed 0 -o customers.kmk
  kmeanskit predict customers.kmk new_customers.csv -o assigned.csv
  kmeanskit predict customers.kmk new_customers.parquet -o assigned.parquet
  kmeanskit predict customers.kmk new_customers.csv | head
  kmeanskit predict customers.kmk new_customers.csv -o assigned.csv --json

The model's feature columns are taken from DATA by name, read as they were
for the fit (text amounts parsed, dates as days: the column roles stored in
the model file); other columns, such as the id column, are kept. Every row and
column of DATA is written back, in order, followed by 'cluster' and 'distance'
(distance to the cluster center, in the scaled space the model clusters in:
Euclidean for KMeans and MiniBatchKMeans, cosine distance 1 - cos for
SphericalKMeans, L1 for KMedians).

A text DATA's cells are written back as DATA writes them (02134 stays 02134,
44643.30 stays 44643.30, 1,234.50 and markers such as NA stay as they are),
with DATA's separator, decimal mark (for 'distance' too) and encoding: DATA is
read once more as text, in chunks. A .csv or .tsv output of another kind of
text gets the separator its name says, and a Parquet output keeps the number
columns as numbers (a marker there is a missing value) and the other columns
as text; either is said after the output's name.

Rows with missing values follow --missing: by default the model's policy
(assigned by their observed values for a model fitted with --missing ignore,
refused otherwise); with drop they get an empty 'cluster' and 'distance'.

For a model of a table with categorical columns (K-Prototypes, K-Modes),
'distance' is the row's cost to its center, and a category never seen in
training matches no center's mode (it adds gamma to the cost to every
center): such values are counted per column (on standard error, or in
--json's "unseen_categories").
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``kmeanskit predict``."""
    common.add_model_argument(parser)
    common.add_table_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help=(
            "write the table here: Parquet if PATH ends in .parquet or .pq, "
            "text otherwise, in DATA's layout (default: to standard output)"
        ),
    )
    common.add_json_argument(parser, "print a JSON summary (rows, rows per cluster, mean distance) instead of the rows")
    common.add_missing_argument(parser, default=None)


def run(args: argparse.Namespace) -> int:
    """Run ``kmeanskit predict`` with parsed arguments; return the exit code."""
    from kmeanskit._analysis.workflow import predict_table, prediction_summary
    from kmeanskit._io.table_rules import PARQUET_SUFFIXES
    from kmeanskit._io.tables import read_raw_table, write_table
    from kmeanskit._io.write_back import is_text_table, write_text_back

    output_path = None
    if args.output is not None:
        output_path = common.check_output_path(
            args.output, option="-o/--output", inputs=[args.data, args.model]
        )
    parquet = output_path is not None and output_path.suffix.lower() in PARQUET_SUFFIXES
    as_written = is_text_table(args.data) and not parquet  # DATA's cells written back as it writes them
    model, manifest = common.load_model(args.model, with_manifest=True)
    roles = common.model_roles(manifest)
    layout = common.model_layout(args, roles)
    # The markers (cells read as missing for their text: the columns with gaps read again as text) are
    # put back in the rows written from the values read; DATA written back as it writes them needs them
    # only to name them in a refusal of missing values.
    if as_written:
        frame, markers = read_raw_table(args.data, layout=layout), None
    else:
        frame, markers = read_raw_table(args.data, layout=layout, return_markers=True)

    def predict(markers):
        # One line per row (no comment lines to skip): messages name the line of a bad value.
        return predict_table(model, frame, source=f"'{args.data}'", roles=roles, missing=args.missing,
                             first_line=common.first_data_line(args), markers=markers)

    try:
        predicted = predict(markers)
    except ValueError:
        if markers is not None or not frame.isna().to_numpy().any():
            raise
        predicted = predict(read_raw_table(args.data, layout=layout, return_markers=True)[1])  # (refused again)
    notes = ()
    if as_written:
        # Every cell of DATA as it is written there (the text read again, chunk by chunk), and the
        # columns predict adds.
        if output_path is not None or not args.json:
            added = predicted[predicted.columns[frame.shape[1]:]]
            notes = write_text_back(args.data, added, sys.stdout if output_path is None else output_path,
                                    layout=layout).changes
    else:
        # A Parquet output keeps the types of its columns: a number column's marker stays missing there.
        written = markers.restore(predicted, text_columns_only=parquet)
        if output_path is not None:
            write_table(written, output_path)
        elif not args.json:
            written.to_csv(sys.stdout, index=False)
        if parquet and is_text_table(args.data):
            notes = (f"Parquet: the number columns of '{args.data}' as numbers, not as written; its other "
                     "columns as written",)
    if args.json:
        payload = {
            "model": args.model,
            "data": args.data,
            **prediction_summary(model, predicted),
            "output_path": None if output_path is None else str(output_path),
        }
        if notes:
            payload["output_notes"] = list(notes)
        common.print_json(payload)
    elif output_path is not None:
        said = f" ({'; '.join(notes)})" if notes else ""
        print(f"{len(predicted)} rows with 'cluster' and 'distance' written to {output_path}{said}")
    unseen = {name: n for name, n in predicted.attrs.get("unseen_categories", {}).items() if n}
    if unseen and not args.json:
        counts = ", ".join(f"'{name}' {n}" for name, n in unseen.items())
        print(f"categories never seen in training (they match no center's mode): {counts}",
              file=sys.stdout if output_path is not None else sys.stderr)
    unassigned = int(predicted["cluster"].isna().sum())
    if unassigned:
        print(f"{unassigned} rows with missing values left without a cluster (--missing drop)", file=sys.stderr)
    sys.stdout.flush()
    return common.EXIT_OK

