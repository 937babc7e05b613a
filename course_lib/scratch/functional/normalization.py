"""Batch normalisation as a forward/backward pair (the ``BatchNorm1d``/``BatchNorm2d`` modules hold the statistics).

Each channel c is normalised with a mean and a variance of its own:  xhat = (x - mu) / sqrt(var + eps),
y = weight * xhat + bias.  Shapes: x (N, C, *) with * = (), (L,) or (H, W); statistics and affine (C,).
"""
from __future__ import annotations

import numpy as np


def channel_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis but the channel axis 1: (0,) for (N, C), (0, 2) for (N, C, L), (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector to (1, C, 1, ...) so that it broadcasts along axis 1 of a rank-``ndim`` input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(x: np.ndarray, mean: np.ndarray, var: np.ndarray, weight: np.ndarray | None,
               bias: np.ndarray | None, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y = weight * (x - mean) / sqrt(var + eps) + bias, per channel.

    x: (N, C, *), mean/var/weight/bias: (C,).  Returns y (N, C, *), xhat (N, C, *), inv_std (C,).
    """
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - _per_channel(mean, x.ndim)) * _per_channel(inv_std, x.ndim)
    y = xhat if weight is None else xhat * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y, xhat, inv_std


def batch_norm_backward(grad_output: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                        weight: np.ndarray | None, batch_stats: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch_norm. grad_output, xhat: (N, C, *); inv_std, weight: (C,).

        dbias   = sum(dy)                   dweight = sum(dy * xhat)          (sums over all axes but C)
        batch statistics (train): mu and var depend on x, and with M values per channel
            dx = (1/M) * weight * inv_std * (M * dy - sum(dy) - xhat * sum(dy * xhat))
        running statistics (eval): mu and var are constants, so  dx = weight * inv_std * dy

    Returns dx (N, C, *), dweight (C,), dbias (C,).
    """
    axes, nd = channel_axes(grad_output), grad_output.ndim
    dbias = grad_output.sum(axis=axes)
    dweight = (grad_output * xhat).sum(axis=axes)
    scale = inv_std if weight is None else weight * inv_std
    if not batch_stats:
        return grad_output * _per_channel(scale, nd), dweight, dbias
    m = grad_output.size // grad_output.shape[1]
    dx = (m * grad_output - _per_channel(dbias, nd) - xhat * _per_channel(dweight, nd)) * _per_channel(scale / m, nd)
    return dx, dweight, dbias
