"""Input checks shared by the scratch layers: errors that teach, not broadcasting tracebacks."""
from __future__ import annotations

import numpy as np


def refuse_tensor(x, name: str):
    """``x`` itself, unless it is a torch tensor (scratch layers compute with NumPy: say how to convert)."""
    if hasattr(x, "detach"):
        raise TypeError(f"{name} is a torch tensor, but scratch layers compute with NumPy arrays: pass "
                        f"x.detach().cpu().numpy(), or build the model with backend='torch'.")
    return x


def as_float_array(x, name: str, integers: str = "refuse") -> np.ndarray:
    """Return ``x`` as a floating-point array, refusing torch tensors, object arrays and integer input with a hint.

    Layers refuse integers (torch's Linear, Conv2d, BatchNorm and AvgPool2d do too; its ReLU and MaxPool2d
    would keep them as integers): uint8 pixels 0..255 turned silently into floats would train on inputs 255
    times larger than the [0, 1] the course's models expect. Loss targets pass ``integers="convert"``:
    0/1 labels are natural regression and BCE targets.
    """
    arr = np.asarray(refuse_tensor(x, name))
    if arr.dtype.kind in "iub" and integers == "convert":
        return arr.astype(np.float64)
    if arr.dtype.kind in "iub":
        hint = "x.astype(np.float64) / 255 for pixels 0..255" if arr.dtype == np.uint8 else "x.astype(np.float64)"
        raise TypeError(f"{name} has dtype {arr.dtype}, but the scratch layers compute in floating point "
                        f"(torch's Linear and Conv2d refuse integers too): convert it first, e.g. {hint}.")
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a numeric array of floats, got dtype {arr.dtype}.")
    return arr


def positive_int(value, name: str, where: str) -> int:
    """``value`` as an int >= 1 (a size or a count: channels, features); bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be a whole number, got {value!r} ({type(value).__name__}). "
                        f"Sizes count channels or features: write e.g. {name}=int(...) if you computed it.")
    if value < 1:
        raise ValueError(f"{where}: {name} must be positive, got {name}={value}. It is a number of channels "
                         f"or features, so a layer with {value} of them has nothing to compute.")
    return int(value)


def check_number(value, name: str, where: str) -> float:
    """``value`` as a float, or a TypeError that names the argument (a string '0.1' or None is a common slip)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {value!r} ({type(value).__name__}).")
    return float(value)


def check_grad_output(grad_output, shape: tuple, where: str) -> np.ndarray:
    """Refuse a gradient whose shape is not the forward output's ``shape`` (it would broadcast or reshape
    into garbage); return it as an array."""
    grad = np.asarray(grad_output)
    if grad.shape != tuple(shape):
        raise ValueError(
            f"{where}: grad_output has shape {grad.shape} but the forward output has shape {tuple(shape)}; "
            f"dL/d output has one entry per output entry, so the shapes must be equal (torch: 'Mismatch in "
            f"shape'). Is it the gradient of another layer's output, or transposed?"
        )
    return grad


def check_image_batch(x: np.ndarray, layer: str, channels: int | None = None) -> None:
    """Refuse anything but a batch of images (N, C, H, W), with the fix that fits the shape given.

    (H, W) is one grey image: x[None, None]. A rank-3 (C, H, W) whose first axis is ``channels`` is one image:
    x[None]; otherwise a rank-3 array is a batch (N, H, W) that lost its channel axis: x[:, None].
    """
    if x.ndim == 4:
        return
    raise ValueError(f"{layer} expects a batch of images (N, C, H, W), got shape {tuple(x.shape)} "
                     f"(rank {x.ndim}). {_missing_axis_fix(tuple(x.shape), channels)}")


def _missing_axis_fix(shape: tuple, channels: int | None) -> str:
    if len(shape) == 2 and channels is not None and shape[1] == channels:
        return (f"It looks like {shape[0]} vectors of {channels} features (N, C), not images: a layer for "
                f"features (Linear, BatchNorm1d) takes those; or reshape them back to (N, C, H, W).")
    if len(shape) == 2:
        return "One single-channel image (H, W)? Use x[None, None] to add the batch and channel axes."
    if len(shape) != 3:
        return "Reshape it to (N, C, H, W): N images of C channels of H x W pixels."
    if channels is None or shape[0] == channels:
        return f"One image (C, H, W)? Use x[None] to make a batch of one: shape {(1, *shape)}."
    if channels == 1:
        return (f"A batch of {shape[0]} one-channel images (N, H, W)? Use x[:, None] to add the channel axis: "
                f"shape {(shape[0], 1, *shape[1:])}.")
    return (f"The layer expects C = {channels} channels: as one image (C, H, W) this has {shape[0]} channels "
            f"(x[None] would not help), as a batch of images without a channel axis it has 1 (x[:, None] would "
            f"not help either). Check the layer's channel count against the data.")


def check_ndim(x: np.ndarray, allowed: tuple[int, ...], layer: str, meaning: str) -> None:
    """Raise if ``x.ndim`` is not one of ``allowed``; ``meaning`` describes the expected layout."""
    if x.ndim not in allowed:
        raise ValueError(
            f"{layer} expected input of rank {' or '.join(map(str, allowed))} ({meaning}), "
            f"got shape {tuple(x.shape)} (rank {x.ndim})."
        )


def check_last_dim(x: np.ndarray, expected: int, layer: str) -> None:
    """Raise if the feature (last) dimension of ``x`` is not ``expected``."""
    if x.shape[-1] != expected:
        raise ValueError(
            f"{layer} expects {expected} input features (last dimension), got shape {tuple(x.shape)} "
            f"with {x.shape[-1]} features. Did you forget to flatten the images, or is in_features wrong?"
        )


def check_same_shape(a: np.ndarray, b: np.ndarray, what_a: str, what_b: str, where: str) -> None:
    """Raise if two arrays that must match element for element have different shapes."""
    if a.shape != b.shape:
        raise ValueError(
            f"{where}: {what_a} has shape {tuple(a.shape)} but {what_b} has shape {tuple(b.shape)}; "
            f"they must be equal (no broadcasting here)."
        )


def check_class_targets(logits: np.ndarray, target, where: str, spatial: bool = False) -> np.ndarray:
    """Validate integer class labels for ``(N, C)`` scores; return them as an int64 array of shape ``(N,)``.

    With ``spatial=True`` (cross-entropy, as torch's) also ``(N, C, d1, ..., dk)`` scores, one class per position,
    with ``(N, d1, ..., dk)`` targets: ``(N, C, H, W)`` logits take ``(N, H, W)`` targets. Probability targets
    (torch's float targets of the logits' shape) are refused: the scratch losses take class indices only.
    """
    if not (spatial and logits.ndim > 2):
        also = "; or (N, C, d1, ..., dk): class scores per position" if spatial else ""
        check_ndim(logits, (2,), where, f"(N, C): one row of class scores per example{also}")
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        probabilities = (" Probability targets of the scores' shape (torch accepts float targets) are not "
                         "supported by the scratch loss." if spatial else "")
        if target.dtype.kind == "f" and target.size and np.all(target == np.round(target)):
            probabilities += " Whole-number floats (a label map loaded as floats)? Use target.astype(np.int64)."
        raise TypeError(
            f"{where}: target must hold integer class indices 0..C-1, got dtype {target.dtype}. "
            f"(One-hot targets? Use target.argmax(axis=1).){probabilities}"
        )
    _check_target_shape(tuple(logits.shape), tuple(target.shape), where)
    c = logits.shape[1]
    bad = (target < 0) | (target >= c)
    if bad.any():
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), target.shape)
        raise ValueError(
            f"{where}: labels must be in 0..{c - 1} for {c} classes, but target[{', '.join(map(str, i))}] = "
            f"{int(target[i])} ({int(bad.sum())} label(s) out of range)."
        )
    return target.astype(np.int64)


def _check_target_shape(scores: tuple, target: tuple, where: str) -> None:
    """Class targets have the scores' shape without the class axis 1: (N, C) -> (N,), (N, C, H, W) -> (N, H, W)."""
    expected = (scores[0], *scores[2:])
    if target == expected:
        return
    if len(scores) == 2:
        raise ValueError(f"{where}: scores have shape {scores}, so target must have shape {expected}, got {target}.")
    hint = ""
    if target == (scores[0], 1, *scores[2:]):
        hint = " The target has a channel axis of size 1: use target.squeeze(1)."
    elif len(target) == len(expected) and sorted(target) == sorted(expected):
        hint = " Same sizes in another order: are the spatial axes swapped (H and W transposed)?"
    elif target == scores:
        hint = (" The target has the scores' own shape: class indices have no class axis (probability targets "
                "of the scores' shape, which torch accepts, are not supported by the scratch loss).")
    raise ValueError(
        f"{where}: scores have shape {scores}, so target must have shape {expected}, got {target}: "
        f"one class index per position, (N, C, H, W) logits take (N, H, W) targets (the class axis 1 removed).{hint}"
    )


def pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """An int or an (h, w) pair of ints, as torch accepts for kernel_size/stride/padding/dilation."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}.")
    if min(values) < minimum:
        kind = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}.")
    return int(values[0]), int(values[1])
