"""Convolution (Conv2d, ConvTranspose2d, functional conv2d) from scratch against torch autograd (float64)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.scratch import functional as sf

from parity_helpers import assert_close, check_layer, t


# (in, out, kernel, stride, padding, dilation, input H, input W): odd sizes, pairs, non-whole cases (floored).
CONV_CASES = [
    (1, 1, 3, 1, 0, 1, 5, 5),
    (3, 2, 3, 2, 1, 1, 5, 5),            # the CS231n demo: 5x5x3, two 3x3x3 filters, stride 2, pad 1 -> 3x3x2
    (2, 4, 5, 2, 0, 1, 12, 11),          # (12 - 5)/2 + 1 = 4.5: floored like torch
    (3, 5, (3, 2), (2, 1), (1, 0), 1, 9, 7),
    (2, 3, 3, 1, 2, 2, 7, 8),
    (2, 3, 3, 1, 0, (2, 3), 11, 13),
    (4, 6, 1, 1, 0, 1, 6, 6),            # 1x1 convolution
    (3, 4, 7, 3, 3, 1, 17, 15),
    (1, 2, 4, 4, 0, 1, 8, 8),            # stride = kernel, no overlap
]


@pytest.mark.parametrize("c_in, c_out, k, s, p, d, h, w", CONV_CASES)
def test_conv2d_module_matches_torch(c_in, c_out, k, s, p, d, h, w, device, rng):
    check_layer(scratch.Conv2d(c_in, c_out, k, s, p, d), torch.nn.Conv2d(c_in, c_out, k, s, p, d),
                rng.standard_normal((2, c_in, h, w)), device, rng)


def test_conv2d_without_bias(device, rng):
    check_layer(scratch.Conv2d(2, 3, 3, bias=False), torch.nn.Conv2d(2, 3, 3, bias=False),
                rng.standard_normal((3, 2, 6, 6)), device, rng)


@pytest.mark.parametrize("c_in, c_out, k, s, p, d, h, w", CONV_CASES[:6])
def test_loop_and_vectorised_convolutions_agree(c_in, c_out, k, s, p, d, h, w, rng):
    x, weight = rng.standard_normal((2, c_in, h, w)), rng.standard_normal((c_out, c_in, *np.broadcast_to(k, 2)))
    bias = rng.standard_normal(c_out)
    fast = sf.conv2d(x, weight, bias, s, p, d)
    assert_close(sf.conv2d_loops(x, weight, bias, s, p, d), fast, "forward")
    g = rng.standard_normal(fast.shape)
    for slow, quick, name in zip(sf.conv2d_loops_backward(g, x, weight, s, p, d),
                                 sf.conv2d_backward(g, x, weight, s, p, d), ("dx", "dW", "db")):
        assert_close(slow, quick, name)


# (in, out, kernel, stride, padding, output_padding, dilation, H, W)
TRANSPOSED_CASES = [
    (2, 3, 3, 1, 0, 0, 1, 5, 5),
    (3, 2, 4, 2, 1, 0, 1, 7, 7),        # the decoder's doubling: 7 -> 14
    (2, 2, 3, 2, 1, 1, 1, 5, 6),
    (1, 3, (3, 2), (2, 3), (1, 0), (1, 2), 1, 4, 5),
    (2, 2, 3, 1, 1, 0, 2, 6, 5),
]


@pytest.mark.parametrize("c_in, c_out, k, s, p, op, d, h, w", TRANSPOSED_CASES)
def test_conv_transpose2d_matches_torch(c_in, c_out, k, s, p, op, d, h, w, device, rng):
    ours = scratch.ConvTranspose2d(c_in, c_out, k, s, p, op, dilation=d)
    theirs = torch.nn.ConvTranspose2d(c_in, c_out, k, s, p, op, dilation=d)
    check_layer(ours, theirs, rng.standard_normal((2, c_in, h, w)), device, rng)


def test_transposed_convolution_is_the_gradient_of_a_convolution(rng):
    """<conv(x), y> = <x, conv_transpose(y)> for the same weight: the two maps are adjoint."""
    x, weight = rng.standard_normal((1, 2, 9, 9)), rng.standard_normal((3, 2, 3, 3))
    y = rng.standard_normal(sf.conv2d(x, weight, stride=2, padding=1).shape)
    lhs = np.sum(sf.conv2d(x, weight, stride=2, padding=1) * y)
    rhs = np.sum(x * sf.conv_transpose2d(y, weight, stride=2, padding=1))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_lenet_stack_matches_torch(device, rng):
    """Conv -> ReLU -> pool -> conv -> ReLU -> pool -> flatten -> linear, end to end."""
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 10))
    check_layer(build(scratch), build(torch.nn), rng.standard_normal((3, 1, 28, 28)), device, rng)


@pytest.mark.parametrize("module", [
    scratch.Conv2d(2, 2, 3, stride=2, padding=1), scratch.ConvTranspose2d(2, 1, 3, stride=2),
    scratch.AvgPool2d(2), scratch.LPPool2d(2, 2), scratch.AdaptiveAvgPool2d(2), scratch.MaxPool2d(2),
])
def test_gradcheck_conv_and_pool(module, rng):
    x = rng.uniform(0.5, 1.5, (2, 2, 5, 5)) * rng.choice([-1, 1], (2, 2, 5, 5))
    if isinstance(module, scratch.LPPool2d):
        x = np.abs(x)
    assert max(scratch.gradcheck(module, x).values()) < 1e-6


def test_conv_worked_example_from_the_lecture():
    image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
    out = sf.conv2d(image[None, None], kernel[None, None])[0, 0]
    assert np.array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_float32_stays_float32(rng):
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    assert sf.conv2d(x, w).dtype == np.float32
    assert all(g.dtype == np.float32 for g in sf.conv2d_backward(np.ones((1, 3, 4, 4), np.float32), x, w))
    assert sf.max_pool2d(x, 2).dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda: scratch.Conv2d(3, 8, 3)(np.zeros((2, 1, 8, 8))),
     r"input has 1 channels \(shape \(N, C, H, W\) = \(2, 1, 8, 8\)\).*expects C_in = 3"),
    (lambda: scratch.Conv2d(1, 8, 7)(np.zeros((1, 1, 5, 5))), r"kernel covers 7 pixels in height.*5 \+ 2\*0 = 5"),
    (lambda: scratch.Conv2d(1, 8, 3, dilation=3)(np.zeros((1, 1, 6, 6))), r"kernel covers 7 pixels.*dilation 3"),
    (lambda: scratch.Conv2d(1, 8, 3, stride=0), "stride must be positive, got 0"),
    (lambda: scratch.Conv2d(1, 8, 3, padding=-1), "padding must be >= 0"),
    (lambda: scratch.Conv2d(1, 8, 2.5), "kernel_size must be an int or a pair of ints"),
    (lambda: scratch.Conv2d(1, 2, 3)(np.zeros((1, 8, 8))), r"batch of images \(N, C, H, W\), got shape \(1, 8, 8\).*Use x\[None\]"),
    (lambda: scratch.MaxPool2d(2, padding=2)(np.zeros((1, 1, 8, 8))), r"padding \(2\) must be at most half"),
    (lambda: scratch.MaxPool2d(5)(np.zeros((1, 1, 3, 3))), "window does not fit"),
    (lambda: scratch.MaxPool2d(2, stride=-1), "stride must be positive"),
    (lambda: scratch.ConvTranspose2d(2, 1, 3, stride=2, output_padding=2)(np.zeros((1, 2, 4, 4))),
     r"output_padding \(2\) must be smaller than stride \(2\)"),
    (lambda: scratch.ConvTranspose2d(2, 1, 3)(np.zeros((1, 3, 4, 4))), "expects C_in = 2"),
])
def test_bad_conv_and_pool_input_teaches(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_state_dict_of_conv_layers_matches_torch():
    ours, theirs = scratch.Conv2d(3, 4, (3, 5)), torch.nn.Conv2d(3, 4, (3, 5))
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours_t, theirs_t = scratch.ConvTranspose2d(3, 4, 2), torch.nn.ConvTranspose2d(3, 4, 2)
    assert {k: v.shape for k, v in ours_t.state_dict().items()} == {k: tuple(v.shape) for k, v in theirs_t.state_dict().items()}


def test_functional_conv2d_matches_torch_functional(device, rng):
    x, w, b = rng.standard_normal((2, 3, 10, 9)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    assert_close(sf.conv2d(x, w, b, 2, 1, 1), F.conv2d(t(x, device), t(w, device), t(b, device), 2, 1, 1), "conv2d")


@pytest.mark.parametrize("activation, pool", [("relu", "max"), ("tanh", "avg")])
def test_lenet5_matches_torch_and_has_the_lecture_shapes(activation, pool, device, rng):
    from course_lib.models import lenet5

    torch.manual_seed(0)
    ours, theirs = lenet5(activation=activation, pool=pool), lenet5(activation=activation, pool=pool, backend="torch")
    check_layer(ours, theirs, rng.standard_normal((2, 1, 28, 28)), device, rng)
    x, sizes = np.zeros((1, 1, 28, 28)), []
    for layer in ours:
        x = layer(x)
        if x.ndim == 4:
            sizes.append(x.shape[2])
    assert sorted(set(sizes), reverse=True) == [28, 14, 10, 5, 1]
    assert ours[6].out_channels == 120  # C5: 120 maps, not the deck's "150"


# (in, out, kernel, stride, padding, dilation, groups, input H, input W): depthwise, depthwise with a channel
# multiplier, and general groups.
GROUPED_CASES = [
    (4, 4, 3, 1, 1, 1, 4, 7, 6),          # depthwise (MobileNet): one 3x3 filter per channel
    (3, 6, 3, 2, 1, 1, 3, 9, 8),          # depthwise with two filters per channel
    (4, 6, (3, 2), 1, (1, 0), (2, 1), 2, 9, 7),   # two groups of 2 -> 3 channels
    (6, 3, 1, 1, 0, 1, 3, 5, 5),          # grouped 1x1 convolution
]


@pytest.mark.parametrize("c_in, c_out, k, s, p, d, g, h, w", GROUPED_CASES)
def test_grouped_conv2d_module_matches_torch(c_in, c_out, k, s, p, d, g, h, w, device, rng):
    check_layer(scratch.Conv2d(c_in, c_out, k, s, p, d, g), torch.nn.Conv2d(c_in, c_out, k, s, p, d, g),
                rng.standard_normal((2, c_in, h, w)), device, rng)


def test_grouped_conv2d_without_bias(device, rng):
    check_layer(scratch.Conv2d(4, 4, 3, groups=4, bias=False), torch.nn.Conv2d(4, 4, 3, groups=4, bias=False),
                rng.standard_normal((2, 4, 6, 6)), device, rng)


def test_grouped_conv2d_has_torchs_positional_order_and_weight_shape():
    ours, theirs = scratch.Conv2d(4, 8, 3, 1, 1, 1, 2, False), torch.nn.Conv2d(4, 8, 3, 1, 1, 1, 2, False)
    assert ours.weight.shape == tuple(theirs.weight.shape) == (8, 2, 3, 3) and ours.bias is None
    assert ours.groups == theirs.groups == 2


def test_functional_grouped_conv2d_and_backward_match_torch(device, rng):
    x, w, b = rng.standard_normal((2, 6, 8, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    xt, wt, bt = t(x, device, grad=True), t(w, device, grad=True), t(b, device, grad=True)
    yt = F.conv2d(xt, wt, bt, 2, 1, 1, 2)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(t(g, device))
    assert_close(sf.conv2d(x, w, b, 2, 1, 1, 2), yt, "grouped conv2d")
    for ours, theirs, name in zip(sf.conv2d_backward(g, x, w, 2, 1, 1, 2), (xt, wt, bt), ("dx", "dW", "db")):
        assert_close(ours, theirs.grad, f"grouped conv2d {name}")


@pytest.mark.parametrize("c_in, c_out, groups, message", [
    (6, 4, 4, r"in_channels must be divisible by groups, but in_channels / groups = 6 / 4 = 1.5"),
    (4, 6, 4, r"out_channels must be divisible by groups, but out_channels / groups = 6 / 4 = 1.5"),
    (4, 4, 0, r"groups must be a positive integer, got 0"),
])
def test_conv2d_groups_that_do_not_divide_the_channels_are_explained(c_in, c_out, groups, message):
    with pytest.raises(ValueError, match=message):
        scratch.Conv2d(c_in, c_out, 3, groups=groups)


def test_functional_grouped_conv2d_names_the_channel_mismatch(rng):
    with pytest.raises(ValueError, match=r"input has 5 channels .* expects C = 3 \* 2 = 6"):
        sf.conv2d(rng.standard_normal((1, 5, 6, 6)), rng.standard_normal((4, 3, 3, 3)), groups=2)
