"""Pictures, the layer-stack explorer and the plain-vs-residual experiment of notebook 07 (CNN architectures).

    from course_lib.lessons import nb07_cnn_architectures as av
    av.plot_ilsvrc()                                    # the "revolution of depth": top-5 error and depth per year
    av.plot_volumes(model, (1, 1, 28, 28))              # a network drawn as its feature-map volumes
    av.plot_blocks()                                    # plain, residual, dense and Inception blocks side by side
    av.explore_stack(pattern="CCP", repeats=3)          # the widget's callback: table + figure of a layer stack
    history = av.train_deep_net(9, residual=True, train=(x, y))   # 20 weight layers, with skip connections

Every shape, parameter count, multiply-add count and receptive field comes from ``course_lib.conv_arithmetic``
and ``course_lib.summary`` (``shape_table`` runs the model once, on the "meta" device when only shapes are
needed), and every network from ``course_lib.architectures``, so a picture cannot disagree with the numbers.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import NamedTuple, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.ticker import FuncFormatter, NullLocator
from torch import nn

from .. import architectures
from .. import conv_arithmetic as ca
from ..plots import finish
from ..summary import LayerRow, format_table, shape_table
from ..training import History, fit

# ---------------------------------------------------------------- numbers from the lecture decks


class ILSVRCEntry(NamedTuple):
    """One ImageNet (ILSVRC) classification result: year, network, weight layers (None: 'shallow'), top-5 error %."""
    year: int
    name: str
    layers: Optional[int]
    top5: float


# "Revolution of depth" [003] (the slide's picture, from Kaiming He's talk): winners, plus VGG (2nd in 2014).
ILSVRC_RESULTS: list[ILSVRCEntry] = [
    ILSVRCEntry(2010, "NEC-UIUC", None, 28.2),
    ILSVRCEntry(2011, "XRCE", None, 25.8),
    ILSVRCEntry(2012, "AlexNet", 8, 16.4),
    ILSVRCEntry(2013, "ZFNet", 8, 11.7),
    ILSVRCEntry(2014, "VGG", 19, 7.3),
    ILSVRCEntry(2014, "GoogLeNet", 22, 6.7),
    ILSVRCEntry(2015, "ResNet", 152, 3.57),
]

# He et al. 2015, Table 3, as on Maier's slide [002]: ImageNet validation error (%, 10-crop), (top-1, top-5).
RESNET_TABLE: "OrderedDict[str, tuple[Optional[float], float]]" = OrderedDict([
    ("VGG-16", (28.07, 9.33)),
    ("GoogLeNet", (None, 9.15)),
    ("PReLU-net", (24.27, 7.38)),
    ("plain-34", (28.54, 10.02)),
    ("ResNet-34 A", (25.03, 7.76)),
    ("ResNet-34 B", (24.52, 7.46)),
    ("ResNet-34 C", (24.19, 7.40)),
    ("ResNet-50", (22.85, 6.71)),
    ("ResNet-101", (21.75, 6.05)),
    ("ResNet-152", (21.43, 5.71)),
])

# Layers that change the shape of the signal: the ones a volume picture or a short table shows.
SHAPE_LAYERS = ("Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear")


def main_rows(rows: Sequence[LayerRow], keep: Sequence[str] = SHAPE_LAYERS) -> list[LayerRow]:
    """The rows of ``summary.shape_table`` whose layer type is in ``keep`` (drops ReLU, BN, Dropout, ...)."""
    return [r for r in rows if r.type in keep]


def parameters_by_type(rows: Sequence[LayerRow]) -> dict[str, int]:
    """Parameters per layer type, e.g. {'Conv2d': 2,469,696, 'Linear': 58,631,144} for torchvision's AlexNet."""
    totals: dict[str, int] = {}
    for r in rows:
        if r.parameters:
            totals[r.type] = totals.get(r.type, 0) + r.parameters
    return totals


# ---------------------------------------------------------------- the revolution of depth, the ResNet table


def plot_ilsvrc(results: Sequence[ILSVRCEntry] = ILSVRC_RESULTS) -> Figure:
    """Bars of ImageNet top-5 error per year, each labelled with the network's depth (the slide of [003])."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    order = sorted(results, key=lambda e: (-e.year, e.top5))          # newest first, as on the slide
    depth = [e.layers or 1 for e in order]
    colours = plt.cm.viridis(np.log(depth) / np.log(max(depth)) * 0.85)
    x = np.arange(len(order))
    ax.bar(x, [e.top5 for e in order], color=colours)
    for i, e in enumerate(order):
        depth = "shallow" if e.layers is None else f"{e.layers}\nlayers"
        if e.top5 >= 6:                                   # depth inside the bar, error above it
            ax.text(i, e.top5 + 0.6, f"{e.top5:g}%", ha="center", fontsize=9)
            ax.text(i, e.top5 / 2, depth, ha="center", va="center", color="white", fontsize=9, fontweight="bold")
        else:                                             # too short a bar: both above it
            ax.text(i, e.top5 + 0.6, f"{depth}\n{e.top5:g}%", ha="center", fontsize=9)
    ax.set_xticks(x, [f"ILSVRC'{e.year % 100}\n{e.name}" for e in order], fontsize=8)
    ax.set(ylabel="top-5 error (%)", ylim=(0, max(e.top5 for e in order) * 1.15),
           title="ImageNet classification: the revolution of depth")
    return finish(fig)


def plot_resnet_table(table: "OrderedDict[str, tuple[Optional[float], float]]" = RESNET_TABLE) -> Figure:
    """Top-1 and top-5 error of the ResNet paper's Table 3 as horizontal bars (plain-34 in grey)."""
    names = list(table)
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), sharey=True)
    y = np.arange(len(names))[::-1]
    for ax, k, title in zip(axes, (0, 1), ("top-1 error (%)", "top-5 error (%)")):
        values = [table[n][k] for n in names]
        colours = ["0.6" if n.startswith("plain") else "tab:orange" if n.startswith("ResNet") else "tab:blue"
                   for n in names]
        for yi, v, c in zip(y, values, colours):
            if v is None:
                ax.text(0.5, yi, "not reported", va="center", fontsize=8, color="0.4")
                continue
            ax.barh(yi, v, color=c)
            ax.text(v + 0.3, yi, f"{v:.2f}", va="center", fontsize=8)
        ax.set(title=title, xlim=(0, max(v for v in values if v is not None) * 1.18))
    axes[0].set_yticks(y, names)
    fig.suptitle("He et al. 2015, Table 3 (ImageNet validation, 10-crop testing)", fontsize=10)
    return finish(fig)


# ---------------------------------------------------------------- a network drawn as its volumes


class Volume(NamedTuple):
    """The signal after one layer: ``channels`` maps of ``height`` x ``width`` (a vector: height = width = 0)."""
    name: str
    channels: int
    height: int
    width: int


def volumes(rows: Sequence[LayerRow], input_shape: Sequence[int],
            names: Optional[Sequence[str]] = None) -> list[Volume]:
    """The input and the output of every shape-changing layer (conv, pool, linear) of a ``shape_table``.

    input_shape (1, C, H, W) gives Volume('input', C, H, W); a Linear row (1, F) gives Volume(name, F, 0, 0).
    ``names`` replaces the layers' own names (one per conv, pool or linear layer), e.g. LeNet's C1, S2, ...
    """
    shown = [r for r in main_rows(rows) if r.output_shape is not None and len(r.output_shape) in (2, 4)]
    if names is not None and len(names) != len(shown):
        raise ValueError(f"volumes: got {len(names)} names for {len(shown)} conv/pool/linear layers "
                         f"({[r.name for r in shown]}).")
    out = [Volume("input", input_shape[1], input_shape[2], input_shape[3])]
    for i, r in enumerate(shown):
        name = r.name if names is None else names[i]
        shape = r.output_shape
        out.append(Volume(name, shape[1], shape[2], shape[3]) if len(shape) == 4 else Volume(name, shape[1], 0, 0))
    return out


def _draw_volumes(ax, vols: Sequence[Volume], title: str = "") -> None:
    """Boxes left to right: height ~ sqrt(spatial size), width ~ log2(channels); vectors as thin bars."""
    biggest = max(max(v.height for v in vols), 1)
    x = 0.0
    for i, v in enumerate(vols):
        is_map = v.height > 0
        w = 0.25 + 0.22 * math.log2(v.channels + 1) if is_map else 0.22
        h = (0.3 + 2.7 * math.sqrt(v.height / biggest) if is_map
             else 0.3 + 2.7 * min(1.0, math.log10(v.channels + 1) / 4))
        slot = max(w, 0.8)                                 # room for the labels of thin boxes
        centre = x + slot / 2
        colour = "tab:blue" if v.name == "input" else "tab:orange" if is_map else "tab:green"
        ax.add_patch(Rectangle((centre - w / 2, -h / 2), w, h, facecolor=colour, alpha=0.55, edgecolor="k", lw=0.6))
        size = f"{v.channels}@{v.height}×{v.width}" if is_map else f"{v.channels:,}"
        ax.text(centre, -1.75 - 0.32 * (i % 2), size, ha="center", va="top", fontsize=7)
        ax.text(centre, 1.62 + 0.3 * (i % 2), v.name, ha="center", va="bottom", fontsize=7, color="0.3")
        if i + 1 < len(vols):
            ax.annotate("", xy=(x + slot + 0.3, 0), xytext=(centre + w / 2 + 0.05, 0),
                        arrowprops=dict(arrowstyle="->", color="0.4", lw=0.8))
        x += slot + 0.35
    ax.set_xlim(-0.2, x)
    ax.set_ylim(-2.5, 2.4)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)


def plot_volumes(model: nn.Module, input_shape: Sequence[int], title: str = "",
                 names: Optional[Sequence[str]] = None) -> Figure:
    """Draw ``model`` as the sequence of its feature-map volumes, labelled 'channels@height×width' (LeCun's notation).

    The shapes come from ``summary.shape_table(model, input_shape)``; build big models on the meta device.
    ``names``: optional labels, one per conv, pool and linear layer (see ``volumes``).
    """
    vols = volumes(shape_table(model, tuple(input_shape)), input_shape, names)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.62 * len(vols) + 1.5), 2.8))
    _draw_volumes(ax, vols, title)
    return finish(fig)


def plot_parameters(rows: Sequence[LayerRow], title: str = "") -> Figure:
    """Parameters of every conv and linear layer of a ``shape_table`` (bars, conv blue, linear green)."""
    shown = [r for r in rows if r.type in ("Conv2d", "Linear") and r.parameters]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(shown) + 2), 3.2))
    colours = ["tab:blue" if r.type == "Conv2d" else "tab:green" for r in shown]
    ax.bar(range(len(shown)), [r.parameters / 1e6 for r in shown], color=colours)
    for i, r in enumerate(shown):
        ax.text(i, r.parameters / 1e6, f"{r.parameters / 1e6:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(shown)), [r.name for r in shown], rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="parameters (millions)", title=title or "parameters per layer (conv blue, fully connected green)")
    return finish(fig)


# ---------------------------------------------------------------- four blocks as diagrams


def _box(ax, x: float, y: float, text: str, colour: str = "tab:blue", w: float = 1.5, h: float = 0.42) -> None:
    ax.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, facecolor=colour, alpha=0.3, edgecolor="k", lw=0.7))
    ax.text(x, y, text, ha="center", va="center", fontsize=7.5)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], rad: float = 0.0, colour: str = "0.3",
           text: str = "") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, color=colour, lw=1.0,
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2 + (0.55 if rad else 0.08), (start[1] + end[1]) / 2, text,
                fontsize=7, color=colour, ha="left", va="center")


def _finish(ax, title: str, xlim: tuple[float, float] = (-1.3, 1.6)) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.5, 4.4)
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def plot_blocks() -> Figure:
    """Four building blocks, input at the bottom: plain (VGG), residual (ResNet), dense (DenseNet), Inception."""
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.8), gridspec_kw=dict(width_ratios=[1, 1.15, 1.25, 1.9]))
    ax = axes[0]                                                              # plain
    ys = [0, 1.1, 2.2, 3.3]
    for y, t in zip(ys, ["x", "3×3 conv, ReLU", "3×3 conv, ReLU", "H(x)"]):
        _box(ax, 0, y, t, "tab:gray" if t in ("x", "H(x)") else "tab:blue")
    for a, b in zip(ys, ys[1:]):
        _arrow(ax, (0, a + 0.21), (0, b - 0.21))
    _finish(ax, "plain (VGG): learn H(x)")

    ax = axes[1]                                                              # residual
    for y, t, c in [(0, "x", "tab:gray"), (1.1, "3×3 conv, BN, ReLU", "tab:blue"), (2.2, "3×3 conv, BN", "tab:blue"),
                    (3.3, "ReLU(F(x) + x)", "tab:gray")]:
        _box(ax, 0, y, t, c)
    ax.text(0, 2.85, "⊕", ha="center", va="center", fontsize=13)
    for a, b in [(0.21, 0.89), (1.31, 1.99), (2.41, 2.7), (3.0, 3.09)]:
        _arrow(ax, (0, a), (0, b))
    _arrow(ax, (0.76, 0.05), (0.12, 2.85), rad=0.45, colour="tab:red", text="identity x")
    _finish(ax, "residual (ResNet): learn F(x) = H(x) − x")

    ax = axes[2]                                                              # dense
    ys = [0, 1.1, 2.2, 3.3]
    names = ["x₀ (k₀ maps)", "layer 1 → k maps", "layer 2 → k maps", "concat: k₀ + 2k"]
    for y, t in zip(ys, names):
        _box(ax, -0.45, y, t, "tab:gray" if y in (0, 3.3) else "tab:green")
    for i, a in enumerate(ys):
        for b in ys[i + 1:]:
            _arrow(ax, (0.3, a + 0.05), (0.3, b - 0.05), rad=0.35, colour="tab:green")
    ax.text(1.0, 0.3, "every layer sees\nall earlier maps,\nconcatenated", fontsize=7, color="tab:green")
    _finish(ax, "dense (DenseNet): concatenate", xlim=(-1.3, 2.0))

    ax = axes[3]                                                              # Inception
    xs = [-1.65, -0.55, 0.55, 1.65]
    _box(ax, 0, 0, "previous layer", "tab:gray", w=2.4)
    _box(ax, 0, 3.3, "concatenate along channels", "tab:gray", w=3.6)
    first = ["1×1", "1×1 (reduce)", "1×1 (reduce)", "3×3 max pool"]
    second = [None, "3×3", "5×5", "1×1 (project)"]
    for x, f, s in zip(xs, first, second):
        _box(ax, x, 1.1, f, "tab:orange" if f.startswith("1×1") else "tab:blue", w=1.0)
        _arrow(ax, (x * 0.4, 0.21), (x, 0.89))
        if s is None:
            _arrow(ax, (x, 1.31), (x * 0.8, 3.09))
        else:
            _box(ax, x, 2.2, s, "tab:orange" if s.startswith("1×1") else "tab:blue", w=1.0)
            _arrow(ax, (x, 1.31), (x, 1.99))
            _arrow(ax, (x, 2.41), (x * 0.8, 3.09))
    _finish(ax, "Inception (GoogLeNet): parallel branches", xlim=(-2.3, 2.3))
    return finish(fig)


# ---------------------------------------------------------------- the layer-stack explorer (widget)


def build_stack(pattern: str = "CCP", repeats: int = 2, kernel_size: int = 3, stride: int = 1, padding: int = 1,
                channels: int = 16, in_channels: int = 3, double_after_pool: bool = True,
                device: str | torch.device = "meta") -> nn.Sequential:
    """A plain stack of layers: ``pattern`` repeated ``repeats`` times; C = Conv2d + ReLU, P = 2×2 max pool.

    Every conv is Conv2d(c_in, c, kernel_size, stride, padding); c starts at ``channels`` and doubles after
    each pool (VGG's rule: the smaller the maps, the more of them). Layers are named conv1, relu1, pool1, ...
    Built on the meta device by default: shapes and counts without memory or computation.
    (N, in_channels, H, W) -> (N, c_last, H', W').
    """
    if not pattern or set(pattern.upper()) - {"C", "P"}:
        raise ValueError(f"build_stack: pattern must be made of the letters C (conv + ReLU) and P (2x2 max pool), "
                         f"got {pattern!r}.")
    if repeats < 1:
        raise ValueError(f"build_stack: repeats must be at least 1, got {repeats}.")
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    c_in, c, n_conv, n_pool = in_channels, channels, 0, 0
    with torch.device(device):
        for _ in range(repeats):
            for letter in pattern.upper():
                if letter == "C":
                    n_conv += 1
                    layers[f"conv{n_conv}"] = nn.Conv2d(c_in, c, kernel_size, stride=stride, padding=padding)
                    layers[f"relu{n_conv}"] = nn.ReLU()
                    c_in = c
                else:
                    n_pool += 1
                    layers[f"pool{n_pool}"] = nn.MaxPool2d(2)
                    c = c * 2 if double_after_pool else c
        return nn.Sequential(layers)


def stack_sizes(model: nn.Sequential, input_size: int) -> list[tuple[str, int, str]]:
    """(layer name, output size, note) for every conv and pool of ``build_stack``'s model, by conv_arithmetic.

    The note says when torch floors a size that is not whole, e.g. '(28 - 3 + 2*1)/2 + 1 = 14.5, floored'.
    Raises conv_arithmetic's ValueError (which explains why) when a kernel no longer fits.
    """
    out, size = [], input_size
    for name, layer in model.named_children():
        if isinstance(layer, nn.Conv2d):
            k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            new = ca.conv_output_size(size, k, s, p, floor=True)
            exact = ca.exact_output_size(size, k, s, p)
            note = "" if exact == new else f"({size} - {k} + 2*{p})/{s} + 1 = {exact:g}, floored to {new}"
        elif isinstance(layer, nn.MaxPool2d):
            new = ca.pool_output_size(size, 2, floor=True)
            exact = ca.exact_output_size(size, 2, stride=2)
            note = "" if exact == new else f"({size} - 2)/2 + 1 = {exact:g}, floored to {new}"
        else:
            continue
        out.append((name, new, note))
        size = new
    return out


def _stack_summary(rows: Sequence[LayerRow], input_size: int) -> str:
    last = main_rows(rows)[-1]
    rf = last.receptive_field
    rf_text = "-" if rf is None else str(rf if isinstance(rf, int) else max(rf))
    sees_all = isinstance(rf, int) and rf >= input_size
    return (f"output {tuple(last.output_shape)}; {sum(r.parameters for r in rows):,} parameters; "
            f"{sum(r.macs for r in rows):,} multiply-adds per image; last receptive field {rf_text} pixels"
            + (" (sees the whole input)" if sees_all else f" (of {input_size})"))


def _stack_text(rows: Sequence[LayerRow], input_size: int, notes: Sequence[str]) -> str:
    """The layer table, the summary line and the sizes torch floors, as monospace text."""
    text = format_table(main_rows(rows)) + "\n" + _stack_summary(rows, input_size)
    if notes:
        text += "\nnot whole, torch floors:\n  " + "\n  ".join(notes)
    return text


def explore_stack(pattern: str = "CCP", repeats: int = 3, kernel_size: int = 3, stride: int = 1, padding: int = 1,
                  channels: int = 16, input_size: int = 32) -> Figure:
    """The widget's callback: build the stack, run ``shape_table`` on the meta device, and draw it.

    Panels: the volumes; receptive field after each conv/pool (against the input size); parameters and
    multiply-adds per layer (log scale); under them the layer table (shapes, parameters, multiply-adds,
    receptive field) and the sizes torch floors. The input has 3 channels. When a kernel does not fit, the
    figure shows conv_arithmetic's explanation instead. Returns the Figure.
    """
    try:
        model = build_stack(pattern, repeats, kernel_size, stride, padding, channels)
        notes = [f"{name}: {note}" for name, _, note in stack_sizes(model, input_size) if note]
    except ValueError as error:            # a bad pattern, or a kernel that no longer fits: say why
        fig, ax = plt.subplots(figsize=(9, 1.6))
        ax.axis("off")
        ax.text(0, 0.5, "This stack cannot be built:\n" + _wrap(str(error)), fontsize=9, va="center",
                color="tab:red", transform=ax.transAxes)
        plt.close(fig)
        return fig
    shape = (1, 3, input_size, input_size)
    rows = shape_table(model, shape)
    text = _stack_text(rows, input_size, notes)
    table = 0.13 * (text.count("\n") + 1)        # inches under the panels: 7.5-point monospace lines
    height = 5.6 + table
    fig = plt.figure(figsize=(11, height))
    # fixed margins (in inches) instead of tight_layout: that alone took longer than the rest of the callback
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.15], left=0.06, right=0.99, top=1 - 0.28 / height,
                            bottom=(table + 0.75) / height, hspace=0.25, wspace=0.18)
    title = (f"pattern {pattern!r} × {repeats}: {kernel_size}×{kernel_size} convs, stride {stride}, "
             f"padding {padding}; input {input_size}×{input_size}")
    _draw_volumes(fig.add_subplot(grid[0, :]), volumes(rows, shape), title)
    _draw_receptive_fields(fig.add_subplot(grid[1, 0]), main_rows(rows), input_size)
    _draw_costs(fig.add_subplot(grid[1, 1]), main_rows(rows))
    fig.text(0.06, (table + 0.1) / height, text, family="monospace", fontsize=7.5, va="top")
    plt.close(fig)
    return fig


def _draw_receptive_fields(ax, shown: Sequence[LayerRow], input_size: int) -> None:
    rf = [r.receptive_field if isinstance(r.receptive_field, int) else np.nan for r in shown]
    ax.plot(range(len(shown)), rf, "o-", color="tab:purple", label="receptive field")
    ax.axhline(input_size, ls="--", color="0.5", label=f"input size {input_size}")
    ax.set_xticks(range(len(shown)), [r.name for r in shown], rotation=60, fontsize=7)
    ax.set(ylabel="pixels", title="receptive field after each layer")
    ax.legend(fontsize=7)


def _draw_costs(ax, shown: Sequence[LayerRow]) -> None:
    x = np.arange(len(shown))
    ax.bar(x - 0.2, [max(r.parameters, 0.5) for r in shown], 0.4, label="parameters", color="tab:blue")
    ax.bar(x + 0.2, [max(r.macs, 0.5) for r in shown], 0.4, label="multiply-adds", color="tab:red")
    ax.set_yscale("log")
    ax.set_ylim(bottom=1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))   # plain numbers: no mathtext to lay out
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xticks(x, [r.name for r in shown], rotation=60, fontsize=7)
    ax.set(title="cost per layer (pools cost nothing)")
    ax.legend(fontsize=7)


def _wrap(text: str, width: int = 110) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


# ---------------------------------------------------------------- plain vs residual: a measured experiment


class PlainBlock(architectures.BasicBlock):
    """``architectures.BasicBlock`` without its skip connection: relu(BN(conv(relu(BN(conv(x)))))).

    Same layers, same parameter names, so with the same seed a plain and a residual network start from
    identical weights and differ only in the ``+ x``. (N, C, H, W) -> (N, C, H, W) for stride 1.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)))


def deep_digit_net(num_blocks: int = 9, residual: bool = True, channels: int = 16, seed: int = 0) -> nn.Sequential:
    """A deep, narrow digit classifier: (N, 1, 28, 28) -> (N, 10), 2 * num_blocks + 2 weight layers.

    stem: 3×3 conv (1 -> channels) + BN + ReLU at 28×28, 4×4 max pool -> 7×7;
    body: num_blocks blocks of two 3×3 convs (``architectures.BasicBlock``, or ``PlainBlock`` without the skip);
    head: global average pool -> Linear(channels, 10).   num_blocks = 9 gives 1 + 18 + 1 = 20 weight layers.
    Initialised by ``architectures.init_weights`` after ``torch.manual_seed(seed)``.
    """
    torch.manual_seed(seed)
    block = architectures.BasicBlock if residual else PlainBlock
    model = nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.MaxPool2d(4),
        *[block(channels, channels) for _ in range(num_blocks)],
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10),
    )
    return architectures.init_weights(model)


def weight_layers(model: nn.Module) -> int:
    """Number of conv and linear layers on the main path (projection shortcuts, 'downsample', not counted)."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) and "downsample" not in name
               for name, m in model.named_modules())


def train_deep_net(num_blocks: int, residual: bool, train: tuple[np.ndarray, np.ndarray],
                   val: Optional[tuple[np.ndarray, np.ndarray]] = None, epochs: int = 5, lr: float = 0.05,
                   batch_size: int = 64, seed: int = 0) -> History:
    """Train ``deep_digit_net(num_blocks, residual, seed=seed)`` with SGD (momentum 0.9) by ``training.fit``.

    train = (x (N, 1, 28, 28) float32, y (N,) int64). Returns fit's History (per-epoch loss and accuracy).
    """
    model = deep_digit_net(num_blocks, residual, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return fit(model, nn.CrossEntropyLoss(), optimizer, train, val=val, epochs=epochs, batch_size=batch_size,
               seed=seed, progress=False)


__all__ = [
    "ILSVRCEntry", "ILSVRC_RESULTS", "RESNET_TABLE", "SHAPE_LAYERS", "main_rows", "parameters_by_type",
    "plot_ilsvrc", "plot_resnet_table", "Volume", "volumes", "plot_volumes", "plot_parameters", "plot_blocks",
    "build_stack", "stack_sizes", "explore_stack",
    "PlainBlock", "deep_digit_net", "weight_layers", "train_deep_net",
]
