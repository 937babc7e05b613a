"""Convolution in NumPy, twice: plain loops that read like the formula, and im2col + one matrix product.

Layout NCHW.  x: (N, C_in, H, W);  weight: (C_out, C_in, kH, kW);  bias: (C_out,);
y: (N, C_out, H_out, W_out) with  H_out = floor((H + 2P - D(kH - 1) - 1) / S) + 1  (the same for W).

Like torch (and every deep-learning library), "convolution" here is cross-correlation:

    y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x_pad[n, c, S i + D u, S j + D v]
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._checks import check_grad_output, check_image_batch, pair
from ..sizes import kernel_span, output_size, transposed_output_size


def conv_geometry(x_shape, weight_shape, stride, padding, dilation, layer: str = "conv2d"):
    """Validate shapes and return (stride, padding, dilation, (H_out, W_out)) as pairs of ints."""
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding", 0), pair(dilation, "dilation")
    if len(weight_shape) != 4:
        raise ValueError(f"{layer}: weight must be (C_out, C_in, kH, kW), got shape {tuple(weight_shape)}; "
                         f"one 2-D filter f of one channel is f[None, None].")
    n, c, h, w = x_shape
    c_out, c_in, kh, kw = weight_shape
    if c != c_in:
        raise ValueError(
            f"{layer}: the input has {c} channels (shape (N, C, H, W) = {tuple(x_shape)}) but the weight "
            f"{tuple(weight_shape)} = (C_out, C_in, kH, kW) expects C_in = {c_in}."
        )
    out = []
    for size, k, s, p, d, axis in zip((h, w), (kh, kw), stride, padding, dilation, ("height", "width")):
        span = kernel_span(k, d)  # the dilated kernel's extent
        if span > size + 2 * p:
            raise ValueError(
                f"{layer}: the kernel covers {span} pixels in {axis} (kernel {k}, dilation {d}) but the padded "
                f"input is only {size} + 2*{p} = {size + 2 * p} pixels: the kernel does not fit."
            )
        out.append(output_size(size, k, s, p, d))
    return stride, padding, dilation, tuple(out)


def _pad(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    (ph, pw) = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def windows(x_pad: np.ndarray, kernel, stride, dilation, out_hw) -> np.ndarray:
    """A strided *view* of every kernel window: (N, C, kH, kW, H_out, W_out), no copy.

    windows[n, c, u, v, i, j] = x_pad[n, c, S i + D u, S j + D v]
    """
    n, c = x_pad.shape[:2]
    sn, sc, sh, sw = x_pad.strides
    shape = (n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    strides = (sn, sc, dilation[0] * sh, dilation[1] * sw, stride[0] * sh, stride[1] * sw)
    return as_strided(x_pad, shape=shape, strides=strides, writeable=False)


def im2col(x_pad: np.ndarray, kernel, stride, dilation, out_hw) -> np.ndarray:
    """Every window as a column: (C * kH * kW, N * H_out * W_out), ready for one matrix product.

    Column order (n, i, j) and row order (c, u, v); copying keeps each output row (W_out values)
    contiguous, which is what makes this copy fast.
    """
    w = windows(x_pad, kernel, stride, dilation, out_hw)
    n, c, kh, kw, ho, wo = w.shape
    return w.transpose(1, 2, 3, 0, 4, 5).reshape(c * kh * kw, n * ho * wo)


def col2im(cols: np.ndarray, x_pad_shape, kernel, stride, dilation, out_hw) -> np.ndarray:
    """The adjoint of im2col: add every column's entries back to the pixels they came from.

    cols: (C * kH * kW, N * H_out * W_out) -> (N, C, H_pad, W_pad). Overlapping windows add up.
    Loops over the kH * kW kernel offsets only; each iteration is one strided array addition.
    """
    n, c = x_pad_shape[:2]
    (kh, kw), (ho, wo) = kernel, out_hw
    blocks = cols.reshape(c, kh, kw, n, ho, wo)
    out = np.zeros((c, n, *x_pad_shape[2:]), dtype=cols.dtype)  # channels first while adding
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dilation[0], u * dilation[0] + stride[0] * (ho - 1) + 1, stride[0])
            columns = slice(v * dilation[1], v * dilation[1] + stride[1] * (wo - 1) + 1, stride[1])
            out[:, :, rows, columns] += blocks[:, u, v]
    return out.transpose(1, 0, 2, 3)


def _unpad(x_pad: np.ndarray, padding) -> np.ndarray:
    (ph, pw) = padding
    return x_pad[:, :, ph:x_pad.shape[2] - ph, pw:x_pad.shape[3] - pw]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
           stride=1, padding=0, dilation=1, groups: int = 1, return_cols: bool = False):
    """Fast 2-D convolution: im2col, then (C_out, C kH kW) @ (C kH kW, N H_out W_out).

    (N, C, H, W), (C_out, C / groups, kH, kW), (C_out,) -> (N, C_out, H_out, W_out).
    With return_cols, also the im2col matrix (one per group), so that a layer can reuse it in its backward pass.
    """
    check_image_batch(x, "conv2d", weight.shape[1] * groups)
    if groups != 1:
        return _conv2d_groups(x, weight, bias, stride, padding, dilation, groups, return_cols)
    stride, padding, dilation, out_hw = conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    cols = im2col(_pad(x, padding), weight.shape[2:], stride, dilation, out_hw)
    y = weight.reshape(weight.shape[0], -1) @ cols  # (C_out, N H_out W_out)
    if bias is not None:
        y += bias[:, None]
    y = y.reshape(weight.shape[0], x.shape[0], *out_hw).transpose(1, 0, 2, 3)
    return (y, cols) if return_cols else y


def _check_conv_grad_output(grad_output, x_shape, weight_shape, stride, padding, dilation, groups=1) -> None:
    """grad_output must have conv2d's output shape (N, C_out, H_out, W_out): no broadcasting in a backward pass."""
    c_out, c_per_group, kh, kw = weight_shape
    *_, out_hw = conv_geometry(x_shape, (c_out, c_per_group * groups, kh, kw), stride, padding, dilation)
    check_grad_output(grad_output, (x_shape[0], c_out, *out_hw), "conv2d_backward")


def conv2d_backward(grad_output: np.ndarray, x: np.ndarray, weight: np.ndarray,
                    stride=1, padding=0, dilation=1, groups: int = 1, cols: np.ndarray | None = None):
    """Gradients of conv2d: returns (dx (N, C, H, W), dW (C_out, C, kH, kW), db (C_out,)).

    With dY as a matrix (C_out, N H_out W_out):  dW = dY cols^T,  d cols = W^T dY,  dx = col2im(d cols).
    ``cols`` is the forward pass's im2col matrix, recomputed when not given.
    """
    _check_conv_grad_output(grad_output, x.shape, weight.shape, stride, padding, dilation, groups)
    if groups != 1:
        return _conv2d_groups_backward(grad_output, x, weight, stride, padding, dilation, groups, cols)
    stride, padding, dilation, out_hw = conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    x_pad_shape = (*x.shape[:2], x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if cols is None:
        cols = im2col(_pad(x, padding), weight.shape[2:], stride, dilation, out_hw)
    dy = grad_output.transpose(1, 0, 2, 3).reshape(weight.shape[0], -1)
    grad_weight = (dy @ cols.T).reshape(weight.shape)
    grad_cols = weight.reshape(weight.shape[0], -1).T @ dy
    grad_x = _unpad(col2im(grad_cols, x_pad_shape, weight.shape[2:], stride, dilation, out_hw), padding)
    return grad_x, grad_weight, dy.sum(axis=1)


def conv2d_loops(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                 stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """The formula, one output value at a time (for teaching and small inputs only).

    y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x_pad[n, c, S i + D u, S j + D v]
    """
    check_image_batch(x, "conv2d_loops", weight.shape[1])
    stride, padding, dilation, (ho, wo) = conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    x_pad = _pad(x, padding)
    n_images, c_out, c_in, kh, kw = x.shape[0], *weight.shape
    y = np.zeros((n_images, c_out, ho, wo), dtype=np.result_type(x, weight))
    for n in range(n_images):
        for o in range(c_out):
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if bias is None else bias[o]
                    for c in range(c_in):
                        for u in range(kh):
                            for v in range(kw):
                                total += weight[o, c, u, v] * x_pad[n, c, stride[0] * i + dilation[0] * u,
                                                                    stride[1] * j + dilation[1] * v]
                    y[n, o, i, j] = total
    return y


def conv2d_loops_backward(grad_output: np.ndarray, x: np.ndarray, weight: np.ndarray,
                          stride: int = 1, padding: int = 0, dilation: int = 1):
    """The chain rule for each term of the sum: every product w * x sends dy * x to dw and dy * w to dx."""
    _check_conv_grad_output(grad_output, x.shape, weight.shape, stride, padding, dilation)
    stride, padding, dilation, (ho, wo) = conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    x_pad = _pad(x, padding)
    grad_x_pad, grad_w = np.zeros_like(x_pad), np.zeros_like(weight)
    n_images, c_out, c_in, kh, kw = x.shape[0], *weight.shape
    for n in range(n_images):
        for o in range(c_out):
            for i in range(ho):
                for j in range(wo):
                    dy = grad_output[n, o, i, j]
                    for c in range(c_in):
                        for u in range(kh):
                            for v in range(kw):
                                r, s = stride[0] * i + dilation[0] * u, stride[1] * j + dilation[1] * v
                                grad_w[o, c, u, v] += dy * x_pad[n, c, r, s]
                                grad_x_pad[n, c, r, s] += dy * weight[o, c, u, v]
    return _unpad(grad_x_pad, padding), grad_w, grad_output.sum(axis=(0, 2, 3))


# ------------------------------------------------------------------ transposed convolution
# A transposed convolution is the backward (data-gradient) pass of a convolution, run forward.
# weight: (C_in, C_out, kH, kW) as in torch.nn.ConvTranspose2d; it maps x (N, C_in, H, W) to
# y (N, C_out, H_out, W_out) with H_out = (H - 1) S - 2P + D (kH - 1) + output_padding + 1.


def check_output_padding(output_padding, stride, dilation, where: str) -> None:
    """torch's rule: output_padding < max(stride, dilation) along each axis. output_padding picks one of the
    S input sizes that a stride-S convolution maps to the same output size, so it only ranges over 0..S-1."""
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(
                f"{where}: output_padding ({op}) must be smaller than stride ({s}) or dilation ({d}): it chooses "
                f"among the {max(s, d)} output sizes that fold back to the same input size. Use output_padding < "
                f"{max(s, d)}, or a larger stride."
            )


def conv_transpose_output_hw(x_shape, weight_shape, stride, padding, output_padding, dilation):
    """Output (H_out, W_out) of conv_transpose2d, with torch's rule output_padding < max(stride, dilation)."""
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding", 0), pair(dilation, "dilation")
    output_padding = pair(output_padding, "output_padding", 0)
    if x_shape[1] != weight_shape[0]:
        raise ValueError(
            f"conv_transpose2d: the input has {x_shape[1]} channels (shape {tuple(x_shape)}) but the weight "
            f"{tuple(weight_shape)} = (C_in, C_out, kH, kW) expects C_in = {weight_shape[0]}."
        )
    check_output_padding(output_padding, stride, dilation, "conv_transpose2d")
    out = [transposed_output_size(size, k, s, p, op, d)
           for size, k, s, p, op, d in zip(x_shape[2:], weight_shape[2:], stride, padding, output_padding, dilation)]
    if min(out) <= 0:
        raise ValueError(f"conv_transpose2d: the output size {tuple(out)} is not positive; padding is too large.")
    return stride, padding, dilation, tuple(out)


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                     stride=1, padding=0, output_padding=0, dilation=1) -> np.ndarray:
    """y = the input-gradient of conv2d(y; weight) applied to x: each input pixel stamps a scaled kernel."""
    check_image_batch(x, "conv_transpose2d", weight.shape[0])
    stride, padding, dilation, out_hw = conv_transpose_output_hw(
        x.shape, weight.shape, stride, padding, output_padding, dilation)
    y_shape = (x.shape[0], weight.shape[1], *out_hw)
    y = _input_gradient(x, weight, y_shape, stride, padding, dilation)
    return y if bias is None else y + bias[:, None, None]


def _input_gradient(grad_output, weight, x_shape, stride, padding, dilation):
    """dL/dx of conv2d for an input of shape x_shape, given dL/dy (the col2im half of conv2d_backward)."""
    x_pad_shape = (*x_shape[:2], x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1])
    dy = grad_output.transpose(1, 0, 2, 3).reshape(weight.shape[0], -1)
    grad_cols = weight.reshape(weight.shape[0], -1).T @ dy
    cols_to_image = col2im(grad_cols, x_pad_shape, weight.shape[2:], stride, dilation, grad_output.shape[2:])
    return _unpad(cols_to_image, padding)


def conv_transpose2d_backward(grad_output: np.ndarray, x: np.ndarray, weight: np.ndarray,
                              stride=1, padding=0, output_padding=0, dilation=1):
    """Gradients of conv_transpose2d: (dx, dW, db). dx is an ordinary conv2d of grad_output.

    Seen as a convolution from y-space to x-space, y = conv_transpose2d(x) has x in the role of dY and
    grad_output in the role of the convolution's input: so dW = x-matrix im2col(grad_output)^T.
    """
    stride, padding, dilation, out_hw = conv_transpose_output_hw(
        x.shape, weight.shape, stride, padding, output_padding, dilation)
    check_grad_output(grad_output, (x.shape[0], weight.shape[1], *out_hw), "conv_transpose2d_backward")
    cols = im2col(_pad(grad_output, padding), weight.shape[2:], stride, dilation, x.shape[2:])
    x_matrix = x.transpose(1, 0, 2, 3).reshape(weight.shape[0], -1)  # (C_in, N H W)
    grad_x = (weight.reshape(weight.shape[0], -1) @ cols).reshape(weight.shape[0], x.shape[0], *x.shape[2:])
    grad_x = grad_x.transpose(1, 0, 2, 3)
    grad_weight = (x_matrix @ cols.T).reshape(weight.shape)
    return grad_x, grad_weight, grad_output.sum(axis=(0, 2, 3))


# ------------------------------------------------------------------ grouped convolution
# With groups = G the channels split into G independent convolutions: group g sees input channels
# [g C/G, (g+1) C/G) and makes output channels [g C_out/G, (g+1) C_out/G); the weight is (C_out, C/G, kH, kW).
# groups = C (one input channel per group) is the depthwise convolution of MobileNet.


def _split_groups(x: np.ndarray, weight: np.ndarray, groups: int):
    """The input split along channels and the weight along output channels, one piece per group."""
    c, (c_out, c_per_group) = x.shape[1], weight.shape[:2]
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 or c_out % groups:
        raise ValueError(f"conv2d: groups={groups!r} must be a positive integer that divides C_out = {c_out} "
                         f"(weight shape {tuple(weight.shape)}).")
    if c != c_per_group * groups:
        raise ValueError(
            f"conv2d: the input has {c} channels (shape {tuple(x.shape)}) but the weight {tuple(weight.shape)} = "
            f"(C_out, C / groups, kH, kW) with groups={groups} expects C = {c_per_group} * {groups} = {c_per_group * groups}."
        )
    return np.split(x, groups, axis=1), np.split(weight, groups, axis=0)


def _conv2d_groups(x, weight, bias, stride, padding, dilation, groups, return_cols):
    """conv2d of each group's channels with its filters, the outputs stacked along channels."""
    xs, weights = _split_groups(x, weight, groups)
    biases = [None] * groups if bias is None else np.split(bias, groups)
    parts = [conv2d(xg, wg, bg, stride, padding, dilation, return_cols=True) for xg, wg, bg in zip(xs, weights, biases)]
    y = np.concatenate([y_g for y_g, _ in parts], axis=1)
    return (y, [cols_g for _, cols_g in parts]) if return_cols else y


def _conv2d_groups_backward(grad_output, x, weight, stride, padding, dilation, groups, cols):
    """conv2d_backward of each group; dx stacks along input channels, dW and db along output channels."""
    xs, weights = _split_groups(x, weight, groups)
    cols = [None] * groups if cols is None else cols
    grads = [conv2d_backward(dy, xg, wg, stride, padding, dilation, cols=cols_g)
             for dy, xg, wg, cols_g in zip(np.split(grad_output, groups, axis=1), xs, weights, cols)]
    grad_x, grad_w, grad_b = zip(*grads)
    return np.concatenate(grad_x, axis=1), np.concatenate(grad_w), np.concatenate(grad_b)
