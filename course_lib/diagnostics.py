"""Training diagnostics for scratch and PyTorch models: look inside a network while it learns.

The lectures' checklist (Lintern [000], after CS231n): watch the loss curve, the train/validation gap, the
update/weight ratio per layer (about 1e-3), the activation and gradient histograms per layer, and the
first-layer filters. Each has a recorder or a reading here, and ``read_diagnostics`` turns the numbers into
sentences. (Notebook 08's experiments, such as the initialisation study, are in lessons/nb08.)

    records = record_activations(model, x, y, loss_fn)      # one LayerRecord per layer: output and dL/d(output)
    plot_histograms(records)                                # activation and gradient histograms per layer
    log = StepLog()                                         # a training callback: losses and ratios per step
    training.train_steps(model, loss_fn, optimizer, (x, y), steps=200, callbacks=[log])
    plot_update_ratios(log.ratios)
    acts = ActivationLog(x_val, y_val, loss_fn, every=5)     # a training callback: activation layers over time
    plot_activation_history(acts)                           # a histogram per recording, side by side, per layer
    for sentence in read_diagnostics(records=records, ratios=log.ratios, history=history):
        print(sentence)

Recording works on a scratch ``Sequential`` (walked layer by layer: forward stores each layer's output,
backward each layer's ``grad_output``) and on any ``torch.nn.Module`` (forward hooks and full backward hooks
on its leaf modules, removed afterwards). Use ``nn.ReLU()`` without ``inplace=True`` when recording: torch's
backward hooks refuse in-place outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from . import scratch
from .models import ACTIVATIONS
from .parity import to_numpy
from .plots import finish, image_grid
from .training import Callback, EarlyStopping

ACTIVATION_KINDS = tuple(ACTIVATIONS.values())     # the layer class names: Sigmoid, Tanh, ReLU, LeakyReLU
SATURATION_EPS = 0.01        # a sigmoid output within 0.01 of 0 or 1 (tanh: of -1 or 1) is "saturated"
RATIO_LOW, RATIO_HEALTHY, RATIO_HIGH = 1e-4, 1e-3, 1e-2    # CS231n's rule of thumb for update/weight
MAX_STORED = 200_000         # values kept per layer for histograms (statistics use every value)


# ----------------------------------------------------------------------------- recording

@dataclass
class LayerRecord:
    """What one layer did on one batch.

    name: the module's name ("3", "features.0", ...); kind: its class name ("ReLU", "Linear", ...);
    shape: output shape (N, ...); the statistics are over the whole output / its gradient;
    dead_fraction: share of units (output positions) never positive on the batch (ReLU-like layers);
    saturated_fraction: share of outputs within 0.01 of the flat ends (0 or 1 for Sigmoid, -1 or 1 for Tanh);
    activations, gradients: at most MAX_STORED values of the output and of dL/d(output), for histograms.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    act_mean: float
    act_std: float
    grad_mean: float = float("nan")
    grad_std: float = float("nan")
    dead_fraction: float = float("nan")
    saturated_fraction: float = float("nan")
    activations: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    gradients: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def is_activation(self) -> bool:
        return self.kind in ACTIVATION_KINDS


def _subsample(values: np.ndarray) -> np.ndarray:
    flat = values.ravel()
    step = max(1, int(np.ceil(flat.size / MAX_STORED)))
    return flat[::step].astype(np.float32)


def _forward_record(name: str, kind: str, output) -> LayerRecord:
    """Statistics of a layer's output (N, ...): mean, std, dead and saturated fractions."""
    out = np.asarray(to_numpy(output), dtype=np.float64)
    record = LayerRecord(name, kind, tuple(out.shape), float(out.mean()), float(out.std()),
                         activations=_subsample(out))
    if kind in ("ReLU", "LeakyReLU"):
        ever_positive = (out.reshape(len(out), -1) > 0).any(axis=0)
        record.dead_fraction = float(1.0 - ever_positive.mean())
    elif kind == "Sigmoid":
        record.saturated_fraction = float(np.mean((out < SATURATION_EPS) | (out > 1 - SATURATION_EPS)))
    elif kind == "Tanh":
        record.saturated_fraction = float(np.mean(np.abs(out) > 1 - SATURATION_EPS))
    return record


def _add_gradient(record: LayerRecord, grad_output) -> None:
    g = np.asarray(to_numpy(grad_output), dtype=np.float64)
    record.grad_mean, record.grad_std = float(g.mean()), float(g.std())
    record.gradients = _subsample(g)


def record_scratch(model, x: np.ndarray, y: np.ndarray, loss_fn) -> list[LayerRecord]:
    """Forward and backward through a scratch Sequential one layer at a time, recording as it goes.

        forward:  h_0 = x,  h_l = layer_l(h_{l-1})          record h_l            (N, ...)
        backward: g_L = dLoss/dh_L,  g_{l-1} = layer_l.backward(g_l)   record g_l = dL/d(output of layer l)

    Parameter gradients are zeroed first and left in ``.grad`` (as after ``loss.backward()``).
    """
    if not isinstance(model, scratch.Sequential):
        raise TypeError(f"record_scratch walks a scratch.Sequential layer by layer; got a {type(model).__name__}. "
                        "Wrap your layers in scratch.Sequential(...).")
    layers = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]
    model.zero_grad()
    h, records = x, []
    for name, layer in layers:
        h = layer(h)
        records.append(_forward_record(name, type(layer).__name__, h))
    loss_fn(h, y)
    g = loss_fn.backward()
    for (name, layer), record in zip(reversed(layers), reversed(records)):
        _add_gradient(record, g)
        g = layer.backward(g)
    return records


def record_torch(model, x, y, loss_fn) -> list[LayerRecord]:
    """The same for a torch model: a forward hook and a full backward hook on every leaf module.

    ``register_forward_hook(hook(module, input, output))`` sees each output; ``register_full_backward_hook(
    hook(module, grad_input, grad_output))`` sees dL/d(output). The hooks are removed afterwards, even on error.
    x, y: NumPy arrays or tensors (moved to the model's device and dtype).
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"record_torch records a torch.nn.Module, got a {type(model).__name__}; for a scratch "
                        "model use record_scratch (or record_activations, which picks the right one).")
    param = next(model.parameters(), None)
    if param is None:
        raise ValueError(f"record_torch: the {type(model).__name__} has no parameters, so there is nothing to "
                         "learn and no gradient to record; record a model with at least one Linear or Conv2d layer.")
    # the input requires grad so that every hook, the first layer's included, gets a proper grad_output
    x = torch.as_tensor(x, dtype=param.dtype, device=param.device).detach().requires_grad_(True)
    y = torch.as_tensor(y, device=param.device)
    leaves = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    records: dict[str, LayerRecord] = {}
    handles = []

    def on_forward(name):
        def hook(module, inputs, output):
            records[name] = _forward_record(name, type(module).__name__, output)
        return hook

    def on_backward(name):
        def hook(module, grad_input, grad_output):
            _add_gradient(records[name], grad_output[0])
        return hook

    try:
        for name, module in leaves:
            handles.append(module.register_forward_hook(on_forward(name)))
            handles.append(module.register_full_backward_hook(on_backward(name)))
        model.zero_grad()
        loss_fn(model(x), y).backward()
    finally:
        for h in handles:
            h.remove()
    return [records[n] for n, _ in leaves if n in records]


def record_activations(model, x, y, loss_fn) -> list[LayerRecord]:
    """``record_scratch`` for scratch models, ``record_torch`` for torch models (the loss from the same side)."""
    _check_same_side(model, loss_fn)
    if isinstance(model, scratch.Module):
        return record_scratch(model, x, y, loss_fn)
    return record_torch(model, x, y, loss_fn)


def _check_same_side(model, loss_fn) -> None:
    """A scratch model needs a scratch loss (NumPy in, .backward() of its own), a torch model a torch loss."""
    model_is_scratch, loss_is_scratch = isinstance(model, scratch.Module), isinstance(loss_fn, scratch.Module)
    if model_is_scratch != loss_is_scratch:
        sides = {True: "course_lib.scratch", False: "torch"}
        raise TypeError(f"the model is a {sides[model_is_scratch]} {type(model).__name__} but the loss is a "
                        f"{sides[loss_is_scratch]} {type(loss_fn).__name__}: use the loss of the model's side, "
                        f"e.g. {'scratch' if model_is_scratch else 'torch.nn'}.CrossEntropyLoss().")


def stats_table(records: list[LayerRecord]) -> str:
    """One line per layer: name, kind, output mean/std, gradient std, dead or saturated share."""
    lines = [f"{'layer':<8}{'kind':<10}{'act mean':>10}{'act std':>10}{'grad std':>10}  dead/saturated"]
    for r in records:
        flag = ""
        if not np.isnan(r.dead_fraction):
            flag = f"{r.dead_fraction:.0%} dead"
        elif not np.isnan(r.saturated_fraction):
            flag = f"{r.saturated_fraction:.0%} saturated"
        lines.append(f"{r.name:<8}{r.kind:<10}{r.act_mean:>10.3g}{r.act_std:>10.3g}{r.grad_std:>10.2e}  {flag}")
    return "\n".join(lines)


def _histogram(ax, values: np.ndarray, bins: int, color: str) -> None:
    """A filled histogram drawn as one outline (ax.hist draws one rectangle per bin: ten times slower here)."""
    counts, edges = np.histogram(np.ravel(values), bins=bins)
    ax.stairs(counts, edges, fill=True, color=color)


def plot_histograms(records: list[LayerRecord], activations_only: bool = True, title: str | None = None,
                    bins: int = 50):
    """Two rows of histograms, one column per layer: outputs (top) and dL/d(output) (bottom).

    activations_only: show only ReLU/Sigmoid/Tanh layers (what CS231n plots). Returns the Figure.
    """
    shown = [r for r in records if r.is_activation] if activations_only else list(records)
    if not shown:
        raise ValueError("plot_histograms: no activation layers recorded; pass activations_only=False.")
    fig, axes = plt.subplots(2, len(shown), figsize=(1.6 * len(shown) + 1, 3.6), squeeze=False)
    for j, r in enumerate(shown):
        top, bottom = axes[0, j], axes[1, j]
        _histogram(top, r.activations, bins, "C0")
        top.set_title(f"{r.name} {r.kind}\nstd {r.act_std:.2g}", fontsize=8)
        g = r.gradients[np.isfinite(r.gradients)] if r.gradients.size else r.gradients
        _histogram(bottom, g, bins, "C3")
        bottom.set_title(f"grad std {r.grad_std:.1e}", fontsize=8)
        for ax in (top, bottom):
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
    axes[0, 0].set_ylabel("outputs", fontsize=8)
    axes[1, 0].set_ylabel("dL/d output", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig)


# ----------------------------------------------------------------------------- update / weight ratios

def _param_arrays(model, weights_only: bool) -> dict[str, np.ndarray]:
    """Copies of the parameters (as float64 NumPy arrays) by name; weights_only keeps arrays of 2+ dims."""
    out = {}
    for name, p in model.named_parameters():
        value = p.data if isinstance(p, scratch.Parameter) else to_numpy(p)
        if not weights_only or value.ndim >= 2:
            out[name] = np.array(value, dtype=np.float64, copy=True)
    return out


def layer_name(param_name: str) -> str:
    """'conv1.weight' -> 'conv1', '3.weight' -> '3' (the layer a weight belongs to)."""
    return param_name[: -len(".weight")] if param_name.endswith(".weight") else param_name


def update_ratio(w_before: np.ndarray, w_after: np.ndarray) -> float:
    """||w_after - w_before|| / ||w_before|| (Frobenius norms): the size of one step relative to the weights."""
    w_before = np.asarray(to_numpy(w_before), dtype=np.float64)
    w_after = np.asarray(to_numpy(w_after), dtype=np.float64)
    if w_before.shape != w_after.shape:
        raise ValueError(f"update_ratio: w_before {w_before.shape} and w_after {w_after.shape} must be the same "
                         "weight, before and after one step (same shape).")
    if not np.any(w_before):
        raise ValueError("update_ratio: w_before is all zeros, so ||w_before|| = 0 and the ratio is undefined "
                         "(biases often start at 0: measure the weights, as StepLog does).")
    return float(np.linalg.norm(w_after - w_before) / np.linalg.norm(w_before))


@dataclass
class StepLog(Callback):
    """A ``training.fit`` callback recording every step's loss and each layer's update/weight ratio:

        ratio = ||w_after - w_before|| / ||w_before||   ( = ||lr * update|| / ||w|| for plain SGD )

    for scratch and torch models alike. Biases are skipped (weights_only=True): they often start at 0, where
    the ratio is infinite. A nan or inf loss stops the run (the log then ends with that value, and no ratio).

        log = StepLog()
        training.train_steps(model, loss_fn, optimizer, (x, y), steps=200, callbacks=[log])
    """

    losses: list[float] = field(default_factory=list)
    ratios: dict[str, list[float]] = field(default_factory=dict)
    weights_only: bool = True
    _before: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def on_train_begin(self, model) -> None:
        self._before = _param_arrays(model, self.weights_only)

    def on_step(self, step: int, loss: float, model) -> bool:
        self.losses.append(float(loss))
        if not np.isfinite(loss):
            return True
        after = _param_arrays(model, self.weights_only)
        for name, w0 in self._before.items():
            ratio = np.linalg.norm(after[name] - w0) / max(np.linalg.norm(w0), 1e-30)
            self.ratios.setdefault(layer_name(name), []).append(float(ratio))
        self._before = after
        return False

    def median_ratios(self, last: int | None = None) -> dict[str, float]:
        """Median update/weight ratio per layer over the last ``last`` steps (all steps if None)."""
        return {k: float(np.median(v[-last:] if last else v)) for k, v in self.ratios.items()}


def draw_update_ratios(ax, ratios: dict[str, list[float]], title: str | None = None) -> None:
    """log10(update/weight ratio) per step on ``ax``, one line per layer, with the healthy band 1e-4..1e-2
    shaded and CS231n's 1e-3 dashed."""
    for name, values in ratios.items():
        ax.plot(np.log10(np.maximum(values, 1e-30)), label=name, lw=1)
    ax.axhspan(np.log10(RATIO_LOW), np.log10(RATIO_HIGH), color="green", alpha=0.1, label="1e-4 .. 1e-2")
    ax.axhline(np.log10(RATIO_HEALTHY), color="k", ls="--", lw=1, label="1e-3")
    ax.set(xlabel="step", ylabel="log10(update / weight)", title=title or "update/weight ratio per layer")
    ax.legend(fontsize=7, ncol=2)


def plot_update_ratios(ratios: dict[str, list[float]], title: str | None = None) -> Figure:
    """The update/weight ratios of one run (see draw_update_ratios) as a Figure of their own."""
    if not ratios:
        raise ValueError("plot_update_ratios: no ratios to draw (an empty dict); pass a StepLog's .ratios after "
                         "training with callbacks=[log].")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    draw_update_ratios(ax, ratios, title)
    return finish(fig)


# ----------------------------------------------------------------------------- activations over training

class ActivationLog(Callback):
    """A ``training.fit`` callback that records the activation layers on fixed inputs before the first step and
    every ``every`` steps, so that their statistics can be followed through training (not only at the start):

        log = ActivationLog(x_val[:200], y_val[:200], nn.CrossEntropyLoss(), every=5)
        training.fit(model, loss_fn, optimizer, train, callbacks=[log])
        log.steps                           # [0, 5, 10, ...]
        log.series("dead_fraction")         # {layer name: array (recordings,)}: any LayerRecord statistic
        plot_activation_history(log)

    Each recording is ``record_activations(model, x, y, loss_fn)`` (a forward and a backward pass, in the mode
    the model is in); only the ReLU/Sigmoid/Tanh layers' records are kept. ``records[k]`` belongs to ``steps[k]``.
    """

    def __init__(self, x, y, loss_fn, every: int = 10) -> None:
        if every < 1:
            raise ValueError(f"ActivationLog(every=...) is a number of steps, at least 1; got {every}.")
        self.x, self.y, self.loss_fn, self.every = x, y, loss_fn, every
        self.steps: list[int] = []
        self.records: list[list[LayerRecord]] = []

    def _record(self, step: int, model) -> None:
        records = record_activations(model, self.x, self.y, self.loss_fn)
        self.steps.append(step)
        self.records.append([r for r in records if r.is_activation])

    def on_train_begin(self, model) -> None:
        self._record(0, model)

    def on_step(self, step: int, loss: float, model) -> None:
        if step % self.every == 0:
            self._record(step, model)

    def _check_recorded(self, what: str) -> None:
        if not self.records:
            raise ValueError(f"ActivationLog.{what}: nothing recorded yet; pass the log to training "
                             "(fit(..., callbacks=[log])) before reading it.")

    def series(self, statistic: str) -> dict[str, np.ndarray]:
        """One LayerRecord statistic ("act_std", "dead_fraction", ...) per activation layer, over the recordings."""
        statistics = [f.name for f in fields(LayerRecord) if f.type == "float"]
        if statistic not in statistics:
            raise ValueError(f"ActivationLog.series: {statistic!r} is not a LayerRecord statistic; "
                             f"choose one of {statistics}.")
        self._check_recorded("series")
        names = [r.name for r in self.records[0]]
        return {name: np.array([getattr(records[j], statistic) for records in self.records])
                for j, name in enumerate(names)}

    def histograms(self, bins: int = 40) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per activation layer: (edges (bins + 1,), counts (recordings, bins)), one histogram of the layer's
        outputs per recording over common edges (the finite values' range over all recordings)."""
        self._check_recorded("histograms")
        out = {}
        for j, name in enumerate(r.name for r in self.records[0]):
            values = [records[j].activations[np.isfinite(records[j].activations)] for records in self.records]
            finite = np.concatenate(values)
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
            out[name] = edges, np.array([np.histogram(v, edges)[0] for v in values])
        return out


def plot_activation_history(log: ActivationLog, title: str | None = None, bins: int = 40) -> Figure:
    """One column per activation layer. Top: the histograms of its outputs over training, side by side (x: the
    step, y: the output value, colour: log(1 + count), the "colorful dimension" picture of fast.ai's course);
    bottom: the share of dead units (ReLU) or of saturated outputs (sigmoid, tanh) at each recording."""
    hists = log.histograms(bins)
    fig, axes = plt.subplots(2, len(hists), figsize=(2.6 * len(hists) + 1, 4.4), squeeze=False, sharex=True)
    for j, (name, (edges, counts)) in enumerate(hists.items()):
        kind = log.records[0][j].kind
        top, bottom = axes[0, j], axes[1, j]
        top.imshow(np.log1p(counts.T), origin="lower", aspect="auto", cmap="viridis",
                   extent=(log.steps[0], log.steps[-1], edges[0], edges[-1]))
        top.set_title(f"{name} {kind}: outputs", fontsize=9)
        statistic = "dead_fraction" if kind in ("ReLU", "LeakyReLU") else "saturated_fraction"
        bottom.plot(log.steps, log.series(statistic)[name], "o-", ms=3)
        bottom.set(ylim=(-0.03, 1.03), xlabel="step")
        bottom.set_title(statistic.replace("_", " "), fontsize=9)
    axes[0, 0].set_ylabel("output value")
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig)


# ----------------------------------------------------------------------------- filters

def first_layer_weights(model) -> np.ndarray:
    """The weights of the first Conv2d or Linear layer as NumPy: (out, in, kH, kW) or (out, in)."""
    for name, p in model.named_parameters():
        value = p.data if isinstance(p, scratch.Parameter) else to_numpy(p)
        if value.ndim >= 2:
            return np.array(value, dtype=np.float64)
    raise ValueError("first_layer_weights: the model has no weight matrix or kernel.")


def _as_images(weights) -> np.ndarray:
    """(out, 1, k, k) conv kernels -> (out, k, k); (out, 784) linear weights -> (out, 28, 28)."""
    w = np.asarray(to_numpy(weights), dtype=np.float64)
    if w.ndim not in (2, 4):
        raise ValueError(f"cannot draw weights of shape {w.shape} as images: need (out, in, k, k) or "
                         "(out, side*side); first_layer_weights(model) gives them.")
    if w.ndim == 4:
        return w[:, 0] if w.shape[1] == 1 else w.mean(axis=1)
    side = int(round(np.sqrt(w.shape[1])))
    if w.ndim == 2 and side * side == w.shape[1]:
        return w.reshape(len(w), side, side)
    raise ValueError(f"cannot draw weights of shape {w.shape} as images: need (out, in, k, k) or (out, side*side).")


def filter_roughness(weights) -> float:
    """How noisy filters look: mean squared difference of neighbouring pixels / (2 * variance), averaged
    over filters. About 1 for white noise (random init), near 0 for smooth filters. (out, in, k, k) or (out, n*n)."""
    images = _as_images(weights)
    scores = []
    for f in images:
        f = f - f.mean()
        diffs = np.concatenate([np.diff(f, axis=0).ravel(), np.diff(f, axis=1).ravel()])
        scores.append(np.mean(diffs ** 2) / (2 * max(f.var(), 1e-30)))
    return float(np.mean(scores))


def filter_similarity(weights) -> float:
    """How alike the filters are: mean |cosine similarity| between every pair of mean-removed filters
    (0: all different, 1: all the same pattern up to sign and scale). Diverse filters score low."""
    images = _as_images(weights).reshape(len(_as_images(weights)), -1)
    centred = images - images.mean(axis=1, keepdims=True)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-30)
    cos = np.abs(unit @ unit.T)
    n = len(unit)
    return float((cos.sum() - np.trace(cos)) / max(n * (n - 1), 1))


def plot_filters(weights, cols: int = 8, title: str | None = None):
    """Grid of first-layer filters (``plots.image_grid``), each scaled to its own range (gray: low to high).
    Returns the Figure (closed)."""
    return image_grid(_as_images(weights), cols=cols, size=0.9, title=title, interpolation="nearest")


# ----------------------------------------------------------------------------- early stopping

def early_stopping_epoch(val_loss, patience: int = 3) -> int:
    """Index of the epoch to keep: the best validation loss, found by stopping once it has not improved for
    ``patience`` epochs in a row (so a later, better minimum after a long plateau is not seen).
    The rule of ``training.EarlyStopping``, replayed on a finished run's losses."""
    if len(val_loss) == 0:
        raise ValueError("early_stopping_epoch: val_loss is empty, so there is no epoch to choose; pass the "
                         "validation losses of a run (history.val_loss, filled when fit gets val=(x, y)).")
    stopper = EarlyStopping(patience)
    for loss in val_loss:
        if stopper.update(loss):
            break
    return stopper.best_epoch


# ----------------------------------------------------------------------------- reading

def read_diagnostics(records: list[LayerRecord] | None = None, ratios: dict[str, list[float]] | None = None,
                     history=None, losses: list[float] | None = None, dead_threshold: float = 0.5,
                     saturation_threshold: float = 0.5, gap_threshold: float = 0.05,
                     vanishing_factor: float = 1e-3) -> list[str]:
    """Plain-language warnings from the measurements. An empty list means nothing looks wrong.

    records: from record_activations (dead ReLUs, saturated sigmoid/tanh, vanishing or exploding gradients);
    ratios: per-layer update/weight ratios (median of the last 20 steps vs 1e-4 .. 1e-2, and the peak vs 1e-1);
    history: a training.History (train/validation gap, loss not decreasing, underfitting);
    losses: per-step training losses (nan, not decreasing, increasing).
    Called with none of them it raises ValueError: no measurement is not a healthy reading.
    """
    if records is None and ratios is None and history is None and losses is None:
        raise ValueError("read_diagnostics: nothing to read; pass at least one of records=, ratios=, history=, "
                         "losses= (an empty answer would wrongly say that all looks healthy).")
    sentences: list[str] = []
    if records:
        sentences += _read_records(records, dead_threshold, saturation_threshold, vanishing_factor)
    if ratios:
        sentences += _read_ratios(ratios)
    if losses is not None and len(losses):
        sentences += _read_losses(losses)
    if history is not None and history.train_loss:
        sentences += _read_history(history, gap_threshold)
    return sentences


def _layers(records: list[LayerRecord]) -> str:
    return ("layer " if len(records) == 1 else "layers ") + ", ".join(r.name for r in records)


def _share(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.0%}" if round(100 * low) == round(100 * high) else f"{low:.0%} to {high:.0%}"


def _read_records(records, dead_threshold, saturation_threshold, vanishing_factor) -> list[str]:
    out = []
    dead = [r for r in records if r.dead_fraction >= dead_threshold]
    if dead:
        out.append(f"{_layers(dead)}: {_share([r.dead_fraction for r in dead])} of ReLUs dead (never positive on "
                   "this batch): lower the learning rate, check the biases and the initialisation")
    for kind, ends in (("Sigmoid", "0 or 1"), ("Tanh", "-1 or 1")):
        saturated = [r for r in records if r.kind == kind and r.saturated_fraction >= saturation_threshold]
        if saturated:
            out.append(f"{_layers(saturated)} {kind.lower()} saturated: {_share([r.saturated_fraction for r in saturated])} "
                       f"of outputs within {SATURATION_EPS} of {ends} (slope near 0: these units barely learn); scale "
                       "the initial weights by 1/sqrt(fan-in) or add batch normalisation")
    acts = [r for r in records if r.is_activation and np.isfinite(r.act_std) and r.act_std > 0]
    if len(acts) >= 2 and acts[-1].act_std / acts[0].act_std > 1 / vanishing_factor:
        out.append(f"activations explode: their std grows from {acts[0].act_std:.2g} at layer {acts[0].name} to "
                   f"{acts[-1].act_std:.2g} at layer {acts[-1].name}; the initial weights are too large")
    elif len(acts) >= 2 and acts[-1].act_std / acts[0].act_std < vanishing_factor:
        out.append(f"activations collapse: their std shrinks from {acts[0].act_std:.2g} at layer {acts[0].name} to "
                   f"{acts[-1].act_std:.2g} at layer {acts[-1].name}; the initial weights are too small")
    grads = [r for r in records if r.is_activation and np.isfinite(r.grad_std) and r.grad_std > 0]
    if len(grads) >= 2:
        first, last = grads[0], grads[-1]
        factor = first.grad_std / last.grad_std
        if factor < vanishing_factor:
            out.append(f"gradients vanish towards the input: std of dL/d(output) is {factor:.0e} times smaller "
                       f"at layer {first.name} than at layer {last.name}")
        elif factor > 1 / vanishing_factor:
            out.append(f"gradients explode towards the input: std of dL/d(output) is {factor:.0e} times larger "
                       f"at layer {first.name} than at layer {last.name}")
    if any(not np.isfinite(r.act_std) for r in records):
        out.append("activations contain nan or inf: the weights have blown up (learning rate far too high?)")
    return out


def _read_ratios(ratios) -> list[str]:
    out = []
    for name, values in ratios.items():
        ratio = float(np.median(values[-20:]))
        if ratio == 0:
            out.append(f"update/weight ratio 0 in {name}: the weights no longer move — zero gradients "
                       "(all ReLUs dead after a blow-up?) or parameters missing from the optimizer")
        elif not np.isfinite(ratio) or ratio > RATIO_HIGH:
            out.append(f"update/weight ratio {ratio:.0e} in {name}: learning rate likely too high "
                       f"(healthy is about {RATIO_HEALTHY:.0e})")
        elif max(values) > 10 * RATIO_HIGH:
            out.append(f"update/weight ratio peaked at {max(values):.0e} in {name}: learning rate likely too high "
                       f"(healthy is about {RATIO_HEALTHY:.0e}); the ratio fell later, but look at the loss")
        elif ratio < RATIO_LOW:
            out.append(f"update/weight ratio {ratio:.0e} in {name}: learning rate likely too low "
                       f"(healthy is about {RATIO_HEALTHY:.0e})")
    return out


def _read_losses(losses) -> list[str]:
    losses = np.asarray(losses, dtype=float)
    if not np.all(np.isfinite(losses)):
        return ["training loss became nan or inf: learning rate far too high (or a log of 0 somewhere)"]
    k = max(1, len(losses) // 5)
    start, end = losses[:k].mean(), losses[-k:].mean()
    if losses.max() > 2 * losses[0]:
        return [f"training loss jumped from {losses[0]:.3g} to {losses.max():.3g}: learning rate too high"]
    if end > 1.05 * start:
        return [f"training loss rising ({start:.3g} -> {end:.3g}): learning rate too high"]
    if end > 0.9 * start:
        return [f"training loss not decreasing ({start:.3g} -> {end:.3g}): learning rate too low or a bug — "
                "overfit a tiny subset first"]
    return []


def _read_history(history, gap_threshold) -> list[str]:
    out = _read_losses(history.train_loss) if len(history.train_loss) >= 2 else []
    if history.train_acc and history.val_acc:
        train, val = history.train_acc[-1], history.val_acc[-1]
        gap = train - val
        if gap >= gap_threshold:
            out.append(f"train/val gap {100 * gap:.0f} points: overfitting — more data, augmentation, L2, dropout "
                       "(or stop earlier)")
        elif train < 0.9 and not out:
            out.append(f"train accuracy only {train:.0%} with validation close to it: underfitting — a bigger model, "
                       "longer training, a better learning rate")
    return out


def format_reading(sentences: list[str]) -> str:
    """The sentences as a bulleted list, or a line saying that nothing looks wrong."""
    if not sentences:
        return "no warning signs: activations, gradients, update ratios and curves look healthy"
    return "\n".join(f"- {s}" for s in sentences)
