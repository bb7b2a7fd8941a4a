"""The service and a model of categorical columns (KPrototypes, KModes): records with category strings,
the types in the OpenAPI schema, unseen categories counted, null refused."""

import warnings

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.pipeline import Pipeline

from kmeanskit import KModes, KPrototypes, UnseenCategoryWarning, load, save
from kmeanskit._estimators.numeric_scaler import NumericScaler
from kmeanskit.service import create_app


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(1)
    group = rng.integers(0, 3, 300)
    return pd.DataFrame({
        "amount": np.array([100.0, 400.0, 900.0])[group] + rng.normal(0, 40, 300),
        "region": np.asarray(["north", "south", "east"], dtype=object)[(group + (rng.random(300) < 0.2)) % 3],
        "visits": np.array([2.0, 6.0, 12.0])[group] + rng.normal(0, 1, 300),
        "plan": rng.choice(np.asarray(["basic", "pro"], dtype=object), 300),
    })


def _pipeline(handle_unknown="warn"):
    categorical = ("region", "plan")
    return Pipeline([("scale", NumericScaler(categorical=categorical)),
                     ("kprototypes", KPrototypes(3, categorical=categorical, random_state=0,
                                                 handle_unknown=handle_unknown))])


@pytest.fixture(scope="module")
def served(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("service") / "shop.kmk"
    save(_pipeline().fit(table), path, X=table)
    return TestClient(create_app(path)), load(path)


def _records(frame):
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.astype(object).to_numpy().tolist()]


def test_records_with_category_strings_are_assigned_as_the_model_does(served, table):
    client, model = served
    rows = table.iloc[:50].copy()
    rows.loc[rows.index[:3], "region"] = ["mars", "moon", "mars"]
    rows.loc[rows.index[5], "plan"] = "gold"
    response = client.post("/predict", json={"records": _records(rows), "return_distances": True})
    assert response.status_code == 200, response.text
    body = response.json()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        labels, costs = model.predict(rows), model.transform(rows)
    assert body["labels"] == labels.tolist()
    assert body["center_distances"] == costs.tolist()  # the K-Prototypes cost, bitwise
    assert body["distances"] == costs[np.arange(50), labels].tolist()
    assert body["unseen_categories"] == {"region": 3, "plan": 1}
    # An unseen category adds gamma to the cost to every center.
    seen = rows.iloc[:1].assign(region=table["region"].iloc[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        gap = model.transform(rows.iloc[:1]) - model.transform(seen)
    modes = model[-1].cluster_centers_[:, 1]
    np.testing.assert_allclose(gap[0], np.where(modes == seen["region"].iloc[0], model[-1].gamma_, 0.0))
    # Instances: values in the model's feature order, numbers and strings.
    instances = rows.iloc[:5].astype(object).to_numpy().tolist()
    answer = client.post("/predict", json={"instances": instances}).json()
    assert answer["labels"] == labels[:5].tolist() and answer["unseen_categories"] == {"region": 3, "plan": 0}


def test_the_openapi_schema_shows_each_fields_type_and_levels(served):
    client, _ = served
    record = client.get("/openapi.json").json()["components"]["schemas"]["Record"]["properties"]
    assert record["amount"]["type"] == "number" and record["visits"]["type"] == "number"
    assert record["region"]["anyOf"] == [{"type": "string", "enum": ["east", "north", "south"]}, {"type": "string"}]
    assert record["plan"]["anyOf"][0] == {"type": "string", "enum": ["basic", "pro"]}
    assert "counted in unseen_categories" in record["region"]["description"]


@pytest.mark.parametrize("change, detail", [
    ({"region": None}, "records[0].region: null (a missing category) is accepted only by a model fitted with "
                       "missing='ignore'"),
    ({"region": 3}, "records[0].region: Input should be 'east', 'north' or 'south'"),
    ({"amount": "many"}, "records[0].amount: Input should be a valid number"),
])
def test_bad_values_are_refused_naming_the_field(served, table, change, detail):
    client, _ = served
    record = {**_records(table.iloc[:1])[0], **change}
    response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 422
    assert response.json()["detail"] == detail


def test_a_model_refusing_unseen_categories_lists_only_its_levels(table):
    client = TestClient(create_app(_pipeline("error").fit(table)))
    record = client.get("/openapi.json").json()["components"]["schemas"]["Record"]["properties"]["region"]
    assert record["enum"] == ["east", "north", "south"]
    bad = {**_records(table.iloc[:1])[0], "region": "mars"}
    response = client.post("/predict", json={"records": [bad]})
    assert response.status_code == 422 and response.json()["detail"].startswith("records[0].region: Input should be")


def test_a_kmodes_model_of_integer_codes_is_served(table):
    X = pd.DataFrame({"store": np.tile([1, 2, 3], 40), "plan": table["plan"].iloc[:120].to_numpy()})
    model = KModes(2, init="Cao").fit(X)
    client = TestClient(create_app(model))
    record = client.get("/openapi.json").json()["components"]["schemas"]["Record"]["properties"]["store"]
    assert record["anyOf"][0] == {"enum": [1, 2, 3], "type": "integer"}
    response = client.post("/predict", json={"records": [{"store": 2, "plan": "pro"}, {"store": 7, "plan": "pro"}]})
    assert response.status_code == 200, response.text
    assert response.json()["labels"][0] == int(model.predict(pd.DataFrame({"store": [2], "plan": ["pro"]}))[0])
    assert response.json()["unseen_categories"] == {"store": 1, "plan": 0}


def test_the_default_body_limit_makes_room_for_the_longest_levels():
    long = ["x" * 300, "y" * 300]
    X = pd.DataFrame({"amount": np.arange(40.0), "label": np.asarray(long * 20, dtype=object)})
    client = TestClient(create_app(KPrototypes(2, random_state=0).fit(X), max_rows=200))
    records = [{"amount": float(i), "label": long[i % 2]} for i in range(200)]
    response = client.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text[:200]
    assert response.json()["unseen_categories"] == {"label": 0}


@pytest.fixture(scope="module")
def served_with_gaps(tmp_path_factory, table):
    """A KPrototypes(missing='ignore') model of the table with gaps in 'region' and 'visits'."""
    gappy = table.copy()
    gappy.loc[gappy.index[::7], "region"] = None
    gappy.loc[gappy.index[::5], "visits"] = np.nan
    categorical = ("region", "plan")
    model = Pipeline([("scale", NumericScaler(categorical=categorical)),
                      ("kprototypes", KPrototypes(3, categorical=categorical, random_state=0, missing="ignore"))])
    path = tmp_path_factory.mktemp("service") / "gaps.kmk"
    save(model.fit(gappy), path, X=gappy)
    return TestClient(create_app(path)), load(path)


def test_nulls_in_categorical_and_numeric_fields_are_gaps_for_a_missing_ignore_model(served_with_gaps, table):
    client, model = served_with_gaps
    rows = table.iloc[:6].copy().astype(object)
    rows.iloc[0, 1] = None  # region
    rows.iloc[1, 0] = None  # amount
    rows.iloc[2, [1, 2]] = None  # region and visits
    response = client.post("/predict", json={"records": _records(rows)})
    assert response.status_code == 200, response.text
    expected = model.predict(rows.astype({"amount": float, "visits": float}))
    assert response.json()["labels"] == expected.tolist()
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Record"]["properties"]
    assert {"type": "null"} in schema["region"]["anyOf"] and {"type": "null"} in schema["visits"]["anyOf"]


def test_a_record_of_nulls_alone_is_refused_naming_it(served_with_gaps):
    client, _ = served_with_gaps
    empty = {"amount": None, "region": None, "visits": None, "plan": None}
    response = client.post("/predict", json={"records": [{"amount": 1.0, "region": "north", "visits": 2.0,
                                                          "plan": "pro"}, empty, empty]})
    assert response.status_code == 422
    assert response.json()["detail"] == ("records[1]: every value is null (2 such rows in all); a row is assigned "
                                         "by its observed values and needs at least one")

