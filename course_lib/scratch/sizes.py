"""The one output-size formula of convolution and pooling, along one axis (plain integers, no checks).

    O = floor((W + 2P - D(F - 1) - 1) / S) + 1        (ceil instead of floor with ceil_mode)

W input size, F kernel size, S stride, P padding, D dilation; D(F - 1) + 1 is the dilated kernel's span.
The transposed convolution runs it backwards:  O = (W - 1) S - 2P + D(F - 1) + output_padding + 1.
The checks that explain a bad size (14.5 is not an integer, ...) live in ``course_lib.conv_arithmetic``.
"""
from __future__ import annotations


def kernel_span(kernel_size: int, dilation: int = 1) -> int:
    """How many input pixels a dilated kernel covers: D(F - 1) + 1 (3 with D=2 covers 5)."""
    return dilation * (kernel_size - 1) + 1


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                ceil_mode: bool = False) -> int:
    """O = floor((W + 2P - D(F - 1) - 1) / S) + 1, or with ceil (PyTorch's ceil_mode for pooling).

    With ceil_mode, as in torch, the last window must start inside the input or the left padding.
    """
    span = size + 2 * padding - kernel_span(kernel_size, dilation)
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def transposed_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                           output_padding: int = 0, dilation: int = 1) -> int:
    """O = (W - 1) S - 2P + D(F - 1) + output_padding + 1: the size a convolution would shrink back to W."""
    return (size - 1) * stride - 2 * padding + kernel_span(kernel_size, dilation) + output_padding
