"""The course's one closeness check, scratch against PyTorch, in the style of nn-zero-to-hero's ``cmp``.

    err = compare("conv1 forward", ours, theirs)        # prints a line, returns the relative error
    conv1 forward            exact: False  relative error: 3.12e-17

    relative error = max|a - b| / (max|a| + max|b|)     0 for identical arrays, about 1 for unrelated ones

Every notebook's "check that they agree" cell and every parity test (through ``tests/parity_helpers``)
uses ``compare``; a result beyond the tolerance raises ``ParityError`` instead of printing a number and
carrying on. The weight copies between a torch model and a scratch model with the same layer names are here too.
"""
from __future__ import annotations

import numpy as np

from .scratch.gradcheck import relative_error


class ParityError(AssertionError):
    """The scratch result and PyTorch's disagree by more than the tolerance (or differ in shape)."""


def to_numpy(value) -> np.ndarray:
    """A torch tensor (any device, with or without grad) or array-like as a NumPy array."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


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
    a, b = to_numpy(ours).astype(np.float64), to_numpy(theirs).astype(np.float64)
    if a.shape != b.shape:
        raise ParityError(f"{name}: shapes differ, ours {a.shape} vs torch {b.shape}.")
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

    ref = next(iter(torch_model.parameters()))
    torch_model.load_state_dict(
        {k: torch.as_tensor(v, dtype=ref.dtype, device=ref.device) for k, v in scratch_model.state_dict().items()}
    )
