"""scratch BatchNorm1d/2d against torch.nn (train and eval), Dropout's mask, and scratch.init's scales."""
import math

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.scratch import init
from course_lib.scratch.dropout import Dropout
from course_lib.scratch.gradcheck import gradcheck
from course_lib.scratch.normalization import BatchNorm1d, BatchNorm2d
from parity_helpers import assert_close

BN_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


# ====================================================================== BatchNorm
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
    with pytest.raises(ValueError, match=r"rank 4 \(\(N, C, H, W\)\), got shape \(8, 3\)"):
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


# ====================================================================== Dropout
def test_dropout_eval_is_the_identity(rng):
    layer = Dropout(0.5).eval()
    x = rng.standard_normal((4, 5))
    assert np.array_equal(layer(x), x)
    assert np.array_equal(layer.backward(x), x)


def test_dropout_train_keeps_1_minus_p_and_scales_by_1_over_1_minus_p():
    scratch.manual_seed(0)
    p = 0.3
    x = np.ones((200, 500))
    y = Dropout(p)(x)
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    assert np.allclose(y[kept], 1 / (1 - p))
    assert abs(y.mean() - 1.0) < 0.015  # inverted dropout keeps the expected activation


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = Dropout(0.6)
    x = rng.standard_normal((50, 40)) + 10.0  # no zeros in x, so zeros in y are dropped units
    y = layer(x)
    g = rng.standard_normal(x.shape)
    dx = layer.backward(g)
    assert np.array_equal(dx == 0, y == 0)
    assert np.allclose(dx, g * (y != 0) / 0.4)


def test_dropout_is_deterministic_under_manual_seed(rng):
    x = rng.standard_normal((10, 10))
    scratch.manual_seed(42)
    first = Dropout(0.5)(x)
    scratch.manual_seed(42)
    second = Dropout(0.5)(x)
    scratch.manual_seed(43)
    other = Dropout(0.5)(x)
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_dropout_p_zero_is_the_identity_even_in_training(rng):
    x = rng.standard_normal((3, 4))
    assert np.array_equal(Dropout(0.0)(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5", True])
def test_dropout_rejects_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\).*fraction of values set to zero"):
        Dropout(p)


# ====================================================================== init
SHAPES = [(400, 300), (64, 32, 5, 5)]
RELU_GAIN = math.sqrt(2.0)


def fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def expected_std(name, shape):
    """The std each initialiser (with the arguments used below) should produce, from its formula."""
    fan_in, fan_out = fans(shape)
    return {
        "uniform_": 2.0 / math.sqrt(12),  # U(-1, 1)
        "normal_": 0.5,
        "xavier_uniform_": math.sqrt(2.0 / (fan_in + fan_out)),
        "xavier_normal_": 5 / 3 * math.sqrt(2.0 / (fan_in + fan_out)),
        "kaiming_uniform_": RELU_GAIN / math.sqrt(fan_in),
        "kaiming_normal_": RELU_GAIN / math.sqrt(fan_out),
    }[name]


CALLS = {
    "uniform_": lambda w: init.uniform_(w, -1.0, 1.0),
    "normal_": lambda w: init.normal_(w, 0.0, 0.5),
    "xavier_uniform_": lambda w: init.xavier_uniform_(w),
    "xavier_normal_": lambda w: init.xavier_normal_(w, gain=init.calculate_gain("tanh")),
    "kaiming_uniform_": lambda w: init.kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_normal_": lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
}


@pytest.mark.parametrize("shape", SHAPES, ids=["linear", "conv"])
@pytest.mark.parametrize("name", list(CALLS))
def test_empirical_std_is_within_2_percent_of_the_formula(name, shape):
    scratch.manual_seed(0)
    w = scratch.Parameter(np.zeros(shape))
    data = w.data
    assert CALLS[name](w) is w and w.data is data  # in place, returning its argument, as torch does
    std = expected_std(name, shape)
    assert abs(w.data.std() / std - 1) < 0.02, f"{name}: std {w.data.std():.5f}, formula {std:.5f}"
    if name.endswith("uniform_"):
        assert np.abs(w.data).max() <= math.sqrt(3) * std + 1e-12


def test_scratch_scales_agree_with_torch_init_on_the_same_shape():
    torch.manual_seed(0)
    scratch.manual_seed(0)
    for shape in SHAPES:
        for ours_fn, torch_fn in [(lambda w: init.kaiming_normal_(w, nonlinearity="relu"),
                                   lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")),
                                  (init.xavier_uniform_, torch.nn.init.xavier_uniform_)]:
            ours = ours_fn(np.zeros(shape))
            theirs = torch_fn(torch.zeros(shape, dtype=torch.float64)).numpy()
            assert abs(ours.std() / theirs.std() - 1) < 0.03


def test_constant_zeros_ones_fill_in_place():
    w = scratch.Parameter(np.full((2, 3), 7.0))
    assert np.all(init.zeros_(w).data == 0)
    assert np.all(init.ones_(w).data == 1)
    arr = np.empty(4)
    assert init.constant_(arr, 0.25) is arr and np.all(arr == 0.25)


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1), ("selu", None),
])
def test_gains_match_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 3), (6, 2, 5), (2, 3, 1, 1, 4)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    assert init.fan_in_and_fan_out(np.zeros(shape)) == expected
    assert init._calculate_fan_in_and_fan_out(scratch.Parameter(np.zeros(shape))) == expected


def test_init_is_deterministic_under_manual_seed_or_a_generator():
    scratch.manual_seed(7)
    a = init.kaiming_uniform_(np.zeros((5, 4)))
    scratch.manual_seed(7)
    b = init.kaiming_uniform_(np.zeros((5, 4)))
    c = init.kaiming_uniform_(np.zeros((5, 4)), generator=np.random.default_rng(7))
    d = init.kaiming_uniform_(np.zeros((5, 4)), generator=np.random.default_rng(7))
    assert np.array_equal(a, b) and np.array_equal(c, d)


def test_init_errors_that_teach():
    with pytest.raises(ValueError, match=r"unknown nonlinearity 'ReLU'.*'relu', not 'ReLU'"):
        init.calculate_gain("ReLU")
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.kaiming_normal_(np.zeros((3, 3)), nonlinearity="swish")
    with pytest.raises(ValueError, match="param is the negative slope"):
        init.calculate_gain("leaky_relu", "0.1")
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*got shape \(5,\).*A bias has no fan-in"):
        init.xavier_uniform_(np.zeros(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in'.*or 'fan_out'"):
        init.kaiming_uniform_(np.zeros((3, 3)), mode="fan_avg")
    with pytest.raises(TypeError, match=r"got a Tensor.*torch.nn.init.normal_"):
        init.normal_(torch.zeros(3))
    with pytest.raises(TypeError, match="floating-point array"):
        init.uniform_(np.zeros(3, dtype=np.int64))
