"""``NumericScaler``: the numeric columns scaled as scikit-learn's scaler does, categories passed through."""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from kmeanskit._estimators.numeric_scaler import NumericScaler


@pytest.mark.parametrize("scale, reference", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
def test_numeric_columns_as_the_scaler_and_categories_untouched(scale, reference):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(5, 2, 30), "city": rng.choice(["x", "y"], 30), "b": rng.integers(0, 9, 30)})
    out = NumericScaler(scale, categorical=("city",)).fit_transform(X)
    numbers = np.ascontiguousarray(X[["a", "b"]].to_numpy(dtype=float))  # (the layout NumericScaler gives)
    expected = reference().fit_transform(numbers)
    assert np.array_equal(out[["a", "b"]].to_numpy(), expected)  # bitwise
    assert out["city"].tolist() == X["city"].tolist() and list(out.columns) == ["a", "city", "b"]
    back = NumericScaler(scale, categorical=("city",)).fit(X).inverse_transform(expected)
    np.testing.assert_allclose(back, X[["a", "b"]].to_numpy(dtype=float), rtol=1e-12)


def test_refusals_name_the_problem():
    X = pd.DataFrame({"a": [1.0, 2.0], "city": ["x", "y"]})
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        NumericScaler().fit(X.to_numpy())
    with pytest.raises(ValueError, match="numeric column 'city' of X holds a value that is not a number"):
        NumericScaler().fit(X)
    with pytest.raises(ValueError, match=r"categorical=\('town',\): \['town'\] not among the columns"):
        NumericScaler(categorical=("town",)).fit(X)
