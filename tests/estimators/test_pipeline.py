"""One way to find the K-Means estimator of a model, with one exception type per mistake."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans, report
from kmeanskit._estimators.pipeline import (
    final_estimator,
    fitted_final_estimator,
    param_prefix,
    preprocessing_steps,
    to_final_space,
)
from kmeanskit.monitoring import anomaly_scores, fit_monitor

X = np.random.default_rng(0).normal(size=(60, 3))


def test_final_estimator_and_its_parameters():
    km = KMeans(2, random_state=0)
    pipe = make_pipeline(StandardScaler(), "passthrough", km)
    assert final_estimator(km) is km and final_estimator(pipe) is km
    assert param_prefix(km) == "" and param_prefix(pipe) == "kmeans__"
    pipe.set_params(**{param_prefix(pipe) + "n_clusters": 3})
    assert km.n_clusters == 3
    pipe.fit(X)
    assert [type(s) for s in preprocessing_steps(pipe)] == [StandardScaler] and preprocessing_steps(km) == []
    np.testing.assert_array_equal(to_final_space(pipe, X), pipe[:-1].transform(X))
    assert to_final_space(km, X) is X


@pytest.mark.parametrize("call", [
    lambda model: fitted_final_estimator(model),
    lambda model: fit_monitor(model, X),
    lambda model: anomaly_scores(model, X, reference=X),
])
def test_every_caller_raises_the_same_types(call):
    with pytest.raises(TypeError, match=r"fitted K-Means estimator .* got Pipeline ending in StandardScaler"):
        call(make_pipeline(StandardScaler()).fit(X))
    with pytest.raises(TypeError, match="got StandardScaler"):
        call(StandardScaler().fit(X))
    with pytest.raises(NotFittedError, match="model is not fitted: call fit before"):
        call(make_pipeline(StandardScaler(), KMeans(2)))


def test_the_report_says_what_it_needs(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(NotFittedError, match="call fit before report"):
        report(X, KMeans(2), tmp_path / "r.html", ks=None)
