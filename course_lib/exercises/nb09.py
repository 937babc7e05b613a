"""Exercises of notebook 09: transfer learning.

Four small pieces of the notebook's experiment, each checked on hidden test inputs: choosing n labelled
examples per class, shifting images (data augmentation), per-layer learning rates (the decks' "small
learning rate for the first layers") and recall @ k (the Behold.ai slide's metric).
"""
from __future__ import annotations

import numpy as np

from ..lessons.nb09_transfer_learning import recall_at_k
from .checking import Exercise


def _first_n_reference(labels: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([np.flatnonzero(labels == c)[:n] for c in np.unique(labels)])


def _first_n_inputs(rng: np.random.Generator) -> tuple:
    classes, n = int(rng.integers(2, 6)), int(rng.integers(1, 5))
    counts = rng.integers(n, n + 6, size=classes)                # every class has at least n examples
    labels = rng.permutation(np.repeat(np.arange(classes), counts))
    return labels, n


def _shift_reference(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    src_y, dst_y = slice(max(0, -dy), min(h, h - dy)), slice(max(0, dy), min(h, h + dy))
    src_x, dst_x = slice(max(0, -dx), min(w, w - dx)), slice(max(0, dx), min(w, w + dx))
    out[:, dst_y, dst_x] = images[:, src_y, src_x]
    return out


def _shift_inputs(rng: np.random.Generator) -> tuple:
    n, h, w = int(rng.integers(1, 4)), int(rng.integers(5, 10)), int(rng.integers(5, 10))
    dy, dx = int(rng.integers(-3, 4)), int(rng.integers(-3, 4))
    if dy == 0 and dx == 0:
        dx = 2
    return rng.random((n, h, w)) + 0.1, dy, dx                    # + 0.1: no pixel is already 0


def _layer_lrs_reference(n_layers: int, head_lr: float, factor: float) -> np.ndarray:
    return head_lr * factor ** np.arange(n_layers - 1, -1, -1)


def _layer_lrs_inputs(rng: np.random.Generator) -> tuple:
    return int(rng.integers(2, 9)), float(10 ** rng.uniform(-4, -1)), float(rng.uniform(0.1, 0.9))


def _recall_inputs(rng: np.random.Generator) -> tuple:
    n, c = int(rng.integers(5, 30)), int(rng.integers(3, 16))
    return rng.standard_normal((n, c)), rng.integers(0, c, n), int(rng.integers(2, c))


EXERCISES: list[Exercise] = [
    Exercise(
        key="09.first_n_per_class",
        task="Write first_n_per_class(labels, n): the indices of the first n examples of each class in labels "
             "(N,), class 0's first, then class 1's, ...; within a class in the order they appear.",
        hint="For each class c in np.unique(labels): np.flatnonzero(labels == c) lists its positions in order; "
             "keep the first n of them ([:n]) and np.concatenate the pieces.",
        reference=_first_n_reference,
        make_inputs=_first_n_inputs,
        trials=5,
        mistakes={
            "the last n of each class, not the first":
                lambda y, n: np.concatenate([np.flatnonzero(y == c)[-n:] for c in np.unique(y)]),
            "the indices sorted (in file order, not class 0's first)":
                lambda y, n: np.sort(np.concatenate([np.flatnonzero(y == c)[:n] for c in np.unique(y)])),
            "n examples in all, not n per class":
                lambda y, n: np.arange(n),
            "labels returned instead of indices":
                lambda y, n: np.concatenate([y[y == c][:n] for c in np.unique(y)]),
        },
    ),
    Exercise(
        key="09.shift_images",
        task="Write shift_images(images, dy, dx): move every image of images (N, H, W) dy pixels down and dx "
             "pixels right (negative: up, left). Pixels that come in from outside are 0; pixels pushed out are "
             "lost (no wrap-around). Return a new (N, H, W) array.",
        hint="Start from out = np.zeros_like(images) and copy one rectangle: for dy >= 0, out rows dy..H-1 get "
             "input rows 0..H-1-dy; for dy < 0, out rows 0..H-1+dy get input rows -dy..H-1; the same along x. "
             "np.roll wraps the pushed-out pixels round to the other side, which a shifted digit does not do.",
        reference=_shift_reference,
        make_inputs=_shift_inputs,
        trials=6,
        mistakes={
            "np.roll: what falls off one edge wraps round to the other":
                lambda im, dy, dx: np.roll(im, (dy, dx), axis=(1, 2)),
            "dy and dx swapped (dy moves right, dx down)": lambda im, dy, dx: _shift_reference(im, dx, dy),
            "the wrong direction (positive dy moves up)": lambda im, dy, dx: _shift_reference(im, -dy, -dx),
            "the images returned unshifted": lambda im, dy, dx: im,
        },
    ),
    Exercise(
        key="09.layer_learning_rates",
        task="Write layer_learning_rates(n_layers, head_lr, factor): an array (n_layers,) with the learning rate "
             "of each layer, first layer first. The last layer (the head) gets head_lr and every layer gets "
             "factor times the rate of the layer above it, so the first layers, the most general ones, move least.",
        hint="Layer i (0 = first) is n_layers - 1 - i layers below the head: lr_i = head_lr * factor ** "
             "(n_layers - 1 - i). With n_layers = 3, head_lr = 0.01, factor = 0.1: [0.0001, 0.001, 0.01].",
        reference=_layer_lrs_reference,
        make_inputs=_layer_lrs_inputs,
        rtol=1e-9,
        trials=5,
        mistakes={
            "head first (the order reversed)": lambda n, lr, f: lr * f ** np.arange(n),
            "the head slowed down too (factor ** (n_layers - i))": lambda n, lr, f: lr * f ** np.arange(n, 0, -1),
            "one slow rate for the whole body (head_lr * factor)":
                lambda n, lr, f: np.array([lr * f] * (n - 1) + [lr]),
        },
    ),
    Exercise(
        key="09.recall_at_k",
        task="Write recall_at_k(scores, labels, k): the fraction of examples (rows of scores (N, C)) whose true "
             "class labels[i] is among the k classes with the highest scores. A float between 0 and 1.",
        hint="np.argsort(-scores, axis=1)[:, :k] lists each row's k best classes (highest first); compare them "
             "with labels[:, None] and ask whether any matches in each row, then average. k = 1 is the accuracy.",
        reference=recall_at_k,
        make_inputs=_recall_inputs,
        trials=5,
        mistakes={
            "the k LOWEST scores (np.argsort without the minus)":
                lambda s, y, k: float(np.mean(np.any(np.argsort(s, 1)[:, :k] == y[:, None], 1))),
            "only the k-th best class, not any of the best k":
                lambda s, y, k: float(np.mean(np.argsort(-s, 1)[:, k - 1] == y)),
            "the count of hits, not the fraction":
                lambda s, y, k: float(np.sum(np.any(np.argsort(-s, 1)[:, :k] == y[:, None], 1))),
            "the best k + 1 classes (off by one)":
                lambda s, y, k: float(np.mean(np.any(np.argsort(-s, 1)[:, :k + 1] == y[:, None], 1))),
            "plain accuracy (k ignored)":
                lambda s, y, k: float(np.mean(s.argmax(1) == y)),
        },
    ),
]
