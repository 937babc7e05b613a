"""Tests for course_lib.notebook: the setup cell every notebook starts with."""
import platform

import numpy as np
import pytest
import torch

import course_lib
from course_lib import scratch
from course_lib.device import pick_device
from course_lib.notebook import DTYPE_POLICY, describe_setup, setup_notebook


@pytest.fixture(autouse=True)
def restore_torch_dtype():
    yield
    torch.set_default_dtype(torch.float32)


def draws():
    """One number from each random stream the notebooks use: NumPy's global, scratch's, torch's."""
    return np.random.rand(), scratch.random.generator().random(), torch.rand(1).item()


@pytest.mark.parametrize("seed", [0, 7])
def test_seeds_every_stream_as_the_notebooks_did(seed):
    _, rng = setup_notebook(seed=seed)
    ours = (rng.random(3), draws())
    np.random.seed(seed)
    expected_rng = np.random.default_rng(seed).random(3)
    scratch.manual_seed(seed)
    torch.manual_seed(seed)
    assert np.array_equal(ours[0], expected_rng)
    assert ours[1] == draws()


def test_another_seed_gives_other_numbers():
    _, rng0 = setup_notebook(seed=0)
    first = (rng0.random(), draws())
    _, rng1 = setup_notebook(seed=1)
    second = (rng1.random(), draws())
    assert first[0] != second[0] and all(a != b for a, b in zip(first[1], second[1]))


def test_returns_the_picked_device_or_the_one_asked_for():
    assert setup_notebook().device == pick_device()
    assert setup_notebook(device="cpu").device == torch.device("cpu")


def test_torch_default_dtype_is_float32_again():
    torch.set_default_dtype(torch.float64)      # as notebooks 02 and 04 do, in a kernel that is reused
    setup_notebook()
    assert torch.get_default_dtype() == torch.float32 and torch.zeros(1).dtype == torch.float32


def test_prints_versions_device_and_dtype_policy(capsys):
    device, _ = setup_notebook(seed=3, device="cpu")
    printed = capsys.readouterr().out
    assert printed == describe_setup(device, 3) + "\n"
    versions, where, policy = printed.splitlines()
    for part in (f"Python {platform.python_version()}", f"NumPy {np.__version__}", f"PyTorch {torch.__version__}",
                 f"course_lib {course_lib.__version__}"):
        assert part in versions
    assert where.startswith("device: cpu (") and where.endswith("seed 3")
    assert policy == DTYPE_POLICY and "scratch float64" in policy and "torch float32" in policy


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_bad_seed_says_what_a_seed_must_be(seed):
    with pytest.raises(ValueError, match="non-negative int"):
        setup_notebook(seed=seed)
