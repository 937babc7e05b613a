"""``Dropout``: zero a random fraction p of the activations while training (Srivastava et al., 2014)."""
from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import as_float_array
from .functional.regularization import check_dropout_probability
from .module import Module


class Dropout(Module):
    """Inverted dropout.   x: any shape -> y: the same shape.

        train:  mask_i ~ Bernoulli(1 - p)   (keep each value with probability 1 - p)
                y = x * mask / (1 - p)      (scaled up, so that E[y] = x)
        eval:   y = x                       (nothing to undo at test time: that is the "inverted" part)
        backward:  dx = dy * mask / (1 - p)  with the same mask as the forward pass (dx = dy in eval)

    The mask is drawn from the scratch generator, so ``scratch.manual_seed(s)`` makes it repeatable.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = check_dropout_probability(p)

    def forward(self, x: np.ndarray) -> np.ndarray:
        y, mask = F.dropout(as_float_array(x, "Dropout input"), self.p, self.training, return_mask=True)
        self.save_for_backward(mask)
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return F.dropout_backward(grad_output, *self.take_saved(grad_output))

    def extra_repr(self) -> str:
        return f"p={self.p}"
