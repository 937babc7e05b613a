"""Shared fixtures: torch devices to compare against (CUDA only where a GPU is present)."""
import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Each parity test runs on the CPU, and again on CUDA when a GPU is available."""
    return torch.device(request.param)


@pytest.fixture
def rng():
    return __import__("numpy").random.default_rng(1234)
