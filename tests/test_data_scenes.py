"""The image-to-image data: digit scenes with label maps, pixelated digits, noisy digits."""
import time

import numpy as np
import pytest
import torch

from course_lib import data
from course_lib.data import SCENE_CLASSES, SCENE_INK, digit_scenes, place_digits


@pytest.fixture(scope="module")
def digits_by_split():
    return {split: data.load_mnist(split) for split in ("train", "test", "validation")}


def _patch_bytes(images):
    return {image.tobytes() for image in images}


def _placed_patches(scenes, placed):
    """The 28 x 28 windows of the scenes where the record says a digit went, as uint8 pixels."""
    return [np.rint(scenes[i, 0, top:top + 28, left:left + 28] * 255).astype(np.uint8)
            for i, row in enumerate(placed) for j, top, left in row if j >= 0]


def test_shapes_dtypes_and_ranges():
    scenes, label_maps = digit_scenes("test", 20, seed=1)
    assert scenes.shape == (20, 1, 64, 64) and scenes.dtype == np.float32
    assert label_maps.shape == (20, 64, 64) and label_maps.dtype == np.int64
    assert 0 <= scenes.min() and scenes.max() <= 1
    assert 0 <= label_maps.min() and label_maps.max() < SCENE_CLASSES
    assert digit_scenes("train", 3, size=100, digits=(1, 9))[0].shape == (3, 1, 100, 100)


def test_same_seed_same_scenes_other_seed_other_scenes():
    first, second = digit_scenes("fit", 30, seed=7), digit_scenes("fit", 30, seed=7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], digit_scenes("fit", 30, seed=8)[0])


def test_label_map_is_the_ink_of_each_placed_digit(digits_by_split):
    images, labels = digits_by_split["test"]
    scenes, label_maps, placed = place_digits(images, labels, 50, seed=2)
    covered = np.zeros(label_maps.shape, dtype=bool)
    for i, row in enumerate(placed):
        for j, top, left in row[row[:, 0] >= 0]:
            ink = images[j] / 255
            window = (i, slice(top, top + 28), slice(left, left + 28))
            np.testing.assert_allclose(scenes[i, 0][window[1:]], ink, rtol=1e-6)
            np.testing.assert_array_equal(label_maps[window], np.where(ink > SCENE_INK, 1 + labels[j], 0))
            assert not covered[window].any(), "two digits of a scene overlap"
            covered[window] = True
    assert not scenes[:, 0][~covered].any() and not label_maps[~covered].any()
    np.testing.assert_array_equal(label_maps > 0, scenes[:, 0] > SCENE_INK)


def test_digit_scenes_is_place_digits_on_its_split(digits_by_split):
    scenes, label_maps = digit_scenes("test", 40, seed=3)
    again = place_digits(*digits_by_split["test"], 40, seed=3)
    np.testing.assert_array_equal(scenes, again[0])
    np.testing.assert_array_equal(label_maps, again[1])


@pytest.mark.parametrize("split, other", [("train", "test"), ("test", "train"), ("validation", "test")])
def test_scenes_hold_only_their_own_splits_digits(digits_by_split, split, other):
    """Every digit cut back out of the public scenes is, pixel for pixel, a digit of the split and of no other."""
    own, foreign = _patch_bytes(digits_by_split[split][0]), _patch_bytes(digits_by_split[other][0])
    assert not own & foreign, "the splits share an image: the proof below would not hold"
    scenes, _ = digit_scenes(split, 200, seed=4)
    _, _, placed = place_digits(*digits_by_split[split], 200, seed=4)
    patches = _placed_patches(scenes, placed)
    assert len(patches) == (placed[:, :, 0] >= 0).sum() >= 400
    assert all(patch.tobytes() in own for patch in patches)


def test_two_to_four_digits_per_scene_each_count_drawn(digits_by_split):
    images, labels = digits_by_split["train"]
    _, label_maps, placed = place_digits(images, labels, 300, seed=5)
    counts = (placed[:, :, 0] >= 0).sum(1)
    assert set(counts) == {2, 3, 4}
    for label_map, row in zip(label_maps[:20], placed[:20]):     # the classes in a map are its digits' classes
        assert set(np.unique(label_map)) <= {0} | {1 + labels[j] for j in row[:, 0] if j >= 0}


def test_a_thousand_scenes_in_well_under_a_second():
    digit_scenes("test", 10)                          # warm: the first read of the file
    start = time.perf_counter()
    digit_scenes("train", 1000)
    assert time.perf_counter() - start < 1.0


def test_pixelated_digits_are_area_averages():
    low, high = data.pixelated_digits("test")
    assert low.shape == (2000, 1, 14, 14) and high.shape == (2000, 1, 28, 28)
    assert low.dtype == high.dtype == np.float32
    np.testing.assert_array_equal(high, data.digit_images("test")[0])
    np.testing.assert_allclose(low, torch.nn.functional.avg_pool2d(torch.from_numpy(high), 2).numpy(), atol=1e-7)
    assert data.pixelated_digits("validation", factor=4)[0].shape == (1000, 1, 7, 7)


def test_noisy_digits_clipped_reproducible_and_of_the_asked_size():
    noisy, clean = data.noisy_digits("test", 0.2, seed=1)
    assert noisy.shape == clean.shape == (2000, 1, 28, 28) and noisy.dtype == np.float32
    assert noisy.min() >= 0 and noisy.max() <= 1
    np.testing.assert_array_equal(noisy, data.noisy_digits("test", 0.2, seed=1)[0])
    assert not np.array_equal(noisy, data.noisy_digits("test", 0.2, seed=2)[0])
    inside = (noisy > 0) & (noisy < 1)                # where clipping did not act, the noise is as drawn
    assert np.std((noisy - clean)[inside & (clean > 0.3) & (clean < 0.7)]) == pytest.approx(0.2, rel=0.15)
    np.testing.assert_array_equal(data.noisy_digits("test", 0)[0], clean)
