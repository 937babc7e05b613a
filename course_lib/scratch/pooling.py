"""Pooling modules: ``MaxPool2d``, ``AvgPool2d``, ``LPPool2d``, ``AdaptiveAvgPool2d`` (no parameters)."""
from __future__ import annotations

import numpy as np

from .functional import pooling as P
from ._checks import as_float_array, pair
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding", 0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum of each kH x kW window; stride defaults to the kernel size (non-overlapping windows)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "MaxPool2d input")
        y, indices = P.max_pool2d(x, self.kernel_size, self.stride, self.padding, return_indices=True)
        self.save_for_backward(x, indices)  # where each window's maximum was: backward sends dy there
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, indices = self.take_saved(grad_output)
        return P.max_pool2d_backward(grad_output, x, self.kernel_size, self.stride, self.padding, indices=indices)


class AvgPool2d(_Pool2d):
    """Mean of each kH x kW window (zero padding included in the mean, torch's default)."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = count_include_pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "AvgPool2d input")
        self.save_for_backward(x)
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, = self.take_saved(grad_output)
        return P.avg_pool2d_backward(grad_output, x, self.kernel_size, self.stride, self.padding,
                                     self.count_include_pad)


class LPPool2d(_Pool2d):
    """(sum of x^p over each window)^(1/p); norm_type=2 is L2 pooling."""

    def __init__(self, norm_type: float, kernel_size, stride=None) -> None:
        super().__init__(kernel_size, stride, 0)
        self.norm_type = norm_type

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "LPPool2d input")
        self.save_for_backward(x)
        return P.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, = self.take_saved(grad_output)
        return P.lp_pool2d_backward(grad_output, x, self.norm_type, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"norm_type={self.norm_type}, " + super().extra_repr()


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed (H_out, W_out); output_size=1 is global average pooling."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = pair(output_size, "output_size")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "AdaptiveAvgPool2d input")
        self.save_for_backward(x)
        return P.adaptive_avg_pool2d(x, self.output_size)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return P.adaptive_avg_pool2d_backward(grad_output, *self.take_saved(grad_output))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
