"""The course's one training step, and the one loop built on it, for scratch (NumPy) and ``torch.nn`` models.

    loss, n_correct = train_step(model, loss_fn, optimizer, xb, yb)
    history = fit(model, loss_fn, optimizer, (x_train, y_train), val=(x_test, y_test), epochs=10)

Only the backward differs between the two worlds:
  scratch: loss = loss_fn(model(x), y); model.backward(loss_fn.backward()); optimizer.step()
  torch:   loss = loss_fn(model(x), y); loss.backward();                     optimizer.step()

``fit`` draws the batches (``batches=``: ``shuffled_batches`` per epoch by default, ``random_batches`` or
``full_batches`` for a number of steps), can change each batch (``transform=``, e.g. augmentation;
``perturb=``, with the model and the labels, e.g. adversarial training) and calls its ``callbacks`` after
every step and epoch: recording for diagnostics (``diagnostics.StepLog``), learning-rate schedules
(``Schedule``), early stopping (``EarlyStopping``), a step limit (``MaxSteps``), accuracy on held-out data
every few steps, optionally stopping at a target (``AccuracyEvery``).

Bad input is refused at the entry points with a message that names the argument and the fix: sizes and
counts that are not positive integers, ``train``/``val`` that are not (x, y) pairs, and a model, loss and
optimizer from different worlds (a scratch model with a torch optimiser, say), which would run and learn nothing.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
from tqdm.auto import tqdm

from . import scratch

Batches = Callable[[int], Iterable]      # n examples -> the index arrays of one epoch


@dataclass
class History:
    """Record of a training run: per epoch (what the diagnostics notebooks read) and the loss of every step.

    train_acc is empty when the targets are not class labels (e.g. BCE's float targets).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list, repr=False)

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds))

    def __add__(self, other: "History") -> "History":
        """This run continued by ``other`` (a next phase, or a branch trained on from where this one ended)."""
        if not isinstance(other, History):
            return NotImplemented
        return History(**{name: getattr(self, name) + getattr(other, name) for name in History.__dataclass_fields__})

    def __radd__(self, other) -> "History":
        """``sum(histories)`` starts from 0: 0 + history is that history."""
        return self if isinstance(other, int) and other == 0 else NotImplemented

    def __repr__(self) -> str:
        last = f"train loss {self.train_loss[-1]:.4f}" if self.train_loss else "empty"
        if self.train_acc:
            last = f"train acc {self.train_acc[-1]:.4f}"
        if self.val_acc:
            last += f", val acc {self.val_acc[-1]:.4f}"
        return f"History({len(self.train_loss)} epochs, {last}, {self.total_seconds:.1f} s)"


# ------------------------------------------------------------------------------------------ callbacks


class Callback:
    """What ``fit`` calls: override the hooks you need. A hook that returns True stops training."""

    def on_train_begin(self, model) -> None:
        """Before the first step."""

    def on_step(self, step: int, loss: float, model) -> Optional[bool]:
        """After step ``step`` (1, 2, ...) whose mini-batch loss was ``loss``."""

    def on_epoch_end(self, epoch: int, history: History, model) -> Optional[bool]:
        """After epoch ``epoch`` (0, 1, ...) has been added to ``history``."""


class Schedule(Callback):
    """``scheduler.step()`` after every optimizer step (every="step") or after every epoch (every="epoch")."""

    def __init__(self, scheduler, every: str = "epoch") -> None:
        _check_scheduler(scheduler)
        if every not in ("step", "epoch"):
            raise ValueError(f"Schedule(every=...) must be 'step' or 'epoch', got {every!r}.")
        self.scheduler, self.every = scheduler, every

    def on_step(self, step, loss, model):
        if self.every == "step":
            self.scheduler.step()

    def on_epoch_end(self, epoch, history, model):
        if self.every == "epoch":
            self.scheduler.step()


class EarlyStopping(Callback):
    """Stop once the validation loss has not improved for ``patience`` epochs in a row.

    ``best_epoch`` is the epoch to keep (0-based). ``update(loss)`` is the rule itself, one epoch at a time.
    """

    def __init__(self, patience: int = 3) -> None:
        _check_positive_int(patience, "EarlyStopping(patience=...)", "epochs without improvement before stopping")
        self.patience = patience
        self.best, self._best_epoch, self.waited, self.epoch = math.inf, 0, 0, -1

    @property
    def best_epoch(self) -> int:
        """The epoch (0-based) with the lowest validation loss so far."""
        if self.epoch < 0:
            raise ValueError("EarlyStopping has seen no validation loss yet (an empty list of val_loss?): "
                             "the best epoch needs at least one epoch's validation loss.")
        return self._best_epoch

    def update(self, val_loss: float) -> bool:
        """Take the next epoch's validation loss; True when it is time to stop."""
        self.epoch += 1
        if val_loss < self.best:
            self.best, self._best_epoch, self.waited = val_loss, self.epoch, 0
            return False
        self.waited += 1
        return self.waited >= self.patience

    def on_epoch_end(self, epoch, history, model):
        if not history.val_loss:
            raise ValueError("EarlyStopping watches the validation loss: pass val=(x_val, y_val) to fit.")
        return self.update(history.val_loss[-1])


class AccuracyEvery(Callback):
    """Accuracy on (x, y) (say, the validation digits) after every ``every``-th step, in ``steps`` and ``accs``.

    With ``target``, training stops at the first check whose accuracy is >= target; ``reached`` is that step
    (None while it has not been reached): how many steps a network needs to get there.
    """

    def __init__(self, x, y, every: int = 10, target: Optional[float] = None) -> None:
        _check_positive_int(every, "AccuracyEvery(every=...)", "the number of steps between two checks")
        if target is not None and not 0 < target <= 1:
            raise ValueError(f"AccuracyEvery(target=...) is an accuracy, a fraction in (0, 1], got {target!r}"
                             f"{' (a percentage? write 0.9 for 90%)' if 1 < target <= 100 else ''}.")
        x, y = _pair((x, y), "(x, y)", where="AccuracyEvery")
        self.x, self.y, self.every, self.target = x, y, every, target
        self.steps: list[int] = []
        self.accs: list[float] = []
        self.reached: Optional[int] = None

    def on_step(self, step, loss, model):
        if step % self.every:
            return False
        self.steps.append(step)
        self.accs.append(accuracy(model, self.x, self.y))
        if self.target is not None and self.accs[-1] >= self.target:
            self.reached = step
        return self.reached is not None


class MaxSteps(Callback):
    """Stop after ``max_steps`` steps (tests and quick looks take a few)."""

    def __init__(self, max_steps: int) -> None:
        _check_positive_int(max_steps, "MaxSteps(max_steps)", "how many steps to train")
        self.max_steps = max_steps

    def on_step(self, step, loss, model):
        return step >= self.max_steps


# ------------------------------------------------------------------------------------------ batches


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A shuffled split of indices 0..n-1 into batches of ``batch_size`` (the last may be smaller)."""
    _check_positive_int(batch_size, "batch_size", "examples per mini-batch")
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def shuffled_batches(batch_size: int = 64, seed: int = 0, generator=None) -> Batches:
    """Every epoch a fresh ``minibatches`` split, from one ``default_rng(seed)`` for the whole run.

    generator: a ``torch.Generator`` to draw each epoch's order from instead (``torch.randperm(n)`` split
    into batches), so that an augmentation can share it (the order of draws is then order, batch 1's
    augmentation, batch 2's, ...).
    """
    _check_positive_int(batch_size, "shuffled_batches(batch_size)", "examples per mini-batch")
    if generator is not None:
        import torch

        return lambda n: torch.randperm(n, generator=generator).split(batch_size)
    rng = np.random.default_rng(seed)
    return lambda n: minibatches(n, batch_size, rng)


def random_batches(batch_size: int, steps: int, seed: int = 0) -> Batches:
    """One 'epoch' of ``steps`` batches, each ``min(batch_size, n)`` indices drawn without replacement."""
    _check_positive_int(batch_size, "random_batches(batch_size)", "examples per mini-batch")
    _check_positive_int(steps, "random_batches(steps)", "how many mini-batches to draw")
    rng = np.random.default_rng(seed)

    def draw(n: int):
        for _ in range(steps):
            yield rng.choice(n, size=min(batch_size, n), replace=False)

    return draw


def full_batches(steps: int) -> Batches:
    """One 'epoch' of ``steps`` steps, each on the whole training set (full-batch gradient descent)."""
    _check_positive_int(steps, "full_batches(steps)", "how many full-batch steps to take")
    return lambda n: [np.arange(n)] * steps


# ------------------------------------------------------------------------------------------ checks


def _check_positive_int(value, name: str, meaning: str) -> None:
    """Refuse anything but a whole number >= 1; ``meaning`` says what it counts."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer ({meaning}), got {value!r}.")


def _pair(data, name: str, where: str = "fit"):
    """(x, y) from ``data``, a pair of arrays or tensors of one length (lists become arrays); refuses anything else."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        got = _kind(data)
        if hasattr(data, "shape"):
            got += f" of shape {tuple(data.shape)}"
        elif isinstance(data, (tuple, list)):
            got += f" of length {len(data)}"
        raise TypeError(f"{where}: {name} must be a pair (x, y) of inputs and labels, passed as one tuple, "
                        f"e.g. {name}=(x_{name}, y_{name}); got {got}.")
    x, y = (np.asarray(v) if isinstance(v, (list, tuple)) else v for v in data)
    if len(x) != len(y):
        raise ValueError(f"{where}: {name} has {len(x)} inputs but {len(y)} labels; they must pair up.")
    if len(x) == 0:
        raise ValueError(f"{where}: {name} has no examples (x has length 0); "
                         "there is nothing to learn from or measure.")
    return x, y


def _world(obj) -> Optional[str]:
    """'scratch' or 'torch' when obj's class (or a base class) comes from course_lib.scratch or torch, else None."""
    for cls in type(obj).__mro__:
        if cls.__module__.startswith("course_lib.scratch"):
            return "scratch"
        if cls.__module__.split(".")[0] == "torch":
            return "torch"
    return None


def _kind(obj) -> str:
    """'an int', 'a MaxSteps': the type of obj with its article."""
    name = type(obj).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _named(obj) -> str:
    """'a torch SGD', 'a scratch CrossEntropyLoss', 'a function (neither scratch nor torch)'."""
    world = _world(obj)
    return f"a {world} {type(obj).__name__}" if world else f"{_kind(obj)} (neither scratch nor torch)"


def _counterpart(obj, namespace, fallback: str) -> str:
    """The class of the model's world with obj's name (scratch.optim.Adam for torch.optim.Adam), else ``fallback``."""
    name = type(obj).__name__
    return name if hasattr(namespace, name) else fallback


def _check_parts(model, loss_fn, optimizer) -> None:
    """Refuse a model, loss and optimizer from different worlds, and an optimizer made for another model:
    each would run and learn nothing (or fail deep inside with advice that does not apply)."""
    world = _world(model)
    if world is None:
        raise TypeError(f"model must be a course_lib.scratch model or a torch.nn.Module, got {_named(model)}.")
    if world == "scratch":
        if _world(optimizer) != "scratch":
            fix = _counterpart(optimizer, scratch.optim, "SGD")
            raise TypeError(f"The model is a scratch model ({type(model).__name__}) but the optimizer is "
                            f"{_named(optimizer)}, which cannot update it. Use scratch.optim.{fix}(model.parameters(), "
                            "lr=...) for a scratch model.")
        if _world(loss_fn) == "torch" or not hasattr(loss_fn, "backward"):
            fix = _counterpart(loss_fn, scratch, "CrossEntropyLoss")
            raise TypeError(f"The model is a scratch model ({type(model).__name__}) but loss_fn is {_named(loss_fn)}; "
                            f"a scratch model needs a scratch loss, whose backward() starts its backward pass: "
                            f"use scratch.{fix}().")
    else:
        import torch

        if _world(optimizer) != "torch":
            fix = _counterpart(optimizer, torch.optim, "SGD")
            raise TypeError(f"The model is a torch model ({type(model).__name__}) but the optimizer is "
                            f"{_named(optimizer)}, which cannot update it. Use torch.optim.{fix}(model.parameters(), "
                            "lr=...) for a torch model.")
        if _world(loss_fn) == "scratch":
            fix = _counterpart(loss_fn, torch.nn, "CrossEntropyLoss")
            raise TypeError(f"The model is a torch model ({type(model).__name__}) but loss_fn is {_named(loss_fn)}, "
                            f"which works on NumPy arrays, not on tensors with gradients: use torch.nn.{fix}().")
    _check_optimizer_owns(model, optimizer)


def _check_optimizer_owns(model, optimizer) -> None:
    """At least one of the optimizer's parameters is the model's (a frozen body, or only a head, is fine)."""
    mine = {id(p) for p in model.parameters()}
    theirs = [p for group in optimizer.param_groups for p in group["params"]]
    if not any(id(p) in mine for p in theirs):
        raise ValueError(f"None of the optimizer's {len(theirs)} parameters belongs to this model: the optimizer was "
                         "made for another model (or for a copy), so training would change nothing here. Make it "
                         "from this model: optimizer = SGD(model.parameters(), lr=...).")


def _check_scheduler(scheduler) -> None:
    if hasattr(scheduler, "param_groups"):
        raise TypeError(f"Schedule takes a learning-rate scheduler, got the optimizer {type(scheduler).__name__} "
                        "itself (its step() would update the weights a second time). Wrap it: "
                        "Schedule(StepLR(optimizer, step_size=10)).")
    if not (hasattr(scheduler, "step") and hasattr(scheduler, "optimizer")):
        raise TypeError("Schedule takes a learning-rate scheduler (from scratch.lr_scheduler or torch.optim."
                        f"lr_scheduler), e.g. Schedule(StepLR(optimizer, step_size=10)); got {_kind(scheduler)}.")


def _check_callbacks(callbacks, optimizer) -> None:
    """A list of Callback instances; a Schedule's scheduler must drive the optimizer that fit steps."""
    if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of callbacks, e.g. callbacks=[MaxSteps(100)]; "
                        f"got {_kind(callbacks)}.")
    for i, callback in enumerate(callbacks):
        if isinstance(callback, type):
            raise TypeError(f"callbacks[{i}] is the class {callback.__name__}, not a callback: make one, "
                            f"e.g. callbacks=[{callback.__name__}(...)].")
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks[{i}] is {_kind(callback)}, not a training.Callback.")
        if isinstance(callback, Schedule) and callback.scheduler.optimizer is not optimizer:
            raise ValueError(f"callbacks[{i}]: the Schedule's scheduler drives another optimizer than the one fit "
                             "steps, so the schedule would change nothing; make the scheduler from fit's optimizer.")


def _check_batches(batches) -> None:
    if batches in (shuffled_batches, random_batches, full_batches):
        raise TypeError(f"batches= takes what {batches.__name__}(...) returns, not the function itself: "
                        f"e.g. batches={batches.__name__}({'steps=100' if batches is full_batches else '64'}).")
    if not callable(batches):
        raise TypeError("batches= must be a function from n (the number of examples) to one epoch's index "
                        f"arrays, e.g. batches=random_batches(64, steps=100); got {_kind(batches)}.")


def _transformed(name: str, out, xb):
    """``out`` = transform(xb) or perturb(model, xb, yb), refused when it is nothing or a batch of another size."""
    if out is None:
        raise TypeError(f"{name} returned None (a missing return?); it must return the changed batch.")
    if len(out) != len(xb):
        raise ValueError(f"{name} turned a batch of {len(xb)} inputs into {len(out)}; "
                         "it must change each input, not their number (the labels must still pair up).")
    return out


# ------------------------------------------------------------------------------------------ the step


def is_scratch(model) -> bool:
    """True for a course_lib.scratch model (NumPy), False for a torch.nn model."""
    return isinstance(model, scratch.Module)


def _are_labels(yb) -> bool:
    """True for class labels: an integer array or tensor of any rank >= 1, (N,) per example or (N, H, W) per pixel
    (not BCE's or a regression's float targets)."""
    if yb.ndim == 0:
        return False
    if hasattr(yb, "is_floating_point"):
        return not yb.is_floating_point()
    return np.issubdtype(yb.dtype, np.integer)


def _n_correct(scores, yb) -> Optional[int]:
    """How many positions have their highest score at the label: scores (N, C) with yb (N,), or (N, C, H, W) with
    yb (N, H, W), correct pixels; None if yb are not labels of the scores' shape without the class axis 1."""
    if not _are_labels(yb) or tuple(yb.shape) != (scores.shape[0], *scores.shape[2:]):
        return None
    return int((scores.argmax(1) == yb).sum())


def _as_tensors(model, xb, yb):
    """xb, yb as tensors on the model's device: inputs in its dtype, integer labels as int64."""
    import torch

    param = next(model.parameters())
    xb = torch.as_tensor(xb, dtype=param.dtype, device=param.device)
    yb = torch.as_tensor(yb, device=param.device)
    yb = yb.to(param.dtype) if yb.is_floating_point() else yb.long()
    return xb, yb


def train_step(model, loss_fn, optimizer, xb, yb) -> tuple[float, Optional[int]]:
    """One step of gradient descent on the batch (xb, yb): forward, loss, backward, update.

    Scratch model: xb, yb NumPy arrays. Torch model: NumPy arrays or tensors (moved to the model's device;
    inputs in its dtype). Returns (the batch's mean loss, how many predictions were right, or None when the
    targets are not class labels). model, loss_fn and optimizer must come from the same world (scratch or torch).
    """
    _check_parts(model, loss_fn, optimizer)
    return _step(model, loss_fn, optimizer, xb, yb)


def _step(model, loss_fn, optimizer, xb, yb) -> tuple[float, Optional[int]]:
    model.train()
    if is_scratch(model):
        scores = model(xb)
        loss = loss_fn(scores, yb)
        optimizer.zero_grad()
        model.backward(loss_fn.backward())
        optimizer.step()
        return loss, _n_correct(scores, np.asarray(yb))
    xb, yb = _as_tensors(model, xb, yb)
    scores = model(xb)
    loss = loss_fn(scores, yb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), _n_correct(scores, yb)


# ------------------------------------------------------------------------------------------ the loop


def fit(model, loss_fn, optimizer, train, val=None, epochs: int = 10, batch_size: int = 64, seed: int = 0,
        progress: bool = True, device=None, *, batches: Optional[Batches] = None,
        transform: Optional[Callable] = None, perturb: Optional[Callable] = None,
        callbacks: Sequence[Callback] = ()) -> History:
    """Train ``model`` on ``train = (x, y)`` for ``epochs`` passes, one ``train_step`` per mini-batch.

    x, y: NumPy arrays (torch models also take tensors; lists are turned into arrays). batches: which indices
    each epoch uses (default ``shuffled_batches(batch_size, seed)``); transform(xb) changes each input batch
    (e.g. augmentation); then perturb(model, xb, yb) changes it with the model as it is now and the labels
    (e.g. adversarial training: ``interpret.adversarial_batch``). Both must return a batch of the same size.
    Torch models are moved to ``device`` (default: where they are). Returns a History with the mean training
    loss (and accuracy) of each epoch, every step's loss, and, if ``val`` is given, the validation loss and
    accuracy after each epoch. A callback returning True from a hook stops training there.
    """
    x, y = _pair(train, "train")
    val = None if val is None else _pair(val, "val")
    _check_parts(model, loss_fn, optimizer)
    _check_positive_int(epochs, "epochs", "passes over the training set")
    _check_positive_int(batch_size, "batch_size", "examples per mini-batch")
    _check_callbacks(callbacks, optimizer)
    if batches is not None:
        _check_batches(batches)
    if device is not None:
        if is_scratch(model):
            raise ValueError(f"device={device!r} moves a torch model; a scratch model runs in NumPy on the CPU: "
                             "leave device out.")
        model.to(device)
    batches = batches or shuffled_batches(batch_size, seed)
    history, step = History(), 0
    for callback in callbacks:
        callback.on_train_begin(model)
    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        start, total, correct, seen, labelled, stop = time.perf_counter(), 0.0, 0, 0, 0, False
        for idx in batches(len(x)):
            xb = x[idx] if transform is None else _transformed("transform", transform(x[idx]), x[idx])
            if perturb is not None:
                xb = _transformed("perturb", perturb(model, xb, y[idx]), xb)
            loss, n_correct = _step(model, loss_fn, optimizer, xb, y[idx])
            step += 1
            history.step_loss.append(loss)
            total, seen, labelled = total + loss * len(idx), seen + len(idx), labelled + _n_labels(y[idx])
            correct = None if n_correct is None or correct is None else correct + n_correct
            if any([callback.on_step(step, loss, model) for callback in callbacks]):
                stop = True
                break
        _end_epoch(history, time.perf_counter() - start, total, correct, seen, labelled)
        if val is not None:
            val_loss, val_acc = evaluate(model, loss_fn, *val)
            history.val_loss.append(val_loss)
            if not math.isnan(val_acc):     # as train_acc: no accuracy for BCE or regression targets
                history.val_acc.append(val_acc)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        if stop or any([callback.on_epoch_end(epoch, history, model) for callback in callbacks]):
            break
    return history


def _n_labels(y) -> int:
    """How many labelled positions y (array or tensor) holds: N for (N,) labels, N*H*W for (N, H, W) label maps."""
    return int(np.prod(np.shape(y)))


def _end_epoch(history: History, seconds: float, total: float, correct: Optional[int], seen: int,
               labelled: int) -> None:
    """Record the epoch: mean loss per example, accuracy as correct / labelled positions (pixels for label maps)."""
    if seen == 0:
        raise ValueError(f"epoch {len(history.seconds)}: batches= gave no mini-batches, so nothing was trained; "
                         "it must return at least one index array per epoch (e.g. batches=random_batches(64, 100)).")
    history.seconds.append(seconds)
    history.train_loss.append(float(total / seen))
    if correct is not None:
        history.train_acc.append(correct / labelled)


def train_steps(model, loss_fn, optimizer, train, steps: int, batch_size: int = 64, seed: int = 0,
                transform: Optional[Callable] = None, callbacks: Sequence[Callback] = ()) -> History:
    """``steps`` steps on random mini-batches of ``train`` (``random_batches``): ``fit`` for one 'epoch'."""
    return fit(model, loss_fn, optimizer, train, epochs=1, progress=False, transform=transform,
               batches=random_batches(batch_size, steps, seed), callbacks=callbacks)


def fit_in_phases(model, loss_fn, optimizer, train, phases, val=None, **fit_options) -> History:
    """``fit`` once per (learning rate, epochs) phase, e.g. [(0.05, 4), (0.01, 2)]; one History for the whole run.

    The learning rate of every parameter group is set before each phase (a step schedule written out);
    phase i shuffles with seed i unless ``seed`` is given.
    """
    _check_phases(phases)
    parts = []
    for i, (lr, epochs) in enumerate(phases):
        for group in optimizer.param_groups:
            group["lr"] = lr
        options = {"seed": i, **fit_options}
        parts.append(fit(model, loss_fn, optimizer, train, val=val, epochs=epochs, **options))
    return sum(parts[1:], parts[0])


def _check_phases(phases) -> None:
    """A non-empty list of (learning rate, epochs) pairs: lr a number >= 0, epochs a positive integer."""
    example = "e.g. phases=[(0.05, 4), (0.01, 2)]"
    if not isinstance(phases, (list, tuple)) or not phases:
        raise ValueError(f"fit_in_phases: phases must be a non-empty list of (learning rate, epochs) pairs, "
                         f"{example}; got {phases!r}.")
    for i, phase in enumerate(phases):
        if not isinstance(phase, (list, tuple)) or len(phase) != 2:
            raise TypeError(f"fit_in_phases: phases[{i}] = {phase!r} is not a (learning rate, epochs) pair; {example}.")
        lr, epochs = phase
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1 or not lr >= 0:
            swapped = " (swapped? the learning rate comes first)" if isinstance(lr, (int, np.integer)) else ""
            raise ValueError(f"fit_in_phases: phases[{i}] = {phase!r}: each phase is (learning rate >= 0, "
                             f"number of epochs >= 1){swapped}; {example}.")


# ------------------------------------------------------------------------------------------ evaluation


def outputs(model, x, batch_size: int = 1000):
    """The model's outputs (class scores, or features for a body) in eval mode, in batches of ``batch_size``.

    Scratch: NumPy in, NumPy (N, ...) out. Torch: NumPy or tensor in, a tensor out (no gradients).
    """
    _check_positive_int(batch_size, "outputs(batch_size=...)", "examples per forward pass")
    x = np.asarray(x) if isinstance(x, list) else x
    if len(x) == 0:
        raise ValueError("outputs: x has no examples (length 0); there is nothing to run the model on.")
    model.eval()
    if is_scratch(model):
        return np.concatenate([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    import torch

    param = next(model.parameters())
    with torch.no_grad():
        x = torch.as_tensor(x, device=param.device)
        return torch.cat([model(x[i:i + batch_size].to(param.dtype)) for i in range(0, len(x), batch_size)])


def accuracy(model, x, y) -> float:
    """Fraction of examples whose highest score is the true class (precision @ 1 in the decks).

    y: one class label per example, shape (N,); or, for a model whose scores are (N, C, H, W), one label per
    pixel, shape (N, H, W): the fraction of correct pixels.
    """
    y = y.cpu().numpy() if hasattr(y, "cpu") else np.asarray(y)
    predicted = outputs(model, x).argmax(1)
    if not is_scratch(model):
        predicted = predicted.cpu().numpy()
    _check_labels(y, predicted.shape, "accuracy")
    return float(np.mean(predicted == y))


def _check_labels(y: np.ndarray, shape: tuple, where: str) -> None:
    """y must have the predictions' shape: (n,), one label per example, or (n, H, W) for per-pixel scores (a
    column or one-hot rows would broadcast into a wrong number)."""
    if y.shape == shape:
        return
    n, hint = shape[0], ""
    if y.ndim == 2 and y.shape[0] == n and len(shape) == 1:
        hint = " (a column? use y.ravel())" if y.shape[1] == 1 else " (one-hot rows? use y.argmax(1))"
    what = "one class label per example of x" if len(shape) == 1 else "one class label per position of the scores"
    raise ValueError(f"{where}: y must hold {what}, shape {shape}; got shape {y.shape}{hint}.")


def evaluate(model, loss_fn, x, y) -> tuple[float, float]:
    """(mean loss, accuracy) of a scratch or torch model on the whole of (x, y).

    Accuracy is correct / labelled positions: per example for (N,) labels, per pixel for (N, H, W) label maps;
    it is nan when y are not class labels of the outputs (a BCE or regression target: float y, or (N,) outputs).
    """
    if is_scratch(model):
        scores = outputs(model, x)
        correct = _n_correct(scores, np.asarray(y))
        return loss_fn(scores, y), math.nan if correct is None else correct / _n_labels(y)
    import torch

    model.eval()
    total_loss, correct, batch_size = 0.0, 0, 1000
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xt, yt = _as_tensors(model, x[i:i + batch_size], y[i:i + batch_size])
            scores = model(xt)
            total_loss += float(loss_fn(scores, yt)) * len(yt)
            batch_correct = _n_correct(scores, yt)
            correct = None if correct is None or batch_correct is None else correct + batch_correct
    return total_loss / len(x), math.nan if correct is None else correct / _n_labels(y)
