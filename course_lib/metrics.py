"""Measures for networks whose output is an image: PSNR for reconstructions, IoU and Dice for segmentations.

    >>> from course_lib.metrics import psnr, iou, mean_iou, dice_loss
    >>> psnr(pred, target)                      # (N,) decibels, one per image; psnr(...).mean() for a summary
    >>> iou(pred.argmax(1), labels, 11)         # (11,) per class, nan where a class is in neither map
    >>> mean_iou(pred.argmax(1), labels, 11)    # the mean over the classes present (nanmean)
    >>> dice_loss(probs.softmax(1), labels)     # 1 - mean Dice over classes, differentiable with torch

Every function takes NumPy arrays or torch tensors (both arguments of one kind) and returns the input's kind:
the same numbers either way. With torch tensors ``dice_loss`` keeps the graph, so ``loss.backward()`` works.
Label maps hold integer classes 0..num_classes-1 (the digit scenes of ``data.digit_scenes``: 0 = background,
1 + d for digit d, 11 classes).
"""
from __future__ import annotations

import numbers

import numpy as np


def psnr(pred, target, data_range=1.0):
    """Peak signal-to-noise ratio of each image, in decibels: 10 log10(data_range^2 / MSE).

    pred, target: (N, ...) images of the same shape, e.g. (N, 1, 28, 28) with pixels in 0..1 (data_range=1.0;
    255 for pixels 0..255). MSE is the mean squared difference over all of an image's pixels, so one PSNR per
    image: returns (N,) float64 (array or tensor). An image reproduced exactly has MSE = 0 and PSNR = inf.
    A summary is ``psnr(...).mean()``, the mean of the per-image values (which is not the PSNR of the mean MSE:
    log10 is concave; the per-image mean is the common choice in super-resolution papers).
    """
    torch_in = _same_kind(pred, target, "pred", "target", "psnr")
    if not torch_in:
        pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    _same_shape(pred, target, "pred", "target", "psnr")
    if len(pred.shape) < 2:
        raise ValueError(f"psnr: pred and target have shape {tuple(pred.shape)}, but PSNR is per image: pass a "
                         "batch (N, ...) such as (N, 1, 28, 28); for one image x write x[None].")
    if isinstance(data_range, bool) or not isinstance(data_range, numbers.Real) or not data_range > 0:
        raise ValueError(f"psnr: data_range is the span of the pixel values, a number > 0, got {data_range!r}: "
                         "1.0 for pixels in 0..1, 255 for pixels 0..255.")
    if torch_in:
        mse = (pred.double() - target.double()).pow(2).flatten(1).mean(1)
        return 10 * np.log10(data_range ** 2) - 10 * mse.log10()
    mse = ((pred - target) ** 2).reshape(len(pred), -1).mean(1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(data_range ** 2) - 10 * np.log10(mse)


def iou(pred_labels, true_labels, num_classes):
    """Intersection over union of each class: IoU_c = TP_c / (TP_c + FP_c + FN_c) = |P_c ∩ T_c| / |P_c ∪ T_c|.

    pred_labels, true_labels: integer label maps of the same shape, e.g. (N, H, W) with classes 0..num_classes-1
    (from scores, ``pred_labels = scores.argmax(1)``). The pixels of the whole batch are pooled.
    Returns (num_classes,) float64: nan for a class in neither map (0/0: nothing to get right or wrong; so
    torchmetrics' JaccardIndex with average=None and zero_division=nan), 0 for a class predicted but absent.
    """
    pred, true = _label_maps(pred_labels, true_labels, num_classes, "iou")
    if hasattr(pred, "detach"):
        import torch

        confusion = torch.bincount((true * num_classes + pred).flatten(), minlength=num_classes ** 2)
        confusion = confusion.reshape(num_classes, num_classes).double()
        hits = confusion.diagonal()
        return hits / (confusion.sum(0) + confusion.sum(1) - hits)
    confusion = np.bincount((true * num_classes + pred).ravel(), minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes).astype(np.float64)
    hits = confusion.diagonal()
    with np.errstate(invalid="ignore"):
        return hits / (confusion.sum(0) + confusion.sum(1) - hits)


def mean_iou(pred_labels, true_labels, num_classes):
    """The mean of ``iou`` over the classes present in either map (nanmean): a float, or a 0-d tensor for torch.

    A class absent from both maps is left out rather than counted as 0 or 1: a scene with no 7 neither
    rewards nor punishes the network for 7s.
    """
    per_class = iou(pred_labels, true_labels, num_classes)
    if hasattr(per_class, "detach"):
        return per_class.nanmean()
    return float(np.nanmean(per_class))


def dice_loss(probs, target, eps=1e-6):
    """Soft Dice loss: 1 - (1/C) sum_c (2 |P_c ∩ T_c| + eps) / (|P_c| + |T_c| + eps).

    probs:  (N, C, H, W) per-pixel class probabilities (``logits.softmax(1)``), summing to 1 over C.
    target: (N, H, W) integer labels 0..C-1, one-hot inside: T_c = (target == c).
    |P_c ∩ T_c| = sum over the batch's pixels of P_c * T_c, |P_c| = sum of P_c, |T_c| = sum of T_c.
    Every class counts, background (class 0 of the digit scenes) included, each with weight 1/C; a class in
    neither the target nor the prediction scores Dice 1 (eps / eps), so it does not pull the loss up.
    eps (> 0) keeps 0/0 away and barely moves anything else. Perfect one-hot probabilities give exactly 0.
    Returns a float for NumPy input; a 0-d tensor for torch input, with the graph kept (``loss.backward()``).
    """
    torch_in = _same_kind(probs, target, "probs", "target", "dice_loss")
    if not torch_in:
        probs, target = np.asarray(probs, dtype=np.float64), np.asarray(target)
    target = _check_probs(probs, target, torch_in)
    if torch_in:
        import torch

        one_hot = torch.nn.functional.one_hot(target, probs.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    else:
        one_hot = np.eye(probs.shape[1])[target].transpose(0, 3, 1, 2)
    overlap = (probs * one_hot).sum(axis=(0, 2, 3))
    sizes = probs.sum(axis=(0, 2, 3)) + one_hot.sum(axis=(0, 2, 3))
    loss = 1 - ((2 * overlap + eps) / (sizes + eps)).mean()
    return loss if torch_in else float(loss)


def _same_kind(a, b, name_a, name_b, where) -> bool:
    """True if both are torch tensors, False if neither is; a mixture gets an error saying how to match them."""
    a_torch, b_torch = hasattr(a, "detach"), hasattr(b, "detach")
    if a_torch != b_torch:
        tensor, array = (name_a, name_b) if a_torch else (name_b, name_a)
        raise TypeError(f"{where}: {tensor} is a torch tensor but {array} is not: pass both as torch tensors "
                        f"(torch.from_numpy({array})) or both as NumPy arrays ({tensor}.detach().cpu().numpy()).")
    if not a_torch:
        for x, name in ((a, name_a), (b, name_b)):
            if np.asarray(x).dtype.kind not in "iubf":
                raise TypeError(f"{where}: {name} must be numbers, got dtype {np.asarray(x).dtype}.")
    return a_torch


def _same_shape(a, b, name_a, name_b, where) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{where}: {name_a} has shape {tuple(a.shape)} but {name_b} has shape {tuple(b.shape)}; "
                         "they must be the same (one value per pixel in each).")


def _label_maps(pred_labels, true_labels, num_classes, where):
    """Both label maps as int64 of the input's kind, after the checks that teach (scores, shapes, range)."""
    torch_in = _same_kind(pred_labels, true_labels, "pred_labels", "true_labels", where)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"{where}: num_classes must be a whole number >= 1, got {num_classes!r} "
                         "(11 for the digit scenes: background and ten digits).")
    if not torch_in:
        pred_labels, true_labels = np.asarray(pred_labels), np.asarray(true_labels)
    if len(pred_labels.shape) == len(true_labels.shape) + 1:
        raise ValueError(f"{where}: pred_labels has shape {tuple(pred_labels.shape)}, one axis more than "
                         f"true_labels {tuple(true_labels.shape)}: these look like scores per class. Pass the "
                         "predicted labels, pred_labels = scores.argmax(1).")
    _same_shape(pred_labels, true_labels, "pred_labels", "true_labels", where)
    if (pred_labels.numel() if torch_in else pred_labels.size) == 0:
        raise ValueError(f"{where}: the label maps are empty (shape {tuple(pred_labels.shape)}): nothing to measure.")
    return tuple(_labels_in_range(x, name, num_classes, where, torch_in)
                 for x, name in ((pred_labels, "pred_labels"), (true_labels, "true_labels")))


def _labels_in_range(labels, name, num_classes, where, torch_in):
    """``labels`` as int64 if they are whole numbers 0..num_classes-1; else an error naming the bad value."""
    floating = labels.is_floating_point() if torch_in else labels.dtype.kind == "f"
    if floating:
        raise TypeError(f"{where}: {name} has dtype {labels.dtype}, but labels are integer classes. From scores "
                        "or probabilities take labels = scores.argmax(1); from whole-number floats, "
                        "labels.long() (torch) or labels.astype(np.int64).")
    low, high = (int(labels.min()), int(labels.max()))
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(f"{where}: {name} holds the label {bad}, outside 0..{num_classes - 1} "
                         f"(num_classes={num_classes}). Is num_classes right? The digit scenes have 11 classes: "
                         "0 = background, 1 + d for digit d.")
    return labels.long() if torch_in else labels.astype(np.int64)


def _check_probs(probs, target, torch_in):
    """``target`` as int64 labels if ``probs`` are (N, C, H, W) probabilities for it; else an error that says
    which shape, sum or label is wrong."""
    if len(probs.shape) != 4 or len(target.shape) != 3 or tuple(probs.shape[:1]) + tuple(probs.shape[2:]) != \
            tuple(target.shape):
        raise ValueError(f"dice_loss: probs has shape {tuple(probs.shape)} and target has shape "
                         f"{tuple(target.shape)}; they must be (N, C, H, W) probabilities and (N, H, W) labels.")
    values = probs.detach().double().cpu().numpy() if torch_in else probs
    sums = values.sum(1)
    if values.min() < 0 or values.max() > 1 or not np.allclose(sums, 1, atol=1e-3):
        worst = sums.flat[np.abs(sums - 1).argmax()]
        raise ValueError(f"dice_loss: probs must be probabilities that sum to 1 over the classes (dim 1); the "
                         f"values span {values.min():.3g}..{values.max():.3g} and a pixel's sum is {worst:.4g}. "
                         "From a network's scores take probs = logits.softmax(dim=1).")
    return _labels_in_range(target, "target", probs.shape[1], "dice_loss", torch_in)
