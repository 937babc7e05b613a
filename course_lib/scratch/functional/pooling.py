"""Pooling in NumPy: max, average, L_p (L2) and adaptive average, each with its backward pass.

Layout NCHW. A pool with kernel (kH, kW), stride S (default: the kernel) and zero padding P gives
H_out = floor((H + 2P - kH) / S) + 1, e.g. AlexNet's 3x3/2 max pool: (55 - 3)/2 + 1 = 27.
The loops below run over the kH * kW offsets inside a window, never over pixels or images.
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import check_grad_output, check_image_batch, check_number, pair
from ..sizes import output_size
from .convolution import _pad, _unpad


def check_pool_padding(kernel, padding, where: str) -> None:
    """torch's rule for pooling: padding <= kernel_size / 2, so that every window holds a real pixel."""
    for k, p in zip(kernel, padding):
        if 2 * p > k:
            raise ValueError(f"{where}: padding ({p}) must be at most half the kernel size ({k}), as in torch: "
                             f"a wider padding makes windows of padding only. Use padding <= {k // 2}.")


def check_norm_type(norm_type, where: str) -> float:
    """LP pooling's p: a finite, non-zero number (p = 0 would divide by zero in the 1/p root)."""
    p = check_number(norm_type, "norm_type", where)
    if p == 0:
        raise ValueError(f"{where}: norm_type must be a non-zero value, got {norm_type!r}: the output is "
                         f"(sum x^p)^(1/p). Use 2 for L2 pooling, 1 for a sum.")
    if not math.isfinite(p):
        raise ValueError(f"{where}: norm_type={norm_type!r} is not supported here; p = inf is max pooling of |x|: "
                         f"use MaxPool2d on np.abs(x).")
    return p


def _check_pool_grad(grad_output, x_shape, out_hw, where: str) -> None:
    check_grad_output(grad_output, (*x_shape[:2], *out_hw), where)


def pool_geometry(x_shape, kernel_size, stride, padding, layer: str):
    """Validate a pooling call; return (kernel, stride, padding, (H_out, W_out)) as pairs of ints."""
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding", 0)
    check_pool_padding(kernel, padding, layer)
    out = []
    for size, k, s, p, axis in zip(x_shape[2:], kernel, stride, padding, ("height", "width")):
        if k > size + 2 * p:
            raise ValueError(f"{layer}: the {k}-pixel window does not fit in the padded {axis} {size} + 2*{p}.")
        out.append(output_size(size, k, s, p))
    return kernel, stride, padding, tuple(out)


def _offset_view(x_pad: np.ndarray, u: int, v: int, stride, out_hw) -> np.ndarray:
    """x_pad[:, :, S i + u, S j + v] for every output (i, j): the u, v-th entry of every window."""
    return x_pad[:, :, u:u + stride[0] * (out_hw[0] - 1) + 1:stride[0], v:v + stride[1] * (out_hw[1] - 1) + 1:stride[1]]


def _column_phases(x_pad: np.ndarray, stride_w: int) -> list[np.ndarray]:
    """x_pad's columns split by their remainder mod S:  phases[p][..., q] = x_pad[..., S q + p].

    Every window offset then reads unit-stride rows, several times faster in NumPy than every S-th element.
    """
    if stride_w == 1:
        return [x_pad]
    return [np.ascontiguousarray(x_pad[..., p::stride_w]) for p in range(stride_w)]


def _phase_view(phases: list[np.ndarray], u: int, v: int, stride, out_hw) -> np.ndarray:
    """The same entries as _offset_view(x_pad, u, v, ...), read from the column phases of x_pad:
    x_pad[..., S j + v] = phases[v % S][..., j + v // S]."""
    (sh, sw), (ho, wo) = stride, out_hw
    return phases[v % sw][:, :, u:u + sh * (ho - 1) + 1:sh, v // sw:v // sw + wo]


def _window_max(x_pad: np.ndarray, kernel, stride, out_hw, where_dtype):
    """(max, offset u kW + v of the first max) of every window of x_pad: (N, C, H_out, W_out) each."""
    phases = _column_phases(x_pad, stride[1])
    best = _phase_view(phases, 0, 0, stride, out_hw).copy()
    where = np.zeros(best.shape, dtype=where_dtype)
    better, offset_if_better = np.empty(best.shape, dtype=bool), np.empty_like(where)
    for u in range(kernel[0]):
        for v in range(kernel[1]):
            candidate = _phase_view(phases, u, v, stride, out_hw)
            np.greater(candidate, best, out=better)  # strict: the first maximum in the window wins, as in torch
            np.maximum(best, candidate, out=best)
            # "where = u kW + v wherever better" is a maximum, since the offsets only grow in this loop
            offset = where.dtype.type(u * kernel[1] + v)
            np.maximum(where, np.multiply(better, offset, out=offset_if_better), out=where)
    return best, where


def max_pool2d(x: np.ndarray, kernel_size, stride=None, padding=0, return_indices: bool = False):
    """y[n, c, i, j] = max over the window of x_pad (padding counts as -inf, never chosen).

    With return_indices, also the window offset u * kW + v of each maximum (used by the backward pass),
    in the smallest unsigned integer type that holds kH * kW.
    """
    check_image_batch(x, "max_pool2d")
    kernel, stride, padding, out_hw = pool_geometry(x.shape, kernel_size, stride, padding, "max_pool2d")
    x_pad = _pad(x, padding, value=-np.inf)
    best = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
    where = np.empty(best.shape, dtype=np.min_scalar_type(kernel[0] * kernel[1]))
    # a few images at a time (about 64K outputs), so that the running maxima stay in the CPU's cache
    step = max(1, 2**16 // max(1, math.prod(best.shape[1:])))
    for n in range(0, x.shape[0], step):
        best[n:n + step], where[n:n + step] = _window_max(x_pad[n:n + step], kernel, stride, out_hw, where.dtype)
    return (best, where) if return_indices else best


def _max_positions(where: np.ndarray, kernel, stride, pad_shape) -> np.ndarray:
    """Flat index into x_pad of every window's maximum, i.e. of x_pad[n, c, S i + u, S j + v] with
    (u, v) = divmod(where, kW):  ((n C + c) H_pad + S i + u) W_pad + S j + v."""
    u, v = np.divmod(where, kernel[1])
    n, c, i, j = np.ogrid[:where.shape[0], :where.shape[1], :where.shape[2], :where.shape[3]]
    _, channels, h_pad, w_pad = pad_shape
    return ((n * channels + c) * h_pad + stride[0] * i + u) * w_pad + stride[1] * j + v


def max_pool2d_backward(grad_output: np.ndarray, x: np.ndarray, kernel_size, stride=None, padding=0,
                        indices: np.ndarray | None = None):
    """The whole gradient of each window goes to the position of its maximum; the rest get 0.

    ``indices`` are the forward pass's window offsets of the maxima (recomputed when not given).
    """
    kernel, stride, padding, out_hw = pool_geometry(x.shape, kernel_size, stride, padding, "max_pool2d")
    _check_pool_grad(grad_output, x.shape, out_hw, "max_pool2d_backward")
    where = indices if indices is not None else max_pool2d(x, kernel_size, stride, padding, return_indices=True)[1]
    pad_shape = (*x.shape[:2], x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    grad_pad = np.zeros(pad_shape, dtype=grad_output.dtype)
    # add.at, not +=: overlapping windows (stride < kernel) can share a maximum, and then both gradients count
    np.add.at(grad_pad.reshape(-1), _max_positions(where, kernel, stride, pad_shape).reshape(-1),
              grad_output.reshape(-1))
    return _unpad(grad_pad, padding)


def _window_sum(x_pad: np.ndarray, kernel, stride, out_hw) -> np.ndarray:
    total = np.zeros((*x_pad.shape[:2], *out_hw), dtype=x_pad.dtype)
    for u in range(kernel[0]):
        for v in range(kernel[1]):
            total += _offset_view(x_pad, u, v, stride, out_hw)
    return total


def _avg_divisor(x_shape, kernel, stride, padding, out_hw, count_include_pad: bool, dtype):
    if count_include_pad:
        return kernel[0] * kernel[1]
    ones = _pad(np.ones((1, 1, *x_shape[2:]), dtype=dtype), padding)  # dtype: float32 input stays float32
    return _window_sum(ones, kernel, stride, out_hw)


def avg_pool2d(x: np.ndarray, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> np.ndarray:
    """y = mean of each window (zero padding counted in the mean unless count_include_pad=False)."""
    check_image_batch(x, "avg_pool2d")
    kernel, stride, padding, out_hw = pool_geometry(x.shape, kernel_size, stride, padding, "avg_pool2d")
    divisor = _avg_divisor(x.shape, kernel, stride, padding, out_hw, count_include_pad, x.dtype)
    return _window_sum(_pad(x, padding), kernel, stride, out_hw) / divisor


def avg_pool2d_backward(grad_output, x, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
    """Each window shares its gradient equally: every member gets dy / (window size)."""
    kernel, stride, padding, out_hw = pool_geometry(x.shape, kernel_size, stride, padding, "avg_pool2d")
    _check_pool_grad(grad_output, x.shape, out_hw, "avg_pool2d_backward")
    share = grad_output / _avg_divisor(x.shape, kernel, stride, padding, out_hw, count_include_pad,
                                       grad_output.dtype)
    grad_pad = np.zeros((*x.shape[:2], x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]), dtype=share.dtype)
    for u in range(kernel[0]):
        for v in range(kernel[1]):
            _offset_view(grad_pad, u, v, stride, out_hw)[...] += share
    return _unpad(grad_pad, padding)


def lp_pool2d(x: np.ndarray, norm_type: float, kernel_size, stride=None) -> np.ndarray:
    """y = (sum over the window of x^p)^(1/p); p = 2 is L2 pooling, sqrt of the sum of squares."""
    p = check_norm_type(norm_type, "lp_pool2d")
    check_image_batch(x, "lp_pool2d")
    kernel, stride, _, out_hw = pool_geometry(x.shape, kernel_size, stride, 0, "lp_pool2d")
    return _window_sum(x ** p, kernel, stride, out_hw) ** (1.0 / p)


def lp_pool2d_backward(grad_output, x, norm_type: float, kernel_size, stride=None):
    """dy/dx = x^(p-1) * y^(1-p) for each member x of a window with output y.

    A window whose sum of x^p is 0 (all zeros, for even p) has no direction to move: its gradient is 0,
    as in torch (the formula would give 0 * inf = nan there).
    """
    p = check_norm_type(norm_type, "lp_pool2d_backward")
    kernel, stride, _, out_hw = pool_geometry(x.shape, kernel_size, stride, 0, "lp_pool2d")
    _check_pool_grad(grad_output, x.shape, out_hw, "lp_pool2d_backward")
    y = lp_pool2d(x, p, kernel_size, stride)
    nonzero = y != 0
    upstream = np.where(nonzero, grad_output * np.where(nonzero, y, 1.0) ** (1.0 - p), 0.0)
    grad = np.zeros_like(x, dtype=upstream.dtype)
    for u in range(kernel[0]):
        for v in range(kernel[1]):
            _offset_view(grad, u, v, stride, out_hw)[...] += upstream
    return grad * x ** (p - 1.0)


def _adaptive_bounds(size: int, out: int) -> list[tuple[int, int]]:
    """torch's adaptive windows: output i covers [floor(i size/out), ceil((i + 1) size/out))."""
    return [(i * size // out, math.ceil((i + 1) * size / out)) for i in range(out)]


def adaptive_avg_pool2d(x: np.ndarray, output_size) -> np.ndarray:
    """Average pooling to a fixed output size; output_size=1 is global average pooling (the mean of each map)."""
    check_image_batch(x, "adaptive_avg_pool2d")
    oh, ow = pair(output_size, "output_size")
    rows, cols = _adaptive_bounds(x.shape[2], oh), _adaptive_bounds(x.shape[3], ow)
    y = np.empty((*x.shape[:2], oh, ow), dtype=x.dtype)
    for i, (r0, r1) in enumerate(rows):  # loops over the (few) output cells
        for j, (c0, c1) in enumerate(cols):
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward(grad_output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each output cell spreads dy / (cell area) over the pixels it averaged."""
    grad_output = np.asarray(grad_output)
    if grad_output.ndim != 4 or grad_output.shape[:2] != x.shape[:2]:
        raise ValueError(f"adaptive_avg_pool2d_backward: grad_output has shape {grad_output.shape} but the input "
                         f"has shape {tuple(x.shape)}: it must be (N, C, H_out, W_out) = ({x.shape[0]}, "
                         f"{x.shape[1]}, H_out, W_out), the shape of the forward output.")
    oh, ow = grad_output.shape[2:]
    grad = np.zeros_like(x, dtype=grad_output.dtype)
    for i, (r0, r1) in enumerate(_adaptive_bounds(x.shape[2], oh)):
        for j, (c0, c1) in enumerate(_adaptive_bounds(x.shape[3], ow)):
            grad[:, :, r0:r1, c0:c1] += grad_output[:, :, i:i + 1, j:j + 1] / ((r1 - r0) * (c1 - c0))
    return grad
