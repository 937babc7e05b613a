"""Exercises of notebook 07: CNN architectures.

The references are the course's own code: ``conv_arithmetic`` for counts and sizes, ``scratch.functional``
for the residual block, ``architectures.DenseBlock`` (built on the meta device) for the dense block.
"""
from __future__ import annotations

import numpy as np

from .. import conv_arithmetic as ca
from ..scratch import functional as sf
from .checking import Exercise


def _stack_reference(num_layers: int, channels: int) -> list[int]:
    """[weights of num_layers stacked 3x3 convs, weights of the one conv with the same receptive field]
    (a list, as the task asks; an array with the same numbers passes too)."""
    stacked = num_layers * ca.conv_params(channels, channels, 3, bias=False)
    field = ca.receptive_field([(3, 1, 1)] * num_layers)[-1].size          # 2 * num_layers + 1
    return [stacked, ca.conv_params(channels, channels, field, bias=False)]


def _stack_inputs(rng: np.random.Generator) -> tuple:
    return int(rng.integers(1, 7)), int(rng.choice([3, 16, 64, 128, 256, 512]))


def _residual_block_reference(x: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """relu(conv3x3(relu(conv3x3(x, w1)), w2) + x), padding 1, no bias, no BatchNorm."""
    out = sf.relu(sf.conv2d(x, w1, padding=1))
    return sf.relu(sf.conv2d(out, w2, padding=1) + x)


def _residual_block_inputs(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 5))
    h, w = int(rng.integers(3, 8)), int(rng.integers(3, 8))
    scale = 1 / np.sqrt(9 * c)
    return (rng.normal(size=(n, c, h, w)), rng.normal(scale=scale, size=(c, c, 3, 3)),
            rng.normal(scale=scale, size=(c, c, 3, 3)))


def _fc_as_conv_reference(size: int) -> int:
    """Five 2x2 max pools (each floors), then the first FC layer as a 7x7 convolution: positions ** 2."""
    for _ in range(5):
        size = ca.pool_output_size(size, 2, floor=True)
    return ca.conv_output_size(size, 7) ** 2


def _fc_as_conv_inputs(rng: np.random.Generator) -> tuple:
    if rng.random() < 0.5:
        return (int(32 * rng.integers(7, 21)),)        # a multiple of 32: 224, 256, ..., 640
    return (int(rng.integers(224, 641)),)              # any size: the pools floor


def _dense_reference(in_channels: int, growth_rate: int, num_layers: int) -> list[int]:
    """Input channels of each layer of architectures.DenseBlock, then the block's output channels (a list, as the
    task asks; an array with the same numbers passes too)."""
    import torch

    from .. import architectures

    with torch.device("meta"):
        block = architectures.DenseBlock(num_layers, in_channels, growth_rate)
        out = block(torch.zeros(1, in_channels, 4, 4))
    seen = [layer.norm1.num_features for layer in block.values()]
    return seen + [int(out.shape[1])]


def _dense_inputs(rng: np.random.Generator) -> tuple:
    return int(rng.integers(1, 257)), int(rng.choice([8, 12, 16, 24, 32, 48])), int(rng.integers(1, 25))


EXERCISES: list[Exercise] = [
    Exercise(
        key="07.vgg_stack_params",
        task="Write stack_vs_single(num_layers, channels): return [a, b] where a is the number of weights of "
             "num_layers stacked 3x3 convolutions, each with `channels` input and output channels, and b the "
             "number of weights of the ONE convolution (channels -> channels) that sees the same receptive "
             "field. Leave out the biases.",
        hint="A 3x3 conv from C to C channels has 3 * 3 * C * C weights, so the stack has 9 * L * C^2. "
             "Each 3x3 layer widens the receptive field by 2: L layers see 2L + 1 pixels, and one conv with "
             "that kernel has (2L + 1)^2 * C^2 weights (three layers: 27 C^2 against 49 C^2).",
        reference=_stack_reference,
        make_inputs=_stack_inputs,
        trials=4,
        mistakes={
            "biases counted (C per layer added)":
                lambda L, C: [9 * L * C * C + L * C, (2 * L + 1) ** 2 * C * C + C],
            "receptive field taken as 3L (kernel sizes added, not 2L + 1)":
                lambda L, C: [9 * L * C * C, (3 * L) ** 2 * C * C],
            "the stack counted as one 3x3 layer (num_layers forgotten)":
                lambda L, C: [9 * C * C, (2 * L + 1) ** 2 * C * C],
            "channels counted once (9 L C, not 9 L C^2)":
                lambda L, C: [9 * L * C, (2 * L + 1) ** 2 * C],
            "the single kernel's side not squared ((2L + 1) C^2)":
                lambda L, C: [9 * L * C * C, (2 * L + 1) * C * C],
        },
    ),
    Exercise(
        key="07.residual_block",
        task="Write basic_block(x, w1, w2): the forward pass of a residual block without BatchNorm, "
             "relu(conv(relu(conv(x, w1)), w2) + x), where conv is a 3x3 convolution with padding 1, stride 1 and "
             "no bias. x has shape (N, C, H, W), w1 and w2 have shape (C, C, 3, 3); return (N, C, H, W). "
             "You may use sf.conv2d(x, w, padding=1) (course_lib.scratch.functional).",
        hint="out = relu(conv(x, w1)); out = conv(out, w2); then add the input x (the skip connection) "
             "BEFORE the last ReLU: relu(out + x). Padding 1 keeps H and W, so x and out have the same shape.",
        reference=_residual_block_reference,
        make_inputs=_residual_block_inputs,
        rtol=1e-6,
        atol=1e-8,
        mistakes={
            "skip added after the last ReLU (relu(F(x)) + x)":
                lambda x, w1, w2: sf.relu(sf.conv2d(sf.relu(sf.conv2d(x, w1, padding=1)), w2, padding=1)) + x,
            "no skip connection (a plain block)":
                lambda x, w1, w2: sf.relu(sf.conv2d(sf.relu(sf.conv2d(x, w1, padding=1)), w2, padding=1)),
            "ReLU between the two convolutions forgotten":
                lambda x, w1, w2: sf.relu(sf.conv2d(sf.conv2d(x, w1, padding=1), w2, padding=1) + x),
            "w1 and w2 swapped":
                lambda x, w1, w2: sf.relu(sf.conv2d(sf.relu(sf.conv2d(x, w2, padding=1)), w1, padding=1) + x),
            "kernels flipped (true convolution, not cross-correlation)":
                lambda x, w1, w2: _residual_block_reference(x, w1[:, :, ::-1, ::-1], w2[:, :, ::-1, ::-1]),
        },
    ),
    Exercise(
        key="07.fc_as_conv_outputs",
        task="Write fc_as_conv_outputs(size): a VGG network shrinks a size x size image by five 2x2 max pools "
             "(stride 2, each rounding down), and its first fully connected layer, rewritten as a 7x7 "
             "convolution, slides over the resulting map. How many answers (output positions in total) does it "
             "give? size >= 224; 224 gives 1, 256 gives 4.",
        hint="After the pools the map is s = size // 32 pixels wide (floor at every pool is the same as one "
             "floor by 32). A 7x7 kernel with stride 1 fits s - 7 + 1 times per axis, so the answer is "
             "(size // 32 - 6) ** 2; for multiples of 32 that is ((size - 224)/32 + 1) ** 2.",
        reference=_fc_as_conv_reference,
        make_inputs=_fc_as_conv_inputs,
        trials=6,
        mistakes={
            "answers along one axis only (not squared)": lambda size: size // 32 - 6,
            "not rounded down, ((size - 224) / 32 + 1) ** 2": lambda size: ((size - 224) / 32 + 1) ** 2,
            "the 7x7 kernel fits s - 7 times, not s - 7 + 1": lambda size: (size // 32 - 7) ** 2,
            "rounded up, not down, at the pools": lambda size: (-(-size // 32) - 6) ** 2,
        },
    ),
    Exercise(
        key="07.dense_block_channels",
        task="Write dense_block_channels(in_channels, growth_rate, num_layers): return a list of num_layers + 1 "
             "numbers, the number of input channels each layer of a DenseNet dense block sees, then the number "
             "of channels that leave the block.",
        hint="Every layer adds growth_rate new maps and sees the concatenation of the block's input and all "
             "earlier layers' outputs: layer i (from 0) sees in_channels + i * growth_rate, and the block outputs "
             "in_channels + num_layers * growth_rate (DenseNet-121's first block: 64 + 6 * 32 = 256).",
        reference=_dense_reference,
        make_inputs=_dense_inputs,
        trials=4,
        mistakes={
            "the block's output left out (num_layers numbers)":
                lambda c, k, L: [c + i * k for i in range(L)],
            "each layer counted with its own new maps (c + (i + 1) k)":
                lambda c, k, L: [c + (i + 1) * k for i in range(L + 1)],
            "the output taken as the last layer's new maps only (growth_rate)":
                lambda c, k, L: [c + i * k for i in range(L)] + [k],
            "the block's input left out (i * growth_rate)":
                lambda c, k, L: [i * k for i in range(L + 1)],
        },
    ),
]
