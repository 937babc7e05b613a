"""Bad input to notebook 11's networks (models.dense_autoencoder, conv_autoencoder, unet, encoder_decoder) and to
scratch.Unflatten: the argument at fault and the fix in the message (torch_does: the same mistake in torch)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bad_input_harness import Bad, assert_teaches
from course_lib import models, scratch


def zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape)


def pooled_twice_and_back(size: int):
    """What a U-Net does to a size x size image in plain torch: pool twice, up-sample, cat with the skip."""
    skip = F.max_pool2d(torch.zeros(1, 1, size, size), 2)
    return torch.cat([F.interpolate(F.max_pool2d(skip, 2), scale_factor=2), skip], dim=1)


def scratch_backward_first():
    return models.unet(base=2, backend="scratch").backward(zeros(1, 11, 8, 8))


def scratch_backward_wrong_shape():
    net = models.unet(base=2, backend="scratch")
    net(zeros(1, 1, 8, 8))
    return net.backward(zeros(1, 1, 8, 8))


CASES = [
    Bad("conv_autoencoder: bottleneck=0", lambda: models.conv_autoencoder(0), ValueError,
        says=("bottleneck=0", "size of the code", "at least 1")),
    Bad("conv_autoencoder: bottleneck=16.0", lambda: models.conv_autoencoder(16.0), TypeError,
        says=("bottleneck", "whole number", "bottleneck=16")),
    Bad("conv_autoencoder: up='bicubic'", lambda: models.conv_autoencoder(16, up="bicubic"), ValueError,
        says=("up must be one of", "'transpose'", "'upsample'", "'bicubic'")),
    Bad("conv_autoencoder: backend='numpy'", lambda: models.conv_autoencoder(backend="numpy"), ValueError,
        says=("backend must be one of", "'scratch'", "'numpy'")),
    Bad("conv_autoencoder: 32x32 images", lambda: models.conv_autoencoder(backend="scratch")(zeros(1, 1, 32, 32)),
        ValueError, says=("1568 input features", "2048"),
        torch_does=lambda: models.conv_autoencoder()(torch.zeros(1, 1, 32, 32))),
    Bad("dense_autoencoder: hidden=0", lambda: models.dense_autoencoder(16, hidden=0), ValueError,
        says=("hidden=0", "at least 1")),
    Bad("dense_autoencoder: bottleneck=-4", lambda: models.dense_autoencoder(-4), ValueError,
        says=("bottleneck=-4", "size of the code")),
    Bad("unet: num_classes=0", lambda: models.unet(0), ValueError, says=("num_classes=0", "at least 1")),
    Bad("unet: base=2.5", lambda: models.unet(base=2.5), TypeError, says=("base", "whole number")),
    Bad("encoder_decoder: backend='jax'", lambda: models.encoder_decoder(backend="jax"), ValueError,
        says=("backend must be one of", "'jax'")),
    Bad("unet: 30x30 scenes (not divisible by 4), scratch",
        lambda: models.unet(backend="scratch")(zeros(1, 1, 30, 30)), ValueError,
        says=("30x30", "divisible by 4", "28x28", "skip", "32x32"), torch_does=lambda: pooled_twice_and_back(30)),
    Bad("unet: 26x26 scenes (not divisible by 4), torch", lambda: models.unet()(torch.zeros(1, 1, 26, 26)),
        ValueError, says=("26x26", "divisible by 4", "28x28"), torch_does=lambda: pooled_twice_and_back(26)),
    Bad("unet: colour scenes into a 1-channel U-Net", lambda: models.unet(backend="scratch")(zeros(1, 3, 64, 64)),
        ValueError, says=("3 channels", "C_in = 1"), torch_does=lambda: models.unet()(torch.zeros(1, 3, 64, 64))),
    Bad("unet: one scene without its batch axis", lambda: models.unet(backend="scratch")(zeros(1, 64, 64)),
        ValueError, says=("(N, C, H, W)", "x[None]")),
    Bad("unet: a torch tensor into the scratch U-Net",
        lambda: models.unet(backend="scratch")(torch.zeros(1, 1, 64, 64)), TypeError,
        says=("torch tensor", ".numpy()")),
    Bad("unet: integer pixels", lambda: models.unet(backend="scratch")(np.zeros((1, 1, 64, 64), np.uint8)),
        TypeError, says=("uint8", "/ 255")),
    Bad("unet: backward before forward", scratch_backward_first, RuntimeError, says=("before forward",)),
    Bad("unet: grad_output of the input's shape", scratch_backward_wrong_shape, ValueError,
        says=("grad_output has shape (1, 1, 8, 8)", "(1, 11, 8, 8)")),
    Bad("Unflatten: sizes that do not multiply up", lambda: scratch.Unflatten(1, (32, 7, 7))(zeros(2, 784)),
        ValueError, says=("(32, 7, 7)", "multiply up", "784"),
        torch_does=lambda: torch.nn.Unflatten(1, (32, 7, 7))(torch.zeros(2, 784))),
    Bad("Unflatten: unflattened_size an int", lambda: scratch.Unflatten(1, 784), TypeError,
        says=("unflattened_size", "tuple"), torch_does=lambda: torch.nn.Unflatten(1, 784)),
    Bad("Unflatten: two sizes inferred", lambda: scratch.Unflatten(1, (-1, -1)), ValueError,
        says=("at most one -1",), torch_does=lambda: torch.nn.Unflatten(1, (-1, -1))(torch.zeros(2, 4))),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_mistake_with_an_image_model_teaches(case):
    assert_teaches(case)


def test_a_28x28_input_is_fine_for_the_unet():
    """28 is divisible by 4 (28 -> 14 -> 7 -> 14 -> 28): digits themselves go through the U-Net."""
    assert models.unet(base=2, backend="scratch")(zeros(1, 1, 28, 28)).shape == (1, 11, 28, 28)
