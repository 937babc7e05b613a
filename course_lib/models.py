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
    if backend == "scratch":
        nn = scratch
    elif backend == "torch":
        import torch.nn as nn
    else:
        raise ValueError(f"backend must be 'scratch' or 'torch', got {backend!r}.")
    layers = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(_activation(activation, nn))
    return nn.Sequential(*layers)
