"""The course's networks, built twice with identical layer names: from scratch and in ``torch.nn``.

Because the names match, ``scratch_model.load_state_dict(torch_model.state_dict())`` copies
weights across, and the two can be compared number for number.
"""
from __future__ import annotations

from typing import Sequence

from . import scratch

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")


def _activation(name: str, nn):
    layers = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    return layers[name]()


def _backend(backend: str):
    """The module namespace to build from: course_lib.scratch or torch.nn."""
    if backend == "scratch":
        return scratch
    if backend == "torch":
        import torch.nn

        return torch.nn
    raise ValueError(f"backend must be 'scratch' or 'torch', got {backend!r}.")


def mlp(sizes: Sequence[int], activation: str = "relu", backend: str = "scratch"):
    """Flatten -> Linear(sizes[0], sizes[1]) -> act -> ... -> Linear(sizes[-2], sizes[-1]).

    ``mlp([784, 256, 10])`` maps images (N, 28, 28) or vectors (N, 784) to 10 class scores.
    backend: "scratch" (course_lib.scratch, NumPy float64) or "torch" (torch.nn, float32).
    Parameter names: "1.weight", "1.bias", "3.weight", ... in both backends.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got sizes={list(sizes)}.")
    nn = _backend(backend)
    layers = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(_activation(activation, nn))
    return nn.Sequential(*layers)


def lenet5(num_classes: int = 10, activation: str = "relu", pool: str = "max", backend: str = "scratch"):
    """LeNet-5 for 28x28 digits: the shapes 28 -> 14 -> 10 -> 5 -> 1 of the lecture (C5 has 120 maps).

        C1 conv 5x5, 1 -> 6, padding 2   (N, 6, 28, 28)      S2 pool 2x2   (N, 6, 14, 14)
        C3 conv 5x5, 6 -> 16             (N, 16, 10, 10)     S4 pool 2x2   (N, 16, 5, 5)
        C5 conv 5x5, 16 -> 120           (N, 120, 1, 1)      flatten       (N, 120)
        F6 linear 120 -> 84              output linear 84 -> num_classes

    LeCun et al. (1998) used tanh-like units and average-pooling subsampling on 32x32 inputs; the
    defaults here are today's ReLU and max pooling (activation="tanh", pool="avg" for the original).
    """
    if pool not in ("max", "avg"):
        raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}.")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    nn = _backend(backend)
    pool_layer = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), _activation(activation, nn), pool_layer(2),
        nn.Conv2d(6, 16, 5), _activation(activation, nn), pool_layer(2),
        nn.Conv2d(16, 120, 5), _activation(activation, nn), nn.Flatten(),
        nn.Linear(120, 84), _activation(activation, nn), nn.Linear(84, num_classes),
    )
