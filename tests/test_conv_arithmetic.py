"""course_lib.conv_arithmetic against torch: output sizes, receptive fields, parameter and mult-add counts."""
import itertools
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import scratch
from course_lib.conv_arithmetic import (
    LayerRow, ReceptiveField, conv_macs, conv_output_shape, conv_output_size, conv_params,
    conv_transpose_output_shape, conv_transpose_output_size, effective_kernel_size, format_table,
    linear_macs, linear_params, locally_connected_params, pool_output_shape, pool_output_size,
    receptive_field, shape_table,
)

torchvision = pytest.importorskip("torchvision")


def torch_shape(layer: nn.Module, hw: tuple[int, int], device: str = "cpu"):
    """Spatial output shape of ``layer`` on a (1, 1, H, W) input, or None where torch refuses it.

    On the "meta" device torch runs only its shape checks and formulas (no arithmetic), which keeps the
    big grids fast; test_meta_device_agrees_with_the_cpu ties the two together.
    """
    try:
        with torch.no_grad():
            return tuple(layer(torch.zeros(1, 1, *hw, device=device)).shape[-2:])
    except RuntimeError:
        return None


def is_whole(hw, k, s, p, d):
    return all((size + 2 * p - d * (k - 1) - 1) % s == 0 for size in hw)


# ---------------------------------------------------------------- grids against torch


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_output_shape_matches_conv2d_over_a_grid(stride):
    checked = refused = 0
    for size, k, p, d in itertools.product(range(1, 13), range(1, 6), range(3), range(1, 4)):
        hw = (size, size + 3)                         # odd and even sizes, non-square
        expected = torch_shape(nn.Conv2d(1, 1, k, stride, p, d, bias=False, device="meta"), hw, "meta")
        if expected is None:                          # the kernel does not fit: torch raises, so do we
            with pytest.raises(ValueError, match="larger than the padded input"):
                conv_output_shape(hw, k, stride, p, d, floor=True)
            refused += 1
            continue
        assert conv_output_shape(hw, k, stride, p, d, floor=True) == expected, (hw, k, stride, p, d)
        assert conv_output_size(hw[1], k, stride, p, d, floor=True) == expected[1]
        if is_whole(hw, k, stride, p, d):
            assert conv_output_shape(hw, k, stride, p, d) == expected
        else:
            with pytest.raises(ValueError, match="is not an integer"):
                conv_output_shape(hw, k, stride, p, d)
        checked += 1
    assert checked > 400 and refused > 0


def test_conv_output_shape_with_pairs_matches_conv2d():
    rng = np.random.default_rng(0)
    for _ in range(200):
        hw, k, s, p, d = (tuple(int(v) for v in rng.integers(lo, hi, 2))
                          for lo, hi in ((1, 20), (1, 6), (1, 4), (0, 3), (1, 3)))
        expected = torch_shape(nn.Conv2d(1, 1, k, s, p, d, device="meta"), hw, "meta")
        if expected is None:
            with pytest.raises(ValueError):
                conv_output_shape(hw, k, s, p, d, floor=True)
        else:
            assert conv_output_shape(hw, k, s, p, d, floor=True) == expected, (hw, k, s, p, d)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_meta_device_agrees_with_the_cpu():
    rng = np.random.default_rng(1)
    for _ in range(40):
        hw, k, s, p, d = (tuple(int(v) for v in rng.integers(lo, hi, 2))
                          for lo, hi in ((1, 12), (1, 6), (1, 4), (0, 3), (1, 3)))
        op = (min(s[0], d[0]) - 1, min(s[1], d[1]) - 1)
        for make in (lambda dev: nn.Conv2d(1, 1, k, s, p, d, device=dev),
                     lambda dev: nn.Conv2d(1, 1, k, padding="same", dilation=d, device=dev),
                     lambda dev: nn.MaxPool2d(k, s, p, d, ceil_mode=True),
                     lambda dev: nn.AvgPool2d(k, s, p),
                     lambda dev: nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d, device=dev)):
            on_cpu = torch_shape(make("cpu"), hw)
            if on_cpu is not None and 0 not in on_cpu:
                assert on_cpu == torch_shape(make("meta"), hw, "meta"), (make("cpu"), hw)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding_matches_conv2d(padding):
    for size, k, d in itertools.product(range(5, 12), range(1, 5), (1, 2)):
        layer = nn.Conv2d(1, 1, k, padding=padding, dilation=d, device="meta")
        expected = torch_shape(layer, (size, size), "meta")
        if expected is None:
            with pytest.raises(ValueError):
                conv_output_shape(size, k, padding=padding, dilation=d)
        else:
            assert conv_output_shape(size, k, padding=padding, dilation=d) == expected


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_shape_matches_torch_pooling_over_a_grid(pool, ceil_mode):
    dilations = (1, 2) if pool == "max" else (1,)
    checked = refused = 0
    for size, k, s, p, d in itertools.product(range(1, 13), range(1, 5), (None, 1, 2, 3), range(3), dilations):
        hw = (size, size + 1)
        if pool == "max":
            layer = nn.MaxPool2d(k, s, p, d, ceil_mode=ceil_mode)
        else:
            layer = nn.AvgPool2d(k, s, p, ceil_mode=ceil_mode)
        expected = torch_shape(layer, hw, "meta")
        if expected is None:
            with pytest.raises(ValueError):
                pool_output_shape(hw, k, s, p, d, ceil_mode, floor=True)
            refused += 1
            continue
        assert pool_output_shape(hw, k, s, p, d, ceil_mode, floor=True) == expected, (hw, k, s, p, d)
        assert pool_output_size(hw[0], k, s, p, d, ceil_mode, floor=True) == expected[0]
        if not ceil_mode and not is_whole(hw, k, s or k, p, d):
            with pytest.raises(ValueError, match="is not an integer"):
                pool_output_shape(hw, k, s, p, d)
        checked += 1
    assert checked > 200 and refused > 0


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    # 4 + 2*1 = 6 padded columns, windows of 2 every 3: starts 0, 3 and (ceil) 6 = in the right padding.
    assert torch_shape(nn.MaxPool2d(2, 3, 1, ceil_mode=True), (4, 4)) == (2, 2)
    assert pool_output_size(4, 2, 3, 1, ceil_mode=True) == 2
    with pytest.raises(ValueError, match=r"ceil_mode=True would not help: it also gives 2.*right padding"):
        pool_output_size(4, 2, 3, 1)
    # without padding the extra, partial window is kept
    assert torch_shape(nn.MaxPool2d(2, 2, ceil_mode=True), (5, 5)) == (3, 3)
    assert pool_output_size(5, 2, ceil_mode=True) == 3
    with pytest.raises(ValueError, match=r"ceil_mode=True it rounds up to 3"):
        pool_output_size(5, 2)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_transpose_output_shape_matches_conv_transpose2d_over_a_grid(stride):
    checked = refused = 0
    for size, k, p, op, d in itertools.product(range(1, 9), range(1, 5), range(3), range(3), (1, 2)):
        hw = (size, size + 2)
        layer = nn.ConvTranspose2d(1, 1, k, stride, p, op, dilation=d, bias=False, device="meta")
        expected = torch_shape(layer, hw, "meta")
        if expected is None or 0 in expected:        # torch raises, or returns an empty tensor for O = 0
            with pytest.raises(ValueError):
                conv_transpose_output_shape(hw, k, stride, p, op, d)
            refused += 1
            continue
        assert conv_transpose_output_shape(hw, k, stride, p, op, d) == expected, (hw, k, stride, p, op, d)
        assert conv_transpose_output_size(hw[0], k, stride, p, op, d) == expected[0]
        checked += 1
    assert checked > 100 and refused > 0


# ---------------------------------------------------------------- the lecture's numbers and the messages


def test_non_whole_conv_explains_the_arithmetic_and_torchs_floor():
    with pytest.raises(ValueError) as err:
        conv_output_size(32, 5, stride=2)
    message = str(err.value)
    assert "(W - F + 2P)/S + 1" in message
    assert "(32 - 5 + 2*0)/2 + 1 = 14.5 is not an integer" in message
    assert ("torch.nn.Conv2d floors it to 14 (the last 1 column(s) of the padded input are never visited)"
            in message)
    assert "floor=True" in message
    assert conv_output_size(32, 5, stride=2, floor=True) == 14 == torch_shape(nn.Conv2d(1, 1, 5, 2), (32, 32))[0]


def test_alexnet_conv1_arithmetic():
    with pytest.raises(ValueError, match=re.escape("(224 - 11 + 2*3)/4 + 1 = 55.75 is not an integer; "
                                                   "torch.nn.Conv2d floors it to 55 (the last 3 column(s)")):
        conv_output_size(224, 11, stride=4, padding=3)
    with pytest.raises(ValueError, match=re.escape("(224 - 11 + 2*2)/4 + 1 = 55.25 is not an integer")):
        conv_output_size(224, 11, stride=4, padding=2)
    assert conv_output_size(227, 11, stride=4) == 55                      # the MATLAB AlexNet: exact
    for padding in (2, 3):                                                # torchvision's AlexNet uses 2
        assert conv_output_size(224, 11, 4, padding, floor=True) == 55
        assert torch_shape(nn.Conv2d(1, 1, 11, 4, padding), (224, 224)) == (55, 55)
    assert pool_output_size(55, 3, stride=2) == 27                        # (55 - 3)/2 + 1


def test_dilated_message_shows_the_effective_kernel():
    with pytest.raises(ValueError, match=re.escape("F_eff = D(F - 1) + 1 = 2*(3 - 1) + 1 = 5: "
                                                   "(32 - 5 + 2*0)/2 + 1 = 14.5 is not an integer")):
        conv_output_size(32, 3, stride=2, dilation=2)


def test_checklist_size_facts():
    assert [conv_output_size(5, 3, s, p) for s, p in ((1, 0), (2, 0), (1, 1))] == [3, 2, 5]
    assert conv_output_shape(5, 3, 2, 1) == (3, 3)                        # CS231n demo: 3x3x2
    assert tuple(nn.Conv2d(3, 2, 3, 2, 1)(torch.zeros(1, 3, 5, 5)).shape[1:]) == (2, 3, 3)
    assert conv_output_size(7, 3, dilation=2) == 3
    assert conv_transpose_output_size(7, 4, stride=2, padding=1) == 14
    assert conv_output_size(14, 4, stride=2, padding=1) == 7              # ... and back
    # "Conv2d(k3, s2, p1): 28 -> 14" holds only through torch's floor: (28 - 3 + 2*1)/2 + 1 = 14.5
    assert conv_output_size(28, 3, stride=2, padding=1, floor=True) == 14
    with pytest.raises(ValueError, match=re.escape("(28 - 3 + 2*1)/2 + 1 = 14.5 is not an integer")):
        conv_output_size(28, 3, stride=2, padding=1)
    assert conv_output_size(28, 4, stride=2, padding=1) == 14                 # k4 s2 p1 halves exactly
    assert conv_output_size(256 // 32, 7) == 2 and conv_output_size(384 // 32, 7) == 6   # FC as conv
    # LeNet: 32 -> C1 28 -> S2 14 -> C3 10 -> S4 5 -> C5 1
    sizes = [32]
    for op, k in (("conv", 5), ("pool", 2), ("conv", 5), ("pool", 2), ("conv", 5)):
        sizes.append(conv_output_size(sizes[-1], k) if op == "conv" else pool_output_size(sizes[-1], k))
    assert sizes == [32, 28, 14, 10, 5, 1]


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("call, message", [
    (lambda: conv_output_size(32, 0), "kernel_size=0 is not allowed: it is the width of the window"),
    (lambda: conv_output_size(32, 3, stride=0), "stride=0 is not allowed.*would never move"),
    (lambda: conv_output_size(32, 3, dilation=0), "dilation=0 is not allowed"),
    (lambda: conv_output_size(32, 3, padding=-1), "padding=-1 is not allowed.*at least 0"),
    (lambda: conv_output_size(0, 3), "size=0 is not allowed"),
    (lambda: conv_output_size(5, 11),
     re.escape("kernel_size=11 is larger than the padded input W + 2P = 5 + 2*0 = 5")),
    (lambda: conv_output_size(5, 3, dilation=3), re.escape("span D(F - 1) + 1 = 3*(3 - 1) + 1 = 7) is larger")),
    (lambda: conv_output_size(10, 3, stride=2, padding="same"), "padding='same' needs stride=1"),
    (lambda: conv_output_size(10, 3, padding="full"), "'valid' or 'same'"),
    (lambda: conv_output_shape((10, 10, 3), 3), r"\(height, width\) pair"),
    (lambda: conv_output_shape((32, 31), 5, 2), re.escape("conv_output_shape (height): O = (W - F + 2P)/S + 1")),
    (lambda: pool_output_size(10, 3, padding=2), r"padding=2 is more than half of kernel_size=3.*at most 1"),
    (lambda: pool_output_size(55, 3, stride=0), "stride=0"),
    (lambda: conv_transpose_output_size(7, 3, 2, output_padding=2),
     "output_padding=2 must be smaller than stride=2 or dilation=1"),
    (lambda: conv_transpose_output_size(2, 3, 1, padding=5), "crops 2P = 10 rows off the 4"),
    (lambda: conv_params(3, 96, 11, groups=2), "in_channels=3 is not divisible by groups=2"),
    (lambda: conv_params(3, 0, 11), "out_channels must be a positive whole number"),
    (lambda: linear_params(0, 3), "in_features must be a positive"),
    (lambda: receptive_field([(3, 1, 1, 5)]), r"\(kernel_size, stride, dilation\)"),
    (lambda: receptive_field([{"stride": 2}]), "needs 'kernel_size'"),
    (lambda: receptive_field([nn.Conv2d(1, 1, 3), nn.Flatten()]), "whole input"),
    (lambda: receptive_field([nn.Conv2d(1, 1, 3), nn.Linear(4, 2)]), "Linear mixes every position"),
    (lambda: receptive_field([nn.AdaptiveAvgPool2d(1)]), "use shape_table"),
    (lambda: receptive_field([nn.Conv2d(1, 1, (3, 5))]), r"kernel_size=\(3, 5\) differs between axes"),
    (lambda: receptive_field([(0, 1)]), "kernel_size=0 is not allowed"),
    (lambda: shape_table(nn.Linear(3, 2), (3,)), "starts with the batch dimension"),
])
def test_bad_arguments_say_which_and_why(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_pair_given_to_the_one_axis_function_points_to_the_pair_function():
    with pytest.raises(TypeError, match=r"use conv_output_shape\(\)"):
        conv_output_size(32, (3, 3))
    with pytest.raises(TypeError, match=r"use pool_output_shape\(\)"):
        pool_output_size((32, 32), 2)


# ---------------------------------------------------------------- receptive field


def test_receptive_field_facts():
    assert receptive_field([(3, 1, 1)] * 3)[-1] == ReceptiveField(size=7, jump=1)
    assert [r.size for r in receptive_field([3, 3])] == [3, 5]
    assert effective_kernel_size(3, 2) == 5 and effective_kernel_size(3, 4) == 9
    assert receptive_field([(3, 1, 2)])[-1].size == 5
    assert receptive_field([{"kernel_size": 3, "dilation": 4}])[-1].size == 9
    # stride multiplies the jump: conv3 / pool2 / conv3 -> 3, 4, 8
    assert receptive_field([(3,), (2, 2), (3, 1)]) == [(3, 1), (4, 2), (8, 2)]


def test_receptive_field_of_layer_objects():
    layers = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Sequential(nn.Conv2d(8, 8, 3, dilation=2), nn.BatchNorm2d(8)), nn.AvgPool2d(2))
    assert receptive_field(layers) == [(3, 1), (3, 1), (4, 2), (12, 2), (12, 2), (14, 4)]
    duck = SimpleNamespace(kernel_size=3, stride=2, dilation=1)          # anything with those attributes
    assert receptive_field([scratch.ReLU(), duck]) == [(1, 1), (3, 2)]
    assert receptive_field([nn.Conv2d(1, 1, (3, 5))], axis=1) == [(5, 1)]
    # AlexNet features: the last max-pool sees 195x195 input pixels, 32 pixels apart
    with torch.device("meta"):
        assert receptive_field(torchvision.models.alexnet().features)[-1] == (195, 32)


# ---------------------------------------------------------------- parameters and mult-adds


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_param_counts_equal_torch_layers():
    for cin, cout, k, bias, groups in [(3, 96, 11, True, 1), (96, 256, 5, True, 2), (8, 8, 3, False, 8),
                                       (4, 6, (3, 5), True, 2), (1, 1, 1, False, 1)]:
        layer = nn.Conv2d(cin, cout, k, bias=bias, groups=groups, device="meta")
        assert conv_params(cin, cout, k, bias, groups) == numel(layer)
    for fin, fout, bias in [(784, 100, True), (100, 10, False), (9216, 4096, True)]:
        assert linear_params(fin, fout, bias) == numel(nn.Linear(fin, fout, bias, device="meta"))


def test_the_quiz_answers():
    assert conv_params(3, 96, 11) == 34_944 == numel(nn.Conv2d(3, 96, 11, device="meta"))
    assert 227 * 227 * 3 == 154_587 and 55 * 55 * 96 == 290_400
    assert linear_params(154_587, 290_400) == 44_892_355_200 == numel(nn.Linear(154_587, 290_400, device="meta"))
    assert linear_params(224 * 224 * 3, 290_400) == 43_713_621_600
    assert locally_connected_params(3, 96, 11, 55) == 105_705_600 == 290_400 * 364


@pytest.mark.parametrize("c", [1, 64, 512])
def test_stacked_3x3_convs_are_cheaper_than_one_big_kernel(c):
    assert 3 * conv_params(c, c, 3, bias=False) == 27 * c * c < conv_params(c, c, 7, bias=False) == 49 * c * c
    assert 2 * conv_params(c, c, 3, bias=False) == 18 * c * c < conv_params(c, c, 5, bias=False) == 25 * c * c


def test_mlp_param_counts():
    assert linear_params(100, 200, False) + 2 * linear_params(200, 200, False) == 100_000
    assert linear_params(100 * 100, 20_000, False) == 200_000_000
    widths = [2500, 2000, 1500, 1000, 500, 10]                           # Ciresan et al.'s pure FC net
    assert sum(linear_params(a, b) for a, b in zip([841] + widths, widths)) == 12_115_010
    assert sum(linear_params(a, b) for a, b in zip([784] + widths, widths)) == 11_972_510


def test_original_grouped_alexnet_has_60_965_224_parameters():
    convs = [(3, 96, 11, 1), (96, 256, 5, 2), (256, 384, 3, 1), (384, 384, 3, 2), (384, 256, 3, 2)]
    fcs = [(9216, 4096), (4096, 4096), (4096, 1000)]
    total = sum(conv_params(i, o, k, groups=g) for i, o, k, g in convs) + sum(linear_params(*f) for f in fcs)
    assert total == 60_965_224


def test_macs():
    assert conv_macs(3, 96, 11, 55) == 55 * 55 * 96 * 363 == 105_415_200
    assert conv_macs(4, 6, (3, 5), (7, 9), groups=2) == 7 * 9 * 6 * 2 * 15
    assert linear_macs(9216, 4096) == 37_748_736


# ---------------------------------------------------------------- shape_table


@pytest.fixture(scope="module")
def alexnet():
    """torchvision's AlexNet and its shape_table at 224x224: the one real forward pass of these tests."""
    model = torchvision.models.alexnet()
    return model, shape_table(model, (1, 3, 224, 224))


def test_shape_table_torchvision_alexnet(alexnet):
    model, rows = alexnet
    assert all(isinstance(r, LayerRow) for r in rows)
    assert sum(r.parameters for r in rows) == 61_100_840 == numel(model)
    spatial = [r.output_shape[-1] for r in rows if r.type in ("Conv2d", "MaxPool2d")]
    assert spatial == [55, 27, 27, 13, 13, 13, 13, 6]
    assert [r.output_shape for r in rows if r.type == "Dropout"][0] == (1, 9216)
    assert rows[0].parameters == conv_params(3, 64, 11)
    expected_macs = (conv_macs(3, 64, 11, 55) + conv_macs(64, 192, 5, 27) + conv_macs(192, 384, 3, 13)
                     + conv_macs(384, 256, 3, 13) + conv_macs(256, 256, 3, 13)
                     + linear_macs(9216, 4096) + linear_macs(4096, 4096) + linear_macs(4096, 1000))
    assert sum(r.macs for r in rows) == expected_macs == 714_188_480
    by_name = {r.name: r for r in rows}
    assert by_name["features.0"].receptive_field == 11 and by_name["avgpool"].receptive_field == 195
    assert all(r.receptive_field is None for r in rows if r.name.startswith("classifier"))
    text = format_table(rows)
    assert text.splitlines()[-1].split()[:2] == ["Total", "61,100,840"] and "714,188,480" in text


def test_format_table_is_aligned(alexnet):
    lines = format_table(alexnet[1]).splitlines()
    end = lines[0].index("Parameters") + len("Parameters")
    for line in lines:
        if not line.startswith("-"):
            assert line[end - 1] in "0123456789s" and line[end] == " ", line


@pytest.mark.parametrize("name, total", [("vgg16", 138_357_544), ("resnet18", 11_689_512)])
def test_shape_table_torchvision_totals_on_the_meta_device(name, total):
    with torch.device("meta"):                       # no weights are made and nothing is computed
        model = getattr(torchvision.models, name)()
    rows = shape_table(model, (1, 3, 224, 224))
    assert sum(r.parameters for r in rows) == total == numel(model)
    assert rows[-1].output_shape == (1, 1000)
    if name == "resnet18":                           # skips and in-place adds: the main path's field
        assert [r.receptive_field for r in rows if r.name == "layer4.1.conv2"] == [435]
        assert sum(r.macs for r in rows) == 1_814_073_344


def lenet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                         nn.AvgPool2d(2), nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
                         nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def test_shape_table_lenet():
    model = lenet()
    model.train()
    rows = shape_table(model, (2, 1, 32, 32))
    assert model.training                                             # mode restored
    kernels = [r for r in rows if r.type in ("Conv2d", "AvgPool2d")]
    assert [r.output_shape for r in kernels] == [(2, 6, 28, 28), (2, 6, 14, 14), (2, 16, 10, 10),
                                                 (2, 16, 5, 5), (2, 120, 1, 1)]
    assert [r.receptive_field for r in kernels] == [5, 6, 14, 16, 32]   # C5 sees the whole 32x32 image
    assert [r.receptive_field for r in rows[-4:]] == [None] * 4
    assert [r.parameters for r in rows if r.parameters] == [156, 2416, 48_120, 10_164, 850]
    assert sum(r.parameters for r in rows) == numel(model) == 61_706
    assert rows[0].macs == conv_macs(1, 6, 5, 28)                       # per example, batch of 2


def test_shape_table_matlab_digit_net_has_180_880_parameters():
    def block(cin, cout, pool):
        layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        return layers + ([nn.MaxPool2d(2, 2)] if pool else [])
    model = nn.Sequential(*block(1, 16, True), *block(16, 32, True), *block(32, 64, False),
                          nn.Flatten(), nn.Linear(3136, 50), nn.Linear(50, 10))
    rows = shape_table(model, (1, 1, 28, 28))
    assert [r.output_shape[-1] for r in rows if r.type == "MaxPool2d"] == [14, 7]
    assert [r.output_shape for r in rows if r.type == "Flatten"] == [(1, 3136)]
    assert sum(r.parameters for r in rows) == 180_880


class TwiceAndFunctional(nn.Module):
    """One conv used twice (shared weights), F.relu between modules, and a parameter outside the leaves."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.pool(F.relu(self.conv(F.relu(self.conv(x))))) * self.scale


def test_shape_table_shared_weights_functional_ops_and_leftover_parameters():
    model = TwiceAndFunctional()
    rows = shape_table(model, (1, 2, 8, 8))
    assert [r.name for r in rows] == ["conv", "conv", "pool", "(other parameters)"]
    assert [r.parameters for r in rows] == [38, 0, 0, 1]
    assert sum(r.parameters for r in rows) == numel(model)
    assert [r.receptive_field for r in rows] == [3, 5, 6, None]


def test_shape_table_reports_where_the_forward_pass_failed():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(10, 2))
    where = r"shape_table: .*\(1, 1, 8, 8\) failed after layer '1' \(output \(1, 144\)\)"
    with pytest.raises(RuntimeError, match=where):
        shape_table(model, (1, 1, 8, 8))


def test_shape_table_scratch_sequential():
    scratch.manual_seed(0)
    model = scratch.Sequential(scratch.Flatten(), scratch.Linear(784, 100), scratch.ReLU(),
                               scratch.Linear(100, 10))
    rows = shape_table(model, (2, 1, 28, 28))
    assert [r.name for r in rows] == ["0", "1", "2", "3"]
    assert [r.output_shape for r in rows] == [(2, 784), (2, 100), (2, 100), (2, 10)]
    assert sum(r.parameters for r in rows) == sum(p.data.size for p in model.parameters()) == 79_510
    assert [r.macs for r in rows] == [0, 78_400, 0, 1_000]
    assert all(r.receptive_field is None for r in rows)
    assert model.training                                             # mode restored


def small_cnn(lib):
    """The same small CNN from torch.nn or course_lib.scratch (same names, same arguments)."""
    return lib.Sequential(lib.Conv2d(1, 6, 5), lib.ReLU(), lib.AvgPool2d(2), lib.Conv2d(6, 16, 5), lib.ReLU(),
                          lib.MaxPool2d(2), lib.ConvTranspose2d(16, 4, 4, 2, 1), lib.AdaptiveAvgPool2d(5),
                          lib.Flatten(), lib.Linear(100, 10))


def test_shape_table_scratch_cnn_matches_torch():
    if not all(hasattr(scratch, n) for n in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AdaptiveAvgPool2d")):
        pytest.skip("course_lib.scratch has no conv/pool layers yet")
    scratch.manual_seed(0)
    ours, theirs = (shape_table(small_cnn(lib), (2, 1, 32, 32)) for lib in (scratch, nn))
    assert [r.output_shape[1:] for r in theirs] == [
        (6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5),
        (4, 10, 10), (4, 5, 5), (100,), (10,)]
    assert [r.receptive_field for r in theirs] == [5, 5, 6, 14, 14, 16, None, None, None, None]
    assert theirs[6].macs == 16 * 5 * 5 * 4 * 4 * 4       # transposed: each input value scatters out * k * k
    strip = [(r.name, r.type, r.output_shape, r.parameters, r.macs, r.receptive_field) for r in ours]
    assert strip == [(r.name, r.type, r.output_shape, r.parameters, r.macs, r.receptive_field) for r in theirs]


def test_shape_table_refuses_a_scratch_model_with_its_own_forward():
    class Custom(scratch.Module):
        def __init__(self):
            super().__init__()
            self.fc = scratch.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    with pytest.raises(TypeError, match="Sequential containers only"):
        shape_table(Custom(), (1, 3))


def test_module_does_not_import_torch():
    code = "import sys, course_lib.conv_arithmetic; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
