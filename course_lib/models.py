"""The course's networks, built twice with identical layer names: from scratch and in ``torch.nn``.

Because the names match, ``scratch_model.load_state_dict(torch_model.state_dict())`` copies
weights across, and the two can be compared number for number. The seams between the two worlds
live here, once each:

    namespace("scratch") / namespace("torch")            course_lib.scratch or torch.nn: the layers
    optim_namespace("scratch") / optim_namespace("torch")   course_lib.scratch.optim or torch.optim
    activation_layer("relu", backend)                  a fresh activation layer, by its functional name
    init_(weight, "kaiming_normal_", ...)          scratch.init for NumPy weights, torch.nn.init for tensors
"""
from __future__ import annotations

import functools
import numbers
from collections import OrderedDict
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from . import data, scratch

BACKENDS = ("scratch", "torch")

# name -> class, the same class name in course_lib.scratch and torch.nn (the order notebook 01 draws them in)
ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU"}

CNN_DIGITS04_PATH = data.DATA_DIR / "cnn_digits04.pt"
CNN_DIGITS04_SHA256 = "294cc4914198e18876e9a23561614e4afaa8cd16461f3aef05da21e23ad31583"
SOURCE_CNN_REBUILD_HELP = (
    "data/cnn_digits04.pt ships with the course in git. Get it back with\n"
    "    git checkout data/cnn_digits04.pt\n"
    "or rebuild it (CPU, about a minute, deterministic) with\n"
    "    python data/pretrain_digits04.py"
)
DIGIT_CNNS_PATH = data.DATA_DIR / "digit_cnns.pt"
DIGIT_CNNS_SHA256 = "f505cd3a04d2e80af6c37a4062903c4671b3d8e036cd7b455a7f064f80bf03cc"
DIGIT_CNNS = ("plain", "second", "adversarial")
DIGIT_CNNS_REBUILD_HELP = (
    "data/digit_cnns.pt ships with the course in git. Get it back with\n"
    "    git checkout data/digit_cnns.pt\n"
    "or rebuild it (CPU, a few minutes, deterministic) with\n"
    "    python data/train_digit_cnns.py"
)
IMAGE_NETS_PATH = data.DATA_DIR / "image_nets.pt"
IMAGE_NETS_SHA256 = "95c02d2c694f1422a3b71be125e24c7f521614b15454b61bdc55e1cc8bd427ac"
IMAGE_NETS_REBUILD_HELP = (
    "data/image_nets.pt ships with the course in git. Get it back with\n"
    "    git checkout data/image_nets.pt\n"
    "or rebuild it (CPU, about a quarter of an hour, deterministic) with\n"
    "    python data/train_image_nets.py"
)


# ------------------------------------------------------------------------------------------ the seams


def _check_backend(name: str) -> None:
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}: 'scratch' builds from course_lib.scratch (NumPy, "
                         f"float64), 'torch' from torch.nn (float32); got {name!r}.")


def _check_activation(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)} (torch.nn.functional's names, "
                         f"lower case), got {name!r}.")


def check_size(where: str, name: str, value, meaning: str = "a number of units (or classes)") -> int:
    """``value`` as an int if it is a whole number >= 1 (a layer width, a class count); else a teaching error.

    torch's own messages for these ("Trying to create tensor with negative dimension -1") do not say which
    argument was wrong, and ``nn.Linear(64, 0)`` only warns: a classifier with 0 classes is never meant.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be a whole number, got {value!r}"
                        + (f"; write {name}={int(value)}." if isinstance(value, float) and value.is_integer() else "."))
    if value < 1:
        raise ValueError(f"{where}: {name}={value} is not allowed: it is {meaning}, so it must be at least 1.")
    return int(value)


def namespace(backend: str):
    """The layer namespace to build from: ``course_lib.scratch`` for "scratch", ``torch.nn`` for "torch".

    Both have the same class names (Linear, Conv2d, ReLU, Sequential, ...), so one builder serves both.
    """
    _check_backend(backend)
    if backend == "scratch":
        return scratch
    import torch.nn

    return torch.nn


def optim_namespace(backend: str):
    """The optimiser namespace: ``course_lib.scratch.optim`` or ``torch.optim`` (SGD, Adam, ... in both)."""
    _check_backend(backend)
    if backend == "scratch":
        return scratch.optim
    import torch.optim

    return torch.optim


def activation_layer(name: str, backend: str = "scratch", **options):
    """A fresh activation layer: ``activation_layer("leaky_relu", "torch", negative_slope=0.1)`` is
    ``torch.nn.LeakyReLU(negative_slope=0.1)``. Names are torch.nn.functional's: one of ACTIVATIONS."""
    _check_activation(name)
    return getattr(namespace(backend), ACTIVATIONS[name])(**options)


def init_(weight, scheme: str, **options):
    """Fill ``weight`` in place with ``init.<scheme>``: from ``scratch.init`` for a scratch Parameter or an
    ndarray, from ``torch.nn.init`` for a torch tensor. The names are torch's, e.g.

        init_(w, "normal_", std=0.01)          N(0, 0.01^2)
        init_(w, "kaiming_normal_", nonlinearity="relu")   He: N(0, 2 / fan_in)
        init_(b, "zeros_")

    Returns ``weight``. Scratch draws from ``scratch.manual_seed``'s generator, torch from torch's.
    """
    if isinstance(weight, (scratch.Parameter, np.ndarray)):
        namespace, where = scratch.init, "course_lib.scratch.init"
    else:
        import torch.nn.init as namespace

        where = "torch.nn.init"
    if not scheme.endswith("_") or not hasattr(namespace, scheme):
        raise ValueError(f"{where} has no in-place initialiser {scheme!r}; use one of torch's names such as "
                         "'normal_', 'zeros_', 'kaiming_normal_', 'xavier_uniform_'.")
    return getattr(namespace, scheme)(weight, **options)


# ------------------------------------------------------------------------------------------ the builders


def mlp(sizes: Sequence[int], activation: str = "relu", backend: str = "scratch"):
    """Flatten -> Linear(sizes[0], sizes[1]) -> act -> ... -> Linear(sizes[-2], sizes[-1]).

    ``mlp([784, 256, 10])`` maps images (N, 28, 28) or vectors (N, 784) to 10 class scores.
    backend: "scratch" (course_lib.scratch, NumPy float64) or "torch" (torch.nn, float32).
    Parameter names: "1.weight", "1.bias", "3.weight", ... in both backends.
    """
    _check_activation(activation)
    _check_backend(backend)
    if isinstance(sizes, (numbers.Number, str)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"mlp: sizes is the list of layer widths, input first, e.g. [784, 256, 10]; got {sizes!r}.")
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got sizes={list(sizes)}.")
    sizes = [check_size("mlp", f"sizes[{i}]", n) for i, n in enumerate(sizes)]
    nn = namespace(backend)
    layers = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation_layer(activation, backend))
    return nn.Sequential(*layers)


def lenet5(num_classes: int = 10, activation: str = "relu", pool: str = "max", backend: str = "scratch"):
    """LeNet-5 for 28x28 digits: the shapes 28 -> 14 -> 10 -> 5 -> 1 of the lecture (C5 has 120 maps).

        C1 conv 5x5, 1 -> 6, padding 2   (N, 6, 28, 28)      S2 pool 2x2   (N, 6, 14, 14)
        C3 conv 5x5, 6 -> 16             (N, 16, 10, 10)     S4 pool 2x2   (N, 16, 5, 5)
        C5 conv 5x5, 16 -> 120           (N, 120, 1, 1)      flatten       (N, 120)
        F6 linear 120 -> 84              output linear 84 -> num_classes

    LeCun et al. (1998) used tanh-like units and average-pooling subsampling on 32x32 inputs; the
    defaults here are today's ReLU and max pooling (activation="tanh", pool="avg" for the original).
    """
    if pool not in ("max", "avg"):
        raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}.")
    _check_activation(activation)
    num_classes = check_size("lenet5", "num_classes", num_classes)
    nn = namespace(backend)

    def act():
        return activation_layer(activation, backend)

    pool_layer = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), act(), pool_layer(2),
        nn.Conv2d(6, 16, 5), act(), pool_layer(2),
        nn.Conv2d(16, 120, 5), act(), nn.Flatten(),
        nn.Linear(120, 84), act(), nn.Linear(84, num_classes),
    )


def source_cnn(num_classes: int = 5, backend: str = "torch"):
    """Notebook 09's small CNN, named like a ResNet's ends (global average pooling, then ``fc``):

        conv1  Conv2d(1, 16, 4, stride=2, padding=1)    (N, 1, 28, 28)  -> (N, 16, 14, 14)  + ReLU
        conv2  Conv2d(16, 32, 4, stride=2, padding=1)   (N, 16, 14, 14) -> (N, 32, 7, 7)    + ReLU
        conv3  Conv2d(32, 64, 3, stride=2, padding=1)   (N, 32, 7, 7)   -> (N, 64, 4, 4)    + ReLU
        pool   AdaptiveAvgPool2d(1), flatten            (N, 64, 4, 4)   -> (N, 64)            the features
        fc     Linear(64, num_classes)                  the "head", the only layer tied to the classes

    backend "torch" (default) or "scratch": the same names in both, so weights copy across.
    Parameters for 5 classes: 272 + 8,224 + 18,496 + 325 = 27,317.
    """
    num_classes = check_size("source_cnn", "num_classes", num_classes)
    nn = namespace(backend)
    layers = [
        ("conv1", nn.Conv2d(1, 16, 4, stride=2, padding=1)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(16, 32, 4, stride=2, padding=1)), ("relu2", nn.ReLU()),
        ("conv3", nn.Conv2d(32, 64, 3, stride=2, padding=1)), ("relu3", nn.ReLU()),
        ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
        ("fc", nn.Linear(64, num_classes)),
    ]
    return nn.Sequential(OrderedDict(layers))     # state_dict keys "conv1.weight", ... in both backends


def digit_cnn(num_classes: int = 10, backend: str = "torch"):
    """Notebook 10's digit classifier, built to be looked into: 5x5 first-layer filters, 7x7 last feature maps,
    and global average pooling before one linear layer (so its class activation map is defined):

        conv1  Conv2d(1, 16, 5, padding=2)     (N, 1, 28, 28)  -> (N, 16, 28, 28)  + ReLU, MaxPool2d(2) -> 14x14
        conv2  Conv2d(16, 32, 3, padding=1)    (N, 16, 14, 14) -> (N, 32, 14, 14)  + ReLU, MaxPool2d(2) -> 7x7
        conv3  Conv2d(32, 64, 3, padding=1)    (N, 32, 7, 7)   -> (N, 64, 7, 7)    + ReLU
        pool   AdaptiveAvgPool2d(1), flatten   (N, 64, 7, 7)   -> (N, 64)            the features
        fc     Linear(64, num_classes)         the class scores (logits)

    Inputs are pixels scaled to 0..1 (``data.digit_images``), so an attack's epsilon is in pixel units.
    Parameters for 10 classes: 416 + 4,640 + 18,496 + 650 = 24,202. backend "torch" (default) or "scratch".
    """
    num_classes = check_size("digit_cnn", "num_classes", num_classes)
    nn = namespace(backend)
    layers = [
        ("conv1", nn.Conv2d(1, 16, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(32, 64, 3, padding=1)), ("relu3", nn.ReLU()),
        ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
        ("fc", nn.Linear(64, num_classes)),
    ]
    return nn.Sequential(OrderedDict(layers))


# ------------------------------------------------------------------------------------------ image to image (11)

AUTOENCODER_UPS = ("transpose", "upsample")


def dense_autoencoder(bottleneck: int = 16, hidden: int = 256, backend: str = "torch"):
    """Notebook 11's dense autoencoder for 28x28 digits in 0..1 (output the same shape, through a sigmoid):

        flatten    Flatten()                            (N, 1, 28, 28) -> (N, 784)
        enc1       Linear(784, hidden)     + ReLU       -> (N, hidden)
        code       Linear(hidden, bottleneck)           -> (N, bottleneck)    the code, linear (no activation)
        dec1       Linear(bottleneck, hidden) + ReLU    -> (N, hidden)
        dec2       Linear(hidden, 784)     + Sigmoid    -> (N, 784)           pixels in 0..1
        unflatten  Unflatten(1, (1, 28, 28))            -> (N, 1, 28, 28)

    Parameters: 785 hidden + (hidden + 1) bottleneck + (bottleneck + 1) hidden + (hidden + 1) 784; for
    bottleneck 16, hidden 256: 200,960 + 4,112 + 4,352 + 201,488 = 410,912. backend "torch" (default) or "scratch".
    """
    bottleneck = check_size("dense_autoencoder", "bottleneck", bottleneck, "the size of the code")
    hidden = check_size("dense_autoencoder", "hidden", hidden)
    nn = namespace(backend)
    layers = [
        ("flatten", nn.Flatten()), ("enc1", nn.Linear(28 * 28, hidden)), ("relu1", nn.ReLU()),
        ("code", nn.Linear(hidden, bottleneck)),
        ("dec1", nn.Linear(bottleneck, hidden)), ("relu2", nn.ReLU()),
        ("dec2", nn.Linear(hidden, 28 * 28)), ("sigmoid", nn.Sigmoid()), ("unflatten", nn.Unflatten(1, (1, 28, 28))),
    ]
    return nn.Sequential(OrderedDict(layers))


def conv_autoencoder(bottleneck: int = 16, up: str = "transpose", backend: str = "torch"):
    """Notebook 11's convolutional autoencoder for 28x28 digits in 0..1: strided convolutions down, and up either
    by transposed convolutions (up="transpose") or by nearest up-sampling then a convolution (up="upsample"):

        enc1       Conv2d(1, 16, 3, stride=2, padding=1)  + ReLU  (N, 1, 28, 28)  -> (N, 16, 14, 14)
        enc2       Conv2d(16, 32, 3, stride=2, padding=1) + ReLU                  -> (N, 32, 7, 7)
        flatten, code   Linear(32*7*7, bottleneck)                -> (N, 1568)    -> (N, bottleneck)   the code
        decode     Linear(bottleneck, 32*7*7) + ReLU, unflatten                   -> (N, 32, 7, 7)
      up="transpose":
        dec1       ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1) + ReLU   -> (N, 16, 14, 14)
        dec2       ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1) + Sigmoid -> (N, 1, 28, 28)
      up="upsample":
        up1, dec1  Upsample(scale_factor=2), Conv2d(32, 16, 3, padding=1) + ReLU  -> (N, 16, 14, 14)
        up2, dec2  Upsample(scale_factor=2), Conv2d(16, 1, 3, padding=1) + Sigmoid -> (N, 1, 28, 28)

    (H_out = (7 - 1) 2 - 2 + 3 + 1 = 14 for a transposed convolution.) Both have the same parameter count,
    160 + 4,640 + 1569 bottleneck + 1568 (bottleneck + 1) + 4,624 + 145: 61,329 for bottleneck 16, so the
    comparison of the two up-sampling ways is fair. backend "torch" (default) or "scratch", the same names in both.
    """
    bottleneck = check_size("conv_autoencoder", "bottleneck", bottleneck, "the size of the code")
    if up not in AUTOENCODER_UPS:
        raise ValueError(f"conv_autoencoder: up must be one of {AUTOENCODER_UPS}: 'transpose' up-samples with "
                         f"stride-2 ConvTranspose2d, 'upsample' with Upsample(scale_factor=2) then Conv2d; got {up!r}.")
    nn = namespace(backend)
    layers = [
        ("enc1", nn.Conv2d(1, 16, 3, stride=2, padding=1)), ("relu1", nn.ReLU()),
        ("enc2", nn.Conv2d(16, 32, 3, stride=2, padding=1)), ("relu2", nn.ReLU()),
        ("flatten", nn.Flatten()), ("code", nn.Linear(32 * 7 * 7, bottleneck)),
        ("decode", nn.Linear(bottleneck, 32 * 7 * 7)), ("relu3", nn.ReLU()), ("unflatten", nn.Unflatten(1, (32, 7, 7))),
    ]
    if up == "transpose":
        layers += [("dec1", nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)), ("relu4", nn.ReLU()),
                   ("dec2", nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1))]
    else:
        layers += [("up1", nn.Upsample(scale_factor=2)), ("dec1", nn.Conv2d(32, 16, 3, padding=1)),
                   ("relu4", nn.ReLU()),
                   ("up2", nn.Upsample(scale_factor=2)), ("dec2", nn.Conv2d(16, 1, 3, padding=1))]
    return nn.Sequential(OrderedDict(layers + [("sigmoid", nn.Sigmoid())]))


def unet(num_classes: int = 11, base: int = 16, backend: str = "torch", skips: bool = True):
    """Notebook 11's small U-Net for the 64x64 digit scenes: per-pixel logits (N, num_classes, H, W) from
    (N, 1, H, W), H and W divisible by 4. Two levels down (conv blocks and MaxPool2d(2)), a bottom block, two up
    (Upsample(2), cat with the skip along the channels, conv block), a 1x1 convolution; the shapes and the choice of
    Upsample over ConvTranspose2d are in ``course_lib.unet``'s docstring. Submodules down1, pool1, down2, pool2,
    bottom, up2, dec2, up1, dec1, head in both backends (scratch: ``unet.ScratchUNet``, with its own backward).

    Parameters for num_classes 11, base 16: 2,480 + 13,888 + 55,424 (down) + 36,928 + 9,248 (up) + 187 = 118,155;
    skips=False (``encoder_decoder``): 106,635.
    """
    from . import unet as unet_module

    num_classes = check_size("unet", "num_classes", num_classes)
    base = check_size("unet", "base", base, "the first block's number of channels")
    _check_backend(backend)
    if backend == "scratch":
        return unet_module.ScratchUNet(1, num_classes, base, skips)
    return unet_module.torch_unet_class()(1, num_classes, base, skips)


def encoder_decoder(num_classes: int = 11, base: int = 16, backend: str = "torch"):
    """The U-Net without its skip connections (``unet(..., skips=False)``): the baseline that shows what the skips
    add. The decoder's blocks take only the up-sampled maps (4b and 2b channels). Parameters for 11 classes, base 16:
    106,635."""
    return unet(num_classes, base, backend, skips=False)


def fcn(num_classes: int = 11, width: int = 32, backend: str = "torch"):
    """The decks' "fully connected layers as convolutions" network (an FCN, Long et al. 2014) for the 64x64 digit
    scenes: per-pixel logits (N, num_classes, H, W) from (N, 1, H, W), H and W divisible by 4.

        conv1  Conv2d(1, width, 3, padding=1)        + ReLU, MaxPool2d(2)   (N, 1, 64, 64)  -> (N, width, 32, 32)
        conv2  Conv2d(width, width, 3, padding=1)    + ReLU, MaxPool2d(2)                   -> (N, width, 16, 16)
        fc6    Conv2d(width, 2 width, 7, padding=3)  + ReLU                                 -> (N, 2 width, 16, 16)
        fc7    Conv2d(2 width, num_classes, 1)                                              -> (N, classes, 16, 16)
        up     Upsample(scale_factor=4, mode="bilinear")                                    -> (N, classes, 64, 64)

    fc6 is the fully connected layer of a classifier for 28x28 digits whose last maps are 7x7 (28 -> 14 -> 7):
    a Linear(width * 7 * 7, 2 width) is a 7x7 convolution whose window covers the whole map. On a 28x28 digit the
    unpadded fc6 gives a 1x1 output, one vector per image: a classifier (here, padded by 3, its centre position
    is that vector). On a 64x64 scene the same weights slide over the 16x16 maps and give a 16x16 map of
    "classifier outputs", one per position, which fc7 (the last linear layer, as a 1x1 convolution) turns into
    class scores and the bilinear up-sampling takes back to full resolution, 4 pixels per score.
    Receptive field of a score: 3 -> 4 -> 8 -> 10 -> 34 pixels (``conv_arithmetic.receptive_field``).

    Parameters for 11 classes, width 32: 320 + 9,248 + 100,416 + 715 = 110,699. backend "torch" (default) or
    "scratch", the same names (conv1, relu1, pool1, conv2, relu2, pool2, fc6, relu6, fc7, up) in both.
    """
    num_classes = check_size("fcn", "num_classes", num_classes)
    width = check_size("fcn", "width", width, "the number of channels of the convolutions")
    nn = namespace(backend)
    layers = [
        ("conv1", nn.Conv2d(1, width, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(width, width, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("fc6", nn.Conv2d(width, 2 * width, 7, padding=3)), ("relu6", nn.ReLU()),
        ("fc7", nn.Conv2d(2 * width, num_classes, 1)),
        ("up", nn.Upsample(scale_factor=4, mode="bilinear")),
    ]
    return nn.Sequential(OrderedDict(layers))


def dilated_net(dilations: Sequence[int] = (1, 2, 4, 8), channels: int = 32, num_classes: int = 11,
                backend: str = "torch"):
    """A full-resolution stack of dilated 3x3 convolutions for the digit scenes (no pooling, no up-sampling):

        conv1  Conv2d(1, channels, 3, dilation=d1, padding=d1) + ReLU       (N, 1, H, W) -> (N, channels, H, W)
        convk  Conv2d(channels, channels, 3, dilation=dk, padding=dk) + ReLU     for each further entry of dilations
        head   Conv2d(channels, num_classes, 1)                              -> (N, num_classes, H, W), the logits

    padding = dilation keeps H and W. A 3x3 kernel with dilation d spans 2d + 1 pixels, so the receptive field is
    1 + 2 sum(d): 31 pixels for (1, 2, 4, 8) (growing exponentially with depth), 9 for the plain (1, 1, 1, 1)
    (growing linearly), with the same parameters and the same cost.
    Parameters for 4 layers, 32 channels, 11 classes: 320 + 3 x 9,248 + 363 = 28,427. backend "torch" (default)
    or "scratch", the same names (conv1, relu1, ..., head) in both.
    """
    if isinstance(dilations, (numbers.Number, str)) or not hasattr(dilations, "__len__") or len(dilations) == 0:
        raise TypeError(f"dilated_net: dilations is one dilation per layer, e.g. (1, 2, 4, 8); got {dilations!r}.")
    dilations = [check_size("dilated_net", f"dilations[{i}]", d, "a dilation (1: an ordinary convolution)")
                 for i, d in enumerate(dilations)]
    channels = check_size("dilated_net", "channels", channels, "the number of channels of every layer")
    num_classes = check_size("dilated_net", "num_classes", num_classes)
    nn = namespace(backend)
    layers, c_in = [], 1
    for i, d in enumerate(dilations, start=1):
        layers += [(f"conv{i}", nn.Conv2d(c_in, channels, 3, padding=d, dilation=d)), (f"relu{i}", nn.ReLU())]
        c_in = channels
    return nn.Sequential(OrderedDict(layers + [("head", nn.Conv2d(channels, num_classes, 1))]))


def super_resolution_net(channels: int = 32, backend: str = "torch"):
    """Notebook 11's super-resolution network: 14x14 digits -> 28x28, pixels in 0..1 (SRCNN-like, Dong et al. 2014,
    after a fixed bilinear up-sampling, which the convolutions then sharpen):

        up     Upsample(scale_factor=2, mode="bilinear")           (N, 1, 14, 14) -> (N, 1, 28, 28)
        conv1  Conv2d(1, channels, 5, padding=2) + ReLU                           -> (N, channels, 28, 28)
        conv2  Conv2d(channels, channels, 3, padding=1) + ReLU                    -> (N, channels, 28, 28)
        conv3  Conv2d(channels, 1, 3, padding=1) + Sigmoid                        -> (N, 1, 28, 28), pixels in 0..1

    Any H x W input gives 2H x 2W. Parameters for 32 channels: 832 + 9,248 + 289 = 10,369. backend "torch"
    (default) or "scratch", the same names (up, conv1, relu1, conv2, relu2, conv3, sigmoid) in both.
    """
    channels = check_size("super_resolution_net", "channels", channels, "the number of channels of the convolutions")
    nn = namespace(backend)
    layers = [
        ("up", nn.Upsample(scale_factor=2, mode="bilinear")),
        ("conv1", nn.Conv2d(1, channels, 5, padding=2)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(channels, channels, 3, padding=1)), ("relu2", nn.ReLU()),
        ("conv3", nn.Conv2d(channels, 1, 3, padding=1)), ("sigmoid", nn.Sigmoid()),
    ]
    return nn.Sequential(OrderedDict(layers))


# notebook 11's trained networks (data/image_nets.pt, data/train_image_nets.py): name -> the builder call that makes
# it untrained, IMAGE_NETS[name](backend="scratch") for the NumPy mirror
IMAGE_NETS = {
    **{f"dense_b{b}": functools.partial(dense_autoencoder, b, hidden=64) for b in (2, 4, 8, 16, 32)},
    **{f"conv_b{b}": functools.partial(conv_autoencoder, b) for b in (2, 4, 8, 16, 32)},
    "conv_upsample_b16": functools.partial(conv_autoencoder, 16, up="upsample"),
    "denoise": functools.partial(conv_autoencoder, 32),
    "super_resolution": functools.partial(super_resolution_net),
    "fcn": functools.partial(fcn),
    "encoder_decoder": functools.partial(encoder_decoder, base=8),
    "unet": functools.partial(unet, base=8),
    "unet_dice": functools.partial(unet, base=8),
    "plain_stack": functools.partial(dilated_net, (1, 1, 1, 1), channels=16),
    "dilated_stack": functools.partial(dilated_net, (1, 2, 4, 8), channels=16),
}


# ------------------------------------------------------------------------------------------ weight files


def save_weights(model, path: Union[str, Path]) -> str:
    """Write a torch model's state_dict to ``path`` with torch.save; return the file's sha256.

    model: a torch model, or a dict name -> model for several in one file (saved as {name: state_dict}).
    Saved through an in-memory buffer: torch.save names the folder inside its zip file after the file
    (``cnn_digits04/data.pkl``), a buffer gets the fixed name ``archive/``, so the bytes (and the sha256)
    depend only on the weights, not on where the file is written.
    """
    import io

    import torch

    buffer = io.BytesIO()
    state = {name: m.state_dict() for name, m in model.items()} if isinstance(model, dict) else model.state_dict()
    torch.save(state, buffer)
    Path(path).write_bytes(buffer.getvalue())
    return data.sha256_file(path)


def _load_checked(path: Path, expected_sha256: Optional[str], what: str, rebuild_help: str):
    """torch.load(path) after checking that the file is there and has the expected sha256 (None: not checked).

    Raises FileNotFoundError (missing) or data.DataIntegrityError (other bytes), each saying how to get it back.
    """
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"{what} is not at {path}.\n{rebuild_help}")
    if expected_sha256 is not None:
        data.check_sha256(path, expected_sha256,
                          "The file is damaged, or was rebuilt with another torch version or CPU (which can change\n"
                          "the last bits of the weights; load it with expected_sha256=None to use it anyway).\n"
                          + rebuild_help)
    return torch.load(path, map_location="cpu", weights_only=True)


def load_source_cnn(path: Union[str, Path, None] = None, expected_sha256: Optional[str] = CNN_DIGITS04_SHA256,
                    backend: str = "torch"):
    """The pretrained ``source_cnn(5)`` from ``data/cnn_digits04.pt``, its sha256 checked first.

    Raises FileNotFoundError (missing) or data.DataIntegrityError (other bytes), each saying how to get
    the file back. expected_sha256=None skips the check (for a file you have just rebuilt yourself).
    backend="scratch" gives the NumPy mirror with the same weights.
    """
    state = _load_checked(Path(path or CNN_DIGITS04_PATH), expected_sha256, "The pretrained source CNN",
                          SOURCE_CNN_REBUILD_HELP)
    model = source_cnn(5, backend=backend)
    model.load_state_dict(state)
    return model


def load_digit_cnn(which: str = "plain", backend: str = "torch", path: Union[str, Path, None] = None,
                   expected_sha256: Optional[str] = DIGIT_CNNS_SHA256):
    """One of notebook 10's trained ``digit_cnn()`` from ``data/digit_cnns.pt``, its sha256 checked first.

    which: "plain" (trained on the fit digits, seed 0), "second" (the same recipe, seed 1: an independently
    trained twin, for transfer) or "adversarial" (FGSM examples in every batch); see data/train_digit_cnns.py.
    Errors and expected_sha256 as ``load_source_cnn``; backend="scratch" gives the NumPy mirror.
    """
    if which not in DIGIT_CNNS:
        raise ValueError(f"load_digit_cnn: which={which!r} is not one of the trained networks {DIGIT_CNNS}.")
    _check_backend(backend)
    states = _load_checked(Path(path or DIGIT_CNNS_PATH), expected_sha256, "The trained digit CNNs",
                           DIGIT_CNNS_REBUILD_HELP)
    model = digit_cnn(10, backend=backend)
    model.load_state_dict(states[which])
    return model


def load_image_net(name: str, backend: str = "torch", path: Union[str, Path, None] = None,
                   expected_sha256: Optional[str] = IMAGE_NETS_SHA256):
    """One of notebook 11's trained networks from ``data/image_nets.pt``, its sha256 checked first.

    name: a key of IMAGE_NETS ("conv_b16", "denoise", "super_resolution", "unet", ...; how each was trained is in
    data/train_image_nets.py). backend="scratch" gives the NumPy mirror with the same weights.
    Raises FileNotFoundError (missing) or data.DataIntegrityError (other bytes), each saying how to get the file
    back; expected_sha256=None skips the check (for a file you have just rebuilt yourself).
    """
    if name not in IMAGE_NETS:
        raise ValueError(f"load_image_net: {name!r} is not one of the trained networks; they are "
                         f"{', '.join(IMAGE_NETS)}.")
    _check_backend(backend)
    states = _load_checked(Path(path or IMAGE_NETS_PATH), expected_sha256, "Notebook 11's trained networks",
                           IMAGE_NETS_REBUILD_HELP)
    model = IMAGE_NETS[name](backend=backend)
    model.load_state_dict(states[name])
    return model
