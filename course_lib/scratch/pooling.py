"""Pooling modules: ``MaxPool2d``, ``AvgPool2d``, ``LPPool2d``, ``AdaptiveAvgPool2d`` (no parameters).

Each takes a batch (N, C, H, W) or, as torch's pooling layers do, one unbatched image (C, H, W), which is
pooled as a batch of one and comes back as (C, H_out, W_out).
"""
from __future__ import annotations

import numpy as np

from .functional import pooling as P
from ._checks import as_float_array, pair
from .module import Module


def _as_batch(x, layer: str) -> tuple[np.ndarray, bool]:
    """(the input as float (N, C, H, W), whether it was unbatched): a (C, H, W) image becomes a batch of one."""
    x = as_float_array(x, f"{layer} input")
    return (x[None], True) if x.ndim == 3 else (x, False)


def _like_input(y: np.ndarray, unbatched: bool) -> np.ndarray:
    """Drop the batch axis that _as_batch added (forward's output, backward's dL/dx of an unbatched input)."""
    return y[0] if unbatched else y


def _as_batch_grad(grad_output) -> tuple[np.ndarray, bool]:
    """(dL/d output as (N, C, H_out, W_out), whether the input was unbatched). take_saved has checked that it has
    the forward output's shape, so it is rank 3 exactly when the input was an unbatched (C, H, W) image."""
    grad_output = np.asarray(grad_output)
    return (grad_output[None], True) if grad_output.ndim == 3 else (grad_output, False)


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding", 0)
        P.check_pool_padding(self.kernel_size, self.padding, type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum of each kH x kW window; stride defaults to the kernel size (non-overlapping windows)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = _as_batch(x, "MaxPool2d")
        y, indices = P.max_pool2d(x, self.kernel_size, self.stride, self.padding, return_indices=True)
        self.save_for_backward(x, indices)  # indices: where each window's maximum was
        return _like_input(y, unbatched)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, indices = self.take_saved(grad_output)
        grad_output, unbatched = _as_batch_grad(grad_output)
        grad = P.max_pool2d_backward(grad_output, x, self.kernel_size, self.stride, self.padding,
                                     indices=indices)
        return _like_input(grad, unbatched)


class AvgPool2d(_Pool2d):
    """Mean of each kH x kW window (zero padding included in the mean, torch's default)."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = count_include_pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = _as_batch(x, "AvgPool2d")
        self.save_for_backward(x)
        y = P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)
        return _like_input(y, unbatched)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, = self.take_saved(grad_output)
        grad_output, unbatched = _as_batch_grad(grad_output)
        grad = P.avg_pool2d_backward(grad_output, x, self.kernel_size, self.stride, self.padding,
                                     self.count_include_pad)
        return _like_input(grad, unbatched)


class LPPool2d(_Pool2d):
    """(sum of x^p over each window)^(1/p); norm_type=2 is L2 pooling. A window of zeros passes no gradient."""

    def __init__(self, norm_type: float, kernel_size, stride=None) -> None:
        super().__init__(kernel_size, stride, 0)
        P.check_norm_type(norm_type, "LPPool2d")
        self.norm_type = norm_type

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = _as_batch(x, "LPPool2d")
        self.save_for_backward(x)
        return _like_input(P.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride), unbatched)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, = self.take_saved(grad_output)
        grad_output, unbatched = _as_batch_grad(grad_output)
        grad = P.lp_pool2d_backward(grad_output, x, self.norm_type, self.kernel_size, self.stride)
        return _like_input(grad, unbatched)

    def extra_repr(self) -> str:
        return f"norm_type={self.norm_type}, " + super().extra_repr()


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed (H_out, W_out); output_size=1 is global average pooling."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = pair(output_size, "output_size")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, unbatched = _as_batch(x, "AdaptiveAvgPool2d")
        self.save_for_backward(x)
        return _like_input(P.adaptive_avg_pool2d(x, self.output_size), unbatched)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x, = self.take_saved(grad_output)
        grad_output, unbatched = _as_batch_grad(grad_output)
        return _like_input(P.adaptive_avg_pool2d_backward(grad_output, x), unbatched)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
