"""The weights a seeded layer draws are the ones recorded before layers initialised through scratch.init.

The notebooks assert trained accuracies (96.60% for the NumPy MLP, 97.75% for LeNet-5), so a refactor of
the initialisation must draw the same numbers from the same random stream, bit for bit.
``initial_weights_seed0.npz`` was written on commit 4b5cdc8 (before the change) by building these layers,
in this order, after ``scratch.manual_seed(0)``.
"""
from pathlib import Path

import numpy as np

from course_lib import scratch

RECORDED = Path(__file__).with_name("initial_weights_seed0.npz")


def _layers_in_recorded_order() -> dict:
    return {"linear": scratch.Linear(784, 2), "linear_nobias": scratch.Linear(10, 3, bias=False),
            "conv1": scratch.Conv2d(1, 6, 5), "conv2": scratch.Conv2d(6, 16, 5, padding=2),
            "conv_rect": scratch.Conv2d(3, 4, (2, 3), bias=False), "convT": scratch.ConvTranspose2d(3, 2, 4, stride=2),
            "bn": scratch.BatchNorm2d(3),
            "mlp": scratch.Sequential(scratch.Linear(20, 8), scratch.ReLU(), scratch.Linear(8, 4))}


def test_seeded_layers_draw_the_recorded_weights_bit_for_bit():
    recorded = np.load(RECORDED)
    scratch.manual_seed(0)
    drawn = {f"{name}.{key}": value for name, layer in _layers_in_recorded_order().items()
             for key, value in layer.state_dict().items()}
    drawn["dropout_output"] = scratch.Dropout(0.3)(np.ones((4, 5)))
    drawn["next_draw"] = scratch.random.generator().random(3)  # the stream is consumed exactly as before
    assert sorted(drawn) == sorted(recorded.files)
    for key, value in drawn.items():
        assert value.dtype == recorded[key].dtype and np.array_equal(value, recorded[key]), key
