"""Training throughput in images per second: eager, captured in a CUDA graph, or under ``torch.compile``.

    images_per_second(models.lenet5(backend="torch"), 64, "cuda", mode="cuda_graph")     # one number
    print(profile_step(models.lenet5(backend="torch"), 64, "cuda"))                      # where the time goes
    rows = throughput_curve(lambda: models.lenet5(backend="torch"), [64, 512], "cuda",
                            modes=("eager", "cuda_graph", "compile"), name="LeNet-5")
    save_results(rows, "data/gpu_results.json", script="benchmarks/gpu_check.py")
    load_results()["rows"]                  # data/gpu_results.json, the table notebook 12 shows
    gpu_results()                           # the same, or None while no GPU has measured (the notebook says so)

One step is what training does: forward, cross-entropy loss, backward, a plain SGD step (``lr=0.01``), on random
images and labels that are already on the device (no data loading is measured). The model is copied first, so the
one passed in is left as it was. Timing: ``warmup`` steps, then ``steps`` steps between two clock readings
(``time.perf_counter``); on CUDA ``torch.cuda.synchronize()`` before each reading, because kernels run
asynchronously and the clock would otherwise stop while the GPU is still working.

    images/s = batch_size * steps / seconds

The modes, and what each removes:

- ``"eager"``: every layer's kernels are launched one by one from Python, every step. At small batches the GPU
  waits for the launches (launch-bound); at large ones the launches hide behind the work (compute-bound).
- ``"cuda_graph"`` (CUDA only): the whole step, optimiser included, is captured once into a ``torch.cuda.CUDAGraph``
  and replayed with one launch. As the PyTorch docs require: static input and target tensors (a new batch would
  be copied into them), warm-up steps on a side stream before the capture, ``zero_grad(set_to_none=True)`` before
  it, so that backward allocates the gradients from the graph's private memory pool, and autocast with
  ``cache_enabled=False``. Plain SGD keeps no step counter on the host, so its step can be captured as it is.
- ``"compile"`` (CUDA only): the model and its loss under ``torch.compile(mode="reduce-overhead")``: Inductor fuses
  kernels, and "reduce-overhead" replays them (forward and backward) through CUDA graphs; the SGD step stays eager.
  On a CPU it is refused, not quietly run in another mode: "reduce-overhead" means CUDA graphs, and compiling on a
  CPU needs a C++ compiler and tens of seconds, for a number that says nothing about launch overhead on a GPU.

Mixed precision: ``autocast="bf16"`` or ``"fp16"`` runs the forward pass under ``torch.autocast``; fp16 also gets a
``torch.amp.GradScaler`` (its check for infinite gradients reads a value back on the host, so fp16 cannot be
captured in a CUDA graph: use bf16 there, which keeps float32's exponent range and needs no scaler).
``channels_last=True`` stores the model's weights and the images NHWC (``torch.channels_last``).

Results file (``save_results`` / ``load_results``): JSON with the GPU's name, torch and CUDA versions, the script
that measured, a UTC timestamp, and the rows; a notebook on a CPU-only machine shows those rows, never a number
typed by hand.
"""
from __future__ import annotations

import copy
import datetime
import json
import math
import numbers
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from .data import DATA_DIR
from .device import describe_device, pick_device

MODES = ("eager", "cuda_graph", "compile")
AUTOCAST = {None: None, "bf16": torch.bfloat16, "fp16": torch.float16}
LEARNING_RATE = 0.01
RESULT_FIELDS = ("gpu", "device", "torch", "cuda", "script", "created", "rows")
ROW_FIELDS = ("model", "mode", "batch_size", "device", "images_per_second")
GPU_RESULTS_PATH = DATA_DIR / "gpu_results.json"   # written by make gpu-check, read by notebook 12

Step = Callable[[], None]


# ---------------------------------------------------------------- argument checks


def _check_positive(where: str, name: str, value, meaning: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {name} must be a whole number >= {minimum} ({meaning}), "
                         f"got {value!r}.")
    return int(value)


def _check_mode(where: str, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"{where}: unknown mode {mode!r}; use one of {MODES}: 'eager' launches every "
                         f"kernel from Python, 'cuda_graph' replays a captured step, 'compile' uses torch.compile.")


def _check_mode_device(where: str, mode: str, device: torch.device) -> None:
    if mode != "eager" and device.type != "cuda":
        why = ("a CUDA graph is recorded on a CUDA stream and replayed by the GPU" if mode == "cuda_graph" else
               "torch.compile(mode='reduce-overhead') removes launch overhead with CUDA graphs")
        raise RuntimeError(f"{where}: mode={mode!r} needs a CUDA GPU ({why}), but device is "
                           f"{str(device)!r}. Measure mode='eager' here, or run on a machine with a GPU.")


def _check_autocast(where: str, autocast: Optional[str], mode: str) -> Optional[torch.dtype]:
    if autocast not in AUTOCAST:
        raise ValueError(f"{where}: autocast must be None (no mixed precision), 'bf16' or 'fp16', "
                         f"got {autocast!r}.")
    if autocast == "fp16" and mode == "cuda_graph":
        raise ValueError(f"{where}: autocast='fp16' needs a GradScaler, whose check for inf/NaN gradients "
                         f"reads a value back on the host, which a CUDA graph cannot capture: use autocast='bf16' "
                         f"(no scaler needed) with mode='cuda_graph'.")
    return AUTOCAST[autocast]


def _check_image_shape(where: str, image_shape) -> tuple[int, ...]:
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else ()
    if not shape or not all(isinstance(s, numbers.Integral) and s >= 1 for s in shape):
        raise ValueError(f"{where}: image_shape is one image's shape without the batch dimension, "
                         f"e.g. (1, 28, 28) for LeNet-5 or (3, 224, 224) for ResNet-18; got {image_shape!r}.")
    return tuple(int(s) for s in shape)


# ---------------------------------------------------------------- one training step, three ways


class _Loss(torch.nn.Module):
    """The model and its cross-entropy loss as one module, so that torch.compile sees both."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.model(x), y)


def _autocast(device: torch.device, dtype: Optional[torch.dtype], cache: bool = True):
    return torch.autocast(device.type, dtype=dtype, enabled=dtype is not None, cache_enabled=cache)


def _eager_step(loss_of, optimizer, x, y, device, amp_dtype) -> Step:
    scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with _autocast(device, amp_dtype):
            loss = loss_of(x, y)
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
    return step


def _compiled_step(loss_of, optimizer, x, y, device, amp_dtype) -> Step:
    torch.compiler.reset()   # each measurement compiles afresh: no cache limit reached, no earlier graphs kept
    compiled = torch.compile(loss_of, mode="reduce-overhead", dynamic=False)   # one static shape: one CUDA graph
    eager = _eager_step(compiled, optimizer, x, y, device, amp_dtype)

    def step() -> None:
        torch.compiler.cudagraph_mark_step_begin()   # a new training step: the graphs' outputs may be reused
        eager()
    return step


def _graphed_step(loss_of, optimizer, x, y, device, amp_dtype, warmup: int) -> Step:
    """Capture forward, loss, backward and the SGD step in one CUDA graph (the docs' whole-network recipe)."""
    def body() -> None:
        with _autocast(device, amp_dtype, cache=False):
            loss = loss_of(x, y)
        loss.backward()
        optimizer.step()

    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):          # warm-up: cuDNN/cuBLAS choose their kernels outside the capture
        for _ in range(max(warmup, 3)):
            optimizer.zero_grad(set_to_none=True)
            body()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)  # backward then allocates .grad inside the graph's memory pool
    with torch.cuda.graph(graph, stream=side):
        body()
    return graph.replay


def _make_step(model, batch_size, device, mode, dtype, channels_last, amp_dtype, image_shape, warmup) -> Step:
    model = copy.deepcopy(model).to(device=device, dtype=dtype)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(batch_size, *image_shape, device=device, dtype=dtype)
    if channels_last:
        model = model.to(memory_format=layout)
        x = x.contiguous(memory_format=layout)
    with torch.no_grad():
        classes = model.eval()(x[:1]).shape[-1]
    model.train()
    y = torch.randint(0, classes, (batch_size,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_of = _Loss(model)
    if mode == "cuda_graph":
        return _graphed_step(loss_of, optimizer, x, y, device, amp_dtype, warmup)
    make = _compiled_step if mode == "compile" else _eager_step
    return make(loss_of, optimizer, x, y, device, amp_dtype)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _checked_step(where, model, batch_size, device, mode, steps, warmup, dtype, channels_last, autocast,
                  image_shape) -> tuple[torch.device, Step]:
    """Check every argument (the messages name ``where``), build the step, run the warm-up steps."""
    device = pick_device(device)
    batch_size = _check_positive(where, "batch_size", batch_size, "images in one training step")
    _check_positive(where, "steps", steps, "measured training steps")
    warmup = _check_positive(where, "warmup", warmup, "steps before the measurement starts", minimum=0)
    _check_mode(where, mode)
    amp_dtype = _check_autocast(where, autocast, mode)
    _check_mode_device(where, mode, device)
    image_shape = _check_image_shape(where, image_shape)
    step = _make_step(model, batch_size, device, mode, dtype, channels_last, amp_dtype, image_shape, warmup)
    for _ in range(warmup):
        step()
    _synchronize(device)
    return device, step


def images_per_second(model: torch.nn.Module, batch_size: int, device: Union[str, torch.device, None] = None,
                      mode: str = "eager", steps: int = 20, warmup: int = 5, dtype: torch.dtype = torch.float32,
                      channels_last: bool = False, autocast: Optional[str] = None,
                      image_shape: Sequence[int] = (1, 28, 28)) -> float:
    """Training images per second of ``model`` at ``batch_size``: batch_size * steps / seconds of ``steps`` steps.

    model: a torch.nn.Module taking (N, *image_shape) and returning (N, classes) logits; it is copied, not changed.
    device: 'cuda', 'cpu', ... or None for the best available.  mode: 'eager', 'cuda_graph' or 'compile' (the
    last two CUDA only).  dtype: the weights' and images' dtype.  autocast: None, 'bf16' or 'fp16'.
    warmup steps run first and are not timed (on CUDA they also pick the cuDNN kernels; 'compile' compiles there).
    """
    device, step = _checked_step("images_per_second", model, batch_size, device, mode, steps, warmup, dtype,
                                 channels_last, autocast, image_shape)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize(device)
    return batch_size * steps / (time.perf_counter() - start)


def profile_step(model: torch.nn.Module, batch_size: int, device: Union[str, torch.device, None] = None,
                 mode: str = "eager", steps: int = 3, warmup: int = 2, dtype: torch.dtype = torch.float32,
                 channels_last: bool = False, autocast: Optional[str] = None,
                 image_shape: Sequence[int] = (1, 28, 28), row_limit: int = 12) -> str:
    """Where the time of ``steps`` training steps goes: ``torch.profiler``'s table of operators, the most expensive
    first (self time on the GPU on CUDA, on the CPU otherwise). Same arguments as ``images_per_second``.

    Launch-bound: the GPU's kernel times add up to far less than the wall time (Python and the launches dominate,
    many short kernels). Compute-bound: a few convolution or matrix-multiply kernels take most of the GPU time.
    """
    device, step = _checked_step("profile_step", model, batch_size, device, mode, steps, warmup, dtype,
                                 channels_last, autocast, image_shape)
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as profiler:
        for _ in range(steps):
            step()
        _synchronize(device)
    key = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return profiler.key_averages().table(sort_by=key, row_limit=row_limit)


def throughput_curve(model_fn: Callable[[], torch.nn.Module], batch_sizes: Iterable[int],
                     device: Union[str, torch.device, None] = None, modes: Sequence[str] = ("eager",),
                     name: Optional[str] = None, **options) -> list[dict]:
    """One row per (mode, batch size): images per second of a fresh ``model_fn()``, as a dict ready for JSON.

    Row keys: model, mode, batch_size, device, images_per_second, and the options given (steps, warmup,
    autocast, channels_last, image_shape, dtype as its name). ``options`` go to ``images_per_second``.
    """
    device = pick_device(device)
    name = name or getattr(model_fn, "__name__", "model")
    extra = {k: (str(v).removeprefix("torch.") if isinstance(v, torch.dtype) else v) for k, v in options.items()}
    rows = []
    for mode in modes:
        for batch_size in batch_sizes:
            speed = images_per_second(model_fn(), batch_size, device, mode=mode, **options)
            rows.append({"model": name, "mode": mode, "batch_size": int(batch_size), "device": str(device),
                         "images_per_second": speed, **extra})
    return rows


def format_rows(rows: Sequence[dict]) -> str:
    """The rows as a text table: model, device, mode, numbers (autocast or fp32, and NHWC when channels_last),
    batch size, images/s."""
    lines = [f"{'model':<15} {'device':<7} {'mode':<11} {'numbers':<10} {'batch':>6} {'images/s':>12}"]
    for r in rows:
        numbers = (r.get("autocast") or "fp32") + (" NHWC" if r.get("channels_last") else "")
        lines.append(f"{r['model']:<15} {r['device']:<7} {r['mode']:<11} {numbers:<10} {r['batch_size']:>6} "
                     f"{r['images_per_second']:>12,.0f}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the results file


def save_results(rows: Sequence[dict], path: Union[str, Path], *, script: str) -> dict:
    """Write ``rows`` as JSON with where they were measured: GPU name (None without CUDA), torch and CUDA versions,
    the script, a UTC timestamp. Returns what was written."""
    if not rows:
        raise ValueError("save_results: no rows to save; measure some with throughput_curve first.")
    for row in rows:
        _check_row(row, f"save_results: row {row!r}")
    cuda = torch.cuda.is_available()
    record = {
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "device": describe_device(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "script": str(script),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "rows": [dict(r) for r in rows],
    }
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
    return record


def _check_row(row, where: str) -> None:
    missing = [k for k in ROW_FIELDS if not isinstance(row, dict) or k not in row]
    if missing:
        raise ValueError(f"{where} lacks {missing}: every row says which model, mode, batch size and device "
                         f"gave its images per second.")
    speed = row["images_per_second"]
    if not isinstance(speed, (int, float)) or not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"{where}: images_per_second must be a positive number, got {speed!r}.")


def load_results(path: Union[str, Path] = GPU_RESULTS_PATH) -> dict:
    """Read a results file written by ``save_results``; refuse one that does not say where its numbers came from."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load_results: {path} does not exist: no throughput was measured and saved yet "
                                f"(on a CUDA machine, `make gpu-check` writes it).")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"load_results: {path} is not JSON ({e}).") from None
    missing = [k for k in RESULT_FIELDS if not isinstance(record, dict) or k not in record]
    if missing:
        raise ValueError(f"load_results: {path} lacks {missing}. A measured number is only worth showing with the "
                         f"GPU, the torch and CUDA versions, the script and the time that produced it: write the "
                         f"file with save_results(rows, path, script=...), never by hand.")
    if not isinstance(record["rows"], list) or not record["rows"]:
        raise ValueError(f"load_results: {path} has no rows.")
    for i, row in enumerate(record["rows"]):
        _check_row(row, f"load_results: {path}, row {i}")
    return record



def gpu_results(path: Union[str, Path] = GPU_RESULTS_PATH) -> Optional[dict]:
    """``load_results(path)``, or None when no such file exists yet (a file that exists but lacks its provenance
    is still refused)."""
    return load_results(path) if Path(path).exists() else None


__all__ = ["MODES", "GPU_RESULTS_PATH", "images_per_second", "profile_step", "throughput_curve", "format_rows",
           "save_results", "load_results", "gpu_results"]
