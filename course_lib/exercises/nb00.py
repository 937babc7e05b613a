"""Exercises of notebook 00: first steps with the digits arrays."""
from __future__ import annotations

import numpy as np

from .checking import Exercise


def count_per_class(labels: np.ndarray) -> np.ndarray:
    """counts[c] = how many labels equal c, for c = 0..9: int array (10,)."""
    return np.bincount(labels, minlength=10)


def _labels_missing_two_digits(rng: np.random.Generator) -> tuple:
    """The digit 9 and one other never appear: too-short counts (no minlength) show as a wrong shape."""
    digits = np.delete(np.arange(9), rng.integers(9))
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


def my_standardize(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(images / 255 - mu) / sigma, with mu and sigma the mean and standard deviation of ALL the pixels of
    ``reference / 255`` (the training images): float64, the shape of images (N, 28, 28)."""
    scaled = reference / 255.0
    return (images / 255.0 - scaled.mean()) / scaled.std()


def _images_and_reference(rng: np.random.Generator) -> tuple:
    """Images unlike the reference (uniform ink against MNIST-like mostly-background), so whose statistics are used shows."""
    images = rng.integers(0, 256, size=(int(rng.integers(2, 20)), 28, 28), dtype=np.uint8)
    reference = _sparse_images(rng)[0]
    return images, reference


EXERCISES: list[Exercise] = [
    Exercise(
        key="00.count_per_class",
        task="Write count_per_class(labels) returning an int array of length 10: how many times each digit 0..9 occurs.",
        hint="np.bincount(labels, minlength=10). A digit that never occurs must still get its 0, "
             "so np.unique(labels, return_counts=True) alone gives too short an array.",
        reference=count_per_class, make_inputs=_labels_missing_two_digits,
        mistakes={"np.unique's counts (a digit that never occurs is left out)":
                      lambda labels: np.unique(labels, return_counts=True)[1],
                  "np.bincount without minlength=10 (too short when 9 never occurs)": np.bincount,
                  "fractions instead of counts": lambda labels: np.bincount(labels, minlength=10) / len(labels)}),
    Exercise(
        key="00.mean_image",
        task="Write mean_image(images, labels, digit) returning the (28, 28) average of the images of that digit.",
        hint="Select with a boolean mask, images[labels == digit], then average over the first axis (axis=0).",
        reference=mean_image, make_inputs=_images_labels_digit,
        mistakes={"the mean of all the images, whatever their label": lambda images, labels, digit: images.mean(axis=0),
                  "the sum of the digit's images, not their mean":
                      lambda images, labels, digit: images[labels == digit].sum(axis=0, dtype=np.float64),
                  "averaged over the wrong axis (axis=1)": lambda images, labels, digit: images[labels == digit].mean(axis=1)}),
    Exercise(
        key="00.ink_fraction",
        task="Write ink_fraction(images) returning, for each image, the fraction of its 784 pixels that are not 0 (shape (N,)).",
        hint="(images > 0) is a boolean array; its mean over the two pixel axes, axis=(1, 2), is the fraction per image.",
        reference=ink_fraction, make_inputs=_sparse_images,
        mistakes={"one number for all the images (mean over every axis)": lambda images: (images > 0).mean(),
                  "the number of ink pixels, not their fraction": lambda images: (images > 0).sum(axis=(1, 2)),
                  "the fraction of background (== 0), not of ink": lambda images: (images == 0).mean(axis=(1, 2))}),
    Exercise(
        key="00.standardize",
        task="Write my_standardize(images, reference) returning (images / 255 - mu) / sigma, where mu and sigma are "
             "the mean and standard deviation of all the pixels of reference / 255 (the training images).",
        hint="Scale both to 0..1 first (divide by 255.0), so mu, sigma and the images share one scale. "
             "mu = (reference / 255).mean() and sigma = (reference / 255).std() over ALL pixels (no axis): one number "
             "each, from the reference images only, never from the images you standardise.",
        reference=my_standardize, make_inputs=_images_and_reference,
        mistakes={"mu and sigma of the images themselves, not of the reference": lambda images, reference:
                      (images / 255.0 - (images / 255.0).mean()) / (images / 255.0).std(),
                  "one mu and sigma per pixel position (axis=0), not over all pixels": lambda images, reference:
                      (images / 255.0 - (reference / 255.0).mean(axis=0)) / ((reference / 255.0).std(axis=0) + 1e-12),
                  "sigma of the 0..255 values, mu on the 0..1 scale": lambda images, reference:
                      (images / 255.0 - (reference / 255.0).mean()) / reference.std()}),
]
