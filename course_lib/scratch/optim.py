"""Optimisers with ``torch.optim``'s names, arguments, ``param_groups`` and ``state`` keys."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .module import Parameter


class Optimizer:
    """Holds ``param_groups`` (list of dicts with ``"params"`` and hyper-parameters) and per-parameter ``state``."""

    def __init__(self, params, defaults: dict) -> None:
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list (did you call model.parameters() on an empty model?).")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.defaults = defaults
        self.param_groups = [self._complete_group(g) for g in groups]
        self.state: dict[Parameter, dict] = {}

    def _complete_group(self, group: dict) -> dict:
        group = {**self.defaults, **group, "params": list(group["params"])}
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__}: params[{i}] is a {type(p).__name__}, not a scratch Parameter.")
        return group

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = np.zeros_like(p.data)

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, exactly as ``torch.optim.SGD`` updates:

        g = grad + weight_decay * w
        b = g (first step)  or  b = momentum * b + (1 - dampening) * g      (state "momentum_buffer")
        g = g + momentum * b  (nesterov)  or  g = b  (momentum > 0)
        w = w - lr * g
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        if lr < 0:
            raise ValueError(f"SGD: invalid learning rate lr={lr}; it must be >= 0.")
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) must be >= 0.")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires momentum > 0 and dampening = 0.")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.data -= group["lr"] * self._direction(p, group)

    def _direction(self, p: Parameter, group: dict) -> np.ndarray:
        g = p.grad + group["weight_decay"] * p.data if group["weight_decay"] else p.grad
        momentum = group["momentum"]
        if momentum == 0:
            return g
        state = self.state.setdefault(p, {})
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = g.copy()
        else:
            state["momentum_buffer"] = momentum * state["momentum_buffer"] + (1 - group["dampening"]) * g
        buf = state["momentum_buffer"]
        return g + momentum * buf if group["nesterov"] else buf
