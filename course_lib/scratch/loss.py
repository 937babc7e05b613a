"""Loss modules: ``loss = criterion(input, target)`` then ``grad_input = criterion.backward()``."""
from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import as_float_array, check_class_targets
from .module import Module


class _Loss(Module):
    """A loss returns a float; ``backward(grad_output=1.0)`` returns dL/d input."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean' or 'sum', got {reduction!r} "
                             f"(torch's 'none', per-example losses, is not part of the scratch loss modules, which "
                             f"return one number; functional.cross_entropy(..., reduction='none') has it).")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on raw scores: input (N, C) logits, target (N,) class indices; or, per position
    as torch, input (N, C, d1, ..., dk) and target (N, d1, ..., dk), e.g. (N, C, H, W) and (N, H, W) for
    segmentation (the mean is over all N d1 ... dk positions)."""

    def forward(self, input: np.ndarray, target) -> float:
        input = as_float_array(input, "CrossEntropyLoss input")
        target = check_class_targets(input, target, "CrossEntropyLoss", spatial=True)
        loss = F.cross_entropy(input, target, self.reduction)
        self.save_for_backward(input, target)
        return loss

    def backward(self, grad_output: float = 1.0) -> np.ndarray:
        return F.cross_entropy_backward(grad_output, *self.take_saved(grad_output), self.reduction)


class MSELoss(_Loss):
    """Mean squared error between input and target of the same shape."""

    def forward(self, input: np.ndarray, target: np.ndarray) -> float:
        input = as_float_array(input, "MSELoss input")
        target = as_float_array(target, "MSELoss target", integers="convert")
        loss = F.mse_loss(input, target, self.reduction)
        self.save_for_backward(input, target)
        return loss

    def backward(self, grad_output: float = 1.0) -> np.ndarray:
        return F.mse_loss_backward(grad_output, *self.take_saved(grad_output), self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits: input and target (probabilities in [0, 1]) of the same shape."""

    def forward(self, input: np.ndarray, target: np.ndarray) -> float:
        input = as_float_array(input, "BCEWithLogitsLoss input")
        target = as_float_array(target, "BCEWithLogitsLoss target", integers="convert")
        loss = F.binary_cross_entropy_with_logits(input, target, self.reduction)
        self.save_for_backward(input, target)
        return loss

    def backward(self, grad_output: float = 1.0) -> np.ndarray:
        input, target = self.take_saved(grad_output)
        return F.binary_cross_entropy_with_logits_backward(grad_output, input, target, self.reduction)
