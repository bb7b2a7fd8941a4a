"""The categorical role when categories are clustered (``assign_roles(mixed=True)``, ``--categorical``)."""

import numpy as np
import pandas as pd
import pytest

from kmeanskit._io.roles import assign_roles, category_text


@pytest.fixture
def table():
    return pd.DataFrame({
        "amount": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        "region": ["north", "south", "north", "south", "east", "east"],
        "store": [1, 2, 1, 2, 3, 3],
    })


def test_mixed_clusters_categorical_columns_and_names_their_levels(table):
    roles = assign_roles(table, mixed=True, categorical=["store"])
    assert roles.features == ["amount", "region", "store"]
    assert roles.categorical_features == ["region", "store"]
    assert [(c.role, c.clustered, c.reason, c.levels) for c in roles.columns[1:]] == [
        ("categorical", True, "3 levels: clustered", ("east", "north", "south")),
        ("categorical", True, "3 levels: clustered", ("1", "2", "3")),
    ]
    features = roles.features_frame(table)
    assert list(features.columns) == ["amount", "region", "store"]
    assert features["amount"].dtype == np.float64
    assert features["store"].tolist() == ["1", "2", "1", "2", "3", "3"]


def test_without_mixed_categories_are_excluded_and_forced_ones_said(table):
    roles = assign_roles(table, categorical=["store"])
    assert roles.features == ["amount"]
    assert roles["store"].reason == "3 levels (--categorical): excluded (K-Means clusters numbers)"


def test_a_forced_categorical_column_needs_two_levels_and_not_to_be_excluded(table):
    with pytest.raises(ValueError, match="column 'one' of the data is named in --categorical but has one level "
                                         r"\('7'\): it cannot separate clusters"):
        assign_roles(table.assign(one=7), categorical=["one"], mixed=True)
    with pytest.raises(ValueError, match="'store' cannot be both categorical"):
        assign_roles(table, categorical=["store"], exclude=["store"], mixed=True)


def test_category_text_writes_integer_floats_as_integers():
    values = pd.Series([3.0, np.nan, 2.5, "a", True, 1e300], dtype=object)
    assert category_text(values).tolist() == ["3", None, "2.5", "a", "True", "1e+300"]
    assert category_text(pd.Series(["b", None, "a"])).tolist() == ["b", None, "a"]
    assert category_text(pd.Series(pd.array([1, None, 3], dtype="Int64"))).tolist() == ["1", None, "3"]
    # A column of codes read as floats because of a gap names its levels as a column of integers does.
    assert category_text(pd.Series([1.0, None, 2.0])).tolist() == ["1", None, "2"]


def test_a_missing_category_is_refused_naming_row_and_line_unless_allowed(table):
    roles = assign_roles(table, mixed=True)
    gap = table.assign(region=["north", None, "north", "south", "east", "east"])
    with pytest.raises(ValueError, match=r"categorical column 'region' of the data has a missing value in row 2 "
                                         r"\(line 3\), 1 in all: .*--missing drop"):
        roles.features_frame(gap, first_line=2)
    kept = roles.features_frame(gap, allow_missing=True)["region"]
    assert kept[0] == "north" and pd.isna(kept[1])
