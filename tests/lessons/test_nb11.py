"""Notebook 11's helpers (course_lib/lessons/nb11_image_to_image.py): the checkerboard counts and measure, the
autoencoder's halves and code walk, the denoising and super-resolution scores, the segmentation tables and the
figures, on small untrained networks of both backends (the trained ones are checked in the notebook)."""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_lib import data, metrics, models, parity
from course_lib.lessons import nb11_image_to_image as nb11


@pytest.fixture(scope="module")
def digits():
    return data.digit_images("validation")[0][:12]


@pytest.fixture(scope="module")
def scenes():
    return data.digit_scenes("validation", 6, seed=3)


def test_transposed_stride_2_kernel_3_taps_are_uneven_and_upsample_then_conv_taps_are_not():
    taps = nb11.overlap_counts("transpose", size=4)
    assert taps.shape == (8, 8)
    assert np.array_equal(taps[:2, :2], [[1, 2], [2, 4]])                         # even/odd rows and columns
    assert np.all(nb11.overlap_counts("upsample", size=4)[1:-1, 1:-1] == 9)
    assert np.all(nb11.overlap_counts("upsample", size=3, kernel_size=5)[2:-2, 2:-2] == 25)


def test_checkerboard_measures_the_plus_minus_pattern_in_each_2x2_block():
    pattern = np.tile([[1.0, 0.0], [0.0, 1.0]], (3, 3))[None, None]             # + - / - + in every block
    assert np.allclose(nb11.checkerboard(pattern), 0.5)
    assert np.allclose(nb11.checkerboard(np.full((2, 1, 6, 6), 0.7)), 0)
    ramp = np.add.outer(np.arange(6.0), np.arange(6.0))[None, None]              # linear: no checkerboard
    assert np.allclose(nb11.checkerboard(ramp), 0)


@pytest.mark.parametrize("backend", ["torch", "scratch"])
def test_encode_then_decode_is_the_whole_autoencoder(backend, digits):
    net = models.conv_autoencoder(8, backend=backend)
    codes = nb11.encode(net, digits)
    assert codes.shape == (12, 8)
    assert np.allclose(nb11.decode(net, codes), nb11.run(net, digits), atol=1e-6)


def test_code_walk_starts_and_ends_at_the_reconstructions_and_blends_pixels(digits):
    net = models.dense_autoencoder(4)
    walked, blended = nb11.code_walk(net, digits[0], digits[1], steps=5)
    assert walked.shape == blended.shape == (5, 1, 28, 28)
    assert np.allclose(walked[[0, -1]], nb11.run(net, digits[:2]), atol=1e-6)
    assert np.allclose(blended[2], (digits[0] + digits[1]) / 2)


def identity():
    """A torch 'network' that returns its input (with one unused parameter: outputs() reads the dtype from it)."""
    net = torch.nn.Sequential(torch.nn.Identity())
    net.register_parameter("unused", torch.nn.Parameter(torch.zeros(1)))
    return net


def test_reconstruction_mse_of_an_identity_is_zero(digits):
    assert nb11.reconstruction_mse(identity(), digits) == 0


def test_denoising_psnr_of_a_network_that_returns_its_input_is_the_noisy_psnr(digits):
    noisy_psnr, out_psnr = nb11.denoising_psnr(identity(), digits, 0.2, seed=4)
    assert noisy_psnr == pytest.approx(out_psnr)
    noisy, _ = data.noisy_digits("validation", 0.2, seed=4)
    assert np.array_equal(data.add_noise(data.digit_images("validation")[0], 0.2, seed=4), noisy)


def test_super_resolution_baselines_are_torch_interpolate_clipped():
    low, high = data.pixelated_digits("validation")
    low, high = low[:20], high[:20]
    bicubic = torch.nn.functional.interpolate(torch.from_numpy(low).double(), scale_factor=2, mode="bicubic",
                                              align_corners=False).clamp(0, 1)
    parity.compare("bicubic", nb11.upsampled(low, "bicubic"), bicubic, tol=1e-12, verbose=False)
    assert np.array_equal(nb11.upsampled(low, "nearest"), low.repeat(2, axis=2).repeat(2, axis=3))
    doubler = identity()
    doubler.append(torch.nn.Upsample(scale_factor=2))                            # "learned" = nearest
    scores = nb11.super_resolution_psnr(doubler, low, high)
    assert list(scores) == ["nearest", "bilinear", "bicubic", "learned"]
    assert scores["learned"] == pytest.approx(scores["nearest"]) and scores["bicubic"] > scores["nearest"]


def test_per_class_iou_and_rows_follow_metrics(scenes):
    x, y = scenes
    nets = {"unet": models.unet(), "fcn": models.fcn()}
    ious = nb11.per_class_iou(nets, x, y)
    for name, net in nets.items():
        predicted = nb11.predict_labels(net, x)
        assert predicted.shape == y.shape
        assert np.allclose(ious[name], metrics.iou(predicted, y, 11), equal_nan=True)
    rows = nb11.iou_rows(ious)
    assert [r[0] for r in rows] == ["unet", "fcn"] and len(rows[0]) == len(nb11.IOU_HEADERS) == 13


def test_receptive_fields_grow_linearly_or_exponentially():
    assert nb11.receptive_field_sizes([1, 1, 1, 1]) == [3, 5, 7, 9]
    assert nb11.receptive_field_sizes([1, 2, 4, 8]) == [3, 7, 15, 31]


def test_text_table_aligns_columns():
    text = nb11.text_table([["a", 1.5], ["bbb", 22]], ["name", "value"])
    lines = text.splitlines()
    assert lines[0] == "name  value" and set(lines[1]) == {"-"} and lines[2] == "a       1.5"
    assert len({len(line) for line in lines}) == 1


def test_figures_and_widget_callbacks_return_closed_figures(digits, scenes):
    x, y = scenes
    low, _ = data.pixelated_digits("validation")
    nets = {f"{kind}_b4": builder(4) for kind, builder in (("dense", models.dense_autoencoder),
                                                            ("conv", models.conv_autoencoder))}
    figures = [
        nb11.task_figure(digits[:4], digits[:4], low[:4], x[:2], y[:2]),
        nb11.overlap_figure(),
        nb11.rows_figure([digits[:3], digits[:2]], ["a", "b"], ["one", "two", "three"]),
        nb11.bottleneck_curve_figure({"conv": {2: 0.05, 4: 0.03}}),
        nb11.bottleneck_view(nets, digits[:4], 4),
        nb11.noise_view(models.conv_autoencoder(4), digits[:4], 0.3),
        nb11.scene_view({"unet": models.unet()}, x, y, 1),
        nb11.scene_view({"unet": models.unet(), "fcn": models.fcn()}, x, y, 0, show_errors=False),
    ]
    assert all(isinstance(f, Figure) for f in figures)
