"""Notebook 12: GPUs and scale. Its counts, figures, widget callbacks and the measurements a CPU can make.

The machinery is in the library: ``course_lib.throughput`` (images per second, the profiler's table, the GPU
results file), ``course_lib.memory`` (training memory counted and measured, layouts) and
``course_lib.distributed`` (DDP and its check). This module adds what only the notebook needs: the operations and
FLOPs of one training step, the memory of the two models the notebook compares, the layout picture, the number
formats of mixed precision, the data pipeline's speed, and the DDP script's results.
"""
from __future__ import annotations

import copy
import functools
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping, NamedTuple, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from .. import memory, models
from ..notebook import text_table  # noqa: F401  (the notebook calls lesson.text_table)
from ..plots import finish

DECK_CPU_MINUTES = 380.28        # [002]: 28x28 digits, batch 500, two conv layers, on an Intel i7
DECK_GPU_MINUTES = 32.52         # the same on an NVIDIA GTX 480 (2010)
GIB = 2 ** 30
GPU_BUDGETS = {"GTX 480 (the decks', 1.5 GiB)": 1.5 * GIB, "a 16 GiB GPU": 16 * GIB, "an 80 GiB GPU": 80 * GIB}


def deck_speedup() -> float:
    """The decks' GPU speed-up: 380.28 / 32.52 = 11.69."""
    return DECK_CPU_MINUTES / DECK_GPU_MINUTES


# ------------------------------------------------------------------ work per launch


class _OperationCounter(TorchDispatchMode):
    """Counts the tensor operations that compute something (views, detaches and profiler marks left out):
    on a GPU each launches about one kernel."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        namespace = getattr(func, "namespace", "")
        if namespace != "profiler" and not func.is_view and func.__name__.split(".")[0] != "detach":
            self.count += 1
        return func(*args, **(kwargs or {}))


class StepCounts(NamedTuple):
    """One training step (forward, cross-entropy, backward, SGD update): its operations and floating-point ops."""
    operations: int
    flops: int

    @property
    def flops_per_operation(self) -> float:
        return self.flops / self.operations


def step_counts(model: torch.nn.Module, batch_size: int, image_shape: Sequence[int] = (1, 28, 28)) -> StepCounts:
    """Count one SGD training step of ``model`` on a random batch (batch_size, *image_shape); its .grad is left
    cleared.

    operations: tensor operations dispatched (about one kernel launch each on a GPU); flops: as
    ``torch.utils.flop_counter`` counts them (2 per multiply-add, convolutions and matrix products only).
    """
    x = torch.randn(batch_size, *image_shape)
    y = torch.randint(0, 10, (batch_size,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with FlopCounterMode(display=False) as flops, _OperationCounter() as ops:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.zero_grad(set_to_none=True)
    return StepCounts(ops.count, flops.get_total_flops())


def work_figure(counts: Mapping[str, Mapping[int, StepCounts]]) -> Figure:
    """FLOPs per operation against the batch size, one line per model (log-log)."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, by_batch in counts.items():
        batches = sorted(by_batch)
        ax.loglog(batches, [by_batch[b].flops_per_operation for b in batches], "o-", label=name)
    ax.set(xlabel="batch size", ylabel="FLOPs per operation (kernel)",
           title="work per kernel launch grows with the batch")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    return finish(fig)


def throughput_figure(rows: Sequence[dict], title: str) -> Figure:
    """Images per second against the batch size, one line per (model, device, mode) of throughput rows."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    lines: dict[tuple, list] = {}
    for r in rows:
        lines.setdefault((r["model"], r["device"], r["mode"]), []).append((r["batch_size"], r["images_per_second"]))
    for (model, device, mode), points in lines.items():
        points.sort()
        ax.loglog(*zip(*points), "o-", label=f"{model}, {device}" + ("" if mode == "eager" else f", {mode}"))
    ax.set(xlabel="batch size", ylabel="training images / s", title=title)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return finish(fig)


def results_header(record: Optional[dict]) -> str:
    """Where a GPU results file's numbers come from, or the plain statement that none exists yet."""
    if record is None:
        return ("No GPU has measured this course yet: data/gpu_results.json does not exist, so the GPU figures of "
                "this notebook are still to be measured. On a machine with an NVIDIA GPU, `make gpu-check` "
                "measures them and writes the file; this notebook then shows them.")
    return (f"Measured on {record['gpu']} ({record['device']}), torch {record['torch']}, CUDA {record['cuda']}, "
            f"by {record['script']} at {record['created']}.")


ROW_DEFAULTS = {"autocast": None, "channels_last": False}    # what a row without the field was measured with


def rows_where(record: Optional[dict], **match) -> list[dict]:
    """The rows of a results record whose fields equal ``match`` (a missing field counts as its ROW_DEFAULTS value)."""
    if record is None:
        return []
    return [r for r in record["rows"] if all(r.get(k, ROW_DEFAULTS.get(k)) == v for k, v in match.items())]


# ------------------------------------------------------------------ memory


def resnet18(num_classes: int = 1000) -> torch.nn.Module:
    """torchvision's ResNet-18 (11.7 M weights at 1,000 classes), untrained."""
    import torchvision
    return torchvision.models.resnet18(num_classes=num_classes)


MEMORY_MODELS = {"LeNet-5, 28×28 digits": (lambda: models.lenet5(backend="torch"), (1, 28, 28)),
                 "ResNet-18, 224×224 colour": (resnet18, (3, 224, 224))}


@functools.lru_cache(maxsize=None)
def _one_example(name: str, optimizer: str, dtype_bytes: int) -> memory.TrainingMemory:
    build, shape = MEMORY_MODELS[name]
    return memory.training_memory(build(), (1, *shape), optimizer, dtype_bytes)


def memory_at(name: str, batch_size: int, optimizer: str = "sgd", dtype_bytes: int = 4) -> memory.TrainingMemory:
    """``memory.training_memory`` of a model of MEMORY_MODELS at ``batch_size`` (activations scale with N)."""
    one = _one_example(name, optimizer, dtype_bytes)
    return memory.TrainingMemory(one.weights, one.gradients, one.optimizer_state, one.activations * batch_size)


def largest_batches(name: str, optimizer: str = "sgd", dtype_bytes: int = 4) -> dict[str, int]:
    """The largest batch whose counted memory fits each of GPU_BUDGETS."""
    one = _one_example(name, optimizer, dtype_bytes)
    fixed = one.weights + one.gradients + one.optimizer_state
    return {gpu: int((budget - fixed) // one.activations) for gpu, budget in GPU_BUDGETS.items()}


def memory_figure(name: str, batch_size: int, optimizer: str = "sgd", dtype_bytes: int = 4) -> Figure:
    """The widget's picture: one bar of training memory by kind, and the first of GPU_BUDGETS it fits in."""
    count = memory_at(name, batch_size, optimizer, dtype_bytes)
    parts = {"weights": count.weights, "gradients": count.gradients, "optimiser state": count.optimizer_state,
             "activations": count.activations}
    fits = [(gpu, budget) for gpu, budget in GPU_BUDGETS.items() if count.total <= budget]
    gpu, budget = fits[0] if fits else list(GPU_BUDGETS.items())[-1]
    fig, ax = plt.subplots(figsize=(7, 2.2))
    left = 0.0
    for (label, value), colour in zip(parts.items(), ("C0", "C1", "C2", "C3")):
        ax.barh([0], [value / GIB], left=left, color=colour, label=f"{label} {value / 2**20:,.1f} MiB")
        left += value / GIB
    ax.axvline(budget / GIB, color="k", linestyle="--", label=gpu)
    ax.set_xlim(0, 1.05 * max(budget, count.total) / GIB)
    ax.set_yticks([])
    verdict = f"fits {gpu}" if fits else f"does not fit {gpu}"
    ax.set(xlabel="GiB", title=f"{name}, batch {batch_size:,}, {optimizer}\n{count.total / GIB:.3f} GiB: {verdict}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(fig)


# ------------------------------------------------------------------ layouts


def layout_figure(channels: int = 3, height: int = 2, width: int = 3) -> Figure:
    """One image (C, H, W) and the order its numbers sit in memory, NCHW above and NHWC (channels_last) below.

    Each cell is one number, coloured by its channel and labelled c,h,w; its position is its memory offset.
    """
    x = torch.arange(channels * height * width).reshape(1, channels, height, width)
    fig, axes = plt.subplots(2, 1, figsize=(0.55 * channels * height * width, 2.2))
    for ax, fmt, title in zip(axes, (torch.contiguous_format, torch.channels_last),
                              ("NCHW (contiguous): one channel's whole plane, then the next",
                               "NHWC (channels_last): one pixel's channels side by side, then the next pixel")):
        stored = x.contiguous(memory_format=fmt)
        order = sorted(((c, h, w) for c in range(channels) for h in range(height) for w in range(width)),
                       key=lambda chw: sum(i * s for i, s in zip(chw, stored.stride()[1:])))
        for offset, (c, h, w) in enumerate(order):
            ax.add_patch(plt.Rectangle((offset, 0), 1, 1, color=f"C{c}", alpha=0.6))
            ax.text(offset + 0.5, 0.5, f"{c},{h},{w}", ha="center", va="center", fontsize=7)
        ax.set(xlim=(0, len(order)), ylim=(0, 1), yticks=[], title=title)
        ax.set_xticks(np.arange(len(order)) + 0.5, [str(i) for i in range(len(order))], fontsize=7)
        ax.title.set_fontsize(9)
    axes[1].set_xlabel("memory offset (labels: channel, row, column)")
    return finish(fig)


# ------------------------------------------------------------------ mixed precision

FORMATS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def number_formats() -> list[list]:
    """Rows: format, bits, exponent bits, mantissa bits, eps (the gap after 1), largest, smallest normal."""
    rows = []
    for name, dtype in FORMATS.items():
        info = torch.finfo(dtype)
        mantissa = -int(math.log2(info.eps))
        rows.append([name, info.bits, info.bits - 1 - mantissa, mantissa, f"{info.eps:.3g}", f"{info.max:.4g}",
                     f"{info.tiny:.3g}"])
    return rows


FORMAT_HEADERS = ["format", "bits", "exponent", "mantissa", "eps", "largest", "smallest normal"]


def accuracy_in(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, dtype: torch.dtype) -> tuple[float, np.ndarray]:
    """Accuracy of a copy of ``model`` with its weights and inputs in ``dtype``, and its predictions."""
    low = copy.deepcopy(model).to(dtype).eval()
    with torch.no_grad():
        predictions = low(torch.as_tensor(x).to(dtype)).float().argmax(1).numpy()
    return float((predictions == y).mean()), predictions


# ------------------------------------------------------------------ the data pipeline


def resident_epoch(x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int = 0):
    """Batches of a data set held as two tensors (on the device it will train on): one gather per batch."""
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).to(x.device)
    for start in range(0, len(y), batch_size):
        index = order[start:start + batch_size]
        yield x[index], y[index]


def loader_epoch(x: torch.Tensor, y: torch.Tensor, batch_size: int, workers: int = 0, pin_memory: bool = False,
                 device: str = "cpu", seed: int = 0):
    """The same batches through a DataLoader: examples fetched one by one, collated, then moved to ``device``."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                                         num_workers=workers, pin_memory=pin_memory,
                                         generator=torch.Generator().manual_seed(seed))
    for xb, yb in loader:
        yield xb.to(device, non_blocking=pin_memory), yb.to(device, non_blocking=pin_memory)


def epoch_images_per_second(batches) -> float:
    """Images per second of iterating one epoch of ``batches`` (nothing trained: the pipeline alone)."""
    start, seen = time.perf_counter(), 0
    for xb, _ in batches:
        seen += len(xb)
    if seen and xb.is_cuda:
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


# ------------------------------------------------------------------ DDP


def launch(script: Path, nproc: int, *args: str) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node=nproc script args`` with this Python, output captured."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               str(script), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr[-3000:]}")
    return done


def loss_curves_figure(curves: Mapping[str, Sequence[float]]) -> Figure:
    """Loss against step, one line per run (a dashed one over a solid one: equal curves overlap)."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for (label, losses), style in zip(curves.items(), ("-", "--", ":")):
        ax.plot(np.arange(1, len(losses) + 1), losses, style, lw=2, label=label)
    ax.set(xlabel="SGD step", ylabel="mean cross-entropy of the combined batch", title="DDP = one process")
    ax.legend()
    return finish(fig)
