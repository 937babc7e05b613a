"""Transfer learning's tools: heads, freezing and parameter groups, for any torch model (notebook 09).

The decks' recipe (Zhu [004]): pre-train a CNN on a large data set, **remove or reshape the last layers**,
**freeze the first layers or give them a small learning rate**, fine-tune on your own data. Here:

    replace_head(model, num_classes)      the last Linear layer -> a fresh Linear(in_features, num_classes)
    body(model)                           everything but the head: the feature extractor
    freeze(model, k or names) / unfreeze  requires_grad = False / True for the first k layers (or named ones)
    param_groups(model, head_lr, body_lr) optimiser groups: a smaller learning rate for the body
    count_params / count_trainable        how many numbers the model has / the optimiser will change

The models they are used on are ``models.source_cnn`` (the course's small CNN, pretrained weights from
``models.load_source_cnn``) and ``architectures.resnet18``; both end in global average pooling and one
``fc``. Notebook 09's experiments are in ``course_lib/lessons/nb09_transfer_learning.py``.
"""
from __future__ import annotations

from typing import Iterable, Union

from torch import nn


def body(model):
    """Everything but the last layer (the head) of a Sequential: the feature extractor, e.g. (N, 1, 28, 28) -> (N, 64)."""
    return model[:-1]


def _last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to replace.")
    return found[-1]


def head_name(model: nn.Module) -> str:
    """The name of the model's last Linear layer: "fc" for the source CNN and for ResNets."""
    return _last_linear(model)[0]


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the model's last ``nn.Linear`` for a fresh ``Linear(in_features, num_classes)``; returns the model.

    The new layer gets torch's default random initialisation (seed with ``torch.manual_seed`` first)
    and the old layer's device and dtype. The decks' "remove / reshape the last layers".
    """
    name, old = _last_linear(model)
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    new = new.to(device=old.weight.device, dtype=old.weight.dtype)
    parent_name, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, attr, new)
    return model


def layer_names(model: nn.Module) -> list[str]:
    """Names of the top-level layers that own parameters, in order: what ``freeze(model, k)`` counts.

    Source CNN: ["conv1", "conv2", "conv3", "fc"]; ResNet-18: ["conv1", "bn1", "layer1", ..., "layer4", "fc"].
    """
    return [name for name, m in model.named_children() if any(True for _ in m.parameters())]


def _resolve(model: nn.Module, layers: Union[int, str, Iterable[str], None]) -> list[str]:
    names = layer_names(model)
    if layers is None:
        return names
    if isinstance(layers, int):
        if not 0 <= layers <= len(names):
            raise ValueError(f"the model has {len(names)} layers with parameters {names}; cannot take {layers}.")
        return names[:layers]
    layers = [layers] if isinstance(layers, str) else list(layers)
    unknown = [n for n in layers if n not in names]
    if unknown:
        raise ValueError(f"no layer called {unknown}; the layers with parameters are {names}.")
    return layers


def freeze(model: nn.Module, layers: Union[int, str, Iterable[str]]) -> list[str]:
    """Stop training the first ``layers`` layers (an int k) or the named ones: requires_grad = False.

    Returns the names frozen. A frozen layer still runs forward; autograd computes no gradient for its
    weights and the optimiser leaves them alone. (A frozen BatchNorm still updates its running
    statistics in train mode: put it in ``.eval()`` to fix those too.)
    """
    names = _resolve(model, layers)
    for name in names:
        for p in model.get_submodule(name).parameters():
            p.requires_grad_(False)
    return names


def unfreeze(model: nn.Module, layers: Union[int, str, Iterable[str], None] = None) -> list[str]:
    """requires_grad = True again for the first k layers, the named ones, or (None) all of them."""
    names = _resolve(model, layers)
    for name in names:
        for p in model.get_submodule(name).parameters():
            p.requires_grad_(True)
    return names


def param_groups(model: nn.Module, head_lr: float, body_lr: float) -> list[dict]:
    """Optimiser parameter groups: the head (last Linear) at ``head_lr``, the rest at ``body_lr``.

    Frozen parameters (requires_grad False) are left out; empty groups too. Use as
    ``torch.optim.Adam(param_groups(model, 1e-2, 1e-3))``. body_lr = 0 acts like freezing the body.
    """
    head = {id(p) for p in model.get_submodule(head_name(model)).parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"name": "body", "params": [p for p in trainable if id(p) not in head], "lr": body_lr},
              {"name": "head", "params": [p for p in trainable if id(p) in head], "lr": head_lr}]
    return [g for g in groups if g["params"]]


def count_params(model) -> int:
    """Number of learnable numbers in a model (torch or scratch)."""
    return int(sum(p.numel() if hasattr(p, "numel") else p.data.size for p in model.parameters()))


def count_trainable(model: nn.Module) -> int:
    """Number of learnable numbers the optimiser may change: parameters with requires_grad True."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
