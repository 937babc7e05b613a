"""Optimisers with ``torch.optim``'s names, arguments, ``param_groups`` and ``state`` keys.

    SGD       w -= lr * g                                   (with momentum: a running sum of past g)
    Adagrad   w -= lr * g / (sqrt(sum of all past g^2) + eps)
    RMSprop   w -= lr * g / (sqrt(running average of g^2) + eps)
    Adam      w -= lr * m_hat / (sqrt(v_hat) + eps)          (m, v: running averages of g and g^2)
    AdamW     Adam, with the weight decay applied to w directly instead of added to g

Each optimiser's rule is its ``_update()``; ``Optimizer.step()`` runs it. Every step reads ``group["lr"]``
afresh, so a scheduler (``scratch.lr_scheduler``) can change it. The hyper-parameters are checked per param
group (``NON_NEGATIVE``, ``_check_group``), so a group's own lr=-1 is refused like a default one.
Per-parameter state (``optimizer.state[p]``) uses torch's keys, with ``"step"`` kept as a plain int.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from . import lr_scheduler  # noqa: F401  (torch's path: scratch.optim.lr_scheduler is scratch.lr_scheduler)
from .module import Parameter
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, exactly as ``torch.optim.SGD`` updates:

        g = grad + weight_decay * w
        b = g (first step)  or  b = momentum * b + (1 - dampening) * g      (state "momentum_buffer")
        g = g + momentum * b  (nesterov)  or  g = b  (momentum > 0)
        w = w - lr * g
    """

    NON_NEGATIVE = ("momentum", "weight_decay")

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, got momentum="
                             f"{group['momentum']} and dampening={group['dampening']}; set momentum=0.9, say.")

    def _update(self) -> None:
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


class Adagrad(Optimizer):
    """Adagrad, exactly as ``torch.optim.Adagrad`` updates (t = state["step"], counted from 1):

        g   = grad + weight_decay * w
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g^2                          (state "sum", starts at initial_accumulator_value)
        w   = w - clr * g / (sqrt(sum) + eps)

    Every weight gets its own step size, which only ever shrinks: weights with large past
    gradients slow down, rarely-updated weights keep moving.
    """

    NON_NEGATIVE = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params: Iterable, lr: float = 0.01, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))
        for group in self.param_groups:  # torch creates Adagrad's state up front, not at the first step
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _update(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] += 1
                g = p.grad + group["weight_decay"] * p.data if group["weight_decay"] else p.grad
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"] += g * g
                p.data -= clr * (g / (np.sqrt(state["sum"]) + group["eps"]))


class RMSprop(Optimizer):
    """RMSprop, exactly as ``torch.optim.RMSprop`` updates:

        g = grad + weight_decay * w
        v = alpha * v + (1 - alpha) * g^2        (state "square_avg")
        denom = sqrt(v) + eps
          centered:  gbar = alpha * gbar + (1 - alpha) * g     (state "grad_avg")
                     denom = sqrt(v - gbar^2) + eps           (a running variance instead of a mean square)
        w = w - lr * g / denom
          momentum > 0:  b = momentum * b + g / denom         (state "momentum_buffer")
                         w = w - lr * b

    Like Adagrad, but the sum of squares is replaced by a running average, so old gradients are forgotten.
    """

    NON_NEGATIVE = ("alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params: Iterable, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _state(self, p: Parameter, group: dict) -> dict:
        """torch's state: "step" and "square_avg"; "momentum_buffer" if momentum > 0; "grad_avg" if centered."""
        state = self.state.setdefault(p, {"step": 0, "square_avg": np.zeros_like(p.data)})
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(p.data)
        return state

    def _update(self) -> None:
        for group in self.param_groups:
            alpha = group["alpha"]
            for p in group["params"]:
                state = self._state(p, group)
                state["step"] += 1
                g = p.grad + group["weight_decay"] * p.data if group["weight_decay"] else p.grad
                state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
                if group["centered"]:
                    state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
                    denom = np.sqrt(state["square_avg"] - state["grad_avg"] ** 2) + group["eps"]
                else:
                    denom = np.sqrt(state["square_avg"]) + group["eps"]
                if group["momentum"] > 0:
                    state["momentum_buffer"] = group["momentum"] * state["momentum_buffer"] + g / denom
                    p.data -= group["lr"] * state["momentum_buffer"]
                else:
                    p.data -= group["lr"] * (g / denom)


class Adam(Optimizer):
    """Adam, exactly as ``torch.optim.Adam`` updates (t = state["step"], counted from 1):

        g = grad + weight_decay * w              (L2 penalty folded into the gradient; AdamW decouples it)
        m = beta1 * m + (1 - beta1) * g          (state "exp_avg": running mean of g)
        v = beta2 * v + (1 - beta2) * g^2        (state "exp_avg_sq": running mean of g^2)
          amsgrad:  v_max = max(v_max, v) and v_max is used below     (state "max_exp_avg_sq")
        w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The bias corrections 1 - beta^t undo the pull towards the zeros m and v start from; torch
    applies them to the step size and to sqrt(v) (not to m and v themselves), and so do we, so
    eps enters exactly where it does in torch.
    """

    NON_NEGATIVE = ("eps", "weight_decay")

    def __init__(self, params: Iterable, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, decoupled_weight_decay=decoupled_weight_decay))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        betas = tuple(group["betas"])
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(
                f"{type(self).__name__}: invalid betas={betas}; both must be in [0, 1). beta = 1 would never forget "
                f"the first gradient, and the bias correction 1 - beta^t would divide by zero."
            )

    def _state(self, p: Parameter, group: dict) -> dict:
        """torch's state: "step", "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" with amsgrad."""
        state = self.state.setdefault(p, {"step": 0, "exp_avg": np.zeros_like(p.data),
                                          "exp_avg_sq": np.zeros_like(p.data)})
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(p.data)
        return state

    def _update(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                state = self._state(p, group)
                state["step"] += 1
                t = state["step"]
                g = p.grad
                if wd and group["decoupled_weight_decay"]:
                    p.data *= 1 - lr * wd
                elif wd:
                    g = g + wd * p.data
                state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
                state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
                v = state["exp_avg_sq"]
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
                    v = state["max_exp_avg_sq"]
                step_size = lr / (1 - beta1 ** t)
                denom = np.sqrt(v) / (1 - beta2 ** t) ** 0.5 + group["eps"]
                p.data -= step_size * (state["exp_avg"] / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay, exactly as ``torch.optim.AdamW`` (Loshchilov & Hutter, 2019):

        w = w * (1 - lr * weight_decay)          (decay the weights directly, first)
        then Adam's update with g = grad         (the decay never enters m or v)

    With plain Adam, an L2 term added to g is divided by sqrt(v) like the rest of the gradient,
    so weights with large gradients are barely decayed; AdamW decays every weight at the same rate.
    """

    def __init__(self, params: Iterable, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
