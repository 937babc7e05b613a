"""Small random models for the course_lib.interpret tests, each as a float64 torch model and its scratch twin
(the same weights), with a batch of random inputs in 0..1."""
from collections import OrderedDict

import numpy as np
import torch

from course_lib import models, parity


def tiny_cnn(backend: str):
    """3 input channels, 8x8 images, global average pooling and a Linear: the smallest CAM network."""
    nn = models.namespace(backend)
    return nn.Sequential(OrderedDict([("conv", nn.Conv2d(3, 4, 3, padding=1)), ("relu", nn.ReLU()),
                                      ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
                                      ("fc", nn.Linear(4, 3))]))


def linear(backend: str):
    """A linear classifier on 2x6x6 images, s = W x + b: every attribution has a known exact answer."""
    nn = models.namespace(backend)
    return nn.Sequential(OrderedDict([("flatten", nn.Flatten()), ("fc", nn.Linear(72, 4))]))


BUILDERS = {"digit_cnn": models.digit_cnn, "source_cnn": models.source_cnn, "tiny_cnn": tiny_cnn, "linear": linear}
SHAPES = {"digit_cnn": (3, 1, 28, 28), "source_cnn": (3, 1, 28, 28), "tiny_cnn": (3, 3, 8, 8), "linear": (3, 2, 6, 6)}


def twins(name: str, seed: int = 0):
    """(torch model in float64, scratch model with its weights, x as NumPy, x as a tensor, targets)."""
    torch.manual_seed(seed)
    torch_model = BUILDERS[name](backend="torch").double()
    scratch_model = BUILDERS[name](backend="scratch")
    parity.copy_torch_to_scratch(torch_model, scratch_model)
    x = np.random.default_rng(seed).random(SHAPES[name])
    return torch_model, scratch_model, x, torch.as_tensor(x), [1, 2, 0]
