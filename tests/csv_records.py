"""The records of CSV text, as a reader gives them back and as they are written, for the tests of written tables."""

import csv
import io


def records(text, sep=","):
    """The records of CSV text, each a list of its fields as a CSV reader gives them back."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


def raw_records(text):
    """The records of CSV text as written (quotes included), split at the line ends outside quotes."""
    out, start, quoted = [], 0, False
    for i, char in enumerate(text):
        quoted ^= char == '"'
        if char == "\n" and not quoted:
            out.append(text[start:i])
            start = i + 1
    return out
