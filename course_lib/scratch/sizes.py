"""The one output-size formula of convolution and pooling, along one axis (plain integers, no checks).

    O = floor((W + 2P - D(F - 1) - 1) / S) + 1        (ceil instead of floor with ceil_mode)

W input size, F kernel size, S stride, P padding, D dilation; D(F - 1) + 1 is the dilated kernel's span.
The transposed convolution runs it backwards:  O = (W - 1) S - 2P + D(F - 1) + output_padding + 1.
These refuse impossible geometry (a kernel of 0, a stride of 0, a window larger than the padded input);
the checks that explain a size that is not whole (14.5 is not an integer, ...) live in
``course_lib.conv_arithmetic``.
"""
from __future__ import annotations

from numbers import Integral


def _check_at_least(minimum: int, where: str, **values: int) -> None:
    """Each named value an integer >= minimum (sizes and steps count pixels)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise ValueError(f"{where}: {name} must be {kind}, got {name}={value!r}.")


def kernel_span(kernel_size: int, dilation: int = 1) -> int:
    """How many input pixels a dilated kernel covers: D(F - 1) + 1 (3 with D=2 covers 5)."""
    _check_at_least(1, "kernel_span", kernel_size=kernel_size, dilation=dilation)
    return dilation * (kernel_size - 1) + 1


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                ceil_mode: bool = False) -> int:
    """O = floor((W + 2P - D(F - 1) - 1) / S) + 1, or with ceil (PyTorch's ceil_mode for pooling).

    With ceil_mode, as in torch, the last window must start inside the input or the left padding.
    """
    _check_at_least(1, "output_size", size=size, stride=stride)
    _check_at_least(0, "output_size", padding=padding)
    span = size + 2 * padding - kernel_span(kernel_size, dilation)
    if span < 0 and not ceil_mode:  # ceil_mode's windows may hang over the edge (conv_arithmetic explains)
        raise ValueError(
            f"output_size: the kernel spans D(F - 1) + 1 = {kernel_span(kernel_size, dilation)} pixels but the "
            f"padded input is W + 2P = {size} + 2*{padding} = {size + 2 * padding}: it does not fit even once. "
            f"Use a smaller kernel or more padding."
        )
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def transposed_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                           output_padding: int = 0, dilation: int = 1) -> int:
    """O = (W - 1) S - 2P + D(F - 1) + output_padding + 1: the size a convolution would shrink back to W."""
    _check_at_least(1, "transposed_output_size", size=size, stride=stride)
    _check_at_least(0, "transposed_output_size", padding=padding, output_padding=output_padding)
    return (size - 1) * stride - 2 * padding + kernel_span(kernel_size, dilation) + output_padding
