"""Which device PyTorch should use: a CUDA GPU, then Apple's MPS, then the CPU."""
from __future__ import annotations

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """Return ``torch.device(prefer)`` if given, else the best available: cuda, then mps, then cpu."""
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | None = None) -> str:
    """One line for the environment check, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    device = device or pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
