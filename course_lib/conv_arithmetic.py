"""Convolution arithmetic: output sizes, receptive fields, parameter and multiply-add counts.

    conv_output_size(227, 11, stride=4)              # 55 = (227 - 11 + 2*0)/4 + 1
    conv_output_size(224, 11, 4, 2, floor=True)      # 55, torch's floor of 55.25
    pool_output_size(55, 3, stride=2)                # 27 = (55 - 3)/2 + 1
    conv_transpose_output_size(7, 4, 2, 1)           # 14
    receptive_field([(3, 1, 1)] * 3)[-1].size        # 7: three 3x3 convs see 7x7
    conv_params(3, 96, 11)                           # 34,944 (AlexNet conv1)

Every formula is torch's own (the tests compare with ``torch.nn.Conv2d``, ``MaxPool2d``, ``AvgPool2d``
and ``ConvTranspose2d`` over a grid of sizes). Symbols: W input size, F kernel size, P zero padding on
each side, S stride, D dilation. One function works on one axis (an ``int``); the ``*_shape`` partners
take ``(height, width)`` pairs, or ints meaning the same value for both, like torch's arguments.
The sizes themselves come from the one formula in ``course_lib.scratch.sizes`` (the same code the
scratch layers use); this module adds the checks and the messages that teach. The layer-by-layer table
of a whole model (``shape_table``) is in ``course_lib.summary``. No torch import.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Iterator, NamedTuple, Optional, Union

from .scratch.sizes import kernel_span, output_size, transposed_output_size

IntOrPair = Union[int, tuple[int, int]]

_MEANING = {
    "size": "it is the input's height or width in pixels, so it must be at least 1",
    "kernel_size": "it is the width of the window that slides over the input, so it must be at least 1",
    "stride": "it is how many pixels the window moves between two outputs, so it must be at least 1 "
              "(a stride of 0 would never move)",
    "dilation": "it is the spacing between kernel taps (1 = an ordinary kernel, 2 = one pixel skipped "
                "between taps), so it must be at least 1",
    "padding": "it is the number of zeros added on each side, so it must be at least 0 "
               "(to crop an image, slice it instead)",
    "output_padding": "it is the number of extra rows added on one side of the output, so it must be at least 0",
}
_MINIMUM = {"size": 1, "kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}


# ---------------------------------------------------------------- argument checks


def _whole(where: str, name: str, value: Any, pair_function: str) -> int:
    """Return ``value`` as an int, or raise an error that says which argument is wrong and why."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = ""
        if isinstance(value, (tuple, list)):
            hint = f" For a (height, width) pair use {pair_function}()."
        raise TypeError(f"{where}: {name} must be a whole number, got {value!r}.{hint}")
    value = int(value)
    if value < _MINIMUM[name]:
        raise ValueError(f"{where}: {name}={value} is not allowed: {_MEANING[name]}.")
    return value


def _pair(where: str, name: str, value: Any) -> tuple[Any, Any]:
    """Expand an int to (value, value); check that a sequence has exactly two entries."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{where}: {name} must be an int or a (height, width) pair, got {value!r}.")
        return value[0], value[1]
    return value, value


def _number(x: float) -> str:
    """14.5 -> '14.5', 55.75 -> '55.75', 43/3 -> '14.3333...'."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text if math.isclose(float(text), x, rel_tol=0, abs_tol=1e-12) else text + "..."


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: F_eff = D(F - 1) + 1.   3x3 with D=2 spans 5, with D=4 spans 9."""
    where = "effective_kernel_size"
    kernel_size = _whole(where, "kernel_size", kernel_size, "effective_kernel_size")
    dilation = _whole(where, "dilation", dilation, "effective_kernel_size")
    return kernel_span(kernel_size, dilation)


def exact_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> float:
    """O = (W - F_eff + 2P)/S + 1 before torch rounds it: (32 - 5 + 2*0)/2 + 1 = 14.5 (no checks).

    It equals ``conv_output_size(..., floor=True)`` exactly when S divides W - F_eff + 2P.
    """
    return (size + 2 * padding - kernel_span(kernel_size, dilation)) / stride + 1


def _formula(kernel_size: int, dilation: int) -> str:
    """The formula being applied, with the effective kernel worked out when the kernel is dilated."""
    if dilation == 1:
        return "O = (W - F + 2P)/S + 1"
    k_eff = kernel_span(kernel_size, dilation)
    return (f"O = (W - F_eff + 2P)/S + 1 with the dilated kernel's span "
            f"F_eff = D(F - 1) + 1 = {dilation}*({kernel_size} - 1) + 1 = {k_eff}")


def _not_whole(size: int, kernel_size: int, stride: int, padding: int, dilation: int, layer: str) -> str:
    """'(32 - 5 + 2*0)/2 + 1 = 14.5 is not an integer; torch.nn.Conv2d floors it to 14 (...)'."""
    k_eff = kernel_span(kernel_size, dilation)
    floored = output_size(size, kernel_size, stride, padding, dilation)
    unvisited = (size + 2 * padding - k_eff) % stride
    exact = exact_output_size(size, kernel_size, stride, padding, dilation)
    return (f"{_formula(kernel_size, dilation)}: ({size} - {k_eff} + 2*{padding})/{stride} + 1 = "
            f"{_number(exact)} is not an integer; {layer} floors it to {floored} "
            f"(the last {unvisited} column(s) of the padded input are never visited)")


def _kernel_fits(where: str, size: int, kernel_size: int, padding: int, dilation: int) -> int:
    """Return W + 2P - F_eff, raising if the (dilated) kernel does not fit once in the padded input."""
    k_eff = kernel_span(kernel_size, dilation)
    padded = size + 2 * padding
    if k_eff > padded:
        span = f"kernel_size={kernel_size}" if dilation == 1 else (
            f"the dilated kernel (span D(F - 1) + 1 = {dilation}*({kernel_size} - 1) + 1 = {k_eff})")
        raise ValueError(
            f"{where}: {span} is larger than the padded input W + 2P = {size} + 2*{padding} = {padded}, "
            f"so the window does not fit even once (torch raises too). Use a smaller kernel or more padding."
        )
    return padded - k_eff


# ---------------------------------------------------------------- convolution


def _conv_out(where: str, size, kernel_size, stride, padding, dilation, floor: bool, pair_function: str) -> int:
    size = _whole(where, "size", size, pair_function)
    kernel_size = _whole(where, "kernel_size", kernel_size, pair_function)
    stride = _whole(where, "stride", stride, pair_function)
    dilation = _whole(where, "dilation", dilation, pair_function)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if stride != 1:
                raise ValueError(
                    f"{where}: padding='same' needs stride=1 (got stride={stride}): a strided convolution "
                    f"cannot keep the size. torch.nn.Conv2d refuses it too; give the padding as a number."
                )
            return size    # torch pads D(F - 1) zeros in total, split between the two sides
        else:
            raise ValueError(f"{where}: padding must be a number, 'valid' or 'same', got {padding!r}.")
    padding = _whole(where, "padding", padding, pair_function)
    span = _kernel_fits(where, size, kernel_size, padding, dilation)
    if span % stride and not floor:
        raise ValueError(
            f"{where}: {_not_whole(size, kernel_size, stride, padding, dilation, 'torch.nn.Conv2d')}. "
            f"Choose padding and stride so that S divides W - F + 2P, or pass floor=True to get torch's answer."
        )
    return output_size(size, kernel_size, stride, padding, dilation)


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int | str = 0,
                     dilation: int = 1, *, floor: bool = False) -> int:
    """Output size of a convolution along one axis:  O = (W - D(F - 1) - 1 + 2P)/S + 1.

    With dilation D = 1 this is the lecture's O = (W - F + 2P)/S + 1. ``padding`` may also be
    ``'valid'`` (0) or ``'same'`` (stride 1 only; O = W), as in torch.nn.Conv2d.

    When S does not divide W - F_eff + 2P the result is not whole and this raises ValueError showing the
    arithmetic and what torch does; ``floor=True`` returns torch's floored answer instead:

        conv_output_size(227, 11, stride=4)                  -> 55
        conv_output_size(32, 5, stride=2)                    -> ValueError: ... (32 - 5 + 2*0)/2 + 1 = 14.5
                                                   is not an integer; torch.nn.Conv2d floors it to 14 ...
        conv_output_size(32, 5, stride=2, floor=True)        -> 14
    """
    return _conv_out("conv_output_size", size, kernel_size, stride, padding, dilation, floor, "conv_output_shape")


def conv_output_shape(hw: IntOrPair, kernel_size: IntOrPair, stride: IntOrPair = 1,
                      padding: IntOrPair | str = 0, dilation: IntOrPair = 1, *,
                      floor: bool = False) -> tuple[int, int]:
    """(H_out, W_out) of torch.nn.Conv2d for an input of spatial size ``hw``; see ``conv_output_size``.

    Every argument is an int (same for both axes) or a (height, width) pair, as torch accepts them:
        conv_output_shape((224, 224), 11, 4, 2, floor=True) -> (55, 55)
        conv_output_shape(28, (3, 5), padding=(1, 2))       -> (28, 28)
    """
    where = "conv_output_shape"
    pads = (padding, padding) if isinstance(padding, str) else _pair(where, "padding", padding)
    args = [_pair(where, n, v) for n, v in
            (("hw", hw), ("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation))]
    return tuple(  # type: ignore[return-value]
        _conv_out(f"{where} ({axis})", args[0][i], args[1][i], args[2][i], pads[i], args[3][i], floor, where)
        for i, axis in enumerate(("height", "width"))
    )


# ---------------------------------------------------------------- pooling


def _pool_out(where: str, size, kernel_size, stride, padding, dilation, ceil_mode: bool, floor: bool,
              pair_function: str) -> int:
    size = _whole(where, "size", size, pair_function)
    kernel_size = _whole(where, "kernel_size", kernel_size, pair_function)
    stride = kernel_size if stride is None else _whole(where, "stride", stride, pair_function)
    padding = _whole(where, "padding", padding, pair_function)
    dilation = _whole(where, "dilation", dilation, pair_function)
    if padding > kernel_size // 2:
        raise ValueError(
            f"{where}: padding={padding} is more than half of kernel_size={kernel_size}. torch's pooling "
            f"layers require padding <= kernel_size/2 (here at most {kernel_size // 2}), so that every "
            f"window covers real pixels and never just padding."
        )
    if ceil_mode:
        out = output_size(size, kernel_size, stride, padding, dilation, ceil_mode=True)
        if out < 1:
            k_eff = kernel_span(kernel_size, dilation)
            raise ValueError(
                f"{where}: the window (F_eff = {k_eff}) is longer than the padded input W + 2P = {size} + "
                f"2*{padding} = {size + 2 * padding}, by more than the stride - 1 = {stride - 1} column(s) "
                f"that ceil_mode=True lets the last window hang over the edge (torch raises too)."
            )
        return out
    span = _kernel_fits(where, size, kernel_size, padding, dilation)
    out = output_size(size, kernel_size, stride, padding, dilation)
    if span % stride == 0 or floor:
        return out
    ceil_out = output_size(size, kernel_size, stride, padding, dilation, ceil_mode=True)
    if ceil_out == out:     # rounding up added a window that starts in the right padding: torch drops it
        ceil_note = (f"ceil_mode=True would not help: it also gives {ceil_out}, because the extra window "
                     f"would start at position {out * stride} of the padded input, in the right padding, and "
                     f"torch drops it (a window must start inside the input or the left padding)")
    else:
        ceil_note = (f"with ceil_mode=True it rounds up to {ceil_out} (a last, partial window that hangs "
                     f"over the edge)")
    raise ValueError(
        f"{where}: {_not_whole(size, kernel_size, stride, padding, dilation, 'torch.nn.MaxPool2d')}; "
        f"{ceil_note}. Pass floor=True (torch's default) or ceil_mode=True to get a size."
    )


def pool_output_size(size: int, kernel_size: int, stride: Optional[int] = None, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False, *, floor: bool = False) -> int:
    """Output size of max or average pooling along one axis:  O = (W - F + 2P)/S + 1.

    ``stride`` defaults to ``kernel_size`` (torch's rule: windows side by side, no overlap). Without
    padding this is the lecture's O = (W - F)/S + 1, e.g. AlexNet's 3x3/2 max-pool: (55 - 3)/2 + 1 = 27.
    ``dilation`` (MaxPool2d only) widens the window to F_eff = D(F - 1) + 1.

    A result that is not whole raises ValueError (with the arithmetic) unless:
    - ``floor=True``: torch's default, the last incomplete window is dropped;
    - ``ceil_mode=True``: one more, partial window, except that torch drops a last window that would
      start in the right padding (it must start inside the input or the left padding).
    torch also requires padding <= kernel_size/2 for pooling; more raises ValueError.
    """
    return _pool_out("pool_output_size", size, kernel_size, stride, padding, dilation, ceil_mode, floor,
                     "pool_output_shape")


def pool_output_shape(hw: IntOrPair, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None,
                      padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False, *,
                      floor: bool = False) -> tuple[int, int]:
    """(H_out, W_out) of torch.nn.MaxPool2d / AvgPool2d; every argument an int or a pair (see pool_output_size)."""
    where = "pool_output_shape"
    strides = (None, None) if stride is None else _pair(where, "stride", stride)
    kernels = _pair(where, "kernel_size", kernel_size)
    args = [_pair(where, n, v) for n, v in (("hw", hw), ("padding", padding), ("dilation", dilation))]
    return tuple(  # type: ignore[return-value]
        _pool_out(f"{where} ({axis})", args[0][i], kernels[i], strides[i], args[1][i], args[2][i],
                  ceil_mode, floor, where)
        for i, axis in enumerate(("height", "width"))
    )


# ---------------------------------------------------------------- transposed convolution


def _transpose_out(where: str, size, kernel_size, stride, padding, output_padding, dilation,
                   pair_function: str) -> int:
    size = _whole(where, "size", size, pair_function)
    kernel_size = _whole(where, "kernel_size", kernel_size, pair_function)
    stride = _whole(where, "stride", stride, pair_function)
    padding = _whole(where, "padding", padding, pair_function)
    output_padding = _whole(where, "output_padding", output_padding, pair_function)
    dilation = _whole(where, "dilation", dilation, pair_function)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"{where}: output_padding={output_padding} must be smaller than stride={stride} or dilation="
            f"{dilation} (torch's rule). A Conv2d with stride S maps S different input sizes to the same "
            f"output size (it floors), and output_padding only picks which of them the transposed "
            f"convolution gives back, so it is at most S - 1."
        )
    out = transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    if out < 1:
        raise ValueError(
            f"{where}: O = (W - 1)S - 2P + D(F - 1) + output_padding + 1 = ({size} - 1)*{stride} - 2*{padding} "
            f"+ {dilation}*({kernel_size} - 1) + {output_padding} + 1 = {out}: padding={padding} crops 2P = "
            f"{2 * padding} rows off the {out + 2 * padding} that the transposed convolution produces, "
            f"leaving none (torch returns an empty tensor when O = 0 and raises when O < 0). Use less padding."
        )
    return out


def conv_transpose_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output size of torch.nn.ConvTranspose2d along one axis:

        O = (W - 1)S - 2P + D(F - 1) + output_padding + 1.

    It undoes the size arithmetic of a Conv2d with the same settings: k4 s2 p1 takes 7 -> 14 (and Conv2d
    k4 s2 p1 takes 14 -> 7). output_padding must be smaller than stride or dilation (torch's rule).
    An output size below 1 raises ValueError (torch returns an empty tensor for 0 and raises below 0).
    """
    return _transpose_out("conv_transpose_output_size", size, kernel_size, stride, padding, output_padding,
                          dilation, "conv_transpose_output_shape")


def conv_transpose_output_shape(hw: IntOrPair, kernel_size: IntOrPair, stride: IntOrPair = 1,
                                padding: IntOrPair = 0, output_padding: IntOrPair = 0,
                                dilation: IntOrPair = 1) -> tuple[int, int]:
    """(H_out, W_out) of torch.nn.ConvTranspose2d; every argument an int or a pair."""
    where = "conv_transpose_output_shape"
    args = [_pair(where, n, v) for n, v in (("hw", hw), ("kernel_size", kernel_size), ("stride", stride),
                                             ("padding", padding), ("output_padding", output_padding),
                                             ("dilation", dilation))]
    return tuple(  # type: ignore[return-value]
        _transpose_out(f"{where} ({axis})", *(a[i] for a in args), where)
        for i, axis in enumerate(("height", "width"))
    )


# ---------------------------------------------------------------- receptive field


class ReceptiveField(NamedTuple):
    """After a layer: ``size`` input pixels (along one axis) reach one output unit, and neighbouring
    output units are ``jump`` input pixels apart (the product of the strides so far)."""
    size: int
    jump: int


def _is_container(layer: Any) -> bool:
    """nn.Sequential and scratch.Sequential: iterable modules (a spec tuple/list/dict is not a container)."""
    return (hasattr(layer, "forward") and hasattr(layer, "__iter__")
            and not isinstance(layer, (tuple, list, dict, str)))


def _flatten(layers: Iterable[Any]) -> Iterator[Any]:
    for layer in layers:
        if _is_container(layer):
            yield from _flatten(layer)
        else:
            yield layer


def _one_axis(where: str, name: str, value: Any, axis: Optional[int]) -> Any:
    if isinstance(value, (tuple, list)):
        if axis is not None:
            return value[axis]
        if len(set(value)) != 1:
            raise ValueError(f"{where}: {name}={tuple(value)} differs between axes; pass axis=0 (height) "
                             f"or axis=1 (width) to follow one of them.")
        return value[0]
    return value


def _spec(layer: Any, index: int, axis: Optional[int]) -> Optional[tuple[int, int, int]]:
    """(kernel_size, stride, dilation) of one layer, or None for a layer that keeps the receptive field."""
    where = f"receptive_field (layer {index})"
    if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        k, s, d = layer, 1, 1
    elif isinstance(layer, (tuple, list)):
        if not 1 <= len(layer) <= 3:
            raise ValueError(f"{where}: a layer tuple is (kernel_size, stride, dilation), got {layer!r}.")
        k, s, d = (tuple(layer) + (1, 1))[:3]
    elif isinstance(layer, dict):
        if "kernel_size" not in layer:
            raise ValueError(f"{where}: a layer dict needs 'kernel_size' (and optionally 'stride', "
                             f"'dilation'), got keys {sorted(layer)}.")
        k, s, d = layer["kernel_size"], layer.get("stride", 1), layer.get("dilation", 1)
    elif hasattr(layer, "kernel_size"):
        k = layer.kernel_size
        s = getattr(layer, "stride", None)
        s = k if s is None else s           # pooling layers: stride defaults to the kernel size
        d = getattr(layer, "dilation", 1)   # AvgPool2d has no dilation
        k, s, d = (_one_axis(where, n, v, axis) for n, v in (("kernel_size", k), ("stride", s), ("dilation", d)))
    elif hasattr(layer, "in_features") or type(layer).__name__ == "Flatten":
        raise ValueError(f"{where}: {type(layer).__name__} mixes every position, so after it each unit sees "
                         f"the whole input; stop the list of layers before the fully connected part.")
    elif hasattr(layer, "output_size"):
        raise ValueError(f"{where}: {type(layer).__name__} chooses its window from the input size; "
                         f"use shape_table(model, input_shape) from course_lib.summary, which knows the sizes.")
    elif hasattr(layer, "forward"):
        return None                          # ReLU, BatchNorm2d, Dropout, ...: one pixel in, one pixel out
    else:
        raise TypeError(f"{where}: expected kernel_size, (kernel_size, stride, dilation), a dict with those "
                        f"keys, or a layer with a kernel_size attribute; got {layer!r}.")
    if isinstance(k, (tuple, list)):
        raise TypeError(f"{where}: give one axis as an int, got kernel_size={k!r}.")
    return (_whole(where, "kernel_size", k, "receptive_field"), _whole(where, "stride", s, "receptive_field"),
            _whole(where, "dilation", d, "receptive_field"))


def receptive_field_step(rf: ReceptiveField, kernel_size: int, stride: int = 1, dilation: int = 1) -> ReceptiveField:
    """The receptive field after one more layer: r_l = r_{l-1} + (F_eff - 1) j_{l-1};  j_l = j_{l-1} S_l.

        receptive_field_step(ReceptiveField(3, 1), 3, stride=2)  -> ReceptiveField(size=5, jump=2)
    """
    return ReceptiveField(rf.size + (kernel_span(kernel_size, dilation) - 1) * rf.jump, rf.jump * stride)


def receptive_field(layers: Iterable[Any], axis: Optional[int] = None) -> list[ReceptiveField]:
    """Receptive field and jump after each layer of a chain (along one axis).

        r_0 = 1, j_0 = 1;   r_l = r_{l-1} + (F_eff - 1) * j_{l-1};   j_l = j_{l-1} * S_l,
        with F_eff = D(F - 1) + 1.   Padding does not change the receptive field.

    Each layer may be an int (kernel size, stride 1), a (kernel_size, stride, dilation) tuple (stride and
    dilation may be left off), a dict with those keys, or a layer object with ``kernel_size`` / ``stride``
    / ``dilation`` attributes (torch.nn Conv2d, MaxPool2d, AvgPool2d, course_lib.scratch layers). Layers
    without a kernel (ReLU, BatchNorm2d, Dropout) leave it unchanged; nn.Sequential is walked through.
    Pair-valued attributes must be square unless ``axis`` (0 height, 1 width) says which to follow.

        receptive_field([(3, 1, 1)] * 3)[-1]   -> ReceptiveField(size=7, jump=1)
        receptive_field([(3, 1, 2)])[-1].size  -> 5   (a 3x3 kernel with dilation 2 spans 5)

    Returns one ReceptiveField(size, jump) per layer, in order.
    """
    if axis not in (None, 0, 1):
        raise ValueError(f"receptive_field: axis must be None, 0 (height) or 1 (width), got {axis!r}.")
    if isinstance(layers, (dict, str)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"receptive_field: expected a list of layers, got {layers!r}. "
                        f"For one layer write receptive_field([layer]).")
    rf, out = ReceptiveField(1, 1), []
    for i, layer in enumerate(_flatten(layers)):
        spec = _spec(layer, i, axis)
        if spec is not None:
            rf = receptive_field_step(rf, *spec)
        out.append(rf)
    return out


# ---------------------------------------------------------------- parameter and multiply-add counts


def _positive(where: str, **values: Any) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{where}: {name} must be a positive whole number, got {v!r}.")


def _groups_divide(where: str, in_channels: int, out_channels: int, groups: int) -> None:
    _positive(where, groups=groups)
    for name, c in (("in_channels", in_channels), ("out_channels", out_channels)):
        if c % groups:
            raise ValueError(f"{where}: {name}={c} is not divisible by groups={groups}; each group gets "
                             f"{name}/groups channels, so it must divide (torch requires it too).")


def conv_params(in_channels: int, out_channels: int, kernel_size: IntOrPair, bias: bool = True,
                groups: int = 1) -> int:
    """Learnable numbers in a Conv2d: out * (in/groups) * kh * kw weights (+ out biases).

    Weight shape (out_channels, in_channels/groups, kh, kw), as torch. AlexNet conv1 (3 -> 96, 11x11):
    96 * 3 * 11 * 11 + 96 = 34,944. Independent of the image size: that is weight sharing.
    """
    where = "conv_params"
    kh, kw = _pair(where, "kernel_size", kernel_size)
    _positive(where, in_channels=in_channels, out_channels=out_channels, kh=kh, kw=kw)
    _groups_divide(where, in_channels, out_channels, groups)
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Learnable numbers in a Linear layer: in * out weights (+ out biases). Weight shape (out, in)."""
    _positive("linear_params", in_features=in_features, out_features=out_features)
    return in_features * out_features + (out_features if bias else 0)


def locally_connected_params(in_channels: int, out_channels: int, kernel_size: IntOrPair,
                             output_hw: IntOrPair, bias: bool = True) -> int:
    """A conv layer *without* weight sharing: every output position has its own filter.

    out_h * out_w * out * (in * kh * kw + 1). AlexNet conv1: 55 * 55 * 96 * (363 + 1) = 105,705,600.
    """
    where = "locally_connected_params"
    oh, ow = _pair(where, "output_hw", output_hw)
    _positive(where, oh=oh, ow=ow)
    return oh * ow * conv_params(in_channels, out_channels, kernel_size, bias)


def conv_macs(in_channels: int, out_channels: int, kernel_size: IntOrPair, output_hw: IntOrPair,
              groups: int = 1) -> int:
    """Multiply-adds of one Conv2d on one image: out_h * out_w * out * (in/groups) * kh * kw.

    Each of the out_h * out_w * out outputs is a dot product of length (in/groups) * kh * kw (bias
    additions are not counted). AlexNet conv1 at 55x55: 55 * 55 * 96 * 3 * 121 = 105,415,200.
    """
    where = "conv_macs"
    kh, kw = _pair(where, "kernel_size", kernel_size)
    oh, ow = _pair(where, "output_hw", output_hw)
    _positive(where, in_channels=in_channels, out_channels=out_channels, kh=kh, kw=kw, oh=oh, ow=ow)
    _groups_divide(where, in_channels, out_channels, groups)
    return oh * ow * out_channels * (in_channels // groups) * kh * kw


def linear_macs(in_features: int, out_features: int) -> int:
    """Multiply-adds of one Linear layer on one example: in * out."""
    _positive("linear_macs", in_features=in_features, out_features=out_features)
    return in_features * out_features


__all__ = [
    "conv_output_size", "conv_output_shape", "pool_output_size", "pool_output_shape",
    "conv_transpose_output_size", "conv_transpose_output_shape", "effective_kernel_size", "exact_output_size",
    "ReceptiveField", "receptive_field", "receptive_field_step", "conv_params", "linear_params",
    "locally_connected_params", "conv_macs", "linear_macs",
]
