"""The one seam of ``course_lib.interpret``: one forward and one backward pass through a scratch or a torch model.

Every method in this package is made of the same two moves: run the input forward (keeping the outputs of a
few named layers), then send a chosen vector ``v`` back from some layer's output to the input:

    p = backprop(model, x, seed, at=None, guided=False, keep=("relu3",))
    p.input_grad      d<v, out>/dx  with  v = seed(out),  out = the output of layer ``at`` (the scores if None)
    p.output          out
    p.activations     {"relu3": the output of layer relu3}
    p.gradients       {"relu3": d<v, out>/d(output of relu3)}

Saliency seeds ``v`` with a one-hot of the target class; FGSM with dLoss/dscores; channel maximisation with a
one-hot channel. A scratch model (a nest of ``scratch.Sequential``) is walked one leaf layer at a time, each
``backward`` in turn; a torch model is run with forward hooks and ``torch.autograd.grad``. Both give the
same numbers (tests compare them in float64). Nothing is left behind: the model is run in eval mode and
put back in the mode it was in, scratch parameter gradients are restored, torch's ``.grad`` is not touched.

``guided=True`` is guided backpropagation's rule: at every ReLU the gradient passed back is also clipped
at zero, ``g_in = (x > 0) * max(g_out, 0)`` instead of ``(x > 0) * g_out`` (Springenberg et al. 2015).
"""
from __future__ import annotations

import contextlib
import numbers
from collections import OrderedDict
from typing import Callable, NamedTuple, Optional, Sequence, Union

import numpy as np

from .. import scratch
from ..training import is_scratch


class Pass(NamedTuple):
    """What one ``backprop`` returns (every array of the model's kind: NumPy or torch)."""
    input_grad: object
    output: object
    activations: dict
    gradients: dict


# ------------------------------------------------------------------------------------------ layers by name


def leaf_layers(model) -> "OrderedDict[str, object]":
    """name -> layer for every layer without sublayers, in the order they were added ("conv1", "relu1", ...).

    The names are the state_dict's prefixes, the same for a scratch model and its torch twin.
    """
    _check_model(model)
    return OrderedDict((name, m) for name, m in model.named_modules() if name and not list(m.children()))


def layer_name(model, layer) -> str:
    """The name of ``layer`` in ``model``: ``layer`` is a name ("conv3") or the layer object itself."""
    layers = leaf_layers(model)
    if isinstance(layer, str):
        if layer not in layers:
            raise ValueError(f"the model has no layer named {layer!r}; its layers are {list(layers)}.")
        return layer
    for name, m in layers.items():
        if m is layer:
            return name
    raise ValueError(f"layer must be one of the model's layers, by name ({list(layers)}) or the object itself "
                     f"(e.g. model.conv3); got a {type(layer).__name__} that is not in this model.")


def _check_model(model) -> None:
    if is_scratch(model):
        return
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is None or not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a course_lib.scratch model or a torch.nn.Module, got {type(model).__name__}.")


def _check_walkable(model) -> None:
    """A scratch model is walked leaf by leaf, so every container in it must be a Sequential."""
    for name, m in model.named_modules():
        if list(m.children()) and not isinstance(m, scratch.Sequential):
            raise TypeError(f"course_lib.interpret walks a scratch model one layer at a time, so every container "
                            f"must be a scratch.Sequential; {name or 'the model'} is a {type(m).__name__} with "
                            "its own forward. Build it as scratch.Sequential(...) of layers.")


# ------------------------------------------------------------------------------------------ no side effects


@contextlib.contextmanager
def evaluating(model):
    """Run ``model`` in eval mode (Dropout off, BatchNorm's running statistics) and restore each layer's mode."""
    modes = [(m, m.training) for _, m in model.named_modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


@contextlib.contextmanager
def _scratch_grads_kept(model):
    """A scratch backward adds into every parameter's .grad: put the learner's gradients back afterwards."""
    saved = [(p, p.grad.copy()) for p in model.parameters()]
    try:
        yield
    finally:
        for p, grad in saved:
            p.grad = grad


# ------------------------------------------------------------------------------------------ inputs and targets


def as_input(model, x):
    """``x`` as the model takes it: a float NumPy array for a scratch model; for a torch model a tensor in the
    model's dtype on its device (NumPy arrays are converted). No batch axis is added: x is (N, C, H, W)."""
    _check_model(model)
    if is_scratch(model):
        if hasattr(x, "detach"):
            raise TypeError("this is a course_lib.scratch model (NumPy), but x is a torch tensor: pass "
                            "x.detach().cpu().numpy(), or explain the torch twin of the model instead.")
        return scratch._checks.as_float_array(x, "x")
    import torch

    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    device = param.device if param is not None else None
    return torch.as_tensor(x, dtype=dtype, device=device).detach()


def targets(target, n: int, num_classes: Optional[int] = None) -> np.ndarray:
    """``target`` as N class indices: one int for the whole batch, or a sequence/array/tensor of N ints."""
    if hasattr(target, "detach"):
        target = target.detach().cpu().numpy()
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        t = np.full(n, int(target))
    else:
        t = np.asarray(target)
        if t.dtype.kind not in "iu" or t.shape not in ((n,), ()):
            raise TypeError(f"target is the class to explain: one int, or one int per input (shape ({n},)); got "
                            f"{t.dtype} with shape {t.shape}.")
        t = np.broadcast_to(t, (n,)).astype(np.int64)
    if num_classes is not None and ((t < 0) | (t >= num_classes)).any():
        bad = int(t[(t < 0) | (t >= num_classes)][0])
        raise ValueError(f"target {bad} is not a class of this model: its output has {num_classes} scores, "
                         f"so classes are 0..{num_classes - 1}.")
    return t


def one_hot_like(scores, target) -> object:
    """A zero array/tensor shaped like scores (N, K) with a 1 at [i, target[i]]: the seed for 'the score of class t'."""
    t = targets(target, scores.shape[0], scores.shape[1])
    if is_array(scores):
        v = np.zeros_like(scores)
        v[np.arange(len(t)), t] = 1.0
        return v
    import torch

    v = torch.zeros_like(scores)
    v[torch.arange(len(t)), torch.as_tensor(t, device=scores.device)] = 1.0
    return v


def is_array(value) -> bool:
    """True for NumPy arrays (the scratch side), False for torch tensors."""
    return isinstance(value, np.ndarray)


# ------------------------------------------------------------------------------------------ the pass


Seed = Callable[[object], object]


def backprop(model, x, seed: Optional[Seed], at: Union[str, object, None] = None, guided: bool = False,
             keep: Sequence[Union[str, object]] = ()) -> Pass:
    """Forward ``x`` to the output of layer ``at`` (the model's output if None), then back with v = seed(output).

    Returns ``Pass(input_grad, output, activations, gradients)``, see the module docstring. x: (N, ...).
    ``seed=None`` runs the forward half only (input_grad None, gradients {}): layer outputs at half the cost.
    """
    at_name = None if at is None else layer_name(model, at)
    keep = [layer_name(model, k) for k in keep]
    x = as_input(model, x)
    with evaluating(model):
        if is_scratch(model):
            return _backprop_scratch(model, x, seed, at_name, guided, keep)
        return _backprop_torch(model, x, seed, at_name, guided, keep)


def _backprop_scratch(model, x, seed, at_name, guided, keep) -> Pass:
    _check_walkable(model)
    layers = list(leaf_layers(model).items()) or [("", model)]      # a bare layer (scratch.Linear) is its own leaf
    if at_name is not None:
        layers = layers[:[name for name, _ in layers].index(at_name) + 1]
    with _scratch_grads_kept(model):
        h, activations = x, {}
        for name, layer in layers:
            h = layer(h)
            if name in keep:
                activations[name] = h
        if seed is None:
            return Pass(None, h, activations, {})
        g, gradients = seed(h), {}
        for name, layer in reversed(layers):
            if name in keep:
                gradients[name] = g
            g = layer.backward(g)
            if guided and isinstance(layer, scratch.ReLU):
                g = np.maximum(g, 0.0)
    return Pass(g, h, activations, gradients)


class _Stop(Exception):
    """Raised by a forward hook to end the forward pass at layer ``at`` (the rest is not needed)."""


def _backprop_torch(model, x, seed, at_name, guided, keep) -> Pass:
    import torch

    layers = leaf_layers(model)
    x = x.clone().requires_grad_(True)
    kept: dict = {}
    handles = []

    def record(name):
        def hook(module, inputs, output):
            kept[name] = output
            if name == at_name:
                raise _Stop
        return hook

    def clip_at_zero(module, grad_input, grad_output):
        return (torch.clamp(grad_input[0], min=0.0),)

    try:
        for name in set(keep) | ({at_name} if at_name else set()):
            handles.append(layers[name].register_forward_hook(record(name)))
        if guided:
            for layer in layers.values():
                if isinstance(layer, torch.nn.ReLU):
                    handles.append(layer.register_full_backward_hook(clip_at_zero))
        with torch.enable_grad() if seed is not None else torch.no_grad():
            try:
                out = model(x)
            except _Stop:
                out = kept[at_name]
            if seed is None:
                return Pass(None, out.detach(), {n: kept[n].detach() for n in keep}, {})
            v = seed(out.detach())
            names = list(keep)
            grads = torch.autograd.grad(out, [x] + [kept[n] for n in names], grad_outputs=v, allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    gradients = {n: (torch.zeros_like(kept[n]) if g is None else g.detach()) for n, g in zip(names, grads[1:])}
    return Pass(grads[0].detach(), out.detach(), {n: kept[n].detach() for n in names}, gradients)


def scores(model, x):
    """The model's output for x (N, ...) in eval mode, without gradients: the scores f(x) explained here."""
    x = as_input(model, x)
    with evaluating(model):
        if is_scratch(model):
            return model(x)
        import torch

        with torch.no_grad():
            return model(x)
