"""Exercises of notebook 06 (pooling).

Pooled inputs are random normals in NCHW layout with a random batch size, channel count and map size,
so an answer that assumes one image, one channel or a square map is caught. Values are continuous,
so two entries of a window are never equal and the position of a maximum is unambiguous.
"""
from __future__ import annotations

import numpy as np

from ..conv_arithmetic import pool_output_size
from ..scratch import functional as sf
from .checking import Exercise


def _even_maps(rng: np.random.Generator) -> tuple:
    """x (N, C, H, W) with even H and W (2x2 windows with stride 2 tile the map exactly)."""
    n, c = (int(v) for v in rng.integers(1, 4, size=2))
    h, w = (2 * int(v) for v in rng.integers(1, 5, size=2))
    return (rng.standard_normal((n, c, h, w)),)


def _maps_kernel_stride(rng: np.random.Generator) -> tuple:
    """x (N, C, H, W), a kernel size k in 1..3 and a stride s in 1..3 with s != k, so that windows either
    overlap (s < k) or skip pixels (s > k), and an answer that ignores s cannot pass by luck."""
    n, c = (int(v) for v in rng.integers(1, 4, size=2))
    k = int(rng.integers(1, 4))
    s = int(rng.choice([v for v in (1, 2, 3) if v != k]))
    h, w = (int(v) for v in rng.integers(k, k + 7, size=2))
    return rng.standard_normal((n, c, h, w)), k, s


def _any_maps(rng: np.random.Generator) -> tuple:
    """x (N, C, H, W) of any size, H != W allowed."""
    n, c, h, w = (int(v) for v in rng.integers(1, 6, size=4))
    return (rng.standard_normal((n, c, h, w)) + rng.normal(0.0, 3.0),)


def _backward_inputs(rng: np.random.Generator) -> tuple:
    (x,) = _even_maps(rng)
    dy = rng.standard_normal((*x.shape[:2], x.shape[2] // 2, x.shape[3] // 2))
    return dy, x


def _size_inputs(rng: np.random.Generator) -> tuple:
    """(W, F, S, P) with P <= F/2 (torch's rule for pooling) and a window that fits."""
    f = int(rng.integers(1, 6))
    s = int(rng.integers(1, 4))
    p = int(rng.integers(0, f // 2 + 1))
    w = int(rng.integers(max(f - 2 * p, 1), 64))
    return w, f, s, p


def _pool_size_reference(w: int, f: int, s: int, p: int) -> int:
    return pool_output_size(w, f, s, p, floor=True)


def _global_avg_pool_reference(x: np.ndarray) -> np.ndarray:
    return sf.adaptive_avg_pool2d(x, 1)[:, :, 0, 0]


def _blocks(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H/2, 2, W/2, 2): the 2x2 windows of a stride-2 pool."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2)


def _up(a: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(a, 2, axis=2), 2, axis=3)


MAX_POOL_MISTAKES = {
    "average instead of maximum": lambda x: _blocks(x).mean(axis=(3, 5)),
    "four consecutive pixels of a row pooled, not a 2x2 block (reshape(N, C, H/2, W/2, 4))":
        lambda x: x.reshape(*x.shape[:2], x.shape[2] // 2, x.shape[3] // 2, 4).max(axis=-1),
    "maximum over the wrong axes (axis=(2, 4): across windows)": lambda x: _blocks(x).max(axis=(2, 4)),
}

AVG_POOL_MISTAKES = {
    "stride ignored (windows moved by k)": lambda x, k, s: sf.avg_pool2d(x, k, k),
    "sum, not average": lambda x, k, s: sf.avg_pool2d(x, k, s) * k * k,
    "divided by k, not by k*k": lambda x, k, s: sf.avg_pool2d(x, k, s) * k,
}

MAX_POOL_BACKWARD_MISTAKES = {
    "dy spread evenly over the window (average pooling's backward)": lambda dy, x: _up(dy) / 4,
    "dy sent to all four members, not only the maximum": lambda dy, x: _up(dy),
    "a 1 at the maximum, dy forgotten": lambda dy, x: (x == _up(_blocks(x).max(axis=(3, 5)))).astype(float),
}

POOL_SIZE_MISTAKES = {
    "padding forgotten, (W - F)//S + 1": lambda w, f, s, p: (w - f) // s + 1,
    "padding counted once, (W - F + P)//S + 1": lambda w, f, s, p: (w - f + p) // s + 1,
    "rounded up": lambda w, f, s, p: -(-(w - f + 2 * p) // s) + 1,
    "not rounded, (W - F + 2P)/S + 1": lambda w, f, s, p: (w - f + 2 * p) / s + 1,
}

GLOBAL_AVG_POOL_MISTAKES = {
    "mean over the channels and rows (axis=(1, 2))": lambda x: x.mean(axis=(1, 2)),
    "maximum instead of mean (global max pooling)": lambda x: x.max(axis=(2, 3)),
    "sum instead of mean": lambda x: x.sum(axis=(2, 3)),
    "kept as (N, C, 1, 1), not flattened to (N, C)": lambda x: x.mean(axis=(2, 3), keepdims=True),
}


EXERCISES: list[Exercise] = [
    Exercise(
        key="06.max_pool",
        task="Write max_pool_2x2(x): 2x2 max pooling with stride 2 of x (N, C, H, W), H and W even. "
             "Return (N, C, H/2, W/2).",
        hint="Split each spatial axis into (blocks, 2): x.reshape(N, C, H // 2, 2, W // 2, 2), then take the max "
             "over the two axes of size 2 (axis=(3, 5)). No loops needed.",
        reference=lambda x: sf.max_pool2d(x, 2),
        make_inputs=_even_maps,
        mistakes=MAX_POOL_MISTAKES,
    ),
    Exercise(
        key="06.avg_pool",
        task="Write avg_pool(x, k, s): average pooling of x (N, C, H, W) with k x k windows and stride s, no padding. "
             "The output is (N, C, H_out, W_out) with H_out = (H - k)//s + 1; windows may overlap (s < k) and the "
             "rows/columns left over at the end are dropped, as torch does.",
        hint="Loop over the k*k offsets (u, v) inside a window, not over pixels: the (u, v)-th member of every window "
             "is x[:, :, u:u + s*(H_out - 1) + 1:s, v:v + s*(W_out - 1) + 1:s]. "
             "Add those k*k slices up and divide by k*k.",
        reference=lambda x, k, s: sf.avg_pool2d(x, k, s),
        make_inputs=_maps_kernel_stride,
        mistakes=AVG_POOL_MISTAKES,
    ),
    Exercise(
        key="06.max_pool_backward",
        task="Write max_pool_2x2_backward(dy, x): the gradient dL/dx (N, C, H, W) of 2x2 max pooling with stride 2, "
             "given dy = dL/dy (N, C, H/2, W/2) and the input x.",
        hint="Max routes: in each window the whole dy goes to the position of the maximum, the other three get 0. "
             "Recompute y = max_pool(x), upsample it and dy with np.repeat(np.repeat(., 2, axis=2), 2, axis=3), then "
             "dx = dy_up * (x == y_up). (Spreading dy/4 over the window is average pooling's backward.)",
        reference=lambda dy, x: sf.max_pool2d_backward(dy, x, 2),
        make_inputs=_backward_inputs,
        mistakes=MAX_POOL_BACKWARD_MISTAKES,
    ),
    Exercise(
        key="06.pool_output_size",
        task="Write pool_output_size(W, F, S, P): the output width of pooling a W-pixel-wide map with F-wide windows, "
             "stride S and P zeros of padding on each side, as torch computes it (an int; an incomplete last window "
             "is dropped). AlexNet: pool_output_size(55, 3, 2, 0) = 27.",
        hint="O = (W - F + 2P) / S + 1, rounded down: use integer division (W - F + 2*P) // S + 1 and return an int.",
        reference=_pool_size_reference,
        make_inputs=_size_inputs,
        rtol=0.0,
        atol=0.0,
        trials=20,
        mistakes=POOL_SIZE_MISTAKES,
    ),
    Exercise(
        key="06.global_avg_pool",
        task="Write global_avg_pool(x): global average pooling of x (N, C, H, W), one number per map, returned as "
             "(N, C): what nn.AdaptiveAvgPool2d(1) followed by flatten gives the classifier.",
        hint="The mean over the two spatial axes: x.mean(axis=(2, 3)). Not over the channels (axis 1), "
             "and not over the batch (axis 0).",
        reference=_global_avg_pool_reference,
        make_inputs=_any_maps,
        mistakes=GLOBAL_AVG_POOL_MISTAKES,
    ),
]
