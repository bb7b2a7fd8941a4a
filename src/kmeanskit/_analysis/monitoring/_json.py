"""JSON-safe values for ``to_dict`` of the training profile and the drift report (NaN and inf as None)."""

import math

import numpy as np

__all__ = ["json_number", "json_value"]


def json_value(value):
    """`value` as a plain JSON value: lists element-wise, NumPy scalars as Python ones, non-finite floats as None."""
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return json_number(value)
    return value


def json_number(value):
    """`value` as a float, or None when it is not finite."""
    value = float(value)
    return value if math.isfinite(value) else None
