"""Transfer learning (notebook 09): pretrain on one task, reuse the network for another with few labels.

The decks' recipe (Zhu [004]): pre-train a CNN on a large data set, **remove or reshape the last layers**,
**freeze the first layers or give them a small learning rate**, fine-tune on your own data. Here:

    replace_head(model, num_classes)      the last Linear layer -> a fresh Linear(in_features, num_classes)
    freeze(model, k or names) / unfreeze  requires_grad = False / True for the first k layers (or named ones)
    param_groups(model, head_lr, body_lr) optimiser groups: a smaller learning rate for the body
    count_trainable(model)                how many numbers the optimiser will change

The course's own experiment fits a laptop CPU. The **source task** is the training split's digits 0-4
(4,106 images); the **target task** is digits 5-9 learned from only ``n`` labelled examples per class and
tested on the 975 digits 5-9 of the 2,000-digit test split. The network, ``source_cnn()``::

    conv1  Conv2d(1, 16, 4, stride=2, padding=1)    (N, 1, 28, 28)  -> (N, 16, 14, 14)  + ReLU
    conv2  Conv2d(16, 32, 4, stride=2, padding=1)   (N, 16, 14, 14) -> (N, 32, 7, 7)    + ReLU
    conv3  Conv2d(32, 64, 3, stride=2, padding=1)   (N, 32, 7, 7)   -> (N, 64, 4, 4)    + ReLU
    pool   AdaptiveAvgPool2d(1), flatten            (N, 64, 4, 4)   -> (N, 64)            the features
    fc     Linear(64, num_classes)                  the "head", the only layer tied to the classes

It ends like ResNet (global average pooling, then one ``fc``), so ``replace_head`` treats both alike.
Its pretraining (``pretrain_source``, run by ``data/pretrain_digits04.py``) is cached in
``data/cnn_digits04.pt`` and checked against ``CNN_DIGITS04_SHA256`` when loaded.

The ImageNet version uses ``course_lib.architectures.resnet18`` (torchvision's names) with torchvision's
ImageNet weights, only when they are already on disk (``load_imagenet_resnet18``): nothing downloads.
"""
from __future__ import annotations

import copy
import hashlib
import io
import math
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn

from . import architectures, data, scratch

SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)
N_PER_CLASS = (5, 10, 20, 50, 100, 500)
SEEDS = (0, 1, 2)
METHODS = ("scratch", "frozen", "finetune")
METHOD_LABELS = {"scratch": "from scratch", "frozen": "frozen features (new head only)",
                 "finetune": "fine-tuned (body at lr / 10)"}
METHOD_COLORS = {"scratch": "tab:red", "frozen": "tab:blue", "finetune": "tab:green"}

CNN_DIGITS04_PATH = data.DATA_DIR / "cnn_digits04.pt"
CNN_DIGITS04_SHA256 = "294cc4914198e18876e9a23561614e4afaa8cd16461f3aef05da21e23ad31583"
PRETRAIN_SETTINGS = dict(epochs=80, batch_size=64, lr=2e-3, seed=0, augment_data=True)

# Training on the target task: the same settings for every method, so that the comparison is fair.
STEPS = 60            # Adam steps per run (more for n = 500: see steps_for)
BATCH_SIZE = 50       # full batch when 5 n <= 50, i.e. n <= 10
LR = 1e-2             # training from scratch, and every new head
BODY_LR = 1e-3        # fine-tuning: the pretrained layers move ten times more slowly

IMAGENET_RESNET18_FILE = "resnet18-f37072fd.pth"   # torchvision's IMAGENET1K_V1; f37072fd = start of its sha256
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

REBUILD_HELP = (
    "data/cnn_digits04.pt ships with the course in git. Get it back with\n"
    "    git checkout data/cnn_digits04.pt\n"
    "or rebuild it (CPU, about a minute, deterministic) with\n"
    "    python data/pretrain_digits04.py"
)


# ------------------------------------------------------------------------------------------------ data


def task_digits(split: str, classes: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits of ``classes`` from one split, ready for a CNN, labels renumbered 0..len(classes)-1.

    Returns x: float32 (N, 1, 28, 28), standardised as ``data.standardize``; y: int64 (N,), where
    digit ``classes[i]`` gets label i (so 5..9 become 0..4 for the target task).
    """
    images, labels = data.load_mnist(split)
    keep = np.isin(labels, classes)
    relabel = np.full(10, -1, dtype=np.int64)
    relabel[list(classes)] = np.arange(len(classes))
    x = torch.from_numpy(data.standardize(images[keep], dtype=np.float32)).unsqueeze(1)
    return x, torch.from_numpy(relabel[labels[keep]])


def few_shot_indices(labels, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` examples of each class, drawn without replacement with ``default_rng(seed)``.

    labels: (N,) ints. Returns (n * number of classes,) indices, class by class, each class's sorted.
    The same seed always gives the same draw; different seeds give different training sets.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < n:
            raise ValueError(f"class {c} has only {len(members)} examples, fewer than n = {n}.")
        chosen.append(np.sort(rng.choice(members, size=n, replace=False)))
    return np.concatenate(chosen)


# ------------------------------------------------------------------------------------------------ model


def source_cnn(num_classes: int = 5, backend: str = "torch"):
    """conv1 -> conv2 -> conv3 -> global average pool -> fc (module docstring); same names in both backends.

    backend "torch": a torch.nn.Sequential with named layers; "scratch": the NumPy mirror (float64),
    so ``scratch_model.load_state_dict(torch_model.state_dict())`` copies the weights across.
    Parameters for 5 classes: 272 + 8,224 + 18,496 + 325 = 27,317.
    """
    nn_ = {"torch": nn, "scratch": scratch}.get(backend)
    if nn_ is None:
        raise ValueError(f"backend must be 'torch' or 'scratch', got {backend!r}.")
    layers = [
        ("conv1", nn_.Conv2d(1, 16, 4, stride=2, padding=1)), ("relu1", nn_.ReLU()),
        ("conv2", nn_.Conv2d(16, 32, 4, stride=2, padding=1)), ("relu2", nn_.ReLU()),
        ("conv3", nn_.Conv2d(32, 64, 3, stride=2, padding=1)), ("relu3", nn_.ReLU()),
        ("pool", nn_.AdaptiveAvgPool2d(1)), ("flatten", nn_.Flatten()),
        ("fc", nn_.Linear(64, num_classes)),
    ]
    if backend == "torch":
        return nn.Sequential(OrderedDict(layers))
    model = scratch.Sequential()
    for name, layer in layers:          # registered by name, in order: state_dict keys "conv1.weight", ...
        setattr(model, name, layer)
    return model


def body(model):
    """Everything but the last layer (the head): the feature extractor, (N, 1, 28, 28) -> (N, 64)."""
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


# ------------------------------------------------------------------------------------------------ training


def augment(x: torch.Tensor, generator: torch.Generator, max_shift: float = 2.0,
            max_degrees: float = 15.0) -> torch.Tensor:
    """A random shift (up to ``max_shift`` pixels along x and y) and rotation (up to ``max_degrees``) per image.

    x: (N, C, H, W). Each image gets its own angle and shift, uniform in their ranges, applied as one
    affine map with ``affine_grid`` + ``grid_sample`` (bilinear; pixels from outside the image are
    background, the smallest value in x). Returns a new (N, C, H, W) tensor; x is unchanged.
    """
    n, _, h, w = x.shape
    u = torch.rand(n, 3, generator=generator) * 2 - 1                 # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(max_degrees)
    tx, ty = u[:, 1] * max_shift * 2 / w, u[:, 2] * max_shift * 2 / h  # pixels -> grid units (2 = the width)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = TF.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    background = x.amin()
    return TF.grid_sample(x - background, grid, align_corners=False, padding_mode="zeros") + background


def steps_for(n: int, classes: int = 5) -> int:
    """Adam steps for n examples per class: STEPS, or enough for 4 passes over a large training set."""
    return max(STEPS, math.ceil(4 * n * classes / BATCH_SIZE))


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, groups: Optional[list] = None,
          steps: int = STEPS, batch_size: int = BATCH_SIZE, seed: int = 0, augment_data: bool = False,
          on_step: Optional[Callable[[int, nn.Module], None]] = None) -> nn.Module:
    """``steps`` Adam steps of cross-entropy on (x, y); full batch when len(x) <= batch_size.

    groups: optimiser parameter groups (``param_groups``); default every trainable parameter at ``LR``.
    Mini-batches and augmentations come from a torch.Generator seeded with ``seed``: reproducible.
    ``on_step(step, model)`` is called after each step (step = 1, 2, ...). Returns the model.
    """
    if groups is None:
        groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": LR}]
    optimizer = torch.optim.Adam(groups)
    gen = torch.Generator().manual_seed(seed)
    for step in range(1, steps + 1):
        model.train()
        if len(x) <= batch_size:
            xb, yb = x, y
        else:
            idx = torch.randperm(len(x), generator=gen)[:batch_size]
            xb, yb = x[idx], y[idx]
        if augment_data:
            xb = augment(xb, gen)
        loss = TF.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if on_step is not None:
            on_step(step, model)
    return model


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Outputs of the model (scores, or features for a body), in eval mode and batches of ``batch_size``."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of examples whose highest score is the true class (precision @ 1 in the decks)."""
    return float((predict(model, x).argmax(1) == y).float().mean())


def recall_at_k(scores, labels, k: int) -> float:
    """Fraction of examples whose true class is among the k highest scores ("recall @ 5" of [000]).

    scores: (N, C), labels: (N,). k = 1 is plain accuracy; k = C always gives 1.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


# ------------------------------------------------------------------------------------------------ pretraining


def pretrain_source(epochs: int = PRETRAIN_SETTINGS["epochs"], batch_size: int = PRETRAIN_SETTINGS["batch_size"],
                    lr: float = PRETRAIN_SETTINGS["lr"], seed: int = PRETRAIN_SETTINGS["seed"],
                    augment_data: bool = PRETRAIN_SETTINGS["augment_data"],
                    max_steps: Optional[int] = None) -> nn.Sequential:
    """Train ``source_cnn(5)`` on all training digits 0-4, the source task; deterministic on a CPU.

    Adam at ``lr``; ``epochs`` passes over the 4,106 digits in shuffled mini-batches, each batch randomly
    shifted and rotated (``augment``), all drawn from torch.Generator(seed); initial weights from
    torch.manual_seed(seed). ``max_steps`` stops early (the tests take a few steps).
    """
    torch.manual_seed(seed)
    model = source_cnn(len(SOURCE_CLASSES))
    x, y = task_digits("train", SOURCE_CLASSES)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            xb = augment(x[idx], gen) if augment_data else x[idx]
            loss = TF.cross_entropy(model(xb), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if max_steps is not None and step >= max_steps:
                return model
    return model


def save_weights(model: nn.Module, path: Union[str, Path]) -> str:
    """Write the model's state_dict to ``path`` with torch.save; return the file's sha256.

    Saved through an in-memory buffer: torch.save names the folder inside its zip file after the file
    (``cnn_digits04/data.pkl``), a buffer gets the fixed name ``archive/``, so the bytes (and the sha256)
    depend only on the weights, not on where the file is written.
    """
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    Path(path).write_bytes(buffer.getvalue())
    return sha256_file(path)


def sha256_file(path: Union[str, Path]) -> str:
    """The sha256 of a file's bytes, as a hex string."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_source_cnn(path: Union[str, Path, None] = None, expected_sha256: Optional[str] = CNN_DIGITS04_SHA256,
                    backend: str = "torch"):
    """The pretrained source CNN from ``data/cnn_digits04.pt``, its sha256 checked first.

    Raises FileNotFoundError (missing) or data.DataIntegrityError (other bytes), each saying how to get
    the file back. expected_sha256=None skips the check (for a file you have just rebuilt yourself).
    backend="scratch" gives the NumPy mirror with the same weights.
    """
    path = Path(path or CNN_DIGITS04_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"The pretrained source CNN is not at {path}.\n{REBUILD_HELP}")
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            raise data.DataIntegrityError(
                f"{path} has the wrong sha256.\n  expected {expected_sha256}\n  actual   {actual}\n"
                "The file is damaged, or was rebuilt with another torch version or CPU (which can change\n"
                "the last bits of the weights; load it with expected_sha256=None to use it anyway).\n"
                f"{REBUILD_HELP}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = source_cnn(len(SOURCE_CLASSES), backend=backend)
    model.load_state_dict(state)
    return model


# ------------------------------------------------------------------------------------------------ experiments


def make_model(method: str, pretrained: Optional[nn.Module], seed: int, num_classes: int = 5,
               body_lr: float = BODY_LR) -> tuple[nn.Module, list[dict]]:
    """A model and its optimiser groups for one method of the learning curve.

    "scratch":  a fresh source_cnn (random weights from torch.manual_seed(seed)), every layer at LR.
    "frozen":   a copy of the pretrained CNN with a new head (replace_head) and the body frozen.
    "finetune": a copy of the pretrained CNN with a new head at LR and the body at body_lr.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    torch.manual_seed(seed)
    if method == "scratch":
        model = source_cnn(num_classes)
        return model, param_groups(model, LR, LR)
    model = replace_head(copy.deepcopy(pretrained), num_classes)
    if method == "frozen":
        freeze(model, len(layer_names(model)) - 1)
    return model, param_groups(model, LR, body_lr)


def transfer_first_layers(pretrained: nn.Module, k: int, seed: int, num_classes: int = 5) -> nn.Module:
    """Copy the first k pretrained layers and freeze them; the layers after them start random.

    k = 0 is training from scratch; k = 3 (conv1, conv2, conv3) is the frozen-features method.
    """
    torch.manual_seed(seed)
    model = source_cnn(num_classes)
    names = layer_names(model)[:k]
    for name in names:
        model.get_submodule(name).load_state_dict(pretrained.get_submodule(name).state_dict())
    freeze(model, names)
    return model


def run(method: str, n: int, seed: int, pretrained: Optional[nn.Module], train_set, test_set,
        steps: Optional[int] = None, augment_data: bool = False, k: int = 0,
        return_model: bool = False):
    """Train one model on n examples per class (draw number ``seed``); return its test accuracy.

    method: "scratch", "frozen", "finetune" (``make_model``) or "first_k" (``transfer_first_layers``
    with k layers). steps defaults to ``steps_for(n)``. With return_model, returns (accuracy, model, idx).
    """
    x, y = train_set
    idx = torch.from_numpy(few_shot_indices(y.numpy(), n, seed))
    if method == "first_k":
        model = transfer_first_layers(pretrained, k, seed)
        groups = param_groups(model, LR, LR)
    else:
        model, groups = make_model(method, pretrained, seed)
    train(model, x[idx], y[idx], groups, steps=steps or steps_for(n), seed=seed, augment_data=augment_data)
    acc = accuracy(model, *test_set)
    return (acc, model, idx) if return_model else acc


def run_head_only(n: int, seed: int, pretrained: nn.Module, train_feats, test_feats,
                  steps: Optional[int] = None) -> float:
    """The frozen-features method on features computed beforehand: only the new head is trained.

    The frozen body gives the same features at every step, so this equals ``run("frozen", ...)`` (same
    head initialisation, batches and updates) up to rounding, without running the body 60 times.
    """
    model, _ = make_model("frozen", pretrained, seed)
    head = model.get_submodule(head_name(model))
    f, y = train_feats
    idx = torch.from_numpy(few_shot_indices(y.numpy(), n, seed))
    train(head, f[idx], y[idx], [{"params": list(head.parameters()), "lr": LR}], steps=steps or steps_for(n),
          seed=seed)
    return accuracy(head, *test_feats)


def learning_curve(pretrained: nn.Module, train_set, test_set, ns: Sequence[int] = N_PER_CLASS,
                   seeds: Sequence[int] = SEEDS, methods: Sequence[str] = METHODS,
                   steps: Optional[int] = None) -> dict[str, dict[int, list[float]]]:
    """Test accuracy of each method, for each n and each draw: ``result[method][n] = [acc per seed]``."""
    result = {m: {n: [] for n in ns} for m in methods}
    if "frozen" in methods:
        extractor = body(pretrained)
        train_feats = (predict(extractor, train_set[0]), train_set[1])
        test_feats = (predict(extractor, test_set[0]), test_set[1])
    for n in ns:
        for seed in seeds:
            for m in methods:
                if m == "frozen":
                    acc = run_head_only(n, seed, pretrained, train_feats, test_feats, steps)
                else:
                    acc = run(m, n, seed, pretrained, train_set, test_set, steps)
                result[m][n].append(acc)
    return result


def mean_accuracy(result: dict[str, dict[int, list[float]]]) -> dict[str, dict[int, float]]:
    """The learning curve averaged over the draws: ``mean[method][n]``."""
    return {m: {n: float(np.mean(accs)) for n, accs in per_n.items()} for m, per_n in result.items()}


def curve_table(result: dict[str, dict[int, list[float]]]) -> str:
    """The learning curve as text: one row per n, mean test accuracy (%) over the draws for each method."""
    means = mean_accuracy(result)
    methods = list(result)
    lines = [f"{'n per class':>11} " + " ".join(f"{m:>10}" for m in methods) + "   fine-tune gain"]
    for n in next(iter(means.values())):
        row = " ".join(f"{100 * means[m][n]:>9.1f}%" for m in methods)
        gain = f"{100 * (means['finetune'][n] - means['scratch'][n]):>+9.1f} pts" if {"finetune", "scratch"} <= set(methods) else ""
        lines.append(f"{n:>11} {row}   {gain}")
    return "\n".join(lines)


def accuracy_while_training(method: str, n: int, seed: int, pretrained: nn.Module, train_set, test_set,
                            steps: int = STEPS, every: int = 5) -> tuple[list[int], list[float]]:
    """Test accuracy every ``every`` steps during one run (step 0 = before training): how fast it learns."""
    x, y = train_set
    idx = torch.from_numpy(few_shot_indices(y.numpy(), n, seed))
    model, groups = make_model(method, pretrained, seed)
    steps_seen, accs = [0], [accuracy(model, *test_set)]

    def record(step: int, m: nn.Module) -> None:
        if step % every == 0:
            steps_seen.append(step)
            accs.append(accuracy(m, *test_set))

    train(model, x[idx], y[idx], groups, steps=steps, seed=seed, on_step=record)
    return steps_seen, accs


# ------------------------------------------------------------------------------------------------ figures


def plot_learning_curve(result: dict[str, dict[int, list[float]]], methods: Optional[Sequence[str]] = None,
                        show_draws: bool = True, ax=None):
    """Mean test accuracy against n (log axis), one line per method; dots = the single draws."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for m in methods or list(result):
        ns = list(result[m])
        ax.plot(ns, [np.mean(result[m][n]) for n in ns], "o-", color=METHOD_COLORS.get(m), label=METHOD_LABELS.get(m, m))
        if show_draws:
            for n in ns:
                ax.plot([n] * len(result[m][n]), result[m][n], ".", color=METHOD_COLORS.get(m), alpha=0.4)
    ax.axhline(1 / len(TARGET_CLASSES), color="grey", ls=":", lw=1, label="chance (1/5)")
    ax.set_xscale("log")
    ax.set_xticks(list(next(iter(result.values()))))
    ax.get_xaxis().set_major_formatter(plt.ScalarFormatter())
    ax.set(xlabel="labelled examples per class, n (log scale)", ylabel="test accuracy on digits 5-9",
           ylim=(0, 1), title="learning digits 5-9 from n examples per class")
    ax.legend(loc="lower right", fontsize=8)
    return ax.figure


_STATE_COLORS = {"random, trained": "tab:red", "pretrained, frozen": "tab:blue",
                 "pretrained, slow lr": "tab:green", "new head": "tab:orange"}


def _layer_states(method: str, names: list[str], k: int) -> list[str]:
    if method == "scratch":
        return ["random, trained"] * len(names)
    if method == "first_k":
        return ["pretrained, frozen"] * k + ["random, trained"] * (len(names) - k - 1) + ["new head"]
    body_state = "pretrained, frozen" if method == "frozen" else "pretrained, slow lr"
    return [body_state] * (len(names) - 1) + ["new head"]


def draw_methods(model: Optional[nn.Module] = None, methods: Sequence[str] = METHODS):
    """The three ways to learn the target task, layer by layer, as coloured boxes (width ~ log #params)."""
    model = model if model is not None else source_cnn()
    names = layer_names(model)
    sizes = [sum(p.numel() for p in model.get_submodule(n).parameters()) for n in names]
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.8 * len(methods)))
    for row, method in enumerate(methods):
        y = len(methods) - 1 - row
        x = 0.0
        for name, size, state in zip(names, sizes, _layer_states(method, names, 0)):
            width = 0.6 + 0.25 * math.log10(size)
            ax.add_patch(plt.Rectangle((x, y + 0.1), width, 0.7, color=_STATE_COLORS[state], alpha=0.8))
            ax.text(x + width / 2, y + 0.45, f"{name}\n{size:,}", ha="center", va="center", fontsize=8, color="white")
            x += width + 0.15
        ax.text(-0.15, y + 0.45, METHOD_LABELS.get(method, method), ha="right", va="center", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.8) for c in _STATE_COLORS.values()]
    ax.legend(handles, list(_STATE_COLORS), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize=8)
    ax.set(xlim=(-4.2, x + 0.1), ylim=(0, len(methods)))
    ax.axis("off")
    ax.set_title("input → layers (parameters) → 5 class scores", fontsize=10)
    fig.tight_layout()
    return fig


def plot_frozen_layers(model: nn.Module, k: int, title: str = ""):
    """Bar chart of the parameters per layer when the first k layers are frozen and the head is new.

    Grey bars are frozen, coloured bars train; the title gives the trainable total. Used by the widget.
    """
    names = layer_names(model)
    sizes = [sum(p.numel() for p in model.get_submodule(n).parameters()) for n in names]
    k = min(k, len(names) - 1)
    colors = ["tab:blue"] * k + ["tab:green"] * (len(names) - 1 - k) + ["tab:orange"]
    trainable = sum(sizes[k:])
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar(range(len(names)), sizes, color=colors)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=30, fontsize=8)
    ax.set_ylabel("parameters (log)")
    ax.set_title(f"{title}: first {k} layer(s) frozen (blue); {trainable:,} of {sum(sizes):,} "
                 f"parameters train ({trainable / sum(sizes):.1%})", fontsize=9)
    fig.tight_layout()
    return fig


def show_augmentations(images: torch.Tensor, max_shift: float = 2.0, max_degrees: float = 15.0,
                       seed: int = 0, copies: int = 6):
    """Each image (first column) and ``copies`` random augmentations of it (``augment``), in a grid.

    images: (N, 1, 28, 28) standardised digits (a handful). Returns the figure.
    """
    gen = torch.Generator().manual_seed(seed)
    rows = [images] + [augment(images, gen, max_shift, max_degrees) for _ in range(copies)]
    fig, axes = plt.subplots(len(images), copies + 1, figsize=(1.1 * (copies + 1), 1.1 * len(images)), squeeze=False)
    for j, batch in enumerate(rows):
        for i in range(len(images)):
            axes[i, j].imshow(batch[i, 0].numpy(), cmap="gray_r")
            axes[i, j].axis("off")
    axes[0, 0].set_title("original", fontsize=8)
    for j in range(1, copies + 1):
        axes[0, j].set_title(f"augmented {j}", fontsize=8)
    fig.suptitle(f"random shifts up to ±{max_shift:g} px and rotations up to ±{max_degrees:g}°", fontsize=9)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------ ImageNet


def imagenet_checkpoint() -> Path:
    """Where torchvision keeps ResNet-18's ImageNet weights: <torch.hub.get_dir()>/checkpoints/resnet18-f37072fd.pth."""
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_RESNET18_FILE


def imagenet_missing_message(path: Path) -> str:
    """What to do when the ImageNet weights are not on disk."""
    return (f"ImageNet weights for ResNet-18 not found at {path}: the ImageNet part is skipped (the course never "
            "downloads anything by itself).\nTo run it, fetch the weights once while online with\n"
            "    python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\"\n"
            f"which saves them as {imagenet_checkpoint()}, or pass weights_path= a copy of {IMAGENET_RESNET18_FILE}.")


def load_imagenet_resnet18(weights_path: Union[str, Path, None] = None) -> Optional[nn.Module]:
    """``architectures.resnet18()`` with torchvision's ImageNet weights, if they are on disk; else None.

    weights_path: a state_dict file for resnet18 (default: torchvision's cache, ``imagenet_checkpoint()``,
    whose sha256 must start with f37072fd as the file name says). Never downloads. When the file is
    missing or is not the expected one, prints what to do and returns None. Returns the model in eval mode.
    """
    path = Path(weights_path) if weights_path is not None else imagenet_checkpoint()
    if not path.is_file():
        print(imagenet_missing_message(path))
        return None
    if weights_path is None:
        prefix = IMAGENET_RESNET18_FILE.split("-")[1].split(".")[0]
        actual = sha256_file(path)
        if not actual.startswith(prefix):
            print(f"{path} is not torchvision's file: its sha256 starts {actual[:8]}, not {prefix}. Delete it and "
                  f"fetch it again.\n{imagenet_missing_message(path)}")
            return None
    model = architectures.resnet18()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def digits_to_imagenet(images, size: int = 64) -> torch.Tensor:
    """uint8 digits (N, 28, 28) -> what an ImageNet network expects: float32 (N, 3, size, size).

    Pixels scaled to 0..1, resized (bilinear), copied into the three colour channels, then normalised
    with ImageNet's channel means and standard deviations.
    """
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).unsqueeze(1) / 255.0
    x = TF.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def imagenet_features(model: nn.Module, x: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """The ResNet's 512 pooled features (its ``fc`` input) for images x (N, 3, H, W): (N, 512)."""
    extractor = copy.deepcopy(model)
    extractor.fc = nn.Identity()
    return predict(extractor, x, batch_size)


def imagenet_linear_probe(model: nn.Module, train_images, train_labels, test_images, test_labels,
                          size: int = 64, steps: int = 100, seed: int = 0) -> float:
    """Frozen ImageNet features + a new linear head, trained on the training digits; test accuracy.

    Images uint8 (N, 28, 28), labels int (N,) in 0..C-1. The head is Linear(512, C), trained full-batch
    with Adam at LR for ``steps`` steps on the (fixed) features.
    """
    train_labels, test_labels = torch.as_tensor(train_labels), torch.as_tensor(test_labels)
    f_train = imagenet_features(model, digits_to_imagenet(train_images, size))
    f_test = imagenet_features(model, digits_to_imagenet(test_images, size))
    torch.manual_seed(seed)
    head = nn.Linear(f_train.shape[1], int(train_labels.max()) + 1)
    train(head, f_train, train_labels, steps=steps, batch_size=len(f_train), seed=seed)
    return accuracy(head, f_test, test_labels)
