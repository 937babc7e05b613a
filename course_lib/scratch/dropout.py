"""``Dropout``: zero a random fraction p of the activations while training (Srivastava et al., 2014)."""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array
from .module import Module
from .random import generator


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
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
            raise ValueError(
                f"Dropout probability p must be in [0, 1), got {p!r}. p is the fraction of values set to zero "
                f"(p=0.5 drops half); p=1 would drop everything and the scale 1/(1 - p) would be infinite."
            )
        self.p = float(p)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "Dropout input")
        if not self.training or self.p == 0:
            self._scale = 1.0
            return x
        keep = generator().random(x.shape) >= self.p
        self._scale = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._scale

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output * self._saved("_scale")

    def extra_repr(self) -> str:
        return f"p={self.p}"
