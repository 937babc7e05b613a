"""The layer-by-layer summary of a model: every leaf layer's output shape, parameters, mult-adds, receptive field.

    rows = shape_table(torchvision.models.alexnet(), (1, 3, 224, 224))
    print(format_table(rows))          # Layer  Type  Output shape  Parameters  Mult-adds  Receptive field

A torch model is run once with forward hooks on its leaf modules; a ``course_lib.scratch.Sequential`` is
run layer by layer on NumPy zeros. Each receptive field is grown by ``conv_arithmetic.receptive_field_step``.
torch is imported only inside ``shape_table``, and only for torch models.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union

import numpy as np

from .conv_arithmetic import ReceptiveField, receptive_field_step

RFValue = Union[int, tuple[int, ...], None]


@dataclass
class LayerRow:
    """One row of ``shape_table``: a leaf layer after it ran.

    output_shape includes the batch dimension; parameters counts each tensor once (at its first use);
    macs are multiply-adds per example (Conv and Linear layers only, other layers count 0);
    receptive_field is an int (a tuple if it differs between axes) or None where it is not defined
    (after Flatten / Linear) or not tracked (see shape_table).
    """
    name: str
    type: str
    output_shape: Optional[tuple[int, ...]]
    parameters: int
    macs: int
    receptive_field: RFValue


def _first_array(value: Any) -> Any:
    """The first tensor/array in a module's inputs or outputs (a tuple for LSTM, MaxPool's indices...)."""
    if hasattr(value, "shape"):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            found = _first_array(v)
            if found is not None:
                return found
    return None


def _as_dims(value: Any, n: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * n


def _is_transposed(module: Any) -> bool:
    """torch's ConvTranspose layers set ``transposed``; other (scratch) ones are known by their name."""
    return bool(getattr(module, "transposed", False)) or "Transpose" in type(module).__name__


def _macs(module: Any, in_shape: Optional[tuple], out_shape: Optional[tuple], batch: int) -> int:
    """Multiply-adds per example of a conv (also transposed, grouped) or linear layer; 0 for the rest."""
    if out_shape is None:
        return 0
    if all(hasattr(module, a) for a in ("in_channels", "out_channels", "kernel_size")):
        groups = getattr(module, "groups", 1)
        kernel = math.prod(_as_dims(module.kernel_size, len(out_shape) - 2))
        if _is_transposed(module) and in_shape is not None:
            # every input value is scattered through a (out/groups) x kernel block
            return math.prod(in_shape) // batch * (module.out_channels // groups) * kernel
        return math.prod(out_shape) // batch * (module.in_channels // groups) * kernel
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return math.prod(out_shape) // batch * module.in_features
    return 0


def _next_rf(module: Any, in_shape: Optional[tuple], out_shape: Optional[tuple],
             rf_in: Optional[tuple[ReceptiveField, ...]]) -> Optional[tuple[ReceptiveField, ...]]:
    """Receptive field (per spatial axis) of a module's output, from that of its input."""
    if rf_in is None or in_shape is None or out_shape is None:
        return None
    n = len(in_shape) - 2
    if n < 1 or len(out_shape) != len(in_shape) or len(rf_in) != n or _is_transposed(module):
        return None                    # flattened, no spatial axes, or a transposed conv (not tracked)
    if hasattr(module, "kernel_size"):
        k = _as_dims(module.kernel_size, n)
        stride = getattr(module, "stride", None)
        s = k if stride is None else _as_dims(stride, n)
        d = _as_dims(getattr(module, "dilation", 1), n)
        return tuple(receptive_field_step(r, *ksd) for r, *ksd in zip(rf_in, k, s, d))
    if hasattr(module, "output_size"):  # adaptive pooling: exact only when the sizes divide
        size_in, size_out = in_shape[2:], out_shape[2:]
        if all(o and i % o == 0 for i, o in zip(size_in, size_out)):
            return tuple(receptive_field_step(r, i // o, i // o, 1) for r, i, o in zip(rf_in, size_in, size_out))
        return None
    if tuple(in_shape[2:]) == tuple(out_shape[2:]):
        return rf_in                   # ReLU, BatchNorm, Dropout, LocalResponseNorm, ...
    return None


def _show_rf(rf: Optional[tuple[ReceptiveField, ...]]) -> RFValue:
    if rf is None:
        return None
    sizes = tuple(r.size for r in rf)
    return sizes[0] if len(set(sizes)) == 1 else sizes


def _count_new(module: Any, seen: set) -> int:
    """Numbers in the parameters of ``module`` that no earlier row counted (shared weights count once)."""
    total = 0
    for p in module.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel() if hasattr(p, "numel") else int(p.data.size)
    return total


def _leftover_row(model: Any, seen: set) -> Optional[LayerRow]:
    """Parameters that no called leaf layer owns (never called, or held by a container itself)."""
    rest = _count_new(model, seen)
    if rest == 0:
        return None
    return LayerRow("(other parameters)", "not in a called leaf layer", None, rest, 0, None)


def _check_input_shape(input_shape: Any) -> tuple[int, ...]:
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if not shape or len(shape) < 2 or not all(isinstance(s, numbers.Integral) and s >= 1 for s in shape):
        raise ValueError(f"shape_table: input_shape must be a tuple of positive sizes that starts with the "
                         f"batch dimension, e.g. (1, 3, 224, 224) or (1, 784); got {input_shape!r}.")
    return tuple(int(s) for s in shape)


def _first_layer(model: Any) -> Any:
    """The first leaf layer of a torch module or a scratch Sequential (None if there is none)."""
    if hasattr(model, "register_forward_hook"):
        return next((m for m in model.modules() if next(m.children(), None) is None), None)
    return next((layer for _, layer in _sequential_layers(model)), None) if hasattr(model, "__iter__") else None


def _check_batch_dimension(model: Any, shape: tuple[int, ...]) -> None:
    """A Conv2d first layer needs (N, C, H, W): (1, 28, 28) is one image without its batch dimension."""
    first = _first_layer(model)
    if len(shape) == 3 and hasattr(first, "in_channels") and type(first).__name__.endswith("2d"):
        raise ValueError(f"shape_table: input_shape={shape} has no batch dimension, but the model starts with "
                         f"{type(first).__name__}, which takes (N, C, H, W): give (1, {first.in_channels}, "
                         f"{shape[-2]}, {shape[-1]}).")


def _torch_rows(model: Any, shape: tuple[int, ...]) -> list[LayerRow]:
    import torch

    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    x = torch.zeros(shape, device=device, dtype=dtype)
    rf_of: dict[int, tuple[Any, Any]] = {id(x): (x, (ReceptiveField(1, 1),) * (len(shape) - 2))}
    rows: list[LayerRow] = []
    seen: set = set()

    def input_rf(t: Any) -> Any:
        if t is None:
            return None
        if id(t) in rf_of and rf_of[id(t)][0] is t:
            return rf_of[id(t)][1]
        # made by functional code between modules (F.relu, x + y): borrow from a module output of the same shape
        same = [rf for u, rf in rf_of.values() if rf is not None and tuple(u.shape) == tuple(t.shape)]
        return max(same, key=lambda rf: sum(r.size for r in rf)) if same else None

    def hook(name: str):
        def record(module, inputs, output):
            inp, out = _first_array(inputs), _first_array(output)
            in_shape = None if inp is None else tuple(inp.shape)
            out_shape = None if out is None else tuple(out.shape)
            rf = _next_rf(module, in_shape, out_shape, input_rf(inp))
            if out is not None:
                rf_of[id(out)] = (out, rf)   # the tensor is kept, so its id cannot be reused
            rows.append(LayerRow(name or type(module).__name__, type(module).__name__, out_shape,
                                 _count_new(module, seen), _macs(module, in_shape, out_shape, shape[0]),
                                 _show_rf(rf)))
        return record

    leaves = [(n, m) for n, m in model.named_modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(hook(n)) for n, m in leaves]
    was_training = model.training
    try:
        model.eval()                    # BatchNorm on one example, Dropout: use the inference behaviour
        with torch.no_grad():
            model(x)
    except Exception as e:
        after = f"after layer {rows[-1].name!r} (output {rows[-1].output_shape})" if rows else "in the first layer"
        raise RuntimeError(f"shape_table: the forward pass on zeros of shape {shape} failed {after}: {e}") from e
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    leftover = _leftover_row(model, seen)
    return rows + ([leftover] if leftover else [])


def _sequential_layers(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaf layers of a scratch Sequential (nested ones too), with torch-style names '0', '3.1'."""
    has_children = hasattr(model, "children") and next(iter(model.children()), None) is not None
    if hasattr(model, "__iter__"):
        for i, layer in enumerate(model):
            yield from _sequential_layers(layer, f"{prefix}{i}.")
    elif has_children:
        raise TypeError(
            f"shape_table: {type(model).__name__} has sub-layers and its own forward(), which a NumPy model "
            f"cannot be hooked into. shape_table runs scratch models layer by layer, so it takes "
            f"scratch.Sequential containers only (or any torch.nn.Module)."
        )
    else:
        yield prefix.rstrip(".") or type(model).__name__, model


def _scratch_rows(model: Any, shape: tuple[int, ...]) -> list[LayerRow]:
    x = np.zeros(shape)
    rf: Any = (ReceptiveField(1, 1),) * (len(shape) - 2)
    rows: list[LayerRow] = []
    seen: set = set()
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()                    # as for torch: inference behaviour of Dropout and BatchNorm
    try:
        for name, layer in _sequential_layers(model):
            try:
                out = layer(x)
            except Exception as e:
                raise RuntimeError(f"shape_table: layer {name!r} ({type(layer).__name__}) failed on input of "
                                   f"shape {tuple(x.shape)}: {e}") from e
            rf = _next_rf(layer, tuple(x.shape), tuple(out.shape), rf)
            rows.append(LayerRow(name, type(layer).__name__, tuple(out.shape), _count_new(layer, seen),
                                 _macs(layer, tuple(x.shape), tuple(out.shape), shape[0]), _show_rf(rf)))
            x = out
    finally:
        if was_training is not None:
            model.train(was_training)
    leftover = _leftover_row(model, seen)
    return rows + ([leftover] if leftover else [])


def shape_table(model: Any, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """Run ``model`` once on zeros of ``input_shape`` and describe every leaf layer as it runs.

    input_shape starts with the batch dimension: (1, 3, 224, 224), or (1, 784) for an MLP. Returns one
    LayerRow(name, type, output_shape, parameters, macs, receptive_field) per layer call, in execution
    order (a layer called twice, like ResNet's shared ReLU, gives two rows; its parameters count once).
    The parameters of the rows add up to sum(p.numel() for p in model.parameters()); any that no
    called leaf layer holds go into a last '(other parameters)' row. Print it with ``format_table(rows)``.

    - torch.nn.Module: forward hooks on the leaf modules; eval mode and torch.no_grad() for the pass
      (the training mode is restored). The zeros go on the model's device: a model built under
      ``torch.device('meta')`` gives every shape without computing anything.
    - course_lib.scratch models (duck typing): Sequential containers only, run layer by layer on NumPy
      zeros; a scratch model with its own forward() cannot be hooked and raises TypeError.

    Receptive field: exact along a chain of layers. Tensors made by functional code between modules
    (torch.flatten, F.relu, x + y) are matched to the module output of the same shape with the largest
    receptive field (right for ResNet's skip additions); it is None after Flatten/Linear, after a
    transposed convolution, and after adaptive pooling whose sizes do not divide.
    """
    shape = _check_input_shape(input_shape)
    _check_batch_dimension(model, shape)
    if hasattr(model, "register_forward_hook"):
        return _torch_rows(model, shape)
    if hasattr(model, "forward") and (hasattr(model, "__iter__") or hasattr(model, "parameters")):
        return _scratch_rows(model, shape)
    raise TypeError(f"shape_table: expected a torch.nn.Module or a course_lib.scratch model, "
                    f"got {type(model).__name__}.")


def format_table(rows: list[LayerRow]) -> str:
    """The rows of ``shape_table`` as an aligned text table, with a total line for parameters and mult-adds."""
    header = ("Layer", "Type", "Output shape", "Parameters", "Mult-adds", "Receptive field")
    body = []
    for r in rows:
        rf = r.receptive_field
        rf = "-" if rf is None else " x ".join(map(str, rf)) if isinstance(rf, tuple) else str(rf)
        shape = "-" if r.output_shape is None else str(tuple(r.output_shape))
        body.append((r.name, r.type, shape, f"{r.parameters:,}", f"{r.macs:,}", rf))
    total = ("Total", "", "", f"{sum(r.parameters for r in rows):,}", f"{sum(r.macs for r in rows):,}", "")
    widths = [max(len(line[i]) for line in [header, total, *body]) for i in range(len(header))]
    right = {3, 4, 5}

    def line(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, body), rule, line(total)])


__all__ = ["LayerRow", "shape_table", "format_table"]
