"""The scratch package's random generator, seeded like torch: ``scratch.manual_seed(0)``."""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the generator that layer initialisers draw from (the counterpart of ``torch.manual_seed``)."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed needs a non-negative integer (NumPy's generators take no negative or "
                         f"fractional seeds), got {seed!r}. Any whole number >= 0 will do, e.g. manual_seed(0).")
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The generator currently used for weight initialisation."""
    return _generator
