"""What the units of a CNN respond to (notebook 10): feature maps and how coarse they get, the input box a unit
sees, the inputs that excite a channel most, the multiply-adds behind one unit's value, and the features the
last layer reads.

    maps = feature_maps(model, x)                  {"conv1": (N, 16, 28, 28), "relu1": ..., "relu3": (N, 64, 7, 7)}
    map_resolution(maps), map_readability(maps, x) how coarse, and how much each layer's maps still look like x
    receptive_field(model, "conv3", 3, 3)          Box(top=..., bottom=..., left=..., right=...) in input pixels
    top_activating(model, "conv3", x, channel=5)   the k inputs whose channel 5 responds most, and where
    unit_contributions(model, "conv2", x, 7, 4, 4) window * weights + bias = the value of unit (7, 4, 4)

Every activation comes from ``_model.backprop`` (the model's own forward, scratch or torch); the arithmetic
of boxes comes from ``course_lib.conv_arithmetic``. Arrays come back in the model's kind (NumPy or torch).
"""
from __future__ import annotations

import numbers
from typing import NamedTuple, Optional, Sequence

import numpy as np

from .. import conv_arithmetic
from ..scratch.sizes import output_size
from ._model import as_input, backprop, is_array, leaf_layers, layer_name

# ------------------------------------------------------------------------------------------ small helpers


def _numpy(value) -> np.ndarray:
    """An array or tensor as a NumPy array (for measures and bookkeeping that are the same on both sides)."""
    return value if is_array(value) else value.detach().cpu().numpy()


def _like(model, array: np.ndarray, integer: bool = False):
    """``array`` in the model's kind: NumPy for a scratch model, a tensor in its dtype (int64 if ``integer``) on
    its device for a torch model."""
    ref = as_input(model, np.zeros(1))
    if is_array(ref):
        return array.astype(np.int64) if integer else array.astype(ref.dtype)
    import torch

    return torch.as_tensor(array, dtype=torch.int64 if integer else ref.dtype, device=ref.device)


def _whole(where: str, name: str, value, low: int, high: Optional[int] = None, meaning: str = "") -> int:
    """``value`` as an int in low..high-1, or an error that names it, its range and what it is."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be a whole number{meaning}, got {value!r}.")
    if value < low or (high is not None and value >= high):
        top = "" if high is None else f"..{high - 1}"
        raise ValueError(f"{where}: {name}={value} is out of range: it must be in {low}{top}{meaning}.")
    return int(value)


def _activations(model, x, names: Sequence[str]) -> dict:
    """{name: output of that layer for x}, from one forward pass that stops at the deepest of them."""
    order = list(leaf_layers(model))
    p = backprop(model, x, None, at=max(names, key=order.index), keep=names)
    return {n: p.activations[n] for n in names}


def _channels(where: str, activation, name: str, channel) -> int:
    return _whole(where, "channel", channel, 0, activation.shape[1],
                  f" (layer {name} has {activation.shape[1]} channels)")


# ------------------------------------------------------------------------------------------ feature maps


def feature_maps(model, x, layers: Optional[Sequence] = None) -> dict:
    """{layer name: its output for x} for the chosen leaf layers (names or layer objects), in the order given.

    By default: every leaf layer whose output is a stack of maps (N, C, h, w) with more than one position --
    for ``models.digit_cnn`` conv1, relu1, pool1, conv2, relu2, pool2, conv3, relu3 (the 1x1 output of global
    average pooling is no map). x: (N, C, H, W).
    """
    if layers is None:
        acts = _activations(model, x, list(leaf_layers(model)))
        return {n: a for n, a in acts.items() if a.ndim == 4 and a.shape[2] * a.shape[3] > 1}
    if isinstance(layers, str) or not hasattr(layers, "__iter__") or len(layers) == 0:
        raise TypeError(f"feature_maps: layers is a list of layer names (e.g. ['conv1', 'relu2']) or None for "
                        f"every map; got {layers!r}.")
    names = list(dict.fromkeys(layer_name(model, layer) for layer in layers))
    return _activations(model, x, names)


def map_resolution(maps: dict) -> dict:
    """{layer name: (h, w)} of each map in ``maps`` (from ``feature_maps``): 28x28 -> 14x14 -> 7x7 for digit_cnn."""
    return {name: tuple(int(s) for s in a.shape[2:]) for name, a in maps.items()}


def _upsample(maps: np.ndarray, size) -> np.ndarray:
    """(N, C, h, w) maps shown at the input's size (H, W), each cell a block of pixels (nearest neighbour)."""
    rows, cols = (np.arange(size[0]) * maps.shape[2]) // size[0], (np.arange(size[1]) * maps.shape[3]) // size[1]
    return maps[:, :, rows][:, :, :, cols]


def map_readability(maps: dict, x, reduce: str = "best") -> dict:
    """{layer name: how much its maps still look like the input}, a number in 0..1.

    Each map a[n, c] is shown at the input's size (each of its h x w cells a block of pixels, as a picture of
    it looks) and compared with the input x[n] (averaged over its channels) by the absolute Pearson correlation

        r[n, c] = |corr(upsample(a[n, c]), x[n])|          (a constant map, e.g. a dead ReLU, counts 0)

    then ``reduce="best"``: mean over images of max over channels (can the digit still be found in some map of
    this layer?), or ``"mean"``: mean over images and channels. 1: a map is the digit again (up to sign and
    scale); 0: nothing of its shape is left. Both coarseness (7x7 blocks cannot draw a stroke) and abstraction
    (maps of parts, then of class evidence) lower it. digit_cnn after 3 epochs, 200 validation digits, "best":
    relu1 0.89, relu2 0.74, relu3 0.57.
    """
    if reduce not in ("best", "mean"):
        raise ValueError(f"map_readability: reduce is 'best' (the most digit-like channel) or 'mean' (all "
                         f"channels), got {reduce!r}.")
    x = _numpy(x).astype(np.float64)
    image = x.mean(axis=1).reshape(len(x), 1, -1)
    image = image - image.mean(axis=2, keepdims=True)
    out = {}
    for name, a in maps.items():
        a = _upsample(_numpy(a).astype(np.float64), x.shape[2:])
        m = a.reshape(*a.shape[:2], -1)
        m = m - m.mean(axis=2, keepdims=True)
        norm = np.sqrt((m ** 2).sum(axis=2) * (image ** 2).sum(axis=2))
        r = np.abs(np.divide((m * image).sum(axis=2), norm, out=np.zeros_like(norm), where=norm > 1e-12))
        out[name] = float((r.max(axis=1) if reduce == "best" else r).mean())
    return out


# ------------------------------------------------------------------------------------------ receptive fields


class Box(NamedTuple):
    """Input rows top..bottom-1 and columns left..right-1: ``x[:, :, top:bottom, left:right]``."""
    top: int
    bottom: int
    left: int
    right: int


def _axis(value, axis: int):
    return value[axis] if isinstance(value, (tuple, list)) else value


def _window(layer, axis: int) -> tuple[int, int, int, int]:
    """(kernel_size, stride, padding, dilation) of a windowed layer (Conv2d, MaxPool2d, AvgPool2d) along one axis."""
    k = _axis(layer.kernel_size, axis)
    s = _axis(getattr(layer, "stride", None) or layer.kernel_size, axis)
    d = _axis(getattr(layer, "dilation", 1), axis)
    p = getattr(layer, "padding", 0)
    p = {"valid": 0, "same": d * (k - 1) // 2}[p] if isinstance(p, str) else _axis(p, axis)
    return int(k), int(s), int(p), int(d)


def _geometry(model, layer, size) -> tuple[str, list]:
    """The layer's name and, per axis, (receptive-field size, jump, start, map size) at its output.

    A unit at position i sees input pixels start + i*jump .. start + i*jump + size - 1 (negative or past the
    edge = padding). size and jump come from ``conv_arithmetic.receptive_field``; the start moves back by
    P * jump at each padded layer:  start_l = start_{l-1} - P_l * jump_{l-1},  start_0 = 0.
    """
    name = layer_name(model, layer)
    leaves = leaf_layers(model)
    chain = list(leaves.values())[:list(leaves).index(name) + 1]
    geometry = []
    for axis in (0, 1):
        try:
            fields = conv_arithmetic.receptive_field(chain, axis=axis)
        except ValueError as err:
            raise ValueError(f"receptive_field: layer {name!r} is past the spatial part of the network ({err}) "
                             "Ask for a conv, ReLU or pooling layer before the global pooling.") from None
        start, jump, n = 0, 1, size[axis]
        for leaf, rf in zip(chain, fields):
            if hasattr(leaf, "kernel_size"):
                k, s, p, d = _window(leaf, axis)
                start -= p * jump
                n = output_size(n, k, s, p, d, ceil_mode=bool(getattr(leaf, "ceil_mode", False)))
            jump = rf.jump
        geometry.append((fields[-1].size, jump, start, n))
    return name, geometry


def _span(model, layer, i, j, size, where: str) -> Box:
    """The unclipped box of unit (i, j) (it may reach into the padding), after checking (i, j) is on the map."""
    size = _input_size(size, where)
    name, ((rh, jh, sh, h), (rw, jw, sw, w)) = _geometry(model, layer, size)
    i = _whole(where, "i", i, 0, h, f" (the map of {name} is {h} x {w} for a {size[0]} x {size[1]} input)")
    j = _whole(where, "j", j, 0, w, f" (the map of {name} is {h} x {w} for a {size[0]} x {size[1]} input)")
    return Box(sh + i * jh, sh + i * jh + rh, sw + j * jw, sw + j * jw + rw)


def _input_size(size, where: str) -> tuple[int, int]:
    if not (isinstance(size, (tuple, list)) and len(size) == 2):
        raise TypeError(f"{where}: size is the input image's (height, width), e.g. (28, 28); got {size!r}.")
    return tuple(_whole(where, "size", s, 1, meaning=" (pixels)") for s in size)


def receptive_field(model, layer, i: int, j: int, size=(28, 28)) -> Box:
    """The box of input pixels that unit (i, j) of ``layer``'s map sees, clipped to a ``size`` = (H, W) image.

    Along each axis, from the chain of leaf layers up to ``layer`` (Conv2d, MaxPool2d, AvgPool2d with their
    kernel F, stride S, padding P, dilation D; ReLU, BatchNorm, Dropout change nothing):

        r_l = r_{l-1} + (D(F - 1)) j_{l-1},   j_l = j_{l-1} S_l,   start_l = start_{l-1} - P_l j_{l-1}
        rows  start + i j  ..  start + i j + r - 1      (clipped to 0..H-1; the rest is zero padding)

    (r, j: ``conv_arithmetic.receptive_field``.) The box is what the unit *can* see: pixels outside it have no
    effect on it (their gradient is 0); inside it, a max-pooling or a ReLU may still ignore some of them.
    digit_cnn: conv1 5x5, conv2 10x10, conv3 20x20 (before clipping). Returns ``Box(top, bottom, left, right)``
    with bottom and right exclusive.
    """
    box = _span(model, layer, i, j, size, "receptive_field")
    h, w = _input_size(size, "receptive_field")
    return Box(max(box.top, 0), min(box.bottom, h), max(box.left, 0), min(box.right, w))


# ------------------------------------------------------------------------------------------ top inputs


class TopUnits(NamedTuple):
    """The k inputs whose channel responds most: their ``index`` in x, the maximum ``value`` over positions and
    the position ``(i, j)`` of that maximum on the layer's map; each (k,) for one channel, (channels, k) for
    several, strongest first."""
    index: object
    value: object
    i: object
    j: object


def _channel_maxima(model, layer, x, channel, batch_size: int, where: str):
    """For every input and each asked channel: the max over positions and its flat position, (N, channels) each;
    computed in batches from the forward pass alone. Also the channels (a list) and the map's width."""
    name = layer_name(model, layer)
    values, positions = [], []
    for start in range(0, len(x), batch_size):
        a = _numpy(_activations(model, x[start:start + batch_size], [name])[name])
        if a.ndim != 4:
            raise ValueError(f"{where}: layer {name!r} gives {a.shape[1:]} per input, not maps (C, h, w); pick a "
                             "conv, ReLU or pooling layer.")
        chosen = range(a.shape[1]) if channel is None else [channel] if _is_int(channel) else channel
        chosen = [_channels(where, a, name, c) for c in chosen]
        if not chosen:
            raise ValueError(f"{where}: channel is an empty list; give one channel, a list of them, or None for all.")
        flat = a[:, chosen].reshape(len(a), len(chosen), -1)
        values.append(flat.max(axis=2))
        positions.append(flat.argmax(axis=2))
    return np.concatenate(values), np.concatenate(positions), chosen, a.shape[3]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def top_activating(model, layer, x, channel, k: int = 9, batch_size: int = 500) -> TopUnits:
    """The k inputs of x (N, C, H, W) whose ``channel`` of ``layer`` responds most (Zeiler & Fergus 2014).

    score[n] = max_{i,j} a[n, channel, i, j]; the k largest, strongest first (ties: the lower index first),
    with the (i, j) where each maximum is. ``channel``: one int (fields (k,)), a list or range of them, or None
    for every channel (fields (channels, k)), all from one forward pass in batches of ``batch_size`` inputs.
    """
    where = "top_activating"
    n = len(x)
    k = _whole(where, "k", k, 1, n + 1, f" (x has {n} inputs)")
    batch_size = _whole(where, "batch_size", batch_size, 1)
    values, positions, _, width = _channel_maxima(model, layer, as_input(model, x), channel, batch_size, where)
    order = np.argsort(-values, axis=0, kind="stable")[:k]
    fields = [order, np.take_along_axis(values, order, 0), *np.divmod(np.take_along_axis(positions, order, 0), width)]
    fields = [f[:, 0] if _is_int(channel) else f.T for f in fields]
    return TopUnits(*(_like(model, f, integer=f.dtype.kind in "iu") for f in fields))


def top_patches(model, layer, x, channel, k: int = 9, fill: float = 0.0, batch_size: int = 500):
    """The input patch that each of the k most excited units sees: (k, C, r_h, r_w) for an r_h x r_w receptive
    field (``(channels, k, C, r_h, r_w)`` for a list of channels or None), strongest first (``top_activating``,
    then ``receptive_field`` of the unit at each maximum).

    A box that reaches past the image border is padded with ``fill`` (0 = background, as the layers' zero
    padding), so every patch has the same size and the digit sits where the unit saw it.
    """
    top = top_activating(model, layer, x, channel, k, batch_size)
    x = _numpy(as_input(model, x))
    size = x.shape[2:]
    index, rows, cols = (_numpy(f).reshape(-1) for f in (top.index, top.i, top.j))
    boxes = [_span(model, layer, int(i), int(j), size, "top_patches") for i, j in zip(rows, cols)]
    pad = max(0, *(max(-b.top, -b.left, b.bottom - size[0], b.right - size[1]) for b in boxes))
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    patches = np.stack([padded[n, :, b.top + pad:b.bottom + pad, b.left + pad:b.right + pad]
                        for n, b in zip(index, boxes)])
    return _like(model, patches.reshape(*_numpy(top.index).shape, *patches.shape[1:]))


# ------------------------------------------------------------------------------------------ one unit's sum


class Contributions(NamedTuple):
    """The multiply-adds that made one conv unit's value, for every input n:

    window (N, C_g, kh, kw)  the layer's input under the kernel (zeros where it lies on the padding)
    weights (C_g, kh, kw)    the channel's filter (C_g = in_channels / groups)
    products (N, C_g, kh, kw) window * weights;   products[n].sum() + bias == output[n]
    bias                     a float (0.0 for a layer without bias)
    output (N,)              the layer's own value at (channel, i, j)
    box                      where the window lies in the layer's input (may reach into the padding)
    """
    window: object
    weights: object
    products: object
    bias: float
    output: object
    box: Box


def _conv_layer(model, layer, where: str):
    name = layer_name(model, layer)
    conv = leaf_layers(model)[name]
    if type(conv).__name__ != "Conv2d":
        raise ValueError(f"{where}: layer {name!r} is a {type(conv).__name__}, not a Conv2d: only a convolution "
                         "is a sum of weights times inputs. Pick a conv layer (e.g. 'conv2').")
    if getattr(conv, "padding_mode", "zeros") != "zeros":
        raise ValueError(f"{where}: layer {name!r} pads with {conv.padding_mode!r}; only zero padding is shown.")
    return name, conv


def unit_contributions(model, layer, x, channel: int, i: int, j: int) -> Contributions:
    """Unit (channel, i, j) of a Conv2d layer as the lecture's sum: y = sum_{c,u,v} w[c,u,v] x[c, iS+uD, jS+vD] + b.

    The layer's input comes from the model's own forward (the output of the leaf layer before it, or x for the
    first layer); the window starts at (i S - P, j S - P) and takes every D-th pixel (dilation D), zero outside
    the input. For a grouped conv only the channel's group of inputs enters. x: (N, C, H, W).
    Raises RuntimeError if the sum does not give the layer's value (a model whose forward is not its chain of
    leaf layers).
    """
    where = "unit_contributions"
    name, conv = _conv_layer(model, layer, where)
    names = list(leaf_layers(model))
    before = names[:names.index(name)][-1:]
    p = backprop(model, x, None, at=name, keep=before)
    inp = _numpy(p.activations[before[0]] if before else as_input(model, x)).astype(np.float64)
    out = _numpy(p.output)
    channel = _channels(where, out, name, channel)
    meaning = f" (the map of {name} is {out.shape[2]} x {out.shape[3]})"
    i, j = _whole(where, "i", i, 0, out.shape[2], meaning), _whole(where, "j", j, 0, out.shape[3], meaning)
    (kh, sh, ph, dh), (kw, sw, pw, dw) = _window(conv, 0), _window(conv, 1)
    rows, cols = i * sh - ph + dh * np.arange(kh), j * sw - pw + dw * np.arange(kw)
    per_group = inp.shape[1] // conv.groups
    group = channel // (conv.out_channels // conv.groups)
    window = np.zeros((len(inp), per_group, kh, kw))
    r_in, c_in = (rows >= 0) & (rows < inp.shape[2]), (cols >= 0) & (cols < inp.shape[3])
    inside = inp[:, group * per_group:(group + 1) * per_group][:, :, rows[r_in]][:, :, :, cols[c_in]]
    window[:, :, np.flatnonzero(r_in)[:, None], np.flatnonzero(c_in)] = inside
    weights = _numpy(conv.weight.data)[channel].astype(np.float64)
    bias = 0.0 if conv.bias is None else float(_numpy(conv.bias.data)[channel])
    products = window * weights
    value = out[:, channel, i, j]
    if not np.allclose(products.sum(axis=(1, 2, 3)) + bias, value, rtol=1e-4, atol=1e-4 * max(1.0, abs(value).max())):
        raise RuntimeError(f"{where}: the window times the weights does not give {name}'s value: the model's "
                           f"forward does not feed {name} the output of {before or 'x'}; use a chain of layers.")
    box = Box(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    return Contributions(_like(model, window), _like(model, weights), _like(model, products), bias,
                         _like(model, value), box)


# ------------------------------------------------------------------------------ features before the last layer


def penultimate_features(model, x):
    """The input of the model's last layer, a Linear: (N, D) -- for digit_cnn the 64 averaged relu3 maps.

    These are the features that the last layer separates linearly; nearest neighbours in this space share a
    label far more often than in pixel space (``nearest_neighbour_agreement``).
    """
    leaves = leaf_layers(model)
    names = list(leaves)
    if type(leaves[names[-1]]).__name__ != "Linear":
        raise ValueError(f"penultimate_features: the model's last layer {names[-1]!r} is a "
                         f"{type(leaves[names[-1]]).__name__}, not a Linear: there is no 'input of the final "
                         "linear layer'. Use feature_maps(model, x, [layer]) for any layer's output.")
    if len(names) == 1:
        x = as_input(model, x)
    else:
        x = _activations(model, x, names[-2:-1])[names[-2]]
    return x.reshape(len(x), -1)


def _matrix(where: str, name: str, value) -> np.ndarray:
    a = _numpy(value)
    if a.ndim < 2 or len(a) == 0:
        raise ValueError(f"{where}: {name} must be (N, D) feature vectors (or (N, C, H, W) images), one row per "
                         f"example; got shape {a.shape}.")
    return a.reshape(len(a), -1).astype(np.float64)


def _labels(where: str, name: str, value, n: int) -> np.ndarray:
    y = _numpy(value) if hasattr(value, "detach") or is_array(value) else np.asarray(value)
    if y.shape != (n,):
        raise ValueError(f"{where}: {name} must hold one label per row of its features, shape ({n},); got {y.shape}.")
    return y


def nearest_neighbour_agreement(features_query, labels_query, features_ref, labels_ref, k: int = 1,
                                metric: str = "euclidean", batch_size: int = 1000) -> float:
    """The fraction of queries whose nearest reference (in ``metric``) has the query's label.

    For each query q: its k nearest references by ||q - r|| (``metric="cosine"``: the angle, i.e. rows scaled
    to length 1 first); agreement = mean over queries of the fraction of those k that share q's label (k = 1:
    how often the nearest neighbour is of the same class). Features (N, D) or images (N, C, H, W) (flattened:
    pixel space), NumPy or torch. Compare feature space with pixel space on the same digits; keep queries and
    references apart (a query that is also a reference finds itself at distance 0).
    """
    where = "nearest_neighbour_agreement"
    q, r = _matrix(where, "features_query", features_query), _matrix(where, "features_ref", features_ref)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"{where}: queries have {q.shape[1]} features but references {r.shape[1]}; compare "
                         "vectors from the same space (the same layer, or both pixels).")
    yq, yr = _labels(where, "labels_query", labels_query, len(q)), _labels(where, "labels_ref", labels_ref, len(r))
    k = _whole(where, "k", k, 1, len(r) + 1, f" (there are {len(r)} references)")
    if metric not in ("euclidean", "cosine"):
        raise ValueError(f"{where}: metric must be 'euclidean' or 'cosine', got {metric!r}.")
    if metric == "cosine":
        q, r = (a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-300) for a in (q, r))
    r_sq, agree = (r ** 2).sum(axis=1), 0.0
    for start in range(0, len(q), batch_size):
        d = r_sq[None, :] - 2.0 * q[start:start + batch_size] @ r.T    # ||q - r||^2 - ||q||^2
        nearest = np.argmin(d, axis=1)[:, None] if k == 1 else np.argpartition(d, k - 1, axis=1)[:, :k]
        agree += (yr[nearest] == yq[start:start + batch_size, None]).mean(axis=1).sum()
    return float(agree / len(q))


class Projection(NamedTuple):
    """``points`` (N, 2): the features on their first two principal axes; ``explained`` (2,): the fraction of the
    total variance along each."""
    points: object
    explained: np.ndarray


def pca_2d(features) -> Projection:
    """A 2-D projection by PCA: centre the rows, take the SVD  F - mean = U S V^T, project on the first two rows
    of V^T:  points = (F - mean) V[:, :2] = U[:, :2] S[:2].

    Each axis's sign is fixed so that its largest-magnitude loading (entry of V^T's row) is positive: the same
    features always give the same picture. Features (N, D) or (N, C, H, W), N >= 2; points in the input's kind.
    """
    f = _matrix("pca_2d", "features", features)
    if len(f) < 2 or f.shape[1] < 2:
        raise ValueError(f"pca_2d: needs at least 2 examples with at least 2 features, got {f.shape}.")
    centred = f - f.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2] * np.sign(vt[np.arange(2), np.abs(vt[:2]).argmax(axis=1)])[:, None]
    explained = s[:2] ** 2 / max((s ** 2).sum(), 1e-300)
    points = centred @ axes.T
    if not is_array(features):
        import torch

        points = torch.as_tensor(points, dtype=features.dtype if features.is_floating_point() else None,
                                 device=features.device)
    return Projection(points, explained)
