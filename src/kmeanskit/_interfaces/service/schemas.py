"""The bodies of the service: response models, the ``/predict`` request type built per model, 4xx messages.

Requests are validated by pydantic against a type made for the served model
(its number of features, its feature names, the largest value it answers with
finite distances), so that every malformed request is refused with a message
saying what to fix, without echoing the input back.
"""

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Union

from pydantic import AllowInfNan, BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, create_model

if TYPE_CHECKING:
    from kmeanskit._interfaces.service.predictor import Predictor

__all__ = [
    "ErrorResponse",
    "HealthResponse",
    "ModelResponse",
    "PredictResponse",
    "UnreadableBody",
    "read_json",
    "request_type",
    "validation_errors",
]

_MAX_ERRORS_SHOWN = 20


class UnreadableBody(json.JSONDecodeError):
    """A body that :func:`json.loads` cannot read for a reason other than its syntax.

    A :class:`json.JSONDecodeError`, so that FastAPI answers it as invalid
    JSON (422) rather than as a body it failed to parse (400).
    """

    def __init__(self, msg: str):
        super().__init__(msg, "", 0)


def read_json(body: bytes) -> Any:
    """``json.loads(body)``, raising :class:`json.JSONDecodeError` for every body it cannot read.

    Besides syntax errors: text that is not UTF-8 (nor UTF-16/32), nesting
    deeper than the interpreter's recursion limit, and integers longer than
    its limit on digits (``sys.get_int_max_str_digits``).
    """
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError as exc:
        raise UnreadableBody(f"the body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise UnreadableBody("the body is nested too deeply") from None
    except ValueError as exc:  # an integer over the limit on digits
        raise UnreadableBody(" ".join(str(exc).split())) from None


class ErrorResponse(BaseModel):
    """A 4xx answer: a one-line message and, for invalid bodies, the first errors."""

    detail: str
    errors: list[dict[str, Any]] | None = None


class PredictResponse(BaseModel):
    """Predictions for a batch of rows, one entry per row in request order."""

    n_rows: int
    labels: list[int] = Field(description="cluster of each row")
    distances: list[float] = Field(description="distance of each row to its cluster's center, in the space the "
                                               "model clusters in (after its scalers): Euclidean, cosine "
                                               "(1 - cos) for SphericalKMeans, L1 for KMedians")
    anomaly_scores: list[float | None] | None = Field(
        description="distance / the training distance quantile of the row's cluster (null for all rows when "
                    "the model has no training quantiles; null for a row whose score is not finite)")
    anomalies: list[bool] | None = Field(description="anomaly score above 1 (null without training quantiles)")
    anomaly_level: float | None = Field(description="training quantile an anomaly score of 1 corresponds to")
    center_distances: list[list[float]] | None = Field(
        default=None, description="distances to every center (only with return_distances)")
    unseen_categories: dict[str, int] | None = Field(
        default=None, description="for a model of categorical columns (KPrototypes, KModes): per column, the "
                                  "values never seen in training (each matches no center's mode: it adds gamma "
                                  "to the cost to every center)")


class HealthResponse(BaseModel):
    status: Literal["ok"]
    n_features: int
    n_clusters: int
    feature_names: list[str] | None
    anomaly_detection: bool
    uptime_seconds: float


class ModelResponse(BaseModel):
    source: str | None = Field(description="the model's name: the model file's name (never its directory) or the "
                                           "name given, null for a model given as an object without a name")
    n_features: int
    n_clusters: int
    feature_names: list[str] | None
    anomaly_level: float | None
    max_rows: int
    max_body_bytes: int
    max_abs_value: float = Field(description="largest absolute value accepted in a row (the model's distances "
                                             "stay finite up to there)")
    training_profile: dict[str, Any] | None
    manifest: dict[str, Any] | None = Field(description="the model file's manifest (arrays are referred to "
                                                        "by member name, never included)")



def request_type(predictor: "Predictor", max_rows: int):
    """The pydantic type of a /predict body for this model: instances, or records by feature name."""
    d = predictor.n_features
    bound = predictor.max_abs_value
    # A value: a JSON number (ints accepted), never a string, a boolean, NaN or infinity, nor so
    # large that the distances would overflow; null (a missing value, NaN for the model) only
    # for a model fitted with missing='ignore'.
    Value = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-bound, le=bound)]
    if predictor.accepts_missing:
        Value = Value | None
    Row = Annotated[list[Value], Field(min_length=d, max_length=d)]
    if predictor.levels is not None:  # categories: a type per position
        values = [_category(predictor, j) if j in predictor.levels else Value for j in range(d)]
        Row = tuple[tuple(values)]
    else:
        values = [Value] * d
    strict_bool = Annotated[bool, Strict()]
    distances_field = (strict_bool, Field(default=False, description="also return the distances to every center"))

    instances = create_model(
        "InstancesRequest",
        __config__=ConfigDict(extra="forbid"),
        instances=(Annotated[list[Row], Field(min_length=1, max_length=max_rows)],
                   Field(description=f"rows of {d} {'values' if predictor.levels else 'numbers'} in the "
                                     "model's feature order"
                                     + (" (null: a missing value)" if predictor.accepts_missing else ""))),
        return_distances=distances_field,
    )
    if predictor.feature_names is None:
        return instances
    record = create_model(
        "Record",
        __config__=ConfigDict(extra="forbid", populate_by_name=False),
        **{f"f{i}": (values[i], Field(alias=name)) for i, name in enumerate(predictor.feature_names)},
    )
    records = create_model(
        "RecordsRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(Annotated[list[record], Field(min_length=1, max_length=max_rows)],
                 Field(description="rows as objects mapping every feature name to its value")),
        return_distances=distances_field,
    )

    def kind(value) -> str:
        if isinstance(value, dict):
            return "records" if "records" in value and "instances" not in value else "instances"
        return "records" if isinstance(value, records) else "instances"

    return Annotated[Union[Annotated[instances, Tag("instances")], Annotated[records, Tag("records")]],
                     Discriminator(kind)]


#: Up to this many levels, a categorical field's schema lists them (an enum); beyond, it says how many.
_MAX_ENUM_LEVELS = 1000


def _category(predictor: "Predictor", j: int):
    """The type of categorical column `j`: one of its levels (an enum in the schema), or, when the
    model lets unseen categories match no center, any other value of the levels' JSON type."""
    levels = predictor.levels[j]
    name = f"column {j}" if predictor.feature_names is None else repr(predictor.feature_names[j])
    known = Literal[tuple(levels)] if len(levels) <= _MAX_ENUM_LEVELS else None
    text = all(isinstance(v, str) for v in levels)
    other = Annotated[str, Strict()] if text else Union[Annotated[str, Strict()], Annotated[int, Strict()],
                                                        Annotated[float, Strict(), AllowInfNan(False)]]
    said = (f"a category of {name}: one of its {len(levels)} levels seen in training"
            + ("; another value matches no center's mode (counted in unseen_categories)"
               if predictor.accepts_unseen else ""))
    kind = other if known is None else Union[known, other] if predictor.accepts_unseen else known
    if predictor.accepts_missing:  # null: a missing category, for a model whose policy allows it
        kind = Optional[kind]
    return Annotated[kind, Field(description=said)]


def validation_errors(errors, predictor: "Predictor", unreadable: UnreadableBody | None = None) -> dict[str, Any]:
    """A one-line message and the first errors, without echoing the input back.

    `unreadable`: the error that made the body invalid JSON, when it says more than "JSON decode error".
    """
    union = predictor.feature_names is not None
    errors = _one_per_category(errors, predictor)
    shown = []
    for error in errors[:_MAX_ERRORS_SHOWN]:
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"]:
            loc = loc[1:]
        if union and loc[:1] in (["instances"], ["records"]):
            loc = loc[1:]  # the tag of the request union, not something the client sent
        msg = error.get("msg", "")
        if error.get("type") == "float_type" and "input" in error and error["input"] is None:
            msg = "null (a missing value) is accepted only by a model fitted with missing='ignore'"
        elif error.get("category") and "input" in error and error["input"] is None:
            msg = "null (a missing category) is accepted only by a model fitted with missing='ignore'"
        shown.append({"loc": loc, "msg": msg, "type": error.get("type", "")})
    if not shown:
        return {"detail": "invalid request", "errors": []}
    first = shown[0]
    detail = f"{_where(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
    if first["type"] == "json_invalid":
        detail = "the body is not valid JSON: " + (unreadable.msg if unreadable is not None else first["msg"])
    if any(e["type"] == "extra_forbidden" and e["loc"][:1] == ["records"] for e in shown) \
            and predictor.feature_names is None:
        detail = (f"this model records no feature names: send 'instances', rows of {predictor.n_features} "
                  "numbers in the model's feature order")
    elif first["type"] == "too_long" and first["loc"] in (["instances"], ["records"]):
        detail = f"{first['loc'][0]}: {first['msg']} (max_rows); send fewer rows per request"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return {"detail": detail, "errors": shown}


def _one_per_category(errors, predictor: "Predictor"):
    """The errors, with those of the members of a categorical field's union (its levels, or any other
    value) said once, at the field, as the levels' error (marked ``category``)."""
    if predictor.levels is None:
        return errors
    out, seen = [], set()
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc and isinstance(loc[-1], str) and (loc[-1].startswith("literal[") or loc[-1] in ("str", "int", "float")):
            if loc[:-1] in seen:
                continue
            seen.add(loc[:-1])
            error = {**error, "loc": loc[:-1], "category": True}
        out.append(error)
    return out


def _where(loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


