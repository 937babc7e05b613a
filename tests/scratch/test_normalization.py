"""BatchNorm1d/BatchNorm2d (and functional batch_norm) against torch, in training and evaluation mode."""
import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.scratch.gradcheck import gradcheck
from course_lib.scratch.normalization import BatchNorm1d, BatchNorm2d

from parity_helpers import assert_close


BN_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
BN_CASES = [
    ("BatchNorm1d", (16, 5), dict()),
    ("BatchNorm1d", (8, 4, 7), dict()),
    ("BatchNorm1d", (10, 3), dict(momentum=None)),
    ("BatchNorm1d", (6, 3, 5), dict(affine=False, eps=1e-3)),
    ("BatchNorm2d", (4, 3, 5, 6), dict()),
    ("BatchNorm2d", (3, 2, 4, 4), dict(momentum=0.3)),
    ("BatchNorm2d", (5, 4, 3, 3), dict(momentum=None, eps=1e-2)),
    ("BatchNorm2d", (4, 3, 5, 5), dict(track_running_stats=False)),
]


def bn_id(case):
    name, shape, kwargs = case
    return f"{name}{shape}" + "".join(f",{k}={v}" for k, v in kwargs.items())


def bn_pair(name, channels, kwargs, device, rng):
    """A torch layer with random weight, bias and running stats, and a scratch layer loaded from it."""
    theirs = getattr(torch.nn, name)(channels, **kwargs).to(device=device, dtype=torch.float64)
    with torch.no_grad():
        for tensor in (theirs.weight, theirs.bias, theirs.running_mean):
            if tensor is not None:
                tensor.copy_(torch.tensor(rng.standard_normal(channels)))
        if theirs.running_var is not None:
            theirs.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, channels)))
    ours = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[name](channels, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def forward_backward(ours, theirs, x, device, rng, what):
    xt = torch.tensor(x, device=device, requires_grad=True)
    out_t = theirs(xt)
    g = rng.standard_normal(x.shape)
    out_t.backward(torch.tensor(g, device=device))
    ours.zero_grad()
    assert_close(ours(x), out_t, f"{what} forward")
    assert_close(ours.backward(g), xt.grad, f"{what} input gradient")
    for name, p in ours.named_parameters():
        assert_close(p.grad, getattr(theirs, name).grad, f"{what} grad of {name}")
    theirs.zero_grad()


@pytest.mark.parametrize("case", BN_CASES, ids=bn_id)
def test_batchnorm_matches_torch_in_train_then_eval(case, device, rng):
    name, shape, kwargs = case
    ours, theirs = bn_pair(name, shape[1], kwargs, device, rng)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(4):  # train: batch statistics, running statistics updated with the unbiased variance
        x = rng.standard_normal(shape) * 3.0 + rng.standard_normal(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))
        forward_backward(ours, theirs, x, device, rng, f"train step {step}")
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, f"after train step {step}: {key}")
    ours.eval()
    theirs.eval()
    forward_backward(ours, theirs, rng.standard_normal(shape), device, rng, "eval")


def test_batchnorm_state_dict_has_torchs_five_keys_in_order_and_loads(rng):
    theirs = torch.nn.BatchNorm2d(3).double()
    theirs(torch.randn(4, 3, 2, 2, dtype=torch.float64))  # running stats and num_batches_tracked move
    ours = BatchNorm2d(3)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == BN_KEYS
    ours.load_state_dict(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert np.array_equal(ours.state_dict()[key], value.numpy()), key
    assert ours.state_dict()["num_batches_tracked"].dtype == np.int64 and ours.num_batches_tracked == 1
    assert list(BatchNorm1d(3, affine=False).state_dict()) == BN_KEYS[2:]
    assert list(BatchNorm1d(3, track_running_stats=False).state_dict()) == BN_KEYS[:2]


def test_batchnorm_inside_sequential_round_trips_torch_state_dict(rng):
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU()).double()
    theirs(torch.tensor(rng.standard_normal((4, 2, 5, 5))))
    ours = scratch.Sequential(scratch.Conv2d(2, 3, 3), BatchNorm2d(3), scratch.ReLU())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 2, 5, 5))
    assert_close(ours(x), theirs(torch.tensor(x)), "Sequential(Conv2d, BatchNorm2d, ReLU) in eval")


@pytest.mark.parametrize("layer, shape", [(BatchNorm1d(3), (5, 3)), (BatchNorm1d(2), (3, 2, 4)),
                                          (BatchNorm2d(2), (3, 2, 3, 2))], ids=["1d-NC", "1d-NCL", "2d"])
def test_batchnorm_gradcheck_train_and_eval(layer, shape, rng):
    layer.weight.data = rng.uniform(0.5, 2.0, layer.num_features)
    layer.bias.data = rng.standard_normal(layer.num_features)
    x = rng.standard_normal(shape)
    errors = gradcheck(layer.train(), x, tol=1e-6)
    assert set(errors) == {"input", "weight", "bias"}
    gradcheck(layer.eval(), x, tol=1e-6)


def test_batchnorm_normalises_each_channel_in_training(rng):
    x = rng.standard_normal((64, 3, 4, 4)) * np.array([1.0, 5.0, 0.1]).reshape(1, 3, 1, 1) + 7.0
    y = BatchNorm2d(3)(x)
    assert np.allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert np.allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)  # var / (var + eps)


def test_batchnorm_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16, .*expects 16 channels.*\(8, 3, 32, 32\) with 3 channels"):
        BatchNorm2d(16)(np.zeros((8, 3, 32, 32)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4, .*expects 4 channels.*\(2, 5\) with 5 channels"):
        BatchNorm1d(4)(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"batch of images \(N, C, H, W\), got shape \(8, 3\).*BatchNorm1d"):
        BatchNorm2d(3)(np.zeros((8, 3)))
    with pytest.raises(ValueError, match=r"rank 2 or 3 .*got shape \(2, 3, 4, 4\)"):
        BatchNorm1d(3)(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\).*\.eval\(\)"):
        BatchNorm1d(3)(np.zeros((1, 3)))
    BatchNorm1d(3).eval()(np.zeros((1, 3)))  # a single example is fine with running statistics
    with pytest.raises(ValueError, match="positive number of features"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"momentum=1.5 must be in \[0, 1\]"):
        BatchNorm2d(3, momentum=1.5)
    with pytest.raises(RuntimeError, match="backward\\(\\) was called before forward"):
        BatchNorm1d(3).backward(np.zeros((2, 3)))
