"""scratch.init against torch.nn.init, and the weights seeded layers draw (bit for bit as recorded)."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.scratch import init


def test_manual_seed_makes_initialisation_repeatable():
    scratch.manual_seed(5)
    a = scratch.Linear(4, 3).weight.data
    scratch.manual_seed(5)
    b = scratch.Linear(4, 3).weight.data
    assert np.array_equal(a, b)
    bound = 1 / np.sqrt(4)
    assert np.all(np.abs(a) <= bound)


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


RECORDED = Path(__file__).with_name("initial_weights_seed0.npz")


def _layers_in_recorded_order() -> dict:
    return {"linear": scratch.Linear(784, 2), "linear_nobias": scratch.Linear(10, 3, bias=False),
            "conv1": scratch.Conv2d(1, 6, 5), "conv2": scratch.Conv2d(6, 16, 5, padding=2),
            "conv_rect": scratch.Conv2d(3, 4, (2, 3), bias=False), "convT": scratch.ConvTranspose2d(3, 2, 4, stride=2),
            "bn": scratch.BatchNorm2d(3),
            "mlp": scratch.Sequential(scratch.Linear(20, 8), scratch.ReLU(), scratch.Linear(8, 4))}


def test_seeded_layers_draw_the_recorded_weights_bit_for_bit():
    """The notebooks assert trained accuracies (96.60% for the NumPy MLP, 97.75% for LeNet-5), so layers must
    draw the same numbers from the same random stream, bit for bit, however their initialisation is written.
    initial_weights_seed0.npz was written on commit 4b5cdc8 (before reset_parameters) by building these
    layers, in this order, after scratch.manual_seed(0).
    """
    recorded = np.load(RECORDED)
    scratch.manual_seed(0)
    drawn = {f"{name}.{key}": value for name, layer in _layers_in_recorded_order().items()
             for key, value in layer.state_dict().items()}
    drawn["dropout_output"] = scratch.Dropout(0.3)(np.ones((4, 5)))
    drawn["next_draw"] = scratch.random.generator().random(3)  # the stream is consumed exactly as before
    assert sorted(drawn) == sorted(recorded.files)
    for key, value in drawn.items():
        assert value.dtype == recorded[key].dtype and np.array_equal(value, recorded[key]), key


@pytest.mark.parametrize("shape", [(10, 784), (6, 1, 5, 5), (16, 6, 5, 5), (3, 2, 4, 4)])
def test_fan_in_uniform_is_torchs_kaiming_uniform_with_a_sqrt5(shape):
    """Layers draw U(-1/sqrt(fan_in), 1/sqrt(fan_in)): torch's kaiming_uniform_(a=sqrt(5)) up to the last bit."""
    closed_form = init.fan_in_uniform_(np.empty(shape), generator=np.random.default_rng(0))
    kaiming = init.kaiming_uniform_(np.empty(shape), a=math.sqrt(5), generator=np.random.default_rng(0))
    assert np.abs(closed_form - kaiming).max() < 1e-15  # the two bounds differ in the last bit at most
    layer_bound = 1 / math.sqrt(math.prod(shape[1:]))
    torch_weight = torch.nn.init.kaiming_uniform_(torch.empty(shape, dtype=torch.float64), a=math.sqrt(5))
    assert np.abs(closed_form).max() <= layer_bound and torch_weight.abs().max().item() <= layer_bound * (1 + 1e-15)
