"""The experiments and pictures of notebook 09 (transfer learning): pretrain on one task, reuse the network
for another with few labels.

The course's own experiment fits a laptop CPU. The **source task** is the training split's digits 0-4
(4,106 images); the **target task** is digits 5-9 learned from only ``n`` labelled examples per class of the
fit split, compared on the validation split's 487 digits 5-9 (every choice is made there) and reported once
on the test split's 975. The network is ``models.source_cnn()``; its pretraining (``transfer.pretrain_source``,
run by ``data/pretrain_digits04.py``) is cached in ``data/cnn_digits04.pt`` and loaded by
``models.load_source_cnn()``.

    from course_lib.lessons import nb09_transfer_learning as nb09
    model, groups = nb09.make_model("finetune", pretrained, seed=0)   # one of METHODS or RECIPES, with lr groups
    nb09.train_with_adam(model, x, y, groups)                         # STEPS Adam steps (training.fit)
    acc = nb09.run("gradual", 10, seed, pretrained, fit_set, val_set)  # one run: n per class, draw ``seed``
    curve = nb09.learning_curve(pretrained, fit_set, val_set)
    nb09.plot_learning_curve(curve)                                   # every figure function returns a Figure

The ImageNet version uses ``architectures.resnet18`` (torchvision's names) with torchvision's ImageNet
weights, only when they are already on disk (``load_imagenet_resnet18``): nothing downloads.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Optional, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from .. import architectures, data, training
from ..models import source_cnn
from ..plots import finish
from ..training import AccuracyEvery, Callback, accuracy, outputs
from ..transfer import (SOURCE_CLASSES, GradualUnfreezing, augment, body, freeze, head_name, layer_groups,
                        layer_names, param_groups, replace_head)

TARGET_CLASSES = (5, 6, 7, 8, 9)
N_PER_CLASS = (5, 10, 20, 50, 100, 500)
SEEDS = (0, 1, 2)
METHODS = ("scratch", "frozen", "finetune")
RECIPES = ("discriminative", "gradual")       # fine-tuning recipes compared with the decks' "finetune"
METHOD_LABELS = {"scratch": "from scratch", "frozen": "frozen features (new head only)",
                 "finetune": "fine-tuned (body at lr / 10)",
                 "discriminative": "per-layer rates (each layer lr / 2.6 of the one above)",
                 "gradual": "per-layer rates + gradual unfreezing"}
METHOD_COLORS = {"scratch": "tab:red", "frozen": "tab:blue", "finetune": "tab:green"}

# Training on the target task: the same settings for every method, so that the comparison is fair.
STEPS = 60            # Adam steps per run (more for n = 500: see steps_for)
BATCH_SIZE = 50       # full batch when 5 n <= 50, i.e. n <= 10
LR = 1e-2             # training from scratch, and every new head
BODY_LR = 1e-3        # fine-tuning: the pretrained layers move ten times more slowly
FACTOR = 1 / 2.6      # discriminative rates (ULMFiT): each layer 2.6 times slower than the one above

IMAGENET_RESNET18_FILE = "resnet18-f37072fd.pth"   # torchvision's IMAGENET1K_V1; f37072fd = start of its sha256
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ------------------------------------------------------------------------------------------------ training


def steps_for(n: int, classes: int = 5) -> int:
    """Adam steps for n examples per class: STEPS, or enough for 4 passes over a large training set."""
    return max(STEPS, math.ceil(4 * n * classes / BATCH_SIZE))


def few_shot_batches(batch_size: int, steps: int, generator: torch.Generator) -> training.Batches:
    """``steps`` batches: all examples when there are at most ``batch_size``, else ``batch_size`` drawn at
    random (``torch.randperm`` from ``generator``) for every step."""
    def draw(n: int):
        for _ in range(steps):
            yield torch.arange(n) if n <= batch_size else torch.randperm(n, generator=generator)[:batch_size]

    return draw


def train_with_adam(model: nn.Module, x: torch.Tensor, y: torch.Tensor, groups: Optional[list] = None,
                    steps: int = STEPS, batch_size: int = BATCH_SIZE, seed: int = 0, augment_data: bool = False,
                    callbacks: Sequence[Callback] = ()) -> nn.Module:
    """``steps`` Adam steps of cross-entropy on (x, y) by ``training.fit``; full batch when len(x) <= batch_size.

    groups: optimiser parameter groups (``transfer.param_groups``); default every trainable parameter at ``LR``.
    Mini-batches and augmentations come from one torch.Generator seeded with ``seed``: reproducible.
    Returns the model.
    """
    if groups is None:
        groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": LR}]
    gen = torch.Generator().manual_seed(seed)
    training.fit(model, nn.CrossEntropyLoss(), torch.optim.Adam(groups), (x, y), epochs=1, progress=False,
                 batches=few_shot_batches(batch_size, steps, gen),
                 transform=(lambda xb: augment(xb, gen)) if augment_data else None, callbacks=callbacks)
    return model


def recall_at_k(scores, labels, k: int) -> float:
    """Fraction of examples whose true class is among the k highest scores ("recall @ 5" of [000]).

    scores: (N, C), labels: (N,). k = 1 is plain accuracy; k = C always gives 1.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


# ------------------------------------------------------------------------------------------------ experiments


def make_model(method: str, pretrained: Optional[nn.Module], seed: int, num_classes: int = 5,
               body_lr: float = BODY_LR) -> tuple[nn.Module, list[dict]]:
    """A model and its optimiser groups for one method of the learning curve, or one fine-tuning recipe.

    "scratch":  a fresh source_cnn (random weights from torch.manual_seed(seed)), every layer at LR.
    "frozen":   a copy of the pretrained CNN with a new head (replace_head) and the body frozen.
    "finetune": a copy of the pretrained CNN with a new head at LR and the body at body_lr (the decks' recipe).
    "discriminative", "gradual": a copy of the pretrained CNN with a new head, one group per layer,
                each layer FACTOR times slower than the one above (``transfer.layer_groups``); "gradual"
                also unfreezes them one at a time while training (``run`` adds the callback).
    """
    if method not in METHODS + RECIPES:
        raise ValueError(f"method must be one of {METHODS + RECIPES}, got {method!r}.")
    torch.manual_seed(seed)
    if method == "scratch":
        model = source_cnn(num_classes)
        return model, param_groups(model, LR, LR)
    model = replace_head(copy.deepcopy(pretrained), num_classes)
    if method == "frozen":
        freeze(model, len(layer_names(model)) - 1)
    if method in ("discriminative", "gradual"):
        return model, layer_groups(model, LR, FACTOR)
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


def run(method: str, n: int, seed: int, pretrained: Optional[nn.Module], train_set, eval_set,
        steps: Optional[int] = None, augment_data: bool = False, k: int = 0,
        return_model: bool = False):
    """Train one model on n examples per class (draw number ``seed``) of train_set; return its accuracy on eval_set.

    method: one of METHODS or RECIPES (``make_model``; "gradual" unfreezes a layer every steps / 4 steps,
    ``transfer.GradualUnfreezing``) or "first_k" (``transfer_first_layers`` with k layers). steps defaults
    to ``steps_for(n)``. eval_set: the validation split, where every comparison is made.
    With return_model, returns (accuracy, model, idx).
    """
    x, y = train_set
    idx = torch.from_numpy(data.few_shot_indices(y.numpy(), n, seed))
    steps = steps or steps_for(n)
    if method == "first_k":
        model = transfer_first_layers(pretrained, k, seed)
        groups = param_groups(model, LR, LR)
    else:
        model, groups = make_model(method, pretrained, seed)
    callbacks = [GradualUnfreezing(steps // len(layer_names(model)))] if method == "gradual" else []
    train_with_adam(model, x[idx], y[idx], groups, steps=steps, seed=seed, augment_data=augment_data,
                    callbacks=callbacks)
    acc = accuracy(model, *eval_set)
    return (acc, model, idx) if return_model else acc


def run_head_only(n: int, seed: int, pretrained: nn.Module, train_feats, eval_feats,
                  steps: Optional[int] = None) -> float:
    """The frozen-features method on features computed beforehand: only the new head is trained.

    The frozen body gives the same features at every step, so this equals ``run("frozen", ...)`` (same
    head initialisation, batches and updates) up to rounding, without running the body 60 times.
    """
    model, _ = make_model("frozen", pretrained, seed)
    head = model.get_submodule(head_name(model))
    f, y = train_feats
    idx = torch.from_numpy(data.few_shot_indices(y.numpy(), n, seed))
    train_with_adam(head, f[idx], y[idx], [{"params": list(head.parameters()), "lr": LR}],
                    steps=steps or steps_for(n), seed=seed)
    return accuracy(head, *eval_feats)


def learning_curve(pretrained: nn.Module, train_set, eval_set, ns: Sequence[int] = N_PER_CLASS,
                   seeds: Sequence[int] = SEEDS, methods: Sequence[str] = METHODS,
                   steps: Optional[int] = None) -> dict[str, dict[int, list[float]]]:
    """Accuracy on eval_set (the validation split) of each method, for each n and each draw:
    ``result[method][n] = [acc per seed]``."""
    result = {m: {n: [] for n in ns} for m in methods}
    if "frozen" in methods:
        extractor = body(pretrained)
        train_feats = (outputs(extractor, train_set[0]), train_set[1])
        eval_feats = (outputs(extractor, eval_set[0]), eval_set[1])
    for n in ns:
        for seed in seeds:
            for m in methods:
                if m == "frozen":
                    acc = run_head_only(n, seed, pretrained, train_feats, eval_feats, steps)
                else:
                    acc = run(m, n, seed, pretrained, train_set, eval_set, steps)
                result[m][n].append(acc)
    return result


def mean_accuracy(result: dict[str, dict[int, list[float]]]) -> dict[str, dict[int, float]]:
    """The learning curve averaged over the draws: ``mean[method][n]``."""
    return {m: {n: float(np.mean(accs)) for n, accs in per_n.items()} for m, per_n in result.items()}


def curve_table(result: dict[str, dict[int, list[float]]]) -> str:
    """The learning curve as text: one row per n, mean accuracy (%) over the draws for each method."""
    means = mean_accuracy(result)
    methods = list(result)
    lines = [f"{'n per class':>11} " + " ".join(f"{m:>10}" for m in methods) + "   fine-tune gain"]
    for n in next(iter(means.values())):
        row = " ".join(f"{100 * means[m][n]:>9.1f}%" for m in methods)
        gain = f"{100 * (means['finetune'][n] - means['scratch'][n]):>+9.1f} pts" if {"finetune", "scratch"} <= set(methods) else ""
        lines.append(f"{n:>11} {row}   {gain}")
    return "\n".join(lines)


def accuracy_while_training(method: str, n: int, seed: int, pretrained: nn.Module, train_set, eval_set,
                            steps: int = STEPS, every: int = 5) -> tuple[list[int], list[float]]:
    """Accuracy on eval_set every ``every`` steps during one run (step 0 = before training): how fast it learns."""
    x, y = train_set
    idx = torch.from_numpy(data.few_shot_indices(y.numpy(), n, seed))
    model, groups = make_model(method, pretrained, seed)
    before = accuracy(model, *eval_set)
    record = AccuracyEvery(*eval_set, every=every)
    train_with_adam(model, x[idx], y[idx], groups, steps=steps, seed=seed, callbacks=[record])
    return [0] + record.steps, [before] + record.accs


# ------------------------------------------------------------------------------------------------ figures


def plot_learning_curve(result: dict[str, dict[int, list[float]]], methods: Optional[Sequence[str]] = None,
                        show_draws: bool = True) -> Figure:
    """Mean accuracy (on the validation split) against n (log axis), one line per method; dots = the single draws."""
    fig, ax = plt.subplots(figsize=(7, 4))
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
    ax.set(xlabel="labelled examples per class, n (log scale)", ylabel="validation accuracy on digits 5-9",
           ylim=(0, 1), title="learning digits 5-9 from n examples per class")
    ax.legend(loc="lower right", fontsize=8)
    plt.close(fig)
    return fig


_STATE_COLORS = {"random, trained": "tab:red", "pretrained, frozen": "tab:blue",
                 "pretrained, slow lr": "tab:green", "new head": "tab:orange"}


def _layer_states(method: str, names: list[str], k: int) -> list[str]:
    if method == "scratch":
        return ["random, trained"] * len(names)
    if method == "first_k":
        return ["pretrained, frozen"] * k + ["random, trained"] * (len(names) - k - 1) + ["new head"]
    body_state = "pretrained, frozen" if method == "frozen" else "pretrained, slow lr"
    return [body_state] * (len(names) - 1) + ["new head"]


def draw_methods(model: Optional[nn.Module] = None, methods: Sequence[str] = METHODS) -> Figure:
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
    return finish(fig)


def plot_frozen_layers(model: nn.Module, k: int, title: str = "") -> Figure:
    """Bar chart of the parameters per layer when the first k layers are frozen and the head is new.

    Blue bars are frozen, green ones train, the orange head is new; the title gives the trainable total.
    The widget's callback.
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
    return finish(fig)


def show_augmentations(images: torch.Tensor, max_shift: float = 2.0, max_degrees: float = 15.0,
                       seed: int = 0, copies: int = 6) -> Figure:
    """Each image (first column) and ``copies`` random augmentations of it (``augment``), in a grid.

    images: (N, 1, 28, 28) standardised digits (a handful). The widget's callback.
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
    return finish(fig)


# ------------------------------------------------------------------------------------------------ ImageNet


def imagenet_checkpoint() -> Path:
    """Where torchvision keeps ResNet-18's ImageNet weights: <torch.hub.get_dir()>/checkpoints/resnet18-f37072fd.pth."""
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_RESNET18_FILE


def imagenet_fetch_help() -> str:
    """How to get torchvision's ResNet-18 ImageNet weights onto the disk (once, online)."""
    return ("Fetch the weights once while online with\n"
            "    python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\"\n"
            f"which saves them as {imagenet_checkpoint()}, or pass weights_path= a copy of {IMAGENET_RESNET18_FILE}.")


def imagenet_missing_message(path: Path) -> str:
    """What to do when the ImageNet weights are not on disk."""
    return (f"ImageNet weights for ResNet-18 not found at {path}: the ImageNet part is skipped (the course never "
            f"downloads anything by itself).\nTo run it: {imagenet_fetch_help()}")


def load_imagenet_resnet18(weights_path: Union[str, Path, None] = None,
                           check_sha256: bool = True) -> Optional[nn.Module]:
    """``architectures.resnet18()`` with torchvision's ImageNet weights, if they are on disk; else None.

    weights_path: a copy of torchvision's resnet18 state_dict file (default: torchvision's cache,
    ``imagenet_checkpoint()``). Never downloads. A missing file prints what to do and returns None. Any file,
    at either path, must have torchvision's sha256 (it starts with f37072fd, as the file name says; torchvision
    checks the same prefix); other bytes raise data.DataIntegrityError with both hashes and how to fetch the
    right file. check_sha256=False skips that, for a state_dict you saved yourself. Returns the model in eval mode.
    """
    path = Path(weights_path) if weights_path is not None else imagenet_checkpoint()
    if not path.is_file():
        print(imagenet_missing_message(path))
        return None
    if check_sha256:
        _check_imagenet_sha256(path)
    model = architectures.resnet18()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def _check_imagenet_sha256(path: Path) -> None:
    """Raise data.DataIntegrityError unless the file's sha256 starts with the prefix in torchvision's file name."""
    prefix = IMAGENET_RESNET18_FILE.split("-")[1].split(".")[0]
    actual = data.sha256_file(path)
    if not actual.startswith(prefix):
        raise data.DataIntegrityError(
            f"{path} is not torchvision's {IMAGENET_RESNET18_FILE}: its sha256 is\n  actual   {actual}\nwhere "
            f"torchvision's starts with\n  expected {prefix}...\n(a truncated download or another file). Delete "
            f"it. {imagenet_fetch_help()}\nFor a state_dict "
            "you saved yourself, pass check_sha256=False.")


def digits_to_imagenet(images, size: int = 64) -> torch.Tensor:
    """uint8 digits (N, 28, 28) -> what an ImageNet network expects: float32 (N, 3, size, size).

    Pixels scaled to 0..1, resized (bilinear), copied into the three colour channels, then normalised
    with ImageNet's channel means and standard deviations.
    """
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).unsqueeze(1) / 255.0
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def imagenet_features(model: nn.Module, x: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """The ResNet's 512 pooled features (its ``fc`` input) for images x (N, 3, H, W): (N, 512)."""
    extractor = copy.deepcopy(model)
    extractor.fc = nn.Identity()
    return outputs(extractor, x, batch_size)


def imagenet_linear_probe(model: nn.Module, train_images, train_labels, eval_images, eval_labels,
                          size: int = 64, steps: int = 100, seed: int = 0) -> float:
    """Frozen ImageNet features + a new linear head, trained on the training digits; accuracy on the others.

    Images uint8 (N, 28, 28), labels int (N,) in 0..C-1. The head is Linear(512, C), trained full-batch
    with Adam at LR for ``steps`` steps on the (fixed) features.
    """
    train_labels, eval_labels = torch.as_tensor(train_labels), torch.as_tensor(eval_labels)
    f_train = imagenet_features(model, digits_to_imagenet(train_images, size))
    f_eval = imagenet_features(model, digits_to_imagenet(eval_images, size))
    torch.manual_seed(seed)
    head = nn.Linear(f_train.shape[1], int(train_labels.max()) + 1)
    train_with_adam(head, f_train, train_labels, steps=steps, batch_size=len(f_train), seed=seed)
    return accuracy(head, f_eval, eval_labels)
