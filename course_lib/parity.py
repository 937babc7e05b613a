"""Side-by-side checks of the scratch code against PyTorch, in the style of nn-zero-to-hero's ``cmp``."""
from __future__ import annotations

import numpy as np

from .scratch.gradcheck import relative_error


class ParityError(AssertionError):
    """The scratch result and PyTorch's disagree by more than the tolerance."""


def to_numpy(value) -> np.ndarray:
    """A torch tensor (any device, with or without grad) or array-like as a NumPy array."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def compare(name: str, ours, theirs, tol: float = 1e-7, verbose: bool = True) -> float:
    """Print ``name | exact | relative error`` and raise ParityError if relative error > tol."""
    a, b = to_numpy(ours).astype(np.float64), to_numpy(theirs).astype(np.float64)
    if a.shape != b.shape:
        raise ParityError(f"{name}: shapes differ, ours {a.shape} vs torch {b.shape}.")
    err = relative_error(a, b)
    if verbose:
        print(f"{name:<24} exact: {str(np.array_equal(a, b)):<5}  relative error: {err:.2e}")
    if err > tol:
        raise ParityError(f"{name}: relative error {err:.3e} exceeds {tol:.0e}.")
    return err


def copy_torch_to_scratch(torch_model, scratch_model) -> None:
    """Load a torch model's weights into the scratch model with the same layer names."""
    scratch_model.load_state_dict(torch_model.state_dict())


def copy_scratch_to_torch(scratch_model, torch_model) -> None:
    """Load a scratch model's weights into the torch model with the same layer names."""
    import torch

    ref = next(iter(torch_model.parameters()))
    torch_model.load_state_dict(
        {k: torch.as_tensor(v, dtype=ref.dtype, device=ref.device) for k, v in scratch_model.state_dict().items()}
    )
