"""A small U-Net for notebook 11's 64x64 digit scenes, built twice with the same submodule names: ``ScratchUNet``
(a ``scratch.Module`` with a hand-written backward) and the torch ``UNet`` (``torch_unet_class()``). With
``skips=False`` the same network without its skip connections: the encoder-decoder baseline.

    down1   conv block 1 -> b          (N, 1, H, W)         -> (N, b, H, W)          skip s1
    pool1   MaxPool2d(2)                                     -> (N, b, H/2, W/2)
    down2   conv block b -> 2b                               -> (N, 2b, H/2, W/2)     skip s2
    pool2   MaxPool2d(2)                                     -> (N, 2b, H/4, W/4)
    bottom  conv block 2b -> 4b                              -> (N, 4b, H/4, W/4)
    up2     Upsample(2), cat s2        (N, 4b + 2b, H/2, W/2)   [no skips: 4b channels]
    dec2    conv block -> 2b                                 -> (N, 2b, H/2, W/2)
    up1     Upsample(2), cat s1        (N, 2b + b, H, W)        [no skips: 2b channels]
    dec1    conv block -> b                                  -> (N, b, H, W)
    head    Conv2d(b, num_classes, 1)                        -> (N, num_classes, H, W)   per-pixel logits

A conv block is Conv2d(3x3, padding 1) -> ReLU -> Conv2d(3x3, padding 1) -> ReLU (sizes kept). Up-sampling is
nearest ``Upsample(scale_factor=2)`` then the block's convolutions, not ConvTranspose2d: it has no parameters, cannot
make the checkerboard pattern of a stride-2 transposed convolution (Odena et al. 2016, measured in notebook 11), and
the convolutions right after it learn what a transposed convolution would. H and W must be divisible by 4 (two
poolings), or the up-sampled maps would not match the skips.
"""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from . import scratch
from .scratch._checks import as_float_array, check_image_batch
from .scratch.functional import resampling

LEVELS = 2                    # poolings, so H and W must be divisible by 2**LEVELS
DIVISOR = 2 ** LEVELS


def conv_block(nn, in_channels: int, out_channels: int):
    """Conv2d(3x3, padding=1) -> ReLU -> Conv2d(3x3, padding=1) -> ReLU, named conv1, relu1, conv2, relu2."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, out_channels, 3, padding=1)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(out_channels, out_channels, 3, padding=1)), ("relu2", nn.ReLU()),
    ]))


def build_layers(module, nn, in_channels: int, num_classes: int, base: int, skips: bool) -> None:
    """Set the U-Net's submodules on ``module`` (scratch or torch: ``nn`` is the namespace), in forward order."""
    module.skips = skips
    module.in_channels = in_channels
    module.down1 = conv_block(nn, in_channels, base)
    module.pool1 = nn.MaxPool2d(2)
    module.down2 = conv_block(nn, base, 2 * base)
    module.pool2 = nn.MaxPool2d(2)
    module.bottom = conv_block(nn, 2 * base, 4 * base)
    module.up2 = nn.Upsample(scale_factor=2)
    module.dec2 = conv_block(nn, 4 * base + (2 * base if skips else 0), 2 * base)
    module.up1 = nn.Upsample(scale_factor=2)
    module.dec1 = conv_block(nn, 2 * base + (base if skips else 0), base)
    module.head = nn.Conv2d(base, num_classes, 1)


def check_divisible(shape, where: str) -> None:
    """H and W of an (N, C, H, W) batch must be divisible by DIVISOR; a teaching error otherwise."""
    height, width = shape[-2:]
    if height % DIVISOR or width % DIVISOR:
        raise ValueError(f"{where}: the input is {height}x{width}, but H and W must be divisible by {DIVISOR} "
                         f"({LEVELS} MaxPool2d(2) halve them and {LEVELS} Upsample(2) double them back; {height}x"
                         f"{width} would come back as {height // DIVISOR * DIVISOR}x{width // DIVISOR * DIVISOR} "
                         f"and not match the skip connections). Pad or crop the input, e.g. to "
                         f"{-(-height // DIVISOR) * DIVISOR}x{-(-width // DIVISOR) * DIVISOR}.")


class ScratchUNet(scratch.Module):
    """The U-Net of the module docstring in NumPy; ``backward`` is written out, skip by skip."""

    def __init__(self, in_channels: int = 1, num_classes: int = 11, base: int = 16, skips: bool = True) -> None:
        super().__init__()
        build_layers(self, scratch, in_channels, num_classes, base, skips)

    def _join(self, up: np.ndarray, skip: np.ndarray) -> np.ndarray:
        return resampling.cat([up, skip], dim=1) if self.skips else up

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "UNet input")
        check_image_batch(x, "UNet", channels=self.in_channels)
        check_divisible(x.shape, "UNet")
        s1 = self.down1(x)
        s2 = self.down2(self.pool1(s1))
        up2 = self.up2(self.bottom(self.pool2(s2)))
        up1 = self.up1(self.dec2(self._join(up2, s2)))
        out = self.head(self.dec1(self._join(up1, s1)))
        self.save_for_backward((up2.shape[1], s2.shape[1]), (up1.shape[1], s1.shape[1]))
        return out

    def _split(self, grad: np.ndarray, sizes) -> tuple:
        """(dL/d up-sampled, dL/d skip): cat's gradient split along the channels; no skip, no share (0)."""
        return tuple(resampling.cat_backward(grad, sizes, dim=1)) if self.skips else (grad, 0.0)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        sizes2, sizes1 = self.take_saved(grad_output)
        grad, grad_s1 = self._split(self.dec1.backward(self.head.backward(grad_output)), sizes1)
        grad, grad_s2 = self._split(self.dec2.backward(self.up1.backward(grad)), sizes2)
        grad = self.pool2.backward(self.bottom.backward(self.up2.backward(grad)))
        # s2 went two ways in forward (on down through pool2, and across the skip to dec2): its gradient is the SUM
        grad = self.pool1.backward(self.down2.backward(grad + grad_s2))
        return self.down1.backward(grad + grad_s1)  # the same for s1: the skip's gradient is added, not replaced

    def extra_repr(self) -> str:
        return f"skips={self.skips}"


@functools.lru_cache(maxsize=None)
def torch_unet_class():
    """The torch ``UNet`` class (made on first use, so that importing course_lib needs no torch)."""
    import torch

    class UNet(torch.nn.Module):
        """The U-Net of course_lib.unet's docstring in torch.nn; autograd does the backward."""

        def __init__(self, in_channels: int = 1, num_classes: int = 11, base: int = 16, skips: bool = True):
            super().__init__()
            build_layers(self, torch.nn, in_channels, num_classes, base, skips)

        def _join(self, up, skip):
            return torch.cat([up, skip], dim=1) if self.skips else up

        def forward(self, x):
            check_divisible(x.shape, "UNet")
            s1 = self.down1(x)
            s2 = self.down2(self.pool1(s1))
            up1 = self.up1(self.dec2(self._join(self.up2(self.bottom(self.pool2(s2))), s2)))
            return self.head(self.dec1(self._join(up1, s1)))

        def extra_repr(self) -> str:
            return f"skips={self.skips}"

    return UNet
