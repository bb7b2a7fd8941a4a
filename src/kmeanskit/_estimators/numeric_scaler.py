"""``NumericScaler``: scale the numeric columns of a table and pass its categorical columns through.

The first step of a ``Pipeline`` ending in :class:`KPrototypes` (what ``kmeanskit
fit`` builds for a table with categorical columns): scikit-learn's scalers refuse
text, and K-Prototypes takes numeric columns as given, so the scaling of the
numeric part is its own step, saved and loaded with the model.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["NUMERIC_SCALERS", "NumericScaler"]

#: The values of ``scale`` and the scikit-learn scaler each one fits.
NUMERIC_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


class NumericScaler(TransformerMixin, BaseEstimator):
    """Scale the numeric columns of a DataFrame; pass the categorical ones through unchanged.

    Parameters
    ----------
    scale : {"standard", "minmax"}, default="standard"
        The scaler fitted on the numeric columns: StandardScaler (mean 0,
        standard deviation 1) or MinMaxScaler (range 0 to 1). Missing values
        (NaN) are ignored by the fit and stay NaN.
    categorical : tuple of str, default=()
        The names of the columns passed through (categories); every other
        column is numeric.

    Attributes
    ----------
    scaler_ : StandardScaler or MinMaxScaler
        Fitted on the numeric columns (as an array: it records no names).
    numeric_ : ndarray of shape (n_numeric,), int64
        Positions of the numeric columns.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import pandas as pd
    >>> from kmeanskit._estimators.numeric_scaler import NumericScaler
    >>> X = pd.DataFrame({"amount": [1.0, 3.0], "city": ["a", "b"]})
    >>> NumericScaler(categorical=("city",)).fit_transform(X).to_dict("list")
    {'amount': [-1.0, 1.0], 'city': ['a', 'b']}
    """

    _parameter_constraints: dict = {"scale": [StrOptions(set(NUMERIC_SCALERS))], "categorical": [tuple]}

    def __init__(self, scale="standard", categorical=()):
        self.scale = scale
        self.categorical = categorical

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the scaler on the numeric columns of `X`.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Numeric columns, and the columns named by ``categorical``.
        y : Ignored

        Returns
        -------
        self : object
        """
        self._check_frame(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        names = [str(c) for c in X.columns]
        unknown = [c for c in self.categorical if c not in names]
        if unknown:
            raise ValueError(f"categorical={self.categorical!r}: {unknown!r} not among the columns of X ({names!r})")
        self.numeric_ = np.asarray([j for j, c in enumerate(names) if c not in self.categorical], dtype=np.int64)
        self.scaler_ = NUMERIC_SCALERS[self.scale]().fit(self._numbers(X))
        return self

    def transform(self, X):
        """`X` with its numeric columns scaled (a copy).

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            The columns seen during fit, by name.

        Returns
        -------
        pandas.DataFrame of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        self._check_frame(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        scaled = self.scaler_.transform(self._numbers(X))
        out = X.copy()
        for f, j in enumerate(self.numeric_.tolist()):
            out[out.columns[j]] = scaled[:, f]
        return out

    def inverse_transform(self, X):
        """The numeric part of scaled rows, back in original units: array of shape (n_samples, n_numeric)."""
        check_is_fitted(self)
        return self.scaler_.inverse_transform(np.asarray(X, dtype=np.float64))

    def get_feature_names_out(self, input_features=None):
        """The column names, unchanged."""
        check_is_fitted(self)
        return np.asarray(self.feature_names_in_, dtype=object)

    def _check_frame(self, X):
        if not (hasattr(X, "iloc") and hasattr(X, "dtypes")):
            raise TypeError(f"NumericScaler needs a pandas DataFrame (columns by name), got {type(X).__name__}")

    def _numbers(self, X):
        """The numeric columns of `X` as float64 (NaN kept), or a ValueError naming the column."""
        out = np.empty((X.shape[0], self.numeric_.size))
        for f, j in enumerate(self.numeric_.tolist()):
            try:
                out[:, f] = np.asarray(X.iloc[:, j], dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"numeric column {X.columns[j]!r} of X holds a value that is not a number; "
                                 "name it in categorical if it holds categories") from None
        return out
