"""The course's one closeness check, scratch against PyTorch, in the style of nn-zero-to-hero's ``cmp``.

    err = compare("conv1 forward", ours, theirs)        # prints a line, returns the relative error
    conv1 forward            exact: False  relative error: 3.12e-17

    relative error = max|a - b| / (max|a| + max|b|)     0 for identical arrays, about 1 for unrelated ones

Every notebook's "check that they agree" cell and every parity test (through ``tests/parity_helpers``)
uses ``compare``; a result beyond the tolerance raises ``ParityError`` instead of printing a number and
carrying on. The weight copies between a torch model and a scratch model with the same layer names are here too.
"""
from __future__ import annotations

import numbers

import numpy as np

from .scratch import Parameter
from .scratch.gradcheck import relative_error


class ParityError(AssertionError):
    """The scratch result and PyTorch's disagree by more than the tolerance (or differ in shape)."""


def to_numpy(value) -> np.ndarray:
    """A torch tensor (any device, with or without grad), a scratch Parameter or array-like as a NumPy array."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, Parameter):
        return np.asarray(value.data)
    return np.asarray(value)


def _as_float64(side: str, value) -> np.ndarray:
    """One side of a comparison as float64, refusing what is not numbers (None, text, complex)."""
    if value is None:
        raise TypeError(f"compare: {side} is None: the function that should have made it returned nothing "
                        "(a missing return?).")
    array = to_numpy(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"compare: {side} must be real numbers (an array or tensor), got {array.dtype} "
                        f"from {type(value).__name__}.")
    return array.astype(np.float64)


def _non_finite(a: np.ndarray, b: np.ndarray) -> str:
    """'ours has 1 nan or inf entries, the first at index (0,) (nan)' for each side that has any; '' if none."""
    notes = []
    for side, x in (("ours", a), ("torch", b)):
        bad = ~np.isfinite(x)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            notes.append(f"{side} has {int(bad.sum())} nan or inf entries, the first at index {first} ({x[first]})")
    return "; ".join(notes)


def _largest_difference(a: np.ndarray, b: np.ndarray) -> str:
    """'at index (2, 3): ours 0.51, torch 0.49', the entry where the two differ most."""
    where = np.unravel_index(int(np.argmax(np.abs(a - b))), a.shape) if a.ndim else ()
    index = tuple(int(i) for i in where)
    return f"at index {index}: ours {a[index]:.6g}, torch {b[index]:.6g}"


def compare(name: str, ours, theirs, tol: float = 1e-7, verbose: bool = True) -> float:
    """Check that ``ours`` and ``theirs`` agree; return their relative error.

    ours, theirs: arrays of the same shape (NumPy arrays, torch tensors on any device, with or without
    grad, any float dtype: both are compared in float64). With ``verbose`` prints
    ``name | exact: True/False | relative error``. Raises ParityError, which names both shapes, when the
    shapes differ, and, with the entry that differs most, when the relative error exceeds ``tol``.
    """
    if not isinstance(name, str):
        raise TypeError(f"compare: name comes first and is a str, got {type(name).__name__}: "
                        "write compare(\"what\", ours, theirs).")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"compare: tol is the largest relative error allowed, a number >= 0; got {tol!r}.")
    a, b = _as_float64("ours", ours), _as_float64("theirs", theirs)
    if a.shape != b.shape:   # never broadcast: (3,) against (1, 3) is a bug, not a match
        raise ParityError(f"{name}: shapes differ, ours {a.shape} vs torch {b.shape}.")
    non_finite = _non_finite(a, b)
    if non_finite:
        if verbose:
            print(f"{name:<24} exact: False  relative error: nan")
        raise ParityError(f"{name}: relative error nan: {non_finite}. A nan or inf never agrees with anything "
                          "(torch.testing.assert_close refuses it too): find the step that first makes it.")
    err = relative_error(a, b)
    if verbose:
        print(f"{name:<24} exact: {str(np.array_equal(a, b)):<5}  relative error: {err:.2e}")
    if not err <= tol:        # also catches a nan error
        raise ParityError(f"{name}: relative error {err:.3e} exceeds {tol:.0e}; the largest difference is "
                          f"{_largest_difference(a, b)}.")
    return err


def copy_torch_to_scratch(torch_model, scratch_model) -> None:
    """Load a torch model's weights into the scratch model with the same layer names."""
    scratch_model.load_state_dict(torch_model.state_dict())


def copy_scratch_to_torch(scratch_model, torch_model) -> None:
    """Load a scratch model's weights into the torch model with the same layer names (its dtype and device)."""
    import torch

    ref = next(iter(torch_model.parameters()), None)
    if ref is None:
        raise ValueError(f"copy_scratch_to_torch: the torch {type(torch_model).__name__} has no parameters to "
                         "copy into; build the torch model with the same layers as the scratch one.")
    torch_model.load_state_dict(
        {k: torch.as_tensor(v, dtype=ref.dtype, device=ref.device) for k, v in scratch_model.state_dict().items()}
    )
