"""What the network "imagines" (notebook 10): the input that a class or a channel likes most.

Activation maximisation (Erhan et al. 2009; Simonyan et al. 2013 for a class score) climbs the gradient of one
unit's value with respect to the *input*, the weights fixed:

    x <- clip(x + lr * (d objective / dx - l2 * x))       the ascent on objective(x) - l2/2 ||x||^2

with Yosinski et al. 2015's regularisers against the high-frequency patterns a bare ascent finds: the image is
rolled by a random shift before each gradient (jitter) and blurred every few steps. DeepDream (Mordvintsev et
al. 2015) starts from a real image instead and amplifies whatever a layer already sees there.

    image = maximize_activation(model, target=range(10), shape=(10, 1, 28, 28), steps=..., lr=...)
    image = maximize_activation(model, layer="conv2", channel=5)
    dream = deep_dream(model, x, "relu2", steps=20, lr=0.05)

The gradients come from ``_model.backprop`` (the scratch model's own backward, or torch's autograd); the random
shifts from one seeded NumPy generator, so a scratch model and its torch twin make the same image.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._model import as_input, backprop, is_array, layer_name, targets

# ------------------------------------------------------------------------------------------ the same op on both sides


def _roll(x, dy: int, dx: int):
    """Shift the images down by dy and right by dx pixels, wrapping around (np.roll / torch.roll)."""
    if is_array(x):
        return np.roll(x, (dy, dx), axis=(2, 3))
    import torch

    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def _clip(x, low: float, high: float):
    return np.clip(x, low, high) if is_array(x) else x.clamp(low, high)


def _pad(x, radius: int, axis: int):
    """Zeros added on both sides of axis 2 (rows) or 3 (columns)."""
    if is_array(x):
        widths = [(0, 0)] * 4
        widths[axis] = (radius, radius)
        return np.pad(x, widths)
    import torch.nn.functional as F

    return F.pad(x, (radius, radius, 0, 0) if axis == 3 else (0, 0, radius, radius))


def gaussian_blur(x, sigma: float):
    """Blur (N, C, H, W) images with a Gaussian of standard deviation ``sigma`` pixels, one axis after the other.

    kernel k[u] = exp(-u^2 / (2 sigma^2)) / sum, u = -r..r with r = ceil(3 sigma); zeros beyond the border.
    Works on NumPy arrays and torch tensors alike (the same sums).
    """
    _positive("gaussian_blur", "sigma", sigma)
    radius = max(1, math.ceil(3 * sigma))
    kernel = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2.0 * sigma ** 2))
    kernel = kernel / kernel.sum()
    for axis in (2, 3):
        padded, n = _pad(x, radius, axis), x.shape[axis]
        if axis == 2:
            x = sum(float(w) * padded[:, :, u:u + n] for u, w in enumerate(kernel))
        else:
            x = sum(float(w) * padded[:, :, :, u:u + n] for u, w in enumerate(kernel))
    return x


# ------------------------------------------------------------------------------------------ checks


def _positive(where: str, name: str, value, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (value >= 0 if zero else value > 0):
        raise ValueError(f"{where}: {name} must be a number {'>= 0' if zero else '> 0'}, got {value!r}.")
    return float(value)


def _count(where: str, name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{where}: {name} must be a whole number >= {low}, got {value!r}.")
    return int(value)


def _check_clamp(where: str, clamp):
    if clamp is None:
        return None
    if not (isinstance(clamp, (tuple, list)) and len(clamp) == 2 and float(clamp[0]) < float(clamp[1])):
        raise ValueError(f"{where}: clamp is the pixel range (low, high) with low < high, e.g. (0.0, 1.0), or None; "
                         f"got {clamp!r}.")
    return float(clamp[0]), float(clamp[1])


# ------------------------------------------------------------------------------------------ the objective


def _unit_seed(units, where: str):
    """seed(out) = d objective / d out for objective[n] = mean over positions of out[n, units[n], ...]:
    1/(h w) on unit n's channel (1 on a class score of an (N, K) output), 0 elsewhere."""
    def seed(out):
        n, size = out.shape[0], out.shape[1]
        chosen = targets(units, n)
        if ((chosen < 0) | (chosen >= size)).any():
            raise ValueError(f"{where}: unit {int(chosen[(chosen < 0) | (chosen >= size)][0])} does not exist: the "
                             f"output has {size} classes/channels, numbered 0..{size - 1}.")
        v = out * 0
        if is_array(v):
            v[np.arange(n), chosen] = 1.0 / math.prod(out.shape[2:])
        else:
            import torch

            rows = torch.arange(n, device=v.device)
            v[rows, torch.as_tensor(chosen, device=v.device)] = 1.0 / math.prod(out.shape[2:])
        return v
    return seed


def _softmax(out):
    if is_array(out):
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return out.softmax(dim=1)


def _log_softmax(out):
    if is_array(out):
        shifted = out - out.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out.log_softmax(dim=1)


def _log_probability_seed(class_seed):
    """d log softmax(z)_c / dz = onehot(c) - softmax(z): up for class c, down for the classes it competes with."""
    def seed(out):
        return class_seed(out) - _softmax(out)
    return seed


_SCORES = ("logit", "log_probability")


def _objective(model, target, layer, channel, where: str, score: str = "logit"):
    """(layer name or None, seed) for 'the score of class target' or 'the mean activation of channel of layer'."""
    if (target is None) == (layer is None):
        raise ValueError(f"{where}: say what to maximise: a class with target=c (its score, the logit), or a "
                         f"channel of a layer with layer='conv2', channel=k; got target={target!r}, "
                         f"layer={layer!r}.")
    if score not in _SCORES or (layer is not None and score != "logit"):
        raise ValueError(f"{where}: score is what to climb for a class: 'logit' (Simonyan et al. 2013) or "
                         f"'log_probability' (log softmax: the logit minus its competitors'); a channel has only "
                         f"its activation. Got score={score!r} with {'layer' if layer else 'target'}.")
    if layer is None:
        seed = _unit_seed(_units(target), where)
        return None, seed if score == "logit" else _log_probability_seed(seed)
    if channel is None:
        raise ValueError(f"{where}: layer={layer!r} needs channel=k, the channel whose mean activation to maximise.")
    return layer_name(model, layer), _unit_seed(_units(channel), where)


def _units(units):
    """range(10) and lists as arrays (``targets`` takes an int or an array of ints)."""
    return np.asarray(units) if isinstance(units, (range, list, tuple)) else units


def activation_objective(model, x, target=None, layer=None, channel=None, score: str = "logit"):
    """The value that ``maximize_activation`` climbs, for each input: (N,).

    target=c: the logit z_c of class c (``score="log_probability"``: log softmax(z)_c = z_c - log sum_k e^z_k);
    layer=..., channel=k: mean_{i,j} a[n, k, i, j] of that layer's output. target or channel: one int, or one
    per input.
    """
    at, _ = _objective(model, target, layer, channel, "activation_objective", score)
    seed = _unit_seed(_units(channel if target is None else target), "activation_objective")
    out = backprop(model, x, None, at=at).output
    if score == "log_probability":
        out = _log_softmax(out)
    return (out * seed(out)).reshape(len(out), -1).sum(1)


# ------------------------------------------------------------------------------------------ the ascent


def maximize_activation(model, target=None, layer=None, channel=None, shape=(1, 1, 28, 28), steps: int = 100,
                        lr: float = 0.1, l2: float = 0.0, jitter: int = 0, blur_every: int = 0,
                        blur_sigma: float = 0.5, seed: int = 0, clamp=(0.0, 1.0), start=None,
                        score: str = "logit"):
    """The input that maximises a class score (``target=c``) or a channel's mean activation (``layer, channel``).

    Starts from ``start`` (N, C, H, W), or from uniform noise in 0..0.1 of ``shape`` drawn from
    ``np.random.default_rng(seed)``; then ``steps`` times (Yosinski et al. 2015's regularised ascent):

        (dy, dx) ~ uniform{-jitter..jitter}^2           from the same generator
        g = d objective / dx   at x rolled by (dy, dx), rolled back
        x = x + lr * (g - l2 * x)                        ascent on objective - l2/2 ||x||^2
        x = blur(x, blur_sigma)                          every blur_every steps (0: never)
        x = clip(x, *clamp)                              stay in the pixel range (None: no clipping)

    One image per target/channel: target=range(10) with shape (10, 1, 28, 28) makes all classes in one run
    (the objective is a sum over images, so each image climbs its own unit). Returns x in the model's kind.

    A class's ``score``: "logit" (z_c, Simonyan et al. 2013) or "log_probability" (log softmax(z)_c, which also
    pushes the other classes down). A climbed logit need not win the softmax: on digit_cnn trained 3 epochs
    the logit-maximising "9" is classified as a 3, while score="log_probability", steps=40, lr=1.0, l2=0.01 gives
    each of the 10 images its class with softmax confidence 0.94..0.99 (0.5 s for all 10 on one CPU core).
    For a channel, climb a conv layer (before its ReLU, whose zero gradient leaves a channel that starts
    silent at 0): layer="conv3", channel=range(64), steps=40, lr=0.1 raises all 64 channels in about 2 s.
    """
    where = "maximize_activation"
    at, objective = _objective(model, target, layer, channel, where, score)
    steps, jitter = _count(where, "steps", steps, 1), _count(where, "jitter", jitter, 0)
    lr, l2 = _positive(where, "lr", lr), _positive(where, "l2", l2, zero=True)
    blur_every = _count(where, "blur_every", blur_every, 0)
    if blur_every:
        _positive(where, "blur_sigma", blur_sigma)
    clamp = _check_clamp(where, clamp)
    rng = np.random.default_rng(_count(where, "seed", seed, 0))
    x = as_input(model, rng.uniform(0.0, 0.1, size=tuple(shape)) if start is None else start)
    for step in range(steps):
        dy, dx = (int(s) for s in rng.integers(-jitter, jitter + 1, size=2))
        g = _roll(backprop(model, _roll(x, dy, dx), objective, at=at).input_grad, -dy, -dx)
        x = x + lr * (g - l2 * x)
        if blur_every and (step + 1) % blur_every == 0:
            x = gaussian_blur(x, blur_sigma)
        if clamp is not None:
            x = _clip(x, *clamp)
    return x


def _half_squared_norm(out):
    """d(||a||^2 / 2)/da = a: DeepDream's seed, 'more of whatever this layer already sees'."""
    return out


def deep_dream(model, x, layer, steps: int = 20, lr: float = 0.05, jitter: int = 0, seed: int = 0,
               clamp=(0.0, 1.0)):
    """A little DeepDream (Mordvintsev et al. 2015): amplify what ``layer`` sees in the real images x (N, C, H, W).

    Gradient ascent on objective(x) = ||a(x)||^2 / 2 (a: the layer's output), each step normalised per image
    by the mean absolute gradient, so ``lr`` is the mean change per pixel and step:

        g = d objective / dx   (at x rolled by a random (dy, dx) in -jitter..jitter, rolled back)
        x = clip(x + lr * g / mean|g|)

    Shallow layers paint strokes and edges over the digit; deep ones, parts of other digits. Returns x in the
    model's kind.
    """
    where = "deep_dream"
    at = layer_name(model, layer)
    steps, jitter = _count(where, "steps", steps, 1), _count(where, "jitter", jitter, 0)
    lr, clamp = _positive(where, "lr", lr), _check_clamp(where, clamp)
    rng = np.random.default_rng(_count(where, "seed", seed, 0))
    x = as_input(model, x)
    for _ in range(steps):
        dy, dx = (int(s) for s in rng.integers(-jitter, jitter + 1, size=2))
        g = _roll(backprop(model, _roll(x, dy, dx), _half_squared_norm, at=at).input_grad, -dy, -dx)
        scale = abs(g).reshape(len(g), -1).mean(1).reshape(-1, 1, 1, 1) + 1e-12
        x = x + lr * g / scale
        if clamp is not None:
            x = _clip(x, *clamp)
    return x
