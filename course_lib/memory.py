"""Memory of training, counted and measured: weights, gradients, optimiser state, activations; tensor layouts.

    count = training_memory(models.lenet5(backend="torch"), (512, 1, 28, 28), optimizer="adam")
    count.weights, count.gradients, count.optimizer_state, count.activations, count.total      # bytes
    saved_for_backward(model, torch.randn(512, 1, 28, 28))    # bytes autograd really kept (CPU or GPU)
    measured_peak_memory(model, torch.randn(512, 1, 28, 28), "cuda")   # torch.cuda.max_memory_allocated; None on CPU
    largest_batch(torchvision.models.resnet18(), (3, 224, 224), 16 * 2**30)   # images that fit in 16 GiB
    layout_strides((2, 3, 4, 5))      # Layout(nchw_strides=(60, 20, 5, 1), channels_last_strides=(60, 1, 15, 3), ...)

The count, for P parameters, b bytes a number (4 for float32) and a batch of N:

    weights          = b * P
    gradients        = b * P                      (one gradient per trainable parameter)
    optimizer_state  = b * P * copies             copies: SGD 0, SGD with momentum 1 (velocity), Adam 2 (m and v)
    activations      = b * N * (input + the output of every layer)     per example, from the layer table
    total            = the sum

The activations are an estimate, made from ``course_lib.summary.shape_table`` (every leaf layer's output shape):
the input and each layer's output are counted once, as if each were kept for backward; layers whose output is a
view of their input (Flatten, Unflatten, Identity) and in-place layers (``ReLU(inplace=True)``) add nothing. What
autograd really keeps differs in both directions: a ReLU keeps its output but the convolution before it keeps only
its input, so the convolution's output is freed (counted here, not kept); max pooling also keeps int64 indices the
size of its output (kept, not counted). ``saved_for_backward`` measures what is kept, so the notebook can say how
close the count is (LeNet-5: the count is about 1.3 times the saved bytes; ResNet-18 within 10 %; see the tests).
The peak on a GPU adds the cuDNN/cuBLAS workspaces and the temporary tensors of the backward pass.

Activations grow with the batch, the rest does not: that is why memory, not arithmetic, sets the largest batch.
"""
from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from .device import pick_device
from .summary import shape_table

OPTIMIZER_COPIES = {"sgd": 0, "sgd_momentum": 1, "adam": 2}
VIEW_LAYERS = ("Flatten", "Unflatten", "Identity")


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of one training step's tensors, by kind (see the module docstring for what each counts)."""
    weights: int
    gradients: int
    optimizer_state: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + self.activations


def _check_optimizer(where: str, optimizer: str) -> int:
    if optimizer not in OPTIMIZER_COPIES:
        raise ValueError(f"{where}: unknown optimizer {optimizer!r}; use one of {tuple(OPTIMIZER_COPIES)} (they keep "
                         f"0, 1 and 2 extra copies of the weights).")
    return OPTIMIZER_COPIES[optimizer]


def _check_dtype_bytes(where: str, dtype_bytes) -> int:
    if isinstance(dtype_bytes, bool) or dtype_bytes not in (1, 2, 4, 8):
        raise ValueError(f"{where}: dtype_bytes is the size of one number in bytes: 4 for float32, 2 for "
                         f"float16/bfloat16, 8 for float64; got {dtype_bytes!r}.")
    return int(dtype_bytes)


def _check_model(where: str, model) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{where}: model must be a torch.nn.Module (build it with backend='torch'), "
                        f"got {type(model).__name__}.")


def activation_numbers(model: torch.nn.Module, input_shape: Sequence[int]) -> int:
    """Numbers kept for backward, estimated: the input plus every leaf layer's output (views and in-place: 0).

    input_shape starts with the batch N; the table is made at N = 1 and multiplied by N.
    """
    _check_model("activation_numbers", model)
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    if not shape or not isinstance(shape[0], numbers.Integral) or shape[0] < 1:
        raise ValueError(f"activation_numbers: input_shape starts with the batch size, e.g. (64, 1, 28, 28); "
                         f"got {input_shape!r}.")
    modules = dict(model.named_modules())
    per_example = math.prod(shape[1:])
    for row in shape_table(model, (1, *shape[1:])):
        module = modules.get(row.name, model if row.name == type(model).__name__ else None)
        if row.output_shape is None or row.type in VIEW_LAYERS or getattr(module, "inplace", False):
            continue
        per_example += math.prod(row.output_shape)
    return int(shape[0]) * per_example


def training_memory(model: torch.nn.Module, input_shape: Sequence[int], optimizer: str = "sgd",
                    dtype_bytes: int = 4) -> TrainingMemory:
    """Bytes of weights, gradients, optimiser state and activations for one step on a batch of ``input_shape``.

    input_shape: (N, C, H, W) with the batch size first.  optimizer: 'sgd', 'sgd_momentum' or 'adam'.
    dtype_bytes: 4 (float32), 2 (float16/bfloat16), 8 (float64).
    """
    copies = _check_optimizer("training_memory", optimizer)
    b = _check_dtype_bytes("training_memory", dtype_bytes)
    _check_model("training_memory", model)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return TrainingMemory(weights=b * params, gradients=b * trainable, optimizer_state=b * trainable * copies,
                          activations=b * activation_numbers(model, input_shape))


def largest_batch(model: torch.nn.Module, example_shape: Sequence[int], budget_bytes: int, optimizer: str = "sgd",
                  dtype_bytes: int = 4) -> int:
    """The largest N whose counted training memory fits: N = floor((budget - fixed) / activations of one example).

    example_shape: one example, without the batch dimension, e.g. (3, 224, 224).  budget_bytes: e.g. 16 * 2**30.
    fixed = weights + gradients + optimiser state, which do not grow with the batch.
    """
    shape = tuple(example_shape) if isinstance(example_shape, (tuple, list)) else ()
    first = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None) if shape else None
    if not shape or (first is not None and len(shape) != 3):
        raise ValueError(f"largest_batch: example_shape is one example without the batch dimension, e.g. "
                         f"(3, 224, 224) or (1, 28, 28); got {example_shape!r}.")
    if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, numbers.Real) or budget_bytes <= 0:
        raise ValueError(f"largest_batch: budget_bytes must be a positive number of bytes, e.g. 16 * 2**30 for "
                         f"16 GiB; got {budget_bytes!r}.")
    one = training_memory(model, (1, *shape), optimizer, dtype_bytes)
    fixed = one.weights + one.gradients + one.optimizer_state
    if fixed + one.activations > budget_bytes:
        raise ValueError(f"largest_batch: not even one example fits in {budget_bytes:,} bytes: the weights, "
                         f"gradients and {optimizer} state alone take {fixed:,} bytes and one example's activations "
                         f"{one.activations:,}. Use a larger budget, a smaller model or fewer bytes a number.")
    return int((budget_bytes - fixed) // one.activations)


def _targets(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        classes = model.eval()(batch[:1]).shape[-1]
    model.train()
    return torch.randint(0, classes, (batch.shape[0],), device=batch.device)


def saved_for_backward(model: torch.nn.Module, batch: torch.Tensor) -> int:
    """Bytes autograd keeps for backward in one training forward pass (model and cross-entropy loss).

    Counted with ``torch.autograd.graph.saved_tensors_hooks``: every saved tensor's storage once (a view and its
    base share one), the parameters' storages left out (they are the weights, not activations). Any device.
    """
    _check_model("saved_for_backward", model)
    y = _targets(model, batch)
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(batch), y)
    loss.backward()
    model.zero_grad(set_to_none=True)
    return sum(storages.values())


def make_optimizer(name: str, parameters) -> torch.optim.Optimizer:
    """'sgd' (no state), 'sgd_momentum' (one velocity a weight) or 'adam' (two moments a weight)."""
    _check_optimizer("make_optimizer", name)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=1e-3)
    return torch.optim.SGD(parameters, lr=0.01, momentum=0.9 if name == "sgd_momentum" else 0.0)


def measured_peak_memory(model: torch.nn.Module, batch: torch.Tensor, device: Union[str, torch.device, None] = None,
                         optimizer: str = "sgd") -> Optional[int]:
    """Peak bytes allocated on a CUDA GPU by two training steps of a copy of ``model`` on ``batch``; None elsewhere.

    Measured from before the model and batch are moved to the GPU, so it holds weights, batch, gradients,
    optimiser state (made by the first step), activations, the backward pass's temporaries and any cuBLAS/cuDNN
    workspace first allocated during the steps (small next to the activations of a large batch):
    ``torch.cuda.reset_peak_memory_stats`` then ``torch.cuda.max_memory_allocated`` minus what was allocated before.
    """
    _check_model("measured_peak_memory", model)
    _check_optimizer("measured_peak_memory", optimizer)
    device = pick_device(device)
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    model = copy.deepcopy(model).to(device)
    x = batch.to(device)
    y = _targets(model, x)
    opt = make_optimizer(optimizer, model.parameters())
    for _ in range(2):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


# ---------------------------------------------------------------- layouts


class Layout(NamedTuple):
    """Strides (in elements) of an (N, C, H, W) tensor stored NCHW and channels_last, and the NHWC shape."""
    nchw_strides: tuple[int, int, int, int]
    channels_last_strides: tuple[int, int, int, int]
    nhwc_shape: tuple[int, int, int, int]


def layout_strides(shape: Sequence[int]) -> Layout:
    """Strides of an (N, C, H, W) tensor: NCHW (CHW, HW, W, 1); channels_last (HWC, 1, WC, C); NHWC shape (N, H, W, C).

    A stride is how many elements apart two neighbours along an axis sit in memory. channels_last keeps the
    logical shape (N, C, H, W) and stores each pixel's C channels next to each other (BRCD in the decks).
    """
    dims = tuple(shape) if isinstance(shape, (tuple, list)) else ()
    if len(dims) != 4 or not all(isinstance(d, numbers.Integral) and d >= 1 for d in dims):
        raise ValueError(f"layout_strides: shape is a batch of images (N, C, H, W), four positive sizes, "
                         f"e.g. (2, 3, 4, 5); got {shape!r}.")
    n, c, h, w = (int(d) for d in dims)
    return Layout((c * h * w, h * w, w, 1), (h * w * c, 1, w * c, c), (n, h, w, c))


__all__ = ["OPTIMIZER_COPIES", "TrainingMemory", "activation_numbers", "training_memory", "largest_batch",
           "saved_for_backward", "make_optimizer", "measured_peak_memory", "Layout", "layout_strides"]
