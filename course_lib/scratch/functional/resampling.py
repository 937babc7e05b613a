"""Resampling in NumPy: ``interpolate`` (nearest, bilinear) and ``cat`` along channels, each with its backward pass.

Interpolation is linear in the input, and separable: each output row mixes input rows with fixed weights, and the
same for columns. So it is two small matrices, A_h of shape (H_out, H) and A_w of shape (W_out, W), and

    forward:   out = A_h @ x @ A_w^T          (N, C, H, W) -> (N, C, H_out, W_out)
    backward:  dL/dx = A_h^T @ g @ A_w        g = dL/d out, (N, C, H_out, W_out) -> (N, C, H, W)

The backward is the adjoint of the forward by construction (the same matrices, transposed). Nearest: each row of
A holds one 1 (the source pixel), so the backward adds every output gradient back to its source pixel. Bilinear:
each row holds 1 - t and t for the two nearest source pixels, so the gradient is spread back with the same weights.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._checks import check_grad_output, check_image_batch, check_number, refuse_tensor

MODES = ("nearest", "bilinear")


def _check_mode(mode, align_corners, where: str) -> None:
    if mode not in MODES:
        raise NotImplementedError(f"{where}: mode={mode!r} is not supported here; scratch supports 'nearest' and "
                                  f"'bilinear' (torch also has 'bicubic', 'area', 'nearest-exact': use torch).")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{where}: align_corners can only be set with mode='bilinear' (as in torch): nearest "
                         f"copies pixels and has no corners to align. Leave align_corners=None.")


def _pair_of(value, name: str, where: str, check) -> tuple:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2:
        raise ValueError(f"{where}: {name} must be one value or a pair (height, width) for 4-D input, got {value!r}.")
    return tuple(check(v) for v in values)


def _positive_size(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where}: size must hold positive whole numbers of pixels, got {value!r}.")
    return int(value)


def _positive_scale(value, where: str) -> float:
    scale = check_number(value, "scale_factor", where)
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"{where}: scale_factor must be a positive number, got {value!r} (2 doubles the size).")
    return scale


def check_options(size, scale_factor, mode, align_corners, where: str) -> None:
    """torch's rules: exactly one of size and scale_factor; align_corners only for bilinear; a supported mode."""
    if (size is None) == (scale_factor is None):
        given = "both were given" if size is not None else "neither was given"
        raise ValueError(f"{where}: give exactly one of size (the output's (H_out, W_out)) and scale_factor "
                         f"(e.g. 2 doubles H and W); {given}.")
    _check_mode(mode, align_corners, where)
    if size is not None:
        _pair_of(size, "size", where, lambda v: _positive_size(v, where))
    else:
        _pair_of(scale_factor, "scale_factor", where, lambda v: _positive_scale(v, where))


def _plan(in_hw, size, scale_factor, where: str):
    """((H_out, W_out), (scale_h, scale_w)): the output size and torch's source-per-output step (None: in/out)."""
    if size is not None:
        return _pair_of(size, "size", where, lambda v: _positive_size(v, where)), (None, None)
    scales = _pair_of(scale_factor, "scale_factor", where, lambda v: _positive_scale(v, where))
    out_hw = tuple(math.floor(n * s) for n, s in zip(in_hw, scales))
    if min(out_hw) < 1:
        raise ValueError(f"{where}: scale_factor={scale_factor!r} shrinks the {in_hw[0]}x{in_hw[1]} input to "
                         f"{out_hw[0]}x{out_hw[1]} pixels (floor(size * scale)); use a larger scale_factor.")
    return out_hw, tuple(1.0 / s for s in scales)


def _nearest_matrix(n_in: int, n_out: int, step) -> np.ndarray:
    """A[i, src] = 1 with src = min(floor(i * step), n_in - 1), step = 1/scale_factor or n_in/n_out, computed
    in float32 as torch's kernel does (so that the same pixel is picked; torch's shortcuts for n_out = n_in
    and n_out = 2 n_in included)."""
    i = np.arange(n_out)
    if n_out == n_in:
        src = i
    elif n_out == 2 * n_in:
        src = i // 2
    else:
        step = np.float32(n_in) / np.float32(n_out) if step is None else np.float32(step)
        src = np.minimum(np.floor(i.astype(np.float32) * step).astype(np.int64), n_in - 1)
    matrix = np.zeros((n_out, n_in))
    matrix[i, src] = 1.0
    return matrix


def _bilinear_matrix(n_in: int, n_out: int, step, align_corners: bool) -> np.ndarray:
    """Row i: weights 1 - t and t on the source pixels i0 and i0 + 1 around the source coordinate
    s = i * (n_in - 1)/(n_out - 1) (align_corners: the corner pixels' centres meet), else
    s = max((i + 0.5) * step - 0.5, 0) (pixel areas meet); i0 = floor(s), t = s - i0."""
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = i * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = np.maximum((i + 0.5) * (n_in / n_out if step is None else step) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    t = src - i0
    matrix = np.zeros((n_out, n_in))
    np.add.at(matrix, (np.arange(n_out), i0), 1.0 - t)  # add.at: at the last pixel i0 == i1, both weights count
    np.add.at(matrix, (np.arange(n_out), i1), t)
    return matrix


def interpolation_matrices(input_shape, size=None, scale_factor=None, mode="nearest", align_corners=None,
                           where: str = "interpolate") -> tuple[np.ndarray, np.ndarray]:
    """(A_h, A_w) of shapes (H_out, H) and (W_out, W): out = A_h @ x @ A_w^T for x of ``input_shape`` (N, C, H, W)."""
    check_options(size, scale_factor, mode, align_corners, where)
    in_hw = tuple(input_shape[2:])
    out_hw, steps = _plan(in_hw, size, scale_factor, where)
    if mode == "nearest":
        return tuple(_nearest_matrix(n, m, s) for n, m, s in zip(in_hw, out_hw, steps))
    return tuple(_bilinear_matrix(n, m, s, bool(align_corners)) for n, m, s in zip(in_hw, out_hw, steps))


def interpolate(input: np.ndarray, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Resize a batch (N, C, H, W) to (N, C, H_out, W_out): out = A_h @ x @ A_w^T (see the module docstring).

    H_out = size[0], or floor(H * scale_factor). torch's F.interpolate without antialias or
    recompute_scale_factor; modes 'nearest' and 'bilinear' (align_corners False by default, as torch).
    """
    x = np.asarray(refuse_tensor(input, "interpolate input"))
    check_image_batch(x, "interpolate")
    a_h, a_w = interpolation_matrices(x.shape, size, scale_factor, mode, align_corners)
    return a_h @ x @ a_w.T


def interpolate_backward(grad_output: np.ndarray, input_shape, size=None, scale_factor=None, mode: str = "nearest",
                         align_corners=None) -> np.ndarray:
    """dL/dx = A_h^T @ g @ A_w: the adjoint of interpolate (nearest: every output gradient goes back to its
    source pixel, summed; bilinear: spread back with the forward's weights). Shape ``input_shape``."""
    a_h, a_w = interpolation_matrices(input_shape, size, scale_factor, mode, align_corners, "interpolate_backward")
    grad = check_grad_output(grad_output, (*input_shape[:2], len(a_h), len(a_w)), "interpolate_backward")
    return a_h.T @ grad @ a_w


def _cat_axis(dim, ndim: int, where: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{where}: dim must be an int, got {dim!r}.")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{where}: dim={dim} is out of range for arrays of rank {ndim} "
                         f"(expected {-ndim}..{ndim - 1}; channels of (N, C, H, W) are dim=1).")
    return int(dim) % ndim


def _cat_inputs(tensors, where: str) -> list[np.ndarray]:
    if isinstance(tensors, np.ndarray) or hasattr(tensors, "detach") or not isinstance(tensors, Sequence):
        raise TypeError(f"{where}: tensors must be a list or tuple of arrays, got {type(tensors).__name__}: "
                        f"write cat([a, b], dim=1), as torch.cat takes a sequence.")
    if len(tensors) == 0:
        raise ValueError(f"{where}: expected a non-empty list of arrays, got an empty one (torch refuses it too).")
    arrays = [np.asarray(refuse_tensor(a, f"{where}: tensors[{i}]")) for i, a in enumerate(tensors)]
    if arrays[0].ndim == 0:
        raise ValueError(f"{where}: tensors[0] is a scalar (rank 0); only arrays with axes can be joined.")
    return arrays


def cat(tensors, dim: int = 1) -> np.ndarray:
    """Join arrays along ``dim``: for a U-Net's skip connection, (N, C1, H, W) and (N, C2, H, W) along the
    channels (dim=1) give (N, C1 + C2, H, W). Every other dimension must match (no broadcasting)."""
    arrays = _cat_inputs(tensors, "cat")
    axis = _cat_axis(dim, arrays[0].ndim, "cat")
    first = arrays[0].shape
    for i, a in enumerate(arrays[1:], 1):
        if a.ndim != len(first) or a.shape[:axis] + a.shape[axis + 1:] != first[:axis] + first[axis + 1:]:
            raise ValueError(f"cat: tensors[{i}] has shape {a.shape} but tensors[0] has shape {first}: they must "
                             f"match in every dimension except dim={dim} (torch: 'Sizes of tensors must match "
                             f"except in dimension {dim}'). In a U-Net, crop or pad the skip so H and W agree.")
    return np.concatenate(arrays, axis=axis)


def cat_backward(grad_output: np.ndarray, sizes, dim: int = 1) -> list[np.ndarray]:
    """One gradient per input of cat: each input's own slice of dL/d out along ``dim`` (``sizes``: the inputs'
    extents along dim, e.g. [C1, C2])."""
    grad = np.asarray(grad_output)
    axis = _cat_axis(dim, grad.ndim, "cat_backward")
    sizes = [int(s) for s in sizes]
    if sum(sizes) != grad.shape[axis] or min(sizes, default=-1) < 0:
        raise ValueError(f"cat_backward: sizes {sizes} must be the inputs' extents along dim={dim}, adding up to "
                         f"grad_output's {grad.shape[axis]} (grad_output has shape {grad.shape}).")
    # the gradient splits back to both branches: the first C1 channels of dL/d out belong to the first input,
    # the next C2 to the second -- the skip connection gets its own share, undiluted
    return np.split(grad, np.cumsum(sizes)[:-1], axis=axis)
