"""Notebook 11: networks whose output is an image. Its figures, widget callbacks and measurements.

The networks are ``models.conv_autoencoder``, ``dense_autoencoder``, ``super_resolution_net``, ``fcn``, ``unet``,
``encoder_decoder`` and ``dilated_net`` (trained copies: ``models.load_image_net``); the measures are
``course_lib.metrics``. This module runs them the way the notebook needs: over a whole split, as tables, as
pictures. Models may be scratch or torch; inputs are NumPy arrays.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .. import conv_arithmetic, data, metrics, training
from ..data import SCENE_CLASS_NAMES
from ..notebook import text_table  # noqa: F401  (the notebook calls lesson.text_table)
from ..parity import to_numpy
from ..plots import finish
from ..scratch import functional as sf

NUM_SCENE_CLASSES = len(SCENE_CLASS_NAMES)


def run(model, x: np.ndarray) -> np.ndarray:
    """The model's outputs for x as a NumPy float64 array (eval mode, in batches)."""
    return np.asarray(to_numpy(training.outputs(model, x, batch_size=250)), dtype=np.float64)


def task_figure(digits, noisy, low, scenes, label_maps) -> Figure:
    """The four tasks' inputs and targets: digits (k, 1, 28, 28) and their noisy and 14x14 versions, and scenes
    (m, 1, 64, 64) with their label maps (m, 64, 64)."""
    k, m = len(digits), len(scenes)
    panels = [(digits[i, 0], "digit") for i in range(k // 2)]
    panels += [(p, t) for i in range(k // 2, k) for p, t in ((noisy[i, 0], "noisy"), (digits[i, 0], "clean"))]
    panels += [(p, t) for i in range(k // 2) for p, t in ((low[i, 0], "14x14"), (digits[i, 0], "28x28"))]
    cols = len(panels) + 2 * m
    fig, axes = plt.subplots(1, cols, figsize=(1.1 * cols, 1.6))
    for ax, (image, title) in zip(axes, panels):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
    for j in range(m):
        axes[len(panels) + 2 * j].imshow(scenes[j, 0], cmap="gray", vmin=0, vmax=1)
        axes[len(panels) + 2 * j].set_title("scene", fontsize=8)
        _label_image(axes[len(panels) + 2 * j + 1], label_maps[j], "labels")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


# ------------------------------------------------------------------------------------------ transposed convolutions


def overlap_counts(up: str = "transpose", size: int = 5, kernel_size: int = 3) -> np.ndarray:
    """How many kernel taps reach each output pixel when a size x size map is doubled (all weights and inputs 1).

    up="transpose": ConvTranspose2d(kernel_size, stride=2, padding=1, output_padding=1), the conv autoencoder's
    decoder layer: each input pixel stamps a kernel_size x kernel_size kernel every 2 pixels, so with an odd
    kernel the stamps overlap unevenly (1, 2 or 4 taps for 3x3): the checkerboard. up="upsample": nearest
    Upsample(2) then Conv2d(kernel_size, padding=kernel_size // 2): every interior pixel gets all k^2 taps.
    Returns (2 size, 2 size) float64.
    """
    ones = np.ones((1, 1, size, size))
    kernel = np.ones((1, 1, kernel_size, kernel_size))
    if up == "transpose":
        return sf.conv_transpose2d(ones, kernel, stride=2, padding=1, output_padding=1)[0, 0]
    return sf.conv2d(sf.interpolate(ones, scale_factor=2), kernel, padding=kernel_size // 2)[0, 0]


def checkerboard(images: np.ndarray) -> np.ndarray:
    """The checkerboard in each image: the mean over its 2x2 blocks of |x00 - x01 - x10 + x11| / 4, (N,).

    That is the size of the +-1 pattern (+ - / - +) that a stride-2 up-sampling leaves in each block; a smooth
    image has almost none, a constant one exactly none. images: (N, 1, H, W) with H, W even.
    """
    x = np.asarray(images, dtype=np.float64)[:, 0]
    pattern = x[:, 0::2, 0::2] - x[:, 0::2, 1::2] - x[:, 1::2, 0::2] + x[:, 1::2, 1::2]
    return np.abs(pattern).mean(axis=(1, 2)) / 4


def overlap_figure() -> Figure:
    """The tap counts of both ways up, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    for ax, up in zip(axes, ("transpose", "upsample")):
        counts = overlap_counts(up)
        ax.imshow(counts, cmap="viridis", vmin=0, vmax=9)
        for (r, c), v in np.ndenumerate(counts):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=7, color="w" if v < 5 else "k")
        title = "ConvTranspose2d(3, stride 2)" if up == "transpose" else "Upsample(2) then Conv2d(3)"
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("kernel taps reaching each output pixel (all weights 1, a 5x5 input of ones)", fontsize=9)
    return finish(fig)


# ------------------------------------------------------------------------------------------ autoencoders


def code_layer_index(model) -> int:
    """Position of the layer named "code" in an autoencoder (the encoder is everything up to and including it)."""
    return [name for name, _ in model.named_children()].index("code")


def encode(model, x: np.ndarray) -> np.ndarray:
    """The codes of x: the autoencoder's layers up to "code", (N, bottleneck)."""
    return run(model[:code_layer_index(model) + 1], x)


def decode(model, codes: np.ndarray) -> np.ndarray:
    """Images from codes: the layers after "code", (N, 1, 28, 28)."""
    return run(model[code_layer_index(model) + 1:], codes)


def reconstruction_mse(model, x: np.ndarray) -> float:
    """Mean squared error of the autoencoder's reconstructions of x, over all pixels."""
    return float(np.mean((run(model, x) - x) ** 2))


def code_walk(model, a: np.ndarray, b: np.ndarray, steps: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """From digit a to digit b ((1, 28, 28) each): decoded (1 - t) code(a) + t code(b), and the pixel blend.

    Returns (through the code space, in pixel space), each (steps, 1, 28, 28), t = 0 .. 1.
    """
    t = np.linspace(0, 1, steps)[:, None]
    codes = encode(model, np.stack([a, b]))
    walked = decode(model, (1 - t) * codes[0] + t * codes[1])
    blended = (1 - t[:, :, None, None]) * a[None] + t[:, :, None, None] * b[None]
    return walked, blended


def rows_figure(rows: Sequence[np.ndarray], labels: Sequence[str], titles: Sequence[str] = ()) -> Figure:
    """Rows of 28x28 images (each (M, 1, 28, 28)), a label at the left of each row, optional column titles."""
    cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(1.1 * cols + 0.8, 1.15 * len(rows)), squeeze=False)
    for i, (row, label) in enumerate(zip(rows, labels)):
        for j in range(cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(row):
                ax.imshow(np.asarray(row[j]).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            else:
                ax.axis("off")
            if i == 0 and j < len(titles):
                ax.set_title(titles[j], fontsize=8)
        axes[i, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    return finish(fig)


def bottleneck_curve_figure(errors: Mapping[str, Mapping[int, float]]) -> Figure:
    """Validation MSE against bottleneck size, one line per kind of autoencoder."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for kind, by_size in errors.items():
        sizes = sorted(by_size)
        ax.plot(sizes, [by_size[b] for b in sizes], "o-", label=kind)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bottleneck (numbers in the code)")
    ax.set_ylabel("validation MSE per pixel")
    ax.set_title("a wider bottleneck reconstructs better", fontsize=10)
    ax.legend()
    return finish(fig)


def bottleneck_view(nets: Mapping[str, object], x: np.ndarray, bottleneck: int) -> Figure:
    """Widget: digits, and their reconstructions by the dense and the conv autoencoder with this bottleneck."""
    rows, labels = [x], ["digits"]
    for kind in ("dense", "conv"):
        net = nets[f"{kind}_b{bottleneck}"]
        rows.append(run(net, x))
        labels.append(f"{kind}\nMSE {reconstruction_mse(net, x):.4f}")
    return rows_figure(rows, labels)


# ------------------------------------------------------------------------------------------ denoising


def denoising_psnr(model, clean: np.ndarray, sigma: float, seed: int = 0) -> tuple[float, float]:
    """(mean PSNR of the noisy digits, of the network's denoised digits), both against the clean ones."""
    noisy = data.add_noise(clean, sigma, seed)
    return (float(metrics.psnr(noisy, clean).mean()), float(metrics.psnr(run(model, noisy), clean).mean()))


def noise_view(model, clean: np.ndarray, sigma: float, seed: int = 0) -> Figure:
    """Widget: clean digits, the same with noise sigma, and the denoiser's output, with mean PSNRs."""
    noisy = data.add_noise(clean, sigma, seed)
    out = run(model, noisy)
    labels = ["clean", f"noisy\n{metrics.psnr(noisy, clean).mean():.1f} dB",
              f"denoised\n{metrics.psnr(out, clean).mean():.1f} dB"]
    return rows_figure([clean, noisy, out], labels)


# ------------------------------------------------------------------------------------------ super-resolution

UPSAMPLING_MODES = ("nearest", "bilinear", "bicubic")


def upsampled(low: np.ndarray, mode: str) -> np.ndarray:
    """low (N, 1, h, w) doubled by torch's F.interpolate (align_corners=False for the smooth modes), clipped to
    0..1 (bicubic overshoots at edges)."""
    import torch
    import torch.nn.functional as F

    options = {} if mode == "nearest" else {"align_corners": False}
    up = F.interpolate(torch.from_numpy(np.asarray(low, dtype=np.float64)), scale_factor=2, mode=mode, **options)
    return up.clamp(0, 1).numpy()


def super_resolution_psnr(model, low: np.ndarray, high: np.ndarray) -> dict[str, float]:
    """Mean PSNR against the real 28x28 digits: each fixed up-sampling, and the learned network ("learned")."""
    scores = {mode: float(metrics.psnr(upsampled(low, mode), high).mean()) for mode in UPSAMPLING_MODES}
    scores["learned"] = float(metrics.psnr(run(model, low), high).mean())
    return scores


# ------------------------------------------------------------------------------------------ segmentation


def predict_labels(model, scenes: np.ndarray) -> np.ndarray:
    """Per-pixel classes (N, H, W): the argmax over the model's class scores."""
    return run(model, scenes).argmax(axis=1)


def per_class_iou(nets: Mapping[str, object], scenes: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """name -> IoU of each of the 11 scene classes (nan for a class in neither map), pooled over the scenes."""
    return {name: metrics.iou(predict_labels(net, scenes), labels, NUM_SCENE_CLASSES) for name, net in nets.items()}


def iou_rows(ious: Mapping[str, np.ndarray]) -> list[list]:
    """Table rows: the network, its mean IoU, then the IoU of each class, in percent."""
    return [[name, f"{np.nanmean(v):.1%}"] + [f"{x:.0%}" for x in v] for name, v in ious.items()]


IOU_HEADERS = ["network", "mean IoU"] + list(SCENE_CLASS_NAMES)


def receptive_field_sizes(dilations: Sequence[int]) -> list[int]:
    """Receptive field after each 3x3 convolution of a stack with these dilations (``conv_arithmetic``)."""
    return [rf.size for rf in conv_arithmetic.receptive_field([(3, 1, d) for d in dilations])]


# background black, digit d in the d-th colour of matplotlib's tab10
LABEL_COLOURS = ListedColormap(["black"] + list(plt.get_cmap("tab10").colors))


def _label_image(ax, labels: np.ndarray, title: str) -> None:
    ax.imshow(labels, cmap=LABEL_COLOURS, vmin=0, vmax=NUM_SCENE_CLASSES - 1, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def scene_view(nets: Mapping[str, object], scenes: np.ndarray, labels: np.ndarray, index: int,
               show_errors: bool = True) -> Figure:
    """Widget: one scene, its true label map, and each network's prediction with the fraction of the digits' pixels
    it labels right (one scene's mean IoU would be dragged down by every stray pixel of an absent class), and
    beneath it the wrong pixels in red."""
    scene, truth = scenes[index:index + 1], labels[index]
    fig, axes = plt.subplots(2 if show_errors else 1, 2 + len(nets), figsize=(1.9 * (2 + len(nets)),
                                                                            3.9 if show_errors else 2.1),
                             squeeze=False)
    axes[0, 0].imshow(scene[0, 0], cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("scene", fontsize=8)
    _label_image(axes[0, 1], truth, "true labels")
    for k, (name, net) in enumerate(nets.items(), 2):
        predicted = predict_labels(net, scene)[0]
        digits_right = np.mean(predicted[truth > 0] == truth[truth > 0])
        _label_image(axes[0, k], predicted, f"{name}\n{digits_right:.0%} of digit pixels")
        if show_errors:
            axes[1, k].imshow(predicted != truth, cmap="Reds", vmin=0, vmax=1)
            axes[1, k].set_title(f"{np.mean(predicted != truth):.1%} wrong", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if show_errors:
        axes[1, 0].axis("off")
        axes[1, 1].axis("off")
    return finish(fig)
