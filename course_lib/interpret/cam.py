"""Where in the image a class is found: class activation maps, at the resolution of a layer's feature maps.

    class_activation_map   CAM_t(i, j) = sum_k w_tk A_k(i, j)               (Zhou et al. 2016)
    grad_cam               ReLU(sum_k alpha_k A_k),  alpha_k = mean_ij d s_t / dA_k(i, j)   (Selvaraju et al. 2017)
    upsample_map           a (N, h, w) map stretched over the input (bilinear), to draw it on the image

For a network that ends in global average pooling and one linear layer, s_t = sum_k w_tk mean_ij A_k(i, j) + b_t,
so d s_t / dA_k(i, j) = w_tk / (h w) at every (i, j): alpha_k = w_tk / (h w), and Grad-CAM at the layer entering
the pooling is ReLU(CAM_t) / (h w) -- the same map up to a positive constant. Grad-CAM needs no such ending.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._model import backprop, is_array, layer_name, leaf_layers, one_hot_like, targets


def class_activation_map(model, x, target):
    """CAM_t(i, j) = sum_k w_tk A_k(i, j): the feature maps A (N, K, h, w) entering the global average pooling,
    weighted by the final Linear's weights of class t (Zhou et al. 2016). No ReLU, no bias, no upsampling: the
    score is s_t = mean_ij CAM_t(i, j) + b_t. x (N, C, H, W) -> CAM (N, h, w), the model's kind.
    """
    features, fc = _gap_ending(model)
    p = backprop(model, x, seed=lambda s: one_hot_like(s, target), keep=[features])
    maps = p.activations[features]                                    # (N, K, h, w)
    w = _rows(leaf_layers(model)[fc].weight.data, target, len(maps))  # (N, K): w_t for each input
    return (w[:, :, None, None] * maps).sum(1)


def grad_cam(model, layer, x, target):
    """Grad-CAM at ``layer`` (a name such as "relu3", or the layer itself): with A = its output (N, K, h, w),
    alpha_k = mean over (i, j) of d s_t / dA_k(i, j) and map = ReLU(sum_k alpha_k A_k) (Selvaraju et al. 2017).
    x (N, C, H, W) -> map (N, h, w) at the layer's resolution, the model's kind.
    """
    name = layer_name(model, layer)
    p = backprop(model, x, seed=lambda s: one_hot_like(s, target), keep=[name])
    maps, grads = p.activations[name], p.gradients[name]
    if maps.ndim != 4:
        raise ValueError(f"grad_cam: layer {name!r} gives an output of shape {tuple(maps.shape)}, not feature maps "
                         f"(N, K, h, w); choose a convolution, ReLU or pooling layer before the global pooling.")
    alpha = grads.mean((2, 3))                                        # (N, K)
    cam = (alpha[:, :, None, None] * maps).sum(1)
    return cam * (cam > 0)                                            # ReLU


def upsample_map(cam, size):
    """Stretch maps (N, h, w) to (N, H, W) by bilinear interpolation, size = H or (H, W): to draw a 7x7 map over
    a 28x28 digit. The same numbers as F.interpolate(cam[:, None], size, mode="bilinear", align_corners=False).
    """
    height, width = (size, size) if isinstance(size, numbers.Integral) else size
    rows, cols = _bilinear(cam.shape[-2], height), _bilinear(cam.shape[-1], width)
    if not is_array(cam):
        import torch

        rows, cols = (torch.as_tensor(m, dtype=cam.dtype, device=cam.device) for m in (rows, cols))
    return rows @ cam @ cols.T


# ------------------------------------------------------------------------------------------ helpers


def _bilinear(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix of linear interpolation along one axis, pixel centres aligned (align_corners=False):
    output pixel o samples the input at (o + 1/2) n_in / n_out - 1/2, clamped to the edge pixels."""
    where = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    left = np.floor(where).astype(int)
    right = np.minimum(left + 1, n_in - 1)
    matrix = np.zeros((n_out, n_in))
    np.add.at(matrix, (np.arange(n_out), left), 1 - (where - left))
    np.add.at(matrix, (np.arange(n_out), right), where - left)
    return matrix


def _gap_ending(model) -> tuple[str, str]:
    """The names of the layer whose output enters the global average pooling, and of the final Linear.

    The model must end ... -> AdaptiveAvgPool2d(1) -> Flatten -> Linear (leaf layers, in order)."""
    layers = leaf_layers(model)
    names, kinds = list(layers), [type(layer).__name__ for layer in layers.values()]
    gap = len(names) >= 4 and kinds[-3:] == ["AdaptiveAvgPool2d", "Flatten", "Linear"]
    if not gap or np.prod(layers[names[-3]].output_size) != 1:
        found = ", ".join(f"{n} ({k})" for n, k in list(zip(names, kinds))[-4:])
        raise ValueError("class_activation_map needs a network that ends in global average pooling and one linear "
                         "layer: ... -> AdaptiveAvgPool2d(1) -> Flatten -> Linear. This model ends with "
                         f"{found}. Use grad_cam(model, layer, x, target), which works for any CNN.")
    return names[-4], names[-1]


def _rows(weight, target, n: int):
    """weight[t_i] for each of the n inputs: (n, K), the final layer's weights of each input's target class."""
    t = targets(target, n, weight.shape[0])
    return weight[t]
