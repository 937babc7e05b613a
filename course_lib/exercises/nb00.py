"""Exercises of notebook 00: first steps with the digits arrays."""
from __future__ import annotations

import numpy as np

from .checking import Exercise


def count_per_class(labels: np.ndarray) -> np.ndarray:
    """counts[c] = how many labels equal c, for c = 0..9: int array (10,)."""
    return np.bincount(labels, minlength=10)


def _labels_missing_one_digit(rng: np.random.Generator) -> tuple:
    digits = np.delete(np.arange(10), rng.integers(10))          # one digit never appears
    return (rng.choice(digits, size=int(rng.integers(30, 300))),)


def mean_image(images: np.ndarray, labels: np.ndarray, digit: int) -> np.ndarray:
    """The average of the images whose label is ``digit``: float array (28, 28)."""
    return images[labels == digit].mean(axis=0)


def _images_labels_digit(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(30, 120))
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.concatenate([np.arange(10), rng.integers(0, 10, size=n - 10)])
    rng.shuffle(labels)
    return images, labels, int(rng.integers(10))


def ink_fraction(images: np.ndarray) -> np.ndarray:
    """For each image, the fraction of its pixels that are not 0: float array (N,)."""
    return (images > 0).mean(axis=(1, 2))


def _sparse_images(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(5, 40))
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[rng.random(images.shape) < rng.uniform(0.5, 0.9)] = 0    # mostly background, like MNIST
    return (images,)


def my_standardize(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(images / 255 - mean) / std as float64, same shape as images."""
    return (images / 255.0 - mean) / std


def _images_mean_std(rng: np.random.Generator) -> tuple:
    images = rng.integers(0, 256, size=(int(rng.integers(2, 20)), 28, 28), dtype=np.uint8)
    return images, float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.2, 0.5))


EXERCISES: list[Exercise] = [
    Exercise(
        key="00.count_per_class",
        task="Write count_per_class(labels) returning an int array of length 10: how many times each digit 0..9 occurs.",
        hint="np.bincount(labels, minlength=10). A digit that never occurs must still get its 0, "
             "so np.unique(labels, return_counts=True) alone gives too short an array.",
        reference=count_per_class, make_inputs=_labels_missing_one_digit),
    Exercise(
        key="00.mean_image",
        task="Write mean_image(images, labels, digit) returning the (28, 28) average of the images of that digit.",
        hint="Select with a boolean mask, images[labels == digit], then average over the first axis (axis=0).",
        reference=mean_image, make_inputs=_images_labels_digit),
    Exercise(
        key="00.ink_fraction",
        task="Write ink_fraction(images) returning, for each image, the fraction of its 784 pixels that are not 0 (shape (N,)).",
        hint="(images > 0) is a boolean array; its mean over the two pixel axes, axis=(1, 2), is the fraction per image.",
        reference=ink_fraction, make_inputs=_sparse_images),
    Exercise(
        key="00.standardize",
        task="Write my_standardize(images, mean, std) returning (images / 255 - mean) / std as floats.",
        hint="Scale to 0..1 first (divide by 255.0), then subtract the mean, then divide by the std.",
        reference=my_standardize, make_inputs=_images_mean_std),
]
