"""Exercises of notebook 05: convolution arithmetic.

The references are the course's own answers: ``conv_arithmetic`` for sizes and counts, ``scratch.functional``
for the convolution (its loop version, ``conv2d_loops`` and ``conv2d_loops_backward``, whose source the
notebook shows only after these exercises). ``make_inputs`` draws sizes for which the lecture's formula is
often *not* whole, so an answer that forgets torch's floor is caught, and every exercise declares the common
mistakes its inputs tell apart (tests/test_exercises.py proves each is rejected).
"""
from __future__ import annotations

import numpy as np

from .. import conv_arithmetic as ca
from ..scratch import functional as sf
from .checking import Exercise


def _output_size_reference(W: int, F_: int, P: int, S: int) -> int:
    return ca.conv_output_size(W, F_, S, P, floor=True)


def _output_size_inputs(rng: np.random.Generator) -> tuple:
    """(W, F, P, S) with F <= W + 2P, stride S in 2..3 that never divides W - F + 2P (torch floors), and
    padding P >= S, so that counting the padding once, forgetting it, rounding up or not rounding at all
    each give another number than the right answer."""
    S = int(rng.integers(2, 4))
    F_, P = int(rng.integers(1, 8)), int(rng.integers(S, 4))
    W = int(rng.integers(max(1, F_ - 2 * P), 65))
    while (W - F_ + 2 * P) % S == 0:
        W += 1
    return W, F_, P, S


def _conv2d_reference(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return sf.conv2d(image[None, None], kernel[None, None])[0, 0]


def _conv2d_inputs(rng: np.random.Generator) -> tuple:
    kh, kw = int(rng.integers(2, 6)), int(rng.integers(2, 6))     # not always square, not symmetric
    h, w = int(rng.integers(kh + 1, 16)), int(rng.integers(kw + 1, 16))
    return rng.normal(size=(h, w)), rng.normal(size=(kh, kw))


def _valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return _conv2d_reference(image, np.ascontiguousarray(kernel))


SINGLE_CHANNEL_MISTAKES = {
    "kernel flipped (true convolution, not cross-correlation)": lambda image, k: _valid(image, k[::-1, ::-1]),
    "kernel transposed (kH and kW swapped)": lambda image, k: _valid(image, k.T),
    "zero-padded to the image's size ('same', not 'valid')": lambda image, k: sf.conv2d(
        image[None, None], k[None, None], padding=(k.shape[0] // 2, k.shape[1] // 2))[0, 0],
}


# ---------------------------------------------------------------- the multi-channel strided convolution


def _conv_inputs(rng: np.random.Generator) -> tuple:
    """x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,), stride, padding: N in 2..3, C_in and
    C_out in 1..3 (not equal), non-square kernels and inputs, stride 1 or 2, padding 0..2."""
    c_in, c_out = (int(c) for c in rng.choice(np.arange(1, 4), size=2, replace=False))
    kh, kw = int(rng.integers(1, 5)), int(rng.integers(2, 5))
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 3))
    h, w = int(rng.integers(kh + 2, 10)), int(rng.integers(kw + 3, 11))
    n = int(rng.integers(2, 4))
    return (rng.standard_normal((n, c_in, h, w)), rng.standard_normal((c_out, c_in, kh, kw)),
            rng.standard_normal(c_out), stride, padding)


def _conv2d_forward_reference(x, weight, bias, stride, padding):
    return sf.conv2d_loops(x, weight, bias, stride, padding)


def _windows_at_unit_steps(x, weight, bias, stride, padding):
    """The mistake of reading window (i, j) at x_pad[i + u, j + v] instead of x_pad[S i + u, S j + v]."""
    full = sf.conv2d(x, weight, bias, 1, padding)
    out = sf.conv2d(x, weight, bias, stride, padding)
    return full[:, :, :out.shape[2], :out.shape[3]]


CONV2D_FORWARD_MISTAKES = {
    "kernel flipped (true convolution, not cross-correlation)":
        lambda x, w, b, s, p: sf.conv2d(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, s, p),
    "bias forgotten": lambda x, w, b, s, p: sf.conv2d(x, w, None, s, p),
    "bias added once per input channel": lambda x, w, b, s, p: sf.conv2d(x, w, w.shape[1] * b, s, p),
    "padding forgotten": lambda x, w, b, s, p: sf.conv2d(x, w, b, s, 0),
    "stride ignored": lambda x, w, b, s, p: sf.conv2d(x, w, b, 1, p),
    "windows moved by 1, not by the stride (only the output size uses S)": _windows_at_unit_steps,
}


def _backward_inputs(rng: np.random.Generator) -> tuple:
    """(dy, x, weight, stride, padding) with dy of the forward output's shape (see _conv_inputs)."""
    x, weight, _, stride, padding = _conv_inputs(rng)
    out_h = ca.conv_output_size(x.shape[2], weight.shape[2], stride, padding, floor=True)
    out_w = ca.conv_output_size(x.shape[3], weight.shape[3], stride, padding, floor=True)
    return rng.standard_normal((x.shape[0], weight.shape[0], out_h, out_w)), x, weight, stride, padding


def _conv2d_backward_reference(dy, x, weight, stride, padding):
    return sf.conv2d_loops_backward(dy, x, weight, stride, padding)


def _scatter_without_stride(dy, x, weight, stride, padding):
    """The mistake of sending dy[n, o, i, j] to x_pad[i + u, j + v] instead of x_pad[S i + u, S j + v]."""
    grad_x_pad = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding))
    kh, kw = weight.shape[2:]
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            grad_x_pad[:, :, i:i + kh, j:j + kw] += np.einsum("no,ocuv->ncuv", dy[:, :, i, j], weight)
    grad_x = grad_x_pad[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    return (grad_x, *_conv2d_backward_reference(dy, x, weight, stride, padding)[1:])


def _with_part(index: int, make):
    """A mistake that gets one of (grad_input, grad_weight, grad_bias) wrong and the other two right."""
    def answer(dy, x, weight, stride, padding):
        parts = list(_conv2d_backward_reference(dy, x, weight, stride, padding))
        parts[index] = make(dy, x, weight, stride, padding)
        return tuple(parts)
    return answer


def _input_gradient_with_flipped_kernel(dy, x, weight, stride, padding):
    return _conv2d_backward_reference(dy, x, np.ascontiguousarray(weight[:, :, ::-1, ::-1]), stride, padding)[0]


def _gradient_of_x_pad(dy, x, weight, stride, padding):
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return sf.conv2d_loops_backward(dy, x_pad, weight, stride, 0)[0]


CONV2D_BACKWARD_MISTAKES = {
    "kernel flipped when sending the gradient to the input": _with_part(0, _input_gradient_with_flipped_kernel),
    "stride ignored in the backward pass (dy[i, j] sent to x_pad[i + u, j + v])": _scatter_without_stride,
    "padding not cropped off grad_input (the gradient of x_pad)": _with_part(0, _gradient_of_x_pad),
    "grad_weight from the first image only (not summed over the batch)": _with_part(
        1, lambda dy, x, w, s, p: sf.conv2d_loops_backward(dy[:1], x[:1], w, s, p)[1]),
    "grad_bias not summed over the batch (first image only)": _with_part(
        2, lambda dy, x, w, s, p: dy[0].sum(axis=(1, 2))),
    "grad_bias averaged over the positions, not summed": _with_part(
        2, lambda dy, x, w, s, p: dy.sum(axis=0).mean(axis=(1, 2))),
}


def _kernel_hw(kernel_size) -> tuple[int, int]:
    return (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)


def _params_reference(in_channels: int, out_channels: int, kernel_size, bias: bool) -> int:
    return ca.conv_params(in_channels, out_channels, kernel_size, bias=bias)


def _params_inputs(rng: np.random.Generator) -> tuple:
    """Channels in != out (so a bias per input channel is caught); an int kernel or a non-square (kH, kW)
    tuple; bias True or False."""
    c_in, c_out = int(rng.integers(1, 257)), int(rng.integers(1, 513))
    if c_in == c_out:
        c_out += 1
    kernel = int(rng.choice([1, 3, 5, 7, 11]))
    if rng.random() < 0.5:
        kernel = (kernel, int(rng.choice([k for k in (1, 2, 3, 5, 7) if k != kernel])))
    return c_in, c_out, kernel, bool(rng.random() < 0.5)


def _area(kernel_size) -> int:
    kh, kw = _kernel_hw(kernel_size)
    return kh * kw


PARAMS_MISTAKES = {
    "bias forgotten": lambda i, o, k, bias: o * i * _area(k),
    "one bias per input channel, not one per filter": lambda i, o, k, bias: o * i * _area(k) + (i if bias else 0),
    "input channels left out (a filter is kH x kW, not C_in x kH x kW)":
        lambda i, o, k, bias: o * _area(k) + (o if bias else 0),
    "a (kH, kW) kernel counted as kH x kH": lambda i, o, k, bias: _params_reference(i, o, _kernel_hw(k)[0], bias),
}


def _receptive_field_reference(kernel_sizes: tuple, strides: tuple) -> int:
    return ca.receptive_field(list(zip(kernel_sizes, strides)))[-1].size


def _receptive_field_inputs(rng: np.random.Generator) -> tuple:
    """1 to 5 layers (one layer is the boundary: its kernel size is the answer); a stride > 1 before the last
    layer in every stack of two or more, so that ignoring the strides is caught."""
    n = int(rng.integers(1, 6))
    kernels = tuple(int(k) for k in rng.choice([1, 2, 3, 5, 7], n))
    strides = [int(s) for s in rng.choice([1, 2, 2, 3], n)]
    if n > 1 and max(strides[:-1]) == 1:
        strides[0] = 2
    return kernels, tuple(strides)


def _receptive_field_with(kernel_sizes, strides, step) -> int:
    size, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        size, jump = step(size, jump, k, s)
    return size


RECEPTIVE_FIELD_MISTAKES = {
    "strides ignored (every layer adds F - 1)": lambda ks, ss: 1 + sum(k - 1 for k in ks),
    "a layer's own stride used in its step (j updated before r)": lambda ks, ss: _receptive_field_with(
        ks, ss, lambda r, j, k, s: (r + (k - 1) * j * s, j * s)),
    "F added instead of F - 1": lambda ks, ss: _receptive_field_with(ks, ss, lambda r, j, k, s: (r + k * j, j * s)),
    "the jump returned, not the size": lambda ks, ss: int(np.prod(ss)),
}


EXERCISES: list[Exercise] = [
    Exercise(
        key="05.output_size",
        task="Write output_size(W, F, P, S): the number of outputs of a convolution along one axis, for an input "
             "of W pixels, an F-pixel kernel, P zeros of padding on each side and stride S. Return torch's "
             "answer, a whole number, also when (W - F + 2P)/S + 1 is not whole.",
        hint="O = (W - F + 2P)/S + 1, but torch.nn.Conv2d drops a last window that would not fit, so it rounds "
             "DOWN: use integer division, (W - F + 2 * P) // S + 1.",
        reference=_output_size_reference,
        make_inputs=_output_size_inputs,
        trials=6,
        mistakes={"padding counted once, (W - F + P)//S + 1": lambda W, F_, P, S: (W - F_ + P) // S + 1,
                  "padding forgotten, (W - F)//S + 1": lambda W, F_, P, S: (W - F_) // S + 1,
                  "rounded up": lambda W, F_, P, S: -(-(W - F_ + 2 * P) // S) + 1,
                  "not rounded, (W - F + 2P)/S + 1": lambda W, F_, P, S: (W - F_ + 2 * P) / S + 1},
    ),
    Exercise(
        key="05.conv2d_single_channel",
        task="Write conv2d_single(image, kernel): the 'valid' 2-D convolution of deep learning (cross-correlation) "
             "of an image (H, W) with a kernel (kH, kW), no padding, stride 1. Return shape (H - kH + 1, W - kW + 1).",
        hint="out[i, j] = sum over u, v of image[i + u, j + v] * kernel[u, v]: two loops over the output "
             "positions and a sum of an elementwise product of the window image[i:i+kH, j:j+kW] with the kernel. "
             "Do NOT flip the kernel: flipping gives the mathematicians' convolution, not torch's conv2d.",
        reference=_conv2d_reference,
        make_inputs=_conv2d_inputs,
        mistakes=SINGLE_CHANNEL_MISTAKES,
    ),
    Exercise(
        key="05.conv2d_forward",
        task="Write conv2d_forward(x, weight, bias, stride, padding): the convolution of deep learning (a "
             "cross-correlation) of a batch x (N, C_in, H, W) with weight (C_out, C_in, kH, kW) and bias (C_out,), "
             "the same integer stride and padding (zeros on every side) along both axes. Return (N, C_out, H_out, "
             "W_out) with H_out = (H + 2*padding - kH) // stride + 1 (floored, as torch), the same for W_out.",
        hint="Pad first: x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))). Output "
             "(i, j) reads the window x_pad[:, :, S*i : S*i + kH, S*j : S*j + kW] (all input channels); filter o gives "
             "y[:, o, i, j] = sum over c, u, v of window * weight[o] + bias[o]. Loops over i and j (and o) are fine; "
             "np.tensordot(window, weight, axes=([1, 2, 3], [1, 2, 3])) does o and the sum at once. No kernel flip.",
        reference=_conv2d_forward_reference,
        make_inputs=_conv_inputs,
        trials=4,
        mistakes=CONV2D_FORWARD_MISTAKES,
    ),
    Exercise(
        key="05.conv2d_backward",
        task="Write conv2d_backward(dy, x, weight, stride, padding): the gradients of conv2d_forward, given "
             "dy = dL/dy (N, C_out, H_out, W_out) and the forward pass's x and weight. Return the tuple "
             "(grad_input (N, C_in, H, W), grad_weight (C_out, C_in, kH, kW), grad_bias (C_out,)).",
        hint="Every output y[n, o, i, j] = b[o] + sum w[o, c, u, v] * x_pad[n, c, S*i + u, S*j + v]. Go through the "
             "outputs as in the forward pass; each one sends dy[n, o, i, j] * window to grad_weight[o], and "
             "dy[n, o, i, j] * weight[o] back to the same window of grad_x_pad (+=: overlapping windows add up). "
             "grad_bias[o] sums dy[:, o] over the batch and all positions. Finally crop the padding off grad_x_pad.",
        reference=_conv2d_backward_reference, parts=("grad_input", "grad_weight", "grad_bias"),
        make_inputs=_backward_inputs,
        trials=4,
        mistakes=CONV2D_BACKWARD_MISTAKES,
    ),
    Exercise(
        key="05.params",
        task="Write conv_param_count(in_channels, out_channels, kernel_size, bias): the number of learnable "
             "numbers in torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias). As in torch, "
             "kernel_size is an int (a square kernel) or a tuple (kH, kW); bias is True or False.",
        hint="Each of the out_channels filters has in_channels * kH * kW weights (kH = kW = kernel_size for an int), "
             "plus one bias per filter when bias is True. The image size does not appear: that is weight sharing.",
        reference=_params_reference,
        make_inputs=_params_inputs,
        trials=8,
        mistakes=PARAMS_MISTAKES,
    ),
    Exercise(
        key="05.receptive_field",
        task="Write receptive_field_size(kernel_sizes, strides): how many input pixels (along one axis) one output "
             "unit of a stack of convolution/pooling layers sees, as an int. kernel_sizes and strides are tuples "
             "of ints of the same length (1 or more), one entry per layer, first layer first; no dilation.",
        hint="Start with r = 1 and jump j = 1. For each layer: r += (F - 1) * j, then j *= S (the stride of "
             "that layer). Three 3x3 stride-1 layers give 1 + 2 + 2 + 2 = 7. Padding does not matter.",
        reference=_receptive_field_reference,
        make_inputs=_receptive_field_inputs,
        trials=5,
        mistakes=RECEPTIVE_FIELD_MISTAKES,
    ),
]
