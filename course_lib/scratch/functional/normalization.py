"""Batch normalisation as a forward/backward pair (the ``BatchNorm1d``/``BatchNorm2d`` modules hold the statistics).

Each channel c is normalised with a mean and a variance of its own:  xhat = (x - mu) / sqrt(var + eps),
y = weight * xhat + bias.  Shapes: x (N, C, *) with * = (), (L,) or (H, W); statistics and affine (C,).
"""
from __future__ import annotations

import numpy as np

from .._checks import check_grad_output


def channel_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis but the channel axis 1: (0,) for (N, C), (0, 2) for (N, C, L), (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector to (1, C, 1, ...) so that it broadcasts along axis 1 of a rank-``ndim`` input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _check_statistics(input: np.ndarray, per_channel: dict) -> None:
    """Every per-channel vector must have one entry per channel C = input.shape[1] (no broadcasting)."""
    if np.ndim(input) < 2:
        raise ValueError(f"batch_norm: input must be (N, C, *) with the channels on axis 1, got shape "
                         f"{np.shape(input)}; one example of C features is x[None].")
    channels = input.shape[1]
    for name, v in per_channel.items():
        if v is not None and np.shape(v) != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {np.shape(v)} but the input {tuple(input.shape)} has "
                             f"C = {channels} channels on axis 1: {name} must have shape ({channels},).")


def batch_norm(input: np.ndarray, mean: np.ndarray, var: np.ndarray, weight: np.ndarray | None = None,
               bias: np.ndarray | None = None, eps: float = 1e-5, return_saved: bool = False):
    """y = weight * (x - mean) / sqrt(var + eps) + bias, per channel.   (N, C, *), (C,) x 4 -> (N, C, *).

    With return_saved, also what batch_norm_backward needs: xhat = (x - mean) / sqrt(var + eps)
    (N, C, *) and inv_std = 1 / sqrt(var + eps) (C,).
    """
    _check_statistics(input, {"mean": mean, "var": var, "weight": weight, "bias": bias})
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (input - _per_channel(mean, input.ndim)) * _per_channel(inv_std, input.ndim)
    y = xhat if weight is None else xhat * _per_channel(weight, input.ndim)
    if bias is not None:
        y = y + _per_channel(bias, input.ndim)
    return (y, xhat, inv_std) if return_saved else y


def batch_norm_backward(grad_output: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                        weight: np.ndarray | None, batch_stats: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch_norm.   (N, C, *), (N, C, *), (C,), (C,) -> (N, C, *), (C,), (C,).

        dbias   = sum(dy)                   dweight = sum(dy * xhat)          (sums over all axes but C)
        batch statistics (train): mu and var depend on x, and with M values per channel
            dx = (1/M) * weight * inv_std * (M * dy - sum(dy) - xhat * sum(dy * xhat))
        running statistics (eval): mu and var are constants, so  dx = weight * inv_std * dy

    Returns dx, dweight, dbias; batch_stats says which of the two formulas applies.
    """
    check_grad_output(grad_output, np.shape(xhat), "batch_norm_backward")
    axes, nd = channel_axes(grad_output), grad_output.ndim
    dbias = grad_output.sum(axis=axes)
    dweight = (grad_output * xhat).sum(axis=axes)
    scale = inv_std if weight is None else weight * inv_std
    if not batch_stats:
        return grad_output * _per_channel(scale, nd), dweight, dbias
    m = grad_output.size // grad_output.shape[1]
    dx = (m * grad_output - _per_channel(dbias, nd) - xhat * _per_channel(dweight, nd)) * _per_channel(scale / m, nd)
    return dx, dweight, dbias
