"""Weight initialisation with ``torch.nn.init``'s names, filling a scratch Parameter (or an ndarray) in place.

    scratch.init.kaiming_normal_(layer.weight, nonlinearity="relu")     # He: std = sqrt(2 / fan_in)
    scratch.init.xavier_uniform_(layer.weight)                          # Glorot: std = sqrt(2 / (fan_in + fan_out))
    scratch.init.zeros_(layer.bias)
    scratch.init.fan_in_uniform_(layer.weight, layer.bias)             # torch's default for Linear and Conv

Why the scale matters: a layer sums fan_in products w * x, so Var(output) = fan_in * Var(w) * Var(x).
Choosing Var(w) = gain^2 / fan_in keeps the activations' variance from growing or shrinking layer
after layer; the gain makes up for what the nonlinearity removes (ReLU zeroes half: gain = sqrt(2)).
A uniform U(-a, a) has std a / sqrt(3), so the uniform versions use a = sqrt(3) * std.

Every function draws from the scratch generator (``scratch.manual_seed``) unless given a
``generator`` (a ``np.random.Generator``), and returns its argument, as torch's do.
"""
from __future__ import annotations

import math

import numpy as np

from .module import Parameter
from .random import generator as _default_generator

_LINEAR_NAMES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
NONLINEARITIES = _LINEAR_NAMES + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")


def _array(tensor, where: str) -> np.ndarray:
    """The floating-point array behind ``tensor`` (a Parameter's ``.data``, or the ndarray itself)."""
    arr = tensor.data if isinstance(tensor, Parameter) else tensor
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"init.{where} fills a scratch Parameter or a NumPy array in place, got a {type(tensor).__name__}. "
            f"(For a torch tensor use torch.nn.init.{where}.)"
        )
    if arr.dtype.kind != "f":
        raise TypeError(f"init.{where} needs a floating-point array to fill, got dtype {arr.dtype}.")
    return arr


def _fill(tensor, values, where: str):
    _array(tensor, where)[...] = values
    return tensor


def _rng(gen: np.random.Generator | None) -> np.random.Generator:
    return _default_generator() if gen is None else gen


# ---------------------------------------------------------------- plain fills
def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None):
    """Fill with U(a, b): std = (b - a) / sqrt(12)."""
    arr = _array(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"init.uniform_: the range [a, b) needs a <= b, got a={a}, b={b}. "
                         f"For a symmetric range use uniform_(w, -bound, bound).")
    return _fill(tensor, _rng(generator).uniform(a, b, arr.shape), "uniform_")


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None):
    """Fill with N(mean, std^2)."""
    arr = _array(tensor, "normal_")
    if not std >= 0:
        raise ValueError(f"init.normal_: std must be >= 0 (it is a spread, sqrt of the variance), got std={std}.")
    return _fill(tensor, _rng(generator).normal(mean, std, arr.shape), "normal_")


def constant_(tensor, val: float):
    """Fill with the value ``val``."""
    return _fill(tensor, val, "constant_")


def zeros_(tensor):
    """Fill with 0 (the usual start for biases)."""
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor):
    """Fill with 1 (e.g. BatchNorm's weight)."""
    return _fill(tensor, 1.0, "ones_")


# ---------------------------------------------------------------- fans and gains
def fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight, as torch's ``_calculate_fan_in_and_fan_out``:

        Linear weight (out, in):              fan_in = in,             fan_out = out
        Conv2d weight (out, in, kH, kW):      fan_in = in * kH * kW,   fan_out = out * kH * kW
    """
    shape = _array(tensor, "fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError(
            f"fan_in and fan_out need a weight with at least 2 dimensions, (out, in) or (out, in, kH, kW); "
            f"got shape {shape}. A bias has no fan-in: initialise it with zeros_ or uniform_."
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _nonzero_fans(tensor, where: str) -> tuple[int, int]:
    """fan_in and fan_out, refusing a weight with no entries (its std would divide by a zero fan)."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if fan_in == 0 or fan_out == 0:
        raise ValueError(f"init.{where}: the weight of shape {_array(tensor, where).shape} has no entries "
                         f"(fan_in = {fan_in}, fan_out = {fan_out}); a layer needs at least one input and output.")
    return fan_in, fan_out


_calculate_fan_in_and_fan_out = fan_in_and_fan_out  # torch's (private) name, for code copied from torch


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady through ``nonlinearity``, as torch's:

        linear, conv*, sigmoid: 1      tanh: 5/3      relu: sqrt(2)      selu: 3/4
        leaky_relu: sqrt(2 / (1 + negative_slope^2)), negative_slope = param (default 0.01)
    """
    if nonlinearity in _LINEAR_NAMES or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            param = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"calculate_gain('leaky_relu', param): param is the negative slope, a number; got {param!r}.")
        return math.sqrt(2.0 / (1 + param ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}. Known: {', '.join(NONLINEARITIES)}. "
        "(Names are torch.nn.functional's, in lower case: 'relu', not 'ReLU'.)"
    )


def _fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(
            f"mode must be 'fan_in' (keep the forward activations' variance) or 'fan_out' "
            f"(keep the backward gradients' variance), got {mode!r}."
        )
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ---------------------------------------------------------------- Xavier / Glorot (2010)
def xavier_uniform_(tensor, gain: float = 1.0, generator: np.random.Generator | None = None):
    """Fill with U(-a, a), a = sqrt(3) * std,  std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _nonzero_fans(tensor, "xavier_uniform_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator: np.random.Generator | None = None):
    """Fill with N(0, std^2),  std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _nonzero_fans(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


# ---------------------------------------------------------------- Kaiming / He (2015)
def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None):
    """Fill with U(-bound, bound), bound = sqrt(3) * std,  std = gain / sqrt(fan_mode).

    gain = calculate_gain(nonlinearity, a): with the defaults (leaky_relu, a=0) that is sqrt(2), ReLU's gain.
    """
    if _array(tensor, "kaiming_uniform_").size == 0:
        return tensor  # nothing to fill (torch warns and does nothing too)
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator)


def fan_in_uniform_(weight, bias=None, generator: np.random.Generator | None = None):
    """torch's default for Linear and Conv layers: weight, then bias, from U(-b, b) with b = 1/sqrt(fan_in).

    torch writes the weight's draw as kaiming_uniform_(weight, a=sqrt(5)): gain = sqrt(2 / (1 + 5)), so
    b = sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(fan_in), and it draws the bias from the same U. The closed
    form is used because in floating point sqrt(5)^2 = 5.000000000000001, which would move weights by an ulp.
    Returns the weight.
    """
    fan_in, _ = fan_in_and_fan_out(weight)
    bound = 1.0 / math.sqrt(fan_in)
    uniform_(weight, -bound, bound, generator)
    if bias is not None:
        uniform_(bias, -bound, bound, generator)
    return weight


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None):
    """Fill with N(0, std^2),  std = gain / sqrt(fan_mode)  (ReLU: std = sqrt(2 / fan_in))."""
    if _array(tensor, "kaiming_normal_").size == 0:
        return tensor  # nothing to fill (torch warns and does nothing too)
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)
