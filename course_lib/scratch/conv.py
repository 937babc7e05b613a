"""``Conv2d`` and ``ConvTranspose2d`` modules over the functions in ``functional.convolution``."""
from __future__ import annotations

import numpy as np

from . import init
from ._checks import as_float_array, check_image_batch, pair, positive_int
from .functional import convolution as C
from .module import Module, Parameter


def _accumulate(layer: Module, grad_w: np.ndarray, grad_b: np.ndarray) -> None:
    """Add this backward pass's gradients into the layer's .grad (torch accumulates too)."""
    layer.weight.grad += grad_w
    if layer.bias is not None:
        layer.bias.grad += grad_b


def _check_channels(in_channels, out_channels, layer: str, groups=1) -> tuple[int, int]:
    """Both channel counts positive whole numbers, and groups dividing both: each group maps
    in_channels/groups to out_channels/groups."""
    in_channels = positive_int(in_channels, "in_channels", layer)
    out_channels = positive_int(out_channels, "out_channels", layer)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{layer}: groups must be a positive integer, got {groups!r}.")
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(
                f"{layer}: {name} must be divisible by groups, but {name} / groups = {channels} / {groups} = "
                f"{channels / groups:g} channels per group. Each of the {groups} groups maps in_channels / groups "
                f"input channels to out_channels / groups output channels (groups = in_channels is depthwise)."
            )
    return in_channels, out_channels


class Conv2d(Module):
    """2-D convolution. x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out).

    weight: (out_channels, in_channels / groups, kH, kW), bias: (out_channels,), initialised like torch by
    ``reset_parameters``: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW.
    H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1.
    groups splits the channels into independent convolutions (groups = in_channels: depthwise).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        in_channels, out_channels = _check_channels(in_channels, out_channels, "Conv2d", groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding", 0)
        self.dilation = pair(dilation, "dilation")
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *self.kernel_size)))
        self.bias = Parameter(np.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(weight, a=sqrt(5)), i.e. U(-1/sqrt(fan_in), ...), and the bias alike."""
        init.fan_in_uniform_(self.weight, self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "Conv2d input")
        check_image_batch(x, repr(self), self.in_channels)
        y, cols = C.conv2d(x, self.weight.data, None if self.bias is None else self.bias.data,
                           self.stride, self.padding, self.dilation, self.groups, return_cols=True)
        self.save_for_backward(x, cols)  # backward reuses the im2col matrix instead of rebuilding it
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, cols = self.take_saved(grad_output)
        grad_x, grad_w, grad_b = C.conv2d_backward(grad_output, x, self.weight.data,
                                                   self.stride, self.padding, self.dilation, self.groups, cols=cols)
        _accumulate(self, grad_w, grad_b)
        return grad_x

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")


class ConvTranspose2d(Module):
    """Transposed convolution (the gradient of a convolution, run forward), e.g. k=4, s=2, p=1 doubles H and W.

    weight: (in_channels, out_channels, kH, kW);
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, bias: bool = True, dilation=1) -> None:
        super().__init__()
        self.in_channels, self.out_channels = _check_channels(in_channels, out_channels, "ConvTranspose2d")
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding", 0)
        self.output_padding, self.dilation = pair(output_padding, "output_padding", 0), pair(dilation, "dilation")
        C.check_output_padding(self.output_padding, self.stride, self.dilation, "ConvTranspose2d")
        self.weight = Parameter(np.empty((in_channels, out_channels, *self.kernel_size)))
        self.bias = Parameter(np.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default, with fan_in = out_channels * kH * kW (dim 1 of this weight): U(-1/sqrt(fan_in), ...)."""
        init.fan_in_uniform_(self.weight, self.bias)

    def _options(self) -> tuple:
        return self.stride, self.padding, self.output_padding, self.dilation

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "ConvTranspose2d input")
        check_image_batch(x, repr(self), self.in_channels)
        self.save_for_backward(x)
        return C.conv_transpose2d(x, self.weight.data, None if self.bias is None else self.bias.data, *self._options())

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, = self.take_saved(grad_output)
        grad_x, grad_w, grad_b = C.conv_transpose2d_backward(grad_output, x, self.weight.data, *self._options())
        _accumulate(self, grad_w, grad_b)
        return grad_x

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}")
