"""Exercises of notebook 05: convolution arithmetic.

The references are the course's own answers: ``conv_arithmetic`` for sizes and counts, ``scratch.functional``
for the convolution. ``make_inputs`` draws sizes for which the lecture's formula is often *not* whole, so
an answer that forgets torch's floor is caught.
"""
from __future__ import annotations

import numpy as np

from .. import conv_arithmetic as ca
from ..scratch import functional as sf
from .checking import Exercise


def _output_size_reference(W: int, F_: int, P: int, S: int) -> int:
    return ca.conv_output_size(W, F_, S, P, floor=True)


def _output_size_inputs(rng: np.random.Generator) -> tuple:
    """(W, F, P, S) with F <= W + 2P, stride S in 2..3 that never divides W - F + 2P (torch floors), and
    padding P >= S, so that counting the padding once, forgetting it, rounding up or not rounding at all
    each give another number than the right answer."""
    S = int(rng.integers(2, 4))
    F_, P = int(rng.integers(1, 8)), int(rng.integers(S, 4))
    W = int(rng.integers(max(1, F_ - 2 * P), 65))
    while (W - F_ + 2 * P) % S == 0:
        W += 1
    return W, F_, P, S


def _conv2d_reference(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return sf.conv2d(image[None, None], kernel[None, None])[0, 0]


def _conv2d_inputs(rng: np.random.Generator) -> tuple:
    kh, kw = int(rng.integers(2, 6)), int(rng.integers(2, 6))     # not always square, not symmetric
    h, w = int(rng.integers(kh + 1, 16)), int(rng.integers(kw + 1, 16))
    return rng.normal(size=(h, w)), rng.normal(size=(kh, kw))


def _params_reference(in_channels: int, out_channels: int, kernel_size: int, bias: bool) -> int:
    return ca.conv_params(in_channels, out_channels, kernel_size, bias=bias)


def _params_inputs(rng: np.random.Generator) -> tuple:
    return (int(rng.integers(1, 257)), int(rng.integers(1, 513)), int(rng.choice([1, 3, 5, 7, 11])),
            bool(rng.integers(0, 2)))


def _receptive_field_reference(kernel_sizes: tuple, strides: tuple) -> int:
    return ca.receptive_field(list(zip(kernel_sizes, strides)))[-1].size


def _receptive_field_inputs(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(2, 6))
    kernels = tuple(int(k) for k in rng.choice([1, 2, 3, 5, 7], n))
    strides = tuple(int(s) for s in rng.choice([1, 2, 2, 3], n))
    return kernels, strides


EXERCISES: list[Exercise] = [
    Exercise(
        key="05.output_size",
        task="Write output_size(W, F, P, S): the number of outputs of a convolution along one axis, for an input "
             "of W pixels, an F-pixel kernel, P zeros of padding on each side and stride S. Return torch's "
             "answer, a whole number, also when (W - F + 2P)/S + 1 is not whole.",
        hint="O = (W - F + 2P)/S + 1, but torch.nn.Conv2d drops a last window that would not fit, so it rounds "
             "DOWN: use integer division, (W - F + 2 * P) // S + 1.",
        reference=_output_size_reference,
        make_inputs=_output_size_inputs,
        trials=6,
        mistakes={"padding counted once, (W - F + P)//S + 1": lambda W, F_, P, S: (W - F_ + P) // S + 1,
                  "padding forgotten, (W - F)//S + 1": lambda W, F_, P, S: (W - F_) // S + 1,
                  "rounded up": lambda W, F_, P, S: -(-(W - F_ + 2 * P) // S) + 1,
                  "not rounded, (W - F + 2P)/S + 1": lambda W, F_, P, S: (W - F_ + 2 * P) / S + 1},
    ),
    Exercise(
        key="05.conv2d_single_channel",
        task="Write conv2d_single(image, kernel): the 'valid' 2-D convolution of deep learning (cross-correlation) "
             "of an image (H, W) with a kernel (kH, kW), no padding, stride 1. Return shape (H - kH + 1, W - kW + 1).",
        hint="out[i, j] = sum over u, v of image[i + u, j + v] * kernel[u, v]: two loops over the output "
             "positions and a sum of an elementwise product of the window image[i:i+kH, j:j+kW] with the kernel. "
             "Do NOT flip the kernel: flipping gives the mathematicians' convolution, not torch's conv2d.",
        reference=_conv2d_reference,
        make_inputs=_conv2d_inputs,
    ),
    Exercise(
        key="05.params",
        task="Write conv_param_count(in_channels, out_channels, kernel_size, bias): the number of learnable "
             "numbers in torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias) with a square kernel.",
        hint="Each of the out_channels filters has in_channels * kernel_size * kernel_size weights, plus one bias "
             "per filter when bias is True. The image size does not appear: that is weight sharing.",
        reference=_params_reference,
        make_inputs=_params_inputs,
        trials=6,                      # bias is True or False at random: six trials see both (but 1 in 32)
    ),
    Exercise(
        key="05.receptive_field",
        task="Write receptive_field_size(kernel_sizes, strides): how many input pixels (along one axis) one output "
             "unit of a stack of convolution/pooling layers sees. kernel_sizes and strides are tuples, one entry "
             "per layer, first layer first.",
        hint="Start with r = 1 and jump j = 1. For each layer: r += (F - 1) * j, then j *= S (the stride of "
             "that layer). Three 3x3 stride-1 layers give 1 + 2 + 2 + 2 = 7. Padding does not matter.",
        reference=_receptive_field_reference,
        make_inputs=_receptive_field_inputs,
    ),
]
