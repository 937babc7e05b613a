"""``Parameter``, ``Module`` and ``Sequential``: the skeleton of ``torch.nn``, in NumPy.

A module computes ``forward(x)`` and keeps what its ``backward(grad_output)`` needs with
``self.save_for_backward(...)``; ``backward`` gets it back with ``self.take_saved(grad_output)`` (torch's
``ctx.saved_tensors`` in an autograd Function). ``backward`` returns ``dL/dx`` and *adds* ``dL/dparameter``
into each parameter's ``.grad``, as torch does.

``take_saved`` is the one place where a backward pass is checked, as torch checks its graph: it refuses a
backward before any forward, a second backward after one forward (torch: "Trying to backward through the
graph a second time"; here the weight gradient would silently double), and a ``grad_output`` whose shape is
not the shape of the forward's output (torch: "Mismatch in shape"; here it would broadcast into garbage).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from ._checks import check_grad_output


class Parameter:
    """A learnable array: ``.data`` (the values) and ``.grad`` (dL/d data, same shape, starts at zero)."""

    def __init__(self, data) -> None:
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape})"


def _to_numpy(value) -> np.ndarray:
    """Accept NumPy arrays and torch tensors (without importing torch): detach, move to CPU, convert."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _check_grad_output(grad_output, output_shape: tuple | None, layer: str) -> None:
    """Refuse a gradient that is not numeric, or whose shape differs from the output's (no broadcasting)."""
    grad = np.asarray(grad_output.detach().cpu() if hasattr(grad_output, "detach") else grad_output)
    if grad.dtype.kind not in "fiu":
        raise TypeError(f"{layer}.backward: grad_output must be a numeric array (dL/d output), got {grad.dtype}.")
    if output_shape is not None:
        check_grad_output(grad, output_shape, f"{layer}.backward")


class Module:
    """Base class of every scratch layer. Subclasses set parameters/submodules as attributes."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # Attributes that are Parameters or Modules are registered by name, as in torch.nn.Module,
    # so that state_dict keys come out as "0.weight", "features.3.bias", ...
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first.")
        self._refuse_replacing(name, value)
        if value is None:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def _refuse_replacing(self, name: str, value) -> None:
        """A registered Parameter (or submodule) may only be replaced by another one, or None, as in torch:
        a bare array would leave ``parameters()`` -- and so the optimiser -- holding the old, detached one."""
        if name in self._parameters and value is not None and not isinstance(value, Parameter):
            raise TypeError(
                f"cannot assign a {type(value).__name__} as parameter '{name}' of {type(self).__name__} "
                f"(a scratch Parameter or None expected). To change its values keep the Parameter: "
                f"{name}.data = new_values (or {name}.data[...] = new_values)."
            )
        if name in self._modules and value is not None and not isinstance(value, Module):
            raise TypeError(f"cannot assign a {type(value).__name__} as child module '{name}' of "
                            f"{type(self).__name__} (a scratch Module or None expected).")

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward().")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} must implement backward().")

    def __call__(self, *inputs):
        output = self.forward(*inputs)
        if "_saved_tensors" in self.__dict__:  # remember the output's shape: backward's grad_output must match it
            object.__setattr__(self, "_output_shape", np.shape(output))
        return output

    def save_for_backward(self, *values) -> None:
        """Keep what ``backward`` will need (the input, an im2col matrix, a mask, ...), replacing the last ones."""
        object.__setattr__(self, "_saved_tensors", values)
        object.__setattr__(self, "_output_shape", None)  # set by __call__ once forward has returned

    def take_saved(self, grad_output) -> tuple:
        """Check ``grad_output`` (dL/d output) and hand back what forward saved, once per forward.

        grad_output must have the shape of the last forward's output (one entry of dL/d output per output entry).
        The saved values are released, as torch frees its graph after backward: a second backward needs a new
        forward (gradients still add up in .grad across forward/backward pairs; zero_grad() resets them).
        """
        layer = type(self).__name__
        if "_saved_tensors" not in self.__dict__:
            raise RuntimeError(f"{layer}.backward() was called before forward(): run the forward pass first.")
        saved = self.__dict__["_saved_tensors"]
        if saved is None:
            raise RuntimeError(
                f"{layer}.backward() was called a second time after one forward(): the first backward already "
                f"used what forward saved, and another would add the same gradient to .grad again. Run forward "
                f"again before each backward (torch: 'Trying to backward through the graph a second time')."
            )
        _check_grad_output(grad_output, self.__dict__.get("_output_shape"), layer)
        object.__setattr__(self, "_saved_tensors", None)
        return saved

    # ------------------------------------------------------------ parameters
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")

    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """State that is saved in state_dict but not learned, e.g. BatchNorm's running_mean (as in torch)."""
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name, b in self._buffers.items():
            yield prefix + name, b
        for name, m in self._modules.items():
            yield from m.named_buffers(prefix + name + ".")

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def children(self) -> Iterator["Module"]:
        return iter(self._modules.values())

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for each direct submodule, in order, as in torch."""
        return iter(self._modules.items())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """("", self), then every submodule with its dotted name ("features", "features.0", ...), as in torch."""
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)

    def to_dtype(self, dtype) -> "Module":
        """Convert every parameter (and its gradient) to ``dtype``, e.g. np.float32 for speed."""
        for p in self.parameters():
            p.data, p.grad = p.data.astype(dtype), p.grad.astype(dtype)
        for _, (module, name) in self._named_buffer_owners():
            buffer = module._buffers[name]
            if buffer is not None and buffer.dtype.kind == "f":  # integer counters stay int64, as in torch
                setattr(module, name, buffer.astype(dtype))
        return self

    def float(self) -> "Module":
        """Parameters in float32, like torch's ``module.float()`` (about twice as fast, 7 digits)."""
        return self.to_dtype(np.float32)

    def double(self) -> "Module":
        """Parameters in float64 (the scratch default), like torch's ``module.double()``."""
        return self.to_dtype(np.float64)

    def train(self, mode: bool = True) -> "Module":
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # ------------------------------------------------------------ state_dict
    def state_dict(self, prefix: str = "") -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer, keyed and ordered as torch does (e.g. ``"0.weight"``)."""
        state = OrderedDict((prefix + name, p.data.copy()) for name, p in self._parameters.items())
        state.update((prefix + name, np.array(b, copy=True)) for name, b in self._buffers.items())
        for name, m in self._modules.items():
            state.update(m.state_dict(prefix + name + "."))
        return state

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy values in by name, keeping this model's dtype; accepts a torch ``state_dict()`` directly."""
        if not hasattr(state_dict, "keys"):
            passed_a_model = hasattr(state_dict, "state_dict")
            hint = " Did you pass the model instead of model.state_dict()?" if passed_a_model else ""
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, such as other.state_dict(), "
                            f"got a {type(state_dict).__name__}.{hint}")
        own = dict(self.named_parameters())
        buffers = dict(self._named_buffer_owners())
        missing = [k for k in [*own, *buffers] if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own and k not in buffers]
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict into {type(self).__name__}: missing keys {missing}, unexpected keys {unexpected}. "
                f"This model has keys {list(self.state_dict())}."
            )
        for name in own.keys() & state_dict.keys():
            value = _to_numpy(state_dict[name])
            if value.dtype.kind not in "fiu":
                raise TypeError(f"load_state_dict: '{name}' must hold numeric values, got dtype {value.dtype}.")
            if value.shape != own[name].data.shape:
                raise ValueError(
                    f"load_state_dict: '{name}' has shape {tuple(own[name].data.shape)} in this model "
                    f"but {tuple(value.shape)} in the state_dict."
                )
            own[name].data = value.astype(own[name].data.dtype, copy=True)
        for name in buffers.keys() & state_dict.keys():
            module, attribute = buffers[name]
            value, current = _to_numpy(state_dict[name]), module._buffers[attribute]
            if current is not None and value.shape != np.shape(current):
                raise ValueError(f"load_state_dict: buffer '{name}' has shape {np.shape(current)} in this model "
                                 f"but {tuple(value.shape)} in the state_dict.")
            setattr(module, attribute, np.array(value, copy=True))

    def _named_buffer_owners(self, prefix: str = "") -> Iterator[tuple[str, tuple["Module", str]]]:
        for name in self._buffers:
            yield prefix + name, (self, name)
        for name, m in self._modules.items():
            yield from m._named_buffer_owners(prefix + name + ".")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(784, 100), ReLU(), Linear(100, 10))``, named "0", "1", ...

    Or with names, as in torch: ``Sequential(OrderedDict([("fc1", Linear(784, 100)), ("relu", ReLU())]))``.
    Backward runs the same modules in reverse, each passing dL/d(its input) to the one before.
    """

    def __init__(self, *modules) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = modules[0].items()
        else:
            named = ((str(i), m) for i, m in enumerate(modules))
        for name, m in named:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential argument {name} is a {type(m).__name__}, not a scratch Module.")
            setattr(self, name, m)

    def __getitem__(self, index):
        """seq[i] is a layer; seq[a:b] a Sequential of those layers that keeps their names, as torch's does."""
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def forward(self, x):
        for m in self:
            x = m(x)
        return x

    def backward(self, grad_output):
        for m in reversed(list(self)):
            grad_output = m.backward(grad_output)
        return grad_output
