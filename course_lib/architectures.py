"""The famous CNNs of notebook 07, written to be read: LeNet, AlexNet, VGG, GoogLeNet, ResNet, DenseNet.

Every model here has the same module tree and the same parameter *and buffer* names as its torchvision
counterpart, so ImageNet weights load straight in and give the same outputs:

    import torchvision
    ours = resnet18()
    ours.load_state_dict(torchvision.models.resnet18(weights="DEFAULT").state_dict())

The code is ours (short classes, one per idea, no builder with dozens of flags); the names and the few
subtle details are torchvision's, and each subtle detail carries a comment. Each model takes
``num_classes`` (1000 for ImageNet) and maps RGB images (N, 3, H, W) to class scores (N, num_classes);
LeNet takes digits (N, 1, 28, 28) and 10 classes by default. Parameters for num_classes=1000
(``sum(p.numel() for p in model.parameters())``):

    alexnet       61,100,840      googlenet      6,624,904      resnet50      25,557,032
    vgg11        132,863,336      resnet18      11,689,512      densenet121    7,978,856
    vgg16        138,357,544      resnet34      21,797,672

Two choices differ from torchvision without changing any name or output:
- ReLUs are not in-place: a tensor kept by a forward hook on a conv layer stays that conv's output
  (torchvision's in-place ReLUs overwrite it with the ReLU's).
- Fresh models get one initialisation, ``init_weights`` (He for convs): they train from scratch too.

Smallest input (height and width) each model accepts: alexnet 63, vgg 32, googlenet 15, resnet 1 (any),
densenet 29 (``model.min_input_size``; ``check_images`` says at which layer a smaller one vanishes); the
adaptive average pools make every larger size give the same head.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import models
from .conv_arithmetic import exact_output_size
from .models import check_size, init_
from .scratch.sizes import kernel_span

__all__ = [
    "init_weights", "check_images",
    "lenet5",
    "AlexNet", "alexnet",
    "VGG", "VGG11_CONFIG", "VGG16_CONFIG", "vgg_features", "vgg11", "vgg16",
    "BasicConv2d", "Inception", "GoogLeNet", "imagenet_to_tf_range", "googlenet",
    "shortcut", "BasicBlock", "Bottleneck", "resnet_stage", "ResNet", "resnet18", "resnet34", "resnet50",
    "DenseLayer", "DenseBlock", "Transition", "DenseNet", "densenet121",
]


def init_weights(model: nn.Module) -> nn.Module:
    """He initialisation for training from scratch (as torchvision's ResNet); returns the model.

    Conv2d:      weight ~ N(0, 2 / fan_out), fan_out = out_channels * kh * kw  (He et al. 2015); bias = 0
    BatchNorm2d: gamma = 1, beta = 0 (each BN starts as a plain standardisation)
    Linear:      weight ~ N(0, 0.01^2), bias = 0 (as torchvision's VGG)

    The factor 2 makes up for ReLU zeroing half of its inputs, so the variance of the signal stays about
    the same from layer to layer. Loaded weights replace all of this. Drawn through ``models.init_``
    (torch.nn.init's functions, by name).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            init_(m.weight, "kaiming_normal_", mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                init_(m.bias, "zeros_")
        elif isinstance(m, nn.BatchNorm2d):
            init_(m.weight, "ones_")
            init_(m.bias, "zeros_")
        elif isinstance(m, nn.Linear):
            init_(m.weight, "normal_", mean=0.0, std=0.01)
            init_(m.bias, "zeros_")
    return model


def check_images(model: nn.Module, x: torch.Tensor) -> None:
    """Refuse what the network cannot take, before it runs: a tensor (N, 3, H, W), H and W >= model.min_input_size.

    Shape comparisons only. For an input that is too small, the message names the layer where the size
    vanishes and its formula O = (W - F_eff + 2P)/S + 1, found by running the network on one small image.
    """
    name = type(model).__name__
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} takes a torch tensor (N, 3, H, W), got {type(x).__name__}: convert it with "
                        "torch.as_tensor(x, dtype=torch.float32).")
    if x.ndim != 4 or x.shape[1] != 3:    # torch: ValueError for the rank, RuntimeError for the channels
        hint = ("add the batch dimension: x.unsqueeze(0)" if x.ndim == 3 and x.shape[0] == 3 else
                "for gray images repeat the channel: x.repeat(1, 3, 1, 1)" if x.ndim == 4 and x.shape[1] == 1 else
                "torch puts the channels second: x.permute(0, 3, 1, 2)" if x.ndim == 4 and x.shape[-1] == 3 else
                "shape the batch as (N, 3, H, W)")
        error = ValueError if x.ndim != 4 else RuntimeError
        raise error(f"{name} takes a batch of RGB images (N, 3, H, W), got shape {tuple(x.shape)}: {hint}.")
    min_size = model.min_input_size
    if min(x.shape[-2:]) < min_size:      # RuntimeError, as torch's "Output size is too small"
        raise RuntimeError(f"{name} needs images of at least {min_size}x{min_size} pixels; {x.shape[-2]}x"
                           f"{x.shape[-1]} is too small: {_where_size_vanishes(model, tuple(x.shape[-2:]))}. "
                           f"Resize them first, e.g. F.interpolate(x, size=224, mode='bilinear').")


def _where_size_vanishes(model: nn.Module, hw: tuple[int, int]) -> str:
    """'the size vanishes at features.12 (MaxPool2d): its input is 2x2 and O = ... = 0.5' (one run on zeros)."""
    entered: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    leaves = [(n, m) for n, m in model.named_modules() if next(m.children(), None) is None]
    handles = [m.register_forward_pre_hook(lambda m, inputs, n=n: entered.append((n, m, tuple(inputs[0].shape))))
               for n, m in leaves]
    was_training = model.training
    model.min_input_size = 1         # this run only: an instance attribute over the class's, deleted below
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 3, *hw, device=next(model.parameters()).device))
        return "the feature maps shrink below one pixel"
    except RuntimeError:
        layer_name, layer, shape = entered[-1]
        return f"the size vanishes at {layer_name} ({layer}): {_size_formula(layer, shape[-2:])}"
    finally:
        del model.min_input_size
        for h in handles:
            h.remove()
        model.train(was_training)


def _size_formula(layer: nn.Module, hw: tuple[int, ...]) -> str:
    """'its input is 2x2 and O = (W - F + 2P)/S + 1 = (2 - 3 + 2*0)/2 + 1 = 0.5, rounded to 0' (smaller axis)."""
    axis = 0 if hw[0] <= hw[1] else 1
    k, s, p, d = (v if isinstance(v, int) else v[axis] for v in
                  (layer.kernel_size, layer.stride, layer.padding, getattr(layer, "dilation", 1)))
    w = hw[axis]
    exact = exact_output_size(w, k, s, p, d)
    rounded = math.ceil(exact) if getattr(layer, "ceil_mode", False) else math.floor(exact)
    return (f"its input is {hw[0]}x{hw[1]} and O = (W - F_eff + 2P)/S + 1 = ({w} - {kernel_span(k, d)} + 2*{p})/{s} "
            f"+ 1 = {exact:g}, which torch rounds to {rounded}: less than one pixel")


# --------------------------------------------------------------------------------------- LeNet-5 (1998)


def lenet5(num_classes: int = 10, activation: str = "relu", pool: str = "max") -> nn.Sequential:
    """LeNet-5 for (N, 1, 28, 28) digits -> (N, num_classes): ``course_lib.models.lenet5`` in torch.nn.

    The same network (and the same parameter names) as the from-scratch NumPy version, so weights copy
    across; see that function for the shapes 28 -> 14 -> 10 -> 5 -> 1. Not in torchvision.
    """
    return models.lenet5(num_classes, activation=activation, pool=pool, backend="torch")


# --------------------------------------------------------------------------------------- AlexNet (2012)


class AlexNet(nn.Module):
    """5 conv + 3 fully connected layers; (N, 3, H, W) with H, W >= 63 -> (N, num_classes).

    At 224x224: conv1 11x11/4 -> 55, pool 3/2 -> 27, conv2 5x5 -> 27, pool -> 13, conv3-5 3x3 -> 13,
    pool -> 6; flatten 256 * 6 * 6 = 9,216 -> 4096 -> 4096 -> num_classes (dropout 0.5 before the first two).

    torchvision's AlexNet (and so ours) is the single-GPU "one weird trick" version (Krizhevsky 2014):
    64/192/384/256/256 filters and no local response normalisation; the 2012 paper had 96/256/384/384/256
    filters split over two GPUs (60,965,224 parameters against 61,100,840 here).
    """

    min_input_size = 63    # smaller inputs vanish in the last max pool (features.12)

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        num_classes = check_size("AlexNet", "num_classes", num_classes)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        # Any input size gives a 6x6 map here (at 224x224 it already is 6x6 and this does nothing).
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(self, x)
        x = self.avgpool(self.features(x))      # (N, 256, 6, 6)
        return self.classifier(torch.flatten(x, 1))


def alexnet(num_classes: int = 1000) -> AlexNet:
    """AlexNet as in torchvision (61,100,840 parameters for 1000 classes)."""
    return AlexNet(num_classes)


# ------------------------------------------------------------------------------------------- VGG (2014)

# Output channels of each 3x3 conv (padding 1, so the size is kept); "M" is a 2x2 max pool that halves it.
VGG11_CONFIG: list[Union[int, str]] = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
VGG16_CONFIG: list[Union[int, str]] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                                       512, 512, 512, "M", 512, 512, 512, "M"]


def vgg_features(config: list[Union[int, str]]) -> nn.Sequential:
    """Stacked 3x3 convs (each followed by ReLU) and 2x2 max pools: (N, 3, H, W) -> (N, 512, H/32, W/32).

    Two stacked 3x3 convs see a 5x5 window with 18 C^2 weights instead of 25 C^2 for one 5x5 conv,
    and add a ReLU in between: VGG's "small stacked kernels, fewer parameters".
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, int(item), kernel_size=3, padding=1), nn.ReLU()]
            in_channels = int(item)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """features -> 7x7 average pool -> 25,088 -> 4096 -> 4096 -> num_classes; H, W >= 32.

    At 224x224 the features are already (N, 512, 7, 7); the adaptive pool makes other sizes fit the
    classifier. The classifier has dropout 0.5 after each of its first two ReLUs.
    """

    min_input_size = 32    # five 2x2 max pools halve it five times: 32 / 2^5 = 1

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        num_classes = check_size("VGG", "num_classes", num_classes)
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(self, x)
        x = self.avgpool(self.features(x))      # (N, 512, 7, 7)
        return self.classifier(torch.flatten(x, 1))


def vgg11(num_classes: int = 1000) -> VGG:
    """VGG-11 (configuration "A": 8 conv + 3 FC layers), 132,863,336 parameters for 1000 classes."""
    return VGG(vgg_features(VGG11_CONFIG), num_classes)


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration "D": 13 conv + 3 FC layers), 138,357,544 parameters for 1000 classes."""
    return VGG(vgg_features(VGG16_CONFIG), num_classes)


# ------------------------------------------------------------------------------ GoogLeNet / Inception (2014)


class BasicConv2d(nn.Module):
    """Conv (no bias: the BN's beta does its job) -> BatchNorm (eps 0.001, as torchvision) -> ReLU.

    BatchNorm is a later addition (Inception v2); the 2014 GoogLeNet had none.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four branches side by side, concatenated along channels: (N, C, H, W) -> (N, C', H, W).

    branch1: 1x1                          -> ch1x1 channels
    branch2: 1x1 (reduce) -> 3x3          -> ch3x3
    branch3: 1x1 (reduce) -> "5x5"        -> ch5x5
    branch4: 3x3 max pool (stride 1) -> 1x1 -> pool_proj
    C' = ch1x1 + ch3x3 + ch5x5 + pool_proj. The 1x1 "reduce" convs shrink the channels before the
    expensive kernels: that is how GoogLeNet stays small.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        # The paper's 5x5 branch is a 3x3 conv in torchvision (a known slip kept for its trained weights,
        # pytorch/vision issue 906); we keep it too so those weights load.
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1): a stem, 9 Inception modules, global average pool, one FC; H, W >= 15.

    Shapes at 224x224: stem 224 -> 112 -> 56 -> 28 (192 channels), 3a-3b 28 (480), pool 14, 4a-4e 14 (832),
    pool 7, 5a-5b 7 (1024), average pool 1x1, dropout 0.2, fc -> num_classes. No auxiliary classifiers
    (torchvision drops them too when it loads ImageNet weights). The max pools round up (ceil_mode=True,
    as Caffe and torchvision): (112 - 3)/2 + 1 = 55.5 gives 56, where the default floor would give 55.

    transform_input: torchvision's ImageNet weights were ported from TensorFlow and expect pixels scaled
    to [-1, 1]; with transform_input=True (torchvision sets it when it loads those weights) the usual
    ImageNet-normalised input is converted first. torchvision's default without weights is False.
    """

    min_input_size = 15

    def __init__(self, num_classes: int = 1000, transform_input: bool = False, dropout: float = 0.2) -> None:
        super().__init__()
        num_classes = check_size("GoogLeNet", "num_classes", num_classes)
        self.transform_input = transform_input
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        #                              in  1x1 3x3red 3x3 5x5red 5x5 pool_proj
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(self, x)
        if self.transform_input:
            x = imagenet_to_tf_range(x)
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))   # (N, 192, 28, 28)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))                  # (N, 480, 14, 14)
        x = self.inception4c(self.inception4b(self.inception4a(x)))
        x = self.maxpool4(self.inception4e(self.inception4d(x)))                  # (N, 832, 7, 7)
        x = self.avgpool(self.inception5b(self.inception5a(x)))                   # (N, 1024, 1, 1)
        return self.fc(self.dropout(torch.flatten(x, 1)))


def imagenet_to_tf_range(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) normalised with ImageNet's mean and std -> the same pixels scaled to [-1, 1].

    x = (p - mean) / std  becomes  (p - 0.5) / 0.5 = x * std / 0.5 + (mean - 0.5) / 0.5, channel by channel.
    """
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    channels = [x[:, c:c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)]
    return torch.cat(channels, dim=1)


def googlenet(num_classes: int = 1000, transform_input: bool = False) -> GoogLeNet:
    """GoogLeNet as torchvision's googlenet(aux_logits=False): 6,624,904 parameters for 1000 classes.

    For torchvision's ImageNet weights, match its preprocessing with transform_input=True:
        net = googlenet(transform_input=True)
        net.load_state_dict(torchvision.models.googlenet(weights="DEFAULT").state_dict())
    The lecture's "4 million" matches no count we could find (the paper says "12x fewer parameters than
    AlexNet", about 5M); the count we check is torchvision's.
    """
    return GoogLeNet(num_classes, transform_input=transform_input)


# ---------------------------------------------------------------------------------------- ResNet (2015)


def shortcut(in_channels: int, out_channels: int, stride: int) -> Optional[nn.Sequential]:
    """The skip path of a residual block: None (identity) when the shapes match, else 1x1 conv + BN.

    The 1x1 convolution with the block's stride ("projection shortcut", option B of He et al.) brings x
    to the shape of F(x) so that the two can be added.
    """
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """relu(F(x) + x) with F = conv3x3 -> BN -> ReLU -> conv3x3 -> BN (ResNet-18 and -34).

    (N, in_channels, H, W) -> (N, channels, H / stride, W / stride). The block learns the residual
    F(x) = H(x) - x; if the identity is best, F only has to be zero.
    """
    expansion = 1  # output channels = channels * expansion

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()  # one module, used twice (as torchvision)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = shortcut(in_channels, channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """relu(F(x) + x) with F = 1x1 (reduce) -> 3x3 -> 1x1 (expand x4), each with BN (ResNet-50 and up).

    (N, in_channels, H, W) -> (N, 4 * channels, H / stride, W / stride). The 3x3 conv runs on 4x fewer
    channels than the block's output: deep nets at a modest cost.
    """
    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        # The stride sits on the 3x3 conv, as torchvision ("ResNet v1.5"); the paper put it on conv1.
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.downsample = shortcut(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


Block = Union[type[BasicBlock], type[Bottleneck]]


def resnet_stage(block: Block, in_channels: int, channels: int, num_blocks: int, stride: int) -> nn.Sequential:
    """num_blocks residual blocks; the first one changes the size (stride) and the channel count."""
    blocks = [block(in_channels, channels, stride)]
    for _ in range(num_blocks - 1):
        blocks.append(block(channels * block.expansion, channels))
    return nn.Sequential(*blocks)


class ResNet(nn.Module):
    """Stem (7x7/2 conv, 3x3/2 max pool) -> 4 stages of residual blocks -> global average pool -> fc.

    Shapes at 224x224: stem 224 -> 112 -> 56; layer1 56 (64 * e channels), layer2 28 (128 * e),
    layer3 14 (256 * e), layer4 7 (512 * e), average pool 1x1, fc -> num_classes; e = block.expansion.
    ``ResNet(BasicBlock, [2, 2, 2, 2])`` is ResNet-18 (1 + 2 * 8 + 1 = 18 weight layers).
    """

    min_input_size = 1     # every stride-2 layer pads, so even a 1x1 image keeps one pixel

    def __init__(self, block: Block, layers: list[int], num_classes: int = 1000) -> None:
        super().__init__()
        if not isinstance(layers, (list, tuple)) or len(layers) != 4:
            raise ValueError(f"ResNet: layers is the number of blocks in each of the 4 stages, e.g. [2, 2, 2, 2] "
                             f"for ResNet-18; got {layers!r}.")
        layers = [check_size("ResNet", f"layers[{i}]", n) for i, n in enumerate(layers)]
        num_classes = check_size("ResNet", "num_classes", num_classes)
        e = block.expansion
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = resnet_stage(block, 64, 64, layers[0], stride=1)
        self.layer2 = resnet_stage(block, 64 * e, 128, layers[1], stride=2)
        self.layer3 = resnet_stage(block, 128 * e, 256, layers[2], stride=2)
        self.layer4 = resnet_stage(block, 256 * e, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * e, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(self, x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: basic blocks [2, 2, 2, 2], 11,689,512 parameters for 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34: basic blocks [3, 4, 6, 3], 21,797,672 parameters for 1000 classes."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: bottleneck blocks [3, 4, 6, 3], 25,557,032 parameters for 1000 classes."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)


# -------------------------------------------------------------------------------------- DenseNet (2017)


class DenseLayer(nn.Module):
    """BN -> ReLU -> 1x1 conv (to bn_size * k) -> BN -> ReLU -> 3x3 conv (to k = growth_rate channels).

    (N, C, H, W) -> (N, growth_rate, H, W): each layer adds only k new feature maps.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.ModuleDict):
    """Every layer sees the concatenation of the block's input and all earlier layers' outputs.

    (N, C, H, W) -> (N, C + num_layers * growth_rate, H, W). Layers are named denselayer1, denselayer2, ...
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4) -> None:
        super().__init__()
        for i in range(num_layers):
            self[f"denselayer{i + 1}"] = DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Sequential):
    """Between dense blocks: BN -> ReLU -> 1x1 conv (to out_channels) -> 2x2 average pool (halves H, W)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC: stem, dense blocks with transitions (each halving the channels), BN, ReLU, pool, fc.

    All convolutional layers live in ``features`` with torchvision's names: conv0, norm0, relu0, pool0,
    denseblock1, transition1, ..., denseblock4, norm5 (e.g. "features.denseblock1.denselayer1.norm1").
    The last ReLU is a function call in forward, as in torchvision. H, W >= 29.
    """

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, num_classes: int = 1000) -> None:
        super().__init__()
        num_classes = check_size("DenseNet", "num_classes", num_classes)
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU()),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        channels = num_init_features
        for i, num_layers in enumerate(block_config, start=1):
            self.features.add_module(f"denseblock{i}", DenseBlock(num_layers, channels, growth_rate, bn_size))
            channels += num_layers * growth_rate
            if i < len(block_config):
                self.features.add_module(f"transition{i}", Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        init_weights(self)

    min_input_size = 29

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(self, x)
        x = F.relu(self.features(x))                      # (N, 1024, H/32, W/32) for densenet121
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(torch.flatten(x, 1))


def densenet121(num_classes: int = 1000) -> DenseNet:
    """DenseNet-121: growth rate 32, blocks of (6, 12, 24, 16) layers, 7,978,856 parameters (1000 classes).

    Load weights from torchvision's model (``densenet121(weights=...).state_dict()``): the raw checkpoint
    file uses older names ("norm.1") that torchvision renames while loading.
    """
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes)
