"""Exercises of notebook 10: visualisation and understanding.

Four pieces of the notebook's methods, each checked on hidden test inputs: the fast gradient sign step,
an occlusion map, a class activation map from the last features and the final layer's weights, and
integrated gradients by the midpoint rule (whose attributions add up to f(x) - f(baseline)).
"""
from __future__ import annotations

import numpy as np

from .checking import Exercise


def _fgsm_step_reference(x: np.ndarray, grad: np.ndarray, eps: float) -> np.ndarray:
    return np.clip(x + eps * np.sign(grad), 0.0, 1.0)


def _fgsm_step_inputs(rng: np.random.Generator) -> tuple:
    shape = (int(rng.integers(1, 4)), 1, int(rng.integers(3, 6)), int(rng.integers(3, 6)))
    x = rng.choice([0.0, 1.0, 0.5], size=shape) * (rng.random(shape) < 0.5) + rng.random(shape) * 0.1
    x = np.clip(x, 0.0, 1.0)                                    # ink, background and grey, some at the bounds
    grad = rng.standard_normal(shape) * 10 ** rng.uniform(-4, 1)
    grad[rng.random(shape) < 0.2] = 0.0                          # sign(0) = 0: those pixels stay
    return x, grad, float(rng.uniform(0.05, 0.3))


def _window_corners(size: int, window: int, stride: int) -> range:
    return range(0, size - window + 1, stride)


def _averaged_over_windows(image: np.ndarray, window: int, stride: int, value) -> np.ndarray:
    """Each window position's value(occluded image), added to the pixels it covers, averaged per pixel."""
    h, w = image.shape
    total, count = np.zeros_like(image), np.zeros_like(image)
    for r in _window_corners(h, window, stride):
        for c in _window_corners(w, window, stride):
            occluded = image.copy()
            occluded[r:r + window, c:c + window] = 0.0
            total[r:r + window, c:c + window] += value(occluded)
            count[r:r + window, c:c + window] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _occlusion_reference(score_fn, image: np.ndarray, window: int, stride: int) -> np.ndarray:
    base = score_fn(image[None])[0]
    return _averaged_over_windows(image, window, stride, lambda occluded: base - score_fn(occluded[None])[0])


def _score_function(rng: np.random.Generator, shape: tuple[int, int]):
    """A made-up non-linear 'target score' of a batch of images (M, H, W) -> (M,)."""
    weight, bias = rng.standard_normal(shape), float(rng.standard_normal())

    def score(images: np.ndarray) -> np.ndarray:
        z = (images * weight).sum(axis=(1, 2)) + bias
        return np.tanh(z) + 0.1 * z ** 2

    return score


def _occlusion_inputs(rng: np.random.Generator) -> tuple:
    h, w = int(rng.integers(6, 10)), int(rng.integers(6, 10))
    window = int(rng.integers(3, 5))
    stride = int(rng.integers(2, window))                       # > 1, and the windows overlap
    return _score_function(rng, (h, w)), rng.random((h, w)), window, stride


def _cam_reference(features: np.ndarray, fc_weight: np.ndarray, target: int) -> np.ndarray:
    return np.tensordot(fc_weight[target], features, axes=1)


def _cam_inputs(rng: np.random.Generator) -> tuple:
    k, classes = int(rng.integers(3, 7)), int(rng.integers(7, 11))   # K != number of classes
    h = int(rng.integers(3, 6))
    features = np.maximum(rng.standard_normal((k, h, h + 1)), 0.0)    # after a ReLU, like the real ones
    return features, rng.standard_normal((classes, k)), int(rng.integers(0, classes))


def _integrated_gradients_reference(grad_fn, x: np.ndarray, baseline: np.ndarray, steps: int) -> np.ndarray:
    alphas = (np.arange(steps) + 0.5) / steps
    mean_grad = np.mean([grad_fn(baseline + a * (x - baseline)) for a in alphas], axis=0)
    return (x - baseline) * mean_grad


def _smooth_function(rng: np.random.Generator, d: int):
    """f(x) = sum(a * sin(b * x)) + (c . x)^2 / 2 and its gradient, a made-up non-linear 'score'."""
    a, b, c = rng.standard_normal(d), rng.uniform(0.5, 2.0, d), rng.standard_normal(d) / d

    def grad_fn(x: np.ndarray) -> np.ndarray:
        return a * b * np.cos(b * x) + (c @ x) * c

    return grad_fn


def _integrated_gradients_inputs(rng: np.random.Generator) -> tuple:
    d = int(rng.integers(3, 8))
    x = rng.uniform(0.0, 1.0, d)
    baseline = np.zeros(d) if rng.random() < 0.5 else rng.uniform(0.0, 0.3, d)
    return _smooth_function(rng, d), x, baseline, int(rng.integers(3, 12))


def _left_riemann(grad_fn, x, baseline, steps):
    alphas = np.arange(steps) / steps
    return (x - baseline) * np.mean([grad_fn(baseline + a * (x - baseline)) for a in alphas], axis=0)


EXERCISES: list[Exercise] = [
    Exercise(
        key="10.fgsm_step",
        task="Write fgsm_step(x, grad, eps): the fast gradient sign method's adversarial image. x holds pixels in "
             "0..1, grad = dLoss/dx (same shape). Move every pixel by eps in the direction that increases the loss, "
             "x + eps * sign(grad), and clip the result back to the pixel range [0, 1].",
        hint="np.sign(grad) is -1, 0 or +1 per pixel; np.clip(..., 0.0, 1.0) keeps an image an image. The step goes "
             "UP the loss (the attacker wants the loss large), so it is a plus, unlike gradient descent.",
        reference=_fgsm_step_reference,
        make_inputs=_fgsm_step_inputs,
        trials=5,
        mistakes={
            "no clipping: pixels leave [0, 1]": lambda x, g, eps: x + eps * np.sign(g),
            "the gradient itself instead of its sign": lambda x, g, eps: np.clip(x + eps * g, 0.0, 1.0),
            "a descent step (minus): it makes the prediction MORE confident":
                lambda x, g, eps: np.clip(x - eps * np.sign(g), 0.0, 1.0),
            "the perturbation alone, not the perturbed image": lambda x, g, eps: eps * np.sign(g),
        },
    ),
    Exercise(
        key="10.occlusion_map",
        task="Write occlusion_map(score_fn, image, window, stride): image (H, W); score_fn takes a batch (M, H, W) "
             "and returns the target class's scores (M,). Slide a window x window square of zeros over the image, "
             "its top-left corner at rows 0, stride, 2*stride, ... while it fits (the same for columns). For each "
             "position, the drop score(image) - score(occluded image) is added to every pixel the square covers; "
             "finally each pixel's total is divided by how many squares covered it (pixels no square covered: 0). "
             "Return the map (H, W).",
        hint="Keep two (H, W) arrays, total and count. for r in range(0, H - window + 1, stride): for c in ... : "
             "copy the image, set occluded[r:r + window, c:c + window] = 0, add the drop to total[r:r+window, "
             "c:c+window] and 1 to count there. Divide with np.divide(total, count, out=np.zeros_like(total), "
             "where=count > 0).",
        reference=_occlusion_reference,
        make_inputs=_occlusion_inputs,
        trials=6,
        mistakes={
            "totals not divided by the number of windows covering each pixel":
                lambda f, im, k, s: _occlusion_reference(f, im, k, s) * _coverage(im.shape, k, s),
            "stride ignored (a window at every position)":
                lambda f, im, k, s: _occlusion_reference(f, im, k, 1),
            "the occluded score, not the drop": lambda f, im, k, s: _occluded_scores(f, im, k, s),
        },
    ),
    Exercise(
        key="10.cam",
        task="Write cam(features, fc_weight, target): the class activation map. features (K, h, w) are the feature "
             "maps that enter the global average pooling; fc_weight (classes, K) is the final Linear layer's "
             "weight. The map of class target is the feature maps weighted by that class's weights: "
             "CAM(i, j) = sum_k fc_weight[target, k] * features[k, i, j]. Return (h, w), no ReLU.",
        hint="fc_weight[target] is the row (K,) of the class. np.tensordot(row, features, axes=1) sums over k; or "
             "(row[:, None, None] * features).sum(axis=0). Averaging this map over (i, j) gives the class's "
             "score without its bias: that is why CAM 'explains' the score.",
        reference=_cam_reference,
        make_inputs=_cam_inputs,
        trials=5,
        mistakes={
            "a ReLU applied (that is Grad-CAM's last step; CAM keeps the negative evidence)":
                lambda f, w, t: np.maximum(_cam_reference(f, w, t), 0.0),
            "the plain mean of the feature maps, not weighted by the class": lambda f, w, t: f.mean(axis=0),
            "the weights of every class added up": lambda f, w, t: np.tensordot(w.sum(axis=0), f, axes=1),
            "divided by h * w (the pooled average, map per pixel)": lambda f, w, t: _cam_reference(f, w, t) / f[0].size,
        },
    ),
    Exercise(
        key="10.integrated_gradients",
        task="Write integrated_gradients(grad_fn, x, baseline, steps): grad_fn(z) returns df/dz for one input z "
             "(the same shape as x). Integrated gradients are (x - baseline) * the average gradient along the "
             "straight line from baseline to x; average over `steps` points by the midpoint rule, alpha_k = "
             "(k + 0.5) / steps for k = 0 .. steps - 1, at z = baseline + alpha_k * (x - baseline). Return an array "
             "shaped like x. (Its entries add up to f(x) - f(baseline): completeness.)",
        hint="alphas = (np.arange(steps) + 0.5) / steps; grads = [grad_fn(baseline + a * (x - baseline)) for a in "
             "alphas]; return (x - baseline) * np.mean(grads, axis=0).",
        reference=_integrated_gradients_reference,
        make_inputs=_integrated_gradients_inputs,
        trials=5,
        mistakes={
            "the left Riemann sum (alpha_k = k / steps): starts at the baseline, never reaches x":
                _left_riemann,
            "no (x - baseline) factor: the average gradient alone":
                lambda g, x, b, n: np.mean([g(b + (k + 0.5) / n * (x - b)) for k in range(n)], axis=0),
            "the gradient at x only (gradient times input)": lambda g, x, b, n: (x - b) * g(x),
            "the sum of the gradients, not their average":
                lambda g, x, b, n: (x - b) * np.sum([g(b + (k + 0.5) / n * (x - b)) for k in range(n)], axis=0),
        },
    ),
]


def _coverage(shape: tuple[int, int], window: int, stride: int) -> np.ndarray:
    count = np.zeros(shape)
    for r in _window_corners(shape[0], window, stride):
        for c in _window_corners(shape[1], window, stride):
            count[r:r + window, c:c + window] += 1
    return count


def _occluded_scores(score_fn, image: np.ndarray, window: int, stride: int) -> np.ndarray:
    return _averaged_over_windows(image, window, stride, lambda occluded: score_fn(occluded[None])[0])
