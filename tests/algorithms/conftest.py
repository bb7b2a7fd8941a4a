"""Fixtures of the algorithm tests."""

import pytest

from kmeanskit._algorithms import bounded as hamerly
from kmeanskit._algorithms import lloyd
from kmeanskit._engine import serial


@pytest.fixture(params=["direct", "direct-serial", "gemm", "gemm-full", "gemm-pieces", "gemm-lloyd-blocks"])
def bounded_path(request, monkeypatch):
    """Each way the bounded step computes the arg-min of the rows it recomputes."""
    never = 1 << 62
    monkeypatch.setattr(serial, "SERIAL_MAX_VALUES", never if request.param == "direct-serial" else 0)
    if request.param.startswith("direct"):
        monkeypatch.setattr(hamerly, "GEMM_MIN_FEATURES", never)
        monkeypatch.setattr(lloyd, "CHUNKED_MIN_FEATURES", never)
        monkeypatch.setattr(lloyd, "BLOCKS_MIN_PRODUCT", never)
    else:
        monkeypatch.setattr(hamerly, "GEMM_MIN_FEATURES", 1)
        monkeypatch.setattr(lloyd, "CHUNKED_MIN_FEATURES", 1)
        monkeypatch.setattr(hamerly, "CHUNK_ROWS", 7)  # several chunks per slab, a ragged last one
        monkeypatch.setattr(hamerly, "FULL_GEMM_SHARE", 2.0 if request.param == "gemm" else 0.0)
        monkeypatch.setattr(hamerly, "DOTS_SHARE_OF_INPUT", 8)  # several slab groups
        if request.param == "gemm-pieces":  # dots buffers of one 7-row chunk: slabs in pieces
            monkeypatch.setattr(hamerly, "DOTS_SHARE_OF_INPUT", 1 << 30)
        if request.param == "gemm-lloyd-blocks":
            monkeypatch.setattr(lloyd, "BLOCKS_MIN_PRODUCT", 1)
            monkeypatch.setattr(lloyd, "DOTS_BLOCK_VALUES", 1 << 14)  # several blocks
        else:
            monkeypatch.setattr(lloyd, "BLOCKS_MIN_PRODUCT", never)
    return request.param
