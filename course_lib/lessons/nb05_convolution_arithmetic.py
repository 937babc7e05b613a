"""Pictures of convolution arithmetic for notebook 05: frame strips, the volume demo, the widget's callback.

    from course_lib.lessons import nb05_convolution_arithmetic as cv
    cv.frame_strip(5, 3, stride=2, padding=1)            # a row of panels: padded input, window, output cell
    cv.transposed_frame_strip(2, 3, stride=2)            # a transposed convolution as a direct one
    cv.explore_conv(W=7, F=3, P=0, S=1, D=2, step=0)     # the widget's callback: a Figure, arithmetic on top

Every size comes from ``course_lib.conv_arithmetic`` and every convolution from
``course_lib.scratch.functional``, so a picture can never disagree with the numbers.

A drawn input grid has cells of three kinds: ``INPUT`` (a real pixel, blue), ``PADDING`` (a zero added
around the input, grey) and ``INSERTED`` (a zero put between two pixels, sand: the stretched input of a
transposed convolution). Cells that no window ever reads (when the stride does not fit) are drawn red.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from .. import conv_arithmetic as ca
from ..plots import animation_html, finish, image_grid
from ..scratch import functional as sf
from ..scratch.functional import im2col

INPUT, PADDING, INSERTED = 0, 1, 2

_KIND_COLOURS = {INPUT: (0.81, 0.89, 0.95), PADDING: (0.86, 0.86, 0.86), INSERTED: (0.96, 0.89, 0.76)}
_UNREAD = (0.96, 0.75, 0.75)
_TAP = np.array((0.17, 0.42, 0.72))
_DONE, _CURRENT = (0.85, 0.92, 0.83), (0.42, 0.66, 0.31)
_GAP = 1.6          # grid cells between the input grid and the output grid of a panel


# ---------------------------------------------------------------- geometry


@dataclass
class ConvFrames:
    """What one frame strip draws: the (padded) input grid and, per output cell, the grid cells it reads.

    kinds:  (G, G) ints, INPUT / PADDING / INSERTED, the grid the kernel slides over (G = W + 2P for a
            convolution; (W - 1)S + 1 + 2(F - 1 - P) for a transposed one drawn as a direct convolution)
    taps:   one (F*F, 2) int array per output cell, row-major over the O x O output: the (row, col) of the
            grid cells multiplied by the kernel's F x F weights
    """
    kinds: np.ndarray
    out_size: int
    taps: list
    caption: str

    @property
    def n_frames(self) -> int:
        """O * O: one frame per output cell."""
        return self.out_size ** 2

    def read(self) -> np.ndarray:
        """(G, G) bool: True where at least one window reads the cell."""
        seen = np.zeros(self.kinds.shape, dtype=bool)
        for t in self.taps:
            seen[t[:, 0], t[:, 1]] = True
        return seen


def _taps(out_size: int, kernel_size: int, stride: int, dilation: int) -> list:
    """Window (i, j) reads grid cells (S i + D u, S j + D v) for u, v = 0..F-1."""
    u, v = np.meshgrid(np.arange(kernel_size), np.arange(kernel_size), indexing="ij")
    offsets = np.stack([u.ravel(), v.ravel()], axis=1) * dilation
    return [offsets + stride * np.array([i, j]) for i in range(out_size) for j in range(out_size)]


def conv_frames(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> ConvFrames:
    """Geometry of a square convolution: W x W input, F x F kernel, padding P, stride S, dilation D.

    O = conv_output_size(W, F, S, P, D, floor=True) (torch's floor when the division is not whole).
    Raises conv_arithmetic's ValueError when the kernel does not fit in the padded input.
    """
    out = ca.conv_output_size(size, kernel_size, stride, padding, dilation, floor=True)
    grid = size + 2 * padding
    kinds = np.full((grid, grid), PADDING)
    kinds[padding:padding + size, padding:padding + size] = INPUT
    caption = f"W = {size}, F = {kernel_size}, P = {padding}, S = {stride}"
    caption += f", D = {dilation}" if dilation > 1 else ""
    caption += f"   ->   O = {out}"
    notes = [] if out == ca.exact_output_size(size, kernel_size, stride, padding, dilation) else ["floored"]
    frames = ConvFrames(kinds, out, _taps(out, kernel_size, stride, dilation), caption)
    if not frames.read().all():
        notes.append("red cells are never read")
    frames.caption += f" ({'; '.join(notes)})" if notes else ""
    return frames


def transposed_frames(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> ConvFrames:
    """A transposed convolution (W, F, S, P) drawn as the direct convolution it equals (Dumoulin & Visin):

    put S - 1 zeros between neighbouring input pixels ((W - 1)S + 1 cells), pad F - 1 - P zeros on each
    side, and slide the (flipped) F x F kernel with stride 1. The output has
    O = conv_transpose_output_size(W, F, S, P) = (W - 1)S - 2P + F cells per side.
    Needs P <= F - 1 (more padding crops the output instead: there is nothing left to pad).
    """
    out = ca.conv_transpose_output_size(size, kernel_size, stride, padding)
    pad = kernel_size - 1 - padding
    if pad < 0:
        raise ValueError(f"transposed_frames: padding={padding} > kernel_size - 1 = {kernel_size - 1}: the "
                         f"equivalent direct convolution would need negative padding (it crops), "
                         f"which cannot be drawn as a grid.")
    stretched = (size - 1) * stride + 1
    grid = stretched + 2 * pad
    kinds = np.full((grid, grid), PADDING)
    kinds[pad:pad + stretched, pad:pad + stretched] = INSERTED
    pixels = pad + stride * np.arange(size)
    kinds[np.ix_(pixels, pixels)] = INPUT
    caption = (f"transposed: W = {size}, F = {kernel_size}, S = {stride}, P = {padding}   ->   O = {out}"
               f"   (as a stride-1 convolution over the stretched input, padded by F - 1 - P = {pad})")
    return ConvFrames(kinds, out, _taps(out, kernel_size, 1, 1), caption)


def default_steps(n_frames: int, max_frames: int = 4) -> list[int]:
    """All frames if they fit, else the first max_frames - 1 and the last one."""
    if n_frames <= max_frames:
        return list(range(n_frames))
    return list(range(max_frames - 1)) + [n_frames - 1]


# ---------------------------------------------------------------- drawing


def _grid_lines(ax, x0: float, y0: float, n: int, colour: str = "white") -> None:
    edges = np.arange(n + 1)
    ax.vlines(x0 + edges, y0, y0 + n, colors=colour, linewidth=0.8)
    ax.hlines(y0 + edges, x0, x0 + n, colors=colour, linewidth=0.8)


def _cell_texts(ax, x0: float, y0: float, values: np.ndarray, mask: np.ndarray, fmt: str,
                size: float, colour: str = "black", dx: float = 0.5, dy: float = 0.5) -> None:
    for r, c in zip(*np.nonzero(mask)):
        ax.text(x0 + c + dx, y0 + r + dy, format(values[r, c], fmt), ha="center", va="center",
                fontsize=size, color=colour)


def _fmt(values: np.ndarray) -> str:
    return "g" if np.allclose(values, np.round(values)) else ".1f"


def draw_frame(ax, frames: ConvFrames, step: int, image: Optional[np.ndarray] = None,
               kernel: Optional[np.ndarray] = None, out_values: Optional[np.ndarray] = None) -> None:
    """Draw frame ``step`` of ``frames`` on ``ax``: the grid with the window's cells, and the output grid.

    image (W, W): numbers written in the INPUT cells (zeros in the others); kernel (F, F): "xk" written
    in the cells the window reads; out_values (O, O): the output numbers computed so far.
    """
    kinds, out, g = frames.kinds, frames.out_size, frames.kinds.shape[0]
    step = int(step) % frames.n_frames
    taps = frames.taps[step]
    colours = np.array([_KIND_COLOURS[k] for k in kinds.ravel()]).reshape(g, g, 3)
    colours[~frames.read()] = _UNREAD
    colours[taps[:, 0], taps[:, 1]] = 0.35 * colours[taps[:, 0], taps[:, 1]] + 0.65 * _TAP
    ax.imshow(colours, extent=(0, g, g, 0), interpolation="nearest")
    _grid_lines(ax, 0, 0, g)
    top, left = taps.min(axis=0)
    bottom, right = taps.max(axis=0) + 1
    ax.add_patch(plt.Rectangle((left, top), right - left, bottom - top, fill=False, edgecolor=_TAP * 0.6,
                               linewidth=2))
    small = max(5.0, 9.0 - 0.25 * g)
    if image is not None:
        full = np.zeros((g, g))
        inside = kinds == INPUT
        full[inside] = np.asarray(image, dtype=float).ravel()
        _cell_texts(ax, 0, 0, full, inside, _fmt(full), small)
        _cell_texts(ax, 0, 0, full, ~inside, _fmt(full), small, colour="0.55")
    if kernel is not None:
        k = np.asarray(kernel, dtype=float).ravel()
        for (r, c), w in zip(taps, k):
            ax.text(c + 0.92, r + 0.92, f"×{w:{_fmt(k)}}", ha="right", va="bottom", fontsize=small * 0.7,
                    color="white")
    # the output grid, to the right, centred vertically
    x0, y0 = g + _GAP, (g - out) / 2
    i, j = divmod(step, out)
    out_colours = np.ones((out, out, 3))
    done = (np.arange(out * out) < step).reshape(out, out)
    out_colours[done] = _DONE
    out_colours[i, j] = _CURRENT
    ax.imshow(out_colours, extent=(x0, x0 + out, y0 + out, y0), interpolation="nearest")
    _grid_lines(ax, x0, y0, out, colour="0.6")
    if out_values is not None:
        shown = done.copy()
        shown[i, j] = True
        _cell_texts(ax, x0, y0, np.asarray(out_values), shown, _fmt(np.asarray(out_values)), small)
    ax.annotate("", xy=(x0 + j + 0.1, y0 + i + 0.5), xytext=(right, (top + bottom) / 2),
                arrowprops=dict(arrowstyle="->", color=_TAP * 0.6, lw=1.0, alpha=0.6, shrinkA=0, shrinkB=0))
    ax.set_xlim(-0.2, x0 + out + 0.2)
    ax.set_ylim(max(g, y0 + out) + 0.2, min(0, y0) - 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"output ({i}, {j})", fontsize=9)


def _panel_size(frames: ConvFrames) -> tuple[float, float]:
    g, out = frames.kinds.shape[0], frames.out_size
    scale = 0.24 if g <= 12 else 2.9 / g
    return max(1.8, scale * (g + _GAP + out + 0.4)), max(1.4, scale * g + 0.5)


def _strip(frames: ConvFrames, steps: Optional[Sequence[int]], max_frames: int, title: Optional[str],
           image=None, kernel=None, out_values=None) -> Figure:
    steps = default_steps(frames.n_frames, max_frames) if steps is None else list(steps)
    width, height = _panel_size(frames)
    fig, axes = plt.subplots(1, len(steps), figsize=(width * len(steps), height + 0.35), squeeze=False)
    for ax, step in zip(axes[0], steps):
        draw_frame(ax, frames, step, image, kernel, out_values)
    fig.suptitle(title or frames.caption, fontsize=10)
    return finish(fig)


def frame_strip(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1, *,
                steps: Optional[Sequence[int]] = None, max_frames: int = 4, image: Optional[np.ndarray] = None,
                kernel: Optional[np.ndarray] = None, title: Optional[str] = None) -> Figure:
    """A row of panels, one per output cell in ``steps``: the W x W input (padding grey), the F x F window
    (dilated by D, moved by S) and the O x O output with the cell being computed in dark green.

    With ``image`` (W, W) and ``kernel`` (F, F) the numbers are written in and the outputs are computed with
    ``scratch.functional.conv2d`` (cross-correlation, as in every library). Default steps: the first
    ``max_frames - 1`` positions and the last one.
    """
    frames = conv_frames(size, kernel_size, stride, padding, dilation)
    out_values = None
    if image is not None and kernel is not None:
        out_values = sf.conv2d(np.asarray(image, float)[None, None], np.asarray(kernel, float)[None, None],
                              stride=stride, padding=padding, dilation=dilation)[0, 0]
    return _strip(frames, steps, max_frames, title, image, kernel, out_values)


def transposed_frame_strip(size: int, kernel_size: int, stride: int = 1, padding: int = 0, *,
                           steps: Optional[Sequence[int]] = None, max_frames: int = 4,
                           title: Optional[str] = None) -> Figure:
    """Frame strip of a transposed convolution, drawn as a stride-1 convolution over the input with S - 1
    zeros inserted between pixels (sand) and F - 1 - P zeros of padding (grey); see ``transposed_frames``."""
    return _strip(transposed_frames(size, kernel_size, stride, padding), steps, max_frames, title)


def animate_conv(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                 interval: int = 700) -> FuncAnimation:
    """The frame strip as an animation, one frame per output cell (``conv_animation_html`` is the one a notebook
    shows). The figure is closed so that it is not drawn twice."""
    frames = conv_frames(size, kernel_size, stride, padding, dilation)
    width, height = _panel_size(frames)
    fig, ax = plt.subplots(figsize=(1.4 * width, 1.4 * height))
    fig.suptitle(frames.caption, fontsize=9)

    def update(step: int):
        ax.clear()
        draw_frame(ax, frames, step)
        return []

    anim = FuncAnimation(fig, update, frames=frames.n_frames, interval=interval, blit=False)
    plt.close(fig)
    return anim


def conv_animation_html(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                        interval: int = 700) -> str:
    """``animate_conv``'s animation as an HTML player that needs no network: ``HTML(conv_animation_html(7, 3))``."""
    return animation_html(animate_conv(size, kernel_size, stride, padding, dilation, interval))


# ---------------------------------------------------------------- the widget


def arithmetic_text(W: int, F: int, P: int = 0, S: int = 1, D: int = 1) -> str:
    """The output-size arithmetic written out, from ``conv_arithmetic``.

    Whole:      'O = (W - F + 2P)/S + 1 = (5 - 3 + 2*1)/2 + 1 = 3'
    Not whole:  conv_output_size's ValueError text, then 'torch.nn.Conv2d gives O = 14 (floored) ...'
    No fit:     the ValueError text alone (the kernel does not fit in the padded input).
    """
    f_eff = ca.effective_kernel_size(F, D)
    try:
        out = ca.conv_output_size(W, F, S, P, D)
    except ValueError as error:
        try:
            floored = ca.conv_output_size(W, F, S, P, D, floor=True)
        except ValueError:
            return str(error)
        return f"{error}\n=> torch.nn.Conv2d gives O = {floored} (floored): the output is {floored} x {floored}."
    if D == 1:
        return f"O = (W - F + 2P)/S + 1 = ({W} - {F} + 2*{P})/{S} + 1 = {out}"
    return (f"F_eff = D(F - 1) + 1 = {D}*({F} - 1) + 1 = {f_eff};  "
            f"O = (W - F_eff + 2P)/S + 1 = ({W} - {f_eff} + 2*{P})/{S} + 1 = {out}")


def explore_conv(W: int = 5, F: int = 3, P: int = 0, S: int = 1, D: int = 1, step: int = 0) -> Figure:
    """Callback of the notebook's sliders: one big frame (output cell number ``step``, wrapped modulo O*O)
    under the output-size arithmetic (``arithmetic_text``, as the suptitle). When the kernel does not fit,
    the padded input alone under the reason. Returns the Figure."""
    arithmetic = "\n".join(textwrap.fill(line, 100) for line in arithmetic_text(W, F, P, S, D).splitlines())
    try:
        frames = conv_frames(W, F, S, P, D)
    except ValueError:
        g = W + 2 * P
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        kinds = np.full((g, g), PADDING)
        kinds[P:P + W, P:P + W] = INPUT
        ax.imshow(np.array([_KIND_COLOURS[k] for k in kinds.ravel()]).reshape(g, g, 3), extent=(0, g, g, 0))
        _grid_lines(ax, 0, 0, g)
        ax.axis("off")
        ax.set_title("the kernel does not fit", fontsize=9)
    else:
        width, height = _panel_size(frames)
        fig, ax = plt.subplots(figsize=(max(6.5, 1.5 * width), max(4.0, 1.5 * height + 0.8)))
        draw_frame(ax, frames, step)
        i, j = divmod(int(step) % frames.n_frames, frames.out_size)
        ax.set_title(f"{frames.caption}\nstep {int(step) % frames.n_frames + 1} of {frames.n_frames}: "
                     f"output ({i}, {j})", fontsize=9)
    fig.suptitle(arithmetic, fontsize=8.5)
    return finish(fig)


# ---------------------------------------------------------------- other pictures


def _number_grid(ax, values: np.ndarray, title: str, highlight: Optional[np.ndarray] = None,
                 padding: int = 0, highlight_colour=_TAP, fontsize: float = 8, view: Optional[int] = None) -> None:
    """A grid of numbers; padding rows/columns grey, ``highlight`` (bool mask) tinted.
    ``view``: show a view x view area centred on the grid, so that grids of different sizes drawn in
    equally large axes have equally large cells."""
    values = np.asarray(values, dtype=float)
    h, w = values.shape
    colours = np.ones((h, w, 3))
    if padding:
        colours[:] = _KIND_COLOURS[PADDING]
        colours[padding:h - padding, padding:w - padding] = _KIND_COLOURS[INPUT]
    if highlight is not None:
        colours[highlight] = 0.4 * colours[highlight] + 0.6 * np.asarray(highlight_colour)
    ax.imshow(colours, extent=(0, w, h, 0), interpolation="nearest")
    ax.vlines(np.arange(w + 1), 0, h, colors="0.7", linewidth=0.8)
    ax.hlines(np.arange(h + 1), 0, w, colors="0.7", linewidth=0.8)
    _cell_texts(ax, 0, 0, values, np.ones(values.shape, bool), _fmt(values), fontsize)
    margin_x, margin_y = (0.0, 0.0) if view is None else ((view - w) / 2, (view - h) / 2)
    ax.set_xlim(-margin_x, w + margin_x)
    ax.set_ylim(h + margin_y, -margin_y)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(view is None)
    ax.set_title(title, fontsize=9)


def plot_multichannel(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 2, padding: int = 1,
                      position: tuple[int, int] = (0, 0)) -> Figure:
    """The CS231n demo as a figure: x (C, H, W), weight (C_out, C, F, F), bias (C_out,).

    Column 0: each input channel, padded (grey), with the window of output ``position`` tinted; then one
    column per filter (its C slices, bias underneath); last column: the output maps (C_out, O, O) from
    scratch.functional.conv2d, with output ``position`` tinted in every map.
    """
    x, weight, bias = (np.asarray(a, dtype=float) for a in (x, weight, bias))
    c_in, c_out, k = x.shape[0], weight.shape[0], weight.shape[-1]
    out = sf.conv2d(x[None], weight, bias, stride=stride, padding=padding)[0]
    x_pad = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    rows = max(c_in, c_out)
    view = x_pad.shape[-1]                       # every panel as wide as the padded input: equal cells
    fig, axes = plt.subplots(rows, c_out + 2, figsize=(2.3 * (c_out + 2), 2.3 * rows))
    i, j = position
    window = np.zeros(x_pad.shape[1:], bool)
    window[stride * i:stride * i + k, stride * j:stride * j + k] = True
    cell = np.zeros(out.shape[1:], bool)
    cell[i, j] = True
    for r in range(rows):
        for ax in axes[r]:
            ax.axis("off")
    for c in range(c_in):
        axes[c, 0].axis("on")
        _number_grid(axes[c, 0], x_pad[c], f"input channel {c} (padded)", window, padding, view=view)
        for o in range(c_out):
            axes[c, 1 + o].axis("on")
            _number_grid(axes[c, 1 + o], weight[o, c], f"filter w{o}, channel {c}", view=view)
            if c == c_in - 1:
                axes[c, 1 + o].set_xlabel(f"bias b{o} = {bias[o]:g}", fontsize=9)
    for o in range(c_out):
        axes[o, -1].axis("on")
        _number_grid(axes[o, -1], out[o], f"output map {o}", cell, highlight_colour=_CURRENT, view=view)
    fig.suptitle(f"{c_in} input channels (+ padding {padding}), {c_out} filters of {c_in}x{k}x{k}, "
                 f"stride {stride}  ->  output {c_out} x {out.shape[1]} x {out.shape[2]}", fontsize=10)
    return finish(fig)


def plot_connectivity(n_inputs: int = 7, kernel_size: int = 3) -> Figure:
    """Three ways to connect a row of inputs to the n_inputs - F + 1 outputs of a 1-D layer.

    Fully connected (every pair its own weight), locally connected (F neighbours, each line its own
    weight) and convolution (F neighbours, the same F weights everywhere: one colour per weight).
    The weight counts come from conv_arithmetic (no biases).
    """
    n_out = ca.conv_output_size(n_inputs, kernel_size)
    counts = (ca.linear_params(n_inputs, n_out, bias=False),
              ca.locally_connected_params(1, 1, (1, kernel_size), (1, n_out), bias=False),
              ca.conv_params(1, 1, (1, kernel_size), bias=False))
    titles = (f"fully connected: {counts[0]} weights", f"locally connected: {counts[1]} weights",
              f"convolution (shared): {counts[2]} weights")
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.8))
    x_in = np.arange(n_inputs)
    x_out = np.arange(n_out) + (kernel_size - 1) / 2
    many = plt.get_cmap("tab20")
    shared = plt.get_cmap("Set1")
    for panel, (ax, title) in enumerate(zip(axes, titles)):
        line = 0
        for o in range(n_out):
            sources = range(n_inputs) if panel == 0 else range(o, o + kernel_size)
            for s in sources:
                colour = shared(s - o) if panel == 2 else many(line % 20)
                ax.plot([x_in[s], x_out[o]], [0, 1], color=colour, lw=1.6 if panel else 0.9,
                        alpha=0.9 if panel else 0.6)
                line += 1
        ax.scatter(x_in, np.zeros(n_inputs), s=90, color="0.3", zorder=3)
        ax.scatter(x_out, np.ones(n_out), s=90, color=_CURRENT, zorder=3)
        ax.set_title(title, fontsize=10)
        ax.set_ylim(-0.25, 1.25)
        ax.axis("off")
    axes[0].text(-0.6, 0, "input", ha="right", va="center", fontsize=9)
    axes[0].text(-0.6, 1, "output", ha="right", va="center", fontsize=9)
    return finish(fig)


def plot_images(images: Sequence[np.ndarray], titles: Optional[Sequence[str]] = None, cols: Optional[int] = None,
                cmap: str = "gray", symmetric: bool = False, size: float = 2.2,
                suptitle: Optional[str] = None) -> Figure:
    """A grid of 2-D arrays (images, feature maps, filters), all in one row unless ``cols`` says otherwise:
    ``plots.image_grid`` with ``size``-inch panels. symmetric=True: a red-blue map centred on 0 (positive red,
    negative blue), each panel scaled to its own largest magnitude. Returns the Figure (closed)."""
    return image_grid(images, titles, cols=cols or len(images), cmap=cmap, symmetric=symmetric, size=size,
                      title=suptitle)


def plot_im2col(x: np.ndarray, kernel_size: int) -> Figure:
    """im2col on one small single-channel image x (H, W): the image with its numbers, and the matrix
    ``scratch.functional.im2col`` builds, whose column c is window c flattened ((F*F, O*O); stride 1, no
    padding). A convolution is then one matrix product: kernel.ravel() @ matrix."""
    x = np.asarray(x, dtype=float)
    out = ca.conv_output_shape(x.shape, kernel_size)
    cols = im2col(x[None, None], (kernel_size, kernel_size), (1, 1), (1, 1), out)   # one column per window
    fig, (a, b) = plt.subplots(1, 2, figsize=(3.2 + 0.45 * cols.shape[1], max(2.6, 0.34 * cols.shape[0] + 0.8)),
                               gridspec_kw=dict(width_ratios=[x.shape[1], cols.shape[1]]))
    first = np.zeros(x.shape, bool)
    first[:kernel_size, :kernel_size] = True
    _number_grid(a, x, f"image {x.shape[0]}x{x.shape[1]} (first window tinted)", first)
    column0 = np.zeros(cols.shape, bool)
    column0[:, 0] = True
    _number_grid(b, cols, f"im2col: {cols.shape[0]} pixels x {cols.shape[1]} windows", column0)
    b.set_xticks(np.arange(cols.shape[1]) + 0.5)
    b.set_xticklabels([f"({r}, {c})" for r in range(out[0]) for c in range(out[1])], fontsize=7)
    b.set_xlabel("window (output cell)", fontsize=8)
    return finish(fig)


def plot_speed(seconds: dict[str, float]) -> Figure:
    """Bar chart of run times (log scale), each bar labelled with its time and how many times the fastest."""
    names, times = list(seconds), np.array(list(seconds.values()), dtype=float)
    fastest = times.min()
    fig, ax = plt.subplots(figsize=(7, 3))
    bars = ax.bar(names, times * 1e3, color=["#cc4125", "#3d85c6", "#6aa84f", "#8e7cc3"][:len(names)])
    ax.set_yscale("log")
    ax.set_ylabel("milliseconds per call (log scale)")
    for bar, t in zip(bars, times):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{t * 1e3:.3g} ms\n×{t / fastest:,.0f}",
                ha="center", va="bottom", fontsize=9)
    ax.set_ylim(top=times.max() * 1e3 * 20)
    ax.set_title("same convolution, three implementations (×: times the fastest)", fontsize=10)
    return finish(fig)


def load_grace_hopper(downsample: int = 2) -> np.ndarray:
    """matplotlib's bundled photograph of Grace Hopper as a grayscale float64 image in [0, 1].

    Luminance 0.299 R + 0.587 G + 0.114 B, then every downsample x downsample block averaged
    (600 x 512 -> 300 x 256 with the default 2). No network needed: the file ships with matplotlib.
    """
    from matplotlib import cbook

    rgb = plt.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).astype(np.float64) / 255.0
    gray = rgb[..., :3] @ np.array([0.299, 0.587, 0.114])
    h, w = (s - s % downsample for s in gray.shape)
    return gray[:h, :w].reshape(h // downsample, downsample, w // downsample, downsample).mean(axis=(1, 3))


__all__ = [
    "INPUT", "PADDING", "INSERTED", "ConvFrames", "conv_frames", "transposed_frames", "default_steps",
    "draw_frame", "frame_strip", "transposed_frame_strip", "animate_conv", "conv_animation_html",
    "arithmetic_text",
    "explore_conv", "plot_multichannel", "plot_connectivity", "plot_images",
    "plot_im2col", "plot_speed", "load_grace_hopper",
]
