"""``Upsample``: resize a batch of images (N, C, H, W) by a scale factor or to a size (no parameters).

out = A_h @ x @ A_w^T with fixed interpolation matrices (see ``functional.resampling``); the backward is the
adjoint, dL/dx = A_h^T @ g @ A_w. Channel concatenation for skip connections is ``functional.cat`` (torch has
no nn module for it either).
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_image_batch
from .functional import resampling as R
from .module import Module


def _floats(scale_factor):
    """torch.nn.Upsample keeps scale_factor as float(s): 2 -> 2.0, (2, 3) -> (2.0, 3.0)."""
    if scale_factor is None:
        return None
    return tuple(map(float, scale_factor)) if isinstance(scale_factor, (tuple, list)) else float(scale_factor)


class Upsample(Module):
    """Nearest or bilinear upsampling, torch.nn.Upsample's arguments: exactly one of size and scale_factor.

    Only batches (N, C, H, W): torch reads a rank-3 input as 1-D signals (N, C, L) and resizes only the last axis.
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> None:
        super().__init__()
        R.check_options(size, scale_factor, mode, align_corners, "Upsample")
        self.size = size
        self.scale_factor = _floats(scale_factor)
        self.mode = mode
        self.align_corners = align_corners

    def _options(self) -> dict:
        return dict(size=self.size, scale_factor=self.scale_factor, mode=self.mode, align_corners=self.align_corners)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "Upsample input")
        check_image_batch(x, "Upsample")
        self.save_for_backward(x.shape)  # the matrices need only the input's shape
        return R.interpolate(x, **self._options())

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        input_shape, = self.take_saved(grad_output)
        return R.interpolate_backward(grad_output, input_shape, **self._options())

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"
