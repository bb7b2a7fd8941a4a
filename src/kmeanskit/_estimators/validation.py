"""Fast paths of scikit-learn's parameter and input validation, for the common case.

A small fit or a one-row ``predict`` spends most of its time in scikit-learn's
validation: ``get_params`` introspects ``__init__``, the constraints are built
again at each call, and ``check_array`` asks whether X is a DataFrame of any
known library. Here the common case is recognised cheaply and everything else
goes to scikit-learn's own validation, so that every error, warning and result
stays scikit-learn's:

- parameters (:meth:`RememberedParamsMixin._validate_params`): values of plain
  types (int, float, str, bool, None) that passed the same class's constraints
  before pass again without being checked; anything else, or a new value, is
  validated by scikit-learn (and remembered if it passes);
- input (:func:`plain_float_array`): a 2-D ``numpy.ndarray`` in C order,
  already of an accepted float dtype, finite, with at least one row and one
  feature, is what ``validate_data`` would return unchanged; the same
  bookkeeping (``n_features_in_``, ``feature_names_in_``) is done here.
"""

import weakref

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import validate_data

__all__ = ["RememberedParamsMixin", "plain_float_array", "validate_float_data"]

# The parameter values' types whose validation depends on their value alone.
_PLAIN_TYPES = frozenset({int, float, str, bool, type(None)})
# Parameter settings remembered per class, at most (then forgotten, all at once).
_MAX_REMEMBERED = 256
# class -> (its _parameter_constraints, its parameters' names (``cls._get_param_names()``, an
# ``inspect.signature`` each call; None for a class with its own get_params), set of settings
# that passed the constraints); a class made at run time (a test's subclass) is forgotten with
# it: the entry holds no reference to the class.
_remembered = weakref.WeakKeyDictionary()


class RememberedParamsMixin:
    """scikit-learn's ``_validate_params``, skipped for settings of plain values that passed it before.

    A setting is the class, the constraints it is checked against and each
    parameter's type and value. Only settings that passed are remembered:
    a value that fails is checked (and refused, with scikit-learn's message)
    every time. ``sklearn.set_config(skip_parameter_validation=True)`` keeps
    its meaning: scikit-learn's ``_fit_context`` then calls no validation.
    """

    def _validate_params(self):
        cls = type(self)
        constraints = self._parameter_constraints
        entry = _remembered.get(cls)
        if entry is None or entry[0] is not constraints or len(entry[2]) >= _MAX_REMEMBERED:
            own = cls.get_params is BaseEstimator.get_params
            entry = _remembered[cls] = (constraints, tuple(cls._get_param_names()) if own else None, set())
        if entry[1] is None:  # a subclass's own parameters: scikit-learn's way
            params = self.get_params(deep=False)
            names, values = tuple(params), tuple(params.values())
        else:  # get_params(deep=False), without its inspect.signature
            names = entry[1]
            values = tuple(getattr(self, name) for name in names)
        key = None
        if all(type(value) in _PLAIN_TYPES for value in values):
            key = tuple((type(value), value) for value in values)
            if key in entry[2]:
                return
        validate_parameter_constraints(constraints, dict(zip(names, values, strict=True)), caller_name=cls.__name__)
        if key is not None:
            entry[2].add(key)


def plain_float_array(
    estimator, X, *, dtype, reset=True, order="C", copy=False, accept_sparse=False, accept_large_sparse=True
):
    """X as ``validate_data(estimator, X, ...)`` returns it, when X is the common case; else None.

    The common case: a ``numpy.ndarray`` (not a subclass) of two dimensions, C-contiguous,
    of ``dtype`` (or one of its list), with at least one row and one feature, every value
    finite, no copy asked for, and (``reset=False``) as many features as the fit saw and no
    feature names at fit. Then ``validate_data`` returns X itself, and this does the same
    bookkeeping: ``reset=True`` sets ``n_features_in_`` and drops ``feature_names_in_``.
    Anything else (None): the caller runs scikit-learn's validation, whose messages and
    warnings it keeps. ``accept_sparse`` and ``accept_large_sparse`` change nothing for a
    dense array.

    Parameters
    ----------
    estimator : estimator instance
    X : object
    dtype : dtype or list of dtypes
        The accepted dtypes, as given to ``validate_data``.
    reset : bool, default=True
    order : {"C", None}, default="C"
    copy : bool, default=False
    accept_sparse, accept_large_sparse : object
        Accepted as ``validate_data`` takes them (not read).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), or None
    """
    if type(X) is not np.ndarray or X.ndim != 2 or copy or order not in ("C", None):
        return None
    if not X.flags.c_contiguous or X.shape[0] < 1 or X.shape[1] < 1:
        return None
    accepted = dtype if isinstance(dtype, (list, tuple)) else (dtype,)
    if not any(X.dtype == accepted_dtype for accepted_dtype in accepted) or X.dtype.kind != "f":
        return None
    config = get_config()
    if config["array_api_dispatch"]:
        return None
    if not config["assume_finite"]:  # (scikit-learn skips its test under assume_finite)
        with np.errstate(over="ignore"):  # scikit-learn's first test, as it makes it (a sum of huge values: its path)
            if not np.isfinite(X.sum()):
                return None
    if reset:
        estimator.n_features_in_ = X.shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return X
    if getattr(estimator, "feature_names_in_", None) is not None:
        return None  # scikit-learn's warning: X has no feature names
    if getattr(estimator, "n_features_in_", X.shape[1]) != X.shape[1]:
        return None  # scikit-learn's error
    return X


def validate_float_data(estimator, X, **kwargs):
    """``validate_data(estimator, X, **kwargs)``, by :func:`plain_float_array`'s fast path when X is the common case.

    ``kwargs`` are those :func:`plain_float_array` takes (``dtype`` among them).
    """
    plain = plain_float_array(estimator, X, **kwargs)
    return validate_data(estimator, X, **kwargs) if plain is None else plain
