"""Gradient checking: compare a module's backward pass with centred finite differences.

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)        error O(eps^2)
    relative error = max|analytic - numeric| / max(max|analytic| + max|numeric|, tiny)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .loss import _Loss
from .module import Module


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max|a - b| / (max|a| + max|b|): 0 for identical arrays, about 1 for unrelated ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.abs(a).max(initial=0.0) + np.abs(b).max(initial=0.0)
    return float(np.abs(a - b).max(initial=0.0) / max(scale, 1e-300))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f() / d x by centred differences; ``x`` is perturbed in place and restored."""
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = f()
        x[i] = original - eps
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _check_gradcheck_arguments(module: Module, x, eps: float, tol: float) -> None:
    """float64 everywhere and a positive step: otherwise the check fails for reasons that are not the backward's."""
    if not isinstance(module, Module):
        raise TypeError(f"gradcheck checks a scratch Module's backward, got a {type(module).__name__}. "
                        f"(For a torch function use torch.autograd.gradcheck.)")
    dtypes = {"x": np.asarray(x).dtype, **{name: p.data.dtype for name, p in module.named_parameters()}}
    low = {name: str(dtype) for name, dtype in dtypes.items() if dtype != np.float64}
    if low:
        raise TypeError(
            f"gradcheck needs float64 input and parameters, got {low}: a finite difference with eps={eps} keeps "
            f"only about 7 - 6 = 1 digit in float32, so the check would fail however right the backward is. "
            f"Use x.astype(np.float64) and module.double()."
        )
    if not eps > 0:
        raise ValueError(f"gradcheck: eps={eps} must be positive: it is the step h of (f(x + h) - f(x - h)) / 2h "
                         f"(1e-6 is a good step in float64).")
    if not tol >= 0:
        raise ValueError(f"gradcheck: tol={tol} must be >= 0: it is the largest relative error accepted.")


def gradcheck(module: Module, x: np.ndarray, target=None, eps: float = 1e-6, tol: float = 1e-6,
              seed: int = 0) -> dict[str, float]:
    """Check ``module.backward`` against finite differences for the input and every parameter.

    For a layer, the scalar checked is  f = sum(module(x) * g)  with a fixed random g, so that
    ``backward(g)`` is its exact gradient. For a loss module, ``module(x, target)`` itself.
    Returns {"input": err, "<param name>": err, ...}; raises GradcheckError if any err > tol.
    """
    _check_gradcheck_arguments(module, x, eps, tol)
    x = np.array(x, dtype=np.float64)
    module.zero_grad()
    if isinstance(module, _Loss):
        def f() -> float:
            return module(x, target)
        f()
        analytic = {"input": module.backward()}
    else:
        g = np.random.default_rng(seed).standard_normal(np.shape(module(x)))

        def f() -> float:
            return float(np.sum(module(x) * g))
        analytic = {"input": module.backward(g)}
    analytic.update({name: p.grad.copy() for name, p in module.named_parameters()})
    numeric = {"input": numerical_gradient(f, x, eps)}
    numeric.update({name: numerical_gradient(f, p.data, eps) for name, p in module.named_parameters()})
    errors = {name: relative_error(analytic[name], numeric[name]) for name in analytic}
    bad = {name: err for name, err in errors.items() if err > tol}
    if bad:
        raise GradcheckError(
            f"gradcheck failed for {module!r}: relative errors {bad} exceed tol={tol}. "
            "Look at the backward pass for these tensors (a missing factor or a transposed product?)."
        )
    return errors
