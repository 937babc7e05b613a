"""One small training loop for both worlds: scratch (NumPy) models and ``torch.nn`` models.

    history = fit(model, loss_fn, optimizer, (x_train, y_train), val=(x_test, y_test), epochs=10)

The loop is the same; only the step differs:
  scratch: loss = loss_fn(model(x), y); model.backward(loss_fn.backward()); optimizer.step()
  torch:   loss = loss_fn(model(x), y); loss.backward();                     optimizer.step()
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import scratch


@dataclass
class History:
    """Per-epoch record of a training run (what the diagnostics notebooks read)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds))

    def __repr__(self) -> str:
        last = f"train acc {self.train_acc[-1]:.4f}" if self.train_acc else "empty"
        if self.val_acc:
            last += f", val acc {self.val_acc[-1]:.4f}"
        return f"History({len(self.train_loss)} epochs, {last}, {self.total_seconds:.1f} s)"


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A shuffled split of indices 0..n-1 into batches of ``batch_size`` (the last may be smaller)."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _is_scratch(model) -> bool:
    return isinstance(model, scratch.Module)


def _check_data(x, y, name: str) -> None:
    if len(x) != len(y):
        raise ValueError(f"fit: {name} has {len(x)} inputs but {len(y)} labels; they must pair up.")


def fit(model, loss_fn, optimizer, train, val=None, epochs: int = 10, batch_size: int = 64,
        seed: int = 0, progress: bool = True, device=None) -> History:
    """Train ``model`` on ``train = (x, y)`` NumPy arrays for ``epochs`` passes of shuffled mini-batches.

    Works for scratch models (NumPy) and torch models (moved to ``device``, default: the model's).
    Returns a History with the mean training loss/accuracy of each epoch and, if ``val`` is given,
    the validation loss/accuracy after each epoch.
    """
    x, y = train
    _check_data(x, y, "train")
    if val is not None:
        _check_data(*val, "val")
    step, evaluate_fn = (_scratch_step, evaluate) if _is_scratch(model) else _torch_functions(model, device)
    rng = np.random.default_rng(seed)
    history = History()
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=False)
    for _ in bar:
        start = time.perf_counter()
        losses, correct = [], 0
        for idx in minibatches(len(x), batch_size, rng):
            loss, n_correct = step(model, loss_fn, optimizer, x[idx], y[idx])
            losses.append(loss * len(idx))
            correct += n_correct
        history.seconds.append(time.perf_counter() - start)
        history.train_loss.append(float(sum(losses) / len(x)))
        history.train_acc.append(correct / len(x))
        if val is not None:
            val_loss, val_acc = evaluate_fn(model, loss_fn, *val)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", acc=f"{history.train_acc[-1]:.4f}")
    return history


def fit_in_phases(model, loss_fn, optimizer, train, phases, val=None, **fit_options) -> History:
    """``fit`` once per (learning rate, epochs) phase, e.g. [(0.05, 4), (0.01, 2)]; one History for the whole run.

    The learning rate of every parameter group is set before each phase (a step schedule written out);
    phase i shuffles with seed i unless ``seed`` is given.
    """
    parts = []
    for i, (lr, epochs) in enumerate(phases):
        for group in optimizer.param_groups:
            group["lr"] = lr
        options = {"seed": i, **fit_options}
        parts.append(fit(model, loss_fn, optimizer, train, val=val, epochs=epochs, **options))
    return History(**{name: sum((getattr(h, name) for h in parts), []) for name in History.__dataclass_fields__})


def _scratch_step(model, loss_fn, optimizer, xb, yb) -> tuple[float, int]:
    model.train()
    scores = model(xb)
    loss = loss_fn(scores, yb)
    optimizer.zero_grad()
    model.backward(loss_fn.backward())
    optimizer.step()
    return loss, int((scores.argmax(axis=1) == yb).sum())


def predict(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Class scores of a scratch model in eval mode, computed in batches: (N, ...) -> (N, C)."""
    model.eval()
    return np.concatenate([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model, loss_fn, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean loss, accuracy) of a scratch or torch model on the whole of (x, y)."""
    if not _is_scratch(model):
        return _torch_functions(model, None)[1](model, loss_fn, x, y)
    scores = predict(model, x)
    return loss_fn(scores, y), float((scores.argmax(axis=1) == y).mean())


def _torch_functions(model, device):
    """The torch step and evaluation, with torch imported only when a torch model is trained."""
    import torch

    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    dtype = next(model.parameters()).dtype

    def to_tensors(xb, yb):
        return (torch.as_tensor(xb, dtype=dtype, device=device),
                torch.as_tensor(yb, dtype=torch.long, device=device))

    def step(model, loss_fn, optimizer, xb, yb):
        model.train()
        xt, yt = to_tensors(xb, yb)
        scores = model(xt)
        loss = loss_fn(scores, yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item(), int((scores.argmax(dim=1) == yt).sum())

    @torch.no_grad()
    def evaluate_torch(model, loss_fn, x, y, batch_size: int = 1000):
        model.eval()
        total_loss, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            xt, yt = to_tensors(x[i:i + batch_size], y[i:i + batch_size])
            scores = model(xt)
            total_loss += float(loss_fn(scores, yt)) * len(yt)
            correct += int((scores.argmax(dim=1) == yt).sum())
        return total_loss / len(x), correct / len(x)

    return step, evaluate_torch
