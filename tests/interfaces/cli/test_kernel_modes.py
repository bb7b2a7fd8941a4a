"""``kmeanskit fit`` on the NumPy twins (a cold machine's first run) prints what the compiled kernels print."""

import json

import pytest

from kmeanskit._engine.serial import kernels_mode

from .running import run


def _without_times(payload):
    """The JSON output without wall-clock times (the only thing allowed to differ)."""
    if isinstance(payload, dict):
        return {key: _without_times(value) for key, value in payload.items() if "time" not in key and "seconds" not in key}
    if isinstance(payload, list):
        return [_without_times(value) for value in payload]
    return payload


@pytest.mark.parametrize("args", [("fit", "--seed", "0"), ("fit", "--seed", "3", "-k", "4")])
def test_fit_json_is_the_same_on_numpy_twins(capsys, args):
    outputs = []
    for mode in ("compiled", "numpy"):
        with kernels_mode(mode):
            code, out, err = run(capsys, *args, "--json")
        assert code == 0, err
        outputs.append(json.loads(out))
    assert _without_times(outputs[0]) == _without_times(outputs[1])
    assert outputs[0].keys() == outputs[1].keys()
