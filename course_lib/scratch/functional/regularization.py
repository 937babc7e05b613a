"""Dropout as a forward/backward pair (Srivastava et al., 2014): zero a random fraction p of the values.

Inverted dropout scales the kept values by 1/(1 - p) while training, so that E[y] = x and nothing has
to be undone at test time. The mask is drawn from the scratch generator (``scratch.manual_seed``).
"""
from __future__ import annotations

import numpy as np

from .._checks import check_grad_output
from ..random import generator


def check_dropout_probability(p) -> float:
    """p as a float in [0, 1), or an error that says what p means."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p < 1:
        raise ValueError(
            f"Dropout probability p must be in [0, 1), got {p!r}. p is the fraction of values set to zero "
            f"(p=0.5 drops half); p=1 would drop everything and the scale 1/(1 - p) would be infinite."
        )
    return float(p)


def dropout(input: np.ndarray, p: float = 0.5, training: bool = True, return_mask: bool = False):
    """y = input * mask,  mask_i = Bernoulli(1 - p) / (1 - p)  while training;  y = input otherwise.

    (*) -> (*).  With return_mask, also the scaled mask (entries 0 or 1/(1 - p); the scalar 1.0 when
    nothing is dropped), which is what dropout_backward needs.
    """
    p = check_dropout_probability(p)
    if not training or p == 0:
        return (input, 1.0) if return_mask else input
    keep = generator().random(input.shape) >= p
    mask = keep.astype(input.dtype) / input.dtype.type(1 - p)
    output = input * mask
    return (output, mask) if return_mask else output


def dropout_backward(grad_output: np.ndarray, mask) -> np.ndarray:
    """dx = dy * mask: the gradient flows only through the kept values, scaled like them.   (*), (*) -> (*)."""
    if np.ndim(mask):  # the scalar mask 1.0 (nothing dropped) fits any shape
        check_grad_output(grad_output, np.shape(mask), "dropout_backward")
    return grad_output * mask
