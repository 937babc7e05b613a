"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s names: the lr as a function of the step count.

    optimizer = scratch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=10, gamma=0.1)
    for epoch in range(30):
        train_one_epoch(model, optimizer)      # calls optimizer.step() for every batch
        scheduler.step()                       # then move one place along the schedule

A scheduler writes ``group["lr"]`` into each of the optimizer's ``param_groups``: once when it is made
(``last_epoch = 0``) and again at every ``step()`` (``last_epoch += 1``). ``base_lrs`` are the groups'
learning rates when the scheduler was made, kept in ``group["initial_lr"]`` as torch keeps them.
``get_last_lr()`` returns the learning rates the optimizer uses now, one per param group.
The first ``scheduler.step()`` warns, as torch's does, when ``optimizer.step()`` has not run yet: that order
skips the schedule's first learning rate.

The formulas below are closed forms (lr = base_lr * f(last_epoch)). torch computes most of them
recursively from the previous lr; the two agree to about 1e-15, and CosineAnnealingLR uses torch's
recursion itself so that its values are torch's to the last bit.
"""
from __future__ import annotations

import math
import warnings

from .optimizer import Optimizer


class LRScheduler:
    """Base class: sets ``group["lr"] = get_lr()[i]`` for every param group at each ``step()``."""

    def __init__(self, optimizer: Optimizer) -> None:
        _check_optimizer(optimizer, type(self).__name__)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each param group at step ``self.last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr().")

    def step(self) -> None:
        """Advance the schedule by one: call it after ``optimizer.step()``."""
        if self._step_count == 1 and self.optimizer._step_count == 0:
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`: call them in the opposite "
                "order, optimizer.step() first and then scheduler.step(), or the first learning rate of the "
                "schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the latest ``step()``, one per param group."""
        return list(self._last_lr)


def _check_optimizer(optimizer, where: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{where} needs a course_lib.scratch.optim optimizer, got a {type(optimizer).__name__}. "
            "(A torch optimizer goes with torch.optim.lr_scheduler instead.)"
        )


def _check_positive_int(value, name: str, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer (a number of steps), got {value!r}.")


def _check_positive(value, name: str, where: str, meaning: str) -> None:
    """Refuse a factor or learning rate <= 0: ``meaning`` says what it does, and so why it must be > 0."""
    if not value > 0:
        raise ValueError(f"{where}: {name} must be > 0 ({meaning}), got {value!r}.")


class StepLR(LRScheduler):
    """Divide the lr by 1/gamma every ``step_size`` steps (a staircase):

        lr = base_lr * gamma ** (last_epoch // step_size)

    e.g. base_lr=0.1, step_size=10, gamma=0.1: 0.1 for steps 0-9, 0.01 for 10-19, 0.001 for 20-29, ...
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        _check_positive_int(step_size, "step_size", "StepLR")
        _check_positive(gamma, "gamma", "StepLR", "it multiplies the lr every step_size steps; 0.1 divides it by 10")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by gamma at every step:   lr = base_lr * gamma ** last_epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        _check_positive(gamma, "gamma", "ExponentialLR", "it multiplies the lr at every step; 0.95 shrinks it by 5%")
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of a multiplicative factor over ``total_iters`` steps, then constant:

        lr = base_lr * (start_factor + (end_factor - start_factor) * min(last_epoch, total_iters) / total_iters)

    Warm-up: LinearLR(opt, start_factor=0.1, total_iters=5) takes lr from base_lr/10 up to base_lr
    in 5 steps, so that the first updates (with poorly estimated statistics) stay small.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor} "
                             "(it multiplies base_lr at step 0; 0 would start with lr = 0).")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}.")
        _check_positive_int(total_iters, "total_iters", "LinearLR")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * factor for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to eta_min over ``T_max`` steps (then back up, if you keep going):

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2

    torch computes this recursively from the previous lr, and so do we, to give torch's values exactly:

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))

    except one step past each minimum, where that ratio is 0/0 and the step is added instead:
        lr_t = lr_{t-1} + (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2.
    The recursion and the closed form agree to about 1e-14.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        _check_positive_int(T_max, "T_max", "CosineAnnealingLR")
        if eta_min < 0:
            raise ValueError(f"CosineAnnealingLR: eta_min is the lowest lr the cosine reaches; it must be >= 0, "
                             f"got {eta_min} (a negative lr climbs the loss).")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if t == 0:
            return lrs
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base_lr in zip(lrs, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, 2018), as torch does it, per batch over ``total_steps`` steps:

        phase 1 (first pct_start of the steps): lr  max_lr/div_factor  ->  max_lr
        phase 2 (the rest):                     lr  max_lr  ->  max_lr/div_factor/final_div_factor
        (three_phase=True: up, back down to max_lr/div_factor symmetrically, then down to the minimum)

    Each phase anneals from start to end with pct in [0, 1] through the phase:
        "cos":     end + (start - end) / 2 * (1 + cos(pi * pct))
        "linear":  start + (end - start) * pct

    With ``cycle_momentum=True`` (torch's default) the momentum moves the other way, from
    max_momentum down to base_momentum while the lr rises, and back: ``group["momentum"]`` for SGD
    and RMSprop, beta1 in ``group["betas"]`` for Adam/AdamW. Give ``total_steps``, or ``epochs``
    and ``steps_per_epoch``; stepping past total_steps is an error.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False) -> None:
        _check_optimizer(optimizer, "OneCycleLR")
        self.total_steps = self._total_steps(total_steps, epochs, steps_per_epoch)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start is the fraction of steps spent warming up, in [0, 1]; got {pct_start}.")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}.")
        _check_positive(div_factor, "div_factor", "OneCycleLR", "the cycle starts at max_lr / div_factor")
        _check_positive(final_div_factor, "final_div_factor", "OneCycleLR",
                        "the cycle ends at max_lr / div_factor / final_div_factor")
        self.anneal_strategy = anneal_strategy
        self._phases = self._make_phases(pct_start, three_phase)

        groups = optimizer.param_groups
        for group, top in zip(groups, _per_group(max_lr, "max_lr", optimizer)):
            _check_positive(top, "max_lr", "OneCycleLR", "the highest learning rate of the cycle")
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle; "
                    "pass cycle_momentum=False."
                )
            self.use_beta1 = "betas" in optimizer.defaults
            highs = _per_group(max_momentum, "max_momentum", optimizer)
            lows = _per_group(base_momentum, "base_momentum", optimizer)
            for group, high, low in zip(groups, highs, lows):
                self._set_momentum(group, high)
                group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer)

    @staticmethod
    def _total_steps(total_steps, epochs, steps_per_epoch) -> int:
        if total_steps is not None:
            _check_positive_int(total_steps, "total_steps", "OneCycleLR")
            return total_steps
        if epochs is None or steps_per_epoch is None:
            raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch "
                             "(total_steps = epochs * steps_per_epoch).")
        _check_positive_int(epochs, "epochs", "OneCycleLR")
        _check_positive_int(steps_per_epoch, "steps_per_epoch", "OneCycleLR")
        return epochs * steps_per_epoch

    def _make_phases(self, pct_start: float, three_phase: bool) -> list[dict]:
        """Each phase: the step where it ends, and the group keys of its start and end lr and momentum."""
        up = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:
            return [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr", start_m="max_momentum", end_m="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_m="base_momentum", end_m="max_momentum"),
                dict(end_step=last, start_lr="initial_lr", end_lr="min_lr", start_m="max_momentum", end_m="max_momentum"),
            ]
        return [
            dict(end_step=up, start_lr="initial_lr", end_lr="max_lr", start_m="max_momentum", end_m="base_momentum"),
            dict(end_step=last, start_lr="max_lr", end_lr="min_lr", start_m="base_momentum", end_m="max_momentum"),
        ]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {t} times, but total_steps={self.total_steps}: the cycle is over. "
                "Set total_steps = epochs * batches per epoch, and call scheduler.step() once per batch."
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._phases):
                if t <= phase["end_step"] or i == len(self._phases) - 1:
                    pct = (t - start_step) / (phase["end_step"] - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_m"]], group[phase["end_m"]], pct))
                    break
                start_step = phase["end_step"]
        return lrs


def _per_group(value, name: str, optimizer: Optimizer) -> list[float]:
    """One value for every param group: a list of them, or one number repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} has {len(value)} values but the optimizer has "
                             f"{len(optimizer.param_groups)} param groups; give one per group, or a single number.")
        return list(value)
    return [value] * len(optimizer.param_groups)
