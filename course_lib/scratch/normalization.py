"""Batch normalisation: ``BatchNorm1d`` for (N, C) and (N, C, L), ``BatchNorm2d`` for (N, C, H, W).

Each channel c is normalised over every axis except the channel axis (M = N, N*L or N*H*W values):

    train:  mu = mean(x_c),  var = mean((x_c - mu)^2)              (batch statistics, biased variance)
            running_mean = (1 - momentum) * running_mean + momentum * mu
            running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased!)
    eval:   mu, var = running_mean, running_var                     (fixed: no dependence on the batch)
    both:   xhat = (x - mu) / sqrt(var + eps),   y = weight * xhat + bias

As in torch, the variance that normalises the batch is the biased one (divide by M), while the one
averaged into running_var is unbiased (divide by M - 1). momentum=None gives a plain average of all
batches so far (factor 1 / num_batches_tracked).
"""
from __future__ import annotations

import numpy as np

from . import init
from ._checks import as_float_array, check_image_batch, check_ndim, check_number
from .functional.normalization import batch_norm, batch_norm_backward, channel_axes
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d, which differ only in the input ranks they accept.

    Parameters: weight (C,) = 1, bias (C,) = 0 (if affine).  Buffers (if track_running_stats):
    running_mean (C,) = 0, running_var (C,) = 1, num_batches_tracked () = 0, in torch's state_dict order.
    """

    _layout: str = ""  # the input layouts a subclass accepts; its _check_rank refuses the others

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"{name}: num_features is a number of channels, a whole number; got {num_features!r}.")
        if num_features <= 0:
            raise ValueError(f"{name} needs a positive number of features (channels), "
                             f"got num_features={num_features!r}.")
        if check_number(eps, "eps", name) <= 0:
            raise ValueError(f"{name}: eps={eps} must be positive (torch refuses it in training too): it keeps "
                             f"1/sqrt(var + eps) finite when a channel is constant. The usual value is 1e-5.")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum={momentum} must be in [0, 1] (the weight of the newest batch), or None.")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.empty(num_features)) if affine else None
        self.bias = Parameter(np.empty(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.empty(num_features))
            self.register_buffer("running_var", np.empty(num_features))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (as torch's)."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked = np.array(0, dtype=np.int64)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0 (the identity until training moves them), and fresh running statistics."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, x) -> np.ndarray:
        x = as_float_array(x, f"{type(self).__name__} input")
        self._check_rank(x)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r} expects {self.num_features} channels in dim 1 of its {self._layout} input, "
                f"got shape {tuple(x.shape)} with {x.shape[1]} channels. "
                f"Is num_features the out_channels / out_features of the layer before it?"
            )
        return x

    def _check_rank(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            m = x.size // self.num_features
            if self.training and m <= 1:
                raise ValueError(
                    f"{type(self).__name__} in training mode needs more than 1 value per channel to compute a "
                    f"variance, got input of shape {tuple(x.shape)}. Use a batch of 2 or more, or call .eval()."
                )
            axes = channel_axes(x)
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean, self.running_var
        weight = None if self.weight is None else self.weight.data
        bias = None if self.bias is None else self.bias.data
        y, xhat, inv_std = batch_norm(x, mean, var, weight, bias, self.eps, return_saved=True)
        self.save_for_backward(xhat, inv_std, use_batch_stats)
        return y

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int) -> None:
        """Exponential moving average of the batch statistics, with the unbiased variance var * M / (M - 1)."""
        self.num_batches_tracked = np.array(self.num_batches_tracked + 1, dtype=np.int64)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean = (1 - factor) * self.running_mean + factor * mean
        self.running_var = (1 - factor) * self.running_var + factor * var * m / (m - 1)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        xhat, inv_std, batch_stats = self.take_saved(grad_output)
        weight = None if self.weight is None else self.weight.data
        dx, dweight, dbias = batch_norm_backward(grad_output, xhat, inv_std, weight, batch_stats)
        if self.affine:
            self.weight.grad += dweight
            self.bias.grad += dbias
        return dx

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features (after a Linear) or (N, C, L) sequences, per channel C."""

    _layout = "(N, C) or (N, C, L)"

    def _check_rank(self, x: np.ndarray) -> None:
        hint = "; for one example of C features use x[None], though a batch of 1 has no variance" if x.ndim == 1 else ""
        check_ndim(x, (2, 3), repr(self), self._layout + hint)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) feature maps (after a Conv2d): statistics over N, H and W per channel."""

    _layout = "(N, C, H, W)"

    def _check_rank(self, x: np.ndarray) -> None:
        check_image_batch(x, repr(self), self.num_features)
