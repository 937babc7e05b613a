"""``Optimizer``: the base class of ``scratch.optim``'s optimisers, shared with ``scratch.lr_scheduler``.

It holds ``param_groups`` (a list of dicts, each with ``"params"`` and the hyper-parameters) and
``state`` (per parameter), as torch's ``torch.optim.Optimizer`` does.
"""
from __future__ import annotations

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
        raise NotImplementedError(f"{type(self).__name__} must implement step().")
