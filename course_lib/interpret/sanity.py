"""Does a map explain the model, or only the image? Adebayo et al. 2018's model-parameter randomisation test.

Re-draw the weights of the top layer at random, then of the top two, ... down to the first (cascading
randomisation), compute the map again on every such copy, and measure with Spearman's rank correlation how
similar it stays to the map of the trained model. A map that explains the model's decision must change when
the model is destroyed; a map that barely changes shows the image (its edges), not what the network learned.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Callable, Iterator

import numpy as np

from ._model import is_array, leaf_layers


def cascading_randomization(model, seed: int = 0) -> Iterator[tuple[str, object]]:
    """Yield (layer name, copy) from the top layer down: in the copy, that layer and every layer above it have
    fresh random weights. Only layers with parameters count ("fc", "conv3", "conv2", "conv1" for digit_cnn).

    Every parameter is re-drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight[0].size: torch's
    default initialisation of Conv2d and Linear (weights and biases). The numbers come from NumPy's
    default_rng(seed), so a scratch model and its torch twin get the same random weights. ``model`` is untouched.
    """
    rng = np.random.default_rng(seed)
    broken = copy.deepcopy(model)
    layers = leaf_layers(broken)
    for name in reversed([n for n, layer in layers.items() if list(layer.parameters())]):
        _redraw(layers[name], rng)
        yield name, copy.deepcopy(broken)


def rank_correlation(a, b, abs: bool = False):
    """Spearman's rank correlation between maps a[i] and b[i], each flattened: the Pearson correlation of their
    ranks. Tied values share the mean of their ranks (as scipy.stats.spearmanr). abs=True ranks |a| and |b|
    (Adebayo et al. report both). a, b (N, ...) -> (N,) in [-1, 1], NumPy or torch like a. A constant map has
    no ranking: its correlation is nan.
    """
    x, y = (_numpy(m).reshape(len(m), -1) for m in (a, b))
    if x.shape != y.shape:
        raise ValueError(f"rank_correlation: the maps have shapes {tuple(a.shape)} and {tuple(b.shape)}; compare "
                         "maps of the same inputs made the same way.")
    if abs:
        x, y = np.abs(x), np.abs(y)
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(1) / np.sqrt((rx ** 2).sum(1) * (ry ** 2).sum(1))
    return rho if is_array(a) else _like(a, rho)


def randomization_check(model, x, target, methods: "dict[str, Callable]", seed: int = 0, abs: bool = False):
    """For each method (name -> callable(model, x, target) returning maps), the rank correlation between its map
    on the trained model and on each cascading-randomised copy, the mean over the N inputs:
    {method: {layer randomised down to: mean correlation}}, layers from the top ("fc") down.
    """
    original = {name: method(model, x, target) for name, method in methods.items()}
    table = {name: OrderedDict() for name in methods}
    for layer, broken in cascading_randomization(model, seed):
        for name, method in methods.items():
            rho = _numpy(rank_correlation(original[name], method(broken, x, target), abs=abs))
            table[name][layer] = float(np.nanmean(rho))
    return table


# ------------------------------------------------------------------------------------------ helpers


def _redraw(layer, rng) -> None:
    """New values for every parameter of ``layer``, U(-b, b) with b = 1/sqrt(fan_in), in place."""
    weight = layer.weight.data
    bound = 1.0 / np.sqrt(np.prod(weight.shape[1:]))
    for _, p in layer.named_parameters():
        values = rng.uniform(-bound, bound, size=tuple(p.shape))
        if is_array(p.data):
            p.data[...] = values
        else:
            p.data.copy_(_like(p.data, values))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..M-1 of every row of x (N, M); a group of equal values gets the mean of the ranks it spans."""
    n, m = x.shape
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    starts = np.concatenate([np.ones((n, 1), bool), ordered[:, 1:] != ordered[:, :-1]], axis=1)
    group = np.cumsum(starts.ravel()).reshape(n, m) - 1                      # tie groups, numbered across rows
    mean_rank = np.bincount(group.ravel(), weights=np.tile(np.arange(m), n)) / np.bincount(group.ravel())
    ranks = np.empty((n, m))
    np.put_along_axis(ranks, order, mean_rank[group], axis=1)
    return ranks


def _numpy(a) -> np.ndarray:
    return np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=np.float64)


def _like(tensor, values: np.ndarray):
    import torch

    return torch.as_tensor(values, dtype=tensor.dtype, device=tensor.device)
