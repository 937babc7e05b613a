"""Exercises of notebook 12: GPUs and scale.

Three pieces of arithmetic the notebook measures, each checked on hidden test inputs against the library:
the strides of an (N, C, H, W) tensor stored NCHW or channels_last (``memory.layout_strides``, which the tests
hold to torch's ``.stride()``), the bytes of activations a layer stack keeps for backward
(``memory.activation_numbers`` of a real torch model, times the bytes of a number), and the effective batch and
learning rate of a data-parallel run (``distributed.effective_batch`` and ``distributed.scaled_lr``). The hidden
inputs are drawn so that every declared mistake gives an answer of its own, and the feedback can name it.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from .. import conv_arithmetic as ca
from .. import distributed, memory
from ..summary import shape_table
from .checking import Exercise, draw_apart

FORMATS = ("contiguous", "channels_last")


# ------------------------------------------------------------------ 12.strides


def _strides_reference(shape, memory_format: str) -> list[int]:
    layout = memory.layout_strides(shape)
    return list(layout.channels_last_strides if memory_format == "channels_last" else layout.nchw_strides)


def _memory_order(memory_format: str) -> tuple[int, ...]:
    """The logical axes (N=0, C=1, H=2, W=3) from outermost to innermost in memory."""
    return (0, 2, 3, 1) if memory_format == "channels_last" else (0, 1, 2, 3)


def _strides_by(rule: Callable[[list[int]], list[int]]) -> Callable:
    """A mistake: strides made by ``rule`` from the sizes in memory order, put back in the logical order."""
    def strides(shape, memory_format):
        order = _memory_order(memory_format)
        in_memory = rule([shape[a] for a in order])
        out = [0] * 4
        for position, axis in enumerate(order):
            out[axis] = in_memory[position]
        return out
    return strides


def _row_major(sizes: list[int]) -> list[int]:
    """Each stride the product of the sizes after it (the last axis fastest)."""
    return [math.prod(sizes[i + 1:]) for i in range(len(sizes))]


def _strides_inputs(rng: np.random.Generator) -> tuple:
    n, c, h, w = (int(d) for d in rng.choice(np.arange(2, 10), 4, replace=False))     # all different, none 1
    return (n, c, h, w), str(rng.choice(FORMATS))


_STRIDES_MISTAKES = {
    "the channels_last strides listed in memory order N, H, W, C, (H*W*C, W*C, C, 1): .stride() lists them in the "
    "tensor's logical order N, C, H, W, so C's stride, 1, comes second":
        lambda shape, fmt: _row_major([shape[a] for a in _memory_order(fmt)]),
    "memory_format ignored: channels_last stores each pixel's C channels side by side (C's stride 1), not NCHW":
        lambda shape, fmt: _strides_reference(shape, "contiguous"),
    "each stride the product of the sizes from its own axis on, not after it (N's stride is one image, C*H*W, not "
    "the whole batch N*C*H*W)":
        _strides_by(lambda sizes: [math.prod(sizes[i:]) for i in range(len(sizes))]),
    "each stride the size of the next axis alone, not the product of all the sizes after it":
        _strides_by(lambda sizes: [*sizes[1:], 1]),
    "H and W swapped: one step down a column skips a whole row, W pixels (times C for channels_last), not H":
        lambda shape, fmt: _strides_reference((shape[0], shape[1], shape[3], shape[2]), fmt),
    "the first axis fastest (column-major, Fortran order): in C order, as torch stores, the last axis is the "
    "fastest":
        _strides_by(lambda sizes: _row_major(sizes[::-1])[::-1]),
}


# ------------------------------------------------------------------ 12.activation_memory


def _random_stack(rng: np.random.Generator) -> tuple[nn.Sequential, tuple[int, ...], int]:
    """A small CNN (conv blocks, then Flatten and two Linear layers), the input shape (N, C, H, W), and the bytes
    of a number. Built under a forked torch RNG: a check leaves the notebook's random state as it was."""
    n, channels, size = int(rng.choice([3, 5, 6, 12, 16, 32])), int(rng.choice([1, 3])), int(rng.integers(12, 20))
    input_shape, layers = (n, channels, size, size), []
    with torch.random.fork_rng(devices=[]):
        for _ in range(int(rng.integers(1, 3))):
            out, kernel, padding = int(rng.integers(2, 9)), int(rng.choice([3, 5])), int(rng.integers(0, 2))
            if size + 2 * padding < kernel + 1:          # the convolution's output must be 2 or more to pool
                break
            size = ca.pool_output_size(ca.conv_output_size(size, kernel, padding=padding), 2, floor=True)
            layers += [nn.Conv2d(channels, out, kernel, padding=padding),
                       *([nn.BatchNorm2d(out)] if rng.random() < 0.5 else []), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        hidden = int(rng.integers(8, 33))
        layers += [nn.Flatten(), nn.Linear(channels * size * size, hidden), nn.ReLU(), nn.Linear(hidden, 10)]
    return nn.Sequential(*layers), input_shape, int(rng.choice([2, 4, 8]))


def _describe_stack(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """The layer stack as the exercise gives it: (type, per-example output shape) for every leaf layer in order,
    from ``summary.shape_table``. For a plain stack without in-place layers (activation_numbers counts those 0)."""
    return [(row.type, tuple(row.output_shape[1:])) for row in shape_table(model, (1, *input_shape[1:]))]


def _activation_make(rng: np.random.Generator) -> tuple:
    model, input_shape, dtype_bytes = _random_stack(rng)
    return input_shape, _describe_stack(model, input_shape), dtype_bytes


def _numbers_per_example(input_shape, layers, views_count: bool = False, with_input: bool = True) -> int:
    """One example's input and the outputs of its layers that are not views (of all of them, ``views_count``)."""
    outputs = [math.prod(s) for kind, s in layers if views_count or kind not in memory.VIEW_LAYERS]
    return math.prod(input_shape[1:]) * with_input + sum(outputs)


def _activation_reference(input_shape, layers, dtype_bytes) -> int:
    """memory.activation_numbers' count from the stack's description, in bytes (the tests hold the two equal)."""
    return dtype_bytes * input_shape[0] * _numbers_per_example(input_shape, layers)


_ACTIVATION_MISTAKES = {
    "the batch forgotten: that is one example's activations; every one of the N examples keeps its own":
        lambda shape, layers, b: b * _numbers_per_example(shape, layers),
    "the batch counted for the input only (input_shape includes N, the layers' shapes are per example)":
        lambda shape, layers, b: b * (math.prod(shape) + _numbers_per_example(shape, layers, with_input=False)),
    "the input forgotten: backward needs it too (the first layer's weight gradient is computed from it)":
        lambda shape, layers, b: b * shape[0] * _numbers_per_example(shape, layers, with_input=False),
    "Flatten counted: its output is a view of its input, the same memory, so it adds nothing":
        lambda shape, layers, b: b * shape[0] * _numbers_per_example(shape, layers, views_count=True),
    "bits, not bytes: dtype_bytes is already in bytes (4 for float32, which is 32 bits)":
        lambda shape, layers, b: 8 * _activation_reference(shape, layers, b),
    "numbers, not bytes: multiply by dtype_bytes, the bytes of one number":
        lambda shape, layers, b: _activation_reference(shape, layers, b) // b,
    "only the largest output: in training every output is kept until the backward pass has used it, all at once "
    "at the end of the forward pass (inference can free each one after the next layer)":
        lambda shape, layers, b: b * shape[0] * max(math.prod(shape[1:]), *(math.prod(s) for _, s in layers)),
}


# ------------------------------------------------------------------ 12.ddp_batch_and_lr


def _ddp_reference(per_process, world_size, base_lr, base_batch) -> tuple:
    batch = distributed.effective_batch(per_process, world_size)
    return batch, distributed.scaled_lr(base_lr, base_batch, batch)


def _ddp_make(rng: np.random.Generator) -> tuple:
    """per_process a multiple of world_size (a learner's // and / make the same mistake); base_batch neither the
    per-process batch nor the effective one (there, scaling by world_size, or not at all, would be right)."""
    per_process, world_size = int(rng.choice([16, 32, 64, 128])), int(rng.choice([2, 4, 8, 16]))
    effective = per_process * world_size
    base_batch = int(rng.choice([b for b in (32, 64, 128, 256, 512) if b not in (per_process, effective)]))
    return per_process, world_size, round(float(rng.uniform(0.01, 0.5)), 3), base_batch


_DDP_MISTAKES = {
    "the batch divided by the world size: each process draws per_process examples of its own, so one step sees "
    "per_process * world_size":
        lambda p, w, lr, b: (p / w, lr * (p / w) / b),
    "the learning rate times the world size: right only when base_lr was tuned at the per-process batch; the rule "
    "scales by the batch over the batch base_lr was tuned at, effective batch / base_batch":
        lambda p, w, lr, b: (p * w, lr * w),
    "the learning rate scaled by the per-process batch, per_process / base_batch: every step averages the "
    "gradient over the effective batch, per_process * world_size":
        lambda p, w, lr, b: (p * w, lr * p / b),
    "the learning rate left at base_lr: the linear scaling rule multiplies it by effective batch / base_batch":
        lambda p, w, lr, b: (p * w, lr),
    "the ratio upside down, base_batch / effective batch: a larger batch averages away more noise and takes a "
    "larger step":
        lambda p, w, lr, b: (p * w, lr * b / (p * w)),
    "the learning rate divided by the world size (as if DDP summed the gradients: it averages them, nothing to "
    "undo)":
        lambda p, w, lr, b: (p * w, lr / w),
    "the square-root rule, base_lr * sqrt(batch / base_batch) (a gentler rule often used with Adam): this "
    "exercise asks for the linear rule":
        lambda p, w, lr, b: (p * w, lr * math.sqrt(p * w / b)),
}


# ------------------------------------------------------------------ the exercises

EXERCISES: list[Exercise] = [
    Exercise(
        key="12.strides",
        task="Write strides(shape, memory_format): the strides, in elements, of a tensor of shape (N, C, H, W) stored "
             "with memory_format 'contiguous' (NCHW: W fastest, then H, C, N) or 'channels_last' (NHWC in memory: "
             "C fastest, then W, H, N). Return four numbers in the tensor's logical order N, C, H, W, as torch's "
             ".stride() does. A stride is how many elements apart two neighbours along that axis sit in memory.",
        hint="Walk the axes in memory order from the fastest: its stride is 1, and each next axis's stride is the "
             "previous stride times the previous axis's size. NCHW: W 1, H W, C H*W, N C*H*W. channels_last: C 1, "
             "W C, H W*C, N H*W*C. Then list them as (N, C, H, W): fact 24, (2, 3, 4, 5) gives (60, 20, 5, 1) and "
             "(60, 1, 15, 3).",
        reference=_strides_reference,
        make_inputs=draw_apart(_strides_inputs, _strides_reference, _STRIDES_MISTAKES),
        trials=6,
        mistakes=_STRIDES_MISTAKES,
    ),
    Exercise(
        key="12.activation_memory",
        task="Write activation_bytes(input_shape, layers, dtype_bytes): the bytes of activations one training step "
             "keeps for backward, counted as memory.activation_numbers counts them. input_shape is the batch (N, C, "
             "H, W); layers lists every layer in order as (type, output shape of ONE example), e.g. ('Conv2d', "
             "(6, 28, 28)), ('Flatten', (1176,)); dtype_bytes is the bytes of one number (4 for float32). Count the "
             "input and every layer's output, each kept once, for all N examples; a view (Flatten, Unflatten, "
             "Identity) shares its input's memory and adds nothing.",
        hint="bytes = dtype_bytes * N * (C*H*W + the sum over the layers that are not views of the product of their "
             "output shape). math.prod(shape) multiplies a shape's sizes (math.prod(()) is 1). LeNet-5 at batch "
             "512 in float32: 4 * 512 * 15,386 = 31.5 MB.",
        reference=_activation_reference,
        make_inputs=draw_apart(_activation_make, _activation_reference, _ACTIVATION_MISTAKES, 0.0, 0.5),
        rtol=0.0,
        atol=0.5,                                   # a whole number of bytes: exact
        trials=4,
        mistakes=_ACTIVATION_MISTAKES,
    ),
    Exercise(
        key="12.ddp_batch_and_lr",
        task="Write ddp_batch_and_lr(per_process, world_size, base_lr, base_batch): base_lr was tuned for training in "
             "one process at batch base_batch; now DDP runs world_size processes, each drawing per_process examples "
             "a step. Return (effective_batch, lr): the examples one step learns from, and the learning rate by the "
             "linear scaling rule.",
        hint="Every process draws its own per_process examples and DDP averages the gradients over all of them: "
             "effective_batch = per_process * world_size. The linear scaling rule (Goyal et al., 2017): lr = base_lr "
             "* effective_batch / base_batch; 32 a process on 8 GPUs, base_lr 0.1 at 32: (256, 0.8).",
        reference=_ddp_reference,
        make_inputs=draw_apart(_ddp_make, _ddp_reference, _DDP_MISTAKES),
        trials=4,
        parts=("effective_batch", "lr"),
        mistakes=_DDP_MISTAKES,
    ),
]
