"""The OpenAPI document, fuzzed by schemathesis: no 5xx, and every response conforms to the schema.

Positive cases (schema-valid bodies) must be answered 200; negative ones
(schema-invalid bodies: wrong types, NaN-like values, extra or missing keys)
must get a documented 4xx. Bounded: a few dozen examples per operation.
"""

import numpy as np
import pandas as pd
import schemathesis
from hypothesis import HealthCheck, settings
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, KPrototypes
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit.service import create_app

MAX_EXAMPLES = 25


def _named_pipeline_app():
    """Records and instances; a scaler in front (values must not overflow after scaling)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)) * [1.0, 1e-3, 1e3], columns=["a", "b c", "d\u00e9"])
    pipe = make_pipeline(StandardScaler(), KMeans(3, random_state=0)).fit(X)
    return create_app(pipe, reference=X, max_rows=20)


def _float32_app():
    """Instances only (no feature names), float32 centers (a smaller range of values)."""
    X = np.random.default_rng(1).normal(size=(200, 2)).astype(np.float32)
    return create_app(KMeans(2, random_state=0).fit(X), max_rows=20)


def _categorical_app():
    """Records and instances of numbers and categories (an enum of levels, or any other string)."""
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=200), "city": rng.choice(np.asarray(["x", "y", "z"], dtype=object), 200),
                      "b": rng.normal(size=200) * 100})
    pipe = make_pipeline(NumericScaler(categorical=("city",)), KPrototypes(3, categorical=("city",), random_state=0))
    return create_app(pipe.fit(X), reference=X, max_rows=20)


def _schema(app):
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=MAX_EXAMPLES)
    return loaded


named_schema = _schema(_named_pipeline_app())
float32_schema = _schema(_float32_app())
categorical_schema = _schema(_categorical_app())
_settings = settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                     derandomize=True)


@named_schema.parametrize()
@_settings
def test_named_pipeline_service(case):
    response = case.call_and_validate()
    assert response.status_code < 500


@float32_schema.parametrize()
@_settings
def test_float32_service_without_feature_names(case):
    response = case.call_and_validate()
    assert response.status_code < 500


@categorical_schema.parametrize()
@_settings
def test_categorical_service(case):
    response = case.call_and_validate()
    assert response.status_code < 500
