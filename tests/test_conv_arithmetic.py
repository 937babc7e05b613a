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
    ReceptiveField, conv_macs, conv_output_shape, conv_output_size, conv_params, conv_transpose_output_shape,
    conv_transpose_output_size, effective_kernel_size, exact_output_size, linear_macs, linear_params,
    locally_connected_params, pool_output_shape, pool_output_size, receptive_field, receptive_field_step,
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


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_exact_output_size_is_whole_exactly_when_conv_output_size_accepts_it(stride):
    assert exact_output_size(32, 5, stride=2) == 14.5 and exact_output_size(224, 11, 4, 3) == 55.75
    for size, k, p, d in itertools.product(range(1, 12), range(1, 5), range(3), (1, 2)):
        if d * (k - 1) + 1 > size + 2 * p:
            continue
        floored = conv_output_size(size, k, stride, p, d, floor=True)
        assert floored == int(exact_output_size(size, k, stride, p, d))
        assert (exact_output_size(size, k, stride, p, d) == floored) == is_whole((size,), k, stride, p, d)


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


def test_receptive_field_step_adds_the_kernel_span_times_the_jump():
    assert receptive_field_step(ReceptiveField(1, 1), 3) == ReceptiveField(3, 1)
    assert receptive_field_step(ReceptiveField(3, 1), 3, stride=2) == ReceptiveField(5, 2)
    assert receptive_field_step(ReceptiveField(5, 2), 3, dilation=2) == ReceptiveField(13, 2)   # span 5, 4 * 2


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


def test_module_does_not_import_torch():
    code = "import sys, course_lib.conv_arithmetic; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
