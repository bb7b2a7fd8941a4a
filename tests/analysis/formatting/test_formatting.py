"""The one home of numbers: readable text (noise as 0, p-values never 0) and JSON (full precision, no NaN)."""

import json
import math

import numpy as np
import pytest

from kmeanskit._analysis.formatting import (
    P_VALUE_FLOOR,
    format_cells,
    format_column,
    format_number,
    format_p_value,
    is_p_value_name,
    json_number,
    json_value,
    noise_to_zero,
)


def test_round_off_around_zero_prints_as_zero_relative_to_the_column():
    # The mean of standardised data mapped back: exactly 0 in exact arithmetic.
    values = np.array([-1.0, 1.0, 0.5, 2.0])
    centred = values - values.mean()
    noisy = np.array([1.2, centred.mean() - 7.8e-16, 3.4])
    assert noisy[1] != 0
    assert format_column(noisy) == ["1.200", "0.000", "3.400"]
    # In scientific notation too: the noise is 0, not -7.8e-16.
    assert format_column([2.5e12, -7.8e-4, 1e10]) == ["2.5e+12", "0", "1e+10"]
    # A value that is small but well above round-off of its column is kept.
    assert format_column([1e-9, 2e-9]) == ["1e-09", "2e-09"]
    assert format_number(-7.8e-16, scale=3.5) == "0"
    assert format_number(-7.8e-16) == "-7.8e-16"  # alone, nothing says it is noise


def test_noise_to_zero_uses_the_precision_of_the_values():
    tolerance64 = 64 * np.finfo(np.float64).eps
    assert noise_to_zero([1.0, 0.5 * tolerance64]).tolist() == [1.0, 0.0]
    assert noise_to_zero([1.0, 2 * tolerance64]).tolist() == [1.0, 2 * tolerance64]
    # float32 round-off is larger: 1e-6 next to 1 is noise there, not in float64.
    assert noise_to_zero(np.array([1.0, 1e-6], dtype=np.float32))[1] == 0.0
    assert noise_to_zero(np.array([1.0, 1e-6]))[1] == 1e-6
    kept = noise_to_zero([np.nan, np.inf, 1.0])
    assert math.isnan(kept[0]) and math.isinf(kept[1])


def test_columns_share_decimals_and_never_show_minus_zero():
    assert format_column([5.1, 12.0, 0.25]) == ["5.10", "12.00", "0.25"]
    assert format_column([-0.0001, 1.0]) == ["0.000", "1.000"]
    assert format_column([np.nan, 2.5, np.inf]) == ["n/a", "2.500", "inf"]
    assert format_column([0.0, 0.0]) == ["0", "0"]
    assert format_column([52013.7, 61000.2], thousands=True) == ["52,014", "61,000"]


def test_one_number():
    assert format_number(140.96581663074699, significant=6) == "140.966"
    assert format_number(0.000123456) == "0.0001235"
    assert format_number(1.5e-7) == "1.5e-07"
    assert format_number(1234567.891, thousands=True) == "1,234,568"
    assert format_number(7) == "7" and format_number(12345, thousands=True) == "12,345"
    assert format_number(None) == "n/a" and format_number(float("nan"), missing="-") == "-"
    assert format_number(0.0) == "0" and format_number(-0.0) == "0"


@pytest.mark.parametrize("p, text, sentence", [
    (0.0, "< 1e-300", "p < 1e-300"),  # underflow: never "0"
    (1e-320, "< 1e-300", "p < 1e-300"),  # subnormal
    (P_VALUE_FLOOR, "1e-300", "p = 1e-300"),
    (3.2e-12, "3.2e-12", "p = 3.2e-12"),
    (0.0213, "0.0213", "p = 0.0213"),
    (0.5, "0.5", "p = 0.5"),
    (1.0, "1", "p = 1"),
    (float("nan"), "n/a", "n/a"),
])
def test_p_values_are_never_zero(p, text, sentence):
    assert format_p_value(p) == text
    assert format_p_value(p, with_p=True) == sentence


def test_p_value_columns_are_known_by_name():
    for name in ("p", "anova_p", "ANOVA p", "Kruskal-Wallis p", "p_value", "ks_pvalue"):
        assert is_p_value_name(name), name
    for name in ("size", "sepal length (cm)", "shap", "group"):
        assert not is_p_value_name(name), name


def test_cells_by_column_type():
    assert format_cells(np.array([3, 12])) == ["3", "12"]
    assert format_cells(np.array([1234, 5]), thousands=True) == ["1,234", "5"]
    assert format_cells(np.array([0.125, np.nan]), percent=True) == ["12.5%", "n/a"]
    assert format_cells(np.array([0.0, 0.04]), p_value=True) == ["< 1e-300", "0.04"]
    assert format_cells(np.array(["a", None], dtype=object)) == ["a", "n/a"]
    assert format_cells(np.array([True, False])) == ["True", "False"]


def test_json_keeps_every_digit_and_no_nan():
    value = 0.1 + 0.2
    assert json_number(value) == value and repr(json_number(np.float64(value))) == repr(value)
    assert json_number(np.float32(0.1)) == float(np.float32(0.1))
    assert json_number(np.int64(3)) == 3 and type(json_number(np.int64(3))) is int
    assert json_number(np.bool_(True)) is True
    assert json_number(None) is None
    for bad in (float("nan"), float("inf"), -np.inf):
        assert json_number(bad) is None
    document = json_value([1.5, np.nan, (np.int32(2), np.inf), "text", np.array([0.25, np.nan])])
    assert document == [1.5, None, [2, None], "text", [0.25, None]]
    json.dumps(document, allow_nan=False)  # valid JSON
