"""The scratch package's random generator, seeded like torch: ``scratch.manual_seed(0)``."""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the generator that layer initialisers draw from (the counterpart of ``torch.manual_seed``)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The generator currently used for weight initialisation."""
    return _generator
