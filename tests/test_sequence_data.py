"""Notebook 13's sequence data: the digits row by row, the adding problem, strips of digits read as strings."""
import numpy as np
import pytest

from course_lib import data
from course_lib.data import ADDING_BASELINE_MSE, adding_task, digit_strings, string_digits


def test_the_digits_row_by_row_are_digit_images_first_channel():
    """No loader of their own: (N, 28, 28), step t is pixel row t, top to bottom."""
    x, labels = data.digit_images("validation")
    rows = x[:, 0]
    assert rows.shape == (1000, 28, 28) and rows.dtype == np.float32 and labels.shape == (1000,)
    images, _ = data.load_mnist("validation")
    np.testing.assert_array_equal(rows[:, 5], images[:, 5, :] / np.float32(255))


def test_adding_task_shapes_markers_and_sums():
    x, y = adding_task(500, 20, seed=3)
    assert x.shape == (500, 20, 2) and y.shape == (500,) and x.dtype == y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert 0 <= values.min() and values.max() < 1
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers[:, :10].sum(1), 1)          # one marked step in the first half
    np.testing.assert_array_equal(markers[:, 10:].sum(1), 1)          # and one in the second
    np.testing.assert_allclose(y, (values * markers).sum(1), rtol=1e-6)


def test_adding_task_odd_length_and_first_mark_positions():
    x, _ = adding_task(2000, 7, seed=0)
    first, second = x[:, :3, 1].argmax(1), 3 + x[:, 3:, 1].argmax(1)
    assert set(first) == {0, 1, 2} and set(second) == {3, 4, 5, 6}    # every position of each half is used
    np.testing.assert_array_equal(x[..., 1].sum(1), 2)


def test_answering_one_has_mse_one_sixth():
    """The baseline every adding network must beat: E[(a + b - 1)^2] = Var(a) + Var(b) = 1/12 + 1/12."""
    _, y = adding_task(200_000, 10, seed=0)
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.01)
    assert np.mean(y) == pytest.approx(1.0, abs=0.005)


def test_adding_task_is_seeded():
    np.testing.assert_array_equal(adding_task(50, 10, seed=4)[0], adding_task(50, 10, seed=4)[0])
    assert not np.array_equal(adding_task(50, 10, seed=4)[0], adding_task(50, 10, seed=5)[0])


@pytest.fixture(scope="module")
def digits_by_split():
    return {split: data.load_mnist(split) for split in ("fit", "validation", "test")}


def _unshifted_cells(strips, placed):
    """Each digit cut back out of its 28-column cell and moved back by its shift, as uint8 pixels."""
    n, length = placed.shape[:2]
    cells = strips[:, 0].reshape(n, 28, length, 28).transpose(0, 2, 1, 3)
    return [np.rint(np.roll(cells[i, k], -placed[i, k, 1], axis=1) * 255).astype(np.uint8)
            for i in range(n) for k in range(length)]


def test_digit_strings_shapes_ranges_and_seeds():
    strips, labels = digit_strings("validation", 30, seed=2)
    assert strips.shape == (30, 1, 28, 112) and strips.dtype == np.float32
    assert labels.shape == (30, 4) and labels.dtype == np.int64 and 0 <= labels.min() and labels.max() <= 9
    assert 0 <= strips.min() and strips.max() <= 1
    np.testing.assert_array_equal(strips, digit_strings("validation", 30, seed=2)[0])
    assert not np.array_equal(strips, digit_strings("validation", 30, seed=3)[0])
    assert digit_strings("fit", 2, length=6)[0].shape == (2, 1, 28, 168)


def test_each_cell_is_its_digit_moved_sideways_without_losing_ink(digits_by_split):
    images, labels = digits_by_split["validation"]
    strips, string_labels, placed = string_digits(images, labels, 100, seed=1)
    assert np.abs(placed[..., 1]).max() <= 3 and len(np.unique(placed[..., 1])) > 3     # jitter, at most 3 pixels
    for cell, j in zip(_unshifted_cells(strips, placed), placed[..., 0].ravel()):
        np.testing.assert_array_equal(cell, images[j])
    np.testing.assert_array_equal(string_labels, labels[placed[..., 0]])
    np.testing.assert_array_equal(string_digits(images, labels, 5, seed=1, jitter=0)[2][..., 1], 0)


@pytest.mark.parametrize("split, other", [("test", "fit"), ("fit", "test"), ("validation", "test")])
def test_strings_hold_only_their_own_splits_digits(digits_by_split, split, other):
    """Every digit cut back out of the public strips is, pixel for pixel, a digit of the split and of no other."""
    own = {image.tobytes() for image in digits_by_split[split][0]}
    foreign = {image.tobytes() for image in digits_by_split[other][0]}
    assert not own & foreign, "the splits share an image: the proof below would not hold"
    strips, labels = digit_strings(split, 200, seed=4)
    _, again, placed = string_digits(*digits_by_split[split], 200, seed=4)
    np.testing.assert_array_equal(labels, again)
    cells = _unshifted_cells(strips, placed)
    assert len(cells) == 800 and all(cell.tobytes() in own for cell in cells)
