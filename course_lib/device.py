"""Which device PyTorch should use: a CUDA GPU, then Apple's MPS, then the CPU; and a reproducible CPU run."""
from __future__ import annotations

import contextlib

import torch

DEVICE_HELP = "use 'cuda' (an NVIDIA GPU), 'mps' (an Apple GPU) or 'cpu', or None for the best available"


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return ``torch.device(prefer)`` if given and available, else the best available: cuda, then mps, then cpu.

    A device that this machine does not have (cuda on a laptop without an NVIDIA GPU, cuda:3 with one GPU)
    raises RuntimeError now, rather than at the first tensor moved there.
    """
    if prefer is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    return _check_available(_as_device(prefer))


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def _as_device(name) -> torch.device:
    """torch.device(name), with an error that lists the devices the course uses when the name is unknown."""
    if isinstance(name, torch.device):
        return name
    if not isinstance(name, str):
        raise TypeError(f"device must be a name such as 'cuda' or 'cpu', got {name!r}: {DEVICE_HELP}.")
    try:
        return torch.device(name)
    except RuntimeError:
        raise RuntimeError(f"unknown device {name!r}: {DEVICE_HELP}.") from None


def _check_available(device: torch.device) -> torch.device:
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise RuntimeError(f"device {str(device)!r} asked for, but this machine has no CUDA GPU that torch can "
                               f"use (torch.cuda.is_available() is False): {DEVICE_HELP}.")
        if device.index is not None and device.index >= count:
            raise RuntimeError(f"device {str(device)!r} asked for, but this machine has {count} CUDA GPU(s), "
                               f"cuda:0 to cuda:{count - 1}.")
    elif device.type == "mps" and not _mps_available():
        raise RuntimeError(f"device 'mps' asked for, but Apple's MPS is not available here: {DEVICE_HELP}.")
    return device


def describe_device(device: str | torch.device | None = None) -> str:
    """One line for the environment check, e.g. 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    device = _as_device(device) if device is not None else pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


@contextlib.contextmanager
def deterministic_cpu():
    """Run the block on one CPU thread with ``torch.use_deterministic_algorithms(True)``, then restore both.

    The scripts that train the course's cached networks (data/*.py) run inside it, so the same torch build on the
    same kind of CPU writes the same weights, byte for byte (several threads may add in another order).
    """
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
