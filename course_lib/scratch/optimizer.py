"""``Optimizer``: the base class of ``scratch.optim``'s optimisers, shared with ``scratch.lr_scheduler``.

It holds ``param_groups`` (a list of dicts, each with ``"params"`` and the hyper-parameters) and
``state`` (per parameter), as torch's ``torch.optim.Optimizer`` does. A subclass writes its update rule in
``_update()``; ``step()`` runs it and counts the steps (the schedulers check that one came first).
"""
from __future__ import annotations

import inspect
import math
import numbers
import warnings

import numpy as np

from .module import Module, Parameter


class Optimizer:
    """Holds ``param_groups`` (list of dicts with ``"params"`` and hyper-parameters) and per-parameter ``state``.

    Subclasses list the hyper-parameters that must be >= 0 in ``NON_NEGATIVE`` and may add their own rules
    in ``_check_group``: every group is checked, the defaults and any group's own values alike.
    """

    NON_NEGATIVE: tuple[str, ...] = ()

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self.param_groups = [self._complete_group(group, i) for i, group in enumerate(_read_groups(params, self))]
        _refuse_shared_parameters(self.param_groups, type(self).__name__)
        self.state: dict[Parameter, dict] = {}
        self._step_count = 0

    def _complete_group(self, group: dict, index: int) -> dict:
        name = type(self).__name__
        if "params" not in group:
            raise ValueError(f"{name}: param group {index} has no 'params' key; write "
                             "{'params': [...], 'lr': ...} for each group.")
        params = group["params"]
        params = [params] if isinstance(params, Parameter) else list(params)
        for i, p in enumerate(params):
            _check_parameter(p, i, name)
        group = {**self.defaults, **group, "params": params}
        self._check_group(group)
        return group

    def _check_group(self, group: dict) -> None:
        """Refuse a learning rate that is not a finite number >= 0, and a negative ``NON_NEGATIVE`` value."""
        name, lr = type(self).__name__, group["lr"]
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            raise TypeError(f"{name}: lr must be a number, e.g. lr=0.01; got {lr!r}.")
        if not math.isfinite(lr):
            raise ValueError(f"{name}: invalid learning rate lr={lr}; it must be a finite number "
                             "(every weight would become nan or inf at the first step).")
        if lr < 0:
            raise ValueError(f"{name}: invalid learning rate lr={lr}; it must be >= 0 (a negative lr climbs the loss).")
        for key in self.NON_NEGATIVE:
            if group[key] < 0:
                raise ValueError(f"{name}: invalid {key}={group[key]}; it must be >= 0.")

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = np.zeros_like(p.data)

    def step(self) -> None:
        """One update of every parameter from its ``.grad`` (the subclass's ``_update``)."""
        self._update()
        self._step_count += 1

    def _update(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update(), the rule that step() applies.")


def _read_groups(params, optimizer: Optimizer) -> list:
    """``params`` as a list: Parameters, or param-group dicts. Refuses a model, one Parameter, a used generator."""
    name = type(optimizer).__name__
    if isinstance(params, Module) or hasattr(params, "named_parameters"):
        raise TypeError(f"{name} got the model itself ({type(params).__name__}); pass its parameters: "
                        f"{name}(model.parameters(), lr=...).")
    if isinstance(params, Parameter) or hasattr(params, "detach") or isinstance(params, np.ndarray):
        raise TypeError(f"{name}: params must be an iterable of Parameters (model.parameters(), or a list), "
                        f"got a single {type(params).__name__}; wrap it in a list: {name}([weight], lr=...).")
    if not hasattr(params, "__iter__"):
        raise TypeError(f"{name}: params must be an iterable of Parameters (model.parameters(), or a list), "
                        f"got {type(params).__name__}.")
    if inspect.isgenerator(params) and inspect.getgeneratorstate(params) == inspect.GEN_CLOSED:
        raise ValueError(f"{name} got a used-up generator: model.parameters() yields the parameters once, and "
                         "this one was already read (by another optimizer, or list(...)). Call model.parameters() "
                         "afresh for each optimizer, or keep params = list(model.parameters()).")
    groups = list(params)
    if not groups:
        raise ValueError(f"{name} got an empty parameter list: the model has no parameters to learn "
                         "(ReLU, pooling and flatten layers have none). Pass the parameters of a layer that "
                         "has weights.")
    if any(isinstance(g, dict) for g in groups):
        if not all(isinstance(g, dict) for g in groups):
            raise TypeError(f"{name}: params mixes param-group dicts and bare parameters; give either Parameters, "
                            "or only dicts like {'params': [...], 'lr': ...}.")
        return groups
    return [{"params": groups}]


def _check_parameter(p, index: int, optimizer: str) -> None:
    if isinstance(p, Parameter):
        return
    if hasattr(p, "detach"):
        fix = ("a torch tensor (a torch model's parameter): torch parameters go to torch.optim, "
               f"e.g. torch.optim.{optimizer}(torch_model.parameters(), ...)")
    elif isinstance(p, np.ndarray):
        fix = "a NumPy array: wrap it as scratch.Parameter(array) so that it has a .grad and is updated in place"
    else:
        fix = f"a {type(p).__name__}"
    raise TypeError(f"{optimizer}: params[{index}] is {fix}, not a scratch Parameter.")


def _refuse_shared_parameters(groups: list[dict], optimizer: str) -> None:
    """A parameter in two groups is refused (torch refuses it too); twice in one group, warned about (as torch)."""
    seen: set[int] = set()
    for index, group in enumerate(groups):
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) < len(ids):
            warnings.warn(f"{optimizer}: param group {index} holds the same Parameter more than once, so every "
                          "step would update it more than once; pass each parameter once.", UserWarning, stacklevel=4)
        if seen & set(ids):
            raise ValueError(f"{optimizer}: some parameters appear in more than one parameter group; "
                             "each parameter must belong to exactly one group.")
        seen |= set(ids)
