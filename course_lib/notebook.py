"""The first code cell of every notebook, as one call: seeds, device, dtype policy, versions.

    device, rng = setup_notebook(seed=0)

Seeds: NumPy (the generator ``rng`` the notebook draws from, and the legacy global ``np.random``),
``torch.manual_seed`` and ``scratch.manual_seed`` (the scratch layers' initialisation) all start from
``seed``, so a notebook run top to bottom gives the same numbers every time.

Dtype policy: the scratch code computes in float64, so that its parity checks against PyTorch can be
tight (relative error < 1e-7); a scratch model that trains for long switches to float32 with
``model.float()``, for speed. PyTorch keeps its default, float32; a notebook that compares in float64
says so in its own cell (``torch.set_default_dtype(torch.float64)``).
"""
from __future__ import annotations

import platform
from typing import NamedTuple, Sequence

import numpy as np
import torch

from . import __version__ as course_lib_version
from . import scratch
from .device import describe_device, pick_device

DTYPE_POLICY = ("dtypes: scratch float64 (parity checks to 1e-7; model.float() where it trains, for speed), "
                "torch float32")


class NotebookSetup(NamedTuple):
    """What ``setup_notebook`` hands back: the device PyTorch uses and the notebook's NumPy generator."""

    device: torch.device
    rng: np.random.Generator


def setup_notebook(seed: int = 0, device: str | None = None) -> NotebookSetup:
    """Seed NumPy, torch and scratch with ``seed``, pick the device, set torch's float32, print versions.

    seed:   a non-negative int; every random stream of the notebook starts from it.
    device: "cuda", "mps" or "cpu" to force one; default: the best available (``device.pick_device``).
    Returns NotebookSetup(device, rng) with rng = np.random.default_rng(seed).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"setup_notebook(seed=...) needs a non-negative int (NumPy's rule for seeds); got {seed!r}")
    np.random.seed(seed)
    rng = np.random.default_rng(seed)
    scratch.manual_seed(seed)
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float32)   # undoes a float64 notebook when the kernel is reused
    chosen = pick_device(device)
    print(describe_setup(chosen, seed))
    return NotebookSetup(chosen, rng)


def describe_setup(device: torch.device, seed: int) -> str:
    """Three lines: the versions (Python, NumPy, PyTorch, course_lib), the device and seed, the dtype policy."""
    versions = (f"Python {platform.python_version()} · NumPy {np.__version__} · PyTorch {torch.__version__} · "
                f"course_lib {course_lib_version}")
    return "\n".join([versions, f"device: {describe_device(device)} · seed {seed}", DTYPE_POLICY])


def text_table(rows: Sequence[Sequence], headers: Sequence[str]) -> str:
    """Rows of values as aligned text under the headers (the first column left-aligned, the others right)."""
    cells = [[str(h) for h in headers]] + [[str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    return "\n".join([lines[0], "-" * len(lines[0])] + lines[1:])
