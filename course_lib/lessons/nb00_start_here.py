"""A first look at the digits: counts, mean images, a nearest-mean classifier, pixel values, a digit browser.

Images are uint8 arrays (N, 28, 28) with values 0 (background) .. 255 (ink); labels are
int arrays (N,) with values 0..9, as ``course_lib.data.load_mnist`` returns them.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..plots import finish, image_grid

N_CLASSES = 10


def class_counts(labels: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """How many examples of each class: counts[c] = #{i : labels[i] == c}, shape (n_classes,)."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}, got values from {labels.min()} to {labels.max()}.")
    return np.bincount(labels.astype(np.int64), minlength=n_classes)


def mean_images(images: np.ndarray, labels: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """The average image of each class: means[c] = mean of images[labels == c].

    images (N, H, W), labels (N,) -> float64 (n_classes, H, W). A class with no
    examples raises ValueError (its mean is undefined).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    counts = class_counts(labels, n_classes)
    if (counts == 0).any():
        raise ValueError(f"no examples of class(es) {np.flatnonzero(counts == 0).tolist()}: their mean image is undefined.")
    return np.stack([images[labels == c].mean(axis=0, dtype=np.float64) for c in range(n_classes)])


def nearest_mean_predict(means: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Classify each image as the class whose mean image is nearest, pixel by pixel.

    prediction[i] = argmin_c ||x_i - m_c||^2 = argmin_c (||m_c||^2 - 2 x_i . m_c)   (||x_i||^2 is the same for all c)
    means (C, H, W), e.g. from ``mean_images``; images (N, H, W), any number type -> int64 (N,).
    """
    means, images = np.asarray(means, dtype=np.float64), np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != means.shape[1:]:
        raise ValueError(f"nearest_mean_predict: images must be (N, {means.shape[1]}, {means.shape[2]}) like the "
                         f"means {means.shape}, got {images.shape}.")
    m = means.reshape(len(means), -1)
    x = images.reshape(len(images), -1).astype(np.float64)
    return np.argmin((m ** 2).sum(axis=1) - 2.0 * x @ m.T, axis=1)


def nth_of_digit(labels: np.ndarray, digit: int, index: int) -> int:
    """Position in the data set of the ``index``-th example (counting from 0) of ``digit``."""
    positions = np.flatnonzero(np.asarray(labels) == digit)
    if not 0 <= index < len(positions):
        raise IndexError(f"there are {len(positions)} examples of the digit {digit}; "
                         f"index must be in 0..{len(positions) - 1}, got {index}.")
    return int(positions[index])


def pixel_table(image: np.ndarray, top: int = 0, left: int = 0, height: int = 28, width: int = 28) -> str:
    """The pixel values of image[top:top+height, left:left+width] as text, rows and columns numbered."""
    crop = np.asarray(image)[top:top + height, left:left + width]
    header = "     " + "".join(f"{c:>4}" for c in range(left, left + crop.shape[1]))
    lines = [header] + [f"{r:>3} |" + "".join(f"{v:>4}" for v in row) for r, row in zip(range(top, top + len(crop)), crop)]
    return "\n".join(lines)


def browse_digit(images: np.ndarray, labels: np.ndarray, digit: int = 3, index: int = 0,
                 show_values: bool = True) -> Figure:
    """Figure: the ``index``-th example of ``digit`` as a picture (left) and its pixel values (right).

    The right panel is a heat-map of the 28 x 28 numbers, each ink pixel (value > 0)
    labelled with its value 0..255. Returns the matplotlib Figure.
    """
    i = nth_of_digit(labels, digit, index)
    image = np.asarray(images[i])
    fig, (ax_img, ax_map) = plt.subplots(1, 2, figsize=(12, 5.6), gridspec_kw={"width_ratios": [1, 1.3]})
    ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=255)
    ax_img.set_title(f"digit {digit}, example {index} (image #{i})")
    ax_img.axis("off")
    heat = ax_map.imshow(image, cmap="viridis", vmin=0, vmax=255)
    if show_values:
        for (r, c) in np.argwhere(image > 0):
            value = int(image[r, c])
            ax_map.text(c, r, str(value), ha="center", va="center", fontsize=5.5,
                        color="black" if value > 150 else "white")
    ax_map.set_title(f"the same image as 28 x 28 numbers ({int((image > 0).sum())} ink pixels)")
    ax_map.set(xlabel="column", ylabel="row")
    fig.colorbar(heat, ax=ax_map, fraction=0.046, label="pixel value")
    return finish(fig)


def plot_class_counts(train_labels: np.ndarray, test_labels: np.ndarray) -> Figure:
    """Bar chart of the examples per digit in the training and test splits. Returns the Figure."""
    train, test = class_counts(train_labels), class_counts(test_labels)
    x = np.arange(N_CLASSES)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(x - 0.2, train, width=0.4, label=f"train ({train.sum()})")
    ax.bar(x + 0.2, test, width=0.4, label=f"test ({test.sum()})")
    for xi, (a, b) in enumerate(zip(train, test)):
        ax.text(xi - 0.2, a, str(a), ha="center", va="bottom", fontsize=7)
        ax.text(xi + 0.2, b, str(b), ha="center", va="bottom", fontsize=7)
    ax.set(xticks=x, xlabel="digit", ylabel="examples", title="examples per digit",
           ylim=(0, 1.3 * max(train.max(), test.max(), 1)))
    ax.legend(loc="upper center", ncol=2)
    return finish(fig)


def plot_mean_images(images: np.ndarray, labels: np.ndarray) -> Figure:
    """The average image of each digit 0..9 in one row. Returns the Figure."""
    return image_grid(mean_images(images, labels), [str(c) for c in range(N_CLASSES)], cols=N_CLASSES,
                      cmap="gray_r", size=(1.2, 1.7), title="the mean image of each digit", vmin=0, vmax=255)


def plot_pixel_histogram(images: np.ndarray) -> Figure:
    """Histogram of all pixel values 0..255 (log scale: the zeros dwarf the rest). Returns the Figure."""
    values = np.asarray(images).ravel()
    counts = np.bincount(values, minlength=256)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar(np.arange(256), counts, width=1.0)
    ax.set_yscale("log")
    ax.set(xlabel="pixel value (0 = background, 255 = full ink)", ylabel="number of pixels (log scale)",
           title=f"{100 * counts[0] / values.size:.1f}% of the pixels are exactly 0")
    return finish(fig)


def plot_standardization(images: np.ndarray, standardized: np.ndarray) -> Figure:
    """Histograms of the pixels before (0..255) and after standardising (mean 0, std 1). Returns the Figure."""
    before, after = np.asarray(images).ravel(), np.asarray(standardized).ravel()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3))
    ax0.hist(before, bins=64, log=True)
    ax0.set(title=f"raw: mean {before.mean():.1f}, std {before.std():.1f}", xlabel="pixel value")
    ax1.hist(after, bins=64, log=True, color="tab:orange")
    ax1.set(title=f"standardized: mean {after.mean():.3f}, std {after.std():.3f}", xlabel="standardized value")
    return finish(fig)
