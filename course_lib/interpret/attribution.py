"""Which pixels a decision rests on: attribution maps of the score of one class, each the shape of x (N, C, H, W).

    saliency               d score_t / dx                                      (Simonyan et al. 2013)
    guided_backprop        the same backward, negative gradients stopped at every ReLU  (Springenberg et al. 2015)
    smoothgrad             the mean saliency of n noisy copies of x            (Smilkov et al. 2017)
    integrated_gradients   (x - x') * the mean gradient on the line from x' to x   (Sundararajan et al. 2017)
    occlusion              how much the score drops when a window of x is covered   (Zeiler & Fergus 2014)

The score is the logit of class ``target`` (one int, or one per input), not its softmax probability. The
first three are one backward pass each through ``_model.backprop``: for a scratch model that pass is the
model's own ``backward``, the one written in notebook 03, started from a one-hot vector on the target class.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._model import as_input, backprop, is_array, one_hot_like, scores, targets

_absolute = abs        # the built-in, kept under another name: the functions below have an argument called abs
_CHUNK = 512           # images per forward pass when a method runs many copies of x (bounded memory)


def saliency(model, x, target, abs: bool = True):
    """Vanilla saliency: the gradient of the target class's score (logit) with respect to every input pixel.

    map = |d s_t / dx| (abs=True, Simonyan's map) or d s_t / dx (abs=False, the signed gradient).
    x (N, C, H, W) -> map (N, C, H, W). For a scratch model: model.backward(one_hot(t)), walked leaf by leaf.
    """
    grad = backprop(model, x, seed=lambda s: one_hot_like(s, target)).input_grad
    return _absolute(grad) if abs else grad


def guided_backprop(model, x, target):
    """Guided backpropagation: saliency's backward pass, but every ReLU also lets only positive gradients back,
    g_in = (x > 0) * max(g_out, 0) (Springenberg et al. 2015). x (N, C, H, W) -> map (N, C, H, W), signed.

    It is not vanilla saliency (the lecture deck calls saliency "based on guided backprop"): compare the two.
    """
    return backprop(model, x, seed=lambda s: one_hot_like(s, target), guided=True).input_grad


def smoothgrad(model, x, target, n: int = 25, sigma: float = 0.15, seed: int = 0, abs: bool = False):
    """SmoothGrad: the mean saliency of n noisy copies x + e, e ~ N(0, sigma^2) per pixel (Smilkov et al. 2017).

    sigma is in pixel units (pixels are 0..1, so 0.15 is 15 % of the range). The noise is drawn in NumPy from
    np.random.default_rng(seed) with shape (n, N, C, H, W), so a scratch model and its torch twin see the same
    noise. abs=False averages the signed gradients (Smilkov's definition); abs=True averages |gradient|, which is
    what Captum's NoiseTunnel(Saliency) gives by default (its Saliency takes abs=True).
    x (N, C, H, W) -> map (N, C, H, W).
    """
    x = as_input(model, x)
    n, sigma = _count("smoothgrad", "n", n), _non_negative("smoothgrad", "sigma", sigma)
    t = targets(target, len(x))
    noise = np.random.default_rng(seed).normal(0.0, sigma, size=(n,) + tuple(x.shape))
    noisy = (x[None] + as_input(model, noise)).reshape((n * len(x),) + tuple(x.shape[1:]))
    maps = _chunked(lambda xs, ts: saliency(model, xs, ts, abs=abs), noisy, np.tile(t, n))
    return maps.reshape(tuple(noise.shape)).mean(0)


def integrated_gradients(model, x, target, baseline=None, steps: int = 50):
    """Integrated gradients: IG = (x - x') * integral over a in [0, 1] of d s_t/dx at x' + a (x - x').

    x' is the baseline (None: zeros, a black image; or a number, or an array broadcastable to x). The integral
    is the midpoint rule with ``steps`` points a_k = (k + 1/2) / steps, the mean of their gradients (Captum:
    method="riemann_middle"). Completeness: sum(IG) = s_t(x) - s_t(x') up to the rule's error, checked by
    ``completeness_gap`` (Sundararajan et al. 2017). x (N, C, H, W) -> map (N, C, H, W), signed.
    """
    x = as_input(model, x)
    steps = _count("integrated_gradients", "steps", steps)
    base = _baseline(model, x, baseline, "integrated_gradients")
    t = targets(target, len(x))
    alphas = as_input(model, ((np.arange(steps) + 0.5) / steps).reshape((steps,) + (1,) * x.ndim))
    path = (base + alphas * (x - base)).reshape((steps * len(x),) + tuple(x.shape[1:]))   # (steps*N, C, H, W)
    grads = _chunked(lambda xs, ts: saliency(model, xs, ts, abs=False), path, np.tile(t, steps))
    return (x - base) * grads.reshape((steps,) + tuple(x.shape)).mean(0)


def completeness_gap(model, x, target, attributions, baseline=None):
    """How far attributions are from complete, per example: (sum(attr) - (s_t(x) - s_t(x'))) / |s_t(x) - s_t(x')|.

    0 means the map accounts for the whole change of the score from the baseline x' to x (integrated gradients'
    completeness axiom); 0.01 is 1 %. It is relative to the change, so a digit whose score hardly moves from the
    baseline (|change| << 1) shows a large gap for a small absolute error. x, attributions (N, C, H, W) -> (N,).
    """
    x = as_input(model, x)
    base = _baseline(model, x, baseline, "completeness_gap")
    change = _score(model, x, target) - _score(model, base, target)
    total = as_input(model, attributions).reshape(len(x), -1).sum(1)
    return (total - change) / _absolute(change)


def occlusion(model, x, target, window: int, stride: int, baseline=0.0):
    """Occlusion: cover a window x window square of every channel with ``baseline``, note the score's drop
    s_t(x) - s_t(x with the window covered), add it to every pixel of the window, and divide each pixel by the
    number of windows covering it (Zeiler & Fergus 2014).

    Windows start at 0, stride, 2*stride, ... until one reaches the far edge; the last one is cut at the edge
    when the stride does not fit exactly, so every pixel is covered. This is Captum's Occlusion with
    sliding_window_shapes=(C, window, window) and strides=stride. All occluded copies go through the model in a
    few large batches. baseline: a number (0.0, black) or an array broadcastable to x.
    x (N, C, H, W) -> map (N, C, H, W), the same value in every channel.
    """
    x = as_input(model, x)
    base = _baseline(model, x, baseline, "occlusion")
    masks = _window_masks(x.shape, window, stride)                              # (M, H, W) of 0 and 1
    m = as_input(model, masks)[:, None, None]                                   # (M, 1, 1, H, W)
    covered = (x[None] * (1 - m) + base[None] * m).reshape((-1,) + tuple(x.shape[1:]))   # (M*N, C, H, W)
    t = np.tile(targets(target, len(x)), len(masks))
    after = _chunked(lambda xs, ts: _score(model, xs, ts), covered, t).reshape(len(masks), len(x))   # (M, N)
    drops = _score(model, x, target)[None] - after                              # (M, N)
    per_pixel = (drops[:, :, None, None, None] * m).sum(0) / m.sum(0)         # (N, 1, H, W)
    return per_pixel + 0 * x                                                    # copied into every channel


# ------------------------------------------------------------------------------------------ helpers


def _score(model, x, target):
    """s_t(x): the score of class target[i] for every input, (N,)."""
    s = scores(model, x)
    return (s * one_hot_like(s, target)).sum(1)


def _chunked(fn, xs, ts):
    """fn(xs[i:j], ts[i:j]) over consecutive slices of at most _CHUNK images, joined along the batch axis."""
    parts = [fn(xs[i:i + _CHUNK], ts[i:i + _CHUNK]) for i in range(0, len(xs), _CHUNK)]
    if is_array(xs):
        return np.concatenate(parts)
    import torch

    return torch.cat(parts)


def _window_masks(shape, window, stride) -> np.ndarray:
    """One (H, W) mask per window position, 1 inside the window: (M, H, W), rows of windows first."""
    height, width = shape[-2:]
    window = _count("occlusion", "window", window)
    stride = _count("occlusion", "stride", stride)
    if window > min(height, width):
        raise ValueError(f"occlusion: window={window} is larger than the image ({height}x{width}); choose a window "
                         f"of at most {min(height, width)} pixels.")
    if stride > window:
        raise ValueError(f"occlusion: stride={stride} is larger than window={window}, so some pixels would never be "
                         f"covered (and their map would be 0/0); use stride <= {window}.")
    rows = [k * stride for k in range(math.ceil((height - window) / stride) + 1)]
    cols = [k * stride for k in range(math.ceil((width - window) / stride) + 1)]
    masks = np.zeros((len(rows) * len(cols), height, width))
    for k, (r, c) in enumerate((r, c) for r in rows for c in cols):
        masks[k, r:r + window, c:c + window] = 1.0
    return masks


def _baseline(model, x, baseline, where: str):
    """The baseline x' as the model's kind, the shape of x: None -> zeros; a number or an array broadcast."""
    if baseline is None:
        return 0 * x
    base = as_input(model, baseline)
    try:
        np.broadcast_shapes(tuple(base.shape), tuple(x.shape))
    except ValueError:
        raise ValueError(f"{where}: baseline has shape {tuple(base.shape)}, which does not match x's shape "
                         f"{tuple(x.shape)}; give one image (C, H, W), a batch like x, or a number.") from None
    return base + 0 * x


def _count(where: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a whole number >= 1, got {value!r}.")
    return int(value)


def _non_negative(where: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{where}: {name} is a standard deviation in pixel units, a number >= 0; got {value!r}.")
    return float(value)
