"""Transfer learning's tools: heads, freezing and parameter groups, for any torch model (notebook 09).

The decks' recipe (Zhu [004]): pre-train a CNN on a large data set, **remove or reshape the last layers**,
**freeze the first layers or give them a small learning rate**, fine-tune on your own data. Here:

    replace_head(model, num_classes)      the last Linear layer -> a fresh Linear(in_features, num_classes)
    body(model)                           everything but the head: the feature extractor
    freeze(model, k or names) / unfreeze  requires_grad = False / True for the first k layers (or named ones)
    param_groups(model, head_lr, body_lr) optimiser groups: a smaller learning rate for the body
    layer_groups(model, head_lr, factor)  one group per layer, each ``factor`` times slower than the one above
    GradualUnfreezing(every)              a ``training.fit`` callback: the head first, then one more layer
                                          from the top every ``every`` steps (ULMFiT's gradual unfreezing)
    count_params / count_trainable        how many numbers the model has / the optimiser will change

and the source task itself: ``augment`` (random shifts and rotations) and ``pretrain_source`` (the small
CNN trained on the training digits 0-4, what ``data/pretrain_digits04.py`` runs to make ``data/cnn_digits04.pt``).

The models they are used on are ``models.source_cnn`` (the course's small CNN, pretrained weights from
``models.load_source_cnn``) and ``architectures.resnet18``; both end in global average pooling and one
``fc``. Notebook 09's experiments are in ``course_lib/lessons/nb09_transfer_learning.py``.
"""
from __future__ import annotations

import math
import numbers
from typing import Iterable, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import data, scratch, training
from .models import check_size, source_cnn

SOURCE_CLASSES = (0, 1, 2, 3, 4)
PRETRAIN_SETTINGS = dict(epochs=80, batch_size=64, lr=2e-3, seed=0, augment_data=True)


def _check_torch_model(where: str, model) -> None:
    """These tools change requires_grad and optimiser groups, which only torch models have."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where} works on a torch.nn.Module, got {type(model).__module__}.{type(model).__name__}: "
                        "build the model with backend='torch' (a scratch model has no requires_grad to freeze).")


def _check_lr(where: str, name: str, value) -> None:
    """A learning rate is a number >= 0 (torch.optim refuses a negative one: "Invalid learning rate")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{where}: {name} is a learning rate, a number >= 0; got {value!r}.")


def body(model):
    """Everything but the last layer (the head) of a Sequential (torch or scratch): the feature extractor,
    e.g. (N, 1, 28, 28) -> (N, 64)."""
    if not isinstance(model, (nn.Sequential, scratch.Sequential)):
        raise TypeError(f"body(model) slices a Sequential, got {type(model).__name__}: for a ResNet keep the model "
                        "and replace its head by nn.Identity() (model.fc = nn.Identity()) to get its features.")
    return model[:-1]


def _last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    _check_torch_model("the head's tools (replace_head, head_name, param_groups)", model)
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
    num_classes = check_size("replace_head", "num_classes", num_classes)
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
    _check_torch_model("layer_names (and freeze, unfreeze, layer_groups)", model)
    return [name for name, m in model.named_children() if any(True for _ in m.parameters())]


def _resolve(model: nn.Module, layers: Union[int, str, Iterable[str], None]) -> list[str]:
    names = layer_names(model)
    if layers is None:
        return names
    if isinstance(layers, bool):
        raise TypeError(f"layers is a count k (the first k layers) or layer names {names}, not {layers!r}.")
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
    _check_lr("param_groups", "head_lr", head_lr)
    _check_lr("param_groups", "body_lr", body_lr)
    head = {id(p) for p in model.get_submodule(head_name(model)).parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"name": "body", "params": [p for p in trainable if id(p) not in head], "lr": body_lr},
              {"name": "head", "params": [p for p in trainable if id(p) in head], "lr": head_lr}]
    return [g for g in groups if g["params"]]


def layer_groups(model: nn.Module, head_lr: float, factor: float) -> list[dict]:
    """Discriminative learning rates: one optimiser group per layer of ``layer_names(model)``.

    Layer i of L (0 = first) gets lr_i = head_lr * factor ** (L - 1 - i): the head head_lr, each layer below
    ``factor`` times the one above (ULMFiT: factor 1/2.6). Every parameter is included, frozen ones too, so
    that a layer unfrozen later (``GradualUnfreezing``) trains at its own rate; torch's optimisers skip a
    parameter while its gradient is None. Groups are named after the layers.
    """
    _check_lr("layer_groups", "head_lr", head_lr)
    if not 0 < factor <= 1:
        raise ValueError(f"factor must be in (0, 1]: each layer learns at most as fast as the one above; got {factor}.")
    names = layer_names(model)
    return [{"name": name, "params": list(model.get_submodule(name).parameters()),
             "lr": head_lr * factor ** (len(names) - 1 - i)} for i, name in enumerate(names)]


class GradualUnfreezing(training.Callback):
    """ULMFiT's gradual unfreezing as a ``training.fit`` callback (Howard & Ruder 2018).

    Before the first step every layer but the head is frozen; after every ``every`` steps the highest layer
    still frozen is unfrozen, so with L layers and ``every`` = steps / L the last stage trains them all.
    ``unfrozen_at`` records {layer name: the step after which it joined}. Use with ``layer_groups``.
    """

    def __init__(self, every: int) -> None:
        self.every = check_size("GradualUnfreezing", "every", every, "a number of steps")
        self.waiting: list[str] = []
        self.unfrozen_at: dict[str, int] = {}

    def on_train_begin(self, model) -> None:
        self.waiting = freeze(model, len(layer_names(model)) - 1)
        self.unfrozen_at = {}

    def on_step(self, step, loss, model):
        if step % self.every == 0 and self.waiting:
            name = self.waiting.pop()
            unfreeze(model, name)
            self.unfrozen_at[name] = step


def count_params(model) -> int:
    """Number of learnable numbers in a model (torch or scratch)."""
    return int(sum(p.numel() if hasattr(p, "numel") else p.data.size for p in model.parameters()))


def count_trainable(model: nn.Module) -> int:
    """Number of learnable numbers the optimiser may change: parameters with requires_grad True."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


# ------------------------------------------------------------------------------------------ the source task


def augment(x: torch.Tensor, generator: torch.Generator, max_shift: float = 2.0,
            max_degrees: float = 15.0) -> torch.Tensor:
    """A random shift (up to ``max_shift`` pixels along x and y) and rotation (up to ``max_degrees``) per image.

    x: (N, C, H, W). Each image gets its own angle and shift, uniform in their ranges, applied as one
    affine map with ``affine_grid`` + ``grid_sample`` (bilinear; pixels from outside the image are
    background, the smallest value in x). Returns a new (N, C, H, W) tensor; x is unchanged.
    """
    _check_augment(x, generator, max_shift, max_degrees)
    n, _, h, w = x.shape
    u = torch.rand(n, 3, generator=generator) * 2 - 1                 # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(max_degrees)
    tx, ty = u[:, 1] * max_shift * 2 / w, u[:, 2] * max_shift * 2 / h  # pixels -> grid units (2 = the width)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    background = x.amin()
    return F.grid_sample(x - background, grid, align_corners=False, padding_mode="zeros") + background


def _check_augment(x, generator, max_shift, max_degrees) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"a {x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"augment: x must be a float tensor (N, C, H, W), got {got}: e.g. "
                        "torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) for (N, 28, 28) digits.")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"augment: generator must be a torch.Generator, got {generator!r}: "
                        "torch.Generator().manual_seed(0) makes the draws repeatable.")
    for name, value in (("max_shift", max_shift), ("max_degrees", max_degrees)):
        if not value >= 0:
            raise ValueError(f"augment: {name} is the largest shift or angle either way, a number >= 0; got {value}.")


def pretrain_source(epochs: int = PRETRAIN_SETTINGS["epochs"], batch_size: int = PRETRAIN_SETTINGS["batch_size"],
                    lr: float = PRETRAIN_SETTINGS["lr"], seed: int = PRETRAIN_SETTINGS["seed"],
                    augment_data: bool = PRETRAIN_SETTINGS["augment_data"],
                    max_steps: Optional[int] = None) -> nn.Sequential:
    """Train ``source_cnn(5)`` on all training digits 0-4, the source task; deterministic on a CPU.

    Adam at ``lr``; ``epochs`` passes over the 4,106 digits in shuffled mini-batches, each batch randomly
    shifted and rotated (``augment``), all drawn from torch.Generator(seed); initial weights from
    torch.manual_seed(seed). ``max_steps`` stops early (the tests take a few steps).
    """
    check_size("pretrain_source", "epochs", epochs, "a number of passes over the digits")
    check_size("pretrain_source", "batch_size", batch_size, "a number of digits per step")
    if max_steps is not None:
        check_size("pretrain_source", "max_steps", max_steps, "a number of steps")
    _check_lr("pretrain_source", "lr", lr)
    torch.manual_seed(seed)
    model = source_cnn(len(SOURCE_CLASSES))
    gen = torch.Generator().manual_seed(seed)
    training.fit(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=lr),
                 data.task_digits("train", SOURCE_CLASSES), epochs=epochs, progress=False,
                 batches=training.shuffled_batches(batch_size, generator=gen),
                 transform=(lambda xb: augment(xb, gen)) if augment_data else None,
                 callbacks=[training.MaxSteps(max_steps)] if max_steps is not None else [])
    return model
