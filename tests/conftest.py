"""Shared fixtures: torch devices to compare against (CUDA only where a GPU is present), headless figures."""
import matplotlib

matplotlib.use("Agg")  # tests draw figures without a screen

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

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


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test drew, so hundreds of figure tests don't pile up in memory."""
    yield
    plt.close("all")
